//! [`EventLog`]: a sequenced log of recent events, served to subscribers as
//! "replay from the cursor, then live".

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

use futures_util::stream;
use tokio::sync::watch;

use atlex_core::cbor::EncodeError;
use atlex_core::service::{HandlerError, Messages};
use atlex_core::subscription::Frame;
use atlex_core::xrpc::{EndpointError, Subscription};

use crate::store::{AppendError, EventStore, Retention, StoreError};

/// How many events a new log keeps unless told otherwise.
pub const DEFAULT_MAX_EVENTS: usize = 10_000;
/// How many bytes of frames a new log keeps unless told otherwise: 64 MiB.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// How many frames a subscriber takes from the log at a time.
const BATCH: usize = 64;

/// How many appends a stored log makes between two trims of its store.
const TRIM_EVERY: u64 = 1024;

/// The recent events of a subscription, each with its sequence number, for
/// a server to serve: [`append`](Self::append) numbers and encodes each
/// event once; [`subscribe`](Self::subscribe) gives one subscriber the events
/// after its cursor, then each new one as it is appended.
///
/// Memory is bounded: the log keeps at most
/// [`max_events`](EventLogBuilder::max_events) events and
/// [`max_bytes`](EventLogBuilder::max_bytes) of frames (the newest event is
/// always kept), dropping the oldest; subscribers share the log's frames and
/// hold at most a few dozen of their own. The sequence follows the atproto
/// event-stream rules:
///
/// - no cursor: live events only;
/// - a cursor within what the log holds: the events after it, then live;
/// - a cursor older than what the log holds (some events after it were
///   dropped): `#info` `OutdatedCursor` first (when the subscription declares
///   `#info`), then everything the log holds;
/// - a cursor ahead of the newest event: `FutureCursor` (or
///   `InvalidRequest` for a subscription that does not declare it), before
///   the stream starts;
/// - a subscriber that falls behind, so that the next event it needs has been
///   dropped, gets `ConsumerTooSlow` and is disconnected, even while the
///   server is stuck writing to it.
///
/// Clones share the log. A log that is [`close`](Self::close)d ends every
/// subscription (normally, after the events already appended).
///
/// A log [`open`](EventLogBuilder::open)ed on an [`EventStore`] keeps its
/// events there too: an append returns once the store has the event, a log
/// opened again on the store continues its sequence, and subscribers replay
/// from the store what memory no longer holds. The bounds above then apply
/// to the events kept in memory; what the log holds, for the rules below, is
/// what the store holds, trimmed by the builder's
/// [`retention`](EventLogBuilder::retention).
///
/// A store that [numbers the events](EventStore::numbers_events) itself is
/// shared by several logs, in several processes: each append takes the
/// store's next number, and each log learns of the others' appends from the
/// store (its [`LiveTail`]) and serves them live, read from the store. A
/// subscriber with a cursor makes the log ask the store for its bounds
/// first, so that a cursor handed out by another log is served at once.
///
/// ```
/// use atlex_stream::EventLog;
/// # use atlex_core::rt::Subscription;
/// # fn demo<S: Subscription>(make: impl Fn(i64) -> S::Message) -> Result<(), Box<dyn std::error::Error>> {
/// let log = EventLog::<S>::builder().max_events(50_000).build();
/// let seq = log.append(|seq| make(seq))?; // 1, then 2, …
/// // In the subscription's handler: replay after the cursor, then live.
/// let messages = log.subscribe(Some(seq - 1));
/// # let _ = messages; Ok(()) }
/// ```
pub struct EventLog<S: Subscription> {
    shared: Arc<Shared>,
    subscription: PhantomData<fn() -> S>,
}

impl<S: Subscription> Clone for EventLog<S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            subscription: PhantomData,
        }
    }
}

impl<S: Subscription> std::fmt::Debug for EventLog<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ring = self.shared.read();
        f.debug_struct("EventLog")
            .field("subscription", &S::NSID)
            .field("stored", &self.shared.store.is_some())
            .field("held_first", &ring.held_first)
            .field("first", &ring.first)
            .field("next", &ring.next)
            .field("events", &ring.events.len())
            .field("bytes", &ring.bytes)
            .finish()
    }
}

