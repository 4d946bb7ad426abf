//! The responses the router builds: error bodies in each endpoint's envelope
//! (XRPC's `{"error", "message"}` by default), outputs, and the 501 of unknown
//! XRPC methods.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};

use super::{Rejection, ResponseFuture, Serve};
use atlex_core::binding::Envelope;
use atlex_core::error::CommonError;
use atlex_core::service::HandlerError;
use atlex_core::xrpc::{Endpoint, EndpointError, Payload};

/// `ratelimit-reset`: when the limit resets, in seconds since the Unix epoch.
static RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// An error response in `envelope`'s shape (`{"error": name, "message":
/// message}` for XRPC), as JSON.
pub(super) fn error(
    envelope: &Envelope,
    status: StatusCode,
    name: &str,
    message: Option<&str>,
) -> Response {
    let mut response = Response::new(Body::from(envelope.error_body(name, message)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A common error, under its name in `envelope` and with the status the
/// envelope gives it (else its own), and, for `RateLimitExceeded` with a
/// reset time, the `ratelimit-reset` and `Retry-After` headers.
pub(super) fn common(envelope: &Envelope, error: &CommonError) -> Response {
    let name = envelope.common_name(error);
    let status = envelope
        .status_of(name)
        .and_then(|status| StatusCode::from_u16(status).ok())
        .or_else(|| StatusCode::from_u16(error.status()).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = self::error(envelope, status, name, error.message());
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

/// An authenticator's refusal: a common error as [`common`] answers it, any
/// other name with its status.
pub(super) fn rejection(envelope: &Envelope, rejection: &Rejection) -> Response {
    if let Some(common) = rejection.as_common() {
        return self::common(envelope, common);
    }
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    error(envelope, status, rejection.name(), rejection.message())
}

/// `InternalServerError` (500 unless the envelope says) with a message.
pub(super) fn internal(envelope: &Envelope, message: &str) -> Response {
    common(
        envelope,
        &CommonError::InternalServerError {
            message: Some(message.to_owned()),
        },
    )
}

/// What a handler's error is answered with: a declared error with the status
/// the envelope gives its name, else the handler's.
pub(super) fn handler_error<E: Endpoint>(
    envelope: &Envelope,
    error: HandlerError<E::Error>,
) -> Response {
    match error {
        HandlerError::Common(common) => self::common(envelope, &common),
        HandlerError::Endpoint { error, status } => {
            let name = error.name();
            if !<E::Error as EndpointError>::DECLARED.contains(&name) {
                return internal(
                    envelope,
                    &format!("handler returned an undeclared error `{name}`"),
                );
            }
            if let Some(status) = envelope.status_of(name) {
                return match StatusCode::from_u16(status) {
                    Ok(status) => self::error(envelope, status, name, error.message()),
                    Err(_) => internal(
                        envelope,
                        &format!("the binding gives error `{name}` the invalid status {status}"),
                    ),
                };
            }
            match StatusCode::from_u16(status) {
                Ok(status) if status.is_client_error() || status.is_server_error() => {
                    self::error(envelope, status, name, error.message())
                }
                _ => internal(
                    envelope,
                    &format!(
                        "handler returned error `{name}` with status {status}, which is not an error status"
                    ),
                ),
            }
        }
    }
}

/// A handler's output, encoded: 200 with the codec's `Content-Type`, or with
/// an empty body when the endpoint has no output.
///
/// `content_type` is the endpoint's output encoding, prepared once, reused
/// when the codec answers that same type. An envelope with a success flag
/// must read the body as a success; otherwise the handler has a bug, and the
/// answer is `InternalServerError`.
pub(super) fn output<E: Endpoint>(
    envelope: &Envelope,
    output: &E::Output,
    content_type: Option<&HeaderValue>,
) -> Response {
    match E::encode_output(output, E::OUTPUT_ENCODING) {
        Ok(Payload {
            content_type: None, ..
        }) => Response::new(Body::empty()),
        Ok(Payload {
            content_type: Some(encoding),
            body,
        }) => {
            if envelope.checks_success()
                && !serde_json::from_slice(&body).is_ok_and(|value| envelope.is_success(&value))
            {
                return internal(
                    envelope,
                    "the handler's output does not read as a success in the endpoint's envelope",
                );
            }
            let value = match content_type {
                Some(prepared) if prepared.as_bytes() == encoding.as_bytes() => prepared.clone(),
                _ => match HeaderValue::try_from(encoding) {
                    Ok(value) => value,
                    Err(_) => {
                        return internal(
                            envelope,
                            "the output's Content-Type is not a valid header",
                        );
                    }
                },
            };
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(header::CONTENT_TYPE, value);
            response
        }
        Err(err) => internal(envelope, &err.to_string()),
    }
}

/// An encoding as a header value, without copying it.
pub(super) fn static_header(value: &'static str) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(Bytes::from_static(value.as_bytes())).ok()
}

/// The answer for paths under `/xrpc/` that name no mounted endpoint: 501
/// `MethodNotImplemented` for a well-formed NSID, 400 `InvalidRequest` for
/// anything else (`/xrpc/`, `/xrpc/bad..nsid`, `/xrpc/a.b.c/extra`), as the
/// reference server answers.
pub(super) struct NotImplemented;

impl Serve for NotImplemented {
    fn serve(self: Arc<Self>, request: http::Request<Body>) -> ResponseFuture {
        let path = request.uri().path();
        let nsid = path.strip_prefix("/xrpc/").unwrap_or(path);
        let error = match atlex_core::types::Nsid::validate(nsid) {
            Ok(()) => {
                CommonError::not_implemented(format!("this server does not implement `{nsid}`"))
            }
            Err(err) => {
                CommonError::invalid_request(format!("`{path}` names no XRPC method: {err}"))
            }
        };
        let response = common(&Envelope::XRPC, &error);
        Box::pin(std::future::ready(response))
    }
}
