//! The frames of `network.bsky.jetstream.subscribeEvents` that the Python
//! atproto SDK's Jetstream client received from atlex's server
//! (`tests/fixtures/python_frames.jsonl`, recorded by `tests/python_interop.rs`),
//! decoded by atlex: plain, and compressed with a zstd dictionary.

use atlex::data::Unknown;
use atlex_jetstream::Dictionary;
use atlex_jetstream::v2::network::bsky::jetstream::subscribe_events::Message;
use atlex_jetstream::v2::{FrameDecoder, FrameError};
use atlex_lexicons::Record;
use serde_json::Value;

fn frames() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/python_frames.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Checks one decoded message against its frame: the payload written back
/// is the frame's, and a commit's record decodes typed.
fn check(message: &Message, frame: &str, kinds: &mut [usize; 3]) {
    let payload: Value = serde_json::from_str::<Value>(frame).unwrap()["payload"].clone();
    assert_eq!(serde_json::to_value(message).unwrap(), payload);
    match message {
        Message::Commit(commit) => {
            kinds[0] += 1;
            if let Some(record) = &commit.record {
                let typed: Record = Unknown::decode(record).unwrap();
                assert!(!matches!(typed, Record::Unknown(_)), "{frame}");
                assert_eq!(serde_json::to_value(&typed).unwrap(), payload["record"]);
            }
        }
        Message::Identity(identity) => {
            kinds[1] += 1;
            assert_eq!(identity.identity.did, identity.did);
        }
        Message::Account(account) => {
            kinds[2] += 1;
            assert_eq!(account.account.did, account.did);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_frames_the_python_client_received_decode() {
    let frames = frames();
    assert_eq!(frames.len(), 120);
    let mut decoder = FrameDecoder::new();
    let mut kinds = [0; 3];
    for (n, frame) in frames.iter().enumerate() {
        let message = decoder.decode_text(frame).unwrap();
        let seq = match &message {
            Message::Commit(commit) => commit.seq,
            Message::Identity(identity) => identity.seq,
            Message::Account(account) => account.seq,
            other => panic!("{other:?}"),
        };
        assert_eq!(seq, n as i64 + 1);
        check(&message, frame, &mut kinds);
    }
    assert!(kinds.iter().all(|count| *count > 0), "{kinds:?}");
}

#[test]
fn compressed_frames_decode_as_the_plain_ones() {
    let frames = frames();
    let samples: Vec<&[u8]> = frames.iter().map(|f| f.as_bytes()).collect();
    let trained = zstd::dict::from_samples(&samples, 8 * 1024).unwrap();
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &trained).unwrap();
    let mut decoder = FrameDecoder::with_dictionary(Dictionary::new(&trained).unwrap()).unwrap();
    let mut kinds = [0; 3];
    for frame in &frames {
        let compressed = compressor.compress(frame.as_bytes()).unwrap();
        let message = decoder.decode_binary(&compressed).unwrap();
        check(&message, frame, &mut kinds);
    }
    // Frames of another dictionary, not zstd, too large, or binary without a
    // dictionary: errors, never a panic.
    let other = zstd::bulk::compress(frames[0].as_bytes(), 3).unwrap();
    assert!(matches!(
        FrameDecoder::with_dictionary(Dictionary::new(b"a raw dictionary").unwrap())
            .unwrap()
            .decode_binary(&compressor.compress(frames[0].as_bytes()).unwrap()),
        Err(FrameError::Decompress { .. })
    ));
    assert!(
        decoder.decode_binary(&other).is_ok(),
        "a frame without a dictionary decodes"
    );
    assert!(matches!(
        decoder.decode_binary(b"garbage"),
        Err(FrameError::Decompress { frame, .. }) if frame == b"garbage"
    ));
    let mut small = FrameDecoder::with_dictionary(Dictionary::new(&trained).unwrap())
        .unwrap()
        .max_frame_size(64);
    assert!(matches!(
        small.decode_binary(&compressor.compress(frames[0].as_bytes()).unwrap()),
        Err(FrameError::Stream(
            atlex::subscription::SubscriptionError::TooLarge { limit: 64 }
        ))
    ));
    assert!(matches!(
        FrameDecoder::new().decode_binary(&other),
        Err(FrameError::Binary(_))
    ));
    // An error frame is the stream's error.
    let error = FrameDecoder::new()
        .decode_text(r#"{"$type":"error","error":"ConsumerTooSlow","message":"behind"}"#)
        .unwrap_err();
    assert!(error.to_string().contains("ConsumerTooSlow"), "{error}");
}

mod common;

use atlex::client::Client;
use atlex::subscription::EventLog;
use atlex_jetstream::v2;
use atlex_jetstream::v2::network::bsky::jetstream::subscribe_events;
use common::{Answer, Step, query_value, serve};
use futures_util::StreamExt as _;

/// The fixture's messages, decoded.
fn messages() -> Vec<Message> {
    let mut decoder = FrameDecoder::new();
    frames()
        .iter()
        .map(|frame| decoder.decode_text(frame).unwrap())
        .collect()
}

#[tokio::test]
async fn atlex_client_reads_subscribe_events_from_atlex_server() {
    let expected = messages();
    let log = EventLog::new();
    for message in &expected {
        log.append(|_| message.clone()).unwrap();
    }
    let addr = common::serve_v2(log).await;
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let params = subscribe_events::Params::new().with_cursor(0);
    let mut stream = client.subscribe(subscribe_events::SubscribeEvents, &params);
    let mut received = Vec::new();
    while received.len() < expected.len() {
        received.push(stream.next().await.unwrap().unwrap());
    }
    assert_eq!(received, expected);
    assert_eq!(stream.last_seq(), Some(expected.len() as i64));
}

#[tokio::test]
async fn compressed_frames_through_the_client_hook() {
    let frames = frames();
    let samples: Vec<&[u8]> = frames.iter().map(|f| f.as_bytes()).collect();
    let trained = zstd::dict::from_samples(&samples, 8 * 1024).unwrap();
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &trained).unwrap();
    let mut steps: Vec<Step> = frames
        .iter()
        .map(|frame| Step::Binary(compressor.compress(frame.as_bytes()).unwrap()))
        .collect();
    // A damaged frame (its first four bytes), then the last one again.
    let last = steps.last().cloned().unwrap();
    steps.push(Step::Binary(
        zstd::bulk::compress(b"{}", 3).unwrap()[..4].to_vec(),
    ));
    steps.push(last);
    steps.push(Step::Close(1000));
    let server = serve(move |_, _| Answer::Upgrade(steps.clone())).await;
    let dictionary = Dictionary::new(&trained).unwrap();
    let params = subscribe_events::Params::new()
        .with_zstd_dictionary(i64::from(dictionary.id()))
        .with_collections(vec!["app.bsky.feed.post".to_owned()]);
    let client = Client::new(&server.base).unwrap();
    let items: Vec<_> = client
        .subscribe(subscribe_events::SubscribeEvents, &params)
        .decompress_with(v2::decompressor(dictionary).unwrap())
        .collect()
        .await;
    let expected = messages();
    assert_eq!(items.len(), expected.len() + 2, "{:?}", items.last());
    for (item, message) in items.iter().zip(&expected) {
        assert_eq!(item.as_ref().unwrap(), message);
    }
    assert!(items[expected.len()].is_err());
    assert_eq!(
        items[expected.len() + 1].as_ref().unwrap(),
        expected.last().unwrap()
    );
    let uri = server.requests.lock().unwrap()[0].clone();
    assert!(
        uri.starts_with("/xrpc/network.bsky.jetstream.subscribeEvents?"),
        "{uri}"
    );
    assert_eq!(
        query_value(&uri, "zstdDictionary"),
        Some(Dictionary::new(&trained).unwrap().id().to_string())
    );
}
