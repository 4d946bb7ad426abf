//! `atlex::identity` against local networks: the test identity network
//! (`identity::testkit`) for what a resolver meets on the real network, and
//! the mocks of `mock_identity` (a DNS server and an HTTP server on
//! 127.0.0.1 answering whatever a test sets) for answers that are wrong,
//! oversized, slow or redirected. Nothing touches the network.

#![cfg(feature = "testkit")]

mod mock_identity;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use atlex::crypto::Curve;
use atlex::identity::IdentityError;
use atlex::identity::testkit::{HandleMethod, TestNetwork};
use atlex::types::{AtIdentifier, Did, Handle};
use mock_identity::{ALICE, BOB, Mocks, Reply, document};

fn did(text: &str) -> Did {
    Did::new(text).unwrap()
}

fn handle(text: &str) -> Handle {
    Handle::new(text).unwrap()
}

fn identifier(text: &str) -> AtIdentifier {
    AtIdentifier::new(text).unwrap()
}

#[tokio::test]
async fn a_handle_in_dns_checks_out_both_ways() {
    let network = TestNetwork::start().await.unwrap();
    let alice = network
        .account_with("Alice.test", Curve::K256, &[HandleMethod::Dns])
        .unwrap();
    alice.set_pds("https://pds.example.com");
    let resolver = network.resolver();

    let identity = resolver.resolve(&identifier("ALICE.test")).await.unwrap();
    assert_eq!(&identity.did, alice.did());
    assert_eq!(
        identity.handle.as_ref().map(Handle::as_str),
        Some("Alice.test")
    );
    assert_eq!(identity.handle_problem, None);
    assert_eq!(
        identity.signing_key().unwrap(),
        alice.signing_key().public_key()
    );
    assert_eq!(identity.pds().unwrap(), "https://pds.example.com");

    // From the DID, the claimed handle is resolved back.
    let identity = resolver
        .resolve(&identifier(alice.did().as_str()))
        .await
        .unwrap();
    assert_eq!(
        identity.handle.as_ref().map(Handle::as_str),
        Some("Alice.test")
    );
}

#[tokio::test]
async fn a_handle_without_dns_resolves_over_https() {
    let network = TestNetwork::start().await.unwrap();
    let bob = network
        .account_with("bob.test", Curve::K256, &[HandleMethod::WellKnown])
        .unwrap();
    let identity = network
        .resolver()
        .resolve(&identifier("bob.test"))
        .await
        .unwrap();
    assert_eq!(&identity.did, bob.did());
    assert_eq!(
        identity.handle.as_ref().map(Handle::as_str),
        Some("bob.test")
    );
}

#[tokio::test]
async fn dns_wins_when_the_methods_disagree() {
    let network = TestNetwork::start().await.unwrap();
    let alice = network.account("alice.test").unwrap();
    let bob = network.account("bob.test").unwrap();
    network
        .point_handle("both.test", alice.did(), HandleMethod::Dns)
        .unwrap();
    network
        .point_handle("both.test", bob.did(), HandleMethod::WellKnown)
        .unwrap();
    let resolver = network.resolver();
    assert_eq!(
        &resolver.resolve_handle(&handle("both.test")).await.unwrap(),
        alice.did()
    );
}

#[tokio::test]
async fn a_handle_the_document_does_not_claim_is_not_verified() {
    let network = TestNetwork::start().await.unwrap();
    // bob.test points at alice, whose document claims alice.test.
    let alice = network.account("alice.test").unwrap();
    network
        .point_handle("bob.test", alice.did(), HandleMethod::Dns)
        .unwrap();
    let identity = network
        .resolver()
        .resolve(&identifier("bob.test"))
        .await
        .unwrap();
    assert_eq!(&identity.did, alice.did());
    assert_eq!(identity.handle, None);
    match identity.handle_problem {
        Some(IdentityError::HandleMismatch {
            handle, claimed, ..
        }) => {
            assert_eq!(handle, "bob.test");
            assert_eq!(claimed.as_deref(), Some("alice.test"));
        }
        other => panic!("{other:?}"),
    }

    // The other way: bob's document claims alice.test, which is alice's.
    let bob = network.account("bob.test").unwrap();
    bob.update_document(|document| document.also_known_as = vec!["at://alice.test".to_owned()]);
    let identity = network
        .resolver()
        .resolve(&identifier(bob.did().as_str()))
        .await
        .unwrap();
    assert_eq!(identity.handle, None);
    let problem = identity.handle_problem.unwrap();
    assert!(
        matches!(&problem, IdentityError::HandleMismatch { resolves_to: Some(to), .. } if to == alice.did().as_str()),
        "{problem:?}"
    );
    assert!(
        problem
            .to_string()
            .contains(&format!("resolves to {}", alice.did())),
        "{problem}"
    );

    // A document with no handle at all.
    bob.update_document(|document| document.also_known_as.clear());
    let identity = network
        .resolver()
        .resolve(&identifier(bob.did().as_str()))
        .await
        .unwrap();
    assert!(matches!(
        identity.handle_problem,
        Some(IdentityError::NoHandle { .. })
    ));
}

