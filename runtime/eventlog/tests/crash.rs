//! A log on SQLite survives its process being killed in the middle of
//! appends: a child process appends from four threads and prints each
//! number as its append returns; it is killed with SIGKILL; the log opened
//! again on the file holds every number printed, in order, once each, with
//! no gap, continues after the newest, and serves a subscriber that
//! reconnects with its cursor exactly the events after it.

mod common;

use atlex_eventlog::{Durability, SqliteStore};
use atlex_stream::{EventLog, EventStore};
use common::{Got, Subscribe, TempDir, run_until_killed, take, tick, ticks};

const FILE: &str = "ATLEX_EVENTLOG_CRASH_FILE";
const DURABILITY: &str = "ATLEX_EVENTLOG_CRASH_DURABILITY";

fn durability(name: &str) -> Durability {
    match name {
        "full" => Durability::Full,
        "process" => Durability::Process,
        other => panic!("unknown durability {other}"),
    }
}

/// The child: appends until killed, printing `ack SEQ` once each append
/// has returned.
#[test]
#[ignore = "the child process of `every_acknowledged_event_survives_sigkill`"]
fn append_until_killed() {
    let path = std::env::var(FILE).expect("run by the crash test, which sets the file");
    let durability = durability(&std::env::var(DURABILITY).expect("and the durability"));
    let log = EventLog::<Subscribe>::open(SqliteStore::open(path, durability).unwrap()).unwrap();
    common::append_until_killed(&log, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_acknowledged_event_survives_sigkill() {
    let dir = TempDir::new("crash");
    let path = dir.path().join("events.sqlite");
    let mut previous_last = 0;
    for (run, (durability, kill_after)) in [
        ("full", 50),
        ("process", 2_000),
        ("full", 333),
        ("process", 777),
        ("full", 1_000),
    ]
    .into_iter()
    .enumerate()
    {
        let child_path = path.clone();
        let acked = tokio::task::spawn_blocking(move || {
            let env = [
                (FILE, child_path.as_os_str()),
                (DURABILITY, durability.as_ref()),
            ];
            run_until_killed("append_until_killed", &env, kill_after)
        })
        .await
        .unwrap();

        let store = SqliteStore::open(&path, Durability::Full).unwrap();
        let (first, last) = store.bounds().unwrap().unwrap();
        assert_eq!(first, 1);
        let mut stored: Vec<i64> = Vec::new();
        loop {
            let events = store
                .read(stored.last().map_or(1, |seq| seq + 1), 512)
                .unwrap();
            if events.is_empty() {
                break;
            }
            for (seq, frame) in events {
                let message =
                    atlex::subscription::decode_message::<Subscribe>(frame.as_bytes(), false);
                assert!(matches!(message, Ok(common::Message::Tick(t)) if t.seq == seq));
                stored.push(seq);
            }
        }
        // Gapless, in order, once each, from 1.
        assert_eq!(stored, (1..=last).collect::<Vec<_>>(), "run {run}");
        // This run continued the sequence, and every number it
        // acknowledged is there (the newest stored may not have been
        // acknowledged before the kill).
        let (&low, &high) = (acked.first().unwrap(), acked.last().unwrap());
        assert_eq!(low, previous_last + 1, "run {run} continues the sequence");
        assert!(
            high <= last,
            "run {run}: acknowledged {high}, stored up to {last}"
        );
        assert!(
            last - high < 8,
            "run {run}: stored up to {last}, acknowledged {high}"
        );
        println!(
            "run {run} ({durability}): {} acknowledged ({low}..={high}), {} stored in all, {} stored unacknowledged",
            acked.len(),
            last,
            last - high
        );
        drop(store);

        // The log opened again: a subscriber that had read up to the middle
        // of this run gets exactly the rest, then what comes next.
        let log = EventLog::<Subscribe>::open(SqliteStore::open(&path, Durability::Full).unwrap())
            .unwrap();
        assert_eq!(log.latest_seq(), Some(last));
        let cursor = (low + high) / 2;
        let (mut items, _) = log.subscribe(Some(cursor)).unwrap().into_parts();
        let rest = usize::try_from(last - cursor).unwrap();
        assert_eq!(
            take(&mut items, rest).await,
            ticks(cursor + 1..=last),
            "run {run}"
        );
        let next = log.append(|seq| tick(seq, "after the restart")).unwrap();
        assert_eq!(next, last + 1);
        assert_eq!(take(&mut items, 1).await, [Got::Tick(next)]);
        previous_last = next;
    }
}
