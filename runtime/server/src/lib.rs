//! A server on [axum]: mounts generated `Service` traits, each endpoint where
//! its [binding] says: XRPC endpoints at `/xrpc/<NSID>` with
//! the XRPC HTTP conventions, bound endpoints at their method and path with
//! their API's body formats, authentication scheme and response envelope.
//!
//! [`XrpcRouter`] is a [`Registry`]: each generated group of endpoints has a
//! `register` function that adds all of them, and [`XrpcRouter::mount`] takes
//! that function as it is. The router then turns into a plain
//! [`axum::Router`], which can be served, merged with other routes and wrapped
//! in layers like any other.
//!
//! ```no_run
//! use atlex::server::{CommonError, HandlerError, HandlerResult, Request, XrpcRouter};
//! use atlex::types::Did;
//! use atlex_lexicons::chat::bsky::convo::{self, defs::ConvoView, leave_convo, list_convos};
//!
//! struct Chat {/* database handles, … */}
//! # impl Chat {
//! #     async fn page_of_convos(&self, _: &Did, _: i64) -> (Vec<ConvoView>, Option<String>) {
//! #         (Vec::new(), None)
//! #     }
//! #     async fn owns(&self, _: &Did, _: &str) -> bool {
//! #         false
//! #     }
//! #     async fn leave(&self, _: &Did, _: &str) -> String {
//! #         String::new()
//! #     }
//! # }
//!
//! impl convo::Service for Chat {
//!     async fn list_convos(
//!         &self,
//!         request: Request<list_convos::ListConvos>,
//!     ) -> HandlerResult<list_convos::ListConvos> {
//!         // 401 AuthenticationRequired for anonymous callers.
//!         let caller = request.context.require_caller()?;
//!         // Already checked against the lexicon: 1..=100, 50 when absent.
//!         let limit = request.params.limit_or_default();
//!         let (convos, cursor) = self.page_of_convos(caller, limit).await;
//!         let mut output = list_convos::Output::new(convos);
//!         output.cursor = cursor;
//!         Ok(output)
//!     }
//!
//!     async fn leave_convo(
//!         &self,
//!         request: Request<leave_convo::LeaveConvo>,
//!     ) -> HandlerResult<leave_convo::LeaveConvo> {
//!         let caller = request.context.require_caller()?;
//!         let convo_id = request.input.convo_id;
//!         if self.owns(caller, &convo_id).await {
//!             // A declared error: 400 {"error": "OwnerCannotLeave", "message": …}
//!             return Err(HandlerError::endpoint(leave_convo::Error::OwnerCannotLeave {
//!                 message: Some("lock the group before leaving it".to_owned()),
//!             }));
//!         }
//!         let rev = self.leave(caller, &convo_id).await;
//!         Ok(leave_convo::Output::builder().convo_id(convo_id).rev(rev).build())
//!     }
//!
//!     // Every method not written here answers 501 MethodNotImplemented.
//! }
//!
//! /// Your token check (a JWT, a session lookup, …).
//! fn verify_access_token(token: &str) -> Option<Did> {
//!     # let _ = token;
//!     # None
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let app = XrpcRouter::new(Chat {})
//!         .mount(convo::register)
//!         .authenticate(|headers| {
//!             let Some(value) = headers.get(http::header::AUTHORIZATION) else {
//!                 return Ok(None); // anonymous: handlers decide
//!             };
//!             let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer "));
//!             match token.and_then(verify_access_token) {
//!                 Some(did) => Ok(Some(did)),
//!                 None => Err(CommonError::InvalidToken {
//!                     message: Some("invalid access token".to_owned()),
//!                 }),
//!             }
//!         })
//!         .body_limit(256 * 1024)
//!         .into_router()
//!         .route("/health", axum::routing::get(|| async { "ok" }));
//!
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//!     axum::serve(listener, app).await
//! }
//! ```
//!
//! # What a request goes through
//!
//! Every error is answered as JSON in the endpoint's
//! [envelope](atlex_core::binding::Envelope): for XRPC, `{"error": NAME,
//! "message": TEXT}` with the statuses below; a bound endpoint's envelope may
//! rename the common errors and give errors other statuses (Slack's are all
//! HTTP 200 `{"ok": false, "error": NAME}`).
//!
//! 1. **Routing.** Each mounted XRPC endpoint is served at `/xrpc/<NSID>`; any
//!    other NSID under `/xrpc/` answers 501 `MethodNotImplemented`, and a path
//!    under `/xrpc/` that is no NSID (`/xrpc/`, `/xrpc/bad..nsid`,
//!    `/xrpc/a.b.c/extra`) 400 `InvalidRequest`. A bound
//!    endpoint is served at its path template (`/v1/chats/{chatId}/leave`);
//!    endpoints of one path with different methods share it. Other paths are
//!    left to the rest of the axum router (404 by default).
//! 2. **Method.** Each endpoint takes its binding's method (XRPC: `GET` for
//!    queries, `POST` for procedures), and `HEAD` where that is `GET`; another
//!    method answers 400 `InvalidRequest` with an `Allow` header.
//! 3. **Authentication.** A request without the credentials its binding's
//!    [scheme](atlex_core::binding::Auth) requires (an API key header, a bearer
//!    token) answers 401 `AuthenticationRequired`. Then the
//!    [`Authenticator`] (or the function given to
//!    [`XrpcRouter::authenticate`]) names the caller
//!    ([`RequestContext::caller`]), or refuses with an error answered as is
//!    (for example 401 `BadJwtSignature`).
//! 4. **Parameters.** The query string (and, for a path template, the path's
//!    variables) is read with [`Params::read_query`] and checked with
//!    [`Validate`]; a missing, repeated or malformed parameter, or one outside
//!    its lexicon constraints, answers 400 `InvalidRequest`.
//! 5. **Input.** For an endpoint with an input encoding, the body must be
//!    present, have a `Content-Type` matching one of the binding's body
//!    formats (the lexicon's encoding, JSON or a form; the MIME essence,
//!    compared without case; `*/*` and `image/*` patterns match as
//!    expected), fit in
//!    the [body limit](XrpcRouter::body_limit) (413 `PayloadTooLarge`
//!    otherwise), decode with the endpoint's input codec and pass
//!    [`Validate`]; anything else answers 400 `InvalidRequest`. Endpoints
//!    without input ignore the body.
//! 6. **Handler.** The output is encoded with the endpoint's output codec and
//!    answered 200. A [`HandlerError::Endpoint`] is answered with its status
//!    and name, a [`HandlerError::Common`] with the status of
//!    [`CommonError::status`] (`RateLimitExceeded` with a reset time also sets
//!    `ratelimit-reset` and `Retry-After`), unless the envelope gives the
//!    error's name a status of its own. An error name the endpoint does not
//!    declare, an output that cannot be encoded (or that an envelope with a
//!    success flag does not read as a success), a handler that panics, and,
//!    with [`XrpcRouter::validate_outputs`], an output that breaks the
//!    lexicon's constraints answer 500 `InternalServerError`.
//!
//! Malformed requests never reach a handler and never cause a 500.
//!
//! # A hand-written endpoint
//!
//! Generated code is the usual source of [`Endpoint`]s, but anything
//! implementing the trait can be mounted:
//!
//! ```
//! use std::sync::Arc;
//!
//! use atlex_server::XrpcRouter;
//! use atlex_core::service::{HandlerResult, Registry, Request};
//! use atlex_core::xrpc::{Endpoint, EndpointKind, Json, NoBody, UnknownError};
//! use tower::ServiceExt as _;
//!
//! /// `com.example.ping`: a query answering `{"pong": true}`.
//! struct Ping;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Pong {
//!     pong: bool,
//! }
//!
//! impl atlex_core::validate::Validate for Pong {
//!     fn check(&self, _v: &mut atlex_core::validate::Validator) {}
//! }
//!
//! impl Endpoint for Ping {
//!     const NSID: &'static str = "com.example.ping";
//!     const KIND: EndpointKind = EndpointKind::Query;
//!     const INPUT_ENCODING: Option<&'static str> = None;
//!     const OUTPUT_ENCODING: Option<&'static str> = Some("application/json");
//!     type Params = ();
//!     type Input = ();
//!     type Output = Pong;
//!     type Error = PingError;
//!     type InputCodec = NoBody;
//!     type OutputCodec = Json;
//! }
//!
//! /// No declared errors: only the unknown case.
//! #[derive(Debug)]
//! struct PingError(UnknownError);
//!
//! impl std::fmt::Display for PingError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         self.0.fmt(f)
//!     }
//! }
//!
//! impl atlex_core::xrpc::EndpointError for PingError {
//!     const DECLARED: &'static [&'static str] = &[];
//!     fn from_parts(error: String, message: Option<String>) -> Self {
//!         Self(UnknownError { error, message })
//!     }
//!     fn name(&self) -> &str {
//!         &self.0.error
//!     }
//!     fn message(&self) -> Option<&str> {
//!         self.0.message.as_deref()
//!     }
//! }
//!
//! struct Server;
//!
//! /// What generated `register` functions look like.
//! fn register<R: Registry<Server>>(registry: &mut R) {
//!     registry.add::<Ping, _, _>(|_server: Arc<Server>, _request: Request<Ping>| async {
//!         HandlerResult::<Ping>::Ok(Pong { pong: true })
//!     });
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = XrpcRouter::new(Server).mount(register).into_router();
//!
//! let request = http::Request::get("/xrpc/com.example.ping")
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
//! assert_eq!(&body[..], br#"{"pong":true}"#);
//! # }
//! ```
//!
//! [`Params::read_query`]: atlex_core::xrpc::Params::read_query
//! [`Validate`]: atlex_core::validate::Validate
//! [`RequestContext::caller`]: atlex_core::service::RequestContext::caller
//! [`HandlerError::Endpoint`]: atlex_core::service::HandlerError::Endpoint
//! [`HandlerError::Common`]: atlex_core::service::HandlerError::Common

