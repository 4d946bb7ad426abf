//! A labeler for [atlex](https://github.com/atlex-rs/atlex): signed labels
//! kept in a durable event log and served as
//! `com.atproto.label.queryLabels` and `com.atproto.label.subscribeLabels`.
//!
//! A [`Labeler`] holds the labeler's DID and its label signing key (the key
//! its DID document names `#atproto_label`). [`Labeler::label`],
//! [`Labeler::negate`] and [`Labeler::emit`] build a label of version 1
//! (`src` the labeler's DID, `cts` now unless given), sign it, append it to
//! the log as a `#labels` message of `subscribeLabels` and return its
//! sequence number once the log has it on disk.
//!
//! The labeler implements the generated `com.atproto.label` service trait:
//! [`Labeler::router`] gives a router to merge with one's own endpoints.
//!
//! ```
//! use atlex::crypto::{Curve, SigningKey};
//! use atlex_labeler::Labeler;
//! use atlex_lexicons::com::atproto::label::query_labels;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("atlex-labeler-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let key = SigningKey::generate(Curve::K256)?; // keep it: it signs every label
//! let labeler = Labeler::open(
//!     dir.join("labels.sqlite"),
//!     "did:web:labeler.example.com".parse()?,
//!     key.clone(),
//! )?;
//!
//! let post = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jwdwj2ctlk26";
//! let seq = labeler.label(post.parse()?, "spam").await?;
//!
//! // What queryLabels answers: the label, signed with the labeler's key.
//! let params = query_labels::Params::new(vec!["at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/*".to_owned()]);
//! let answer = labeler.query(params).await?;
//! assert_eq!(answer.labels.len(), 1);
//! atlex::label::verify(&answer.labels[0], &key.public_key())?;
//!
//! // Served next to one's own endpoints.
//! let app: axum::Router = labeler.router().into_router();
//! # let _ = (app, seq);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! # What is stored where
//!
//! The log is the record: every label and negation, in order, as the
//! stream serves them (as far back as its retention keeps them). Answering
//! `queryLabels` from it would mean reading it all, so the labeler keeps an
//! index beside it, in a SQLite file: one row per (`src`, `uri`, `val`),
//! the newest label for it, together with the sequence number of the last
//! event indexed. The index is derived from the log and catches up from it:
//! after each append, when the labeler is opened, and before each query. So
//! the log alone decides what was acknowledged: a crash between an append
//! and its indexing leaves the index behind until the next catch-up, never
//! missing a label, and the index works with any
//! [`EventStore`] for the log, not only
//! the SQLite one. The index keeps its labels after the log's retention has
//! dropped their events.
//!
//! # What queryLabels answers
//!
//! - `uriPatterns` (at least one): a full URI matches itself; a pattern
//!   ending with `*` matches every URI that begins with what comes before
//!   the `*` (`*` alone matches every URI). A `*` elsewhere is refused.
//! - `sources`: only labels whose `src` is one of these DIDs.
//! - The newest label for each (`src`, `uri`, `val`): a negation takes the
//!   place of the label it negates, so a consumer that held the label learns
//!   that it no longer applies, and the label itself is no longer answered.
//! - Labels whose `exp` has passed are left out.
//! - In the order they were indexed, `limit` at a time (1 to 250, 50 by
//!   default); a full page comes with a `cursor` for the next one.
//!
//! The stream (`subscribeLabels`) carries every label and negation as it
//! was emitted, expired or not.

mod index;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use atlex::crypto::{PublicKey, SigningKey};
use atlex::eventlog::{Durability, SqliteStore};
use atlex::label::LabelError;
use atlex::server::{
    HandlerError, HandlerResult, Request, SubscriptionRequest, SubscriptionResult, XrpcRouter,
};
use atlex::subscription::{
    AppendError, EventLog, EventStore, Frame, LiveTail, Retention, StoreError,
};
use atlex::types::{Cid, Datetime, Did, Uri};
use atlex_lexicons::com::atproto::label::defs::Label;
use atlex_lexicons::com::atproto::label::subscribe_labels::{Labels, SubscribeLabels};
use atlex_lexicons::com::atproto::label::{self, query_labels};

use index::Index;
pub use index::IndexError;

