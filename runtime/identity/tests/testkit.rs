//! The test identity network (`identity::testkit`) as a user's tests use it:
//! accounts resolve both ways, by each handle method, changes to documents
//! reach resolvers once their cache drops the old one, and what is signed
//! with an account's keys verifies against the network's resolver.

#![cfg(feature = "testkit")]

use atlex_core::types::{AtIdentifier, Did, Handle};
use atlex_identity::crypto::Curve;
use atlex_identity::identity::testkit::{HandleMethod, TestNetwork, TestkitError};
use atlex_identity::identity::{DidDocument, FEED_GENERATOR_SERVICE, IdentityError};

fn identifier(text: &str) -> AtIdentifier {
    AtIdentifier::new(text).unwrap()
}

fn handle(text: &str) -> Handle {
    Handle::new(text).unwrap()
}

#[tokio::test]
async fn an_account_resolves_from_its_handle_and_from_its_did() {
    let network = TestNetwork::start().await.unwrap();
    let alice = network.account("alice.test").unwrap();
    let bob = network.account("bob.test").unwrap();
    assert_eq!(alice.did().method(), "plc");
    assert_eq!(alice.did().identifier().len(), 24);
    assert_ne!(alice.did(), bob.did());
    assert_eq!(alice.signing_key().curve(), Curve::K256);

    let resolver = network.resolver();
    let by_handle = resolver.resolve(&identifier("Alice.TEST")).await.unwrap();
    assert_eq!(&by_handle.did, alice.did());
    assert_eq!(by_handle.handle.as_ref(), Some(&handle("alice.test")));
    assert_eq!(by_handle.handle_problem, None);
    assert_eq!(
        by_handle.signing_key().unwrap(),
        alice.signing_key().public_key()
    );
    // No PDS until one is set.
    assert!(matches!(by_handle.pds(), Err(IdentityError::NoPds { .. })));

    let by_did = resolver
        .resolve(&identifier(bob.did().as_str()))
        .await
        .unwrap();
    assert_eq!(by_did.handle.as_ref(), bob.handle());
    assert_eq!(*by_did.document, bob.document());
}

