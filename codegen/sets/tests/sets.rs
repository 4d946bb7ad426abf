//! The generated code of the real-world-shaped sets works with the types it
//! takes from `atlex-lexicons`, and keeps wire names exact where Rust names
//! had to be made up.

use atlex::data::Record;
use atlex_sets::grain::social::grain::{comment, gallery};
use atlex_sets::streamplace::place::stream::metadata::{configuration, content_rights};
use serde_json::{Value, json};

fn round_trip<T>(value: Value) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let decoded: T =
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("decoding {value}: {e}"));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), value);
    decoded
}

#[test]
fn a_grain_comment_uses_the_facets_of_atlex_lexicons() {
    // Records write their `$type`.
    let comment: comment::Comment = round_trip(json!({
        "$type": "social.grain.comment",
        "text": "nice light",
        "subject": "at://did:plc:abc/social.grain.gallery/3k2a",
        "facets": [{
            "index": {"byteStart": 0, "byteEnd": 4},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "light"}]
        }],
        "createdAt": "2025-01-01T00:00:00Z"
    }));
    let facet: &atlex_lexicons::app::bsky::richtext::facet::Facet = &comment.facets.unwrap()[0];
    assert_eq!(facet.index.byte_end, 4);
    assert_eq!(comment::Comment::NSID, "social.grain.comment");
    // The gallery's labels come from atlex-lexicons' com.atproto.label.defs.
    let _: gallery::Gallery = round_trip(json!({
        "$type": "social.grain.gallery",
        "title": "winter",
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "nudity"}]},
        "createdAt": "2025-01-01T00:00:00Z"
    }));
}

#[test]
fn made_up_rust_names_keep_the_wire_names() {
    assert_eq!(
        content_rights::CC_BY_NC_ND_4_0,
        "place.stream.metadata.contentRights#cc-by-nc-nd_4__0"
    );
    assert_eq!(
        content_rights::ALL_RIGHTS_RESERVED,
        "place.stream.metadata.contentRights#all-rights-reserved"
    );
    let rights: content_rights::ContentRights = round_trip(json!({
        "license": "place.stream.metadata.contentRights#all-rights-reserved"
    }));
    assert_eq!(
        rights.license,
        Some(content_rights::ContentRightsLicense::AllRightsReserved)
    );
    let config: configuration::Configuration = round_trip(json!({
        "$type": "place.stream.metadata.configuration",
        "distributionPolicy": {
            "$type": "place.stream.metadata.configuration#allow-clips",
            "maxSeconds": 30
        }
    }));
    assert!(matches!(
        config.distribution_policy,
        Some(configuration::ConfigurationDistributionPolicy::AllowClips(ref clips)) if clips.max_seconds == 30
    ));
}

#[test]
fn what_was_left_out_is_absent_and_the_rest_is_there() {
    let store = atlex_sets::skip::com::example::shop::store::Store::new("corner shop");
    assert_eq!((store.name.as_str(), store.owner), ("corner shop", None));
    let target = atlex_sets::tangled_pull::sh::tangled::repo::pull::Target::builder()
        .repo("at://did:plc:abc/sh.tangled.repo/3k2a".parse().unwrap())
        .branch("main")
        .build();
    assert_eq!(target.branch, "main");
}
