//! The metadata documents: the PDS's protected-resource metadata, the
//! authorization server's metadata (both read and checked), and the
//! client's own metadata document (written).

use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::error::OAuthError;
use super::net::{checked_url, get_json, origin};
use crate::scope::Scopes;

/// `/.well-known/oauth-protected-resource` of a PDS (RFC 9728), the fields
/// the client reads.
#[derive(Clone, Debug, Deserialize)]
pub struct ProtectedResourceMetadata {
    /// The resource's origin.
    pub resource: String,
    /// The authorization servers that issue tokens for it.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
}

/// `/.well-known/oauth-authorization-server` (RFC 8414), the fields the
/// client reads.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AuthorizationServerMetadata {
    /// The issuer: the origin the metadata was fetched from.
    pub issuer: String,
    /// Where the user is sent.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// Where authorization requests are pushed (PAR).
    pub pushed_authorization_request_endpoint: Option<String>,
    /// Where tokens are revoked.
    pub revocation_endpoint: Option<String>,
    /// Whether every authorization request must be pushed.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// The DPoP algorithms the server takes.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// The scopes it supports.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// The client authentication methods of its token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Whether the callback carries `iss` (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// The PKCE methods it supports.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// Whether clients may be identified by their metadata URL.
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
}

/// Reads the protected-resource metadata of the PDS at `pds` and returns
/// its authorization server's URL.
pub(crate) async fn authorization_server_of(
    http: &reqwest::Client,
    pds: &str,
) -> Result<Url, OAuthError> {
    let pds = checked_url(pds)?;
    let url = pds
        .join("/.well-known/oauth-protected-resource")
        .map_err(|e| OAuthError::InvalidInput(e.to_string()))?;
    let metadata: ProtectedResourceMetadata = get_json(http, &url).await?;
    let bad = |reason: String| OAuthError::Metadata {
        url: url.to_string(),
        reason,
    };
    if metadata.resource.trim_end_matches('/') != origin(&pds) {
        return Err(bad(format!(
            "its resource is {:?}, not {}",
            metadata.resource,
            origin(&pds)
        )));
    }
    let [server] = metadata.authorization_servers.as_slice() else {
        return Err(bad(format!(
            "it names {} authorization servers, not one",
            metadata.authorization_servers.len()
        )));
    };
    checked_url(server)
}

/// Reads the metadata of the authorization server at `issuer` and checks
/// what the profile requires: the issuer is the URL's origin, the endpoints
/// are there (and allowed URLs), PAR is required, ES256 DPoP and S256 PKCE
/// are supported, the callback carries `iss`, and clients are identified by
/// their metadata URL.
pub(crate) async fn authorization_server_metadata(
    http: &reqwest::Client,
    issuer: &Url,
) -> Result<AuthorizationServerMetadata, OAuthError> {
    let issuer_origin = origin(issuer);
    if issuer.path() != "/" || issuer.query().is_some() {
        return Err(OAuthError::Metadata {
            url: issuer.to_string(),
            reason: "an authorization server's URL is an origin, with no path".to_owned(),
        });
    }
    let url = issuer
        .join("/.well-known/oauth-authorization-server")
        .map_err(|e| OAuthError::InvalidInput(e.to_string()))?;
    let metadata: AuthorizationServerMetadata = get_json(http, &url).await?;
    check_server_metadata(&metadata, &issuer_origin).map_err(|reason| OAuthError::Metadata {
        url: url.to_string(),
        reason,
    })?;
    Ok(metadata)
}

