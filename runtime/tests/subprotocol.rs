//! Event-stream subprotocols end to end on loopback: the server negotiates
//! `xrpc.v0.cbor`, `xrpc.v1.json` and `xrpc.v1.cbor` over one event log of
//! `v0` frames, and `Client::subscribe` asks for one and reads it.
//!
//! The server's side is checked with a handshake written by hand, so that
//! what it echoes (or does not) is seen as sent; the client's against the
//! same server.

#![cfg(all(feature = "server", feature = "client", feature = "subscriptions"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atlex::client::{Client, EventStream, Reconnect};
use atlex::service::{Registry, SubscriptionRequest};
use atlex::subscription::{
    EventLog, FrameError, Subprotocol, SubscriptionError, WireFrame, decode_frame, encode_message,
};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::Role;

#[path = "common/events.rs"]
mod events;

use events::{Subscribe, SubscribeJson, tick};

struct Server {
    log: EventLog<Subscribe>,
    json_log: EventLog<SubscribeJson>,
}

fn register<R: Registry<Server>>(registry: &mut R) {
    registry.add_subscription::<Subscribe, _, _>(
        |server: Arc<Server>, request: SubscriptionRequest<Subscribe>| async move {
            server.log.subscribe(request.params.cursor)
        },
    );
    registry.add_subscription::<SubscribeJson, _, _>(
        |server: Arc<Server>, request: SubscriptionRequest<SubscribeJson>| async move {
            server.json_log.subscribe(request.params.cursor)
        },
    );
}

/// A server of both subscriptions, each log holding ticks 1 to 3; its
/// address.
async fn serve() -> String {
    let log = EventLog::<Subscribe>::new();
    let json_log = EventLog::<SubscribeJson>::new();
    for _ in 0..3 {
        log.append(tick).unwrap();
        json_log.append(tick).unwrap();
    }
    let router = atlex::server::XrpcRouter::new(Server { log, json_log })
        .mount(register)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address.to_string()
}

/// Opens `path` with a handshake written by hand offering `offer` (no
/// header when `None`); the `Sec-WebSocket-Protocol` the server answered,
/// and the socket.
async fn open(
    address: &str,
    path: &str,
    offer: Option<&str>,
) -> (Option<String>, WebSocketStream<tokio::net::TcpStream>) {
    let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    if let Some(offer) = offer {
        request.push_str(&format!("Sec-WebSocket-Protocol: {offer}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    // The response head, a byte at a time so that no frame after it is
    // taken off the connection.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let echoed = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-protocol")
            .then(|| value.trim().to_owned())
    });
    let socket = WebSocketStream::from_raw_socket(tcp, Role::Client, None).await;
    (echoed, socket)
}

/// The next data message of `socket`, within 10 s.
async fn next_message(socket: &mut WebSocketStream<tokio::net::TcpStream>) -> Ws {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the stream goes on")
            .unwrap();
        if matches!(message, Ws::Text(_) | Ws::Binary(_)) {
            return message;
        }
    }
}

#[tokio::test]
async fn one_log_serves_every_subprotocol_as_negotiated() {
    let address = serve().await;
    let path = "/xrpc/test.events.subscribe?cursor=0";
    // (offered, echoed, what the frames are)
    let cases: [(Option<&str>, Option<&str>, Subprotocol); 6] = [
        (None, None, Subprotocol::V0Cbor),
        (
            Some("xrpc.v1.json"),
            Some("xrpc.v1.json"),
            Subprotocol::V1Json,
        ),
        (
            Some("xrpc.v1.cbor"),
            Some("xrpc.v1.cbor"),
            Subprotocol::V1Cbor,
        ),
        // The client's order decides, junk is passed over.
        (
            Some("junk, xrpc.v1.cbor, xrpc.v1.json"),
            Some("xrpc.v1.cbor"),
            Subprotocol::V1Cbor,
        ),
        (
            Some("xrpc.v0.cbor, xrpc.v1.json"),
            Some("xrpc.v0.cbor"),
            Subprotocol::V0Cbor,
        ),
        // Nothing known: the lexicon's default, nothing echoed.
        (Some("junk, xrpc.v2.json"), None, Subprotocol::V0Cbor),
    ];
    for (offer, echo, subprotocol) in cases {
        let (echoed, mut socket) = open(&address, path, offer).await;
        assert_eq!(echoed.as_deref(), echo, "{offer:?}");
        for seq in 1..=3 {
            let message = next_message(&mut socket).await;
            assert_eq!(
                matches!(message, Ws::Text(_)),
                subprotocol == Subprotocol::V1Json,
                "{offer:?}: {message:?}"
            );
            if subprotocol == Subprotocol::V1Json {
                let text = message.to_text().unwrap();
                assert_eq!(
                    serde_json::from_str::<serde_json::Value>(text).unwrap(),
                    serde_json::json!({
                        "$type": "message",
                        "payload": {"$type": "test.events.subscribe#tick", "seq": seq},
                    }),
                );
            }
            let decoded =
                decode_frame::<Subscribe>(subprotocol, &message.into_data(), 1 << 20, false);
            assert_eq!(decoded.unwrap(), tick(seq), "{offer:?}");
        }
    }
}

