//! Decode / re-encode round trips of generated types on real-shaped data.
//!
//! The fixtures (see `tests/fixtures/README.md`) are a 100-convo
//! `chat.bsky.convo.listConvos` response covering every union member and
//! optional field, and an "evolved" response as a newer lexicon version would
//! produce it: unknown fields, unknown `$type`s in open unions and unknown
//! `knownValues`.

use atlex_lexicons::chat::bsky::convo::{defs, list_convos};
use serde_json::Value;

mod common;
use common::first_difference;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn hundred_convos_round_trip_exactly() {
    let text = fixture("list_convos_100.json");
    let original: Value = serde_json::from_str(&text).unwrap();
    let decoded: list_convos::Output = serde_json::from_str(&text).unwrap();
    assert_eq!(decoded.convos.len(), 100);
    let reencoded = serde_json::to_value(&decoded).unwrap();
    if let Some(difference) = first_difference(&original, &reencoded, "") {
        panic!("re-encoded output differs at {difference}");
    }
    // Decoding what we wrote gives the same value again.
    let again: list_convos::Output = serde_json::from_value(reencoded).unwrap();
    assert_eq!(again, decoded);
}

#[test]
fn every_last_message_variant_is_decoded_as_itself() {
    let decoded: list_convos::Output =
        serde_json::from_str(&fixture("list_convos_100.json")).unwrap();
    let (mut message, mut deleted, mut system) = (0, 0, 0);
    for convo in &decoded.convos {
        match &convo.last_message {
            Some(defs::ConvoViewLastMessage::MessageView(_)) => message += 1,
            Some(defs::ConvoViewLastMessage::DeletedMessageView(_)) => deleted += 1,
            Some(defs::ConvoViewLastMessage::SystemMessageView(_)) => system += 1,
            Some(defs::ConvoViewLastMessage::Unknown(u)) => {
                panic!("known member decoded as unknown: {:?}", u.type_name())
            }
            // The union is non-exhaustive: a newer lexicon may add members.
            Some(other) => panic!("a member this test does not know: {other:?}"),
            None => {}
        }
    }
    assert!(
        message > 0 && deleted > 0 && system > 0,
        "{message} {deleted} {system}"
    );
}

#[test]
fn evolved_data_decodes_and_keeps_everything() {
    let text = fixture("list_convos_evolved.json");
    let decoded: list_convos::Output = serde_json::from_str(&text).unwrap();
    let original: Value = serde_json::from_str(&text).unwrap();
    let reencoded = serde_json::to_value(&decoded).unwrap();
    if let Some(difference) = first_difference(&original, &reencoded, "") {
        panic!("re-encoded evolved output differs from the input at {difference}");
    }
    // The input does hold what the types do not declare: without it, the
    // page would be the one code that drops it writes.
    let modelled: Value =
        serde_json::from_str(&fixture("list_convos_evolved.expected.json")).unwrap();
    assert_ne!(modelled, original);
    let unknown_members = decoded
        .convos
        .iter()
        .filter(|c| matches!(c.last_message, Some(defs::ConvoViewLastMessage::Unknown(_))))
        .count();
    assert!(unknown_members > 0);
}

#[test]
fn a_known_type_with_bad_content_is_an_error_naming_member_and_field() {
    let mut value: Value = serde_json::from_str(&fixture("list_convos_100.json")).unwrap();
    let convo = value["convos"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["lastMessage"]["$type"] == "chat.bsky.convo.defs#messageView")
        .unwrap();
    convo["lastMessage"]["sentAt"] = Value::from(12);
    let err = serde_json::from_value::<list_convos::Output>(value).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("chat.bsky.convo.defs#messageView"), "{text}");
    assert!(text.contains("sentAt"), "{text}");
}
