//! [`PostgresStore`]: the events of a log in PostgreSQL, shared by the
//! servers of one service, which each follow the others' appends.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use atlex_stream::{AppendError, EncodeError, EventStore, Frame, LiveTail, Retention, StoreError};
use futures_executor::block_on;
use futures_util::StreamExt as _;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::Severity;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Config, SimpleQueryMessage, Socket, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The channel every log's appends are notified on, as `SEQ LOG`.
const CHANNEL: &str = "atlex_events";

/// Taken while the tables are created, so that servers starting together
/// do not race on `CREATE TABLE IF NOT EXISTS` (which is not atomic).
const SCHEMA_LOCK: i64 = 0x6174_6c65_7865_7601;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS atlex_event_logs (
        log text PRIMARY KEY,
        id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        last_seq bigint NOT NULL,
        end_bytes bigint NOT NULL
    );
    CREATE TABLE IF NOT EXISTS atlex_events (
        log text NOT NULL,
        seq bigint NOT NULL,
        frame bytea NOT NULL,
        start bigint NOT NULL,
        appended_at timestamptz NOT NULL,
        PRIMARY KEY (log, seq)
    );";

/// An [`EventStore`] in PostgreSQL, for a service that runs on several
/// machines: every server opens an [`EventLog`](atlex_stream::EventLog) on a
/// store with the same database and log name, appends to it, and serves
/// the whole stream, the others' events live.
///
/// The database numbers the events. Each log has a row in
/// `atlex_event_logs` holding its newest number; an append updates that row
/// and inserts the event in one transaction, so appends from every server
/// queue on the row's lock, one at a time, and commit in the order of their
/// numbers. A transaction that fails or whose server dies is rolled back
/// with its increment: the numbers have no gap. (A `SEQUENCE` would let
/// appends run side by side, but it gives numbers out of commit order and
/// loses the ones of rolled-back transactions, so a subscriber could see 8
/// before 7 exists, or wait for a 7 that never comes.)
///
/// The appending transaction also sends `NOTIFY atlex_events` with the
/// event's number, delivered on commit: every store `LISTEN`s on a
/// connection of its own and tells its log of the other servers' appends
/// (its own are in the log's memory already), whose subscribers then read
/// those from the table.
///
/// The store makes its tables (`atlex_event_logs`, `atlex_events`) if they
/// do not exist; several logs, told apart by name, share them. Its calls
/// block while the database answers (the connections run on a thread of
/// the store's own), like those of [`SqliteStore`](crate::SqliteStore): in
/// async code, append from `tokio::task::spawn_blocking`.
///
/// # When the server goes away
///
/// Each of the store's three connections (appending, reading, listening;
/// named `atlex-eventlog append`, `… read` and `… listen` in
/// `pg_stat_activity`, whatever `application_name` the connection string
/// gives) connects again when it is lost, the server restarted or the connection
/// ended by an operator: a call that finds its connection gone reconnects,
/// retrying with a growing pause (100 ms doubling to 2 s) for as long as
/// [`PostgresOptions::reconnect_for`] allows (10 s unless set), and fails
/// with the last error after that; the next call tries again. Reads and
/// trims whose connection broke under them are made again on the new one.
/// The listening connection catches up when it is back, so subscribers
/// miss nothing that was appended meanwhile.
///
/// An append whose connection breaks before its `COMMIT` was sent is
/// rolled back by the server and is taken again on the new connection. One
/// whose connection breaks after the `COMMIT` was sent, before its answer
/// came, may or may not be stored: it fails with an error whose source is
/// [`CommitUnknown`], naming the event's number, and is never reported as
/// appended. The sequence stays gapless either way: if the event was
/// stored, it has its number and subscribers get it like any other; if not,
/// the number goes to the next event. See [`CommitUnknown`] for what a
/// caller does then.
///
/// # TLS
///
/// Connections use TLS (rustls) as the connection string's `sslmode` says:
/// `disable`, never; `prefer` (libpq's default), when the server offers
/// it; `require`, always, failing against a server without it. The server's
/// certificate is verified against the platform's roots, or the roots of
/// [`PostgresOptions`], and must name the host connected to; a unix socket
/// connection never uses TLS.
pub struct PostgresStore {
    log: String,
    connector: Arc<Connector>,
    /// Each `None` from when a call finds its connection lost until one
    /// connects again.
    writer: Mutex<Option<Writer>>,
    reader: Mutex<Option<Arc<Reader>>>,
    follow: Arc<Follow>,
    /// Kept for its drop, which stops the connections' thread; last, so
    /// that the clients above are dropped before it.
    background: Background,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

/// How a [`PostgresStore`] connects, beyond its connection string: the
/// roots TLS verifies the server's certificate against, and for how long a
/// call reconnects a lost connection.
///
/// ```no_run
/// use atlex_eventlog::{PostgresOptions, PostgresStore};
/// use std::time::Duration;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The database's own CA, as a PEM file.
/// let ca = std::fs::read("/etc/atlex/postgres-ca.pem")?;
/// let options = PostgresOptions::new()
///     .root_certificates_pem(&ca)?
///     .reconnect_for(Duration::from_secs(30));
/// let store = PostgresStore::connect_with(
///     "host=db.internal port=5432 user=labeler dbname=labeler sslmode=require",
///     "labels",
///     &options,
/// )?;
/// # drop(store);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    roots: Roots,
    reconnect_for: Duration,
}

