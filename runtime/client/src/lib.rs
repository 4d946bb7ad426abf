//! A client (feature `client`): calls any endpoint of generated bindings over
//! HTTP(S), with typed parameters, input, output and errors, as XRPC or as
//! the endpoint's [binding](atlex_core::binding) says.
//!
//! Every endpoint has a descriptor in its generated module, a unit struct
//! implementing [`Endpoint`]: `chat.bsky.convo.listConvos` is
//! `atlex_lexicons::chat::bsky::convo::list_convos::ListConvos`, next to its
//! `Params`, `Output` and `Error`. A call takes the descriptor value, so
//! finding an endpoint is finding its module:
//!
//! - [`Client::query`] for a query: descriptor and parameters
//!   (`GET /xrpc/<nsid>?<params>`);
//! - [`Client::procedure`] for a procedure without parameters: descriptor and
//!   input (`POST /xrpc/<nsid>` with the input as body);
//! - [`Client::call`] for any endpoint: descriptor, parameters and input (`&()`
//!   where it has none);
//! - [`Client::pages`] and [`Client::items`] for paginated queries: a stream
//!   of pages, or of the items of every page.
//!
//! An endpoint with a binding other than XRPC is called the same way; the
//! request follows its binding (method, path template filled from the
//! parameters, body format, credentials) and the response is read through
//! its envelope:
//!
//! ```no_run
//! use atlex::client::Client;
//! use atlex_lexicons::com::bitrix24::chats::leave;
//!
//! # async fn leave_chat(api_key: &str, user_session_token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let bitrix = Client::builder("https://vibecode.bitrix24.com")
//!     .api_key(api_key)                 // X-Api-Key, as the binding says
//!     .bearer(user_session_token)       // optional for this binding
//!     .build()?;
//! // POST /v1/chats/456/leave; chatId is checked (minimum 1) before sending.
//! let left = bitrix.call(leave::Leave, &leave::Params::new(456), &()).await?;
//! assert!(left.success);
//! # Ok(())
//! # }
//! ```
//!
//! ```no_run
//! use atlex::client::{Client, Error, RetryPolicy};
//! use atlex_lexicons::chat::bsky::convo::{leave_convo, list_convos};
//! use futures_util::StreamExt;
//!
//! # async fn chat(access_token: String) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("https://bsky.social")
//!     .bearer(access_token)
//!     .proxy("did:web:api.bsky.chat#bsky_chat")
//!     .retry(RetryPolicy::default())
//!     .build()?;
//!
//! // A query: the descriptor, then the parameters.
//! let params = list_convos::Params::new().with_limit(20);
//! let page: list_convos::Output = client.query(list_convos::ListConvos, &params).await?;
//!
//! // A procedure: the descriptor, then the input. Declared errors are typed.
//! if let Some(convo) = page.convos.first() {
//!     let input = leave_convo::Input::new(convo.id.clone());
//!     match client.procedure(leave_convo::LeaveConvo, &input).await {
//!         Ok(output) => println!("left at rev {}", output.rev),
//!         Err(Error::Endpoint { error: leave_convo::Error::OwnerCannotLeave { .. }, .. }) => {
//!             println!("lock the group first");
//!         }
//!         Err(error) if error.is_retryable() => println!("try again later: {error}"),
//!         Err(error) => return Err(error.into()),
//!     }
//! }
//!
//! // Every conversation, fetching pages as the stream is read.
//! let mut convos = client.items(list_convos::ListConvos, list_convos::Params::new());
//! while let Some(convo) = convos.next().await {
//!     println!("{}", convo?.id);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Errors
//!
//! A failed call is an [`Error`], sorted by the `error` name of the server's
//! answer whatever its HTTP status: the endpoint's declared errors (and names
//! nobody declared) as [`Error::Endpoint`], the names common to every endpoint
//! as [`Error::Common`], and answers that are not XRPC errors as
//! [`Error::Http`]. Failures with no response are [`Error::Transport`]. For a
//! bound endpoint, the envelope says where the name is, which names (and
//! statuses) mean common errors, and when a 2xx answer is an error all the
//! same; parameters and input that break the lexicon are refused before
//! sending ([`Error::InvalidInput`]).
//! Nothing a server sends, however malformed or large, makes the client panic.
//!
//! # Records
//!
//! Records of any type that implements [`Record`](atlex_core::data::Record) (every
//! generated record type, from the upstream lexicons or an application's own)
//! have typed calls of `com.atproto.repo`: [`Client::create_record`],
//! [`Client::get_record`], [`Client::put_record`] (with compare-and-swap),
//! [`Client::delete_record`] and [`Client::apply_writes`] (several
//! [`Write`]s in one commit). The collection and `$type` are the record
//! type's, and the record goes into the request body as its `Serialize` impl
//! writes it.
//!
//! # Sessions
//!
//! [`Login`] logs in with a password (`com.atproto.server.createSession`):
//! with the `identity` feature, from a handle or DID, finding the account's
//! PDS by resolving it ([`login`]`("alice.example.com", password)`), or at a
//! known PDS. The [`SessionClient`] it gives is a [`Client`] whose access
//! token is refreshed (`refreshSession`) when the PDS answers
//! `ExpiredToken`; a hook hears each new [`Session`] so that the application
//! can store it, and [`Login::resume`] continues a stored one. OAuth
//! sessions (atlex-oauth) authenticate each request through an
//! [`Authenticate`] hook ([`ClientBuilder::authenticate`]): a DPoP proof per
//! request, a nonce or a refreshed token and the request sent again.
//! [`Client::service_auth`] asks the PDS for a service-auth token
//! (`getServiceAuth`).
//!
//! # Tokens, retries and validation
//!
//! The access token (`Authorization: Bearer …`) can be replaced at any time
//! with [`Client::set_access_token`], and refreshed on `ExpiredToken` by a
//! hook ([`ClientBuilder::on_expired_token`]). Rate limits (HTTP 429) and
//! overloaded servers (503) are retried when a [`RetryPolicy`] is set.
//! Outputs can be checked against the lexicon's constraints
//! ([`ValidationMode`]).

