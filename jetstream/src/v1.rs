//! Jetstream v1: the `/subscribe` endpoint.
//!
//! Each WebSocket message is one JSON event: a record operation
//! (`"kind": "commit"`), an identity change (`"identity"`) or an account
//! change (`"account"`), with the repository's DID and `time_us`, the
//! microsecond timestamp that is also the stream's cursor. [`subscribe`]
//! opens the stream with [`Options`] (the query of the endpoint) and yields
//! [`Event`]s, their records decoded as a type of your choosing: the record
//! dispatch of generated bindings (`atlex_lexicons::Record`, which keeps
//! records of other types as data), one record type for a stream filtered to
//! its collection, or [`Unknown`](atlex::data::Unknown) to keep every record
//! as data.
//!
//! ```no_run
//! use atlex_jetstream::v1::{self, Kind, Options};
//! use atlex_lexicons::Record;
//! use futures_util::StreamExt as _;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let options = Options::new().wanted_collections(["app.bsky.feed.post"])?;
//! let mut events = v1::subscribe::<Record>("wss://jetstream2.us-east.bsky.network/subscribe", &options)
//!     .reconnect(Default::default());
//! while let Some(event) = events.next().await {
//!     let event = event?;
//!     if let Kind::Commit(commit) = &event.kind {
//!         if let Some(Record::AppBskyFeedPost(post)) = &commit.record {
//!             println!("{}: {}", event.did, post.text);
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What Jetstream sends that this code does not know is kept, not refused:
//! an event of another kind arrives as [`Kind::Unknown`] with its payload,
//! and fields of an event or commit that are not read here are in its
//! `extra`. An event that does not decode (not JSON, a field of the wrong
//! form, a record that does not fit the record type) is an error item that
//! holds the message's text, and the stream goes on.
//!
//! # Cursors and reconnection
//!
//! The cursor of `/subscribe` is a `time_us`. Jetstream replays from it the
//! events it keeps (about a day and a half), and advises a consumer that
//! reconnects to start a few seconds before the last event it read:
//! timestamps are given when Jetstream sees an event and do not strictly
//! increase along the stream. With [`Events::reconnect`], a lost connection
//! is opened again after a backoff from the last `time_us` handed out,
//! minus [`Events::overlap`] ([`DEFAULT_OVERLAP`]). Events within the
//! overlap come again: delivery is at least once, and a consumer handles
//! an event twice without harm (an upsert by URI, a set of likes).
//! [`Events::resume_with`] keeps the cursor in a store
//! (`atlex::eventlog::FileCursor`, `SqliteCursor`, or your own
//! [`CursorStore`]) across runs.
//!
//! # Compression
//!
//! With [`Options::compress`], Jetstream sends each event as one zstd frame
//! compressed with a dictionary it was trained with, which the client must
//! have too ([`Dictionary`]; Jetstream's repository publishes it). Each
//! frame is decompressed on its own, into at most
//! [`Events::max_frame_size`] bytes.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use atlex::client::{CursorStore, Reconnect};
use atlex::data::{ExtraFields, Value};
use atlex::firehose::Action;
use atlex::types::{Cid, Did, Nsid, RecordKey, Tid};
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Account, Identity};

use crate::compression::{Decompressor, Inflate};
pub use crate::compression::{Dictionary, DictionaryError};
use futures_util::SinkExt as _;
use futures_util::stream::{BoxStream, Stream, StreamExt as _};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest as _};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// How far before the last `time_us` read a reconnecting stream starts
/// again: 3 s.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(3);
/// The largest message a new stream accepts, after decompression: 4 MiB
/// (a record is at most 1 MiB of DAG-CBOR, a little more as JSON).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 4 << 20;
/// How long a new stream waits for a message (or a ping) before it counts
/// the connection as lost: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The most collections Jetstream accepts in `wantedCollections`.
pub const MAX_WANTED_COLLECTIONS: usize = 100;
/// The most DIDs Jetstream accepts in `wantedDids`.
pub const MAX_WANTED_DIDS: usize = 10_000;

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// One event of the stream.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Event<R> {
    /// The repository (account) the event is about.
    pub did: Did,
    /// When Jetstream saw the event, in microseconds since the Unix epoch:
    /// the cursor to resume from.
    pub time_us: i64,
    /// What happened.
    pub kind: Kind<R>,
    /// The event's other fields (a newer Jetstream's `cursor`, …), kept as
    /// received.
    pub extra: ExtraFields,
}

/// What an [`Event`] is, by its `kind`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Kind<R> {
    /// `commit`: a record created, updated or deleted.
    Commit(Commit<R>),
    /// `identity`: the account's handle or DID document changed (the
    /// firehose's `#identity`, as the relay sent it).
    Identity(Identity),
    /// `account`: the account's hosting status changed (the firehose's
    /// `#account`).
    Account(Account),
    /// A kind this code does not know, with its payload (the field named
    /// after the kind) when there is one.
    Unknown {
        /// The `kind`.
        kind: String,
        /// The field named after it.
        payload: Option<Value>,
    },
}

