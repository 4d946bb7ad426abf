//! Service-auth tokens: made with `ServiceToken`, checked by
//! `ServiceAuthVerifier` against keys the PLC directory of the test identity
//! network publishes (`identity::testkit`), directly and as the router's
//! authenticator.

#![cfg(all(feature = "service-auth", feature = "server", feature = "testkit"))]

use std::sync::Arc;
use std::time::Duration;

use atlex::crypto::{Curve, SigningKey};
use atlex::error::{CommonError, ServiceAuthRejection};
use atlex::identity::DidDocument;
use atlex::identity::testkit::{Account, HandleMethod, TestNetwork};
use atlex::server::XrpcRouter;
use atlex::service::{HandlerResult, Registry, Request};
use atlex::service_auth::{Claims, ServiceAuthError, ServiceAuthVerifier, ServiceToken, Verified};
use atlex::types::Did;
use atlex::xrpc::Endpoint;
use base64::Engine as _;
use tower::ServiceExt as _;

const SERVICE: &str = "did:web:chat.test#chat";
const LXM: &str = "com.example.whoami";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A DID the directory does not know.
const BOB: &str = "did:plc:bobbobbobbobbobbobbobbob";

fn claims(alice: &Account, lxm: Option<&str>) -> Claims {
    Claims {
        iat: Some(now()),
        iss: alice.did().to_string(),
        aud: SERVICE.to_owned(),
        exp: now() + 60,
        lxm: lxm.map(str::to_owned),
        jti: Some(fresh_jti()),
    }
}

/// A `jti` no other token of the test run has.
fn fresh_jti() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "jti-{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A token with this header and claims, signed by `key` as given.
fn token_with(header: serde_json::Value, claims: &Claims, key: &SigningKey) -> String {
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(&serde_json::to_vec(claims).unwrap())
    );
    let signature = key.sign(signed.as_bytes());
    format!("{signed}.{}", b64(&signature))
}

/// The network, alice (with a key on `curve`) and her signing key, and a
/// verifier resolving from the network.
struct Setup {
    network: TestNetwork,
    alice: Account,
    key: SigningKey,
    verifier: ServiceAuthVerifier,
}

async fn setup(curve: Curve) -> Setup {
    let network = TestNetwork::start().await.unwrap();
    let alice = network
        .account_with("alice.test", curve, &[HandleMethod::Dns])
        .unwrap();
    let key = alice.signing_key().clone();
    let verifier = ServiceAuthVerifier::new(network.resolver(), SERVICE);
    Setup {
        network,
        alice,
        key,
        verifier,
    }
}

#[tokio::test]
async fn minted_tokens_verify_on_both_curves() {
    for curve in [Curve::K256, Curve::P256] {
        let Setup {
            network: _network,
            alice,
            key,
            verifier,
        } = setup(curve).await;
        let token = ServiceToken::new(alice.did(), SERVICE)
            .lxm(LXM)
            .sign(&key)
            .unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&unb64(token.split('.').next().unwrap())).unwrap();
        assert_eq!(header["alg"], curve.jwt_alg());
        assert_eq!(header["typ"], "JWT");

        let verified = verifier.verify(&token, Some(LXM)).await.unwrap();
        assert_eq!(verified.issuer, alice.did().clone());
        assert_eq!(verified.key_id, "atproto");
        let claims = verified.claims;
        assert_eq!(claims.aud, SERVICE);
        assert_eq!(claims.lxm.as_deref(), Some(LXM));
        let (iat, exp) = (claims.iat.unwrap(), claims.exp);
        assert_eq!(exp - iat, 60);
        assert_eq!(claims.jti.as_ref().map(String::len), Some(32));
    }
}

