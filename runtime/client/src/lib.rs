//! A client (feature `client`): calls any endpoint of generated bindings over
//! HTTP(S), with typed parameters, input, output and errors, as XRPC or as
//! the endpoint's [binding] says.
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
//! can store it, and [`Login::resume`] continues a stored one. OAuth is not
//! supported. [`Client::service_auth`] asks the PDS for a service-auth token
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
mod builder;
mod error;
#[cfg(test)]
mod lexicon_checks;
mod records;
mod reset;
mod session;
#[cfg(feature = "subscriptions")]
mod subscribe;

pub use account::{
    CreateSessionError, DeleteSessionError, GetServiceAuthError, RefreshSessionError,
};
pub use atlex_core::validate::ValidationMode;
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
pub use subscribe::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_FRAME_SIZE, EventStream, Reconnect};

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

use builder::{RefreshHook, TokenMinter, ViolationHook};

use atlex_core::binding::{self, BearerUse, Binding, BodyFormat, Envelope, PathTemplate};
use atlex_core::error::CommonError;
use atlex_core::validate::{Validate, ValidationError};
use atlex_core::xrpc::{
    Codec, Endpoint, EndpointError, Paginated, PaginatedItems, Params, QueryWriter,
};

/// How much of an error response's body is read: enough for any XRPC error,
/// little enough that a misbehaving server cannot exhaust memory.
const ERROR_BODY_READ_LIMIT: u64 = 256 * 1024;

