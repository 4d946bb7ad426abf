//! The labeler served on 127.0.0.1 and read with atlex's own client:
//! `queryLabels` (patterns, sources, paging, negations, expiry, bad
//! parameters) and `subscribeLabels` (replay, live, future cursor), every
//! label's signature checked; and a labeler opened again on its file.

use std::path::PathBuf;
use std::time::Duration;

use atlex::client::{Client, Error as ClientError};
use atlex::crypto::{Curve, SigningKey};
use atlex::error::CommonError;
use atlex::eventlog::{Durability, SqliteStore};
use atlex::subscription::{EventLog, Retention, SubscriptionError};
use atlex::types::{Datetime, Did};
use atlex_labeler::{Labeler, NewLabel};
use atlex_lexicons::com::atproto::label::defs::Label;
use atlex_lexicons::com::atproto::label::query_labels::{self, QueryLabels};
use atlex_lexicons::com::atproto::label::subscribe_labels::{
    self, Labels, Message, SubscribeLabels,
};
use futures_util::StreamExt as _;

const ALICE: &str = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const BOB: &str = "at://did:plc:ar7c4by46qjdydhdevvrndac";

/// An empty directory of the test's own.
fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlex-labeler-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn did() -> Did {
    "did:web:labeler.example.com".parse().unwrap()
}

fn open(dir: &std::path::Path, key: &SigningKey) -> Labeler {
    Labeler::open(dir.join("labels.sqlite"), did(), key.clone()).unwrap()
}

/// Serves the labeler's endpoints on a free port; the client for it.
async fn serve(labeler: &Labeler) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = labeler.router().into_router();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Client::new(&url).unwrap()
}

/// A labeler with a new key in a new directory, served.
async fn start(name: &str) -> (PathBuf, SigningKey, Labeler, Client) {
    let dir = dir(name);
    let key = SigningKey::generate(Curve::K256).unwrap();
    let labeler = open(&dir, &key);
    let client = serve(&labeler).await;
    (dir, key, labeler, client)
}

fn params(patterns: &[&str]) -> query_labels::Params {
    query_labels::Params::new(patterns.iter().map(|p| (*p).to_owned()).collect())
}

/// The answer to `params`, every label checked against `key`.
async fn query(
    client: &Client,
    params: &query_labels::Params,
    key: &SigningKey,
) -> query_labels::Output {
    let answer = client.query(QueryLabels, params).await.unwrap();
    for label in &answer.labels {
        atlex::label::verify(label, &key.public_key()).unwrap();
        assert_eq!(label.ver, Some(1));
        assert_eq!(label.src, did());
    }
    answer
}

/// `(uri, val, neg)` of each label.
fn summary(labels: &[Label]) -> Vec<(String, String, bool)> {
    labels
        .iter()
        .map(|l| {
            (
                l.uri.as_str().to_owned(),
                l.val.clone(),
                l.neg == Some(true),
            )
        })
        .collect()
}

fn entry(uri: &str, val: &str, neg: bool) -> (String, String, bool) {
    (uri.to_owned(), val.to_owned(), neg)
}

