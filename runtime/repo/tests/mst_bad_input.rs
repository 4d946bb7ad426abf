//! Trees and CARs that break the rules: each is a clear error, never a
//! panic, and the work done on them is bounded.
//!
//! Keys of a known depth come from the interop vectors (`A0/374913` has
//! depth 0, `B1/986427` depth 1, `C2/014073` depth 2).

use std::collections::HashMap;

use atlex_core::cbor;
use atlex_core::cid::Cid as RawCid;
use atlex_core::data::Bytes as ByteString;
use atlex_core::types::Cid;
use atlex_repo::mst::{
    BlockStore, KeyError, Malformed, MemoryBlockStore, Mst, MstError, StoreError,
};
use atlex_repo::repo_car::{RepoCarError, read_repo_car};
use bytes::Bytes;
use serde::Serialize;

#[derive(Serialize)]
struct Node {
    l: Option<RawCid>,
    e: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    p: u64,
    k: ByteString,
    v: RawCid,
    t: Option<RawCid>,
}

fn value() -> RawCid {
    cbor::cid_of(&"a record").unwrap().as_cid().to_owned()
}

/// An entry for `key`, written whole (`p` 0).
fn entry(key: &str, t: Option<&Cid>) -> Entry {
    Entry {
        p: 0,
        k: ByteString(key.as_bytes().to_vec()),
        v: value(),
        t: t.map(|cid| cid.as_cid().to_owned()),
    }
}

/// Entries for `keys` in the order given, prefixes compressed.
fn entries(keys: &[&str]) -> Vec<Entry> {
    let mut previous: &[u8] = b"";
    keys.iter()
        .map(|key| {
            let shared = atlex_repo::mst::common_prefix_len(previous, key.as_bytes());
            previous = key.as_bytes();
            Entry {
                p: shared as u64,
                k: ByteString(key.as_bytes()[shared..].to_vec()),
                v: value(),
                t: None,
            }
        })
        .collect()
}

fn put<T: Serialize>(store: &MemoryBlockStore, node: &T) -> Cid {
    let bytes = cbor::to_vec(node).unwrap();
    let cid = Cid::of_dag_cbor(&bytes);
    store.put(&cid, bytes.into()).unwrap();
    cid
}

/// The rule the tree at `root` breaks, found by loading it and reading
/// every node.
fn malformed(store: &MemoryBlockStore, root: &Cid) -> Malformed {
    let err = Mst::load(store, root)
        .and_then(|tree| tree.check_all())
        .unwrap_err();
    match err {
        MstError::Malformed { reason, .. } => reason,
        other => panic!("not a malformed node: {other}"),
    }
}

#[test]
fn keys_out_of_order_or_repeated() {
    let store = MemoryBlockStore::new();
    let root = put(
        &store,
        &Node {
            l: None,
            e: entries(&["B0/601692", "A0/374913"]),
        },
    );
    assert!(matches!(malformed(&store, &root), Malformed::Order { .. }));
    let root = put(
        &store,
        &Node {
            l: None,
            e: entries(&["A0/374913", "A0/374913"]),
        },
    );
    assert!(matches!(malformed(&store, &root), Malformed::Order { .. }));
}

#[test]
fn a_key_at_the_wrong_depth() {
    let store = MemoryBlockStore::new();
    let root = put(
        &store,
        &Node {
            l: None,
            e: entries(&["A0/374913", "B1/986427"]),
        },
    );
    assert_eq!(
        malformed(&store, &root),
        Malformed::Depth {
            key: "B1/986427".into(),
            depth: 1,
            layer: 0
        }
    );
}