/// A record operation: `commit` of a `commit` event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Commit<R> {
    /// The revision of the repository's commit that made the change.
    pub rev: Tid,
    /// `create`, `update` or `delete`.
    pub operation: Action,
    /// The record's collection.
    pub collection: Nsid,
    /// The record's key.
    pub rkey: RecordKey,
    /// The new record (creates and updates), from its JSON.
    pub record: Option<R>,
    /// The new record's CID (creates and updates).
    pub cid: Option<Cid>,
    /// The commit's other fields, kept as received.
    pub extra: ExtraFields,
}

impl<R> Commit<R> {
    /// The record's AT URI in the repository `did`:
    /// `at://<did>/<collection>/<rkey>`.
    pub fn uri(&self, did: &Did) -> String {
        format!("at://{did}/{}/{}", self.collection, self.rkey)
    }
}

impl<R: DeserializeOwned> Event<R> {
    /// Decodes one event from the text of a message.
    ///
    /// ```
    /// use atlex_jetstream::v1::{Event, Kind};
    /// use atlex_lexicons::Record;
    ///
    /// let text = r#"{"did":"did:plc:eygmaihciaxprqvxpfvl6flk","time_us":1725911162329308,"kind":"commit",
    ///   "commit":{"rev":"3l3qo2vutsw2b","operation":"create","collection":"app.bsky.feed.like","rkey":"3l3qo2vuowo2b",
    ///   "record":{"$type":"app.bsky.feed.like","createdAt":"2024-09-09T19:46:02.102Z",
    ///     "subject":{"cid":"bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4",
    ///                "uri":"at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3pte3p2e325"}},
    ///   "cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}"#;
    /// let event = Event::<Record>::from_json(text)?;
    /// let Kind::Commit(commit) = &event.kind else { unreachable!() };
    /// assert!(matches!(commit.record, Some(Record::AppBskyFeedLike(_))));
    /// assert_eq!(commit.uri(&event.did), "at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.like/3l3qo2vuowo2b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Self, DecodeError> {
        serde_json::from_str(text).map_err(|error| DecodeError::new(text, &error))
    }
}

/// An event that did not decode, with the text it came as: nothing of the
/// stream is lost with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("event{}: {reason}", time_us.map(|t| format!(" at time_us {t}")).unwrap_or_default())]
pub struct DecodeError {
    /// What is wrong.
    pub reason: String,
    /// The event's `time_us`, when it could be read (the stream's cursor
    /// moves past the event).
    pub time_us: Option<i64>,
    /// The message, as received (after decompression).
    pub text: String,
}

impl DecodeError {
    fn new(text: &str, error: &serde_json::Error) -> Self {
        /// Only `time_us`, every other field skipped.
        #[derive(serde::Deserialize)]
        struct Probe {
            time_us: Option<i64>,
        }
        let time_us = serde_json::from_str::<Probe>(text)
            .ok()
            .and_then(|probe| probe.time_us);
        Self {
            reason: error.to_string(),
            time_us,
            text: text.to_owned(),
        }
    }
}

/// The fields of an event.
enum EventField<'de> {
    Did,
    TimeUs,
    Kind,
    Commit,
    Identity,
    Account,
    Other(std::borrow::Cow<'de, str>),
}

/// The fields of a commit.
enum CommitField<'de> {
    Rev,
    Operation,
    Collection,
    Rkey,
    Record,
    Cid,
    Other(std::borrow::Cow<'de, str>),
}

