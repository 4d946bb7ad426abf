//! The atproto interop vectors for the MST: key depths, shared prefixes,
//! and the commit proofs of the inductive firehose (trees before and after
//! a commit, the blocks the commit must carry, the inversion back).

use atlex_core::types::Cid;
use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst, common_prefix_len, key_depth};
use serde::Deserialize;

#[derive(Deserialize)]
struct KeyHeight {
    key: String,
    height: u8,
}

#[test]
fn key_heights() {
    let vectors: Vec<KeyHeight> =
        serde_json::from_str(include_str!("interop/key_heights.json")).unwrap();
    assert_eq!(vectors.len(), 9);
    for vector in vectors {
        assert_eq!(
            key_depth(vector.key.as_bytes()),
            vector.height,
            "{:?}",
            vector.key
        );
    }
}

#[test]
fn example_keys_have_the_depth_they_name() {
    let keys = include_str!("interop/example_keys.txt");
    let mut count = 0;
    for key in keys.lines().filter(|line| !line.is_empty()) {
        // `A3/578971`: the digit after the letter is the depth.
        let depth = key[1..2].parse::<u8>().unwrap();
        assert_eq!(key_depth(key.as_bytes()), depth, "{key}");
        count += 1;
    }
    assert_eq!(count, 156);
}

#[derive(Deserialize)]
struct CommonPrefix {
    left: String,
    right: String,
    len: usize,
}

#[test]
fn common_prefixes() {
    let vectors: Vec<CommonPrefix> =
        serde_json::from_str(include_str!("interop/common_prefix.json")).unwrap();
    assert_eq!(vectors.len(), 13);
    for vector in vectors {
        assert_eq!(
            common_prefix_len(vector.left.as_bytes(), vector.right.as_bytes()),
            vector.len,
            "{:?} {:?}",
            vector.left,
            vector.right
        );
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommitProof {
    comment: String,
    leaf_value: Cid,
    keys: Vec<String>,
    adds: Vec<String>,
    dels: Vec<String>,
    root_before_commit: Cid,
    root_after_commit: Cid,
    blocks_in_proof: Vec<Cid>,
}

fn commit_proofs() -> Vec<CommitProof> {
    serde_json::from_str(include_str!("interop/commit-proof-fixtures.json")).unwrap()
}

/// Every order of `items`.
fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            all.push(tail);
        }
    }
    all
}

#[derive(Clone, Debug)]
enum Change {
    Add(String),
    Delete(String),
}

#[test]
fn commit_proof_fixtures() {
    let fixtures = commit_proofs();
    assert_eq!(fixtures.len(), 6);
    for fixture in fixtures {
        let name = &fixture.comment;
        let store = MemoryBlockStore::new();
        let mut tree = Mst::new(&store);
        for key in &fixture.keys {
            tree = tree.insert(key, fixture.leaf_value.clone()).unwrap();
        }
        assert_eq!(
            tree.root().unwrap(),
            fixture.root_before_commit,
            "{name}: before"
        );
        for key in &fixture.adds {
            tree = tree.insert(key, fixture.leaf_value.clone()).unwrap();
        }
        for key in &fixture.dels {
            tree = tree.delete(key).unwrap();
        }
        assert_eq!(
            tree.root().unwrap(),
            fixture.root_after_commit,
            "{name}: after"
        );

        // The covering proofs of the changed keys include every block the
        // fixture lists.
        let proof = MemoryBlockStore::new();
        for key in fixture.adds.iter().chain(&fixture.dels) {
            for block in tree.covering_proof(key).unwrap() {
                proof
                    .put(&block.cid, block.data.into_owned().into())
                    .unwrap();
            }
        }
        for cid in &fixture.blocks_in_proof {
            assert!(proof.has(cid).unwrap(), "{name}: {cid} is not in the proof");
        }

        // From the proof alone, undoing the changes in any order gives the
        // root before the commit.
        let undo: Vec<Change> = fixture
            .adds
            .iter()
            .cloned()
            .map(Change::Delete)
            .chain(fixture.dels.iter().cloned().map(Change::Add))
            .collect();
        for order in permutations(&undo) {
            let mut partial = Mst::load(&proof, &fixture.root_after_commit).unwrap();
            for change in &order {
                partial = match change {
                    Change::Delete(key) => partial.delete(key),
                    Change::Add(key) => partial.insert(key, fixture.leaf_value.clone()),
                }
                .unwrap_or_else(|err| panic!("{name}: {order:?}: {err}"));
            }
            assert_eq!(
                partial.root().unwrap(),
                fixture.root_before_commit,
                "{name}: {order:?}"
            );
        }
    }
}
