//! One mounted endpoint: from an HTTP request to its handler and back.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt as _, StreamExt as _};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::{InputRejection, ResponseFuture, Serve, Settings, response};
use crate::error::CommonError;
use crate::service::{HandlerError, HandlerResult, Request, RequestContext};
use crate::validate::{Validate, mime_matches};
use crate::xrpc::{Codec, Endpoint, EndpointKind, Params, QueryReader};

/// Endpoint `E` of service `S`, handled by `F`.
pub(super) struct EndpointRoute<E: Endpoint, S, F> {
    service: Arc<S>,
    handler: F,
    settings: Arc<Settings>,
    /// `E::OUTPUT_ENCODING` as a header value.
    content_type: Option<HeaderValue>,
    /// How invalid input becomes a declared error, when the server said.
    rejection: Option<InputRejection<E>>,
    endpoint: PhantomData<fn() -> E>,
}

impl<E, S, F> EndpointRoute<E, S, F>
where
    E: Endpoint,
{
    pub(super) fn new(service: Arc<S>, handler: F, settings: Arc<Settings>) -> Self {
        let rejection = settings
            .input_rejections
            .get(E::NSID)
            .and_then(|any| any.downcast_ref::<InputRejection<E>>())
            .cloned();
        Self {
            service,
            handler,
            settings,
            content_type: E::OUTPUT_ENCODING.and_then(response::static_header),
            rejection,
            endpoint: PhantomData,
        }
    }
}

impl<E, S, F, Fut> Serve for EndpointRoute<E, S, F>
where
    E: Endpoint + 'static,
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Request<E>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult<E>> + Send + 'static,
{
    fn serve(self: Arc<Self>, request: http::Request<Body>) -> ResponseFuture {
        Box::pin(async move {
            let head = request.method() == Method::HEAD;
            // Whatever panics (the handler, or a hand-written `Validate` or
            // codec) is a bug of the server, answered as such: the
            // connection stays up.
            let mut response = AssertUnwindSafe(self.respond(request))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| response::internal("the handler panicked"));
            if head {
                strip_body(&mut response);
            }
            response
        })
    }
}

impl<E, S, F, Fut> EndpointRoute<E, S, F>
where
    E: Endpoint + 'static,
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Request<E>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult<E>> + Send + 'static,
{
    async fn respond(&self, request: http::Request<Body>) -> Response {
        let (parts, body) = request.into_parts();

        let allowed = match E::KIND {
            EndpointKind::Query => parts.method == Method::GET || parts.method == Method::HEAD,
            EndpointKind::Procedure => parts.method == Method::POST,
        };
        if !allowed {
            return wrong_method(E::KIND, &parts.method);
        }

        let caller = match &self.settings.authenticator {
            Some(authenticate) => match authenticate(&parts.headers) {
                Ok(caller) => caller,
                Err(error) => return response::common(&error),
            },
            None => None,
        };

        let params = match read_params::<E::Params>(parts.uri.query()) {
            Ok(params) => params,
            Err(error) => return response::common(&error),
        };

        let input = match E::INPUT_ENCODING {
            Some(encoding) => {
                read_input::<E>(encoding, &parts.headers, body, self.settings.body_limit).await
            }
            None => no_input::<E>(),
        };
        let input = match input {
            Ok(input) => input,
            Err(error) => return response::common(&error),
        };
        if let Err(violations) = input.validate() {
            let declared = self.rejection.as_ref().and_then(|map| map(&violations));
            return match declared {
                Some(error) => response::handler_error::<E>(HandlerError::endpoint(error)),
                None => response::common(&CommonError::invalid_request(format!(
                    "invalid input: {violations}"
                ))),
            };
        }

        let request = Request {
            params,
            input,
            context: RequestContext {
                headers: parts.headers,
                caller,
            },
        };
        match (self.handler)(Arc::clone(&self.service), request).await {
            Ok(output) => response::output::<E>(&output, self.content_type.as_ref()),
            Err(error) => response::handler_error::<E>(error),
        }
    }
}

