//! The v1 client against a `/subscribe` server on 127.0.0.1 that sends
//! events as Jetstream does: plain and zstd-compressed with a dictionary,
//! dropped connections, cursors, and messages that are not events.

mod common;

use std::time::Duration;

use atlex::client::Reconnect;
use atlex::eventlog::{FileCursor, SqliteCursor};
use atlex_jetstream::v1::{self, Dictionary, Error, Event, Kind, Options};
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::sync::subscribe_repos::AccountStatus;
use common::{Answer, Step, events, query_value, query_values, serve};
use futures_util::StreamExt as _;

/// Events of every kind, and of kinds and fields this code does not know.
const RECORDED: &[&str] = &[
    r#"{"did":"did:plc:mcc5yghbk7tixqryac2yxku7","time_us":1779719009132431,"kind":"commit","commit":{"rev":"3mmoojp7vgo2g","operation":"create","collection":"app.bsky.feed.like","rkey":"3mmoojp7etg2g","record":{"$type":"app.bsky.feed.like","createdAt":"2026-05-25T14:23:28.778Z","subject":{"cid":"bafyreiaxf7tgbfydx3465sckitq6v564thxe2wwydbi7cwxbxvgssje3em","uri":"at://did:plc:vfnmgxg2yscfliemmcxzyfyh/app.bsky.feed.post/3mmoodizfwc2j"}},"cid":"bafyreidqpc7si3dbimffi64lz3xsx2qt45ip7rpna2qpslcddp23itjjzm"}}"#,
    r#"{"did":"did:plc:q235v55g5unth4zjjdpacfdr","time_us":1779719009157119,"kind":"commit","commit":{"rev":"3mmoojpaqkn2z","operation":"create","collection":"app.bsky.feed.post","rkey":"3mmoojp4cd223","record":{"$type":"app.bsky.feed.post","createdAt":"2026-05-25T14:23:28.757Z","langs":["en"],"text":"tea with @harbour.bsky.social","facets":[{"index":{"byteStart":9,"byteEnd":29},"features":[{"$type":"app.bsky.richtext.facet#mention","did":"did:plc:vfnmgxg2yscfliemmcxzyfyh"}]}]},"cid":"bafyreicl7rzkxdrm4zz2ehbx52kuk3mvfow6p3gzfys72r5grvskxoswy4"}}"#,
    r#"{"did":"did:plc:3xnadku4kemqnycbweqnvgzx","time_us":1779719009153272,"kind":"commit","commit":{"rev":"3mmoojpae7c2e","operation":"delete","collection":"org.example.claim.activity","rkey":"3mmontn3gnc2e"}}"#,
    r#"{"did":"did:plc:qlhxnyjaacdu5jvapiqtbgqg","time_us":1779719010416808,"kind":"commit","commit":{"rev":"3mmoojqaufi2w","operation":"update","collection":"org.example.broadcast.origin","rkey":"self","record":{"$type":"org.example.broadcast.origin","server":"did:web:video.example.org","updatedAt":"2026-05-25T14:23:29.807Z"},"cid":"bafyreibk2m3ujbeckwgyvgi3bjucfnqj35xjynqswmnywd5a3thnrnzv6m","note":"kept"}}"#,
    r#"{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","time_us":1779719010267528,"kind":"identity","identity":{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","handle":"harbour.bsky.social","seq":30340180350,"time":"2026-05-25T14:23:29.950Z"}}"#,
    r#"{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","time_us":1779719010272410,"kind":"account","account":{"active":false,"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","seq":30340180351,"status":"deactivated","time":"2026-05-25T14:23:29.950Z"},"cursor":12345}"#,
    r#"{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","time_us":1779719010272999,"kind":"sync","sync":{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","rev":"3mmoojqaufi2w"}}"#,
];

fn fast_reconnect() -> Reconnect {
    Reconnect {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(50),
        max_attempts: Some(5),
        jitter: false,
    }
}

fn texts(frames: &[&str]) -> Vec<Step> {
    frames.iter().map(|f| Step::Text((*f).to_owned())).collect()
}

