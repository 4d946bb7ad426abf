//! Runtime for [atlex](https://github.com/atlex-rs/atlex): the types that code
//! generated from AT Protocol lexicons is built on, and the client, server,
//! event streams, repository data and identity that use them.
//!
//! This crate is the one to depend on: it re-exports crates by purpose at
//! the paths below, each part behind the feature named, so a program builds
//! only what it uses. `atlex-core` holds what generated code needs (the
//! modules without a feature here); `atlex-client`, `atlex-server`,
//! `atlex-stream`, `atlex-repo` and `atlex-identity` build on it.
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
//! - `client` (feature `client`): a client calling generated endpoints, over
//!   XRPC or their binding, and password sessions.
//! - `server` (feature `server`): an axum router serving generated `Service`
//!   traits, at each endpoint's binding, with an async authenticator hook.
//! - `crypto` (feature `crypto`): `did:key` public keys and atproto's low-S
//!   ES256K / ES256 signatures.
//! - `identity` (feature `identity`): handle and DID resolution, with the
//!   handle checked both ways.
//!   `identity::testkit` (feature `testkit`): an identity network on
//!   127.0.0.1 for a program's own tests, with accounts and their keys.
//! - `service_auth` (feature `service-auth`): inter-service JWTs, minted and
//!   verified.
//! - `label` (feature `label`): signed labels, signed and verified; with
//!   `identity`, against each labeler's key from its DID document.
//! - `plc` (feature `plc`): `did:plc` operations made and signed, and a
//!   directory's operation log verified; with `identity`, submitted to and
//!   read from the directory.
//! - [`subscription`]: event streams (lexicon `subscription`s) over
//!   WebSocket: with feature `subscriptions`, the frame codec, a sequenced
//!   event log for servers, `Client::subscribe` (with `client`) and the
//!   router's upgrade (with `server`).
//! - `eventlog` (feature `eventlog`): the event log kept in a SQLite file,
//!   across restarts, and cursor stores for consumers (with `client`, for
//!   `EventStream::resume_with`).
//! - feature `postgres`: `eventlog::PostgresStore`, one event log in
//!   PostgreSQL shared by the servers of a service.
//! - feature `json-bodies-in-bindings`: in optimized builds, generated endpoints
//!   compile their JSON bodies' decoders and encoders in the bindings crate
//!   (see [`xrpc::Endpoint::decode_output`]), so a program's own release
//!   build does not.
//! - `repo` (feature `repo`): repositories: the Merkle Search Tree over a
//!   block store, signed commits (version 3), the check of a firehose
//!   commit by inverting its ops (sync 1.1), repository CARs; with the
//!   `car` and `firehose` modules above. `repo::proof` (with `crypto`)
//!   checks the proof of one record (`com.atproto.sync.getRecord`)
//!   against the account's DID and key. `repo::verify` (with `crypto`) is
//!   a verifying consumer of `subscribeRepos` with per-repository state;
//!   feature `verify` adds keys from identity resolution, the verified
//!   event stream over the client, resync and backfill by `getRepo`.
//! - `oauth` (feature `oauth`): atproto OAuth scopes, parsed, printed and
//!   checked, and permission sets expanded; with feature `oauth-client`,
//!   `oauth::client`: sign-in with PAR, PKCE and DPoP, sessions that
//!   refresh themselves, and OAuth sessions as a `client::Client`'s
//!   credentials.
//! - [`firehose`]: the ops of a
//!   `com.atproto.sync.subscribeRepos#commit`, each record decoded from the
//!   commit's CAR into a generated type, every block verified (feature
//!   `cbor`).

pub use atlex_core::{binding, builder, data, error, permission, service, types, validate, xrpc};

#[cfg(feature = "cbor")]
pub use atlex_core::cbor;
#[cfg(feature = "repo")]
#[doc(inline)]
pub use atlex_repo as repo;
#[cfg(feature = "cbor")]
pub use atlex_repo::car;
pub use atlex_repo::firehose;

/// The single module generated code refers to (`::atlex::rt::…`):
/// re-exports for generated code, documented in `atlex-core`.
#[doc(hidden)]
pub use atlex_core::rt;

#[cfg(not(feature = "subscriptions"))]
pub use atlex_core::subscription;
#[cfg(feature = "subscriptions")]
#[doc(inline)]
pub use atlex_stream as subscription;

#[cfg(feature = "client")]
#[doc(inline)]
pub use atlex_client as client;
#[cfg(feature = "eventlog")]
#[doc(inline)]
pub use atlex_eventlog as eventlog;
/// A server on axum (feature `server`): everything of [`atlex_server`] (the
/// router, its authenticators, what handlers take, return and answer with)
/// and, with feature `service-auth`, the authenticator that verifies
/// inter-service JWTs.
#[cfg(feature = "server")]
pub mod server {
    #[doc(inline)]
    pub use atlex_server::*;

    #[cfg(feature = "service-auth")]
    #[doc(inline)]
    pub use atlex_identity::service_auth::ServiceAuthVerifier;
}

#[cfg(feature = "crypto")]
pub use atlex_identity::crypto;
#[cfg(feature = "identity")]
pub use atlex_identity::identity;
#[cfg(feature = "label")]
pub use atlex_identity::label;
#[cfg(feature = "plc")]
pub use atlex_identity::plc;
#[cfg(feature = "service-auth")]
pub use atlex_identity::service_auth;
#[cfg(feature = "oauth")]
#[doc(inline)]
pub use atlex_oauth as oauth;

/// The `cid` crate, for the IPLD ecosystem: [`types::Cid`] converts to and
/// from its [`Cid`](cid::Cid) and lends one out
/// ([`as_cid`](types::Cid::as_cid)).
pub use atlex_core::cid;
