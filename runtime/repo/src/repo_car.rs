//! Whole repositories as CAR files (`com.atproto.sync.getRepo`): read in
//! memory ([`read_repo_car`]), streamed into a block store
//! ([`import_repo_car`]), written ([`write_repo_car`]).

use std::collections::HashSet;
use std::io::{Read, Write};

use crate::car::{Car, CarError, CarStream, CarWriter};
use atlex_core::types::Cid;
use bytes::Bytes;

use crate::commit::{Commit, CommitError};
use crate::mst::{BlockStore, MemoryBlockStore, Mst, MstError, StoreError, Walked};

/// A repository read from a CAR: its blocks and its commit. The tree is
/// read from the blocks as it is walked ([`RepoCar::tree`]).
///
/// ```
/// use atlex_identity::crypto::{Curve, SigningKey};
/// use atlex_core::types::{Did, Tid};
/// use atlex_repo::commit::UnsignedCommit;
/// use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst};
/// use atlex_repo::repo_car::{read_repo_car, write_repo_car};
///
/// let store = MemoryBlockStore::new();
/// let record = atlex_core::cbor::to_vec(&"a record")?;
/// let record_cid = atlex_core::types::Cid::of_dag_cbor(&record);
/// store.put(&record_cid, record.into())?;
/// let tree = Mst::new(&store).insert("com.example.note/3jzfcijpj2z2a", record_cid.clone())?;
///
/// let key = SigningKey::generate(Curve::K256)?;
/// let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
/// let commit = UnsignedCommit::new(did, tree.write()?, Tid::next()?).sign(&key);
/// let commit_cid = commit.cid();
/// store.put(&commit_cid, commit.to_bytes().into())?;
///
/// let car = write_repo_car(&store, &commit_cid, Vec::new())?;
/// let repo = read_repo_car(&car)?;
/// assert_eq!(repo.commit, commit);
/// let leaves: Vec<_> = repo.tree()?.iter().collect::<Result<_, _>>()?;
/// assert_eq!(leaves[0].value, record_cid);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RepoCar {
    /// Every block of the CAR.
    pub store: MemoryBlockStore,
    /// The commit's CID: the CAR's first root.
    pub commit_cid: Cid,
    /// The commit.
    pub commit: Commit,
}

impl RepoCar {
    /// The repository's tree, over the CAR's blocks.
    pub fn tree(&self) -> Result<Mst<&MemoryBlockStore>, MstError> {
        Mst::load(&self.store, &self.commit.data)
    }

    /// The repository, over the CAR's blocks: its records typed with
    /// [`Repo::get`](crate::Repo::get), [`Repo::records`](crate::Repo::records)
    /// and [`Repo::list`](crate::Repo::list).
    pub fn repo(&self) -> Result<crate::Repo<&MemoryBlockStore>, crate::repo::RepoError> {
        crate::Repo::open(&self.store, &self.commit_cid)
    }
}

