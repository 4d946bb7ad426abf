//! A small PDS-like server and a verifying firehose consumer.
//!
//! The server ([`Pds`], served by [`app`]) keeps a repository in memory for
//! each of two accounts and accepts `com.atproto.repo.createRecord`,
//! `putRecord` and `deleteRecord` from them (bearer tokens `alice-token`,
//! `bob-token`). Each repository is a Merkle Search Tree
//! (`atlex::repo::mst`) over an in-memory block store, and each write makes
//! a commit (version 3, signed with the account's ES256K key).
//!
//! It serves what a verifying consumer needs, through the generated server
//! traits:
//! - `com.atproto.sync.subscribeRepos`, with cursors: a `#sync` for each
//!   account when it is made (and when [`Pds::reset`] empties its
//!   repository), and a `#commit` for each write, as sync 1.1 has them:
//!   `rev` growing, `since` the previous rev, `prevData` the tree's previous
//!   root, and in `blocks` the commit, the record, the tree's new nodes and
//!   the nodes that let a consumer undo the op;
//! - `com.atproto.sync.getRepo` (the whole repository as a CAR, or what
//!   changed after a revision),
//!   `getLatestCommit` and `getRecord` (a CAR proving a record's presence or
//!   absence), and `com.atproto.repo.getRecord` and `listRecords`;
//! - the accounts' DID documents at `/{did}`, as a PLC directory serves
//!   them: a resolver whose PLC directory is this server finds each
//!   account's signing key there.
//!
//! [`consume`] reads a firehose as a verifying consumer: each commit's
//! signature against the key of the repository's DID document, its
//! revision after the last one seen, the inversion of its ops
//! (`atlex::repo::sync`) back to the root it last saw of the repository;
//! each `#sync` signed likewise resets what it holds of the repository. It
//! writes one JSON line per op:
//! `{"seq":..,"repo":..,"action":..,"collection":..,"rkey":..,"cid":..,"type":..}`.

mod pds;
mod serve;

pub use pds::{Pds, app};

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use atlex::car::Car;
use atlex::client::Client;
use atlex::crypto::PublicKey;
use atlex::data::Unknown;
use atlex::firehose::RepoCommit as _;
use atlex::identity::Resolver;
use atlex::repo::commit::Commit;
use atlex::repo::sync::{CommitCheck, SyncError, ops_of};
use atlex::types::{Cid, Did, RecordKey, Tid};
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::repo::{create_record, delete_record, put_record};
use atlex_lexicons::com::atproto::sync::subscribe_repos;
use futures_util::StreamExt as _;

/// Serves `pds` on a free port of 127.0.0.1 from a task of the current
/// tokio runtime; its URL (`http://127.0.0.1:<port>`).
pub async fn serve_local(pds: std::sync::Arc<Pds>) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app(pds)).await });
    Ok(url)
}

/// What a consumer holds of a repository: the last revision and the tree's
/// root then.
struct Seen {
    rev: Tid,
    data: Cid,
}

/// Reads the firehose at `url` from `cursor` and writes one JSON line per
/// op to `out`; stops after `limit` events (`#commit` and `#sync`, written
/// or not) when given. Keys come from the DID documents `resolver` finds.
/// Frames that do not decode, events that do not check and ops that do not
/// read are reported on stderr and skipped.
pub async fn consume(
    url: &str,
    resolver: &Resolver,
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
    let mut events = 0;
    let mut seen: HashMap<Did, Seen> = HashMap::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(subscribe_repos::Message::Commit(commit)) => {
                write_commit(&commit, resolver, &mut seen, out).await?;
            }
            Ok(subscribe_repos::Message::Sync(sync)) => {
                if let Err(error) = read_sync(&sync, resolver, &mut seen).await {
                    eprintln!(
                        "firehose: #sync {} of {} does not check: {error}",
                        sync.seq, sync.did
                    );
                }
            }
            Ok(_) => continue,
            Err(error) => {
                eprintln!("firehose: {error}");
                continue;
            }
        }
        events += 1;
        if limit.is_some_and(|limit| events >= limit) {
            break;
        }
    }
    Ok(())
}

