//! One mounted subscription: the WebSocket upgrade at `/xrpc/<NSID>`, then
//! one frame per message.
//!
//! Everything that can go wrong once the client asked for the upgrade
//! (authentication, parameters, the handler's error before the stream
//! starts, an error during it) is sent as an error frame, after which the
//! connection is closed, as the event-stream specification says. A request
//! that is no WebSocket upgrade answers 400 `InvalidRequest` over HTTP.
//!
//! The subprotocol is negotiated in the handshake: the first token of the
//! client's `Sec-WebSocket-Protocol` list that names one
//! ([`Subprotocol`](atlex_core::xrpc::Subprotocol)) is chosen and echoed;
//! with none, the subscription's default (`Subscription::SUBPROTOCOL`) is
//! used and nothing is echoed. Frames are then written in it: the handler's
//! messages encoded, stored `v0` frames rewritten (one event log serves
//! every subprotocol), `xrpc.v1.json` as text messages.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Body;

use super::{ResponseFuture, Serve, Settings};
use atlex_core::xrpc::Subscription;

#[cfg(feature = "subscriptions")]
pub(super) use live::SubscriptionRoute;

/// Subscription `E` of service `S` on a server built without the
/// `subscriptions` feature: answers 501 `MethodNotImplemented`, saying why.
#[cfg(not(feature = "subscriptions"))]
pub(super) struct SubscriptionRoute<E, S, F> {
    endpoint: Unused<E, S, F>,
}

/// The route's type parameters, which it holds nothing of.
#[cfg(not(feature = "subscriptions"))]
type Unused<E, S, F> = PhantomData<fn() -> (E, S, F)>;

#[cfg(not(feature = "subscriptions"))]
impl<E, S, F> SubscriptionRoute<E, S, F> {
    pub(super) fn new(_service: Arc<S>, _handler: F, _settings: Arc<Settings>) -> Self {
        Self {
            endpoint: PhantomData,
        }
    }
}

#[cfg(not(feature = "subscriptions"))]
impl<E, S, F, Fut> Serve for SubscriptionRoute<E, S, F>
where
    E: Subscription + 'static,
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, atlex_core::service::SubscriptionRequest<E>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = atlex_core::service::SubscriptionResult<E>> + Send + 'static,
{
    fn serve(self: Arc<Self>, _request: http::Request<Body>) -> ResponseFuture {
        Box::pin(std::future::ready(super::response::common(
            &atlex_core::binding::Envelope::XRPC,
            &atlex_core::error::CommonError::MethodNotImplemented {
                message: Some(format!(
                    "{} is a subscription, and this server was built without atlex's `subscriptions` feature",
                    E::NSID
                )),
            },
        )))
    }
}

#[cfg(feature = "subscriptions")]
mod live {
    use std::panic::AssertUnwindSafe;
    use std::pin::Pin;
    use std::time::Duration;