#[tokio::test]
async fn errors_are_written_in_the_negotiated_subprotocol() {
    let address = serve().await;
    let path = "/xrpc/test.events.subscribe?cursor=99";
    for (offer, subprotocol) in [
        (None, Subprotocol::V0Cbor),
        (Some("xrpc.v1.json"), Subprotocol::V1Json),
        (Some("xrpc.v1.cbor"), Subprotocol::V1Cbor),
    ] {
        let (_, mut socket) = open(&address, path, offer).await;
        let message = next_message(&mut socket).await;
        if subprotocol == Subprotocol::V1Json {
            let json: serde_json::Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
            assert_eq!(json["$type"], "error");
            assert_eq!(json["error"], "FutureCursor");
        }
        match decode_frame::<Subscribe>(subprotocol, &message.into_data(), 1 << 20, false) {
            Err(SubscriptionError::Endpoint(events::Error::FutureCursor { .. })) => {}
            other => panic!("{offer:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_lexicon_default_applies_to_connections_that_negotiate_nothing() {
    let address = serve().await;
    let path = "/xrpc/test.events.subscribeJson?cursor=0";
    for (offer, echo, subprotocol) in [
        (None, None, Subprotocol::V1Json),
        (Some("junk"), None, Subprotocol::V1Json),
        (
            Some("xrpc.v0.cbor"),
            Some("xrpc.v0.cbor"),
            Subprotocol::V0Cbor,
        ),
    ] {
        let (echoed, mut socket) = open(&address, path, offer).await;
        assert_eq!(echoed.as_deref(), echo, "{offer:?}");
        let message = next_message(&mut socket).await;
        assert_eq!(
            matches!(message, Ws::Text(_)),
            subprotocol == Subprotocol::V1Json
        );
        let decoded =
            decode_frame::<SubscribeJson>(subprotocol, &message.into_data(), 1 << 20, false);
        assert_eq!(decoded.unwrap(), tick(1), "{offer:?}");
    }
}

/// A stream of `S` from the server at `address` with `params`' cursor.
fn client_stream<S: atlex::xrpc::Subscription<Params = events::Params>>(
    address: &str,
    subscription: S,
    cursor: Option<i64>,
) -> EventStream<S> {
    Client::new(&format!("http://{address}"))
        .unwrap()
        .subscribe(subscription, &events::Params { cursor })
}

/// The next item of `stream`, within 10 s.
async fn next_item<S: atlex::xrpc::Subscription>(
    stream: &mut EventStream<S>,
) -> Result<S::Message, SubscriptionError<S::Error>> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an item within 10 s")
        .expect("the stream goes on")
}

#[tokio::test]
async fn the_client_reads_the_subprotocol_it_asks_for_and_keeps_its_cursor() {
    let address = serve().await;
    for asked in [
        None,
        Some(Subprotocol::V0Cbor),
        Some(Subprotocol::V1Json),
        Some(Subprotocol::V1Cbor),
    ] {
        let mut stream = client_stream(&address, Subscribe, Some(0));
        if let Some(asked) = asked {
            stream = stream.subprotocol(asked);
        }
        for seq in 1..=2 {
            assert_eq!(
                next_item(&mut stream).await.unwrap(),
                tick(seq),
                "{asked:?}"
            );
        }
        assert_eq!(stream.last_seq(), Some(2), "{asked:?}");
        // A later stream resumes after it.
        let mut resumed = client_stream(&address, Subscribe, stream.last_seq());
        if let Some(asked) = asked {
            resumed = resumed.subprotocol(asked);
        }
        assert_eq!(next_item(&mut resumed).await.unwrap(), tick(3), "{asked:?}");
        assert_eq!(resumed.last_seq(), Some(3));
    }
    // A subscription whose default is `xrpc.v1.json`, asked for nothing.
    let mut stream = client_stream(&address, SubscribeJson, Some(1));
    assert_eq!(next_item(&mut stream).await.unwrap(), tick(2));
    assert_eq!(stream.last_seq(), Some(2));
    // An error frame in `v1` ends the stream with the typed error.
    let mut ahead = client_stream(&address, Subscribe, Some(99)).subprotocol(Subprotocol::V1Json);
    assert!(matches!(
        next_item(&mut ahead).await,
        Err(SubscriptionError::Endpoint(
            events::Error::FutureCursor { .. }
        ))
    ));
}

/// What a connection to [`serve_raw`] came with: its cursor and the
/// `Sec-WebSocket-Protocol` it offered.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// A WebSocket server that knows only the subprotocol `echo` (it echoes it
/// when offered, and nothing else) and does `act` with each connection,
/// given its cursor; its address, and what each connection came with.
async fn serve_raw<F, Fut>(echo: Option<&'static str>, act: F) -> (String, Seen)
where
    F: Fn(Option<i64>, WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let mut came = (None, None);
            // The callback's signature is tungstenite's.
            #[allow(clippy::result_large_err)]
            let callback = |request: &Request, mut response: Response| {
                came.0 = form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
                    .find(|(name, _)| name == "cursor")
                    .map(|(_, value)| value.into_owned());
                came.1 = request
                    .headers()
                    .get("sec-websocket-protocol")
                    .map(|value| value.to_str().unwrap().to_owned());
                if let (Some(echo), Some(offered)) = (echo, &came.1)
                    && offered.split(',').any(|token| token.trim() == echo)
                {
                    response
                        .headers_mut()
                        .insert("sec-websocket-protocol", echo.parse().unwrap());
                }
                Ok(response)
            };
            if let Ok(socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                let cursor = came.0.as_deref().map(|cursor| cursor.parse().unwrap());
                record.lock().unwrap().push(came);
                tokio::spawn(act(cursor, socket));
            }
        }
    });
    (address, seen)
}