/// Reads a map key with `name`, borrowing it when it is not escaped.
fn field<'de, F, A: MapAccess<'de>>(
    map: &mut A,
    name: fn(std::borrow::Cow<'de, str>) -> F,
) -> Result<Option<F>, A::Error> {
    struct Seed<'de, F>(fn(std::borrow::Cow<'de, str>) -> F);
    impl<'de, F> de::DeserializeSeed<'de> for Seed<'de, F> {
        type Value = F;
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<F, D::Error> {
            deserializer.deserialize_str(KeyVisitor(self.0))
        }
    }
    struct KeyVisitor<'de, F>(fn(std::borrow::Cow<'de, str>) -> F);
    impl<'de, F> Visitor<'de> for KeyVisitor<'de, F> {
        type Value = F;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<F, E> {
            Ok((self.0)(std::borrow::Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<F, E> {
            Ok((self.0)(std::borrow::Cow::Owned(v.to_owned())))
        }
    }
    map.next_key_seed(Seed(name))
}

fn event_field(name: std::borrow::Cow<'_, str>) -> EventField<'_> {
    match &*name {
        "did" => EventField::Did,
        "time_us" => EventField::TimeUs,
        "kind" => EventField::Kind,
        "commit" => EventField::Commit,
        "identity" => EventField::Identity,
        "account" => EventField::Account,
        _ => EventField::Other(name),
    }
}

fn commit_field(name: std::borrow::Cow<'_, str>) -> CommitField<'_> {
    match &*name {
        "rev" => CommitField::Rev,
        "operation" => CommitField::Operation,
        "collection" => CommitField::Collection,
        "rkey" => CommitField::Rkey,
        "record" => CommitField::Record,
        "cid" => CommitField::Cid,
        _ => CommitField::Other(name),
    }
}

/// Sets `slot` once: a field given twice is an error, as JSON objects with
/// repeated names mean different things to different readers.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(E::duplicate_field(name));
    }
    Ok(())
}

/// Keeps a field this code does not read in `extra`.
fn keep<E: de::Error>(
    extra: &mut ExtraFields,
    name: std::borrow::Cow<'_, str>,
    value: Value,
) -> Result<(), E> {
    match extra.insert(name.into_owned(), value) {
        None => Ok(()),
        Some(_) => Err(E::custom("a field given twice")),
    }
}

impl<'de, R: DeserializeOwned> serde::Deserialize<'de> for Event<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventVisitor<R>(PhantomData<fn() -> R>);
        impl<'de, R: DeserializeOwned> Visitor<'de> for EventVisitor<R> {
            type Value = Event<R>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Jetstream event")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event<R>, A::Error> {
                let (mut did, mut time_us, mut kind) = (None, None, None::<String>);
                let (mut commit, mut identity, mut account) = (None, None, None);
                let mut extra = ExtraFields::default();
                while let Some(key) = field(&mut map, event_field)? {
                    match key {
                        EventField::Did => once(&mut did, map.next_value::<Did>()?, "did")?,
                        EventField::TimeUs => {
                            once(&mut time_us, map.next_value::<i64>()?, "time_us")?;
                        }
                        EventField::Kind => once(&mut kind, map.next_value()?, "kind")?,
                        EventField::Commit => {
                            once(&mut commit, map.next_value::<Commit<R>>()?, "commit")?;
                        }
                        EventField::Identity => {
                            once(&mut identity, map.next_value::<Identity>()?, "identity")?;
                        }
                        EventField::Account => {
                            once(&mut account, map.next_value::<Account>()?, "account")?;
                        }
                        EventField::Other(name) => keep(&mut extra, name, map.next_value()?)?,
                    }
                }
                let did = did.ok_or_else(|| de::Error::missing_field("did"))?;
                let time_us = time_us.ok_or_else(|| de::Error::missing_field("time_us"))?;
                let kind = kind.ok_or_else(|| de::Error::missing_field("kind"))?;
                let missing = |name: &'static str| de::Error::missing_field(name);
                let kind = match kind.as_str() {
                    "commit" => Kind::Commit(commit.ok_or_else(|| missing("commit"))?),
                    "identity" => Kind::Identity(identity.ok_or_else(|| missing("identity"))?),
                    "account" => Kind::Account(account.ok_or_else(|| missing("account"))?),
                    _ => {
                        // A payload under a known name, in an event of an
                        // unknown kind, is kept as the payload's own form.
                        let payload = extra.remove(&kind);
                        Kind::Unknown { kind, payload }
                    }
                };
                Ok(Event {
                    did,
                    time_us,
                    kind,
                    extra,
                })
            }
        }
        deserializer.deserialize_map(EventVisitor(PhantomData))
    }
}

