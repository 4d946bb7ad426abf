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
//! [`Frame`] is one encoded frame, what a server's
//! [`Messages`](crate::service::Messages) may carry. With feature `cbor`,
//! the frame codec: [`Frame`]'s constructors encode frames, and
//! [`decode_message`] reads one into the subscription's generated message
//! union: an undeclared `t` arrives as the union's `Unknown` (with its
//! `$type` set to the full name), an error frame as the typed error
//! ([`SubscriptionError`]).
//!
//! # Subprotocols
//!
//! That framing is `xrpc.v0.cbor`, the default. A stream may also be read
//! in the `v1` framing ([`Subprotocol`]), asked for in the handshake's
//! `Sec-WebSocket-Protocol` or declared as the default by the lexicon
//! (`Subscription::SUBPROTOCOL`): each frame one object,
//! `{"$type": "message", "payload": {…}}` with the message's full `$type`,
//! or `{"$type": "error", "error": NAME, "message": TEXT}`; as JSON in a
//! text message (`xrpc.v1.json`) or as DAG-CBOR in a binary one
//! (`xrpc.v1.cbor`). With feature `cbor`, [`encode_message`] and
//! [`encode_error`] write a frame in any subprotocol,
//! [`Frame::to_wire`] rewrites a stored `v0` frame into another (so one
//! log of `v0` frames serves them all), and [`decode_frame`] reads one.
//!
//! The client's `subscribe`, the server's WebSocket upgrade and the event
//! log of servers are in the crates that build on this one (`atlex-client`,
//! `atlex-server`, `atlex-stream`).

#[cfg(feature = "cbor")]
mod error;
#[cfg(feature = "cbor")]
mod frame;
#[cfg(feature = "cbor")]
mod v1;

#[cfg(feature = "cbor")]
pub use error::{FrameError, SubscriptionError};
#[cfg(feature = "cbor")]
#[doc(hidden)]
pub use error::{cut, from_error_frame};
#[cfg(feature = "cbor")]
pub use frame::{FrameView, decode_message};
#[cfg(feature = "cbor")]
pub use v1::{WireFrame, decode_frame, encode_error, encode_message};

pub use crate::xrpc::Subprotocol;

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
