//! The heap it takes to build a repository of 100,000 records (the records
//! `repo_compare::values` makes), and how fast:
//!
//! - `inserts`: `Mst::insert` once per record, each insert giving a new tree
//!   (the previous one dropped), then `Mst::write` of the nodes into a
//!   `MemoryBlockStore`. The tree maps paths to the records' CIDs; the
//!   record blocks themselves are not stored.
//! - `repo`: `Repo::create_empty`, then `Repo::apply_writes` of one create
//!   per commit, each commit signed (secp256k1) and its event data made
//!   (ops, new blocks, proofs). The store keeps every record, every node of
//!   every version of the tree, and every commit (writes remove nothing).
//!
//! A counting global allocator gives the heap's peak during each build and
//! what is still held after it, both above what the process held before
//! (the prepared records).
//!
//!     cargo bench --manifest-path benches/repo-compare/Cargo.toml --bench build_memory [-- inserts|repo]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use atlex_core::types::{Cid, Did};
use atlex_repo::mst::{MemoryBlockStore, Mst};
use atlex_repo::repo::{Repo, Write};
use repo_compare::{DID, RECORDS, signing_key, values};

/// The system allocator, counting the bytes held and their peak.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; the counters
// only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
            let held = HELD.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: f64 = (1 << 20) as f64;

/// Runs `build`, printing its time, records/s, the heap's peak above what
/// was held before, and what the result holds.
fn measure<T>(name: &str, build: impl FnOnce() -> T) {
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    let built = build();
    let elapsed = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let kept = HELD.load(Ordering::Relaxed).saturating_sub(before);
    drop(built);
    println!(
        "{name:<8} {RECORDS} records in {elapsed:.2} s ({:.0} records/s), heap peak {:.1} MiB, held after {:.1} MiB",
        RECORDS as f64 / elapsed,
        peak as f64 / MIB,
        kept as f64 / MIB,
    );
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let wants = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    let values = values(RECORDS);
    if wants("inserts") {
        let keys: Vec<(String, Cid)> = values
            .iter()
            .map(|(path, value)| {
                let cid = atlex_core::cbor::cid_of(value).expect("a value encodes");
                (path.clone(), cid)
            })
            .collect();
        measure("inserts", || {
            let store = MemoryBlockStore::new();
            let mut tree = Mst::new(&store);
            for (key, cid) in &keys {
                tree = tree.insert(key, cid.clone()).expect("a new key");
            }
            tree.write().expect("the store takes the nodes");
            drop(tree);
            store
        });
    }
    if wants("repo") {
        let writes: Vec<Write> = values
            .iter()
            .map(|(path, value)| {
                let (collection, rkey) = path.split_once('/').expect("a path");
                Write::create_data(collection, Some(rkey), value).expect("a valid record")
            })
            .collect();
        drop(values);
        measure("repo", || {
            let store = MemoryBlockStore::new();
            let did = Did::new(DID).expect("a valid DID");
            let (mut repo, _) =
                Repo::create_empty(&store, did, signing_key()).expect("an empty repository");
            for write in &writes {
                repo.apply_writes(std::slice::from_ref(write))
                    .expect("a new record");
            }
            drop(repo);
            store
        });
    }
}
