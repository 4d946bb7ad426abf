//! Durable append and fan-out: a server on loopback appends to an
//! `EventLog` and serves it to 100 WebSocket consumers (`Client::subscribe`,
//! each decoding every frame), for each store: memory only, SQLite with
//! `Durability::Full` and `Durability::Process`, and PostgreSQL (a server of
//! its own, started by scripts/postgres.sh). A sample appends 200 events
//! and ends when every consumer has all of them; divan's items/s are events
//! appended and delivered to all 100.
//!
//!     cargo bench -p atlex-eventlog --bench fanout

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use atlex::client::Client;
use atlex_eventlog::{Durability, PostgresStore, SqliteStore};
use atlex_stream::EventLog;
use common::postgres::Postgres;
use common::{Message, Params, Subscribe, TempDir, serve, tick};
use divan::counter::ItemsCount;
use futures_util::StreamExt as _;

const CONSUMERS: u64 = 100;
/// Events appended per sample.
const EVENTS: u64 = 200;

fn main() {
    divan::main();
}

/// A log on `backend`, served to `CONSUMERS` consumers that count what
/// they receive.
struct FanOut {
    log: EventLog<Subscribe>,
    delivered: Arc<AtomicU64>,
    appended: u64,
    text: String,
    // Dropped last: the server and consumers, then the stores' places.
    _runtime: tokio::runtime::Runtime,
    _postgres: Option<Postgres>,
    _dir: TempDir,
}

impl FanOut {
    fn new(backend: &str) -> Self {
        let dir = TempDir::new("fanout");
        let mut postgres = None;
        let log = match backend {
            "memory" => EventLog::<Subscribe>::new(),
            "sqlite-full" | "sqlite-process" => {
                let durability = if backend == "sqlite-full" {
                    Durability::Full
                } else {
                    Durability::Process
                };
                let path = dir.path().join("events.sqlite");
                EventLog::open(SqliteStore::open(path, durability).unwrap()).unwrap()
            }
            "postgres" => {
                let server = postgres.insert(Postgres::start());
                EventLog::open(PostgresStore::connect(server.config(), "bench").unwrap()).unwrap()
            }
            other => panic!("unknown backend {other}"),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let text = "x".repeat(200);
        // One event before the consumers connect, so that they can all start
        // from it (cursor 0) and none misses the first sample's events.
        log.append(|seq| tick(seq, &text)).unwrap();
        let delivered = Arc::new(AtomicU64::new(0));
        runtime.block_on(async {
            let base = serve(&log).await;
            for _ in 0..CONSUMERS {
                let client = Client::new(&base).unwrap();
                let delivered = Arc::clone(&delivered);
                tokio::spawn(async move {
                    let mut stream = client.subscribe(Subscribe, &Params { cursor: Some(0) });
                    while let Some(message) = stream.next().await {
                        match message {
                            Ok(Message::Tick(_)) => {
                                delivered.fetch_add(1, Ordering::Relaxed);
                            }
                            other => panic!("a consumer got {other:?}"),
                        }
                    }
                });
            }
        });
        let fan_out = Self {
            log,
            delivered,
            appended: 1,
            text,
            _runtime: runtime,
            _postgres: postgres,
            _dir: dir,
        };
        fan_out.wait();
        fan_out
    }

    /// Waits until every consumer has every event appended.
    fn wait(&self) {
        let target = self.appended * CONSUMERS;
        let started = Instant::now();
        while self.delivered.load(Ordering::Relaxed) < target {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the consumers stopped receiving"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn sample(&mut self) {
        for _ in 0..EVENTS {
            self.log.append(|seq| tick(seq, &self.text)).unwrap();
        }
        self.appended += EVENTS;
        self.wait();
    }
}

#[divan::bench(
    args = ["memory", "sqlite-full", "sqlite-process", "postgres"],
    sample_count = 15,
    sample_size = 1,
)]
fn append_and_fan_out_to_100(bencher: divan::Bencher, backend: &str) {
    let mut fan_out = FanOut::new(backend);
    bencher
        .counter(ItemsCount::new(EVENTS))
        .bench_local(|| fan_out.sample());
}
