//! Runtime for [atlex](https://github.com/atlex-rs/atlex): the types that code
//! generated from AT Protocol lexicons is built on.
//!
//! - [`types`]: the string formats of the Lexicon language (`did`, `handle`,
//!   `at-uri`, `nsid`, `cid`, `tid`, `record-key`, `datetime`, `language`,
//!   `uri`, `at-identifier`), each a validated newtype; [`types::Cid`] is
//!   the CID of every part of atlex.
//! - [`data`]: the data model's special values (`cid-link`, `bytes`,
//!   `blob`), [`data::Value`] and [`data::Unknown`] for open data, in JSON
//!   and DAG-CBOR alike.
//! - `cbor` (feature `cbor`): canonical DAG-CBOR, strict and lenient
//!   decoding, record CIDs.
//! - `car` (feature `cbor`): CAR v1 files, read with every block verified
//!   against its CID, and written.
//! - [`binding`]: how an endpoint travels over HTTP: XRPC, or the method,
//!   path, body formats, authentication and response envelope of another API.
//! - [`xrpc`]: what an endpoint is ([`xrpc::Endpoint`]), its parameters and its
//!   errors.
//! - [`error`]: the errors common to every XRPC endpoint.
//! - [`service`]: what a server implements: [`service::Request`] in,
//!   [`service::HandlerResult`] out.
//! - [`validate`]: the lexicon's value constraints, checked with a path to
//!   every violation.
//! - [`rt`]: the single module generated code refers to.
//! - `client` (feature `client`): a client calling generated endpoints, over
//!   XRPC or their binding, and password sessions.
//! - `server` (feature `server`): an axum router serving generated `Service`
//!   traits, at each endpoint's binding, with an async authenticator hook.
//! - `crypto` (feature `crypto`): `did:key` public keys and atproto's low-S
//!   ES256K / ES256 signatures.
//! - `identity` (feature `identity`): handle and DID resolution, with the
//!   handle checked both ways.
//! - `service_auth` (feature `service-auth`): inter-service JWTs, minted and
//!   verified.
//! - [`subscription`]: event streams (lexicon `subscription`s) over
//!   WebSocket: with feature `subscriptions`, the frame codec, a sequenced
//!   event log for servers, `Client::subscribe` (with `client`) and the
//!   router's upgrade (with `server`).
//! - feature `prebuilt-bodies`: in optimized builds, generated endpoints
//!   compile their JSON bodies' decoders and encoders in the bindings crate
//!   (see [`xrpc::Endpoint::decode_output`]), so a program's own release
//!   build does not.
//! - [`firehose`]: the ops of a
//!   `com.atproto.sync.subscribeRepos#commit`, each record decoded from the
//!   commit's CAR into a generated type, every block verified (feature
//!   `cbor`).

// Derived code names the runtime `::atlex`, in this crate's own tests too.
extern crate self as atlex;

pub mod binding;
pub mod builder;
#[cfg(feature = "cbor")]
pub mod car;
#[cfg(feature = "cbor")]
pub mod cbor;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod data;
pub mod error;
pub mod firehose;
mod helpers;
#[cfg(feature = "identity")]
pub mod identity;
mod member;
mod object;
pub mod rt;
#[cfg(feature = "server")]
pub mod server;
pub mod service;
#[cfg(feature = "service-auth")]
pub mod service_auth;
pub mod subscription;
pub mod types;
mod union;
pub mod validate;
pub mod xrpc;

/// The `cid` crate, for the IPLD ecosystem: [`types::Cid`] converts to and
/// from its [`Cid`](cid::Cid) and lends one out
/// ([`as_cid`](types::Cid::as_cid)).
pub use cid;
