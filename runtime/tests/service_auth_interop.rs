//! Service-auth JWTs across implementations, from checked-in files of
//! `tests/interop/service-auth/`:
//!
//! - `ts-minted.json`: tokens the reference TypeScript implementation
//!   (`@atproto/xrpc-server` `createServiceJwt`) minted with fixed test keys
//!   (`mint.mjs` wrote it); atlex must verify each.
//! - `atlex-minted.json`: tokens atlex mints from fixed claims with the same
//!   keys; signing is deterministic (RFC 6979), so the file must match what
//!   atlex makes now. `verify.mjs` checks them with the reference
//!   `verifyJwt`. `ATLEX_WRITE_FIXTURES=1` rewrites the file.

#![cfg(feature = "service-auth")]

use std::path::PathBuf;

use atlex::crypto::{Curve, PublicKey, SigningKey};
use atlex::identity::Resolver;
use atlex::service_auth::{Claims, ServiceAuthVerifier};
use serde::{Deserialize, Serialize};

const AUDIENCE: &str = "did:web:chat.example.com#bsky_chat";
const LXM: &str = "chat.bsky.convo.listConvos";
/// The keys `mint.mjs` uses: the first of the interop vectors'
/// `w3c_didkey_K256.json` and the one of `w3c_didkey_P256.json`.
const K256_KEY: &str = "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";
const P256_KEY: &str = "82ebbd63ebbd9ff60141a69bd4c9be282f2415e8eafa9d42c0ed396daccca979";
const P256_DID_KEY: &str = "did:key:zDnaeTiq1PdzvZXUaMdezchcMJQpBdH2VN4pgrrEhMCCbmwSb";

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    alg: String,
    did_key: String,
    iss: String,
    aud: String,
    lxm: Option<String>,
    iat: u64,
    exp: u64,
    jwt: String,
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop/service-auth")
        .join(name)
}

fn verifier() -> ServiceAuthVerifier {
    // Nothing is resolved: every check uses the key of the case.
    let resolver = Resolver::builder()
        .plc_directory("http://127.0.0.1:9")
        .build()
        .unwrap();
    // The cases are verified several times over (for other endpoints, with
    // other keys): replays are the subject of other tests.
    ServiceAuthVerifier::new(resolver, AUDIENCE).allow_replays()
}

#[tokio::test]
async fn tokens_minted_by_the_reference_implementation_verify() {
    let text = std::fs::read_to_string(path("ts-minted.json")).unwrap();
    let cases: Vec<Case> = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.len(), 4);
    let verifier = verifier();
    for case in &cases {
        let key = PublicKey::from_did_key(&case.did_key).unwrap();
        assert_eq!(key.jwt_alg(), case.alg);
        let now = case.iat + 30;
        let verified = verifier
            .verify_with_key(&case.jwt, case.lxm.as_deref(), &key, now)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", case.alg));
        assert_eq!(verified.issuer.as_str(), case.iss);
        assert_eq!(verified.claims.aud, case.aud);
        assert_eq!(verified.claims.lxm, case.lxm);
        assert_eq!(verified.claims.iat, Some(case.iat));
        assert_eq!(verified.claims.exp, case.exp);
        assert_eq!(verified.claims.jti.as_ref().map(String::len), Some(32));
        // The endpoint is checked: only the tokens for listConvos pass for
        // it (a token without lxm does not).
        let for_lxm = verifier
            .verify_with_key(&case.jwt, Some(LXM), &key, now)
            .await;
        assert_eq!(
            for_lxm.is_ok(),
            case.lxm.as_deref() == Some(LXM),
            "{}",
            case.alg
        );
        // Another key does not verify it.
        let other = SigningKey::generate(key.curve()).unwrap().public_key();
        let err = verifier
            .verify_with_key(&case.jwt, case.lxm.as_deref(), &other, now)
            .await
            .unwrap_err();
        assert_eq!(err.name(), "BadJwtSignature");
    }
    // The reference implementation derives the same public keys from the
    // test keys as atlex does.
    let k256 = SigningKey::from_hex(Curve::K256, K256_KEY)
        .unwrap()
        .public_key();
    let p256 = SigningKey::from_hex(Curve::P256, P256_KEY)
        .unwrap()
        .public_key();
    assert_eq!(p256.to_did_key(), P256_DID_KEY);
    assert!(cases.iter().any(|c| c.did_key == k256.to_did_key()));
    assert!(cases.iter().any(|c| c.did_key == p256.to_did_key()));
}

/// What atlex mints for the fixed claims.
fn atlex_minted() -> Vec<Case> {
    let mut cases = Vec::new();
    for (curve, hex) in [(Curve::K256, K256_KEY), (Curve::P256, P256_KEY)] {
        let key = SigningKey::from_hex(curve, hex).unwrap();
        for lxm in [Some(LXM), None] {
            let claims = Claims {
                iat: Some(1_700_000_000),
                iss: "did:plc:ewvi7nxzyoun6zhxrhs64oiz".to_owned(),
                aud: AUDIENCE.to_owned(),
                exp: 4_102_444_800,
                lxm: lxm.map(str::to_owned),
                jti: Some(format!("atlex-interop-{}-{}", curve, lxm.is_some())),
            };
            cases.push(Case {
                alg: curve.jwt_alg().to_owned(),
                did_key: key.public_key().to_did_key(),
                iss: claims.iss.clone(),
                aud: claims.aud.clone(),
                lxm: claims.lxm.clone(),
                iat: 1_700_000_000,
                exp: claims.exp,
                jwt: claims.sign(&key),
            });
        }
    }
    cases
}

#[tokio::test]
async fn tokens_minted_by_atlex_match_the_checked_in_file() {
    let made = atlex_minted();
    let file = path("atlex-minted.json");
    if std::env::var_os("ATLEX_WRITE_FIXTURES").is_some() {
        let text = serde_json::to_string_pretty(&made).unwrap() + "\n";
        std::fs::write(&file, text).unwrap();
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let checked_in: Vec<Case> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        checked_in, made,
        "atlex-minted.json is not what atlex mints (ATLEX_WRITE_FIXTURES=1 rewrites it; then run verify.mjs)"
    );
    // And atlex verifies its own.
    let verifier = verifier();
    for case in &made {
        let key = PublicKey::from_did_key(&case.did_key).unwrap();
        verifier
            .verify_with_key(&case.jwt, case.lxm.as_deref(), &key, case.iat)
            .await
            .unwrap();
    }
}