/// Configures an [`EventLog`]; made by [`EventLog::builder`].
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct EventLogBuilder<S> {
    max_events: usize,
    max_bytes: usize,
    first_seq: i64,
    retention: Retention,
    subscription: PhantomData<fn() -> S>,
}

impl<S: Subscription> EventLogBuilder<S> {
    /// How many events the log keeps at most ([`DEFAULT_MAX_EVENTS`]; at
    /// least 1).
    pub fn max_events(mut self, max_events: usize) -> Self {
        self.max_events = max_events.max(1);
        self
    }

    /// How many bytes of frames the log keeps at most
    /// ([`DEFAULT_MAX_BYTES`]); the newest event is kept whatever its size.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The sequence number of the first event appended (1 unless set): a
    /// server that restarts continues its sequence where it stopped. A
    /// store that numbers events itself ignores it.
    pub fn first_seq(mut self, first_seq: i64) -> Self {
        self.first_seq = first_seq;
        self
    }

    /// How much history a log [`open`](Self::open)ed on a store keeps there
    /// ([`Retention::default`]). The store is trimmed when the log is opened,
    /// every 1024 appends, and on [`EventLog::trim`].
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The log, in memory only.
    pub fn build(self) -> EventLog<S> {
        self.make(None, self.first_seq, self.first_seq)
    }

    /// The log, kept in `store` too: it continues after the newest event
    /// stored ([`first_seq`](Self::first_seq) numbers the first event of an
    /// empty store), and the store is trimmed to the
    /// [`retention`](Self::retention) first.
    pub fn open(self, store: impl EventStore) -> Result<EventLog<S>, StoreError> {
        store.trim(&self.retention)?;
        let (held_first, next) = match store.bounds()? {
            Some((first, last)) => (first, last + 1),
            None => (self.first_seq, self.first_seq),
        };
        let log = self.make(Some(Box::new(store)), held_first, next);
        if let Some(store) = &log.shared.store {
            let tail = log.live_tail();
            store.follow(tail.clone());
            // What other logs appended before the store followed for us.
            if let Some((_, last)) = store.bounds()? {
                tail.appended(last);
            }
        }
        Ok(log)
    }

    fn make(&self, store: Option<Box<dyn EventStore>>, held_first: i64, next: i64) -> EventLog<S> {
        let info = format!("{}#info", S::NSID);
        EventLog {
            shared: Arc::new(Shared {
                appending: Mutex::new(0),
                ring: RwLock::new(Ring {
                    held_first,
                    first: next,
                    next,
                    events: VecDeque::new(),
                    bytes: 0,
                }),
                bounds: watch::Sender::new(Bounds { first: held_first }),
                closed: AtomicBool::new(false),
                max_events: self.max_events,
                max_bytes: self.max_bytes,
                numbered_by_store: store.as_ref().is_some_and(|store| store.numbers_events()),
                store,
                retention: self.retention.clone(),
                has_info: <S::Message as atlex_core::rt::Union>::MEMBERS.contains(&info.as_str()),
            }),
            subscription: PhantomData,
        }
    }
}

struct Shared {
    /// Held while an event is numbered, encoded and stored, so that events
    /// are stored in the order of their numbers; counts the appends since
    /// the store was last trimmed.
    appending: Mutex<u64>,
    ring: RwLock<Ring>,
    /// The log's bounds after each change, for subscribers to wait on.
    bounds: watch::Sender<Bounds>,
    closed: AtomicBool,
    max_events: usize,
    max_bytes: usize,
    /// Where the events are kept beyond memory, if anywhere.
    store: Option<Box<dyn EventStore>>,
    /// Whether the store numbers the events (and other logs append to it).
    numbered_by_store: bool,
    retention: Retention,
    /// Whether the subscription declares `#info`.
    has_info: bool,
}

impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        self.ring.read().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Ring {
    /// The sequence number of the oldest event the log holds: `first`, or
    /// an older one in the store.
    held_first: i64,
    /// The sequence number of `events[0]`.
    first: i64,
    /// The sequence number the next event gets.
    next: i64,
    events: VecDeque<Frame>,
    bytes: usize,
}

#[derive(Clone, Copy, Debug)]
struct Bounds {
    first: i64,
}

