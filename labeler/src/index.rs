//! The index that `queryLabels` reads: the newest label of each (`src`,
//! `uri`, `val`), in a SQLite table, caught up from the log.

use std::path::Path;
use std::time::Duration;

use atlex::subscription::{Frame, StoreError, decode_message};
use atlex_lexicons::com::atproto::label::defs::Label;
use atlex_lexicons::com::atproto::label::query_labels;
use atlex_lexicons::com::atproto::label::subscribe_labels::{Message, SubscribeLabels};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension as _, params, params_from_iter};

use crate::LabelerError;

/// How many events the index reads from the log at a time when catching up.
const CATCH_UP_BATCH: usize = 512;

/// The most URI patterns or sources one query may name.
const MAX_FILTERS: usize = 250;

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
#[error("the label index: {0}")]
pub struct IndexError(String);

impl From<rusqlite::Error> for IndexError {
    fn from(error: rusqlite::Error) -> Self {
        Self(error.to_string())
    }
}

impl From<StoreError> for IndexError {
    fn from(error: StoreError) -> Self {
        Self(format!("reading the log: {error}"))
    }
}

/// The index, on its own connection.
#[derive(Debug)]
pub(crate) struct Index {
    connection: Connection,
}

impl Index {
    pub(crate) fn open(path: &Path) -> Result<Self, IndexError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        // The index is derived from the log: a transaction lost when the
        // machine stops takes its own `head` with it, and is redone from
        // the log. No fsync per label is needed.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        // The log's store writes to the same file: wait for its lock.
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS labels (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                src TEXT NOT NULL,
                uri TEXT NOT NULL,
                val TEXT NOT NULL,
                seq INTEGER NOT NULL,
                exp_us INTEGER,
                label BLOB NOT NULL,
                UNIQUE (src, uri, val)
            ) STRICT;
            CREATE INDEX IF NOT EXISTS labels_by_uri ON labels (uri);
            CREATE TABLE IF NOT EXISTS labels_head (
                one INTEGER PRIMARY KEY CHECK (one = 1),
                seq INTEGER NOT NULL
            ) STRICT;",
        )?;
        Ok(Self { connection })
    }

    /// The sequence number of the last event indexed (0 before the first).
    fn head(&self) -> Result<i64, IndexError> {
        Ok(self
            .connection
            .query_row("SELECT seq FROM labels_head", [], |row| row.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Indexes the events that `read(from, max)` gives after the last one
    /// indexed, a batch per transaction, until it gives none. An event
    /// missing from the log (trimmed before it was indexed) or one that is
    /// not a `subscribeLabels` message is an error: the index would
    /// otherwise answer without labels the stream served.
    pub(crate) fn catch_up(
        &mut self,
        read: impl Fn(i64, usize) -> Result<Vec<(i64, Frame)>, StoreError>,
    ) -> Result<(), IndexError> {
        loop {
            let from = self.head()? + 1;
            let events = read(from, CATCH_UP_BATCH)?;
            let Some((first, _)) = events.first() else {
                return Ok(());
            };
            if *first != from {
                return Err(IndexError(format!(
                    "the log no longer has events {from} to {}, which were never indexed",
                    first - 1
                )));
            }
            let transaction = self.connection.transaction()?;
            let mut last = from;
            for (seq, frame) in &events {
                index_event(&transaction, *seq, frame)?;
                last = *seq;
            }
            transaction.execute(
                "INSERT INTO labels_head (one, seq) VALUES (1, ?1)
                 ON CONFLICT (one) DO UPDATE SET seq = excluded.seq",
                [last],
            )?;
            transaction.commit()?;
        }
    }

    /// The page of current, unexpired labels that `query` asks for.
    pub(crate) fn query(&self, query: &Query) -> Result<query_labels::Output, IndexError> {
        let mut sql = String::from(
            "SELECT id, label FROM labels WHERE id > ? AND (exp_us IS NULL OR exp_us > ?) AND (",
        );
        let mut values = vec![
            SqlValue::Integer(query.after),
            SqlValue::Integer(atlex::types::Datetime::now().timestamp_micros()),
        ];
        for (i, pattern) in query.patterns.iter().enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            match pattern {
                Pattern::Exact(uri) => {
                    sql.push_str("uri = ?");
                    values.push(SqlValue::Text(uri.clone()));
                }
                // `substr` and `length` both count characters.
                Pattern::Prefix(prefix) => {
                    sql.push_str("substr(uri, 1, ?) = ?");
                    let chars = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
                    values.push(SqlValue::Integer(chars));
                    values.push(SqlValue::Text(prefix.clone()));
                }
            }
        }
        sql.push(')');
        if let Some(sources) = &query.sources {
            sql.push_str(" AND src IN (");
            for (i, source) in sources.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                values.push(SqlValue::Text(source.clone()));
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        values.push(SqlValue::Integer(query.limit));
        let mut select = self.connection.prepare(&sql)?;
        let rows = select.query_map(params_from_iter(values), |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut labels = Vec::new();
        let mut last = None;
        for row in rows {
            let (id, bytes) = row?;
            let label: Label = atlex::cbor::from_slice(&bytes)
                .map_err(|error| IndexError(format!("label {id} does not decode: {error}")))?;
            labels.push(label);
            last = Some(id);
        }
        // A full page may have more after it.
        let full = i64::try_from(labels.len()).is_ok_and(|len| len == query.limit);
        let mut output = query_labels::Output::new(labels);
        output.cursor = last.filter(|_| full).map(|id| id.to_string());
        Ok(output)
    }
}

/// Indexes the labels of one event: each replaces the row of its (`src`,
/// `uri`, `val`) and goes to the end of the order.
fn index_event(connection: &Connection, seq: i64, frame: &Frame) -> Result<(), IndexError> {
    let message = decode_message::<SubscribeLabels>(frame.as_bytes(), false)
        .map_err(|error| IndexError(format!("event {seq} does not decode: {error}")))?;
    let Message::Labels(labels) = message else {
        // `#info` and messages of a newer lexicon carry no label.
        return Ok(());
    };
    for label in &labels.labels {
        let bytes = atlex::cbor::to_vec(label)
            .map_err(|error| IndexError(format!("a label of event {seq}: {error}")))?;
        let exp = label
            .exp
            .as_ref()
            .map(atlex::types::Datetime::timestamp_micros);
        connection
            .prepare_cached("DELETE FROM labels WHERE src = ?1 AND uri = ?2 AND val = ?3")?
            .execute(params![label.src.as_str(), label.uri.as_str(), label.val])?;
        connection
            .prepare_cached(
                "INSERT INTO labels (src, uri, val, seq, exp_us, label)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                label.src.as_str(),
                label.uri.as_str(),
                label.val,
                seq,
                exp,
                bytes
            ])?;
    }
    Ok(())
}

/// A URI pattern of `queryLabels`.
#[derive(Debug)]
enum Pattern {
    Exact(String),
    /// What a pattern ending with `*` starts with.
    Prefix(String),
}

/// The parameters of a `queryLabels`, checked.
#[derive(Debug)]
pub(crate) struct Query {
    patterns: Vec<Pattern>,
    sources: Option<Vec<String>>,
    /// The cursor: the index order after which the page starts.
    after: i64,
    limit: i64,
}

impl Query {
    pub(crate) fn new(params: query_labels::Params) -> Result<Self, LabelerError> {
        let invalid = |message: String| Err(LabelerError::Invalid(message));
        if params.uri_patterns.is_empty() {
            return invalid("uriPatterns names no pattern".to_owned());
        }
        if params.uri_patterns.len() > MAX_FILTERS {
            return invalid(format!(
                "uriPatterns names more than {MAX_FILTERS} patterns"
            ));
        }
        let mut patterns = Vec::with_capacity(params.uri_patterns.len());
        for pattern in params.uri_patterns {
            let pattern = match pattern.find('*') {
                None if pattern.is_empty() => return invalid("an empty URI pattern".to_owned()),
                None => Pattern::Exact(pattern),
                Some(at) if at + 1 == pattern.len() => Pattern::Prefix(pattern[..at].to_owned()),
                Some(_) => {
                    return invalid(format!(
                        "the URI pattern {pattern:?} has a `*` before its end (only a trailing `*` is allowed)"
                    ));
                }
            };
            patterns.push(pattern);
        }
        let sources = params.sources.map(|sources| {
            sources
                .iter()
                .map(|did| did.as_str().to_owned())
                .collect::<Vec<_>>()
        });
        if sources
            .as_ref()
            .is_some_and(|sources| sources.len() > MAX_FILTERS)
        {
            return invalid(format!("sources names more than {MAX_FILTERS} DIDs"));
        }
        let limit = params.limit.unwrap_or(50);
        if !(1..=250).contains(&limit) {
            return invalid(format!("limit is 1 to 250, not {limit}"));
        }
        let after = match params.cursor {
            None => 0,
            Some(cursor) => match cursor.parse::<i64>() {
                Ok(after) if after >= 0 => after,
                _ => {
                    return invalid(format!(
                        "the cursor {cursor:?} is not one this labeler gave"
                    ));
                }
            },
        };
        Ok(Self {
            patterns,
            sources,
            after,
            limit,
        })
    }
}
