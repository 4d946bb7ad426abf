//! A repository over a block store: its head commit, its tree, and its
//! records, typed (feature `mst`; writing, which signs commits, needs
//! feature `crypto`).
//!
//! [`Repo::open`] reads a repository from its commit; [`Repo::create_empty`]
//! starts one for an account. Reads decode records into generated types
//! ([`Repo::get`]), or walk every record into the record dispatch of
//! generated bindings ([`Repo::records`]), one result per record. Writes
//! ([`Repo::create`], [`Repo::put`], [`Repo::delete`],
//! [`Repo::apply_writes`]) make one signed commit each and return what a
//! `com.atproto.sync.subscribeRepos#commit` event carries: [`CommitData`].
//!
//! ```
//! use atlex_core::types::Did;
//! use atlex_identity::crypto::{Curve, SigningKey};
//! use atlex_repo::mst::MemoryBlockStore;
//! use atlex_repo::repo::Repo;
//! use atlex_repo::sync::CommitCheck;
//! # #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! # struct Note { text: String }
//! # impl atlex_core::data::LexType for Note { const TYPE: &'static str = "com.example.note"; }
//! # impl atlex_core::data::Record for Note {
//! #     const NSID: &'static str = "com.example.note";
//! #     const KEY: atlex_core::data::RecordKeyKind = atlex_core::data::RecordKeyKind::Tid;
//! # }
//!
//! let store = MemoryBlockStore::new();
//! let key = SigningKey::generate(Curve::K256)?;
//! let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
//! let (mut repo, _) = Repo::create_empty(&store, did.clone(), key.clone())?;
//!
//! let written = repo.create(&Note { text: "hi".into() })?;
//! let (_, rkey) = written.ops[0].path().split_once('/').ok_or("a record path")?;
//! assert_eq!(repo.get::<Note>(rkey)?, Some(Note { text: "hi".into() }));
//!
//! // What the firehose event carries checks as a consumer checks it.
//! let car = written.to_car()?;
//! let prev_data = written.prev_data.clone().ok_or("not the first commit")?;
//! CommitCheck::new(&did, &written.cid, &car, &written.ops)
//!     .prev_data(&prev_data)
//!     .signed_by(&key.public_key())
//!     .run()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A write stores the new records, tree nodes and commit; it removes
//! nothing, so the blocks of replaced records and nodes stay in the store
//! (the store's owner may collect what the head commit no longer reaches).

use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use atlex_core::cbor::{self, DecodeError, EncodeError};
use atlex_core::data::{Record, RecordKeyKind};
use atlex_core::types::{Cid, Did, FormatError, Nsid, RecordKey, Tid};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::car::{Block, CarError, CarWriter};
use crate::commit::{Commit, CommitError};
use crate::mst::{BlockStore, Iter, Leaf, Mst, MstError, Op, StoreError};
use crate::repo_car::{RepoCarError, write_repo_car};

/// A repository: a head commit and the tree it names, over a block store.
///
/// Reads need any [`BlockStore`]; writes make new trees that share the
/// store, so the store must be cheap to clone: `&MemoryBlockStore`, an
/// `Arc`, or a handle to a database.
pub struct Repo<S> {
    tree: Mst<S>,
    commit: Commit,
    cid: Cid,
    #[cfg(feature = "crypto")]
    key: Option<atlex_identity::crypto::SigningKey>,
}

