//! The sync 1.1 check of a firehose commit: a commit that passes, and one
//! commit broken in each way the check names.

use atlex_core::types::{Cid, Did, Tid};
use atlex_identity::crypto::{Curve, SigningKey};
use atlex_repo::car::CarWriter;
use atlex_repo::commit::{Commit, CommitError, UnsignedCommit};
use atlex_repo::firehose::OpRef;
use atlex_repo::mst::{MemoryBlockStore, Mst, MstError, Op};
use atlex_repo::sync::{CommitCheck, SyncError, ops_of};

const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

fn did() -> Did {
    Did::new(DID).unwrap()
}

fn key() -> SigningKey {
    SigningKey::from_hex(
        Curve::K256,
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
    )
    .unwrap()
}

fn record(n: u32) -> (Cid, Vec<u8>) {
    let bytes = atlex_core::cbor::to_vec(&format!("record {n}")).unwrap();
    (Cid::of_dag_cbor(&bytes), bytes)
}

fn path(n: u32) -> String {
    format!("com.example.note/{n:06}")
}

/// A repository of 300 records, and a commit on it that creates record
/// 1000, updates record 10 and deletes record 20.
struct Fixture {
    before: Cid,
    after: Mst<&'static MemoryBlockStore>,
    commit: Commit,
    ops: Vec<Op>,
}

fn fixture() -> Fixture {
    let store: &'static MemoryBlockStore = Box::leak(Box::new(MemoryBlockStore::new()));
    let mut tree = Mst::new(store);
    for n in 0..300 {
        tree = tree.insert(&path(n), record(n).0).unwrap();
    }
    let before = tree.root().unwrap();
    let ops = vec![
        Op::Create {
            path: path(1000),
            cid: record(1000).0,
        },
        Op::Update {
            path: path(10),
            cid: record(5000).0,
            prev: record(10).0,
        },
        Op::Delete {
            path: path(20),
            prev: record(20).0,
        },
    ];
    let after = tree
        .insert(&path(1000), record(1000).0)
        .unwrap()
        .update(&path(10), record(5000).0)
        .unwrap()
        .delete(&path(20))
        .unwrap();
    let rev = Tid::from_parts(1_700_000_000_000_000, 0).unwrap();
    let commit = UnsignedCommit::new(did(), after.root().unwrap(), rev).sign(&key());
    Fixture {
        before,
        after,
        commit,
        ops,
    }
}

/// What can be left out of, or put into, the commit's CAR.
#[derive(Default)]
struct Car {
    no_commit: bool,
    no_records: bool,
    /// Only the proof of each op's key, not its neighbours'.
    proofs_only: bool,
    no_nodes: bool,
}

impl Fixture {
    fn car(&self, car: Car) -> Vec<u8> {
        let mut writer = CarWriter::with_roots(Vec::new(), &[self.commit.cid()]).unwrap();
        if !car.no_commit {
            writer
                .write_block(&self.commit.cid(), &self.commit.to_bytes())
                .unwrap();
        }
        if !car.no_records {
            for n in [1000, 5000] {
                let (cid, bytes) = record(n);
                writer.write_block(&cid, &bytes).unwrap();
            }
        }
        if !car.no_nodes {
            for op in &self.ops {
                let blocks = if car.proofs_only {
                    self.after.proof(op.path()).unwrap()
                } else {
                    self.after.covering_proof(op.path()).unwrap()
                };
                for block in blocks {
                    writer.write_block(&block.cid, &block.data).unwrap();
                }
            }
        }
        writer.finish().unwrap()
    }

    fn check<'a>(&'a self, blocks: &'a [u8], ops: &'a [Op], cid: &'a Cid) -> CommitCheck<'a> {
        CommitCheck::new(Box::leak(Box::new(did())), cid, blocks, ops).prev_data(&self.before)
    }
}

#[test]
fn a_commit_inverts_to_its_previous_root() {
    let fixture = fixture();
    let blocks = fixture.car(Car::default());
    let cid = fixture.commit.cid();
    let public = key().public_key();
    let last = Tid::from_parts(1_600_000_000_000_000, 0).unwrap();
    let checked = fixture
        .check(&blocks, &fixture.ops, &cid)
        .after_rev(&last)
        .signed_by(&public)
        .run()
        .unwrap();
    assert_eq!(checked.prev_data, fixture.before);
    assert_eq!(checked.commit, fixture.commit);

    // Without `prevData`, the check gives the root for the consumer to
    // compare; the ops in any order invert the same.
    let mut reversed = fixture.ops.clone();
    reversed.reverse();
    let unchecked = CommitCheck::new(&did(), &cid, &blocks, &reversed)
        .run()
        .unwrap();
    assert_eq!(unchecked.prev_data, fixture.before);
}

