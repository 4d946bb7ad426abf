//! A small PDS-like server and a firehose consumer.
//!
//! The server ([`Pds`]) keeps records in memory for a few accounts, accepts
//! `com.atproto.repo.createRecord` and `deleteRecord` from them (bearer
//! tokens `alice-token`, `bob-token`), and for each write appends a
//! `#commit` to an [`EventLog`] served as `com.atproto.sync.subscribeRepos`
//! with cursors. Each account's repository is a Merkle Search Tree
//! (`atlex::repo::mst`) over an in-memory block store; each write makes a
//! commit (version 3, signed with the account's ES256K key) whose CAR holds
//! the commit block, the record block and the tree nodes that prove the
//! write, and whose event gives the tree's previous root (`prevData`): the
//! inductive firehose of sync 1.1.
//!
//! [`consume`] reads a firehose, checks each commit by inverting its ops
//! (`atlex::repo::sync`) and against the last root it saw of the repository,
//! and writes one JSON line per op:
//! `{"seq":..,"repo":..,"action":..,"collection":..,"rkey":..,"cid":..,"type":..}`.
//! (It does not check signatures: the example's DIDs resolve nowhere; a real
//! consumer gets the key from the DID document, `CommitCheck::signed_by`.)

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use atlex::car::CarWriter;
use atlex::cbor;
use atlex::client::Client;
use atlex::crypto::{Curve, SigningKey};
use atlex::data::{Bytes, CidLink, Unknown};
use atlex::firehose::RepoCommit as _;
use atlex::repo::commit::{UnsignedCommit, next_rev};
use atlex::repo::mst::{BlockStore as _, MemoryBlockStore, Mst, MstError};
use atlex::repo::sync::{CommitCheck, ops_of};
use atlex::server::{
    CommonError, HandlerError, HandlerResult, Request, SubscriptionRequest, SubscriptionResult,
    XrpcRouter,
};
use atlex::subscription::EventLog;
use atlex::types::{AtUri, Cid, Datetime, Did, RecordKey, Tid};
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::repo::{self, create_record, defs::CommitMeta, delete_record};
use atlex_lexicons::com::atproto::sync::{self, subscribe_repos};
use futures_util::StreamExt as _;

/// The accounts: bearer token, DID (made up for the demo, in the form of
/// `did:plc`: 24 characters of lowercase base32), signing key (hex; fixed,
/// for a demo).
const ACCOUNTS: &[(&str, &str, &str)] = &[
    (
        "alice-token",
        "did:plc:zmromlgyy6krurta6aidtixk",
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
    ),
    (
        "bob-token",
        "did:plc:6b2e7gp7hmgux6z7kj4ndlxj",
        "2f6d4d2c6a0bc0b73b2a1f6c8f3f77b5d2f1e1e9a4e2b0c7d8e9f0a1b2c3d4e5",
    ),
];

struct Account {
    did: Did,
    key: SigningKey,
    /// The repository: `collection/rkey` → the record's CID, with the
    /// blocks of its nodes and records.
    tree: Mst<Arc<MemoryBlockStore>>,
    rev: Option<Tid>,
}

/// The server's state: accounts and their records, and the event log.
pub struct Pds {
    accounts: Mutex<BTreeMap<String, Account>>,
    log: EventLog<subscribe_repos::SubscribeRepos>,
}

impl Default for Pds {
    fn default() -> Self {
        let accounts = ACCOUNTS
            .iter()
            .map(|(token, did, key)| {
                let account = Account {
                    did: Did::new(*did).expect("a DID"),
                    key: SigningKey::from_hex(Curve::K256, key).expect("a key"),
                    tree: Mst::new(Arc::new(MemoryBlockStore::new())),
                    rev: None,
                };
                ((*token).to_owned(), account)
            })
            .collect();
        Self {
            accounts: Mutex::new(accounts),
            log: EventLog::new(),
        }
    }
}

/// The axum router of a [`Pds`].
pub fn app(pds: Arc<Pds>) -> axum::Router {
    XrpcRouter::from_arc(pds)
        .mount(repo::register)
        .mount(sync::register)
        .into_router()
}

/// A write to one account's repository.
enum Change {
    Create { path: String, record: Unknown },
    Delete { path: String },
}

