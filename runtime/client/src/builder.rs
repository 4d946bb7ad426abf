//! [`ClientBuilder`] and the settings it takes: [`RetryPolicy`],
//! [`ValidationMode`] and the hooks.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};

use super::auth::Authenticate;
use super::error::{BoxError, BuildError};
use super::{Client, Inner};
use atlex_core::binding::BodyFormat;
use atlex_core::validate::{ValidationError, ValidationMode};

/// The header that routes a call through the server to a service it proxies.
pub(crate) const ATPROTO_PROXY: &str = "atproto-proxy";
/// The header naming the labelers whose labels the caller wants.
pub(crate) const ATPROTO_ACCEPT_LABELERS: &str = "atproto-accept-labelers";

/// The future a refresh hook returns.
pub(crate) type RefreshFuture = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;
/// A refresh hook, type-erased.
pub(crate) type RefreshHook = Arc<dyn Fn() -> RefreshFuture + Send + Sync>;
/// Makes the bearer token of each request from the NSID called (service
/// auth), type-erased.
pub(crate) type TokenMinter = Arc<dyn Fn(&'static str) -> Result<String, BoxError> + Send + Sync>;
pub(crate) use atlex_core::validate::ViolationHook;

/// When and how long to wait and try again after `RateLimitExceeded` (HTTP
/// 429) or an overloaded server (HTTP 503).
///
/// The client waits until the reset time the server gives (`ratelimit-reset`
/// or `Retry-After`), or [`default_delay`](Self::default_delay) when it gives
/// none. It stops, returning the last error, after
/// [`max_attempts`](Self::max_attempts) requests, or at once when the next
/// wait would take the total past [`max_total_wait`](Self::max_total_wait).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many requests one call may make in all, the first included (so 1
    /// never retries); the resend after a token refresh is not counted.
    pub max_attempts: u32,
    /// How long one call may spend waiting between attempts, in all.
    pub max_total_wait: Duration,
    /// How long to wait when the server does not say.
    pub default_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, one second apart unless the server says otherwise, and
    /// at most a minute of waiting.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(60),
            default_delay: Duration::from_secs(1),
        }
    }
}

