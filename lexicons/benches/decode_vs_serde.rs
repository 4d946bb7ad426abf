//! Decoding a page with the generated types against hand-written serde types
//! of the same shape (`benches/handwritten`) and against `serde_json::Value`,
//! on two pages: the 100-convo `chat.bsky.convo.listConvos` fixture (599 KB)
//! and a 100-item `app.bsky.feed.getTimeline` page (557 KB). Goal: decoding
//! with the generated types costs at most 1.0× what the hand-written types
//! cost.
//!
//! The contenders, each decoding with `serde_json::from_str` (the decoded
//! value is dropped outside what is measured):
//!
//! - `atlex`: the generated `Output` of the endpoint;
//! - `serde-tagged`: hand-written types whose unions are
//!   `#[serde(tag = "$type")]` enums;
//! - `serde-peeked`: the same types, their unions decoded by a hand-written
//!   `Deserialize` that reads a leading `$type` and decodes the member
//!   without buffering it;
//! - `value`: `serde_json::Value`.
//!
//! Three ways to run it:
//!
//! - `cargo bench -p atlex-lexicons --bench decode_vs_serde`: divan, each
//!   contender and page timed on its own.
//! - `cargo bench -p atlex-lexicons --bench decode_vs_serde -- interleaved
//!   [--rounds N] [--samples K]` (or `cargo xtask bench decode`): N rounds
//!   (default 5) of K samples (default 40) per page, each sample decoding the
//!   page once with every contender in an order that rotates from sample to
//!   sample. Each round prints each contender's median time and its ratio to
//!   atlex's; the summary gives the median of the rounds' ratios and their
//!   range, and the same for the ratios of the rounds' fastest samples (less
//!   moved by a slow spell of the machine).
//! - `cargo bench -p atlex-lexicons --bench decode_vs_serde -- callgrind`
//!   (or `cargo xtask bench decode --callgrind`): instructions per decode
//!   under valgrind's callgrind, which counts only the decoding function
//!   (`--toggle-collect`). Each contender runs in two processes, decoding
//!   the page 2 and 10 times; the difference divided by 8 leaves out what
//!   happens once (the allocator growing its heap).

use std::any::Any;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use atlex_lexicons::app::bsky::feed::get_timeline;
use atlex_lexicons::chat::bsky::convo::list_convos;
use serde::de::DeserializeOwned;

#[path = "handwritten/mod.rs"]
mod handwritten;

use handwritten::{peeked, tagged};

/// A decoded page, kept until it is dropped outside the measurement.
type Decoded = Box<dyn Any>;

/// Decodes one page, or says why not.
type Decode = fn(&str) -> Result<Decoded, serde_json::Error>;

fn decode<T: DeserializeOwned + 'static>(text: &str) -> Result<Decoded, serde_json::Error> {
    serde_json::from_str::<T>(text).map(|value| Box::new(value) as Decoded)
}

/// A way of decoding both pages.
struct Contender {
    name: &'static str,
    convos: Decode,
    timeline: Decode,
}

/// The contenders; atlex first, the reference of every ratio.
const CONTENDERS: &[Contender] = &[
    Contender {
        name: "atlex",
        convos: decode::<list_convos::Output>,
        timeline: decode::<get_timeline::Output>,
    },
    Contender {
        name: "serde-tagged",
        convos: decode::<tagged::ListConvosOutput>,
        timeline: decode::<tagged::GetTimelineOutput>,
    },
    Contender {
        name: "serde-peeked",
        convos: decode::<peeked::ListConvosOutput>,
        timeline: decode::<peeked::GetTimelineOutput>,
    },
    Contender {
        name: "value",
        convos: decode::<serde_json::Value>,
        timeline: decode::<serde_json::Value>,
    },
];

/// A fixture page.
#[derive(Clone, Copy, Debug)]
enum Page {
    Convos,
    Timeline,
}

const PAGES: [Page; 2] = [Page::Convos, Page::Timeline];

impl Page {
    fn name(self) -> &'static str {
        match self {
            Page::Convos => "convos",
            Page::Timeline => "timeline",
        }
    }

    fn parse(name: &str) -> Option<Page> {
        PAGES.into_iter().find(|page| page.name() == name)
    }

    fn text(self) -> String {
        let file = match self {
            Page::Convos => "list_convos_100.json",
            Page::Timeline => "get_timeline_100.json",
        };
        let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
    }

    fn decoder(self, contender: &Contender) -> Decode {
        match self {
            Page::Convos => contender.convos,
            Page::Timeline => contender.timeline,
        }
    }
}

