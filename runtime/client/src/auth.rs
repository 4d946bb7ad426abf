//! Per-request authentication: [`Authenticate`], for credentials that are
//! made anew for each request (OAuth access tokens bound to a DPoP key, with
//! a proof per request) rather than one bearer token.

use std::future::Future;
use std::pin::Pin;

use http::header::HeaderMap;
use http::{Method, StatusCode};

use crate::error::BoxError;

/// The future the methods of [`Authenticate`] return.
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send + 'a>>;

/// Authenticates each request of a [`Client`](crate::Client): called before
/// every request with what is about to be sent, it gives the headers to add
/// (`Authorization`, `DPoP`, …); called after every answer with its status
/// and headers, it says whether to send the request again (with headers made
/// anew), after it learnt a server nonce or replaced an expired token.
///
/// Set with [`ClientBuilder::authenticate`](crate::ClientBuilder::authenticate);
/// it replaces [`bearer`](crate::ClientBuilder::bearer). A call is sent again
/// at most [`MAX_AUTH_RETRIES`] times for authentication, whatever the hook
/// says, so a server that keeps asking cannot make a call loop.
pub trait Authenticate: Send + Sync + 'static {
    /// The headers that authenticate this request. An error fails the call
    /// before anything is sent ([`Error::Auth`](crate::Error::Auth)): a hook
    /// may refuse a request its credentials cannot cover.
    fn headers<'a>(&'a self, request: &'a AuthRequest<'a>) -> AuthFuture<'a, HeaderMap>;

    /// Looks at the answer to a request sent with [`headers`](Self::headers):
    /// [`AuthVerdict::Retry`] sends it again. Called for every answer,
    /// successful or not, so that the hook can keep what the server tells it
    /// (a new nonce). An error fails the call
    /// ([`Error::Auth`](crate::Error::Auth)).
    fn answer<'a>(
        &'a self,
        request: &'a AuthRequest<'a>,
        answer: &'a AuthAnswer<'a>,
    ) -> AuthFuture<'a, AuthVerdict>;
}

/// How many times one call is sent again because an [`Authenticate`] hook
/// asked (a nonce learnt, then a token refreshed).
pub const MAX_AUTH_RETRIES: u32 = 2;

/// A request about to be sent, as an [`Authenticate`] hook sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthRequest<'a> {
    /// The NSID of the endpoint called.
    pub nsid: &'static str,
    /// The HTTP method.
    pub method: &'a Method,
    /// The URL, query included.
    pub url: &'a reqwest::Url,
    /// The service the call is proxied to (`atproto-proxy`), if any.
    pub proxy: Option<&'a str>,
    /// The body's `Content-Type` and bytes, if there is a body.
    pub body: Option<(&'a str, &'a [u8])>,
    /// How many times this call was already sent again for authentication
    /// (0 on its first request).
    pub retry: u32,
}

/// The answer to a request, as an [`Authenticate`] hook sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthAnswer<'a> {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers (`WWW-Authenticate`, `DPoP-Nonce`, …).
    pub headers: &'a HeaderMap,
    /// The headers [`Authenticate::headers`] gave for this request (the
    /// token it was sent with).
    pub sent: &'a HeaderMap,
    /// The XRPC error name of a failure, when its body has one.
    pub error: Option<&'a str>,
}

/// What to do after an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthVerdict {
    /// Keep the answer.
    Accept,
    /// Send the request again, with headers made anew.
    Retry,
}
