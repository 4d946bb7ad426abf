//! Append throughput of an `EventLog` in memory, on SQLite with
//! `Durability::Full` (an fsync per append) and with `Durability::Process`,
//! and on PostgreSQL (a server of its own, scripts/postgres.sh), measured in
//! interleaved rounds so that the disk's and the machine's drift touch all
//! four alike. Prints the median of each.
//!
//! `cargo bench -p atlex-eventlog --bench append`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use atlex_eventlog::{Durability, PostgresStore, SqliteStore};
use atlex_stream::EventLog;
use common::postgres::Postgres;
use common::{Subscribe, TempDir, tick};

const ROUNDS: usize = 7;
/// Appends per round, per backend.
const APPENDS: usize = 2_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = TempDir::new("bench");
    let text = "x".repeat(200);
    let postgres = Postgres::start();
    let mut rates: [Vec<f64>; 4] = Default::default();
    for round in 0..ROUNDS {
        for (backend, rates) in rates.iter_mut().enumerate() {
            let log = match backend {
                0 => EventLog::<Subscribe>::new(),
                1 | 2 => {
                    let durability = if backend == 1 {
                        Durability::Full
                    } else {
                        Durability::Process
                    };
                    let path = dir.path().join(format!("{backend}-{round}.sqlite"));
                    EventLog::open(SqliteStore::open(path, durability)?)?
                }
                3 => EventLog::open(PostgresStore::connect(
                    postgres.config(),
                    &format!("round-{round}"),
                )?)?,
                _ => unreachable!(),
            };
            let started = Instant::now();
            for _ in 0..APPENDS {
                log.append(|seq| tick(seq, &text))?;
            }
            rates.push(APPENDS as f64 / started.elapsed().as_secs_f64());
        }
    }
    for (name, rates) in [
        "memory",
        "sqlite full (fsync each)",
        "sqlite process (no fsync)",
        "postgres",
    ]
    .iter()
    .zip(&mut rates)
    {
        rates.sort_by(f64::total_cmp);
        println!(
            "{name:>28}: median {:>10.0} appends/s (min {:.0}, max {:.0}; {ROUNDS} rounds of {APPENDS})",
            rates[ROUNDS / 2],
            rates[0],
            rates[ROUNDS - 1]
        );
    }
    Ok(())
}
