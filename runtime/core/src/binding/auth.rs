//! How callers authenticate under a binding ([`Auth`]): a bearer token, an
//! API key header, or both, and the [`Credentials`] a request carries.

use http::HeaderMap;

/// Whether and how the `Authorization: Bearer` header is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BearerUse {
    /// Never sent.
    Never,
    /// Sent when the client has a token; servers do not require it.
    Optional,
    /// Always sent: the client refuses to call without a token, and servers
    /// answer `AuthenticationRequired` when it is missing.
    Required,
}

impl BearerUse {
    /// The name in binding files (`none`, `optional`, `required`).
    pub const fn as_str(self) -> &'static str {
        match self {
            BearerUse::Never => "none",
            BearerUse::Optional => "optional",
            BearerUse::Required => "required",
        }
    }

    /// The value called `name` in binding files.
    pub fn from_name(name: &str) -> Option<Self> {
        [BearerUse::Never, BearerUse::Optional, BearerUse::Required]
            .into_iter()
            .find(|b| b.as_str() == name)
    }
}

/// How callers authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Auth {
    /// The `Authorization: Bearer` token (the client's access token).
    pub bearer: BearerUse,
    /// A header carrying the client's API key on every call (`X-Api-Key`).
    pub api_key: Option<&'static str>,
}

impl Auth {
    /// XRPC: the access token as `Authorization: Bearer`, when there is one.
    pub const XRPC: Auth = Auth {
        bearer: BearerUse::Optional,
        api_key: None,
    };

    /// A bearer token only, used as `bearer` says.
    pub const fn bearer(bearer: BearerUse) -> Self {
        Auth {
            bearer,
            api_key: None,
        }
    }

    /// An API key in header `header`, on every call, and no bearer token
    /// (add one with [`with_bearer`](Self::with_bearer)).
    pub const fn api_key(header: &'static str) -> Self {
        Auth {
            bearer: BearerUse::Never,
            api_key: Some(header),
        }
    }

    /// Changes how the bearer token is used.
    pub const fn with_bearer(mut self, bearer: BearerUse) -> Self {
        self.bearer = bearer;
        self
    }

    /// What the scheme requires and a request with these headers lacks, if
    /// anything (XRPC's scheme requires nothing).
    pub fn missing(&self, headers: &HeaderMap) -> Option<String> {
        if self.api_key.is_none() && self.bearer != BearerUse::Required {
            return None;
        }
        Credentials::read(self, headers).missing(self)
    }
}

/// The credentials of a request, as a scheme reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The token of `Authorization: Bearer <token>`.
    pub bearer: Option<&'a str>,
    /// The API key, from the scheme's header.
    pub api_key: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// Reads the credentials `auth` uses from request headers (a bearer
    /// token is read whatever the scheme).
    pub fn read(auth: &Auth, headers: &'a HeaderMap) -> Self {
        Credentials {
            bearer: bearer_token(headers),
            api_key: auth
                .api_key
                .and_then(|name| headers.get(name))
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|key| !key.is_empty()),
        }
    }

    /// What the scheme requires and the request lacks, if anything.
    pub fn missing(&self, auth: &Auth) -> Option<String> {
        if let Some(header) = auth.api_key
            && self.api_key.is_none()
        {
            return Some(format!(
                "this endpoint requires an API key in the `{header}` header"
            ));
        }
        if auth.bearer == BearerUse::Required && self.bearer.is_none() {
            return Some(
                "this endpoint requires a bearer token (Authorization: Bearer …)".to_owned(),
            );
        }
        None
    }
}

/// The token of an `Authorization: Bearer <token>` header, if the request
/// has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks an HTTP header name.
pub fn check_header_name(name: &str) -> Result<(), String> {
    http::HeaderName::from_bytes(name.as_bytes())
        .map(|_| ())
        .map_err(|_| format!("{name:?} is not a valid HTTP header name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials() {
        let mut headers = HeaderMap::new();
        let auth = Auth::api_key("x-api-key").with_bearer(BearerUse::Optional);
        assert!(Credentials::read(&auth, &headers).missing(&auth).is_some());
        headers.insert("x-api-key", http::HeaderValue::from_static("key"));
        let read = Credentials::read(&auth, &headers);
        assert_eq!(read.api_key, Some("key"));
        assert_eq!(read.bearer, None);
        assert_eq!(read.missing(&auth), None);
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer  tok "),
        );
        assert_eq!(Credentials::read(&auth, &headers).bearer, Some("tok"));
        let required = Auth::bearer(BearerUse::Required);
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Basic abc"),
        );
        assert!(
            Credentials::read(&required, &headers)
                .missing(&required)
                .is_some()
        );
    }

    #[test]
    fn header_names() {
        assert!(check_header_name("X-Api-Key").is_ok());
        assert!(check_header_name("X Api").is_err());
        assert!(check_header_name("").is_err());
    }
}