/// 400 `InvalidRequest` for a method the endpoint does not take, with the
/// `Allow` header.
fn wrong_method(kind: EndpointKind, method: &Method) -> Response {
    let (expected, allow) = match kind {
        EndpointKind::Query => ("GET", "GET, HEAD"),
        EndpointKind::Procedure => ("POST", "POST"),
    };
    let mut response = response::error(
        StatusCode::BAD_REQUEST,
        "InvalidRequest",
        Some(&format!(
            "Incorrect HTTP method ({method}), expected {expected}"
        )),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// Reads and checks the parameters.
fn read_params<P: Params + Validate>(query: Option<&str>) -> Result<P, CommonError> {
    let reader = QueryReader::parse(query.unwrap_or(""));
    let params =
        P::read_query(&reader).map_err(|err| CommonError::invalid_request(err.to_string()))?;
    params
        .validate()
        .map_err(|err| CommonError::invalid_request(format!("invalid parameters: {err}")))?;
    Ok(params)
}

/// The input of an endpoint that declares none.
fn no_input<E: Endpoint>() -> Result<E::Input, CommonError> {
    E::InputCodec::decode(None, &[]).map_err(|err| CommonError::InternalServerError {
        message: Some(format!(
            "`{}` declares no input, but its input type needs a body: {err}",
            E::NSID
        )),
    })
}

/// Reads and decodes the body of an endpoint whose input is in `encoding`
/// (the caller checks its constraints).
async fn read_input<E: Endpoint>(
    encoding: &'static str,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<E::Input, CommonError> {
    let content_type = match headers.get(header::CONTENT_TYPE) {
        Some(value) => match value.to_str() {
            Ok(text) if mime_matches(encoding, text) => Some(text.trim()),
            _ => {
                return Err(CommonError::invalid_request(format!(
                    "Wrong request encoding (Content-Type): {}, expected {encoding}",
                    String::from_utf8_lossy(value.as_bytes())
                )));
            }
        },
        None => None,
    };

    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }

    let bytes = read_body(body, limit, declared).await?;
    if bytes.is_empty() {
        return Err(CommonError::invalid_request(format!(
            "a request body ({encoding}) is required, but none was given"
        )));
    }
    let Some(content_type) = content_type else {
        return Err(CommonError::invalid_request(format!(
            "the request has a body but no Content-Type; expected {encoding}"
        )));
    };

    E::InputCodec::decode(Some(content_type), &bytes)
        .map_err(|err| CommonError::invalid_request(err.to_string()))
}

/// The whole body, refusing more than `limit` bytes whatever the headers
/// said.
async fn read_body(body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, CommonError> {
    let mut stream = body.into_data_stream();
    // Most bodies arrive in one chunk: keep it as it is, copy only when a
    // second one comes.
    let mut first = Bytes::new();
    let mut joined: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            CommonError::invalid_request(format!("cannot read the request body: {err}"))
        })?;
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(too_large(limit));
        }
        if chunk.is_empty() {
            continue;
        }
        if let Some(buffer) = joined.as_mut() {
            buffer.extend_from_slice(&chunk);
        } else if first.is_empty() {
            first = chunk;
        } else {
            let capacity = declared
                .and_then(|length| usize::try_from(length).ok())
                .unwrap_or(0)
                .clamp(total, limit);
            let mut buffer = BytesMut::with_capacity(capacity);
            buffer.extend_from_slice(&first);
            buffer.extend_from_slice(&chunk);
            joined = Some(buffer);
        }
    }
    Ok(match joined {
        Some(buffer) => buffer.freeze(),
        None => first,
    })
}

/// 413 `PayloadTooLarge`.
fn too_large(limit: usize) -> CommonError {
    CommonError::PayloadTooLarge {
        message: Some(format!(
            "the request body is larger than the limit of {limit} bytes"
        )),
    }
}

/// Answers a `HEAD` request: the headers of the `GET` answer, with its
/// `Content-Length`, and no body.
fn strip_body(response: &mut Response) {
    if !response.headers().contains_key(header::CONTENT_LENGTH)
        && let Some(length) = response.body().size_hint().exact()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    *response.body_mut() = Body::empty();
}
