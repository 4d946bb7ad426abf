//! Backfill: a whole repository (`com.atproto.sync.getRepo`), its commit
//! verified, walked into typed records.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ops::Bound;

use atlex_core::cbor::DecodeError;
use atlex_core::types::{Cid, Did, Nsid, RecordKey};
use serde::de::DeserializeOwned;

use super::{KeySource, VerifyError, read_verified_repo};
use crate::mst::{BlockStore, Leaf, MemoryBlockStore, Mst, MstError};
use crate::repo_car::RepoCar;

/// How many keys [`RepoRecords`] reads from the tree at a time.
const BATCH: usize = 256;

/// Reads a repository CAR of `did` (every block checked against its CID)
/// and verifies its commit's signature with `did`'s key from `keys` (once
/// more with the key fetched again if it fails). Walk its records with
/// [`RepoRecords::new`].
///
/// ```
/// use atlex_core::types::{Did, Tid};
/// use atlex_identity::crypto::{Curve, SigningKey};
/// use atlex_repo::commit::UnsignedCommit;
/// use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst};
/// use atlex_repo::repo_car::write_repo_car;
/// use atlex_repo::verify::{RepoRecords, StaticKeys, verify_repo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // A repository of one record.
/// let store = MemoryBlockStore::new();
/// let record = atlex_core::cbor::to_vec(&"a note")?;
/// let cid = atlex_core::types::Cid::of_dag_cbor(&record);
/// store.put(&cid, record.into())?;
/// let tree = Mst::new(&store).insert("com.example.note/3jzfcijpj2z2a", cid)?;
/// let key = SigningKey::generate(Curve::K256)?;
/// let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
/// let commit = UnsignedCommit::new(did.clone(), tree.write()?, Tid::next()?).sign(&key);
/// store.put(&commit.cid(), commit.to_bytes().into())?;
/// let car = write_repo_car(&store, &commit.cid(), Vec::new())?;
///
/// let keys = StaticKeys::new().with(did.clone(), key.public_key());
/// let repo = verify_repo(&did, &car, &keys).await?;
/// for record in RepoRecords::<String>::new(&repo)? {
///     let record = record?;
///     assert_eq!((record.collection.as_str(), record.record.as_str()), ("com.example.note", "a note"));
/// }
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(run())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn verify_repo<K: KeySource + ?Sized>(
    did: &Did,
    car: &[u8],
    keys: &K,
) -> Result<RepoCar, VerifyError> {
    read_verified_repo(did, car, keys, true).await
}

/// One record of a repository.
#[derive(Clone, Debug, PartialEq)]
pub struct RepoRecord<R> {
    /// The record's collection.
    pub collection: Nsid,
    /// The record's key.
    pub rkey: RecordKey,
    /// The record's CID.
    pub cid: Cid,
    /// The record.
    pub record: R,
}

/// Why one record could not be read. The walk goes on after it, except
/// after [`RecordError::Tree`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The key is not `<collection>/<record key>`.
    #[error("record path {path:?}: {reason}")]
    Path {
        /// The key.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The record's block is not in the repository.
    #[error("record {path}: block {cid} is missing")]
    Missing {
        /// The record's path.
        path: String,
        /// Its CID.
        cid: Box<Cid>,
    },
    /// The record does not decode as the record type.
    #[error("record {path} ({cid}): {error}")]
    Decode {
        /// The record's path.
        path: String,
        /// Its CID.
        cid: Box<Cid>,
        /// Why.
        error: DecodeError,
    },
    /// The tree could not be read further (a missing or malformed node):
    /// the walk ends.
    #[error("the repository's tree: {0}")]
    Tree(MstError),
}

/// Every record of a repository, in key order, each decoded as `R` (the
/// record dispatch of generated bindings, one record type, or
/// [`Unknown`](atlex_core::data::Unknown)). Records are read leniently, as
/// firehose ops are (see [`atlex_core::cbor`]).
pub struct RepoRecords<'a, R> {
    tree: Mst<&'a MemoryBlockStore>,
    store: &'a MemoryBlockStore,
    batch: VecDeque<Leaf>,
    /// The last key read, where the next batch starts after.
    last: Option<String>,
    done: bool,
    /// What stopped the walk, yielded once the batch before it is.
    failed: Option<MstError>,
    record: PhantomData<fn() -> R>,
}

impl<'a, R: DeserializeOwned> RepoRecords<'a, R> {
    /// The records of `repo`; an error when the tree's root does not read.
    pub fn new(repo: &'a RepoCar) -> Result<Self, MstError> {
        Ok(Self {
            tree: repo.tree()?,
            store: &repo.store,
            batch: VecDeque::new(),
            last: None,
            done: false,
            failed: None,
            record: PhantomData,
        })
    }

    /// Reads the next keys of the tree into the batch; at the end of the
    /// tree, or at a node that does not read, the walk is done.
    fn refill(&mut self) {
        let start = match &self.last {
            Some(last) => Bound::Excluded(last.as_str()),
            None => Bound::Unbounded,
        };
        for leaf in self
            .tree
            .range::<str>((start, Bound::Unbounded))
            .take(BATCH)
        {
            match leaf {
                Ok(leaf) => self.batch.push_back(leaf),
                Err(err) => {
                    self.failed = Some(err);
                    self.done = true;
                    return;
                }
            }
        }
        match self.batch.back() {
            Some(leaf) => self.last = Some(leaf.key.to_string()),
            None => self.done = true,
        }
    }

    fn decode(&self, leaf: Leaf) -> Result<RepoRecord<R>, RecordError> {
        let path = &*leaf.key;
        let bad_path = |reason: String| RecordError::Path {
            path: path.to_owned(),
            reason,
        };
        let (collection, rkey) = path
            .split_once('/')
            .ok_or_else(|| bad_path("no `/` between collection and record key".to_owned()))?;
        let collection = Nsid::new(collection).map_err(|err| bad_path(err.to_string()))?;
        let rkey = RecordKey::new(rkey).map_err(|err| bad_path(err.to_string()))?;
        let block = self
            .store
            .get(&leaf.value)
            .map_err(|err| RecordError::Tree(MstError::Store(err)))?
            .ok_or_else(|| RecordError::Missing {
                path: path.to_owned(),
                cid: Box::new(leaf.value.clone()),
            })?;
        let record =
            atlex_core::cbor::from_slice_lenient(&block).map_err(|error| RecordError::Decode {
                path: path.to_owned(),
                cid: Box::new(leaf.value.clone()),
                error,
            })?;
        Ok(RepoRecord {
            collection,
            rkey,
            cid: leaf.value,
            record,
        })
    }
}

impl<R: DeserializeOwned> Iterator for RepoRecords<'_, R> {
    type Item = Result<RepoRecord<R>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.batch.is_empty() && !self.done {
            self.refill();
        }
        match self.batch.pop_front() {
            Some(leaf) => Some(self.decode(leaf)),
            None => self.failed.take().map(|err| Err(RecordError::Tree(err))),
        }
    }
}

impl<R> std::fmt::Debug for RepoRecords<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoRecords")
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}
