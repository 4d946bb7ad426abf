//! `Client::subscribe` against WebSocket servers on loopback: the cursor a
//! stream keeps (`EventStream::last_seq`) across dropped `next()` calls and
//! reconnects, and that no message is lost or repeated around them.

#![cfg(all(feature = "client", feature = "subscriptions"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atlex::client::{Client, EventStream, FutureCursor, Reconnect};
use atlex::subscription::{Frame, SubscriptionError};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::AsyncWriteExt as _;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

#[path = "common/events.rs"]
mod events;

use events::{Message, Subscribe};

type Item = Result<Message, SubscriptionError<events::Error>>;

/// The frame of tick `seq`.
fn tick(seq: i64) -> Vec<u8> {
    Frame::message("#tick", &serde_json::json!({ "seq": seq }))
        .unwrap()
        .to_bytes()
        .to_vec()
}

/// `payload` as an unmasked binary WebSocket frame (what a server sends).
fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x82];
    match u16::try_from(payload.len()) {
        Ok(len @ 0..126) => frame.push(len as u8),
        Ok(len) => {
            frame.push(126);
            frame.extend(len.to_be_bytes());
        }
        Err(_) => {
            frame.push(127);
            frame.extend((payload.len() as u64).to_be_bytes());
        }
    }
    frame.extend(payload);
    frame
}

/// Sends tick `seq` in two writes `pause` apart, cut in the middle of its
/// body: a reader that stops in between has taken half the message off the
/// connection.
async fn send_split(
    socket: &mut WebSocketStream<tokio::net::TcpStream>,
    seq: i64,
    pause: Duration,
) {
    let bytes = ws_frame(&tick(seq));
    let (first, rest) = bytes.split_at(bytes.len() / 2);
    let tcp = socket.get_mut();
    tcp.write_all(first).await.unwrap();
    tcp.flush().await.unwrap();
    tokio::time::sleep(pause).await;
    tcp.write_all(rest).await.unwrap();
    tcp.flush().await.unwrap();
}

/// A WebSocket server on a loopback port that does `act` with each
/// connection, given the number of the connection (from 0) and its
/// `cursor` parameter; the base URL, and the cursors connections came with.
async fn serve<F, Fut>(act: F) -> (String, Arc<Mutex<Vec<Option<String>>>>)
where
    F: Fn(usize, Option<i64>, WebSocketStream<tokio::net::TcpStream>) -> Fut
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let cursors = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&cursors);
    tokio::spawn(async move {
        let mut count = 0;
        while let Ok((tcp, _)) = listener.accept().await {
            let mut cursor = None;
            // The callback's signature is tungstenite's.
            #[allow(clippy::result_large_err)]
            let callback = |request: &Request, response: Response| {
                cursor = form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
                    .find(|(name, _)| name == "cursor")
                    .map(|(_, value)| value.into_owned());
                Ok(response)
            };
            if let Ok(socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                seen.lock().unwrap().push(cursor.clone());
                let cursor = cursor.map(|cursor| cursor.parse().unwrap());
                tokio::spawn(act(count, cursor, socket));
                count += 1;
            }
        }
    });
    (format!("http://{address}"), cursors)
}

fn stream(url: &str) -> EventStream<Subscribe> {
    Client::new(url)
        .unwrap()
        .subscribe(Subscribe, &events::Params::default())
}

fn seq_of(item: &Item) -> i64 {
    match item {
        Ok(Message::Tick(tick)) => tick.seq,
        other => panic!("expected a tick, got {other:?}"),
    }
}

async fn next(stream: &mut EventStream<Subscribe>) -> Option<Item> {
    tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("the stream answers within 20 s")
}

#[tokio::test]
async fn last_seq_is_kept_through_a_timed_out_next_and_the_half_read_message_follows() {
    let (url, _) = serve(|_, _, mut socket| async move {
        socket.send(Ws::binary(tick(1))).await.unwrap();
        send_split(&mut socket, 2, Duration::from_millis(800)).await;
        socket.send(Ws::binary(tick(3))).await.unwrap();
        let _ = socket.close(None).await;
    })
    .await;
    let mut stream = stream(&url);
    assert_eq!(stream.last_seq(), None);
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 1);
    assert_eq!(stream.last_seq(), Some(1));
    // The first half of tick 2 arrives, the rest only after the timeout.
    let timed_out = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(timed_out.is_err(), "{timed_out:?}");
    assert_eq!(stream.last_seq(), Some(1));
    assert!(
        format!("{stream:?}").contains("last_seq: Some(1)"),
        "{stream:?}"
    );
    // The read the dropped `next()` started goes on: tick 2, whole.
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 2);
    assert_eq!(stream.last_seq(), Some(2));
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 3);
    assert_eq!(stream.last_seq(), Some(3));
    assert!(next(&mut stream).await.is_none());
    assert_eq!(stream.last_seq(), Some(3));
}

