//! The OAuth client against a mock PDS, authorization server and PLC
//! directory (one axum server on loopback): the proofs it sends, and every
//! way the servers can be wrong — an issuer that is not their origin, a
//! redirect or an oversized document, a nonce that never settles, tokens
//! for an account another server serves, plain http outside loopback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use atlex_client::{Client, Error};
use atlex_core::types::Did;
use atlex_identity::identity::{DidDocument, Resolver};
use atlex_lexicons::com::atproto::server::get_session::GetSession;
use atlex_oauth::client::{CallbackParams, ClientKind, OAuthClient, OAuthError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

const ALICE: &str = "did:plc:aliceaaaaaaaaaaaaaaaaaaa";
/// An account whose document names another PDS.
const ELSEWHERE: &str = "did:plc:elsewhereaaaaaaaaaaaaaaa";

/// What the mock does, and what it saw.
#[derive(Default)]
struct Mock {
    origin: Mutex<String>,
    /// The issuer its metadata claims (its own origin unless set).
    issuer: Mutex<Option<String>>,
    /// The protected-resource metadata redirects.
    redirect: Mutex<bool>,
    /// The authorization-server metadata is this many bytes of padding.
    oversized: Mutex<Option<usize>>,
    /// PAR and the resource always ask for a new nonce.
    nonce_loop: Mutex<bool>,
    /// The `sub` of the token response.
    sub: Mutex<String>,
    /// The `state` of the last PAR.
    state: Mutex<Option<String>>,
    par_requests: AtomicUsize,
    resource_requests: AtomicUsize,
    revocations: AtomicUsize,
    /// The claims of each DPoP proof, by endpoint.
    proofs: Mutex<Vec<(String, serde_json::Value)>>,
    nonce_counter: AtomicUsize,
}

impl Mock {
    fn origin(&self) -> String {
        self.origin.lock().unwrap().clone()
    }

    fn fresh_nonce(&self) -> String {
        format!(
            "nonce-{}",
            self.nonce_counter.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Checks a DPoP proof's signature against the key in its header and
    /// keeps its claims.
    fn check_proof(
        &self,
        endpoint: &str,
        headers: &HeaderMap,
    ) -> Result<serde_json::Value, String> {
        let proof = headers
            .get("dpop")
            .and_then(|v| v.to_str().ok())
            .ok_or("no DPoP header")?;
        let header = jsonwebtoken::decode_header(proof).map_err(|e| e.to_string())?;
        if header.typ.as_deref() != Some("dpop+jwt") || header.alg != Algorithm::ES256 {
            return Err(format!("header {header:?}"));
        }
        let jwk: Jwk = header.jwk.ok_or("no jwk")?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(proof, &key, &validation)
            .map_err(|e| e.to_string())?
            .claims;
        self.proofs
            .lock()
            .unwrap()
            .push((endpoint.to_owned(), claims.clone()));
        Ok(claims)
    }
}

type Shared = Arc<Mock>;

/// The PDS's metadata, naming itself as the authorization server, under
/// the name it was asked by: as `localhost`, it is another server than as
/// `127.0.0.1`.
async fn protected_resource(State(mock): State<Shared>, headers: HeaderMap) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let origin = format!("http://{host}");
    if *mock.redirect.lock().unwrap() {
        return (
            StatusCode::FOUND,
            [("location", format!("{origin}/elsewhere"))],
        )
            .into_response();
    }
    Json(serde_json::json!({ "resource": origin, "authorization_servers": [origin] }))
        .into_response()
}

async fn server_metadata(State(mock): State<Shared>) -> Response {
    let origin = mock.origin();
    let issuer = mock
        .issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or(origin.clone());
    let mut metadata = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{origin}/authorize"),
        "token_endpoint": format!("{origin}/token"),
        "pushed_authorization_request_endpoint": format!("{origin}/par"),
        "revocation_endpoint": format!("{origin}/revoke"),
        "require_pushed_authorization_requests": true,
        "dpop_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "scopes_supported": ["atproto", "transition:generic"]
    });
    if let Some(size) = *mock.oversized.lock().unwrap() {
        metadata["padding"] = serde_json::Value::String("x".repeat(size));
    }
    Json(metadata).into_response()
}

