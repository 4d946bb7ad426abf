//! What the tree's nodes and commits share in their DAG-CBOR forms.

use atlex_core::cbor;
use atlex_core::types::Cid;
use serde::{Serialize, Serializer};

/// Borrowed bytes, written as a byte string.
pub(crate) struct Raw<'a>(pub(crate) &'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// What keeps `cid` from being a link of the repository's structure (to a
/// node or a commit's tree), which must be a CIDv1 of DAG-CBOR with
/// SHA-256; `None` if it is one.
pub(crate) fn unblessed(cid: &Cid) -> Option<&'static str> {
    if cid.codec() != cbor::DAG_CBOR {
        Some("not a DAG-CBOR CID")
    } else if cid.hash_code() != cbor::SHA2_256 || cid.digest().len() != 32 {
        Some("not a SHA-256 CID")
    } else {
        None
    }
}