#[tokio::test]
async fn each_handle_method_resolves_alone() {
    let network = TestNetwork::start().await.unwrap();
    let by_dns = network
        .account_with("dns.test", Curve::P256, &[HandleMethod::Dns])
        .unwrap();
    let by_file = network
        .account_with("file.test", Curve::K256, &[HandleMethod::WellKnown])
        .unwrap();
    let neither = network.account_with("none.test", Curve::K256, &[]).unwrap();
    assert_eq!(by_dns.signing_key().curve(), Curve::P256);

    let resolver = network.resolver();
    assert_eq!(
        &resolver.resolve_handle(&handle("dns.test")).await.unwrap(),
        by_dns.did()
    );
    assert_eq!(
        &resolver.resolve_handle(&handle("file.test")).await.unwrap(),
        by_file.did()
    );
    let err = resolver
        .resolve_handle(&handle("none.test"))
        .await
        .unwrap_err();
    let IdentityError::HandleNotFound { dns, https, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(dns.contains("_atproto.none.test"), "{dns}");
    assert!(https.contains("404"), "{https}");
    // Its document claims the handle, which does not resolve back.
    let identity = resolver
        .resolve(&identifier(neither.did().as_str()))
        .await
        .unwrap();
    assert_eq!(identity.handle, None);
    assert!(matches!(
        identity.handle_problem,
        Some(IdentityError::HandleNotFound { .. })
    ));
}

#[tokio::test]
async fn a_handle_pointed_elsewhere_or_moved_is_checked_both_ways() {
    let network = TestNetwork::start().await.unwrap();
    let mut alice = network.account("alice.test").unwrap();
    let mallory = network.account("mallory.test").unwrap();

    // mallory's handle points at alice by DNS (which wins over the
    // well-known file); alice's document does not claim it.
    network
        .point_handle("mallory.test", alice.did(), HandleMethod::Dns)
        .unwrap();
    let resolver = network.resolver();
    let identity = resolver.resolve(&identifier("mallory.test")).await.unwrap();
    assert_eq!(&identity.did, alice.did());
    assert!(
        matches!(&identity.handle_problem, Some(IdentityError::HandleMismatch { claimed: Some(claimed), .. }) if claimed == "alice.test"),
        "{:?}",
        identity.handle_problem
    );
    // From mallory's DID, the claimed handle leads to alice.
    let identity = resolver
        .resolve(&identifier(mallory.did().as_str()))
        .await
        .unwrap();
    assert_eq!(identity.handle, None);

    // alice moves to a new handle: the old one no longer resolves.
    alice.set_handle("alice2.test").unwrap();
    let resolver = network.resolver();
    let identity = resolver
        .resolve(&identifier(alice.did().as_str()))
        .await
        .unwrap();
    assert_eq!(identity.handle.as_ref(), Some(&handle("alice2.test")));
    assert_eq!(alice.handle(), Some(&handle("alice2.test")));
    assert!(
        resolver
            .resolve_handle(&handle("alice.test"))
            .await
            .is_err()
    );

    network.remove_handle("alice2.test").unwrap();
    let resolver = network.resolver();
    assert!(
        resolver
            .resolve_handle(&handle("alice2.test"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_rotated_key_and_a_moved_pds_are_seen_once_the_cache_drops_them() {
    let network = TestNetwork::start().await.unwrap();
    let mut alice = network.account("alice.test").unwrap();
    alice.set_pds("https://pds-one.example.com");
    let old = alice.signing_key().public_key();
    let resolver = network.resolver();
    assert_eq!(resolver.signing_key(alice.did(), false).await.unwrap(), old);
    assert_eq!(network.requests(alice.did()), 1);

    let new = alice.rotate_signing_key(Curve::P256).unwrap().public_key();
    alice.set_pds("https://pds-two.example.com");
    assert_eq!(alice.document().signing_key().unwrap(), new);
    assert_eq!(alice.document().service.len(), 1, "the PDS was replaced");

    // The cache still holds the old document.
    assert_eq!(resolver.signing_key(alice.did(), false).await.unwrap(), old);
    assert_eq!(network.requests(alice.did()), 1);
    // Without it, the new one is fetched.
    resolver.clear_cache();
    let identity = resolver.resolve(&identifier("alice.test")).await.unwrap();
    assert_eq!(identity.signing_key().unwrap(), new);
    assert_eq!(identity.pds().unwrap(), "https://pds-two.example.com");
    assert_eq!(network.requests(alice.did()), 2);
    // A new resolver has its own cache.
    let fresh = network.resolver();
    assert_eq!(fresh.signing_key(alice.did(), false).await.unwrap(), new);
    assert_eq!(network.requests(alice.did()), 3);
}

#[tokio::test]
async fn a_did_web_service_and_its_entries() {
    let network = TestNetwork::start().await.unwrap();
    let feed = network.service("feed.test").unwrap();
    assert_eq!(feed.did().as_str(), "did:web:feed.test");
    assert_eq!(feed.handle(), None);
    feed.set_feed_generator("https://feed.example.com");

    let resolver = network.resolver();
    let document = resolver.resolve_did(feed.did()).await.unwrap();
    assert_eq!(
        document.service_endpoint(FEED_GENERATOR_SERVICE.0, FEED_GENERATOR_SERVICE.1),
        Some("https://feed.example.com")
    );
    assert_eq!(
        document.signing_key().unwrap(),
        feed.signing_key().public_key()
    );
    feed.remove_service(FEED_GENERATOR_SERVICE.0);
    resolver.clear_cache();
    let document = resolver.resolve_did(feed.did()).await.unwrap();
    assert!(document.service.is_empty());

    let err = resolver
        .resolve_did(&Did::new("did:web:nobody.test").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, IdentityError::DidNotFound { .. }), "{err:?}");

    for bad in ["localhost:8080", "feed.test/path", "nodot", ""] {
        assert!(
            matches!(network.service(bad), Err(TestkitError::Host { .. })),
            "{bad}"
        );
    }
}

/// A `did:web:localhost%3A<port>` served by the test itself is fetched from
/// it, not from the network: the explicit port wins.
#[tokio::test]
async fn a_document_served_by_the_test_itself_is_fetched_from_its_port() {
    let network = TestNetwork::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let did = Did::new(format!("did:web:localhost%3A{port}")).unwrap();
    let json = serde_json::to_vec(&DidDocument::new(&did)).unwrap();
    let app = axum::Router::new().route(
        "/.well-known/did.json",
        axum::routing::get(move || {
            let json = json.clone();
            async move { json }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let document = network.resolver().resolve_did(&did).await.unwrap();
    assert_eq!(document.id, did.as_str());
}

#[tokio::test]
async fn a_failing_directory_and_published_documents() {
    let network = TestNetwork::start().await.unwrap();
    let alice = network.account("alice.test").unwrap();
    let resolver = network.resolver();

    network.fail_did(alice.did(), 503).unwrap();
    let err = resolver.resolve_did(alice.did()).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::Http { status: 503, .. }),
        "{err:?}"
    );
    network.fail_did(alice.did(), 410).unwrap();
    let err = resolver.resolve_did(alice.did()).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::DidNotFound { status: 410, .. }),
        "{err:?}"
    );
    for status in [200, 302, 99, 600] {
        assert!(matches!(
            network.fail_did(alice.did(), status),
            Err(TestkitError::Status(found)) if found == status
        ));
    }
    // A change to the document ends the failure.
    alice.update_document(|document| document.also_known_as.clear());
    let document = resolver.resolve_did(alice.did()).await.unwrap();
    assert_eq!(document.handle(), None);

    // Any document, published as it is.
    let other = Did::new("did:plc:bbbbbbbbbbbbbbbbbbbbbbbb").unwrap();
    network
        .publish(DidDocument::new(&other).with_handle(&handle("alice.test")))
        .unwrap();
    assert_eq!(
        network.document(&other).unwrap().handle(),
        Some(handle("alice.test"))
    );
    let identity = resolver.resolve(&identifier(other.as_str())).await.unwrap();
    assert!(matches!(
        identity.handle_problem,
        Some(IdentityError::HandleMismatch { .. })
    ));
    let mut bad = DidDocument::new(&other);
    bad.id = "not a did".to_owned();
    assert!(matches!(
        network.publish(bad),
        Err(TestkitError::Document { .. })
    ));
    assert!(matches!(
        network.account("not a handle"),
        Err(TestkitError::Handle { .. })
    ));
}

#[cfg(feature = "service-auth")]
#[tokio::test]
async fn service_auth_tokens_signed_with_an_account_key_verify() {
    use atlex_identity::service_auth::{ServiceAuthVerifier, ServiceToken};

    let network = TestNetwork::start().await.unwrap();
    let mut alice = network.account("alice.test").unwrap();
    let feed = network.service("feed.test").unwrap();
    let audience = format!("{}#bsky_fg", feed.did());
    let verifier = ServiceAuthVerifier::new(network.resolver(), audience.as_str());
    let did = alice.did().clone();
    let mint = |key: &atlex_identity::crypto::SigningKey| {
        ServiceToken::new(&did, audience.as_str())
            .lxm("app.bsky.feed.getFeedSkeleton")
            .sign(key)
            .unwrap()
    };
    let token = mint(alice.signing_key());
    let verified = verifier
        .verify(&token, Some("app.bsky.feed.getFeedSkeleton"))
        .await
        .unwrap();
    assert_eq!(&verified.issuer, alice.did());

    // Another account's key does not sign for alice.
    let bob = network.account("bob.test").unwrap();
    let forged = mint(bob.signing_key());
    assert_eq!(
        verifier.verify(&forged, None).await.unwrap_err().name(),
        "BadJwtSignature"
    );

    // After a rotation, tokens of the new key verify (the verifier looks
    // again when the cached key fails), those of the old one no longer do.
    let before = alice.clone();
    alice.rotate_signing_key(Curve::P256).unwrap();
    let token = mint(alice.signing_key());
    verifier.verify(&token, None).await.unwrap();
    let stale = mint(before.signing_key());
    assert_eq!(
        verifier.verify(&stale, None).await.unwrap_err().name(),
        "BadJwtSignature"
    );
}

#[cfg(feature = "label")]
#[tokio::test]
async fn labels_signed_with_a_labelers_key_verify() {
    use atlex_core::data::Value;
    use atlex_identity::identity::LABELER_SERVICE;
    use atlex_identity::label::{self, LabelVerifier};

    let network = TestNetwork::start().await.unwrap();
    let mut labeler = network.service("labeler.test").unwrap();
    assert!(labeler.label_key().is_none());
    let label_key = labeler
        .set_labeler("https://labeler.example.com")
        .unwrap()
        .clone();
    let document = labeler.document();
    assert_eq!(
        document.service_endpoint(LABELER_SERVICE.0, LABELER_SERVICE.1),
        Some("https://labeler.example.com")
    );
    let unsigned: Value = serde_json::from_value(serde_json::json!({
        "ver": 1,
        "src": labeler.did().as_str(),
        "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jwdwj2ctlk26",
        "val": "spam",
        "cts": "2026-12-07T10:00:00.000Z",
    }))
    .unwrap();
    let verifier = LabelVerifier::new(network.resolver());
    verifier
        .verify(&label::sign(&unsigned, &label_key).unwrap())
        .await
        .unwrap();
    // The `#atproto` key is not the label key.
    let wrong = label::sign(&unsigned, labeler.signing_key()).unwrap();
    assert!(verifier.verify(&wrong).await.is_err());
}

#[tokio::test]
async fn an_nsid_authority_resolves_by_its_lexicon_txt_record() {
    let network = TestNetwork::start().await.unwrap();
    let publisher = network.account("lexicons.example.com").unwrap();
    // DNS answers are cached by each resolver: a new one sees each change.
    let resolver = || network.resolver();
    let nsid = |text: &str| atlex_core::types::Nsid::new(text).unwrap();
    let authority_error = |result: Result<Did, IdentityError>| match result {
        Err(IdentityError::LexiconAuthority { name, reason, .. }) => (name, reason),
        other => panic!("expected LexiconAuthority, got {other:?}"),
    };

    // Nothing published yet: the name asked is the authority in DNS order.
    let (name, _) = authority_error(
        resolver()
            .resolve_lexicon_authority(&nsid("com.example.feed.post"))
            .await,
    );
    assert_eq!(name, "_lexicon.feed.example.com");

    let record = format!("did={}", publisher.did());
    network.set_txt("_lexicon.feed.example.com", &["v=other", &record]);
    let did = resolver()
        .resolve_lexicon_authority(&nsid("com.example.feed.post"))
        .await
        .unwrap();
    assert_eq!(&did, publisher.did());
    // Only the exact authority is asked, not its parent domain.
    let (name, _) = authority_error(
        resolver()
            .resolve_lexicon_authority(&nsid("com.example.feed.sub.like"))
            .await,
    );
    assert_eq!(name, "_lexicon.sub.feed.example.com");

    // Two DIDs, or one that is not a DID: neither is trusted.
    network.set_txt(
        "_lexicon.feed.example.com",
        &[&record, "did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"],
    );
    let (_, reason) = authority_error(
        resolver()
            .resolve_lexicon_authority(&nsid("com.example.feed.post"))
            .await,
    );
    assert!(reason.contains("several DIDs"), "{reason}");
    network.set_txt("_lexicon.feed.example.com", &["did=not a did"]);
    let (_, reason) = authority_error(
        resolver()
            .resolve_lexicon_authority(&nsid("com.example.feed.post"))
            .await,
    );
    assert!(reason.contains("is not a DID"), "{reason}");
    network.set_txt("_lexicon.feed.example.com", &[]);
    authority_error(
        resolver()
            .resolve_lexicon_authority(&nsid("com.example.feed.post"))
            .await,
    );
}