#[test]
fn a_key_in_the_wrong_subtree() {
    // `C0/451630` sorts after `B1/986427`, in the subtree before it.
    let store = MemoryBlockStore::new();
    let child = put(
        &store,
        &Node {
            l: None,
            e: entries(&["C0/451630"]),
        },
    );
    let root = put(
        &store,
        &Node {
            l: Some(child.as_cid().to_owned()),
            e: entries(&["B1/986427"]),
        },
    );
    assert!(matches!(malformed(&store, &root), Malformed::Range { .. }));
    // The key is not found where it would be, nor anywhere: the lookup
    // reads the subtree it belongs in and refuses it.
    let tree = Mst::load(&store, &root).unwrap();
    assert!(matches!(
        tree.get("A0/374913"),
        Err(MstError::Malformed {
            reason: Malformed::Range { .. },
            ..
        })
    ));
}

#[test]
fn prefixes_not_as_the_format_says() {
    let store = MemoryBlockStore::new();
    // Keys that share nothing are written whole.
    let root = put(
        &store,
        &Node {
            l: None,
            e: vec![entry("A0/374913", None), entry("B0/601692", None)],
        },
    );
    assert!(Mst::load(&store, &root).unwrap().check_all().is_ok());
    // `p` 0 where the keys share "A0/".
    let keys = ["A0/374913", "A0/601692"];
    let mut e = entries(&keys);
    e[1] = entry(keys[1], None);
    let root = put(&store, &Node { l: None, e });
    assert_eq!(
        malformed(&store, &root),
        Malformed::PrefixNotShared {
            index: 1,
            stated: 0,
            shared: 3
        }
    );
    // `p` longer than the key before it, and a first entry with a prefix.
    let mut e = entries(&keys);
    e[1].p = 50;
    let root = put(&store, &Node { l: None, e });
    assert!(matches!(
        malformed(&store, &root),
        Malformed::Prefix { index: 1, .. }
    ));
    let mut e = entries(&keys[..1]);
    e[0].p = 1;
    let root = put(&store, &Node { l: None, e });
    assert!(matches!(
        malformed(&store, &root),
        Malformed::Prefix { index: 0, .. }
    ));
}

#[test]
fn keys_that_are_not_repository_paths() {
    let store = MemoryBlockStore::new();
    for (key, reason) in [
        ("A0-374913", KeyError::Segments),
        ("a/b/c", KeyError::Segments),
        ("a/b c", KeyError::Character { byte: b' ', at: 3 }),
    ] {
        let root = put(
            &store,
            &Node {
                l: None,
                e: vec![entry(key, None)],
            },
        );
        assert_eq!(
            malformed(&store, &root),
            Malformed::Key {
                key: key.into(),
                reason
            }
        );
    }
    // And no operation takes one.
    let tree = Mst::new(&store);
    let cid = cbor::cid_of(&"a record").unwrap();
    assert!(matches!(
        tree.insert("no-slash", cid.clone()),
        Err(MstError::InvalidKey { .. })
    ));
    let long = format!("a/{}", "b".repeat(2000));
    assert!(matches!(
        tree.insert(&long, cid),
        Err(MstError::InvalidKey {
            reason: KeyError::TooLong(2002),
            ..
        })
    ));
}

#[test]
fn nodes_that_are_not_canonical_node_blocks() {
    let store = MemoryBlockStore::new();
    #[derive(Serialize)]
    struct Extra {
        e: Vec<Entry>,
        l: Option<RawCid>,
        x: u8,
    }
    let root = put(
        &store,
        &Extra {
            e: entries(&["A0/374913"]),
            l: None,
            x: 1,
        },
    );
    assert!(matches!(
        Mst::load(&store, &root),
        Err(MstError::Decode { .. })
    ));
    // `l` left out rather than null.
    #[derive(Serialize)]
    struct NoLeft {
        e: Vec<Entry>,
    }
    let root = put(
        &store,
        &NoLeft {
            e: entries(&["A0/374913"]),
        },
    );
    assert!(matches!(
        Mst::load(&store, &root),
        Err(MstError::Decode { .. })
    ));
    // A block that is not even a map.
    let root = put(&store, &"a string");
    assert!(matches!(
        Mst::load(&store, &root),
        Err(MstError::Decode { .. })
    ));
    // A subtree linked by a CID of raw bytes.
    let raw = Cid::of_raw(b"not a node");
    let root = put(
        &store,
        &Node {
            l: Some(raw.as_cid().to_owned()),
            e: entries(&["B1/986427"]),
        },
    );
    assert!(matches!(
        Mst::load(&store, &root),
        Err(MstError::Malformed {
            reason: Malformed::Link { .. },
            ..
        })
    ));
}

