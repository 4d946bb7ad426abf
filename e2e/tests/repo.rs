//! Repositories written by the official PDS, read back and checked with
//! atlex: `getRepo` walked into exactly what `listRecords` lists, every
//! `subscribeRepos` commit verified from cursor 0 (sync 1.1, signatures
//! included), and `getRecord` proofs checked against the signed commit.
//!
//! The tests share one PDS and its writes (made once, by whichever test
//! runs first): two accounts, a few hundred records in four collections,
//! with creates, updates and deletes through every write endpoint.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use atlex::car::Car;
use atlex::client::{Client, Write};
use atlex::crypto::PublicKey;
use atlex::firehose::{Action, RepoCommit as _};
use atlex::identity::Resolver;
use atlex::repo::commit::Commit;
use atlex::repo::mst::{BlockStore as _, MemoryBlockStore, Mst, MstError, Op};
use atlex::repo::proof::{RecordProof, verify_record_proof};
use atlex::repo::repo_car::read_repo_car;
use atlex::repo::sync::{CommitCheck, ops_of};
use atlex::types::{AtIdentifier, Cid, Datetime, Did, Nsid, RecordKey, Tid};
use atlex_e2e::Pds;
use atlex_lexicons::Record;
use atlex_lexicons::app::bsky::actor::profile::Profile;
use atlex_lexicons::app::bsky::feed::like::Like;
use atlex_lexicons::app::bsky::feed::post::Post;
use atlex_lexicons::app::bsky::graph::follow::Follow;
use atlex_lexicons::com::atproto::repo::list_records::{self, ListRecords};
use atlex_lexicons::com::atproto::repo::strong_ref::StrongRef;
use atlex_lexicons::com::atproto::sync::get_latest_commit::{self, GetLatestCommit};
use atlex_lexicons::com::atproto::sync::get_record::{self, GetRecord};
use atlex_lexicons::com::atproto::sync::get_repo::{self, GetRepo};
use atlex_lexicons::com::atproto::sync::subscribe_repos::{self, Message, SubscribeRepos};
use futures_util::StreamExt as _;

mod accounts;

use accounts::{BoxError, create_account};

const POST: &str = "app.bsky.feed.post";
const LIKE: &str = "app.bsky.feed.like";
const FOLLOW: &str = "app.bsky.graph.follow";
const PROFILE: &str = "app.bsky.actor.profile";
const COLLECTIONS: [&str; 4] = [POST, LIKE, FOLLOW, PROFILE];

/// The PDS and what was written to it.
struct Fixture {
    pds: Pds,
    accounts: Vec<Account>,
}

/// An account and what its writes should have left.
struct Account {
    did: Did,
    /// The records each collection should hold.
    expected: BTreeMap<&'static str, usize>,
    /// How many commits the writes made (one per write call).
    write_commits: usize,
    /// Paths written and then deleted.
    deleted: Vec<String>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// The shared PDS, started and written to on first use. A static is never
/// dropped: the servers stop when the test process exits (their standard
/// input closes) and remove their data directory then.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    let fixture = FIXTURE.get_or_init(|| {
        let pds = Pds::start().map_err(|err| err.to_string())?;
        let started = Instant::now();
        let accounts = runtime()
            .block_on(write_everything(&pds))
            .map_err(|err| format!("writing to the PDS: {err}"))?;
        atlex_e2e::note(&format!(
            "wrote {} records in {:.1} s",
            accounts
                .iter()
                .flat_map(|a| a.expected.values())
                .sum::<usize>(),
            started.elapsed().as_secs_f64()
        ));
        Ok(Fixture { pds, accounts })
    });
    match fixture {
        Ok(fixture) => fixture,
        Err(err) => panic!("the PDS fixture: {err}"),
    }
}

fn resolver(fixture: &Fixture) -> Resolver {
    Resolver::builder()
        .plc_directory(fixture.pds.plc_url())
        .plain_http(true)
        .build()
        .expect("a resolver")
}

/// A DID of no account, for follows: `did:plc:` and 24 base32 characters.
fn stranger(index: usize) -> Did {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut id = vec![b'a'; 24];
    let mut n = index;
    for slot in id.iter_mut().rev() {
        *slot = ALPHABET[n % 32];
        n /= 32;
    }
    Did::new(format!("did:plc:{}", String::from_utf8(id).expect("ASCII"))).expect("a DID")
}