impl<S: Subscription> EventLog<S> {
    /// A log with the default bounds, numbering from 1.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder, to set the bounds and the first sequence number.
    pub fn builder() -> EventLogBuilder<S> {
        EventLogBuilder {
            max_events: DEFAULT_MAX_EVENTS,
            max_bytes: DEFAULT_MAX_BYTES,
            first_seq: 1,
            retention: Retention::default(),
            subscription: PhantomData,
        }
    }

    /// The log kept in `store` with the default bounds and
    /// [`Retention`]: see [`EventLogBuilder::open`].
    pub fn open(store: impl EventStore) -> Result<Self, StoreError> {
        Self::builder().open(store)
    }

    /// Numbers the next event, makes it with `make(seq)` (which puts the
    /// number in the message's `seq`), encodes it once and makes it
    /// available to every subscriber. Returns the number.
    ///
    /// A stored log returns once its store has the event: a call that
    /// blocks as long as the store takes (an fsync, for a durable one).
    /// After an error the number goes to the next event, so the sequence
    /// has no gap.
    pub fn append(&self, make: impl FnOnce(i64) -> S::Message) -> Result<i64, AppendError> {
        self.append_frame(|seq| Frame::of_message::<S>(&make(seq)))
    }

    /// [`append`](Self::append) for a frame already encoded (`make` is given
    /// the event's number, which the frame's body must carry).
    pub fn append_frame(
        &self,
        make: impl FnOnce(i64) -> Result<Frame, EncodeError>,
    ) -> Result<i64, AppendError> {
        let shared = &*self.shared;
        let mut since_trim = shared
            .appending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (seq, frame) = match &shared.store {
            Some(store) if shared.numbered_by_store => store.append_next(Box::new(make))?,
            store => {
                let seq = shared.read().next;
                let frame = make(seq)?;
                if let Some(store) = store {
                    store.append(seq, &frame)?;
                }
                (seq, frame)
            }
        };
        if shared.store.is_some() {
            *since_trim += 1;
        }
        let bounds = {
            let mut ring = shared.ring.write().unwrap_or_else(PoisonError::into_inner);
            if seq > ring.next {
                // Other logs on the store appended the events in between:
                // memory starts again here, subscribers read those from
                // the store.
                ring.events.clear();
                ring.bytes = 0;
                ring.first = seq;
                ring.next = seq;
            }
            // Otherwise `seq < next` only when the store already reported
            // this event (memory then starts after it).
            if seq == ring.next {
                ring.bytes += frame.len();
                ring.events.push_back(frame);
                ring.next = seq + 1;
            }
            while ring.events.len() > 1
                && (ring.events.len() > shared.max_events || ring.bytes > shared.max_bytes)
            {
                if let Some(old) = ring.events.pop_front() {
                    ring.bytes -= old.len();
                    ring.first += 1;
                }
            }
            if shared.store.is_none() {
                ring.held_first = ring.first;
            }
            Bounds {
                first: ring.held_first,
            }
        };
        shared.bounds.send_replace(bounds);
        if *since_trim >= TRIM_EVERY {
            *since_trim = 0;
            // The event is stored: a failed trim leaves more history than
            // asked for, which the next trim deletes.
            let _ = self.trim_store();
        }
        Ok(seq)
    }