fn check_server_metadata(
    metadata: &AuthorizationServerMetadata,
    issuer: &str,
) -> Result<(), String> {
    if metadata.issuer != issuer {
        return Err(format!(
            "its issuer is {:?}, not the origin it was fetched from ({issuer})",
            metadata.issuer
        ));
    }
    let Some(par) = &metadata.pushed_authorization_request_endpoint else {
        return Err("it has no pushed_authorization_request_endpoint".to_owned());
    };
    for endpoint in [
        &metadata.authorization_endpoint,
        &metadata.token_endpoint,
        par,
    ]
    .into_iter()
    .chain(&metadata.revocation_endpoint)
    {
        checked_url(endpoint).map_err(|e| e.to_string())?;
    }
    if !metadata.require_pushed_authorization_requests {
        return Err("it does not require pushed authorization requests".to_owned());
    }
    if !metadata
        .dpop_signing_alg_values_supported
        .iter()
        .any(|a| a == "ES256")
    {
        return Err("it does not support ES256 DPoP proofs".to_owned());
    }
    if !metadata
        .code_challenge_methods_supported
        .iter()
        .any(|m| m == "S256")
    {
        return Err("it does not support PKCE S256".to_owned());
    }
    if !metadata.authorization_response_iss_parameter_supported {
        return Err("its callbacks do not carry `iss`".to_owned());
    }
    if !metadata.client_id_metadata_document_supported {
        return Err("it does not take client metadata documents as client ids".to_owned());
    }
    if !metadata.scopes_supported.iter().any(|s| s == "atproto") {
        return Err("it does not support the `atproto` scope".to_owned());
    }
    Ok(())
}

/// A client metadata document: what an authorization server reads at the
/// client id URL. Made by [`ClientKind`]; serve
/// [`to_json`](Self::to_json) at the client id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetadata {
    /// The client id: the URL this document is served at.
    pub client_id: String,
    /// `web` or `native`.
    pub application_type: String,
    /// Always `["authorization_code", "refresh_token"]`.
    pub grant_types: Vec<String>,
    /// Always `["code"]`.
    pub response_types: Vec<String>,
    /// The scopes the client may ask for, space-separated.
    pub scope: String,
    /// Where the authorization server sends the user back.
    pub redirect_uris: Vec<String>,
    /// `none` (public client) or `private_key_jwt` (confidential).
    pub token_endpoint_auth_method: String,
    /// `ES256` for `private_key_jwt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// Always `true`: tokens are bound to a DPoP key.
    pub dpop_bound_access_tokens: bool,
    /// Where the client's public keys are served ([`ClientKind::jwks`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The application's name, shown to the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// The application's home page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
}