/// The longest `val` a label may have, in bytes (the lexicon's limit).
pub const MAX_VAL_LEN: usize = 128;

/// Why a label was not emitted, a query not answered, or a labeler not
/// opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelerError {
    /// The label or the query is not acceptable; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    /// The label did not sign.
    #[error("the label does not sign: {0}")]
    Sign(#[from] LabelError),
    /// The log did not take the label; nothing was stored.
    #[error("{0}")]
    Append(#[from] AppendError),
    /// The log's store failed (opening it).
    #[error("the label log: {0}")]
    Store(#[from] StoreError),
    /// The index failed (opening it, or answering a query).
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The label is in the log as event `seq` (the stream serves it), but
    /// indexing it failed: queries catch up with it before they answer.
    /// Emitting it again would label twice.
    #[error("label {seq} is stored, but not indexed yet: {source}")]
    Indexed {
        /// The label's sequence number.
        seq: i64,
        /// Why the index failed.
        source: IndexError,
    },
    /// The blocking task that did the work ended without an answer (it
    /// panicked, or the runtime is shutting down).
    #[error("the labeler's task ended: {0}")]
    Task(String),
}

/// A label to emit: what it applies to and its value, and optionally the
/// version of the record it applies to (`cid`), its creation time (`cts`,
/// now by default) and its expiry (`exp`).
///
/// ```
/// use atlex::types::Datetime;
/// use atlex_labeler::NewLabel;
///
/// let label = NewLabel::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz".parse()?, "!hide")
///     .exp("2030-01-01T00:00:00.000Z".parse::<Datetime>()?);
/// # let _ = label;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct NewLabel {
    uri: Uri,
    val: String,
    cid: Option<Cid>,
    cts: Option<Datetime>,
    exp: Option<Datetime>,
    neg: bool,
}

impl NewLabel {
    /// A label of value `val` on `uri` (a record's `at://` URI, or an
    /// account's DID).
    pub fn new(uri: Uri, val: impl Into<String>) -> Self {
        Self {
            uri,
            val: val.into(),
            cid: None,
            cts: None,
            exp: None,
            neg: false,
        }
    }

    /// Applies the label to this version of the record only.
    pub fn cid(mut self, cid: Cid) -> Self {
        self.cid = Some(cid);
        self
    }

    /// The creation time, instead of the time of emitting.
    pub fn cts(mut self, cts: Datetime) -> Self {
        self.cts = Some(cts);
        self
    }

    /// When the label stops applying.
    pub fn exp(mut self, exp: Datetime) -> Self {
        self.exp = Some(exp);
        self
    }

    /// Makes this a negation (`neg: true`): it withdraws the label of the
    /// same `uri` and `val` from this labeler.
    pub fn negation(mut self) -> Self {
        self.neg = true;
        self
    }
}

/// A labeler: its DID and signing key, its log of labels and the index
/// that queries read. Cloning shares them.
///
/// See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct Labeler {
    inner: Arc<Inner>,
}

struct Inner {
    did: Did,
    key: SigningKey,
    log: EventLog<SubscribeLabels>,
    /// The log's store, read by the index to catch up.
    store: Arc<dyn EventStore>,
    /// Held while appending and indexing, so that the index follows the
    /// log in order.
    index: Mutex<Index>,
}

impl std::fmt::Debug for Labeler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Labeler")
            .field("did", &self.inner.did)
            .field("key", &self.inner.key.public_key())
            .field("log", &self.inner.log)
            .finish_non_exhaustive()
    }
}

impl Labeler {
    /// The labeler whose log and index are in the SQLite file `path`
    /// (created if need be), each label on disk before its number is
    /// returned ([`Durability::Full`]), the log keeping the default
    /// [`Retention`]. `did` is the labeler's DID, the `src` of its labels;
    /// `key` signs them, and its public half is the `#atproto_label` key of
    /// the DID's document.
    ///
    /// Only one labeler at a time may use a file.
    pub fn open(path: impl AsRef<Path>, did: Did, key: SigningKey) -> Result<Self, LabelerError> {
        Self::builder(did, key).open(path)
    }

    /// The labeler whose log is kept in `store` (any event store) and whose
    /// index is in the SQLite file `index` (which may be the store's own
    /// file), with the default [`Retention`].
    pub fn with_store(
        store: impl EventStore,
        index: impl AsRef<Path>,
        did: Did,
        key: SigningKey,
    ) -> Result<Self, LabelerError> {
        Self::builder(did, key).open_store(store, index)
    }