/// The common error that asks for a new access token.
const EXPIRED_TOKEN: &str = "ExpiredToken";

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
        loop {
            let token = match &inner.minter {
                Some(mint) => Some(
                    mint(E::NSID)
                        .map_err(|err| transport::<E>(&url, TransportKind::Build, Some(err)))?,
                ),
                None => inner.token(),
            };
            let response = inner
                .send::<E>(&binding, &url, body.as_ref(), token.as_deref())
                .await?;
            let status = response.status().as_u16();
            let failure = if response.status().is_success() {
                match inner.finish::<E>(envelope, &url, response).await? {
                    Finished::Output(output) => return Ok(output),
                    Finished::Failure(failure) => failure,
                }
            } else {
                inner.failure::<E>(envelope, &url, response).await?
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

    /// `<base>/xrpc/<nsid>?<params>`, or `<base><path>?<other params>` for a
    /// path template filled from the parameters.
    fn url<E: Endpoint>(
        &self,
        binding: &Binding,
        params: &E::Params,
    ) -> Result<reqwest::Url, Error<E::Error>> {
        let mut query = QueryWriter::new();
        params.write_query(&mut query);
        let (mut text, query) = match binding.path {
            PathTemplate::Xrpc => (
                format!("{}/xrpc/{}", self.base_url, E::NSID),
                query.to_query_string(),
            ),
            PathTemplate::Template(template) => {
                let (path, rest) =
                    binding::expand_path(template, query.pairs()).map_err(|message| {
                        Error::InvalidInput {
                            nsid: E::NSID,
                            error: ValidationError {
                                violations: vec![atlex_core::validate::Violation {
                                    path: String::new(),
                                    constraint: "path",
                                    message,
                                }],
                            },
                        }
                    })?;
                let mut serializer = form_urlencoded::Serializer::new(String::new());
                for (name, value) in rest {
                    serializer.append_pair(name, value);
                }
                (format!("{}{path}", self.base_url), serializer.finish())
            }
        };
        if !query.is_empty() {
            text.push('?');
            text.push_str(&query);
        }
        reqwest::Url::parse(&text).map_err(|e| Error::Transport {
            nsid: E::NSID,
            url: text,
            kind: TransportKind::Build,
            source: Some(Box::new(e)),
        })
    }

    /// The request body, in the format the binding allows (the one set with
    /// [`ClientBuilder::body_format`] if it is allowed, else the first),
    /// with its `Content-Type`; `None` when the endpoint has no input.
    fn body<E: Endpoint>(
        &self,
        binding: &Binding,
        input: &E::Input,
        url: &reqwest::Url,
    ) -> Result<Option<(HeaderValue, Bytes)>, Error<E::Error>> {
        let format = self
            .body_format
            .filter(|preferred| binding.body.contains(preferred))
            .or_else(|| binding.body.first().copied())
            .unwrap_or(BodyFormat::Encoding);
        let payload = match (format, E::INPUT_ENCODING) {
            (_, None) | (BodyFormat::Encoding, _) => E::encode_input(input, E::INPUT_ENCODING),
            (BodyFormat::Json, Some(_)) => E::encode_input(input, Some(binding::JSON_UTF8)),
            (BodyFormat::Form, Some(_)) => E::InputCodec::encode_form(input),
        }
        .map_err(|error| Error::Encode {
            nsid: E::NSID,
            error,
        })?;
        let Some(content_type) = payload.content_type else {
            return Ok(None);
        };
        let content_type = HeaderValue::from_str(&content_type)
            .map_err(|e| transport::<E>(url, TransportKind::Build, Some(Box::new(e))))?;
        Ok(Some((content_type, Bytes::from(payload.body))))
    }

    /// Sends one request and receives the response head.
    async fn send<E: Endpoint>(
        &self,
        binding: &Binding,
        url: &reqwest::Url,
        body: Option<&(HeaderValue, Bytes)>,
        token: Option<&str>,
    ) -> Result<reqwest::Response, Error<E::Error>> {
        let mut request = self
            .http
            .request(binding.method.to_http(), url.clone())
            .headers(self.headers.clone());
        if let Some(header) = binding.auth.api_key {
            let Some(key) = &self.api_key else {
                return Err(transport::<E>(
                    url,
                    TransportKind::Build,
                    Some(
                        format!(
                            "this endpoint needs an API key (`{header}`); set one with ClientBuilder::api_key"
                        )
                        .into(),
                    ),
                ));
            };
            request = request.header(header, key.clone());
        }
        match (binding.auth.bearer, token) {
            (BearerUse::Never, _) | (BearerUse::Optional, None) => {}
            (_, Some(token)) => {
                let value = bearer_value(token).map_err(|reason| {
                    transport::<E>(
                        url,
                        TransportKind::Build,
                        Some(format!("invalid access token: {reason}").into()),
                    )
                })?;
                request = request.header(AUTHORIZATION, value);
            }
            (BearerUse::Required, None) => {
                return Err(transport::<E>(
                    url,
                    TransportKind::Build,
                    Some(
                        "this endpoint needs an access token; set one with ClientBuilder::bearer"
                            .into(),
                    ),
                ));
            }
        }
        if let Some((content_type, bytes)) = body {
            request = request
                .header(CONTENT_TYPE, content_type.clone())
                .body(bytes.clone());
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        request.send().await.map_err(|e| {
            let kind = if e.is_timeout() {
                TransportKind::Timeout
            } else if e.is_connect() {
                TransportKind::Connect
            } else if e.is_builder() {
                TransportKind::Build
            } else {
                TransportKind::Send
            };
            transport::<E>(url, kind, Some(Box::new(e)))
        })
    }

    /// Reads, decodes and validates a response with a success status (or,
    /// when the envelope's flag says otherwise, reads it as a failure).
    async fn finish<E: Endpoint>(
        &self,
        envelope: &Envelope,
        url: &reqwest::Url,
        mut response: reqwest::Response,
    ) -> Result<Finished<E::Output>, Error<E::Error>> {
        let too_large =
            |limit| transport::<E>(url, TransportKind::TooLarge { limit }, None::<BoxError>);
        if let Some(limit) = self.max_response_size
            && response
                .content_length()
                .is_some_and(|length| length > limit)
        {
            return Err(too_large(limit));
        }
        let content_type = header_text(response.headers(), CONTENT_TYPE);
        let limit = self.max_response_size.unwrap_or(u64::MAX);
        let (body, truncated) = read_body(&mut response, limit)
            .await
            .map_err(|e| body_error::<E>(url, e))?;
        if truncated {
            return Err(too_large(limit));
        }
        if envelope.checks_success() {
            let value = serde_json::from_slice::<serde_json::Value>(&body).ok();
            if !value
                .as_ref()
                .is_some_and(|value| envelope.is_success(value))
            {
                let body = match value.as_ref().and_then(|v| envelope.error_parts_of(v)) {
                    Some((name, message)) => FailureBody::Named { name, message },
                    None => FailureBody::Other {
                        content_type,
                        body: excerpt(&body, false, Error::<E::Error>::HTTP_BODY_LIMIT),
                    },
                };
                return Ok(Finished::Failure(Failure {
                    status: response.status().as_u16(),
                    reset: reset::reset_time(response.headers(), SystemTime::now()),
                    body,
                }));
            }
        }
        let output =
            E::decode_output(content_type.as_deref(), &body).map_err(|error| Error::Decode {
                nsid: E::NSID,
                error,
            })?;
        match self.validation {
            ValidationMode::Off => {}
            ValidationMode::Strict => output.validate().map_err(|error| Error::Invalid {
                nsid: E::NSID,
                error,
            })?,
            ValidationMode::Lenient => {
                if let Err(error) = output.validate()
                    && let Some(hook) = &self.on_violation
                {
                    hook(E::NSID, &error);
                }
            }
        }
        Ok(Finished::Output(output))
    }

    /// Reads an error response.
    async fn failure<E: Endpoint>(
        &self,
        envelope: &Envelope,
        url: &reqwest::Url,
        mut response: reqwest::Response,
    ) -> Result<Failure, Error<E::Error>> {
        let status = response.status().as_u16();
        let reset = reset::reset_time(response.headers(), SystemTime::now());
        let content_type = header_text(response.headers(), CONTENT_TYPE);
        let (bytes, truncated) = read_body(&mut response, ERROR_BODY_READ_LIMIT)
            .await
            .map_err(|e| body_error::<E>(url, e))?;
        let body = match envelope.error_parts(&bytes) {
            Some((name, message)) if !truncated => FailureBody::Named { name, message },
            _ => FailureBody::Other {
                content_type,
                body: excerpt(&bytes, truncated, Error::<E::Error>::HTTP_BODY_LIMIT),
            },
        };
        Ok(Failure {
            status,
            reset,
            body,
        })
    }
}

/// What reading a response with a success status gave.
enum Finished<O> {
    /// The output.
    Output(O),
    /// A failure, by the envelope's success flag.
    Failure(Failure),
}

/// An error response, read but not yet sorted.
struct Failure {
    status: u16,
    /// The reset time of the `ratelimit-reset` / `Retry-After` headers.
    reset: Option<SystemTime>,
    body: FailureBody,
}

enum FailureBody {
    /// A JSON body with an error name where the envelope says.
    Named {
        name: String,
        message: Option<String>,
    },
    /// Anything else.
    Other {
        content_type: Option<String>,
        body: String,
    },
}

impl Failure {
    /// Whether this is the common `ExpiredToken` (not an endpoint's own error
    /// of that name), which asks for a new access token.
    fn is_expired_token<X: EndpointError>(&self, envelope: &Envelope) -> bool {
        let FailureBody::Named { name, .. } = &self.body else {
            return false;
        };
        !X::DECLARED.contains(&name.as_str())
            && envelope
                .common_error(name, None)
                .is_some_and(|error| error.name() == EXPIRED_TOKEN)
    }

    /// Sorts the error as the envelope says: a status that means a common
    /// error; a name declared by the endpoint; a name of a common error; any
    /// other name; no name.
    fn into_error<X: EndpointError>(self, envelope: &Envelope) -> Error<X> {
        let status = self.status;
        let reset = self.reset;
        let with_reset = |error: CommonError| match error {
            CommonError::RateLimitExceeded { message, .. } => {
                CommonError::RateLimitExceeded { message, reset }
            }
            other => other,
        };
        if let Some(common) = envelope.status_error(status) {
            let message = match &self.body {
                FailureBody::Named { name, message } => message.clone().or(Some(name.clone())),
                FailureBody::Other { .. } => None,
            };
            if let Some(error) = CommonError::from_parts(common, message) {
                return Error::Common {
                    status,
                    error: with_reset(error),
                };
            }
        }
        match self.body {
            FailureBody::Named { name, message } => {
                if X::DECLARED.contains(&name.as_str()) {
                    return Error::Endpoint {
                        status,
                        error: X::from_parts(name, message),
                    };
                }
                match envelope.common_error(&name, message.clone()) {
                    Some(error) => Error::Common {
                        status,
                        error: with_reset(error),
                    },
                    None => Error::Endpoint {
                        status,
                        error: X::from_parts(name, message),
                    },
                }
            }
            FailureBody::Other { content_type, body } => Error::Http {
                status,
                content_type,
                body,
                retry_after: reset,
            },
        }
    }
}

/// Checks parameters and input against the lexicon, for bindings that ask.
fn check_request<E: Endpoint>(params: &E::Params, input: &E::Input) -> Result<(), Error<E::Error>> {
    let mut violations = Vec::new();
    if let Err(error) = params.validate() {
        violations.extend(error.violations);
    }
    if let Err(error) = input.validate() {
        violations.extend(error.violations);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            nsid: E::NSID,
            error: ValidationError { violations },
        })
    }
}