mod auth;
mod endpoint;
mod response;
mod subscription;

pub use auth::{AuthRequest, Authenticator, Rejection};

// What handlers take, return and answer with, defined in `atlex-core` (the
// generated `Service` traits name them there), re-exported here next to the
// router.
pub use atlex_core::error::CommonError;
pub use atlex_core::service::{
    HandlerError, HandlerResult, Messages, Registry, Request, RequestContext, SubscriptionRequest,
    SubscriptionResult,
};
pub use atlex_core::validate::ValidationMode;

use std::any::Any;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::HeaderMap;

use atlex_core::binding::{self, Binding, PathTemplate};
use atlex_core::types::{Did, Nsid};
use atlex_core::validate::{ValidationError, ViolationHook};
use atlex_core::xrpc::{Endpoint, EndpointKind, Subscription};

/// The body limit of a new [`XrpcRouter`]: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What every endpoint of a router shares, fixed when it becomes an
/// [`axum::Router`].
struct Settings {
    authenticator: Option<Box<dyn auth::DynAuthenticator>>,
    body_limit: usize,
    /// Per NSID, an [`InputRejection`] of that endpoint's type.
    input_rejections: BTreeMap<&'static str, Box<dyn Any + Send + Sync>>,
    /// Whether outputs are checked against the lexicon before they are sent.
    validate_outputs: ValidationMode,
    /// Receives the violations of outputs under [`ValidationMode::Lenient`].
    on_violation: Option<ViolationHook>,
    /// How often subscribers are pinged.
    #[cfg_attr(not(feature = "subscriptions"), allow(dead_code))]
    heartbeat: Option<Duration>,
    /// The bytes of frames a subscriber's connection buffers before writes
    /// wait for it.
    #[cfg_attr(not(feature = "subscriptions"), allow(dead_code))]
    subscriber_write_buffer: usize,
}

