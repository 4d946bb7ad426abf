//! Event-stream frames on arbitrary bytes: the header, a firehose message
//! (strict and lenient) with its commit ops decoded from the CAR, a label
//! stream message. Never a panic; a message that decodes strictly writes the
//! same frame again.
#![no_main]

use atlex::data::Value;
use atlex::firehose::RepoCommit as _;
use atlex::subscription::{Frame, FrameView, decode_message};
use atlex_lexicons::com::atproto::label::subscribe_labels::SubscribeLabels;
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = FrameView::parse(data);
    let _ = Frame::from_bytes(data.to_vec());
    for lenient in [false, true] {
        let Ok(message) = decode_message::<SubscribeRepos>(data, lenient) else {
            continue;
        };
        if let Message::Commit(commit) = &message {
            if let Ok(ops) = commit.decode_ops::<Value>() {
                let _ = ops.commit();
                for op in ops {
                    let _ = op;
                }
            }
        }
        let again = Frame::of_message::<SubscribeRepos>(&message).expect("a decoded message encodes");
        if !lenient && !matches!(message, Message::Unknown(_)) {
            let back = decode_message::<SubscribeRepos>(again.as_bytes(), false).expect("re-encoded frame decodes");
            assert_eq!(back, message);
        }
    }
    let _ = decode_message::<SubscribeLabels>(data, true);
});
