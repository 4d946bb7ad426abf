//! A verifying consumer reading the firehose recorded from the TypeScript
//! packages: 2,000 commits of one repository, each checked by inverting its
//! ops on its blocks, with the signature check and without.
//!
//!     cargo bench -p atlex-repo --features mst,crypto --bench verify

use std::time::Duration;

use atlex_lexicons::com::atproto::sync::subscribe_repos::Message;
use atlex_repo::verify::{FirehoseVerifier, StaticKeys, Verified};
use divan::counter::ItemsCount;

#[path = "../tests/common/ts_frames.rs"]
mod ts_frames;

fn main() {
    divan::main();
}

/// Verifies every message with a verifier that knows no repository yet;
/// how many commits verified.
fn verify_all(messages: &[Message], signatures: bool) -> usize {
    let keys = StaticKeys::new().with(ts_frames::did(), ts_frames::key());
    // The recording's revisions are of a fixed clock: none is refused as
    // being in the future, whenever this runs.
    let mut verifier = FirehoseVerifier::new(keys).max_clock_skew(Duration::from_secs(1 << 40));
    if !signatures {
        verifier = verifier.skip_signatures();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut commits = 0;
        for message in messages {
            if let Verified::Commit(_) = verifier.verify(message).await.expect("verifies") {
                commits += 1;
            }
        }
        commits
    })
}

#[divan::bench(args = [true, false], sample_count = 10)]
fn verify_recorded_stream(bencher: divan::Bencher, signatures: bool) {
    let messages = ts_frames::messages();
    let commits = verify_all(&messages, signatures);
    assert_eq!(commits, 2000);
    bencher
        .counter(ItemsCount::new(commits))
        .bench_local(|| verify_all(&messages, signatures));
}
