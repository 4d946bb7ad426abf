//! [`ServiceAuthVerifier`] as the router's [`Authenticator`].

use super::{ServiceAuthError, ServiceAuthVerifier, Verified};
use atlex_core::types::Did;
use atlex_server::{AuthRequest, Authenticator, Rejection};

impl From<ServiceAuthError> for Rejection {
    fn from(error: ServiceAuthError) -> Self {
        Rejection::new(error.status(), error.name(), Some(error.message()))
    }
}

/// A request without `Authorization` is anonymous; one with a bearer token
/// must carry a service-auth token valid for the endpoint called (its `lxm`),
/// whose issuer becomes the caller. The [`Verified`] token is left in the
/// request's extensions for the handler
/// (`request.context.extensions.get::<Verified>()`).
impl Authenticator for ServiceAuthVerifier {
    async fn authenticate(&self, request: AuthRequest<'_>) -> Result<Option<Did>, Rejection> {
        if !request.headers.contains_key(http::header::AUTHORIZATION) {
            return Ok(None);
        }
        let Some(token) = request.bearer_token() else {
            return Err(ServiceAuthError::BadJwt(
                "expected `Authorization: Bearer <jwt>`".to_owned(),
            )
            .into());
        };
        let verified: Verified = self.verify(token, Some(request.nsid)).await?;
        let caller = verified.issuer.clone();
        request.extensions.insert(verified);
        Ok(Some(caller))
    }
}