fn rkey_of(uri: &atlex::types::AtUri) -> Result<RecordKey, BoxError> {
    uri.rkey()
        .ok_or_else(|| format!("{uri} has no record key").into())
}

/// Two accounts; each writes a profile, posts, likes and follows, then
/// updates and deletes some, through `createRecord`, `putRecord`,
/// `deleteRecord` and `applyWrites`.
async fn write_everything(pds: &Pds) -> Result<Vec<Account>, BoxError> {
    let (alice, alice_client) = create_account(pds, "alice").await?;
    let (bob, bob_client) = create_account(pds, "bob").await?;
    let alice_account = write_account(&alice_client, &alice, &bob, 0, 160).await?;
    let bob_account = write_account(&bob_client, &bob, &alice, 1000, 60).await?;
    Ok(vec![alice_account, bob_account])
}

async fn write_account(
    client: &Client,
    did: &Did,
    other: &Did,
    seed: usize,
    posts: usize,
) -> Result<Account, BoxError> {
    let repo = AtIdentifier::from(did.clone());
    let mut commits = 0;
    let mut deleted = Vec::new();
    let post = |i: usize| {
        Post::builder()
            .text(format!("post {i} of {did} — ünïcødé ✓"))
            .created_at(Datetime::now())
            .build()
    };

    // The profile: created, then replaced twice.
    let self_key = RecordKey::new("self")?;
    client
        .create_record(
            &repo,
            &Profile::new().with_display_name(format!("Account {seed}")),
        )
        .await?;
    commits += 1;
    for round in 0..2 {
        let profile = Profile::new()
            .with_display_name(format!("Account {seed}, round {round}"))
            .with_description("written by the end-to-end tests".to_owned());
        client.put_record(&repo, &self_key, &profile, None).await?;
        commits += 1;
    }

    // Posts: most in batches of one commit each, the rest one by one.
    let mut written: Vec<StrongRef> = Vec::new();
    let batched = posts * 3 / 4;
    for batch in (0..batched).collect::<Vec<_>>().chunks(25) {
        let applied = client
            .apply_writes(&repo, batch.iter().map(|&i| Write::create(&post(seed + i))))
            .await?;
        commits += 1;
        for result in applied.results.unwrap_or_default() {
            if let atlex::client::WriteResult::Create { uri, cid, .. } = result {
                written.push(StrongRef::builder().uri(uri).cid(cid).build());
            }
        }
    }
    for i in batched..posts {
        let created = client.create_record(&repo, &post(seed + i)).await?;
        commits += 1;
        written.push(
            StrongRef::builder()
                .uri(created.uri)
                .cid(created.cid)
                .build(),
        );
    }
    if written.len() != posts {
        return Err(format!("{} posts written, {} results", posts, written.len()).into());
    }

    // Likes of the account's own posts, in batches.
    let likes: Vec<StrongRef> = written.iter().step_by(2).cloned().collect();
    let mut like_keys = Vec::new();
    for batch in likes.chunks(20) {
        let writes = batch.iter().map(|subject| {
            Write::create(
                &Like::builder()
                    .subject(subject.clone())
                    .created_at(Datetime::now())
                    .build(),
            )
        });
        let applied = client.apply_writes(&repo, writes).await?;
        commits += 1;
        for result in applied.results.unwrap_or_default() {
            if let atlex::client::WriteResult::Create { uri, .. } = result {
                like_keys.push(rkey_of(&uri)?);
            }
        }
    }

    // Follows: the other account, and DIDs of no account.
    let mut follow_keys = Vec::new();
    for i in 0..40 {
        let subject = if i == 0 {
            other.clone()
        } else {
            stranger(seed + i)
        };
        let follow = Follow::builder()
            .subject(subject)
            .created_at(Datetime::now())
            .build();
        let created = client.create_record(&repo, &follow).await?;
        commits += 1;
        follow_keys.push(rkey_of(&created.uri)?);
    }

    // Updates: posts rewritten one by one, and in a batch.
    let post_keys: Vec<RecordKey> = written
        .iter()
        .map(|r| rkey_of(&r.uri))
        .collect::<Result<_, _>>()?;
    for (i, rkey) in post_keys.iter().enumerate().skip(1).step_by(9) {
        client
            .put_record(&repo, rkey, &post(seed + 10_000 + i), None)
            .await?;
        commits += 1;
    }
    let updates = post_keys
        .iter()
        .enumerate()
        .skip(3)
        .step_by(11)
        .map(|(i, rkey)| Write::update(rkey.clone(), &post(seed + 20_000 + i)));
    client.apply_writes(&repo, updates).await?;
    commits += 1;

    // Deletes: posts one by one; then one commit that deletes likes and
    // follows, updates a post and creates one.
    let mut post_count = posts;
    for rkey in post_keys.iter().skip(5).step_by(13) {
        client.delete_record::<Post>(&repo, rkey, None).await?;
        commits += 1;
        post_count -= 1;
        deleted.push(format!("{POST}/{rkey}"));
    }
    let doomed_likes: Vec<RecordKey> = like_keys.iter().step_by(4).cloned().collect();
    let doomed_follows: Vec<RecordKey> = follow_keys.iter().skip(1).step_by(6).cloned().collect();
    let mut mixed: Vec<Write> = Vec::new();
    mixed.extend(
        doomed_likes
            .iter()
            .map(|k| Write::delete::<Like>(k.clone())),
    );
    mixed.extend(
        doomed_follows
            .iter()
            .map(|k| Write::delete::<Follow>(k.clone())),
    );
    mixed.push(Write::update(post_keys[0].clone(), &post(seed + 30_000)));
    mixed.push(Write::create_at(Tid::next()?.into(), &post(seed + 40_000)));
    client.apply_writes(&repo, mixed).await?;
    commits += 1;
    post_count += 1;
    deleted.extend(doomed_likes.iter().map(|k| format!("{LIKE}/{k}")));
    deleted.extend(doomed_follows.iter().map(|k| format!("{FOLLOW}/{k}")));

    let expected = BTreeMap::from([
        (POST, post_count),
        (LIKE, like_keys.len() - doomed_likes.len()),
        (FOLLOW, follow_keys.len() - doomed_follows.len()),
        (PROFILE, 1),
    ]);
    Ok(Account {
        did: did.clone(),
        expected,
        write_commits: commits,
        deleted,
    })
}

