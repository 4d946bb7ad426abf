//! The Merkle Search Tree at repository scale: a tree of 100,000 records
//! built by single inserts, a repository of as many built through `Repo`
//! writes (signed commits with their event data), and a repository CAR of
//! it read and walked, or streamed into a block store.
//!
//!     cargo bench -p atlex-repo --features mst,crypto --bench mst
//!
//! The allocation counts and bytes divan reports come from its allocation
//! profiler, installed below.

use std::sync::LazyLock;

use atlex_core::types::{Cid, Did, Tid};
use atlex_identity::crypto::{Curve, SigningKey};
use atlex_repo::commit::UnsignedCommit;
use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst};
use atlex_repo::repo::{Repo, Write};
use atlex_repo::repo_car::{import_repo_car, read_repo_car, write_repo_car};
use divan::counter::{BytesCount, ItemsCount};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// Records of four collections, keyed by TIDs a second apart, each with the
/// CID of a small record.
fn records(n: usize) -> Vec<(String, Cid)> {
    const COLLECTIONS: [&str; 4] = [
        "app.bsky.feed.post",
        "app.bsky.feed.like",
        "app.bsky.graph.follow",
        "com.example.note",
    ];
    (0..n as u64)
        .map(|i| {
            let tid = Tid::from_parts(1_700_000_000_000_000 + i * 1_000_003, (i % 1024) as u16)
                .expect("a timestamp in range");
            let key = format!("{}/{tid}", COLLECTIONS[i as usize % 4]);
            let cid = atlex_core::cbor::cid_of(&format!("record {i}")).expect("a string encodes");
            (key, cid)
        })
        .collect()
}

/// Builds the tree by one insert per record, each giving a new tree (the
/// previous one dropped), and computes the root.
#[divan::bench(args = [10_000, 100_000], sample_count = 3)]
fn build_by_single_inserts(bencher: divan::Bencher, n: usize) {
    let records = records(n);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(MemoryBlockStore::new)
        .bench_local_refs(|store| {
            let mut tree = Mst::new(&*store);
            for (key, cid) in &records {
                tree = tree.insert(key, cid.clone()).expect("a new key");
            }
            tree.write().expect("the store takes the nodes")
        });
}

/// Builds a repository of 100,000 records through `Repo`, `batch` creates
/// a commit: each commit signed, stored, and its event data made (ops,
/// new blocks, the proofs of its ops).
#[divan::bench(args = [1, 100], sample_count = 1)]
fn build_by_repo_writes(bencher: divan::Bencher, batch: usize) {
    const N: usize = 100_000;
    let writes: Vec<Write> = records(N)
        .into_iter()
        .enumerate()
        .map(|(i, (path, _))| {
            let (collection, rkey) = path.split_once('/').expect("a path");
            let record = serde_json::json!({"$type": collection, "text": format!("record {i}")});
            let record = atlex_core::data::Value::from_json(record).expect("a data model value");
            Write::create_data(collection, Some(rkey), &record).expect("a valid record")
        })
        .collect();
    bencher
        .counter(ItemsCount::new(N))
        .with_inputs(MemoryBlockStore::new)
        .bench_local_refs(|store| {
            let (mut repo, _) =
                Repo::create_empty(&*store, did(), signing_key()).expect("an empty repository");
            for chunk in writes.chunks(batch) {
                repo.apply_writes(chunk).expect("new records");
            }
            repo.commit_cid().clone()
        });
}

fn signing_key() -> SigningKey {
    SigningKey::from_hex(
        Curve::K256,
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
    )
    .expect("a valid key")
}

fn did() -> Did {
    Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz").expect("a valid DID")
}

/// A repository CAR of 100,000 records: the commit, the nodes, the records.
static CAR: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let store = MemoryBlockStore::new();
    let mut tree = Mst::new(&store);
    for (i, (key, cid)) in records(100_000).into_iter().enumerate() {
        let record = atlex_core::cbor::to_vec(&format!("record {i}")).expect("a string encodes");
        store
            .put(&cid, record.into())
            .expect("the CID is the record's");
        tree = tree.insert(&key, cid).expect("a new key");
    }
    let data = tree.write().expect("the store takes the nodes");
    let rev = Tid::from_parts(1_800_000_000_000_000, 0).expect("a timestamp in range");
    let commit = UnsignedCommit::new(did(), data, rev).sign(&signing_key());
    store
        .put(&commit.cid(), commit.to_bytes().into())
        .expect("the CID is the commit's");
    write_repo_car(&store, &commit.cid(), Vec::new()).expect("every block is there")
});

/// Reads the CAR (every block verified against its CID), loads the tree
/// from its commit and walks every key in order.
#[divan::bench(sample_count = 5)]
fn load_and_walk_car(bencher: divan::Bencher) {
    let car = &*CAR;
    bencher.counter(ItemsCount::new(100_000usize)).bench(|| {
        let repo = read_repo_car(car).expect("the CAR reads");
        let tree = repo.tree().expect("the root reads");
        tree.check_all().expect("the tree reads whole")
    });
}

/// Streams the CAR into an empty block store, a block at a time (every
/// block verified against its CID), and opens the repository.
#[divan::bench(sample_count = 5)]
fn import_car_streaming(bencher: divan::Bencher) {
    let car = &*CAR;
    bencher
        .counter(BytesCount::new(car.len()))
        .with_inputs(MemoryBlockStore::new)
        .bench_local_refs(|store| {
            let imported =
                import_repo_car(std::io::BufReader::new(&car[..]), &*store).expect("the CAR reads");
            let repo = Repo::open(&*store, &imported.commit_cid).expect("the commit reads");
            repo.rev().clone()
        });
}
