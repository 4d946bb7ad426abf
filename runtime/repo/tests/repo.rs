//! `Repo`: typed reads and writes over a block store. Every commit a write
//! makes checks as a firehose consumer checks it (sync 1.1, signature
//! included); the repository written as a CAR and read back holds every
//! record; a repository built by `Repo` from the writes of the TypeScript
//! fixture has its roots and commits.

use std::collections::BTreeMap;
use std::io::BufReader;

use atlex_core::data::{Unknown, Value};
use atlex_core::types::{AtUri, Cid, Datetime, Did, Tid};
use atlex_identity::crypto::{Curve, SigningKey};
use atlex_lexicons::Record;
use atlex_lexicons::app::bsky::feed::like::Like;
use atlex_lexicons::app::bsky::feed::post::Post;
use atlex_lexicons::app::bsky::graph::follow::Follow;
use atlex_lexicons::com::atproto::repo::strong_ref::StrongRef;
use atlex_repo::car::{CarError, CarWriter};
use atlex_repo::mst::{BlockStore, MemoryBlockStore, MstError, Op};
use atlex_repo::repo::{CommitData, Repo, RepoError, Write};
use atlex_repo::repo_car::{RepoCarError, import_repo_car, read_repo_car, write_repo_car};
use atlex_repo::sync::CommitCheck;

mod common;
use common::{FixtureOp, fixture};

fn did() -> Did {
    Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz").unwrap()
}

fn key() -> SigningKey {
    SigningKey::from_hex(
        Curve::K256,
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
    )
    .unwrap()
}

/// A small seeded generator (xorshift), so the writes are the same each run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn post(n: usize) -> Post {
    Post::builder()
        .text(format!("post {n}"))
        .created_at(Datetime::now())
        .build()
}

/// Checks a commit as a consumer holding the previous state would.
fn check(data: &CommitData, key: &SigningKey) {
    let car = data.to_car().unwrap();
    let mut check = CommitCheck::new(&data.commit.did, &data.cid, &car, &data.ops);
    let prev_data = data.prev_data.clone().unwrap();
    check = check.prev_data(&prev_data);
    let since = data.since.clone().unwrap();
    check = check.after_rev(&since);
    let public = key.public_key();
    let checked = check
        .signed_by(&public)
        .run()
        .unwrap_or_else(|err| panic!("commit {}: {err}", data.rev));
    assert_eq!(checked.prev_data, prev_data);
    assert_eq!(checked.commit, data.commit);
    assert!(data.rev > since);
    assert_eq!(data.rev, data.commit.rev);
    assert_eq!(data.blocks[0].cid, data.cid);
}