    use axum::extract::FromRequestParts;
    use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
    use futures_util::stream::SplitSink;
    use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};

    use super::*;
    use crate::endpoint::{authenticate, read_params};
    use atlex_core::binding::{Envelope, PathTemplate};
    use atlex_core::error::CommonError;
    use atlex_core::service::{
        HandlerError, Messages, Outgoing, RequestContext, SubscriptionRequest, SubscriptionResult,
    };
    use atlex_core::subscription::{Frame, WireFrame, encode_message};
    use atlex_core::xrpc::{EndpointError, Subprotocol};

    /// The largest message a subscriber may send (subscribers send nothing
    /// but control frames).
    const MAX_INCOMING: usize = 64 * 1024;
    /// The read buffer of a subscriber's connection: subscribers send control
    /// frames only, and each read of tungstenite's buffer fills it first (its
    /// default, 128 KiB per connection, costs memory and time in a fan-out).
    const READ_BUFFER: usize = 4 * 1024;
    /// How long a last frame (an error) and the close may take to go out to a
    /// subscriber that is not reading.
    const FAREWELL: Duration = Duration::from_secs(2);

    /// Subscription `E` of service `S`, handled by `F`.
    pub(crate) struct SubscriptionRoute<E, S, F> {
        service: Arc<S>,
        handler: F,
        settings: Arc<Settings>,
        endpoint: PhantomData<fn() -> E>,
    }

    impl<E, S, F> SubscriptionRoute<E, S, F> {
        pub(crate) fn new(service: Arc<S>, handler: F, settings: Arc<Settings>) -> Self {
            Self {
                service,
                handler,
                settings,
                endpoint: PhantomData,
            }
        }
    }

    impl<E, S, F, Fut> Serve for SubscriptionRoute<E, S, F>
    where
        E: Subscription + 'static,
        S: Send + Sync + 'static,
        F: Fn(Arc<S>, SubscriptionRequest<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = SubscriptionResult<E>> + Send + 'static,
    {
        fn serve(self: Arc<Self>, request: http::Request<Body>) -> ResponseFuture {
            Box::pin(async move {
                let (mut parts, _body) = request.into_parts();
                let (subprotocol, echo) = negotiate::<E>(&parts.headers);
                let mut upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await
                {
                    Ok(upgrade) => upgrade,
                    Err(rejection) => {
                        return super::super::response::common(
                            &Envelope::XRPC,
                            &CommonError::invalid_request(format!(
                                "{} is a subscription, opened with a WebSocket upgrade: {rejection}",
                                E::NSID
                            )),
                        );
                    }
                };
                let opened = AssertUnwindSafe(self.open(parts))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Err(internal("the handler panicked")));
                let heartbeat = self.settings.heartbeat;
                if let Some(chosen) = echo {
                    upgrade.set_selected_protocol(http::HeaderValue::from_static(chosen.as_str()));
                }
                upgrade
                    .read_buffer_size(READ_BUFFER)
                    .max_message_size(MAX_INCOMING)
                    .max_frame_size(MAX_INCOMING)
                    .write_buffer_size(self.settings.subscriber_write_buffer)
                    .on_upgrade(move |socket| async move {
                        match opened {
                            Ok(messages) => {
                                serve_messages::<E>(socket, messages, heartbeat, subprotocol).await;
                            }
                            Err(frame) => {
                                let (mut sink, _) = socket.split();
                                farewell::<E>(&mut sink, Some(frame), subprotocol).await;
                            }
                        }
                    })
            })
        }
    }

    impl<E, S, F, Fut> SubscriptionRoute<E, S, F>
    where
        E: Subscription + 'static,
        S: Send + Sync + 'static,
        F: Fn(Arc<S>, SubscriptionRequest<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = SubscriptionResult<E>> + Send + 'static,
    {
        /// Authenticates, reads the parameters and calls the handler: the
        /// messages, or the error frame to send instead.
        async fn open(&self, mut parts: http::request::Parts) -> Result<Messages<E>, Frame> {
            let caller = authenticate(&self.settings, E::NSID, &mut parts)
                .await
                .map_err(|rejection| Frame::error(rejection.name(), rejection.message()))?;
            let params =
                read_params::<E::Params>(&PathTemplate::Xrpc, parts.uri.path(), parts.uri.query())
                    .map_err(|error| Frame::error(error.name(), error.message()))?;
            let request = SubscriptionRequest {
                params,
                context: RequestContext {
                    headers: parts.headers,
                    caller,
                    extensions: parts.extensions,
                },
            };
            (self.handler)(Arc::clone(&self.service), request)
                .await
                .map_err(handler_error_frame::<E::Error>)
        }
    }

    /// The subprotocol of a connection whose handshake has `headers`, and the
    /// one to echo (none when the client offered none this server knows).
    fn negotiate<E: Subscription>(headers: &http::HeaderMap) -> (Subprotocol, Option<Subprotocol>) {
        let values = headers
            .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|value| value.to_str().ok());
        Subprotocol::negotiate(Subprotocol::offered(values), E::SUBPROTOCOL)
    }

    /// The WebSocket message of a frame.
    fn ws_message(frame: WireFrame) -> Message {
        match frame {
            WireFrame::Binary(bytes) => Message::Binary(bytes),
            WireFrame::Text(text) => Message::Text(text.into()),
        }
    }

    /// The error frame of a handler's error; a name the subscription does
    /// not declare is a bug of the handler, sent as `InternalServerError`.
    fn handler_error_frame<E: EndpointError>(error: HandlerError<E>) -> Frame {
        match error {
            HandlerError::Endpoint { error, .. } => declared_error_frame(&error),
            HandlerError::Common(error) => Frame::error(error.name(), error.message()),
        }
    }

    fn declared_error_frame<E: EndpointError>(error: &E) -> Frame {
        if E::DECLARED.contains(&error.name()) {
            Frame::of_error(error)
        } else {
            internal(&format!(
                "the handler returned the undeclared error {:?}",
                error.name()
            ))
        }
    }

    fn internal(message: &str) -> Frame {
        Frame::error("InternalServerError", Some(message))
    }

    type Sink = SplitSink<WebSocket, Message>;

    /// What to do with one item of the messages.
    enum Next {
        /// Write this.
        Send(Message),
        /// The stream ends: the last frame (an error), if any, then the
        /// close.
        Last(Option<Frame>),
    }

    fn next_of<E: Subscription>(item: Option<Outgoing<E>>, subprotocol: Subprotocol) -> Next {
        match item {
            None => Next::Last(None),
            Some(Outgoing::Message(message)) => match encode_message::<E>(&message, subprotocol) {
                Ok(frame) => Next::Send(ws_message(frame)),
                Err(err) => Next::Last(Some(internal(&format!("cannot encode a message: {err}")))),
            },
            Some(Outgoing::Error(error)) => Next::Last(Some(declared_error_frame(&error))),
            Some(Outgoing::Frame(frame)) if frame.is_error() => Next::Last(Some(frame)),
            // A stored frame that cannot be written in this subprotocol ends
            // the stream with an error rather than being skipped unseen.
            Some(Outgoing::Frame(frame)) => match frame.to_wire(E::NSID, subprotocol) {
                Ok(frame) => Next::Send(ws_message(frame)),
                Err(err) => Next::Last(Some(internal(&format!(
                    "cannot write a stored frame as {subprotocol}: {err}"
                )))),
            },
        }
    }

    /// Writes `messages` to `socket`, one frame each, until the stream ends
    /// (then closes normally), an error is sent, the subscriber leaves or
    /// falls behind (`ConsumerTooSlow`).
    async fn serve_messages<E: Subscription + 'static>(
        socket: WebSocket,
        messages: Messages<E>,
        heartbeat: Option<Duration>,
        subprotocol: Subprotocol,
    ) {
        let (mut sink, incoming) = socket.split();
        // The subscriber's side is read by a task of its own, woken only when
        // something arrives (pings are answered by the WebSocket layer;
        // subscribers have nothing else to say): it ends when the subscriber
        // closes or the connection fails.
        let mut left = tokio::spawn(
            incoming
                .filter_map(async |received| match received {
                    Ok(Message::Close(_)) | Err(_) => Some(()),
                    Ok(_) => None,
                })
                .boxed()
                .into_future(),
        );
        let (mut items, lagged) = messages.into_parts();
        let mut lagged: Pin<Box<dyn Future<Output = ()> + Send>> =
            lagged.unwrap_or_else(|| Box::pin(std::future::pending()));
        let mut ticks = heartbeat.map(|period| {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks
        });
        let tick = async |ticks: &mut Option<tokio::time::Interval>| match ticks {
            Some(ticks) => {
                ticks.tick().await;
            }
            None => std::future::pending().await,
        };
        loop {
            let out = tokio::select! {
                biased;
                () = &mut lagged => {
                    farewell::<E>(&mut sink, Some(Frame::consumer_too_slow()), subprotocol).await;
                    break;
                }
                _ = &mut left => break,
                () = tick(&mut ticks) => Message::Ping(bytes::Bytes::new()),
                item = items.next() => match next_of::<E>(item, subprotocol) {
                    Next::Send(message) => message,
                    Next::Last(frame) => {
                        farewell::<E>(&mut sink, frame, subprotocol).await;
                        break;
                    }
                },
            };
            // A write that does not finish while the subscriber falls behind
            // gives up: the subscriber is dropped. (One frame at a time:
            // tungstenite's write buffer keeps the capacity of the largest
            // write for the connection's life.)
            tokio::select! {
                biased;
                () = &mut lagged => {
                    farewell::<E>(&mut sink, Some(Frame::consumer_too_slow()), subprotocol).await;
                    break;
                }
                sent = sink.send(out) => if sent.is_err() {
                    break;
                },
            }
        }
        left.abort();
    }

    /// Sends a last frame, if any, in `subprotocol`, and closes normally,
    /// giving up after [`FAREWELL`].
    async fn farewell<E: Subscription>(
        sink: &mut Sink,
        last: Option<Frame>,
        subprotocol: Subprotocol,
    ) {
        // The last frame is an error frame, which every subprotocol writes.
        let last = last.map(|frame| {
            frame.to_wire(E::NSID, subprotocol).unwrap_or_else(|err| {
                atlex_core::subscription::encode_error(
                    "InternalServerError",
                    Some(&format!(
                        "cannot write the last frame as {subprotocol}: {err}"
                    )),
                    subprotocol,
                )
            })
        });
        let goodbye = async {
            if let Some(frame) = last {
                sink.send(ws_message(frame)).await?;
            }
            sink.send(Message::Close(Some(CloseFrame {
                code: 1000,
                reason: "".into(),
            })))
            .await
        };
        let _ = tokio::time::timeout(FAREWELL, goodbye).await;
    }
}