#[test]
fn empty_nodes_where_keys_must_be() {
    let store = MemoryBlockStore::new();
    let empty = put(
        &store,
        &Node {
            l: None,
            e: Vec::new(),
        },
    );
    let root = put(
        &store,
        &Node {
            l: Some(empty.as_cid().to_owned()),
            e: entries(&["B1/986427"]),
        },
    );
    assert_eq!(malformed(&store, &root), Malformed::Empty);
    // A root with no keys, only a subtree.
    let child = put(
        &store,
        &Node {
            l: None,
            e: entries(&["A0/374913"]),
        },
    );
    let root = put(
        &store,
        &Node {
            l: Some(child.as_cid().to_owned()),
            e: Vec::new(),
        },
    );
    assert_eq!(malformed(&store, &root), Malformed::RootWithoutKeys);
    // The empty tree's root is the one empty node allowed.
    let tree = Mst::load(&store, &empty).unwrap();
    assert!(tree.is_empty());
    assert_eq!(tree.root().unwrap(), Mst::new(&store).root().unwrap());
}

#[test]
fn a_missing_node() {
    let store = MemoryBlockStore::new();
    let absent = cbor::cid_of(&"a node nobody stored").unwrap();
    let root = put(
        &store,
        &Node {
            l: Some(absent.as_cid().to_owned()),
            e: entries(&["B1/986427"]),
        },
    );
    let tree = Mst::load(&store, &root).unwrap();
    // Keys after `B1/…` are known absent without the subtree before it.
    assert_eq!(tree.get("C0/451630").unwrap(), None);
    assert!(tree.get("B1/986427").unwrap().is_some());
    assert!(matches!(tree.get("A0/374913"), Err(MstError::MissingBlock(cid)) if *cid == absent));
    assert!(matches!(tree.check_all(), Err(MstError::MissingBlock(_))));
    // Iteration stops at the error.
    let mut iter = tree.iter();
    assert!(matches!(iter.next(), Some(Err(MstError::MissingBlock(_)))));
    assert!(iter.next().is_none());
    // A missing root.
    assert!(matches!(
        Mst::load(&store, &absent),
        Err(MstError::MissingBlock(_))
    ));
}

/// A store that answers for CIDs other than the bytes': what a faulty or
/// hostile store could do.
#[derive(Default)]
struct LyingStore(HashMap<Cid, Bytes>);

impl BlockStore for LyingStore {
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
        Ok(self.0.get(cid).cloned())
    }

    fn put(&self, _: &Cid, _: Bytes) -> Result<(), StoreError> {
        Err(StoreError::new("read only"))
    }
}

