//! The firehose, in one run (interleaved rounds, ratios with their range):
//!
//! 1. **Decoding** (`decode`). The TypeScript recording of 2,007
//!    `subscribeRepos` frames (2,000 `#commit`s, `tests/fixtures/ts_frames`)
//!    decoded into typed ops (frame into the generated `Message`, the CAR
//!    read with every block's CID verified, each op's record into the
//!    generated `Record` dispatch), against the same frames decoded into
//!    untyped `Ipld` (the header by the same code, the body by
//!    `serde_ipld_dagcbor`, the CAR read and verified the same way, each op's
//!    record block into `Ipld`). Goal: typed ≥ 1.0× the untyped side.
//! 2. **Fan-out** (`fanout`). The recording's 2,006 message frames appended
//!    to an `EventLog` served by atlex's router to 100 loopback consumers
//!    (connected with cursor 0 before the first append, so none can miss a
//!    frame), against a WebSocket server written directly on
//!    tokio-tungstenite that writes a broadcast channel to each connection.
//!    Each consumer checks that it receives every frame, in order, byte for
//!    byte; the round fails otherwise. Frames per second delivered (frames ×
//!    consumers / time from the first append to the last frame received).
//! 3. **One slow consumer** (`slow`). 100 consumers that keep up and one that
//!    never reads (in a second process, so that the first holds only the
//!    server), while 40,000 frames (146 MiB, each a new allocation) are
//!    appended to a log that keeps 4,096 events: the bytes the log holds, the
//!    server's heap (counted by the allocator of `tests/common/heap.rs`) and
//!    resident memory as it goes (bounded: flat once the log is full), and
//!    what the slow consumer reads once it starts reading.
//!
//! `cargo bench -p atlex-lexicons --bench firehose [-- [decode] [fanout]
//! [slow] [ROUNDS]]` (every part unless some are named; 15 decoding rounds
//! and 5 fan-out rounds unless a number is given). In parts 2 and 3 the consumers and the server share the
//! machine's cores; in part 2 also the process.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atlex::firehose::RepoCommit as _;
use atlex::server::XrpcRouter;
use atlex::service::{Registry, SubscriptionRequest};
use atlex::subscription::{EventLog, Frame, FrameView, decode_message};
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};
use futures_util::{SinkExt as _, StreamExt as _};
use ipld_core::ipld::Ipld;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::{Bytes, Message as WsMessage};

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
                let block = car.blocks.get(&(*cid).into()).expect("the block");
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

/// The message frames of the recording (its last frame, an error, would end
/// every stream).
fn message_frames(frames: &[Vec<u8>]) -> Vec<Bytes> {
    frames
        .iter()
        .filter(|bytes| matches!(FrameView::parse(bytes), Ok(FrameView::Message { .. })))
        .map(|bytes| Bytes::from(bytes.clone()))
        .collect()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("a connection")
        .0
}

/// Starts atlex's router serving `log` as `subscribeRepos`; the
/// subscription's URL (from the start of the log: cursor 0).
async fn serve_log(log: &EventLog<SubscribeRepos>) -> (String, tokio::task::JoinHandle<()>) {
    let router = XrpcRouter::new(Relay { log: log.clone() })
        .mount(register)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!(
        "ws://{}/xrpc/com.atproto.sync.subscribeRepos?cursor=0",
        listener.local_addr().expect("an address")
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, server)
}

/// The baseline: a WebSocket server written directly on tokio-tungstenite,
/// each connection writing every frame of a broadcast channel (subscribed
/// before the handshake completes, so none is missed).
async fn serve_broadcast(
    frames: &broadcast::Sender<Bytes>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("ws://{}/", listener.local_addr().expect("an address"));
    let frames = frames.clone();
    let server = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut receiver = frames.subscribe();
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Ok(frame) = receiver.recv().await {
                    if socket.send(WsMessage::Binary(frame)).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, server)
}

/// One consumer: reads binary messages until it has `count`, checking that
/// the n-th is `expected[n % len]` byte for byte; how many it received
/// (fewer if the stream ended or sent anything else), stored in `progress`
/// as it goes.
async fn consume(
    mut socket: Socket,
    expected: Arc<Vec<Bytes>>,
    count: usize,
    progress: Arc<AtomicUsize>,
) -> usize {
    let mut seen = 0;
    while seen < count {
        match socket.next().await {
            Some(Ok(WsMessage::Binary(bytes))) if bytes == expected[seen % expected.len()] => {
                seen += 1;
                progress.store(seen, Ordering::Release);
            }
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
            _ => break,
        }
    }
    seen
}

const CONSUMERS: usize = 100;

/// Which server a fan-out round measures.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Atlex,
    Baseline,
}