async fn plc(State(mock): State<Shared>, Path(did): Path<String>) -> Response {
    let Ok(parsed) = Did::new(did.clone()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let pds = match did.as_str() {
        ALICE => mock.origin(),
        // The same server by another name: another PDS, with another
        // authorization server.
        ELSEWHERE => mock.origin().replace("127.0.0.1", "localhost"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let document =
        DidDocument::new(&parsed).with_service(("atproto_pds", "AtprotoPersonalDataServer"), &pds);
    Json(document).into_response()
}

fn use_dpop_nonce(mock: &Mock, status: StatusCode) -> Response {
    let nonce = mock.fresh_nonce();
    let mut response = (
        status,
        Json(serde_json::json!({ "error": "use_dpop_nonce", "error_description": "a nonce is needed" })),
    )
        .into_response();
    response
        .headers_mut()
        .insert("dpop-nonce", nonce.parse().unwrap());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            "www-authenticate",
            "DPoP error=\"use_dpop_nonce\"".parse().unwrap(),
        );
    }
    response
}

async fn par(State(mock): State<Shared>, headers: HeaderMap, body: String) -> Response {
    mock.par_requests.fetch_add(1, Ordering::Relaxed);
    let claims = match mock.check_proof("par", &headers) {
        Ok(claims) => claims,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    if *mock.nonce_loop.lock().unwrap() || claims.get("nonce").is_none() {
        return use_dpop_nonce(&mock, StatusCode::BAD_REQUEST);
    }
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    *mock.state.lock().unwrap() = form.get("state").cloned();
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "request_uri": "urn:ietf:params:oauth:request_uri:req-1", "expires_in": 300 })),
    )
        .into_response()
}

async fn token(State(mock): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(e) = mock.check_proof("token", &headers) {
        return (StatusCode::BAD_REQUEST, e).into_response();
    }
    Json(serde_json::json!({
        "access_token": "access-1",
        "token_type": "DPoP",
        "refresh_token": "refresh-1",
        "expires_in": 3600,
        "scope": "atproto transition:generic",
        "sub": *mock.sub.lock().unwrap(),
    }))
    .into_response()
}

