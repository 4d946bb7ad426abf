//! One mounted endpoint: from an HTTP request to its handler and back, as
//! its binding says.

use std::borrow::Cow;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt as _, StreamExt as _};
use http::{HeaderMap, HeaderValue, Method, header};

use super::{AuthRequest, InputRejection, ResponseFuture, Serve, Settings, response};
use atlex_core::binding::{self, Binding, BodyFormat, HttpMethod, PathTemplate};
use atlex_core::error::CommonError;
use atlex_core::service::{HandlerError, HandlerResult, Request, RequestContext};
use atlex_core::validate::{Validate, ValidationMode, mime_matches};
use atlex_core::xrpc::{Codec, Endpoint, Params, QueryReader};

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
                .unwrap_or_else(|_| {
                    response::internal(&E::BINDING.envelope, "the handler panicked")
                });
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
    /// Answers a request whose method the binding takes.
    async fn respond(&self, request: http::Request<Body>) -> Response {
        let binding: Binding = E::BINDING;
        let envelope = &binding.envelope;
        let (mut parts, body) = request.into_parts();

        if let Some(missing) = binding.auth.missing(&parts.headers) {
            return response::common(
                envelope,
                &CommonError::AuthenticationRequired {
                    message: Some(missing),
                },
            );
        }
        let caller = match authenticate(&self.settings, E::NSID, &mut parts).await {
            Ok(caller) => caller,
            Err(rejection) => return response::rejection(envelope, &rejection),
        };

        let params =
            match read_params::<E::Params>(&binding.path, parts.uri.path(), parts.uri.query()) {
                Ok(params) => params,
                Err(error) => return response::common(envelope, &error),
            };

        let input = match E::INPUT_ENCODING {
            Some(encoding) => {
                read_input::<E>(
                    encoding,
                    binding.body,
                    &parts.headers,
                    body,
                    self.settings.body_limit,
                )
                .await
            }
            None => no_input::<E>(),
        };
        let input = match input {
            Ok(input) => input,
            Err(error) => return response::common(envelope, &error),
        };
        if let Err(violations) = input.validate() {
            let declared = self.rejection.as_ref().and_then(|map| map(&violations));
            return match declared {
                Some(error) => {
                    response::handler_error::<E>(envelope, HandlerError::endpoint(error))
                }
                None => response::common(
                    envelope,
                    &CommonError::invalid_request(format!("invalid input: {violations}")),
                ),
            };
        }

        let request = Request {
            params,
            input,
            context: RequestContext {
                headers: parts.headers,
                caller,
                extensions: parts.extensions,
            },
        };
        match (self.handler)(Arc::clone(&self.service), request).await {
            Ok(output) => {
                match self.settings.validate_outputs {
                    ValidationMode::Off => {}
                    ValidationMode::Strict => {
                        if let Err(violations) = output.validate() {
                            return response::internal(
                                envelope,
                                &format!("the handler's output breaks the lexicon: {violations}"),
                            );
                        }
                    }
                    ValidationMode::Lenient => {
                        if let Err(violations) = output.validate()
                            && let Some(hook) = &self.settings.on_violation
                        {
                            hook(E::NSID, &violations);
                        }
                    }
                }
                response::output::<E>(envelope, &output, self.content_type.as_ref())
            }
            Err(error) => response::handler_error::<E>(envelope, error),
        }
    }
}

/// The caller of a request to `nsid`, as the router's authenticator names
/// it (anonymous without one).
pub(super) async fn authenticate(
    settings: &Settings,
    nsid: &'static str,
    parts: &mut http::request::Parts,
) -> Result<Option<atlex_core::types::Did>, super::Rejection> {
    match &settings.authenticator {
        Some(authenticator) => {
            let request = AuthRequest {
                nsid,
                method: &parts.method,
                uri: &parts.uri,
                headers: &parts.headers,
                extensions: &mut parts.extensions,
            };
            authenticator.authenticate_boxed(request).await
        }
        None => Ok(None),
    }
}

/// The endpoints of one path: each method, with the binding and route of the
/// endpoint it reaches.
pub(super) type Members = Vec<(HttpMethod, Binding, Arc<dyn Serve>)>;

/// The endpoints mounted at one path, one per method.
pub(super) struct MethodRoutes {
    /// Each method and the endpoint it reaches, in method order.
    pub(super) members: Members,
}

impl Serve for MethodRoutes {
    fn serve(self: Arc<Self>, request: http::Request<Body>) -> ResponseFuture {
        let found = self
            .members
            .iter()
            .find(|(method, _, _)| method.accepts(request.method()));
        if let Some((_, _, route)) = found {
            return Arc::clone(route).serve(request);
        }
        let Some((_, binding, _)) = self.members.first() else {
            let response =
                response::internal(&binding::Envelope::XRPC, "no endpoint is mounted here");
            return Box::pin(std::future::ready(response));
        };
        let methods: Vec<HttpMethod> = self.members.iter().map(|(m, _, _)| *m).collect();
        let mut response = wrong_method(&binding.envelope, &methods, request.method());
        if request.method() == Method::HEAD {
            strip_body(&mut response);
        }
        Box::pin(std::future::ready(response))
    }
}