/// What `listRecords` lists of `collection`: record key to CID.
async fn list_records(
    client: &Client,
    did: &Did,
    collection: &str,
) -> Result<BTreeMap<String, Cid>, BoxError> {
    let params = list_records::Params::builder()
        .repo(AtIdentifier::from(did.clone()))
        .collection(Nsid::new(collection)?)
        .build()
        .with_limit(100);
    let mut listed = BTreeMap::new();
    let mut items = client.items(ListRecords, params);
    while let Some(record) = items.next().await {
        let record = record?;
        if record.uri.collection() != Some(collection) {
            return Err(format!("{} listed in {collection}", record.uri).into());
        }
        let rkey = rkey_of(&record.uri)?.to_string();
        if listed.insert(rkey, record.cid).is_some() {
            return Err(format!("{} listed twice", record.uri).into());
        }
    }
    Ok(listed)
}

/// The repository's current commit (`getLatestCommit`).
async fn latest_commit(client: &Client, did: &Did) -> get_latest_commit::Output {
    client
        .query(
            GetLatestCommit,
            &get_latest_commit::Params::new(did.clone()),
        )
        .await
        .unwrap()
}

/// The collection of a record decoded through the record dispatch, for the
/// four collections the tests write.
fn collection_of(record: &Record) -> Option<&'static str> {
    match record {
        Record::AppBskyFeedPost(_) => Some(POST),
        Record::AppBskyFeedLike(_) => Some(LIKE),
        Record::AppBskyGraphFollow(_) => Some(FOLLOW),
        Record::AppBskyActorProfile(_) => Some(PROFILE),
        _ => None,
    }
}

