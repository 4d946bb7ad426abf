//! A record proved by its repository's signature: the CAR that
//! `com.atproto.sync.getRecord` answers (the signed head commit, the tree's
//! nodes from the root down to the record's key, and the record), checked
//! against the account's DID and signing key.
//!
//! `com.atproto.repo.getRecord` gives a record and the CID its server says
//! it has; a proof shows that the account signed it. [`verify_record_proof`]
//! checks that the CAR's root is a commit of the DID, signed by the key of
//! its DID document (`#atproto`), that the commit's tree holds the record's
//! CID at `collection/rkey`, and that the record's block is in the CAR
//! (every block of a CAR is checked against its CID as it is read). A tree
//! that does not hold the key proves that there is no such record.
//!
//! A proof may carry blocks it does not need (a server sending the nodes
//! of the neighbouring keys too): they are checked against their CIDs like
//! every block, counted in [`RecordProof::extra_blocks`], and otherwise
//! ignored. A CAR of more than [`MAX_PROOF_BLOCKS`] blocks is refused
//! before it is indexed; the caller bounds its size in bytes.
//!
//! ```
//! use atlex_core::types::{Did, Nsid, RecordKey};
//! use atlex_identity::crypto::{Curve, SigningKey};
//! use atlex_repo::Repo;
//! use atlex_repo::mst::MemoryBlockStore;
//! use atlex_repo::proof::verify_record_proof;
//! use atlex_repo::repo::Write;
//! use std::sync::Arc;
//!
//! // The publisher's repository, with one record.
//! let key = SigningKey::generate(Curve::K256)?;
//! let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
//! let store = Arc::new(MemoryBlockStore::new());
//! let (mut repo, _) = Repo::create_empty(store, did.clone(), key.clone())?;
//! let note = serde_json::json!({"$type": "com.example.note", "text": "hello"});
//! let note = atlex_core::data::Value::from_json(note)?;
//! repo.apply_writes(&[Write::create_data("com.example.note", Some("first"), &note)?])?;
//!
//! // What its server answers to `com.atproto.sync.getRecord`, and what a
//! // reader who knows only the DID and its key makes of it.
//! let collection = Nsid::new("com.example.note")?;
//! let car = repo.record_proof(collection.as_str(), "first")?;
//! let proof = verify_record_proof(&did, &collection, &RecordKey::new("first")?, &car, &key.public_key())?;
//! assert_eq!(proof.commit.rev, *repo.rev());
//! let record = proof.record.expect("the tree holds the record");
//! assert_eq!(atlex_core::cbor::from_slice::<atlex_core::data::Value>(&record.bytes)?, note);
//!
//! // A key the tree does not hold: proved absent.
//! let car = repo.record_proof(collection.as_str(), "second")?;
//! let proof = verify_record_proof(&did, &collection, &RecordKey::new("second")?, &car, &key.public_key())?;
//! assert!(proof.record.is_none());
//!
//! // Another key did not sign it.
//! let other = SigningKey::generate(Curve::K256)?.public_key();
//! assert!(verify_record_proof(&did, &collection, &RecordKey::new("first")?, &car, &other).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use atlex_core::types::{Cid, Did, Nsid, RecordKey};
use atlex_identity::crypto::{PublicKey, SignatureError};

use crate::car::{Blocks, Car, CarError, CarReader};
use crate::commit::{Commit, CommitError};
use crate::mst::{MemoryBlockStore, Mst, MstError};

/// The most blocks a proof may hold: the commit, the record and the nodes
/// of one path hold far fewer (a tree of a billion keys is about 16 nodes
/// deep), and the rest are extras a server had no need to send.
pub const MAX_PROOF_BLOCKS: usize = 128;

/// A record, or its absence, proved by a signed commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordProof {
    /// The commit, signed by the key and of the DID asked for: its `rev`
    /// says how recent the proof is, its `data` is the tree's root.
    pub commit: Commit,
    /// The record at the key, or `None` when the tree proves there is none.
    pub record: Option<ProvedRecord>,
    /// The CIDs of the tree's nodes on the way to the key, root first.
    pub nodes: Vec<Cid>,
    /// How many blocks the CAR holds besides the commit, the nodes and the
    /// record.
    pub extra_blocks: usize,
}

