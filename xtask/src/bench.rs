//! `cargo xtask bench decode`: the `decode_vs_serde` bench of
//! atlex-lexicons in its interleaved mode (or, with `--callgrind`, its
//! instruction counts): decoding two pages with the generated types against
//! hand-written serde types and `serde_json::Value`. See the bench's docs.
//!
//! `cargo xtask bench build`: how long the generated bindings take to build,
//! against atrium-api 0.26 with the same four namespaces (`app.bsky`,
//! `chat.bsky`, `com.atproto`, `tools.ozone`), in one run.
//!
//! Each contender gets a scratch package (under `target/bench-build/`, or
//! `--dir DIR`): atlex-lexicons by path (the working tree), atrium-api from
//! crates.io, and with `--base REV` atlex-lexicons as it stood at git
//! revision REV (its tree exported next to the scratch packages), so a change
//! can be measured against what it replaces. Each package is a binary that
//! decodes a `chat.bsky.convo.listConvos` and an `app.bsky.feed.getTimeline`
//! response, as a downstream user's program would, with
//! `serde_json::from_slice`. One more contender, `atlex+bodies-in-bindings`, has the
//! runtime's `json-bodies-in-bindings` feature on and decodes with
//! `Endpoint::decode_output`, as the client does: its bindings compile
//! those decoders for optimized builds, so its own crate does not.
//!
//! Everything is built once first (dependencies included) and each binary is
//! run once on a fixture, then round by round, in an order that alternates
//! between rounds, each contender is timed on:
//!
//! - `bindings`: `cargo clean -p <bindings crate>`, then `cargo build -p
//!   <bindings crate>` (the dev profile, its dependencies already built);
//! - `release`, with `--release-bindings`: the same in the release profile,
//!   what a user's first optimized build pays once for the bindings;
//! - `downstream`: the binary's `main.rs` touched, then `cargo build
//!   --release` (only the user's crate rebuilds: the cost every user pays for
//!   the code the bindings make them instantiate).
//!
//! The dev and release builds use separate target directories, so cleaning
//! one does not rebuild the other. `CARGO_INCREMENTAL=0` throughout: cargo
//! turns incremental compilation on for path dependencies only, which would
//! make the contenders' builds differ in kind. Every round prints each time
//! and each ratio to atrium; the summary gives the median ratio and its
//! range.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

pub(crate) const USAGE: &str = "\
  bench decode [--rounds N] [--samples K] [--callgrind]
               decoding with the generated types against hand-written serde types and
               serde_json::Value, N interleaved rounds (default 5) of K samples (default 40);
               --callgrind: instructions per decode instead, under valgrind (no rounds)
  bench build [--rounds N] [--base REV] [--release-bindings] [--dir DIR]
               time building atlex-lexicons and a downstream decoding binary against
               atrium-api 0.26 (same namespaces), N interleaved rounds (default 4);
               --base REV adds atlex-lexicons at git revision REV;
               --release-bindings also times the bindings' release build";

/// The namespaces compared, as atlex-lexicons features.
const ATLEX_FEATURES: &[&str] = &["app-bsky", "chat-bsky", "com-atproto", "tools-ozone"];

/// What a contender is built from.
struct Contender {
    /// Its name in the report.
    name: String,
    /// The crate of bindings whose build is timed.
    crate_name: &'static str,
    /// The scratch package.
    dir: PathBuf,
}

/// What is timed, each round.
#[derive(Clone, Copy, PartialEq)]
enum Measure {
    /// The bindings crate, dev profile.
    Bindings,
    /// The bindings crate, release profile.
    Release,
    /// The user's crate, release profile.
    Downstream,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Measure::Bindings => "bindings",
            Measure::Release => "release",
            Measure::Downstream => "downstream",
        }
    }
}

