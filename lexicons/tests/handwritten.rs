//! The hand-written serde types of the `decode_vs_serde` bench have the shape
//! of the generated ones: both flavours decode the fixtures and write them
//! back equal as data, and keep what a newer lexicon adds as the generated
//! types do.

#[path = "../benches/handwritten/mod.rs"]
mod handwritten;

mod common;
use common::first_difference;

use handwritten::{peeked, tagged};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes `input` as a `T`, writes it back and compares with `expected`.
fn assert_round_trip<T: DeserializeOwned + Serialize>(input: &str, expected: &str) -> T {
    let decoded: T = serde_json::from_str(&fixture(input))
        .unwrap_or_else(|e| panic!("{input} as {}: {e}", std::any::type_name::<T>()));
    let expected: Value = serde_json::from_str(&fixture(expected)).unwrap();
    let reencoded = serde_json::to_value(&decoded).unwrap();
    if let Some(difference) = first_difference(&expected, &reencoded, "") {
        panic!(
            "{input} through {} differs at {difference}",
            std::any::type_name::<T>()
        );
    }
    decoded
}

#[test]
fn both_flavours_round_trip_the_convos_page() {
    let page: tagged::ListConvosOutput =
        assert_round_trip("list_convos_100.json", "list_convos_100.json");
    assert_eq!(page.convos.len(), 100);
    let page: peeked::ListConvosOutput =
        assert_round_trip("list_convos_100.json", "list_convos_100.json");
    assert_eq!(page.convos.len(), 100);
}

/// The timeline page is new to the generated types too.
#[test]
fn both_flavours_and_the_generated_types_round_trip_the_timeline_page() {
    use atlex_lexicons::app::bsky::feed::get_timeline;
    let page: tagged::GetTimelineOutput =
        assert_round_trip("get_timeline_100.json", "get_timeline_100.json");
    assert_eq!(page.feed.len(), 100);
    let page: peeked::GetTimelineOutput =
        assert_round_trip("get_timeline_100.json", "get_timeline_100.json");
    assert_eq!(page.feed.len(), 100);
    let page: get_timeline::Output =
        assert_round_trip("get_timeline_100.json", "get_timeline_100.json");
    assert_eq!(page.feed.len(), 100);
}

/// How many union members were taken by a catch-all, from the value's
/// `Debug` form (the round trips cannot tell: a catch-all writes back what it
/// read).
fn catch_alls(value: &impl std::fmt::Debug) -> usize {
    format!("{value:?}").matches("Unknown(").count()
}

/// Every member of the fixtures is one the types list: a tag spelled wrong
/// would send its members to the catch-all, and the tagged flavour also
/// sends there a known member whose fields do not fit.
#[test]
fn known_members_are_decoded_as_themselves() {
    let convos = fixture("list_convos_100.json");
    let timeline = fixture("get_timeline_100.json");
    let counts = [
        catch_alls(&serde_json::from_str::<tagged::ListConvosOutput>(&convos).unwrap()),
        catch_alls(&serde_json::from_str::<peeked::ListConvosOutput>(&convos).unwrap()),
        catch_alls(&serde_json::from_str::<tagged::GetTimelineOutput>(&timeline).unwrap()),
        catch_alls(&serde_json::from_str::<peeked::GetTimelineOutput>(&timeline).unwrap()),
    ];
    assert_eq!(counts, [0; 4]);
}

#[test]
fn unknown_members_are_kept_and_unknown_fields_dropped() {
    let tagged: tagged::ListConvosOutput = assert_round_trip(
        "list_convos_evolved.json",
        "list_convos_evolved.expected.json",
    );
    let peeked: peeked::ListConvosOutput = assert_round_trip(
        "list_convos_evolved.json",
        "list_convos_evolved.expected.json",
    );
    // The evolved page's members of unknown types, and nothing else.
    let unknown = catch_alls(&tagged);
    assert!(unknown > 0);
    assert_eq!(catch_alls(&peeked), unknown);
}

/// A known member whose fields do not fit: the peeked flavour says so, the
/// tagged one keeps the object as an unknown member, as serde's untagged
/// fallback does.
#[test]
fn a_known_member_that_does_not_fit() {
    let text = r#"{"record": {"$type": "app.bsky.embed.record#viewNotFound", "uri": 7}}"#;
    let error = serde_json::from_str::<peeked::RecordView>(text).unwrap_err();
    assert!(error.to_string().contains("invalid type"), "{error}");
    let view: tagged::RecordView = serde_json::from_str(text).unwrap();
    assert!(matches!(view.record, tagged::RecordViewRecord::Unknown(_)));
}

/// A member whose `$type` is not its first key is decoded from a buffer.
#[test]
fn peeked_unions_take_type_anywhere() {
    let text = r#"{"record": {"uri": "at://did:plc:a/app.bsky.feed.post/1", "notFound": true,
                   "$type": "app.bsky.embed.record#viewNotFound"}}"#;
    let view: peeked::RecordView = serde_json::from_str(text).unwrap();
    assert!(matches!(view.record, peeked::RecordViewRecord::NotFound(_)));
    let missing = r#"{"record": {"uri": "at://did:plc:a/app.bsky.feed.post/1"}}"#;
    let error = serde_json::from_str::<peeked::RecordView>(missing).unwrap_err();
    assert!(error.to_string().contains("$type"), "{error}");
}
