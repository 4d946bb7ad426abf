//! Cursor stores for consumers: the `seq` a consumer has handled, kept
//! across restarts, in a file ([`FileCursor`]) or a SQLite table
//! ([`SqliteCursor`]).

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension as _, params};

/// A cursor in a file of its own, holding the decimal `seq`. Each save
/// writes a temporary file beside it, fsyncs it, renames it over the
/// cursor and fsyncs the directory: a crash leaves either the old cursor or
/// the new one, never a torn one. About one fsync pair per save, so save
/// after a batch of messages rather than after each.
///
/// ```
/// use atlex_eventlog::FileCursor;
///
/// let dir = std::env::temp_dir().join(format!("atlex-cursor-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let cursor = FileCursor::new(dir.join("firehose.cursor"));
/// assert_eq!(cursor.load()?, None);
/// cursor.save(42)?;
/// assert_eq!(cursor.load()?, Some(42));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<_, std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FileCursor {
    path: PathBuf,
}

impl FileCursor {
    /// The cursor kept in `path` (made on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cursor saved, or `None` when there is no file yet. A file that
    /// does not hold a number is an error: it was not written here.
    pub fn load(&self) -> io::Result<Option<i64>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        text.trim().parse().map(Some).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} does not hold a cursor: {error}", self.path.display()),
            )
        })
    }

    /// Replaces the cursor with `seq`, atomically and durably.
    pub fn save(&self, seq: i64) -> io::Result<()> {
        let name = self.path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names no file", self.path.display()),
            )
        })?;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut temp_name = name.to_owned();
        temp_name.push(".tmp");
        let temp = dir.join(temp_name);
        let mut file = File::create(&temp)?;
        file.write_all(format!("{seq}\n").as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &self.path)?;
        // The rename is durable once the directory is.
        File::open(dir)?.sync_all()
    }
}

/// Cursors in a SQLite table (`cursors`, one row per name): one database
/// for the cursors of many streams, or beside a consumer's own tables. Each
/// save is a transaction, fsync'd (`synchronous = FULL`).
///
/// ```
/// use atlex_eventlog::SqliteCursor;
///
/// let dir = std::env::temp_dir().join(format!("atlex-sqlcursor-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let cursor = SqliteCursor::open(dir.join("state.sqlite"), "firehose")?;
/// cursor.save(7)?;
/// assert_eq!(cursor.load()?, Some(7));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteCursor {
    connection: Mutex<Connection>,
    name: String,
}

impl SqliteCursor {
    /// The cursor named `name` in the database `path` (the file and table
    /// are made if need be).
    pub fn open(path: impl AsRef<Path>, name: impl Into<String>) -> io::Result<Self> {
        let connection = Connection::open(path).map_err(io::Error::other)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
            .and_then(|()| {
                connection.execute_batch(
                    "CREATE TABLE IF NOT EXISTS cursors (
                        name TEXT PRIMARY KEY,
                        seq INTEGER NOT NULL
                    ) STRICT;",
                )
            })
            .map_err(io::Error::other)?;
        Ok(Self {
            connection: Mutex::new(connection),
            name: name.into(),
        })
    }

    /// The cursor saved, if any.
    pub fn load(&self) -> io::Result<Option<i64>> {
        let connection = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connection
            .query_row(
                "SELECT seq FROM cursors WHERE name = ?1",
                [&self.name],
                |row| row.get(0),
            )
            .optional()
            .map_err(io::Error::other)
    }

    /// Replaces the cursor with `seq`.
    pub fn save(&self, seq: i64) -> io::Result<()> {
        let connection = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connection
            .execute(
                "INSERT INTO cursors (name, seq) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                params![self.name, seq],
            )
            .map(drop)
            .map_err(io::Error::other)
    }
}

#[cfg(feature = "client")]
impl atlex_client::CursorStore for FileCursor {
    fn load(&self) -> io::Result<Option<i64>> {
        FileCursor::load(self)
    }

    fn save(&self, seq: i64) -> io::Result<()> {
        FileCursor::save(self, seq)
    }
}

#[cfg(feature = "client")]
impl atlex_client::CursorStore for SqliteCursor {
    fn load(&self) -> io::Result<Option<i64>> {
        SqliteCursor::load(self)
    }

    fn save(&self, seq: i64) -> io::Result<()> {
        SqliteCursor::save(self, seq)
    }
}
