//! The property of the `repo_check` fuzz target, shared with the test that
//! runs it over a seed corpus and its mutations in CI
//! (`runtime/repo/tests/fuzz_corpus.rs`): trees and firehose commits from
//! arbitrary bytes never panic, and what reads is consistent:
//!
//! - the bytes as a CAR: every block that loads as a tree root walks to the
//!   end or to a clear error; a tree that walks whole is canonical (the
//!   same keys inserted into an empty tree give its root), and its diff
//!   from the empty tree creates every key;
//! - the bytes as a repository CAR: its commit and tree read or fail;
//! - the bytes as a [`CommitInput`] (a commit event in DAG-CBOR): its ops
//!   convert and its check runs or fails with a reason; a commit that
//!   passes passes again when the root it computed is given as `prevData`,
//!   and its blocks go through the CAR checks above.

use atlex_core::data::{Bytes, CidLink};
use atlex_core::types::{Cid, Did};
use atlex_repo::car::Car;
use atlex_repo::firehose::OpRef;
use atlex_repo::mst::{MemoryBlockStore, Mst, Op};
use atlex_repo::repo_car::read_repo_car;
use atlex_repo::sync::{CommitCheck, ops_of};
use serde::{Deserialize, Serialize};

/// A firehose commit as the target reads it: what `CommitCheck` needs.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommitInput {
    /// The repository's DID.
    pub repo: String,
    /// The commit's CID.
    pub commit: CidLink,
    /// The tree's root before the commit.
    pub prev_data: Option<CidLink>,
    /// The ops.
    pub ops: Vec<InputOp>,
    /// The CAR of the commit's blocks.
    pub blocks: Bytes,
}

/// One op of a [`CommitInput`], as an event lists it.
#[derive(Serialize, Deserialize)]
pub(crate) struct InputOp {
    /// `create`, `update`, `delete` or anything.
    pub action: String,
    /// The record's path.
    pub path: String,
    /// The new record's CID.
    pub cid: Option<CidLink>,
    /// The previous record's CID.
    pub prev: Option<CidLink>,
}

/// The most blocks tried as tree roots, and the most keys rebuilt, per
/// input: the work stays bounded whatever the input's size.
const MAX_ROOTS: usize = 64;
const MAX_REBUILT: usize = 512;

/// Checks every property on `data`, panicking when one does not hold.
pub(crate) fn repo_check(data: &[u8]) {
    car_trees(data);
    if let Ok(repo) = read_repo_car(data)
        && let Ok(tree) = repo.tree()
    {
        let _ = tree.check_all();
    }
    if let Ok(input) = atlex_core::cbor::from_slice::<CommitInput>(data) {
        commit(&input);
    }
}

fn car_trees(bytes: &[u8]) {
    let Ok(car) = Car::from_slice(bytes) else {
        return;
    };
    let store = MemoryBlockStore::from_car(&car);
    // In CID order: the same blocks are tried on every run.
    let mut roots: Vec<Cid> = car.blocks.iter().map(|(cid, _)| cid).collect();
    roots.sort();
    for root in roots.into_iter().take(MAX_ROOTS) {
        let Ok(tree) = Mst::load(&store, &root) else {
            continue;
        };
        let Ok(leaves) = tree.iter().collect::<Result<Vec<_>, _>>() else {
            continue;
        };
        if leaves.len() > MAX_REBUILT {
            continue;
        }
        let fresh = MemoryBlockStore::new();
        let mut rebuilt = Mst::new(&fresh);
        for leaf in &leaves {
            rebuilt = rebuilt
                .insert(&leaf.key, leaf.value.clone())
                .expect("a key of a tree that reads inserts");
        }
        assert_eq!(
            rebuilt.root().unwrap(),
            root,
            "a tree that reads is canonical"
        );
        let diff = Mst::new(&fresh).diff(&tree).expect("the tree reads whole");
        assert_eq!(diff.ops.len(), leaves.len());
        assert!(diff.ops.iter().all(|op| matches!(op, Op::Create { .. })));
    }
}

fn commit(input: &CommitInput) {
    car_trees(&input.blocks.0);
    let Ok(repo) = Did::new(input.repo.as_str()) else {
        return;
    };
    let refs = input.ops.iter().map(|op| OpRef {
        action: &op.action,
        path: &op.path,
        cid: op.cid.as_ref().map(|link| &link.0),
        prev: op.prev.as_ref().map(|link| &link.0),
    });
    let Ok(ops) = ops_of(refs) else {
        return;
    };
    let commit: &Cid = &input.commit.0;
    let mut check = CommitCheck::new(&repo, commit, &input.blocks.0, &ops);
    if let Some(prev) = &input.prev_data {
        check = check.prev_data(&prev.0);
    }
    if let Ok(checked) = check.run() {
        let again = CommitCheck::new(&repo, commit, &input.blocks.0, &ops)
            .prev_data(&checked.prev_data)
            .run()
            .expect("a commit that passes passes again");
        assert_eq!(again, checked);
    }
}
