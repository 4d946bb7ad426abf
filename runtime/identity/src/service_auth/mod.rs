//! Inter-service authentication (feature `service-auth`): the short-lived
//! JWTs a PDS signs with the user's atproto signing key when it proxies a
//! request to a service (`atproto-proxy`), and that services send each
//! other, as the [XRPC specification](https://atproto.com/specs/xrpc)
//! describes them.
//!
//! - [`ServiceToken`] makes one: header `{"typ": "JWT", "alg": "ES256K" |
//!   "ES256"}`, claims `iss`, `aud`, `exp`, `iat`, `lxm` and a random `jti`,
//!   signed with a [`SigningKey`](crate::crypto::SigningKey).
//! - [`ServiceAuthVerifier`] checks one for a service: the signature against
//!   the issuer's current `#atproto` key (resolved, cached, and resolved
//!   again once when the cached key fails, in case the key was rotated),
//!   `aud` against the service's DID, `lxm` against the endpoint called,
//!   `exp` and `iat` with a small leeway, and accepts each token once (its
//!   `jti` is remembered until it expires, in a [`ReplayStore`]). With the
//!   `server` feature it is an
//!   [`Authenticator`](atlex_server::Authenticator) for the router: the
//!   issuer becomes the request's caller.
//!
//! Failures carry the XRPC error names of the reference implementation
//! (`BadJwt`, `BadJwtType`, `JwtExpired`, `BadJwtAudience`,
//! `BadJwtLexiconMethod`, `BadJwtIss`, `BadJwtSignature`), answered with
//! HTTP 401.
//!
//! One deliberate difference: signatures must be low-S, as the
//! [cryptography specification](https://atproto.com/specs/cryptography)
//! requires of all atproto signatures; the reference verifier also accepts
//! the high-S twin of a valid JWT signature. Tokens made by the reference
//! implementation are low-S.

mod jwt;
mod replay;
#[cfg(feature = "server")]
mod server;

pub use jwt::{Claims, DEFAULT_LIFETIME, Decoded, Header, ServiceToken};
pub use replay::{
    DEFAULT_REPLAY_CAPACITY, FirstUse, Full, MemoryReplayStore, ReplayStore, ReplayStoreError,
};

use std::sync::Arc;
use std::time::Duration;

use crate::identity::{ATPROTO_KEY, IdentityError, Resolver};
use atlex_core::error::ServiceAuthRejection;
use atlex_core::types::{Did, Nsid};

/// How far `exp` and `iat` may be off, by default: clocks differ.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(10);

/// `typ` values that are never service-auth tokens: OAuth access tokens,
/// refresh tokens, DPoP proofs.
const FORBIDDEN_TYPES: &[&str] = &["at+jwt", "refresh+jwt", "dpop+jwt"];

/// Why a service-auth token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceAuthError {
    /// Not a JWT of the expected shape (`BadJwt`).
    #[error("BadJwt: {0}")]
    BadJwt(String),
    /// A `typ` that is not a service-auth token (`BadJwtType`).
    #[error("BadJwtType: a token of type {0:?} is not a service-auth token")]
    BadJwtType(String),
    /// The token expired (`JwtExpired`).
    #[error("JwtExpired: the token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: u64,
        /// The time of the check.
        now: u64,
    },
    /// `iat` is in the future beyond the leeway (`BadJwt`).
    #[error("BadJwt: the token is issued at {iat}, in the future (now {now})")]
    NotYetValid {
        /// The token's `iat`.
        iat: u64,
        /// The time of the check.
        now: u64,
    },
    /// `aud` is not this service (`BadJwtAudience`).
    #[error("BadJwtAudience: the token is for {found:?}, not this service ({expected})")]
    BadAudience {
        /// The token's `aud`.
        found: String,
        /// What this service accepts.
        expected: String,
    },
    /// `lxm` is missing or names another endpoint (`BadJwtLexiconMethod`).
    #[error(
        "BadJwtLexiconMethod: {}",
        match found {
            Some(found) => format!("the token is for {found:?}, not {expected}"),
            None => format!("the token has no lxm; it must be {expected}"),
        }
    )]
    BadLexiconMethod {
        /// The token's `lxm`.
        found: Option<String>,
        /// The endpoint called.
        expected: String,
    },
    /// `iss` is not a DID, or its DID document gives no usable key
    /// (`BadJwtIss`).
    #[error("BadJwtIss: {0}")]
    BadJwtIss(String),
    /// The signature is not the issuer's over the token, or not in
    /// atproto's form (`BadJwtSignature`).
    #[error("BadJwtSignature: {0}")]
    BadJwtSignature(String),
    /// The issuer's DID document could not be fetched for a reason that may
    /// pass (a timeout, the directory failing): answered as
    /// `UpstreamFailure`, since the token itself may be fine.
    #[error("UpstreamFailure: cannot resolve the issuer: {0}")]
    Resolution(IdentityError),
    /// A token accepted before, sent again while still valid (`BadJwt`).
    #[error("BadJwt: the token (jti {jti:?}) was already used")]
    Replayed {
        /// The token's `jti`.
        jti: String,
    },
    /// The replay store failed, so the token cannot be told new: answered as
    /// `UpstreamFailure`.
    #[error("UpstreamFailure: cannot check the token against replays: {0}")]
    ReplayCheck(String),
}

