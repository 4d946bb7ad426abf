//! Loading, verifying and walking a repository of 100,000 records from its
//! CAR into typed records: atlex against jacquard-repo 0.12, on the same
//! bytes (the CAR `repo_compare::repository_car` builds, 45 MB).
//!
//! What each side does, from the CAR's bytes to every record decoded and
//! dropped:
//!
//! - `atlex`: `read_repo_car` (every block's SHA-256 checked against its
//!   CID, the blocks indexed, the commit decoded), the commit's signature
//!   checked (`Commit::verify`), `Repo::open`, then `Repo::records` into
//!   `atlex_lexicons::Record`, the generated dispatch on `$type` (each tree
//!   node checked as it is read: key order, depth, ranges, canonical CBOR).
//! - `jacquard`: `car::parse_car_bytes` (iroh-car; it checks no block
//!   against its CID, so each block's CID is then recomputed with
//!   `mst::util::compute_cid` and compared, the check atlex makes),
//!   `Commit::from_cbor` and `Commit::verify`, `Mst::load` over a
//!   `MemoryBlockStore` of the blocks, `Mst::leaves_sequential` (the
//!   one-thread walk; `leaves` spawns a task per subtree), then each record's
//!   block from the store, decoded with `serde_ipld_dagcbor` into jacquard's
//!   `Data` and from that (`value::from_data`) into the jacquard-api type its
//!   collection names (`Post`, `Like`, `Repost`, `Follow`). Straight from
//!   the CBOR those types do not decode a strong reference, whose `cid` is a
//!   text string in DAG-CBOR (jacquard's `Cid` reads only a link from a
//!   binary format), so every like, repost and quote would fail.
//! - `jacquard-data`: the same, each record left as `Data`.
//!
//! All walk on one thread, and all are run on the CAR once before timing
//! and must count the same records of each kind.
//!
//! Runs:
//!
//! - `cargo bench --manifest-path benches/repo-compare/Cargo.toml --bench
//!   repo_compare [-- --rounds N --samples K]`: N rounds (default 3) of K
//!   samples (default 5), each sample reading the CAR once with each side, in
//!   an order that rotates from sample to sample. Each round prints each
//!   side's median time and MB/s and its time over atlex's; the summary
//!   gives the median of the rounds' ratios and their range.
//! - `-- atlex`, `-- jacquard` or `-- jacquard-data`: that side only,
//!   `--samples K` times (for a profiler).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use atlex_lexicons::Record;
use atlex_repo::repo::Repo;
use atlex_repo::repo_car::read_repo_car;
use jacquard_api::app_bsky::feed::{like::Like, post::Post, repost::Repost};
use jacquard_api::app_bsky::graph::follow::Follow;
use jacquard_common::types::value::Data;
use jacquard_repo::commit::Commit;
use jacquard_repo::mst::util::compute_cid;
use jacquard_repo::{BlockStore, MemoryBlockStore, Mst};
use repo_compare::{RECORDS, public_key, repository_car};

/// How many records of each kind a side read.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    posts: usize,
    likes: usize,
    reposts: usize,
    follows: usize,
    other: usize,
}

impl Counts {
    fn total(&self) -> usize {
        self.posts + self.likes + self.reposts + self.follows + self.other
    }
}

/// atlex: the CAR read and verified, the commit's signature checked, every
/// record decoded into the generated record dispatch.
fn atlex(car: &[u8], key: &atlex_identity::crypto::PublicKey) -> Result<Counts, String> {
    let read = read_repo_car(car).map_err(|e| e.to_string())?;
    read.commit.verify(key).map_err(|e| e.to_string())?;
    let repo = Repo::open(&read.store, &read.commit_cid).map_err(|e| e.to_string())?;
    let mut counts = Counts::default();
    for record in repo.records::<Record>() {
        let record = record.map_err(|e| e.to_string())?;
        match record.record {
            Record::AppBskyFeedPost(_) => counts.posts += 1,
            Record::AppBskyFeedLike(_) => counts.likes += 1,
            Record::AppBskyFeedRepost(_) => counts.reposts += 1,
            Record::AppBskyGraphFollow(_) => counts.follows += 1,
            _ => counts.other += 1,
        }
    }
    Ok(counts)
}

/// jacquard-repo: the same steps with its API (see the module's docs).
async fn jacquard(
    car: &[u8],
    typed: bool,
    key: &jacquard_common::types::crypto::PublicKey<'static>,
) -> Result<Counts, String> {
    let parsed = jacquard_repo::car::parse_car_bytes(car)
        .await
        .map_err(|e| e.to_string())?;
    for (cid, data) in &parsed.blocks {
        if compute_cid(data).map_err(|e| e.to_string())? != *cid {
            return Err(format!("block {cid} does not match its CID"));
        }
    }
    let commit_bytes = parsed.blocks.get(&parsed.root).ok_or("no commit block")?;
    let commit = Commit::<smol_str::SmolStr>::from_cbor(commit_bytes).map_err(|e| e.to_string())?;
    commit.verify(key).map_err(|e| e.to_string())?;
    let store = Arc::new(MemoryBlockStore::new_from_blocks(parsed.blocks));
    let tree = Mst::load(store.clone(), *commit.data(), None);
    let leaves = tree.leaves_sequential().await.map_err(|e| e.to_string())?;
    let mut counts = Counts::default();
    for (path, cid) in leaves {
        let bytes = store
            .get(&cid)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("record {path} is missing"))?;
        let data: Data =
            serde_ipld_dagcbor::from_slice(&bytes).map_err(|e| format!("record {path}: {e}"))?;
        let collection = path.split_once('/').map_or(&*path, |(c, _)| c);
        if typed {
            match collection {
                "app.bsky.feed.post" => typed_from::<Post>(&data),
                "app.bsky.feed.like" => typed_from::<Like>(&data),
                "app.bsky.feed.repost" => typed_from::<Repost>(&data),
                "app.bsky.graph.follow" => typed_from::<Follow>(&data),
                _ => Ok(()),
            }
            .map_err(|e| format!("record {path}: {e}"))?;
        }
        count(&mut counts, collection);
    }
    Ok(counts)
}

