//! Repository data of [atlex](https://github.com/atlex-rs/atlex): CAR files
//! and the ops of firehose commits. The `atlex` crate re-exports its modules
//! as `atlex::car` and `atlex::firehose`.
//!
//! - `car` (feature `cbor`): CAR v1 files, read with every block verified
//!   against its CID, and written.
//! - [`firehose`]: the ops of a `com.atproto.sync.subscribeRepos#commit`,
//!   each record decoded from the commit's CAR into a generated type, every
//!   block verified (feature `cbor`); the commit's signature checked with
//!   feature `crypto`.

#[cfg(feature = "cbor")]
pub mod car;
pub mod firehose;
