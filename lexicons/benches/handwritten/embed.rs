// app.bsky.embed.* views. Included by `mod.rs` into each flavour.

open_union! {
    /// The embed of a post view (`app.bsky.feed.defs#postView.embed`) and
    /// of a quoted record (`app.bsky.embed.record#viewRecord.embeds[]`),
    /// which list the same members.
    pub(crate) enum EmbedView {
        "app.bsky.embed.images#view" => Images(ImagesView),
        "app.bsky.embed.video#view" => Video(VideoView),
        "app.bsky.embed.gallery#view" => Gallery(GalleryView),
        "app.bsky.embed.external#view" => External(ExternalView),
        "app.bsky.embed.record#view" => Record(RecordView),
        "app.bsky.embed.recordWithMedia#view" => RecordWithMedia(RecordWithMediaView),
    }
}

/// `app.bsky.embed.images#view`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ImagesView {
    pub(crate) images: Vec<ImagesViewImage>,
}

/// `app.bsky.embed.images#viewImage`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImagesViewImage {
    pub(crate) thumb: String,
    pub(crate) fullsize: String,
    pub(crate) alt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aspect_ratio: Option<AspectRatio>,
}

/// `app.bsky.embed.defs#aspectRatio`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct AspectRatio {
    pub(crate) width: i64,
    pub(crate) height: i64,
}

/// `app.bsky.embed.video#view`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VideoView {
    pub(crate) cid: String,
    pub(crate) playlist: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thumbnail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aspect_ratio: Option<AspectRatio>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) presentation: Option<String>,
}

/// `app.bsky.embed.gallery#view`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct GalleryView {
    pub(crate) items: Vec<GalleryItem>,
}

open_union! {
    /// `app.bsky.embed.gallery#view.items[]`.
    pub(crate) enum GalleryItem {
        "app.bsky.embed.gallery#viewImage" => Image(GalleryViewImage),
    }
}

/// `app.bsky.embed.gallery#viewImage`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GalleryViewImage {
    pub(crate) thumbnail: String,
    pub(crate) fullsize: String,
    pub(crate) alt: String,
    pub(crate) aspect_ratio: AspectRatio,
}

/// `app.bsky.embed.external#view`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ExternalView {
    pub(crate) external: ViewExternal,
}

/// `app.bsky.embed.external#viewExternal`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ViewExternal {
    pub(crate) uri: String,
    pub(crate) title: String,
    pub(crate) description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thumb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reading_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<ViewExternalSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) associated_refs: Option<Vec<StrongRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) associated_profiles: Option<Vec<ProfileViewBasic>>,
}

/// `app.bsky.embed.external#viewExternalSource`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ViewExternalSource {
    pub(crate) uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) icon: Option<String>,
    pub(crate) title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) theme: Option<ViewExternalSourceTheme>,
}

/// `app.bsky.embed.external#viewExternalSourceTheme` (its keys spell `RGB`
/// in capitals, which `rename_all` would not).
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ViewExternalSourceTheme {
    #[serde(rename = "backgroundRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) background_rgb: Option<ColorRgb>,
    #[serde(rename = "foregroundRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) foreground_rgb: Option<ColorRgb>,
    #[serde(rename = "accentRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) accent_rgb: Option<ColorRgb>,
    #[serde(rename = "accentForegroundRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) accent_foreground_rgb: Option<ColorRgb>,
}

/// `app.bsky.embed.external#colorRGB`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ColorRgb {
    pub(crate) r: i64,
    pub(crate) g: i64,
    pub(crate) b: i64,
}

/// `app.bsky.embed.record#view`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RecordView {
    pub(crate) record: RecordViewRecord,
}

open_union! {
    /// `app.bsky.embed.record#view.record`.
    pub(crate) enum RecordViewRecord {
        "app.bsky.embed.record#viewRecord" => Record(ViewRecord),
        "app.bsky.embed.record#viewNotFound" => NotFound(ViewNotFound),
        "app.bsky.embed.record#viewBlocked" => Blocked(ViewBlocked),
        "app.bsky.embed.record#viewDetached" => Detached(ViewDetached),
        "app.bsky.feed.defs#generatorView" => Generator(GeneratorView),
        "app.bsky.graph.defs#listView" => List(ListView),
        "app.bsky.labeler.defs#labelerView" => Labeler(LabelerView),
        "app.bsky.graph.defs#starterPackViewBasic" => StarterPack(StarterPackViewBasic),
    }
}

/// `app.bsky.embed.record#viewRecord`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ViewRecord {
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) author: ProfileViewBasic,
    pub(crate) value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reply_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repost_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) quote_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) embeds: Option<Vec<EmbedView>>,
    pub(crate) indexed_at: String,
}

/// `app.bsky.embed.record#viewNotFound`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ViewNotFound {
    pub(crate) uri: String,
    pub(crate) not_found: bool,
}

/// `app.bsky.embed.record#viewBlocked`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ViewBlocked {
    pub(crate) uri: String,
    pub(crate) blocked: bool,
    pub(crate) author: BlockedAuthor,
}

/// `app.bsky.embed.record#viewDetached`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ViewDetached {
    pub(crate) uri: String,
    pub(crate) detached: bool,
}

/// `app.bsky.embed.recordWithMedia#view`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RecordWithMediaView {
    pub(crate) record: RecordView,
    pub(crate) media: MediaView,
}

open_union! {
    /// `app.bsky.embed.recordWithMedia#view.media`.
    pub(crate) enum MediaView {
        "app.bsky.embed.images#view" => Images(ImagesView),
        "app.bsky.embed.video#view" => Video(VideoView),
        "app.bsky.embed.gallery#view" => Gallery(GalleryView),
        "app.bsky.embed.external#view" => External(ExternalView),
    }
}