/// Checks a `#sync` (its commit, signed by the repository's key, after the
/// last revision seen) and takes its commit as the repository's state.
async fn read_sync(
    sync: &subscribe_repos::Sync,
    resolver: &Resolver,
    seen: &mut HashMap<Did, Seen>,
) -> Result<(), Box<dyn std::error::Error>> {
    let car = Car::from_slice(&sync.blocks.0)?;
    let root = car.roots().first().ok_or("the blocks name no root")?;
    let block = car.blocks.get(root).ok_or("the commit block is missing")?;
    let commit = Commit::from_bytes(block)?;
    if commit.did != sync.did || commit.rev.as_str() != sync.rev {
        return Err(format!(
            "the commit is of {} at {}, the event of {} at {}",
            commit.did, commit.rev, sync.did, sync.rev
        )
        .into());
    }
    if let Some(last) = seen.get(&sync.did)
        && commit.rev <= last.rev
    {
        return Err(format!("rev {} is not after {}", commit.rev, last.rev).into());
    }
    commit.verify(&resolver.signing_key(&sync.did, false).await?)?;
    seen.insert(
        sync.did.clone(),
        Seen {
            rev: commit.rev,
            data: commit.data,
        },
    );
    Ok(())
}

/// Checks one commit and writes a line per op of it; a commit that does not
/// check is reported on stderr and written nothing of.
async fn write_commit(
    commit: &subscribe_repos::Commit,
    resolver: &Resolver,
    seen: &mut HashMap<Did, Seen>,
    out: &mut impl Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let last = seen.get(&commit.repo);
    let check = |key: &PublicKey| {
        ops_of(commit.op_refs()).and_then(|ops| {
            let mut check = CommitCheck::of_event(commit, &ops).signed_by(key);
            if let Some(last) = last {
                check = check.after_rev(&last.rev);
            }
            check.run()
        })
    };
    // The cached key first; a signature that does not verify with it is
    // tried once more with the DID document fetched again (the account may
    // have changed its key).
    let mut checked = Err("no key".into());
    for fresh in [false, true] {
        checked = match resolver.signing_key(&commit.repo, fresh).await {
            Ok(key) => check(&key).map_err(Box::<dyn std::error::Error>::from),
            Err(error) => Err(format!("no key: {error}").into()),
        };
        if !matches!(
            checked.as_ref().map_err(|e| e.downcast_ref::<SyncError>()),
            Err(Some(SyncError::Signature(_)))
        ) {
            break;
        }
    }
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
    if let Some(last) = last
        && last.data != checked.prev_data
    {
        eprintln!(
            "firehose: commit {} of {} follows root {}, not {}",
            commit.seq, commit.repo, checked.prev_data, last.data
        );
        return Ok(());
    }
    seen.insert(
        commit.repo.clone(),
        Seen {
            rev: checked.commit.rev.clone(),
            data: checked.commit.data.clone(),
        },
    );
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
        let writer = Writer::new(url, token, did)?;
        let post = writer
            .create(
                POST,
                None,
                serde_json::json!({
                    "$type": POST,
                    "text": format!("hello from {did}"),
                    "createdAt": "2026-12-01T12:00:00.000Z",
                }),
            )
            .await?;
        let thing = serde_json::json!({ "$type": THING, "n": 1 });
        writer.create(THING, Some("self"), thing).await?;
        commits += 2;
        if token == "bob-token" {
            writer.delete(POST, &post).await?;
            commits += 1;
        }
    }
    Ok(commits)
}

const POST: &str = "app.bsky.feed.post";
const THING: &str = "com.example.thing";

/// Writes to one repository through the generated client.
struct Writer {
    client: Client,
    repo: atlex::types::AtIdentifier,
}

impl Writer {
    fn new(url: &str, token: &str, did: &str) -> Result<Self, Box<dyn std::error::Error>> {
        Ok(Self {
            client: Client::builder(url).bearer(token).build()?,
            repo: atlex::types::AtIdentifier::new(did)?,
        })
    }