impl<'de, R: DeserializeOwned> serde::Deserialize<'de> for Commit<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommitVisitor<R>(PhantomData<fn() -> R>);
        impl<'de, R: DeserializeOwned> Visitor<'de> for CommitVisitor<R> {
            type Value = Commit<R>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Jetstream commit")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Commit<R>, A::Error> {
                let (mut rev, mut operation, mut collection, mut rkey) = (None, None, None, None);
                let (mut record, mut cid) = (None, None);
                let mut extra = ExtraFields::default();
                while let Some(key) = field(&mut map, commit_field)? {
                    match key {
                        CommitField::Rev => once(&mut rev, map.next_value::<Tid>()?, "rev")?,
                        CommitField::Operation => {
                            let text = map.next_value::<std::borrow::Cow<'_, str>>()?;
                            once(&mut operation, Action::parse(&text), "operation")?;
                        }
                        CommitField::Collection => {
                            once(&mut collection, map.next_value::<Nsid>()?, "collection")?;
                        }
                        CommitField::Rkey => {
                            once(&mut rkey, map.next_value::<RecordKey>()?, "rkey")?;
                        }
                        CommitField::Record => {
                            once(&mut record, map.next_value::<R>()?, "record")?;
                        }
                        CommitField::Cid => once(&mut cid, map.next_value::<Cid>()?, "cid")?,
                        CommitField::Other(name) => keep(&mut extra, name, map.next_value()?)?,
                    }
                }
                Ok(Commit {
                    rev: rev.ok_or_else(|| de::Error::missing_field("rev"))?,
                    operation: operation.ok_or_else(|| de::Error::missing_field("operation"))?,
                    collection: collection.ok_or_else(|| de::Error::missing_field("collection"))?,
                    rkey: rkey.ok_or_else(|| de::Error::missing_field("rkey"))?,
                    record,
                    cid,
                    extra,
                })
            }
        }
        deserializer.deserialize_map(CommitVisitor(PhantomData))
    }
}

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/// The query of `/subscribe`: what the stream carries and from where.
///
/// ```
/// use atlex_jetstream::v1::Options;
///
/// let options = Options::new()
///     .wanted_collections(["app.bsky.feed.post", "app.bsky.graph.*"])?
///     .wanted_dids(["did:plc:eygmaihciaxprqvxpfvl6flk"])?
///     .cursor(1725911162329308);
/// assert_eq!(
///     options.query(),
///     "wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.graph.*\
///      &wantedDids=did%3Aplc%3Aeygmaihciaxprqvxpfvl6flk&cursor=1725911162329308"
/// );
/// # Ok::<(), atlex_jetstream::v1::OptionsError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Options {
    collections: Vec<String>,
    dids: Vec<Did>,
    cursor: Option<i64>,
    max_message_size_bytes: Option<u32>,
    dictionary: Option<Dictionary>,
}

/// An option Jetstream would refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A collection that is neither an NSID nor `<prefix>.*`.
    #[error("wanted collection {value:?}: {reason}")]
    Collection {
        /// The collection given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A DID that is not one.
    #[error("wanted DID {value:?}: {reason}")]
    Did {
        /// The DID given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// More collections or DIDs than Jetstream accepts.
    #[error("{count} wanted {what}: Jetstream accepts at most {max}")]
    TooMany {
        /// `collections` or `DIDs`.
        what: &'static str,
        /// How many were given (without repeats).
        count: usize,
        /// The most accepted.
        max: usize,
    },
}

impl Options {
    /// Every event, from now on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only commits of these collections (identity and account events come
    /// whatever the collections): NSIDs, or `<prefix>.*` for every
    /// collection under a prefix (`app.bsky.graph.*`). Repeats count once;
    /// at most [`MAX_WANTED_COLLECTIONS`].
    pub fn wanted_collections<I, S>(mut self, collections: I) -> Result<Self, OptionsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for collection in collections {
            let collection = collection.as_ref();
            check_collection(collection)?;
            if !self.collections.iter().any(|c| c == collection) {
                self.collections.push(collection.to_owned());
            }
        }
        if self.collections.len() > MAX_WANTED_COLLECTIONS {
            return Err(OptionsError::TooMany {
                what: "collections",
                count: self.collections.len(),
                max: MAX_WANTED_COLLECTIONS,
            });
        }
        Ok(self)
    }

    /// Only events of these repositories. Repeats count once; at most
    /// [`MAX_WANTED_DIDS`].
    pub fn wanted_dids<I, S>(mut self, dids: I) -> Result<Self, OptionsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for did in dids {
            let did = did.as_ref();
            let did = Did::new(did).map_err(|error| OptionsError::Did {
                value: did.to_owned(),
                reason: error.to_string(),
            })?;
            if !self.dids.contains(&did) {
                self.dids.push(did);
            }
        }
        if self.dids.len() > MAX_WANTED_DIDS {
            return Err(OptionsError::TooMany {
                what: "DIDs",
                count: self.dids.len(),
                max: MAX_WANTED_DIDS,
            });
        }
        Ok(self)
    }

    /// Start from `time_us` (microseconds since the Unix epoch) rather than
    /// now: Jetstream replays what it keeps from then on. A cursor in the
    /// future means now.
    pub fn cursor(mut self, time_us: i64) -> Self {
        self.cursor = Some(time_us);
        self
    }

    /// Ask Jetstream to leave out events larger than `bytes` (0: no limit).
    pub fn max_message_size_bytes(mut self, bytes: u32) -> Self {
        self.max_message_size_bytes = Some(bytes);
        self
    }

    /// Ask for zstd-compressed messages (`compress=true`), decompressed
    /// with `dictionary`, which must be the one Jetstream compresses with.
    pub fn compress(mut self, dictionary: Dictionary) -> Self {
        self.dictionary = Some(dictionary);
        self
    }

    /// The query string these options make.
    pub fn query(&self) -> String {
        self.query_with_cursor(self.cursor)
    }

    fn query_with_cursor(&self, cursor: Option<i64>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for collection in &self.collections {
            // `*` is left as it is: it is a query character, and the
            // prefix form is what Jetstream looks for.
            query.append_pair("wantedCollections", collection);
        }
        for did in &self.dids {
            query.append_pair("wantedDids", did.as_str());
        }
        if let Some(bytes) = self.max_message_size_bytes {
            query.append_pair("maxMessageSizeBytes", &bytes.to_string());
        }
        if self.dictionary.is_some() {
            query.append_pair("compress", "true");
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor.to_string());
        }
        query.finish()
    }
}

