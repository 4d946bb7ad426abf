//! The firehose recorded from the TypeScript packages
//! (`lexicons/tests/fixtures/ts_frames/repos.frames.gz`, made by
//! `gen-frames.mjs`): 2,000 commits of one repository, with `prevData` and
//! the blocks that prove their ops, signed by a fixed key.

use std::io::Read as _;
use std::path::Path;

use atlex::subscription::{SubscriptionError, decode_message};
use atlex_core::types::Did;
use atlex_identity::crypto::{Curve, PublicKey, SigningKey};
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};

/// The recording's repository.
pub(crate) fn did() -> Did {
    Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz").expect("a DID")
}

/// The key the recording's commits are signed with (fixed in
/// `gen-frames.mjs`).
pub(crate) fn key() -> PublicKey {
    SigningKey::from_hex(
        Curve::K256,
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
    )
    .expect("a key")
    .public_key()
}

/// Every message of the recording, in order.
pub(crate) fn messages() -> Vec<Message> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../lexicons/tests/fixtures/ts_frames/repos.frames.gz");
    let file = std::fs::File::open(&path).expect("the recording");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .expect("gzip");
    let mut messages = Vec::new();
    let mut rest = bytes.as_slice();
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let (frame, tail) = tail.split_at(u32::from_be_bytes(*len) as usize);
        match decode_message::<SubscribeRepos>(frame, false) {
            Ok(message) => messages.push(message),
            // The recording also has the error frames a server may send.
            Err(SubscriptionError::Endpoint(_)) => {}
            Err(error) => panic!("a frame that does not decode: {error}"),
        }
        rest = tail;
    }
    messages
}