#[tokio::test]
async fn queries_match_exact_uris_prefixes_and_sources_and_page_with_a_cursor() {
    let (dir, key, labeler, client) = start("query").await;
    let posts = [
        format!("{ALICE}/app.bsky.feed.post/1"),
        format!("{ALICE}/app.bsky.feed.post/2"),
        format!("{ALICE}/app.bsky.feed.like/3"),
        format!("{BOB}/app.bsky.feed.post/4"),
    ];
    let account = "did:plc:ar7c4by46qjdydhdevvrndac";
    for (i, uri) in posts.iter().enumerate() {
        let seq = labeler.label(uri.parse().unwrap(), "spam").await.unwrap();
        assert_eq!(seq, i64::try_from(i).unwrap() + 1);
    }
    assert_eq!(
        labeler
            .label(account.parse().unwrap(), "!hide")
            .await
            .unwrap(),
        5
    );

    let exact = query(&client, &params(&[&posts[0]]), &key).await;
    assert_eq!(summary(&exact.labels), [entry(&posts[0], "spam", false)]);
    assert_eq!(exact.cursor, None);

    // A prefix includes what leads to the `*`, and no more.
    let alice_posts = format!("{ALICE}/app.bsky.feed.post/*");
    let prefixed = query(&client, &params(&[&alice_posts]), &key).await;
    assert_eq!(
        summary(&prefixed.labels),
        [
            entry(&posts[0], "spam", false),
            entry(&posts[1], "spam", false)
        ]
    );
    let alice_all = format!("{ALICE}/*");
    let either = query(&client, &params(&[&alice_all, account]), &key).await;
    assert_eq!(either.labels.len(), 4);
    assert_eq!(
        summary(&either.labels).last().unwrap(),
        &entry(account, "!hide", false)
    );
    let everything = query(&client, &params(&["*"]), &key).await;
    assert_eq!(everything.labels.len(), 5);
    let none = query(&client, &params(&["at://did:plc:nobody/*"]), &key).await;
    assert!(none.labels.is_empty());

    // Sources filter by the labeler's DID.
    let mut mine = params(&["*"]);
    mine.sources = Some(vec![did()]);
    assert_eq!(query(&client, &mine, &key).await.labels.len(), 5);
    let mut others = params(&["*"]);
    others.sources = Some(vec!["did:plc:ewvi7nxzyoun6zhxrhs64oiz".parse().unwrap()]);
    assert!(query(&client, &others, &key).await.labels.is_empty());

    // Pages of 2: 2, 2 and the last 1, without a cursor after it.
    let mut paged = Vec::new();
    let mut page = params(&["*"]);
    page.limit = Some(2);
    let mut sizes = Vec::new();
    loop {
        let answer = query(&client, &page, &key).await;
        sizes.push(answer.labels.len());
        paged.extend(answer.labels);
        match answer.cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(paged, everything.labels);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_negation_replaces_its_label_and_expired_labels_are_not_answered() {
    let (dir, key, labeler, client) = start("negation").await;
    let post = format!("{ALICE}/app.bsky.feed.post/1");
    let uri = || post.parse().unwrap();
    labeler.label(uri(), "spam").await.unwrap();
    labeler.label(uri(), "rude").await.unwrap();
    labeler.negate(uri(), "spam").await.unwrap();
    let answer = query(&client, &params(&[&post]), &key).await;
    assert_eq!(
        summary(&answer.labels),
        [entry(&post, "rude", false), entry(&post, "spam", true)]
    );
    // Labelled again: the label replaces the negation.
    labeler.label(uri(), "spam").await.unwrap();
    let answer = query(&client, &params(&[&post]), &key).await;
    assert_eq!(
        summary(&answer.labels),
        [entry(&post, "rude", false), entry(&post, "spam", false)]
    );

    let now = Datetime::now().timestamp_micros();
    let expired = format!("{ALICE}/app.bsky.feed.post/2");
    let lasting = format!("{ALICE}/app.bsky.feed.post/3");
    let soon = format!("{ALICE}/app.bsky.feed.post/4");
    let at = |micros: i64| Datetime::from_unix_micros(micros).unwrap();
    for (uri, exp) in [
        (&expired, at(now - 1_000_000)),
        (&lasting, at(now + 3_600_000_000)),
        (&soon, at(now + 1_500_000)),
    ] {
        labeler
            .emit(NewLabel::new(uri.parse().unwrap(), "temporary").exp(exp))
            .await
            .unwrap();
    }
    let temporary = params(&[&expired, &lasting, &soon]);
    let answer = query(&client, &temporary, &key).await;
    assert_eq!(
        summary(&answer.labels),
        [
            entry(&lasting, "temporary", false),
            entry(&soon, "temporary", false)
        ]
    );
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let answer = query(&client, &temporary, &key).await;
    assert_eq!(
        summary(&answer.labels),
        [entry(&lasting, "temporary", false)]
    );

    // The stream has every label and negation, in order, expired or not.
    let mut from_start = subscribe_labels::Params::new();
    from_start.cursor = Some(0);
    let mut stream = client.subscribe(SubscribeLabels, &from_start);
    let mut streamed = Vec::new();
    for expected_seq in 1..=7 {
        match stream.next().await.unwrap().unwrap() {
            Message::Labels(labels) => {
                assert_eq!(labels.seq, expected_seq);
                for label in &labels.labels {
                    atlex::label::verify(label, &key.public_key()).unwrap();
                }
                streamed.extend(summary(&labels.labels));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        streamed,
        [
            entry(&post, "spam", false),
            entry(&post, "rude", false),
            entry(&post, "spam", true),
            entry(&post, "spam", false),
            entry(&expired, "temporary", false),
            entry(&lasting, "temporary", false),
            entry(&soon, "temporary", false),
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The error a query answers with.
async fn refused(client: &Client, params: &query_labels::Params) -> (u16, CommonError) {
    match client.query(QueryLabels, params).await.unwrap_err() {
        ClientError::Common { status, error } => (status, error),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_parameters_are_invalid_requests_naming_what_is_wrong() {
    let (dir, _, labeler, client) = start("invalid").await;
    let mut cases = Vec::new();
    cases.push((params(&["at://did:plc:x/*/post"]), "before its end"));
    cases.push((params(&[""]), "empty URI pattern"));
    let mut bad_cursor = params(&["*"]);
    bad_cursor.cursor = Some("yesterday".to_owned());
    cases.push((bad_cursor, "cursor"));
    for limit in [0, 251] {
        let mut bad_limit = params(&["*"]);
        bad_limit.limit = Some(limit);
        cases.push((bad_limit, "limit"));
    }
    for (params, expected) in cases {
        let (status, error) = refused(&client, &params).await;
        assert_eq!(status, 400, "{params:?}");
        match error {
            CommonError::InvalidRequest { message } => {
                let message = message.unwrap_or_default();
                assert!(message.contains(expected), "{params:?}: {message}");
            }
            other => panic!("{params:?}: {other:?}"),
        }
    }
    // The same checks without a server.
    assert!(matches!(
        labeler.query(params(&[])).await,
        Err(atlex_labeler::LabelerError::Invalid(_))
    ));
    let too_long = "x".repeat(129);
    assert!(matches!(
        labeler.label(ALICE.parse().unwrap(), &too_long).await,
        Err(atlex_labeler::LabelerError::Invalid(_))
    ));
    assert_eq!(labeler.log().latest_seq(), None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_stream_goes_live_and_refuses_a_cursor_in_the_future() {
    let (dir, _, labeler, client) = start("live").await;
    labeler
        .label(ALICE.parse().unwrap(), "first")
        .await
        .unwrap();
    let mut from_one = subscribe_labels::Params::new();
    from_one.cursor = Some(1);
    let mut stream = client.subscribe(SubscribeLabels, &from_one);
    let writer = labeler.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        writer.label(BOB.parse().unwrap(), "second").await.unwrap();
    });
    match stream.next().await.unwrap().unwrap() {
        Message::Labels(labels) => {
            assert_eq!(labels.seq, 2);
            assert_eq!(summary(&labels.labels), [entry(BOB, "second", false)]);
        }
        other => panic!("{other:?}"),
    }
    let mut ahead = subscribe_labels::Params::new();
    ahead.cursor = Some(10);
    let mut stream = client.subscribe(SubscribeLabels, &ahead);
    assert!(matches!(
        stream.next().await.unwrap(),
        Err(SubscriptionError::Endpoint(
            subscribe_labels::Error::FutureCursor { .. }
        ))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_labeler_opened_again_has_every_label_and_indexes_what_it_had_not() {
    let dir = dir("reopen");
    let key = SigningKey::generate(Curve::K256).unwrap();
    let path = dir.join("labels.sqlite");
    {
        let labeler = open(&dir, &key);
        for i in 0..3 {
            let uri = format!("{ALICE}/app.bsky.feed.post/{i}");
            labeler.label(uri.parse().unwrap(), "spam").await.unwrap();
        }
    }
    // A label appended to the log but never indexed, as after a crash
    // between the two.
    {
        let log =
            EventLog::<SubscribeLabels>::open(SqliteStore::open(&path, Durability::Full).unwrap())
                .unwrap();
        let label = Label::builder()
            .src(did())
            .uri(format!("{BOB}/app.bsky.feed.post/9").parse().unwrap())
            .val("spam".to_owned())
            .cts(Datetime::now())
            .build()
            .with_ver(1);
        let signed = atlex::label::sign(&label, &key).unwrap();
        let seq = log
            .append(|seq| {
                Labels::builder()
                    .seq(seq)
                    .labels(vec![signed])
                    .build()
                    .into()
            })
            .unwrap();
        assert_eq!(seq, 4);
    }
    let labeler = open(&dir, &key);
    let client = serve(&labeler).await;
    let answer = query(&client, &params(&["*"]), &key).await;
    assert_eq!(answer.labels.len(), 4);
    assert_eq!(
        summary(&answer.labels).last().unwrap(),
        &entry(&format!("{BOB}/app.bsky.feed.post/9"), "spam", false)
    );
    // The sequence goes on.
    let seq = labeler.label(BOB.parse().unwrap(), "after").await.unwrap();
    assert_eq!(seq, 5);
    assert_eq!(query(&client, &params(&["*"]), &key).await.labels.len(), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn past_the_retention_the_stream_says_outdated_cursor_and_queries_still_answer() {
    let dir = dir("retention");
    let key = SigningKey::generate(Curve::K256).unwrap();
    let labeler = Labeler::builder(did(), key.clone())
        .retention(Retention {
            max_events: Some(3),
            max_bytes: None,
            max_age: None,
        })
        .open(dir.join("labels.sqlite"))
        .unwrap();
    let client = serve(&labeler).await;
    for i in 0..6 {
        let uri = format!("{ALICE}/app.bsky.feed.post/{i}");
        labeler.label(uri.parse().unwrap(), "spam").await.unwrap();
    }
    labeler.log().trim().unwrap();
    assert_eq!(labeler.log().oldest_seq(), Some(4));

    let mut from_start = subscribe_labels::Params::new();
    from_start.cursor = Some(0);
    let mut stream = client.subscribe(SubscribeLabels, &from_start);
    match stream.next().await.unwrap().unwrap() {
        Message::Info(info) => {
            assert_eq!(info.name, subscribe_labels::InfoName::OutdatedCursor);
        }
        other => panic!("{other:?}"),
    }
    for expected_seq in 4..=6 {
        match stream.next().await.unwrap().unwrap() {
            Message::Labels(labels) => assert_eq!(labels.seq, expected_seq),
            other => panic!("{other:?}"),
        }
    }
    // The index keeps the labels whose events the log let go.
    let answer = query(&client, &params(&["*"]), &key).await;
    assert_eq!(answer.labels.len(), 6);
    // And after a restart, which trims the log again (the served labeler
    // stays open beside it, appending nothing).
    drop(labeler);
    let labeler = Labeler::open(dir.join("labels.sqlite"), did(), key.clone()).unwrap();
    assert_eq!(labeler.query(params(&["*"])).await.unwrap().labels.len(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}
