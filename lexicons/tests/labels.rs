//! Signed labels with the generated `com.atproto.label.defs#label` type, against
//! labels the reference TypeScript libraries signed
//! (`runtime/tests/interop/labels/ts-signed.json`, written by `sign.mjs` there
//! with `@atproto/crypto` and `@atproto/lex-cbor`).

use atlex::crypto::{Curve, PublicKey, SigningKey};
use atlex::label;
use atlex::rt::Bytes;
use atlex::subscription::{Frame, decode_message};
use atlex_lexicons::com::atproto::label::defs::Label;
use atlex_lexicons::com::atproto::label::subscribe_labels::{Labels, Message, SubscribeLabels};
use serde::Deserialize;

/// The fixed test keys `sign.mjs` signs with.
const K256_KEY: &str = "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";
const P256_KEY: &str = "82ebbd63ebbd9ff60141a69bd4c9be282f2415e8eafa9d42c0ed396daccca979";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    curve: String,
    did_key: String,
    label: serde_json::Value,
    signed_bytes: String,
    sig: String,
}

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../runtime/tests/interop/labels/ts-signed.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn key(curve: &str) -> SigningKey {
    match curve {
        "K256" => SigningKey::from_hex(Curve::K256, K256_KEY).unwrap(),
        "P256" => SigningKey::from_hex(Curve::P256, P256_KEY).unwrap(),
        other => panic!("curve {other}"),
    }
}

#[test]
fn labels_the_reference_signed_verify_and_atlex_signs_them_identically() {
    let cases = cases();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let key = key(&case.curve);
        assert_eq!(key.public_key().to_did_key(), case.did_key);
        let unsigned: Label = serde_json::from_value(case.label.clone()).unwrap();
        // The bytes signed are the reference's, byte for byte.
        assert_eq!(
            label::signing_bytes(&unsigned).unwrap(),
            unhex(&case.signed_bytes)
        );
        // Both sides sign deterministically (RFC 6979, low S): the same
        // signature.
        let signed = label::sign(&unsigned, &key).unwrap();
        assert_eq!(signed.sig.as_ref().unwrap().as_slice(), unhex(&case.sig));
        // The reference's signed label verifies with the labeler's public key.
        let mut theirs = unsigned.clone();
        theirs.sig = Some(Bytes(unhex(&case.sig)));
        let public = PublicKey::from_did_key(&case.did_key).unwrap();
        label::verify(&theirs, &public).unwrap();
        // And not once a field is changed.
        let mut changed = theirs.clone();
        changed.val.push('!');
        assert!(label::verify(&changed, &public).is_err(), "{}", case.label);
    }
}

#[test]
fn labels_in_a_subscribe_labels_frame_verify_after_the_trip() {
    let key = key("K256");
    let labels: Vec<Label> = cases()
        .into_iter()
        .filter(|case| case.curve == "K256")
        .map(|case| {
            let unsigned: Label = serde_json::from_value(case.label).unwrap();
            label::sign(&unsigned, &key).unwrap()
        })
        .collect();
    let message = Message::Labels(Box::new(Labels::builder().seq(7).labels(labels).build()));
    let frame = Frame::of_message::<SubscribeLabels>(&message).unwrap();
    let Message::Labels(received) =
        decode_message::<SubscribeLabels>(frame.as_bytes(), false).unwrap()
    else {
        panic!("a #labels message")
    };
    assert_eq!(received.labels.len(), 4);
    for signed in &received.labels {
        label::verify(signed, &key.public_key()).unwrap();
    }
}
