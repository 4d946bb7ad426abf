//! Jetstream v1 events decoded into typed events against the same events
//! decoded into `serde_json::Value`: events/s, and their ratio. Goal: the
//! typed events decode at least as fast (ratio ≥ 1.0×).
//!
//! The events are 10,000 of the generated mix of `tests/common/events.rs`
//! (likes 45%, posts 15% with facets, images, link cards, quotes and
//! replies, follows 15%, reposts 10%, deletes 8%, blocks, profiles,
//! identity and account events), 5.5 MB of JSON. Each is decoded from its
//! own text, as a stream's consumer does, and dropped. The contenders:
//!
//! - `typed`: [`Event<Record>`]: every DID, NSID, TID, record key, CID,
//!   AT URI and datetime checked, records in the generated dispatch;
//! - `unknown`: [`Event<Unknown>`]: the event typed, records kept as data;
//! - `value`: `serde_json::Value` of the whole event.
//!
//! Two ways to run it:
//!
//! - `cargo bench -p atlex-jetstream --bench decode`: divan, each contender
//!   timed on its own.
//! - `cargo bench -p atlex-jetstream --bench decode -- interleaved [--rounds
//!   N] [--samples K]`: N rounds (default 9) of K samples (default 10),
//!   each sample decoding every event once with each contender, in an order
//!   that rotates from sample to sample. Each round prints each contender's
//!   median events/s; the summary gives, for each contender, the median of
//!   the rounds' ratios of its events/s to `value`'s, and their range.

use std::time::Instant;

use atlex::data::Unknown;
use atlex_jetstream::v1::Event;
use atlex_lexicons::Record;

#[path = "../tests/common/events.rs"]
#[allow(dead_code, unreachable_pub)]
mod events;

const EVENTS: usize = 10_000;

/// Decodes every event once; returns how many decoded.
type Decode = fn(&[String]) -> usize;

fn typed(events: &[String]) -> usize {
    events
        .iter()
        .filter(|text| std::hint::black_box(Event::<Record>::from_json(text)).is_ok())
        .count()
}

fn unknown(events: &[String]) -> usize {
    events
        .iter()
        .filter(|text| std::hint::black_box(Event::<Unknown>::from_json(text)).is_ok())
        .count()
}

fn value(events: &[String]) -> usize {
    events
        .iter()
        .filter(|text| {
            std::hint::black_box(serde_json::from_str::<serde_json::Value>(text)).is_ok()
        })
        .count()
}

/// The contenders; `value` first, the reference of every ratio.
const CONTENDERS: &[(&str, Decode)] = &[("value", value), ("typed", typed), ("unknown", unknown)];

fn mix() -> Vec<String> {
    let events = events::mix(EVENTS, 1);
    for (name, decode) in CONTENDERS {
        assert_eq!(decode(&events), EVENTS, "{name} decodes every event");
    }
    events
}

#[divan::bench(sample_count = 20)]
fn bench_value(bencher: divan::Bencher) {
    let events = mix();
    bencher.bench(|| value(divan::black_box(&events)));
}

#[divan::bench(sample_count = 20)]
fn bench_typed(bencher: divan::Bencher) {
    let events = mix();
    bencher.bench(|| typed(divan::black_box(&events)));
}

#[divan::bench(sample_count = 20)]
fn bench_unknown(bencher: divan::Bencher) {
    let events = mix();
    bencher.bench(|| unknown(divan::black_box(&events)));
}

/// The median (the upper one of an even count); sorts `values`.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn interleaved(rounds: usize, samples: usize) {
    let events = mix();
    let bytes: usize = events.iter().map(String::len).sum();
    let n = CONTENDERS.len();
    // rates[contender][round]: the median events/s of the round's samples.
    let mut rates = vec![Vec::new(); n];
    println!(
        "{EVENTS} events ({:.1} MB), {rounds} rounds of {samples} samples; median events/s, ratio to value",
        bytes as f64 / 1e6
    );
    for round in 0..rounds {
        let mut round_rates = vec![Vec::with_capacity(samples); n];
        for sample in 0..samples {
            for k in 0..n {
                let c = (sample + k) % n;
                let start = Instant::now();
                let decoded = CONTENDERS[c].1(&events);
                let elapsed = start.elapsed();
                assert_eq!(decoded, EVENTS);
                round_rates[c].push(EVENTS as f64 / elapsed.as_secs_f64());
            }
        }
        let mut line = format!("round {}", round + 1);
        for (c, samples) in round_rates.iter_mut().enumerate() {
            let rate = median(samples);
            rates[c].push(rate);
            line.push_str(&format!(" {} {rate:.0}", CONTENDERS[c].0));
            if c > 0 {
                line.push_str(&format!(" ({:.2}×)", rate / rates[0][round]));
            }
        }
        println!("{line}");
    }
    println!("\nover {rounds} rounds: events/s median (range); ratio to value median (range)");
    for (c, (name, _)) in CONTENDERS.iter().enumerate() {
        let mut own = rates[c].clone();
        let rate = median(&mut own);
        let (low, high) = (own[0], own[rounds - 1]);
        let ratio = if c == 0 {
            "reference".to_owned()
        } else {
            let mut ratios: Vec<f64> = (0..rounds).map(|r| rates[c][r] / rates[0][r]).collect();
            let middle = median(&mut ratios);
            format!("{middle:.2}× ({:.2}–{:.2})", ratios[0], ratios[rounds - 1])
        };
        println!("  {name:<8} {rate:>9.0} ({low:.0}–{high:.0})  {ratio}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("interleaved") {
        let option = |name: &str, default: usize| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .map_or(default, |v| v.parse().expect("a number"))
        };
        interleaved(option("--rounds", 9).max(1), option("--samples", 10).max(1));
    } else {
        divan::main();
    }
}
