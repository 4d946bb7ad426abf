//! Event-stream subprotocols end to end on loopback: the server negotiates
//! `xrpc.v0.cbor`, `xrpc.v1.json` and `xrpc.v1.cbor` over one event log of
//! `v0` frames, and `Client::subscribe` asks for one and reads it.
//!
//! The server's side is checked with a handshake written by hand, so that
//! what it echoes (or does not) is seen as sent; the client's against the
//! same server.

#![cfg(all(feature = "server", feature = "client", feature = "subscriptions"))]

use std::sync::Arc;
use std::time::Duration;

use atlex::service::{Registry, SubscriptionRequest};
use atlex::subscription::{EventLog, Subprotocol, SubscriptionError, decode_frame};
use futures_util::StreamExt as _;
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