// First: the modules after it use its macros.
#[macro_use]
mod macros;

mod account;
mod auth;
mod builder;
mod error;
#[cfg(test)]
mod lexicon_checks;
mod records;
mod request;
mod reset;
mod response;
mod session;
#[cfg(feature = "subscriptions")]
mod subscribe;

pub use account::{
    CreateSessionError, DeleteSessionError, GetServiceAuthError, RefreshSessionError,
};
pub use atlex_core::validate::ValidationMode;
pub use auth::{AuthAnswer, AuthFuture, AuthRequest, AuthVerdict, Authenticate, MAX_AUTH_RETRIES};
pub use builder::{ClientBuilder, RetryPolicy};
pub use error::{BoxError, BuildError, Error, TransportKind};
pub use records::{
    AppliedWrites, ApplyWritesError, CommitMeta, CreateRecordError, DeleteRecordError,
    GetRecordError, PutRecordError, RecordRef, StoredRecord, ValidationStatus, Write, WriteResult,
};
#[cfg(feature = "identity")]
pub use session::login;
pub use session::{Login, Session, SessionClient, SessionError, SessionEvent};
#[cfg(feature = "subscriptions")]
pub use subscribe::{
    CursorStore, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_FRAME_SIZE, EventStream, FutureCursor,
    Reconnect, tls_config,
};

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use futures_util::stream::{self, Stream, StreamExt};
use http::header::{HeaderMap, HeaderValue};

use builder::{RefreshHook, TokenMinter, ViolationHook};
use error::transport;
use request::{bearer_value, check_request};
use response::Finished;

use atlex_core::binding::{Binding, BodyFormat};
use atlex_core::xrpc::{Endpoint, Paginated, PaginatedItems};

