//! DPoP (RFC 9449): the key a session's tokens are bound to, the proof
//! JWTs made with it, and the server nonces remembered per origin.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey as _;
use reqwest::Url;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::error::OAuthError;

pub(crate) const BASE64URL: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` random bytes, base64url-encoded.
pub(crate) fn random_string(n: usize) -> Result<String, OAuthError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| OAuthError::Jose(format!("no random numbers from the system: {e}")))?;
    Ok(BASE64URL.encode(bytes))
}

/// base64url(SHA-256(`text`)): the PKCE S256 challenge of a verifier, and
/// the DPoP `ath` of an access token.
pub(crate) fn sha256_base64url(text: &str) -> String {
    BASE64URL.encode(Sha256::digest(text.as_bytes()))
}

/// The seconds since the Unix epoch (0 on a clock set before it: proofs
/// then carry an `iat` the server refuses, which says what is wrong).
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Checks that jsonwebtoken has a crypto backend: with both of its backends
/// enabled by another crate of the build, it has none until one is
/// installed, and would panic when signing.
pub(crate) fn check_backend() -> Result<(), OAuthError> {
    match jsonwebtoken::crypto::CryptoProvider::try_get_default() {
        Some(_) => Ok(()),
        None => Err(OAuthError::Jose(
            "jsonwebtoken has no crypto provider (both its rust_crypto and aws_lc_rs \
             features are enabled in this build): install one with \
             jsonwebtoken::crypto::CryptoProvider::install_default"
                .to_owned(),
        )),
    }
}

/// A P-256 key for ES256 JWTs: a session's DPoP key, or a confidential
/// client's signing key.
/// Cheap to clone.
#[derive(Clone)]
pub struct Es256Key {
    inner: std::sync::Arc<KeyInner>,
}

struct KeyInner {
    secret: p256::SecretKey,
    encoding: EncodingKey,
    public: Jwk,
}

impl std::fmt::Debug for Es256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256Key")
            .field("public", &self.inner.public)
            .finish_non_exhaustive()
    }
}

impl Es256Key {
    /// A new random key.
    pub fn generate() -> Result<Self, OAuthError> {
        let key = atlex_identity::crypto::SigningKey::generate(atlex_identity::crypto::Curve::P256)
            .map_err(|e| OAuthError::Jose(e.to_string()))?;
        Self::from_bytes(&key.to_bytes())
    }

    /// The key of this 32-byte secret scalar.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, OAuthError> {
        check_backend()?;
        let secret = p256::SecretKey::from_slice(bytes)
            .map_err(|_| OAuthError::Jose("not a P-256 secret key".to_owned()))?;
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| OAuthError::Jose(format!("encoding the key: {e}")))?;
        let encoding = EncodingKey::from_ec_der(der.as_bytes());
        let public = Jwk::from_encoding_key(&encoding, Algorithm::ES256)?;
        Ok(Self {
            inner: std::sync::Arc::new(KeyInner {
                secret,
                encoding,
                public,
            }),
        })
    }

    /// The key as base64url of its secret scalar, the form sessions store.
    pub fn to_base64url(&self) -> String {
        BASE64URL.encode(self.inner.secret.to_bytes())
    }

    /// The key from [`to_base64url`](Self::to_base64url)'s form.
    pub fn from_base64url(text: &str) -> Result<Self, OAuthError> {
        let bytes = BASE64URL
            .decode(text)
            .map_err(|_| OAuthError::Jose("a stored key that is not base64url".to_owned()))?;
        Self::from_bytes(&bytes)
    }

    /// The public key as a JWK (`kty`, `crv`, `x`, `y`, `alg`).
    pub fn public_jwk(&self) -> &Jwk {
        &self.inner.public
    }

    /// The RFC 7638 thumbprint of the public key (SHA-256, base64url): the
    /// `jkt` a DPoP-bound token is bound to.
    pub fn thumbprint(&self) -> Result<String, OAuthError> {
        Ok(self
            .inner
            .public
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)?)
    }

    /// Signs `claims` with this header.
    pub(crate) fn sign<T: Serialize>(
        &self,
        header: &Header,
        claims: &T,
    ) -> Result<String, OAuthError> {
        check_backend()?;
        Ok(jsonwebtoken::encode(header, claims, &self.inner.encoding)?)
    }
}

/// The key a session's tokens are bound to.
pub type DpopKey = Es256Key;

#[derive(Serialize)]
struct ProofClaims<'a> {
    jti: String,
    htm: &'a str,
    htu: String,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

impl Es256Key {
    /// A DPoP proof for a request: `typ: dpop+jwt`, the public key in the
    /// header, and the claims `jti` (random), `htm`, `htu` (the URL without
    /// query and fragment), `iat`, the server's `nonce` if one is known, and
    /// `ath` (the access token's hash) on requests to the resource server.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, OAuthError> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".to_owned());
        header.jwk = Some(self.inner.public.clone());
        let claims = ProofClaims {
            jti: random_string(16)?,
            htm: method,
            htu: htu.to_string(),
            iat: now(),
            nonce,
            ath: access_token.map(sha256_base64url),
        };
        self.sign(&header, &claims)
    }
}

/// How many origins' nonces are remembered; past it, the oldest entries go.
const MAX_NONCES: usize = 256;

/// The last DPoP nonce each server (origin) gave, shared by the requests
/// of a client and its sessions.
#[derive(Debug, Default)]
pub struct Nonces {
    by_origin: Mutex<HashMap<String, (u64, String)>>,
}

impl Nonces {
    /// The nonce last given by `origin` (`https://pds.example.com`).
    pub fn get(&self, origin: &str) -> Option<String> {
        self.by_origin
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(origin)
            .map(|(_, nonce)| nonce.clone())
    }

    /// Keeps `nonce` for `origin`, as if the server had sent it; whether it
    /// differs from the one kept.
    pub fn set(&self, origin: &str, nonce: &str) -> bool {
        let mut map = self
            .by_origin
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.get(origin).is_some_and(|(_, old)| old == nonce) {
            return false;
        }
        if map.len() >= MAX_NONCES && !map.contains_key(origin) {
            let oldest = map
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(origin, _)| origin.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        map.insert(origin.to_owned(), (now(), nonce.to_owned()));
        true
    }
}
