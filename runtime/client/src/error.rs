//! Why a call failed: [`Error`], and [`BuildError`] for a client that could
//! not be built.

use std::fmt;
use std::time::SystemTime;

use atlex_core::error::CommonError;
use atlex_core::validate::ValidationError;
use atlex_core::xrpc::{DecodeError, EncodeError, Endpoint, EndpointError};

/// Any error, boxed: what a token-refresh hook may fail with, and the cause of
/// a [`Error::Transport`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a call of an endpoint whose declared errors are `E` failed.
///
/// A server's answer is sorted by its `error` name, whatever the HTTP status
/// (servers send declared errors with 400, 401, 500, 502, …), where the
/// endpoint's [envelope](atlex_core::binding::Envelope) puts it (for XRPC, the
/// `error` field); an envelope may also say that a status means a common
/// error whatever the body (Slack's 429 is `RateLimitExceeded`):
///
/// - a name the endpoint declares is [`Error::Endpoint`], with the typed
///   error;
/// - else a name common to all XRPC endpoints is [`Error::Common`];
/// - else the name is still [`Error::Endpoint`], in the generated enum's
///   `Unknown` case, which keeps name and message;
/// - an answer without an XRPC error body (HTML from a proxy, plain text,
///   JSON without a string `error`) is [`Error::Http`].
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The server answered with an error named in the endpoint's `Error`
    /// type: a declared one, or any name that is neither declared nor common
    /// (in the generated `Unknown` case).
    #[error("{error} (HTTP {status})")]
    Endpoint {
        /// The HTTP status of the response.
        status: u16,
        /// The error.
        error: E,
    },
    /// The server answered with an error common to all endpoints
    /// (`InvalidRequest`, `AuthenticationRequired`, `RateLimitExceeded`, …).
    /// A `RateLimitExceeded` carries the reset time of the response's
    /// `ratelimit-reset` or `Retry-After` header.
    #[error("{error} (HTTP {status})")]
    Common {
        /// The HTTP status of the response.
        status: u16,
        /// The error.
        error: CommonError,
    },
    /// The server answered with an error status and a body that is not an
    /// XRPC error.
    #[error(
        "HTTP {status} without an XRPC error{}",
        http_details(content_type, body)
    )]
    Http {
        /// The HTTP status of the response.
        status: u16,
        /// The response's `Content-Type`, if any.
        content_type: Option<String>,
        /// The body as text (invalid UTF-8 replaced), cut after
        /// [`Error::HTTP_BODY_LIMIT`] bytes with a trailing `…`.
        body: String,
        /// When the server said to retry (`ratelimit-reset` or `Retry-After`),
        /// if it did.
        retry_after: Option<SystemTime>,
    },
    /// No usable response: the request could not be built or sent, or the
    /// response could not be read.
    #[error("{nsid}: {kind} ({url})")]
    Transport {
        /// The endpoint called.
        nsid: &'static str,
        /// The URL requested.
        url: String,
        /// What failed.
        kind: TransportKind,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The input could not be encoded.
    #[error("{nsid}: {error}")]
    Encode {
        /// The endpoint called.
        nsid: &'static str,
        /// Why.
        #[source]
        error: EncodeError,
    },
    /// The server answered success with a body that does not decode as the
    /// endpoint's output; the error says where in the body.
    #[error("{nsid}: the response does not decode: {error}")]
    Decode {
        /// The endpoint called.
        nsid: &'static str,
        /// What is wrong, and where.
        #[source]
        error: DecodeError,
    },
    /// The parameters or input break the lexicon's constraints, or do not
    /// fill the binding's path; nothing was sent. Only endpoints whose
    /// [binding](atlex_core::binding::Binding::check_request) asks are checked
    /// (XRPC endpoints are not).
    #[error("{nsid}: invalid request, not sent: {error}")]
    InvalidInput {
        /// The endpoint called.
        nsid: &'static str,
        /// Every violation, with its path.
        #[source]
        error: ValidationError,
    },
    /// The output decoded but breaks the lexicon's constraints (only with
    /// [`ValidationMode::Strict`](super::ValidationMode::Strict)).
    #[error("{nsid}: the response breaks the lexicon's constraints: {error}")]
    Invalid {
        /// The endpoint called.
        nsid: &'static str,
        /// Every violation, with its path.
        #[source]
        error: ValidationError,
    },
    /// The client's [`Authenticate`](crate::Authenticate) hook failed: it
    /// could not authenticate the request (then nothing was sent, as when the
    /// credentials cannot cover the call), or could not handle the answer
    /// (a token refresh that failed).
    #[error("{nsid}: authentication failed: {source}")]
    Auth {
        /// The endpoint called.
        nsid: &'static str,
        /// What the hook failed with.
        source: BoxError,
    },
    /// The server answered `ExpiredToken` and the client's refresh hook failed.
    #[error("{nsid}: the access token expired and refreshing it failed: {source}")]
    Refresh {
        /// The endpoint called.
        nsid: &'static str,
        /// What the hook failed with.
        source: BoxError,
    },
}

