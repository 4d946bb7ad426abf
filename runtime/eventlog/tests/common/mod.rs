//! `test.events.subscribe`, a stream of numbered ticks, declared with the
//! derives `atlex-codegen` uses, a server of it on loopback, and a
//! temporary directory.

#![allow(dead_code, unreachable_pub)]

pub mod postgres;

use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, Default, atlex::rt::Subscription)]
#[lex(subscription = "test.events.subscribe", params, message)]
pub struct Subscribe;

#[derive(Clone, Debug, Default, PartialEq, Eq, atlex::rt::Params)]
pub struct Params {
    pub cursor: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Union)]
pub enum Message {
    #[lex("test.events.subscribe#tick")]
    Tick(Box<Tick>),
    #[lex("test.events.subscribe#info")]
    Info(Box<Info>),
    #[lex(unknown)]
    Unknown(atlex::rt::Unknown),
}

#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::EndpointError)]
pub enum Error {
    FutureCursor {
        message: Option<String>,
    },
    #[lex(unknown)]
    Unknown(atlex::rt::UnknownError),
}

#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
#[lex(type = "test.events.subscribe#tick")]
pub struct Tick {
    pub seq: i64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
#[lex(type = "test.events.subscribe#info")]
pub struct Info {
    pub name: String,
    pub message: Option<String>,
}

/// Tick `seq` with `text`.
pub fn tick(seq: i64, text: &str) -> Message {
    Message::Tick(Box::new(Tick {
        seq,
        text: text.to_owned(),
    }))
}

/// A directory of its own under the system's temporary one, removed on
/// drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "atlex-eventlog-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("temporary directory");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a subscriber of a log is sent, decoded: a tick's seq, or the name
/// of an `#info` or of an error frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Got {
    Tick(i64),
    Info(String),
    Error(String),
}

/// The next `count` items of `messages` (fewer if it ends), each within
/// 10 s.
pub async fn take(items: &mut atlex::service::Items<Subscribe>, count: usize) -> Vec<Got> {
    use futures_util::StreamExt as _;
    let mut got = Vec::new();
    while got.len() < count {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), items.next())
            .await
            .expect("an item within 10 s");
        let Some(item) = next else { break };
        let atlex::service::Outgoing::Frame(frame) = item else {
            panic!("the log sends frames, got {item:?}");
        };
        got.push(
            match atlex::subscription::decode_message::<Subscribe>(frame.as_bytes(), false) {
                Ok(Message::Tick(tick)) => Got::Tick(tick.seq),
                Ok(Message::Info(info)) => Got::Info(info.name),
                Ok(other) => panic!("unexpected {other:?}"),
                Err(error) => Got::Error(error.error_name().unwrap_or("?").to_owned()),
            },
        );
    }
    got
}

/// The ticks `range`.
pub fn ticks(range: std::ops::RangeInclusive<i64>) -> Vec<Got> {
    range.map(Got::Tick).collect()
}

/// Serves `log` as `test.events.subscribe` on a loopback port of its own,
/// from the current runtime; returns the server's base URL.
pub async fn serve(log: &atlex_stream::EventLog<Subscribe>) -> String {
    use atlex::service::{Registry, SubscriptionRequest};
    use std::sync::Arc;

    struct Server {
        log: atlex_stream::EventLog<Subscribe>,
    }

    fn register<R: Registry<Server>>(registry: &mut R) {
        registry.add_subscription::<Subscribe, _, _>(
            |server: Arc<Server>, request: SubscriptionRequest<Subscribe>| async move {
                server.log.subscribe(request.params.cursor)
            },
        );
    }

    let router = atlex::server::XrpcRouter::new(Server { log: log.clone() })
        .mount(register)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

/// An append's tick text and result.
pub type Appended = (String, Result<i64, atlex_stream::AppendError>);

/// Appends `appends` ticks through each of `logs` from `threads` threads
/// each, with texts `LOG/THREAD/N`; each thread returns the texts of its
/// appends with their results, in order.
pub fn append_from_threads(
    logs: &[&atlex_stream::EventLog<Subscribe>],
    threads: usize,
    appends: usize,
) -> Vec<std::thread::JoinHandle<Vec<Appended>>> {
    logs.iter()
        .enumerate()
        .flat_map(|(instance, log)| {
            (0..threads).map(move |thread| {
                let log = (*log).clone();
                std::thread::spawn(move || {
                    (0..appends)
                        .map(|n| {
                            let text = format!("{instance}/{thread}/{n}");
                            let result = log.append(|seq| tick(seq, &text));
                            (text, result)
                        })
                        .collect()
                })
            })
        })
        .collect()
}

/// What the child process of a crash test does: appends ticks from
/// `threads` threads until it is killed, printing `ack SEQ` on standard
/// output once each append has returned.
pub fn append_until_killed(log: &atlex_stream::EventLog<Subscribe>, threads: usize) {
    use std::io::Write as _;
    let threads: Vec<_> = (0..threads)
        .map(|thread| {
            let log = log.clone();
            std::thread::spawn(move || {
                for n in 0..1_000_000 {
                    let seq = log
                        .append(|seq| tick(seq, &format!("{thread}/{n}")))
                        .unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {seq}").unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

/// Runs this test binary's ignored test `child` (which calls
/// [`append_until_killed`]) with `env`, kills it with SIGKILL once it has
/// acknowledged `kill_after` events, and returns every number it
/// acknowledged, each once.
pub fn run_until_killed(
    child: &str,
    env: &[(&str, &std::ffi::OsStr)],
    kill_after: usize,
) -> std::collections::BTreeSet<i64> {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", child, "--nocapture"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut acked = std::collections::BTreeSet::new();
    let mut killed = false;
    for line in stdout.lines() {
        let line = line.unwrap();
        let Some(seq) = line.strip_prefix("ack ") else {
            continue;
        };
        assert!(
            acked.insert(seq.parse::<i64>().unwrap()),
            "{seq} acknowledged twice"
        );
        if !killed && acked.len() >= kill_after {
            // `Child::kill` is SIGKILL on Unix. Numbers already in the pipe
            // are read on: they were acknowledged too.
            child.kill().unwrap();
            killed = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(killed, "the child stopped by itself: {status}");
    assert!(
        !status.success(),
        "killed, the child cannot succeed: {status}"
    );
    acked
}