impl Pds {
    /// Applies `write` for the account of `token`, appends its `#commit` and
    /// returns the commit's CID and rev (and the record's CID for a create).
    fn commit(
        &self,
        token: &str,
        repo: &str,
        write: Change,
    ) -> Result<(CommitMeta, Option<Cid>), CommonError> {
        let mut accounts = self.accounts.lock().unwrap_or_else(PoisonError::into_inner);
        let account = accounts
            .get_mut(token)
            .ok_or(CommonError::AuthenticationRequired {
                message: Some("use a bearer token: alice-token or bob-token".to_owned()),
            })?;
        if repo != account.did.as_str() {
            return Err(CommonError::invalid_request(format!(
                "this token writes to {} only",
                account.did
            )));
        }
        let internal = |err: &dyn std::fmt::Display| CommonError::InternalServerError {
            message: Some(err.to_string()),
        };
        let rev = next_rev(account.rev.as_ref()).map_err(|e| internal(&e))?;
        let (tree, path, op, record) = match write {
            Change::Create { path, record } => {
                let bytes = cbor::to_vec(&record).map_err(|e| internal(&e))?;
                let cid = Cid::of_dag_cbor(&bytes);
                let tree = account
                    .tree
                    .insert(&path, cid.clone())
                    .map_err(|err| match err {
                        MstError::KeyExists(_) => {
                            CommonError::invalid_request(format!("{path} exists"))
                        }
                        other => internal(&other),
                    })?;
                let op = subscribe_repos::RepoOp::builder()
                    .action(subscribe_repos::RepoOpAction::Create)
                    .path(path.clone())
                    .cid(Some(CidLink(cid.clone())))
                    .build();
                (tree, path, op, Some((cid, bytes)))
            }
            Change::Delete { path } => {
                let Some(prev) = account.tree.get(&path).map_err(|e| internal(&e))? else {
                    return Err(CommonError::invalid_request(format!("no record at {path}")));
                };
                let tree = account.tree.delete(&path).map_err(|e| internal(&e))?;
                let op = subscribe_repos::RepoOp::builder()
                    .action(subscribe_repos::RepoOpAction::Delete)
                    .path(path.clone())
                    .cid(None)
                    .build()
                    .with_prev(CidLink(prev));
                (tree, path, op, None)
            }
        };
        let prev_data = account.tree.root().map_err(|e| internal(&e))?;
        let data = tree.write().map_err(|e| internal(&e))?;
        let commit = UnsignedCommit::new(account.did.clone(), data, rev.clone()).sign(&account.key);
        let commit_cid = commit.cid();
        let store = tree.store();
        store
            .put(&commit_cid, commit.to_bytes().into())
            .map_err(|e| internal(&e))?;

        // The event's blocks: the commit, the record, and the nodes that
        // prove the write and let a consumer undo it.
        let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&commit_cid))
            .map_err(|e| internal(&e))?;
        car.write_block(&commit_cid, &commit.to_bytes())
            .map_err(|e| internal(&e))?;
        if let Some((cid, bytes)) = &record {
            car.write_block(cid, bytes).map_err(|e| internal(&e))?;
            store
                .put(cid, bytes.clone().into())
                .map_err(|e| internal(&e))?;
        }
        for block in tree.covering_proof(&path).map_err(|e| internal(&e))? {
            car.write_block(&block.cid, &block.data)
                .map_err(|e| internal(&e))?;
        }
        let blocks = car.finish().map_err(|e| internal(&e))?;
        account.tree = tree;
        let record_cid = record.map(|(cid, _)| cid);
        let since = account.rev.replace(rev.clone());
        self.log
            .append(|seq| {
                subscribe_repos::Commit::builder()
                    .seq(seq)
                    .rebase(false)
                    .too_big(false)
                    .repo(account.did.clone())
                    .commit(CidLink(commit_cid.clone()))
                    .rev(rev.clone())
                    .since(since)
                    .blocks(Bytes(blocks))
                    .ops(vec![op])
                    .blobs(Vec::new())
                    .time(Datetime::now())
                    .build()
                    .with_prev_data(CidLink(prev_data))
                    .into()
            })
            .map_err(|e| internal(&e))?;
        Ok((
            CommitMeta::builder().cid(commit_cid).rev(rev).build(),
            record_cid,
        ))
    }
}

