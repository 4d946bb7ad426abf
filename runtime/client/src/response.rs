//! Responses: a success read, decoded and validated as the endpoint's
//! output, or a failure read and sorted into an [`Error`] through the
//! binding's envelope.

use std::time::SystemTime;

use http::header::{CONTENT_TYPE, HeaderMap};

use atlex_core::binding::Envelope;
use atlex_core::error::CommonError;
use atlex_core::validate::{Validate, ValidationMode};
use atlex_core::xrpc::{Endpoint, EndpointError};

use crate::error::{BoxError, Error, TransportKind, body_error, transport};
use crate::{Inner, reset};

/// How much of an error response's body is read: enough for any XRPC error,
/// little enough that a misbehaving server cannot exhaust memory.
const ERROR_BODY_READ_LIMIT: u64 = 256 * 1024;

/// The common error that asks for a new access token.
const EXPIRED_TOKEN: &str = "ExpiredToken";

impl Inner {
    /// Reads, decodes and validates a response with a success status (or,
    /// when the envelope's flag says otherwise, reads it as a failure).
    pub(crate) async fn finish<E: Endpoint>(
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
    pub(crate) async fn failure<E: Endpoint>(
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
pub(crate) enum Finished<O> {
    /// The output.
    Output(O),
    /// A failure, by the envelope's success flag.
    Failure(Failure),
}

/// An error response, read but not yet sorted.
pub(crate) struct Failure {
    status: u16,
    /// The reset time of the `ratelimit-reset` / `Retry-After` headers.
    pub(crate) reset: Option<SystemTime>,
    body: FailureBody,
}

pub(crate) enum FailureBody {
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
    /// The error name of the body, when it has one.
    pub(crate) fn name(&self) -> Option<&str> {
        match &self.body {
            FailureBody::Named { name, .. } => Some(name),
            FailureBody::Other { .. } => None,
        }
    }

    /// Whether this is the common `ExpiredToken` (not an endpoint's own error
    /// of that name), which asks for a new access token.
    pub(crate) fn is_expired_token<X: EndpointError>(&self, envelope: &Envelope) -> bool {
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
    pub(crate) fn into_error<X: EndpointError>(self, envelope: &Envelope) -> Error<X> {
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