/// Why a repository could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The block store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The commit block is missing from the store.
    #[error("the commit block {0} is not in the block store")]
    MissingCommit(Box<Cid>),
    /// The commit block is not a commit, or a new revision could not be
    /// made.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// The tree could not be read or changed (a missing or malformed node,
    /// a create of a record that exists, an update or delete of one that
    /// does not).
    #[error(transparent)]
    Tree(#[from] MstError),
    /// A record the tree names is not in the store.
    #[error("record {path}: block {cid} is not in the block store")]
    MissingRecord {
        /// The record's path.
        path: String,
        /// Its CID.
        cid: Box<Cid>,
    },
    /// A record's block does not decode as the type asked for.
    #[error("record {path} ({cid}): {error}")]
    Decode {
        /// The record's path.
        path: String,
        /// Its CID.
        cid: Box<Cid>,
        /// Why.
        error: DecodeError,
    },
    /// A record to write does not encode (it holds a value outside the
    /// data model).
    #[error("record to write: {0}")]
    Encode(#[from] EncodeError),
    /// A collection or record key to write is not valid.
    #[error("{what} {value:?}: {error}")]
    Name {
        /// `collection` or `record key`.
        what: &'static str,
        /// The text given.
        value: String,
        /// Why.
        error: FormatError,
    },
    /// A record key the collection's lexicon does not allow, or a create
    /// that needs a key given (a collection keyed by NSIDs).
    #[error("record key {rkey:?} is not allowed in {collection}")]
    KeyNotAllowed {
        /// The collection.
        collection: String,
        /// The key, empty when none was given.
        rkey: String,
    },
    /// A record to write whose `$type` is not its collection.
    #[error("a record of type {found:?} written to collection {collection}")]
    TypeNotCollection {
        /// The collection.
        collection: String,
        /// The record's `$type`, if it has one.
        found: Option<String>,
    },
    /// Two writes of one commit on the same record.
    #[error("two writes on {0} in one commit")]
    DuplicatePath(String),
    /// A commit's revision not after the head's.
    #[error("revision {rev} is not after the head's, {last}")]
    RevNotAfter {
        /// The revision asked for.
        rev: Tid,
        /// The head commit's.
        last: Tid,
    },
    /// A write to a repository opened without its signing key.
    #[error("the repository has no signing key: give one with `with_signing_key`")]
    NoSigningKey,
    /// The repository could not be written as a CAR.
    #[error(transparent)]
    Car(#[from] RepoCarError),
}

impl<S: BlockStore> Repo<S> {
    /// The repository whose head is the commit `commit` in `store`: the
    /// commit is read and checked, and the tree's root node read.
    pub fn open(store: S, commit: &Cid) -> Result<Self, RepoError> {
        let bytes = store
            .get(commit)?
            .ok_or_else(|| RepoError::MissingCommit(Box::new(commit.clone())))?;
        let head = Commit::from_bytes(&bytes)?;
        let tree = Mst::load(store, &head.data)?;
        Ok(Self {
            tree,
            commit: head,
            cid: commit.clone(),
            #[cfg(feature = "crypto")]
            key: None,
        })
    }

    /// The account the repository is of.
    pub fn did(&self) -> &Did {
        &self.commit.did
    }

    /// The head commit.
    pub fn commit(&self) -> &Commit {
        &self.commit
    }

    /// The head commit's CID.
    pub fn commit_cid(&self) -> &Cid {
        &self.cid
    }

    /// The head commit's revision.
    pub fn rev(&self) -> &Tid {
        &self.commit.rev
    }

    /// The tree of the head commit.
    pub fn tree(&self) -> &Mst<S> {
        &self.tree
    }

    /// The block store.
    pub fn store(&self) -> &S {
        self.tree.store()
    }

    /// The record `rkey` of `T`'s collection, decoded (leniently: see
    /// [`cbor::record_from_slice_lenient`]); its `$type` must be `T`'s.
    pub fn get<T: Record + DeserializeOwned>(&self, rkey: &str) -> Result<Option<T>, RepoError> {
        let path = format!("{}/{rkey}", T::NSID);
        let Some((cid, bytes)) = self.get_path(&path)? else {
            return Ok(None);
        };
        cbor::record_from_slice_lenient(&bytes)
            .map(Some)
            .map_err(|error| RepoError::Decode {
                path,
                cid: Box::new(cid),
                error,
            })
    }

    /// The CID and block of record `collection/rkey`, as stored.
    pub fn get_raw(&self, collection: &str, rkey: &str) -> Result<Option<(Cid, Bytes)>, RepoError> {
        self.get_path(&format!("{collection}/{rkey}"))
    }

    fn get_path(&self, path: &str) -> Result<Option<(Cid, Bytes)>, RepoError> {
        let Some(cid) = self.tree.get(path)? else {
            return Ok(None);
        };
        let bytes = self.record_block(path, &cid)?;
        Ok(Some((cid, bytes)))
    }

    fn record_block(&self, path: &str, cid: &Cid) -> Result<Bytes, RepoError> {
        self.store()
            .get(cid)?
            .ok_or_else(|| RepoError::MissingRecord {
                path: path.to_owned(),
                cid: Box::new(cid.clone()),
            })
    }

    /// Every record, in path order, each decoded as `R` (leniently): the
    /// record dispatch of generated bindings, [`atlex_core::data::Unknown`]
    /// to keep every record as data, or one record type. A record that is
    /// missing or does not decode is an error for that record only; the
    /// walk goes on. A tree node that cannot be read ends it, after its
    /// error.
    pub fn records<R: DeserializeOwned>(&self) -> Records<'_, S, R> {
        self.records_in(self.tree.iter())
    }

    /// The records of `collection` whose keys are in `rkeys` (`..` for all,
    /// `"3k".."3m"`, `start..`), in order, each decoded as `R` as
    /// [`records`](Repo::records) does.
    pub fn list<'k, R: DeserializeOwned>(
        &self,
        collection: &str,
        rkeys: impl RangeBounds<&'k str>,
    ) -> Records<'_, S, R> {
        let key = |rkey: &&str| format!("{collection}/{rkey}");
        let start = match rkeys.start_bound() {
            Bound::Included(rkey) => Bound::Included(key(rkey)),
            Bound::Excluded(rkey) => Bound::Excluded(key(rkey)),
            Bound::Unbounded => Bound::Included(format!("{collection}/")),
        };
        // `0` is the character after `/`: the first key past the collection.
        let end = match rkeys.end_bound() {
            Bound::Included(rkey) => Bound::Included(key(rkey)),
            Bound::Excluded(rkey) => Bound::Excluded(key(rkey)),
            Bound::Unbounded => Bound::Excluded(format!("{collection}0")),
        };
        self.records_in(self.tree.range((
            start.as_ref().map(String::as_str),
            end.as_ref().map(String::as_str),
        )))
    }

    fn records_in<'r, R>(&'r self, leaves: Iter<'r, S>) -> Records<'r, S, R> {
        Records {
            repo: self,
            leaves,
            record: PhantomData,
        }
    }

    /// Writes the repository as a CAR in the `getRepo` layout (see
    /// [`write_repo_car`]).
    pub fn write_car<W: std::io::Write>(&self, writer: W) -> Result<W, RepoError> {
        Ok(write_repo_car(self.store(), &self.cid, writer)?)
    }

    /// The proof of record `collection/rkey`, as
    /// `com.atproto.sync.getRecord` answers: a CAR of the head commit, the
    /// tree's nodes from the root down to where the record is (or would
    /// be), and the record if there is one. `atlex_repo::proof` (features
    /// `mst` and `crypto`) verifies it.
    pub fn record_proof(&self, collection: &str, rkey: &str) -> Result<Vec<u8>, RepoError> {
        let car = |err: CarError| RepoError::Car(err.into());
        let path = format!("{collection}/{rkey}");
        let mut writer =
            CarWriter::with_roots(Vec::new(), std::slice::from_ref(&self.cid)).map_err(car)?;
        writer
            .write_block(&self.cid, &self.commit.to_bytes())
            .map_err(car)?;
        for node in self.tree.proof(&path)? {
            writer.write_block(&node.cid, &node.data).map_err(car)?;
        }
        if let Some((cid, bytes)) = self.get_path(&path)? {
            writer.write_block(&cid, &bytes).map_err(car)?;
        }
        writer.finish().map_err(car)
    }
}

