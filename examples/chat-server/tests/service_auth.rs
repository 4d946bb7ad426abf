//! The chat service behind a PDS: callers present inter-service JWTs signed
//! with their atproto signing key, which a mock PLC directory on loopback
//! publishes; development tokens keep working beside them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use atlex::client::{Client, Error};
use atlex::crypto::{Curve, SigningKey};
use atlex::identity::Resolver;
use atlex::service_auth::{ServiceAuthVerifier, ServiceToken};
use atlex::types::Did;
use atlex::xrpc::Endpoint as _;
use atlex_lexicons::chat::bsky::convo::{get_convo, list_convos};
use atlex_lexicons::chat::bsky::group::create_group;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use chat_server::{ChatService, app_with_service_auth, demo_accounts};

/// The service's DID and service id, as a PDS addresses it.
const SERVICE: &str = "did:web:chat.test#bsky_chat";
/// An account of the network that is not one of the demo accounts.
const DAVE: &str = "did:plc:dave2345dave2345dave2345";
const BOB: &str = "did:plc:bob00000000000000000000b";
const CAROL: &str = "did:plc:carol000000000000000000c";
/// Dave's signing key (a fixed test key).
const DAVE_KEY: &str = "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";

type Directory = Arc<Mutex<HashMap<String, serde_json::Value>>>;

/// A PLC directory serving the documents in `directory`.
async fn plc_directory(directory: Directory) -> String {
    async fn document(
        State(directory): State<Directory>,
        Path(did): Path<String>,
    ) -> axum::response::Response {
        match directory.lock().unwrap().get(&did) {
            Some(doc) => axum::Json(doc.clone()).into_response(),
            None => axum::http::StatusCode::NOT_FOUND.into_response(),
        }
    }
    let app = axum::Router::new()
        .route("/{did}", axum::routing::get(document))
        .with_state(directory);
    serve(app).await
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn did_document(did: &str, handle: &str, key: &SigningKey) -> serde_json::Value {
    serde_json::json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [format!("at://{handle}")],
        "verificationMethod": [{
            "id": format!("{did}#atproto"),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key().to_multikey(),
        }],
        "service": [{
            "id": "#atproto_pds",
            "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": "https://pds.example.com",
        }],
    })
}

struct Harness {
    base: String,
    key: SigningKey,
}

impl Harness {
    async fn start() -> Self {
        let key = SigningKey::from_hex(Curve::K256, DAVE_KEY).unwrap();
        let directory = Directory::default();
        directory
            .lock()
            .unwrap()
            .insert(DAVE.to_owned(), did_document(DAVE, "dave.test", &key));
        let plc = plc_directory(directory).await;
        let resolver = Resolver::builder().plc_directory(plc).build().unwrap();
        let service = Arc::new(ChatService::new(demo_accounts()).unwrap());
        let app = app_with_service_auth(service, ServiceAuthVerifier::new(resolver, SERVICE));
        Self {
            base: serve(app).await,
            key,
        }
    }

    /// A client presenting what a PDS would: a JWT from dave for `lxm`.
    fn as_dave(&self, lxm: &str) -> Client {
        let token = ServiceToken::new(&did(DAVE), SERVICE)
            .lxm(lxm)
            .sign(&self.key)
            .unwrap();
        Client::builder(&self.base).bearer(token).build().unwrap()
    }

    fn with_token(&self, token: &str) -> Client {
        Client::builder(&self.base).bearer(token).build().unwrap()
    }
}

/// The status and error name of a failed call.
fn name<E: atlex::xrpc::EndpointError>(error: Error<E>) -> (Option<u16>, Option<String>) {
    (error.status(), error.error_name().map(str::to_owned))
}

fn did(text: &str) -> Did {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_jwt_caller_acts_as_its_did() {
    let harness = Harness::start().await;

    // Dave, unknown to the demo table, creates a group with bob and carol.
    let created = harness
        .as_dave(create_group::CreateGroup::NSID)
        .procedure(
            create_group::CreateGroup,
            &create_group::Input::builder()
                .members(vec![did(BOB), did(CAROL)])
                .name("from the network")
                .build(),
        )
        .await
        .unwrap();
    let convo = created.convo;

    // Bob, with his development token, sees it, with dave as a member.
    let bob = harness.with_token("bob-token");
    let page = bob
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap();
    let seen = page.convos.iter().find(|c| c.id == convo.id).unwrap();
    assert!(seen.members.iter().any(|m| m.did.as_str() == DAVE));

    // Dave lists his convos with a token for listConvos.
    let page = harness
        .as_dave(list_convos::ListConvos::NSID)
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap();
    assert_eq!(page.convos.len(), 1);
}

#[tokio::test]
async fn tokens_for_another_method_audience_or_key_are_refused() {
    let harness = Harness::start().await;

    // A token for listConvos does not allow getConvo.
    let err = harness
        .as_dave(list_convos::ListConvos::NSID)
        .query(get_convo::GetConvo, &get_convo::Params::new("x"))
        .await
        .unwrap_err();
    assert_eq!(
        name(err),
        (Some(401), Some("BadJwtLexiconMethod".to_owned()))
    );

    // A token for another service.
    let other = ServiceToken::new(&did(DAVE), "did:web:other.test#bsky_chat")
        .lxm(list_convos::ListConvos::NSID)
        .sign(&harness.key)
        .unwrap();
    let err = harness
        .with_token(&other)
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap_err();
    assert_eq!(name(err), (Some(401), Some("BadJwtAudience".to_owned())));

    // Signed by a key that is not dave's.
    let forger = SigningKey::generate(Curve::K256).unwrap();
    let forged = ServiceToken::new(&did(DAVE), SERVICE)
        .lxm(list_convos::ListConvos::NSID)
        .sign(&forger)
        .unwrap();
    let err = harness
        .with_token(&forged)
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap_err();
    assert_eq!(name(err), (Some(401), Some("BadJwtSignature".to_owned())));

    // Expired.
    let mut claims = ServiceToken::new(&did(DAVE), SERVICE)
        .lxm(list_convos::ListConvos::NSID)
        .claims()
        .unwrap();
    claims.exp -= 3600;
    let err = harness
        .with_token(&claims.sign(&harness.key))
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap_err();
    assert_eq!(name(err), (Some(401), Some("JwtExpired".to_owned())));

    // A development token that does not exist is neither.
    let err = harness
        .with_token("mallory-token")
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap_err();
    assert_eq!(name(err).1.as_deref(), Some("BadJwt"));
}

#[tokio::test]
async fn development_tokens_still_work() {
    let harness = Harness::start().await;
    let page = harness
        .with_token("alice-token")
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap();
    assert!(page.convos.is_empty());
}