async fn revoke(State(mock): State<Shared>) -> StatusCode {
    mock.revocations.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

async fn get_session(State(mock): State<Shared>, headers: HeaderMap) -> Response {
    mock.resource_requests.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = mock.check_proof("resource", &headers) {
        return (StatusCode::BAD_REQUEST, e).into_response();
    }
    if *mock.nonce_loop.lock().unwrap() {
        return use_dpop_nonce(&mock, StatusCode::UNAUTHORIZED);
    }
    Json(serde_json::json!({ "did": ALICE, "handle": "alice.test" })).into_response()
}

async fn start(mock: Mock) -> Shared {
    let mock = Arc::new(mock);
    let app = axum::Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(server_metadata),
        )
        .route("/plc/{did}", get(plc))
        .route("/par", post(par))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route("/xrpc/com.atproto.server.getSession", get(get_session))
        .with_state(Arc::clone(&mock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    *mock.origin.lock().unwrap() = format!("http://{}", listener.local_addr().unwrap());
    *mock.sub.lock().unwrap() = ALICE.to_owned();
    tokio::spawn(async move { axum::serve(listener, app).await });
    mock
}

fn oauth_client(mock: &Mock) -> OAuthClient {
    let resolver = Resolver::builder()
        .plc_directory(format!("{}/plc", mock.origin()))
        .plain_http(true)
        .build()
        .unwrap();
    OAuthClient::builder(
        ClientKind::loopback("http://127.0.0.1:7/callback", "atproto transition:generic").unwrap(),
    )
    .resolver(resolver)
    .build()
    .unwrap()
}

/// The callback the authorization server would send after the last PAR.
fn callback(mock: &Mock) -> CallbackParams {
    CallbackParams {
        code: Some("code-1".to_owned()),
        state: mock.state.lock().unwrap().clone(),
        iss: Some(mock.origin()),
        ..CallbackParams::default()
    }
}

#[tokio::test]
async fn proofs_carry_what_each_server_needs() {
    let mock = start(Mock::default()).await;
    let client = oauth_client(&mock);
    let url = client.authorize(ALICE).await.unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/authorize?client_id=", mock.origin()))
    );
    assert!(url.as_str().contains("request_uri=urn"));
    // The first PAR had no nonce and was asked for one; the second had it.
    assert_eq!(mock.par_requests.load(Ordering::Relaxed), 2);
    let session = client.callback(&callback(&mock)).await.unwrap();
    assert_eq!(session.did(), ALICE);
    assert_eq!(session.pds(), mock.origin());

    let xrpc: Client = session.client().unwrap();
    let me = xrpc.query(GetSession, &()).await.unwrap();
    assert_eq!(me.did.as_str(), ALICE);

    let proofs = mock.proofs.lock().unwrap().clone();
    let (_, par) = &proofs[1];
    assert_eq!(par["htm"], "POST");
    assert_eq!(par["htu"], format!("{}/par", mock.origin()));
    assert_eq!(par["nonce"], "nonce-0");
    assert!(par.get("ath").is_none());
    let (_, token) = proofs.iter().find(|(e, _)| e == "token").unwrap();
    assert_eq!(token["htu"], format!("{}/token", mock.origin()));
    // The same origin: the nonce learnt at PAR is used.
    assert_eq!(token["nonce"], "nonce-0");
    let (_, resource) = proofs.iter().find(|(e, _)| e == "resource").unwrap();
    assert_eq!(resource["htm"], "GET");
    assert_eq!(
        resource["htu"],
        format!("{}/xrpc/com.atproto.server.getSession", mock.origin())
    );
    // ath = base64url(SHA-256("access-1")), as `openssl dgst -sha256`
    // computes it.
    assert_eq!(
        resource["ath"],
        "9MKET0Y7WpOlF96BtnoJyLnXlpe9Pn5RReIOHKIBPAY"
    );
    let jtis: std::collections::HashSet<_> =
        proofs.iter().map(|(_, c)| c["jti"].to_string()).collect();
    assert_eq!(jtis.len(), proofs.len(), "every proof has its own jti");
}

#[tokio::test]
async fn an_issuer_that_is_not_the_servers_origin_is_refused() {
    let mock = start(Mock::default()).await;
    *mock.issuer.lock().unwrap() = Some("https://auth.example.com".to_owned());
    let err = oauth_client(&mock).authorize(ALICE).await.unwrap_err();
    let OAuthError::Metadata { reason, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(reason.contains("issuer"), "{err}");
    assert_eq!(mock.par_requests.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn redirecting_or_oversized_metadata_is_refused() {
    let mock = start(Mock::default()).await;
    *mock.redirect.lock().unwrap() = true;
    let err = oauth_client(&mock).authorize(ALICE).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Metadata { reason, .. } if reason.contains("redirect")),
        "{err}"
    );

    let mock = start(Mock::default()).await;
    *mock.oversized.lock().unwrap() = Some(100_000);
    let err = oauth_client(&mock).authorize(ALICE).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Metadata { reason, .. } if reason.contains("limit")),
        "{err}"
    );
}

