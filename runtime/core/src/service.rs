//! What a server implements: generated service traits take a [`Request`] and
//! answer a [`HandlerResult`]; a [`Registry`] (the axum router of the `server`
//! feature, or one of your own) mounts them.
//!
//! Generated code, for each group of endpoints such as `chat.bsky.convo`, has
//! a `Service` trait with one method per endpoint (each defaulting to
//! `MethodNotImplemented`) and a `register` function that adds them all to a
//! registry. A subscription's method takes a [`SubscriptionRequest`] and
//! answers the stream of its [`Messages`], or an error before the stream
//! starts.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::CommonError;
use crate::subscription::Frame;
use crate::types::Did;
use crate::xrpc::{Endpoint, EndpointError, Subscription};

/// One call of an endpoint, as a handler receives it: parameters and input
/// already decoded and checked.
pub struct Request<E: Endpoint> {
    /// The query-string parameters.
    pub params: E::Params,
    /// The request body.
    pub input: E::Input,
    /// Who is calling, and the rest of the HTTP request.
    pub context: RequestContext,
}

impl<E: Endpoint> std::fmt::Debug for Request<E>
where
    E::Params: std::fmt::Debug,
    E::Input: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("endpoint", &E::NSID)
            .field("params", &self.params)
            .field("input", &self.input)
            .field("context", &self.context)
            .finish()
    }
}

/// What a handler knows about the HTTP request besides its parameters and body.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// The request's headers.
    pub headers: http::HeaderMap,
    /// The authenticated caller, when the server's authenticator named one.
    pub caller: Option<Did>,
    /// The request's extensions: what the HTTP stack and the server's
    /// authenticator attached to the request (a service-auth verifier leaves
    /// the verified token's claims here).
    pub extensions: http::Extensions,
}

impl RequestContext {
    /// The token of the request's `Authorization: Bearer <token>` header, if
    /// it has one.
    pub fn bearer_token(&self) -> Option<&str> {
        crate::binding::bearer_token(&self.headers)
    }

    /// The value of header `name`, if the request has it as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The caller, or `AuthenticationRequired` when the request is anonymous.
    pub fn require_caller<E>(&self) -> Result<&Did, HandlerError<E>> {
        self.caller.as_ref().ok_or_else(|| {
            HandlerError::Common(CommonError::AuthenticationRequired {
                message: Some("this endpoint requires authentication".to_owned()),
            })
        })
    }
}

/// Why a handler did not produce an output: one of the endpoint's declared
/// errors, or a common XRPC error.
///
/// A handler should return only the names its lexicon declares: the server
/// answers an `E` whose name is not declared (the generated enum's unknown
/// case) with `InternalServerError`, as a bug in the handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandlerError<E> {
    /// A declared error, with the HTTP status to send (400 unless changed with
    /// [`HandlerError::with_status`]; an endpoint whose
    /// [binding](crate::binding::Envelope) gives its errors a status is
    /// answered with that one).
    Endpoint {
        /// The error.
        error: E,
        /// The HTTP status.
        status: u16,
    },
    /// A common XRPC error.
    Common(CommonError),
}

impl<E> HandlerError<E> {
    /// A declared error, sent with status 400.
    pub fn endpoint(error: E) -> Self {
        Self::Endpoint { error, status: 400 }
    }

    /// Changes the status a declared error is sent with (ignored for common
    /// errors, whose status is fixed).
    pub fn with_status(self, status: u16) -> Self {
        match self {
            Self::Endpoint { error, .. } => Self::Endpoint { error, status },
            common => common,
        }
    }

    /// `MethodNotImplemented`: what unimplemented service methods answer.
    pub fn not_implemented() -> Self {
        Self::Common(CommonError::MethodNotImplemented {
            message: Some("this server does not implement this method".to_owned()),
        })
    }

    /// `InvalidRequest` with a message.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::Common(CommonError::invalid_request(message))
    }

    /// `InternalServerError` with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Common(CommonError::InternalServerError {
            message: Some(message.into()),
        })
    }
}

impl<E: EndpointError> From<E> for HandlerError<E> {
    fn from(error: E) -> Self {
        Self::endpoint(error)
    }
}