/// How often a new router pings each subscriber: 30 s.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30);
/// How many bytes of frames a subscriber's connection buffers before writing
/// to it waits: 1 MiB.
pub const DEFAULT_SUBSCRIBER_WRITE_BUFFER: usize = 1 << 20;

/// Turns the constraint violations of an endpoint's input into one of its
/// declared errors (see [`XrpcRouter::map_invalid_input`]).
type InputRejection<E> =
    Arc<dyn Fn(&ValidationError) -> Option<<E as Endpoint>::Error> + Send + Sync>;

/// The response to one request, boxed.
type ResponseFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// Something that answers the requests of one route.
trait Serve: Send + Sync {
    fn serve(self: Arc<Self>, request: http::Request<Body>) -> ResponseFuture;
}

/// Builds an endpoint's route once the router's settings are known.
type BuildRoute = Box<dyn FnOnce(Arc<Settings>) -> Arc<dyn Serve> + Send + Sync>;

/// A mounted endpoint: its binding, and how to build its route.
struct Mounted {
    binding: Binding,
    build: BuildRoute,
}

/// Collects the endpoints of a service, then becomes an [`axum::Router`] that
/// serves them where their [bindings](atlex_core::binding) say (`/xrpc/<NSID>` for
/// XRPC).
///
/// Endpoints are added through the [`Registry`] implementation, normally by
/// [`mount`](Self::mount)ing a generated `register` function. Mounting an
/// endpoint again replaces its handler. An endpoint whose NSID is not a valid
/// NSID, or whose path template is not valid, cannot be addressed and is not
/// mounted; of two endpoints with the same method and path, the one whose
/// NSID sorts first is served.
///
/// See the [module documentation](self) for an example and for what a
/// request goes through.
pub struct XrpcRouter<S> {
    service: Arc<S>,
    routes: BTreeMap<&'static str, Mounted>,
    authenticator: Option<Box<dyn auth::DynAuthenticator>>,
    body_limit: usize,
    input_rejections: BTreeMap<&'static str, Box<dyn Any + Send + Sync>>,
    validate_outputs: ValidationMode,
    on_violation: Option<ViolationHook>,
    heartbeat: Option<Duration>,
    subscriber_write_buffer: usize,
}

