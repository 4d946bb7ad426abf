//! The event streams the official TypeScript implementation writes
//! (`@atproto/xrpc-server` frames of real `@atproto/repo` commits; see
//! `fixtures/ts_frames/gen-frames.mjs`), decoded by atlex frame by frame and
//! op by op, and written again byte for byte.

use std::io::Read as _;

use atlex::data::Unknown;
use atlex::firehose::RepoCommit as _;
use atlex::subscription::{Frame, SubscriptionError, decode_message};
use atlex_lexicons::Record;
use atlex_lexicons::app::bsky::{feed, graph};
use atlex_lexicons::com::atproto::label::subscribe_labels::{self, SubscribeLabels};
use atlex_lexicons::com::atproto::sync::subscribe_repos::{self, Message, SubscribeRepos};
use serde_json::Value as Json;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ts_frames");

fn gunzip(name: &str) -> Vec<u8> {
    let file = std::fs::File::open(format!("{DIR}/{name}")).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The frames of a recording: each preceded by its length (u32, big endian).
fn split(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_at(4);
        let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
        let (frame, rest) = rest.split_at(len);
        frames.push(frame);
        bytes = rest;
    }
    frames
}

/// A record decoded strictly by its `$type` into the generated type, or
/// kept as data.
fn typed(type_name: &str, bytes: &[u8]) -> Result<(), String> {
    fn strict<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<(), String> {
        atlex::cbor::from_slice::<T>(bytes)
            .map(drop)
            .map_err(|e| e.to_string())
    }
    match type_name {
        "app.bsky.feed.post" => strict::<feed::post::Post>(bytes),
        "app.bsky.feed.like" => strict::<feed::like::Like>(bytes),
        "app.bsky.feed.repost" => strict::<feed::repost::Repost>(bytes),
        "app.bsky.graph.follow" => strict::<graph::follow::Follow>(bytes),
        _ => strict::<Unknown>(bytes),
    }
}

