// com.atproto and app.bsky types shared by both outputs: labels, strong
// references, rich-text facets. Included by `mod.rs` into each flavour.

/// An object with no fields (union members that carry only their `$type`).
#[derive(Debug, Deserialize, Serialize)]
pub struct Empty {}

/// `com.atproto.label.defs#label`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<i64>,
    pub src: String,
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    pub val: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neg: Option<bool>,
    pub cts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<Bytes>,
}

/// Bytes in the JSON form of the data model, `{"$bytes": base64}`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Bytes {
    #[serde(rename = "$bytes")]
    pub base64: String,
}

/// `com.atproto.repo.strongRef`.
#[derive(Debug, Deserialize, Serialize)]
pub struct StrongRef {
    pub uri: String,
    pub cid: String,
}

/// `app.bsky.richtext.facet`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Facet {
    pub index: ByteSlice,
    pub features: Vec<FacetFeature>,
}

/// `app.bsky.richtext.facet#byteSlice`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ByteSlice {
    pub byte_start: i64,
    pub byte_end: i64,
}

open_union! {
    /// `app.bsky.richtext.facet#main.features[]`.
    pub enum FacetFeature {
        "app.bsky.richtext.facet#mention" => Mention(Mention),
        "app.bsky.richtext.facet#link" => Link(Link),
        "app.bsky.richtext.facet#tag" => Tag(Tag),
    }
}

/// `app.bsky.richtext.facet#mention`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Mention {
    pub did: String,
}

/// `app.bsky.richtext.facet#link`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Link {
    pub uri: String,
}

/// `app.bsky.richtext.facet#tag`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Tag {
    pub tag: String,
}

/// `app.bsky.notification.defs#activitySubscription`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ActivitySubscription {
    pub post: bool,
    pub reply: bool,
}