/// A record of a repository, as [`Repo::records`] and [`Repo::list`] yield
/// it.
#[derive(Clone, Debug, PartialEq)]
pub struct RepoRecord<R> {
    /// `<collection>/<rkey>`.
    pub path: Arc<str>,
    /// The record's CID.
    pub cid: Cid,
    /// The record.
    pub record: R,
}

impl<R> RepoRecord<R> {
    /// The record's collection.
    pub fn collection(&self) -> &str {
        self.path.split_once('/').map_or(&self.path, |(c, _)| c)
    }

    /// The record's key.
    pub fn rkey(&self) -> &str {
        self.path.split_once('/').map_or("", |(_, rkey)| rkey)
    }
}

/// The records of a repository, each decoded as `R`: what [`Repo::records`]
/// and [`Repo::list`] return.
pub struct Records<'r, S, R> {
    repo: &'r Repo<S>,
    leaves: Iter<'r, S>,
    record: PhantomData<fn() -> R>,
}

impl<S: BlockStore, R: DeserializeOwned> Records<'_, S, R> {
    fn read(&self, leaf: Leaf) -> Result<RepoRecord<R>, RepoError> {
        let bytes = self.repo.record_block(&leaf.key, &leaf.value)?;
        match cbor::from_slice_lenient(&bytes) {
            Ok(record) => Ok(RepoRecord {
                path: leaf.key,
                cid: leaf.value,
                record,
            }),
            Err(error) => Err(RepoError::Decode {
                path: leaf.key.to_string(),
                cid: Box::new(leaf.value),
                error,
            }),
        }
    }
}

