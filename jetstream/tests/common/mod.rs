//! A Jetstream v1 `/subscribe` server on 127.0.0.1 for the tests: each
//! connection is answered by a script of what to send, chosen by the
//! connection's number and query.

#![allow(dead_code, unreachable_pub, clippy::result_large_err)]

pub mod events;

use atlex::server::XrpcRouter;
use atlex::service::{SubscriptionRequest, SubscriptionResult};
use atlex::subscription::EventLog;
use atlex_jetstream::v2::network::bsky::jetstream::{self, subscribe_events};

use std::sync::{Arc, Mutex};

use futures_util::SinkExt as _;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// What the server does next on a connection.
#[derive(Clone, Debug)]
pub enum Step {
    Text(String),
    Binary(Vec<u8>),
    /// Close with this code.
    Close(u16),
    /// Drop the TCP connection without a close.
    Drop,
}

/// What the server answers the handshake with.
pub enum Answer {
    Upgrade(Vec<Step>),
    /// An HTTP error with this status and body.
    Refuse(u16, String),
}

pub struct Server {
    /// `ws://127.0.0.1:<port>/subscribe`.
    pub url: String,
    /// `http://127.0.0.1:<port>`, for atlex's client.
    pub base: String,
    /// The path and query of each connection, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

/// Serves `/subscribe`: connection `n` (from 0), asked with the path and
/// query `uri`, gets `script(n, uri)`.
pub async fn serve<F>(script: F) -> Server
where
    F: Fn(usize, &str) -> Answer + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (url, base) = (format!("ws://{addr}/subscribe"), format!("http://{addr}"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let script = Arc::new(script);
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (script, seen, index) = (Arc::clone(&script), Arc::clone(&seen), n);
            n += 1;
            tokio::spawn(async move {
                let steps = Arc::new(Mutex::new(None));
                let chosen = Arc::clone(&steps);
                let callback = move |request: &Request, mut response: Response| {
                    let uri = request.uri().to_string();
                    // The first subprotocol offered is the one served.
                    let offered = request.headers().get("sec-websocket-protocol");
                    if let Some(first) = offered
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.split(',').next())
                    {
                        response
                            .headers_mut()
                            .insert("sec-websocket-protocol", first.trim().parse().unwrap());
                    }
                    seen.lock().unwrap().push(uri.clone());
                    match script(index, &uri) {
                        Answer::Upgrade(steps) => {
                            *chosen.lock().unwrap() = Some(steps);
                            Ok(response)
                        }
                        Answer::Refuse(status, body) => {
                            let mut error = ErrorResponse::new(Some(body));
                            *error.status_mut() = status.try_into().unwrap();
                            Err(error)
                        }
                    }
                };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await
                else {
                    return;
                };
                let steps = steps.lock().unwrap().take().unwrap_or_default();
                for step in steps {
                    let sent = match step {
                        Step::Text(text) => socket.send(Message::text(text)).await,
                        Step::Binary(bytes) => socket.send(Message::binary(bytes)).await,
                        Step::Close(code) => {
                            let frame = CloseFrame {
                                code: code.into(),
                                reason: "bye".into(),
                            };
                            let _ = socket.close(Some(frame)).await;
                            // Wait for the client's answer to the close.
                            while let Some(Ok(_)) = futures_util::StreamExt::next(&mut socket).await
                            {
                            }
                            return;
                        }
                        Step::Drop => return,
                    };
                    if sent.is_err() {
                        return;
                    }
                }
                // Nothing more to send: stay open until the client leaves.
                while let Some(Ok(_)) = futures_util::StreamExt::next(&mut socket).await {}
            });
        }
    });
    Server {
        url,
        base,
        requests,
    }
}

/// The value of `name` in a request's query.
pub fn query_value(uri: &str, name: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Every value of `name` in a request's query.
pub fn query_values(uri: &str, name: &str) -> Vec<String> {
    let Some((_, query)) = uri.split_once('?') else {
        return Vec::new();
    };
    form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// Jetstream v2 as atlex serves it: `subscribeEvents` from an event log.
struct Jetstream {
    log: EventLog<subscribe_events::SubscribeEvents>,
}

impl jetstream::Service for Jetstream {
    async fn subscribe_events(
        &self,
        request: SubscriptionRequest<subscribe_events::SubscribeEvents>,
    ) -> SubscriptionResult<subscribe_events::SubscribeEvents> {
        self.log.subscribe(request.params.cursor)
    }
}

/// Serves `log` on 127.0.0.1 with atlex's server; its address.
pub async fn serve_v2(log: EventLog<subscribe_events::SubscribeEvents>) -> std::net::SocketAddr {
    let app = XrpcRouter::from_arc(Arc::new(Jetstream { log }))
        .mount(jetstream::register)
        .into_router();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}
