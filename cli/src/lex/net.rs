//! The network side of `atlex lex` (feature `resolve`): NSID → `_lexicon`
//! TXT → DID → DID document → PDS → schema record, proved by the
//! repository's signed commit; and writing schema records with a password
//! session or the OAuth session of `atlex lex login`.
//!
//! Every answer is untrusted: TXT records go through the identity
//! resolver's checks; a record is read from `com.atproto.sync.getRecord`,
//! whose proof must be a commit of the DID signed by its DID document's
//! key, with the record's CID at the schema's path in the commit's tree;
//! answers and records are bounded in size; the document must be a lexicon
//! whose `id` is the NSID asked; and the number of documents one install
//! fetches is bounded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use atlex::client::{Client, Login};
use atlex::crypto::PublicKey;
use atlex::data::{LexType, Record, RecordKeyKind};
use atlex::identity::{DidDocument, Resolver};
use atlex::repo::proof::verify_record_proof;
use atlex::types::{AtIdentifier, Cid, Did, Nsid, RecordKey};
use atlex_codegen::diff::{self, LexiconSet, render};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use atlex_codegen::pins::{
    COLLECTION, Manifest, Resolution, document_cid, document_path, schema_uri, schema_uri_parts,
};

use super::local::{LocalError, read_local, references, write_file};
use super::login::{Writer, oauth_writer};
use super::{InstallArgs, PublishArgs, StatusArgs, check_nsids};
use crate::resolve::{NetworkArgs, runtime};

/// The environment variable `atlex lex publish` reads the password from.
const PASSWORD_VARIABLE: &str = "ATLEX_PASSWORD";

/// A schema record, as the JSON object it is.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct Schema(Map<String, Json>);

impl LexType for Schema {
    const TYPE: &'static str = COLLECTION;
}

impl Record for Schema {
    const NSID: &'static str = COLLECTION;
    const KEY: RecordKeyKind = RecordKeyKind::Nsid;
}

// The document is checked as a lexicon once read, not as a record.
impl atlex::validate::Validate for Schema {}

/// `com.atproto.repo.listRecords` of a repository's schema records, for the
/// NSIDs of a group (`prefix.*`): only their URIs are read.
struct ListSchemas;

/// A page of a repository's schema records.
struct ListParams {
    repo: Did,
    cursor: Option<String>,
}

/// How many records one page asks for (the most the endpoint gives).
const PAGE: i64 = 100;
/// How many pages a group's listing reads at most: a bound on what a
/// server answering cursor after cursor can make it do.
const MAX_PAGES: usize = 1000;

impl atlex::xrpc::Params for ListParams {
    fn write_query(&self, query: &mut atlex::xrpc::QueryWriter) {
        query.required("repo", &self.repo);
        query.required("collection", &COLLECTION.to_owned());
        query.required("limit", &PAGE);
        query.optional("cursor", &self.cursor);
    }

    fn read_query(query: &atlex::xrpc::QueryReader<'_>) -> Result<Self, atlex::xrpc::ParamsError> {
        Ok(Self {
            repo: query.required("repo")?,
            cursor: query.optional("cursor")?,
        })
    }
}

impl atlex::validate::Validate for ListParams {}

#[derive(Serialize, Deserialize)]
struct ListOutput {
    records: Vec<Listed>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Listed {
    uri: String,
}

impl atlex::validate::Validate for ListOutput {}

impl atlex::xrpc::Endpoint for ListSchemas {
    const NSID: &'static str = "com.atproto.repo.listRecords";
    const KIND: atlex::xrpc::EndpointKind = atlex::xrpc::EndpointKind::Query;
    const INPUT_ENCODING: Option<&'static str> = None;
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
    type Params = ListParams;
    type Input = ();
    type Output = ListOutput;
    type Error = atlex::xrpc::UndeclaredError;
    type InputCodec = atlex::xrpc::NoBody;
    type OutputCodec = atlex::xrpc::Json;
}

/// `com.atproto.sync.getRecord`: the proof of a record (or of its
/// absence) in a repository, as a CAR.
struct GetRecordProof;

/// Which record to prove.
struct ProofParams {
    did: Did,
    collection: Nsid,
    rkey: RecordKey,
}

impl atlex::xrpc::Params for ProofParams {
    fn write_query(&self, query: &mut atlex::xrpc::QueryWriter) {
        query.required("did", &self.did);
        query.required("collection", &self.collection);
        query.required("rkey", &self.rkey);
    }