/// Configures a [`Client`]; made by [`Client::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    base_url: String,
    bearer: Option<String>,
    api_key: Option<String>,
    body_format: Option<BodyFormat>,
    proxy: Option<String>,
    labelers: Vec<(String, bool)>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    retry: Option<RetryPolicy>,
    refresh: Option<RefreshHook>,
    minter: Option<TokenMinter>,
    authenticator: Option<Arc<dyn Authenticate>>,
    validation: ValidationMode,
    on_violation: Option<ViolationHook>,
    max_response_size: Option<u64>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("bearer", &self.bearer.as_ref().map(|_| "…"))
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .field("body_format", &self.body_format)
            .field("proxy", &self.proxy)
            .field("labelers", &self.labelers)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("refresh", &self.refresh.is_some())
            .field("service_auth", &self.minter.is_some())
            .field("authenticate", &self.authenticator.is_some())
            .field("validation", &self.validation)
            .field("on_violation", &self.on_violation.is_some())
            .field("max_response_size", &self.max_response_size)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub(crate) fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            bearer: None,
            api_key: None,
            body_format: None,
            proxy: None,
            labelers: Vec::new(),
            http: None,
            timeout: None,
            user_agent: None,
            retry: None,
            refresh: None,
            minter: None,
            authenticator: None,
            validation: ValidationMode::Off,
            on_violation: None,
            max_response_size: None,
        }
    }

    /// Sends `Authorization: Bearer <token>` (an access token; it can be
    /// changed later with [`Client::set_access_token`]).
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// The API key sent to endpoints whose [binding](atlex_core::binding::Auth)
    /// takes one, in the header the binding names (`X-Api-Key`). Calls to
    /// such endpoints fail before sending when no key is set; other endpoints
    /// never send it.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The body format to use for endpoints whose binding allows several
    /// (Slack's methods take JSON or a form); the binding's first otherwise.
    pub fn body_format(mut self, format: BodyFormat) -> Self {
        self.body_format = Some(format);
        self
    }

    /// Sends `atproto-proxy: <service>` so that the server forwards calls to
    /// the service it names, such as `did:web:api.bsky.chat#bsky_chat`.
    pub fn proxy(mut self, service: impl Into<String>) -> Self {
        self.proxy = Some(service.into());
        self
    }

    /// Sends `atproto-accept-labelers` with these labeler DIDs, each with its
    /// `redact` flag (whether the labeler's takedown labels should remove
    /// content rather than only mark it): `[("did:plc:a", true),
    /// ("did:plc:b", false)]` becomes `did:plc:a;redact, did:plc:b`. Replaces
    /// any earlier list.
    pub fn accept_labelers<I, S>(mut self, labelers: I) -> Self
    where
        I: IntoIterator<Item = (S, bool)>,
        S: Into<String>,
    {
        self.labelers = labelers
            .into_iter()
            .map(|(did, redact)| (did.into(), redact))
            .collect();
        self
    }

    /// Uses this HTTP client (for its connection pool, proxy or TLS settings)
    /// instead of a new one. The timeout and user agent set here still apply,
    /// per request.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Fails a call with [`TransportKind::Timeout`](super::TransportKind::Timeout)
    /// if its response is not complete, body included, within `timeout` (per
    /// attempt).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends this `User-Agent` (`atlex/<version>` by default, unless the
    /// client given to [`http_client`](Self::http_client) sets its own).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Waits and tries again after HTTP 429 and 503, as `policy` says. Off
    /// unless set.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// When a server answers `ExpiredToken` (with whatever status), calls
    /// `hook` for a new access token, stores it, and makes the call again,
    /// once. If the hook fails, the call fails with
    /// [`Error::Refresh`](super::Error::Refresh).
    ///
    /// Endpoints that declare an `ExpiredToken` error of their own (such as
    /// `com.atproto.server.resetPassword`, about the emailed token) get it as
    /// their typed error, with no refresh.
    ///
    /// Calls that expire together share one refresh: a call that finds the
    /// token already replaced since it was sent retries with the new one.
    ///
    /// ```
    /// # use atlex_client::Client;
    /// let client = Client::builder("https://bsky.social")
    ///     .bearer("old-access-token")
    ///     .on_expired_token(|| async {
    ///         // Call com.atproto.server.refreshSession with the refresh token…
    ///         Ok::<_, std::io::Error>("new-access-token".to_owned())
    ///     })
    ///     .build()?;
    /// # Ok::<_, atlex_client::BuildError>(())
    /// ```
    pub fn on_expired_token<F, Fut, Err>(mut self, hook: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, Err>> + Send + 'static,
        Err: Into<BoxError>,
    {
        self.refresh = Some(Arc::new(move || -> RefreshFuture {
            let future = hook();
            Box::pin(async move { future.await.map_err(Into::into) })
        }));
        self
    }

    /// Authenticates each call with a fresh service-auth token (feature
    /// `service-auth`): issued by `issuer`, signed with `key` (the issuer's
    /// atproto signing key), for the service `audience`
    /// (`did:web:…#service`), bound to the endpoint called (`lxm`) and valid
    /// for a minute. For a service calling another one; replaces
    /// [`bearer`](Self::bearer).
    #[cfg(feature = "service-auth")]
    pub fn service_auth(
        mut self,
        issuer: atlex_core::types::Did,
        key: atlex_identity::crypto::SigningKey,
        audience: impl Into<String>,
    ) -> Self {
        let audience = audience.into();
        self.minter = Some(Arc::new(move |nsid| {
            atlex_identity::service_auth::ServiceToken::new(&issuer, audience.clone())
                .lxm(nsid)
                .sign(&key)
                .map_err(Into::into)
        }));
        self
    }

    /// Authenticates each request with `hook` (OAuth access tokens bound to
    /// a DPoP key, with a proof per request): it adds the headers of each
    /// request and may have a request sent again after reading the answer.
    /// Replaces [`bearer`](Self::bearer), [`on_expired_token`](Self::on_expired_token)
    /// and service auth.
    pub fn authenticate(mut self, hook: Arc<dyn Authenticate>) -> Self {
        self.authenticator = Some(hook);
        self
    }

    /// Checks outputs against the lexicon's constraints, as `mode` says.
    pub fn validate_outputs(mut self, mode: ValidationMode) -> Self {
        self.validation = mode;
        self
    }

    /// With [`ValidationMode::Lenient`], receives the NSID of the endpoint and
    /// the violations of each output that breaks its constraints.
    pub fn on_violation<F>(mut self, hook: F) -> Self
    where
        F: Fn(&str, &ValidationError) + Send + Sync + 'static,
    {
        self.on_violation = Some(Arc::new(hook));
        self
    }

    /// Fails a call with [`TransportKind::TooLarge`](super::TransportKind::TooLarge)
    /// when a successful response's body is over `bytes`. Unlimited by
    /// default, for blob and repository downloads; error bodies are always
    /// read only up to a small limit.
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = Some(bytes);
        self
    }

    /// Checks the settings and makes the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let base_url = parse_base_url(&self.base_url)?;

        let mut headers = HeaderMap::new();
        if let Some(proxy) = &self.proxy {
            headers.insert(
                HeaderName::from_static(ATPROTO_PROXY),
                header_value(ATPROTO_PROXY, proxy)?,
            );
        }
        if !self.labelers.is_empty() {
            let list = self
                .labelers
                .iter()
                .map(|(did, redact)| {
                    if *redact {
                        format!("{did};redact")
                    } else {
                        did.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            headers.insert(
                HeaderName::from_static(ATPROTO_ACCEPT_LABELERS),
                header_value(ATPROTO_ACCEPT_LABELERS, &list)?,
            );
        }
        let user_agent = match (&self.user_agent, &self.http) {
            (Some(user_agent), _) => Some(user_agent.clone()),
            (None, None) => Some(concat!("atlex/", env!("CARGO_PKG_VERSION")).to_owned()),
            (None, Some(_)) => None,
        };
        if let Some(user_agent) = user_agent {
            headers.insert(USER_AGENT, header_value("user-agent", &user_agent)?);
        }
        if let Some(token) = &self.bearer {
            super::bearer_value(token).map_err(|reason| BuildError::InvalidHeader {
                name: "authorization",
                reason,
            })?;
        }
        let api_key = match &self.api_key {
            Some(key) => {
                let mut value = header_value("api key", key)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };

        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .build()
                .map_err(BuildError::Http)?,
        };

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                headers,
                timeout: self.timeout,
                token: RwLock::new(self.bearer),
                api_key,
                body_format: self.body_format,
                refresh: self.refresh,
                minter: self.minter,
                authenticator: self.authenticator,
                refresh_lock: tokio::sync::Mutex::new(()),
                retry: self.retry,
                validation: self.validation,
                on_violation: self.on_violation,
                max_response_size: self.max_response_size,
            }),
        })
    }
}