#[test]
fn hundreds_of_writes_each_check_and_read_back_from_a_car() {
    let store = MemoryBlockStore::new();
    let key = key();
    let (mut repo, first) = Repo::create_empty(&store, did(), key.clone()).unwrap();
    assert_eq!(
        (first.since, first.prev_data, first.ops.len()),
        (None, None, 0)
    );
    assert!(repo.tree().is_empty());

    // What the repository should hold: path → record block.
    let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut rng = Rng(0x61746c78);
    let mut commits = Vec::new();
    let record_of = |data: &CommitData, path: &str| -> Vec<u8> {
        let cid = data.ops.iter().find(|op| op.path() == path).unwrap().cid();
        let cid = cid.unwrap();
        data.blocks
            .iter()
            .find(|block| &block.cid == cid)
            .unwrap()
            .data
            .to_vec()
    };
    for n in 0..400 {
        let paths: Vec<String> = model.keys().cloned().collect();
        let roll = rng.below(100);
        let data = if roll < 12 && !paths.is_empty() {
            // An update of a post, or of a note by raw data.
            let path = &paths[rng.below(paths.len())];
            let (collection, rkey) = path.split_once('/').unwrap();
            let data = match collection {
                "app.bsky.feed.post" => repo.put(rkey, &post(n)).unwrap(),
                "com.example.note" => {
                    let note = serde_json::json!({"$type": collection, "text": format!("v{n}")});
                    let note = Value::from_json(note).unwrap();
                    let write = Write::update_data(collection, rkey, &note).unwrap();
                    repo.apply_writes(&[write]).unwrap()
                }
                _ => repo.delete(collection, rkey).unwrap(),
            };
            match &data.ops[0] {
                Op::Update { path, .. } => {
                    model.insert(path.clone(), record_of(&data, path));
                }
                Op::Delete { path, .. } => {
                    model.remove(path);
                }
                Op::Create { .. } => panic!("an update or a delete"),
            }
            data
        } else if roll < 22 && !paths.is_empty() {
            let path = &paths[rng.below(paths.len())];
            let (collection, rkey) = path.split_once('/').unwrap();
            let data = repo.delete(collection, rkey).unwrap();
            model.remove(path);
            data
        } else if roll < 30 {
            // Several creates in one commit, in three collections.
            let subject = StrongRef::builder()
                .uri(
                    AtUri::new(format!("at://{}/app.bsky.feed.post/3jzfcijpj2z2a", did())).unwrap(),
                )
                .cid(atlex_core::cbor::cid_of(&n).unwrap())
                .build();
            let like = Like::builder()
                .subject(subject)
                .created_at(Datetime::now())
                .build();
            let follow = Follow::builder()
                .subject(Did::new(format!("did:plc:follow{n:020}")).unwrap())
                .created_at(Datetime::now())
                .build();
            let note =
                serde_json::json!({"$type": "com.example.note", "text": format!("note {n}")});
            let writes = [
                Write::create(&like).unwrap(),
                Write::create(&follow).unwrap(),
                Write::create_data("com.example.note", None, &Value::from_json(note).unwrap())
                    .unwrap(),
                Write::create(&post(n)).unwrap(),
            ];
            let data = repo.apply_writes(&writes).unwrap();
            assert_eq!(data.ops.len(), 4);
            for op in &data.ops {
                model.insert(op.path().to_owned(), record_of(&data, op.path()));
            }
            data
        } else {
            let data = repo.create(&post(n)).unwrap();
            let path = data.ops[0].path().to_owned();
            model.insert(path.clone(), record_of(&data, &path));
            data
        };
        check(&data, &key);
        assert_eq!(repo.commit_cid(), &data.cid);
        commits.push(data);
    }
    assert_eq!(commits.len(), 400);
    let collections: std::collections::BTreeSet<&str> = model
        .keys()
        .map(|path| path.split_once('/').unwrap().0)
        .collect();
    assert_eq!(collections.len(), 4, "{collections:?}");
    let kinds = |kind: fn(&Op) -> bool| {
        commits
            .iter()
            .flat_map(|data| &data.ops)
            .filter(|op| kind(op))
            .count()
    };
    assert!(kinds(|op| matches!(op, Op::Update { .. })) > 20);
    assert!(kinds(|op| matches!(op, Op::Delete { .. })) > 20);

    // Every record reads back typed, by `get`, `get_raw`, `records`, `list`.
    let read_all = |repo: &Repo<&MemoryBlockStore>| {
        let records: Vec<_> = repo.records::<Record>().collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), model.len());
        for (record, (path, bytes)) in records.iter().zip(&model) {
            assert_eq!(&*record.path, path);
            assert_eq!(record.cid, Cid::of_dag_cbor(bytes));
            let (cid, raw) = repo
                .get_raw(record.collection(), record.rkey())
                .unwrap()
                .unwrap();
            assert_eq!((&cid, &raw[..]), (&record.cid, &bytes[..]));
            match (record.collection(), &record.record) {
                ("app.bsky.feed.post", Record::AppBskyFeedPost(post)) => {
                    assert_eq!(
                        repo.get::<Post>(record.rkey()).unwrap().as_ref(),
                        Some(&**post)
                    );
                }
                ("app.bsky.feed.like", Record::AppBskyFeedLike(_))
                | ("app.bsky.graph.follow", Record::AppBskyGraphFollow(_))
                | ("com.example.note", Record::Unknown(_)) => {}
                (collection, record) => panic!("{collection}: {record:?}"),
            }
        }
        let posts: Vec<_> = repo
            .list::<Post>("app.bsky.feed.post", ..)
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<_> = model
            .keys()
            .filter(|path| path.starts_with("app.bsky.feed.post/"))
            .collect();
        assert_eq!(posts.len(), expected.len());
        // A range of keys: from the third post's key to the tenth's.
        let rkey = |i: usize| expected[i].split_once('/').unwrap().1;
        let some: Vec<_> = repo
            .list::<Unknown>("app.bsky.feed.post", rkey(2)..rkey(9))
            .map(|record| record.unwrap().path.to_string())
            .collect();
        assert_eq!(some.iter().collect::<Vec<_>>(), expected[2..9].to_vec());
        let some = repo
            .list::<Unknown>("app.bsky.feed.post", rkey(2)..=rkey(9))
            .count();
        assert_eq!(some, 8);
    };
    read_all(&repo);

    // Written as a CAR, read back and opened in another store.
    let car = repo.write_car(Vec::new()).unwrap();
    assert_eq!(
        car,
        write_repo_car(&store, repo.commit_cid(), Vec::new()).unwrap()
    );
    let read = read_repo_car(&car).unwrap();
    assert_eq!(&read.commit_cid, repo.commit_cid());
    read.commit.verify(&key.public_key()).unwrap();
    // Its store holds exactly the CAR's blocks, each under its CID.
    let mut held: Vec<_> = read
        .store
        .blocks()
        .into_iter()
        .map(|(cid, bytes)| (cid, bytes.to_vec()))
        .collect();
    let mut in_car: Vec<_> = atlex_repo::car::Car::from_slice(&car)
        .unwrap()
        .blocks
        .iter()
        .map(|(cid, bytes)| (cid, bytes.to_vec()))
        .collect();
    held.sort();
    in_car.sort();
    assert_eq!(held, in_car);
    assert!(held.iter().all(|(cid, _)| read.store.has(cid).unwrap()));
    let reopened = Repo::open(&read.store, &read.commit_cid).unwrap();
    assert_eq!(reopened.commit(), repo.commit());
    read_all(&reopened);

    // The reopened repository writes on, with its key.
    let mut reopened = Repo::open(&store, repo.commit_cid())
        .unwrap()
        .with_signing_key(key.clone());
    let data = reopened.create(&post(1000)).unwrap();
    check(&data, &key);
}