/// An XRPC client for one service (a PDS such as `https://bsky.social`, an
/// AppView, …).
///
/// Cheap to clone: clones share the connection pool, settings and access
/// token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// What clones of a [`Client`] share.
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// The base URL without its trailing `/`.
    pub(crate) base_url: String,
    /// Headers sent with every request (proxy, labelers, user agent).
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Option<Duration>,
    pub(crate) token: RwLock<Option<String>>,
    /// The API key, for bindings that send one.
    pub(crate) api_key: Option<HeaderValue>,
    /// The body format preferred when a binding allows several.
    pub(crate) body_format: Option<BodyFormat>,
    pub(crate) refresh: Option<RefreshHook>,
    /// Makes each request's token, for service auth.
    pub(crate) minter: Option<TokenMinter>,
    /// Authenticates each request (OAuth with DPoP).
    pub(crate) authenticator: Option<Arc<dyn Authenticate>>,
    /// Held while a refresh hook runs, so that calls expiring together
    /// refresh once.
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) validation: ValidationMode,
    pub(crate) on_violation: Option<ViolationHook>,
    pub(crate) max_response_size: Option<u64>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("headers", &self.inner.headers)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("validation", &self.inner.validation)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with default settings for the service at `base_url`
    /// (`https://bsky.social`; a path prefix is kept: calls go to
    /// `<base_url>/xrpc/<nsid>`).
    pub fn new(base_url: &str) -> Result<Self, BuildError> {
        Self::builder(base_url).build()
    }

    /// A builder for a client of the service at `base_url`.
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The base URL calls go to, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The access token sent with each call, if any.
    pub fn access_token(&self) -> Option<String> {
        self.inner.token()
    }

    /// Replaces the access token sent with each call (`None` to call
    /// anonymously). Applies to every clone of this client, from the next
    /// request on.
    pub fn set_access_token(&self, token: Option<String>) {
        *self
            .inner
            .token
            .write()
            .unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// Calls any endpoint with its parameters and input (`&()` for an
    /// endpoint that has none).
    ///
    /// A query is `GET <base>/xrpc/<nsid>?<params>`; a procedure is
    /// `POST <base>/xrpc/<nsid>?<params>` with the encoded input as body (none
    /// when the endpoint takes no input).
    pub async fn call<E: Endpoint>(
        &self,
        endpoint: E,
        params: &E::Params,
        input: &E::Input,
    ) -> Result<E::Output, Error<E::Error>> {
        let _ = endpoint;
        self.execute::<E>(params, input).await
    }

    /// Calls a query (or any endpoint without input) with its parameters.
    pub async fn query<E: Endpoint<Input = ()>>(
        &self,
        endpoint: E,
        params: &E::Params,
    ) -> Result<E::Output, Error<E::Error>> {
        let _ = endpoint;
        self.execute::<E>(params, &()).await
    }

    /// Calls a procedure (or any endpoint without parameters) with its input.
    pub async fn procedure<E: Endpoint<Params = ()>>(
        &self,
        endpoint: E,
        input: &E::Input,
    ) -> Result<E::Output, Error<E::Error>> {
        let _ = endpoint;
        self.execute::<E>(&(), input).await
    }

    /// The pages of a paginated query, from `params` on: each page's cursor
    /// is set in the parameters of the next request.
    ///
    /// The stream ends after the page whose cursor is absent (or empty) or
    /// repeats a cursor already followed, so a server that loops cannot make
    /// it endless. It also ends after yielding an error. Pages are fetched as
    /// the stream is read.
    pub fn pages<E>(
        &self,
        endpoint: E,
        params: E::Params,
    ) -> impl Stream<Item = Result<E::Output, Error<E::Error>>> + Send + Unpin + 'static
    where
        E: Paginated<Input = ()> + 'static,
    {
        let _ = endpoint;
        let state = PageState::<E> {
            client: self.clone(),
            params: Some(params),
            seen: HashSet::new(),
        };
        Box::pin(stream::unfold(state, |mut state| async move {
            let mut params = state.params.take()?;
            match state.client.execute::<E>(&params, &()).await {
                Ok(output) => {
                    let next = E::next_cursor(&output)
                        .filter(|cursor| !cursor.is_empty())
                        .map(str::to_owned);
                    if let Some(cursor) = next
                        && state.seen.insert(cursor.clone())
                    {
                        E::set_cursor(&mut params, Some(cursor));
                        state.params = Some(params);
                    }
                    Some((Ok(output), state))
                }
                Err(error) => Some((Err(error), state)),
            }
        }))
    }

    /// The items of every page of a paginated query, one by one, as
    /// [`pages`](Self::pages) fetches them. An error is yielded in place of
    /// the items of the page that failed, and ends the stream.
    pub fn items<E>(
        &self,
        endpoint: E,
        params: E::Params,
    ) -> impl Stream<Item = Result<E::Item, Error<E::Error>>> + Send + Unpin + 'static
    where
        E: PaginatedItems<Input = ()> + 'static,
    {
        self.pages(endpoint, params).flat_map(|page| {
            stream::iter(match page {
                Ok(output) => E::items(output).into_iter().map(Ok).collect::<Vec<_>>(),
                Err(error) => vec![Err(error)],
            })
        })
    }

    /// One call, as the endpoint's binding says: check (for bindings that
    /// ask), encode, send (again after a token refresh or a rate limit), read
    /// through the envelope, decode, validate.
    async fn execute<E: Endpoint>(
        &self,
        params: &E::Params,
        input: &E::Input,
    ) -> Result<E::Output, Error<E::Error>> {
        let inner = &*self.inner;
        let binding: Binding = E::BINDING;
        let envelope = &binding.envelope;
        if binding.check_request {
            check_request::<E>(params, input)?;
        }
        let url = inner.url::<E>(&binding, params)?;
        let body = if binding.method.has_body() {
            inner.body::<E>(&binding, input, &url)?
        } else {
            None
        };

        let mut attempts = 1u32;
        let mut waited = Duration::ZERO;
        let mut refreshed = false;
        let mut auth_retries = 0u32;
        let auth_error = |source| Error::Auth {
            nsid: E::NSID,
            source,
        };
        let method = binding.method.to_http();
        let proxy = inner.proxy();
        loop {
            let auth_request = inner.authenticator.as_ref().map(|_| AuthRequest {
                nsid: E::NSID,
                method: &method,
                url: &url,
                proxy,
                body: body.as_ref().map(|(content_type, bytes)| {
                    (content_type.to_str().unwrap_or_default(), bytes.as_ref())
                }),
                retry: auth_retries,
            });
            let (token, auth_headers) = match (&inner.authenticator, &auth_request) {
                (Some(hook), Some(request)) => {
                    let headers = hook.headers(request).await.map_err(auth_error)?;
                    (None, Some(headers))
                }
                _ => match &inner.minter {
                    Some(mint) => (
                        Some(mint(E::NSID).map_err(|err| {
                            transport::<E>(&url, TransportKind::Build, Some(err))
                        })?),
                        None,
                    ),
                    None => (inner.token(), None),
                },
            };
            let sent = auth_headers.clone().unwrap_or_default();
            let response = inner
                .send::<E>(
                    &binding,
                    &url,
                    body.as_ref(),
                    token.as_deref(),
                    auth_headers,
                )
                .await?;
            let status_code = response.status();
            let status = status_code.as_u16();
            let answer_headers = auth_request.as_ref().map(|_| response.headers().clone());
            let finished = if status_code.is_success() {
                inner.finish::<E>(envelope, &url, response).await?
            } else {
                Finished::Failure(inner.failure::<E>(envelope, &url, response).await?)
            };
            if let (Some(hook), Some(request), Some(headers)) =
                (&inner.authenticator, &auth_request, &answer_headers)
            {
                let answer = AuthAnswer {
                    status: status_code,
                    headers,
                    sent: &sent,
                    error: match &finished {
                        Finished::Failure(failure) => failure.name(),
                        Finished::Output(_) => None,
                    },
                };
                let verdict = hook.answer(request, &answer).await.map_err(auth_error)?;
                if verdict == AuthVerdict::Retry
                    && matches!(finished, Finished::Failure(_))
                    && auth_retries < MAX_AUTH_RETRIES
                {
                    auth_retries += 1;
                    continue;
                }
            }
            let failure = match finished {
                Finished::Output(output) => return Ok(output),
                Finished::Failure(failure) => failure,
            };

            // An endpoint that declares `ExpiredToken` means a token of its
            // own (the email token of `resetPassword`, the refresh token of
            // `deleteSession`), not the access token.
            if !refreshed
                && failure.is_expired_token::<E::Error>(envelope)
                && let Some(hook) = &inner.refresh
            {
                refreshed = true;
                self.refresh(hook, token.as_deref())
                    .await
                    .map_err(|source| Error::Refresh {
                        nsid: E::NSID,
                        source,
                    })?;
                continue;
            }

            if let Some(policy) = &inner.retry
                && matches!(status, 429 | 503)
                && attempts < policy.max_attempts
            {
                let wait = match failure.reset {
                    Some(reset) => reset
                        .duration_since(SystemTime::now())
                        .unwrap_or(Duration::ZERO),
                    None => policy.default_delay,
                };
                if let Some(total) = waited.checked_add(wait)
                    && total <= policy.max_total_wait
                {
                    tokio::time::sleep(wait).await;
                    waited = total;
                    attempts += 1;
                    continue;
                }
            }

            return Err(failure.into_error(envelope));
        }
    }

    /// Gets a new access token from `hook`, unless another call already
    /// replaced `used` (the token the expired request carried).
    async fn refresh(&self, hook: &RefreshHook, used: Option<&str>) -> Result<(), BoxError> {
        let _guard = self.inner.refresh_lock.lock().await;
        if self.inner.token().as_deref() != used {
            return Ok(());
        }
        let token = hook().await?;
        self.set_access_token(Some(token));
        Ok(())
    }
}

/// Where a stream of pages is.
struct PageState<E: Endpoint> {
    client: Client,
    /// The parameters of the next request; `None` once the stream is over.
    params: Option<E::Params>,
    /// Every cursor followed so far.
    seen: HashSet<String>,
}

impl Inner {
    fn token(&self) -> Option<String> {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The service calls are proxied to (`atproto-proxy`), if any.
    fn proxy(&self) -> Option<&str> {
        self.headers
            .get(builder::ATPROTO_PROXY)
            .and_then(|value| value.to_str().ok())
    }
}