/// Runs `cargo xtask bench ARGS`.
pub(crate) fn run(root: &Path, args: &[&str]) -> ExitCode {
    let mut rounds = 4usize;
    let mut base = None;
    let mut release_bindings = false;
    let mut dir = root.join("target/bench-build");
    let mut rest = match args {
        ["decode", rest @ ..] => return bench_decode(root, rest),
        ["build", rest @ ..] => rest.iter(),
        _ => {
            eprintln!("usage: cargo xtask\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    while let Some(arg) = rest.next() {
        if *arg == "--release-bindings" {
            release_bindings = true;
            continue;
        }
        let value = rest.next();
        match (*arg, value) {
            ("--rounds", Some(n)) => match n.parse() {
                Ok(n) if n > 0 => rounds = n,
                _ => {
                    eprintln!("error: --rounds takes a positive number, not {n:?}");
                    return ExitCode::from(2);
                }
            },
            ("--base", Some(rev)) => base = Some((*rev).to_owned()),
            ("--dir", Some(d)) => dir = PathBuf::from(d),
            _ => {
                eprintln!("usage: cargo xtask\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let mut measures = vec![Measure::Bindings];
    if release_bindings {
        measures.push(Measure::Release);
    }
    measures.push(Measure::Downstream);
    match bench_build(root, &dir, rounds, base.as_deref(), &measures) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `bench decode`: runs the bench binary, which does the measuring.
fn bench_decode(root: &Path, args: &[&str]) -> ExitCode {
    let callgrind = args.contains(&"--callgrind");
    let mut bench_args = vec![if callgrind {
        "callgrind"
    } else {
        "interleaved"
    }];
    let mut rest = args.iter().filter(|&&arg| arg != "--callgrind");
    while let Some(&option) = rest.next() {
        match (option, rest.next()) {
            ("--rounds" | "--samples", Some(&n))
                if !callgrind && n.parse::<usize>().is_ok_and(|n| n > 0) =>
            {
                bench_args.extend([option, n]);
            }
            _ => {
                eprintln!("usage: cargo xtask\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "bench",
            "-p",
            "atlex-lexicons",
            "--bench",
            "decode_vs_serde",
            "--",
        ])
        .args(&bench_args)
        .current_dir(root)
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: cannot run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}

fn bench_build(
    root: &Path,
    dir: &Path,
    rounds: usize,
    base: Option<&str>,
    measures: &[Measure],
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let fixtures = write_fixtures(dir)?;
    let mut contenders = vec![
        atlex_contender(dir, "atlex", root, false)?,
        atlex_contender(dir, "atlex+bodies-in-bindings", root, true)?,
    ];
    if let Some(rev) = base {
        let tree = export_revision(root, dir, rev)?;
        contenders.push(atlex_contender(dir, &format!("atlex@{rev}"), &tree, false)?);
    }
    contenders.push(atrium_contender(dir)?);

    for c in &contenders {
        eprintln!("bench: building {} and its dependencies once", c.name);
        cargo(c, "debug", &["build", "-p", c.crate_name])?;
        cargo(c, "release", &["build", "--release"])?;
        let binary = c.dir.join("target-release/release/decode");
        let output = Command::new(&binary)
            .args(&fixtures)
            .output()
            .map_err(|e| format!("running {}: {e}", binary.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed on the fixtures: {}",
                c.name,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        eprintln!(
            "bench: {} decodes the fixtures: {}",
            c.name,
            String::from_utf8_lossy(&output.stdout).trim()
        );
    }

    let reference = contenders.len() - 1;
    // times[measure][contender][round].
    let mut times: Vec<Vec<Vec<Duration>>> =
        vec![vec![Vec::new(); contenders.len()]; measures.len()];
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..contenders.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for &i in &order {
            let c = &contenders[i];
            for (m, &measure) in measures.iter().enumerate() {
                let elapsed = match measure {
                    Measure::Bindings => {
                        cargo(c, "debug", &["clean", "-p", c.crate_name])?;
                        timed(|| cargo(c, "debug", &["build", "-p", c.crate_name]))?
                    }
                    Measure::Release => {
                        cargo(c, "release", &["clean", "--release", "-p", c.crate_name])?;
                        let elapsed = timed(|| {
                            cargo(c, "release", &["build", "--release", "-p", c.crate_name])
                        })?;
                        // The program is rebuilt against the new bindings
                        // untimed, so `downstream` times only its own crate.
                        cargo(c, "release", &["build", "--release"])?;
                        elapsed
                    }
                    Measure::Downstream => {
                        touch(&c.dir.join("src/main.rs"))?;
                        timed(|| cargo(c, "release", &["build", "--release"]))?
                    }
                };
                times[m][i].push(elapsed);
            }
        }
        for (m, measure) in measures.iter().enumerate() {
            let mut text = format!("round {}: {:<10}", round + 1, measure.name());
            for (i, c) in contenders.iter().enumerate() {
                let time = times[m][i][round];
                text.push_str(&format!(" {} {:.2}s", c.name, time.as_secs_f64()));
                if i != reference {
                    let ratio = ratio(time, times[m][reference][round]);
                    text.push_str(&format!(" ({ratio:.2}×)"));
                }
            }
            println!("{text}");
        }
    }

    println!(
        "\nratios to {} over {rounds} rounds (median, range):",
        contenders[reference].name
    );
    for (m, measure) in measures.iter().enumerate() {
        for (i, c) in contenders.iter().enumerate() {
            if i == reference {
                continue;
            }
            let mut ratios: Vec<f64> = (0..rounds)
                .map(|r| ratio(times[m][i][r], times[m][reference][r]))
                .collect();
            ratios.sort_by(f64::total_cmp);
            let (median, low, high) = (median(&ratios), ratios[0], ratios[rounds - 1]);
            println!(
                "  {:<10} {}: {median:.2}× ({low:.2}–{high:.2})",
                measure.name(),
                c.name
            );
        }
    }
    Ok(())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn timed(f: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// Runs cargo in the contender's package, with target directory
/// `target-<kind>`.
fn cargo(c: &Contender, kind: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(args)
        .arg("--quiet")
        .current_dir(&c.dir)
        .env("CARGO_TARGET_DIR", c.dir.join(format!("target-{kind}")))
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo {}` failed for {}:\n{}",
            args.join(" "),
            c.name,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Sets a file's modification time to now, so cargo rebuilds its crate.
fn touch(path: &Path) -> Result<(), String> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| format!("opening {}: {e}", path.display()))?;
    file.set_modified(std::time::SystemTime::now())
        .map_err(|e| format!("touching {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    // Unchanged files keep their modification time, so a second run does
    // not rebuild what it need not.
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// A small listConvos and getTimeline page that both lexicon versions read
/// (atrium-api 0.26 predates group convos); their paths.
fn write_fixtures(dir: &Path) -> Result<Vec<String>, String> {
    let convos = dir.join("list_convos.json");
    let timeline = dir.join("get_timeline.json");
    write(&convos, LIST_CONVOS)?;
    write(&timeline, GET_TIMELINE)?;
    Ok(vec![
        convos.display().to_string(),
        timeline.display().to_string(),
    ])
}

/// A scratch package with `manifest_deps` and `main`.
fn scratch(dir: &Path, name: &str, deps: &str, main: &str) -> Result<PathBuf, String> {
    let package = dir.join(name);
    write(
        &package.join("Cargo.toml"),
        &format!(
            "# Written by `cargo xtask bench build`.\n[workspace]\n\n[package]\nname = \"decode\"\n\
             version = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{deps}\
             serde_json = \"1\"\n"
        ),
    )?;
    write(&package.join("src/main.rs"), main)?;
    Ok(package)
}

/// An atlex contender over the workspace at `tree`; with `in_bindings`, the
/// runtime's `json-bodies-in-bindings` feature on and a program that decodes with
/// `Endpoint::decode_output`, else one that decodes with
/// `serde_json::from_slice`.
fn atlex_contender(
    dir: &Path,
    name: &str,
    tree: &Path,
    in_bindings: bool,
) -> Result<Contender, String> {
    let features: Vec<String> = ATLEX_FEATURES.iter().map(|f| format!("{f:?}")).collect();
    let mut deps = format!(
        "atlex-lexicons = {{ path = {:?}, features = [{}] }}\n",
        tree.join("lexicons").display().to_string(),
        features.join(", ")
    );
    let main = if in_bindings {
        deps.push_str(&format!(
            "atlex = {{ path = {:?}, features = [\"json-bodies-in-bindings\"] }}\n",
            tree.join("runtime").display().to_string()
        ));
        MAIN_CLIENT.replace("CRATE", "atlex_lexicons")
    } else {
        MAIN.replace("CRATE", "atlex_lexicons")
    };
    let package_name = name.replace(['@', '/', '~', '^', '+'], "-");
    Ok(Contender {
        name: name.to_owned(),
        crate_name: "atlex-lexicons",
        dir: scratch(dir, &package_name, &deps, &main)?,
    })
}

fn atrium_contender(dir: &Path) -> Result<Contender, String> {
    let deps = "atrium-api = { version = \"=0.26.0\", default-features = false, features = \
                [\"namespace-appbsky\", \"namespace-chatbsky\", \"namespace-toolsozone\"] }\n";
    Ok(Contender {
        name: "atrium".to_owned(),
        crate_name: "atrium-api",
        dir: scratch(dir, "atrium", deps, &MAIN.replace("CRATE", "atrium_api"))?,
    })
}

/// Exports the repository at `rev` into `dir/tree-<rev>`; its path.
fn export_revision(root: &Path, dir: &Path, rev: &str) -> Result<PathBuf, String> {
    let commit = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !commit.status.success() {
        return Err(format!("revision {rev} not found"));
    }
    let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
    let tree = dir.join(format!("tree-{}", &commit[..12.min(commit.len())]));
    if tree.join("Cargo.toml").exists() {
        return Ok(tree);
    }
    std::fs::create_dir_all(&tree).map_err(|e| format!("creating {}: {e}", tree.display()))?;
    let archive = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["archive", "--format=tar", &commit])
        .output()
        .map_err(|e| format!("cannot run git archive: {e}"))?;
    if !archive.status.success() {
        return Err(format!(
            "git archive {commit}: {}",
            String::from_utf8_lossy(&archive.stderr)
        ));
    }
    let mut untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&tree)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if let Some(stdin) = untar.stdin.as_mut() {
        use std::io::Write;
        stdin
            .write_all(&archive.stdout)
            .map_err(|e| format!("extracting {commit}: {e}"))?;
    }
    drop(untar.stdin.take());
    let status = untar.wait().map_err(|e| format!("tar: {e}"))?;
    if !status.success() {
        return Err(format!("extracting {commit} failed"));
    }
    Ok(tree)
}

/// The downstream program; `CRATE` stands for the bindings crate's name.
const MAIN: &str = r#"//! Decodes a listConvos and a getTimeline response (`cargo xtask bench build`).
use CRATE::app::bsky::feed::get_timeline;
use CRATE::chat::bsky::convo::list_convos;

fn main() {
    let mut args = std::env::args().skip(1);
    let convos = std::fs::read(args.next().expect("a listConvos response")).expect("readable");
    let timeline = std::fs::read(args.next().expect("a getTimeline response")).expect("readable");
    let convos: list_convos::Output = serde_json::from_slice(&convos).expect("a listConvos page");
    let timeline: get_timeline::Output = serde_json::from_slice(&timeline).expect("a getTimeline page");
    println!("{} convos, {} posts", convos.convos.len(), timeline.feed.len());
}
"#;

/// The downstream program of `atlex+bodies-in-bindings`, decoding as the client does.
const MAIN_CLIENT: &str = r#"//! Decodes a listConvos and a getTimeline response (`cargo xtask bench build`).
use CRATE::app::bsky::feed::get_timeline::GetTimeline;
use CRATE::chat::bsky::convo::list_convos::ListConvos;
use atlex::xrpc::Endpoint;

fn main() {
    let mut args = std::env::args().skip(1);
    let convos = std::fs::read(args.next().expect("a listConvos response")).expect("readable");
    let timeline = std::fs::read(args.next().expect("a getTimeline response")).expect("readable");
    let convos = ListConvos::decode_output(None, &convos).expect("a listConvos page");
    let timeline = GetTimeline::decode_output(None, &timeline).expect("a getTimeline page");
    println!("{} convos, {} posts", convos.convos.len(), timeline.feed.len());
}
"#;

/// A listConvos page of one direct convo.
const LIST_CONVOS: &str = r#"{
  "cursor": "c2",
  "convos": [
    {
      "id": "c1",
      "rev": "r7",
      "members": [
        { "did": "did:plc:alice000000000000000000a", "handle": "alice.example.com" },
        { "did": "did:plc:bob00000000000000000000b", "handle": "bob.example.com", "displayName": "Bob" }
      ],
      "lastMessage": {
        "$type": "chat.bsky.convo.defs#messageView",
        "id": "m1",
        "rev": "r7",
        "text": "hi",
        "sender": { "did": "did:plc:bob00000000000000000000b" },
        "sentAt": "2026-04-15T12:00:00.000Z"
      },
      "muted": false,
      "unreadCount": 1
    }
  ]
}
"#;

/// A getTimeline page of one post with an external embed, a facet and a
/// reply, as the AppView answers.
const GET_TIMELINE: &str = r#"{
  "cursor": "1776254400000::bafyreib2rxk3rh6kzwq",
  "feed": [
    {
      "post": {
        "uri": "at://did:plc:alice000000000000000000a/app.bsky.feed.post/3lq2lmfq7vc2a",
        "cid": "bafyreib2rxk3rh6kzwq3ysaqfuzl5y5cmtxpdmdyxqerp6ef7hcu6qwsse",
        "author": {
          "did": "did:plc:alice000000000000000000a",
          "handle": "alice.example.com",
          "displayName": "Alice",
          "labels": [],
          "createdAt": "2026-01-02T03:04:05.000Z"
        },
        "record": {
          "$type": "app.bsky.feed.post",
          "text": "see https://example.com",
          "createdAt": "2026-04-15T12:00:00.000Z",
          "facets": [
            {
              "index": { "byteStart": 4, "byteEnd": 23 },
              "features": [
                { "$type": "app.bsky.richtext.facet#link", "uri": "https://example.com" }
              ]
            }
          ],
          "embed": {
            "$type": "app.bsky.embed.external",
            "external": { "uri": "https://example.com", "title": "Example", "description": "An example" }
          },
          "langs": ["en"]
        },
        "embed": {
          "$type": "app.bsky.embed.external#view",
          "external": { "uri": "https://example.com", "title": "Example", "description": "An example" }
        },
        "replyCount": 1,
        "repostCount": 2,
        "likeCount": 3,
        "quoteCount": 0,
        "indexedAt": "2026-04-15T12:00:01.000Z",
        "viewer": { "threadMuted": false, "embeddingDisabled": false },
        "labels": []
      }
    }
  ]
}
"#;