#[test]
fn every_failure_has_its_reason() {
    let fixture = fixture();
    let cid = fixture.commit.cid();
    let good = fixture.car(Car::default());
    let ops = &fixture.ops;

    let err = fixture.check(b"not a CAR", ops, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::Car(_)), "{err}");

    // A CAR whose root is not the commit.
    let mut writer =
        CarWriter::with_roots(Vec::new(), std::slice::from_ref(&fixture.before)).unwrap();
    writer
        .write_block(&fixture.commit.cid(), &fixture.commit.to_bytes())
        .unwrap();
    let blocks = writer.finish().unwrap();
    let err = fixture.check(&blocks, ops, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::RootNotCommit { .. }), "{err}");

    let blocks = fixture.car(Car {
        no_commit: true,
        ..Car::default()
    });
    let err = fixture.check(&blocks, ops, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::MissingCommit(_)), "{err}");

    let other = Did::new("did:plc:vwzwgnygau7ed7b7wt5ux7y2").unwrap();
    let err = CommitCheck::new(&other, &cid, &good, ops)
        .run()
        .unwrap_err();
    assert!(matches!(err, SyncError::WrongRepo { .. }), "{err}");

    let later = Tid::from_parts(1_800_000_000_000_000, 0).unwrap();
    let err = fixture
        .check(&good, ops, &cid)
        .after_rev(&later)
        .run()
        .unwrap_err();
    assert!(matches!(err, SyncError::RevNotAfter { .. }), "{err}");
    let err = fixture
        .check(&good, ops, &cid)
        .after_rev(&fixture.commit.rev)
        .run()
        .unwrap_err();
    assert!(matches!(err, SyncError::RevNotAfter { .. }), "{err}");

    let stranger = SigningKey::generate(Curve::K256).unwrap().public_key();
    let err = fixture
        .check(&good, ops, &cid)
        .signed_by(&stranger)
        .run()
        .unwrap_err();
    assert!(matches!(err, SyncError::Signature(_)), "{err}");

    let mut twice = ops.clone();
    twice.push(ops[0].clone());
    let err = fixture.check(&good, &twice, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::DuplicatePath(_)), "{err}");

    let blocks = fixture.car(Car {
        no_records: true,
        ..Car::default()
    });
    let err = fixture.check(&blocks, ops, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::MissingRecord { .. }), "{err}");

    // An op the tree does not show: a create of another record, a delete of
    // a key the tree still holds.
    let mut wrong = ops.clone();
    wrong[0] = Op::Create {
        path: path(1000),
        cid: record(5000).0,
    };
    let err = fixture.check(&good, &wrong, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::OpNotInTree { .. }), "{err}");
    let mut wrong = ops.clone();
    wrong[1] = Op::Delete {
        path: path(10),
        prev: record(10).0,
    };
    let err = fixture.check(&good, &wrong, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::OpNotInTree { .. }), "{err}");

    // The tree's nodes left out.
    let blocks = fixture.car(Car {
        no_nodes: true,
        ..Car::default()
    });
    let err = fixture.check(&blocks, ops, &cid).run().unwrap_err();
    assert!(
        matches!(err, SyncError::Tree(MstError::MissingBlock(_))),
        "{err}"
    );

    // The ops leave out a change the commit makes: the inversion ends
    // elsewhere.
    let err = fixture.check(&good, &ops[..2], &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::InversionMismatch { .. }), "{err}");
    // Or a different previous root is claimed.
    let err = CommitCheck::new(&did(), &cid, &good, ops)
        .prev_data(&fixture.commit.data)
        .run()
        .unwrap_err();
    assert!(matches!(err, SyncError::InversionMismatch { .. }), "{err}");
    // An update whose `prev` is not what the record was.
    let mut wrong = ops.clone();
    wrong[1] = Op::Update {
        path: path(10),
        cid: record(5000).0,
        prev: record(11).0,
    };
    let err = fixture.check(&good, &wrong, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::InversionMismatch { .. }), "{err}");
    // An op whose undo the tree refuses: the "create" of a key the commit's
    // tree holds, undone, leaves it; a delete's restore of a key there.
    let mut wrong = ops.clone();
    wrong[1] = Op::Create {
        path: path(10),
        cid: record(5000).0,
    };
    let err = fixture.check(&good, &wrong, &cid).run().unwrap_err();
    assert!(matches!(err, SyncError::InversionMismatch { .. }), "{err}");
}