fn check_collection(collection: &str) -> Result<(), OptionsError> {
    let refuse = |reason: &str| OptionsError::Collection {
        value: collection.to_owned(),
        reason: reason.to_owned(),
    };
    if let Some(prefix) = collection.strip_suffix(".*") {
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if prefix.len() > 317 || !prefix.split('.').all(segment_ok) {
            return Err(refuse(
                "the prefix before `.*` must be dot-separated segments of letters, digits and hyphens",
            ));
        }
        return Ok(());
    }
    Nsid::new(collection)
        .map(drop)
        .map_err(|error| refuse(&error.to_string()))
}

// ---------------------------------------------------------------------------
// The stream
// ---------------------------------------------------------------------------

/// Why the stream gave an error item.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a WebSocket (or HTTP) URL, or the connection could not
    /// be made.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Jetstream answered the handshake with an HTTP error (a refused
    /// option is a 400).
    #[error("HTTP {status}: {body}")]
    Http {
        /// The status.
        status: u16,
        /// The body, cut to 1 KiB.
        body: String,
    },
    /// Jetstream closed the connection with a code other than normal.
    #[error("closed with code {code}: {reason}")]
    Closed {
        /// The close code.
        code: u16,
        /// The reason given.
        reason: String,
    },
    /// The connection was lost or went silent.
    #[error("connection lost: {0}")]
    Transport(String),
    /// A message larger than [`Events::max_frame_size`] (before or after
    /// decompression); the connection is dropped.
    #[error("a message larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A compressed message that does not decompress with the dictionary
    /// (another dictionary, a damaged frame), kept as received. The stream
    /// goes on.
    #[error("a message that does not decompress: {reason}")]
    Decompress {
        /// zstd's reason.
        reason: String,
        /// The frame.
        frame: Vec<u8>,
    },
    /// A binary message on a stream that did not ask for compression. The
    /// stream goes on.
    #[error("a binary message of {0} bytes on an uncompressed stream")]
    Binary(usize),
    /// An event that does not decode; the stream goes on.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl Error {
    /// Whether the connection ended with it and may be opened again (what
    /// [`Events::reconnect`] does): a lost connection, a close, a message
    /// too large, an HTTP 5xx or 429. Not a refused option (HTTP 4xx) nor a
    /// message that does not decode (the stream goes on after those).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Closed { .. } | Self::Transport(_) => true,
            Self::TooLarge { .. } => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            Self::Decompress { .. } | Self::Binary(_) | Self::Decode(_) => false,
        }
    }

    /// Whether the connection is over (the error is not about one message).
    fn ends_connection(&self) -> bool {
        !matches!(
            self,
            Self::Decompress { .. } | Self::Binary(_) | Self::Decode(_)
        )
    }
}

/// Opens `/subscribe` at `url` (`wss://host/subscribe`; `https://` is
/// taken as `wss://`, `http://` as `ws://`) with `options`; events decode
/// their records as `R`. The connection is made when the stream is first
/// polled.
pub fn subscribe<R: DeserializeOwned + Send + 'static>(url: &str, options: &Options) -> Events<R> {
    Events {
        setup: Some(Connection {
            url: url.to_owned(),
            options: options.clone(),
            resume: None,
            overlap: DEFAULT_OVERLAP,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            reconnect: None,
            socket: None,
            decompressor: None,
            wait: None,
            failures: 0,
            done: false,
            queued: VecDeque::new(),
            last: Arc::default(),
            record: PhantomData,
        }),
        stream: None,
        last: Arc::new(AtomicI64::new(NO_CURSOR)),
        store: None,
    }
}

const NO_CURSOR: i64 = i64::MIN;

/// The events of `/subscribe`, made by [`subscribe`]: a [`Stream`] of
/// events and errors. The options are set before the stream is first
/// polled.
#[must_use = "a stream does nothing until polled"]
pub struct Events<R> {
    /// The connection, until the stream is first polled.
    setup: Option<Connection<R>>,
    stream: Option<BoxStream<'static, Result<Event<R>, Error>>>,
    /// The `time_us` of the last item handed out, [`NO_CURSOR`] before.
    last: Arc<AtomicI64>,
    /// Where the cursor is saved, and the cursor it holds.
    store: Option<(Box<dyn CursorStore>, Option<i64>)>,
}