#[test]
fn a_failed_write_commits_nothing() {
    let store = MemoryBlockStore::new();
    let (mut repo, _) = Repo::create_empty(&store, did(), key()).unwrap();
    repo.put("3jzfcijpj2z2a", &post(1)).unwrap();
    let head = repo.commit_cid().clone();
    let blocks = store.len();

    let create = Write::create_at("3jzfcijpj2z2b", &post(2)).unwrap();
    let again = Write::create_at("3jzfcijpj2z2a", &post(3)).unwrap();
    assert!(matches!(
        repo.apply_writes(&[create.clone(), again]),
        Err(RepoError::Tree(MstError::KeyExists(_)))
    ));
    assert!(matches!(
        repo.apply_writes(&[create.clone(), create.clone()]),
        Err(RepoError::Tree(MstError::KeyExists(_)))
    ));
    let delete = Write::delete("app.bsky.feed.post", "3jzfcijpj2z2b").unwrap();
    assert!(matches!(
        repo.apply_writes(&[create.clone(), delete]),
        Err(RepoError::DuplicatePath(_))
    ));
    assert!(matches!(
        repo.delete("app.bsky.feed.post", "3jzfcijpj2zzz"),
        Err(RepoError::Tree(MstError::KeyNotFound(_)))
    ));
    assert!(matches!(
        repo.apply_writes(&[Write::update("3jzfcijpj2zzz", &post(4)).unwrap()]),
        Err(RepoError::Tree(MstError::KeyNotFound(_)))
    ));
    let old = repo.rev().clone();
    assert!(matches!(
        repo.apply_writes_at(std::slice::from_ref(&create), old),
        Err(RepoError::RevNotAfter { .. })
    ));
    assert_eq!(repo.commit_cid(), &head);
    assert_eq!(store.len(), blocks);
    assert!(repo.get::<Post>("3jzfcijpj2z2b").unwrap().is_none());

    // Keys and records the collection does not allow.
    assert!(matches!(
        Write::create_at("not a key", &post(5)),
        Err(RepoError::Name { .. })
    ));
    let note = Value::from_json(serde_json::json!({"$type": "com.example.other", "text": "x"}));
    assert!(matches!(
        Write::create_data("com.example.note", None, &note.unwrap()),
        Err(RepoError::TypeNotCollection { .. })
    ));
    assert!(matches!(
        Write::create_data("com.example.note", None, &"text"),
        Err(RepoError::TypeNotCollection { found: None, .. })
    ));

    // Opened without its key, a repository reads but does not write.
    let mut read_only = Repo::open(&store, &head).unwrap();
    assert!(read_only.get::<Post>("3jzfcijpj2z2a").unwrap().is_some());
    assert!(matches!(
        read_only.create(&post(6)),
        Err(RepoError::NoSigningKey)
    ));
    assert!(matches!(
        Repo::open(&store, &atlex_core::cbor::cid_of(&"no commit").unwrap()),
        Err(RepoError::MissingCommit(_))
    ));
}