    /// The handle through which the store reports other logs' appends.
    fn live_tail(&self) -> LiveTail {
        LiveTail {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Trims the store to the log's [`Retention`] now (a log whose events
    /// are dropped for their age, and which gets few appends, calls it from
    /// a timer). Subscribers that needed a dropped event get
    /// `ConsumerTooSlow`. Does nothing for a log in memory only.
    pub fn trim(&self) -> Result<(), StoreError> {
        let _appending = self
            .shared
            .appending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.trim_store()
    }

    /// Trims the store, with `appending` held.
    fn trim_store(&self) -> Result<(), StoreError> {
        let shared = &*self.shared;
        let Some(store) = &shared.store else {
            return Ok(());
        };
        store.trim(&shared.retention)?;
        let Some((first, _)) = store.bounds()? else {
            return Ok(());
        };
        let bounds = {
            let mut ring = shared.ring.write().unwrap_or_else(PoisonError::into_inner);
            ring.held_first = ring.held_first.max(first);
            // Memory never holds what the store dropped.
            while ring.first < ring.held_first && ring.events.len() > 1 {
                if let Some(old) = ring.events.pop_front() {
                    ring.bytes -= old.len();
                    ring.first += 1;
                }
            }
            Bounds {
                first: ring.held_first,
            }
        };
        shared.bounds.send_replace(bounds);
        Ok(())
    }

    /// The number of the newest event, if any was appended.
    pub fn latest_seq(&self) -> Option<i64> {
        let ring = self.shared.read();
        (ring.next > ring.held_first).then_some(ring.next - 1)
    }

    /// The number of the oldest event the log still holds (in its store,
    /// for a stored log), if any.
    pub fn oldest_seq(&self) -> Option<i64> {
        let ring = self.shared.read();
        (ring.next > ring.held_first).then_some(ring.held_first)
    }

    /// How many events the log holds (in its store, for a stored log).
    pub fn len(&self) -> usize {
        let ring = self.shared.read();
        usize::try_from(ring.next - ring.held_first).unwrap_or(usize::MAX)
    }

    /// Whether the log holds no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many bytes of frames the log holds in memory.
    pub fn bytes(&self) -> usize {
        self.shared.read().bytes
    }

    /// Ends every subscription, present and future, once it has sent the
    /// events already appended. Appending goes on working (for a log handed
    /// over to a new server, say).
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.bounds.send_modify(|_| {});
    }

    /// The messages for one subscriber with cursor `cursor` (see the
    /// [type's documentation](Self) for what is sent), or the error to answer
    /// before the stream starts.
    pub fn subscribe(&self, cursor: Option<i64>) -> Result<Messages<S>, HandlerError<S::Error>> {
        let shared = &self.shared;
        if let (Some(store), Some(_)) = (&shared.store, cursor)
            && shared.numbered_by_store
        {
            // Another log may have appended what the cursor names, or
            // trimmed what it needs, before this one heard of it. A store
            // that fails here leaves the log's own view, and fails the
            // subscriber's first read with its error.
            if let Ok(Some((first, last))) = store.bounds() {
                self.live_tail().appended(last);
                let mut ring = shared.ring.write().unwrap_or_else(PoisonError::into_inner);
                ring.held_first = ring.held_first.max(first);
            }
        }
        let (start, outdated) = {
            let ring = shared.read();
            match cursor {
                None => (ring.next, false),
                Some(cursor) if cursor >= ring.next => {
                    return Err(future_cursor::<S::Error>(cursor, ring.next - 1));
                }
                Some(cursor) => {
                    let from = cursor.max(0) + 1;
                    if from < ring.held_first {
                        (ring.held_first, true)
                    } else {
                        (from, false)
                    }
                }
            }
        };
        let mut reader = Reader {
            shared: Arc::clone(shared),
            next: Arc::new(AtomicI64::new(start)),
            bounds: shared.bounds.subscribe(),
            batch: VecDeque::new(),
            done: false,
        };
        if outdated && shared.has_info {
            reader.batch.push_back(outdated_cursor());
        }
        let lagged = lag_watch(shared.bounds.subscribe(), Arc::clone(&reader.next));
        let frames = stream::unfold(reader, |mut reader| async move {
            let frame = reader.next_frame().await?;
            Some((frame, reader))
        });
        Ok(Messages::frames(frames).drop_when(lagged))
    }
}

/// How a store shared by several logs tells one of them that the others
/// appended events: given to [`EventStore::follow`] when the log is opened.
/// Holds the log weakly, so a store keeping it does not keep the log alive.
#[derive(Clone)]
pub struct LiveTail {
    shared: Weak<Shared>,
}

impl std::fmt::Debug for LiveTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTail")
            .field("log_alive", &(self.shared.strong_count() > 0))
            .finish()
    }
}

impl LiveTail {
    /// The events up to `seq` are stored: the log's subscribers read those
    /// they have not had from the store. Numbers at or below what the log
    /// knows of change nothing, so a store may report an event twice, or
    /// the log's own.
    pub fn appended(&self, seq: i64) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        {
            let mut ring = shared.ring.write().unwrap_or_else(PoisonError::into_inner);
            if seq < ring.next {
                return;
            }
            // Memory holds a run of consecutive events: it starts again
            // after the events it does not have.
            ring.events.clear();
            ring.bytes = 0;
            ring.next = seq + 1;
            ring.first = ring.next;
        }
        shared.bounds.send_modify(|_| {});
    }
}

