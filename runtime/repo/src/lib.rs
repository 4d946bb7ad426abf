//! Repository data of [atlex](https://github.com/atlex-rs/atlex): CAR files,
//! the ops of firehose commits, and repositories themselves. The `atlex`
//! crate re-exports its modules as `atlex::car` and `atlex::firehose`, and
//! the whole crate as `atlex::repo` (feature `repo`).
//!
//! - `car` (feature `cbor`): CAR v1 files, read with every block verified
//!   against its CID, and written.
//! - [`firehose`]: the ops of a `com.atproto.sync.subscribeRepos#commit`,
//!   each record decoded from the commit's CAR into a generated type, every
//!   block verified (feature `cbor`); the commit's signature checked with
//!   feature `crypto`.
//! - `mst` (feature `mst`): the Merkle Search Tree that maps a
//!   repository's record paths to record CIDs, over a block store.
//! - `commit` (feature `cbor`): signed commits, version 3 (signing and
//!   verifying with feature `crypto`), as the firehose's events and
//!   repository CARs carry them.
//! - `sync` (feature `mst`): a firehose commit checked by inverting its ops
//!   on the partial tree its blocks carry (sync 1.1).
//! - `proof` (features `mst` and `crypto`): a record, or its absence,
//!   proved by its repository's signed commit, as
//!   `com.atproto.sync.getRecord` serves it.
//! - `repo_car` (feature `mst`): whole repositories as CAR files, read in
//!   memory or streamed into a block store.
//! - `repo` (feature `mst`): a repository over a block store, its records
//!   read into generated types and written in signed commits (feature
//!   `crypto`) that carry what a firehose event needs.
//! - `verify` (features `mst` and `crypto`): a verifying consumer of
//!   repository event streams, with per-repository state, a resync hook
//!   and backfill; keys from an identity resolver with feature `resolve`,
//!   over `atlex-client`'s event streams with feature `client`.

#[cfg(feature = "cbor")]
pub mod car;
#[cfg(feature = "cbor")]
pub mod commit;
mod events;
pub mod firehose;
#[cfg(feature = "mst")]
pub mod mst;
#[cfg(all(feature = "mst", feature = "crypto"))]
pub mod proof;
#[cfg(feature = "mst")]
pub mod repo;
#[cfg(feature = "mst")]
pub use repo::Repo;
#[cfg(feature = "mst")]
pub mod repo_car;
#[cfg(feature = "mst")]
pub mod sync;
#[cfg(all(feature = "mst", feature = "crypto"))]
pub mod verify;
#[cfg(feature = "cbor")]
mod wire;
