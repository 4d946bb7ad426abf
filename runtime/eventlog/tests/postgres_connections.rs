//! `PostgresStore`'s connections on a real PostgreSQL server (Debian's,
//! started by scripts/postgres.sh): lost and made again when every backend
//! is terminated in the middle of appends and when the server restarts,
//! the sequence staying gapless and every acknowledged event stored; and
//! TLS, verified against the server's CA.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atlex::service::Items;
use atlex_eventlog::{CommitUnknown, PostgresOptions, PostgresStore};
use atlex_stream::{AppendError, EventLog, EventStore};
use common::postgres::Postgres;
use common::{Message, Subscribe, append_from_threads, take, tick, ticks};

fn items(log: &EventLog<Subscribe>, cursor: Option<i64>) -> Items<Subscribe> {
    log.subscribe(cursor).unwrap().into_parts().0
}

/// A client of the server's own, as an operator's.
async fn admin(postgres: &Postgres) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(postgres.config(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Ends every other client's connection, as `pg_terminate_backend` does for
/// an operator; returns how many.
async fn terminate_all(admin: &tokio_postgres::Client) -> i64 {
    admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// How an append ended.
#[derive(Debug)]
enum Outcome {
    Acknowledged(i64),
    /// Failed with [`CommitUnknown`] for this number.
    Unknown(i64),
    Failed(String),
}

fn outcome(result: Result<i64, AppendError>) -> Outcome {
    match result {
        Ok(seq) => Outcome::Acknowledged(seq),
        Err(AppendError::Store(error)) => {
            let source = std::error::Error::source(&error);
            match source.and_then(|source| source.downcast_ref::<CommitUnknown>()) {
                Some(unknown) => Outcome::Unknown(unknown.seq()),
                None => Outcome::Failed(error.to_string()),
            }
        }
        Err(other) => panic!("an append failed otherwise: {other}"),
    }
}

/// The ticks stored under `log`, by number, with their texts; checks that
/// the numbers run from 1 without a gap.
fn stored(postgres: &Postgres, log: &str) -> BTreeMap<i64, String> {
    let store = PostgresStore::connect(postgres.config(), log).unwrap();
    let events: BTreeMap<i64, String> = store
        .read(1, 100_000)
        .unwrap()
        .into_iter()
        .map(|(seq, frame)| {
            let message = atlex::subscription::decode_message::<Subscribe>(frame.as_bytes(), false);
            let Ok(Message::Tick(tick)) = message else {
                panic!("event {seq} is not a tick: {message:?}");
            };
            assert_eq!(tick.seq, seq);
            (seq, tick.text)
        })
        .collect();
    let last = events.keys().next_back().copied().unwrap_or(0);
    assert!(
        events.keys().copied().eq(1..=last),
        "the numbers have a gap: {:?}",
        events.keys().collect::<Vec<_>>()
    );
    events
}

/// Checks the appends' `outcomes` (each with its tick's text) against what
/// `stored` holds: every acknowledged event is stored under its number,
/// an event whose commit went unanswered is stored under its number or not
/// at all, a failed one is not stored, and nothing else is. Returns the
/// counts of acknowledged, unknown (of which stored) and failed appends.
fn check(outcomes: &[(String, Outcome)], stored: &BTreeMap<i64, String>) -> [usize; 4] {
    let by_text: BTreeMap<&str, i64> = stored
        .iter()
        .map(|(seq, text)| (text.as_str(), *seq))
        .collect();
    assert_eq!(by_text.len(), stored.len(), "an event stored twice");
    let mut counts = [0; 4];
    for (text, outcome) in outcomes {
        let at = by_text.get(text.as_str()).copied();
        match outcome {
            Outcome::Acknowledged(seq) => {
                assert_eq!(at, Some(*seq), "acknowledged {text} as {seq}");
                counts[0] += 1;
            }
            Outcome::Unknown(seq) => {
                assert!(at.is_none() || at == Some(*seq), "{text}: {seq}, {at:?}");
                counts[1] += 1;
                counts[2] += usize::from(at.is_some());
            }
            Outcome::Failed(error) => {
                assert_eq!(at, None, "{text} failed ({error}) but is stored");
                counts[3] += 1;
            }
        }
    }
    assert_eq!(counts[0] + counts[2], stored.len(), "events no append made");
    counts
}

/// Appends a tick through `a`, then one through `b`, and checks that
/// `live`'s subscribers, which have had the events before `from`, get the
/// events from `from` to those two, in order; returns `b`'s number.
async fn append_through_both(
    a: &EventLog<Subscribe>,
    b: &EventLog<Subscribe>,
    live: [&mut Items<Subscribe>; 2],
    from: i64,
) -> i64 {
    let first = a.append(|seq| tick(seq, "through a")).unwrap();
    let second = b.append(|seq| tick(seq, "through b")).unwrap();
    assert_eq!(second, first + 1);
    let count = usize::try_from(second - from + 1).unwrap();
    for items in live {
        assert_eq!(take(items, count).await, ticks(from..=second));
    }
    second
}

#[tokio::test(flavor = "multi_thread")]
async fn appends_go_on_when_every_backend_is_terminated_in_their_middle() {
    const THREADS: usize = 2;
    const APPENDS: usize = 300;
    const ROUNDS: usize = 6;
    let postgres = Postgres::start();
    let open = || {
        EventLog::<Subscribe>::open(PostgresStore::connect(postgres.config(), "outage").unwrap())
            .unwrap()
    };
    // Two servers of one service, each with a subscriber from the start.
    let (a, b) = (open(), open());
    let mut live_a = items(&a, Some(0));
    let mut live_b = items(&b, Some(0));
    let appenders = append_from_threads(&[&a, &b], THREADS, APPENDS);
    let admin = admin(&postgres).await;
    for round in 0..ROUNDS {
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The first time, writer, reader and listener of both stores; then
        // at least one connection made again since.
        let terminated = terminate_all(&admin).await;
        let least = if round == 0 { 6 } else { 1 };
        assert!(
            terminated >= least,
            "round {round}: {terminated} terminated"
        );
    }
    assert!(
        appenders.iter().any(|appender| !appender.is_finished()),
        "the appends ended before the connections did"
    );
    let mut outcomes: Vec<(String, Outcome)> = appenders
        .into_iter()
        .flat_map(|appender| appender.join().unwrap())
        .map(|(text, result)| (text, outcome(result)))
        .collect();
    // Both servers append again.
    let after_a = a.append(|seq| tick(seq, "after a")).unwrap();
    let after_b = b.append(|seq| tick(seq, "after b")).unwrap();
    outcomes.push(("after a".to_owned(), Outcome::Acknowledged(after_a)));
    outcomes.push(("after b".to_owned(), Outcome::Acknowledged(after_b)));

    let stored = stored(&postgres, "outage");
    let last = *stored.keys().next_back().unwrap();
    assert_eq!((after_a, after_b), (last - 1, last));
    let [acknowledged, unknown, unknown_stored, failed] = check(&outcomes, &stored);
    println!(
        "{} appends, {ROUNDS} rounds of terminations: {acknowledged} acknowledged, \
         {unknown} with an unknown commit ({unknown_stored} of them stored), {failed} failed",
        outcomes.len()
    );
    for (text, outcome) in &outcomes {
        if let Outcome::Failed(error) = outcome {
            println!("{text} failed: {error}");
        }
    }
    // An append whose connection ended before its `COMMIT` was sent is made
    // again on a new connection: only those whose `COMMIT` was under way
    // fail, one a log at a time, each round.
    assert_eq!(failed, 0);
    assert!(unknown <= 2 * ROUNDS, "{unknown} unknown");
    // Every subscriber got every stored event once, in order, whichever
    // server appended it.
    let total = usize::try_from(last).unwrap();
    let (got_a, got_b) = tokio::join!(take(&mut live_a, total), take(&mut live_b, total));
    assert_eq!(got_a, ticks(1..=last));
    assert_eq!(got_b, ticks(1..=last));
}

#[tokio::test(flavor = "multi_thread")]
async fn appends_and_reads_go_on_after_the_server_restarts() {
    let postgres = Postgres::start();
    let options = PostgresOptions::new().reconnect_for(Duration::from_secs(1));
    let open = || {
        let store = PostgresStore::connect_with(postgres.config(), "restart", &options).unwrap();
        EventLog::<Subscribe>::open(store).unwrap()
    };
    let (a, b) = (open(), open());
    let mut live_a = items(&a, None);
    let mut live_b = items(&b, None);
    for n in 0..3 {
        assert_eq!(
            a.append(|seq| tick(seq, &format!("a{n}"))).unwrap(),
            2 * n + 1
        );
        assert_eq!(
            b.append(|seq| tick(seq, &format!("b{n}"))).unwrap(),
            2 * n + 2
        );
    }
    assert_eq!(take(&mut live_a, 6).await, ticks(1..=6));
    assert_eq!(take(&mut live_b, 6).await, ticks(1..=6));

    // The server stops: an append fails once the reconnection window has
    // passed, saying why, and its event is not stored.
    postgres.down();
    let started = std::time::Instant::now();
    let down = a
        .append(|seq| tick(seq, "while down"))
        .unwrap_err()
        .to_string();
    assert!(down.contains("cannot reconnect"), "{down}");
    assert!(started.elapsed() >= Duration::from_millis(700), "{down}");
    println!("while the server is down: {down}");

    // A store does not open on a stopped server: the first connection
    // is not retried.
    let opening = PostgresStore::connect_with(postgres.config(), "restart", &options);
    assert!(opening.is_err(), "connecting to a stopped server");

    // An append made while the server is down waits for it within its
    // window: a third server's store, with the default 10 s, appends
    // across a restart of 1.5 s.
    postgres.up();
    let c =
        EventLog::<Subscribe>::open(PostgresStore::connect(postgres.config(), "restart").unwrap())
            .unwrap();
    postgres.down();
    let appending = std::thread::spawn({
        let c = c.clone();
        move || c.append(|seq| tick(seq, "across the restart"))
    });
    std::thread::sleep(Duration::from_millis(1500));
    postgres.up();
    let across = appending.join().unwrap().unwrap();
    assert_eq!(across, 7);

    // Both other servers append and read again; their subscribers, which
    // stayed, missed nothing, and neither does a consumer reconnecting with
    // its cursor.
    assert_eq!(
        append_through_both(&a, &b, [&mut live_a, &mut live_b], 7).await,
        9
    );
    let mut reconnected = items(&b, Some(2));
    assert_eq!(take(&mut reconnected, 7).await, ticks(3..=9));

    // Every acknowledged event, under the number it was given; not the one
    // that failed.
    let stored = stored(&postgres, "restart");
    let texts: Vec<&str> = stored.values().map(String::as_str).collect();
    let acknowledged = ["a0", "b0", "a1", "b1", "a2", "b2", "across the restart"];
    assert_eq!(texts[..7], acknowledged);
    assert_eq!(texts[7..], ["through a", "through b"]);
}

/// A CA certificate of its own (PEM), made with openssl, which signed
/// nothing the server has.
fn another_ca() -> Vec<u8> {
    let dir = common::TempDir::new("ca");
    let status = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=another CA", "-keyout"])
        .arg(dir.path().join("ca.key"))
        .arg("-out")
        .arg(dir.path().join("ca.crt"))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    std::fs::read(dir.path().join("ca.crt")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_verified_against_the_servers_ca_serves_the_stream_end_to_end() {
    let postgres = Postgres::start_tls();
    let options = PostgresOptions::new()
        .root_certificates_pem(&postgres.ca_pem())
        .unwrap();
    let open = |extra: &str| {
        let config = postgres.tcp_config(extra);
        let store = PostgresStore::connect_with(&config, "tls", &options).unwrap();
        EventLog::<Subscribe>::open(store).unwrap()
    };
    // Given roots, TLS is required with or without `sslmode`.
    let (a, b) = (open("sslmode=require"), open(""));
    let mut live_a = items(&a, None);
    let mut live_b = items(&b, None);
    // Each server's subscriber gets the other's events too, through the
    // listening connection.
    assert_eq!(
        append_through_both(&a, &b, [&mut live_a, &mut live_b], 1).await,
        2
    );
    let mut reconnected = items(&b, Some(1));
    assert_eq!(take(&mut reconnected, 1).await, ticks(2..=2));

    // Every connection of both stores is encrypted (the server refuses
    // plain TCP besides).
    let admin = admin(&postgres).await;
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a
             JOIN pg_stat_ssl s USING (pid) WHERE a.application_name LIKE 'atlex-eventlog %'",
            &[],
        )
        .await
        .unwrap();
    let (encrypted, all): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!((encrypted, all), (6, 6));
    let plain = PostgresStore::connect(&postgres.tcp_config("sslmode=disable"), "tls");
    let plain = plain.unwrap_err().to_string();
    assert!(plain.contains("no encryption"), "{plain}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_the_roots_do_not_vouch_for_is_refused_clearly() {
    let postgres = Postgres::start_tls();
    let require = postgres.tcp_config("sslmode=require");
    let refused = |options: &PostgresOptions, config: &str| {
        let error = PostgresStore::connect_with(config, "tls", options).unwrap_err();
        error.to_string()
    };
    // Another CA.
    let other = PostgresOptions::new()
        .root_certificates_pem(&another_ca())
        .unwrap();
    let error = refused(&other, &require);
    println!("another CA: {error}");
    assert!(
        error.contains("TLS") && error.contains("invalid peer certificate: UnknownIssuer"),
        "{error}"
    );
    // The platform's roots, which do not hold the server's CA.
    let error = refused(&PostgresOptions::new(), &require);
    println!("the platform's roots: {error}");
    assert!(error.contains("invalid peer certificate"), "{error}");
    // The right CA, and a name the certificate is not for.
    let right = PostgresOptions::new()
        .root_certificates_pem(&postgres.ca_pem())
        .unwrap();
    let port = postgres.port();
    let elsewhere = format!("host=db.example hostaddr=127.0.0.1 port={port} user=postgres");
    let error = refused(&right, &elsewhere);
    println!("another name: {error}");
    assert!(
        error.contains("certificate not valid for name \"db.example\""),
        "{error}"
    );
    // Roots that are not PEM certificates.
    let error = PostgresOptions::new().root_certificates_pem(b"not a certificate");
    assert!(error.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn sslmode_require_refuses_a_server_without_tls() {
    let postgres = Postgres::start_tcp();
    let error = PostgresStore::connect(&postgres.tcp_config("sslmode=require"), "plain");
    let error = error.unwrap_err().to_string();
    println!("sslmode=require: {error}");
    assert!(error.contains("server does not support TLS"), "{error}");
    // Given roots, TLS is required without `sslmode` too, and
    // `sslmode=disable` contradicts them.
    let roots = PostgresOptions::new()
        .root_certificates_pem(&another_ca())
        .unwrap();
    let error = PostgresStore::connect_with(&postgres.tcp_config(""), "plain", &roots);
    let error = error.unwrap_err().to_string();
    assert!(error.contains("server does not support TLS"), "{error}");
    let error =
        PostgresStore::connect_with(&postgres.tcp_config("sslmode=disable"), "plain", &roots);
    let error = error.unwrap_err().to_string();
    assert!(error.contains("sslmode=disable"), "{error}");
    // `prefer` (libpq's default) takes the server as it is.
    let store = PostgresStore::connect(&postgres.tcp_config(""), "plain").unwrap();
    let log = EventLog::<Subscribe>::open(store).unwrap();
    assert_eq!(log.append(|seq| tick(seq, "plain")).unwrap(), 1);
}

/// Where [`Relay`] cuts the appending connection, once.
#[derive(Clone, Copy, Debug)]
enum Cut {
    /// The client's `COMMIT` never reaches the server.
    BeforeCommit,
    /// The server has the `COMMIT` (and half a second to carry it out),
    /// its answer never reaches the client.
    AfterCommit,
}

/// A TCP relay between the store and the server, which cuts the
/// connection whose client sends `COMMIT` when told to, as a network
/// failing at that moment would.
struct Relay {
    port: u16,
    cut: Arc<Mutex<Option<Cut>>>,
}

impl Relay {
    async fn start(server_port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(Mutex::new(None));
        tokio::spawn({
            let cut = Arc::clone(&cut);
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let server = tokio::net::TcpStream::connect(("127.0.0.1", server_port));
                    let server = server.await.unwrap();
                    tokio::spawn(relay(client, server, Arc::clone(&cut)));
                }
            }
        });
        Self { port, cut }
    }

    /// The next `COMMIT` sent through the relay is cut so.
    fn cut(&self, cut: Cut) {
        *self.cut.lock().unwrap() = Some(cut);
    }

    fn config(&self) -> String {
        let port = self.port;
        format!("host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=disable")
    }
}

async fn relay(
    client: tokio::net::TcpStream,
    server: tokio::net::TcpStream,
    cut: Arc<Mutex<Option<Cut>>>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let answering = Arc::new(AtomicBool::new(true));
    let answers = tokio::spawn({
        let answering = Arc::clone(&answering);
        async move {
            let mut buffer = vec![0; 1 << 16];
            while let Ok(read @ 1..) = from_server.read(&mut buffer).await {
                if answering.load(Ordering::SeqCst)
                    && to_client.write_all(&buffer[..read]).await.is_err()
                {
                    break;
                }
            }
        }
    });
    let mut buffer = vec![0; 1 << 16];
    while let Ok(read @ 1..) = from_client.read(&mut buffer).await {
        let sent = &buffer[..read];
        // A simple query's text ends with a zero byte.
        let commits = sent.windows(7).any(|window| window == b"COMMIT\0");
        match commits.then(|| cut.lock().unwrap().take()).flatten() {
            None => {
                if to_server.write_all(sent).await.is_err() {
                    break;
                }
            }
            Some(Cut::BeforeCommit) => break,
            Some(Cut::AfterCommit) => {
                answering.store(false, Ordering::SeqCst);
                to_server.write_all(sent).await.unwrap();
                tokio::time::sleep(Duration::from_millis(500)).await;
                break;
            }
        }
    }
    // Both ends see the connection close.
    answers.abort();
    let _ = answers.await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_append_whose_commit_goes_unanswered_fails_and_the_log_stays_gapless() {
    let postgres = Postgres::start_tcp();
    let relay = Relay::start(postgres.port()).await;
    let log =
        EventLog::<Subscribe>::open(PostgresStore::connect(&relay.config(), "unanswered").unwrap())
            .unwrap();
    // Another server of the service, on a connection that stays.
    let other = EventLog::<Subscribe>::open(
        PostgresStore::connect(postgres.config(), "unanswered").unwrap(),
    )
    .unwrap();
    let mut live = items(&log, Some(0));
    let mut live_other = items(&other, Some(0));
    let mut outcomes = Vec::new();
    let mut append = |text: &str| {
        let result = outcome(log.append(|seq| tick(seq, text)));
        println!("{text}: {result:?}");
        outcomes.push((text.to_owned(), result));
        match outcomes.last().unwrap().1 {
            Outcome::Acknowledged(seq) | Outcome::Unknown(seq) => seq,
            Outcome::Failed(ref error) => panic!("{text}: {error}"),
        }
    };
    assert_eq!(append("first"), 1);
    // The server commits; the store never hears so, and fails the append
    // as unknown. The event is stored under its number, which the next
    // append follows.
    relay.cut(Cut::AfterCommit);
    assert_eq!(append("stored, its answer lost"), 2);
    assert_eq!(append("after the lost answer"), 3);
    // The server never has the `COMMIT`: it rolls the append back, and the
    // next append takes its number.
    relay.cut(Cut::BeforeCommit);
    assert_eq!(append("never committed"), 4);
    assert_eq!(append("after the lost commit"), 4);

    let stored = stored(&postgres, "unanswered");
    let [acknowledged, unknown, unknown_stored, failed] = check(&outcomes, &stored);
    assert_eq!(
        (acknowledged, unknown, unknown_stored, failed),
        (3, 2, 1, 0)
    );
    assert!(matches!(outcomes[1].1, Outcome::Unknown(2)));
    assert!(matches!(outcomes[3].1, Outcome::Unknown(4)));
    assert_eq!(stored[&2], "stored, its answer lost");
    assert_eq!(stored[&4], "after the lost commit");
    // Subscribers of both servers get the stored events, the one whose
    // answer was lost included, once each, in order.
    assert_eq!(take(&mut live, 4).await, ticks(1..=4));
    assert_eq!(take(&mut live_other, 4).await, ticks(1..=4));
}
