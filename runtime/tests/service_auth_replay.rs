//! Each service-auth token is accepted once: the verifier refuses a token
//! whose `jti` it accepted before, while the token is valid, across its
//! clones and, with a shared store, across instances.

#![cfg(feature = "service-auth")]

use std::sync::Arc;

use atlex::crypto::{Curve, SigningKey};
use atlex::identity::Resolver;
use atlex::service_auth::{
    Claims, FirstUse, MemoryReplayStore, ReplayStore, ServiceAuthError, ServiceAuthVerifier,
};

const ISSUER: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const SERVICE: &str = "did:web:chat.test#chat";
const LXM: &str = "com.example.whoami";
const NOW: u64 = 1_000_000;

fn verifier() -> ServiceAuthVerifier {
    // Nothing is resolved: the checks take the key.
    let resolver = Resolver::builder()
        .plc_directory("http://127.0.0.1:9")
        .build()
        .unwrap();
    ServiceAuthVerifier::new(resolver, SERVICE)
}

fn token(key: &SigningKey, jti: Option<&str>) -> String {
    token_from(key, ISSUER, jti, NOW)
}

/// A token of `iss`, issued at `iat` for a minute.
fn token_from(key: &SigningKey, iss: &str, jti: Option<&str>, iat: u64) -> String {
    Claims {
        iss: iss.to_owned(),
        aud: SERVICE.to_owned(),
        iat: Some(iat),
        exp: iat + 60,
        lxm: Some(LXM.to_owned()),
        jti: jti.map(str::to_owned),
    }
    .sign(key)
}

#[tokio::test]
async fn a_token_is_accepted_once_while_valid() {
    let key = SigningKey::generate(Curve::K256).unwrap();
    let verifier = verifier();
    let public = key.public_key();
    let first = token(&key, Some("a1"));
    verifier
        .verify_with_key(&first, Some(LXM), &public, NOW)
        .await
        .unwrap();
    // Again, and through a clone of the verifier (one per request handler).
    for v in [&verifier, &verifier.clone()] {
        let err = v
            .verify_with_key(&first, Some(LXM), &public, NOW + 1)
            .await
            .unwrap_err();
        assert_eq!(err, ServiceAuthError::Replayed { jti: "a1".into() });
        assert_eq!((err.name(), err.status()), ("BadJwt", 401));
    }
    // Another token of the same issuer is new; the same `jti` from another
    // issuer is another token.
    verifier
        .verify_with_key(&token(&key, Some("a2")), Some(LXM), &public, NOW)
        .await
        .unwrap();
    let bob = token_from(&key, "did:plc:bobbobbobbobbobbobbobbob", Some("a1"), NOW);
    verifier
        .verify_with_key(&bob, Some(LXM), &public, NOW)
        .await
        .unwrap();
    // A token that fails a check is not remembered: its `jti` stays usable.
    let other = SigningKey::generate(Curve::K256).unwrap();
    let forged = token(&other, Some("a3"));
    let err = verifier
        .verify_with_key(&forged, Some(LXM), &public, NOW)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "BadJwtSignature");
    verifier
        .verify_with_key(&token(&key, Some("a3")), Some(LXM), &public, NOW)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_without_jti_is_refused_unless_replays_are_allowed() {
    let key = SigningKey::generate(Curve::P256).unwrap();
    let bare = token(&key, None);
    let err = verifier()
        .verify_with_key(&bare, Some(LXM), &key.public_key(), NOW)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "BadJwt");
    let open = verifier().allow_replays();
    for _ in 0..2 {
        open.verify_with_key(&bare, Some(LXM), &key.public_key(), NOW)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn instances_sharing_a_store_accept_a_token_once_between_them() {
    /// A store two verifiers share, as instances of a service share a
    /// database table.
    #[derive(Clone, Default)]
    struct Shared(Arc<MemoryReplayStore>);
    impl ReplayStore for Shared {
        fn first_use<'a>(&'a self, id: &'a str, expires: u64, now: u64) -> FirstUse<'a> {
            self.0.first_use(id, expires, now)
        }
    }
    let shared = Shared::default();
    let (one, two) = (
        verifier().replay_store(shared.clone()),
        verifier().replay_store(shared.clone()),
    );
    let key = SigningKey::generate(Curve::K256).unwrap();
    let t = token(&key, Some("b1"));
    one.verify_with_key(&t, Some(LXM), &key.public_key(), NOW)
        .await
        .unwrap();
    let err = two
        .verify_with_key(&t, Some(LXM), &key.public_key(), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceAuthError::Replayed { .. }), "{err}");
    assert_eq!(shared.0.len(), 1);
}

#[tokio::test]
async fn a_full_or_failing_store_refuses_rather_than_forgets() {
    let key = SigningKey::generate(Curve::K256).unwrap();
    let small = verifier().replay_store(MemoryReplayStore::new(1));
    small
        .verify_with_key(&token(&key, Some("c1")), Some(LXM), &key.public_key(), NOW)
        .await
        .unwrap();
    let err = small
        .verify_with_key(&token(&key, Some("c2")), Some(LXM), &key.public_key(), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceAuthError::ReplayCheck(_)), "{err}");
    assert_eq!((err.name(), err.status()), ("UpstreamFailure", 502));
    // Once the first has expired (60 s and the 10 s leeway), there is room
    // again.
    let later = token_from(&key, ISSUER, Some("c2"), NOW + 71);
    small
        .verify_with_key(&later, Some(LXM), &key.public_key(), NOW + 71)
        .await
        .unwrap();

    struct Down;
    impl ReplayStore for Down {
        fn first_use<'a>(&'a self, _: &'a str, _: u64, _: u64) -> FirstUse<'a> {
            Box::pin(async { Err("connection refused".into()) })
        }
    }
    let err = verifier()
        .replay_store(Down)
        .verify_with_key(&token(&key, Some("d1")), Some(LXM), &key.public_key(), NOW)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "UpstreamFailure: cannot check the token against replays: connection refused"
    );
}
