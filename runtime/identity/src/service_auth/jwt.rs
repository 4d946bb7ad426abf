//! The JWT itself: three base64url parts, a JSON header and claims, and an
//! ES256K / ES256 signature over the first two.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::ServiceAuthError;
use crate::crypto::{PublicKey, SigningKey};
use atlex_core::types::Did;

/// How long a token made by [`ServiceToken`] is valid, unless set: one
/// minute, as the reference implementation does.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

const BASE64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The JWT header fields service auth uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// `ES256K` or `ES256`.
    pub alg: String,
    /// `JWT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// The verification method that signed, as a fragment (`#atproto`);
    /// `#atproto` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// The claims of a service-auth token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// When the token was made, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The account the request is made for: a DID (older issuers append a
    /// `#service` fragment).
    pub iss: String,
    /// The service the token is for: its DID and, in current tokens, the
    /// service's fragment (`did:web:api.bsky.chat#bsky_chat`).
    pub aud: String,
    /// When the token expires, in Unix seconds.
    pub exp: u64,
    /// The endpoint (NSID) the token allows calling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lxm: Option<String>,
    /// A random nonce, unique to the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Claims {
    /// The token: header (`alg` of the key, `typ: JWT`), these claims, and
    /// the key's signature, each base64url-encoded.
    pub fn sign(&self, key: &SigningKey) -> String {
        let header = Header {
            alg: key.curve().jwt_alg().to_owned(),
            typ: Some("JWT".to_owned()),
            kid: None,
        };
        let mut token = encode_json(&header);
        token.push('.');
        token.push_str(&encode_json(self));
        let signature = key.sign(token.as_bytes());
        token.push('.');
        token.push_str(&BASE64URL.encode(signature));
        token
    }
}

fn encode_json<T: Serialize>(value: &T) -> String {
    // Serializing these structs of strings and integers cannot fail.
    BASE64URL.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Makes a service-auth token for a call to another service, signed with
/// the issuer's atproto signing key.
///
/// ```
/// use atlex_identity::crypto::{Curve, SigningKey};
/// use atlex_identity::service_auth::ServiceToken;
/// use atlex_core::types::Did;
///
/// let key = SigningKey::generate(Curve::K256)?;
/// let issuer = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
/// let token = ServiceToken::new(&issuer, "did:web:api.bsky.chat#bsky_chat")
///     .lxm("chat.bsky.convo.listConvos")
///     .sign(&key)?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a token is made by `sign`"]
pub struct ServiceToken {
    iss: String,
    aud: String,
    lxm: Option<String>,
    lifetime: Duration,
}

impl ServiceToken {
    /// A token from `issuer` to the service `audience` (its DID, with the
    /// service fragment: `did:web:api.bsky.chat#bsky_chat`).
    pub fn new(issuer: &Did, audience: impl Into<String>) -> Self {
        Self {
            iss: issuer.to_string(),
            aud: audience.into(),
            lxm: None,
            lifetime: DEFAULT_LIFETIME,
        }
    }

    /// Binds the token to one endpoint (its NSID), as services require.
    pub fn lxm(mut self, nsid: impl Into<String>) -> Self {
        self.lxm = Some(nsid.into());
        self
    }

    /// How long the token is valid (one minute by default).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The claims, issued now, with a random `jti`.
    pub fn claims(&self) -> Result<Claims, crate::crypto::RandomError> {
        let now = unix_now();
        Ok(Claims {
            iat: Some(now),
            iss: self.iss.clone(),
            aud: self.aud.clone(),
            exp: now.saturating_add(self.lifetime.as_secs()),
            lxm: self.lxm.clone(),
            jti: Some(random_hex()?),
        })
    }

    /// The signed token.
    pub fn sign(&self, key: &SigningKey) -> Result<String, crate::crypto::RandomError> {
        Ok(self.claims()?.sign(key))
    }
}

/// 16 random bytes in hex.
fn random_hex() -> Result<String, crate::crypto::RandomError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| crate::crypto::RandomError::new(err.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Seconds since the Unix epoch.
pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A token taken apart, its signature not yet checked.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The header.
    pub header: Header,
    /// The claims.
    pub claims: Claims,
    /// `<header>.<claims>`: what the signature is over.
    signed: String,
    signature: Vec<u8>,
}

impl Decoded {
    /// Splits and decodes a token. A token that is not three base64url parts
    /// with a JSON header (with `alg`) and claims (with `iss`, `aud` and
    /// integer `exp`) is [`ServiceAuthError::BadJwt`].
    pub fn parse(token: &str) -> Result<Self, ServiceAuthError> {
        let bad = |reason: String| ServiceAuthError::BadJwt(reason);
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("a JWT is three parts separated by `.`".to_owned()));
        };
        let header: Header = decode_json(header).map_err(|e| bad(format!("header: {e}")))?;
        let claims: Claims = decode_json(claims).map_err(|e| bad(format!("claims: {e}")))?;
        let signature_text = signature;
        let signature = BASE64URL
            .decode(signature_text)
            .map_err(|e| bad(format!("signature: not base64url: {e}")))?;
        let signed_len = token.len() - signature_text.len() - 1;
        Ok(Self {
            signed: token[..signed_len].to_owned(),
            header,
            claims,
            signature,
        })
    }

    /// Checks the signature with `key`: the header's `alg` must be the key's,
    /// and the signature 64 bytes, low-S.
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), ServiceAuthError> {
        if self.header.alg != key.jwt_alg() {
            return Err(ServiceAuthError::BadJwtSignature(format!(
                "the token is {}, but the issuer's key is {} ({})",
                self.header.alg,
                key.curve(),
                key.jwt_alg()
            )));
        }
        key.verify(self.signed.as_bytes(), &self.signature)
            .map_err(|err| ServiceAuthError::BadJwtSignature(err.to_string()))
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, String> {
    let bytes = BASE64URL
        .decode(part)
        .map_err(|e| format!("not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
