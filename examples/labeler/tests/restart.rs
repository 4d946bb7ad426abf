//! The labeler binary follows the firehose example's server (in this
//! process), is killed with SIGKILL while it labels (twice), starts again
//! on the same data directory, and labels what comes after: a consumer then finds
//! exactly one label per matching post, none for the others, every
//! signature checked against the key of the labeler's `did:web` document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atlex::client::Client;
use atlex::eventlog::SqliteCursor;
use atlex::identity::Resolver;
use atlex::label::LabelVerifier;
use atlex::types::{AtIdentifier, Nsid};
use atlex_lexicons::com::atproto::label::defs::Label;
use atlex_lexicons::com::atproto::label::query_labels::{self, QueryLabels};
use atlex_lexicons::com::atproto::label::subscribe_labels::{self, Message, SubscribeLabels};
use atlex_lexicons::com::atproto::repo::create_record::{self, CreateRecord};
use futures_util::StreamExt as _;

const ACCOUNTS: [(&str, &str); 2] = [
    ("alice-token", "did:plc:zmromlgyy6krurta6aidtixk"),
    ("bob-token", "did:plc:6b2e7gp7hmgux6z7kj4ndlxj"),
];

/// What was written: the URIs of the posts that hold the word, and of the
/// other records.
#[derive(Default)]
struct Written {
    matching: BTreeSet<String>,
    others: BTreeSet<String>,
    /// How many writes, each a firehose event.
    events: i64,
}

/// Writes posts `range` alternately as alice and bob, every third holding
/// "spam" (in varying case), and a record of another type holding it for
/// every fifth.
async fn write(url: &str, range: std::ops::Range<usize>, written: &mut Written) {
    for i in range {
        let (token, did) = ACCOUNTS[i % 2];
        let client = Client::builder(url).bearer(token).build().unwrap();
        let text = if i % 3 == 0 {
            format!("post {i}: this is SPAM, or Spam")
        } else {
            format!("post {i}: nothing to see")
        };
        let uri = create(
            &client,
            did,
            "app.bsky.feed.post",
            serde_json::json!({
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2026-12-01T12:00:00.000Z",
            }),
        )
        .await;
        if i % 3 == 0 {
            written.matching.insert(uri);
        } else {
            written.others.insert(uri);
        }
        written.events += 1;
        if i % 5 == 0 {
            let thing = serde_json::json!({ "$type": "com.example.thing", "text": "spam" });
            written
                .others
                .insert(create(&client, did, "com.example.thing", thing).await);
            written.events += 1;
        }
    }
}

/// Creates `record` in `collection` of `did`; its URI.
async fn create(client: &Client, did: &str, collection: &str, record: serde_json::Value) -> String {
    let input = create_record::Input::builder()
        .repo(AtIdentifier::new(did).unwrap())
        .collection(Nsid::new(collection).unwrap())
        .record(serde_json::from_value(record).unwrap())
        .build();
    let created = client.procedure(CreateRecord, &input).await.unwrap();
    created.uri.as_str().to_owned()
}

/// A port free at the moment, for the labeler to listen on across restarts.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn start(port: u16, data: &Path, firehose: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_labeler"))
        .env("ATLEX_LABELER_ADDR", format!("127.0.0.1:{port}"))
        .env("ATLEX_LABELER_DATA", data)
        .env("ATLEX_FIREHOSE_URL", firehose)
        .env("ATLEX_LABELER_WORD", "spam")
        .env("ATLEX_LABELER_VALUE", "spam")
        .spawn()
        .unwrap()
}

/// Every label `queryLabels` answers for every URI, page by page (`None`
/// while the labeler does not answer).
async fn all_labels(client: &Client) -> Option<Vec<Label>> {
    let mut params = query_labels::Params::new(vec!["*".to_owned()]);
    params.limit = Some(7);
    let mut labels = Vec::new();
    loop {
        let answer = client.query(QueryLabels, &params).await.ok()?;
        labels.extend(answer.labels);
        match answer.cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => return Some(labels),
        }
    }
}

