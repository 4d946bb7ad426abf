//! An `EventLog` kept in a `SqliteStore`: the sequence across reopenings,
//! replay from the store then live, the cursor rules, retention, and
//! appends from many threads.

mod common;

use std::time::Duration;

use atlex::service::Items;
use atlex_eventlog::{Durability, SqliteStore};
use atlex_stream::{EventLog, EventStore, Retention};
use common::{Got, Subscribe, TempDir, take, tick, ticks};

fn open(dir: &TempDir, retention: Retention) -> EventLog<Subscribe> {
    let store = SqliteStore::open(dir.path().join("events.sqlite"), Durability::Full).unwrap();
    EventLog::builder()
        .max_events(4)
        .retention(retention)
        .open(store)
        .unwrap()
}

/// Keeps the newest `count` events, whatever their size and age.
fn keep_events(count: u64) -> Retention {
    Retention {
        max_events: Some(count),
        max_bytes: None,
        max_age: None,
    }
}

fn items(log: &EventLog<Subscribe>, cursor: Option<i64>) -> Items<Subscribe> {
    log.subscribe(cursor).unwrap().into_parts().0
}

fn append(log: &EventLog<Subscribe>, count: usize) {
    for _ in 0..count {
        log.append(|seq| tick(seq, "text")).unwrap();
    }
}

#[tokio::test]
async fn a_reopened_log_continues_its_sequence_and_replays_from_the_store_then_live() {
    let dir = TempDir::new("reopen");
    let log = open(&dir, Retention::default());
    assert_eq!(log.latest_seq(), None);
    append(&log, 10);
    drop(log);

    let log = open(&dir, Retention::default());
    assert_eq!(log.latest_seq(), Some(10));
    assert_eq!(log.oldest_seq(), Some(1));
    assert_eq!(log.len(), 10);
    // Memory holds none of the ten (and at most 4 later): the replay
    // comes from the store, then the live events from memory.
    let mut replay = items(&log, Some(2));
    let mut live = items(&log, None);
    assert_eq!(take(&mut replay, 8).await, ticks(3..=10));
    append(&log, 6);
    assert_eq!(take(&mut replay, 6).await, ticks(11..=16));
    assert_eq!(take(&mut live, 6).await, ticks(11..=16));
    // A subscriber that starts behind memory (which holds 13..=16) reads
    // the store, then memory.
    let mut behind = items(&log, Some(9));
    assert_eq!(take(&mut behind, 7).await, ticks(10..=16));

    log.close();
    assert_eq!(take(&mut replay, 1).await, []);
}

#[tokio::test]
async fn cursors_ahead_and_behind_follow_the_stream_rules() {
    let dir = TempDir::new("cursors");
    let log = open(&dir, keep_events(5));
    append(&log, 12);
    assert!(
        log.subscribe(Some(13)).is_err(),
        "a future cursor is refused"
    );
    assert!(log.subscribe(Some(12)).is_ok());
    log.trim().unwrap();
    assert_eq!(log.oldest_seq(), Some(8));
    assert_eq!(log.len(), 5);

    let mut outdated = items(&log, Some(3));
    let mut expected = vec![Got::Info("OutdatedCursor".to_owned())];
    expected.extend(ticks(8..=12));
    assert_eq!(take(&mut outdated, 6).await, expected);

    // Reopened, the store is trimmed again, and the bounds come from it.
    drop(outdated);
    drop(log);
    let log = open(&dir, keep_events(2));
    assert_eq!((log.oldest_seq(), log.latest_seq()), (Some(11), Some(12)));
}

#[tokio::test]
async fn a_subscriber_whose_next_event_is_trimmed_away_is_too_slow() {
    let dir = TempDir::new("slow");
    let log = open(&dir, keep_events(3));
    append(&log, 3);
    let mut slow = items(&log, Some(0));
    assert_eq!(take(&mut slow, 1).await, ticks(1..=1));
    append(&log, 5);
    log.trim().unwrap();
    // The subscriber's batch still holds what it took; after it, the next
    // event it needs is gone.
    let mut expected = ticks(2..=3);
    expected.push(Got::Error("ConsumerTooSlow".to_owned()));
    assert_eq!(take(&mut slow, 100).await, expected);
}

#[test]
fn the_store_trims_by_count_bytes_and_age_and_keeps_the_newest() {
    let dir = TempDir::new("trim");
    let store = SqliteStore::open(dir.path().join("events.sqlite"), Durability::Process).unwrap();
    let frame = |seq: i64| {
        atlex::subscription::Frame::message("#tick", &serde_json::json!({ "seq": seq })).unwrap()
    };
    for seq in 1..=20 {
        store.append(seq, &frame(seq)).unwrap();
    }
    let size = frame(1).len() as u64;
    let keep = |max_events, max_bytes, max_age| Retention {
        max_events,
        max_bytes,
        max_age,
    };
    store.trim(&keep(Some(15), None, None)).unwrap();
    assert_eq!(store.bounds().unwrap(), Some((6, 20)));
    store.trim(&keep(None, Some(size * 10), None)).unwrap();
    assert_eq!(store.bounds().unwrap(), Some((11, 20)));
    // A limit a bit above ten frames still keeps ten.
    store.trim(&keep(None, Some(size * 10 + 3), None)).unwrap();
    assert_eq!(store.bounds().unwrap(), Some((11, 20)));
    store
        .trim(&keep(None, None, Some(Duration::from_secs(3600))))
        .unwrap();
    assert_eq!(store.bounds().unwrap(), Some((11, 20)));
    std::thread::sleep(Duration::from_millis(20));
    store.append(21, &frame(21)).unwrap();
    store
        .trim(&keep(None, None, Some(Duration::from_millis(10))))
        .unwrap();
    assert_eq!(store.bounds().unwrap(), Some((21, 21)));
    // Whatever the limits, the newest event stays.
    store
        .trim(&keep(Some(0), Some(0), Some(Duration::ZERO)))
        .unwrap();
    assert_eq!(store.bounds().unwrap(), Some((21, 21)));
    let read = store.read(0, 10).unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!((read[0].0, &read[0].1), (21, &frame(21)));
    // A number already taken is refused.
    assert!(store.append(21, &frame(21)).is_err());
}

#[test]
fn appends_from_many_threads_get_gapless_ordered_numbers() {
    let dir = TempDir::new("threads");
    let log = open(&dir, Retention::default());
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..100)
                    .map(|n| {
                        log.append(|seq| tick(seq, &format!("{thread}/{n}")))
                            .unwrap()
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut seqs: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=800).collect::<Vec<_>>());
    drop(log);
    // What the file holds: each number once, in order, with its own event.
    let store = SqliteStore::open(dir.path().join("events.sqlite"), Durability::Full).unwrap();
    let mut next = 1;
    loop {
        let events = store.read(next, 128).unwrap();
        if events.is_empty() {
            break;
        }
        for (seq, frame) in events {
            assert_eq!(seq, next);
            let message = atlex::subscription::decode_message::<Subscribe>(frame.as_bytes(), false);
            assert!(matches!(message, Ok(common::Message::Tick(t)) if t.seq == seq));
            next += 1;
        }
    }
    assert_eq!(next, 801);
}