#[test]
fn a_bad_record_is_an_error_for_that_record_only() {
    let store = MemoryBlockStore::new();
    let (mut repo, _) = Repo::create_empty(&store, did(), key()).unwrap();
    for (n, last) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        repo.put(&format!("3jzfcijpj2z2{last}"), &post(n)).unwrap();
    }
    // A record whose `$type` says post but whose fields are not one's, and
    // a record the store lacks.
    let bad = Value::from_json(serde_json::json!({"$type": "app.bsky.feed.post", "text": 1}));
    let write = Write::update_data("app.bsky.feed.post", "3jzfcijpj2z2b", &bad.unwrap()).unwrap();
    repo.apply_writes(&[write]).unwrap();
    let missing = atlex_core::cbor::cid_of(&"not stored").unwrap();
    let tree = repo
        .tree()
        .insert("app.bsky.feed.post/3jzfcijpj2z2dz", missing)
        .unwrap();
    let tree_root = tree.write().unwrap();
    let commit = atlex_repo::commit::UnsignedCommit::new(did(), tree_root, Tid::next().unwrap())
        .sign(&key());
    store.put(&commit.cid(), commit.to_bytes().into()).unwrap();
    let repo = Repo::open(&store, &commit.cid()).unwrap();

    let results: Vec<_> = repo.records::<Record>().collect();
    assert_eq!(results.len(), 6);
    let errors: Vec<String> = results
        .iter()
        .filter_map(|result| result.as_ref().err().map(|err| err.to_string()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        matches!(results[1], Err(RepoError::Decode { ref path, .. }) if path == "app.bsky.feed.post/3jzfcijpj2z2b")
    );
    assert!(matches!(results[4], Err(RepoError::MissingRecord { .. })));
    assert!(matches!(
        repo.get::<Post>("3jzfcijpj2z2b"),
        Err(RepoError::Decode { .. })
    ));
    // As data, the first bad record reads.
    let unknown: Vec<_> = repo.records::<Unknown>().collect();
    assert_eq!(unknown.iter().filter(|result| result.is_err()).count(), 1);
}

