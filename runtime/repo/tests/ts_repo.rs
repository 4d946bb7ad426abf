//! A repository built by the official TypeScript library (`@atproto/repo`,
//! tests/fixtures/ts/make_repo_fixture.mjs): 316 commits of creates, updates
//! and deletes over four collections. atlex reads its CAR, reproduces every
//! root and commit from the same writes with the same key, block for block,
//! and checks the commits a firehose carries by inverting them.

use std::collections::BTreeMap;

use atlex_core::data::Value;
use atlex_core::types::Cid;
use atlex_identity::crypto::{Curve, PublicKey, SigningKey};
use atlex_repo::car::Car;
use atlex_repo::commit::UnsignedCommit;
use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst, Op};
use atlex_repo::repo_car::{read_repo_car, write_repo_car};
use atlex_repo::sync::CommitCheck;

mod common;
use common::{FixtureOp, firehose_commits, fixture};

const CAR: &[u8] = include_bytes!("fixtures/ts_repo.car");

/// Applies `op` to `tree`.
fn apply<S: BlockStore + Clone>(tree: &Mst<S>, op: &Op) -> Mst<S> {
    match op {
        Op::Create { path, cid } => tree.insert(path, cid.clone()),
        Op::Update { path, cid, .. } => tree.update(path, cid.clone()),
        Op::Delete { path, .. } => tree.delete(path),
    }
    .unwrap_or_else(|err| panic!("{}: {err}", op.path()))
}