#[test]
fn a_commit_without_its_neighbours_proofs_cannot_be_undone() {
    // Each op's own proof is not always enough: undoing a create merges the
    // subtrees on either side of the key, whose nodes the covering proof
    // adds. Among these commits of one create (each between two keys of
    // the tree), some need them.
    let store = MemoryBlockStore::new();
    let mut tree = Mst::new(&store);
    for n in 0..300 {
        tree = tree.insert(&path(n), record(n).0).unwrap();
    }
    let before = tree.root().unwrap();
    let mut missing = 0;
    for n in 0..100 {
        let new = format!("{}x", path(n));
        let (cid, bytes) = record(1000 + n);
        let after = tree.insert(&new, cid.clone()).unwrap();
        let commit =
            UnsignedCommit::new(did(), after.root().unwrap(), Tid::from_parts(1, 0).unwrap())
                .sign(&key());
        let ops = [Op::Create {
            path: new.clone(),
            cid: cid.clone(),
        }];
        let car = |covering: bool| {
            let mut writer = CarWriter::with_roots(Vec::new(), &[commit.cid()]).unwrap();
            writer
                .write_block(&commit.cid(), &commit.to_bytes())
                .unwrap();
            writer.write_block(&cid, &bytes).unwrap();
            let blocks = if covering {
                after.covering_proof(&new).unwrap()
            } else {
                after.proof(&new).unwrap()
            };
            for block in blocks {
                writer.write_block(&block.cid, &block.data).unwrap();
            }
            writer.finish().unwrap()
        };
        let commit_cid = commit.cid();
        let covering = car(true);
        let checked = CommitCheck::new(&did(), &commit_cid, &covering, &ops)
            .prev_data(&before)
            .run()
            .unwrap();
        assert_eq!(checked.prev_data, before);
        let bare = car(false);
        match CommitCheck::new(&did(), &commit_cid, &bare, &ops)
            .prev_data(&before)
            .run()
        {
            Ok(_) => {}
            Err(SyncError::Inversion {
                error: MstError::MissingBlock(_),
                ..
            }) => missing += 1,
            Err(err) => panic!("{new}: {err}"),
        }
    }
    assert!(missing > 0 && missing < 100, "{missing}");
}

#[test]
fn event_ops_convert_when_they_carry_what_the_inversion_needs() {
    let (a, b) = (record(1).0, record(2).0);
    let op = |action, cid, prev| OpRef {
        action,
        path: "com.example.note/1",
        cid,
        prev,
    };
    let ops = ops_of([
        op("create", Some(&a), None),
        op("update", Some(&b), Some(&a)),
        op("delete", None, Some(&b)),
    ])
    .unwrap();
    assert_eq!(
        ops,
        [
            Op::Create {
                path: "com.example.note/1".into(),
                cid: a.clone()
            },
            Op::Update {
                path: "com.example.note/1".into(),
                cid: b.clone(),
                prev: a.clone()
            },
            Op::Delete {
                path: "com.example.note/1".into(),
                prev: b.clone()
            },
        ]
    );
    for bad in [
        op("create", None, None),
        op("create", Some(&a), Some(&b)),
        op("update", None, Some(&a)),
        op("update", Some(&b), None),
        op("delete", None, None),
        op("delete", Some(&a), Some(&b)),
        op("archive", Some(&a), None),
    ] {
        let err = ops_of([bad]).unwrap_err();
        assert!(matches!(err, SyncError::BadOp { .. }), "{bad:?}: {err}");
    }
}

#[test]
fn a_commit_block_that_is_not_a_commit() {
    let fixture = fixture();
    // A record named as the commit.
    let (cid, bytes) = record(1000);
    let mut writer = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&cid)).unwrap();
    writer.write_block(&cid, &bytes).unwrap();
    let blocks = writer.finish().unwrap();
    let err = fixture
        .check(&blocks, &fixture.ops, &cid)
        .run()
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Commit(CommitError::Decode(_))),
        "{err}"
    );
}