/// The `xrpc.v1.json` frame of tick `seq`.
fn json_tick(seq: i64) -> String {
    match encode_message::<Subscribe>(&tick(seq), Subprotocol::V1Json).unwrap() {
        WireFrame::Text(text) => text,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_knows_no_subprotocol_is_asked_again_without_one() {
    // It sends `v0` frames and echoes nothing.
    let (address, seen) = serve_raw(None, |_, mut socket| async move {
        let frame = encode_message::<Subscribe>(&tick(1), Subprotocol::V0Cbor).unwrap();
        socket
            .send(Ws::binary(frame.as_bytes().to_vec()))
            .await
            .unwrap();
        let _ = socket.close(None).await;
    })
    .await;
    let mut stream = client_stream(&address, Subscribe, None);
    assert_eq!(next_item(&mut stream).await.unwrap(), tick(1));
    // Nothing asked, default `v0`: no header at all.
    assert_eq!(seen.lock().unwrap().clone(), [(None, None)]);
    seen.lock().unwrap().clear();
    let mut stream = client_stream(&address, Subscribe, None).subprotocol(Subprotocol::V1Json);
    assert_eq!(next_item(&mut stream).await.unwrap(), tick(1));
    assert_eq!(
        seen.lock().unwrap().clone(),
        [(None, Some("xrpc.v1.json".to_owned())), (None, None)]
    );
}

#[tokio::test]
async fn reconnects_resume_from_the_seq_of_v1_payloads() {
    // Each connection sends the two ticks after its cursor, then closes.
    let (address, seen) = serve_raw(Some("xrpc.v1.json"), |cursor, mut socket| async move {
        let from = cursor.unwrap_or(0) + 1;
        for seq in from..from + 2 {
            socket.send(Ws::text(json_tick(seq))).await.unwrap();
        }
        let _ = socket.close(None).await;
    })
    .await;
    let mut stream = client_stream(&address, Subscribe, None)
        .subprotocol(Subprotocol::V1Json)
        .reconnect(Reconnect {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(10),
            max_attempts: None,
            jitter: false,
        });
    for seq in 1..=6 {
        assert_eq!(next_item(&mut stream).await.unwrap(), tick(seq));
    }
    assert_eq!(stream.last_seq(), Some(6));
    let cursors: Vec<Option<String>> = seen.lock().unwrap().iter().map(|c| c.0.clone()).collect();
    assert_eq!(cursors, [None, Some("2".to_owned()), Some("4".to_owned())]);
}

#[tokio::test]
async fn binary_messages_go_through_the_hook_before_they_are_decoded() {
    // Frames "compressed" by reversing their bytes; then one the hook
    // refuses, one over the limit once undone.
    let (address, _) = serve_raw(Some("xrpc.v1.json"), |_, mut socket| async move {
        for seq in 1..=2 {
            let reversed: Vec<u8> = json_tick(seq).into_bytes().into_iter().rev().collect();
            socket.send(Ws::binary(reversed)).await.unwrap();
        }
        socket.send(Ws::binary(b"garbage".to_vec())).await.unwrap();
        socket.send(Ws::text(json_tick(3))).await.unwrap();
        socket.send(Ws::binary(vec![b' '; 2000])).await.unwrap();
        let _ = socket.close(None).await;
    })
    .await;
    let mut stream = client_stream(&address, Subscribe, None)
        .subprotocol(Subprotocol::V1Json)
        .max_frame_size(1000)
        .decompress_with(|message, limit| {
            if message.starts_with(b"garbage") {
                return Err("not a compressed frame".to_owned());
            }
            // Ignores the limit, so that the client's own check is seen.
            let _ = limit;
            Ok(message.iter().rev().copied().collect())
        });
    assert_eq!(next_item(&mut stream).await.unwrap(), tick(1));
    assert_eq!(next_item(&mut stream).await.unwrap(), tick(2));
    match next_item(&mut stream).await {
        Err(SubscriptionError::Frame(FrameError::Transform(reason))) => {
            assert_eq!(reason, "not a compressed frame");
        }
        other => panic!("{other:?}"),
    }
    // Text messages are frames as they are.
    assert_eq!(next_item(&mut stream).await.unwrap(), tick(3));
    assert!(matches!(
        next_item(&mut stream).await,
        Err(SubscriptionError::TooLarge { limit: 1000 })
    ));
    assert_eq!(stream.last_seq(), Some(3));
}

#[tokio::test]
async fn the_client_offers_what_it_is_asked_and_reads_what_is_echoed() {
    for p in [
        Subprotocol::V1Json,
        Subprotocol::V1Cbor,
        Subprotocol::V0Cbor,
    ] {
        // A server that knows `p` only and sends its frames.
        let (address, seen) = serve_raw(Some(p.as_str()), move |_, mut socket| async move {
            let frame = match encode_message::<Subscribe>(&tick(1), p).unwrap() {
                WireFrame::Text(text) => Ws::text(text),
                WireFrame::Binary(bytes) => Ws::binary(bytes),
            };
            socket.send(frame).await.unwrap();
            let _ = socket.close(None).await;
        })
        .await;
        let mut stream = client_stream(&address, Subscribe, None).subprotocol(p);
        assert_eq!(next_item(&mut stream).await.unwrap(), tick(1), "{p}");
        assert_eq!(stream.last_seq(), Some(1));
        // `v0` asked of a `v0` subscription needs no header.
        let offered = (p != Subprotocol::V0Cbor).then(|| p.as_str().to_owned());
        assert_eq!(seen.lock().unwrap().clone(), [(None, offered)], "{p}");
    }
    // The subscription whose default is `xrpc.v1.json` offers it unasked,
    // and offers `xrpc.v0.cbor` when asked for it.
    for (asked, offered) in [
        (None, "xrpc.v1.json"),
        (Some(Subprotocol::V0Cbor), "xrpc.v0.cbor"),
    ] {
        let (address, seen) = serve_raw(Some(offered), |_, mut socket| async move {
            let _ = socket.close(None).await;
        })
        .await;
        let mut stream = client_stream(&address, SubscribeJson, None);
        if let Some(asked) = asked {
            stream = stream.subprotocol(asked);
        }
        let end = tokio::time::timeout(Duration::from_secs(10), stream.next()).await;
        assert!(matches!(end, Ok(None)), "{end:?}");
        assert_eq!(
            seen.lock().unwrap().clone(),
            [(None, Some(offered.to_owned()))]
        );
    }
}
