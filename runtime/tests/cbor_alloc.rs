//! Lengths never drive allocation: DAG-CBOR and CAR inputs whose length
//! prefixes claim gigabytes are refused without asking the allocator for
//! anything near that. A counting allocator records the largest request
//! and the most memory held at once while each input is decoded (one test
//! in this binary, so that no other test allocates meanwhile).
//!
//! The bound is serde's: a `Vec` of a generated type reserves at most 1 MiB
//! for the length an input claims, whatever it claims; `Value` reserves
//! less, so that arrays nested to the depth limit, each claiming 2^36
//! items, hold little at once.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use atlex::car::{Car, CarReader, CarStream};
use atlex::cbor;
use atlex::data::{Bytes, Unknown, Value};

#[allow(unused_macros)] // The endpoint macro: not needed here.
mod common;
use common::varint;

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::SeqCst);
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::SeqCst);
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        grew(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The largest allocation `f` asked for, and the most it held at once.
fn used(f: impl FnOnce()) -> (usize, usize) {
    LARGEST.store(0, Ordering::SeqCst);
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    f();
    (
        LARGEST.load(Ordering::SeqCst),
        PEAK.load(Ordering::SeqCst) - before,
    )
}

/// serde's cap on what a claimed length reserves.
const SERDE_CAP: usize = 1 << 20;

#[test]
fn claimed_lengths_are_not_allocated() {
    // A byte string, a text string, an array and a map claiming 2^36 units
    // with a 64-bit length, then 2^32 - 1 with a 32-bit one, each followed
    // by almost nothing; and the same inside a map, as a record field.
    let mut inputs = Vec::new();
    for first in [0x5b, 0x7b, 0x9b, 0xbb] {
        inputs.push(vec![first, 0, 0, 0, 0x10, 0, 0, 0, 0, 0x61, b'a', 0x01]);
        inputs.push(vec![first - 1, 0xff, 0xff, 0xff, 0xff, 0x61, b'a']);
        let mut field = vec![0xa1, 0x64, b't', b'e', b'x', b't'];
        field.extend([first, 0, 0, 0, 0x10, 0, 0, 0, 0, 0x00]);
        inputs.push(field);
    }
    for input in &inputs {
        let (largest, peak) = used(|| {
            assert!(cbor::from_slice::<Value>(input).is_err());
            assert!(cbor::from_slice_lenient::<Value>(input).is_err());
            assert!(cbor::from_slice::<Unknown>(input).is_err());
            assert!(cbor::from_slice::<Bytes>(input).is_err());
            assert!(cbor::from_slice::<String>(input).is_err());
            assert!(cbor::from_slice::<Vec<Value>>(input).is_err());
            assert!(cbor::from_slice::<BTreeMap<String, String>>(input).is_err());
            assert!(cbor::from_slice_lenient::<BTreeMap<String, Vec<u8>>>(input).is_err());
            assert!(cbor::from_slice_prefix::<Value>(input).is_err());
        });
        assert!(
            largest <= SERDE_CAP && peak <= 2 * SERDE_CAP,
            "{input:02x?}: an allocation of {largest} bytes, {peak} held"
        );
    }

    // Arrays nested 300 deep (past the depth limit), each claiming 2^36
    // items: 2.7 KB, which may hold a small reservation per level (the
    // lenient reader's, `cbor4ii`'s, is 256 items), never a large one.
    let mut nested = Vec::new();
    for _ in 0..300 {
        nested.extend([0x9b, 0, 0, 0, 0x10, 0, 0, 0, 0]);
    }
    let (largest, peak) = used(|| {
        assert!(cbor::from_slice::<Value>(&nested).is_err());
        assert!(cbor::from_slice_lenient::<Value>(&nested).is_err());
        assert!(cbor::from_slice::<Unknown>(&nested).is_err());
    });
    assert!(
        largest < 64 * 1024 && peak < 2 * SERDE_CAP,
        "nested: an allocation of {largest} bytes, {peak} held"
    );

    // CAR files: a header, then a block, claiming 2^40 bytes.
    let header =
        cbor::to_vec(&Value::from_json(serde_json::json!({ "version": 1, "roots": [] })).unwrap())
            .unwrap();
    let mut lying_header = varint(1 << 40);
    lying_header.extend(&header);
    let mut lying_block = varint(header.len() as u64);
    lying_block.extend(&header);
    lying_block.extend(varint(1 << 40));
    lying_block.extend([0x01, 0x71, 0x12, 0x20]);
    for input in [&lying_header, &lying_block] {
        let (largest, peak) = used(|| {
            assert!(Car::from_slice(input).is_err());
            assert!(Car::from_reader(&input[..]).is_err());
            if let Ok(reader) = CarReader::new(input) {
                assert!(reader.into_iter().any(|block| block.is_err()));
            }
            if let Ok(stream) = CarStream::new(&input[..]) {
                assert!(stream.into_iter().any(|block| block.is_err()));
            }
        });
        assert!(
            largest < 64 * 1024 && peak < SERDE_CAP,
            "{input:02x?}: an allocation of {largest} bytes, {peak} held"
        );
    }
}