    /// A builder, to choose the log's retention and durability.
    pub fn builder(did: Did, key: SigningKey) -> LabelerBuilder {
        LabelerBuilder {
            did,
            key,
            retention: Retention::default(),
            durability: Durability::Full,
        }
    }

    /// The labeler's DID: the `src` of its labels.
    pub fn did(&self) -> &Did {
        &self.inner.did
    }

    /// The public half of the signing key: what the labeler's DID document
    /// publishes as `#atproto_label`.
    pub fn public_key(&self) -> PublicKey {
        self.inner.key.public_key()
    }

    /// The log of labels, as `subscribeLabels` serves it.
    pub fn log(&self) -> &EventLog<SubscribeLabels> {
        &self.inner.log
    }

    /// Labels `uri` with `val`: see [`emit`](Self::emit).
    pub async fn label(&self, uri: Uri, val: &str) -> Result<i64, LabelerError> {
        self.emit(NewLabel::new(uri, val)).await
    }

    /// Withdraws the label `val` of `uri` with a negation: see
    /// [`emit`](Self::emit).
    pub async fn negate(&self, uri: Uri, val: &str) -> Result<i64, LabelerError> {
        self.emit(NewLabel::new(uri, val).negation()).await
    }

    /// Signs `label`, appends it to the log as a `#labels` message and
    /// indexes it; its sequence number, returned once the log has stored it.
    ///
    /// The append waits for the store (an fsync, for the SQLite store) on a
    /// blocking thread of the tokio runtime. A `val` that is empty or longer
    /// than [`MAX_VAL_LEN`] bytes is refused.
    pub async fn emit(&self, label: NewLabel) -> Result<i64, LabelerError> {
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.emit(label)).await
    }

    /// The answer to a `queryLabels` with `params` (see the [crate
    /// documentation](crate) for what it holds), after the index has caught
    /// up with the log. Bad parameters are [`LabelerError::Invalid`].
    pub async fn query(
        &self,
        params: query_labels::Params,
    ) -> Result<query_labels::Output, LabelerError> {
        let query = index::Query::new(params)?;
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let mut index = inner.lock();
            inner.catch_up(&mut index)?;
            Ok(index.query(&query)?)
        })
        .await
    }

    /// A router serving this labeler's `com.atproto.label` endpoints; merge
    /// it into one's own with [`XrpcRouter::merge`], or serve it with
    /// [`into_router`](XrpcRouter::into_router).
    pub fn router(&self) -> XrpcRouter<Self> {
        XrpcRouter::new(self.clone()).mount(label::register)
    }
}

/// What a [`Labeler`] is opened with: [`Labeler::builder`].
///
/// ```
/// use atlex::crypto::{Curve, SigningKey};
/// use atlex::eventlog::Durability;
/// use atlex::subscription::Retention;
/// use atlex_labeler::Labeler;
///
/// let dir = std::env::temp_dir().join(format!("atlex-labeler-builder-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let labeler = Labeler::builder("did:web:labeler.example.com".parse()?, SigningKey::generate(Curve::K256)?)
///     .retention(Retention { max_events: Some(100_000), max_bytes: None, max_age: None })
///     .durability(Durability::Process)
///     .open(dir.join("labels.sqlite"))?;
/// # drop(labeler);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct LabelerBuilder {
    did: Did,
    key: SigningKey,
    retention: Retention,
    durability: Durability,
}

impl std::fmt::Debug for LabelerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelerBuilder")
            .field("did", &self.did)
            .field("key", &self.key.public_key())
            .field("retention", &self.retention)
            .field("durability", &self.durability)
            .finish()
    }
}

impl LabelerBuilder {
    /// How much of the stream the log keeps ([`Retention::default`]
    /// unless set): a `subscribeLabels` cursor older than that gets
    /// `OutdatedCursor` and the oldest events kept. `queryLabels` is not
    /// limited by it: the index keeps every current label.
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// When an append to the SQLite log is on disk ([`Durability::Full`]
    /// unless set); only [`open`](Self::open) uses it.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The labeler whose log and index are in the SQLite file `path`: see
    /// [`Labeler::open`].
    pub fn open(self, path: impl AsRef<Path>) -> Result<Labeler, LabelerError> {
        let path = path.as_ref();
        let store = SqliteStore::open(path, self.durability)?;
        self.open_store(store, path)
    }

