//! Durable event logs for [atlex](https://github.com/atlex-rs/atlex): the
//! `atlex` crate re-exports this crate as `atlex::eventlog` (feature
//! `eventlog`).
//!
//! - [`SqliteStore`] keeps the events of an
//!   [`EventLog`](atlex_stream::EventLog) in a SQLite file (bundled, WAL
//!   mode): an append returns once the event is on disk, a server that
//!   restarts continues its sequence, and subscribers reconnecting with
//!   their cursor get the events they missed, as far back as the log's
//!   [`Retention`](atlex_stream::Retention) keeps them.
//! - `PostgresStore` (feature `postgres`) keeps one log in PostgreSQL for
//!   a service that runs on several machines: every server appends to it
//!   and serves the whole stream, the database numbering the events. It
//!   connects over TLS when asked (`PostgresOptions`), and again by itself
//!   when the server restarts.
//! - [`FileCursor`] and [`SqliteCursor`] keep a consumer's cursor across
//!   restarts; with feature `client` they plug into
//!   `EventStream::resume_with` of `atlex-client`.
//!
//! A server changes one line, `EventLog::new()` for [`EventLog::open`]:
//!
//! ```
//! use atlex_eventlog::{Durability, SqliteStore};
//! use atlex_stream::EventLog;
//! # use atlex_core_like::*;
//! # mod atlex_core_like {
//! #     #[derive(Clone, Copy, Debug, Default, atlex::rt::Subscription)]
//! #     #[lex(subscription = "test.events.subscribe", params, message)]
//! #     pub struct Subscribe;
//! #     #[derive(Clone, Debug, Default, atlex::rt::Params)]
//! #     pub struct Params { pub cursor: Option<i64> }
//! #     #[derive(Clone, Debug, atlex::rt::Union)]
//! #     pub enum Message {
//! #         #[lex("test.events.subscribe#tick")]
//! #         Tick(Box<Tick>),
//! #         #[lex(unknown)]
//! #         Unknown(atlex::rt::Unknown),
//! #     }
//! #     #[derive(Clone, Debug, atlex::rt::EndpointError)]
//! #     pub enum Error {
//! #         #[lex(unknown)]
//! #         Unknown(atlex::rt::UnknownError),
//! #     }
//! #     #[derive(Clone, Debug, atlex::rt::Object)]
//! #     #[lex(type = "test.events.subscribe#tick")]
//! #     pub struct Tick { pub seq: i64 }
//! # }
//! let dir = std::env::temp_dir().join(format!("atlex-eventlog-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("events.sqlite");
//!
//! let log = EventLog::<Subscribe>::open(SqliteStore::open(&path, Durability::Full)?)?;
//! let seq = log.append(|seq| Message::Tick(Box::new(Tick { seq })))?;
//! drop(log);
//!
//! // After a restart: the sequence goes on, the old events are served.
//! let log = EventLog::<Subscribe>::open(SqliteStore::open(&path, Durability::Full)?)?;
//! assert_eq!(log.latest_seq(), Some(seq));
//! assert_eq!(log.append(|seq| Message::Tick(Box::new(Tick { seq })))?, seq + 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! [`EventLog::open`]: atlex_stream::EventLog::open
//!
//! # Durability and cost
//!
//! [`Durability::Full`] (the default) fsyncs the write-ahead log on every
//! append, so an event whose number was handed out survives a power loss;
//! appends are then as fast as the disk syncs. [`Durability::Process`]
//! leaves the fsync to SQLite's checkpoints: an append survives the process
//! being killed, not the machine stopping, and costs a write to the page
//! cache. `cargo bench -p atlex-eventlog` compares the two with a log in
//! memory; on a virtual machine's SSD, about 6,000 appends a second with
//! `Full`, 60,000 with `Process`, a million in memory. Appends are
//! serialized by the log (one numbering, no gap), so many appending tasks
//! share that rate; subscribers read through a connection of their own,
//! from memory while they keep up.
//!
//! An append blocks its thread until the store has the event: in async
//! code, a server that cannot spare the fsync's latency on a runtime thread
//! appends from `tokio::task::spawn_blocking`.
//!
//! # Consumers: at-least-once delivery
//!
//! A consumer saves the `seq` of the last message it has handled and
//! reconnects with it as its cursor: the server sends every event after
//! it, so none is missed, but the messages handled after the last save come
//! again after a crash. Handle them so that a second delivery does no harm
//! (an upsert keyed by the event), and save after batches to bound both the
//! repeats and the fsyncs.

mod cursor;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

pub use cursor::{FileCursor, SqliteCursor};
#[cfg(feature = "postgres")]
pub use postgres::{CommitUnknown, PostgresOptions, PostgresStore};
pub use sqlite::{Durability, SqliteStore};