#[tokio::test]
async fn last_seq_is_kept_when_next_loses_a_select() {
    let (url, _) = serve(|_, _, mut socket| async move {
        socket.send(Ws::binary(tick(1))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        socket.send(Ws::binary(tick(2))).await.unwrap();
        let _ = socket.close(None).await;
    })
    .await;
    let mut stream = stream(&url);
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 1);
    let mut lost = 0;
    loop {
        tokio::select! {
            item = stream.next() => {
                assert_eq!(seq_of(&item.unwrap()), 2);
                break;
            }
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                lost += 1;
                assert_eq!(stream.last_seq(), Some(1));
            }
        }
    }
    assert!(lost >= 5, "next() lost {lost} races");
    assert_eq!(stream.last_seq(), Some(2));
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn many_cancelled_reads_lose_and_repeat_nothing() {
    const TICKS: i64 = 200;
    let (url, _) = serve(|_, _, mut socket| async move {
        for seq in 1..=TICKS {
            if seq % 2 == 0 {
                send_split(&mut socket, seq, Duration::from_millis(2)).await;
            } else {
                socket.send(Ws::binary(tick(seq))).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let _ = socket.close(None).await;
    })
    .await;
    let mut stream = stream(&url);
    let mut seqs = Vec::new();
    let mut cancelled = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "after {seqs:?}");
        tokio::select! {
            item = stream.next() => match item {
                Some(item) => {
                    seqs.push(seq_of(&item));
                    assert_eq!(stream.last_seq(), seqs.last().copied());
                }
                None => break,
            },
            () = tokio::time::sleep(Duration::from_micros(500)) => {
                cancelled += 1;
                assert_eq!(stream.last_seq(), seqs.last().copied());
            }
        }
    }
    assert_eq!(seqs, (1..=TICKS).collect::<Vec<_>>());
    assert!(cancelled > 0);
}

#[tokio::test]
async fn a_reconnect_resumes_from_last_seq() {
    // Each connection sends the two ticks after its cursor, then closes
    // with an error; the client comes back after a backoff.
    let (url, cursors) = serve(|_, cursor, mut socket| async move {
        let from = cursor.unwrap_or(0);
        for seq in from + 1..=from + 2 {
            socket.send(Ws::binary(tick(seq))).await.unwrap();
        }
        let _ = socket
            .close(Some(CloseFrame {
                code: CloseCode::Error,
                reason: "restarting".into(),
            }))
            .await;
    })
    .await;
    let mut stream = stream(&url).reconnect(Reconnect {
        initial: Duration::from_millis(600),
        max: Duration::from_millis(600),
        max_attempts: Some(5),
        jitter: false,
    });
    let mut seqs = Vec::new();
    while seqs.len() < 6 {
        match next(&mut stream).await.unwrap() {
            Err(SubscriptionError::Closed { code: 1011, .. }) => {
                assert_eq!(stream.last_seq(), seqs.last().copied());
                // While the stream waits to reconnect, a `next()` that
                // gives up leaves the cursor as it was.
                let waiting = tokio::time::timeout(Duration::from_millis(100), stream.next()).await;
                assert!(waiting.is_err(), "{waiting:?}");
                assert_eq!(stream.last_seq(), seqs.last().copied());
            }
            item => {
                seqs.push(seq_of(&item));
                assert_eq!(stream.last_seq(), seqs.last().copied());
            }
        }
    }
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    let cursors = cursors.lock().unwrap().clone();
    assert_eq!(cursors, [None, Some("2".to_owned()), Some("4".to_owned())]);
}

/// A relay that lost its sequence (its numbering starts again at 1): a
/// consumer's cursor of 50 is ahead of it, and it answers `FutureCursor`.
/// With `on_future_cursor(Live)` the stream hands out that error, then
/// opens again without a cursor and goes on with the relay's new numbers;
/// with `FromOldest` it asks from 0; by default it ends.
#[tokio::test]
async fn a_future_cursor_is_recovered_from_as_asked() {
    // The relay keeps ticks 1 and 2 of its new numbering, and tick 3 is
    // new: a cursor gets the kept ticks after it, then tick 3; no cursor,
    // tick 3 alone; a cursor past 2 is in the future.
    let relay = |_, cursor: Option<i64>, mut socket: WebSocketStream<tokio::net::TcpStream>| async move {
        if cursor.is_some_and(|cursor| cursor > 2) {
            let frame = Frame::error("FutureCursor", Some("cursor in the future"));
            let _ = socket.send(Ws::binary(frame.to_bytes().to_vec())).await;
            let _ = socket.close(None).await;
            return;
        }
        let kept = cursor.map_or(3, |cursor| cursor + 1);
        for seq in kept..=3 {
            socket.send(Ws::binary(tick(seq))).await.unwrap();
        }
        // Stays open: the consumer is live.
        tokio::time::sleep(Duration::from_secs(30)).await;
    };
    let policy = Reconnect {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(50),
        max_attempts: Some(3),
        jitter: false,
    };
    let ahead = |url: &str| {
        Client::new(url)
            .unwrap()
            .subscribe(Subscribe, &events::Params { cursor: Some(50) })
            .reconnect(policy.clone())
    };
    let is_future_cursor = |item: &Item| {
        matches!(
            item,
            Err(SubscriptionError::Endpoint(
                events::Error::FutureCursor { .. }
            ))
        )
    };

    for (recovery, expected) in [
        (FutureCursor::Live, vec![None]),
        (FutureCursor::FromOldest, vec![Some("0".to_owned())]),
    ] {
        let (url, cursors) = serve(relay).await;
        let mut stream = ahead(&url).on_future_cursor(recovery);
        assert!(is_future_cursor(&next(&mut stream).await.unwrap()));
        // The seq before the relay lost its numbering stays until a message
        // of the new one is handed out.
        assert_eq!(stream.last_seq(), None);
        let seqs = match recovery {
            FutureCursor::FromOldest => vec![1, 2, 3],
            _ => vec![3],
        };
        for seq in seqs {
            assert_eq!(seq_of(&next(&mut stream).await.unwrap()), seq);
        }
        assert_eq!(stream.last_seq(), Some(3));
        let cursors = cursors.lock().unwrap().clone();
        let mut wanted = vec![Some("50".to_owned())];
        wanted.extend(expected);
        assert_eq!(cursors, wanted, "{recovery:?}");
    }

    // By default the stream ends after the error.
    let (url, cursors) = serve(relay).await;
    let mut stream = ahead(&url);
    assert!(is_future_cursor(&next(&mut stream).await.unwrap()));
    assert!(next(&mut stream).await.is_none());
    assert_eq!(cursors.lock().unwrap().len(), 1);
}