impl<S: BlockStore, R: DeserializeOwned> Iterator for Records<'_, S, R> {
    type Item = Result<RepoRecord<R>, RepoError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.leaves.next()? {
            Ok(leaf) => self.read(leaf),
            Err(error) => Err(error.into()),
        })
    }
}

/// A record to write, encoded: its DAG-CBOR and CID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordBlock {
    cid: Cid,
    bytes: Bytes,
}

impl RecordBlock {
    /// A record of a generated type, encoded with its `$type`.
    pub fn new<T: Record + Serialize>(record: &T) -> Result<Self, RepoError> {
        Ok(Self::of_bytes(cbor::record_to_vec(record)?))
    }

    /// Any data as a record of `collection` (a [`atlex_core::data::Value`],
    /// a type of your own): it must encode to a map whose `$type` is the
    /// collection.
    pub fn from_data<T: Serialize + ?Sized>(collection: &str, data: &T) -> Result<Self, RepoError> {
        #[derive(serde::Deserialize)]
        struct Typed {
            #[serde(rename = "$type")]
            kind: Option<String>,
        }
        let bytes = cbor::to_vec(data)?;
        let found = cbor::from_slice::<Typed>(&bytes).ok().and_then(|t| t.kind);
        if found.as_deref() != Some(collection) {
            return Err(RepoError::TypeNotCollection {
                collection: collection.to_owned(),
                found,
            });
        }
        Ok(Self::of_bytes(bytes))
    }

    fn of_bytes(bytes: Vec<u8>) -> Self {
        Self {
            cid: Cid::of_dag_cbor(&bytes),
            bytes: bytes.into(),
        }
    }

    /// The record's CID.
    pub fn cid(&self) -> &Cid {
        &self.cid
    }

    /// The record's DAG-CBOR.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

/// One change of a commit made by [`Repo::apply_writes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// A new record; without a key, a TID made when the commit is.
    Create {
        /// The collection.
        collection: Nsid,
        /// The record key.
        rkey: Option<RecordKey>,
        /// The record.
        record: RecordBlock,
    },
    /// A new version of an existing record.
    Update {
        /// The collection.
        collection: Nsid,
        /// The record key.
        rkey: RecordKey,
        /// The record.
        record: RecordBlock,
    },
    /// The removal of an existing record.
    Delete {
        /// The collection.
        collection: Nsid,
        /// The record key.
        rkey: RecordKey,
    },
}

