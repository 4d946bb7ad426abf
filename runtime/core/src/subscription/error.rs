//! Why an event stream yielded an error: [`SubscriptionError`], and
//! [`FrameError`] for a frame that could not be read.

use crate::cbor::DecodeError;
use crate::error::CommonError;
use crate::xrpc::EndpointError;

/// Why one frame could not be read. The stream goes on after it: the next
/// frame may be fine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame does not start with a DAG-CBOR header map (truncated,
    /// garbage, empty).
    #[error("invalid frame header: {0}")]
    Header(DecodeError),
    /// The header's `op` is neither 1 (a message) nor -1 (an error).
    #[error("unknown frame op {0} (1 is a message, -1 an error)")]
    Op(i64),
    /// A message header without the `t` naming its type.
    #[error("a message frame without the `t` naming its type")]
    MissingType,
    /// The body is not what its header's `t` names.
    #[error("the body of a `{type_name}` frame does not decode: {error}")]
    Body {
        /// The full type name (`com.atproto.sync.subscribeRepos#commit`).
        type_name: String,
        /// Why.
        error: DecodeError,
    },
    /// The body of an error frame is not `{"error", "message"}`.
    #[error("invalid error frame body: {0}")]
    ErrorBody(DecodeError),
    /// A WebSocket text message where the subprotocol (`xrpc.v0.cbor`,
    /// `xrpc.v1.cbor`) sends binary frames.
    #[error("a text message ({0} bytes); this stream's subprotocol sends binary frames")]
    Text(usize),
    /// A `v1` frame (`xrpc.v1.json`, `xrpc.v1.cbor`) that is not one
    /// object of the `v1` framing, or whose payload is not a message of the
    /// stream.
    #[error("invalid v1 frame: {0}")]
    V1(DecodeError),
    /// A `v1` frame whose `$type` is neither `message` nor `error`.
    #[error("a v1 frame of $type {0:?} (a frame is a `message` or an `error`)")]
    V1Type(String),
    /// A `v1` message frame without its `payload`.
    #[error("a v1 message frame without its `payload`")]
    MissingPayload,
    /// A binary message that the stream's hook (a decompressor) could not
    /// turn into a frame.
    #[error("cannot turn a binary message into a frame: {0}")]
    Transform(String),
}

/// Why an event stream of a subscription whose declared errors are `E`
/// yielded an error instead of a message.
///
/// An error frame the server sends is sorted by its name, as the client sorts
/// the errors of HTTP calls: a declared name (`FutureCursor`,
/// `ConsumerTooSlow`) is [`Endpoint`](Self::Endpoint) with the typed error,
/// a name common to all XRPC endpoints (`InvalidRequest`,
/// `AuthenticationRequired`, …) is [`Common`](Self::Common), and any other
/// name is [`Endpoint`](Self::Endpoint) in the generated enum's `Unknown`
/// case, which keeps the name and message.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError<E> {
    /// An error frame naming one of the subscription's errors, or a name
    /// nobody declares.
    #[error("{0}")]
    Endpoint(E),
    /// An error frame naming an error common to all endpoints.
    #[error("{0}")]
    Common(CommonError),
    /// A frame that could not be read; the stream goes on.
    #[error(transparent)]
    Frame(FrameError),
    /// A frame larger than the stream's limit; the connection is closed.
    #[error("a frame larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The connection could not be opened (address, TCP, TLS, WebSocket
    /// handshake).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered the WebSocket handshake with an HTTP error that is
    /// not an XRPC error.
    #[error("the server refused the WebSocket upgrade: HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Http {
        /// The HTTP status.
        status: u16,
        /// The body as text (invalid UTF-8 replaced), cut after 1 KiB.
        body: String,
    },
    /// The connection failed once open: reset, closed in the middle of a
    /// frame, silent past the idle timeout, or a WebSocket protocol error.
    #[error("connection lost: {0}")]
    Transport(String),
    /// The server closed the connection with a code other than 1000
    /// (normal) and no error frame.
    #[error("the server closed the stream (code {code}){}", if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    Closed {
        /// The WebSocket close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

/// The error a server's error frame names, as [`SubscriptionError`] sorts
/// it.
#[doc(hidden)]
pub fn from_error_frame<E: EndpointError>(
    name: String,
    message: Option<String>,
) -> SubscriptionError<E> {
    if E::DECLARED.contains(&name.as_str()) {
        return SubscriptionError::Endpoint(E::from_parts(name, message));
    }
    match CommonError::from_parts(&name, message.clone()) {
        Some(common) => SubscriptionError::Common(common),
        None => SubscriptionError::Endpoint(E::from_parts(name, message)),
    }
}

impl<E: EndpointError> SubscriptionError<E> {
    /// The name of the error frame, for [`Endpoint`](Self::Endpoint) and
    /// [`Common`](Self::Common).
    pub fn error_name(&self) -> Option<&str> {
        match self {
            Self::Endpoint(error) => Some(error.name()),
            Self::Common(error) => Some(error.name()),
            _ => None,
        }
    }

    /// Whether opening the stream again (from the last `seq` seen) may
    /// succeed where this failed: connection failures, closes, HTTP 5xx, 408
    /// and 429, and `ConsumerTooSlow`. Not an error frame the server would
    /// send again (`FutureCursor`, `InvalidRequest`, …), a frame over the
    /// size limit, nor an HTTP 4xx. A [`Frame`](Self::Frame) error does not
    /// end the stream at all.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Endpoint(error) => error.name() == "ConsumerTooSlow",
            Self::Common(error) => matches!(
                error,
                CommonError::InternalServerError { .. }
                    | CommonError::UpstreamFailure { .. }
                    | CommonError::UpstreamTimeout { .. }
                    | CommonError::NotEnoughResources { .. }
                    | CommonError::RateLimitExceeded { .. }
            ),
            Self::Frame(_) | Self::TooLarge { .. } => false,
            Self::Http { status, .. } => *status >= 500 || matches!(status, 408 | 429),
            Self::Connect { .. } | Self::Transport(_) | Self::Closed { .. } => true,
        }
    }
}

impl<E> From<FrameError> for SubscriptionError<E> {
    fn from(error: FrameError) -> Self {
        Self::Frame(error)
    }
}

/// Text cut to `limit` bytes (at a character boundary), with `…` when cut.
#[doc(hidden)]
pub fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