impl<S: Send + Sync + 'static> XrpcRouter<S> {
    /// A router for `service`, with no endpoint yet, no authenticator (every
    /// caller is anonymous) and a body limit of [`DEFAULT_BODY_LIMIT`].
    pub fn new(service: S) -> Self {
        Self::from_arc(Arc::new(service))
    }

    /// A router for a service that is already shared.
    pub fn from_arc(service: Arc<S>) -> Self {
        Self {
            service,
            routes: BTreeMap::new(),
            authenticator: None,
            body_limit: DEFAULT_BODY_LIMIT,
            input_rejections: BTreeMap::new(),
            validate_outputs: ValidationMode::Off,
            on_violation: None,
            heartbeat: Some(DEFAULT_HEARTBEAT),
            subscriber_write_buffer: DEFAULT_SUBSCRIBER_WRITE_BUFFER,
        }
    }

    /// Adds endpoints with a `register` function, such as the one generated
    /// for each group of endpoints:
    /// `router.mount(chat::bsky::convo::register)`.
    pub fn mount(mut self, register: impl FnOnce(&mut Self)) -> Self {
        register(&mut self);
        self
    }

    /// Adds the endpoints of another router, with their own service.
    ///
    /// The result keeps this router's authenticator, body limit and output
    /// validation; those of `other` are dropped. An endpoint mounted on both is handled by
    /// `other`'s.
    pub fn merge<T>(mut self, other: XrpcRouter<T>) -> Self {
        self.routes.extend(other.routes);
        self.input_rejections.extend(other.input_rejections);
        self
    }

    /// Answers input that breaks the lexicon's constraints with one of
    /// endpoint `E`'s declared errors instead of `InvalidRequest`, when `map`
    /// returns one.
    ///
    /// Some endpoints declare errors for what the lexicon also constrains:
    /// `chat.bsky.convo.addReaction` limits `value` to one grapheme and
    /// declares `ReactionInvalidValue` for unacceptable values, so a server
    /// can answer a two-grapheme value with that error:
    ///
    /// ```
    /// use atlex::server::XrpcRouter;
    /// use atlex_lexicons::chat::bsky::convo::{self, add_reaction};
    ///
    /// struct Chat;
    /// impl convo::Service for Chat {}
    ///
    /// let router = XrpcRouter::new(Chat)
    ///     .mount(convo::register)
    ///     .map_invalid_input::<add_reaction::AddReaction>(|violations| {
    ///         Some(add_reaction::Error::ReactionInvalidValue {
    ///             message: Some(violations.to_string()),
    ///         })
    ///     });
    /// ```
    pub fn map_invalid_input<E: Endpoint + 'static>(
        mut self,
        map: impl Fn(&ValidationError) -> Option<E::Error> + Send + Sync + 'static,
    ) -> Self {
        let rejection: InputRejection<E> = Arc::new(map);
        self.input_rejections.insert(E::NSID, Box::new(rejection));
        self
    }

    /// Sets how callers are authenticated, with a synchronous function of
    /// the request's headers (for one that awaits, see
    /// [`authenticator`](Self::authenticator)).
    ///
    /// `authenticate` runs on every request to a mounted endpoint, before its
    /// parameters and body are read. `Ok(Some(did))` names the caller
    /// (handlers find it in [`RequestContext::caller`]), `Ok(None)` lets the
    /// request through anonymously, and `Err(error)` answers with that error
    /// and its status: typically [`CommonError::AuthenticationRequired`] (401)
    /// or [`CommonError::InvalidToken`] (400).
    ///
    /// [`RequestContext::caller`]: atlex_core::service::RequestContext::caller
    pub fn authenticate(
        self,
        authenticate: impl Fn(&HeaderMap) -> Result<Option<Did>, CommonError> + Send + Sync + 'static,
    ) -> Self {
        self.authenticator(auth::HeaderFn(authenticate))
    }

    /// Sets how callers are authenticated, with an [`Authenticator`]: it may
    /// await (resolve a DID document, ask a session store), sees the NSID
    /// called, can leave data for the handler in the request's extensions,
    /// and refuses with any error name and status ([`Rejection`]). A
    /// [`ServiceAuthVerifier`] (feature `service-auth`) verifies the
    /// inter-service JWTs a PDS sends when it proxies a user's call.
    /// Replaces an authenticator set before.
    ///
    /// [`ServiceAuthVerifier`]: https://docs.rs/atlex/latest/atlex/service_auth/struct.ServiceAuthVerifier.html
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Box::new(authenticator));
        self
    }

    /// Checks every handler's output against the lexicon before sending it,
    /// as `mode` says: under [`ValidationMode::Strict`] an output that breaks
    /// a constraint (a string too long, a missing array item bound, …)
    /// answers 500 `InternalServerError` naming the violations instead of
    /// reaching the client; under [`ValidationMode::Lenient`] it is sent and
    /// its violations go to the [`on_violation`](Self::on_violation) hook.
    /// Off by default, as the data is the server's own; worth turning on in
    /// tests and development. The client's
    /// [`ClientBuilder::validate_outputs`](https://docs.rs/atlex/latest/atlex/client/struct.ClientBuilder.html#method.validate_outputs)
    /// takes the same argument.
    pub fn validate_outputs(mut self, mode: ValidationMode) -> Self {
        self.validate_outputs = mode;
        self
    }

    /// With [`ValidationMode::Lenient`], receives the NSID of the endpoint and
    /// the violations of each output that breaks its constraints.
    pub fn on_violation<F>(mut self, hook: F) -> Self
    where
        F: Fn(&str, &ValidationError) + Send + Sync + 'static,
    {
        self.on_violation = Some(Arc::new(hook));
        self
    }

    /// Sets the largest request body accepted, in bytes; a larger one answers
    /// 413 `PayloadTooLarge`. Default: [`DEFAULT_BODY_LIMIT`] (1 MiB).
    ///
    /// The limit holds for the bytes actually received, whatever the
    /// `Content-Length` header says; a `Content-Length` above it is refused
    /// before the body is read.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How often each subscriber of a subscription is pinged
    /// ([`DEFAULT_HEARTBEAT`]); `None` sends no pings. A subscriber's pings
    /// are always answered.
    pub fn heartbeat(mut self, every: Option<Duration>) -> Self {
        self.heartbeat = every.filter(|every| !every.is_zero());
        self
    }

    /// How many bytes of frames a subscriber's connection buffers
    /// ([`DEFAULT_SUBSCRIBER_WRITE_BUFFER`]; it holds one frame more when a
    /// frame is larger): past it, writing waits for the subscriber, and a
    /// subscriber that falls behind its source (an `EventLog` of
    /// `atlex-stream`) is dropped with
    /// `ConsumerTooSlow`.
    pub fn subscriber_write_buffer(mut self, bytes: usize) -> Self {
        self.subscriber_write_buffer = bytes;
        self
    }

    /// The [`axum::Router`] serving the endpoints: each at `/xrpc/<NSID>` or
    /// its binding's path, every other NSID under `/xrpc/` answering 501
    /// `MethodNotImplemented` (a path that is no NSID, 400 `InvalidRequest`).
    ///
    /// The result is an ordinary router: other routes, including ones under
    /// `/xrpc/` (which take precedence over the 501 answer), can be added,
    /// and layers (CORS, tracing, timeouts, …) wrapped around it. Two
    /// routers made by this method cannot be merged, as both answer every
    /// path under `/xrpc/`: combine several services with
    /// [`merge`](Self::merge) first.
    pub fn into_router(self) -> axum::Router {
        let settings = Arc::new(Settings {
            authenticator: self.authenticator,
            body_limit: self.body_limit,
            input_rejections: self.input_rejections,
            validate_outputs: self.validate_outputs,
            on_violation: self.on_violation,
            heartbeat: self.heartbeat,
            subscriber_write_buffer: self.subscriber_write_buffer,
        });
        let not_implemented = RouteService(Arc::new(response::NotImplemented));
        let mut router = axum::Router::new()
            .route_service("/xrpc/", not_implemented.clone())
            .route_service("/xrpc/{*nsid}", not_implemented);
        // One route per path, answering each method with its endpoint.
        let mut paths: BTreeMap<String, endpoint::Members> = BTreeMap::new();
        for (nsid, mounted) in self.routes {
            let path = match mounted.binding.path {
                PathTemplate::Xrpc => format!("/xrpc/{nsid}"),
                PathTemplate::Template(template) => match binding::route_path(template) {
                    Some(path) => path,
                    None => continue,
                },
            };
            let route = (mounted.build)(Arc::clone(&settings));
            let members = paths.entry(path).or_default();
            if !members.iter().any(|(m, _, _)| *m == mounted.binding.method) {
                members.push((mounted.binding.method, mounted.binding, route));
            }
        }
        for (path, mut members) in paths {
            members.sort_by_key(|(method, _, _)| *method);
            let route = RouteService(Arc::new(endpoint::MethodRoutes { members }));
            router = router.route_service(&path, route);
        }
        router
    }
}

