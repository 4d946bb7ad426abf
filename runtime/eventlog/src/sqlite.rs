//! [`SqliteStore`]: the events of a log in one SQLite file, in WAL mode.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atlex_stream::{EventStore, Frame, Retention, StoreError};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};

/// When an append is on disk: SQLite's `synchronous` setting in WAL mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Each append is fsync'd before it returns (`synchronous = FULL`): an
    /// event appended survives a crash of the process and of the machine
    /// (power loss). One fsync per append.
    #[default]
    Full,
    /// Appends reach the file's write-ahead log before they return and are
    /// fsync'd at checkpoints (`synchronous = NORMAL`): an event appended
    /// survives a crash of the process, but the last ones may be lost when
    /// the machine stops.
    Process,
}

/// An [`EventStore`] in a SQLite file (bundled SQLite, WAL mode): one table
/// of frames keyed by sequence number, one connection that writes and one
/// that reads, so that subscribers replaying old events do not wait for an
/// append's fsync.
///
/// Only one log at a time may append to a file: a second one would number
/// its events after the same newest event, and its appends fail (the
/// number is taken) rather than interleave.
///
/// ```
/// use atlex_eventlog::{Durability, SqliteStore};
/// use atlex_stream::{EventStore, Frame};
///
/// let dir = std::env::temp_dir().join(format!("atlex-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("events.sqlite"), Durability::Full)?;
/// if store.bounds()?.is_none() {
///     store.append(1, &Frame::message("#tick", &serde_json::json!({ "seq": 1 }))?)?;
/// }
/// assert_eq!(store.read(1, 10)?.len(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    writer: Mutex<Writer>,
    reader: Mutex<Connection>,
}

#[derive(Debug)]
struct Writer {
    connection: Connection,
    /// The byte offset after the newest event: the sum of the sizes of all
    /// events ever appended. Each row keeps the offset it starts at, so
    /// trimming by bytes finds its cut without adding sizes up.
    end: i64,
}

impl SqliteStore {
    /// Opens the store in `path`, creating the file and its table if need
    /// be.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let connection = Connection::open(path).map_err(StoreError::new)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(StoreError::new)?;
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Process => "NORMAL",
        };
        connection
            .pragma_update(None, "synchronous", synchronous)
            .map_err(StoreError::new)?;
        // Another connection may hold the write lock for a moment (a
        // checkpoint); waiting beats failing the append.
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(StoreError::new)?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS events (
                    seq INTEGER PRIMARY KEY,
                    frame BLOB NOT NULL,
                    start INTEGER NOT NULL,
                    appended_ms INTEGER NOT NULL
                ) STRICT;",
            )
            .map_err(StoreError::new)?;
        let end = connection
            .query_row(
                "SELECT start + length(frame) FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map_err(StoreError::new)?
            .unwrap_or(0);
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(StoreError::new)?;
        reader
            .busy_timeout(Duration::from_secs(5))
            .map_err(StoreError::new)?;
        Ok(Self {
            writer: Mutex::new(Writer { connection, end }),
            reader: Mutex::new(reader),
        })
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Milliseconds since the Unix epoch (0 for a clock set before it).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

impl EventStore for SqliteStore {
    fn append(&self, seq: i64, frame: &Frame) -> Result<(), StoreError> {
        let mut writer = self.writer();
        let start = writer.end;
        let len = i64::try_from(frame.len()).map_err(StoreError::new)?;
        writer
            .connection
            .prepare_cached(
                "INSERT INTO events (seq, frame, start, appended_ms) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut insert| insert.execute(params![seq, frame.as_bytes(), start, now_ms()]))
            .map_err(StoreError::new)?;
        writer.end = start + len;
        Ok(())
    }

    fn read(&self, from: i64, max: usize) -> Result<Vec<(i64, Frame)>, StoreError> {
        let reader = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let mut select = reader
            .prepare_cached("SELECT seq, frame FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2")
            .map_err(StoreError::new)?;
        let rows = select
            .query_map(params![from, max], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(StoreError::new)?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, bytes) = row.map_err(StoreError::new)?;
            let frame = Frame::from_bytes(bytes)
                .map_err(|error| StoreError::new(format!("event {seq} is not a frame: {error}")))?;
            events.push((seq, frame));
        }
        Ok(events)
    }

    fn bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let reader = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        reader
            .query_row("SELECT MIN(seq), MAX(seq) FROM events", [], |row| {
                Ok(row
                    .get::<_, Option<i64>>(0)?
                    .zip(row.get::<_, Option<i64>>(1)?))
            })
            .map_err(StoreError::new)
    }

    fn trim(&self, retention: &Retention) -> Result<(), StoreError> {
        let writer = self.writer();
        let connection = &writer.connection;
        let Some(last) = connection
            .query_row("SELECT MAX(seq) FROM events", [], |row| {
                row.get::<_, Option<i64>>(0)
            })
            .map_err(StoreError::new)?
        else {
            return Ok(());
        };
        // The oldest event to keep under each limit; the seqs have no gap,
        // so counting is arithmetic, and `start` and `appended_ms` grow with
        // `seq`, so the first row past each cut is found by walking from the
        // oldest.
        let mut keep_from = i64::MIN;
        if let Some(max_events) = retention.max_events {
            let max_events = i64::try_from(max_events.max(1)).unwrap_or(i64::MAX);
            keep_from = keep_from.max(last.saturating_sub(max_events - 1));
        }
        let first_at_least = |column: &str, bound: i64| {
            connection
                .query_row(
                    &format!("SELECT seq FROM events WHERE {column} >= ?1 ORDER BY seq LIMIT 1"),
                    [bound],
                    |row| row.get::<_, i64>(0),
                )
                .optional()
                .map(|seq| seq.unwrap_or(last))
                .map_err(StoreError::new)
        };
        if let Some(max_bytes) = retention.max_bytes {
            let max_bytes = i64::try_from(max_bytes).unwrap_or(i64::MAX);
            keep_from = keep_from.max(first_at_least(
                "start",
                writer.end.saturating_sub(max_bytes),
            )?);
        }
        if let Some(max_age) = retention.max_age {
            let max_age = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
            keep_from = keep_from.max(first_at_least(
                "appended_ms",
                now_ms().saturating_sub(max_age),
            )?);
        }
        connection
            .execute("DELETE FROM events WHERE seq < ?1", [keep_from.min(last)])
            .map_err(StoreError::new)?;
        Ok(())
    }
}
