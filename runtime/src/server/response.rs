//! The responses the router builds: XRPC error bodies, outputs, and the 501
//! of unknown methods.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};

use super::{ResponseFuture, Serve};
use crate::error::CommonError;
use crate::service::HandlerError;
use crate::xrpc::{Codec, Endpoint, EndpointError, Payload};

/// `ratelimit-reset`: when the limit resets, in seconds since the Unix epoch.
static RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The body of every error response.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// A JSON error response: `{"error": name, "message": message}`.
pub(super) fn error(status: StatusCode, name: &str, message: Option<&str>) -> Response {
    let body = serde_json::to_vec(&ErrorBody {
        error: name,
        message,
    })
    // Serializing two strings cannot fail; answer something valid regardless.
    .unwrap_or_else(|_| br#"{"error":"InternalServerError"}"#.to_vec());
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A common error, with its status and, for `RateLimitExceeded` with a reset
/// time, the `ratelimit-reset` and `Retry-After` headers.
pub(super) fn common(error: &CommonError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = self::error(status, error.name(), error.message());
    if let CommonError::RateLimitExceeded {
        reset: Some(reset), ..
    } = error
    {
        let headers = response.headers_mut();
        let since_epoch = reset
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        headers.insert(&RATELIMIT_RESET, HeaderValue::from(seconds_up(since_epoch)));
        let from_now = reset
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds_up(from_now)));
    }
    response
}

/// Whole seconds, rounded up so that a client waiting that long is not early.
fn seconds_up(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
}

/// `InternalServerError` (500) with a message.
pub(super) fn internal(message: &str) -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        Some(message),
    )
}

/// What a handler's error is answered with.
pub(super) fn handler_error<E: Endpoint>(error: HandlerError<E::Error>) -> Response {
    match error {
        HandlerError::Common(common) => self::common(&common),
        HandlerError::Endpoint { error, status } => {
            let name = error.name();
            if !<E::Error as EndpointError>::DECLARED.contains(&name) {
                return internal(&format!("handler returned an undeclared error `{name}`"));
            }
            match StatusCode::from_u16(status) {
                Ok(status) if status.is_client_error() || status.is_server_error() => {
                    self::error(status, name, error.message())
                }
                _ => internal(&format!(
                    "handler returned error `{name}` with status {status}, which is not an error status"
                )),
            }
        }
    }
}

/// A handler's output, encoded: 200 with the codec's `Content-Type`, or with
/// an empty body when the endpoint has no output.
///
/// `content_type` is the endpoint's output encoding, prepared once, reused
/// when the codec answers that same type.
pub(super) fn output<E: Endpoint>(
    output: &E::Output,
    content_type: Option<&HeaderValue>,
) -> Response {
    match E::OutputCodec::encode(output, E::OUTPUT_ENCODING) {
        Ok(Payload {
            content_type: None, ..
        }) => Response::new(Body::empty()),
        Ok(Payload {
            content_type: Some(encoding),
            body,
        }) => {
            let value = match content_type {
                Some(prepared) if prepared.as_bytes() == encoding.as_bytes() => prepared.clone(),
                _ => match HeaderValue::try_from(encoding) {
                    Ok(value) => value,
                    Err(_) => return internal("the output's Content-Type is not a valid header"),
                },
            };
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(header::CONTENT_TYPE, value);
            response
        }
        Err(err) => internal(&err.to_string()),
    }
}

/// An encoding as a header value, without copying it.
pub(super) fn static_header(value: &'static str) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(Bytes::from_static(value.as_bytes())).ok()
}

/// The answer for paths under `/xrpc/` that name no mounted endpoint.
pub(super) struct NotImplemented;

impl Serve for NotImplemented {
    fn serve(self: Arc<Self>, request: http::Request<Body>) -> ResponseFuture {
        let path = request.uri().path();
        let nsid = path.strip_prefix("/xrpc/").unwrap_or(path);
        let response = common(&CommonError::not_implemented(format!(
            "this server does not implement `{nsid}`"
        )));
        Box::pin(std::future::ready(response))
    }
}