#[test]
fn every_kind_decodes_and_what_is_unknown_is_kept() {
    let events: Vec<Event<Record>> = RECORDED
        .iter()
        .map(|text| Event::from_json(text).unwrap())
        .collect();
    let Kind::Commit(like) = &events[0].kind else {
        panic!("{:?}", events[0].kind)
    };
    let Some(Record::AppBskyFeedLike(record)) = &like.record else {
        panic!("{:?}", like.record)
    };
    assert_eq!(
        record.subject.uri.as_str(),
        "at://did:plc:vfnmgxg2yscfliemmcxzyfyh/app.bsky.feed.post/3mmoodizfwc2j"
    );
    assert_eq!(like.operation.as_str(), "create");
    let Kind::Commit(post) = &events[1].kind else {
        panic!()
    };
    let Some(Record::AppBskyFeedPost(record)) = &post.record else {
        panic!()
    };
    assert_eq!(record.facets.as_ref().map(Vec::len), Some(1));
    let Kind::Commit(delete) = &events[2].kind else {
        panic!()
    };
    assert_eq!((delete.record.as_ref(), delete.cid.as_ref()), (None, None));
    // A record of a type the bindings do not have, kept as data, and a
    // commit field this code does not read.
    let Kind::Commit(other) = &events[3].kind else {
        panic!()
    };
    let Some(Record::Unknown(data)) = &other.record else {
        panic!("{:?}", other.record)
    };
    assert_eq!(data.type_name(), Some("org.example.broadcast.origin"));
    assert!(other.extra.get("note").is_some());
    let Kind::Identity(identity) = &events[4].kind else {
        panic!()
    };
    assert_eq!(
        identity.handle.as_ref().unwrap().as_str(),
        "harbour.bsky.social"
    );
    let Kind::Account(account) = &events[5].kind else {
        panic!()
    };
    assert_eq!(account.status, Some(AccountStatus::Deactivated));
    assert!(events[5].extra.get("cursor").is_some());
    let Kind::Unknown { kind, payload } = &events[6].kind else {
        panic!()
    };
    assert_eq!(kind, "sync");
    assert!(payload.is_some());
}

