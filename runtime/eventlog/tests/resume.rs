//! A consumer that stops and starts again resumes where it stopped: the
//! router serves a log kept in SQLite, `Client::subscribe` reads it, and the
//! cursor goes through `FileCursor` or `SqliteCursor`.

#![cfg(feature = "client")]

mod common;

use std::time::Duration;

use atlex::client::{Client, CursorStore, EventStream};
use atlex_eventlog::{Durability, FileCursor, SqliteCursor, SqliteStore};
use atlex_stream::EventLog;
use common::{Message, Params, Subscribe, TempDir, serve, tick};
use futures_util::StreamExt as _;

async fn next_seq(stream: &mut EventStream<Subscribe>) -> i64 {
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a message within 10 s");
    match item {
        Some(Ok(Message::Tick(tick))) => tick.seq,
        other => panic!("expected a tick, got {other:?}"),
    }
}

/// Reads `handle` messages, saving the cursor after each `save_every`,
/// then stops without saving the rest; returns the seqs read.
async fn consume(
    base: &str,
    store: impl CursorStore + 'static,
    cursor: Option<i64>,
    handle: usize,
    save_every: usize,
) -> Vec<i64> {
    let client = Client::new(base).unwrap();
    let mut stream = client
        .subscribe(Subscribe, &Params { cursor })
        .resume_with(store)
        .unwrap();
    let mut seqs = Vec::new();
    for n in 1..=handle {
        seqs.push(next_seq(&mut stream).await);
        if n % save_every == 0 {
            stream.save_cursor().unwrap();
        }
    }
    seqs
}

/// Two runs of a consumer, each with its own handle on one cursor (`a`,
/// then `b`), on a log that grows while the consumer is stopped.
async fn resumes_where_it_stopped(a: impl CursorStore + 'static, b: impl CursorStore + 'static) {
    let dir = TempDir::new("resume-log");
    let log = EventLog::<Subscribe>::open(
        SqliteStore::open(dir.path().join("events.sqlite"), Durability::Full).unwrap(),
    )
    .unwrap();
    for _ in 0..20 {
        log.append(|seq| tick(seq, "before")).unwrap();
    }
    let base = serve(&log).await;

    // No cursor saved: the parameters' cursor counts.
    assert_eq!(a.load().unwrap(), None);
    let first = consume(&base, a, Some(4), 7, 3).await;
    assert_eq!(first, (5..=11).collect::<Vec<_>>());
    for _ in 0..5 {
        log.append(|seq| tick(seq, "while stopped")).unwrap();
    }
    // Saved after the third and sixth message (7, then 10): 11 was handled
    // but not saved, so it comes again (at least once). The saved cursor
    // takes the place of the parameters' one.
    assert_eq!(b.load().unwrap(), Some(10));
    let second = consume(&base, b, Some(0), 15, 1).await;
    assert_eq!(second, (11..=25).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_consumer_resumes_from_a_file_cursor() {
    let dir = TempDir::new("resume-file");
    let path = dir.path().join("consumer.cursor");
    resumes_where_it_stopped(FileCursor::new(&path), FileCursor::new(&path)).await;
    assert_eq!(FileCursor::new(&path).load().unwrap(), Some(25));
    // A file that does not hold a cursor is an error, not a fresh start.
    std::fs::write(&path, "not a number").unwrap();
    let error = FileCursor::new(&path).load().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn a_consumer_resumes_from_a_sqlite_cursor() {
    let dir = TempDir::new("resume-sqlite");
    let path = dir.path().join("state.sqlite");
    resumes_where_it_stopped(
        SqliteCursor::open(&path, "events").unwrap(),
        SqliteCursor::open(&path, "events").unwrap(),
    )
    .await;
    let cursor = |name: &str| SqliteCursor::open(&path, name).unwrap().load().unwrap();
    assert_eq!(cursor("events"), Some(25));
    assert_eq!(cursor("other"), None);
}

#[tokio::test]
async fn a_stream_without_a_cursor_store_cannot_save() {
    let client = Client::new("http://127.0.0.1:9").unwrap();
    let mut stream = client.subscribe(Subscribe, &Params { cursor: None });
    let error = stream.save_cursor().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
}
