//! HTTP for the OAuth client: which URLs it may fetch (https, or http on a
//! loopback host), metadata documents read with a size limit and no
//! redirects, and form posts to the authorization server with a DPoP proof
//! and the nonce dance.

use http::header::{CONTENT_TYPE, HeaderMap};
use reqwest::Url;
use serde::de::DeserializeOwned;

use super::dpop::{DpopKey, Nonces};
use super::error::OAuthError;

/// The largest metadata document or token response read.
pub(crate) const MAX_DOCUMENT_SIZE: usize = 64 * 1024;

/// The header a server sends a DPoP nonce in.
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// Whether `host` is a loopback host: `localhost`, `127.0.0.0/8`, `[::1]`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Parses `text` and checks it is `https`, or `http` on a loopback host, with
/// no credentials or fragment.
pub(crate) fn checked_url(text: &str) -> Result<Url, OAuthError> {
    let bad = |reason: &str| OAuthError::InsecureUrl {
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(text).map_err(|e| bad(&format!("not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(bad("plain http is allowed only on loopback hosts")),
        _ => return Err(bad("not an https URL")),
    }
    if url.host().is_none() {
        return Err(bad("there is no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("a URL with credentials"));
    }
    if url.fragment().is_some() {
        return Err(bad("a URL with a fragment"));
    }
    Ok(url)
}

/// The origin of `url` as the profile compares them: scheme, host and a
/// non-default port, no trailing slash.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The HTTP client the OAuth client uses by default: no redirects followed
/// (a metadata document or token endpoint that redirects is refused), a
/// timeout.
pub(crate) fn default_http() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .user_agent(concat!("atlex-oauth/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Makes a failed request's error.
fn transport(url: &Url) -> impl FnOnce(reqwest::Error) -> OAuthError + '_ {
    move |source| OAuthError::Transport {
        url: url.to_string(),
        source,
    }
}

/// Reads a body of at most [`MAX_DOCUMENT_SIZE`] bytes; more is an error.
async fn read_limited(response: reqwest::Response, url: &Url) -> Result<Vec<u8>, OAuthError> {
    use atlex_identity::identity::{IdentityError, read_bounded};
    read_bounded(response, MAX_DOCUMENT_SIZE)
        .await
        .map_err(|error| match error {
            IdentityError::TooLarge { limit, .. } => OAuthError::Metadata {
                url: url.to_string(),
                reason: format!("the body is over the limit of {limit} bytes"),
            },
            other => OAuthError::Identity(other),
        })
}

/// Fetches a JSON metadata document: `200` with a JSON body of at most
/// [`MAX_DOCUMENT_SIZE`] bytes; a redirect is refused.
pub(crate) async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
) -> Result<T, OAuthError> {
    let bad = |reason: String| OAuthError::Metadata {
        url: url.to_string(),
        reason,
    };
    let response = http
        .get(url.clone())
        .header("accept", "application/json")
        .send()
        .await
        .map_err(transport(url))?;
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or("?")
            .to_owned();
        return Err(bad(format!(
            "HTTP {status} redirects to {to}; metadata redirects are not followed"
        )));
    }
    if status != reqwest::StatusCode::OK {
        return Err(bad(format!("HTTP {status}")));
    }
    let body = read_limited(response, url).await?;
    serde_json::from_slice(&body).map_err(|e| bad(format!("not the expected JSON: {e}")))
}

/// An answer of the authorization server to a form post.
pub(crate) struct FormAnswer {
    pub(crate) status: u16,
    pub(crate) body: serde_json::Value,
}

/// The OAuth error of an answer: its `error` and `error_description`.
pub(crate) fn oauth_error(endpoint: &'static str, answer: &FormAnswer) -> OAuthError {
    let text = |name: &str| {
        answer
            .body
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    OAuthError::Server {
        endpoint,
        status: answer.status,
        error: text("error").unwrap_or_else(|| "no OAuth error in the answer".to_owned()),
        description: text("error_description"),
    }
}

/// Posts a form to an endpoint of the authorization server with a DPoP
/// proof. The nonce the server gives is remembered for its origin; an answer
/// `use_dpop_nonce` is retried once with the new nonce.
pub(crate) async fn post_form(
    http: &reqwest::Client,
    nonces: &Nonces,
    key: &DpopKey,
    url: &Url,
    form: &[(&str, &str)],
) -> Result<FormAnswer, OAuthError> {
    let origin = origin(url);
    let mut retried = false;
    loop {
        let nonce = nonces.get(&origin);
        let proof = key.proof("POST", url, nonce.as_deref(), None)?;
        let body = {
            let mut serializer = form_urlencoded::Serializer::new(String::new());
            for (name, value) in form {
                serializer.append_pair(name, value);
            }
            serializer.finish()
        };
        let response = http
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("dpop", proof)
            .body(body)
            .send()
            .await
            .map_err(transport(url))?;
        let status = response.status();
        let new_nonce = remember_nonce(nonces, &origin, response.headers());
        if status.is_redirection() {
            return Err(OAuthError::Metadata {
                url: url.to_string(),
                reason: format!("HTTP {status}: redirects are not followed"),
            });
        }
        let bytes = read_limited(response, url).await?;
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::json!({ "error": format!("a body that is not JSON: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])) })
            })
        };
        let answer = FormAnswer {
            status: status.as_u16(),
            body,
        };
        let asks_nonce = status == reqwest::StatusCode::BAD_REQUEST
            && answer.body.get("error").and_then(|e| e.as_str()) == Some("use_dpop_nonce");
        if asks_nonce && !retried && new_nonce {
            retried = true;
            continue;
        }
        return Ok(answer);
    }
}

/// Keeps the `DPoP-Nonce` of an answer for `origin`; whether it is new.
pub(crate) fn remember_nonce(nonces: &Nonces, origin: &str, headers: &HeaderMap) -> bool {
    match headers.get(DPOP_NONCE).and_then(|v| v.to_str().ok()) {
        Some(nonce) => nonces.set(origin, nonce),
        None => false,
    }
}
