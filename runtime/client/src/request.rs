//! Requests: the URL, body and headers of a call, as the endpoint's binding
//! says, and the check of its parameters and input before sending.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

use atlex_core::binding::{self, BearerUse, Binding, BodyFormat, PathTemplate};
use atlex_core::validate::{Validate, ValidationError};
use atlex_core::xrpc::{Codec, Endpoint, Params, QueryWriter};

use crate::Inner;
use crate::error::{Error, TransportKind, transport};

impl Inner {
    /// `<base>/xrpc/<nsid>?<params>`, or `<base><path>?<other params>` for a
    /// path template filled from the parameters.
    pub(crate) fn url<E: Endpoint>(
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
    pub(crate) fn body<E: Endpoint>(
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
    pub(crate) async fn send<E: Endpoint>(
        &self,
        binding: &Binding,
        url: &reqwest::Url,
        body: Option<&(HeaderValue, Bytes)>,
        token: Option<&str>,
        auth_headers: Option<HeaderMap>,
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
        let authenticated = auth_headers.is_some();
        if let Some(headers) = auth_headers
            && binding.auth.bearer != BearerUse::Never
        {
            request = request.headers(headers);
        }
        match (binding.auth.bearer, token) {
            (BearerUse::Never, _) | (BearerUse::Optional, None) => {}
            (BearerUse::Required, None) if authenticated => {}
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
}

/// Checks parameters and input against the lexicon, for bindings that ask.
pub(crate) fn check_request<E: Endpoint>(
    params: &E::Params,
    input: &E::Input,
) -> Result<(), Error<E::Error>> {
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

/// `Bearer <token>`, marked sensitive so that it is kept out of debug output.
pub(crate) fn bearer_value(token: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "it contains characters not allowed in an HTTP header".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}