#[test]
fn every_frame_and_op_of_the_ts_firehose_decodes() {
    let bytes = gunzip("repos.frames.gz");
    let notes: Vec<Json> = serde_json::from_slice(&gunzip("repos.json.gz")).unwrap();
    let frames = split(&bytes);
    assert_eq!(frames.len(), notes.len());
    let (mut commits, mut ops_seen) = (0, 0);
    for (index, (frame, note)) in frames.iter().zip(&notes).enumerate() {
        let decoded = decode_message::<SubscribeRepos>(frame, false);
        if note["error"].is_string() {
            assert!(
                matches!(
                    decoded,
                    Err(SubscriptionError::Endpoint(
                        subscribe_repos::Error::FutureCursor { .. }
                    ))
                ),
                "frame {index}: {decoded:?}"
            );
            continue;
        }
        let message = decoded.unwrap_or_else(|e| panic!("frame {index}: {e}"));
        match (note["t"].as_str().unwrap(), &message) {
            ("#commit", Message::Commit(commit)) => {
                commits += 1;
                assert_eq!(commit.seq, note["seq"].as_i64().unwrap());
                assert_eq!(
                    commit.commit.0.to_string(),
                    note["commit"].as_str().unwrap()
                );
                assert_eq!(commit.rev.as_str(), note["rev"].as_str().unwrap());
                let ops = commit.decode_ops::<Record>().unwrap().strict();
                let signed = ops.commit().unwrap();
                assert_eq!(signed.rev.as_str(), commit.rev.as_str());
                let car = ops.car().blocks.clone();
                let expected = note["ops"].as_array().unwrap();
                assert_eq!(ops.len(), expected.len());
                for (op, want) in ops.zip(expected) {
                    let op = op.unwrap_or_else(|e| panic!("frame {index}: {e}"));
                    ops_seen += 1;
                    assert_eq!(op.action.as_str(), want["action"].as_str().unwrap());
                    assert_eq!(op.path(), want["path"].as_str().unwrap());
                    assert_eq!(
                        op.cid.as_ref().map(|c| c.to_string()).as_deref(),
                        want["cid"].as_str()
                    );
                    assert_eq!(
                        op.prev.map(|c| c.to_string()).as_deref(),
                        want["prev"].as_str()
                    );
                    let type_name = want["type"].as_str();
                    match (&op.record, type_name) {
                        (Some(Record::AppBskyFeedPost(post)), Some("app.bsky.feed.post")) => {
                            assert!(post.text.starts_with("post "))
                        }
                        (Some(Record::AppBskyFeedLike(_)), Some("app.bsky.feed.like"))
                        | (Some(Record::AppBskyFeedRepost(_)), Some("app.bsky.feed.repost"))
                        | (Some(Record::AppBskyGraphFollow(_)), Some("app.bsky.graph.follow")) => {}
                        (Some(Record::Unknown(unknown)), Some(other)) => {
                            assert_eq!(unknown.type_name(), Some(other));
                            assert_eq!(other, "com.example.unknown.thing");
                        }
                        (None, None) => assert_eq!(op.action.as_str(), "delete"),
                        other => panic!("frame {index}: {other:?}"),
                    }
                    // The same block, decoded strictly as its own type.
                    if let (Some(cid), Some(type_name)) = (op.cid, type_name) {
                        typed(type_name, car.get(&cid).unwrap())
                            .unwrap_or_else(|e| panic!("frame {index} {type_name}: {e}"));
                    }
                }
            }
            ("#identity", Message::Identity(identity)) => {
                assert_eq!(
                    identity.handle.as_ref().map(|h| h.as_str()),
                    Some("alice.test")
                )
            }
            ("#account", Message::Account(account)) => {
                assert_eq!(account.seq, note["seq"].as_i64().unwrap())
            }
            ("#sync", Message::Sync(sync)) => {
                let (cid, commit) = atlex::firehose::commit_of_car(&sync.blocks.0).unwrap();
                assert_eq!(cid.to_string(), note["commit"].as_str().unwrap());
                assert_eq!(commit.rev.as_str(), sync.rev.as_str());
            }
            ("#info", Message::Info(info)) => {
                assert_eq!(info.name, subscribe_repos::InfoName::OutdatedCursor)
            }
            ("#futureThing", Message::Unknown(unknown)) => assert_eq!(
                unknown.type_name(),
                Some("com.atproto.sync.subscribeRepos#futureThing")
            ),
            (t, other) => panic!("frame {index}: {t} decoded as {other:?}"),
        }
        // atlex writes the frame TypeScript wrote, byte for byte.
        if !matches!(message, Message::Unknown(_)) {
            let again = Frame::of_message::<SubscribeRepos>(&message).unwrap();
            assert!(
                again.as_bytes() == *frame,
                "frame {index} ({}) re-encodes differently",
                note["t"]
            );
        }
    }
    assert_eq!((commits, ops_seen), (2000, 2333));
}

#[test]
fn every_frame_of_the_ts_label_stream_decodes() {
    let bytes = std::fs::read(format!("{DIR}/labels.frames")).unwrap();
    let notes: Vec<Json> =
        serde_json::from_slice(&std::fs::read(format!("{DIR}/labels.json")).unwrap()).unwrap();
    let frames = split(&bytes);
    assert_eq!(frames.len(), notes.len());
    for (index, (frame, note)) in frames.iter().zip(&notes).enumerate() {
        let decoded = decode_message::<SubscribeLabels>(frame, false);
        match (note["t"].as_str(), decoded) {
            (Some("#labels"), Ok(subscribe_labels::Message::Labels(labels))) => {
                assert_eq!(labels.seq, note["seq"].as_i64().unwrap());
                let label = &labels.labels[0];
                assert_eq!(label.val, note["val"].as_str().unwrap());
                assert_eq!(label.neg.unwrap_or(false), note["neg"].as_bool().unwrap());
                assert_eq!(label.uri.as_str(), note["uri"].as_str().unwrap());
                assert_eq!(label.sig.as_ref().map(|sig| sig.0.len()), Some(64));
            }
            (Some("#info"), Ok(subscribe_labels::Message::Info(_))) => {}
            (
                None,
                Err(SubscriptionError::Endpoint(subscribe_labels::Error::FutureCursor { .. })),
            ) => {}
            (t, other) => panic!("frame {index}: {t:?} decoded as {other:?}"),
        }
    }
}
