//! [`PostgresStore`]: the events of a log in PostgreSQL, shared by the
//! servers of one service, which each follow the others' appends.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use atlex_stream::{AppendError, EncodeError, EventStore, Frame, LiveTail, Retention, StoreError};
use futures_executor::block_on;
use futures_util::StreamExt as _;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, SimpleQueryMessage, Statement};

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
/// those from the table. When that connection drops, the store connects
/// again and reports what was appended meanwhile.
///
/// The store makes its tables (`atlex_event_logs`, `atlex_events`) if they
/// do not exist; several logs, told apart by name, share them. Its calls
/// block while the database answers (the connections run on a thread of
/// the store's own), like those of [`SqliteStore`](crate::SqliteStore): in
/// async code, append from `tokio::task::spawn_blocking`. Connections are
/// unencrypted (a unix socket or a trusted network).
pub struct PostgresStore {
    log: String,
    writer: Mutex<Writer>,
    reader: Reader,
    /// The log this store reports other logs' appends to, once it follows.
    tail: Arc<Mutex<Option<LiveTail>>>,
    /// Kept for its drop, which stops the connections' thread; last, so
    /// that the clients above are dropped before it.
    _background: Background,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

struct Writer {
    client: Client,
    /// The process id of the server's end of the connection, which its
    /// notifications carry.
    pid: i32,
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
    /// `log, from, max` → `(seq, frame)`.
    read: Statement,
    /// `log` → `(min, max)`.
    bounds: Statement,
}

fn error(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::new(error)
}

impl PostgresStore {
    /// Connects to the database `config` (a libpq connection string,
    /// `host=/run/postgresql user=atlex dbname=events`, or a
    /// `postgresql://` URL), creates the tables if need be, and keeps log
    /// `log` there.
    pub fn connect(config: &str, log: &str) -> Result<Self, StoreError> {
        let config: Config = config.parse().map_err(error)?;
        let background = Background::start().map_err(error)?;
        let tail = Arc::new(Mutex::new(None));
        let (writer, reader) = background.run({
            let config = config.clone();
            let log = log.to_owned();
            let tail = Arc::clone(&tail);
            async move {
                let writer = connect_writer(&config, &log).await?;
                let reader = connect_reader(&config).await?;
                let follow = Arc::new(Follow {
                    config,
                    log,
                    tail,
                    writer_pid: writer.pid,
                });
                let listening = listen(&follow).await?;
                tokio::spawn(keep_listening(follow, listening));
                Ok::<_, StoreError>((writer, reader))
            }
        })??;
        Ok(Self {
            log: log.to_owned(),
            writer: Mutex::new(writer),
            reader,
            tail,
            _background: background,
        })
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn connect(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(error)?;
    // Ends when the client is dropped or the server goes away; the
    // client's calls then fail with the reason.
    tokio::spawn(connection);
    Ok(client)
}

async fn connect_writer(config: &Config, log: &str) -> Result<Writer, StoreError> {
    let mut client = connect(config).await?;
    let transaction = client.transaction().await.map_err(error)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(error)?;
    transaction.batch_execute(SCHEMA).await.map_err(error)?;
    transaction
        .execute(
            "INSERT INTO atlex_event_logs (log, last_seq, end_bytes) VALUES ($1, 0, 0)
             ON CONFLICT (log) DO NOTHING",
            &[&log],
        )
        .await
        .map_err(error)?;
    transaction.commit().await.map_err(error)?;
    let pid = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .map_err(error)?
        .get(0);
    // The log's id, not its name, goes into the simple query's text: a
    // number needs no quoting.
    let id: i64 = client
        .query_one("SELECT id FROM atlex_event_logs WHERE log = $1", &[&log])
        .await
        .map_err(error)?
        .get(0);
    let prepare = |sql: &'static str| client.prepare(sql);
    Ok(Writer {
        pid,
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
        .map_err(error)?,
        head: prepare("SELECT last_seq, end_bytes FROM atlex_event_logs WHERE log = $1")
            .await
            .map_err(error)?,
        first_from_byte: prepare(
            "SELECT seq FROM atlex_events WHERE log = $1 AND start >= $2 ORDER BY seq LIMIT 1",
        )
        .await
        .map_err(error)?,
        first_younger: prepare(
            "SELECT seq FROM atlex_events
             WHERE log = $1 AND appended_at >= clock_timestamp() - $2::float8 * interval '1 millisecond'
             ORDER BY seq LIMIT 1",
        )
        .await
        .map_err(error)?,
        delete_before: prepare("DELETE FROM atlex_events WHERE log = $1 AND seq < $2")
            .await
            .map_err(error)?,
        client,
    })
}

async fn connect_reader(config: &Config) -> Result<Reader, StoreError> {
    let client = connect(config).await?;
    Ok(Reader {
        read: client
            .prepare(
                "SELECT seq, frame FROM atlex_events WHERE log = $1 AND seq >= $2
                 ORDER BY seq LIMIT $3",
            )
            .await
            .map_err(error)?,
        bounds: client
            .prepare("SELECT min(seq), max(seq) FROM atlex_events WHERE log = $1")
            .await
            .map_err(error)?,
        client,
    })
}

/// What the listening connection needs, and keeps across reconnections.
struct Follow {
    config: Config,
    log: String,
    tail: Arc<Mutex<Option<LiveTail>>>,
    /// The writer's server process: its appends are this store's own,
    /// which the log knows of already.
    writer_pid: i32,
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
    let mut config = follow.config.clone();
    // Named, so that an operator can tell it from the other connections.
    config.application_name("atlex-eventlog listen");
    let (client, mut connection) = config.connect(NoTls).await.map_err(error)?;
    let driven = tokio::spawn({
        let follow = Arc::clone(follow);
        async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                let AsyncMessage::Notification(notification) = message else {
                    continue;
                };
                if notification.process_id() == follow.writer_pid {
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
        .map_err(error)?;
    // What was appended before the connection listened.
    let last: Option<i64> = client
        .query_one(
            "SELECT max(seq) FROM atlex_events WHERE log = $1",
            &[&follow.log],
        )
        .await
        .map_err(error)?
        .get(0);
    if let Some(last) = last {
        follow.report(last);
    }
    Ok(async move {
        let _ = driven.await;
        drop(client);
    })
}

/// Listens again each time the connection ends, a second apart.
async fn keep_listening(follow: Arc<Follow>, listening: impl Future<Output = ()> + Send + 'static) {
    listening.await;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(listening) = listen(&follow).await {
            listening.await;
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
        let writer = self.writer();
        let client = &writer.client;
        // Two round trips: `BEGIN` with the number, then the event with
        // `COMMIT`. Until the commit is sent, leaving rolls back, the number
        // with it.
        let mut open = Open {
            client,
            done: false,
        };
        let messages = block_on(client.simple_query(&writer.take_number)).map_err(error)?;
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
        open.done = true;
        inserted.map_err(error)?;
        committed.map_err(error)?;
        Ok((seq, frame))
    }

    fn follow(&self, tail: LiveTail) {
        *self.tail.lock().unwrap_or_else(PoisonError::into_inner) = Some(tail);
    }

    fn read(&self, from: i64, max: usize) -> Result<Vec<(i64, Frame)>, StoreError> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = block_on(
            self.reader
                .client
                .query(&self.reader.read, &[&self.log, &from, &max]),
        )
        .map_err(error)?;
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
        let row = block_on(
            self.reader
                .client
                .query_one(&self.reader.bounds, &[&self.log]),
        )
        .map_err(error)?;
        Ok(row
            .get::<_, Option<i64>>(0)
            .zip(row.get::<_, Option<i64>>(1)))
    }

    fn trim(&self, retention: &Retention) -> Result<(), StoreError> {
        let writer = self.writer();
        block_on(async {
            let client = &writer.client;
            let head = client
                .query_one(&writer.head, &[&self.log])
                .await
                .map_err(error)?;
            let (last, end): (i64, i64) = (head.get(0), head.get(1));
            // As in the SQLite store: the numbers have no gap, so counting
            // is arithmetic, and `start` and `appended_at` grow with `seq`.
            let mut keep_from = i64::MIN;
            if let Some(max_events) = retention.max_events {
                let max_events = i64::try_from(max_events.max(1)).unwrap_or(i64::MAX);
                keep_from = keep_from.max(last.saturating_sub(max_events - 1));
            }
            if let Some(max_bytes) = retention.max_bytes {
                let max_bytes = i64::try_from(max_bytes).unwrap_or(i64::MAX);
                let cut = end.saturating_sub(max_bytes);
                let first = first_or(client, &writer.first_from_byte, &self.log, &cut, last);
                keep_from = keep_from.max(first.await?);
            }
            if let Some(max_age) = retention.max_age {
                let age_ms = max_age.as_secs_f64() * 1000.0;
                let first = first_or(client, &writer.first_younger, &self.log, &age_ms, last);
                keep_from = keep_from.max(first.await?);
            }
            client
                .execute(&writer.delete_before, &[&self.log, &keep_from.min(last)])
                .await
                .map_err(error)?;
            Ok(())
        })
    }
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
) -> Result<i64, StoreError> {
    let row = client
        .query_opt(statement, &[&log, bound])
        .await
        .map_err(error)?;
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
