//! Event streams end to end over loopback: the router serving
//! `com.atproto.sync.subscribeRepos` and `com.atproto.label.subscribeLabels`
//! from an `EventLog`, `Client::subscribe` reading them, typed commit ops,
//! and what bad frames and bad servers become.

use std::sync::Arc;
use std::time::Duration;

use atlex::car::CarWriter;
use atlex::cbor;
use atlex::client::{Client, Reconnect};
use atlex::data::{Bytes, CidLink, Record as _, Value};
use atlex::firehose::{Action, RepoCommit as _};
use atlex::server::XrpcRouter;
use atlex::service::{HandlerError, Messages, Registry, SubscriptionRequest, SubscriptionResult};
use atlex::subscription::{EventLog, Frame, FrameError, SubscriptionError, decode_message};
use atlex::types::{Datetime, Did, Tid};
use atlex_lexicons::app::bsky::feed::post::Post;
use atlex_lexicons::com::atproto::label::{defs::Label, subscribe_labels};
use atlex_lexicons::com::atproto::sync::subscribe_repos::{
    self, Commit, Error as ReposError, Message, RepoOp, RepoOpAction, SubscribeRepos,
};
use futures_util::{SinkExt as _, StreamExt as _, stream};

type ReposItem = Result<Message, SubscriptionError<ReposError>>;

/// Serves `router` on a loopback port; the base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

struct Pds {
    log: EventLog<SubscribeRepos>,
}

fn register_log<R: Registry<Pds>>(registry: &mut R) {
    registry.add_subscription::<SubscribeRepos, _, _>(
        |pds: Arc<Pds>, request: SubscriptionRequest<SubscribeRepos>| async move {
            pds.log.subscribe(request.params.cursor)
        },
    );
}

/// A PDS-like server of `log`; its base URL.
async fn serve_log(log: &EventLog<SubscribeRepos>, write_buffer: Option<usize>) -> String {
    let mut router = XrpcRouter::new(Pds { log: log.clone() }).mount(register_log);
    if let Some(bytes) = write_buffer {
        router = router.subscriber_write_buffer(bytes);
    }
    serve(router.into_router()).await
}

const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

/// A `#commit` creating one post whose text is `text`, with the commit
/// block and the record block in its CAR.
fn commit(seq: i64, text: &str) -> Message {
    let record = serde_json::json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2024-11-01T12:00:00.000Z",
    });
    let record: Value = serde_json::from_value(record).unwrap();
    let record_cid = cbor::cid_of(&record).unwrap();
    let rev = Tid::now(0).unwrap();
    let signed = serde_json::json!({
        "did": DID, "version": 3, "rev": rev.as_str(), "prev": null,
        "data": {"$link": record_cid.to_string()},
        "sig": {"$bytes": "AAAA"},
    });
    let signed: Value = serde_json::from_value(signed).unwrap();
    let commit_cid = cbor::cid_of(&signed).unwrap();
    let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&commit_cid)).unwrap();
    car.write_value(&signed).unwrap();
    car.write_value(&record).unwrap();
    let blocks = car.finish().unwrap();
    Commit::builder()
        .seq(seq)
        .rebase(false)
        .too_big(false)
        .repo(Did::new(DID).unwrap())
        .commit(CidLink(commit_cid))
        .rev(rev)
        .since(None)
        .blocks(Bytes(blocks))
        .ops(vec![
            RepoOp::builder()
                .action(RepoOpAction::Create)
                .path(format!("app.bsky.feed.post/3k{seq:011}"))
                .cid(Some(CidLink(record_cid)))
                .build(),
        ])
        .blobs(Vec::new())
        .time(Datetime::now())
        .build()
        .into()
}

fn seq_of(item: &ReposItem) -> i64 {
    match item {
        Ok(Message::Commit(commit)) => commit.seq,
        other => panic!("expected a commit, got {other:?}"),
    }
}

async fn next(
    stream: &mut (impl futures_util::Stream<Item = ReposItem> + Unpin),
) -> Option<ReposItem> {
    tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("the stream answers within 20 s")
}