impl Write {
    /// A create of `record` in its collection, under a key its lexicon
    /// allows: a new TID, or the lexicon's literal key (`self`). A
    /// collection keyed by NSIDs needs [`Write::create_at`].
    pub fn create<T: Record + Serialize>(record: &T) -> Result<Self, RepoError> {
        let rkey = match T::KEY {
            RecordKeyKind::Tid | RecordKeyKind::Any => None,
            RecordKeyKind::Literal(key) => Some(RecordKey::new(key).map_err(rkey_error(key))?),
            RecordKeyKind::Nsid => {
                return Err(RepoError::KeyNotAllowed {
                    collection: T::NSID.to_owned(),
                    rkey: String::new(),
                });
            }
        };
        Ok(Self::Create {
            collection: collection::<T>()?,
            rkey,
            record: RecordBlock::new(record)?,
        })
    }

    /// A create of `record` under `rkey`, which its lexicon must allow.
    pub fn create_at<T: Record + Serialize>(rkey: &str, record: &T) -> Result<Self, RepoError> {
        Ok(Self::Create {
            collection: collection::<T>()?,
            rkey: Some(typed_rkey::<T>(rkey)?),
            record: RecordBlock::new(record)?,
        })
    }

    /// An update of record `rkey` of `T`'s collection.
    pub fn update<T: Record + Serialize>(rkey: &str, record: &T) -> Result<Self, RepoError> {
        Ok(Self::Update {
            collection: collection::<T>()?,
            rkey: typed_rkey::<T>(rkey)?,
            record: RecordBlock::new(record)?,
        })
    }

    /// A create of any data in `collection` (see [`RecordBlock::from_data`]),
    /// under `rkey` or a new TID.
    pub fn create_data<T: Serialize + ?Sized>(
        collection: &str,
        rkey: Option<&str>,
        data: &T,
    ) -> Result<Self, RepoError> {
        Ok(Self::Create {
            collection: nsid(collection)?,
            rkey: rkey
                .map(|rkey| RecordKey::new(rkey).map_err(rkey_error(rkey)))
                .transpose()?,
            record: RecordBlock::from_data(collection, data)?,
        })
    }

    /// An update of record `collection/rkey` to any data (see
    /// [`RecordBlock::from_data`]).
    pub fn update_data<T: Serialize + ?Sized>(
        collection: &str,
        rkey: &str,
        data: &T,
    ) -> Result<Self, RepoError> {
        Ok(Self::Update {
            collection: nsid(collection)?,
            rkey: RecordKey::new(rkey).map_err(rkey_error(rkey))?,
            record: RecordBlock::from_data(collection, data)?,
        })
    }

    /// A delete of record `collection/rkey`.
    pub fn delete(collection: &str, rkey: &str) -> Result<Self, RepoError> {
        Ok(Self::Delete {
            collection: nsid(collection)?,
            rkey: RecordKey::new(rkey).map_err(rkey_error(rkey))?,
        })
    }
}

fn nsid(collection: &str) -> Result<Nsid, RepoError> {
    Nsid::new(collection).map_err(|error| RepoError::Name {
        what: "collection",
        value: collection.to_owned(),
        error,
    })
}

fn collection<T: Record>() -> Result<Nsid, RepoError> {
    nsid(T::NSID)
}

fn rkey_error(rkey: &str) -> impl FnOnce(FormatError) -> RepoError + '_ {
    move |error| RepoError::Name {
        what: "record key",
        value: rkey.to_owned(),
        error,
    }
}

/// `rkey` checked as a record key and against what `T`'s lexicon allows.
fn typed_rkey<T: Record>(rkey: &str) -> Result<RecordKey, RepoError> {
    let key = RecordKey::new(rkey).map_err(rkey_error(rkey))?;
    if !T::KEY.allows(rkey) {
        return Err(RepoError::KeyNotAllowed {
            collection: T::NSID.to_owned(),
            rkey: rkey.to_owned(),
        });
    }
    Ok(key)
}

