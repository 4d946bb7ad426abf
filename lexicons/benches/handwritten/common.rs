// com.atproto and app.bsky types shared by both outputs: labels, strong
// references, rich-text facets. Included by `mod.rs` into each flavour.

/// An object with no fields (union members that carry only their `$type`).
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Empty {}

/// `com.atproto.label.defs#label`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Label {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ver: Option<i64>,
    pub(crate) src: String,
    pub(crate) uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cid: Option<String>,
    pub(crate) val: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) neg: Option<bool>,
    pub(crate) cts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sig: Option<Bytes>,
}

/// Bytes in the JSON form of the data model, `{"$bytes": base64}`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Bytes {
    #[serde(rename = "$bytes")]
    pub(crate) base64: String,
}

/// `com.atproto.repo.strongRef`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct StrongRef {
    pub(crate) uri: String,
    pub(crate) cid: String,
}

/// `app.bsky.richtext.facet`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Facet {
    pub(crate) index: ByteSlice,
    pub(crate) features: Vec<FacetFeature>,
}

/// `app.bsky.richtext.facet#byteSlice`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ByteSlice {
    pub(crate) byte_start: i64,
    pub(crate) byte_end: i64,
}

open_union! {
    /// `app.bsky.richtext.facet#main.features[]`.
    pub(crate) enum FacetFeature {
        "app.bsky.richtext.facet#mention" => Mention(Mention),
        "app.bsky.richtext.facet#link" => Link(Link),
        "app.bsky.richtext.facet#tag" => Tag(Tag),
    }
}

/// `app.bsky.richtext.facet#mention`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Mention {
    pub(crate) did: String,
}

/// `app.bsky.richtext.facet#link`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Link {
    pub(crate) uri: String,
}

/// `app.bsky.richtext.facet#tag`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Tag {
    pub(crate) tag: String,
}

/// `app.bsky.notification.defs#activitySubscription`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ActivitySubscription {
    pub(crate) post: bool,
    pub(crate) reply: bool,
}
