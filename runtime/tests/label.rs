//! `LabelVerifier`: labels checked against the `#atproto_label` key that a
//! labeler of the test identity network (`identity::testkit`) publishes,
//! through the resolver's cache, with one fresh look when the key rotated.

#![cfg(all(feature = "label", feature = "testkit"))]

use atlex::crypto::{Curve, SignatureError, SigningKey};
use atlex::data::Value;
use atlex::identity::testkit::{Account, TestNetwork};
use atlex::label::{self, LabelError, LabelVerifier};

/// The network and a labeler of it, whose `#atproto_label` key is not its
/// `#atproto` key (which must not be used for labels).
async fn labeler() -> (TestNetwork, Account) {
    let network = TestNetwork::start().await.unwrap();
    let mut labeler = network.account("labeler.test").unwrap();
    labeler.set_labeler("https://labeler.test").unwrap();
    (network, labeler)
}

fn signed(labeler: &Account, key: &SigningKey, val: &str) -> Value {
    let unsigned: Value = serde_json::from_value(serde_json::json!({
        "ver": 1,
        "src": labeler.did().as_str(),
        "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jwdwj2ctlk26",
        "val": val,
        "cts": "2026-12-07T10:00:00.000Z",
    }))
    .unwrap();
    label::sign(&unsigned, key).unwrap()
}

#[tokio::test]
async fn labels_verify_against_the_labelers_published_label_key_cached() {
    let (network, labeler) = labeler().await;
    let key = labeler.label_key().unwrap();
    let verifier = LabelVerifier::new(network.resolver());
    let labels = [
        signed(&labeler, key, "spam"),
        signed(&labeler, key, "!hide"),
        signed(&labeler, key, "porn"),
    ];
    verifier.verify_all(&labels).await.unwrap();
    assert_eq!(
        network.requests(labeler.did()),
        1,
        "one look-up, then the cache"
    );

    // A label signed with the account's `#atproto` key, or any other, is not
    // the labeler's.
    for stranger in [
        labeler.signing_key(),
        &SigningKey::generate(Curve::K256).unwrap(),
    ] {
        let forged = [
            signed(&labeler, key, "spam"),
            signed(&labeler, stranger, "spam"),
        ];
        let (index, error) = verifier.verify_all(&forged).await.unwrap_err();
        assert_eq!(index, 1);
        assert!(
            matches!(error, LabelError::Signature(SignatureError::Mismatch)),
            "{error}"
        );
    }
    // Each failure looked once more in case the key had rotated; it had not.
    assert_eq!(network.requests(labeler.did()), 3);
}

#[tokio::test]
async fn a_rotated_label_key_is_found_without_waiting_for_the_cache() {
    let (network, labeler) = labeler().await;
    let old = labeler.label_key().unwrap().clone();
    let verifier = LabelVerifier::new(network.resolver());
    verifier
        .verify(&signed(&labeler, &old, "spam"))
        .await
        .unwrap();

    let new = SigningKey::generate(Curve::P256).unwrap();
    labeler.set_key("atproto_label", &new.public_key());
    verifier
        .verify(&signed(&labeler, &new, "spam"))
        .await
        .unwrap();
    assert_eq!(network.requests(labeler.did()), 2);
    // Labels signed with the old key no longer verify.
    assert!(
        verifier
            .verify(&signed(&labeler, &old, "spam"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_labeler_without_a_label_key_or_a_bad_src_is_an_error_that_says_so() {
    let network = TestNetwork::start().await.unwrap();
    // The document has only the `#atproto` key.
    let account = network.account("labeler.test").unwrap();
    let verifier = LabelVerifier::new(network.resolver());
    let key = SigningKey::generate(Curve::K256).unwrap();
    let error = verifier
        .verify(&signed(&account, &key, "spam"))
        .await
        .unwrap_err();
    assert!(matches!(error, LabelError::Identity(_)), "{error}");
    assert!(error.to_string().contains("atproto_label"), "{error}");

    let mut fields = match signed(&account, &key, "spam") {
        Value::Object(fields) => fields,
        _ => unreachable!(),
    };
    fields.insert("src".into(), Value::String("not a did".into()));
    let error = verifier.verify(&Value::Object(fields)).await.unwrap_err();
    assert!(matches!(error, LabelError::Identity(_)), "{error}");
}