/// A commit made by a write, with what a `subscribeRepos#commit` event
/// carries of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitData {
    /// The signed commit.
    pub commit: Commit,
    /// Its CID.
    pub cid: Cid,
    /// Its revision.
    pub rev: Tid,
    /// The revision of the commit before (the event's `since`), `None` for
    /// a repository's first commit.
    pub since: Option<Tid>,
    /// The root of the tree before (the event's `prevData`), `None` for a
    /// repository's first commit.
    pub prev_data: Option<Cid>,
    /// The record ops, in the order of the writes, each update and delete
    /// with the CID it replaced.
    pub ops: Vec<Op>,
    /// The event's blocks: the commit, the new records, the tree nodes the
    /// commit made, and the nodes that prove each op (for the inversion of
    /// sync 1.1). The commit comes first.
    pub blocks: Vec<Block<'static>>,
}

impl CommitData {
    /// The event's `blocks`: a CAR whose root is the commit.
    pub fn to_car(&self) -> Result<Vec<u8>, CarError> {
        let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&self.cid))?;
        for block in &self.blocks {
            car.write_block(&block.cid, &block.data)?;
        }
        car.finish()
    }
}

#[cfg(feature = "crypto")]
mod write {
    use std::collections::HashSet;

    use super::*;
    use crate::commit::{UnsignedCommit, next_rev};
    use atlex_identity::crypto::SigningKey;

    impl<S: BlockStore> Repo<S> {
        /// The repository with the signing key its writes sign commits
        /// with (feature `crypto`).
        pub fn with_signing_key(mut self, key: SigningKey) -> Self {
            self.key = Some(key);
            self
        }
    }

    impl<S: BlockStore + Clone> Repo<S> {
        /// A new, empty repository of `did`, whose commits `key` signs
        /// (feature `crypto`): its first commit, of the empty tree, is
        /// stored and returned.
        pub fn create_empty(
            store: S,
            did: Did,
            key: SigningKey,
        ) -> Result<(Self, CommitData), RepoError> {
            Self::create_empty_at(store, did, key, next_rev(None)?)
        }

        /// [`Repo::create_empty`] with the first commit at revision `rev`.
        pub fn create_empty_at(
            store: S,
            did: Did,
            key: SigningKey,
            rev: Tid,
        ) -> Result<(Self, CommitData), RepoError> {
            let tree = Mst::new(store);
            let data = tree.write()?;
            let commit = UnsignedCommit::new(did, data, rev).sign(&key);
            let (cid, block) = store_commit(tree.store(), &commit)?;
            let blocks = vec![block];
            let repo = Self {
                tree,
                commit: commit.clone(),
                cid: cid.clone(),
                key: Some(key),
            };
            let data = CommitData {
                rev: commit.rev.clone(),
                commit,
                cid,
                since: None,
                prev_data: None,
                ops: Vec::new(),
                blocks,
            };
            Ok((repo, data))
        }

        /// Creates `record` in its collection under a new TID (or the
        /// lexicon's literal key), in one commit.
        pub fn create<T: Record + Serialize>(
            &mut self,
            record: &T,
        ) -> Result<CommitData, RepoError> {
            self.apply_writes(&[Write::create(record)?])
        }

        /// Writes `record` at `rkey` in its collection, in one commit: an
        /// update if the record exists, a create if not.
        pub fn put<T: Record + Serialize>(
            &mut self,
            rkey: &str,
            record: &T,
        ) -> Result<CommitData, RepoError> {
            let write = match self.tree.get(&format!("{}/{rkey}", T::NSID))? {
                Some(_) => Write::update(rkey, record)?,
                None => Write::create_at(rkey, record)?,
            };
            self.apply_writes(&[write])
        }

        /// Deletes record `collection/rkey`, in one commit.
        pub fn delete(&mut self, collection: &str, rkey: &str) -> Result<CommitData, RepoError> {
            self.apply_writes(&[Write::delete(collection, rkey)?])
        }

        /// Applies `writes` in order, as one commit at the next revision
        /// (see [`next_rev`]). If one fails, nothing is committed and the
        /// repository stays as it was.
        pub fn apply_writes(&mut self, writes: &[Write]) -> Result<CommitData, RepoError> {
            let rev = next_rev(Some(&self.commit.rev))?;
            self.apply_writes_at(writes, rev)
        }