#[tokio::test]
async fn each_bad_token_has_its_error() {
    let Setup {
        network,
        alice,
        key,
        verifier,
    } = setup(Curve::K256).await;
    let jwt = serde_json::json!({"typ": "JWT", "alg": "ES256K"});
    let name = |result: Result<Verified, ServiceAuthError>| result.unwrap_err().name();

    // A forged signature: another key signs for alice.
    let forger = SigningKey::generate(Curve::K256).unwrap();
    let forged = token_with(jwt.clone(), &claims(&alice, Some(LXM)), &forger);
    assert_eq!(
        name(verifier.verify(&forged, Some(LXM)).await),
        "BadJwtSignature"
    );

    let mut wrong_aud = claims(&alice, Some(LXM));
    wrong_aud.aud = "did:web:other.test#chat".to_owned();
    let err = verifier
        .verify(&token_with(jwt.clone(), &wrong_aud, &key), Some(LXM))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServiceAuthError::BadAudience { found, .. } if found == "did:web:other.test#chat")
    );
    assert_eq!(err.name(), "BadJwtAudience");

    let wrong_lxm = token_with(
        jwt.clone(),
        &claims(&alice, Some("com.example.other")),
        &key,
    );
    assert_eq!(
        name(verifier.verify(&wrong_lxm, Some(LXM)).await),
        "BadJwtLexiconMethod"
    );
    let no_lxm = token_with(jwt.clone(), &claims(&alice, None), &key);
    assert_eq!(
        name(verifier.verify(&no_lxm, Some(LXM)).await),
        "BadJwtLexiconMethod"
    );
    let lenient = verifier.clone().require_lxm(false);
    assert!(lenient.verify(&no_lxm, Some(LXM)).await.is_ok());
    assert_eq!(
        name(lenient.verify(&wrong_lxm, Some(LXM)).await),
        "BadJwtLexiconMethod"
    );

    let mut expired = claims(&alice, Some(LXM));
    expired.exp = now() - 60;
    expired.iat = Some(now() - 120);
    let err = verifier
        .verify(&token_with(jwt.clone(), &expired, &key), Some(LXM))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceAuthError::Expired { .. }), "{err:?}");
    assert_eq!(err.name(), "JwtExpired");
    // Within the leeway, a token just past its expiry still passes.
    let mut just_expired = claims(&alice, Some(LXM));
    just_expired.exp = now() - 2;
    assert!(
        verifier
            .verify(&token_with(jwt.clone(), &just_expired, &key), Some(LXM))
            .await
            .is_ok()
    );

    let mut future = claims(&alice, Some(LXM));
    future.iat = Some(now() + 3600);
    future.exp = now() + 3660;
    let err = verifier
        .verify(&token_with(jwt.clone(), &future, &key), Some(LXM))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceAuthError::NotYetValid { .. }),
        "{err:?}"
    );

    let mut bad_iss = claims(&alice, Some(LXM));
    bad_iss.iss = "alice.test".to_owned();
    assert_eq!(
        name(
            verifier
                .verify(&token_with(jwt.clone(), &bad_iss, &key), Some(LXM))
                .await
        ),
        "BadJwtIss"
    );

    let at_jwt = token_with(
        serde_json::json!({"typ": "at+jwt", "alg": "ES256K"}),
        &claims(&alice, Some(LXM)),
        &key,
    );
    assert_eq!(
        name(verifier.verify(&at_jwt, Some(LXM)).await),
        "BadJwtType"
    );

    // The header says P-256, the issuer's key is k256.
    let wrong_alg = token_with(
        serde_json::json!({"typ": "JWT", "alg": "ES256"}),
        &claims(&alice, Some(LXM)),
        &key,
    );
    assert_eq!(
        name(verifier.verify(&wrong_alg, Some(LXM)).await),
        "BadJwtSignature"
    );

    // A key id the service does not accept.
    let label_key = token_with(
        serde_json::json!({"typ": "JWT", "alg": "ES256K", "kid": "#atproto_label"}),
        &claims(&alice, Some(LXM)),
        &key,
    );
    assert_eq!(
        name(verifier.verify(&label_key, Some(LXM)).await),
        "BadJwtSignature"
    );

    for malformed in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.e30.sig",
        &format!("{}.{}.", b64(b"not json"), b64(b"{}")),
        &format!(
            "{}.{}.",
            b64(br#"{"alg":"ES256K"}"#),
            b64(br#"{"iss":"did:plc:x"}"#)
        ),
        &format!(
            "{}.{}.",
            b64(br#"{"alg":"ES256K"}"#),
            b64(br#"{"iss":"did:plc:x","aud":"a","exp":1.5}"#)
        ),
    ] {
        let err = verifier.verify(malformed, Some(LXM)).await.unwrap_err();
        assert_eq!(err.name(), "BadJwt", "{malformed:?}: {err:?}");
    }
    // None of the tokens refused before the signature needed the directory
    // (the forged one, the lenient ones and the key-id one did).
    let hits = network.requests(alice.did());
    let err = verifier.verify(&at_jwt, Some(LXM)).await.unwrap_err();
    assert_eq!(err.name(), "BadJwtType");
    assert_eq!(network.requests(alice.did()), hits);
}

#[tokio::test]
async fn alg_none_is_refused_without_resolving() {
    let Setup {
        network,
        alice,
        verifier,
        key: _,
    } = setup(Curve::K256).await;
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64(&serde_json::to_vec(&claims(&alice, Some(LXM))).unwrap());
    for token in [
        format!("{header}.{body}."),
        format!("{header}.{body}.{}", b64(&[0; 64])),
    ] {
        let err = verifier.verify(&token, Some(LXM)).await.unwrap_err();
        assert_eq!(err.name(), "BadJwtSignature", "{err}");
        assert!(err.to_string().contains("\"none\""), "{err}");
    }
    assert_eq!(network.requests(alice.did()), 0);
}

#[tokio::test]
async fn malleable_and_der_signatures_are_refused() {
    let Setup {
        network: _network,
        alice,
        key,
        verifier,
    } = setup(Curve::K256).await;
    let token = ServiceToken::new(alice.did(), SERVICE)
        .lxm(LXM)
        .sign(&key)
        .unwrap();
    assert!(verifier.verify(&token, Some(LXM)).await.is_ok());
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = k256::ecdsa::Signature::from_slice(&unb64(signature)).unwrap();

    // The high-S twin: (r, n - s), valid for plain ECDSA.
    let (r, s) = signature.split_scalars();
    let twin = k256::ecdsa::Signature::from_scalars(*r, -*s).unwrap();
    let high_s = format!("{signed}.{}", b64(&twin.to_bytes()));
    let err = verifier.verify(&high_s, Some(LXM)).await.unwrap_err();
    assert_eq!(err.name(), "BadJwtSignature");
    assert!(err.to_string().contains("high-S"), "{err}");

    let der = format!("{signed}.{}", b64(signature.to_der().as_bytes()));
    let err = verifier.verify(&der, Some(LXM)).await.unwrap_err();
    assert_eq!(err.name(), "BadJwtSignature");
    assert!(err.to_string().contains("DER"), "{err}");
}

#[tokio::test]
async fn audiences_with_and_without_the_service_fragment() {
    let Setup {
        network: _network,
        alice,
        key,
        verifier,
    } = setup(Curve::P256).await;
    let bare = ServiceToken::new(alice.did(), "did:web:chat.test")
        .lxm(LXM)
        .sign(&key)
        .unwrap();
    assert!(verifier.verify(&bare, Some(LXM)).await.is_ok());
    let strict = verifier.clone().accept_bare_did(false);
    assert_eq!(
        strict.verify(&bare, Some(LXM)).await.unwrap_err().name(),
        "BadJwtAudience"
    );
    // Another service of the same DID is another audience.
    let other = ServiceToken::new(alice.did(), "did:web:chat.test#other")
        .lxm(LXM)
        .sign(&key)
        .unwrap();
    assert_eq!(
        verifier.verify(&other, Some(LXM)).await.unwrap_err().name(),
        "BadJwtAudience"
    );
}

#[tokio::test]
async fn a_rotated_key_is_re_resolved_once() {
    let Setup {
        network,
        alice,
        key,
        verifier,
    } = setup(Curve::K256).await;
    let mint = |key: &SigningKey| {
        ServiceToken::new(alice.did(), SERVICE)
            .lxm(LXM)
            .sign(key)
            .unwrap()
    };
    verifier.verify(&mint(&key), Some(LXM)).await.unwrap();
    verifier.verify(&mint(&key), Some(LXM)).await.unwrap();
    assert_eq!(network.requests(alice.did()), 1, "the key is cached");

    // Alice rotates to a P-256 key: the cached key fails, a fresh
    // resolution finds the new one.
    let rotated = SigningKey::generate(Curve::P256).unwrap();
    alice.set_key("atproto", &rotated.public_key());
    verifier.verify(&mint(&rotated), Some(LXM)).await.unwrap();
    assert_eq!(network.requests(alice.did()), 2);
    verifier.verify(&mint(&rotated), Some(LXM)).await.unwrap();
    assert_eq!(network.requests(alice.did()), 2, "the new key is cached");

    // A forgery costs one fresh resolution, then fails.
    let forger = SigningKey::generate(Curve::P256).unwrap();
    let err = verifier
        .verify(&mint(&forger), Some(LXM))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "BadJwtSignature");
    assert_eq!(network.requests(alice.did()), 3);
}

#[tokio::test]
async fn issuers_that_do_not_resolve() {
    let Setup {
        network,
        alice,
        key,
        verifier,
    } = setup(Curve::K256).await;
    let mut from_bob = claims(&alice, Some(LXM));
    from_bob.iss = BOB.to_owned();
    let token = from_bob.sign(&key);
    // Unknown to the directory.
    let err = verifier.verify(&token, Some(LXM)).await.unwrap_err();
    assert_eq!((err.name(), err.status()), ("BadJwtIss", 401), "{err}");
    // A document without a key.
    let bob = Did::new(BOB).unwrap();
    network.publish(DidDocument::new(&bob)).unwrap();
    let err = verifier.verify(&token, Some(LXM)).await.unwrap_err();
    assert_eq!(err.name(), "BadJwtIss");
    assert!(err.to_string().contains("#atproto"), "{err}");
    // A directory that fails: the token may be fine, the service cannot tell.
    network.fail_did(&bob, 503).unwrap();
    let err = verifier.verify(&token, Some(LXM)).await.unwrap_err();
    assert_eq!(
        (err.name(), err.status()),
        ("UpstreamFailure", 502),
        "{err}"
    );
}

#[tokio::test]
async fn fixed_keys_verify_without_resolution() {
    let key = SigningKey::generate(Curve::K256).unwrap();
    let resolver = atlex::identity::Resolver::builder()
        .plc_directory("http://127.0.0.1:9")
        .build()
        .unwrap();
    let verifier = ServiceAuthVerifier::new(resolver, SERVICE);
    let fixed = Claims {
        iat: Some(1_000),
        iss: BOB.to_owned(),
        aud: SERVICE.to_owned(),
        exp: 1_060,
        lxm: Some(LXM.to_owned()),
        jti: Some(fresh_jti()),
    };
    let token = fixed.sign(&key);
    let verified = verifier
        .verify_with_key(&token, Some(LXM), &key.public_key(), 1_030)
        .await
        .unwrap();
    assert_eq!(verified.claims, fixed);
    let err = verifier
        .verify_with_key(&token, Some(LXM), &key.public_key(), 2_000)
        .await
        .unwrap_err();
    assert_eq!(err.name(), "JwtExpired");
}

// The router, with the verifier as its authenticator.

/// What both endpoints below answer: the caller and the token's claims.
#[derive(Debug, atlex::rt::Object)]
struct Caller {
    did: Option<String>,
    jti: Option<String>,
    /// The verified token's claims, when there was one.
    claims: Option<Claims>,
}

/// Module `$module`, as generated for query `$nsid` that answers a
/// [`Caller`]: the descriptor `$name` and its parts.
macro_rules! caller_endpoint {
    ($module:ident :: $name:ident = $nsid:tt) => {
        mod $module {
            pub(crate) use super::Caller as Output;

            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
            #[lex(query = $nsid, output = "application/json")]
            pub(crate) struct $name;

            pub(crate) type Error = atlex::rt::UndeclaredError;
        }

        use $module::$name;
    };
}

// The endpoint tokens are minted for, and a second one answering the same,
// for tokens bound to one endpoint.
caller_endpoint!(whoami::Whoami = "com.example.whoami");
caller_endpoint!(whois::Whois = "com.example.whois");

const OTHER_LXM: &str = "com.example.whois";

fn caller<E>(request: Request<E>) -> Caller
where
    E: Endpoint,
{
    let claims = request
        .context
        .extensions
        .get::<Verified>()
        .map(|verified| verified.claims.clone());
    Caller {
        did: request.context.caller.map(|did| did.to_string()),
        jti: claims.as_ref().and_then(|claims| claims.jti.clone()),
        claims,
    }
}

fn register<R: Registry<()>>(registry: &mut R) {
    registry.add::<Whoami, _, _>(|_: Arc<()>, request: Request<Whoami>| async move {
        HandlerResult::<Whoami>::Ok(caller(request))
    });
    registry.add::<Whois, _, _>(|_: Arc<()>, request: Request<Whois>| async move {
        HandlerResult::<Whois>::Ok(caller(request))
    });
}

async fn call(app: &axum::Router, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = http::Request::get(format!("/xrpc/{LXM}"));
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    let response = app
        .clone()
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn the_router_names_the_issuer_as_caller() {
    let Setup {
        network: _network,
        alice,
        key,
        verifier,
    } = setup(Curve::K256).await;
    let app = XrpcRouter::new(())
        .mount(register)
        .authenticator(verifier)
        .into_router();

    let token = ServiceToken::new(alice.did(), SERVICE)
        .lxm(LXM)
        .sign(&key)
        .unwrap();
    let (status, body) = call(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["did"], alice.did().as_str());
    assert_eq!(body["jti"].as_str().map(str::len), Some(32));

    let (status, body) = call(&app, None).await;
    assert_eq!((status, &body["did"]), (200, &serde_json::Value::Null));

    let wrong = ServiceToken::new(alice.did(), SERVICE)
        .lxm("com.example.other")
        .sign(&key)
        .unwrap();
    let (status, body) = call(&app, Some(&format!("Bearer {wrong}"))).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "BadJwtLexiconMethod");
    assert!(body["message"].as_str().unwrap().contains(LXM), "{body}");

    let (status, body) = call(&app, Some("Basic YWxpY2U6cGFzcw==")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("BadJwt")));

    let (status, body) = call(&app, Some("Bearer x.y.z")).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("BadJwt")));

    let forger = SigningKey::generate(Curve::K256).unwrap();
    let forged = ServiceToken::new(alice.did(), SERVICE)
        .lxm(LXM)
        .sign(&forger)
        .unwrap();
    let (status, body) = call(&app, Some(&format!("Bearer {forged}"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("BadJwtSignature"))
    );

    let mut expired = ServiceToken::new(alice.did(), SERVICE)
        .lxm(LXM)
        .lifetime(Duration::from_secs(0))
        .claims()
        .unwrap();
    expired.exp = now() - 3600;
    let (status, body) = call(&app, Some(&format!("Bearer {}", expired.sign(&key)))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("JwtExpired")));
}