impl<R> Events<R> {
    /// Sets an option of the connection, before the first poll.
    fn with(mut self, set: impl FnOnce(&mut Connection<R>)) -> Self {
        if let Some(setup) = self.setup.as_mut() {
            set(setup);
        }
        self
    }

    /// Opens the stream again after a failure that may pass
    /// ([`Error::is_retryable`]), after a backoff, from the last `time_us`
    /// handed out minus the [`overlap`](Self::overlap). Each failure is
    /// still yielded as an error item. Off by default.
    pub fn reconnect(self, policy: Reconnect) -> Self {
        self.with(|setup| setup.reconnect = Some(policy))
    }

    /// How far before the last `time_us` read a reconnection, or a stream
    /// resumed from a store, starts ([`DEFAULT_OVERLAP`]).
    pub fn overlap(self, overlap: Duration) -> Self {
        self.with(|setup| setup.overlap = overlap)
    }

    /// The largest message accepted, after decompression
    /// ([`DEFAULT_MAX_FRAME_SIZE`]): a larger one ends the connection with
    /// [`Error::TooLarge`].
    pub fn max_frame_size(self, bytes: usize) -> Self {
        self.with(|setup| setup.max_frame_size = bytes)
    }

    /// How long to wait for a message or a ping before counting the
    /// connection as lost ([`DEFAULT_IDLE_TIMEOUT`]).
    pub fn idle_timeout(self, timeout: Duration) -> Self {
        self.with(|setup| setup.idle_timeout = timeout)
    }

    /// Resumes from the `time_us` saved in `store` (minus the overlap), when
    /// it has one, in place of the options' cursor, and keeps `store` for
    /// [`save_cursor`](Self::save_cursor). Set it before the stream is
    /// first polled.
    pub fn resume_with(mut self, store: impl CursorStore + 'static) -> std::io::Result<Self> {
        let saved = store.load()?;
        if let (Some(time_us), Some(setup)) = (saved, self.setup.as_mut()) {
            setup.resume = Some(time_us);
        }
        self.store = Some((Box::new(store), saved));
        Ok(self)
    }

    /// The `time_us` of the last event handed out, or of the last event
    /// that did not decode (`None` before the first): what
    /// [`save_cursor`](Self::save_cursor) saves.
    pub fn last_time_us(&self) -> Option<i64> {
        Some(self.last.load(Ordering::Acquire)).filter(|t| *t != NO_CURSOR)
    }

    /// Saves [`last_time_us`](Self::last_time_us) to the store given to
    /// [`resume_with`](Self::resume_with), when it moved since the last
    /// save: call it once the events handed out so far are handled. An
    /// error when the stream has no store.
    pub fn save_cursor(&mut self) -> std::io::Result<()> {
        let last = self.last_time_us();
        let Some((store, saved)) = self.store.as_mut() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "the stream has no cursor store: give it one with `resume_with`",
            ));
        };
        if let Some(time_us) = last.filter(|t| *saved != Some(*t)) {
            store.save(time_us)?;
            *saved = Some(time_us);
        }
        Ok(())
    }
}

// No field is pinned: the stream is boxed.
impl<R> Unpin for Events<R> {}

impl<R: DeserializeOwned + Send + 'static> Stream for Events<R> {
    type Item = Result<Event<R>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(mut connection) = this.setup.take() {
            connection.last = Arc::clone(&this.last);
            this.stream = Some(
                futures_util::stream::unfold(connection, |mut connection| async move {
                    let item = connection.next().await?;
                    Some((item, connection))
                })
                .boxed(),
            );
        }
        match this.stream.as_mut() {
            Some(stream) => stream.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }
}

impl<R> fmt::Debug for Events<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("last_time_us", &self.last_time_us())
            .finish_non_exhaustive()
    }
}

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

struct Connection<R> {
    url: String,
    options: Options,
    /// The last `time_us` handled, from a store: the start, less the
    /// overlap, until an event is handed out.
    resume: Option<i64>,
    overlap: Duration,
    max_frame_size: usize,
    idle_timeout: Duration,
    reconnect: Option<Reconnect>,
    socket: Option<Socket>,
    decompressor: Option<Decompressor>,
    /// How long to wait before connecting again.
    wait: Option<Duration>,
    /// Failures since the last event.
    failures: u32,
    done: bool,
    queued: VecDeque<Result<Event<R>, Error>>,
    /// The `time_us` of the last item handed out, shared with [`Events`].
    last: Arc<AtomicI64>,
    record: PhantomData<fn() -> R>,
}