impl<S: Subscription> Default for EventLog<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// The `#info` frame of a cursor older than the log.
fn outdated_cursor() -> Frame {
    #[derive(serde::Serialize)]
    struct Info<'a> {
        name: &'a str,
        message: &'a str,
    }
    let info = Info {
        name: "OutdatedCursor",
        message: "the cursor is older than the events this server keeps: some events are missing",
    };
    match Frame::message("#info", &info) {
        Ok(frame) => frame,
        Err(err) => unreachable!("an #info frame always encodes: {err}"),
    }
}

/// `FutureCursor` when the subscription declares it, else `InvalidRequest`.
fn future_cursor<E: EndpointError>(cursor: i64, latest: i64) -> HandlerError<E> {
    let message = format!("cursor {cursor} is ahead of the newest event ({latest})");
    if E::DECLARED.contains(&"FutureCursor") {
        HandlerError::endpoint(E::from_parts("FutureCursor".to_owned(), Some(message)))
    } else {
        HandlerError::invalid_request(message)
    }
}

/// Resolves when the log has dropped the event numbered `next` (the next one
/// the subscriber needs).
async fn lag_watch(mut bounds: watch::Receiver<Bounds>, next: Arc<AtomicI64>) {
    loop {
        if bounds.borrow_and_update().first > next.load(Ordering::Acquire) {
            return;
        }
        if bounds.changed().await.is_err() {
            // The log is gone: no event will be dropped any more.
            std::future::pending::<()>().await;
        }
    }
}

/// One subscriber's place in the log.
struct Reader {
    shared: Arc<Shared>,
    /// The number of the next event to take from the log.
    next: Arc<AtomicI64>,
    bounds: watch::Receiver<Bounds>,
    /// Frames taken from the log, not yet sent.
    batch: VecDeque<Frame>,
    done: bool,
}

impl Reader {
    /// The frame of event `next`, which memory no longer holds but the
    /// store does, and the next few into the batch.
    fn read_store(&mut self, next: i64) -> Frame {
        let Some(store) = &self.shared.store else {
            self.done = true;
            return Frame::consumer_too_slow();
        };
        let events = match store.read(next, BATCH) {
            Ok(events) => events,
            Err(error) => {
                self.done = true;
                return Frame::error("InternalServerError", Some(&error.to_string()));
            }
        };
        let mut expected = next;
        for (seq, frame) in events {
            if seq != expected {
                break;
            }
            self.batch.push_back(frame);
            expected += 1;
        }
        self.next.store(expected, Ordering::Release);
        match self.batch.pop_front() {
            Some(frame) => frame,
            // Trimmed between the check and the read.
            None => {
                self.done = true;
                Frame::consumer_too_slow()
            }
        }
    }

    async fn next_frame(&mut self) -> Option<Frame> {
        if let Some(frame) = self.batch.pop_front() {
            return Some(frame);
        }
        if self.done {
            return None;
        }
        loop {
            self.bounds.borrow_and_update();
            {
                let ring = self.shared.read();
                let next = self.next.load(Ordering::Acquire);
                if next < ring.held_first {
                    self.done = true;
                    return Some(Frame::consumer_too_slow());
                }
                if next < ring.first {
                    drop(ring);
                    return Some(self.read_store(next));
                }
                if next < ring.next {
                    let start = usize::try_from(next - ring.first).unwrap_or(usize::MAX);
                    let count = usize::try_from(ring.next - next)
                        .unwrap_or(usize::MAX)
                        .min(BATCH);
                    self.batch
                        .extend(ring.events.range(start..start + count).cloned());
                    self.next.store(next + count as i64, Ordering::Release);
                    return self.batch.pop_front();
                }
            }
            if self.shared.closed.load(Ordering::SeqCst) {
                self.done = true;
                return None;
            }
            if self.bounds.changed().await.is_err() {
                self.done = true;
                return None;
            }
        }
    }
}