/// A service calling another: the client mints a token per call, bound to
/// the endpoint called, which the verifier (resolving the issuer's key from
/// the mock PLC directory) accepts.
#[cfg(feature = "client")]
#[tokio::test]
async fn a_client_mints_a_token_per_call() {
    let Setup {
        network,
        alice,
        key,
        verifier,
    } = setup(Curve::P256).await;
    let app = XrpcRouter::new(())
        .mount(register)
        .authenticator(verifier)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = atlex::client::Client::builder(&base)
        .service_auth(alice.did().clone(), key, SERVICE)
        .build()
        .unwrap();
    let first = client.query(Whoami, &()).await.unwrap();
    let second = client.query(Whoami, &()).await.unwrap();
    let other = client.query(Whois, &()).await.unwrap();
    for (answer, lxm) in [(&first, LXM), (&second, LXM), (&other, OTHER_LXM)] {
        assert_eq!(answer.did.as_deref(), Some(alice.did().as_str()));
        let claims = answer.claims.as_ref().expect("a verified token");
        assert_eq!(claims.iss, alice.did().as_str());
        assert_eq!(claims.aud, SERVICE);
        assert_eq!(
            claims.lxm.as_deref(),
            Some(lxm),
            "bound to the endpoint called"
        );
        let iat = claims.iat.expect("iat");
        assert!(iat.abs_diff(now()) <= 5, "made now: iat {iat}");
        assert_eq!(claims.exp - iat, 60, "valid for a minute");
    }
    assert_ne!(first.jti, second.jti, "each call has its own token");
    assert_eq!(
        network.requests(alice.did()),
        1,
        "the issuer's document was resolved once"
    );

    let stranger = atlex::client::Client::builder(&base)
        .service_auth(
            alice.did().clone(),
            SigningKey::generate(Curve::P256).unwrap(),
            SERVICE,
        )
        .build()
        .unwrap();
    let err = stranger.query(Whoami, &()).await.unwrap_err();
    assert_eq!(err.error_name(), Some("BadJwtSignature"));
    assert!(
        matches!(
            err,
            atlex::client::Error::Common {
                status: 401,
                error: CommonError::ServiceAuth {
                    rejection: ServiceAuthRejection::BadJwtSignature,
                    ..
                },
            }
        ),
        "a typed common error: {err:?}"
    );

    let elsewhere = atlex::client::Client::builder(&base)
        .service_auth(
            alice.did().clone(),
            SigningKey::generate(Curve::P256).unwrap(),
            "did:web:other.test#chat",
        )
        .build()
        .unwrap();
    let err = elsewhere.query(Whois, &()).await.unwrap_err();
    assert_eq!(err.error_name(), Some("BadJwtAudience"));
    assert!(
        matches!(
            err,
            atlex::client::Error::Common {
                error: CommonError::ServiceAuth {
                    rejection: ServiceAuthRejection::BadJwtAudience,
                    ..
                },
                ..
            }
        ),
        "a typed common error: {err:?}"
    );
}