impl ClientMetadata {
    /// The document as JSON, to serve at the client id.
    pub fn to_json(&self) -> String {
        // Strings, booleans and lists of strings: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Which kind of client the application is.
#[derive(Clone, Debug)]
pub enum ClientKind {
    /// The loopback development client: client id
    /// `http://localhost?redirect_uri=…&scope=…`, redirect to `127.0.0.1`,
    /// no metadata document (the authorization server derives it). For
    /// development only: its sessions are short.
    Loopback {
        /// Where the authorization server sends the user back
        /// (`http://127.0.0.1:<port>/<path>`).
        redirect_uri: String,
        /// The scopes the client asks for.
        scope: String,
    },
    /// A public web client (no client secret): the client id is the URL of
    /// its metadata document, which the application serves.
    Public(ClientMetadata),
    /// A confidential client: it authenticates to the token endpoint with
    /// JWTs signed by its key (`private_key_jwt`), whose public half the
    /// application serves at the metadata's `jwks_uri`.
    Confidential {
        /// The metadata document.
        metadata: ClientMetadata,
        /// The signing key.
        key: super::dpop::Es256Key,
        /// The key's id in the JWKS.
        key_id: String,
    },
}

impl ClientKind {
    /// The loopback development client, redirecting to `redirect_uri`
    /// (`http://127.0.0.1:<port>/…` or `http://[::1]:<port>/…`) and asking
    /// for `scope`.
    pub fn loopback(redirect_uri: &str, scope: &str) -> Result<Self, OAuthError> {
        let url = Url::parse(redirect_uri)
            .map_err(|e| OAuthError::InvalidInput(format!("{redirect_uri}: {e}")))?;
        let loopback_ip = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        if url.scheme() != "http" || !loopback_ip {
            return Err(OAuthError::InvalidInput(format!(
                "{redirect_uri}: a loopback client redirects to http://127.0.0.1 or http://[::1]"
            )));
        }
        Ok(Self::Loopback {
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.to_owned(),
        })
    }

    /// A public web client served at `client_id` (an https URL), redirecting
    /// to `redirect_uris` and asking for `scope`.
    pub fn public(
        client_id: &str,
        redirect_uris: &[&str],
        scope: &str,
    ) -> Result<Self, OAuthError> {
        Ok(Self::Public(web_metadata(
            client_id,
            redirect_uris,
            scope,
            "none",
        )?))
    }

    /// A confidential client served at `client_id`, signing its client
    /// assertions with `key` (published as `key_id` in the JWKS at
    /// `jwks_uri`).
    pub fn confidential(
        client_id: &str,
        redirect_uris: &[&str],
        scope: &str,
        jwks_uri: &str,
        key: super::dpop::Es256Key,
        key_id: &str,
    ) -> Result<Self, OAuthError> {
        let mut metadata = web_metadata(client_id, redirect_uris, scope, "private_key_jwt")?;
        checked_url(jwks_uri)?;
        metadata.token_endpoint_auth_signing_alg = Some("ES256".to_owned());
        metadata.jwks_uri = Some(jwks_uri.to_owned());
        Ok(Self::Confidential {
            metadata,
            key,
            key_id: key_id.to_owned(),
        })
    }

    /// The client id.
    pub fn client_id(&self) -> String {
        match self {
            Self::Loopback {
                redirect_uri,
                scope,
            } => {
                let mut query = form_urlencoded::Serializer::new(String::new());
                query.append_pair("redirect_uri", redirect_uri);
                query.append_pair("scope", scope);
                format!("http://localhost?{}", query.finish())
            }
            Self::Public(metadata) | Self::Confidential { metadata, .. } => {
                metadata.client_id.clone()
            }
        }
    }

    /// The redirect URI authorization requests use (the first one).
    pub fn redirect_uri(&self) -> &str {
        match self {
            Self::Loopback { redirect_uri, .. } => redirect_uri,
            Self::Public(metadata) | Self::Confidential { metadata, .. } => metadata
                .redirect_uris
                .first()
                .map(String::as_str)
                .unwrap_or_default(),
        }
    }

    /// The scopes the client asks for.
    pub fn scope(&self) -> &str {
        match self {
            Self::Loopback { scope, .. } => scope,
            Self::Public(metadata) | Self::Confidential { metadata, .. } => &metadata.scope,
        }
    }

    /// The metadata document to serve at the client id (none for the
    /// loopback client).
    pub fn metadata(&self) -> Option<&ClientMetadata> {
        match self {
            Self::Loopback { .. } => None,
            Self::Public(metadata) | Self::Confidential { metadata, .. } => Some(metadata),
        }
    }

    /// The JWKS document to serve at `jwks_uri` (a confidential client's
    /// public key, with its id and `use: sig`).
    pub fn jwks(&self) -> Option<String> {
        let Self::Confidential { key, key_id, .. } = self else {
            return None;
        };
        let mut jwk = key.public_jwk().clone();
        jwk.common.key_id = Some(key_id.clone());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        let set = jsonwebtoken::jwk::JwkSet { keys: vec![jwk] };
        serde_json::to_string_pretty(&set).ok()
    }
}

fn web_metadata(
    client_id: &str,
    redirect_uris: &[&str],
    scope: &str,
    auth_method: &str,
) -> Result<ClientMetadata, OAuthError> {
    let id = checked_url(client_id)?;
    if id.scheme() != "https" {
        return Err(OAuthError::InsecureUrl {
            url: client_id.to_owned(),
            reason: "a web client's id is an https URL".to_owned(),
        });
    }
    if redirect_uris.is_empty() {
        return Err(OAuthError::InvalidInput(
            "a client needs a redirect URI".to_owned(),
        ));
    }
    for uri in redirect_uris {
        checked_url(uri)?;
    }
    if !Scopes::parse(scope).contains("atproto") {
        return Err(OAuthError::InvalidInput(format!(
            "the scope {scope:?} lacks `atproto`"
        )));
    }
    Ok(ClientMetadata {
        client_id: client_id.to_owned(),
        application_type: "web".to_owned(),
        grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
        response_types: vec!["code".to_owned()],
        scope: scope.to_owned(),
        redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
        token_endpoint_auth_method: auth_method.to_owned(),
        token_endpoint_auth_signing_alg: None,
        dpop_bound_access_tokens: true,
        jwks_uri: None,
        client_name: None,
        client_uri: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> AuthorizationServerMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": "https://auth.example.com",
            "authorization_endpoint": "https://auth.example.com/oauth/authorize",
            "token_endpoint": "https://auth.example.com/oauth/token",
            "pushed_authorization_request_endpoint": "https://auth.example.com/oauth/par",
            "require_pushed_authorization_requests": true,
            "dpop_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "client_id_metadata_document_supported": true,
            "scopes_supported": ["atproto"]
        }))
        .unwrap()
    }