impl<S: Send + Sync + 'static> Registry<S> for XrpcRouter<S> {
    fn add<E, F, Fut>(&mut self, handler: F)
    where
        E: Endpoint + 'static,
        F: Fn(Arc<S>, Request<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult<E>> + Send + 'static,
    {
        if Nsid::validate(E::NSID).is_err() || E::BINDING.path.variables().is_err() {
            return;
        }
        let service = Arc::clone(&self.service);
        let build: BuildRoute = Box::new(move |settings| {
            Arc::new(endpoint::EndpointRoute::<E, S, F>::new(
                service, handler, settings,
            ))
        });
        self.routes.insert(
            E::NSID,
            Mounted {
                binding: E::BINDING,
                build,
            },
        );
    }

    fn add_subscription<E, F, Fut>(&mut self, handler: F)
    where
        E: Subscription + 'static,
        F: Fn(Arc<S>, SubscriptionRequest<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = SubscriptionResult<E>> + Send + 'static,
    {
        if Nsid::validate(E::NSID).is_err() {
            return;
        }
        let service = Arc::clone(&self.service);
        let build: BuildRoute = Box::new(move |settings| {
            Arc::new(subscription::SubscriptionRoute::<E, S, F>::new(
                service, handler, settings,
            ))
        });
        self.routes.insert(
            E::NSID,
            Mounted {
                binding: Binding::xrpc(EndpointKind::Query),
                build,
            },
        );
    }
}

impl<S> fmt::Debug for XrpcRouter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XrpcRouter")
            .field("endpoints", &self.routes.keys().collect::<Vec<_>>())
            .field("authenticator", &self.authenticator.is_some())
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

/// The tower service axum calls for one route.
#[derive(Clone)]
struct RouteService(Arc<dyn Serve>);

impl tower::Service<http::Request<Body>> for RouteService {
    type Response = Response;
    type Error = Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        RouteFuture(Arc::clone(&self.0).serve(request))
    }
}

/// The future of a [`RouteService`]: a response, never an error.
struct RouteFuture(ResponseFuture);

impl Future for RouteFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}