impl ServiceAuthError {
    /// The XRPC error name answered for it.
    pub fn name(&self) -> &'static str {
        match self.rejection() {
            Some(rejection) => rejection.name(),
            None => "UpstreamFailure",
        }
    }

    /// Which check the token failed, as the caller's client reads it
    /// ([`CommonError::ServiceAuth`](atlex_core::error::CommonError::ServiceAuth));
    /// `None` for a resolution that failed on the way.
    pub fn rejection(&self) -> Option<ServiceAuthRejection> {
        Some(match self {
            Self::BadJwt(_) | Self::NotYetValid { .. } | Self::Replayed { .. } => {
                ServiceAuthRejection::BadJwt
            }
            Self::BadJwtType(_) => ServiceAuthRejection::BadJwtType,
            Self::Expired { .. } => ServiceAuthRejection::JwtExpired,
            Self::BadAudience { .. } => ServiceAuthRejection::BadJwtAudience,
            Self::BadLexiconMethod { .. } => ServiceAuthRejection::BadJwtLexiconMethod,
            Self::BadJwtIss(_) => ServiceAuthRejection::BadJwtIss,
            Self::BadJwtSignature(_) => ServiceAuthRejection::BadJwtSignature,
            Self::Resolution(_) | Self::ReplayCheck(_) => return None,
        })
    }

    /// The HTTP status answered for it: 401, or 502 for a resolution or a
    /// replay check that failed on the way.
    pub fn status(&self) -> u16 {
        match self {
            Self::Resolution(_) | Self::ReplayCheck(_) => 502,
            _ => 401,
        }
    }

    /// The message, without the name.
    pub fn message(&self) -> String {
        let text = self.to_string();
        match text.split_once(": ") {
            Some((_, message)) => message.to_owned(),
            None => text,
        }
    }
}

/// A token that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The issuer's DID (without a fragment): the caller.
    pub issuer: Did,
    /// The fragment of the issuer's key that signed (`atproto`).
    pub key_id: String,
    /// The claims.
    pub claims: Claims,
}

/// Verifies service-auth tokens sent to one service.
///
/// ```no_run
/// # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// use atlex_identity::identity::Resolver;
/// use atlex_identity::service_auth::ServiceAuthVerifier;
///
/// let verifier = ServiceAuthVerifier::new(Resolver::new()?, "did:web:chat.example.com#bsky_chat");
/// let verified = verifier.verify(token, Some("chat.bsky.convo.listConvos")).await?;
/// println!("called by {}", verified.issuer);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ServiceAuthVerifier {
    resolver: Resolver,
    audiences: Vec<String>,
    leeway: Duration,
    require_lxm: bool,
    key_ids: Vec<String>,
    replays: Option<Arc<dyn ReplayStore>>,
}

impl std::fmt::Debug for ServiceAuthVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAuthVerifier")
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .field("require_lxm", &self.require_lxm)
            .field("key_ids", &self.key_ids)
            .field("replay_protection", &self.replays.is_some())
            .finish_non_exhaustive()
    }
}

impl ServiceAuthVerifier {
    /// A verifier for the service `audience`: its DID and service fragment
    /// (`did:web:api.bsky.chat#bsky_chat`), or a bare DID.
    ///
    /// With a fragment, tokens whose `aud` is the bare DID are also accepted
    /// (see [`accept_bare_did`](Self::accept_bare_did)), since the reference
    /// PDS sent bare DIDs when proxying until 2026 and some still do.
    pub fn new(resolver: Resolver, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        let mut audiences = vec![audience.clone()];
        if let Some((did, _)) = audience.split_once('#') {
            audiences.push(did.to_owned());
        }
        Self {
            resolver,
            audiences,
            leeway: DEFAULT_LEEWAY,
            require_lxm: true,
            key_ids: vec![ATPROTO_KEY.to_owned()],
            replays: Some(Arc::new(MemoryReplayStore::default())),
        }
    }

