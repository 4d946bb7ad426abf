//! The Merkle Search Tree (MST) of a repository: record paths to record
//! CIDs, with a root CID that depends on the content only (feature `mst`).
//!
//! [`Mst`] reads its nodes from a [`BlockStore`] as it needs them, checking
//! each against the structure's rules; changes make new trees that share
//! the untouched nodes with the old ones. [`Mst::diff`] lists the record
//! ops between two trees, [`Mst::proof`] and [`Mst::covering_proof`] the
//! nodes that prove a key's presence or absence, and what a commit must
//! carry to be inverted (see [`crate::sync`]).

mod diff;
mod error;
mod key;
mod node;
mod store;
mod tree;

pub use diff::{Diff, Op};
pub use error::{Malformed, MstError};
pub use key::{KeyError, MAX_KEY_LEN, check_key, common_prefix_len, key_depth};
pub use store::{BlockStore, MemoryBlockStore, StoreError};
pub(crate) use tree::Walked;
pub use tree::{Iter, Leaf, Mst};