#[tokio::test]
async fn replays_from_the_cursor_then_goes_live_with_typed_ops() {
    let log = EventLog::<SubscribeRepos>::new();
    for n in 1..=3 {
        log.append(|seq| commit(seq, &format!("post {n}"))).unwrap();
    }
    let url = serve_log(&log, None).await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(
        SubscribeRepos,
        &subscribe_repos::Params::new().with_cursor(1),
    );
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 2);
    let third = next(&mut stream).await.unwrap();
    assert_eq!(seq_of(&third), 3);
    // Live: appended after the subscriber caught up.
    log.append(|seq| commit(seq, "live")).unwrap();
    let live = next(&mut stream).await.unwrap();
    assert_eq!(seq_of(&live), 4);
    assert_eq!(stream.last_seq(), Some(4));

    let Ok(Message::Commit(commit)) = live else {
        unreachable!()
    };
    let mut ops = commit.decode_ops::<Post>().unwrap();
    let op = ops.next().unwrap().unwrap();
    assert!(ops.next().is_none());
    assert_eq!(op.action, Action::Create);
    assert_eq!(op.collection.as_str(), "app.bsky.feed.post");
    assert_eq!(op.rkey.as_str(), "3k00000000004");
    assert_eq!(op.cid.as_ref(), commit.ops[0].cid.as_deref());
    // The op's CID, read from the event's link, is the decoded record's.
    let record = op.record.unwrap();
    assert_eq!(record.text, "live");
    assert_eq!(op.cid, Some(record.cid().unwrap()));
    let signed = commit.decode_ops::<Value>().unwrap().commit().unwrap();
    assert_eq!(signed.did.as_str(), DID);
}

#[tokio::test]
async fn without_a_cursor_only_live_events_arrive() {
    let log = EventLog::<SubscribeRepos>::new();
    log.append(|seq| commit(seq, "old")).unwrap();
    let url = serve_log(&log, None).await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(SubscribeRepos, &subscribe_repos::Params::default());
    // The connection is made on the first poll: append once it is open.
    let appender = {
        let log = log.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            log.append(|seq| commit(seq, "new")).unwrap();
        })
    };
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 2);
    appender.await.unwrap();
}

#[tokio::test]
async fn a_cursor_ahead_of_the_log_is_future_cursor_then_the_end() {
    let log = EventLog::<SubscribeRepos>::new();
    log.append(|seq| commit(seq, "one")).unwrap();
    let url = serve_log(&log, None).await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(
        SubscribeRepos,
        &subscribe_repos::Params::new().with_cursor(7),
    );
    match next(&mut stream).await {
        Some(Err(SubscriptionError::Endpoint(ReposError::FutureCursor { message }))) => {
            assert!(message.unwrap().contains("cursor 7"));
        }
        other => panic!("expected FutureCursor, got {other:?}"),
    }
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn a_cursor_older_than_the_log_gets_outdated_cursor_first() {
    let log = EventLog::<SubscribeRepos>::builder().max_events(2).build();
    for n in 1..=5 {
        log.append(|seq| commit(seq, &format!("post {n}"))).unwrap();
    }
    assert_eq!(
        (log.oldest_seq(), log.latest_seq(), log.len()),
        (Some(4), Some(5), 2)
    );
    let url = serve_log(&log, None).await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(
        SubscribeRepos,
        &subscribe_repos::Params::new().with_cursor(1),
    );
    match next(&mut stream).await {
        Some(Ok(Message::Info(info))) => {
            assert_eq!(info.name, subscribe_repos::InfoName::OutdatedCursor)
        }
        other => panic!("expected #info, got {other:?}"),
    }
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 4);
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 5);
}