#[derive(Clone, Debug)]
enum Roots {
    Platform,
    Certificates(Vec<CertificateDer<'static>>),
    Config(Arc<rustls::ClientConfig>),
}

impl Default for PostgresOptions {
    /// The platform's roots; reconnecting for 10 s.
    fn default() -> Self {
        Self {
            roots: Roots::Platform,
            reconnect_for: Duration::from_secs(10),
        }
    }
}

impl PostgresOptions {
    /// The defaults: the platform's roots, reconnecting for 10 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Verifies the server's certificate against the CA certificates in
    /// `pem` (one or more `CERTIFICATE` blocks) instead of the platform's
    /// roots. TLS is then required: `sslmode=disable` is refused, and
    /// `prefer` is taken as `require`.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, StoreError> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| error(format!("the root certificates are not PEM: {e}")))?;
        if certificates.is_empty() {
            return Err(error("no CERTIFICATE in the root certificates' PEM"));
        }
        self.roots = Roots::Certificates(certificates);
        Ok(self)
    }

    /// Connects with this rustls configuration (roots, client certificate,
    /// crypto provider of the caller's) instead; TLS is then required, as
    /// with [`root_certificates_pem`](Self::root_certificates_pem).
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.roots = Roots::Config(Arc::new(config));
        self
    }

    /// For how long a call whose connection is lost tries to connect again
    /// before it fails.
    pub fn reconnect_for(mut self, window: Duration) -> Self {
        self.reconnect_for = window;
        self
    }

    /// The TLS connector for `config`, whose `sslmode` becomes `require`
    /// when roots are given.
    fn tls(&self, config: &mut Config) -> Result<MakeRustlsConnect, StoreError> {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(error)?;
        if !matches!(self.roots, Roots::Platform) {
            if config.get_ssl_mode() == SslMode::Disable {
                return Err(error(
                    "TLS roots are given but the connection string says sslmode=disable",
                ));
            }
            config.ssl_mode(SslMode::Require);
        }
        let tls = match &self.roots {
            // The platform's roots are read (and must exist) only where
            // TLS may be used: not on a unix socket, nor with
            // `sslmode=disable`.
            Roots::Platform
                if config.get_ssl_mode() == SslMode::Disable
                    || !config
                        .get_hosts()
                        .iter()
                        .any(|host| matches!(host, Host::Tcp(_))) =>
            {
                builder
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            }
            Roots::Platform => builder
                .with_platform_verifier()
                .map_err(|e| {
                    error(format!(
                        "cannot set up TLS with the platform's roots ({e}); \
                         sslmode=disable connects without TLS"
                    ))
                })?
                .with_no_client_auth(),
            Roots::Certificates(certificates) => {
                let mut roots = rustls::RootCertStore::empty();
                for certificate in certificates {
                    roots
                        .add(certificate.clone())
                        .map_err(|e| error(format!("a root certificate is unusable: {e}")))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Roots::Config(config) => (**config).clone(),
        };
        Ok(MakeRustlsConnect::new(tls))
    }
}

/// The store's connection settings, shared with its listening task.
struct Connector {
    config: Config,
    tls: MakeRustlsConnect,
    reconnect_for: Duration,
}

type Connection =
    tokio_postgres::Connection<Socket, <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream>;

impl Connector {
    fn new(config: &str, options: &PostgresOptions) -> Result<Self, StoreError> {
        let mut config: Config = config.parse().map_err(pg)?;
        let tls = options.tls(&mut config)?;
        Ok(Self {
            config,
            tls,
            reconnect_for: options.reconnect_for,
        })
    }

    /// A connection named `name` (what operators see in
    /// `pg_stat_activity`), with its client.
    async fn open(&self, name: &str) -> Result<(Client, Connection), StoreError> {
        let mut config = self.config.clone();
        config.application_name(name);
        config.connect(self.tls.clone()).await.map_err(pg)
    }

    async fn client(&self, name: &str) -> Result<Client, StoreError> {
        let (client, connection) = self.open(name).await?;
        // Ends when the client is dropped or the server goes away; the
        // client's calls then fail with the reason.
        tokio::spawn(connection);
        Ok(client)
    }
}

/// A tokio-postgres error shown with its cause (the TLS or socket error
/// under "error performing TLS handshake", say).
#[derive(Debug)]
struct Described(tokio_postgres::Error);

impl std::fmt::Display for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(&self.0);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !self.0.to_string().contains(&text) {
                write!(f, ": {text}")?;
            }
            source = cause.source();
        }
        Ok(())
    }
}