impl<E: std::fmt::Display> std::fmt::Display for HandlerError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Endpoint { error, status } => write!(f, "{error} (status {status})"),
            Self::Common(common) => write!(f, "{common}"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for HandlerError<E> {}

/// What a handler of endpoint `E` returns.
pub type HandlerResult<E> = Result<<E as Endpoint>::Output, HandlerError<<E as Endpoint>::Error>>;

/// What a generated `Service` method answers unless implemented:
/// `MethodNotImplemented`, for an endpoint's [`Request`] or a
/// [`SubscriptionRequest`].
pub fn not_implemented<R: Unimplemented>(request: R) -> std::future::Ready<R::Result> {
    std::future::ready(request.not_implemented())
}

/// A request a `Service` method receives, answered `MethodNotImplemented` by
/// [`not_implemented`].
pub trait Unimplemented {
    /// What the method returns.
    type Result;

    /// The `MethodNotImplemented` answer.
    fn not_implemented(self) -> Self::Result;
}

impl<E: Endpoint> Unimplemented for Request<E> {
    type Result = HandlerResult<E>;

    fn not_implemented(self) -> HandlerResult<E> {
        Err(HandlerError::not_implemented())
    }
}

impl<S: Subscription> Unimplemented for SubscriptionRequest<S> {
    type Result = SubscriptionResult<S>;

    fn not_implemented(self) -> SubscriptionResult<S> {
        Err(HandlerError::not_implemented())
    }
}

/// Something endpoints can be mounted on, for a service of type `S`.
pub trait Registry<S> {
    /// Mounts endpoint `E`, handled by `handler` with the shared service.
    fn add<E, F, Fut>(&mut self, handler: F)
    where
        E: Endpoint + 'static,
        F: Fn(Arc<S>, Request<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult<E>> + Send + 'static;

    /// Mounts subscription `E`, handled by `handler` with the shared service.
    fn add_subscription<E, F, Fut>(&mut self, handler: F)
    where
        E: Subscription + 'static,
        F: Fn(Arc<S>, SubscriptionRequest<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = SubscriptionResult<E>> + Send + 'static;
}

/// One connection to a subscription, as its handler receives it: the
/// parameters already decoded and checked.
pub struct SubscriptionRequest<S: Subscription> {
    /// The query-string parameters (`cursor`, …).
    pub params: S::Params,
    /// Who is connecting, and the rest of the HTTP request that opened the
    /// WebSocket.
    pub context: RequestContext,
}

impl<S: Subscription> std::fmt::Debug for SubscriptionRequest<S>
where
    S::Params: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionRequest")
            .field("subscription", &S::NSID)
            .field("params", &self.params)
            .field("context", &self.context)
            .finish()
    }
}

/// What a subscription's handler returns: the stream of messages, or an
/// error sent (as an error frame) before any message.
pub type SubscriptionResult<S> = Result<Messages<S>, HandlerError<<S as Subscription>::Error>>;

/// The messages a server sends one subscriber, in order: typed messages, or
/// frames already encoded (from an `EventLog` of `atlex-stream`, shared by
/// every subscriber).
///
/// The server writes each as a frame and closes the connection normally when
/// the stream ends. An error ([`Messages::try_new`], or an error frame) is
/// sent as an error frame, and ends the stream.
pub struct Messages<S: Subscription> {
    items: Items<S>,
    /// Resolves when the subscriber has fallen behind what the source keeps
    /// (set by the event log): the server then drops it with
    /// `ConsumerTooSlow`, even while a write to it is stuck.
    lagged: Option<Lagged>,
}

/// The items of [`Messages`], in order.
pub type Items<S> = Pin<Box<dyn Stream<Item = Outgoing<S>> + Send>>;

/// Resolves when a subscriber is to be dropped as too slow
/// ([`Messages::drop_when`]).
pub type Lagged = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One item of [`Messages`], as the server that writes them takes it
/// ([`Messages::into_parts`]).
pub enum Outgoing<S: Subscription> {
    /// A typed message: sent as a message frame.
    Message(S::Message),
    /// One of the subscription's errors: sent as an error frame, the last.
    Error(S::Error),
    /// A frame already encoded: sent as it is (an error frame is the last).
    Frame(Frame),
}

impl<S: Subscription> std::fmt::Debug for Outgoing<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Message(_) => f.write_str("Message(..)"),
            Self::Error(_) => f.write_str("Error(..)"),
            Self::Frame(frame) => f.debug_tuple("Frame").field(frame).finish(),
        }
    }
}

impl<S: Subscription> Messages<S> {
    /// The messages of `stream`.
    pub fn new(stream: impl Stream<Item = S::Message> + Send + 'static) -> Self {
        Self::of(Map {
            stream: Box::pin(stream),
            map: Outgoing::Message,
        })
    }

    /// The messages of `stream`, until an error: it is sent as an error
    /// frame, and the stream ends there.
    pub fn try_new(
        stream: impl Stream<Item = Result<S::Message, S::Error>> + Send + 'static,
    ) -> Self {
        Self::of(Map {
            stream: Box::pin(stream),
            map: |item| match item {
                Ok(message) => Outgoing::Message(message),
                Err(error) => Outgoing::Error(error),
            },
        })
    }

    /// Frames already encoded ([`Frame::of_message`], or an event log's):
    /// sent as they are. An error frame ends the stream.
    pub fn frames(stream: impl Stream<Item = Frame> + Send + 'static) -> Self {
        Self::of(Map {
            stream: Box::pin(stream),
            map: Outgoing::Frame,
        })
    }

    fn of(stream: impl Stream<Item = Outgoing<S>> + Send + 'static) -> Self {
        Self {
            items: Box::pin(stream),
            lagged: None,
        }
    }

    /// Drops the subscriber with `ConsumerTooSlow` once `lagged` resolves,
    /// even while a write to it is waiting: for a source that knows when a
    /// subscriber has fallen behind what it keeps (the `EventLog` of
    /// `atlex-stream` sets this itself; a broadcast channel's receiver that
    /// lagged is another).
    ///
    /// Messages are taken from the stream only as fast as the subscriber's
    /// connection takes them, so a stream that is not live (a replay from a
    /// database) never makes a subscriber "too slow"; a live source must say
    /// when one is, with this or with an error item
    /// ([`try_new`](Self::try_new)).
    pub fn drop_when(mut self, lagged: impl Future<Output = ()> + Send + 'static) -> Self {
        self.lagged = Some(Box::pin(lagged));
        self
    }

    /// The items, and what [`drop_when`](Self::drop_when) set: for the server
    /// that writes them to a subscriber (the router of `atlex-server`, or
    /// one of your own).
    pub fn into_parts(self) -> (Items<S>, Option<Lagged>) {
        (self.items, self.lagged)
    }
}

impl<S: Subscription> std::fmt::Debug for Messages<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages")
            .field("subscription", &S::NSID)
            .finish_non_exhaustive()
    }
}

/// A stream with each item mapped (the default build has no stream
/// combinators).
struct Map<St, F> {
    stream: Pin<Box<St>>,
    map: F,
}

impl<St: Stream, F: FnMut(St::Item) -> T + Unpin, T> Stream for Map<St, F> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        this.stream
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(&mut this.map))
    }
}