/// 400 `InvalidRequest` (or what the envelope makes of it) for a method no
/// endpoint of the path takes, with the `Allow` header.
fn wrong_method(envelope: &binding::Envelope, methods: &[HttpMethod], method: &Method) -> Response {
    let expected = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    let allow = methods
        .iter()
        .map(|m| match m {
            HttpMethod::Get => "GET, HEAD",
            other => other.as_str(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = response::common(
        envelope,
        &CommonError::invalid_request(format!(
            "Incorrect HTTP method ({method}), expected {expected}"
        )),
    );
    if let Ok(allow) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// Reads and checks the parameters: from the query string, and the path's
/// variables for a template.
pub(super) fn read_params<P: Params + Validate>(
    path: &PathTemplate,
    request_path: &str,
    query: Option<&str>,
) -> Result<P, CommonError> {
    let query = query.unwrap_or("");
    let params = match path {
        PathTemplate::Xrpc => P::read_query(&QueryReader::parse(query)),
        PathTemplate::Template(template) => {
            let Some(variables) = binding::match_path(template, request_path) else {
                return Err(CommonError::invalid_request(format!(
                    "the path {request_path:?} does not fit {template:?}"
                )));
            };
            let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> =
                form_urlencoded::parse(query.as_bytes()).collect();
            pairs.extend(
                variables
                    .into_iter()
                    .map(|(name, value)| (Cow::Borrowed(name), Cow::Owned(value))),
            );
            P::read_query(&QueryReader::from_pairs(pairs))
        }
    }
    .map_err(|err| CommonError::invalid_request(err.to_string()))?;
    params
        .validate()
        .map_err(|err| CommonError::invalid_request(format!("invalid parameters: {err}")))?;
    Ok(params)
}

/// The input of an endpoint that declares none.
fn no_input<E: Endpoint>() -> Result<E::Input, CommonError> {
    E::decode_input(None, &[]).map_err(|err| CommonError::InternalServerError {
        message: Some(format!(
            "`{}` declares no input, but its input type needs a body: {err}",
            E::NSID
        )),
    })
}

/// Whether a request's Content-Type `mime` is one the `encoding` accepts.
/// An encoding may list several MIME types separated by commas (lexicons
/// in use do, and the generator reads it so): any of them is accepted.
fn encoding_matches(encoding: &str, mime: &str) -> bool {
    encoding
        .split(',')
        .any(|pattern| mime_matches(pattern.trim(), mime))
}

/// Reads and decodes the body of an endpoint whose input is in `encoding`,
/// in one of the binding's `formats` (the caller checks its constraints).
async fn read_input<E: Endpoint>(
    encoding: &'static str,
    formats: &[BodyFormat],
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<E::Input, CommonError> {
    let formats = if formats.is_empty() {
        &[BodyFormat::Encoding][..]
    } else {
        formats
    };
    let expected = formats
        .iter()
        .map(|format| format.accepts(encoding))
        .collect::<Vec<_>>()
        .join(" or ");
    let content_type = match headers.get(header::CONTENT_TYPE) {
        Some(value) => {
            let found = value.to_str().ok().and_then(|text| {
                formats
                    .iter()
                    .find(|format| encoding_matches(format.accepts(encoding), text))
                    .map(|format| (text.trim(), *format))
            });
            match found {
                Some(found) => Some(found),
                None => {
                    return Err(CommonError::invalid_request(format!(
                        "Wrong request encoding (Content-Type): {}, expected {expected}",
                        String::from_utf8_lossy(value.as_bytes())
                    )));
                }
            }
        }
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
            "a request body ({expected}) is required, but none was given"
        )));
    }
    let Some((content_type, format)) = content_type else {
        return Err(CommonError::invalid_request(format!(
            "the request has a body but no Content-Type; expected {expected}"
        )));
    };

    match format {
        BodyFormat::Form => E::InputCodec::decode_form(&bytes),
        BodyFormat::Encoding | BodyFormat::Json => E::decode_input(Some(content_type), &bytes),
    }
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

#[cfg(test)]
mod tests {
    use super::encoding_matches;

    #[test]
    fn an_encoding_listing_several_types_accepts_each() {
        let encoding = "image/png, image/jpeg,video/*";
        for mime in ["image/png", "image/jpeg; q=1", "video/mp4"] {
            assert!(encoding_matches(encoding, mime), "{mime}");
        }
        for mime in ["image/gif", "image/png, image/jpeg", "text/plain"] {
            assert!(!encoding_matches(encoding, mime), "{mime}");
        }
        assert!(encoding_matches("application/json", "application/json"));
        assert!(!encoding_matches("application/json", "text/json"));
    }
}