/// At most `limit` bytes of `bytes` as text (invalid UTF-8 replaced, cut on a
/// character boundary), with `…` when anything was left out.
fn excerpt(bytes: &[u8], truncated: bool, limit: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= limit && !truncated {
        return text.into_owned();
    }
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].to_owned();
    out.push('…');
    out
}

/// Reads a body up to `limit` bytes; `true` when there was more.
async fn read_body(
    response: &mut reqwest::Response,
    limit: u64,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len() as u64);
        if chunk.len() as u64 > room {
            let room = usize::try_from(room).map_or(chunk.len(), |room| room.min(chunk.len()));
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// A header's value as text (invalid UTF-8 replaced).
fn header_text(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

/// `Bearer <token>`, marked sensitive so that it is kept out of debug output.
pub(crate) fn bearer_value(token: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "it contains characters not allowed in an HTTP header".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}

fn transport<E: Endpoint>(
    url: &reqwest::Url,
    kind: TransportKind,
    source: Option<BoxError>,
) -> Error<E::Error> {
    Error::Transport {
        nsid: E::NSID,
        url: url.to_string(),
        kind,
        source,
    }
}

fn body_error<E: Endpoint>(url: &reqwest::Url, error: reqwest::Error) -> Error<E::Error> {
    let kind = if error.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Body
    };
    transport::<E>(url, kind, Some(Box::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `error` and `message` of an XRPC error body.
    fn xrpc_error(body: &[u8]) -> Option<(String, Option<String>)> {
        Envelope::XRPC.error_parts(body)
    }

    #[test]
    fn xrpc_error_bodies() {
        assert_eq!(
            xrpc_error(br#"{"error":"InvalidConvo","message":"gone"}"#),
            Some(("InvalidConvo".to_owned(), Some("gone".to_owned())))
        );
        assert_eq!(
            xrpc_error(br#"{"error":"X","message":5}"#),
            Some(("X".to_owned(), None))
        );
        for body in [
            &br#"{"message":"no name"}"#[..],
            br#"{"error":5}"#,
            br#"{"error":""}"#,
            br#"["error"]"#,
            b"<html>Bad Gateway</html>",
            b"",
            b"{\"error\":\"X\"",
            &[0xff, 0xfe, 0x00],
        ] {
            assert_eq!(
                xrpc_error(body),
                None,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let deep = "[".repeat(100_000);
        assert_eq!(xrpc_error(deep.as_bytes()), None);
    }

    #[test]
    fn excerpts_cut_on_character_boundaries() {
        assert_eq!(excerpt(b"short", false, 10), "short");
        assert_eq!(excerpt(b"short", true, 10), "short…");
        assert_eq!(excerpt("aé".as_bytes(), false, 2), "a…");
        assert_eq!(excerpt(&[b'a', 0xff, b'b'], false, 10), "a\u{fffd}b");
        assert_eq!(excerpt(b"abcdef", false, 3), "abc…");
    }
}
