//! [`EventStore`]: where an [`EventLog`](crate::EventLog) keeps its events
//! beyond memory, so that they outlive the process.

use std::time::Duration;

use atlex_core::cbor::EncodeError;
use atlex_core::subscription::Frame;

/// Durable storage for the events of an [`EventLog`](crate::EventLog): a
/// sequence of frames numbered without gaps.
///
/// The log numbers the events and calls [`append`](Self::append) one at a
/// time, in order, each with the number after the newest stored one (or
/// the log's first number, into an empty store). An `append` that returns
/// `Ok` must have stored the frame as the store's durability promises (on
/// disk, say): the log hands the number out only then, and a log opened
/// again on the same store continues after the newest event stored.
///
/// A store shared by several logs (several processes serving one stream)
/// numbers the events itself instead, since no one log knows the next
/// number: it says so with [`numbers_events`](Self::numbers_events), the
/// log calls [`append_next`](Self::append_next) rather than `append`, and
/// the store tells the log of the events the other logs append through the
/// [`LiveTail`](crate::LiveTail) given to [`follow`](Self::follow).
///
/// Stores are used from several threads at once: one appending while
/// subscribers [`read`](Self::read). Calls block (disk, network); the log
/// makes them from whatever thread appends or polls a subscription, and
/// serves recent events from memory so that subscribers keeping up do not
/// read from the store at all.
///
/// `atlex-eventlog` has a SQLite store; tests can use any implementation
/// that keeps these rules.
pub trait EventStore: Send + Sync + 'static {
    /// Stores `frame` as event `seq`, durably.
    fn append(&self, seq: i64, frame: &Frame) -> Result<(), StoreError>;

    /// The events numbered `from` onwards, in order, at most `max` of them
    /// (fewer at the end of the store; none when `from` is past it). The
    /// first may come after `from` when events were trimmed meanwhile: the
    /// log checks the numbers.
    fn read(&self, from: i64, max: usize) -> Result<Vec<(i64, Frame)>, StoreError>;

    /// The numbers of the oldest and the newest event stored, if any.
    fn bounds(&self) -> Result<Option<(i64, i64)>, StoreError>;

    /// Deletes the oldest events beyond what `retention` keeps, always
    /// keeping the newest event (so that a log opened again knows where its
    /// sequence stopped).
    fn trim(&self, retention: &Retention) -> Result<(), StoreError>;

    /// Whether the store numbers the events itself (`false` unless
    /// overridden): the log then appends with
    /// [`append_next`](Self::append_next).
    fn numbers_events(&self) -> bool {
        false
    }

    /// For a store that [numbers events](Self::numbers_events): takes the
    /// number after the newest event stored by anyone, has `make` build the
    /// frame for it, stores the frame, and returns both once the frame is
    /// durable. Numbers have no gap and are stored in order: a failed
    /// append (`make` included) leaves its number to the next one.
    ///
    /// The default refuses, for stores that the log numbers.
    fn append_next(
        &self,
        make: Box<dyn FnOnce(i64) -> Result<Frame, EncodeError> + '_>,
    ) -> Result<(i64, Frame), AppendError> {
        drop(make);
        Err(AppendError::Store(StoreError::new(
            "this store does not number events: the log numbers them",
        )))
    }

    /// Called once by a log opened on the store: the store calls
    /// [`LiveTail::appended`](crate::LiveTail::appended) whenever it learns
    /// that events up to a number are stored, appended by another log on
    /// the same store, so that this log's subscribers get them live. The
    /// default ignores it, for stores that one log alone appends to.
    fn follow(&self, tail: crate::LiveTail) {
        drop(tail);
    }
}

/// How much of its history a stored [`EventLog`](crate::EventLog) keeps: the
/// oldest events go first once any limit is passed (the newest event is
/// always kept). `None` is no limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    /// How many events at most.
    pub max_events: Option<u64>,
    /// How many bytes of frames at most.
    pub max_bytes: Option<u64>,
    /// How old an event may get, from when it was appended.
    pub max_age: Option<Duration>,
}

impl Default for Retention {
    /// 1,000,000 events and 1 GiB of frames, whatever their age.
    fn default() -> Self {
        Self {
            max_events: Some(1_000_000),
            max_bytes: Some(1 << 30),
            max_age: None,
        }
    }
}

/// Why an [`EventStore`] failed: what the store reports, kept as its error.
#[derive(Debug)]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// An error of the store, from its own error or a message.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event store: {}", self.0)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Why [`EventLog::append`](crate::EventLog::append) failed; the event was
/// not appended and its number goes to the next event.
#[derive(Debug)]
pub enum AppendError {
    /// The message did not encode.
    Encode(EncodeError),
    /// The store did not take the frame.
    Store(StoreError),
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Encode(error) => write!(f, "cannot encode the event: {error}"),
            Self::Store(error) => write!(f, "cannot store the event: {error}"),
        }
    }
}

impl std::error::Error for AppendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(error) => Some(error),
            Self::Store(error) => Some(error),
        }
    }
}

impl From<EncodeError> for AppendError {
    fn from(error: EncodeError) -> Self {
        Self::Encode(error)
    }
}

impl From<StoreError> for AppendError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}