#[tokio::test]
async fn did_web_documents() {
    let network = TestNetwork::start().await.unwrap();
    let web = network.service("web.test").unwrap();
    web.set_pds("https://pds.example.com");
    let resolver = network.resolver();
    let doc = resolver.resolve_did(web.did()).await.unwrap();
    assert_eq!(doc.pds(), Some("https://pds.example.com"));

    let err = resolver
        .resolve_did(&did("did:web:nobody.test"))
        .await
        .unwrap_err();
    assert!(matches!(err, IdentityError::DidNotFound { .. }), "{err:?}");

    // Without plain HTTP, a did:web host is asked over HTTPS, which the
    // network does not serve (localhost is plain HTTP whatever the setting:
    // `a_served_did_web_document_resolves`).
    let resolver = network
        .resolver_builder()
        .plain_http(false)
        .build()
        .unwrap();
    assert!(resolver.resolve_did(web.did()).await.is_err());
}

#[tokio::test]
async fn the_cache_keeps_at_most_its_capacity() {
    let network = TestNetwork::start().await.unwrap();
    let dids: Vec<Did> = (0..40)
        .map(|i| {
            let account = network.account(&format!("user{i}.test")).unwrap();
            account.did().clone()
        })
        .collect();
    let resolver = network
        .resolver_builder()
        .cache(Duration::from_secs(3600), 4)
        .build()
        .unwrap();
    for did in &dids {
        resolver.resolve_did(did).await.unwrap();
    }
    // Let the cache's housekeeping run (it runs on access, at intervals).
    tokio::time::sleep(Duration::from_millis(600)).await;
    for _ in 0..3 {
        resolver.cached_did(&dids[0]);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let kept = dids
        .iter()
        .filter(|did| resolver.cached_did(did).is_some())
        .count();
    assert!(kept <= 4, "{kept} documents kept with room for 4");
    // What is not kept is fetched again.
    let requests = || dids.iter().map(|did| network.requests(did)).sum::<usize>();
    let before = requests();
    for did in &dids {
        resolver.resolve_did(did).await.unwrap();
    }
    let after = requests();
    assert!(after - before >= 36, "{} fetched again", after - before);
}

// What the test network does not answer: malformed, ambiguous, oversized,
// slow and redirected answers, from the mocks.

#[tokio::test]
async fn well_known_redirects_are_followed() {
    let mocks = Mocks::start().await;
    mocks.http.set(
        "bob.test",
        "/.well-known/atproto-did",
        Reply::Text("  did:plc:bobbobbobbobbobbobbobbob\n"),
    );
    mocks.http.set(
        "redirect.test",
        "/.well-known/atproto-did",
        Reply::Redirect("http://bob.test/.well-known/atproto-did"),
    );
    assert_eq!(
        mocks
            .resolver()
            .resolve_handle(&handle("redirect.test"))
            .await
            .unwrap(),
        did(BOB)
    );
}

#[tokio::test]
async fn txt_strings_of_one_record_are_joined() {
    let mocks = Mocks::start().await;
    // A TXT record that is not `did=` is not the handle's.
    mocks.dns.txt("_atproto.alice.test", "v=something-else");
    mocks.dns.txt_parts(
        "_atproto.alice.test",
        vec![b"did=did:plc:ewvi7nx", b"zyoun6zhxrhs64oiz"],
    );
    let resolver = mocks.resolver();
    assert_eq!(
        resolver
            .resolve_handle(&handle("alice.test"))
            .await
            .unwrap(),
        did(ALICE)
    );
}

#[tokio::test]
async fn several_dids_in_dns_are_ambiguous() {
    let mocks = Mocks::start().await;
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    );
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:bobbobbobbobbobbobbobbob",
    );
    let err = mocks
        .resolver()
        .resolve_handle(&handle("alice.test"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, IdentityError::AmbiguousHandle { dids, .. } if dids.len() == 2),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_handle_says_what_each_method_found() {
    let mocks = Mocks::start().await;
    mocks.http.set(
        "nobody.test",
        "/.well-known/atproto-did",
        Reply::Text("<html>parked domain</html>"),
    );
    let err = mocks
        .resolver()
        .resolve_handle(&handle("nobody.test"))
        .await
        .unwrap_err();
    let IdentityError::HandleNotFound { dns, https, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(dns.contains("no TXT record"), "{dns}");
    assert!(https.contains("not a DID"), "{https}");
    // The message names both.
    let text = err.to_string();
    assert!(
        text.contains("nobody.test") && text.contains("DNS") && text.contains("HTTPS"),
        "{text}"
    );
}

#[tokio::test]
async fn broken_documents_are_specific_errors() {
    let mocks = Mocks::start().await;
    let resolver = mocks.resolver();

    let mut no_key = document(ALICE, "alice.test");
    no_key["verificationMethod"] = serde_json::json!([]);
    mocks.plc(ALICE, no_key);
    let err = resolver.signing_key(&did(ALICE), true).await.unwrap_err();
    assert!(matches!(err, IdentityError::NoKey { .. }), "{err:?}");

    let mut bad_key = document(ALICE, "alice.test");
    bad_key["verificationMethod"][0]["publicKeyMultibase"] = "zNotAKey".into();
    mocks.plc(ALICE, bad_key);
    let err = resolver.signing_key(&did(ALICE), true).await.unwrap_err();
    assert!(matches!(err, IdentityError::BadKey { .. }), "{err:?}");

    mocks.plc(
        ALICE,
        serde_json::json!({"id": ALICE, "service": "not a list"}),
    );
    let err = resolver.refresh_did(&did(ALICE)).await.unwrap_err();
    assert!(
        matches!(&err, IdentityError::MalformedDocument { reason, .. } if reason.starts_with("service")),
        "{err:?}"
    );

    mocks.plc(ALICE, document(BOB, "bob.test"));
    let err = resolver.refresh_did(&did(ALICE)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::WrongDocument { .. }),
        "{err:?}"
    );

    let err = resolver.resolve_did(&did(BOB)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::DidNotFound { status: 404, .. }),
        "{err:?}"
    );

    mocks
        .http
        .set("127.0.0.1", &format!("/{BOB}"), Reply::Status(503));
    let err = resolver.resolve_did(&did(BOB)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::Http { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());

    mocks.http.set(
        "127.0.0.1",
        &format!("/{BOB}"),
        Reply::Redirect("/did:plc:ewvi7nxzyoun6zhxrhs64oiz"),
    );
    let err = resolver.resolve_did(&did(BOB)).await.unwrap_err();
    assert!(matches!(err, IdentityError::Http { .. }), "{err:?}");
}

#[tokio::test]
async fn a_ten_megabyte_answer_is_refused_without_reading_it() {
    let mocks = Mocks::start().await;
    let resolver = mocks.resolver();
    let ten_mb = 10 * 1024 * 1024;

    mocks
        .http
        .set("127.0.0.1", &format!("/{ALICE}"), Reply::Sized(ten_mb));
    let err = resolver.resolve_did(&did(ALICE)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::TooLarge { limit: 65536, .. }),
        "{err:?}"
    );

    // Without a Content-Length, reading stops at the limit.
    mocks
        .http
        .set("127.0.0.1", &format!("/{ALICE}"), Reply::Streamed(ten_mb));
    let err = resolver.resolve_did(&did(ALICE)).await.unwrap_err();
    assert!(matches!(err, IdentityError::TooLarge { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let streamed = mocks.http.streamed.load(Ordering::SeqCst);
    assert!(
        streamed < ten_mb,
        "the server produced all {streamed} bytes"
    );

    // Same for a handle's well-known file, whose limit is 4 KiB.
    mocks.http.set(
        "big.test",
        "/.well-known/atproto-did",
        Reply::Streamed(ten_mb),
    );
    let err = resolver
        .resolve_handle(&handle("big.test"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, IdentityError::TooLarge { limit: 4096, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_resolver_that_hangs_times_out() {
    let mocks = Mocks::start().await;
    let resolver = mocks.resolver();
    mocks
        .http
        .set("127.0.0.1", &format!("/{ALICE}"), Reply::Hang);
    let started = Instant::now();
    let err = resolver.resolve_did(&did(ALICE)).await.unwrap_err();
    assert!(matches!(err, IdentityError::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5));

    // A DNS server that never answers, and a web server that hangs: the
    // handle does not resolve, each method saying why.
    mocks.dns.hang.store(true, Ordering::SeqCst);
    mocks
        .http
        .set("slow.test", "/.well-known/atproto-did", Reply::Hang);
    let err = resolver
        .resolve_handle(&handle("slow.test"))
        .await
        .unwrap_err();
    let IdentityError::HandleNotFound { dns, https, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(mocks.dns.queries.load(Ordering::SeqCst) > 0);
    assert!(
        dns.contains("no answer") || dns.contains("timed out") || dns.contains("time"),
        "{dns}"
    );
    assert!(https.contains("no answer within"), "{https}");

    // While DNS hangs, HTTPS still answers.
    mocks.http.set(
        "bob.test",
        "/.well-known/atproto-did",
        Reply::Text("did:plc:bobbobbobbobbobbobbobbob"),
    );
    assert_eq!(
        resolver.resolve_handle(&handle("bob.test")).await.unwrap(),
        did(BOB)
    );
}

#[tokio::test]
async fn documents_and_handles_are_cached_for_their_ttl() {
    let mocks = Mocks::start().await;
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    );
    mocks.plc(ALICE, document(ALICE, "alice.test"));
    let path = format!("/{ALICE}");

    let resolver = mocks.resolver();
    for _ in 0..3 {
        resolver.resolve(&identifier("alice.test")).await.unwrap();
    }
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 1);
    let queries = mocks.dns.queries.load(Ordering::SeqCst);
    resolver
        .resolve_handle(&handle("alice.test"))
        .await
        .unwrap();
    assert_eq!(mocks.dns.queries.load(Ordering::SeqCst), queries);

    // A refresh goes to the directory, and the cache keeps what it got.
    resolver.refresh_did(&did(ALICE)).await.unwrap();
    resolver.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 2);

    // Past the TTL, entries are fetched again.
    let short = mocks
        .builder()
        .cache(Duration::from_millis(200), 100)
        .build()
        .unwrap();
    short.resolve_did(&did(ALICE)).await.unwrap();
    short.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 3);
    tokio::time::sleep(Duration::from_millis(400)).await;
    short.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 4);

    // With no cache, every call fetches.
    let none = mocks
        .builder()
        .cache(Duration::from_secs(60), 0)
        .build()
        .unwrap();
    none.resolve_did(&did(ALICE)).await.unwrap();
    none.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 6);
}

/// A service's own `did:web` document, built with `DidDocument`'s `with_*`
/// methods and served at `/.well-known/did.json`, resolves with its key and
/// service entry (`did:web:localhost%3A<port>` is fetched over plain HTTP,
/// as the DID method allows for `localhost`).
#[tokio::test]
async fn a_served_did_web_document_resolves() {
    use atlex::crypto::{Curve, SigningKey};
    use atlex::identity::{DidDocument, FEED_GENERATOR_SERVICE, Resolver};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let did = Did::new(format!("did:web:localhost%3A{port}")).unwrap();
    let key = SigningKey::generate(Curve::K256).unwrap();
    let endpoint = format!("http://localhost:{port}");
    let document = DidDocument::new(&did)
        .with_key("atproto", &key.public_key())
        .with_service(FEED_GENERATOR_SERVICE, &endpoint);
    let json = serde_json::to_vec(&document).unwrap();
    let app = axum::Router::new().route(
        "/.well-known/did.json",
        axum::routing::get(move || {
            let json = json.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    json,
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let resolver = Resolver::new().unwrap();
    let resolved = resolver.resolve_did(&did).await.unwrap();
    assert_eq!(*resolved, document);
    assert_eq!(
        resolver.signing_key(&did, true).await.unwrap(),
        key.public_key()
    );
    let service = resolved
        .service
        .iter()
        .find(|service| service.id == "#bsky_fg")
        .expect("the feed generator's entry");
    assert_eq!(service.kind, "BskyFeedGenerator");
    assert_eq!(service.service_endpoint, serde_json::json!(endpoint));
}
