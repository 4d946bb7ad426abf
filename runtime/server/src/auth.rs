//! Who is calling: the [`Authenticator`] hook of the router, what it is
//! given ([`AuthRequest`]) and how it refuses a request ([`Rejection`]).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use http::{Extensions, HeaderMap, Method, Uri};

use atlex_core::error::CommonError;
use atlex_core::types::Did;

/// What an [`Authenticator`] sees of a request, before its parameters and
/// body are read.
#[derive(Debug)]
pub struct AuthRequest<'a> {
    /// The NSID of the endpoint called: what a service-auth token's `lxm`
    /// must name.
    pub nsid: &'static str,
    /// The HTTP method.
    pub method: &'a Method,
    /// The request URI.
    pub uri: &'a Uri,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The request's extensions, which the handler finds in
    /// [`RequestContext::extensions`](atlex_core::service::RequestContext::extensions):
    /// where an authenticator leaves what it learnt besides the caller's DID
    /// (the verified token's claims, say).
    pub extensions: &'a mut Extensions,
}

impl AuthRequest<'_> {
    /// The token of the `Authorization: Bearer <token>` header, if any.
    pub fn bearer_token(&self) -> Option<&str> {
        atlex_core::binding::bearer_token(self.headers)
    }
}

/// Why an authenticator refused a request: answered with its status, its
/// XRPC error name and message (in the endpoint's envelope).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection(Refused);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Refused {
    /// A common error, answered as the router answers those.
    Common(CommonError),
    /// Any other error name, with its status.
    Named {
        status: u16,
        name: Cow<'static, str>,
        message: Option<String>,
    },
}

impl Rejection {
    /// Refuses with error `name` and `status` (401 for bad credentials).
    /// A status that is not 4xx or 5xx is answered as 401.
    pub fn new(status: u16, name: impl Into<Cow<'static, str>>, message: Option<String>) -> Self {
        let status = if (400..600).contains(&status) {
            status
        } else {
            401
        };
        Self(Refused::Named {
            status,
            name: name.into(),
            message,
        })
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match &self.0 {
            Refused::Common(error) => error.status(),
            Refused::Named { status, .. } => *status,
        }
    }

    /// The XRPC error name.
    pub fn name(&self) -> &str {
        match &self.0 {
            Refused::Common(error) => error.name(),
            Refused::Named { name, .. } => name,
        }
    }

    /// The message.
    pub fn message(&self) -> Option<&str> {
        match &self.0 {
            Refused::Common(error) => error.message(),
            Refused::Named { message, .. } => message.as_deref(),
        }
    }

    /// The common error, when it is one.
    pub(super) fn as_common(&self) -> Option<&CommonError> {
        match &self.0 {
            Refused::Common(error) => Some(error),
            Refused::Named { .. } => None,
        }
    }
}

impl From<CommonError> for Rejection {
    fn from(error: CommonError) -> Self {
        Self(Refused::Common(error))
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.message() {
            Some(message) => write!(f, "{} ({}): {message}", self.name(), self.status()),
            None => write!(f, "{} ({})", self.name(), self.status()),
        }
    }
}

impl std::error::Error for Rejection {}

/// Names the caller of each request, and may await doing so (resolving a
/// DID document, asking a session store).
///
/// It runs on every request to a mounted endpoint, once the binding's own
/// credential checks have passed and before the parameters and body are
/// read. `Ok(Some(did))` names the caller (handlers find it in
/// [`RequestContext::caller`](atlex_core::service::RequestContext::caller)),
/// `Ok(None)` lets the request through anonymously (handlers that need a
/// caller answer `AuthenticationRequired`), and `Err` answers the
/// [`Rejection`].
///
/// ```
/// use atlex_server::{AuthRequest, Authenticator, Rejection};
/// use atlex_core::types::Did;
///
/// /// Looks bearer tokens up in a session store.
/// struct Sessions;
///
/// impl Sessions {
///     async fn lookup(&self, token: &str) -> Option<Did> {
///         # let _ = token;
///         # None
///     }
/// }
///
/// impl Authenticator for Sessions {
///     async fn authenticate(&self, request: AuthRequest<'_>) -> Result<Option<Did>, Rejection> {
///         let Some(token) = request.bearer_token() else {
///             return Ok(None);
///         };
///         match self.lookup(token).await {
///             Some(did) => Ok(Some(did)),
///             None => Err(Rejection::new(401, "InvalidToken", Some("unknown session".into()))),
///         }
///     }
/// }
/// ```
///
/// The `ServiceAuthVerifier` of `atlex-identity` (`atlex::service_auth`,
/// features `service-auth` and `server`) is one, and an
/// [`Arc`](std::sync::Arc) of one is one too.
pub trait Authenticator: Send + Sync + 'static {
    /// The caller of `request`, none, or why it is refused.
    fn authenticate(
        &self,
        request: AuthRequest<'_>,
    ) -> impl Future<Output = Result<Option<Did>, Rejection>> + Send;
}

impl<A: Authenticator> Authenticator for std::sync::Arc<A> {
    fn authenticate(
        &self,
        request: AuthRequest<'_>,
    ) -> impl Future<Output = Result<Option<Did>, Rejection>> + Send {
        A::authenticate(self, request)
    }
}

/// The future an authenticator returns, boxed.
pub(super) type AuthFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Did>, Rejection>> + Send + 'a>>;

/// An [`Authenticator`] behind a pointer.
pub(super) trait DynAuthenticator: Send + Sync {
    fn authenticate_boxed<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a>;
}

impl<A: Authenticator> DynAuthenticator for A {
    fn authenticate_boxed<'a>(&'a self, request: AuthRequest<'a>) -> AuthFuture<'a> {
        Box::pin(self.authenticate(request))
    }
}

/// A synchronous function of the headers, as [`XrpcRouter::authenticate`]
/// takes.
///
/// [`XrpcRouter::authenticate`]: super::XrpcRouter::authenticate
pub(super) struct HeaderFn<F>(pub(super) F);

impl<F> Authenticator for HeaderFn<F>
where
    F: Fn(&HeaderMap) -> Result<Option<Did>, CommonError> + Send + Sync + 'static,
{
    fn authenticate(
        &self,
        request: AuthRequest<'_>,
    ) -> impl Future<Output = Result<Option<Did>, Rejection>> + Send {
        std::future::ready((self.0)(request.headers).map_err(Rejection::from))
    }
}
