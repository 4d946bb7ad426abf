//! The official TypeScript subscription clients (`@atproto/xrpc-server`'s
//! `Subscription`, `@atproto/sync`'s `Firehose`) read this example's server:
//! `lexicons/tests/fixtures/ts_frames/ts-client.mjs`, run against the
//! `firehose-server` binary cargo built for this test.
//!
//! Ignored by default: it needs Node.js and the fixture's npm packages
//! (`cd lexicons/tests/fixtures/ts_frames && npm ci`, from the registry).
//! `cargo test -p firehose --test ts_client -- --ignored`.

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs node and `npm ci` in lexicons/tests/fixtures/ts_frames"]
fn the_typescript_clients_read_every_frame() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lexicons/tests/fixtures/ts_frames");
    assert!(
        dir.join("node_modules/@atproto/xrpc-server").is_dir(),
        "run `npm ci` in {} first",
        dir.display()
    );
    let output = Command::new("node")
        .arg("ts-client.mjs")
        .current_dir(&dir)
        .env(
            "ATLEX_FIREHOSE_SERVER",
            env!("CARGO_BIN_EXE_firehose-server"),
        )
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "ts-client.mjs: {}", output.status);
    assert!(stdout.contains("ok: the TypeScript clients read every frame"));
}