#[tokio::test]
async fn plain_http_outside_loopback_is_refused_before_any_request() {
    let mock = start(Mock::default()).await;
    let client = oauth_client(&mock);
    for url in [
        "http://pds.example.com",
        "http://10.0.0.1:2583",
        "ftp://pds.example.com",
    ] {
        let err = client.authorize(url).await.unwrap_err();
        assert!(
            matches!(err, OAuthError::InsecureUrl { .. }),
            "{url}: {err:?}"
        );
    }
    assert!(matches!(
        client.authorize("not a handle").await,
        Err(OAuthError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn a_nonce_that_never_settles_is_asked_a_bounded_number_of_times() {
    // At the authorization server: the PAR is retried once.
    let mock = start(Mock::default()).await;
    *mock.nonce_loop.lock().unwrap() = true;
    let err = oauth_client(&mock).authorize(ALICE).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Server { error, .. } if error == "use_dpop_nonce"),
        "{err}"
    );
    assert_eq!(mock.par_requests.load(Ordering::Relaxed), 2);

    // At the PDS: at most MAX_AUTH_RETRIES more requests, then the error.
    let mock = start(Mock::default()).await;
    let client = oauth_client(&mock);
    client.authorize(ALICE).await.unwrap();
    let session = client.callback(&callback(&mock)).await.unwrap();
    *mock.nonce_loop.lock().unwrap() = true;
    let err = session
        .client()
        .unwrap()
        .query(GetSession, &())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Common { status: 401, .. } | Error::Endpoint { status: 401, .. }
        ),
        "{err:?}"
    );
    assert_eq!(
        mock.resource_requests.load(Ordering::Relaxed),
        1 + atlex_client::MAX_AUTH_RETRIES as usize
    );
}

#[tokio::test]
async fn tokens_for_an_account_another_server_serves_are_refused_and_revoked() {
    // Signed in from the server's URL: the tokens name an account whose
    // document names another PDS.
    let mock = start(Mock::default()).await;
    *mock.sub.lock().unwrap() = ELSEWHERE.to_owned();
    let client = oauth_client(&mock);
    client.authorize(&mock.origin()).await.unwrap();
    let err = client.callback(&callback(&mock)).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::InvalidToken(reason)
            if reason.contains("whose authorization server is http://localhost:")),
        "{err:?}"
    );
    assert_eq!(mock.revocations.load(Ordering::Relaxed), 1);

    // Signed in as alice: tokens for another account are refused.
    let mock = start(Mock::default()).await;
    *mock.sub.lock().unwrap() = ELSEWHERE.to_owned();
    let client = oauth_client(&mock);
    client.authorize(ALICE).await.unwrap();
    let err = client.callback(&callback(&mock)).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::InvalidToken(reason) if reason.contains(ELSEWHERE)),
        "{err:?}"
    );
    assert_eq!(mock.revocations.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_callback_without_the_issuer_or_with_an_error_is_refused() {
    let mock = start(Mock::default()).await;
    let client = oauth_client(&mock);
    client.authorize(ALICE).await.unwrap();
    let mut params = callback(&mock);
    params.iss = None;
    assert!(matches!(
        client.callback(&params).await,
        Err(OAuthError::IssuerMismatch { got: None, .. })
    ));

    client.authorize(ALICE).await.unwrap();
    let mut params = callback(&mock);
    params.code = None;
    params.error = Some("access_denied".to_owned());
    let err = client.callback(&params).await.unwrap_err();
    assert!(
        matches!(&err, OAuthError::Refused { error, .. } if error == "access_denied"),
        "{err:?}"
    );
    assert_eq!(
        CallbackParams::from_query("?code=c&state=s&iss=https%3A%2F%2Fa.example"),
        CallbackParams {
            code: Some("c".into()),
            state: Some("s".into()),
            iss: Some("https://a.example".into()),
            ..CallbackParams::default()
        }
    );
}

#[test]
fn a_client_without_a_redirect_uri_or_the_atproto_scope_is_not_built() {
    let ClientKind::Public(mut metadata) = ClientKind::public(
        "https://app.example.com/oauth-client-metadata.json",
        &["https://app.example.com/callback"],
        "atproto",
    )
    .unwrap() else {
        panic!("a public client");
    };
    metadata.redirect_uris.clear();
    let err = OAuthClient::builder(ClientKind::Public(metadata))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, OAuthError::InvalidInput(reason) if reason.contains("redirect")),
        "{err:?}"
    );
    let kind = ClientKind::loopback("http://127.0.0.1:7/callback", "transition:generic").unwrap();
    let err = OAuthClient::builder(kind).build().unwrap_err();
    assert!(
        matches!(&err, OAuthError::InvalidInput(reason) if reason.contains("atproto")),
        "{err:?}"
    );
}