        /// [`Repo::apply_writes`] at revision `rev`, which must be after the
        /// head's (a repository rebuilt from a log of writes keeps its
        /// revisions).
        pub fn apply_writes_at(
            &mut self,
            writes: &[Write],
            rev: Tid,
        ) -> Result<CommitData, RepoError> {
            let key = self.key.as_ref().ok_or(RepoError::NoSigningKey)?;
            if rev <= self.commit.rev {
                return Err(RepoError::RevNotAfter {
                    rev,
                    last: self.commit.rev.clone(),
                });
            }
            let mut tree = self.tree.clone();
            let mut ops = Vec::with_capacity(writes.len());
            let mut records = Vec::new();
            let mut paths = HashSet::with_capacity(writes.len());
            for write in writes {
                let (op, record) = match write {
                    Write::Create {
                        collection,
                        rkey,
                        record,
                    } => {
                        let rkey = match rkey {
                            Some(rkey) => rkey.clone(),
                            None => RecordKey::from(Tid::next().map_err(CommitError::Rev)?),
                        };
                        let path = format!("{collection}/{rkey}");
                        tree = tree.insert(&path, record.cid.clone())?;
                        let cid = record.cid.clone();
                        (Op::Create { path, cid }, Some(record))
                    }
                    Write::Update {
                        collection,
                        rkey,
                        record,
                    } => {
                        let path = format!("{collection}/{rkey}");
                        let prev = held(&tree, &path)?;
                        tree = tree.update(&path, record.cid.clone())?;
                        let cid = record.cid.clone();
                        (Op::Update { path, cid, prev }, Some(record))
                    }
                    Write::Delete { collection, rkey } => {
                        let path = format!("{collection}/{rkey}");
                        let prev = held(&tree, &path)?;
                        tree = tree.delete(&path)?;
                        (Op::Delete { path, prev }, None)
                    }
                };
                if !paths.insert(op.path().to_owned()) {
                    return Err(RepoError::DuplicatePath(op.path().to_owned()));
                }
                records.extend(record);
                ops.push(op);
            }

            // The event's blocks: the commit (first, once made), the
            // records, the nodes the commit made and the proofs of its ops.
            let mut blocks = Vec::new();
            let mut seen = HashSet::new();
            let mut add = |block: Block<'static>| {
                if seen.insert(block.cid.clone()) {
                    blocks.push(block);
                }
            };
            for record in &records {
                add(Block {
                    cid: record.cid.clone(),
                    data: record.bytes.to_vec().into(),
                });
            }
            for block in self.tree.diff(&tree)?.created_nodes {
                add(block);
            }
            for op in &ops {
                for block in tree.covering_proof(op.path())? {
                    add(block);
                }
            }

            let store = tree.store();
            for record in &records {
                store.put(&record.cid, record.bytes.clone())?;
            }
            let data = tree.write()?;
            let commit = UnsignedCommit::new(self.commit.did.clone(), data, rev).sign(key);
            let (cid, block) = store_commit(store, &commit)?;
            blocks.insert(0, block);

            let previous = std::mem::replace(&mut self.commit, commit.clone());
            self.tree = tree;
            self.cid = cid.clone();
            Ok(CommitData {
                rev: commit.rev.clone(),
                commit,
                cid,
                since: Some(previous.rev),
                prev_data: Some(previous.data),
                ops,
                blocks,
            })
        }
    }

    /// The value the tree holds at `path`; an error if none.
    fn held<S: BlockStore>(tree: &Mst<S>, path: &str) -> Result<Cid, RepoError> {
        tree.get(path)?
            .ok_or_else(|| MstError::KeyNotFound(path.to_owned()).into())
    }

    /// Puts the commit's block in the store: its CID and block.
    fn store_commit<S: BlockStore>(
        store: &S,
        commit: &Commit,
    ) -> Result<(Cid, Block<'static>), RepoError> {
        let bytes = commit.to_bytes();
        let cid = Cid::of_dag_cbor(&bytes);
        store.put(&cid, Bytes::copy_from_slice(&bytes))?;
        Ok((
            cid.clone(),
            Block {
                cid,
                data: bytes.into(),
            },
        ))
    }
}