fn http_details(content_type: &Option<String>, body: &str) -> String {
    let mut out = String::new();
    if let Some(content_type) = content_type {
        out.push_str(" (");
        out.push_str(content_type);
        out.push(')');
    }
    if !body.is_empty() {
        out.push_str(": ");
        out.push_str(body);
    }
    out
}

impl<E> Error<E> {
    /// How much of a non-XRPC error body [`Error::Http`] keeps, in bytes.
    pub const HTTP_BODY_LIMIT: usize = 4096;

    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Endpoint { status, .. }
            | Self::Common { status, .. }
            | Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying the same call again later may succeed: HTTP 429, 502,
    /// 503 and 504, and failures to connect or timeouts.
    ///
    /// A procedure that timed out may have taken effect on the server.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { kind, .. } => {
                matches!(kind, TransportKind::Connect | TransportKind::Timeout)
            }
            _ => matches!(self.status(), Some(429 | 502 | 503 | 504)),
        }
    }

    /// When the server said the call may be made again: the reset of a
    /// `RateLimitExceeded`, or the `ratelimit-reset` / `Retry-After` header of
    /// an [`Error::Http`] answer.
    pub fn retry_after(&self) -> Option<SystemTime> {
        match self {
            Self::Common {
                error: CommonError::RateLimitExceeded { reset, .. },
                ..
            } => *reset,
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The endpoint's own error, if the server answered one.
    pub fn endpoint_error(&self) -> Option<&E> {
        match self {
            Self::Endpoint { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The common XRPC error, if the server answered one.
    pub fn common_error(&self) -> Option<&CommonError> {
        match self {
            Self::Common { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl<E: EndpointError> Error<E> {
    /// The XRPC error name the server answered (`InvalidConvo`,
    /// `RateLimitExceeded`, …), if it answered one.
    pub fn error_name(&self) -> Option<&str> {
        match self {
            Self::Endpoint { error, .. } => Some(error.name()),
            Self::Common { error, .. } => Some(error.name()),
            _ => None,
        }
    }
}

/// What part of an exchange failed, in an [`Error::Transport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The request could not be built (a header value such as the access
    /// token is not valid in HTTP, for example).
    Build,
    /// No connection could be made to the server.
    Connect,
    /// The configured timeout passed before the response was complete.
    Timeout,
    /// Sending the request or receiving the response head failed.
    Send,
    /// Reading the response body failed.
    Body,
    /// The response body is larger than the configured limit.
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Build => f.write_str("cannot build the request"),
            Self::Connect => f.write_str("cannot connect to the server"),
            Self::Timeout => f.write_str("timed out"),
            Self::Send => f.write_str("sending the request failed"),
            Self::Body => f.write_str("reading the response body failed"),
            Self::TooLarge { limit } => {
                write!(f, "the response body is over the {limit}-byte limit")
            }
        }
    }
}

/// Why a [`Client`](super::Client) could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The base URL does not parse, or is not an `http`/`https` URL without
    /// query or fragment.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configured header value (token, proxy, labelers, user agent) is not
    /// valid in HTTP.
    #[error("invalid value for the `{name}` header: {reason}")]
    InvalidHeader {
        /// The header.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The default HTTP client could not be set up.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// A failure with no response: `kind`, from calling `url`.
pub(crate) fn transport<E: Endpoint>(
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

/// A failure reading the body of a response from `url`.
pub(crate) fn body_error<E: Endpoint>(
    url: &reqwest::Url,
    error: reqwest::Error,
) -> Error<E::Error> {
    let kind = if error.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Body
    };
    transport::<E>(url, kind, Some(Box::new(error)))
}
