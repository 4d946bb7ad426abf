//! The OAuth client of the atproto profile (feature `client`).
//!
//! [`OAuthClient::authorize`] starts a sign-in from a handle, a DID or a
//! server URL: it resolves the account, reads its PDS's protected-resource
//! metadata and its authorization server's metadata (checked: the issuer is
//! the server's origin, PAR required, ES256 DPoP and PKCE S256 supported),
//! pushes the authorization request (PAR, with PKCE, `state`, `login_hint`,
//! the client's scope and a fresh DPoP key) and returns the URL to send the
//! user to. [`OAuthClient::callback`] finishes it: the `state` is taken once
//! (and expires), the `iss` must be the server the request went to, the code
//! is exchanged with the PKCE verifier and a DPoP proof, and the account's
//! own DID document must name a PDS whose authorization server is this one.
//!
//! The [`OAuthSession`] it gives keeps its tokens fresh (before they expire
//! and when a server says `invalid_token`, one refresh at a time), signs out
//! ([`OAuthSession::sign_out`] revokes), and is the credentials of an
//! [`atlex_client::Client`] ([`OAuthSession::client`]): each call carries
//! `Authorization: DPoP <token>` and a proof, answers `use_dpop_nonce` are
//! retried with the server's nonce, and with
//! [`OAuthSession::check_scopes`] a call the granted scopes cannot cover is
//! refused before it is sent.
//!
//! Three kinds of client ([`ClientKind`]): the loopback development client,
//! a public web client and a confidential client (`private_key_jwt`), whose
//! metadata document and JWKS the application serves.

mod dpop;
mod error;
mod metadata;
mod net;
mod session;
mod store;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use atlex_core::types::{AtIdentifier, Did};
use atlex_identity::identity::Resolver;

pub use dpop::{DpopKey, Es256Key, Nonces};
pub use error::OAuthError;
pub use metadata::{
    AuthorizationServerMetadata, ClientKind, ClientMetadata, ProtectedResourceMetadata,
};
pub use session::OAuthSession;
pub use store::{
    FileSessionStore, MemorySessionStore, MemoryStateStore, PendingAuthorization, SessionData,
    SessionStore, StateStore, StoreFuture,
};

use dpop::{random_string, sha256_base64url};
use net::{FormAnswer, checked_url, oauth_error, post_form};

/// How long an authorization may stay in flight by default.
pub const DEFAULT_STATE_TTL: Duration = Duration::from_secs(10 * 60);

/// The client: its kind (id, redirect, scope, keys), its stores, and how it
/// resolves accounts. Cheap to clone.
#[derive(Clone)]
pub struct OAuthClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    kind: ClientKind,
    http: reqwest::Client,
    resolver: Resolver,
    states: Arc<dyn StateStore>,
    sessions: Arc<dyn SessionStore>,
    nonces: Nonces,
    state_ttl: Duration,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.inner.kind.client_id())
            .field("state_ttl", &self.inner.state_ttl)
            .finish_non_exhaustive()
    }
}

/// Configures an [`OAuthClient`]; made by [`OAuthClient::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct OAuthClientBuilder {
    kind: ClientKind,
    http: Option<reqwest::Client>,
    resolver: Option<Resolver>,
    states: Option<Arc<dyn StateStore>>,
    sessions: Option<Arc<dyn SessionStore>>,
    state_ttl: Duration,
}

