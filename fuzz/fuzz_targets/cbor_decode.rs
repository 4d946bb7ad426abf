//! DAG-CBOR decoding into `Value` / `Unknown` and into generated types, on
//! arbitrary bytes; the property is in `checks/cbor_decode.rs`, which a test
//! of `atlex-lexicons` also runs over a seed corpus.
#![no_main]

#[path = "../checks/cbor_decode.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::cbor_decode(data));
