//! The firehose, in one run (interleaved rounds, ratios with their range):
//!
//! 1. **Decoding.** The TypeScript recording of 2,007 `subscribeRepos` frames
//!    (2,000 `#commit`s, `tests/fixtures/ts_frames`) decoded into typed ops
//!    (frame into the generated `Message`, the CAR read with every block's
//!    CID verified, each op's record into the generated `Record` dispatch),
//!    against the same frames decoded into untyped `Ipld` (the header by the
//!    same code, the body by `serde_ipld_dagcbor`, the CAR read and verified the same way, each
//!    op's record block into `Ipld`). Goal: typed ≥ 1.0× the untyped side.
//! 2. **Fan-out.** A router serving an `EventLog` to 100 loopback
//!    subscribers: frames per second delivered while the 2,007 frames are
//!    appended, and the process's resident memory while one subscriber that
//!    never reads stays connected as 20,000 more are appended (the log
//!    keeps 4,096).
//!
//! `cargo bench -p atlex-lexicons --bench firehose` (`-- ROUNDS` for more
//! than 15 decoding rounds).

use std::io::Read as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use atlex::firehose::RepoCommit as _;
use atlex::server::XrpcRouter;
use atlex::service::{Registry, SubscriptionRequest};
use atlex::subscription::{EventLog, Frame, FrameView, decode_message};
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};
use futures_util::StreamExt as _;
use ipld_core::ipld::Ipld;

fn frames() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ts_frames/repos.frames.gz"
    );
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("the fixture"))
        .read_to_end(&mut bytes)
        .expect("gzip");
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        frames.push(rest[4..4 + len].to_vec());
        rest = &rest[4 + len..];
    }
    frames
}

/// Typed: message, CAR (verified), each op's record into `Record`. Returns
/// the ops decoded.
fn typed(frames: &[Vec<u8>]) -> usize {
    let mut ops = 0;
    for frame in frames {
        if let Ok(Message::Commit(commit)) = decode_message::<SubscribeRepos>(frame, true) {
            for op in commit.decode_ops::<Record>().expect("a CAR") {
                op.expect("an op");
                ops += 1;
            }
        }
    }
    ops
}

/// Untyped: header and body into `Ipld`, the same CAR read (verified), each
/// op's record block into `Ipld`.
fn untyped(frames: &[Vec<u8>]) -> usize {
    let mut ops = 0;
    for frame in frames {
        // The header (a few bytes) is read by the same code on both sides.
        let Ok(FrameView::Message { t, body }) = FrameView::parse(frame) else {
            continue;
        };
        let Ok(Ipld::Map(body)) = serde_ipld_dagcbor::from_slice::<Ipld>(body) else {
            continue;
        };
        if t != "#commit" {
            continue;
        }
        let Some(Ipld::Bytes(blocks)) = body.get("blocks") else {
            continue;
        };
        let car = atlex::car::Car::from_slice(blocks).expect("a CAR");
        let Some(Ipld::List(list)) = body.get("ops") else {
            continue;
        };
        for op in list {
            if let Ipld::Map(op) = op
                && let Some(Ipld::Link(cid)) = op.get("cid")
            {
                let block = car.blocks.get(cid).expect("the block");
                let _: Ipld = serde_ipld_dagcbor::from_slice(block).expect("a record");
            }
            ops += 1;
        }
    }
    ops
}

fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
    )
}

fn decoding(frames: &[Vec<u8>], rounds: usize) {
    assert_eq!(typed(frames), untyped(frames), "both sides decode every op");
    let (mut typed_fps, mut untyped_fps, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which side goes first.
        let time = |typed_side: bool| {
            let start = Instant::now();
            std::hint::black_box(if typed_side {
                typed(frames)
            } else {
                untyped(frames)
            });
            start.elapsed().as_secs_f64()
        };
        let (t, u) = if round % 2 == 0 {
            let t = time(true);
            (t, time(false))
        } else {
            let u = time(false);
            (time(true), u)
        };
        typed_fps.push(frames.len() as f64 / t);
        untyped_fps.push(frames.len() as f64 / u);
        ratios.push(u / t);
    }
    let (t0, t1, t2) = spread(&mut typed_fps);
    let (u0, u1, u2) = spread(&mut untyped_fps);
    let (r0, r1, r2) = spread(&mut ratios);
    println!(
        "decode {} frames, {rounds} interleaved rounds (min / median / max):",
        frames.len()
    );
    println!("  typed ops   {t0:>9.0} {t1:>9.0} {t2:>9.0} frames/s");
    println!("  untyped     {u0:>9.0} {u1:>9.0} {u2:>9.0} frames/s");
    println!("  typed / untyped speed: {r0:.2}x {r1:.2}x {r2:.2}x (goal >= 1.0x)");
}

struct Relay {
    log: EventLog<SubscribeRepos>,
}

fn register<R: Registry<Relay>>(registry: &mut R) {
    registry.add_subscription::<SubscribeRepos, _, _>(
        |relay: Arc<Relay>, request: SubscriptionRequest<SubscribeRepos>| async move {
            relay.log.subscribe(request.params.cursor)
        },
    );
}

/// Resident memory of this process, in MiB.
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

async fn fan_out(frames: &[Vec<u8>]) {
    let log = EventLog::<SubscribeRepos>::builder()
        .max_events(4096)
        .build();
    let router = XrpcRouter::new(Relay { log: log.clone() })
        .mount(register)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!(
        "ws://{}/xrpc/com.atproto.sync.subscribeRepos",
        listener.local_addr().expect("an address")
    );
    tokio::spawn(async move { axum::serve(listener, router).await });

    const SUBSCRIBERS: usize = 100;
    let total = frames.len();
    let mut readers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let (mut socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("a connection");
        readers.push(tokio::spawn(async move {
            let mut seen = 0;
            while seen < total {
                match socket.next().await {
                    Some(Ok(tokio_tungstenite::tungstenite::Message::Binary(_))) => seen += 1,
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shared: Vec<Frame> = frames
        .iter()
        .map(|bytes| Frame::from_bytes(bytes.clone()).expect("a frame"))
        .collect();
    let start = Instant::now();
    for (i, frame) in shared.iter().enumerate() {
        log.append_frame(|_| Ok(frame.clone())).expect("appended");
        if i % 50 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let mut delivered = 0;
    for reader in readers {
        delivered += reader.await.unwrap_or(0);
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "fan-out: {delivered} frames to {SUBSCRIBERS} subscribers in {elapsed:.2} s: {:.0} frames/s delivered ({:.0} appended/s)",
        delivered as f64 / elapsed,
        total as f64 / elapsed
    );

    // One subscriber that never reads, while 20,000 frames are appended.
    let (_silent, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("a connection");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_mib();
    let mut peak: f64 = before;
    for i in 0..20_000 {
        log.append_frame(|_| Ok(shared[i % shared.len()].clone()))
            .expect("appended");
        if i % 200 == 0 {
            tokio::task::yield_now().await;
            peak = peak.max(rss_mib());
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    peak = peak.max(rss_mib());
    println!(
        "slow subscriber: RSS {before:.1} MiB before, {peak:.1} MiB at most while 20,000 frames were appended; the log holds {} frames, {:.1} MiB",
        log.len(),
        log.bytes() as f64 / (1024.0 * 1024.0)
    );
}

fn main() {
    let rounds = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(15);
    let frames = frames();
    decoding(&frames, rounds);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(fan_out(&frames));
}
