//! Event streams of [atlex](https://github.com/atlex-rs/atlex): lexicon
//! `subscription`s such as `com.atproto.sync.subscribeRepos` (the firehose)
//! and `com.atproto.label.subscribeLabels`. The `atlex` crate re-exports
//! this crate as `atlex::subscription` (feature `subscriptions`).
//!
//! A stream is a WebSocket of binary messages, each one frame: a DAG-CBOR
//! header, then a DAG-CBOR body. The header of a message is `{"op": 1, "t":
//! "#commit"}`, `t` naming the body's type among the definitions of the
//! subscription's lexicon; the header of an error is `{"op": -1}`, and its
//! body `{"error": NAME, "message": TEXT}`, after which the server closes the
//! connection.
//!
//! - [`Frame`] encodes frames and [`decode_message`] reads one into the
//!   subscription's generated message union: an undeclared `t` arrives as
//!   the union's `Unknown` (with its `$type` set to the full name), an error
//!   frame as the typed error ([`SubscriptionError`]). The codec is
//!   `atlex-core`'s, since a server's
//!   [`Messages`](atlex_core::service::Messages) carry frames; it is
//!   re-exported here.
//! - The `v1` framing of the same streams (`xrpc.v1.json`,
//!   `xrpc.v1.cbor`; [`Subprotocol`]): [`encode_message`], [`encode_error`]
//!   and [`Frame::to_wire`] write it, [`decode_frame`] reads any
//!   subprotocol's frames; the log keeps `v0` frames, which the server
//!   rewrites for each subscriber's subprotocol.
//! - [`EventLog`] is a sequenced log of recent events for servers: append,
//!   then serve each subscriber "replay from its cursor, then live" in
//!   bounded memory; [`EventStore`] keeps its events beyond memory (the
//!   SQLite store of `atlex-eventlog` on disk, across restarts; its
//!   Postgres store shared by several servers, which follow each other's
//!   appends through a [`LiveTail`]).
//!
//! Elsewhere: `Client::subscribe` of `atlex-client` (feature
//! `subscriptions`) opens a stream (ws or wss), with cursor resume, an
//! opt-in reconnect, a frame size limit and pings; the router of
//! `atlex-server` (feature `subscriptions`) serves the subscriptions a
//! `register` function mounts
//! ([`Registry::add_subscription`](atlex_core::service::Registry::add_subscription));
//! the typed ops of firehose commits (each op's record decoded from the
//! commit's CAR, every block verified) are in `atlex-repo`.

mod log;
mod store;

pub use atlex_core::cbor::EncodeError;
pub use atlex_core::subscription::{
    Frame, FrameError, FrameView, Subprotocol, SubscriptionError, WireFrame, decode_frame,
    decode_message, encode_error, encode_message,
};
pub use log::{DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, EventLog, EventLogBuilder, LiveTail};
pub use store::{AppendError, EventStore, Retention, StoreError};