#[test]
fn records_come_out_as_they_went_in() {
    // The generated mix: every record decodes typed and writes back to the
    // same JSON; no event decodes into an unknown record.
    for text in events::mix(2_000, 7) {
        let event: Event<Record> = Event::from_json(&text).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Kind::Commit(commit) = &event.kind {
            if let Some(record) = &commit.record {
                assert!(!matches!(record, Record::Unknown(_)), "{text}");
                assert_eq!(
                    serde_json::to_value(record).unwrap(),
                    json["commit"]["record"]
                );
            }
            assert_eq!(
                commit.cid.as_ref().map(ToString::to_string).as_deref(),
                json["commit"]["cid"].as_str()
            );
        }
        assert_eq!(event.time_us, json["time_us"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn the_options_make_the_query_and_events_arrive_in_order() {
    let server = serve(|_, _| {
        let mut steps = texts(RECORDED);
        steps.push(Step::Close(1000));
        Answer::Upgrade(steps)
    })
    .await;
    let options = Options::new()
        .wanted_collections(["app.bsky.feed.like", "app.bsky.graph.*"])
        .unwrap()
        .wanted_dids(["did:plc:mcc5yghbk7tixqryac2yxku7"])
        .unwrap()
        .max_message_size_bytes(65_536)
        .cursor(1_779_719_000_000_000);
    let events: Vec<_> = v1::subscribe::<Record>(&server.url, &options)
        .collect()
        .await;
    let times: Vec<i64> = events
        .iter()
        .map(|event| event.as_ref().unwrap().time_us)
        .collect();
    let expected: Vec<i64> = RECORDED
        .iter()
        .map(|text| Event::<Record>::from_json(text).unwrap().time_us)
        .collect();
    assert_eq!(times, expected);
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        1,
        "a normal close ends a stream without reconnect"
    );
    let uri = &requests[0];
    assert!(uri.starts_with("/subscribe?"), "{uri}");
    assert_eq!(
        query_values(uri, "wantedCollections"),
        ["app.bsky.feed.like", "app.bsky.graph.*"]
    );
    assert_eq!(
        query_values(uri, "wantedDids"),
        ["did:plc:mcc5yghbk7tixqryac2yxku7"]
    );
    assert_eq!(
        query_value(uri, "maxMessageSizeBytes").as_deref(),
        Some("65536")
    );
    assert_eq!(
        query_value(uri, "cursor").as_deref(),
        Some("1779719000000000")
    );
    assert_eq!(query_value(uri, "compress"), None);
}

/// A dictionary trained on the generated traffic, as Jetstream trains its
/// own on the live stream.
fn trained_dictionary() -> Vec<u8> {
    let samples = events::mix(2_000, 11);
    zstd::dict::from_samples(&samples, 16 * 1024).unwrap()
}

fn compress(text: &str, dictionary: &[u8]) -> Vec<u8> {
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, dictionary).unwrap();
    compressor.compress(text.as_bytes()).unwrap()
}

#[tokio::test]
async fn compressed_events_decode_as_the_plain_ones() {
    let dictionary = trained_dictionary();
    let mix = events::mix(300, 3);
    let frames: Vec<Step> = mix
        .iter()
        .map(|text| Step::Binary(compress(text, &dictionary)))
        .chain([Step::Close(1000)])
        .collect();
    let compressed: usize = frames
        .iter()
        .map(|step| match step {
            Step::Binary(bytes) => bytes.len(),
            _ => 0,
        })
        .sum();
    let plain: usize = mix.iter().map(String::len).sum();
    assert!(compressed * 2 < plain, "{compressed} of {plain} bytes");
    let server = serve(move |_, _| Answer::Upgrade(frames.clone())).await;
    let dictionary = Dictionary::new(&dictionary).unwrap();
    assert_ne!(dictionary.id(), 0, "a trained dictionary has an ID");
    let options = Options::new().compress(dictionary);
    let received: Vec<Event<Record>> = v1::subscribe(&server.url, &options)
        .map(Result::unwrap)
        .collect()
        .await;
    let expected: Vec<Event<Record>> = mix.iter().map(|t| Event::from_json(t).unwrap()).collect();
    assert_eq!(received, expected);
    let uri = server.requests.lock().unwrap()[0].clone();
    assert_eq!(query_value(&uri, "compress").as_deref(), Some("true"));
}

#[tokio::test]
async fn frames_that_do_not_decompress_are_errors_and_the_stream_goes_on() {
    let dictionary = trained_dictionary();
    let other = zstd::dict::from_samples(&events::mix(2_000, 99), 8 * 1024).unwrap();
    let mix = events::mix(3, 5);
    // 64 KiB of one letter: compresses to little, decompresses past the
    // 16 KiB the client accepts.
    let bomb = compress(&"a".repeat(64 * 1024), &dictionary);
    let frames = vec![
        Step::Binary(compress(&mix[0], &dictionary)),
        Step::Binary(compress(&mix[1], &other)),
        Step::Binary(b"not zstd at all".to_vec()),
        Step::Binary(compress("not json", &dictionary)),
        Step::Binary(compress(&mix[2], &dictionary)),
        Step::Binary(bomb),
        Step::Text(mix[0].clone()),
    ];
    let server = serve(move |_, _| Answer::Upgrade(frames.clone())).await;
    let options = Options::new().compress(Dictionary::new(&dictionary).unwrap());
    let items: Vec<_> = v1::subscribe::<Record>(&server.url, &options)
        .max_frame_size(16 * 1024)
        .collect()
        .await;
    assert_eq!(items.len(), 6, "{items:?}");
    assert!(items[0].is_ok());
    let Err(Error::Decompress { reason, frame }) = &items[1] else {
        panic!("{:?}", items[1])
    };
    assert!(reason.contains("ictionary"), "{reason}");
    assert!(!frame.is_empty());
    assert!(
        matches!(&items[2], Err(Error::Decompress { frame, .. }) if frame == b"not zstd at all")
    );
    let Err(Error::Decode(error)) = &items[3] else {
        panic!("{:?}", items[3])
    };
    assert_eq!((error.text.as_str(), error.time_us), ("not json", None));
    assert!(items[4].is_ok());
    // The oversized message ends the connection, and without reconnect the
    // stream.
    assert!(
        matches!(items[5], Err(Error::TooLarge { limit: 16384 })),
        "{:?}",
        items[5]
    );
}

#[tokio::test]
async fn a_dropped_connection_resumes_from_the_last_time_us_less_the_overlap() {
    let mix = events::mix(10, 21);
    let times: Vec<i64> = mix
        .iter()
        .map(|t| Event::<Record>::from_json(t).unwrap().time_us)
        .collect();
    let served = mix.clone();
    let server = serve(move |n, _| match n {
        // Four events, then the connection is lost.
        0 => Answer::Upgrade(
            served[..4]
                .iter()
                .map(|t| Step::Text(t.clone()))
                .chain([Step::Drop])
                .collect(),
        ),
        // Jetstream restarting.
        1 => Answer::Refuse(503, "starting".into()),
        _ => Answer::Upgrade(
            served[3..]
                .iter()
                .map(|t| Step::Text(t.clone()))
                .chain([Step::Close(1001)])
                .collect(),
        ),
    })
    .await;
    let options = Options::new().cursor(times[0] - 10);
    let mut stream = v1::subscribe::<Record>(&server.url, &options)
        .reconnect(fast_reconnect())
        .overlap(Duration::from_millis(2));
    let mut received = Vec::new();
    let mut errors = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => received.push(event.time_us),
            Err(error) => {
                errors.push(error.to_string());
                if errors.len() == 3 + 5 {
                    break;
                }
            }
        }
        if received.len() == 11 {
            break;
        }
    }
    // Event 4 came twice: at least once.
    let mut expected = times[..4].to_vec();
    expected.extend(&times[3..]);
    assert_eq!(received, expected, "{errors:?}");
    assert!(errors[0].contains("connection lost"), "{errors:?}");
    assert!(errors[1].contains("HTTP 503"), "{errors:?}");
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        query_value(&requests[0], "cursor"),
        Some((times[0] - 10).to_string())
    );
    let resumed = (times[3] - 2_000).to_string();
    assert_eq!(query_value(&requests[1], "cursor").as_ref(), Some(&resumed));
    assert_eq!(query_value(&requests[2], "cursor").as_ref(), Some(&resumed));
    assert_eq!(stream.last_time_us(), Some(times[9]));
}

