//! The server's read endpoints, read back with atlex: `getRepo` walks into
//! exactly the records written, `getRecord`'s proofs verify against the
//! signed commit, `listRecords` pages, and the DID documents give the keys
//! the commits are signed with.

use std::collections::BTreeMap;
use std::sync::Arc;

use atlex::car::Car;
use atlex::cbor;
use atlex::client::Client;
use atlex::data::Unknown;
use atlex::identity::Resolver;
use atlex::repo::commit::Commit;
use atlex::repo::mst::{BlockStore as _, MemoryBlockStore, Mst};
use atlex::repo::repo_car::read_repo_car;
use atlex::types::{AtIdentifier, Did, Nsid, RecordKey};
use atlex_lexicons::com::atproto::repo::{delete_record, get_record, list_records, put_record};
use atlex_lexicons::com::atproto::sync::{self, get_latest_commit, get_repo};
use futures_util::TryStreamExt as _;

const ALICE: &str = "did:plc:zmromlgyy6krurta6aidtixk";
const BOB: &str = "did:plc:6b2e7gp7hmgux6z7kj4ndlxj";

/// A server with `count` records written as alice (see `write_many`).
async fn server(count: usize) -> (String, Arc<firehose::Pds>, firehose::Written) {
    let pds = Arc::new(firehose::Pds::default());
    let url = firehose::serve_local(pds.clone()).await.unwrap();
    let written = firehose::write_many(&url, "alice-token", ALICE, count)
        .await
        .unwrap();
    (url, pds, written)
}

/// Alice's repository, and the collection and record key of `path`.
fn alices(path: &str) -> (AtIdentifier, Nsid, RecordKey) {
    let (collection, rkey) = path.split_once('/').unwrap();
    (
        AtIdentifier::new(ALICE).unwrap(),
        Nsid::new(collection).unwrap(),
        RecordKey::new(rkey).unwrap(),
    )
}

