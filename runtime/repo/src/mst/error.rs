//! Why a tree could not be read or changed.

use atlex_core::cbor::{DecodeError, EncodeError};
use atlex_core::types::Cid;

use crate::mst::key::KeyError;
use crate::mst::store::StoreError;

/// Why an MST operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MstError {
    /// A node the operation needs is not in the block store (in a partial
    /// tree, such as a commit's blocks, a node the commit did not include).
    #[error("MST node {0} is not in the block store")]
    MissingBlock(Box<Cid>),
    /// The block store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A block is not canonical DAG-CBOR of an MST node.
    #[error("block {cid} is not an MST node: {error}")]
    Decode {
        /// The block.
        cid: Box<Cid>,
        /// Why.
        error: DecodeError,
    },
    /// A node decodes but breaks a rule of the tree's structure.
    #[error("MST node {cid}: {reason}")]
    Malformed {
        /// The node.
        cid: Box<Cid>,
        /// The rule it breaks.
        reason: Malformed,
    },
    /// A key given to an operation is not a repository path.
    #[error("invalid MST key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why.
        reason: KeyError,
    },
    /// An insertion of a key the tree holds.
    #[error("the tree already holds {0}")]
    KeyExists(String),
    /// An update or deletion of a key the tree does not hold.
    #[error("the tree does not hold {0}")]
    KeyNotFound(String),
    /// A node could not be encoded (a node always encodes; this is a defect).
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The rule of the tree's structure a node breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// A key that is not a repository path.
    #[error("key {key:?}: {reason}")]
    Key {
        /// The key (bytes that are not UTF-8 shown replaced).
        key: String,
        /// Why.
        reason: KeyError,
    },
    /// A key not after the one before it (out of order, or repeated).
    #[error("key {key:?} does not sort after {previous:?}")]
    Order {
        /// The key.
        key: String,
        /// The key before it.
        previous: String,
    },
    /// A key whose depth is not the node's.
    #[error("key {key:?} has depth {depth}, in a node of depth {layer}")]
    Depth {
        /// The key.
        key: String,
        /// Its depth.
        depth: u8,
        /// The depth of the node's keys (the first key's depth at the root).
        layer: u8,
    },
    /// A key outside the range the parent gives the subtree: the key sits
    /// in the wrong place.
    #[error("key {key:?} lies outside the subtree's range ({range})")]
    Range {
        /// The key.
        key: String,
        /// The range, as text.
        range: String,
    },
    /// An entry's prefix length is longer than the key before it, or the
    /// first entry's is not 0.
    #[error("entry {index} shares {prefix} bytes with a key of {previous} bytes")]
    Prefix {
        /// The entry.
        index: usize,
        /// Its prefix length.
        prefix: u64,
        /// The length of the key before it.
        previous: usize,
    },
    /// An entry's prefix length is not the whole prefix it shares with the
    /// key before it: the compression is mandatory, the node not canonical.
    #[error("entry {index} states a shared prefix of {stated} bytes, the keys share {shared}")]
    PrefixNotShared {
        /// The entry.
        index: usize,
        /// What it states.
        stated: usize,
        /// What the keys share.
        shared: usize,
    },
    /// A node below the root with neither keys nor subtree.
    #[error("an empty node below the root")]
    Empty,
    /// A root without keys that links to a subtree: the top of a tree holds
    /// keys.
    #[error("a root without keys that links to a subtree")]
    RootWithoutKeys,
    /// A node of depth 0 linking to a subtree: no key can be below it, and
    /// no tree is deeper than its keys allow.
    #[error("a node of depth 0 links to a subtree")]
    LinkBelowBottom,
    /// A link to a node that is not a CIDv1 of DAG-CBOR with SHA-256.
    #[error("link {link}: {reason}")]
    Link {
        /// The link.
        link: Box<Cid>,
        /// What is wrong.
        reason: &'static str,
    },
}
