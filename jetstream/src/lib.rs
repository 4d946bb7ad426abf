//! Jetstream: the JSON firehose.
//!
//! Jetstream reads a relay's `com.atproto.sync.subscribeRepos` and serves
//! each record operation, identity change and account change as one JSON
//! object, with records decoded from DAG-CBOR into JSON. It has two wires:
//!
//! - [`v1`]: the `/subscribe` endpoint, one JSON text message per event
//!   (`kind` of `commit`, `identity` or `account`, a `time_us` cursor in
//!   microseconds), optionally zstd-compressed with a dictionary.
//! - [`v2`]: the lexicon subscription `network.bsky.jetstream.subscribeEvents`,
//!   framed by the `xrpc.v1.json` event-stream subprotocol; its bindings
//!   are generated from Jetstream's lexicons.
//!
//! Both compress with a zstd [`Dictionary`] that the client must have.
//! The guide is `docs/jetstream.md` in the repository.

mod compression;
pub mod v1;
pub mod v2;

pub use crate::compression::{Dictionary, DictionaryError};