/// Authenticates each handshake with a numbered header, keeps the nonce a
/// refusal gives and asks for the handshake again; records what it saw.
#[derive(Default)]
struct NonceHook {
    sent: std::sync::atomic::AtomicUsize,
    nonce: Mutex<Option<String>>,
    /// Per answer: the URL it was given, the status, the error name.
    seen: Mutex<Vec<(String, u16, Option<String>)>>,
}

impl atlex::client::Authenticate for NonceHook {
    fn headers<'a>(
        &'a self,
        _request: &'a atlex::client::AuthRequest<'a>,
    ) -> atlex::client::AuthFuture<'a, http::HeaderMap> {
        Box::pin(async move {
            let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut headers = http::HeaderMap::new();
            headers.insert("authorization", format!("Test {n}").parse()?);
            if let Some(nonce) = self.nonce.lock().unwrap().clone() {
                headers.insert("dpop", nonce.parse()?);
            }
            Ok(headers)
        })
    }

    fn answer<'a>(
        &'a self,
        request: &'a atlex::client::AuthRequest<'a>,
        answer: &'a atlex::client::AuthAnswer<'a>,
    ) -> atlex::client::AuthFuture<'a, atlex::client::AuthVerdict> {
        Box::pin(async move {
            self.seen.lock().unwrap().push((
                request.url.to_string(),
                answer.status.as_u16(),
                answer.error.map(str::to_owned),
            ));
            let nonce = answer
                .headers
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok());
            Ok(match nonce {
                Some(nonce) => {
                    *self.nonce.lock().unwrap() = Some(nonce.to_owned());
                    atlex::client::AuthVerdict::Retry
                }
                None => atlex::client::AuthVerdict::Accept,
            })
        })
    }
}

#[tokio::test]
async fn an_authenticate_hook_signs_the_handshake_and_may_have_it_made_again() {
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            // The callback's signature is tungstenite's.
            #[allow(clippy::result_large_err)]
            let callback = move |request: &Request, response: Response| {
                let header = |name| {
                    request
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                log.lock()
                    .unwrap()
                    .push((header("authorization"), header("dpop")));
                // Without the nonce, a PDS's answer: 401 with a fresh one.
                if header("dpop").as_deref() != Some("n-1") {
                    let mut refusal = ErrorResponse::new(Some(
                        r#"{"error":"use_dpop_nonce","message":"use the nonce"}"#.to_owned(),
                    ));
                    *refusal.status_mut() = http::StatusCode::UNAUTHORIZED;
                    refusal
                        .headers_mut()
                        .insert("dpop-nonce", "n-1".parse().unwrap());
                    return Err(refusal);
                }
                Ok(response)
            };
            if let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                socket.send(Ws::Binary(tick(1).into())).await.unwrap();
                let _ = socket.close(None).await;
            }
        }
    });
    let hook = Arc::new(NonceHook::default());
    let client = Client::builder(&format!("http://{address}"))
        .authenticate(hook.clone())
        .build()
        .unwrap();
    let mut stream = client.subscribe(Subscribe, &events::Params::default());
    assert_eq!(seq_of(&next(&mut stream).await.unwrap()), 1);
    assert_eq!(
        *received.lock().unwrap(),
        [
            (Some("Test 0".to_owned()), None),
            (Some("Test 1".to_owned()), Some("n-1".to_owned())),
        ]
    );
    // The hook saw the refusal (with its XRPC error name) and the upgrade,
    // for the subscription's URL as HTTP.
    let url = format!("http://{address}/xrpc/test.events.subscribe");
    assert_eq!(
        *hook.seen.lock().unwrap(),
        [
            (url.clone(), 401, Some("use_dpop_nonce".to_owned())),
            (url, 101, None),
        ]
    );
}