#[test]
fn a_cycle_of_links_ends() {
    // A node that links to itself, with a key of depth 2: each level down
    // must hold keys one depth lower, so the second visit is refused.
    let me = cbor::cid_of(&"a node").unwrap();
    let node = Node {
        l: Some(me.as_cid().to_owned()),
        e: entries(&["C2/014073"]),
    };
    let mut store = LyingStore::default();
    store
        .0
        .insert(me.clone(), cbor::to_vec(&node).unwrap().into());
    let err = Mst::load(&store, &me)
        .and_then(|tree| tree.check_all())
        .unwrap_err();
    assert!(
        matches!(
            err,
            MstError::Malformed {
                reason: Malformed::Depth { layer: 1, .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_chain_thousands_deep_is_refused_at_the_bottom() {
    // 5000 nodes without keys, each linking to the next, under a root whose
    // key has depth 2: links cannot go below depth 0, so the walk stops
    // after three nodes.
    let store = MemoryBlockStore::new();
    let mut link = put(
        &store,
        &Node {
            l: None,
            e: entries(&["A0/374913"]),
        },
    );
    for _ in 0..5000 {
        link = put(
            &store,
            &Node {
                l: Some(link.as_cid().to_owned()),
                e: Vec::new(),
            },
        );
    }
    let root = put(
        &store,
        &Node {
            l: Some(link.as_cid().to_owned()),
            e: entries(&["C2/014073"]),
        },
    );
    assert_eq!(malformed(&store, &root), Malformed::LinkBelowBottom);
}

#[test]
fn a_car_claiming_huge_sizes() {
    // A header length of 2^62 bytes, then a real header and a block whose
    // length claims 2^40 bytes: errors before anything is reserved.
    let mut huge_header = Vec::new();
    let mut n: u64 = 1 << 62;
    while n >= 0x80 {
        huge_header.push((n as u8) | 0x80);
        n >>= 7;
    }
    huge_header.push(n as u8);
    assert!(matches!(
        read_repo_car(&huge_header),
        Err(RepoCarError::Car(_))
    ));

    let commit = cbor::cid_of(&"a commit").unwrap();
    let mut car = atlex_repo::car::CarWriter::with_roots(Vec::new(), &[commit])
        .unwrap()
        .finish()
        .unwrap();
    car.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    assert!(matches!(read_repo_car(&car), Err(RepoCarError::Car(_))));
}

#[test]
fn a_car_without_its_commit_or_tree() {
    let store = MemoryBlockStore::new();
    let commit = cbor::cid_of(&"a commit").unwrap();
    let car = atlex_repo::car::CarWriter::with_roots(Vec::new(), &[commit])
        .unwrap()
        .finish()
        .unwrap();
    assert!(matches!(
        read_repo_car(&car),
        Err(RepoCarError::MissingBlock { what: "commit", .. })
    ));
    let car = atlex_repo::car::CarWriter::new(Vec::new())
        .unwrap()
        .finish()
        .unwrap();
    assert!(matches!(read_repo_car(&car), Err(RepoCarError::NoRoot)));
    // A commit whose tree is not in the CAR: the tree is read when asked.
    let key =
        atlex_identity::crypto::SigningKey::generate(atlex_identity::crypto::Curve::K256).unwrap();
    let data = cbor::cid_of(&"a tree").unwrap();
    let signed = atlex_repo::commit::UnsignedCommit::new(
        atlex_core::types::Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz").unwrap(),
        data,
        atlex_core::types::Tid::from_parts(1, 0).unwrap(),
    )
    .sign(&key);
    store.put(&signed.cid(), signed.to_bytes().into()).unwrap();
    let mut writer = atlex_repo::car::CarWriter::with_roots(Vec::new(), &[signed.cid()]).unwrap();
    writer
        .write_block(&signed.cid(), &signed.to_bytes())
        .unwrap();
    let repo = read_repo_car(&writer.finish().unwrap()).unwrap();
    assert!(matches!(repo.tree(), Err(MstError::MissingBlock(_))));
}

#[test]
fn changes_to_keys_the_tree_has_or_lacks() {
    let store = MemoryBlockStore::new();
    let cid = cbor::cid_of(&"a record").unwrap();
    let tree = Mst::new(&store).insert("A0/374913", cid.clone()).unwrap();
    assert!(matches!(
        tree.insert("A0/374913", cid.clone()),
        Err(MstError::KeyExists(_))
    ));
    assert!(matches!(
        tree.update("B0/601692", cid.clone()),
        Err(MstError::KeyNotFound(_))
    ));
    assert!(matches!(
        tree.delete("B0/601692"),
        Err(MstError::KeyNotFound(_))
    ));
    // Deeper than the root, absent all the same.
    assert!(matches!(
        tree.delete("C2/014073"),
        Err(MstError::KeyNotFound(_))
    ));
    // A block stored under a CID that is not its own is refused.
    assert!(store.put(&cid, Bytes::from_static(b"other bytes")).is_err());
}