impl OAuthClientBuilder {
    /// Resolves handles and DIDs with this resolver (a default one
    /// otherwise).
    pub fn resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Uses this HTTP client for metadata and token requests. It should not
    /// follow redirects: the profile forbids following them for metadata.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Keeps authorizations in flight in `store` ([`MemoryStateStore`] by
    /// default).
    pub fn state_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.states = Some(store);
        self
    }

    /// Keeps sessions in `store` ([`MemorySessionStore`] by default).
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.sessions = Some(store);
        self
    }

    /// How long an authorization may stay in flight
    /// ([`DEFAULT_STATE_TTL`] by default).
    pub fn state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// Makes the client.
    pub fn build(self) -> Result<OAuthClient, OAuthError> {
        dpop::check_backend()?;
        if self.kind.redirect_uri().is_empty() {
            return Err(OAuthError::InvalidInput(
                "the client has no redirect URI".to_owned(),
            ));
        }
        if !crate::scope::Scopes::parse(self.kind.scope()).contains("atproto") {
            return Err(OAuthError::InvalidInput(format!(
                "the client's scope {:?} lacks `atproto`",
                self.kind.scope()
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => net::default_http().map_err(|source| OAuthError::Transport {
                url: String::new(),
                source,
            })?,
        };
        let resolver = match self.resolver {
            Some(resolver) => resolver,
            None => Resolver::new()?,
        };
        Ok(OAuthClient {
            inner: Arc::new(ClientInner {
                kind: self.kind,
                http,
                resolver,
                states: self
                    .states
                    .unwrap_or_else(|| Arc::new(MemoryStateStore::default())),
                sessions: self
                    .sessions
                    .unwrap_or_else(|| Arc::new(MemorySessionStore::default())),
                nonces: Nonces::default(),
                state_ttl: self.state_ttl,
            }),
        })
    }
}

/// What the authorization server sends the user back with, read from the
/// redirect URI's query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` of the request.
    pub state: Option<String>,
    /// The issuer that answers.
    pub iss: Option<String>,
    /// An OAuth error, when the authorization failed.
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
}

impl CallbackParams {
    /// Reads the query of the redirect URI (`code=…&state=…&iss=…`).
    pub fn from_query(query: &str) -> Self {
        let mut params = Self::default();
        for (name, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let slot = match &*name {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "iss" => &mut params.iss,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        params
    }
}

/// The token endpoint's answer.
#[derive(Debug, Deserialize, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    sub: Option<String>,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: String,
    iat: u64,
    exp: u64,
}

/// Where a sign-in starts: an account or a server.
enum Start {
    Account(AtIdentifier),
    Server(Url),
}

fn parse_start(input: &str) -> Result<Start, OAuthError> {
    let input = input.trim();
    if input.contains("://") {
        return Ok(Start::Server(checked_url(input)?));
    }
    let handle = input.strip_prefix('@').unwrap_or(input);
    AtIdentifier::new(handle)
        .map(Start::Account)
        .map_err(|_| OAuthError::InvalidInput(input.to_owned()))
}

impl OAuthClient {
    /// A builder for a client of this kind.
    pub fn builder(kind: ClientKind) -> OAuthClientBuilder {
        OAuthClientBuilder {
            kind,
            http: None,
            resolver: None,
            states: None,
            sessions: None,
            state_ttl: DEFAULT_STATE_TTL,
        }
    }

    /// The DPoP nonces the servers gave, by origin, shared by the client's
    /// requests and its sessions'.
    pub fn nonces(&self) -> &Nonces {
        &self.inner.nonces
    }

    /// The session store.
    pub fn session_store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.sessions
    }

    /// The client's kind (id, redirect URI, scope, metadata).
    pub fn kind(&self) -> &ClientKind {
        &self.inner.kind
    }

    /// Starts a sign-in from a handle (`alice.example.com`), a DID, or the
    /// URL of a PDS or entryway (`https://bsky.social`), and returns the URL
    /// to send the user to.
    pub async fn authorize(&self, input: &str) -> Result<Url, OAuthError> {
        let inner = &*self.inner;
        let (issuer, login_hint, expected_did, expected_pds) = match parse_start(input)? {
            Start::Account(identifier) => {
                let identity = inner.resolver.resolve(&identifier).await?;
                let pds = identity.pds()?.to_owned();
                let issuer = metadata::authorization_server_of(&inner.http, &pds).await?;
                let hint = identifier.to_string();
                (
                    issuer,
                    Some(hint),
                    Some(identity.did.to_string()),
                    Some(pds),
                )
            }
            Start::Server(url) => {
                // A PDS names its authorization server; an entryway is one.
                let issuer =
                    match metadata::authorization_server_of(&inner.http, url.as_str()).await {
                        Ok(issuer) => issuer,
                        Err(OAuthError::Metadata { .. }) => url
                            .join("/")
                            .map_err(|e| OAuthError::InvalidInput(e.to_string()))?,
                        Err(other) => return Err(other),
                    };
                (issuer, None, None, None)
            }
        };
        let server = metadata::authorization_server_metadata(&inner.http, &issuer).await?;
        let par = checked_url(
            server
                .pushed_authorization_request_endpoint
                .as_deref()
                .unwrap_or_default(),
        )?;

        let key = DpopKey::generate()?;
        let verifier = random_string(32)?;
        let state = random_string(16)?;
        let challenge = sha256_base64url(&verifier);
        let client_id = inner.kind.client_id();
        let mut form: Vec<(&str, String)> = vec![
            ("response_type", "code".to_owned()),
            ("client_id", client_id.clone()),
            ("redirect_uri", inner.kind.redirect_uri().to_owned()),
            ("scope", inner.kind.scope().to_owned()),
            ("state", state.clone()),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256".to_owned()),
        ];
        if let Some(hint) = &login_hint {
            form.push(("login_hint", hint.clone()));
        }
        self.client_auth(&server.issuer, &mut form)?;
        let answer = self.post(&key, &par, &form).await?;
        if answer.status != 201 && answer.status != 200 {
            return Err(oauth_error("PAR", &answer));
        }
        let request_uri = answer
            .body
            .get("request_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| OAuthError::Server {
                endpoint: "PAR",
                status: answer.status,
                error: "the answer has no request_uri".to_owned(),
                description: None,
            })?;

        inner
            .states
            .put(
                &state,
                PendingAuthorization {
                    issuer: server.issuer.clone(),
                    verifier,
                    dpop_key: key.to_base64url(),
                    expected_did,
                    expected_pds,
                },
                inner.state_ttl,
            )
            .await?;

        let mut url = checked_url(&server.authorization_endpoint)?;
        url.query_pairs_mut()
            .append_pair("client_id", &client_id)
            .append_pair("request_uri", request_uri);
        Ok(url)
    }

    /// Finishes a sign-in with what the authorization server sent the user
    /// back with, and keeps the session in the session store.
    pub async fn callback(&self, params: &CallbackParams) -> Result<OAuthSession, OAuthError> {
        let inner = &*self.inner;
        let state = params.state.as_deref().ok_or(OAuthError::UnknownState)?;
        let pending = inner
            .states
            .take(state)
            .await?
            .ok_or(OAuthError::UnknownState)?;
        if params.iss.as_deref() != Some(pending.issuer.as_str()) {
            return Err(OAuthError::IssuerMismatch {
                expected: pending.issuer,
                got: params.iss.clone(),
            });
        }
        if let Some(error) = &params.error {
            return Err(OAuthError::Refused {
                error: error.clone(),
                description: params.error_description.clone(),
            });
        }
        let code = params
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidInput("the callback has no code".to_owned()))?;
        let key = DpopKey::from_base64url(&pending.dpop_key)?;
        let issuer = checked_url(&pending.issuer)?;
        let server = metadata::authorization_server_metadata(&inner.http, &issuer).await?;
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", inner.kind.redirect_uri().to_owned()),
            ("code_verifier", pending.verifier.clone()),
            ("client_id", inner.kind.client_id()),
        ];
        self.client_auth(&server.issuer, &mut form)?;
        let tokens = self.token_request(&key, &server, &form).await?;
        let sub = tokens.sub.clone().unwrap_or_default();
        if let Some(expected) = &pending.expected_did
            && *expected != sub
        {
            self.revoke_quietly(&key, &server, &tokens).await;
            return Err(OAuthError::InvalidToken(format!(
                "the tokens are for {sub}, the sign-in was for {expected}"
            )));
        }
        let pds = match self.check_subject(&sub, &server.issuer).await {
            Ok(pds) => pds,
            Err(error) => {
                self.revoke_quietly(&key, &server, &tokens).await;
                return Err(error);
            }
        };
        let data = SessionData {
            did: sub,
            pds,
            issuer: server.issuer.clone(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_at: tokens.expires_in.map(|s| dpop::now().saturating_add(s)),
            scope: tokens.scope.unwrap_or_default(),
            dpop_key: pending.dpop_key,
        };
        inner.sessions.put(&data).await?;
        Ok(OAuthSession::new(self.clone(), data, key))
    }

    /// The session of `did` from the session store.
    pub async fn restore(&self, did: &Did) -> Result<OAuthSession, OAuthError> {
        let data = self
            .inner
            .sessions
            .get(did.as_str())
            .await?
            .ok_or_else(|| OAuthError::NoSession(did.to_string()))?;
        let key = DpopKey::from_base64url(&data.dpop_key)?;
        Ok(OAuthSession::new(self.clone(), data, key))
    }

    /// Checks that `sub`'s own DID document names a PDS whose authorization
    /// server is `issuer`, and returns that PDS's origin.
    async fn check_subject(&self, sub: &str, issuer: &str) -> Result<String, OAuthError> {
        let did = Did::new(sub.to_owned())
            .map_err(|_| OAuthError::InvalidToken(format!("its sub {sub:?} is not a DID")))?;
        let document = self.inner.resolver.refresh_did(&did).await?;
        let pds = document
            .pds()
            .ok_or_else(|| atlex_identity::identity::IdentityError::NoPds {
                did: sub.to_owned(),
            })?
            .to_owned();
        let server = metadata::authorization_server_of(&self.inner.http, &pds).await?;
        if net::origin(&server) != issuer {
            return Err(OAuthError::InvalidToken(format!(
                "the DID document of {sub} names the PDS {pds}, whose authorization server is {server}, not {issuer}"
            )));
        }
        let pds = checked_url(&pds)?;
        Ok(net::origin(&pds))
    }

    /// Adds the client's authentication to a token-endpoint form: its
    /// assertion for a confidential client, nothing for a public one.
    fn client_auth(&self, issuer: &str, form: &mut Vec<(&str, String)>) -> Result<(), OAuthError> {
        let ClientKind::Confidential {
            metadata,
            key,
            key_id,
        } = &self.inner.kind
        else {
            return Ok(());
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key_id.clone());
        let iat = dpop::now();
        let claims = AssertionClaims {
            iss: &metadata.client_id,
            sub: &metadata.client_id,
            aud: issuer,
            jti: random_string(16)?,
            iat,
            exp: iat + 60,
        };
        form.push((
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        ));
        form.push(("client_assertion", key.sign(&header, &claims)?));
        Ok(())
    }

    async fn post(
        &self,
        key: &DpopKey,
        url: &Url,
        form: &[(&str, String)],
    ) -> Result<FormAnswer, OAuthError> {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
        post_form(&self.inner.http, &self.inner.nonces, key, url, &pairs).await
    }

    /// A token request (code or refresh), its answer checked: DPoP-bound,
    /// with an `atproto` scope and a `sub`.
    async fn token_request(
        &self,
        key: &DpopKey,
        server: &AuthorizationServerMetadata,
        form: &[(&str, String)],
    ) -> Result<TokenResponse, OAuthError> {
        let url = checked_url(&server.token_endpoint)?;
        let answer = self.post(key, &url, form).await?;
        if answer.status != 200 {
            return Err(oauth_error("token", &answer));
        }
        let tokens: TokenResponse = serde_json::from_value(answer.body)
            .map_err(|e| OAuthError::InvalidToken(format!("not a token response: {e}")))?;
        if !tokens.token_type.eq_ignore_ascii_case("DPoP") {
            return Err(OAuthError::InvalidToken(format!(
                "its token_type is {:?}, not DPoP",
                tokens.token_type
            )));
        }
        if tokens.sub.is_none() {
            return Err(OAuthError::InvalidToken("it has no sub".to_owned()));
        }
        let scopes = crate::scope::Scopes::parse(tokens.scope.as_deref().unwrap_or_default());
        if !scopes.contains("atproto") {
            return Err(OAuthError::InvalidToken(format!(
                "its scope {:?} lacks `atproto`",
                tokens.scope.as_deref().unwrap_or_default()
            )));
        }
        Ok(tokens)
    }

    /// Revokes tokens that will not be used; a failure changes nothing for
    /// the caller, whose own error says why they are not used.
    async fn revoke_quietly(
        &self,
        key: &DpopKey,
        server: &AuthorizationServerMetadata,
        tokens: &TokenResponse,
    ) {
        let token = tokens
            .refresh_token
            .as_deref()
            .unwrap_or(&tokens.access_token);
        let _ = self.revoke(key, server, token).await;
    }

    async fn revoke(
        &self,
        key: &DpopKey,
        server: &AuthorizationServerMetadata,
        token: &str,
    ) -> Result<(), OAuthError> {
        let Some(endpoint) = &server.revocation_endpoint else {
            return Ok(());
        };
        let url = checked_url(endpoint)?;
        let mut form: Vec<(&str, String)> = vec![
            ("token", token.to_owned()),
            ("client_id", self.inner.kind.client_id()),
        ];
        self.client_auth(&server.issuer, &mut form)?;
        let answer = self.post(key, &url, &form).await?;
        if answer.status == 200 || answer.status == 204 {
            Ok(())
        } else {
            Err(oauth_error("revocation", &answer))
        }
    }
}
