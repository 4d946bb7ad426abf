//! Repository trees and firehose commits on arbitrary bytes: the bytes as a
//! CAR of tree nodes, as a repository CAR, and as a commit event to check
//! by inversion; the property is in `checks/repo_check.rs`, which a test of
//! `atlex-repo` also runs over a seed corpus.
#![no_main]

#[path = "../checks/repo_check.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::repo_check(data));