    fn read_query(query: &atlex::xrpc::QueryReader<'_>) -> Result<Self, atlex::xrpc::ParamsError> {
        Ok(Self {
            did: query.required("did")?,
            collection: query.required("collection")?,
            rkey: query.required("rkey")?,
        })
    }
}

impl atlex::validate::Validate for ProofParams {}

impl atlex::xrpc::Endpoint for GetRecordProof {
    const NSID: &'static str = "com.atproto.sync.getRecord";
    const KIND: atlex::xrpc::EndpointKind = atlex::xrpc::EndpointKind::Query;
    const INPUT_ENCODING: Option<&'static str> = None;
    const OUTPUT_ENCODING: Option<&'static str> = Some("application/vnd.ipld.car");
    type Params = ProofParams;
    type Input = ();
    type Output = atlex::xrpc::Binary;
    type Error = atlex::xrpc::UndeclaredError;
    type InputCodec = atlex::xrpc::NoBody;
    type OutputCodec = atlex::xrpc::Raw;
}

/// What a proof may add to the record it proves: the commit and the tree's
/// nodes down to the record (a few kilobytes in a large repository).
const MAX_PROOF_OVERHEAD: u64 = 256 * 1024;

/// A schema record read from a repository, checked.
struct Fetched {
    /// The record with its `$type`: what the file holds.
    json: Json,
    cid: Cid,
    uri: String,
}

/// What resolves and fetches.
struct Net {
    resolver: Resolver,
    timeout: Duration,
    max_record_size: u64,
}

impl Net {
    fn new(network: &NetworkArgs, max_record_size: u64) -> Result<Self, String> {
        let resolver = network
            .resolver_builder()?
            .build()
            .map_err(|err| err.to_string())?;
        Ok(Self {
            resolver,
            timeout: network.timeout()?,
            max_record_size,
        })
    }

    /// The DID the `_lexicon` TXT record of `nsid`'s authority names.
    async fn authority(&self, nsid: &str) -> Result<Did, String> {
        let nsid = Nsid::new(nsid).map_err(|err| format!("{nsid:?} is not an NSID: {err}"))?;
        self.resolver
            .resolve_lexicon_authority(&nsid)
            .await
            .map_err(|err| err.to_string())
    }

    /// A client of `did`'s PDS.
    async fn client(&self, did: &Did) -> Result<Client, String> {
        let document = self.document(did).await?;
        self.client_of(did, &document, self.max_record_size)
    }

    /// `did`'s DID document.
    async fn document(&self, did: &Did) -> Result<std::sync::Arc<DidDocument>, String> {
        self.resolver
            .resolve_did(did)
            .await
            .map_err(|err| err.to_string())
    }

    /// A client of the PDS `did`'s document names, reading answers of at
    /// most `max_response_size` bytes.
    fn client_of(
        &self,
        did: &Did,
        document: &DidDocument,
        max_response_size: u64,
    ) -> Result<Client, String> {
        let pds = document
            .pds()
            .ok_or_else(|| format!("{did}: the DID document names no PDS"))?;
        Client::builder(pds)
            .timeout(self.timeout)
            .max_response_size(max_response_size)
            .build()
            .map_err(|err| format!("{pds}: {err}"))
    }

