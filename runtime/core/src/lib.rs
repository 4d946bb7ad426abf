//! The core of [atlex](https://github.com/atlex-rs/atlex): everything code
//! generated from AT Protocol lexicons needs, and nothing that talks to the
//! network. Programs depend on the `atlex` crate, which re-exports these
//! modules at the same paths (`atlex::types`, `atlex::data`, …) next to the
//! client, the server, event streams, repositories and identity.
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
//! - [`binding`]: how an endpoint travels over HTTP: XRPC, or the method,
//!   path, body formats, authentication and response envelope of another API.
//! - [`xrpc`]: what an endpoint is ([`xrpc::Endpoint`]), its parameters, its
//!   errors and its body codecs.
//! - [`error`]: the errors common to every XRPC endpoint.
//! - [`service`]: what a server implements: [`service::Request`] in,
//!   [`service::HandlerResult`] out.
//! - [`subscription`]: the frames of event streams (lexicon
//!   `subscription`s); with feature `cbor`, their codec.
//! - [`validate`]: the lexicon's value constraints, checked with a path to
//!   every violation.
//! - [`builder`]: the type states of generated builders.
//! - [`rt`]: the single module generated code refers to.
//! - feature `json-bodies-in-bindings`: in optimized builds, generated endpoints
//!   compile their JSON bodies' decoders and encoders in the bindings crate
//!   (see [`xrpc::Endpoint::decode_output`]), so a program's own release
//!   build does not.

pub mod binding;
pub mod builder;
#[cfg(feature = "cbor")]
pub mod cbor;
pub mod data;
pub mod error;
mod object;
pub mod permission;
pub mod rt;
pub mod service;
mod string_enum;
pub mod subscription;
mod tagged;
pub mod types;
mod union;
pub mod validate;
pub mod xrpc;

/// The `cid` crate, for the IPLD ecosystem: [`types::Cid`] converts to and
/// from its [`Cid`](cid::Cid) and lends one out
/// ([`as_cid`](types::Cid::as_cid)).
pub use cid;