/// The record block of `collection` decodes, strictly, into the generated
/// type of that collection, and encodes back to the same bytes.
fn check_record(collection: &str, bytes: &[u8]) -> Result<(), BoxError> {
    let record: Record = atlex::cbor::from_slice(bytes)?;
    if collection_of(&record) != Some(collection) {
        return Err(format!("a record of {collection} decodes as {record:?}").into());
    }
    if atlex::cbor::to_vec(&record)? != bytes {
        return Err(format!("a record of {collection} does not encode back to its bytes").into());
    }
    Ok(())
}

#[test]
fn get_repo_walks_into_exactly_what_list_records_lists() {
    let fixture = fixture();
    runtime().block_on(async {
        let client = Client::new(fixture.pds.url()).unwrap();
        let resolver = resolver(fixture);
        for account in &fixture.accounts {
            let did = &account.did;
            let car = client
                .query(GetRepo, &get_repo::Params::new(did.clone()))
                .await
                .unwrap()
                .data;
            let repo = read_repo_car(&car).unwrap();
            let key = resolver.signing_key(did, false).await.unwrap();
            repo.commit.verify(&key).unwrap();
            assert_eq!(&repo.commit.did, did);
            let latest = latest_commit(&client, did).await;
            assert_eq!(
                (&repo.commit_cid, &repo.commit.rev),
                (&latest.cid, &latest.rev)
            );

            let tree = repo.tree().unwrap();
            let mut walked: BTreeMap<String, BTreeMap<String, Cid>> = BTreeMap::new();
            for leaf in tree.iter() {
                let leaf = leaf.unwrap();
                let (collection, rkey) = leaf.key.split_once('/').unwrap();
                let bytes = repo
                    .store
                    .get(&leaf.value)
                    .unwrap()
                    .unwrap_or_else(|| panic!("the record block of {} is missing", leaf.key));
                check_record(collection, &bytes)
                    .unwrap_or_else(|err| panic!("{}: {err}", leaf.key));
                walked
                    .entry(collection.to_owned())
                    .or_default()
                    .insert(rkey.to_owned(), leaf.value.clone());
            }
            // The same keys inserted into an empty tree, last first, give
            // the same root and the same node blocks, byte for byte.
            let store = MemoryBlockStore::new();
            let mut rebuilt = Mst::new(&store);
            let leaves: Vec<_> = tree.iter().collect::<Result<_, _>>().unwrap();
            for leaf in leaves.iter().rev() {
                rebuilt = rebuilt.insert(&leaf.key, leaf.value.clone()).unwrap();
            }
            assert_eq!(
                rebuilt.root().unwrap(),
                repo.commit.data,
                "{did}: rebuilt root"
            );
            let nodes = |tree: &Mst<&MemoryBlockStore>| -> BTreeMap<Cid, Vec<u8>> {
                let blocks = tree.node_blocks().unwrap().into_iter();
                blocks
                    .map(|block| (block.cid, block.data.into_owned()))
                    .collect()
            };
            assert_eq!(nodes(&rebuilt), nodes(&tree), "{did}: rebuilt nodes");

            let mut listed = BTreeMap::new();
            for collection in COLLECTIONS {
                listed.insert(
                    collection.to_owned(),
                    list_records(&client, did, collection).await.unwrap(),
                );
            }
            assert_eq!(
                walked, listed,
                "{did}: the tree's records against listRecords"
            );
            let counts: BTreeMap<&str, usize> = walked
                .iter()
                .map(|(collection, records)| (collection.as_str(), records.len()))
                .collect();
            let expected: BTreeMap<&str, usize> =
                account.expected.iter().map(|(c, n)| (*c, *n)).collect();
            assert_eq!(counts, expected, "{did}: records per collection");
            atlex_e2e::note(&format!(
                "{did}: getRepo ({} bytes, {} blocks) walks into {counts:?}, as listRecords lists; \
                 rebuilt by atlex with the same root and nodes",
                car.len(),
                repo.store.len()
            ));
        }
    });
}