/// A record whose CID the signed tree holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvedRecord {
    /// Its CID.
    pub cid: Cid,
    /// Its DAG-CBOR, which hashes to `cid`.
    pub bytes: Vec<u8>,
}

/// Why a proof does not verify. Each case names what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The bytes are not a CAR whose blocks match their CIDs.
    #[error("the proof is not a valid CAR: {0}")]
    Car(#[from] CarError),
    /// The CAR holds more blocks than a proof needs.
    #[error("the proof holds more than {MAX_PROOF_BLOCKS} blocks")]
    TooManyBlocks,
    /// The CAR does not name exactly one root, the commit.
    #[error("the proof names {0} roots, not one (the commit)")]
    Roots(usize),
    /// The root's block is not in the CAR.
    #[error("the proof's commit block {0} is missing")]
    MissingCommit(Box<Cid>),
    /// The root's block is not a version 3 commit.
    #[error("the proof's root: {0}")]
    Commit(CommitError),
    /// The commit is of another repository.
    #[error("the proof's commit is of {found}, not {expected}")]
    WrongRepo {
        /// The DID asked for.
        expected: Did,
        /// The commit's.
        found: Did,
    },
    /// The commit's signature does not verify with the key.
    #[error("the proof's commit is not signed by the key: {0}")]
    Signature(SignatureError),
    /// The commit's tree cannot be read down to the key: a node is missing
    /// or breaks the tree's rules.
    #[error("the proof's tree: {0}")]
    Tree(#[from] MstError),
    /// The tree holds a CID at the key whose block is not in the CAR.
    #[error("the proof's tree holds {cid} at {path}, and the proof lacks that block")]
    MissingRecord {
        /// The record's path.
        path: String,
        /// The CID the tree holds.
        cid: Box<Cid>,
    },
}

/// Checks `car`, a proof of record `collection/rkey` in `did`'s repository
/// signed with `key` (the `#atproto` key of the DID document), and returns
/// the commit and the record, or that there is none. See the
/// [module](self).
pub fn verify_record_proof(
    did: &Did,
    collection: &Nsid,
    rkey: &RecordKey,
    car: &[u8],
    key: &PublicKey,
) -> Result<RecordProof, ProofError> {
    let mut reader = CarReader::new(car)?;
    let roots = reader.header().roots.clone();
    let mut blocks = Blocks::new();
    let mut count = 0;
    for block in &mut reader {
        count += 1;
        if count > MAX_PROOF_BLOCKS {
            return Err(ProofError::TooManyBlocks);
        }
        blocks.insert_verified(block?);
    }
    let [root] = roots.as_slice() else {
        return Err(ProofError::Roots(roots.len()));
    };
    let commit_bytes = blocks
        .get(root)
        .ok_or_else(|| ProofError::MissingCommit(Box::new(root.clone())))?;
    let commit = Commit::from_bytes(commit_bytes).map_err(ProofError::Commit)?;
    if commit.did != *did {
        return Err(ProofError::WrongRepo {
            expected: did.clone(),
            found: commit.did,
        });
    }
    commit.verify(key).map_err(|err| match err {
        CommitError::Signature(err) => ProofError::Signature(err),
        other => ProofError::Commit(other),
    })?;

    let path = format!("{collection}/{rkey}");
    let car = Car {
        roots: vec![root.clone()],
        blocks,
    };
    let blocks = &car.blocks;
    let store = MemoryBlockStore::from_car(&car);
    let tree = Mst::load(&store, &commit.data)?;
    let record = match tree.get(&path)? {
        None => None,
        Some(cid) => {
            let Some(bytes) = blocks.get(&cid) else {
                return Err(ProofError::MissingRecord {
                    path,
                    cid: Box::new(cid),
                });
            };
            Some(ProvedRecord {
                bytes: bytes.to_vec(),
                cid,
            })
        }
    };
    let nodes: Vec<Cid> = tree
        .proof(&path)?
        .into_iter()
        .map(|block| block.cid)
        .collect();
    let used = blocks
        .iter()
        .filter(|(cid, _)| {
            cid == root
                || nodes.contains(cid)
                || record.as_ref().is_some_and(|record| record.cid == *cid)
        })
        .count();
    Ok(RecordProof {
        extra_blocks: blocks.len() - used,
        commit,
        record,
        nodes,
    })
}