/// One round: `CONSUMERS` consumers connected, then every frame appended
/// (published); the time until every consumer has received every frame.
async fn fan_out_round(side: Side, frames: &Arc<Vec<Bytes>>) -> f64 {
    let log = EventLog::<SubscribeRepos>::builder()
        .max_events(frames.len())
        .build();
    let (channel, _) = broadcast::channel(frames.len());
    let (url, server) = match side {
        Side::Atlex => serve_log(&log).await,
        Side::Baseline => serve_broadcast(&channel).await,
    };
    let mut consumers = Vec::new();
    for _ in 0..CONSUMERS {
        let socket = connect(&url).await;
        consumers.push(tokio::spawn(consume(
            socket,
            Arc::clone(frames),
            frames.len(),
            Arc::new(AtomicUsize::new(0)),
        )));
    }
    let start = Instant::now();
    for (i, frame) in frames.iter().enumerate() {
        match side {
            Side::Atlex => {
                let frame = Frame::from_bytes(frame.clone()).expect("a frame");
                log.append_frame(|_| Ok(frame)).expect("appended");
            }
            Side::Baseline => {
                channel.send(frame.clone()).expect("subscribers");
            }
        }
        if i % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let mut delivered = 0;
    for consumer in consumers {
        delivered += consumer.await.expect("a consumer");
    }
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(
        delivered,
        CONSUMERS * frames.len(),
        "every consumer receives every frame"
    );
    log.close();
    server.abort();
    elapsed
}

async fn fan_out(frames: &Arc<Vec<Bytes>>, rounds: usize) {
    let (mut atlex_fps, mut baseline_fps, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let per_round = (CONSUMERS * frames.len()) as f64;
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = fan_out_round(Side::Atlex, frames).await;
            (a, fan_out_round(Side::Baseline, frames).await)
        } else {
            let b = fan_out_round(Side::Baseline, frames).await;
            (fan_out_round(Side::Atlex, frames).await, b)
        };
        atlex_fps.push(per_round / a);
        baseline_fps.push(per_round / b);
        ratios.push(b / a);
    }
    let (a0, a1, a2) = spread(&mut atlex_fps);
    let (b0, b1, b2) = spread(&mut baseline_fps);
    let (r0, r1, r2) = spread(&mut ratios);
    println!(
        "fan-out of {} frames to {CONSUMERS} loopback consumers, each checked to receive every frame, {rounds} interleaved rounds (min / median / max):",
        frames.len()
    );
    println!("  atlex router + EventLog  {a0:>9.0} {a1:>9.0} {a2:>9.0} frames/s delivered");
    println!("  tokio-tungstenite        {b0:>9.0} {b1:>9.0} {b2:>9.0} frames/s delivered");
    println!("  atlex / baseline speed: {r0:.2}x {r1:.2}x {r2:.2}x");
}

#[path = "../tests/common/heap.rs"]
mod heap;

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

/// The log's bound in events, in the slow-consumer run.
const SLOW_LOG_EVENTS: usize = 4096;
/// How many frames the slow-consumer run appends.
const SLOW_APPENDED: usize = 40_000;
/// The argument that makes this program the consumers' process of the
/// slow-consumer run.
const CONSUMERS_OF: &str = "--consumers-of";

/// The slow-consumer run's consumers, in a process of their own (so that the
/// server's process holds only the server): `CONSUMERS` that keep up and one
/// that never reads until they have all received `count` frames. Says on
/// stdout `connected`, then `progress N` (the fewest frames any has received)
/// as they go, then `silent N ENDING`: what the slow one read once it started
/// reading and how its connection ended.
async fn consumers_process(url: &str, count: usize, frames: Arc<Vec<Bytes>>) {
    use std::io::Write as _;
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let mut progress = Vec::new();
    let mut consumers = Vec::new();
    for _ in 0..CONSUMERS {
        let socket = connect(url).await;
        let seen = Arc::new(AtomicUsize::new(0));
        progress.push(Arc::clone(&seen));
        consumers.push(tokio::spawn(consume(
            socket,
            Arc::clone(&frames),
            count,
            seen,
        )));
    }
    let mut silent = connect(url).await;
    say("connected".to_owned());
    loop {
        let fewest = progress
            .iter()
            .map(|seen| seen.load(Ordering::Acquire))
            .min()
            .unwrap_or(0);
        say(format!("progress {fewest}"));
        if consumers.iter().all(|consumer| consumer.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for consumer in consumers {
        assert_eq!(
            consumer.await.expect("a consumer"),
            count,
            "the consumers that keep up receive every frame"
        );
    }
    // The slow consumer reads at last: what the server had written before it
    // dropped it, then how the connection ended.
    let mut before = 0;
    let ending = loop {
        match tokio::time::timeout(Duration::from_secs(10), silent.next()).await {
            Err(_) => panic!("the slow consumer's connection hangs"),
            Ok(Some(Ok(WsMessage::Binary(bytes)))) => match FrameView::parse(&bytes) {
                Ok(FrameView::Error { error, .. }) => break format!("the error frame {error}"),
                _ => before += 1,
            },
            Ok(Some(Ok(WsMessage::Close(frame)))) => break format!("a close ({frame:?})"),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(error))) => break format!("the connection ending ({error})"),
            Ok(None) => break "the connection ending".to_owned(),
        }
    };
    say(format!("silent {before} {ending}"));
}

/// What the consumers' process said.
#[derive(Default)]
struct Heard {
    connected: AtomicBool,
    progress: AtomicUsize,
    silent: std::sync::Mutex<Option<String>>,
}