/// Why a repository CAR could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoCarError {
    /// The CAR does not read (a block not matching its CID, a length past
    /// the end or over the bounds, …).
    #[error(transparent)]
    Car(#[from] CarError),
    /// The CAR names no root.
    #[error("the CAR names no root")]
    NoRoot,
    /// A block the repository needs is missing.
    #[error("the {what} block {cid} is missing")]
    MissingBlock {
        /// `commit` or `record`.
        what: &'static str,
        /// Its CID.
        cid: Box<Cid>,
    },
    /// The commit block is not a commit.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// The tree is not a valid MST, or a node is missing.
    #[error(transparent)]
    Tree(#[from] MstError),
    /// The block store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a repository CAR held in memory: every block verified against its
/// CID, the commit (the first root) decoded. The tree's nodes are checked
/// as they are read; [`Mst::check_all`] reads them all.
pub fn read_repo_car(bytes: &[u8]) -> Result<RepoCar, RepoCarError> {
    // One copy of the whole CAR, which the store's blocks then share,
    // rather than an allocation and a copy per block. The CAR's blocks
    // borrow from `shared`, so `slice_ref` finds each inside it.
    let shared = Bytes::copy_from_slice(bytes);
    let car = Car::from_slice(&shared)?;
    let commit_cid = car.roots().first().cloned().ok_or(RepoCarError::NoRoot)?;
    let block = car
        .blocks
        .get(&commit_cid)
        .ok_or_else(|| RepoCarError::MissingBlock {
            what: "commit",
            cid: Box::new(commit_cid.clone()),
        })?;
    let commit = Commit::from_bytes(block)?;
    Ok(RepoCar {
        store: MemoryBlockStore::from_verified(
            car.blocks
                .raw()
                .map(|(cid, data)| (*cid, shared.slice_ref(data))),
        ),
        commit_cid,
        commit,
    })
}

/// What [`import_repo_car`] loaded: the commit's CID and the commit, and
/// how much it read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedRepo {
    /// The commit's CID: the CAR's first root.
    pub commit_cid: Cid,
    /// The commit.
    pub commit: Commit,
    /// How many blocks the CAR held.
    pub blocks: u64,
}

/// Loads a repository CAR (`com.atproto.sync.getRepo`) from a reader into
/// `store`, a block at a time: each block is verified against its CID and
/// put in the store, so memory holds one block (at most
/// [`DEFAULT_MAX_BLOCK`](crate::car::DEFAULT_MAX_BLOCK) bytes), not the file.
/// Give it a buffered reader.
///
/// A CAR that breaks off, claims a block larger than the bound or holds a
/// block that does not match its CID is an error; the blocks read before it
/// stay in the store. The commit (the first root) must be among the blocks;
/// open the repository with [`Repo::open`](crate::repo::Repo::open) on it,
/// and [`Mst::check_all`] reads every node.
///
/// ```
/// use atlex_repo::mst::MemoryBlockStore;
/// use atlex_repo::repo::Repo;
/// use atlex_repo::repo_car::import_repo_car;
/// # use atlex_identity::crypto::{Curve, SigningKey};
/// # let built = MemoryBlockStore::new();
/// # let did = atlex_core::types::Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
/// # let (repo, _) = Repo::create_empty(&built, did, SigningKey::generate(Curve::K256)?)?;
/// # let car: Vec<u8> = repo.write_car(Vec::new())?;
///
/// // `car` is a getRepo answer; a file or a response body reads the same.
/// let store = MemoryBlockStore::new();
/// let imported = import_repo_car(std::io::BufReader::new(&car[..]), &store)?;
/// let repo = Repo::open(&store, &imported.commit_cid)?;
/// assert_eq!(repo.records::<atlex_core::data::Unknown>().count(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn import_repo_car<R: Read, S: BlockStore>(
    reader: R,
    store: &S,
) -> Result<ImportedRepo, RepoCarError> {
    let mut stream = CarStream::new(reader)?;
    let commit_cid = stream
        .header()
        .roots
        .first()
        .cloned()
        .ok_or(RepoCarError::NoRoot)?;
    let mut blocks = 0;
    for block in &mut stream {
        let block = block?;
        store.put(&block.cid, block.data.into_owned().into())?;
        blocks += 1;
    }
    let bytes = store
        .get(&commit_cid)?
        .ok_or_else(|| RepoCarError::MissingBlock {
            what: "commit",
            cid: Box::new(commit_cid.clone()),
        })?;
    let commit = Commit::from_bytes(&bytes)?;
    Ok(ImportedRepo {
        commit_cid,
        commit,
        blocks,
    })
}

/// Writes the repository whose commit is `commit` as a CAR, in the order
/// that lets a reader walk it in one pass: the commit, then the tree's
/// nodes, each followed by its subtrees and records in key order. Every
/// record must be in the store.
pub fn write_repo_car<S: BlockStore, W: Write>(
    store: &S,
    commit: &Cid,
    writer: W,
) -> Result<W, RepoCarError> {
    let commit_bytes = store
        .get(commit)?
        .ok_or_else(|| RepoCarError::MissingBlock {
            what: "commit",
            cid: Box::new(commit.clone()),
        })?;
    let data = Commit::from_bytes(&commit_bytes)?.data;
    let mut car = CarWriter::with_roots(writer, std::slice::from_ref(commit))?;
    car.write_block(commit, &commit_bytes)?;
    let tree = Mst::load(store, &data)?;
    let mut records = HashSet::new();
    let mut failure = None;
    let walked = tree.walk_nodes(&mut |item| {
        let written = match item {
            Walked::Node(block) => car.write_block(&block.cid, &block.data),
            Walked::Leaf(cid) => {
                if !records.insert(cid.clone()) {
                    return Ok(());
                }
                let Some(bytes) = store.get(cid)? else {
                    failure = Some(RepoCarError::MissingBlock {
                        what: "record",
                        cid: Box::new(cid.clone()),
                    });
                    return Err(MstError::MissingBlock(Box::new(cid.clone())));
                };
                car.write_block(cid, &bytes)
            }
        };
        written.map_err(|err| {
            failure = Some(err.into());
            MstError::MissingBlock(Box::new(commit.clone()))
        })
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    walked?;
    Ok(car.finish()?)
}
