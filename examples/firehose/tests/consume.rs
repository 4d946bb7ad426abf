//! The consumer reads the example server's firehose, checking each event
//! (signatures with the keys of the server's DID documents): one line per op,
//! with the record types the dispatch found.

use std::sync::Arc;

use atlex::identity::Resolver;

#[tokio::test]
async fn the_consumer_prints_one_line_per_op() {
    let url = firehose::serve_local(Arc::new(firehose::Pds::default()))
        .await
        .unwrap();
    let commits = firehose::write_sample(&url).await.unwrap();
    let resolver = Resolver::builder().plc_directory(&url).build().unwrap();
    let mut out = Vec::new();
    // The accounts' `#sync` (seq 1 and 2), then the commits.
    firehose::consume(&url, &resolver, Some(0), Some(2 + commits), &mut out)
        .await
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let summary: Vec<(i64, &str, &str, &str, Option<&str>)> = lines
        .iter()
        .map(|l| {
            (
                l["seq"].as_i64().unwrap(),
                l["repo"].as_str().unwrap(),
                l["action"].as_str().unwrap(),
                l["collection"].as_str().unwrap(),
                l["type"].as_str(),
            )
        })
        .collect();
    let alice = "did:plc:zmromlgyy6krurta6aidtixk";
    let bob = "did:plc:6b2e7gp7hmgux6z7kj4ndlxj";
    assert_eq!(
        summary,
        [
            (
                3,
                alice,
                "create",
                "app.bsky.feed.post",
                Some("app.bsky.feed.post")
            ),
            (
                4,
                alice,
                "create",
                "com.example.thing",
                Some("com.example.thing")
            ),
            (
                5,
                bob,
                "create",
                "app.bsky.feed.post",
                Some("app.bsky.feed.post")
            ),
            (
                6,
                bob,
                "create",
                "com.example.thing",
                Some("com.example.thing")
            ),
            (7, bob, "delete", "app.bsky.feed.post", None),
        ]
    );
    assert!(lines[0]["cid"].as_str().unwrap().starts_with("bafyrei"));
    assert!(lines[4]["cid"].is_null());
}

/// Every commit checks, across a reset: the `#sync` gives the consumer the
/// repository's new root, which the next commit follows.
#[tokio::test]
async fn every_commit_checks_across_a_reset() {
    let pds = Arc::new(firehose::Pds::default());
    let url = firehose::serve_local(pds.clone()).await.unwrap();
    let alice = "did:plc:zmromlgyy6krurta6aidtixk";
    let before = firehose::write_many(&url, "alice-token", alice, 30)
        .await
        .unwrap();
    pds.reset(alice).unwrap();
    let after = firehose::write_many(&url, "alice-token", alice, 10)
        .await
        .unwrap();
    let resolver = Resolver::builder().plc_directory(&url).build().unwrap();
    let events = 3 + before.commits + after.commits;
    let mut out = Vec::new();
    firehose::consume(&url, &resolver, Some(0), Some(events), &mut out)
        .await
        .unwrap();
    let lines = String::from_utf8(out).unwrap();
    let actions: Vec<String> = lines
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            line["action"].as_str().unwrap().to_owned()
        })
        .collect();
    // One line per commit (each has one op): none was skipped.
    assert_eq!(actions.len(), before.commits + after.commits);
    let updates = actions.iter().filter(|a| *a == "update").count();
    assert_eq!(updates, 5 + 2);
}
