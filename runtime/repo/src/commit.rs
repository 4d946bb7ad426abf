//! Repository commits, version 3: the signed root of a repository's state.

use atlex_core::cbor::{self, DecodeError};
use atlex_core::data::{Bytes as ByteString, CidLink};
use atlex_core::types::{Cid, Did, FormatError, Tid};
#[cfg(feature = "crypto")]
use atlex_identity::crypto::{PublicKey, SignatureError, SigningKey};
use serde::{Deserialize, Serialize};

use crate::wire::{Raw, unblessed};

/// The repository format version this crate reads and writes.
pub const VERSION: i64 = 3;

/// A commit before it is signed: the repository, the root of its tree and
/// the revision.
///
/// ```
/// use atlex_identity::crypto::{Curve, SigningKey};
/// use atlex_core::types::{Did, Tid};
/// use atlex_repo::commit::{Commit, UnsignedCommit};
/// use atlex_repo::mst::{MemoryBlockStore, Mst};
///
/// let key = SigningKey::generate(Curve::K256)?;
/// let data = Mst::new(MemoryBlockStore::new()).root()?;
/// let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
/// let commit = UnsignedCommit::new(did, data, Tid::next()?).sign(&key);
/// commit.verify(&key.public_key())?;
/// assert_eq!(Commit::from_bytes(&commit.to_bytes())?, commit);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedCommit {
    /// The repository's DID.
    pub did: Did,
    /// The root CID of the repository's tree.
    pub data: Cid,
    /// The revision: a TID greater than every earlier commit's.
    pub rev: Tid,
    /// The previous commit; kept for version 2 and virtually always `None`.
    pub prev: Option<Cid>,
}

/// A signed commit (`{did, version, data, rev, prev, sig}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The repository's DID.
    pub did: Did,
    /// The root CID of the repository's tree.
    pub data: Cid,
    /// The revision.
    pub rev: Tid,
    /// The previous commit (virtually always `None`).
    pub prev: Option<Cid>,
    /// The signature over the DAG-CBOR of the unsigned commit: 64 bytes
    /// `r ‖ s`, low-S.
    pub sig: Vec<u8>,
}

/// Why a commit could not be read, made or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommitError {
    /// The block is not canonical DAG-CBOR of a commit.
    #[error("not a commit: {0}")]
    Decode(DecodeError),
    /// The version is not 3.
    #[error("commit version {0}: only version {VERSION} is read")]
    Version(i64),
    /// The DID does not parse.
    #[error("commit did: {0}")]
    Did(FormatError),
    /// The revision is not a TID.
    #[error("commit rev: {0}")]
    Rev(FormatError),
    /// `data` or `prev` is not a CIDv1 of DAG-CBOR with SHA-256.
    #[error("commit {field} {cid}: {reason}")]
    Link {
        /// `data` or `prev`.
        field: &'static str,
        /// The link.
        cid: Box<Cid>,
        /// What is wrong.
        reason: &'static str,
    },
    /// The signature does not verify with the key.
    #[cfg(feature = "crypto")]
    #[error("commit signature: {0}")]
    Signature(#[from] SignatureError),
    /// A new revision would not be after the last one (see [`next_rev`]).
    #[error("no revision after {0}: the timestamps run out")]
    RevExhausted(Tid),
}

impl UnsignedCommit {
    /// A commit of `data` at revision `rev`, without `prev`.
    pub fn new(did: Did, data: Cid, rev: Tid) -> Self {
        Self {
            did,
            data,
            rev,
            prev: None,
        }
    }

    /// The bytes the signature is over: the DAG-CBOR of the commit without
    /// `sig`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode(None)
    }

    /// The commit's block, with `sig` or without.
    fn encode(&self, sig: Option<&[u8]>) -> Vec<u8> {
        let wire = Wire {
            did: self.did.as_str(),
            version: VERSION,
            data: self.data.as_cid(),
            rev: self.rev.as_str(),
            prev: self.prev.as_ref().map(Cid::as_cid),
            sig: sig.map(Raw),
        };
        match cbor::to_vec(&wire) {
            Ok(bytes) => bytes,
            // Strings, an integer, links and bytes always encode.
            Err(err) => unreachable!("a commit always encodes: {err}"),
        }
    }

    /// Signs the commit with the repository's signing key (feature
    /// `crypto`).
    #[cfg(feature = "crypto")]
    pub fn sign(self, key: &SigningKey) -> Commit {
        let sig = key.sign(&self.to_bytes()).to_vec();
        Commit {
            did: self.did,
            data: self.data,
            rev: self.rev,
            prev: self.prev,
            sig,
        }
    }
}