    /// The schema of `nsid` published in `did`'s repository, proved by the
    /// repository's signed commit and checked; `None` when the proof shows
    /// there is none (or the PDS says there is no such record).
    async fn fetch(&self, did: &Did, nsid: &str) -> Result<Option<Fetched>, String> {
        let uri = schema_uri(did.as_str(), nsid);
        let rkey = RecordKey::new(nsid).map_err(|err| format!("{uri}: {err}"))?;
        let collection = Nsid::new(COLLECTION).map_err(|err| err.to_string())?;
        let document = self.document(did).await?;
        let key = document
            .signing_key()
            .map_err(|err| format!("{did}: the DID document's signing key: {err}"))?;
        let client = self.client_of(
            did,
            &document,
            self.max_record_size.saturating_add(MAX_PROOF_OVERHEAD),
        )?;
        let params = ProofParams {
            did: did.clone(),
            collection,
            rkey,
        };
        let car = match client.query(GetRecordProof, &params).await {
            Ok(car) => car.data,
            Err(err) if err.error_name() == Some("RecordNotFound") => return Ok(None),
            Err(err) => return Err(format!("{uri}: {err}")),
        };
        let proved = proved_record(did, &params, &car, &key, self.max_record_size)
            .map_err(|err| format!("{uri}: {err}"))?;
        let Some((json, cid)) = proved else {
            return Ok(None);
        };
        check_document(&json, nsid).map_err(|err| format!("{uri}: {err}"))?;
        Ok(Some(Fetched { json, cid, uri }))
    }

    /// The NSIDs of group `prefix.*`: the schemas the DID named by the
    /// `_lexicon` record of authority `prefix` publishes directly under it
    /// (`com.example.feed.post` for `com.example.feed.*`, not
    /// `com.example.feed.sub.like`, whose authority is another). At most
    /// `limit`.
    async fn group(&self, prefix: &str, limit: usize) -> Result<Vec<String>, String> {
        let did = self.authority(&format!("{prefix}.name")).await?;
        let client = self.client(&did).await?;
        let mut params = ListParams {
            repo: did.clone(),
            cursor: None,
        };
        let mut nsids = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = client
                .query(ListSchemas, &params)
                .await
                .map_err(|err| format!("listing the schemas of {did}: {err}"))?;
            for record in &page.records {
                let (_, key) = schema_uri_parts(&record.uri)?;
                let in_group = key
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|name| !name.contains('.'));
                if in_group && Nsid::new(key.as_str()).is_ok() && !nsids.contains(&key) {
                    nsids.push(key);
                }
            }
            if nsids.len() > limit {
                return Err(format!(
                    "{prefix}.* has more than {limit} schemas (--max-documents)"
                ));
            }
            match page.cursor {
                Some(cursor)
                    if !page.records.is_empty() && params.cursor.as_ref() != Some(&cursor) =>
                {
                    params.cursor = Some(cursor);
                }
                _ => return group_found(&did, prefix, nsids),
            }
        }
        Err(format!(
            "listing the schemas of {did}: more than {MAX_PAGES} pages"
        ))
    }

    /// The schema of `nsid` from the repository its authority names.
    async fn resolve_and_fetch(&self, nsid: &str) -> Result<Fetched, String> {
        let did = self.authority(nsid).await?;
        self.fetch(&did, nsid).await?.ok_or_else(|| {
            format!(
                "{nsid} is not published: {did}, which the _lexicon TXT record names, has no record {}",
                schema_uri(did.as_str(), nsid)
            )
        })
    }
}

/// The NSIDs found for a group, or why there are none.
fn group_found(did: &Did, prefix: &str, nsids: Vec<String>) -> Result<Vec<String>, String> {
    if nsids.is_empty() {
        return Err(format!(
            "{did}, which the _lexicon TXT record of {prefix} names, publishes no schema {prefix}.*"
        ));
    }
    Ok(nsids)
}

