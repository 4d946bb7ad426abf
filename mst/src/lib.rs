//! atproto repositories for [atlex](https://github.com/atlex-rs/atlex): the
//! Merkle Search Tree (MST) that maps record paths to record CIDs, signed
//! commits (version 3), and the verification of a firehose `#commit` by
//! inverting its ops (sync 1.1).

mod commit;
mod diff;
mod error;
mod key;
mod node;
mod store;
mod tree;
mod wire;

pub use commit::{Commit, CommitError, UnsignedCommit, VERSION, next_rev};
pub use diff::{Diff, Op};
pub use error::{Malformed, MstError};
pub use key::{KeyError, MAX_KEY_LEN, check_key, common_prefix_len, key_depth};
pub use store::{BlockStore, MemoryBlockStore, StoreError};
pub use tree::{Iter, Leaf, Mst};