/// Decodes `T` from a record read as `Data` (the typed path that reads
/// strong references: see the module's docs), and drops it.
fn typed_from<T: serde::de::DeserializeOwned>(data: &Data) -> Result<(), String> {
    jacquard_common::types::value::from_data::<T, _>(data)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Counts a record by its collection.
fn count(counts: &mut Counts, collection: &str) {
    match collection {
        "app.bsky.feed.post" => counts.posts += 1,
        "app.bsky.feed.like" => counts.likes += 1,
        "app.bsky.feed.repost" => counts.reposts += 1,
        "app.bsky.graph.follow" => counts.follows += 1,
        _ => counts.other += 1,
    }
}

/// The sides, by name.
const SIDES: [&str; 3] = ["atlex", "jacquard", "jacquard-data"];

struct Input {
    car: Vec<u8>,
    atlex_key: atlex_identity::crypto::PublicKey,
    jacquard_key: jacquard_common::types::crypto::PublicKey<'static>,
}

impl Input {
    fn new() -> Result<Self, String> {
        let atlex_key = public_key();
        let jacquard_key =
            jacquard_common::types::crypto::PublicKey::decode_owned(atlex_key.to_multikey())
                .map_err(|e| e.to_string())?;
        Ok(Self {
            car: repository_car(RECORDS),
            atlex_key,
            jacquard_key,
        })
    }

    /// Reads the CAR with side `side`, timed.
    fn run(&self, side: usize) -> Result<(Duration, Counts), String> {
        let start = Instant::now();
        let counts = match side {
            0 => atlex(&self.car, &self.atlex_key)?,
            side => pollster::block_on(jacquard(&self.car, side == 1, &self.jacquard_key))?,
        };
        Ok((start.elapsed(), counts))
    }
}

/// The median and range of `values`.
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn interleaved(input: &Input, rounds: usize, samples: usize) -> Result<(), String> {
    let n = SIDES.len();
    let counts: Vec<Counts> = (0..n)
        .map(|side| input.run(side).map(|(_, counts)| counts))
        .collect::<Result<_, _>>()?;
    if counts.iter().any(|c| *c != counts[0]) || counts[0].total() != RECORDS {
        return Err(format!("the sides read different records: {counts:?}"));
    }
    let mb = input.car.len() as f64 / 1e6;
    println!(
        "CAR of {RECORDS} records, {mb:.1} MB ({:?}); {rounds} rounds of {samples} samples",
        counts[0]
    );
    // medians[side][round], in seconds.
    let mut medians = vec![Vec::new(); n];
    for round in 0..rounds {
        let mut times = vec![Vec::new(); n];
        for sample in 0..samples {
            for k in 0..n {
                let side = (sample + k) % n;
                times[side].push(input.run(side)?.0.as_secs_f64());
            }
        }
        let mut line = format!("round {}", round + 1);
        for (side, times) in times.iter_mut().enumerate() {
            let (median, ..) = spread(times);
            medians[side].push(median);
            line.push_str(&format!(
                "  {} {:.0} ms {:.1} MB/s",
                SIDES[side],
                median * 1e3,
                mb / median
            ));
            if side > 0 {
                line.push_str(&format!(" ({:.2}×)", median / medians[0][round]));
            }
        }
        println!("{line}");
    }
    println!(
        "\nover {rounds} rounds: MB/s of the rounds' medians, median (range); records/s; \
         time over atlex's, median (range)"
    );
    for side in 0..n {
        let (median, fast, slow) = spread(&mut medians[side].clone());
        let mut line = format!(
            "{:<14} {:.1} MB/s ({:.1}–{:.1}), {:.0} records/s",
            SIDES[side],
            mb / median,
            mb / slow,
            mb / fast,
            RECORDS as f64 / median
        );
        if side > 0 {
            let mut ratios: Vec<f64> = (0..rounds)
                .map(|r| medians[side][r] / medians[0][r])
                .collect();
            let (ratio, low, high) = spread(&mut ratios);
            line.push_str(&format!(", {ratio:.2}× ({low:.2}–{high:.2})"));
        }
        println!("{line}");
    }
    Ok(())
}

const USAGE: &str = "usage: repo_compare [--rounds N] [--samples K]
       repo_compare atlex|jacquard|jacquard-data [--samples K]";

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (side, options) = match args.first().map(String::as_str) {
        Some("atlex") => (Some(0), &args[1..]),
        Some("jacquard") => (Some(1), &args[1..]),
        Some("jacquard-data") => (Some(2), &args[1..]),
        _ => (None, &args[..]),
    };
    let (mut rounds, mut samples) = (3, 5);
    let mut options = options.iter();
    while let Some(option) = options.next() {
        let number = options
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0);
        match (option.as_str(), number) {
            ("--rounds", Some(n)) => rounds = n,
            ("--samples", Some(n)) => samples = n,
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let result = Input::new().and_then(|input| match side {
        Some(side) => (0..samples).try_for_each(|_| {
            let (time, counts) = input.run(side)?;
            println!(
                "{} {:.1} ms, {} records",
                SIDES[side],
                time.as_secs_f64() * 1e3,
                counts.total()
            );
            Ok(())
        }),
        None => interleaved(&input, rounds, samples),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
