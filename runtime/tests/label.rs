//! `LabelVerifier`: labels checked against the `#atproto_label` key that a
//! mock PLC directory (`mock_identity`) publishes for their labeler, through
//! the resolver's cache, with one fresh look when the key rotated.

#![cfg(all(feature = "label", feature = "identity"))]

mod mock_identity;

use atlex::crypto::{Curve, PublicKey, SignatureError, SigningKey};
use atlex::data::Value;
use atlex::label::{self, LabelError, LabelVerifier};
use mock_identity::{ALICE, Mocks, document};

const LABELER: &str = "did:plc:ar7c4by46qjdydhdevvrndac";

/// Publishes the labeler's document: `ALICE_KEY` as its `#atproto` key (which
/// must not be used for labels) and `key` as its `#atproto_label` key.
fn publish(mocks: &Mocks, key: &PublicKey) {
    let mut doc = document(LABELER, "labeler.test");
    doc["verificationMethod"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": format!("{LABELER}#atproto_label"),
            "type": "Multikey",
            "controller": LABELER,
            "publicKeyMultibase": key.to_multikey(),
        }));
    mocks.plc(LABELER, doc);
}

fn signed(key: &SigningKey, val: &str) -> Value {
    let unsigned: Value = serde_json::from_value(serde_json::json!({
        "ver": 1,
        "src": LABELER,
        "uri": format!("at://{ALICE}/app.bsky.feed.post/3jwdwj2ctlk26"),
        "val": val,
        "cts": "2026-12-07T10:00:00.000Z",
    }))
    .unwrap();
    label::sign(&unsigned, key).unwrap()
}

fn directory_hits(mocks: &Mocks) -> usize {
    mocks.http.hits("127.0.0.1", &format!("/{LABELER}"))
}

#[tokio::test]
async fn labels_verify_against_the_labelers_published_label_key_cached() {
    let mocks = Mocks::start().await;
    let key = SigningKey::generate(Curve::K256).unwrap();
    publish(&mocks, &key.public_key());
    let verifier = LabelVerifier::new(mocks.resolver());
    let labels = [
        signed(&key, "spam"),
        signed(&key, "!hide"),
        signed(&key, "porn"),
    ];
    verifier.verify_all(&labels).await.unwrap();
    assert_eq!(directory_hits(&mocks), 1, "one look-up, then the cache");

    // A label signed with the account's `#atproto` key, or any other, is not
    // the labeler's.
    let stranger = SigningKey::generate(Curve::K256).unwrap();
    let forged = [signed(&key, "spam"), signed(&stranger, "spam")];
    let (index, error) = verifier.verify_all(&forged).await.unwrap_err();
    assert_eq!(index, 1);
    assert!(
        matches!(error, LabelError::Signature(SignatureError::Mismatch)),
        "{error}"
    );
    // The failure looked once more in case the key had rotated; it had not.
    assert_eq!(directory_hits(&mocks), 2);
}

#[tokio::test]
async fn a_rotated_label_key_is_found_without_waiting_for_the_cache() {
    let mocks = Mocks::start().await;
    let old = SigningKey::generate(Curve::K256).unwrap();
    publish(&mocks, &old.public_key());
    let verifier = LabelVerifier::new(mocks.resolver());
    verifier.verify(&signed(&old, "spam")).await.unwrap();

    let new = SigningKey::generate(Curve::P256).unwrap();
    publish(&mocks, &new.public_key());
    verifier.verify(&signed(&new, "spam")).await.unwrap();
    assert_eq!(directory_hits(&mocks), 2);
    // Labels signed with the old key no longer verify.
    assert!(verifier.verify(&signed(&old, "spam")).await.is_err());
}

#[tokio::test]
async fn a_labeler_without_a_label_key_or_a_bad_src_is_an_error_that_says_so() {
    let mocks = Mocks::start().await;
    // The document has only the `#atproto` key.
    mocks.plc(LABELER, document(LABELER, "labeler.test"));
    let verifier = LabelVerifier::new(mocks.resolver());
    let key = SigningKey::generate(Curve::K256).unwrap();
    let error = verifier.verify(&signed(&key, "spam")).await.unwrap_err();
    assert!(matches!(error, LabelError::Identity(_)), "{error}");
    assert!(error.to_string().contains("atproto_label"), "{error}");

    let mut fields = match signed(&key, "spam") {
        Value::Object(fields) => fields,
        _ => unreachable!(),
    };
    fields.insert("src".into(), Value::String("not a did".into()));
    let error = verifier.verify(&Value::Object(fields)).await.unwrap_err();
    assert!(matches!(error, LabelError::Identity(_)), "{error}");
}