/// The base URL without its trailing `/`, checked to be HTTP(S) with no query
/// or fragment.
fn parse_base_url(text: &str) -> Result<String, BuildError> {
    let invalid = |reason: String| BuildError::InvalidBaseUrl {
        url: text.to_owned(),
        reason,
    };
    let url = reqwest::Url::parse(text.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the scheme is {:?}, not http or https",
            url.scheme()
        )));
    }
    if url.host().is_none() {
        return Err(invalid("there is no host".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL takes no query or fragment".to_owned()));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn header_value(name: &'static str, value: &str) -> Result<HeaderValue, BuildError> {
    HeaderValue::from_str(value).map_err(|e| BuildError::InvalidHeader {
        name,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base_url("https://bsky.social").unwrap(),
            "https://bsky.social"
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080/prefix/").unwrap(),
            "http://127.0.0.1:8080/prefix"
        );
        for bad in [
            "",
            "bsky.social",
            "ftp://bsky.social",
            "https://bsky.social/?a=b",
            "https://bsky.social/#x",
            "mailto:a@b.c",
        ] {
            assert!(
                matches!(parse_base_url(bad), Err(BuildError::InvalidBaseUrl { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bad_header_values_fail_the_build() {
        let err = Client::builder("https://bsky.social")
            .proxy("did:web:x\n#evil")
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            BuildError::InvalidHeader {
                name: "atproto-proxy",
                ..
            }
        ));
        let err = Client::builder("https://bsky.social")
            .bearer("a\r\nb")
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            BuildError::InvalidHeader {
                name: "authorization",
                ..
            }
        ));
    }
}