/// Decodes `text` with `decode`: the one function callgrind counts.
#[inline(never)]
fn measured(decode: Decode, text: &str) -> Result<Decoded, serde_json::Error> {
    decode(std::hint::black_box(text))
}

/// Decodes `text` once with each contender: an error names the contender.
fn check(page: Page, text: &str) -> Result<(), String> {
    for contender in CONTENDERS {
        page.decoder(contender)(text).map_err(|e| {
            format!(
                "{} cannot decode the {} page: {e}",
                contender.name,
                page.name()
            )
        })?;
    }
    Ok(())
}

fn bench(bencher: divan::Bencher, page: Page, contender: usize) {
    let text = page.text();
    let decode = page.decoder(&CONTENDERS[contender]);
    if let Err(e) = decode(&text) {
        panic!(
            "{} on the {} page: {e}",
            CONTENDERS[contender].name,
            page.name()
        );
    }
    bencher.bench(|| decode(divan::black_box(&text)).ok());
}

#[divan::bench(args = PAGES, sample_count = 100)]
fn atlex(bencher: divan::Bencher, page: Page) {
    bench(bencher, page, 0);
}

#[divan::bench(args = PAGES, sample_count = 100)]
fn serde_tagged(bencher: divan::Bencher, page: Page) {
    bench(bencher, page, 1);
}

#[divan::bench(args = PAGES, sample_count = 100)]
fn serde_peeked(bencher: divan::Bencher, page: Page) {
    bench(bencher, page, 2);
}

#[divan::bench(args = PAGES, sample_count = 100)]
fn value(bencher: divan::Bencher, page: Page) {
    bench(bencher, page, 3);
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `interleaved`: rounds of samples, every contender once per sample.
fn interleaved(rounds: usize, samples: usize) -> Result<(), String> {
    let pages: Vec<(Page, String)> = PAGES.iter().map(|&page| (page, page.text())).collect();
    for (page, text) in &pages {
        check(*page, text)?;
    }
    let n = CONTENDERS.len();
    // medians[page][contender][round] and fastest[page][contender][round]:
    // the median and the fastest of the round's samples, in ms.
    let mut medians = vec![vec![Vec::new(); n]; pages.len()];
    let mut fastest = vec![vec![Vec::new(); n]; pages.len()];
    println!("{rounds} rounds of {samples} samples per page; median ms per decode, ratio to atlex");
    for round in 0..rounds {
        for (p, (page, text)) in pages.iter().enumerate() {
            let mut round_times = vec![Vec::with_capacity(samples); n];
            for sample in 0..samples {
                for k in 0..n {
                    let c = (sample + k) % n;
                    let decode = page.decoder(&CONTENDERS[c]);
                    let start = Instant::now();
                    let decoded = measured(decode, text);
                    let elapsed = start.elapsed();
                    drop(decoded);
                    round_times[c].push(millis(elapsed));
                }
            }
            let mut line = format!("round {} {:<8}", round + 1, page.name());
            for (c, times) in round_times.iter_mut().enumerate() {
                let (middle, low, _) = spread(times);
                medians[p][c].push(middle);
                fastest[p][c].push(low);
                line.push_str(&format!(" {} {middle:.3}", CONTENDERS[c].name));
                if c > 0 {
                    line.push_str(&format!(" ({:.2}×)", middle / medians[p][0][round]));
                }
            }
            println!("{line}");
        }
    }
    println!(
        "\nover {rounds} rounds, ratio to atlex of the rounds' medians and of their fastest \
         samples: median (range); median ms (range)"
    );
    for (p, (page, _)) in pages.iter().enumerate() {
        for (c, contender) in CONTENDERS.iter().enumerate() {
            let (ms, low_ms, high_ms) = spread(&mut medians[p][c].clone());
            let ratios = if c == 0 {
                String::from("reference")
            } else {
                let ratio = |times: &[Vec<f64>]| {
                    let mut r: Vec<f64> = (0..rounds).map(|i| times[c][i] / times[0][i]).collect();
                    let (middle, low, high) = spread(&mut r);
                    format!("{middle:.2}× ({low:.2}–{high:.2})")
                };
                format!("{} fastest {}", ratio(&medians[p]), ratio(&fastest[p]))
            };
            println!(
                "  {:<8} {:<12} {ratios:<42} {ms:.3} ms ({low_ms:.3}–{high_ms:.3})",
                page.name(),
                contender.name
            );
        }
    }
    Ok(())
}

/// Median, minimum and maximum.
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    let middle = median(values);
    (middle, values[0], values[values.len() - 1])
}