    /// The labeler whose log is kept in `store` and whose index is in the
    /// SQLite file `index`. An index opened on a log it has not seen
    /// catches up with the whole log first; it cannot when the log has
    /// already dropped events it never indexed, and says so.
    pub fn open_store(
        self,
        store: impl EventStore,
        index: impl AsRef<Path>,
    ) -> Result<Labeler, LabelerError> {
        let store: Arc<dyn EventStore> = Arc::new(store);
        let log = EventLog::builder()
            .retention(self.retention)
            .open(Shared(Arc::clone(&store)))?;
        let index = Index::open(index.as_ref())?;
        let labeler = Labeler {
            inner: Arc::new(Inner {
                did: self.did,
                key: self.key,
                log,
                store,
                index: Mutex::new(index),
            }),
        };
        labeler.inner.catch_up(&mut labeler.inner.lock())?;
        Ok(labeler)
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn emit(&self, new: NewLabel) -> Result<i64, LabelerError> {
        if new.val.is_empty() || new.val.len() > MAX_VAL_LEN {
            return Err(LabelerError::Invalid(format!(
                "a label's val is 1 to {MAX_VAL_LEN} bytes, not {}",
                new.val.len()
            )));
        }
        let mut label = Label::builder()
            .src(self.did.clone())
            .uri(new.uri)
            .val(new.val)
            .cts(new.cts.unwrap_or_else(Datetime::now))
            .build()
            .with_ver(atlex::label::VERSION);
        label.cid = new.cid;
        label.exp = new.exp;
        label.neg = new.neg.then_some(true);
        let signed = atlex::label::sign(&label, &self.key)?;
        let mut index = self.lock();
        let seq = self.log.append(|seq| {
            Labels::builder()
                .seq(seq)
                .labels(vec![signed])
                .build()
                .into()
        })?;
        self.catch_up(&mut index)
            .map_err(|source| LabelerError::Indexed { seq, source })?;
        Ok(seq)
    }

    /// Indexes the events of the log after the last one indexed.
    fn catch_up(&self, index: &mut Index) -> Result<(), IndexError> {
        index.catch_up(|from, max| self.store.read(from, max))
    }
}

impl label::Service for Labeler {
    async fn query_labels(
        &self,
        request: Request<query_labels::QueryLabels>,
    ) -> HandlerResult<query_labels::QueryLabels> {
        self.query(request.params)
            .await
            .map_err(|error| match error {
                LabelerError::Invalid(message) => HandlerError::invalid_request(message),
                other => HandlerError::internal(other.to_string()),
            })
    }

    async fn subscribe_labels(
        &self,
        request: SubscriptionRequest<SubscribeLabels>,
    ) -> SubscriptionResult<SubscribeLabels> {
        self.inner.log.subscribe(request.params.cursor)
    }
}

/// Runs `work` on a blocking thread of the current tokio runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, LabelerError> + Send + 'static,
) -> Result<T, LabelerError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| LabelerError::Task(error.to_string()))?
}

/// The log's store, shared with the index that reads it.
struct Shared(Arc<dyn EventStore>);

impl EventStore for Shared {
    fn append(&self, seq: i64, frame: &Frame) -> Result<(), StoreError> {
        self.0.append(seq, frame)
    }

    fn read(&self, from: i64, max: usize) -> Result<Vec<(i64, Frame)>, StoreError> {
        self.0.read(from, max)
    }

    fn bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        self.0.bounds()
    }

    fn trim(&self, retention: &Retention) -> Result<(), StoreError> {
        self.0.trim(retention)
    }

    fn numbers_events(&self) -> bool {
        self.0.numbers_events()
    }

    fn append_next(
        &self,
        make: Box<dyn FnOnce(i64) -> Result<Frame, atlex::subscription::EncodeError> + '_>,
    ) -> Result<(i64, Frame), AppendError> {
        self.0.append_next(make)
    }

    fn follow(&self, tail: LiveTail) {
        self.0.follow(tail);
    }
}
