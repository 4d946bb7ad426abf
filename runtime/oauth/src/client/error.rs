//! [`OAuthError`]: why signing in, a token request or a session failed.

use crate::scope::ScopeMissing;

/// An error of the OAuth client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The handle, DID or URL to sign in with is none of these.
    #[error("not a handle, DID or https URL: {0:?}")]
    InvalidInput(String),
    /// The account's identity could not be resolved, or its DID document
    /// names no PDS.
    #[error("resolving the account: {0}")]
    Identity(#[from] atlex_identity::identity::IdentityError),
    /// A URL the client was given or found is not allowed: plain `http`
    /// outside the loopback addresses, or not a URL at all.
    #[error("{url}: {reason}")]
    InsecureUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A metadata document (protected resource, authorization server) could
    /// not be fetched, or is not what the specification requires.
    #[error("metadata at {url}: {reason}")]
    Metadata {
        /// Where it was fetched from.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A request to a server failed before any answer (connection, timeout).
    #[error("{url}: {source}")]
    Transport {
        /// The URL requested.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The authorization server answered a request (PAR, token, revocation)
    /// with an OAuth error.
    #[error("{endpoint} answered HTTP {status}: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Server {
        /// The endpoint: `PAR`, `token`, `revocation`.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The OAuth error code (`invalid_grant`, …), or a summary of a body
        /// that has none.
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// The callback's `state` is unknown, already used or expired.
    #[error("the callback's state is unknown, already used or expired")]
    UnknownState,
    /// The callback names another issuer than the one the authorization was
    /// sent to (or none).
    #[error("the callback's issuer is {got:?}, the authorization was sent to {expected}")]
    IssuerMismatch {
        /// The issuer the authorization request went to.
        expected: String,
        /// The `iss` of the callback.
        got: Option<String>,
    },
    /// The callback carries an error from the authorization server (the user
    /// refused, …).
    #[error("the authorization server refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The OAuth error code (`access_denied`, …).
        error: String,
        /// Its description, if any.
        description: Option<String>,
    },
    /// The token response is not what the profile requires, or names an
    /// account this authorization server does not serve.
    #[error("token response: {0}")]
    InvalidToken(String),
    /// The session's DID has no stored session.
    #[error("no stored session for {0}")]
    NoSession(String),
    /// The session's scopes do not permit the call.
    #[error(transparent)]
    ScopeMissing(#[from] ScopeMissing),
    /// A session or authorization store failed.
    #[error("store: {0}")]
    Store(String),
    /// A key or JWT could not be made.
    #[error("keys and JWTs: {0}")]
    Jose(String),
}

impl From<jsonwebtoken::errors::Error> for OAuthError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        Self::Jose(error.to_string())
    }
}