/// What one read from the socket gave.
enum Read {
    Text(String),
    Skip,
    /// The connection ended normally.
    End,
}

impl<R: DeserializeOwned> Connection<R> {
    async fn next(&mut self) -> Option<Result<Event<R>, Error>> {
        loop {
            if let Some(item) = self.queued.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            if let Err(error) = self.open().await {
                return Some(Err(self.failed(error)));
            }
            match self.read().await {
                Ok(Read::Skip) => {}
                Ok(Read::End) => {
                    self.socket = None;
                    if self.reconnect.is_none() {
                        self.done = true;
                        return None;
                    }
                    // Asked again without counting a failure: a server that
                    // ends the stream normally may be restarting.
                }
                Ok(Read::Text(text)) => return Some(self.decode(&text)),
                Err(error) if error.ends_connection() => return Some(Err(self.failed(error))),
                Err(error) => return Some(Err(error)),
            }
        }
    }

    /// Connects, after the backoff, unless connected.
    async fn open(&mut self) -> Result<(), Error> {
        if self.socket.is_some() {
            return Ok(());
        }
        if let Some(wait) = self.wait.take() {
            tokio::time::sleep(wait).await;
        }
        self.socket = Some(self.connect().await?);
        Ok(())
    }

    fn decode(&mut self, text: &str) -> Result<Event<R>, Error> {
        match Event::<R>::from_json(text) {
            Ok(event) => {
                self.failures = 0;
                self.handed_out(Some(event.time_us));
                Ok(event)
            }
            Err(error) => {
                // The cursor moves past an event that does not decode: it
                // would not decode the next time either.
                self.handed_out(error.time_us);
                Err(Error::Decode(error))
            }
        }
    }

    fn handed_out(&mut self, time_us: Option<i64>) {
        if let Some(time_us) = time_us {
            self.last.store(time_us, Ordering::Release);
        }
    }

    /// Ends the connection after `error`, and decides whether to open it
    /// again.
    fn failed(&mut self, error: Error) -> Error {
        self.socket = None;
        self.decompressor = None;
        match &self.reconnect {
            Some(policy)
                if error.is_retryable()
                    && policy.max_attempts.is_none_or(|max| self.failures < max) =>
            {
                self.wait = Some(policy.wait(self.failures));
                self.failures += 1;
            }
            _ => self.done = true,
        }
        error
    }

    /// The cursor to connect with: the last `time_us` handed out (or saved)
    /// less the overlap, else the options' cursor.
    fn cursor(&self) -> Option<i64> {
        let last = Some(self.last.load(Ordering::Acquire)).filter(|t| *t != NO_CURSOR);
        match last.or(self.resume) {
            Some(time_us) => {
                let overlap = i64::try_from(self.overlap.as_micros()).unwrap_or(i64::MAX);
                Some(time_us.saturating_sub(overlap).max(0))
            }
            None => self.options.cursor,
        }
    }

    fn url(&self) -> Result<String, Error> {
        // http(s) is taken for the WebSocket scheme of the same security.
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", ""));
        let scheme = match scheme {
            "wss" | "https" => "wss",
            "ws" | "http" => "ws",
            _ => {
                return Err(Error::Connect {
                    url: self.url.clone(),
                    reason: "the URL is neither ws(s) nor http(s)".to_owned(),
                });
            }
        };
        let ws = format!("{scheme}://{rest}");
        let query = self.options.query_with_cursor(self.cursor());
        let separator = if ws.contains('?') { '&' } else { '?' };
        Ok(if query.is_empty() {
            ws
        } else {
            format!("{ws}{separator}{query}")
        })
    }

