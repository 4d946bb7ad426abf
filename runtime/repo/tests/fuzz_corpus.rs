//! The `repo_check` fuzz target's property (`fuzz/checks/repo_check.rs`),
//! run in every test run over a seed corpus and deterministic mutations of
//! it: truncations of each seed, and bytes flipped. The fuzzer explores
//! further (`fuzz/README.md`); this keeps what it checks exercised where CI
//! runs.

use atlex_core::data::{Bytes, CidLink};

mod common;
use common::firehose_commits;

#[path = "../../../fuzz/checks/repo_check.rs"]
mod check;

/// The seeds: the firehose commits of the TypeScript fixture, each as a
/// commit input (with and without `prevData`) and as a bare CAR.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (n, event) in firehose_commits().into_iter().enumerate() {
        let blocks = event.blocks();
        let input = check::CommitInput {
            repo: "did:plc:atlexfixtureaaaaaaaaaaaa".to_owned(),
            commit: CidLink(event.commit),
            prev_data: (n % 2 == 0).then_some(CidLink(event.prev_data)),
            ops: event
                .ops
                .into_iter()
                .map(|op| check::InputOp {
                    action: op.action,
                    path: op.path,
                    cid: op.cid.map(CidLink),
                    prev: op.prev.map(CidLink),
                })
                .collect(),
            blocks: Bytes(blocks.clone()),
        };
        seeds.push(atlex_core::cbor::to_vec(&input).unwrap());
        if n < 2 {
            seeds.push(blocks);
        }
    }
    seeds
}

#[test]
fn seeds_and_their_mutations() {
    let mut inputs = 0;
    for seed in seeds() {
        check::repo_check(&seed);
        inputs += 1;
        let len = seed.len();
        for cut in (0..len).step_by(len / 16 + 1) {
            check::repo_check(&seed[..cut]);
            inputs += 1;
        }
        for at in (0..len).step_by(len / 48 + 1) {
            let mut mutated = seed.clone();
            mutated[at] ^= 0x55;
            check::repo_check(&mutated);
            mutated[at] = mutated[at].wrapping_add(1);
            check::repo_check(&mutated);
            inputs += 2;
        }
    }
    assert!(inputs > 1000, "{inputs}");
}