/// `tree` with `ops` applied: a create inserts, an update replaces, a
/// delete removes.
fn replay(
    tree: &Mst<Arc<MemoryBlockStore>>,
    ops: &[Op],
) -> Result<Mst<Arc<MemoryBlockStore>>, MstError> {
    ops.iter().try_fold(tree.clone(), |tree, op| match op {
        Op::Create { path, cid } => tree.insert(path, cid.clone()),
        Op::Update { path, cid, .. } => tree.update(path, cid.clone()),
        Op::Delete { path, .. } => tree.delete(path),
    })
}

/// What a consumer holds of a repository: its last revision and root.
struct RepoState {
    rev: Tid,
    data: Cid,
}

#[test]
fn subscribe_repos_verifies_from_cursor_zero() {
    let fixture = fixture();
    runtime().block_on(async {
        let client = Client::new(fixture.pds.url()).unwrap();
        let resolver = resolver(fixture);
        let mut latest = HashMap::new();
        let mut keys: HashMap<Did, PublicKey> = HashMap::new();
        for account in &fixture.accounts {
            let head = latest_commit(&client, &account.did).await;
            latest.insert(account.did.clone(), head.rev);
            let key = resolver.signing_key(&account.did, false).await.unwrap();
            keys.insert(account.did.clone(), key);
        }

        let params = subscribe_repos::Params::new().with_cursor(0);
        let mut stream = client.subscribe(SubscribeRepos, &params);
        let mut states: HashMap<Did, RepoState> = HashMap::new();
        let mut commits: HashMap<Did, usize> = HashMap::new();
        let mut failures = Vec::new();
        let (mut syncs, mut identities, mut account_events, mut last_seq) = (0, 0, 0, 0);
        let mut decoded_ops = 0;
        // Each repository's whole tree, built by applying every commit's ops
        // from the first one on.
        let mut replayed: HashMap<Did, Mst<Arc<MemoryBlockStore>>> = HashMap::new();
        let started = Instant::now();
        // The last revision each repository's events gave, checked or not.
        let mut seen: HashMap<Did, Tid> = HashMap::new();
        while latest.iter().any(|(did, rev)| seen.get(did) != Some(rev)) {
            let message = tokio::time::timeout(Duration::from_secs(30), stream.next())
                .await
                .expect("the stream stalled before the last commit")
                .expect("the stream ended before the last commit")
                .unwrap();
            match message {
                Message::Commit(commit) => {
                    assert!(commit.seq > last_seq, "seq {} after {last_seq}", commit.seq);
                    last_seq = commit.seq;
                    *commits.entry(commit.repo.clone()).or_default() += 1;
                    seen.insert(commit.repo.clone(), commit.rev.clone());
                    // The ops' records, decoded from the commit's blocks:
                    // a create's or update's into the type of its
                    // collection, a delete's none.
                    match commit.decode_ops::<Record>() {
                        Ok(ops) => {
                            for op in ops {
                                let op = match op {
                                    Ok(op) => op,
                                    Err(err) => {
                                        failures.push(format!("seq {}: {err}", commit.seq));
                                        continue;
                                    }
                                };
                                let expected = match op.action {
                                    Action::Delete => None,
                                    _ => Some(op.collection.as_str()),
                                };
                                let decoded = op
                                    .record
                                    .as_ref()
                                    .map(|record| collection_of(record).unwrap_or("another type"));
                                if decoded == expected {
                                    decoded_ops += 1;
                                } else {
                                    failures.push(format!(
                                        "seq {}: {} {} decodes as {decoded:?}",
                                        commit.seq,
                                        op.action,
                                        op.path()
                                    ));
                                }
                            }
                        }
                        Err(err) => failures.push(format!("seq {}: {err}", commit.seq)),
                    }
                    let key = keys.get(&commit.repo).expect("a commit of a known account");
                    let state = states.get(&commit.repo);
                    let result = ops_of(commit.op_refs()).and_then(|ops| {
                        let mut check = CommitCheck::new(
                            &commit.repo,
                            commit.commit_cid(),
                            commit.blocks(),
                            &ops,
                        )
                        .signed_by(key);
                        match state {
                            Some(state) => {
                                check = check.prev_data(&state.data).after_rev(&state.rev)
                            }
                            None => {
                                if let Some(prev) = commit.prev_data() {
                                    check = check.prev_data(prev);
                                }
                            }
                        }
                        check.run().map(|checked| (checked, ops))
                    });
                    match result {
                        Ok((checked, ops)) => {
                            // The same ops applied to the whole tree give the
                            // commit's root.
                            let tree = replayed.entry(commit.repo.clone()).or_insert_with(|| {
                                Mst::new(Arc::new(MemoryBlockStore::new()))
                            });
                            match replay(tree, &ops) {
                                Ok(next) if next.root().ok().as_ref() == Some(&checked.commit.data) => {
                                    *tree = next;
                                }
                                Ok(next) => failures.push(format!(
                                    "seq {}: the ops applied to the tree give {:?}, the commit says {}",
                                    commit.seq,
                                    next.root(),
                                    checked.commit.data
                                )),
                                Err(err) => {
                                    failures.push(format!("seq {}: applying the ops: {err}", commit.seq))
                                }
                            }
                            if let (Some(state), Some(prev)) = (state, commit.prev_data())
                                && state.data != *prev
                            {
                                failures.push(format!(
                                    "seq {}: prevData {prev} is not the last root {}",
                                    commit.seq, state.data
                                ));
                            }
                            if commit.rev != checked.commit.rev || commit.too_big || commit.rebase {
                                failures.push(format!(
                                    "seq {}: rev {} (commit's {}), tooBig {}, rebase {}",
                                    commit.seq,
                                    commit.rev,
                                    checked.commit.rev,
                                    commit.too_big,
                                    commit.rebase
                                ));
                            }
                            states.insert(
                                commit.repo.clone(),
                                RepoState {
                                    rev: checked.commit.rev,
                                    data: checked.commit.data,
                                },
                            );
                        }
                        Err(err) => {
                            // The chain is broken: the next commit is checked
                            // against its own prevData.
                            states.remove(&commit.repo);
                            failures.push(format!("seq {} of {}: {err}", commit.seq, commit.repo))
                        }
                    }
                }
                Message::Sync(sync) => {
                    assert!(sync.seq > last_seq, "seq {} after {last_seq}", sync.seq);
                    last_seq = sync.seq;
                    syncs += 1;
                    if let Ok(rev) = Tid::new(&sync.rev) {
                        seen.insert(sync.did.clone(), rev);
                    }
                    // A #sync carries the signed commit alone: it resets what
                    // a consumer holds of the repository.
                    let key = keys.get(&sync.did).expect("a #sync of a known account");
                    let checked = (|| -> Result<Commit, BoxError> {
                        let car = Car::from_slice(&sync.blocks.0)?;
                        let root = car.roots().first().ok_or("no root")?;
                        let commit = Commit::from_bytes(car.blocks.get(root).ok_or("no commit")?)?;
                        commit.verify(key)?;
                        if commit.did != sync.did || commit.rev.as_str() != sync.rev {
                            return Err("the commit is not the event's".into());
                        }
                        Ok(commit)
                    })();
                    match checked {
                        Ok(commit) => {
                            let root = replayed.get(&sync.did).map(|tree| tree.root());
                            if let Some(root) = root
                                && root.as_ref().ok() != Some(&commit.data)
                            {
                                failures.push(format!(
                                    "#sync seq {}: the tree replayed is at {root:?}, the commit at {}",
                                    sync.seq, commit.data
                                ));
                            }
                            states.insert(
                                sync.did.clone(),
                                RepoState {
                                    rev: commit.rev,
                                    data: commit.data,
                                },
                            );
                        }
                        Err(err) => {
                            states.remove(&sync.did);
                            failures.push(format!("#sync seq {}: {err}", sync.seq))
                        }
                    }
                }
                Message::Identity(identity) => {
                    assert!(identity.seq > last_seq);
                    last_seq = identity.seq;
                    identities += 1;
                }
                Message::Account(account) => {
                    assert!(account.seq > last_seq);
                    last_seq = account.seq;
                    account_events += 1;
                    assert!(account.active, "{} inactive", account.did);
                }
                other => panic!("an unexpected message: {other:?}"),
            }
        }
        let total: usize = commits.values().sum();
        atlex_e2e::note(&format!(
            "subscribeRepos from cursor 0: {total} #commit checked in {:.2} s \
             (signature, rev, prevData, inversion, ops replayed on the whole tree; \
             {decoded_ops} ops decoded), {} failures; \
             {syncs} #sync, {identities} #identity, {account_events} #account",
            started.elapsed().as_secs_f64(),
            failures.len()
        ));
        assert!(
            failures.is_empty(),
            "failed commits:\n{}",
            failures.join("\n")
        );
        for account in &fixture.accounts {
            // createAccount makes the first commit; each write call one more.
            assert_eq!(
                commits.get(&account.did).copied().unwrap_or(0),
                1 + account.write_commits,
                "{}: commits",
                account.did
            );
        }
        assert_eq!(identities, fixture.accounts.len());
        assert_eq!(account_events, fixture.accounts.len());
    });
}