#[tokio::test]
async fn a_refused_option_is_not_retried() {
    let server = serve(|_, _| Answer::Refuse(400, "invalid collection".into())).await;
    let items: Vec<_> = v1::subscribe::<Record>(&server.url, &Options::new())
        .reconnect(fast_reconnect())
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    let Err(error @ Error::Http { status: 400, body }) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(body, "invalid collection");
    assert!(!error.is_retryable());
}

/// A stream opened with a cursor store.
type OpenStream = dyn Fn(&str, &Options) -> v1::Events<Record>;

#[tokio::test]
async fn a_stream_resumes_from_a_cursor_store() {
    let dir = std::env::temp_dir().join(format!("atlex-jetstream-cursor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mix = events::mix(6, 33);
    let times: Vec<i64> = mix
        .iter()
        .map(|t| Event::<Record>::from_json(t).unwrap().time_us)
        .collect();
    let served = mix.clone();
    let server =
        serve(move |_, _| Answer::Upgrade(served.iter().map(|t| Step::Text(t.clone())).collect()))
            .await;
    // Each run opens its store again, as a program that restarts does.
    let file = dir.join("v1.cursor");
    let sqlite = dir.join("cursors.sqlite");
    let runs: [(&str, Box<OpenStream>); 2] = [
        (
            "file",
            Box::new(move |url, options| {
                v1::subscribe(url, options)
                    .resume_with(FileCursor::new(&file))
                    .unwrap()
            }),
        ),
        (
            "sqlite",
            Box::new(move |url, options| {
                let store = SqliteCursor::open(&sqlite, "jetstream").unwrap();
                v1::subscribe(url, options).resume_with(store).unwrap()
            }),
        ),
    ];
    for (name, store) in runs {
        let before = server.requests.lock().unwrap().len();
        // A first run: reads four events, saves, stops.
        let mut stream =
            store(&server.url, &Options::new().cursor(times[0])).overlap(Duration::from_secs(1));
        for _ in 0..4 {
            stream.next().await.unwrap().unwrap();
        }
        stream.save_cursor().unwrap();
        drop(stream);
        // The next run starts from the saved cursor, not the options' one.
        let mut stream =
            store(&server.url, &Options::new().cursor(times[0])).overlap(Duration::from_secs(1));
        stream.next().await.unwrap().unwrap();
        let requests = server.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), before + 2, "{name}");
        assert_eq!(
            query_value(&requests[before + 1], "cursor"),
            Some((times[3] - 1_000_000).to_string()),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn messages_that_are_not_events_are_errors_with_their_text() {
    let mix = events::mix(2, 8);
    let huge = format!(
        r#"{{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","time_us":1,"kind":"x","x":"{}"}}"#,
        "y".repeat(32 * 1024)
    );
    let frames = vec![
        Step::Text(mix[0].clone()),
        Step::Text("{".into()),
        Step::Text(r#"{"time_us":1779719010267528,"kind":"identity"}"#.into()),
        Step::Text(r#"{"did":"not a did","time_us":1779719010267529,"kind":"commit"}"#.into()),
        // A post whose text is a number.
        Step::Text(r#"{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","time_us":1779719010267530,"kind":"commit","commit":{"rev":"3mmoojqaufi2w","operation":"create","collection":"app.bsky.feed.post","rkey":"3mmoojqaufi2w","record":{"$type":"app.bsky.feed.post","text":5,"createdAt":"2026-05-25T14:23:29.950Z"},"cid":"bafyreibk2m3ujbeckwgyvgi3bjucfnqj35xjynqswmnywd5a3thnrnzv6m"}}"#.into()),
        Step::Text(r#"{"did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","did":"did:plc:g4ut2w5755qxi3fe7mfs72p4","time_us":3,"kind":"x"}"#.into()),
        Step::Binary(vec![0, 1, 2]),
        Step::Text(mix[1].clone()),
        Step::Text(huge),
    ];
    let server = serve(move |_, _| Answer::Upgrade(frames.clone())).await;
    let mut stream =
        v1::subscribe::<Record>(&server.url, &Options::new()).max_frame_size(16 * 1024);
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    assert_eq!(items.len(), 9, "{items:?}");
    assert!(items[0].is_ok());
    let decode = |n: usize| match &items[n] {
        Err(Error::Decode(error)) => error.clone(),
        other => panic!("{n}: {other:?}"),
    };
    assert_eq!((decode(1).text.as_str(), decode(1).time_us), ("{", None));
    let missing = decode(2);
    assert!(
        missing.reason.contains("missing field `did`"),
        "{}",
        missing.reason
    );
    assert_eq!(missing.time_us, Some(1779719010267528));
    assert_eq!(decode(3).time_us, Some(1779719010267529));
    let post = decode(4);
    assert!(post.reason.contains("invalid type"), "{}", post.reason);
    assert_eq!(post.time_us, Some(1779719010267530));
    assert!(
        decode(5).reason.contains("duplicate field"),
        "{}",
        decode(5).reason
    );
    assert!(matches!(items[6], Err(Error::Binary(3))));
    assert!(items[7].is_ok());
    assert!(matches!(items[8], Err(Error::TooLarge { limit: 16384 })));
    // The cursor moved past the events that did not decode.
    assert_eq!(
        stream.last_time_us(),
        Some(Event::<Record>::from_json(&mix[1]).unwrap().time_us)
    );
}
