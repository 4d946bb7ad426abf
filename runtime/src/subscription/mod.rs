//! Event streams: lexicon `subscription`s such as
//! `com.atproto.sync.subscribeRepos` (the firehose) and
//! `com.atproto.label.subscribeLabels`.
//!
//! A stream is a WebSocket of binary messages, each one frame: a DAG-CBOR
//! header, then a DAG-CBOR body. The header of a message is `{"op": 1, "t":
//! "#commit"}`, `t` naming the body's type among the definitions of the
//! subscription's lexicon; the header of an error is `{"op": -1}`, and its
//! body `{"error": NAME, "message": TEXT}`, after which the server closes the
//! connection.
//!
//! With feature `subscriptions`:
//!
//! - [`Frame`] encodes frames and [`decode_message`] reads one into the
//!   subscription's generated message union: an undeclared `t` arrives as
//!   the union's `Unknown` (with its `$type` set to the full name), an error
//!   frame as the typed error ([`SubscriptionError`]);
//! - [`EventLog`] is a sequenced log of recent events for servers: append,
//!   then serve each subscriber "replay from its cursor, then live" in
//!   bounded memory;
//! - with `client`, [`Client::subscribe`](crate::client::Client::subscribe)
//!   opens a stream (ws or wss), with cursor resume, an opt-in reconnect,
//!   a frame size limit and pings;
//! - with `server`, the router serves the subscriptions a `register` function
//!   mounts ([`Registry::add_subscription`](crate::service::Registry::add_subscription)).
//!
//! Typed firehose commit ops (each op's record decoded from the commit's CAR,
//! every block verified) are in [`crate::firehose`].
//!
//! Without the feature, only the types generated code names exist.

#[cfg(feature = "subscriptions")]
pub(crate) mod error;
#[cfg(feature = "subscriptions")]
mod frame;
#[cfg(feature = "subscriptions")]
pub(crate) mod log;

#[cfg(feature = "subscriptions")]
pub use error::{FrameError, SubscriptionError};
#[cfg(feature = "subscriptions")]
pub use frame::{FrameView, decode_message};
#[cfg(feature = "subscriptions")]
pub use log::{DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, EventLog, EventLogBuilder};

use bytes::Bytes;

/// One encoded frame of an event stream: the bytes of one binary WebSocket
/// message. Cheap to clone (the bytes are shared), so one frame can go to any
/// number of subscribers.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    bytes: Bytes,
    error: bool,
}

impl Frame {
    /// The bytes, as they go over the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, shared.
    pub fn to_bytes(&self) -> Bytes {
        self.bytes.clone()
    }

    /// Whether this is an error frame (`op` -1): the last of its stream.
    pub fn is_error(&self) -> bool {
        self.error
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the frame has no bytes (never true of a frame that was built
    /// or checked).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("error", &self.error)
            .field("len", &self.bytes.len())
            .finish()
    }
}
