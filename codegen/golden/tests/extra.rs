//! Code generated with `keep_unknown_fields`: objects keep the properties
//! their lexicon does not declare, at every level, through decode and encode.

use atlex::validate::Validate;
use atlex_golden::extra::com::example::extra::{get_posts, post};
use serde_json::{Value, json};

/// A post as a newer lexicon might write it: undeclared properties on the
/// record, in a union member and in a referenced object.
fn newer_post() -> Value {
    json!({
        "$type": "com.example.extra.post",
        "text": "hello",
        "createdAt": "2026-11-22T10:00:00Z",
        "extra": "a declared property that happens to be called extra",
        "editedAt": "2026-11-22T11:00:00Z",
        "embed": {
            "$type": "com.example.extra.post#images",
            "alts": ["a cat"],
            "aspectRatio": {"width": 4, "height": 3}
        },
        "meta": {"lang": "en", "pinned": null, "mood": "sunny", "score": 7}
    })
}

#[test]
fn undeclared_properties_survive_a_round_trip() {
    let post: post::Post = serde_json::from_value(newer_post()).unwrap();
    assert_eq!(
        post.extra.as_deref(),
        Some("a declared property that happens to be called extra")
    );
    assert_eq!(
        post.extra_fields
            .get("editedAt")
            .map(atlex::data::Value::to_json),
        Some(json!("2026-11-22T11:00:00Z"))
    );
    // `$type` is the record's own, not an undeclared property.
    assert_eq!(post.extra_fields.get("$type"), None);
    assert_eq!(post.extra_fields.len(), 1);
    let meta = post.meta.as_ref().unwrap();
    assert_eq!(meta.pinned, Some(None), "null stays apart from absent");
    assert_eq!(
        meta.extra.get("mood").map(atlex::data::Value::to_json),
        Some(json!("sunny"))
    );
    assert_eq!(
        meta.extra.get("score").map(atlex::data::Value::to_json),
        Some(json!(7))
    );
    match post.embed.as_ref().unwrap() {
        post::PostEmbed::Images(images) => {
            assert_eq!(
                images
                    .extra
                    .get("aspectRatio")
                    .map(atlex::data::Value::to_json),
                Some(json!({"width": 4, "height": 3}))
            );
        }
        other => panic!("decoded as {other:?}"),
    }

    // Encoding writes everything back: the same JSON, `$type` once.
    let mut encoded = serde_json::to_value(atlex::rt::Tagged::new(
        <post::Post as atlex::rt::LexType>::TYPE,
        &post,
    ))
    .unwrap();
    assert_eq!(encoded, newer_post());
    // And so does a decode of the encoding.
    let again: post::Post = serde_json::from_value(encoded.take()).unwrap();
    assert_eq!(again, post);
}

#[test]
fn kept_properties_do_not_change_validation() {
    let mut data = newer_post();
    data["text"] = json!("x".repeat(301));
    let post: post::Post = serde_json::from_value(data).unwrap();
    let err = post.validate().unwrap_err();
    assert_eq!(err.violations.len(), 1, "{err}");
    assert_eq!(err.violations[0].path, "text");
}

#[test]
fn outputs_keep_undeclared_properties_of_the_body_and_its_items() {
    let body = json!({
        // A record carries its $type wherever it is written.
        "posts": [newer_post()],
        "cursor": "c1",
        "hitsTotal": 1
    });
    let output: get_posts::Output = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(
        output
            .extra
            .get("hitsTotal")
            .map(atlex::data::Value::to_json),
        Some(json!(1))
    );
    assert_eq!(
        output.posts[0]
            .extra_fields
            .get("editedAt")
            .map(atlex::data::Value::to_json),
        Some(json!("2026-11-22T11:00:00Z"))
    );
    assert_eq!(serde_json::to_value(&output).unwrap(), body);
}

#[test]
fn a_type_mismatch_in_a_kept_object_is_still_an_error() {
    let mut data = newer_post();
    data["meta"]["pinned"] = json!("yes");
    let err = serde_json::from_value::<post::Post>(data).unwrap_err();
    assert!(err.to_string().contains("boolean"), "{err}");
}