/// The repository's latest commit, by `getLatestCommit`.
async fn latest(client: &Client, did: &Did) -> get_latest_commit::Output {
    client
        .query(
            get_latest_commit::GetLatestCommit,
            &get_latest_commit::Params::new(did.clone()),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn get_repo_holds_exactly_the_records_written_signed_by_the_documents_key() {
    let (url, _pds, written) = server(40).await;
    let client = Client::new(&url).unwrap();
    let did = Did::new(ALICE).unwrap();
    let car = client
        .query(get_repo::GetRepo, &get_repo::Params::new(did.clone()))
        .await
        .unwrap();
    assert_eq!(car.content_type, "application/vnd.ipld.car");
    let repo = read_repo_car(&car.data).unwrap();

    // The commit is the latest, signed with the key of alice's document.
    let latest = latest(&client, &did).await;
    assert_eq!(latest.cid, repo.commit_cid);
    assert_eq!(latest.rev, repo.commit.rev);
    let resolver = Resolver::builder().plc_directory(&url).build().unwrap();
    let key = resolver.signing_key(&did, false).await.unwrap();
    repo.commit.verify(&key).unwrap();
    let document = resolver.resolve_did(&did).await.unwrap();
    assert_eq!(document.pds(), Some(url.as_str()));

    // Every record, byte for byte, and nothing else.
    let tree = repo.tree().unwrap();
    assert_eq!(tree.check_all().unwrap(), written.records.len());
    let mut read = BTreeMap::new();
    for leaf in tree.iter() {
        let leaf = leaf.unwrap();
        let bytes = repo.store.get(&leaf.value).unwrap().unwrap();
        read.insert(leaf.key.to_string(), bytes.to_vec());
    }
    let expected: BTreeMap<String, Vec<u8>> = written
        .records
        .iter()
        .map(|(path, record)| (path.clone(), cbor::to_vec(record).unwrap()))
        .collect();
    assert_eq!(read, expected);
    // 40 writes: 20 posts (5 deleted) and 20 things.
    assert_eq!(written.records.len(), 35);
    assert_eq!(written.commits, 40 + 7 + 5);
}

#[tokio::test]
async fn get_record_proves_presence_and_absence() {
    let (url, _pds, written) = server(12).await;
    let client = Client::new(&url).unwrap();
    let did = Did::new(ALICE).unwrap();
    let resolver = Resolver::builder().plc_directory(&url).build().unwrap();
    let key = resolver.signing_key(&did, false).await.unwrap();
    let prove = async |collection: &str, rkey: &str| {
        let car = client
            .query(
                sync::get_record::GetRecord,
                &sync::get_record::Params::builder()
                    .did(did.clone())
                    .collection(Nsid::new(collection).unwrap())
                    .rkey(RecordKey::new(rkey).unwrap())
                    .build(),
            )
            .await
            .unwrap();
        // Only the CAR's blocks: the commit, the path's nodes, the record.
        let car = Car::from_slice(&car.data).unwrap();
        let commit_cid = car.roots()[0].clone();
        let commit = Commit::from_bytes(car.blocks.get(&commit_cid).unwrap()).unwrap();
        commit.verify(&key).unwrap();
        let store = MemoryBlockStore::from_car(&car);
        let found = Mst::load(&store, &commit.data)
            .unwrap()
            .get(&format!("{collection}/{rkey}"))
            .unwrap();
        let record = found.as_ref().map(|cid| {
            let bytes = car.blocks.get(cid).unwrap();
            cbor::from_slice::<Unknown>(bytes).unwrap()
        });
        (found, record, store.len())
    };

    for (path, record) in &written.records {
        let (collection, rkey) = path.split_once('/').unwrap();
        let (found, read, _) = prove(collection, rkey).await;
        assert_eq!(
            found,
            Some(atlex::types::Cid::of_dag_cbor(
                &cbor::to_vec(record).unwrap()
            ))
        );
        assert_eq!(read.as_ref(), Some(record));
    }
    let (found, read, blocks) = prove("com.example.thing", "absent").await;
    assert_eq!((found, read), (None, None));
    assert!(blocks >= 2, "the commit and at least the root node");

    // `com.atproto.repo.getRecord` gives the record itself.
    let (path, record) = written.records.iter().next().unwrap();
    let (repo, collection, rkey) = alices(path);
    let got = client
        .query(
            get_record::GetRecord,
            &get_record::Params::builder()
                .repo(repo)
                .collection(collection)
                .rkey(rkey)
                .build(),
        )
        .await
        .unwrap();
    assert_eq!(&got.value, record);
}

#[tokio::test]
async fn list_records_pages_both_ways() {
    let (url, _pds, written) = server(30).await;
    let client = Client::new(&url).unwrap();
    let repo = AtIdentifier::new(ALICE).unwrap();
    for collection in ["app.bsky.feed.post", "com.example.thing"] {
        let expected: Vec<(String, &Unknown)> = written
            .records
            .iter()
            .filter(|(path, _)| path.starts_with(&format!("{collection}/")))
            .map(|(path, record)| (format!("at://{ALICE}/{path}"), record))
            .collect();
        for reverse in [false, true] {
            let params = list_records::Params::builder()
                .repo(repo.clone())
                .collection(Nsid::new(collection).unwrap())
                .build()
                .with_limit(4)
                .with_reverse(reverse);
            let pages: Vec<list_records::Output> = client
                .pages(list_records::ListRecords, params)
                .try_collect()
                .await
                .unwrap();
            // Pages of 4 until the last; an empty one closes a collection
            // whose size is a multiple of 4.
            assert!(
                pages
                    .iter()
                    .rev()
                    .skip(1)
                    .all(|page| page.records.len() == 4)
            );
            assert_eq!(pages.len(), expected.len() / 4 + 1);
            let mut listed: Vec<(String, &Unknown)> = pages
                .iter()
                .flat_map(|page| &page.records)
                .map(|record| (record.uri.to_string(), &record.value))
                .collect();
            // Oldest (smallest key) first with `reverse`, newest first without.
            if !reverse {
                listed.reverse();
            }
            assert_eq!(listed, expected, "{collection}, reverse: {reverse}");
        }
    }
    // Another account's repository, empty; and one not on this server.
    let empty = client
        .query(
            list_records::ListRecords,
            &list_records::Params::builder()
                .repo(AtIdentifier::new(BOB).unwrap())
                .collection(Nsid::new("app.bsky.feed.post").unwrap())
                .build(),
        )
        .await
        .unwrap();
    assert!(empty.records.is_empty() && empty.cursor.is_none());
    let missing = client
        .query(
            list_records::ListRecords,
            &list_records::Params::builder()
                .repo(AtIdentifier::new("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa").unwrap())
                .collection(Nsid::new("app.bsky.feed.post").unwrap())
                .build(),
        )
        .await;
    assert!(missing.is_err());
}

#[tokio::test]
async fn a_reset_empties_the_repository_with_a_new_commit() {
    let (url, pds, _) = server(6).await;
    let client = Client::new(&url).unwrap();
    let did = Did::new(ALICE).unwrap();
    let before = latest(&client, &did).await;
    let reset = pds.reset(ALICE).unwrap();
    assert!(reset.rev > before.rev);
    assert_eq!(latest(&client, &did).await.cid, reset.cid);
    let car = client
        .query(get_repo::GetRepo, &get_repo::Params::new(did))
        .await
        .unwrap();
    let repo = read_repo_car(&car.data).unwrap();
    assert_eq!(repo.commit_cid, reset.cid);
    assert_eq!(repo.tree().unwrap().check_all().unwrap(), 0);
}

#[tokio::test]
async fn get_repo_since_a_revision_brings_a_copy_of_then_up_to_date() {
    let (url, _pds, _) = server(20).await;
    let client = Client::new(&url).unwrap();
    let did = Did::new(ALICE).unwrap();
    let full = |since: Option<atlex::types::Tid>| {
        let client = &client;
        let mut params = get_repo::Params::new(did.clone());
        params.since = since;
        async move { client.query(get_repo::GetRepo, &params).await.unwrap().data }
    };
    let old = read_repo_car(&full(None).await).unwrap();

    // A create, an update and a delete after that revision.
    firehose::write_sample(&url).await.unwrap();
    let writer = Client::builder(&url).bearer("alice-token").build().unwrap();
    let thing: Unknown =
        serde_json::from_value(serde_json::json!({"$type": "com.example.thing", "n": -1})).unwrap();
    writer
        .procedure(
            put_record::PutRecord,
            &put_record::Input::builder()
                .repo(AtIdentifier::new(ALICE).unwrap())
                .collection(Nsid::new("com.example.thing").unwrap())
                .rkey(RecordKey::new("t0001").unwrap())
                .record(thing)
                .build(),
        )
        .await
        .unwrap();
    let gone = old.tree().unwrap().iter().next().unwrap().unwrap().key;
    let (repo, collection, rkey) = alices(&gone);
    writer
        .procedure(
            delete_record::DeleteRecord,
            &delete_record::Input::builder()
                .repo(repo)
                .collection(collection)
                .rkey(rkey)
                .build(),
        )
        .await
        .unwrap();

    let now = read_repo_car(&full(None).await).unwrap();
    let diff = full(Some(old.commit.rev.clone())).await;
    let car = Car::from_slice(&diff).unwrap();
    assert_eq!(car.roots(), std::slice::from_ref(&now.commit_cid));
    assert!(car.blocks.len() < now.store.len());
    // The old repository's blocks and the diff's hold the new repository.
    for (cid, bytes) in MemoryBlockStore::from_car(&car).blocks() {
        old.store.put(&cid, bytes).unwrap();
    }
    let tree = Mst::load(&old.store, &now.commit.data).unwrap();
    let leaves: Vec<_> = tree.iter().collect::<Result<_, _>>().unwrap();
    let expected: Vec<_> = now
        .tree()
        .unwrap()
        .iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(leaves, expected);
    for leaf in &leaves {
        assert!(
            old.store.get(&leaf.value).unwrap().is_some(),
            "{}",
            leaf.key
        );
    }
}