fn bearer<E>(request_headers: &http::HeaderMap) -> Result<String, HandlerError<E>> {
    request_headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or(HandlerError::Common(CommonError::AuthenticationRequired {
            message: Some("use a bearer token: alice-token or bob-token".to_owned()),
        }))
}

impl repo::Service for Pds {
    async fn create_record(
        &self,
        request: Request<create_record::CreateRecord>,
    ) -> HandlerResult<create_record::CreateRecord> {
        let token = bearer(&request.context.headers)?;
        let input = request.input;
        let rkey = match input.rkey {
            Some(rkey) => rkey,
            None => RecordKey::new(
                Tid::next()
                    .map_err(|e| HandlerError::internal(e.to_string()))?
                    .as_str(),
            )
            .map_err(|e| HandlerError::internal(e.to_string()))?,
        };
        let path = format!("{}/{}", input.collection, rkey);
        let repo = input.repo.to_string();
        let (commit, cid) = self
            .commit(
                &token,
                &repo,
                Change::Create {
                    path,
                    record: input.record,
                },
            )
            .map_err(HandlerError::Common)?;
        let cid = cid.ok_or_else(|| HandlerError::internal("no record CID"))?;
        let uri = AtUri::new(format!("at://{repo}/{}/{rkey}", input.collection))
            .map_err(|e| HandlerError::internal(e.to_string()))?;
        Ok(create_record::Output::builder()
            .uri(uri)
            .cid(cid)
            .build()
            .with_commit(commit))
    }

    async fn delete_record(
        &self,
        request: Request<delete_record::DeleteRecord>,
    ) -> HandlerResult<delete_record::DeleteRecord> {
        let token = bearer(&request.context.headers)?;
        let input = request.input;
        let path = format!("{}/{}", input.collection, input.rkey);
        let (commit, _) = self
            .commit(&token, input.repo.as_ref(), Change::Delete { path })
            .map_err(HandlerError::Common)?;
        Ok(delete_record::Output::new().with_commit(commit))
    }
}

impl sync::Service for Pds {
    async fn subscribe_repos(
        &self,
        request: SubscriptionRequest<subscribe_repos::SubscribeRepos>,
    ) -> SubscriptionResult<subscribe_repos::SubscribeRepos> {
        self.log.subscribe(request.params.cursor)
    }
}

/// Reads the firehose at `url` from `cursor` and writes one JSON line per
/// op to `out`; stops after `limit` commits (written or not) when given. Frames that do not
/// decode, commits that do not check (their inversion, or their previous
/// root against the last one seen of the repository) and ops that do not
/// read are reported on stderr and skipped.
pub async fn consume(
    url: &str,
    cursor: Option<i64>,
    limit: Option<usize>,
    out: &mut impl Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new(url)?;
    let mut params = subscribe_repos::Params::new();
    params.cursor = cursor;
    let mut stream = client
        .subscribe(subscribe_repos::SubscribeRepos, &params)
        .reconnect(atlex::client::Reconnect::default());
    let mut commits = 0;
    // The tree's root after the last commit seen of each repository.
    let mut roots: HashMap<atlex::types::Did, Cid> = HashMap::new();
    while let Some(item) = stream.next().await {
        let commit = match item {
            Ok(subscribe_repos::Message::Commit(commit)) => commit,
            Ok(_) => continue,
            Err(error) => {
                eprintln!("firehose: {error}");
                continue;
            }
        };
        write_commit(&commit, &mut roots, out)?;
        commits += 1;
        if limit.is_some_and(|limit| commits >= limit) {
            break;
        }
    }
    Ok(())
}