/// Reads `getRecord`'s CAR with `verify_record_proof`: the commit (of
/// `did`, signed with `key`), the tree's nodes from the root to the key (a
/// node the lookup needs and the proof lacks is an error), and the record
/// if there is one, which must decode as its collection's type and encode
/// back to the same bytes.
fn check_proof(
    car: &[u8],
    did: &Did,
    path: &str,
    key: &PublicKey,
) -> Result<RecordProof, BoxError> {
    let (collection, rkey) = path.split_once('/').ok_or("a path without a /")?;
    let proof = verify_record_proof(
        did,
        &Nsid::new(collection)?,
        &RecordKey::new(rkey)?,
        car,
        key,
    )?;
    if let Some(record) = &proof.record {
        check_record(collection, &record.bytes)?;
    }
    Ok(proof)
}

#[test]
fn get_record_proofs_verify_against_the_commit() {
    let fixture = fixture();
    runtime().block_on(async {
        let client = Client::new(fixture.pds.url()).unwrap();
        let resolver = resolver(fixture);
        let (mut present, mut absent) = (0, 0);
        for account in &fixture.accounts {
            let did = &account.did;
            let key = resolver.signing_key(did, false).await.unwrap();
            let head = latest_commit(&client, did).await;
            // The whole tree, for the proofs atlex makes of the same keys.
            let whole = client
                .query(GetRepo, &get_repo::Params::new(did.clone()))
                .await
                .unwrap()
                .data;
            let whole = read_repo_car(&whole).unwrap();
            assert_eq!(whole.commit.rev, head.rev);
            let tree = whole.tree().unwrap();
            let ours = |path: &str| -> Vec<Cid> {
                tree.proof(path)
                    .unwrap()
                    .into_iter()
                    .map(|b| b.cid)
                    .collect()
            };
            let get = |path: String| {
                let client = client.clone();
                let did = did.clone();
                async move {
                    let (collection, rkey) = path.split_once('/').unwrap();
                    let params = get_record::Params::builder()
                        .did(did)
                        .collection(Nsid::new(collection).unwrap())
                        .rkey(RecordKey::new(rkey).unwrap())
                        .build();
                    client.query(GetRecord, &params).await
                }
            };
            for collection in COLLECTIONS {
                for (rkey, cid) in list_records(&client, did, collection).await.unwrap() {
                    let path = format!("{collection}/{rkey}");
                    let car = get(path.clone()).await.unwrap().data;
                    let proof = check_proof(&car, did, &path, &key)
                        .unwrap_or_else(|err| panic!("{path}: {err}"));
                    assert_eq!(proof.commit.rev, head.rev, "{path}: the proof's commit");
                    let found = proof.record.map(|record| record.cid);
                    assert_eq!(found, Some(cid), "{path}: the proof's record");
                    assert_eq!(proof.nodes, ours(&path), "{path}: the proof's nodes");
                    assert_eq!(proof.extra_blocks, 0, "{path}: blocks beyond the proof");
                    present += 1;
                }
            }
            for path in &account.deleted {
                match get(path.clone()).await {
                    Ok(car) => {
                        let proof = check_proof(&car.data, did, path, &key)
                            .unwrap_or_else(|err| panic!("{path}: {err}"));
                        assert_eq!(proof.commit.rev, head.rev, "{path}: the proof's commit");
                        assert_eq!(
                            proof.record, None,
                            "{path}: deleted, yet the proof holds it"
                        );
                        assert_eq!(proof.nodes, ours(path), "{path}: the proof's nodes");
                        assert_eq!(proof.extra_blocks, 0, "{path}: blocks beyond the proof");
                        absent += 1;
                    }
                    Err(err) => panic!("{path}: {err}"),
                }
            }
        }
        atlex_e2e::note(&format!(
            "getRecord: {present} proofs of presence and {absent} of absence verified, \
             each with the nodes of atlex's proof of the key"
        ));
        assert!(present > 0 && absent > 0);
    });
}