/// `CONSUMERS` consumers that keep up and one that never reads (in another
/// process), while `SLOW_APPENDED` frames are appended to a log that keeps
/// `SLOW_LOG_EVENTS`: this process's heap and resident memory as it goes,
/// and what the slow one gets once it reads.
async fn slow_consumer(frames: &Arc<Vec<Bytes>>) {
    use std::io::BufRead as _;
    let log = EventLog::<SubscribeRepos>::builder()
        .max_events(SLOW_LOG_EVENTS)
        .build();
    let (url, server) = serve_log(&log).await;
    let mut child = std::process::Command::new(std::env::current_exe().expect("this program"))
        .args([CONSUMERS_OF, &url, &SLOW_APPENDED.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the consumers' process");
    let heard = Arc::new(Heard::default());
    let stdout = child.stdout.take().expect("its stdout");
    let listener = {
        let heard = Arc::clone(&heard);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line == "connected" {
                    heard.connected.store(true, Ordering::Release);
                } else if let Some(n) = line.strip_prefix("progress ") {
                    heard
                        .progress
                        .store(n.parse().unwrap_or(0), Ordering::Release);
                } else if let Some(rest) = line.strip_prefix("silent ") {
                    *heard.silent.lock().expect("a lock") = Some(rest.to_owned());
                }
            }
        })
    };
    while !heard.connected.load(Ordering::Acquire) {
        assert!(
            child.try_wait().expect("a status").is_none(),
            "the consumers' process ended"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let rss_start = rss_mib();
    // The server runs on this thread (a current-thread runtime): its heap
    // is what this thread allocates.
    heap::start();
    let mut peak_bytes = 0;
    let mut peak_rss: f64 = rss_start;
    let mut checkpoints = Vec::new();
    let appended_bytes: usize = (0..SLOW_APPENDED)
        .map(|i| frames[i % frames.len()].len())
        .sum();
    for i in 0..SLOW_APPENDED {
        // A copy, as a server encodes each event anew: what the log and the
        // connections keep shows on the heap.
        let frame = Frame::from_bytes(frames[i % frames.len()].to_vec()).expect("a frame");
        log.append_frame(|_| Ok(frame)).expect("appended");
        if i % 256 == 255 {
            // Pace the producer to the consumers that keep up: they stay
            // within half the log of the newest event.
            while heard.progress.load(Ordering::Acquire) + SLOW_LOG_EVENTS / 2 < i {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            peak_bytes = peak_bytes.max(log.bytes());
            peak_rss = peak_rss.max(rss_mib());
        }
        let appended = i + 1;
        if appended == SLOW_LOG_EVENTS || appended % (SLOW_APPENDED / 4) == 0 {
            checkpoints.push((appended, heap::live().max(0) as usize, rss_mib()));
        }
    }
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("a join")
        .expect("a status");
    let peak_heap = heap::stop().max(0) as usize;
    peak_rss = peak_rss.max(rss_mib());
    assert!(status.success(), "the consumers' process: {status}");
    listener.join().expect("the listener");
    let silent = heard
        .silent
        .lock()
        .expect("a lock")
        .take()
        .expect("what the slow consumer read");
    let before: usize = silent
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(before < SLOW_APPENDED, "the slow consumer was dropped");
    server.abort();

    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "one slow consumer (never reads) beside {CONSUMERS} that keep up (in another process), {SLOW_APPENDED} frames ({:.0} MiB) appended to a log keeping {SLOW_LOG_EVENTS} events; the server's process:",
        mib(appended_bytes)
    );
    println!(
        "  log held at most {:.1} MiB; heap grew by at most {:.1} MiB; RSS {rss_start:.1} MiB at the start, at most {peak_rss:.1} MiB",
        mib(peak_bytes),
        mib(peak_heap)
    );
    for (appended, heap, rss) in checkpoints {
        println!(
            "  after {appended:>6} frames: heap +{:>5.1} MiB, RSS {rss:>6.1} MiB",
            mib(heap)
        );
    }
    let (count, ending) = silent.split_once(' ').unwrap_or((&silent, ""));
    println!("  the slow consumer then read {count} frames, then {ending}");
}

fn main() {
    // `cargo bench` passes `--bench`; words pick the parts, a number the
    // rounds.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, url, count] = &args[..]
        && flag == CONSUMERS_OF
    {
        let frames = Arc::new(message_frames(&frames()));
        let count = count.parse().expect("a count");
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(consumers_process(url, count, frames));
        return;
    }
    let rounds: Option<usize> = args.iter().find_map(|arg| arg.parse().ok());
    let parts: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|arg| ["decode", "fanout", "slow"].contains(arg))
        .collect();
    let wants = |part: &str| parts.is_empty() || parts.contains(&part);
    let frames = frames();
    if wants("decode") {
        decoding(&frames, rounds.unwrap_or(15));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let messages = Arc::new(message_frames(&frames));
    if wants("fanout") {
        runtime.block_on(fan_out(&messages, rounds.unwrap_or(5)));
    }
    if wants("slow") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(slow_consumer(&messages));
    }
}