    async fn connect(&mut self) -> Result<Socket, Error> {
        let url = self.url()?;
        let connect_error = |reason: String| Error::Connect {
            url: url.clone(),
            reason,
        };
        let request = url
            .as_str()
            .into_client_request()
            .map_err(|error| connect_error(error.to_string()))?;
        // The compressed size is at most the decompressed one, give or take
        // a frame header.
        let limit = self.max_frame_size.saturating_add(1024);
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit));
        // The TLS settings of atlex's own event streams.
        let connector = match atlex::client::tls_config() {
            Ok(tls) => Connector::Rustls(tls),
            Err(reason) if url.starts_with("wss://") => return Err(connect_error(reason)),
            Err(_) => Connector::Plain,
        };
        let handshake = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            true,
            Some(connector),
        );
        let socket = match tokio::time::timeout(Duration::from_secs(30), handshake).await {
            Err(_) => return Err(connect_error("no answer within 30 s".to_owned())),
            Ok(Ok((socket, _response))) => socket,
            Ok(Err(tungstenite::Error::Http(response))) => {
                let body = response.body().as_deref().unwrap_or_default();
                let body = String::from_utf8_lossy(body);
                let cut = body.char_indices().nth(1024).map_or(body.len(), |(i, _)| i);
                return Err(Error::Http {
                    status: response.status().as_u16(),
                    body: body[..cut].to_owned(),
                });
            }
            Ok(Err(error)) => return Err(connect_error(error.to_string())),
        };
        self.decompressor = match &self.options.dictionary {
            Some(dictionary) => Some(Decompressor::new(dictionary.clone()).map_err(connect_error)?),
            None => None,
        };
        Ok(socket)
    }

    async fn read(&mut self) -> Result<Read, Error> {
        let Some(socket) = self.socket.as_mut() else {
            return Ok(Read::End);
        };
        let idle = self.idle_timeout;
        let received = tokio::time::timeout(idle, socket.next())
            .await
            .map_err(|_| Error::Transport(format!("nothing received for {idle:?}")))?;
        match received {
            None => Err(Error::Transport(
                "the connection ended without a close".to_owned(),
            )),
            Some(Ok(Message::Text(text))) => {
                if text.len() > self.max_frame_size {
                    return Err(Error::TooLarge {
                        limit: self.max_frame_size,
                    });
                }
                Ok(Read::Text(text.as_str().to_owned()))
            }
            Some(Ok(Message::Binary(bytes))) => match self.decompressor.as_mut() {
                Some(decompressor) => match decompressor.decompress(&bytes, self.max_frame_size) {
                    Ok(text) => Ok(Read::Text(text)),
                    Err(Inflate::TooLarge) => Err(Error::TooLarge {
                        limit: self.max_frame_size,
                    }),
                    Err(Inflate::Failed(reason)) => Err(Error::Decompress {
                        reason,
                        frame: bytes.to_vec(),
                    }),
                },
                None => Err(Error::Binary(bytes.len())),
            },
            Some(Ok(Message::Close(frame))) => {
                let _ = socket.close(None).await;
                // A close without a code, or with 1000, is the end of the
                // stream; any other code is a failure.
                match frame.filter(|frame| frame.code != CloseCode::Normal) {
                    None => Ok(Read::End),
                    Some(frame) => Err(Error::Closed {
                        code: frame.code.into(),
                        reason: frame.reason.to_string(),
                    }),
                }
            }
            // Pings, pongs: the answer to a ping is queued by the WebSocket
            // layer and goes out with this flush.
            Some(Ok(_)) => {
                socket.flush().await.ok();
                Ok(Read::Skip)
            }
            Some(Err(tungstenite::Error::Capacity(_))) => Err(Error::TooLarge {
                limit: self.max_frame_size,
            }),
            Some(Err(error)) => Err(Error::Transport(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_longest_wait_and_jitter_stays_in_its_upper_half() {
        let mut policy = Reconnect {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts: None,
            jitter: false,
        };
        let waits: Vec<u128> = (0..6).map(|n| policy.wait(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.wait(u32::MAX), Duration::from_secs(1));
        policy.jitter = true;
        for failures in 0..6 {
            let full = Duration::from_millis(waits[failures as usize] as u64);
            let wait = policy.wait(failures);
            assert!(wait >= full / 2 && wait <= full, "{wait:?} of {full:?}");
        }
    }

    #[test]
    fn collections_are_nsids_or_prefixes() {
        assert!(Options::new().wanted_collections(["app.bsky.*"]).is_ok());
        assert!(
            Options::new()
                .wanted_collections(["app.bsky.feed.post"])
                .is_ok()
        );
        for bad in ["*", ".*", "app..*", "app.bsky.fo*", "app bsky.*", "post"] {
            assert!(
                matches!(
                    Options::new().wanted_collections([bad]),
                    Err(OptionsError::Collection { .. })
                ),
                "{bad}"
            );
        }
        let many: Vec<String> = (0..=MAX_WANTED_COLLECTIONS)
            .map(|n| format!("com.example.c{n}"))
            .collect();
        assert_eq!(
            Options::new().wanted_collections(&many).unwrap_err(),
            OptionsError::TooMany {
                what: "collections",
                count: 101,
                max: 100
            }
        );
        // Repeats count once.
        let same = vec!["app.bsky.feed.post"; 500];
        assert!(Options::new().wanted_collections(same).is_ok());
    }

    #[test]
    fn a_damaged_dictionary_is_an_error() {
        // The magic number of a trained dictionary, then nothing it needs.
        let mut bytes = 0xEC30_A437_u32.to_le_bytes().to_vec();
        bytes.extend([1, 0, 0, 0, 9, 9, 9]);
        assert_eq!(Dictionary::new(&bytes).unwrap_err(), DictionaryError);
        // Anything else is raw content.
        assert_eq!(Dictionary::new(b"{\"did\":\"did:plc:").unwrap().id(), 0);
    }
}