/// The library's own verifying consumer and backfill, as a user would run
/// them against a PDS: `VerifiedStream` from cursor 0 (keys from the DID
/// documents, resync through `getRepo`) rejects nothing, and each account's
/// repository, fetched, verified and walked into typed records, holds what
/// its writes left, with no record unread.
#[test]
fn the_verifying_stream_and_backfill_accept_the_official_pds() {
    use atlex::repo::verify::{
        FirehoseVerifier, GetRepoResync, ResolverKeys, StreamError, Verified, VerifiedStream,
        fetch_repo, verify_repo,
    };

    let fixture = fixture();
    runtime().block_on(async {
        let client = Client::new(fixture.pds.url()).unwrap();
        let resolver = resolver(fixture);
        let mut latest = HashMap::new();
        for account in &fixture.accounts {
            let head = latest_commit(&client, &account.did).await;
            latest.insert(account.did.clone(), head.rev);
        }

        let params = subscribe_repos::Params::new().with_cursor(0);
        let events = client.subscribe(SubscribeRepos, &params);
        let verifier = FirehoseVerifier::new(ResolverKeys::new(resolver.clone()));
        let mut stream = VerifiedStream::new(events, verifier, GetRepoResync::new(client.clone()));
        let (mut commits, mut syncs, mut others) = (0, 0, 0);
        let mut rejected = Vec::new();
        let mut seen: HashMap<Did, Tid> = HashMap::new();
        let started = Instant::now();
        while latest.iter().any(|(did, rev)| seen.get(did) != Some(rev)) {
            let item = tokio::time::timeout(Duration::from_secs(30), stream.next())
                .await
                .expect("the stream stalled before the last commit")
                .expect("the stream ended before the last commit");
            let message = match item {
                Ok(verified) => {
                    match &verified.verified {
                        Verified::Commit(_) => commits += 1,
                        Verified::Sync(_) => syncs += 1,
                        _ => others += 1,
                    }
                    verified.message
                }
                Err(StreamError::Rejected {
                    message,
                    rejected: why,
                }) => {
                    rejected.push(why.to_string());
                    *message
                }
                Err(StreamError::Subscription(error)) => panic!("the stream: {error}"),
            };
            if let Message::Commit(commit) = &message {
                seen.insert(commit.repo.clone(), commit.rev.clone());
            }
        }
        assert_eq!(rejected, Vec::<String>::new(), "rejected messages");
        let written: usize = fixture.accounts.iter().map(|a| a.write_commits).sum();
        assert!(
            commits >= written,
            "{commits} commits verified, {written} written"
        );
        let last_seq = stream.last_seq().expect("a last sequence number");
        atlex_e2e::note(&format!(
            "VerifiedStream from cursor 0: {commits} #commit, {syncs} #sync, {others} other, \
             0 rejected, last seq {last_seq}, in {:.2} s",
            started.elapsed().as_secs_f64()
        ));

        let keys = ResolverKeys::new(resolver);
        for account in &fixture.accounts {
            let car = fetch_repo(&client, &account.did).await.unwrap();
            let repo = verify_repo(&account.did, &car, &keys).await.unwrap();
            let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
            let mut unread = Vec::new();
            for record in repo.repo().unwrap().records::<Record>() {
                match record {
                    Ok(record) => {
                        let collection = collection_of(&record.record).unwrap_or("another type");
                        assert_eq!(collection, record.collection());
                        *counts.entry(collection).or_default() += 1;
                    }
                    Err(error) => unread.push(error.to_string()),
                }
            }
            assert_eq!(unread, Vec::<String>::new(), "records not read");
            assert_eq!(counts, account.expected, "{}", account.did);
        }
    });
}