impl Commit {
    /// Reads a commit block: canonical DAG-CBOR with exactly the six fields
    /// (`prev` present, `null` or a link), version 3.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CommitError> {
        let wire: WireIn = cbor::from_slice(bytes).map_err(CommitError::Decode)?;
        if wire.version != VERSION {
            return Err(CommitError::Version(wire.version));
        }
        let data = blessed("data", wire.data.0)?;
        let prev = wire.prev.map(|link| blessed("prev", link.0)).transpose()?;
        Ok(Self {
            did: Did::new(wire.did).map_err(CommitError::Did)?,
            data,
            rev: Tid::new(wire.rev).map_err(CommitError::Rev)?,
            prev,
            sig: wire.sig.0,
        })
    }

    /// The commit block.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.unsigned().encode(Some(&self.sig))
    }

    /// The CID of the commit block.
    pub fn cid(&self) -> Cid {
        Cid::of_dag_cbor(&self.to_bytes())
    }

    /// The commit without its signature.
    pub fn unsigned(&self) -> UnsignedCommit {
        UnsignedCommit {
            did: self.did.clone(),
            data: self.data.clone(),
            rev: self.rev.clone(),
            prev: self.prev.clone(),
        }
    }

    /// Checks the signature with the repository's signing key (from its DID
    /// document; feature `crypto`).
    #[cfg(feature = "crypto")]
    pub fn verify(&self, key: &PublicKey) -> Result<(), CommitError> {
        Ok(key.verify(&self.unsigned().to_bytes(), &self.sig)?)
    }
}

/// A revision for a new commit: [`Tid::next`], or the TID just after `last`
/// if the clock has not passed it (a clock set back, a repository moved from
/// a host whose clock ran ahead). Revisions must grow.
pub fn next_rev(last: Option<&Tid>) -> Result<Tid, CommitError> {
    let next = Tid::next().map_err(CommitError::Rev)?;
    match last {
        Some(last) if next <= *last => {
            let after = last.timestamp_micros().checked_add(1);
            // A TID with the top bit set (which the syntax allows) sorts
            // after every timestamp: nothing follows it.
            after
                .and_then(|micros| Tid::from_parts(micros, next.clock_id()).ok())
                .filter(|rev| rev > last)
                .ok_or_else(|| CommitError::RevExhausted(last.clone()))
        }
        _ => Ok(next),
    }
}

fn blessed(field: &'static str, cid: Cid) -> Result<Cid, CommitError> {
    match unblessed(&cid) {
        None => Ok(cid),
        Some(reason) => Err(CommitError::Link {
            field,
            cid: Box::new(cid),
            reason,
        }),
    }
}

/// A commit as written, signed or not.
#[derive(Serialize)]
struct Wire<'a> {
    did: &'a str,
    version: i64,
    data: &'a cid::Cid,
    rev: &'a str,
    prev: Option<&'a cid::Cid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sig: Option<Raw<'a>>,
}

/// A commit as read: every field required, `prev` possibly `null`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireIn {
    did: String,
    version: i64,
    data: CidLink,
    rev: String,
    #[serde(deserialize_with = "Option::deserialize")]
    prev: Option<CidLink>,
    sig: ByteString,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_grow_past_a_clock_behind() {
        let now = next_rev(None).unwrap();
        assert!(next_rev(Some(&now)).unwrap() > now);
        // A last revision an hour ahead of the clock: the next is just after.
        let ahead = Tid::from_parts(now.timestamp_micros() + 3_600_000_000, 5).unwrap();
        let next = next_rev(Some(&ahead)).unwrap();
        assert!(next > ahead);
        assert_eq!(next.timestamp_micros(), ahead.timestamp_micros() + 1);
        // Nothing follows the last timestamp, nor a TID with the top bit set.
        let last = Tid::from_parts((1 << 53) - 1, 1023).unwrap();
        assert!(matches!(
            next_rev(Some(&last)),
            Err(CommitError::RevExhausted(_))
        ));
        let top = Tid::new("j222222222222".to_owned()).unwrap();
        assert!(matches!(
            next_rev(Some(&top)),
            Err(CommitError::RevExhausted(_))
        ));
    }

    #[test]
    fn commits_of_other_versions_or_fields_are_refused() {
        let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz".to_owned()).unwrap();
        let data = cbor::cid_of(&"a tree").unwrap();
        let unsigned = UnsignedCommit::new(did, data, Tid::from_parts(1, 0).unwrap());
        let commit = Commit {
            did: unsigned.did.clone(),
            data: unsigned.data.clone(),
            rev: unsigned.rev.clone(),
            prev: None,
            sig: vec![1; 64],
        };
        assert_eq!(Commit::from_bytes(&commit.to_bytes()).unwrap(), commit);
        // Unsigned: no `sig`.
        assert!(matches!(
            Commit::from_bytes(&unsigned.to_bytes()),
            Err(CommitError::Decode(_))
        ));

        let other = |version, rev: &str, data: &Cid| {
            cbor::to_vec(&Wire {
                did: commit.did.as_str(),
                version,
                data: data.as_cid(),
                rev,
                prev: None,
                sig: Some(Raw(&commit.sig)),
            })
            .unwrap()
        };
        let rev = commit.rev.as_str();
        assert!(matches!(
            Commit::from_bytes(&other(2, rev, &commit.data)),
            Err(CommitError::Version(2))
        ));
        assert!(matches!(
            Commit::from_bytes(&other(3, "not a tid", &commit.data)),
            Err(CommitError::Rev(_))
        ));
        let raw = Cid::of_raw(b"a blob");
        assert!(matches!(
            Commit::from_bytes(&other(3, rev, &raw)),
            Err(CommitError::Link { field: "data", .. })
        ));
    }
}
