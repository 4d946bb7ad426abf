//! Event-stream frames on arbitrary bytes: the header, a firehose message
//! (strict and lenient) with its commit ops decoded from the CAR, a label
//! stream message; the property is in `checks/frame_decode.rs`, which a test
//! of `atlex-lexicons` also runs over a seed corpus.
#![no_main]

#[path = "../checks/frame_decode.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::frame_decode(data));
