//! A small PDS-like server and a firehose consumer.
//!
//! The server ([`Pds`]) keeps records in memory for a few accounts, accepts
//! `com.atproto.repo.createRecord` and `deleteRecord` from them (bearer
//! tokens `alice-token`, `bob-token`), and for each write appends a
//! `#commit` to an [`EventLog`] served as `com.atproto.sync.subscribeRepos`
//! with cursors. Each commit's CAR holds the signed commit block and the
//! record block. **The repository's MST is out of scope**: the commit's
//! `data` links to an empty MST node rather than the root of a real tree, so
//! the commits are not verifiable repository states (their signatures are
//! real: ES256K with each account's key).
//!
//! [`consume`] reads a firehose and writes one JSON line per op:
//! `{"seq":..,"repo":..,"action":..,"collection":..,"rkey":..,"cid":..,"type":..}`.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use atlex::car::CarWriter;
use atlex::cbor;
use atlex::client::Client;
use atlex::crypto::{Curve, SigningKey};
use atlex::data::{Bytes, CidLink, Unknown};
use atlex::firehose::{RepoCommit as _, SignedCommit};
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
    /// `collection/rkey` → the record's CID.
    records: BTreeMap<String, Cid>,
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
                    records: BTreeMap::new(),
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
        let rev = Tid::next().map_err(|e| internal(&e))?;
        // No MST: `data` links to an empty node (see the crate's docs).
        let empty_mst =
            cbor::cid_of(&serde_json::json!({"e": [], "l": null})).map_err(|e| internal(&e))?;
        let mut signed = SignedCommit {
            did: account.did.clone(),
            version: 3,
            data: CidLink(empty_mst),
            rev: rev.as_str().to_owned(),
            prev: None,
            sig: Bytes(Vec::new()),
        };
        let unsigned = signed.unsigned_bytes().map_err(|e| internal(&e))?;
        signed.sig = Bytes(account.key.sign(&unsigned).to_vec());
        let commit_cid = cbor::cid_of(&signed).map_err(|e| internal(&e))?;
        let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&commit_cid))
            .map_err(|e| internal(&e))?;
        car.write_value(&signed).map_err(|e| internal(&e))?;
        let (op, record_cid) = match write {
            Change::Create { path, record } => {
                if account.records.contains_key(&path) {
                    return Err(CommonError::invalid_request(format!("{path} exists")));
                }
                let cid = car.write_value(&record).map_err(|e| internal(&e))?;
                account.records.insert(path.clone(), cid.clone());
                let op = subscribe_repos::RepoOp::builder()
                    .action(subscribe_repos::RepoOpAction::Create)
                    .path(path)
                    .cid(Some(CidLink(cid.clone())))
                    .build();
                (op, Some(cid))
            }
            Change::Delete { path } => {
                let Some(prev) = account.records.remove(&path) else {
                    return Err(CommonError::invalid_request(format!("no record at {path}")));
                };
                let op = subscribe_repos::RepoOp::builder()
                    .action(subscribe_repos::RepoOpAction::Delete)
                    .path(path)
                    .cid(None)
                    .build()
                    .with_prev(CidLink(prev));
                (op, None)
            }
        };
        let blocks = car.finish().map_err(|e| internal(&e))?;
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
/// op to `out`; stops after `limit` commits when given. Frames that do not
/// decode and ops that do not read are reported on stderr and skipped.
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
    while let Some(item) = stream.next().await {
        let commit = match item {
            Ok(subscribe_repos::Message::Commit(commit)) => commit,
            Ok(_) => continue,
            Err(error) => {
                eprintln!("firehose: {error}");
                continue;
            }
        };
        let ops = match commit.decode_ops::<Record>() {
            Ok(ops) => ops,
            Err(error) => {
                eprintln!(
                    "firehose: commit {} of {}: {error}",
                    commit.seq, commit.repo
                );
                continue;
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
        commits += 1;
        if limit.is_some_and(|limit| commits >= limit) {
            break;
        }
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
