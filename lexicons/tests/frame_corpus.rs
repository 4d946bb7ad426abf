//! The `frame_decode` fuzz target's property (`fuzz/checks/frame_decode.rs`),
//! run in every test run over a seed corpus and deterministic mutations of
//! it: truncations of each seed, and bytes flipped and bumped. The fuzzer
//! explores further (`fuzz/README.md`); this keeps what it checks exercised
//! where CI runs.

use std::io::Read as _;

use atlex::subscription::{Frame, FrameView, decode_message};
use atlex_lexicons::com::atproto::label::subscribe_labels::SubscribeLabels;
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};

#[path = "../../fuzz/checks/frame_decode.rs"]
mod check;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ts_frames");

/// The frames of a recording: each preceded by its length (u32, big endian).
fn split(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while let [a, b, c, d, rest @ ..] = bytes {
        let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
        frames.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    frames
}

/// The seeds: from the TypeScript recordings, the first frame of each type
/// (the error frames too), and the first commit of each collection, with an
/// update and with a delete; an error frame without a message.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut gz = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(format!("{DIR}/repos.frames.gz")).unwrap())
        .read_to_end(&mut gz)
        .unwrap();
    let labels = std::fs::read(format!("{DIR}/labels.frames")).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut seeds = Vec::new();
    for (stream, frames) in [("repos", split(&gz)), ("labels", split(&labels))] {
        for (index, frame) in frames.into_iter().enumerate() {
            let mut kind = match FrameView::parse(&frame).unwrap() {
                FrameView::Message { t, .. } => t,
                FrameView::Error { error, .. } => error,
            };
            if let Ok(Message::Commit(commit)) = decode_message::<SubscribeRepos>(&frame, false) {
                for op in &commit.ops {
                    let collection = op.path.split('/').next().unwrap_or_default();
                    kind.push_str(&format!(" {:?} {collection}", op.action));
                }
            }
            if seen.insert(format!("{stream} {kind}")) {
                seeds.push((format!("{stream} frame {index} ({kind})"), frame));
            }
        }
    }
    seeds.push((
        "error without a message".to_owned(),
        Frame::error("ConsumerTooSlow", None).as_bytes().to_vec(),
    ));
    seeds
}

#[test]
fn the_seeds_hold_the_property() {
    let seeds = seeds();
    // #identity, #account, five collections' creates, updates and deletes,
    // #sync, an undeclared type, #info and FutureCursor; #labels, #info and
    // an error; one of ours.
    assert!(seeds.len() >= 15, "{} seeds", seeds.len());
    for (name, bytes) in &seeds {
        // Each seed decodes as one of the two streams, or is an error frame:
        // the property is checked on accepted values, not only on errors.
        let decodes = decode_message::<SubscribeRepos>(bytes, false).is_ok()
            || decode_message::<SubscribeLabels>(bytes, false).is_ok()
            || matches!(FrameView::parse(bytes), Ok(FrameView::Error { .. }));
        assert!(decodes, "{name} does not decode");
        check::frame_decode(bytes);
    }
}

#[test]
fn mutations_of_the_seeds_hold_the_property() {
    let mut cases = 0;
    for (name, bytes) in seeds() {
        // Every byte of the header and the start of the body; after that,
        // about 60 places spread over the rest of the frame (the CAR of a
        // commit is most of it, and each case reads and verifies it).
        let step = (bytes.len() / 60).max(1);
        let places = (0..bytes.len().min(64)).chain((64..bytes.len()).step_by(step));
        let mut mutant = bytes.clone();
        for at in places {
            let run = |data: &[u8], what: &str| {
                let result = std::panic::catch_unwind(|| check::frame_decode(data));
                assert!(result.is_ok(), "{name}, {what} at byte {at}: {data:02x?}");
            };
            run(&bytes[..at], "truncated");
            for change in [0xff, 0x01] {
                mutant[at] = bytes[at] ^ change;
                run(&mutant, &format!("xor {change:#04x}"));
            }
            mutant[at] = bytes[at].wrapping_add(1);
            run(&mutant, "+1");
            mutant[at] = bytes[at];
            cases += 4;
        }
    }
    assert!(cases > 5_000, "{cases} cases");
}
