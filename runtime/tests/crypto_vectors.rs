//! `atlex::crypto` against the atproto interop crypto vectors.
//!
//! `tests/vectors/crypto/` holds byte-identical copies of the interop files
//! `signature-fixtures.json` (ES256 and ES256K signatures over one message,
//! valid ones and the high-S and DER-encoded ones atproto refuses) and
//! `w3c_didkey_K256.json` / `w3c_didkey_P256.json` (private keys and the
//! `did:key` of their public keys).

#![cfg(feature = "crypto")]

use std::path::PathBuf;

use atlex::crypto::{Curve, KeyError, PublicKey, SignatureError, SigningKey};
use base64::Engine as _;
use serde::Deserialize;

fn read(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/crypto")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureCase {
    comment: String,
    message_base64: String,
    algorithm: String,
    did_doc_suite: String,
    public_key_did: String,
    public_key_multibase: String,
    signature_base64: String,
    valid_signature: bool,
    tags: Vec<String>,
}

/// The interop files encode bytes as unpadded standard base64.
fn base64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn signature_fixtures() {
    let cases: Vec<SignatureCase> = serde_json::from_str(&read("signature-fixtures.json")).unwrap();
    // Counted by hand from the file, so that a reader bug cannot make the
    // test check nothing: 2 valid, 2 high-S, 2 DER-encoded.
    assert_eq!(cases.len(), 6);
    let mut tags = Vec::new();
    for case in &cases {
        let context = &case.comment;
        let key = PublicKey::from_did_key(&case.public_key_did)
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        let curve = Curve::from_jwt_alg(&case.algorithm).expect(context);
        assert_eq!(key.curve(), curve, "{context}");
        assert_eq!(key.jwt_alg(), case.algorithm, "{context}");
        assert_eq!(key.to_did_key(), case.public_key_did, "{context}");

        // The same key in the deprecated verification-method form, named by
        // its suite.
        let suite = Curve::from_legacy_method_type(&case.did_doc_suite).expect(context);
        assert_eq!(suite, curve, "{context}");
        let legacy = PublicKey::from_legacy_multibase(suite, &case.public_key_multibase)
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(legacy, key, "{context}");

        let message = base64(&case.message_base64);
        let signature = base64(&case.signature_base64);
        let result = key.verify(&message, &signature);
        if case.valid_signature {
            assert_eq!(result, Ok(()), "{context}");
        } else if case.tags.iter().any(|t| t == "high-s") {
            assert_eq!(result, Err(SignatureError::HighS), "{context}");
        } else if case.tags.iter().any(|t| t == "der-encoded") {
            assert!(
                matches!(result, Err(SignatureError::Length(n)) if n != 64),
                "{context}: {result:?}"
            );
        } else {
            panic!(
                "{context}: an invalid case with no known tag: {:?}",
                case.tags
            );
        }
        tags.extend(case.tags.iter().cloned());
    }
    tags.sort();
    assert_eq!(tags, ["der-encoded", "der-encoded", "high-s", "high-s"]);
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct K256Case {
    private_key_bytes_hex: String,
    public_did_key: String,
}

#[test]
fn did_key_k256() {
    let cases: Vec<K256Case> = serde_json::from_str(&read("w3c_didkey_K256.json")).unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let key = SigningKey::from_hex(Curve::K256, &case.private_key_bytes_hex).unwrap();
        let public = key.public_key();
        assert_eq!(public.to_did_key(), case.public_did_key);
        let parsed: PublicKey = case.public_did_key.parse().unwrap();
        assert_eq!(parsed, public);
        let signature = key.sign(b"atlex");
        assert_eq!(parsed.verify(b"atlex", &signature), Ok(()));
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct P256Case {
    private_key_bytes_base58: String,
    public_did_key: String,
}

#[test]
fn did_key_p256() {
    let cases: Vec<P256Case> = serde_json::from_str(&read("w3c_didkey_P256.json")).unwrap();
    assert_eq!(cases.len(), 1);
    for case in cases {
        // Multibase with the base58btc prefix, to reuse its decoder.
        let (_, bytes) = multibase::decode(format!("z{}", case.private_key_bytes_base58)).unwrap();
        let key = SigningKey::from_bytes(Curve::P256, &bytes).unwrap();
        let public = key.public_key();
        assert_eq!(public.to_did_key(), case.public_did_key);
        assert_eq!(case.public_did_key.parse::<PublicKey>().unwrap(), public);
    }
}

#[test]
fn a_key_of_one_curve_does_not_verify_the_other() {
    let k256 = SigningKey::from_bytes(Curve::K256, &[3; 32]).unwrap();
    let p256 = SigningKey::from_bytes(Curve::P256, &[3; 32]).unwrap();
    let signature = k256.sign(b"m");
    assert_eq!(
        p256.public_key().verify(b"m", &signature),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        PublicKey::from_did_key("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        Err(KeyError::UnsupportedCodec(_))
    ));
}