/// The record the fixture's script writes: its
/// `record(collection, n, version)`.
fn fixture_record(collection: &str, n: usize, version: usize) -> Value {
    let (h, m, s) = (n / 3600, n / 60 % 60, n % 60);
    Value::from_json(serde_json::json!({
        "$type": collection,
        "text": format!("record {n}, version {version}"),
        "createdAt": format!("2024-01-01T{h:02}:{m:02}:{s:02}.000Z"),
    }))
    .unwrap()
}

#[test]
fn the_typescript_writes_give_the_typescript_repository() {
    let fixture = fixture();
    let key = SigningKey::from_hex(Curve::K256, &fixture.signing_key).unwrap();
    let store = MemoryBlockStore::new();
    let first = Tid::from_parts(fixture.commits[0].rev.timestamp_micros() - 1, 0).unwrap();
    let (mut repo, _) =
        Repo::create_empty_at(&store, fixture.did.clone(), key.clone(), first).unwrap();
    // Each live record's number and version, as the script counts them.
    let mut live: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut created = 0;
    let firehose: std::collections::HashMap<Cid, Vec<u8>> = common::firehose_commits()
        .into_iter()
        .map(|event| (event.commit.clone(), event.blocks()))
        .collect();
    let mut events = 0;
    for (i, commit) in fixture.commits.iter().enumerate() {
        let writes: Vec<Write> = commit
            .ops
            .iter()
            .map(|op| {
                let (collection, rkey) = op.path.split_once('/').unwrap();
                match op.action.as_str() {
                    "create" => {
                        created += 1;
                        live.insert(op.path.clone(), (created, 0));
                        let record = fixture_record(collection, created, 0);
                        Write::create_data(collection, Some(rkey), &record).unwrap()
                    }
                    "update" => {
                        let (n, version) = live.get_mut(&op.path).unwrap();
                        *version += 1;
                        let record = fixture_record(collection, *n, *version);
                        Write::update_data(collection, rkey, &record).unwrap()
                    }
                    _ => {
                        live.remove(&op.path);
                        Write::delete(collection, rkey).unwrap()
                    }
                }
            })
            .collect();
        let data = repo.apply_writes_at(&writes, commit.rev.clone()).unwrap();
        let ops: Vec<Op> = commit.ops.iter().map(FixtureOp::op).collect();
        assert_eq!(data.ops, ops, "ops of commit {i}");
        assert_eq!(data.commit.data, commit.data, "root after commit {i}");
        assert_eq!(data.cid, commit.commit, "commit {i}");
        check(&data, &key);
        // The blocks of the event are those the TypeScript firehose carries.
        if let Some(event) = firehose.get(&data.cid) {
            let theirs = atlex_repo::car::Car::from_slice(event).unwrap();
            let mut theirs: Vec<Cid> = theirs.blocks.iter().map(|(cid, _)| cid).collect();
            let mut ours: Vec<Cid> = data.blocks.iter().map(|block| block.cid.clone()).collect();
            theirs.sort();
            ours.sort();
            assert_eq!(ours, theirs, "blocks of commit {i}");
            events += 1;
        }
    }
    assert_eq!(events, firehose.len());
    let records: Vec<(String, Cid)> = repo
        .records::<Unknown>()
        .map(|record| record.map(|record| (record.path.to_string(), record.cid)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records, fixture.records);
    // The whole repository is the TypeScript CAR's blocks.
    let ours = read_repo_car(&repo.write_car(Vec::new()).unwrap()).unwrap();
    let theirs = atlex_repo::car::Car::from_slice(include_bytes!("fixtures/ts_repo.car")).unwrap();
    assert_eq!(ours.store.len(), theirs.blocks.len());
    for (cid, bytes) in theirs.blocks.iter() {
        assert_eq!(
            ours.store.get(&cid).unwrap().as_deref(),
            Some(bytes),
            "{cid}"
        );
    }
}

/// A repository of `n` posts written as a CAR, and its records.
fn repo_car(n: usize) -> (Vec<u8>, Vec<(String, Cid)>) {
    let store = MemoryBlockStore::new();
    let (mut repo, _) = Repo::create_empty(&store, did(), key()).unwrap();
    let writes: Vec<Write> = (0..n).map(|n| Write::create(&post(n)).unwrap()).collect();
    repo.apply_writes(&writes).unwrap();
    let records = repo
        .records::<Unknown>()
        .map(|record| record.map(|record| (record.path.to_string(), record.cid)))
        .collect::<Result<_, _>>()
        .unwrap();
    (repo.write_car(Vec::new()).unwrap(), records)
}

#[test]
fn a_car_streams_into_a_store() {
    let (car, records) = repo_car(300);
    let store = MemoryBlockStore::new();
    let imported = import_repo_car(BufReader::new(&car[..]), &store).unwrap();
    let read = read_repo_car(&car).unwrap();
    assert_eq!(imported.commit_cid, read.commit_cid);
    assert_eq!(imported.commit, read.commit);
    assert_eq!(imported.blocks as usize, read.store.len());
    assert_eq!(store.len(), read.store.len());
    let repo = Repo::open(&store, &imported.commit_cid).unwrap();
    assert_eq!(repo.tree().check_all().unwrap(), 300);
    let walked: Vec<(String, Cid)> = repo
        .records::<Record>()
        .map(|record| record.map(|record| (record.path.to_string(), record.cid)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(walked, records);
}

#[test]
fn a_bad_car_stream_is_a_clear_error() {
    let (car, _) = repo_car(20);
    let import = |bytes: &[u8]| import_repo_car(bytes, &MemoryBlockStore::new());

    // Cut inside the last block, and inside the header.
    assert!(matches!(
        import(&car[..car.len() - 10]),
        Err(RepoCarError::Car(CarError::Truncated { what: "block", .. }))
    ));
    assert!(matches!(
        import(&car[..5]),
        Err(RepoCarError::Car(CarError::Truncated {
            what: "header",
            ..
        }))
    ));
    assert!(matches!(
        import(&[]),
        Err(RepoCarError::Car(CarError::Truncated {
            what: "header",
            ..
        }))
    ));

    // A byte changed in the last block: it no longer hashes to its CID.
    let mut changed = car.clone();
    *changed.last_mut().unwrap() ^= 1;
    assert!(matches!(
        import(&changed),
        Err(RepoCarError::Car(CarError::Verify(_)))
    ));

    // Lengths of a terabyte, followed by endless input: refused before a
    // byte of it is read or reserved.
    let huge = {
        let mut prefix = [0; 10];
        unsigned_varint::encode::u64(1 << 40, &mut prefix).to_vec()
    };
    let header_len = car[0] as usize + 1; // a header under 128 bytes
    let endless = |head: &[u8]| {
        let head = head.to_vec();
        std::io::Read::chain(std::io::Cursor::new(head), std::io::repeat(0))
    };
    let mut block = car[..header_len].to_vec();
    block.extend_from_slice(&huge);
    assert!(matches!(
        import_repo_car(endless(&block), &MemoryBlockStore::new()),
        Err(RepoCarError::Car(CarError::TooLarge { what: "block", claimed, .. })) if claimed == 1 << 40
    ));
    assert!(matches!(
        import_repo_car(endless(&huge), &MemoryBlockStore::new()),
        Err(RepoCarError::Car(CarError::TooLarge { what: "header", .. }))
    ));
    // A length prefix that never ends.
    assert!(matches!(
        import_repo_car(endless(&[0xff]), &MemoryBlockStore::new()),
        Err(RepoCarError::Car(CarError::Length { .. }))
    ));

    // A CAR without its commit block.
    let mut writer =
        CarWriter::with_roots(Vec::new(), &[atlex_core::cbor::cid_of(&1).unwrap()]).unwrap();
    writer.write_value(&2).unwrap();
    assert!(matches!(
        import(&writer.finish().unwrap()),
        Err(RepoCarError::MissingBlock { what: "commit", .. })
    ));
}