/// The record `car` proves in `did`'s repository at `params`' path, signed
/// with `key`: its JSON (with its `$type`, which must be the schema
/// record's) and CID, or `None` when the proof shows there is none.
fn proved_record(
    did: &Did,
    params: &ProofParams,
    car: &[u8],
    key: &PublicKey,
    max_size: u64,
) -> Result<Option<(Json, Cid)>, String> {
    let proof = verify_record_proof(did, &params.collection, &params.rkey, car, key)
        .map_err(|err| err.to_string())?;
    let Some(record) = proof.record else {
        return Ok(None);
    };
    if record.bytes.len() as u64 > max_size {
        return Err(format!(
            "the record is {} bytes, more than the {max_size} allowed (--max-record-size)",
            record.bytes.len()
        ));
    }
    // Read in the order of its DAG-CBOR (as `@atproto/lex` writes it).
    let json: Json = atlex::cbor::from_slice(&record.bytes)
        .map_err(|err| format!("the record does not read as JSON: {err}"))?;
    match json.get("$type").and_then(Json::as_str) {
        Some(COLLECTION) => {}
        found => {
            return Err(format!("the record's $type is {found:?}, not {COLLECTION}"));
        }
    }
    // A schema is JSON: its record must read back as the same record.
    let cid = document_cid(&json).map_err(|err| format!("the record is {err}"))?;
    if cid != record.cid {
        return Err(format!(
            "the record {} holds data JSON cannot carry (as JSON it hashes to {cid})",
            record.cid
        ));
    }
    Ok(Some((json, cid)))
}

/// Checks that `json` is a lexicon document for `nsid`.
fn check_document(json: &Json, nsid: &str) -> Result<(), String> {
    if json.get("lexicon").and_then(Json::as_i64) != Some(1) {
        return Err("not a lexicon document: its `lexicon` is not 1".to_owned());
    }
    match json.get("id").and_then(Json::as_str) {
        Some(id) if id == nsid => {}
        Some(id) => return Err(format!("the document's id is {id}, not {nsid}")),
        None => return Err("the document has no id".to_owned()),
    }
    if !json.get("defs").is_some_and(Json::is_object) {
        return Err("the document has no defs".to_owned());
    }
    Ok(())
}

/// The document as JSON text, as `@atproto/lex` writes it.
fn document_text(json: &Json) -> String {
    // A JSON value read from JSON always serializes.
    serde_json::to_string_pretty(json).unwrap_or_default()
}