impl std::error::Error for Described {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Tries `attempt` until it succeeds, pausing 100 ms after the first
/// failure and twice as long after each next one (up to 2 s), for at most
/// `window`; then fails with the last error.
async fn with_backoff<T, F: Future<Output = Result<T, StoreError>>>(
    window: Duration,
    mut attempt: impl FnMut() -> F,
) -> Result<T, StoreError> {
    let deadline = tokio::time::Instant::now() + window;
    let mut pause = FIRST_PAUSE;
    loop {
        let failed = match attempt().await {
            Ok(done) => return Ok(done),
            Err(failed) => failed,
        };
        if tokio::time::Instant::now() + pause > deadline {
            let why = std::error::Error::source(&failed)
                .map_or_else(|| failed.to_string(), |source| source.to_string());
            return Err(error(format!(
                "cannot reconnect to PostgreSQL (tried for {window:?}): {why}"
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// Whether `error` means the connection is gone (or going: the server
/// ending it sends a `FATAL` error before it closes), rather than a
/// statement failing on a connection that still works.
fn lost(client: &Client, error: &tokio_postgres::Error) -> bool {
    if client.is_closed() || error.is_closed() {
        return true;
    }
    match error.as_db_error() {
        // A socket error, or a message the client could not read.
        None => true,
        Some(db) => {
            let code = db.code().code();
            matches!(
                db.parsed_severity(),
                Some(Severity::Fatal | Severity::Panic)
            ) || code.starts_with("08")
                || code.starts_with("57P")
        }
    }
}

/// The fate of an append is unknown: the connection to PostgreSQL was lost
/// after the transaction's `COMMIT` was sent and before its answer came.
/// It is the [source](std::error::Error::source) of the
/// [`StoreError`] in the [`AppendError`] that
/// [`EventLog::append`](atlex_stream::EventLog::append) returns.
///
/// The event numbered [`seq`](Self::seq) is either stored, served to
/// subscribers like every other, or not, its number then going to the next
/// event; the log has no gap either way. A caller that must not lose the
/// event appends it again (a consumer may then get it twice, under two
/// numbers, which at-least-once delivery allows for). One that must not
/// store it twice first reads event `seq` back, through any store on the
/// log, and appends again only if it is not the event.
///
/// ```no_run
/// use atlex_eventlog::CommitUnknown;
/// use atlex_stream::AppendError;
///
/// fn commit_unknown(error: &AppendError) -> Option<i64> {
///     let AppendError::Store(store) = error else { return None };
///     let source = std::error::Error::source(store)?;
///     source.downcast_ref::<CommitUnknown>().map(CommitUnknown::seq)
/// }
/// # let _ = commit_unknown;
/// ```
#[derive(Debug)]
pub struct CommitUnknown {
    seq: i64,
    cause: tokio_postgres::Error,
}

impl CommitUnknown {
    /// The number the event was given.
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

impl std::fmt::Display for CommitUnknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the connection was lost before the commit of event {} was confirmed, \
             so it may or may not be stored: {}",
            self.seq, self.cause
        )
    }
}

impl std::error::Error for CommitUnknown {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

struct Writer {
    client: Client,
    /// Set when a call found the connection lost.
    broken: bool,
    /// Opens the appending transaction and takes the next number, `(seq,
    /// start)`, in one round trip: a simple query, which stops at its first
    /// error, so the number is never taken outside a transaction.
    take_number: String,
    /// Stores the event and notifies: `log, seq, frame, start, len`.
    insert: Statement,
    /// `log` → `(last_seq, end_bytes)`.
    head: Statement,
    /// `log, start` → the oldest seq starting at `start` or later.
    first_from_byte: Statement,
    /// `log, age_ms` → the oldest seq appended at most `age_ms` ago.
    first_younger: Statement,
    /// `log, seq`: deletes the events before `seq`.
    delete_before: Statement,
}

struct Reader {
    client: Client,
    /// Set when a call found the connection lost.
    broken: AtomicBool,
    /// `log, from, max` → `(seq, frame)`.
    read: Statement,
    /// `log` → `(min, max)`.
    bounds: Statement,
}

fn error(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::new(error)
}

/// A store error of tokio-postgres', with its cause in its message.
fn pg(error: tokio_postgres::Error) -> StoreError {
    StoreError::new(Described(error))
}

impl PostgresStore {
    /// Connects to the database `config` (a libpq connection string,
    /// `host=/run/postgresql user=atlex dbname=events`, or a
    /// `postgresql://` URL), creates the tables if need be, and keeps log
    /// `log` there. TLS, if the connection string's `sslmode` asks for it,
    /// verifies the server against the platform's roots.
    pub fn connect(config: &str, log: &str) -> Result<Self, StoreError> {
        Self::connect_with(config, log, &PostgresOptions::default())
    }

    /// [`connect`](Self::connect) with `options`: the roots of TLS, and for
    /// how long to reconnect. The first connections are not retried: a
    /// server that cannot be reached, or whose certificate does not verify,
    /// fails the call at once.
    pub fn connect_with(
        config: &str,
        log: &str,
        options: &PostgresOptions,
    ) -> Result<Self, StoreError> {
        let connector = Arc::new(Connector::new(config, options)?);
        let background = Background::start().map_err(error)?;
        let follow = Arc::new(Follow {
            connector: Arc::clone(&connector),
            log: log.to_owned(),
            tail: Mutex::new(None),
            writer_pid: AtomicI32::new(0),
        });
        let (writer, reader) = background.run({
            let follow = Arc::clone(&follow);
            async move {
                let writer = connect_writer(&follow.connector, &follow.log).await?;
                follow.writer_pid.store(writer.1, Ordering::SeqCst);
                let reader = connect_reader(&follow.connector).await?;
                let listening = listen(&follow).await?;
                tokio::spawn(keep_listening(follow, listening));
                Ok::<_, StoreError>((writer.0, reader))
            }
        })??;
        Ok(Self {
            log: log.to_owned(),
            connector,
            writer: Mutex::new(Some(writer)),
            reader: Mutex::new(Some(Arc::new(reader))),
            follow,
            background,
        })
    }

    fn writer(&self) -> MutexGuard<'_, Option<Writer>> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The appending connection in `slot`, connected again if it was lost.
    fn connected<'a>(&self, slot: &'a mut Option<Writer>) -> Result<&'a Writer, StoreError> {
        slot.take_if(|writer| writer.broken || writer.client.is_closed());
        let writer = match slot.take() {
            Some(writer) => writer,
            None => {
                let follow = Arc::clone(&self.follow);
                self.background.run(async move {
                    let window = follow.connector.reconnect_for;
                    let (writer, pid) =
                        with_backoff(window, || connect_writer(&follow.connector, &follow.log))
                            .await?;
                    follow.writer_pid.store(pid, Ordering::SeqCst);
                    // An append whose commit went unanswered may have
                    // stored its event: the log hears of it now.
                    let head = writer.client.query_one(&writer.head, &[&follow.log]).await;
                    if let Ok(head) = head {
                        follow.report(head.get(0));
                    }
                    Ok::<_, StoreError>(writer)
                })??
            }
        };
        Ok(slot.insert(writer))
    }

    /// Until when a call whose connection is lost under it is made again
    /// on a new one.
    fn retry_until(&self) -> std::time::Instant {
        std::time::Instant::now() + self.connector.reconnect_for
    }

    /// Runs `call` on the appending connection, again on a new one each
    /// time the connection is lost under it, within the reconnection
    /// window.
    fn with_writer<T>(
        &self,
        call: impl Fn(&Writer) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut slot = self.writer();
        let retry = self.retry_until();
        loop {
            let writer = self.connected(&mut slot)?;
            match call(writer) {
                Ok(done) => return Ok(done),
                Err(failed) if lost(&writer.client, &failed) => {
                    *slot = None;
                    if std::time::Instant::now() >= retry {
                        return Err(pg(failed));
                    }
                }
                Err(failed) => return Err(pg(failed)),
            }
        }
    }

    /// The reading connection, connected again if it was lost.
    fn reader(&self) -> Result<Arc<Reader>, StoreError> {
        let mut slot = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        slot.take_if(|reader| reader.broken.load(Ordering::SeqCst) || reader.client.is_closed());
        let reader = match slot.take() {
            Some(reader) => reader,
            None => {
                let connector = Arc::clone(&self.connector);
                Arc::new(self.background.run(async move {
                    with_backoff(connector.reconnect_for, || connect_reader(&connector)).await
                })??)
            }
        };
        Ok(Arc::clone(slot.insert(reader)))
    }

    /// Runs `call` on the reading connection, again on a new one each time
    /// the connection is lost under it, within the reconnection window.
    fn with_reader<T>(
        &self,
        call: impl Fn(&Reader) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, StoreError> {
        let retry = self.retry_until();
        loop {
            let reader = self.reader()?;
            match call(&reader) {
                Ok(done) => return Ok(done),
                Err(failed) if lost(&reader.client, &failed) => {
                    reader.broken.store(true, Ordering::SeqCst);
                    if std::time::Instant::now() >= retry {
                        return Err(pg(failed));
                    }
                }
                Err(failed) => return Err(pg(failed)),
            }
        }
    }
}

/// The appending connection, with the process id of the server's end of
/// it, which its notifications carry.
async fn connect_writer(connector: &Connector, log: &str) -> Result<(Writer, i32), StoreError> {
    let mut client = connector.client("atlex-eventlog append").await?;
    let transaction = client.transaction().await.map_err(pg)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(pg)?;
    transaction.batch_execute(SCHEMA).await.map_err(pg)?;
    transaction
        .execute(
            "INSERT INTO atlex_event_logs (log, last_seq, end_bytes) VALUES ($1, 0, 0)
             ON CONFLICT (log) DO NOTHING",
            &[&log],
        )
        .await
        .map_err(pg)?;
    transaction.commit().await.map_err(pg)?;
    let pid = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(pg)?
        .get(0);
    // The log's id, not its name, goes into the simple query's text: a
    // number needs no quoting.
    let id: i64 = client
        .query_one("SELECT id FROM atlex_event_logs WHERE log = $1", &[&log])
        .await
        .map_err(pg)?
        .get(0);
    let prepare = |sql: &'static str| client.prepare(sql);
    let writer = Writer {
        broken: false,
        take_number: format!(
            "BEGIN; UPDATE atlex_event_logs SET last_seq = last_seq + 1 WHERE id = {id}
             RETURNING last_seq, end_bytes"
        ),
        insert: prepare(
            "WITH inserted AS (
                 INSERT INTO atlex_events (log, seq, frame, start, appended_at)
                 VALUES ($1, $2, $3, $4, clock_timestamp())
             ), moved AS (
                 UPDATE atlex_event_logs SET end_bytes = $4 + $5::bigint WHERE log = $1
             )
             SELECT pg_notify('atlex_events', $2::text || ' ' || $1)",
        )
        .await
        .map_err(pg)?,
        head: prepare("SELECT last_seq, end_bytes FROM atlex_event_logs WHERE log = $1")
            .await
            .map_err(pg)?,
        first_from_byte: prepare(
            "SELECT seq FROM atlex_events WHERE log = $1 AND start >= $2 ORDER BY seq LIMIT 1",
        )
        .await
        .map_err(pg)?,
        first_younger: prepare(
            "SELECT seq FROM atlex_events
             WHERE log = $1 AND appended_at >= clock_timestamp() - $2::float8 * interval '1 millisecond'
             ORDER BY seq LIMIT 1",
        )
        .await
        .map_err(pg)?,
        delete_before: prepare("DELETE FROM atlex_events WHERE log = $1 AND seq < $2")
            .await
            .map_err(pg)?,
        client,
    };
    Ok((writer, pid))
}

async fn connect_reader(connector: &Connector) -> Result<Reader, StoreError> {
    let client = connector.client("atlex-eventlog read").await?;
    Ok(Reader {
        broken: AtomicBool::new(false),
        read: client
            .prepare(
                "SELECT seq, frame FROM atlex_events WHERE log = $1 AND seq >= $2
                 ORDER BY seq LIMIT $3",
            )
            .await
            .map_err(pg)?,
        bounds: client
            .prepare("SELECT min(seq), max(seq) FROM atlex_events WHERE log = $1")
            .await
            .map_err(pg)?,
        client,
    })
}

/// What the listening connection needs, and keeps across reconnections.
struct Follow {
    connector: Arc<Connector>,
    log: String,
    /// The log this store reports other logs' appends to, once it follows.
    tail: Mutex<Option<LiveTail>>,
    /// The server process of the appending connection: its appends are
    /// this store's own, which the log knows of already.
    writer_pid: AtomicI32,
}

impl Follow {
    fn report(&self, seq: i64) {
        if let Some(tail) = &*self.tail.lock().unwrap_or_else(PoisonError::into_inner) {
            tail.appended(seq);
        }
    }
}

/// A connection listening for appends to the log, reporting other logs'
/// to the tail; resolves when the connection ends.
async fn listen(
    follow: &Arc<Follow>,
) -> Result<impl Future<Output = ()> + Send + 'static, StoreError> {
    let (client, mut connection) = follow.connector.open("atlex-eventlog listen").await?;
    let driven = tokio::spawn({
        let follow = Arc::clone(follow);
        async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                let AsyncMessage::Notification(notification) = message else {
                    continue;
                };
                if notification.process_id() == follow.writer_pid.load(Ordering::SeqCst) {
                    continue;
                }
                // Another log's, or not one of ours: ignored.
                if let Some((seq, name)) = notification.payload().split_once(' ')
                    && name == follow.log
                    && let Ok(seq) = seq.parse()
                {
                    follow.report(seq);
                }
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(pg)?;
    // What was appended before the connection listened.
    let last: Option<i64> = client
        .query_one(
            "SELECT max(seq) FROM atlex_events WHERE log = $1",
            &[&follow.log],
        )
        .await
        .map_err(pg)?
        .get(0);
    if let Some(last) = last {
        follow.report(last);
    }
    Ok(async move {
        let _ = driven.await;
        drop(client);
    })
}

/// Listens again each time the connection ends: at once, then after
/// pauses growing as in [`with_backoff`] while the server stays away.
async fn keep_listening(follow: Arc<Follow>, listening: impl Future<Output = ()> + Send + 'static) {
    listening.await;
    let mut pause = FIRST_PAUSE;
    loop {
        match listen(&follow).await {
            Ok(listening) => {
                listening.await;
                pause = FIRST_PAUSE;
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
        }
    }
}

impl EventStore for PostgresStore {
    fn append(&self, _seq: i64, _frame: &Frame) -> Result<(), StoreError> {
        Err(error(
            "a Postgres store numbers its events: the log appends with `append_next`",
        ))
    }

    fn numbers_events(&self) -> bool {
        true
    }

    fn append_next(
        &self,
        make: Box<dyn FnOnce(i64) -> Result<Frame, EncodeError> + '_>,
    ) -> Result<(i64, Frame), AppendError> {
        let mut slot = self.writer();
        // Two round trips: `BEGIN` with the number, then the event with
        // `COMMIT`. Until the commit is sent, leaving rolls back, the number
        // with it; so does the server when the connection is lost, and the
        // number is then taken again on a new connection.
        let retry = self.retry_until();
        let messages = loop {
            let writer = self.connected(&mut slot)?;
            match block_on(writer.client.simple_query(&writer.take_number)) {
                Ok(messages) => break messages,
                Err(failed) if lost(&writer.client, &failed) => {
                    *slot = None;
                    if std::time::Instant::now() >= retry {
                        return Err(pg(failed).into());
                    }
                }
                Err(failed) => {
                    let _ = block_on(writer.client.batch_execute("ROLLBACK"));
                    return Err(pg(failed).into());
                }
            }
        };
        let Some(writer) = slot.as_mut() else {
            return Err(error("the appending connection is gone").into());
        };
        let client = &writer.client;
        let mut open = Open {
            client,
            done: false,
        };
        let row = messages
            .iter()
            .find_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .ok_or_else(|| error(format!("no row of log {} in atlex_event_logs", self.log)))?;
        let column = |index: usize| {
            row.get(index)
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| error("atlex_event_logs holds no number"))
        };
        let (seq, start) = (column(0)?, column(1)?);
        let frame = make(seq)?;
        let len = i64::try_from(frame.len()).map_err(error)?;
        // Sent together: a failed insert aborts the transaction, and the
        // `COMMIT` after it then rolls back.
        let (inserted, committed) = block_on(futures_util::future::join(
            client.execute(
                &writer.insert,
                &[&self.log, &seq, &frame.as_bytes(), &start, &len],
            ),
            client.batch_execute("COMMIT"),
        ));
        let (failed, gone) = match (inserted, committed) {
            (Ok(_), Ok(())) => return Ok((seq, frame)),
            // The server answered with an error: the transaction is rolled
            // back.
            (Err(failed), _) | (Ok(_), Err(failed)) if !lost(client, &failed) => {
                (pg(failed), client.is_closed())
            }
            // The connection went before the server's answer to `COMMIT`.
            (inserted, committed) => match committed.err().or(inserted.err()) {
                Some(cause) => (error(CommitUnknown { seq, cause }), true),
                None => (error("the commit's answer is missing"), true),
            },
        };
        open.done = true;
        drop(open);
        writer.broken |= gone;
        Err(failed.into())
    }

    fn follow(&self, tail: LiveTail) {
        *self
            .follow
            .tail
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(tail);
    }

    fn read(&self, from: i64, max: usize) -> Result<Vec<(i64, Frame)>, StoreError> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = self.with_reader(|reader| {
            block_on(reader.client.query(&reader.read, &[&self.log, &from, &max]))
        })?;
        rows.into_iter()
            .map(|row| {
                let seq: i64 = row.get(0);
                let bytes: Vec<u8> = row.get(1);
                let frame = Frame::from_bytes(bytes)
                    .map_err(|e| error(format!("event {seq} is not a frame: {e}")))?;
                Ok((seq, frame))
            })
            .collect()
    }

    fn bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let row = self.with_reader(|reader| {
            block_on(reader.client.query_one(&reader.bounds, &[&self.log]))
        })?;
        Ok(row
            .get::<_, Option<i64>>(0)
            .zip(row.get::<_, Option<i64>>(1)))
    }

    fn trim(&self, retention: &Retention) -> Result<(), StoreError> {
        self.with_writer(|writer| block_on(trim(writer, &self.log, retention)))
    }
}

/// Deletes the events of `log` that `retention` does not keep.
async fn trim(
    writer: &Writer,
    log: &str,
    retention: &Retention,
) -> Result<(), tokio_postgres::Error> {
    let client = &writer.client;
    let head = client.query_one(&writer.head, &[&log]).await?;
    let (last, end): (i64, i64) = (head.get(0), head.get(1));
    // As in the SQLite store: the numbers have no gap, so counting is
    // arithmetic, and `start` and `appended_at` grow with `seq`.
    let mut keep_from = i64::MIN;
    if let Some(max_events) = retention.max_events {
        let max_events = i64::try_from(max_events.max(1)).unwrap_or(i64::MAX);
        keep_from = keep_from.max(last.saturating_sub(max_events - 1));
    }
    if let Some(max_bytes) = retention.max_bytes {
        let max_bytes = i64::try_from(max_bytes).unwrap_or(i64::MAX);
        let cut = end.saturating_sub(max_bytes);
        let first = first_or(client, &writer.first_from_byte, log, &cut, last);
        keep_from = keep_from.max(first.await?);
    }
    if let Some(max_age) = retention.max_age {
        let age_ms = max_age.as_secs_f64() * 1000.0;
        let first = first_or(client, &writer.first_younger, log, &age_ms, last);
        keep_from = keep_from.max(first.await?);
    }
    client
        .execute(&writer.delete_before, &[&log, &keep_from.min(last)])
        .await?;
    Ok(())
}

/// An appending transaction, rolled back when dropped before its end.
struct Open<'a> {
    client: &'a Client,
    done: bool,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Fails only with the connection, which then ends the
            // transaction itself.
            let _ = block_on(self.client.batch_execute("ROLLBACK"));
        }
    }
}

/// The seq of the first row `statement` finds for `log` past `bound`, or
/// `last` if none.
async fn first_or(
    client: &Client,
    statement: &Statement,
    log: &str,
    bound: &(dyn ToSql + Sync),
    last: i64,
) -> Result<i64, tokio_postgres::Error> {
    let row = client.query_opt(statement, &[&log, bound]).await?;
    Ok(row.map_or(last, |row| row.get(0)))
}

/// The thread the store's connections run on, with a runtime of its own:
/// the store's calls work from any thread, in a runtime or not.
struct Background {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("atlex-postgres".to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs `task` on the thread and waits for its result.
    fn run<T: Send + 'static>(
        &self,
        task: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = done.send(task.await);
        });
        result
            .recv()
            .map_err(|_| error("the store's connection thread stopped"))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