    #[test]
    fn server_metadata_checks() {
        assert_eq!(
            check_server_metadata(&good(), "https://auth.example.com"),
            Ok(())
        );
        let err = check_server_metadata(&good(), "https://other.example.com").unwrap_err();
        assert!(err.contains("issuer"), "{err}");
        let mut m = good();
        m.require_pushed_authorization_requests = false;
        assert!(
            check_server_metadata(&m, "https://auth.example.com")
                .unwrap_err()
                .contains("pushed")
        );
        let mut m = good();
        m.dpop_signing_alg_values_supported = vec!["RS256".into()];
        assert!(
            check_server_metadata(&m, "https://auth.example.com")
                .unwrap_err()
                .contains("ES256")
        );
        let mut m = good();
        m.token_endpoint = "http://auth.example.com/oauth/token".into();
        assert!(
            check_server_metadata(&m, "https://auth.example.com")
                .unwrap_err()
                .contains("plain http")
        );
        let mut m = good();
        m.pushed_authorization_request_endpoint = None;
        assert!(
            check_server_metadata(&m, "https://auth.example.com")
                .unwrap_err()
                .contains("pushed_authorization_request_endpoint")
        );
    }

    #[test]
    fn loopback_client_id() {
        let kind = ClientKind::loopback(
            "http://127.0.0.1:8080/callback",
            "atproto transition:generic",
        )
        .unwrap();
        assert_eq!(
            kind.client_id(),
            "http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback&scope=atproto+transition%3Ageneric"
        );
        assert!(ClientKind::loopback("http://localhost:8080/callback", "atproto").is_err());
        assert!(ClientKind::loopback("https://127.0.0.1/callback", "atproto").is_err());
    }

    #[test]
    fn web_clients() {
        assert!(matches!(
            ClientKind::public(
                "http://app.example.com/client-metadata.json",
                &["https://app.example.com/cb"],
                "atproto"
            ),
            Err(OAuthError::InsecureUrl { .. })
        ));
        let kind = ClientKind::public(
            "https://app.example.com/client-metadata.json",
            &["https://app.example.com/cb"],
            "atproto transition:generic",
        )
        .unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&kind.metadata().unwrap().to_json()).unwrap();
        assert_eq!(json["token_endpoint_auth_method"], "none");
        assert_eq!(json["dpop_bound_access_tokens"], true);
        assert!(kind.jwks().is_none());

        let key = super::super::dpop::Es256Key::generate().unwrap();
        let kind = ClientKind::confidential(
            "https://app.example.com/client-metadata.json",
            &["https://app.example.com/cb"],
            "atproto",
            "https://app.example.com/jwks.json",
            key,
            "key-1",
        )
        .unwrap();
        let jwks: serde_json::Value = serde_json::from_str(&kind.jwks().unwrap()).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], "key-1");
        assert_eq!(jwks["keys"][0]["crv"], "P-256");
        assert!(jwks["keys"][0].get("d").is_none());
        let json: serde_json::Value =
            serde_json::from_str(&kind.metadata().unwrap().to_json()).unwrap();
        assert_eq!(json["token_endpoint_auth_method"], "private_key_jwt");
        assert_eq!(json["jwks_uri"], "https://app.example.com/jwks.json");
    }
}