    /// Creates `record` in `collection`, at `rkey` or one the server
    /// makes; its record key.
    async fn create(
        &self,
        collection: &str,
        rkey: Option<&str>,
        record: serde_json::Value,
    ) -> Result<RecordKey, Box<dyn std::error::Error>> {
        let mut input = create_record::Input::builder()
            .repo(self.repo.clone())
            .collection(atlex::types::Nsid::new(collection)?)
            .record(serde_json::from_value(record)?)
            .build();
        input.rkey = rkey.map(RecordKey::new).transpose()?;
        let created = self
            .client
            .procedure(create_record::CreateRecord, &input)
            .await?;
        let rkey = created.uri.as_str().rsplit('/').next().unwrap_or_default();
        Ok(RecordKey::new(rkey)?)
    }

    /// Creates or replaces the record at `collection/rkey`.
    async fn put(
        &self,
        collection: &str,
        rkey: &RecordKey,
        record: serde_json::Value,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let input = put_record::Input::builder()
            .repo(self.repo.clone())
            .collection(atlex::types::Nsid::new(collection)?)
            .rkey(rkey.clone())
            .record(serde_json::from_value(record)?)
            .build();
        self.client.procedure(put_record::PutRecord, &input).await?;
        Ok(())
    }

    /// Deletes the record at `collection/rkey`.
    async fn delete(
        &self,
        collection: &str,
        rkey: &RecordKey,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let input = delete_record::Input::builder()
            .repo(self.repo.clone())
            .collection(atlex::types::Nsid::new(collection)?)
            .rkey(rkey.clone())
            .build();
        self.client
            .procedure(delete_record::DeleteRecord, &input)
            .await?;
        Ok(())
    }
}

/// What [`write_many`] wrote: how many commits, and the records the
/// repository holds after them, by path.
pub struct Written {
    /// One commit per write.
    pub commits: usize,
    /// `collection/rkey` → the record.
    pub records: BTreeMap<String, Unknown>,
}

/// Writes `count` records through the generated client as the account of
/// `token` (repository `did`): posts with server-made record keys and
/// `com.example.thing` records at `t<index of the write>` (`t0001`, `t0003`,
/// …), alternately; then
/// replaces every third thing (`putRecord`) and deletes every fourth post.
pub async fn write_many(
    url: &str,
    token: &str,
    did: &str,
    count: usize,
) -> Result<Written, Box<dyn std::error::Error>> {
    let writer = Writer::new(url, token, did)?;
    let mut records = BTreeMap::new();
    let (mut posts, mut things) = (Vec::new(), Vec::new());
    for i in 0..count {
        let (collection, rkey, record) = if i % 2 == 0 {
            let record = serde_json::json!({
                "$type": POST,
                "text": format!("post {i} from {did}"),
                "createdAt": "2026-12-01T12:00:00.000Z",
            });
            (POST, None, record)
        } else {
            let record = serde_json::json!({ "$type": THING, "n": i });
            (THING, Some(format!("t{i:04}")), record)
        };
        let rkey = writer
            .create(collection, rkey.as_deref(), record.clone())
            .await?;
        records.insert(
            format!("{collection}/{rkey}"),
            serde_json::from_value(record)?,
        );
        if collection == POST {
            &mut posts
        } else {
            &mut things
        }
        .push(rkey);
    }
    let mut commits = count;
    for (i, rkey) in things.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let record = serde_json::json!({ "$type": THING, "n": i, "replaced": true });
        writer.put(THING, rkey, record.clone()).await?;
        records.insert(format!("{THING}/{rkey}"), serde_json::from_value(record)?);
        commits += 1;
    }
    for rkey in posts.iter().step_by(4) {
        writer.delete(POST, rkey).await?;
        records.remove(&format!("{POST}/{rkey}"));
        commits += 1;
    }
    Ok(Written { commits, records })
}
