//! Where the blocks of trees, records and commits live.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::car::Car;
use atlex_core::types::Cid;
use bytes::Bytes;

/// Blocks by CID: what a tree reads its nodes from and writes new nodes to.
///
/// A store's methods take `&self` (a store shared by trees, threads or
/// connections keeps its own locking), and `&S` and `Arc<S>` are stores
/// too.
///
/// A store of your own puts the blocks where the rest of your data is. It
/// keeps bytes by CID and nothing else: the trees check the nodes they read,
/// and [`crate::repo::Repo`] and the CAR readers check every block's CID
/// before they put it. A key-value database is enough; here a map stands
/// for it, and the store counts its reads:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// use atlex_core::types::Cid;
/// use atlex_repo::mst::{BlockStore, Mst, StoreError};
/// use bytes::Bytes;
///
/// #[derive(Default)]
/// struct KvStore {
///     /// The database: binary CIDs to bytes.
///     table: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
///     reads: AtomicUsize,
/// }
///
/// impl BlockStore for KvStore {
///     fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
///         self.reads.fetch_add(1, Ordering::Relaxed);
///         let table = self.table.lock().map_err(|_| StoreError::new("poisoned"))?;
///         Ok(table.get(&cid.to_bytes()).map(|bytes| Bytes::copy_from_slice(bytes)))
///     }
///
///     fn put(&self, cid: &Cid, bytes: Bytes) -> Result<(), StoreError> {
///         let mut table = self.table.lock().map_err(|_| StoreError::new("poisoned"))?;
///         table.insert(cid.to_bytes(), bytes.to_vec());
///         Ok(())
///     }
/// }
///
/// let store = KvStore::default();
/// let record = atlex_core::cbor::cid_of(&"a record")?;
/// let root = Mst::new(&store).insert("com.example.note/3jzfcijpj2z2a", record.clone())?.write()?;
/// let tree = Mst::load(&store, &root)?;
/// assert_eq!(tree.get("com.example.note/3jzfcijpj2z2a")?, Some(record));
/// assert_eq!(store.reads.load(Ordering::Relaxed), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A SQLite store is a table `blocks (cid BLOB PRIMARY KEY, bytes BLOB)`:
/// `get` a `SELECT` by CID, `put` an `INSERT OR IGNORE` (a CID names one
/// content, so a block written twice is the same block). This crate does
/// not ship one. The writes of one commit are best made in one
/// transaction, which the store can open around a
/// [`Repo`](crate::repo::Repo) write and commit after it.
pub trait BlockStore {
    /// The bytes of block `cid`, or `None` if the store lacks it. The bytes
    /// must be those `cid` names.
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError>;

    /// Keeps block `cid`; its CID is what the caller computed from `bytes`.
    fn put(&self, cid: &Cid, bytes: Bytes) -> Result<(), StoreError>;

    /// Whether the store has block `cid`.
    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        self.get(cid).map(|found| found.is_some())
    }
}

/// A reference to a store, or a shared one, is a store.
macro_rules! forward {
    ($($store:ty),*) => {$(
        impl<T: BlockStore + ?Sized> BlockStore for $store {
            fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
                (**self).get(cid)
            }

            fn put(&self, cid: &Cid, bytes: Bytes) -> Result<(), StoreError> {
                (**self).put(cid, bytes)
            }

            fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
                (**self).has(cid)
            }
        }
    )*};
}

forward!(&T, Arc<T>);

/// A block store failed: its own error, boxed.
#[derive(Debug, thiserror::Error)]
#[error("block store: {0}")]
pub struct StoreError(pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps a store's error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// Blocks held in memory. [`put`](BlockStore::put) checks that the bytes
/// are what the CID names, so the store never holds a block under another
/// block's CID.
///
/// ```
/// use atlex_repo::mst::{BlockStore, MemoryBlockStore};
///
/// let store = MemoryBlockStore::new();
/// let bytes = atlex_core::cbor::to_vec(&"a record")?;
/// let cid = atlex_core::types::Cid::of_dag_cbor(&bytes);
/// store.put(&cid, bytes.into())?;
/// assert!(store.has(&cid)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryBlockStore {
    blocks: RwLock<BlockMap>,
}

/// The store's map, as the CAR block index: keyed by the `cid` crate's CID,
/// held unboxed (a lookup compares keys in the table, not behind a pointer
/// each), with a fast hasher (CIDs are SHA-256 digests; SipHash cost about
/// as much as the rest of a lookup).
type BlockMap = HashMap<cid::Cid, Bytes, foldhash::fast::RandomState>;

impl MemoryBlockStore {
    /// No blocks.
    pub fn new() -> Self {
        Self::default()
    }

    /// The blocks of a CAR (which verified each against its CID when it
    /// read them).
    pub fn from_car(car: &Car<'_>) -> Self {
        Self::from_verified(
            car.blocks
                .raw()
                .map(|(cid, data)| (*cid, Bytes::copy_from_slice(data))),
        )
    }

    /// Blocks already verified against their CIDs.
    pub(crate) fn from_verified(blocks: impl Iterator<Item = (cid::Cid, Bytes)>) -> Self {
        Self {
            blocks: RwLock::new(blocks.collect()),
        }
    }

    /// How many blocks the store holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Every block, in no particular order.
    pub fn blocks(&self) -> Vec<(Cid, Bytes)> {
        self.read()
            .iter()
            .map(|(cid, bytes)| ((*cid).into(), bytes.clone()))
            .collect()
    }

    // A panic while the lock was held cannot leave the map half-changed
    // (every change is one `insert`), so a poisoned lock is used as is.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BlockMap> {
        self.blocks.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BlockStore for MemoryBlockStore {
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
        Ok(self.read().get(cid.as_cid()).cloned())
    }

    fn put(&self, cid: &Cid, bytes: Bytes) -> Result<(), StoreError> {
        atlex_core::cbor::verify(cid, &bytes).map_err(StoreError::new)?;
        self.blocks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(*cid.as_cid(), bytes);
        Ok(())
    }

    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.read().contains_key(cid.as_cid()))
    }
}