/// Sets up the network and runtime, runs `work`, and prints its lines (or
/// its error) as [`super::finish`] does.
fn run_networked<F>(network: &NetworkArgs, max_record_size: u64, work: F) -> ExitCode
where
    F: AsyncFnOnce(&Net) -> Result<(Vec<String>, bool), String>,
{
    let setup = Net::new(network, max_record_size).and_then(|net| Ok((net, runtime()?)));
    let (net, runtime) = match setup {
        Ok(setup) => setup,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    super::finish(runtime.block_on(work(&net)))
}

/// Runs `atlex lex install` (without --ci).
pub(super) fn install(args: &InstallArgs) -> ExitCode {
    if let Err(code) = check_nsids(&args.nsids) {
        return code;
    }
    run_networked(&args.network, args.max_record_size, async |net| {
        install_with(args, net).await.map(|lines| (lines, true))
    })
}

async fn install_with(args: &InstallArgs, net: &Net) -> Result<Vec<String>, String> {
    let project = &args.project;
    let dirs = project.dirs();
    let old = Manifest::read(&project.manifest)?.unwrap_or_default();
    let mut named: BTreeSet<String> = BTreeSet::new();
    for spec in &args.nsids {
        match spec.strip_suffix(".*") {
            Some(prefix) => named.extend(net.group(prefix, args.max_documents).await?),
            None => {
                named.insert(spec.clone());
            }
        }
    }
    let mut manifest = Manifest {
        lexicons: old.lexicons.union(&named).cloned().collect(),
        resolutions: BTreeMap::new(),
    };
    let mut writes: Vec<(PathBuf, String)> = Vec::new();
    let mut queue: Vec<String> = manifest.lexicons.iter().rev().cloned().collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let (mut fetched, mut kept, mut own) = (0usize, 0usize, 0usize);
    while let Some(nsid) = queue.pop() {
        if !seen.insert(nsid.clone()) {
            continue;
        }
        let path = document_path(&dirs.lexicons, &nsid);
        let pin = old.resolutions.get(&nsid);
        let local = match read_local(&dirs.lexicons, &nsid) {
            Ok(local) => Some(local),
            Err(LocalError::Missing) => None,
            Err(err @ LocalError::Unreadable(_)) => {
                return Err(format!("{}: {err}", path.display()));
            }
        };
        let json = match (pin, local) {
            (Some(pin), Some(local)) if !args.update => {
                if local.cid.to_string() != pin.cid {
                    return Err(format!(
                        "{}: its CID {} is not the pinned {}; delete it to install the pinned version again, or take what is published now with --update",
                        path.display(),
                        local.cid,
                        pin.cid
                    ));
                }
                kept += 1;
                manifest.resolutions.insert(nsid.clone(), pin.clone());
                local.json
            }
            (None, Some(local)) => {
                if manifest.lexicons.contains(&nsid) {
                    return Err(format!(
                        "{nsid} is one of the project's own documents ({} is not pinned); remove it to install the published one",
                        path.display()
                    ));
                }
                own += 1;
                local.json
            }
            (Some(pin), Some(local)) if local.cid.to_string() != pin.cid => {
                return Err(format!(
                    "{}: its CID {} is not the pinned {}: it was edited; restore it, or delete it to take what is published now",
                    path.display(),
                    local.cid,
                    pin.cid
                ));
            }
            (pin, local) => {
                fetched += 1;
                if fetched > args.max_documents {
                    return Err(format!(
                        "more than {} documents to fetch (--max-documents); stopped at {nsid}",
                        args.max_documents
                    ));
                }
                let document = match pin {
                    // Where it was pinned, and the version pinned.
                    Some(pin) if !args.update => {
                        let (did, _) = schema_uri_parts(&pin.uri)?;
                        let did = Did::new(did.as_str()).map_err(|err| err.to_string())?;
                        let document = net
                            .fetch(&did, &nsid)
                            .await?
                            .ok_or_else(|| format!("{nsid}: {} no longer exists", pin.uri))?;
                        if document.cid.to_string() != pin.cid {
                            return Err(format!(
                                "{nsid}: {} is now {}, not the pinned {}; take it with --update",
                                pin.uri, document.cid, pin.cid
                            ));
                        }
                        document
                    }
                    _ => net.resolve_and_fetch(&nsid).await?,
                };
                let text = document_text(&document.json);
                if local.as_ref().map(|local| &local.json) != Some(&document.json) {
                    writes.push((path.clone(), text));
                }
                manifest.resolutions.insert(
                    nsid.clone(),
                    Resolution {
                        uri: document.uri,
                        cid: document.cid.to_string(),
                    },
                );
                document.json
            }
        };
        let targets = references(&json).map_err(|err| format!("{}: {err}", path.display()))?;
        for target in targets {
            if !dirs.is_extern(&target) && !seen.contains(&target) {
                queue.push(target);
            }
        }
    }
    // Everything fetched and checked: now write.
    for (path, text) in &writes {
        write_file(path, text.as_bytes())?;
    }
    let mut lines: Vec<String> = writes
        .iter()
        .map(|(path, _)| format!("wrote {}", path.display()))
        .collect();
    for nsid in old.resolutions.keys() {
        if !manifest.resolutions.contains_key(nsid) {
            lines.push(format!(
                "{nsid} is no longer needed: unpinned (its file is kept)"
            ));
        }
    }
    if manifest != old || !project.manifest.exists() {
        write_file(&project.manifest, manifest.to_text().as_bytes())?;
    }
    lines.push(format!(
        "{} lexicons pinned in {}: {fetched} fetched, {kept} unchanged{}",
        manifest.resolutions.len(),
        project.manifest.display(),
        if own > 0 {
            format!(", {own} of the project's own referenced")
        } else {
            String::new()
        }
    ));
    Ok(lines)
}

/// The documents refs may point at: the project's and the extern sets'.
fn context(project: &super::ProjectArgs) -> Result<Vec<LexiconSet>, String> {
    let dirs = project.dirs();
    std::iter::once(&dirs.lexicons)
        .chain(&dirs.externs)
        .filter(|dir| dir.is_dir())
        .map(|dir| {
            LexiconSet::from_path(dir, &dir.display().to_string())
                .map_err(|err| format!("{}: {err}", dir.display()))
        })
        .collect()
}

/// What `atlex diff` says of `old` → `new` (two versions of one document,
/// with the documents of `context` for what their refs point at), and
/// whether it refuses the change.
fn compare(nsid: &str, old: &Json, new: &Json, context: &[LexiconSet]) -> (String, bool) {
    let side = |label: &str, json: &Json| {
        let mut set = LexiconSet::new(label);
        let mut json = json.clone();
        // The record's `$type` is not part of the document.
        if let Some(object) = json.as_object_mut() {
            object.remove("$type");
        }
        set.insert(nsid, &format!("{label}/{nsid}"), Ok(json));
        for documents in context {
            crate::diff::add_context(&mut set, documents);
        }
        set
    };
    let report = diff::diff(&side("published", old), &side("local", new));
    (render::text(&report), report.fails())
}

/// Runs `atlex lex publish`.
pub(super) fn publish(args: &PublishArgs) -> ExitCode {
    if let Err(code) = check_nsids(&args.nsids) {
        return code;
    }
    if let Some(group) = args.nsids.iter().find(|nsid| nsid.ends_with(".*")) {
        eprintln!(
            "error: {group}: publish names NSIDs, not groups (without NSIDs it publishes every own document)"
        );
        return ExitCode::from(2);
    }
    let password = if args.oauth {
        None
    } else if let Ok(password) = std::env::var(PASSWORD_VARIABLE) {
        Some(password)
    } else {
        eprintln!(
            "error: set the account's password (an app password) in {PASSWORD_VARIABLE}, or log in with `atlex lex login` and publish with --oauth"
        );
        return ExitCode::from(2);
    };
    run_networked(&args.network, 1024 * 1024, async |net| {
        publish_with(args, net, password.as_deref()).await
    })
}

/// The writer of `args.identifier`: a password session with `password`,
/// the stored OAuth session without.
async fn writer(args: &PublishArgs, net: &Net, password: Option<&str>) -> Result<Writer, String> {
    let Some(password) = password else {
        return oauth_writer(
            &args.identifier,
            &args.sessions,
            &args.network,
            &net.resolver,
            net.timeout,
        )
        .await;
    };
    let timeout = net.timeout;
    let session = Login::new()
        .resolver(net.resolver.clone())
        .configure(move |builder| builder.timeout(timeout))
        .password(&args.identifier, password)
        .await
        .map_err(|err| format!("logging in as {}: {err}", args.identifier))?;
    Ok(Writer::password(
        session.session().did,
        session.client().clone(),
    ))
}

/// The NSIDs of the project's own documents: those of the lexicons
/// directory that the manifest does not pin.
fn own_documents(args: &PublishArgs) -> Result<Vec<String>, String> {
    let manifest = Manifest::read(&args.project.manifest)?.unwrap_or_default();
    let set = LexiconSet::from_path(&args.project.lexicons, "local")
        .map_err(|err| format!("{}: {err}", args.project.lexicons.display()))?;
    Ok(set
        .documents
        .keys()
        .filter(|nsid| !manifest.resolutions.contains_key(*nsid))
        .cloned()
        .collect())
}

async fn publish_with(
    args: &PublishArgs,
    net: &Net,
    password: Option<&str>,
) -> Result<(Vec<String>, bool), String> {
    let nsids = if args.nsids.is_empty() {
        own_documents(args)?
    } else {
        args.nsids.clone()
    };
    let context = context(&args.project)?;
    if nsids.is_empty() {
        return Err(format!(
            "nothing to publish: {} holds no document the manifest does not pin",
            args.project.lexicons.display()
        ));
    }
    let writer = writer(args, net, password).await?;
    let did = writer.did.clone();

    // Every check first: nothing is written unless every schema can be.
    let mut refusals = Vec::new();
    let mut plan = Vec::new();
    for nsid in &nsids {
        let path = document_path(&args.project.lexicons, nsid);
        let local = read_local(&args.project.lexicons, nsid)
            .map_err(|err| format!("{}: {err}", path.display()))?;
        let mut record = local.json.clone();
        let Some(object) = record.as_object_mut() else {
            return Err(format!("{}: not a JSON object", path.display()));
        };
        object.remove("$type");
        let mut with_type = Map::new();
        with_type.insert("$type".to_owned(), Json::String(COLLECTION.to_owned()));
        with_type.extend(object.clone());
        let with_type = Json::Object(with_type);
        check_document(&with_type, nsid).map_err(|err| format!("{}: {err}", path.display()))?;
        let cid = document_cid(&with_type).map_err(|err| format!("{}: {err}", path.display()))?;
        match net.authority(nsid).await {
            Ok(named) if named == did => {}
            found => {
                let domain = Nsid::new(nsid.as_str())
                    .map(|nsid| nsid.domain_authority())
                    .unwrap_or_default();
                let now = match found {
                    Ok(other) => format!("it names {other}"),
                    Err(err) => err,
                };
                refusals.push(format!(
                    "{nsid}: add the DNS TXT record _lexicon.{domain} with the value \"did={did}\" ({now})"
                ));
                continue;
            }
        }
        let published = net.fetch(&did, nsid).await?;
        if let Some(published) = &published {
            if published.cid == cid {
                plan.push((nsid.clone(), None, cid, Some(published.cid.clone())));
                continue;
            }
            let (report, fails) = compare(nsid, &published.json, &with_type, &context);
            if fails && !args.force {
                refusals.push(format!(
                    "{nsid}: the change is breaking (publish it anyway with --force):\n{report}"
                ));
                continue;
            }
        }
        plan.push((
            nsid.clone(),
            Some(Schema(object.clone())),
            cid,
            published.map(|published| published.cid),
        ));
    }
    if !refusals.is_empty() {
        return Err(format!("nothing published:\n{}", refusals.join("\n")));
    }
    let repo = AtIdentifier::Did(did.clone());
    let mut lines = Vec::new();
    for (nsid, schema, cid, swap) in plan {
        let uri = schema_uri(did.as_str(), &nsid);
        let Some(schema) = schema else {
            lines.push(format!("{uri}: already published ({cid})"));
            continue;
        };
        if args.dry_run {
            lines.push(format!("{uri}: would publish {cid}"));
            continue;
        }
        let rkey = RecordKey::new(nsid.as_str()).map_err(|err| format!("{nsid}: {err}"))?;
        let written = writer
            .client
            .put_record(&repo, &rkey, &schema, swap.as_ref())
            .await
            .map_err(|err| writer.error(&uri, &err))?;
        if written.cid != cid {
            return Err(format!(
                "{uri}: the PDS stored CID {}, not {cid}: it changed the document",
                written.cid
            ));
        }
        lines.push(format!("{uri}: published {cid}"));
    }
    Ok((lines, true))
}

/// Runs `atlex lex status`.
pub(super) fn status(args: &StatusArgs) -> ExitCode {
    run_networked(&args.network, 1024 * 1024, async |net| {
        status_with(args, net).await
    })
}

async fn status_with(args: &StatusArgs, net: &Net) -> Result<(Vec<String>, bool), String> {
    let (mut lines, mut changed) = super::local_status(&args.project)?;
    let manifest = Manifest::read(&args.project.manifest)?.unwrap_or_default();
    let context = context(&args.project)?;
    for (nsid, pin) in &manifest.resolutions {
        let published = match net.resolve_and_fetch(nsid).await {
            Ok(published) => published,
            Err(err) => {
                changed = true;
                lines.push(format!("{nsid}: upstream cannot be read: {err}"));
                continue;
            }
        };
        if published.uri != pin.uri {
            changed = true;
            lines.push(format!(
                "{nsid}: now published at {}, pinned from {}",
                published.uri, pin.uri
            ));
        }
        if published.cid.to_string() == pin.cid {
            continue;
        }
        changed = true;
        lines.push(format!(
            "{nsid}: changed upstream since the pin (published {}, pinned {})",
            published.cid, pin.cid
        ));
        if let Ok(local) = read_local(&args.project.lexicons, nsid) {
            let (report, _) = compare(nsid, &local.json, &published.json, &context);
            lines.extend(report.lines().map(|line| format!("    {line}")));
        }
    }
    Ok((lines, !changed))
}