/// Waits until `done` holds, or fails after a minute.
async fn wait_for<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The labeler's firehose cursor, as it saved it.
fn saved_cursor(data: &Path) -> Option<i64> {
    SqliteCursor::open(data.join("cursor.sqlite"), "firehose")
        .ok()?
        .load()
        .ok()?
}

/// Kills the child when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the labeler and kills it (SIGKILL) once it serves `labels`
/// labels.
async fn run_until(port: u16, data: &Path, firehose: &str, labeler: &Client, labels: usize) {
    let mut running = Running(start(port, data, firehose));
    wait_for("labels", || async {
        all_labels(labeler)
            .await
            .is_some_and(|served| served.len() >= labels)
    })
    .await;
    running.0.kill().unwrap();
    running.0.wait().unwrap();
    eprintln!(
        "killed after {labels} labels, with the firehose cursor at {:?}",
        saved_cursor(data)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_labeler_restarts_without_losing_or_repeating_a_label() {
    let firehose = firehose::serve_local(Arc::new(firehose::Pds::default()))
        .await
        .unwrap();
    let data: PathBuf =
        std::env::temp_dir().join(format!("atlex-labeler-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let labeler_url = format!("http://127.0.0.1:{port}");
    let labeler = Client::new(&labeler_url).unwrap();

    let mut written = Written::default();
    write(&firehose, 0..60, &mut written).await;

    // Killed as soon as it has labeled something: in the middle of the
    // posts written so far. Its cursor is then set back to before the
    // first commit, as if it had been killed after labeling and before
    // saving the cursor each time: the events come again, and must not be
    // labeled twice.
    run_until(port, &data, &firehose, &labeler, 1).await;
    SqliteCursor::open(data.join("cursor.sqlite"), "firehose")
        .unwrap()
        .save(2)
        .unwrap();

    // Killed again once it has labeled ten posts, and left where it was.
    run_until(port, &data, &firehose, &labeler, 10).await;

    let _running = Running(start(port, &data, &firehose));
    write(&firehose, 60..120, &mut written).await;
    // The two accounts' `#sync`, then one event per write.
    let last_event = 2 + written.events;
    wait_for("the labeler to handle every event", || async {
        saved_cursor(&data) == Some(last_event)
    })
    .await;

    // The stream from its start, until it has been quiet for a while.
    let mut from_start = subscribe_labels::Params::new();
    from_start.cursor = Some(0);
    let mut stream = labeler.subscribe(SubscribeLabels, &from_start);
    let mut streamed = Vec::new();
    let mut seqs = Vec::new();
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(2), stream.next()).await {
        match item.unwrap() {
            Message::Labels(labels) => {
                seqs.push(labels.seq);
                streamed.extend(labels.labels);
            }
            other => panic!("{other:?}"),
        }
    }
    let queried = all_labels(&labeler).await.unwrap();

    let resolver = Resolver::new().unwrap();
    let verifier = LabelVerifier::new(resolver);
    verifier.verify_all(&streamed).await.unwrap();
    verifier.verify_all(&queried).await.unwrap();
    let did = format!("did:web:localhost%3A{port}");
    assert_eq!(
        seqs,
        (1..=i64::try_from(streamed.len()).unwrap()).collect::<Vec<_>>()
    );
    for (what, labels) in [("streamed", &streamed), ("queried", &queried)] {
        let mut per_uri: BTreeMap<&str, usize> = BTreeMap::new();
        for label in labels.iter() {
            assert_eq!(label.src.as_str(), did, "{what}");
            assert_eq!(label.val, "spam", "{what}");
            assert_eq!(label.neg, None, "{what}");
            *per_uri.entry(label.uri.as_str()).or_default() += 1;
        }
        let labeled: BTreeSet<String> = per_uri.keys().map(|uri| (*uri).to_owned()).collect();
        assert_eq!(labeled, written.matching, "{what}: the labeled posts");
        assert!(
            per_uri.values().all(|count| *count == 1),
            "{what}: {per_uri:?}"
        );
        assert!(labeled.is_disjoint(&written.others), "{what}");
    }
    assert_eq!(written.matching.len(), 40);
    std::fs::remove_dir_all(&data).unwrap();
}
