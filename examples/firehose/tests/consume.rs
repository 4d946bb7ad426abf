//! The consumer reads the example server's firehose: one line per op, with
//! the record types the dispatch found.

use std::sync::Arc;

#[tokio::test]
async fn the_consumer_prints_one_line_per_op() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, firehose::app(Arc::new(firehose::Pds::default()))).await
    });
    let commits = firehose::write_sample(&url).await.unwrap();
    let mut out = Vec::new();
    firehose::consume(&url, Some(0), Some(commits), &mut out)
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
                1,
                alice,
                "create",
                "app.bsky.feed.post",
                Some("app.bsky.feed.post")
            ),
            (
                2,
                alice,
                "create",
                "com.example.thing",
                Some("com.example.thing")
            ),
            (
                3,
                bob,
                "create",
                "app.bsky.feed.post",
                Some("app.bsky.feed.post")
            ),
            (
                4,
                bob,
                "create",
                "com.example.thing",
                Some("com.example.thing")
            ),
            (5, bob, "delete", "app.bsky.feed.post", None),
        ]
    );
    assert!(lines[0]["cid"].as_str().unwrap().starts_with("bafyrei"));
    assert!(lines[4]["cid"].is_null());
}
