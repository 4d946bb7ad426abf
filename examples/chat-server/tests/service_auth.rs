//! The chat service behind a PDS: callers present inter-service JWTs signed
//! with their atproto signing key, which the test identity network
//! (`atlex::identity::testkit`) publishes; development tokens keep working
//! beside them.

use std::sync::Arc;

use atlex::client::{Client, Error};
use atlex::crypto::{Curve, SigningKey};
use atlex::identity::testkit::{Account, TestNetwork};
use atlex::service_auth::{ServiceAuthVerifier, ServiceToken};
use atlex::types::Did;
use atlex::xrpc::Endpoint as _;
use atlex_lexicons::chat::bsky::convo::{get_convo, list_convos};
use atlex_lexicons::chat::bsky::group::create_group;
use chat_server::{ChatService, app_with_service_auth, demo_accounts};

/// The service's DID and service id, as a PDS addresses it.
const SERVICE: &str = "did:web:chat.test#bsky_chat";
const BOB: &str = "did:plc:bob00000000000000000000b";
const CAROL: &str = "did:plc:carol000000000000000000c";

struct Harness {
    base: String,
    /// An account of the network that is not one of the demo accounts.
    dave: Account,
    /// Serves dave's document for as long as the harness lives.
    _network: TestNetwork,
}

impl Harness {
    async fn start() -> Self {
        let network = TestNetwork::start().await.unwrap();
        let dave = network.account("dave.test").unwrap();
        let service = Arc::new(ChatService::new(demo_accounts()).unwrap());
        let verifier = ServiceAuthVerifier::new(network.resolver(), SERVICE);
        let app = app_with_service_auth(service, verifier);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            dave,
            _network: network,
        }
    }

    fn dave(&self) -> &Did {
        self.dave.did()
    }

    /// A client presenting what a PDS would: a JWT from dave for `lxm`.
    fn as_dave(&self, lxm: &str) -> Client {
        let token = ServiceToken::new(self.dave(), SERVICE)
            .lxm(lxm)
            .sign(self.dave.signing_key())
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
    assert!(seen.members.iter().any(|m| &m.did == harness.dave()));

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
    let other = ServiceToken::new(harness.dave(), "did:web:other.test#bsky_chat")
        .lxm(list_convos::ListConvos::NSID)
        .sign(harness.dave.signing_key())
        .unwrap();
    let err = harness
        .with_token(&other)
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap_err();
    assert_eq!(name(err), (Some(401), Some("BadJwtAudience".to_owned())));

    // Signed by a key that is not dave's.
    let forger = SigningKey::generate(Curve::K256).unwrap();
    let forged = ServiceToken::new(harness.dave(), SERVICE)
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
    let mut claims = ServiceToken::new(harness.dave(), SERVICE)
        .lxm(list_convos::ListConvos::NSID)
        .claims()
        .unwrap();
    claims.exp -= 3600;
    let err = harness
        .with_token(&claims.sign(harness.dave.signing_key()))
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