    /// Where accepted tokens are remembered, so that each is accepted once
    /// (a [`MemoryReplayStore`] of this verifier and its clones by default;
    /// several instances of a service share a store of their own).
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.replays = Some(Arc::new(store));
        self
    }

    /// Accepts a token as often as it is sent while valid, and tokens
    /// without `jti`: no replay protection. For tests, or a service behind
    /// something that already refuses replays.
    pub fn allow_replays(mut self) -> Self {
        self.replays = None;
        self
    }

    /// Whether a token whose `aud` is the service's bare DID (no fragment)
    /// is accepted (yes by default, for older PDSs).
    pub fn accept_bare_did(mut self, accept: bool) -> Self {
        let main = self.audiences[0].clone();
        if let Some((did, _)) = main.split_once('#') {
            self.audiences.retain(|aud| aud != did);
            if accept {
                self.audiences.push(did.to_owned());
            }
        }
        self
    }

    /// Accepts tokens for another audience too (an older DID of the
    /// service, say).
    pub fn also_accept(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// How far `exp` and `iat` may be off (10 seconds by default).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Whether a token without `lxm` is refused when an endpoint is named
    /// (yes by default: the specification requires `lxm` for XRPC calls, and
    /// the reference AppView refuses tokens without it).
    pub fn require_lxm(mut self, require: bool) -> Self {
        self.require_lxm = require;
        self
    }

    /// The verification methods (fragments) that may sign (`atproto` by
    /// default; a labeler's service may add `atproto_label`).
    pub fn key_ids<I, S>(mut self, fragments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.key_ids = fragments.into_iter().map(Into::into).collect();
        self
    }

    /// The resolver issuers' documents come from.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// Checks `token` for a call of `lxm` (the endpoint's NSID; `None` to
    /// skip that check), resolving the issuer's signing key.
    pub async fn verify(
        &self,
        token: &str,
        lxm: Option<&str>,
    ) -> Result<Verified, ServiceAuthError> {
        let decoded = Decoded::parse(token)?;
        let (issuer, key_id) = self.check_claims(&decoded, lxm, jwt::unix_now())?;
        // The cached document first; when it has no usable key, or its key
        // does not verify, the key may have been rotated since: resolve the
        // document once more and decide with that.
        let mut first_error = None;
        let mut cached_key = None;
        if let Some(document) = self.resolver.cached_did(&issuer) {
            match document.verification_key(&key_id) {
                Ok(key) => match decoded.verify_signature(&key) {
                    Ok(()) => return self.first_use(verified(issuer, key_id, decoded)).await,
                    Err(err) => {
                        first_error = Some(err);
                        cached_key = Some(key);
                    }
                },
                Err(err) => first_error = Some(ServiceAuthError::BadJwtIss(err.to_string())),
            }
        }
        let document = self
            .resolver
            .refresh_did(&issuer)
            .await
            .map_err(resolution_error)?;
        let key = document
            .verification_key(&key_id)
            .map_err(|err| ServiceAuthError::BadJwtIss(err.to_string()))?;
        if cached_key.as_ref() == Some(&key)
            && let Some(err) = first_error
        {
            return Err(err);
        }
        decoded.verify_signature(&key)?;
        self.first_use(verified(issuer, key_id, decoded)).await
    }

    /// Checks `token` against a known key, at time `now` (Unix seconds),
    /// without resolving anything.
    pub async fn verify_with_key(
        &self,
        token: &str,
        lxm: Option<&str>,
        key: &crate::crypto::PublicKey,
        now: u64,
    ) -> Result<Verified, ServiceAuthError> {
        let decoded = Decoded::parse(token)?;
        let (issuer, key_id) = self.check_claims(&decoded, lxm, now)?;
        decoded.verify_signature(key)?;
        self.first_use_at(verified(issuer, key_id, decoded), now)
            .await
    }

    /// The token, the first time it is seen; [`ServiceAuthError::Replayed`]
    /// after. Only tokens whose signature verified get here, so a forged
    /// token cannot mark a `jti` as used.
    async fn first_use(&self, verified: Verified) -> Result<Verified, ServiceAuthError> {
        self.first_use_at(verified, jwt::unix_now()).await
    }

    async fn first_use_at(
        &self,
        verified: Verified,
        now: u64,
    ) -> Result<Verified, ServiceAuthError> {
        let Some(store) = &self.replays else {
            return Ok(verified);
        };
        let Some(jti) = &verified.claims.jti else {
            return Err(ServiceAuthError::BadJwt(
                "the token has no jti, so a replay of it could not be told".to_owned(),
            ));
        };
        // One issuer's `jti`s are its own: the issuer is part of the key. The
        // token is remembered as long as it could be accepted.
        let id = format!("{} {jti}", verified.issuer);
        let until = verified.claims.exp.saturating_add(self.leeway.as_secs());
        match store.first_use(&id, until, now).await {
            Ok(true) => Ok(verified),
            Ok(false) => Err(ServiceAuthError::Replayed { jti: jti.clone() }),
            Err(err) => Err(ServiceAuthError::ReplayCheck(err.to_string())),
        }
    }

    /// Every check but the signature, cheapest first (nothing is resolved
    /// for a token that fails them): the issuer's DID and the fragment of
    /// the key that must have signed.
    fn check_claims(
        &self,
        decoded: &Decoded,
        lxm: Option<&str>,
        now: u64,
    ) -> Result<(Did, String), ServiceAuthError> {
        let header = &decoded.header;
        if let Some(typ) = &header.typ
            && FORBIDDEN_TYPES.contains(&typ.to_ascii_lowercase().as_str())
        {
            return Err(ServiceAuthError::BadJwtType(typ.clone()));
        }
        if crate::crypto::Curve::from_jwt_alg(&header.alg).is_none() {
            return Err(ServiceAuthError::BadJwtSignature(format!(
                "the algorithm {:?} is not accepted (ES256K or ES256)",
                header.alg
            )));
        }
        let claims = &decoded.claims;
        let leeway = self.leeway.as_secs();
        if now > claims.exp.saturating_add(leeway) {
            return Err(ServiceAuthError::Expired {
                exp: claims.exp,
                now,
            });
        }
        if let Some(iat) = claims.iat
            && iat > now.saturating_add(leeway)
        {
            return Err(ServiceAuthError::NotYetValid { iat, now });
        }
        if !self.audiences.contains(&claims.aud) {
            return Err(ServiceAuthError::BadAudience {
                found: claims.aud.clone(),
                expected: self.audiences.join(" or "),
            });
        }
        if let Some(expected) = lxm {
            let matches = match &claims.lxm {
                Some(found) => found == expected,
                None => !self.require_lxm,
            };
            if !matches {
                return Err(ServiceAuthError::BadLexiconMethod {
                    found: claims.lxm.clone(),
                    expected: expected.to_owned(),
                });
            }
        }
        if let Some(found) = &claims.lxm
            && Nsid::validate(found).is_err()
        {
            return Err(ServiceAuthError::BadJwt(format!(
                "lxm {found:?} is not an NSID"
            )));
        }
        // `iss` is a DID; older issuers append `#<service>`, where
        // `#atproto_labeler` meant the labeler's key.
        let (did, service) = match claims.iss.split_once('#') {
            Some((did, service)) => (did, Some(service)),
            None => (claims.iss.as_str(), None),
        };
        let issuer = Did::new(did)
            .ok()
            .filter(|_| service.is_none_or(|s| !s.is_empty() && !s.contains('#')))
            .ok_or_else(|| ServiceAuthError::BadJwtIss(format!("{:?} is not a DID", claims.iss)))?;
        let key_id = match (&header.kid, service) {
            (Some(kid), _) => kid.strip_prefix('#').unwrap_or(kid).to_owned(),
            (None, Some("atproto_labeler")) => "atproto_label".to_owned(),
            (None, _) => ATPROTO_KEY.to_owned(),
        };
        if !self.key_ids.contains(&key_id) {
            return Err(ServiceAuthError::BadJwtSignature(format!(
                "signing with key #{key_id} is not accepted here"
            )));
        }
        Ok((issuer, key_id))
    }
}

fn verified(issuer: Did, key_id: String, decoded: Decoded) -> Verified {
    Verified {
        issuer,
        key_id,
        claims: decoded.claims,
    }
}

/// A resolution failure: the issuer is unusable, or (for a failure that may
/// pass) the service could not tell.
fn resolution_error(error: IdentityError) -> ServiceAuthError {
    if error.is_transient() {
        ServiceAuthError::Resolution(error)
    } else {
        ServiceAuthError::BadJwtIss(format!("cannot resolve the issuer: {error}"))
    }
}