#[test]
fn reads_the_repository_and_every_record() {
    let fixture = fixture();
    let repo = read_repo_car(CAR).unwrap();
    let head = fixture.commits.last().unwrap();
    assert_eq!(repo.commit_cid, head.commit);
    assert_eq!(repo.commit.data, head.data);
    assert_eq!(repo.commit.rev, head.rev);
    let key = PublicKey::from_did_key(&fixture.public_key).unwrap();
    repo.commit.verify(&key).unwrap();

    let tree = repo.tree().unwrap();
    assert_eq!(tree.check_all().unwrap(), fixture.records.len());
    let leaves: Vec<(String, Cid)> = tree
        .iter()
        .map(|leaf| leaf.map(|leaf| (leaf.key.to_string(), leaf.value)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(leaves, fixture.records);

    let car = Car::from_slice(CAR).unwrap();
    for (path, cid) in &fixture.records {
        assert_eq!(tree.get(path).unwrap().as_ref(), Some(cid), "{path}");
        let bytes = car.blocks.get(cid).unwrap();
        let record: Value = atlex_core::cbor::from_slice(bytes).unwrap();
        assert_eq!(atlex_core::cbor::to_vec(&record).unwrap(), bytes, "{path}");
    }

    // One collection, in order.
    let notes: Vec<_> = tree
        .collection("com.example.note")
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<_> = fixture
        .records
        .iter()
        .filter(|(path, _)| path.starts_with("com.example.note/"))
        .collect();
    assert!(notes.len() > 100);
    assert_eq!(notes.len(), expected.len());
    for (leaf, (path, cid)) in notes.iter().zip(expected) {
        assert_eq!((&*leaf.key, &leaf.value), (path.as_str(), cid));
    }
}

#[test]
fn rebuilds_every_root_and_commit_block_for_block() {
    let fixture = fixture();
    let key = SigningKey::from_hex(Curve::K256, &fixture.signing_key).unwrap();
    assert_eq!(key.public_key().to_did_key(), fixture.public_key);
    let store = MemoryBlockStore::new();
    let mut tree = Mst::new(&store);
    let mut head = None;
    let firehose: std::collections::HashMap<Cid, Vec<u8>> = firehose_commits()
        .into_iter()
        .map(|event| (event.commit.clone(), event.blocks()))
        .collect();
    let mut checked = 0;
    for (n, commit) in fixture.commits.iter().enumerate() {
        let before = tree.clone();
        let ops: Vec<Op> = commit.ops.iter().map(FixtureOp::op).collect();
        for op in &ops {
            tree = apply(&tree, op);
        }
        assert_eq!(tree.root().unwrap(), commit.data, "root after commit {n}");

        // The diff of the two trees is the commit's ops, in path order; its
        // new nodes are those the firehose carries.
        let mut sorted = ops.clone();
        sorted.sort_by(|a, b| a.path().cmp(b.path()));
        let diff = before.diff(&tree).unwrap();
        assert_eq!(diff.ops, sorted, "diff of commit {n}");
        if let Some(blocks) = firehose.get(&commit.commit) {
            let car = Car::from_slice(blocks).unwrap();
            assert!(!diff.created_nodes.is_empty());
            for block in &diff.created_nodes {
                assert_eq!(
                    car.blocks.get(&block.cid),
                    Some(&block.data[..]),
                    "commit {n}"
                );
            }
            checked += 1;
        }
        let kept: std::collections::HashSet<Cid> = tree
            .node_blocks()
            .unwrap()
            .into_iter()
            .map(|block| block.cid)
            .collect();
        let had: std::collections::HashSet<Cid> = before
            .node_blocks()
            .unwrap()
            .into_iter()
            .map(|block| block.cid)
            .collect();
        let mut created: Vec<&Cid> = kept.difference(&had).collect();
        let mut deleted: Vec<&Cid> = had.difference(&kept).collect();
        created.sort();
        deleted.sort();
        let mut listed: Vec<&Cid> = diff.created_nodes.iter().map(|block| &block.cid).collect();
        listed.sort();
        assert_eq!(listed, created, "nodes created by commit {n}");
        assert_eq!(
            diff.deleted_nodes.iter().collect::<Vec<_>>(),
            deleted,
            "nodes deleted by commit {n}"
        );

        let data = tree.write().unwrap();
        let signed = UnsignedCommit::new(fixture.did.clone(), data, commit.rev.clone()).sign(&key);
        assert_eq!(signed.cid(), commit.commit, "commit {n}");
        store.put(&signed.cid(), signed.to_bytes().into()).unwrap();
        head = Some(signed.cid());
    }

    assert_eq!(checked, firehose.len());

    // Every node and the commit are the TypeScript blocks, byte for byte.
    let car = Car::from_slice(CAR).unwrap();
    let ours: BTreeMap<Cid, Vec<u8>> = tree
        .node_blocks()
        .unwrap()
        .into_iter()
        .map(|block| (block.cid, block.data.into_owned()))
        .collect();
    for (cid, bytes) in &ours {
        assert_eq!(car.blocks.get(cid), Some(&bytes[..]), "node {cid}");
    }
    let head = head.unwrap();
    assert_eq!(
        car.blocks.get(&head).unwrap(),
        &store.get(&head).unwrap().unwrap()[..]
    );
    // The CAR holds the commit, the nodes and the records: nothing else.
    let records: std::collections::BTreeSet<&Cid> =
        fixture.records.iter().map(|(_, cid)| cid).collect();
    assert_eq!(car.blocks.len(), 1 + ours.len() + records.len());

    // Written by atlex from the same blocks, the CAR holds the same blocks
    // (in another order: atlex writes each node before its subtrees and
    // records, for readers that walk in one pass).
    for cid in records {
        let bytes = car.blocks.get(cid).unwrap().to_vec();
        store.put(cid, bytes.into()).unwrap();
    }
    let written = write_repo_car(&store, &head, Vec::new()).unwrap();
    let written = Car::from_slice(&written).unwrap();
    assert_eq!(written.roots(), car.roots());
    assert_eq!(written.blocks.len(), car.blocks.len());
    for (cid, bytes) in car.blocks.iter() {
        assert!(written.blocks.get(&cid) == Some(bytes), "block {cid}");
    }
}

#[test]
fn firehose_commits_invert_to_their_previous_root() {
    let fixture = fixture();
    let key = PublicKey::from_did_key(&fixture.public_key).unwrap();
    let commits = firehose_commits();
    assert_eq!(commits.len(), 10);
    for event in commits {
        let blocks = event.blocks();
        let ops: Vec<Op> = event.ops.iter().map(FixtureOp::op).collect();
        let checked = CommitCheck::new(&fixture.did, &event.commit, &blocks, &ops)
            .prev_data(&event.prev_data)
            .signed_by(&key)
            .run()
            .unwrap_or_else(|err| panic!("{}: {err}", event.commit));
        assert_eq!(checked.prev_data, event.prev_data);
        assert_eq!(checked.commit.cid(), event.commit);
    }
}