/// The decodes of the two callgrind runs of each contender.
const CALLGRIND_RUNS: [usize; 2] = [2, 10];

/// `callgrind`: instructions per decode of each contender, each page.
fn callgrind() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    println!(
        "instructions per decode under callgrind ({} and {} decodes, difference divided by {})",
        CALLGRIND_RUNS[0],
        CALLGRIND_RUNS[1],
        CALLGRIND_RUNS[1] - CALLGRIND_RUNS[0]
    );
    for page in PAGES {
        check(page, &page.text())?;
        let mut reference = None;
        for contender in CONTENDERS {
            let mut counts = [0u64; 2];
            for (count, decodes) in counts.iter_mut().zip(CALLGRIND_RUNS) {
                *count = instructions(&exe, page, contender.name, decodes)?;
            }
            let per_decode = counts[1].saturating_sub(counts[0]) as f64
                / (CALLGRIND_RUNS[1] - CALLGRIND_RUNS[0]) as f64;
            let reference = *reference.get_or_insert(per_decode);
            println!(
                "  {:<8} {:<12} {:>8.2} M ({:.2}× atlex)",
                page.name(),
                contender.name,
                per_decode / 1e6,
                per_decode / reference
            );
        }
    }
    Ok(())
}

/// Runs this program under callgrind decoding `page` `decodes` times with
/// `contender`; the instructions counted in `measured`.
fn instructions(
    exe: &std::path::Path,
    page: Page,
    contender: &str,
    decodes: usize,
) -> Result<u64, String> {
    let output = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=*decode_vs_serde::measured*",
        ])
        .arg(exe)
        .args([
            "callgrind-child",
            page.name(),
            contender,
            &decodes.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "valgrind failed for {contender} on {}:\n{log}",
            page.name()
        ));
    }
    // callgrind ends its log with `==PID== Collected : N`.
    log.lines()
        .find_map(|line| {
            line.split_once("Collected :")
                .map(|(_, n)| n.trim().parse().ok())
        })
        .flatten()
        .ok_or_else(|| format!("no instruction count in valgrind's output:\n{log}"))
}

/// `callgrind-child PAGE CONTENDER N`: what `instructions` runs.
fn callgrind_child(args: &[&str]) -> Result<(), String> {
    let [page, contender, decodes] = args else {
        return Err("callgrind-child takes PAGE CONTENDER DECODES".into());
    };
    let page = Page::parse(page).ok_or_else(|| format!("no page {page}"))?;
    let contender = CONTENDERS
        .iter()
        .find(|c| c.name == *contender)
        .ok_or_else(|| format!("no contender {contender}"))?;
    let decodes: usize = decodes
        .parse()
        .map_err(|_| format!("not a count: {decodes}"))?;
    let text = page.text();
    let decode = page.decoder(contender);
    for _ in 0..decodes {
        let decoded = measured(decode, &text).map_err(|e| format!("{}: {e}", contender.name))?;
        drop(decoded);
    }
    Ok(())
}

const USAGE: &str = "usage: decode_vs_serde [divan options]
       decode_vs_serde interleaved [--rounds N] [--samples K]
       decode_vs_serde callgrind";

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["interleaved", options @ ..] => {
            let (mut rounds, mut samples) = (5, 40);
            let mut options = options.iter();
            while let Some(option) = options.next() {
                let number = options
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|&n| n > 0);
                match (*option, number) {
                    ("--rounds", Some(n)) => rounds = n,
                    ("--samples", Some(n)) => samples = n,
                    _ => {
                        eprintln!("{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            interleaved(rounds, samples)
        }
        ["callgrind"] => callgrind(),
        ["callgrind-child", rest @ ..] => callgrind_child(rest),
        _ => {
            divan::main();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