/// Checks one commit and writes a line per op of it; a commit that does not
/// check is reported on stderr and written nothing of. `roots` holds the
/// tree's root after the last commit seen of each repository.
fn write_commit(
    commit: &subscribe_repos::Commit,
    roots: &mut HashMap<atlex::types::Did, Cid>,
    out: &mut impl Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let checked =
        ops_of(commit.op_refs()).and_then(|ops| CommitCheck::of_event(commit, &ops).run());
    let checked = match checked {
        Ok(checked) => checked,
        Err(error) => {
            eprintln!(
                "firehose: commit {} of {} does not check: {error}",
                commit.seq, commit.repo
            );
            return Ok(());
        }
    };
    if let Some(last) = roots.get(&commit.repo)
        && *last != checked.prev_data
    {
        eprintln!(
            "firehose: commit {} of {} follows root {}, not {last}",
            commit.seq, commit.repo, checked.prev_data
        );
        return Ok(());
    }
    roots.insert(commit.repo.clone(), checked.commit.data.clone());
    let ops = match commit.decode_ops::<Record>() {
        Ok(ops) => ops,
        Err(error) => {
            eprintln!(
                "firehose: commit {} of {}: {error}",
                commit.seq, commit.repo
            );
            return Ok(());
        }
    };
    for op in ops {
        let op = match op {
            Ok(op) => op,
            Err(error) => {
                eprintln!("firehose: commit {}: {error}", commit.seq);
                continue;
            }
        };
        let line = Line {
            seq: commit.seq,
            repo: commit.repo.as_str(),
            action: op.action.as_str(),
            collection: op.collection.as_str(),
            rkey: op.rkey.as_str(),
            cid: op.cid.as_ref(),
            type_name: op.record.as_ref().map(record_type),
        };
        writeln!(out, "{}", serde_json::to_string(&line)?)?;
    }
    Ok(())
}

/// One op, as the consumer prints it.
#[derive(serde::Serialize)]
struct Line<'a> {
    seq: i64,
    repo: &'a str,
    action: &'a str,
    collection: &'a str,
    rkey: &'a str,
    cid: Option<&'a Cid>,
    #[serde(rename = "type")]
    type_name: Option<String>,
}

/// The `$type` of a record, as the dispatch decoded it.
fn record_type(record: &Record) -> String {
    match serde_json::to_value(record) {
        Ok(serde_json::Value::Object(map)) => map
            .get("$type")
            .and_then(|t| t.as_str())
            .unwrap_or("?")
            .to_owned(),
        _ => "?".to_owned(),
    }
}

/// Writes, through the generated client, a post and a record of a type the
/// bindings do not have as alice and as bob, then deletes bob's post; how
/// many commits that made.
pub async fn write_sample(url: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let mut commits = 0;
    for (token, did) in [
        ("alice-token", "did:plc:zmromlgyy6krurta6aidtixk"),
        ("bob-token", "did:plc:6b2e7gp7hmgux6z7kj4ndlxj"),
    ] {
        let client = Client::builder(url).bearer(token).build()?;
        let post: Unknown = serde_json::from_value(serde_json::json!({
            "$type": "app.bsky.feed.post",
            "text": format!("hello from {did}"),
            "createdAt": "2026-12-01T12:00:00.000Z",
        }))?;
        let created = client
            .procedure(
                create_record::CreateRecord,
                &create_record::Input::builder()
                    .repo(atlex::types::AtIdentifier::new(did)?)
                    .collection(atlex::types::Nsid::new("app.bsky.feed.post")?)
                    .record(post)
                    .build(),
            )
            .await?;
        let thing: Unknown = serde_json::from_value(serde_json::json!({
            "$type": "com.example.thing", "n": 1,
        }))?;
        client
            .procedure(
                create_record::CreateRecord,
                &create_record::Input::builder()
                    .repo(atlex::types::AtIdentifier::new(did)?)
                    .collection(atlex::types::Nsid::new("com.example.thing")?)
                    .record(thing)
                    .build()
                    .with_rkey(RecordKey::new("self")?),
            )
            .await?;
        commits += 2;
        if token == "bob-token" {
            let rkey = created
                .uri
                .as_str()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            client
                .procedure(
                    delete_record::DeleteRecord,
                    &delete_record::Input::builder()
                        .repo(atlex::types::AtIdentifier::new(did)?)
                        .collection(atlex::types::Nsid::new("app.bsky.feed.post")?)
                        .rkey(RecordKey::new(rkey)?)
                        .build(),
                )
                .await?;
            commits += 1;
        }
    }
    Ok(commits)
}
