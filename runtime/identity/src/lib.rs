//! Identity in [atlex](https://github.com/atlex-rs/atlex): keys and
//! signatures, resolution, and inter-service authentication. The `atlex`
//! crate re-exports its modules as `atlex::crypto` (feature `crypto`),
//! `atlex::identity` (feature `identity`) and `atlex::service_auth` (feature
//! `service-auth`).
//!
//! - [`crypto`]: `did:key` public keys and atproto's low-S ES256K / ES256
//!   signatures (k256, p256).
//! - `identity` (feature `resolve`): handle and DID resolution, with the
//!   handle checked both ways.
//! - `identity::testkit` (feature `testkit`): an identity network on
//!   127.0.0.1 for tests (PLC directory, DNS, `did:web` hosts, handles'
//!   well-known files) with accounts and their keys.
//! - `service_auth` (feature `service-auth`): inter-service JWTs, minted and
//!   verified; with feature `server`, an authenticator for the router of
//!   `atlex-server`.
//! - `label` (feature `label`): signing and verifying labels; with `resolve`,
//!   against the labeler's key from its DID document.
//! - `plc` (feature `plc`): `did:plc` operations made and signed, and the
//!   operation log a directory serves verified; with `resolve`, a client of
//!   the directory.

pub mod crypto;
#[cfg(feature = "resolve")]
pub mod identity;
#[cfg(feature = "label")]
pub mod label;
#[cfg(feature = "plc")]
pub mod plc;
#[cfg(feature = "service-auth")]
pub mod service_auth;