#[tokio::test]
async fn a_consumer_that_falls_behind_is_dropped_with_consumer_too_slow() {
    let log = EventLog::<SubscribeRepos>::builder().max_events(16).build();
    let url = serve_log(&log, Some(64 * 1024)).await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(
        SubscribeRepos,
        &subscribe_repos::Params::new().with_cursor(0),
    );
    // Connect (the log is empty: cursor 0 is its present)…
    log.append(|seq| commit(seq, "first")).unwrap();
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 1);
    // …then stop reading while far more is appended than the log, the
    // server's write buffer and the kernel's socket buffers hold together.
    let text = "x".repeat(3000);
    for _ in 0..8000 {
        log.append(|seq| commit(seq, &text)).unwrap();
        if log.latest_seq().unwrap() % 500 == 0 {
            tokio::task::yield_now().await;
        }
    }
    assert!(log.len() <= 16);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut received = 0;
    loop {
        match next(&mut stream).await {
            Some(Ok(Message::Commit(_))) => received += 1,
            Some(Err(SubscriptionError::Endpoint(ReposError::ConsumerTooSlow { .. }))) => break,
            other => {
                panic!("expected commits then ConsumerTooSlow, got {other:?} after {received}")
            }
        }
    }
    assert!(received < 8000, "dropped before the end: {received}");
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn a_type_this_code_does_not_know_arrives_as_unknown() {
    let log = EventLog::<SubscribeRepos>::new();
    log.append_frame(|seq| {
        Frame::message("#newThing", &serde_json::json!({"seq": seq, "what": "x"}))
    })
    .unwrap();
    log.append_frame(|_| Ok(Frame::error("BrandNewError", Some("from a newer server"))))
        .unwrap();
    let url = serve_log(&log, None).await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(
        SubscribeRepos,
        &subscribe_repos::Params::new().with_cursor(0),
    );
    match next(&mut stream).await {
        Some(Ok(Message::Unknown(unknown))) => {
            assert_eq!(
                unknown.type_name(),
                Some("com.atproto.sync.subscribeRepos#newThing")
            );
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(stream.last_seq(), Some(1));
    match next(&mut stream).await {
        Some(Err(error @ SubscriptionError::Endpoint(ReposError::Unknown(_)))) => {
            assert_eq!(error.error_name(), Some("BrandNewError"));
            assert_eq!(error.to_string(), "BrandNewError: from a newer server");
        }
        other => panic!("expected the undeclared error, got {other:?}"),
    }
    assert!(next(&mut stream).await.is_none());
}

/// A server whose each connection sends the two commits after the cursor,
/// then ends the stream normally; past seq 6 it answers `FutureCursor`.
struct Flaky;

fn register_flaky<R: Registry<Flaky>>(registry: &mut R) {
    registry.add_subscription::<SubscribeRepos, _, _>(
        |_: Arc<Flaky>, request: SubscriptionRequest<SubscribeRepos>| async move {
            let cursor = request.params.cursor.unwrap_or(0);
            if cursor >= 6 {
                let error = ReposError::FutureCursor { message: None };
                return SubscriptionResult::<SubscribeRepos>::Err(HandlerError::endpoint(error));
            }
            let messages = (cursor + 1..=cursor + 2).map(|seq| commit(seq, "again"));
            Ok(Messages::new(stream::iter(messages)))
        },
    );
}

#[tokio::test]
async fn reconnect_resumes_from_the_last_seq() {
    let url = serve(XrpcRouter::new(Flaky).mount(register_flaky).into_router()).await;
    let client = Client::new(&url).unwrap();
    let policy = Reconnect {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(50),
        max_attempts: Some(3),
        jitter: false,
    };
    let stream = client
        .subscribe(SubscribeRepos, &subscribe_repos::Params::default())
        .reconnect(policy);
    let items: Vec<ReposItem> = tokio::time::timeout(Duration::from_secs(20), stream.collect())
        .await
        .unwrap();
    let seqs: Vec<i64> = items[..6].iter().map(seq_of).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert!(matches!(
        items[6..],
        [Err(SubscriptionError::Endpoint(
            ReposError::FutureCursor { .. }
        ))]
    ));

    // Without reconnect, the normal end is the end.
    let stream = client.subscribe(SubscribeRepos, &subscribe_repos::Params::default());
    let items: Vec<ReposItem> = tokio::time::timeout(Duration::from_secs(20), stream.collect())
        .await
        .unwrap();
    assert_eq!(items.iter().map(seq_of).collect::<Vec<_>>(), [1, 2]);
}

struct Labeler {
    log: EventLog<subscribe_labels::SubscribeLabels>,
}

/// The generated trait's method for the subscription; the group's other
/// endpoints answer `MethodNotImplemented`.
impl atlex_lexicons::com::atproto::label::Service for Labeler {
    async fn subscribe_labels(
        &self,
        request: SubscriptionRequest<subscribe_labels::SubscribeLabels>,
    ) -> SubscriptionResult<subscribe_labels::SubscribeLabels> {
        self.log.subscribe(request.params.cursor)
    }
}

#[tokio::test]
async fn subscribe_labels_streams_typed_labels() {
    let log = EventLog::<subscribe_labels::SubscribeLabels>::new();
    let label = |val: &str| {
        Label::builder()
            .src(Did::new("did:web:labeler.example.com").unwrap())
            .uri(
                atlex::types::Uri::new(
                    "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3k2",
                )
                .unwrap(),
            )
            .val(val)
            .cts(Datetime::now())
            .build()
            .with_ver(1)
    };
    for val in ["spam", "nudity"] {
        log.append(|seq| {
            subscribe_labels::Labels::builder()
                .seq(seq)
                .labels(vec![label(val)])
                .build()
                .into()
        })
        .unwrap();
    }
    let router = XrpcRouter::new(Labeler { log: log.clone() })
        .mount(atlex_lexicons::com::atproto::label::register)
        .into_router();
    let url = serve(router).await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(
        subscribe_labels::SubscribeLabels,
        &subscribe_labels::Params::new().with_cursor(0),
    );
    let mut values = Vec::new();
    for _ in 0..2 {
        match tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .unwrap()
        {
            Some(Ok(subscribe_labels::Message::Labels(labels))) => {
                values.push((labels.seq, labels.labels[0].val.clone()))
            }
            other => panic!("expected #labels, got {other:?}"),
        }
    }
    assert_eq!(values, [(1, "spam".to_owned()), (2, "nudity".to_owned())]);
    let error = Client::new(&url)
        .unwrap()
        .subscribe(
            subscribe_labels::SubscribeLabels,
            &subscribe_labels::Params::new().with_cursor(9),
        )
        .next()
        .await;
    assert!(matches!(
        error,
        Some(Err(SubscriptionError::Endpoint(
            subscribe_labels::Error::FutureCursor { .. }
        )))
    ));
}

#[tokio::test]
async fn bad_parameters_are_an_error_frame_and_plain_http_is_refused() {
    let log = EventLog::<SubscribeRepos>::new();
    let url = serve_log(&log, None).await;
    let ws = url.replace("http://", "ws://");
    let (mut socket, _) = tokio_tungstenite::connect_async(format!(
        "{ws}/xrpc/com.atproto.sync.subscribeRepos?cursor=abc"
    ))
    .await
    .unwrap();
    let frame = match socket.next().await {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Binary(bytes))) => bytes,
        other => panic!("expected an error frame, got {other:?}"),
    };
    match decode_message::<SubscribeRepos>(&frame, false) {
        Err(SubscriptionError::Common(atlex::error::CommonError::InvalidRequest { message })) => {
            assert!(message.unwrap().contains("cursor"));
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert!(matches!(
        socket.next().await,
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
    ));

    let address = url.trim_start_matches("http://").to_owned();
    let response = tokio::task::spawn_blocking(move || {
        std::net::TcpStream::connect(address).and_then(|mut tcp| {
            use std::io::{Read as _, Write as _};
            tcp.write_all(b"GET /xrpc/com.atproto.sync.subscribeRepos HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
            let mut text = String::new();
            tcp.read_to_string(&mut text)?;
            Ok(text)
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("InvalidRequest"), "{response}");
}

/// A WebSocket server on a loopback port that does `act` with each
/// connection; its base URL.
async fn raw_server<F, Fut>(act: F) -> String
where
    F: Fn(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(socket) = tokio_tungstenite::accept_async(tcp).await {
                act(socket).await;
            }
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_frame_over_the_limit_ends_the_stream_with_too_large() {
    let url = raw_server(|mut socket| async move {
        let frame =
            Frame::message("#identity", &serde_json::json!({"pad": "y".repeat(4000)})).unwrap();
        let _ = socket
            .send(tokio_tungstenite::tungstenite::Message::Binary(
                frame.to_bytes(),
            ))
            .await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let client = Client::new(&url).unwrap();
    let mut stream = client
        .subscribe(SubscribeRepos, &subscribe_repos::Params::default())
        .max_frame_size(1024);
    assert!(matches!(
        next(&mut stream).await,
        Some(Err(SubscriptionError::TooLarge { limit: 1024 }))
    ));
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn a_server_closing_mid_frame_is_a_transport_error_then_the_end() {
    use tokio::io::AsyncWriteExt as _;
    let url = raw_server(|mut socket| async move {
        // A binary frame announcing 4096 bytes, of which 3 are sent.
        let tcp = socket.get_mut();
        let _ = tcp
            .write_all(&[0x82, 126, 0x10, 0x00, 0xa2, 0x61, 0x74])
            .await;
        let _ = tcp.shutdown().await;
    })
    .await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(SubscribeRepos, &subscribe_repos::Params::default());
    assert!(matches!(
        next(&mut stream).await,
        Some(Err(SubscriptionError::Transport(_)))
    ));
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn text_messages_and_bad_frames_are_error_items_and_the_stream_goes_on() {
    let url = raw_server(|mut socket| async move {
        use tokio_tungstenite::tungstenite::Message as Ws;
        let good = Frame::of_message::<SubscribeRepos>(&commit(1, "after")).unwrap();
        let truncated = good.as_bytes()[..good.len() / 2].to_vec();
        let mut op2 = cbor::to_vec(&serde_json::json!({"op": 2, "t": "#commit"})).unwrap();
        op2.extend(cbor::to_vec(&serde_json::json!({})).unwrap());
        let not_a_commit = Frame::message(
            "#commit",
            &serde_json::json!({"seq": 1, "did": DID, "time": "2024-11-01T12:00:00.000Z"}),
        )
        .unwrap();
        let mut bad_error = cbor::to_vec(&serde_json::json!({"op": -1})).unwrap();
        bad_error.extend(cbor::to_vec(&serde_json::json!({"message": 3})).unwrap());
        for message in [
            Ws::text("hello"),
            Ws::binary(vec![0xff, 0x00]),
            Ws::binary(truncated),
            Ws::binary(op2),
            Ws::binary(not_a_commit.to_bytes()),
            Ws::binary(bad_error),
            Ws::binary(good.to_bytes()),
        ] {
            let _ = socket.send(message).await;
        }
        let _ = socket.close(None).await;
    })
    .await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(SubscribeRepos, &subscribe_repos::Params::default());
    let mut frame_error = async || match next(&mut stream).await {
        Some(Err(SubscriptionError::Frame(error))) => error,
        other => panic!("expected a frame error, got {other:?}"),
    };
    assert_eq!(frame_error().await, FrameError::Text(5));
    assert!(matches!(frame_error().await, FrameError::Header(_)));
    match frame_error().await {
        FrameError::Body { type_name, .. } => {
            assert_eq!(type_name, "com.atproto.sync.subscribeRepos#commit")
        }
        other => panic!("expected a body error, got {other:?}"),
    }
    assert_eq!(frame_error().await, FrameError::Op(2));
    match frame_error().await {
        FrameError::Body { type_name, error } => {
            assert_eq!(type_name, "com.atproto.sync.subscribeRepos#commit");
            assert!(error.to_string().contains("missing field"), "{error}");
        }
        other => panic!("expected a body error, got {other:?}"),
    }
    assert!(matches!(frame_error().await, FrameError::ErrorBody(_)));
    // After six bad messages, the good one, then the normal end.
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 1);
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn a_silent_server_is_a_transport_error_after_the_idle_timeout() {
    let url = raw_server(|socket| async move {
        // Handshake done, then nothing: no frame, no ping, no close.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let client = Client::new(&url).unwrap();
    let mut stream = client
        .subscribe(SubscribeRepos, &subscribe_repos::Params::default())
        .idle_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    match next(&mut stream).await {
        Some(Err(SubscriptionError::Transport(reason))) => {
            assert!(reason.contains("nothing received"), "{reason}")
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn a_close_with_an_error_code_is_closed_with_its_reason() {
    let url = raw_server(|mut socket| async move {
        use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};
        let _ = socket
            .close(Some(CloseFrame {
                code: CloseCode::Error,
                reason: "relay restarting".into(),
            }))
            .await;
    })
    .await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(SubscribeRepos, &subscribe_repos::Params::default());
    match next(&mut stream).await {
        Some(Err(error @ SubscriptionError::Closed { code: 1011, .. })) => {
            assert!(error.to_string().contains("relay restarting"), "{error}");
            assert!(error.is_retryable());
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn a_subscriber_sending_more_than_the_server_reads_is_disconnected() {
    use tokio_tungstenite::tungstenite::Message as Ws;
    let log = EventLog::<SubscribeRepos>::new();
    let url = serve_log(&log, None).await;
    let ws = format!(
        "{}/xrpc/com.atproto.sync.subscribeRepos",
        url.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws).await.unwrap();
    // Subscribers send control frames only; the server reads 64 KiB at most.
    let _ = socket.send(Ws::binary(vec![0u8; 256 * 1024])).await;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match socket.next().await {
                Some(Ok(Ws::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server keeps the connection open");
    // The server goes on serving others.
    let client = Client::new(&url).unwrap();
    let mut stream = client.subscribe(
        SubscribeRepos,
        &subscribe_repos::Params::new().with_cursor(0),
    );
    log.append(|seq| commit(seq, "still here")).unwrap();
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 1);
}

#[test]
fn bad_frames_decode_to_errors_naming_what_is_wrong() {
    let decode = |bytes: &[u8]| decode_message::<SubscribeRepos>(bytes, true);
    let good = Frame::of_message::<SubscribeRepos>(&commit(1, "hi")).unwrap();
    let bytes = good.as_bytes();
    assert!(decode(bytes).is_ok());

    // Every truncation is an error, none a panic.
    for end in 0..bytes.len() {
        assert!(
            matches!(decode(&bytes[..end]), Err(SubscriptionError::Frame(_))),
            "cut at {end}"
        );
    }
    // Garbage.
    assert!(matches!(
        decode(b"\xff\xfe\xfd"),
        Err(SubscriptionError::Frame(FrameError::Header(_)))
    ));
    // An op neither 1 nor -1.
    let mut op2 = cbor::to_vec(&serde_json::json!({"op": 2, "t": "#commit"})).unwrap();
    op2.extend(cbor::to_vec(&serde_json::json!({})).unwrap());
    assert!(matches!(
        decode(&op2),
        Err(SubscriptionError::Frame(FrameError::Op(2)))
    ));
    // A message without `t`.
    let mut untyped = cbor::to_vec(&serde_json::json!({"op": 1})).unwrap();
    untyped.extend(cbor::to_vec(&serde_json::json!({})).unwrap());
    assert!(matches!(
        decode(&untyped),
        Err(SubscriptionError::Frame(FrameError::MissingType))
    ));
    // A body that is not what `t` names: an #identity body under #commit.
    let identity = Frame::message(
        "#commit",
        &serde_json::json!({"seq": 1, "did": DID, "time": "2024-11-01T12:00:00.000Z"}),
    )
    .unwrap();
    match decode(identity.as_bytes()) {
        Err(SubscriptionError::Frame(FrameError::Body { type_name, error })) => {
            assert_eq!(type_name, "com.atproto.sync.subscribeRepos#commit");
            assert!(error.to_string().contains("missing field"), "{error}");
        }
        other => panic!("expected a body error, got {other:?}"),
    }
    // An error frame whose body is not {"error", "message"}.
    let mut bad_error = cbor::to_vec(&serde_json::json!({"op": -1})).unwrap();
    bad_error.extend(cbor::to_vec(&serde_json::json!({"message": 3})).unwrap());
    assert!(matches!(
        decode(&bad_error),
        Err(SubscriptionError::Frame(FrameError::ErrorBody(_)))
    ));
    // Trailing bytes after the body.
    let mut trailing = bytes.to_vec();
    trailing.push(0);
    assert!(matches!(
        decode(&trailing),
        Err(SubscriptionError::Frame(FrameError::Body { .. }))
    ));
}

#[test]
fn a_block_whose_bytes_do_not_match_its_cid_fails_the_commit() {
    let Message::Commit(mut commit) = commit(1, "tampered") else {
        unreachable!()
    };
    // Change one byte of the record's text inside the CAR.
    let blocks = &mut commit.blocks.0;
    let at = blocks.windows(8).position(|w| w == b"tampered").unwrap();
    blocks[at] = b'T';
    let error = commit.decode_ops::<Post>().err().expect("a CID mismatch");
    assert!(matches!(error, atlex::car::CarError::Verify(_)), "{error}");
    assert!(error.to_string().contains("hash to"), "{error}");

    // A CAR cut short, and bytes that are no CAR.
    let Message::Commit(mut commit) = self::commit(1, "cut") else {
        unreachable!()
    };
    let whole = commit.blocks.0.clone();
    for end in [0, 1, whole.len() / 3, whole.len() - 1] {
        commit.blocks.0 = whole[..end].to_vec();
        assert!(commit.decode_ops::<Post>().is_err(), "a CAR cut at {end}");
    }
    commit.blocks.0 = b"not a CAR at all".to_vec();
    assert!(commit.decode_ops::<Post>().is_err());

    // An op naming a block the CAR does not hold.
    let Message::Commit(mut commit) = self::commit(1, "missing") else {
        unreachable!()
    };
    commit.ops[0].cid = Some(CidLink(cbor::cid_for(0x71, b"elsewhere")));
    let op = commit.decode_ops::<Post>().unwrap().next().unwrap();
    assert!(matches!(
        op,
        Err(atlex::firehose::OpError::MissingBlock { .. })
    ));
}

#[path = "common/heap.rs"]
mod heap;

#[test]
fn a_consumer_that_never_reads_costs_the_server_bounded_memory() {
    use tokio_tungstenite::tungstenite::Message as Ws;
    // Server, consumers and appends all on this thread, so that its heap
    // is theirs.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        const MAX_BYTES: usize = 1 << 20;
        const WRITE_BUFFER: usize = 64 * 1024;
        const APPENDED: usize = 4096;
        let log = EventLog::<SubscribeRepos>::builder()
            .max_events(usize::MAX)
            .max_bytes(MAX_BYTES)
            .build();
        let url = serve_log(&log, Some(WRITE_BUFFER)).await;
        let ws = format!(
            "{}/xrpc/com.atproto.sync.subscribeRepos?cursor=0",
            url.replace("http://", "ws://")
        );
        let (mut silent, _) = tokio_tungstenite::connect_async(&ws).await.unwrap();
        let (mut healthy, _) = tokio_tungstenite::connect_async(&ws).await.unwrap();
        let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let reader = {
            let received = Arc::clone(&received);
            tokio::spawn(async move {
                while let Some(Ok(message)) = healthy.next().await {
                    if let Ws::Binary(bytes) = message {
                        assert!(decode_message::<SubscribeRepos>(&bytes, false).is_ok());
                        let n = received.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
                        if n == APPENDED {
                            break;
                        }
                    }
                }
            })
        };
        // 16 KiB frames: 64 MiB appended in all, 64 times what the log keeps.
        let template = Frame::of_message::<SubscribeRepos>(&commit(1, &"x".repeat(16 * 1024)))
            .unwrap()
            .to_bytes();
        let frame_len = template.len();
        heap::start();
        let mut largest_log = 0;
        for appended in 1..=APPENDED {
            // A new allocation for each frame, as a server encodes each
            // event anew.
            log.append_frame(|_| Frame::from_bytes(template.to_vec()).map_err(|e| panic!("{e}")))
                .unwrap();
            largest_log = largest_log.max(log.bytes());
            // The healthy consumer stays within a few frames of the newest.
            while received.load(std::sync::atomic::Ordering::Acquire) + 4 < appended {
                tokio::task::yield_now().await;
            }
        }
        reader.await.unwrap();
        let peak = heap::stop();
        assert_eq!(
            received.load(std::sync::atomic::Ordering::Acquire),
            APPENDED
        );
        assert!(
            largest_log <= MAX_BYTES,
            "the log keeps {largest_log} bytes"
        );
        // What the server may hold: the log, the frames the slow
        // subscriber took from it before it was dropped (64), and each
        // connection's write buffer and frame in hand; 1 MiB for the rest
        // (the connections' read buffers, the tasks).
        let bound = MAX_BYTES + 64 * frame_len + 2 * (WRITE_BUFFER + 2 * frame_len) + (1 << 20);
        assert!(
            peak > MAX_BYTES as isize / 2 && (peak as usize) < bound,
            "the heap grew by at most {peak} bytes (bound {bound}) while {} were appended",
            APPENDED * frame_len
        );
        assert!(heap::live() < peak);
        // The silent consumer was dropped: it reads what the connection
        // held, then the stream ends (with `ConsumerTooSlow` if the server
        // could still send it) rather than going on.
        let mut frames = 0;
        loop {
            match tokio::time::timeout(Duration::from_secs(20), silent.next())
                .await
                .expect("no hang")
            {
                Some(Ok(Ws::Binary(bytes))) => {
                    match decode_message::<SubscribeRepos>(&bytes, false) {
                        Ok(_) => frames += 1,
                        Err(SubscriptionError::Endpoint(ReposError::ConsumerTooSlow {
                            ..
                        })) => break,
                        Err(other) => panic!("after {frames} frames: {other}"),
                    }
                }
                // The farewell gave up (2 s) before the consumer read.
                Some(Ok(Ws::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            }
        }
        assert!(frames < APPENDED / 2, "{frames} frames before the end");
    });
}
