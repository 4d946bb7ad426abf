// app.bsky.embed.* views. Included by `mod.rs` into each flavour.

open_union! {
    /// The embed of a post view (`app.bsky.feed.defs#postView.embed`) and
    /// of a quoted record (`app.bsky.embed.record#viewRecord.embeds[]`),
    /// which list the same members.
    pub enum EmbedView {
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
pub struct ImagesView {
    pub images: Vec<ImagesViewImage>,
}

/// `app.bsky.embed.images#viewImage`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagesViewImage {
    pub thumb: String,
    pub fullsize: String,
    pub alt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<AspectRatio>,
}

/// `app.bsky.embed.defs#aspectRatio`.
#[derive(Debug, Deserialize, Serialize)]
pub struct AspectRatio {
    pub width: i64,
    pub height: i64,
}

/// `app.bsky.embed.video#view`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoView {
    pub cid: String,
    pub playlist: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<AspectRatio>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<String>,
}

/// `app.bsky.embed.gallery#view`.
#[derive(Debug, Deserialize, Serialize)]
pub struct GalleryView {
    pub items: Vec<GalleryItem>,
}

open_union! {
    /// `app.bsky.embed.gallery#view.items[]`.
    pub enum GalleryItem {
        "app.bsky.embed.gallery#viewImage" => Image(GalleryViewImage),
    }
}

/// `app.bsky.embed.gallery#viewImage`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GalleryViewImage {
    pub thumbnail: String,
    pub fullsize: String,
    pub alt: String,
    pub aspect_ratio: AspectRatio,
}

/// `app.bsky.embed.external#view`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ExternalView {
    pub external: ViewExternal,
}

/// `app.bsky.embed.external#viewExternal`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewExternal {
    pub uri: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ViewExternalSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_refs: Option<Vec<StrongRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_profiles: Option<Vec<ProfileViewBasic>>,
}

/// `app.bsky.embed.external#viewExternalSource`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ViewExternalSource {
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<ViewExternalSourceTheme>,
}

/// `app.bsky.embed.external#viewExternalSourceTheme` (its keys spell `RGB`
/// in capitals, which `rename_all` would not).
#[derive(Debug, Deserialize, Serialize)]
pub struct ViewExternalSourceTheme {
    #[serde(rename = "backgroundRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_rgb: Option<ColorRgb>,
    #[serde(rename = "foregroundRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreground_rgb: Option<ColorRgb>,
    #[serde(rename = "accentRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_rgb: Option<ColorRgb>,
    #[serde(rename = "accentForegroundRGB")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_foreground_rgb: Option<ColorRgb>,
}

/// `app.bsky.embed.external#colorRGB`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ColorRgb {
    pub r: i64,
    pub g: i64,
    pub b: i64,
}

/// `app.bsky.embed.record#view`.
#[derive(Debug, Deserialize, Serialize)]
pub struct RecordView {
    pub record: RecordViewRecord,
}

open_union! {
    /// `app.bsky.embed.record#view.record`.
    pub enum RecordViewRecord {
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
pub struct ViewRecord {
    pub uri: String,
    pub cid: String,
    pub author: ProfileViewBasic,
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repost_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeds: Option<Vec<EmbedView>>,
    pub indexed_at: String,
}

/// `app.bsky.embed.record#viewNotFound`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewNotFound {
    pub uri: String,
    pub not_found: bool,
}

/// `app.bsky.embed.record#viewBlocked`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ViewBlocked {
    pub uri: String,
    pub blocked: bool,
    pub author: BlockedAuthor,
}

/// `app.bsky.embed.record#viewDetached`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ViewDetached {
    pub uri: String,
    pub detached: bool,
}

/// `app.bsky.embed.recordWithMedia#view`.
#[derive(Debug, Deserialize, Serialize)]
pub struct RecordWithMediaView {
    pub record: RecordView,
    pub media: MediaView,
}

open_union! {
    /// `app.bsky.embed.recordWithMedia#view.media`.
    pub enum MediaView {
        "app.bsky.embed.images#view" => Images(ImagesView),
        "app.bsky.embed.video#view" => Video(VideoView),
        "app.bsky.embed.gallery#view" => Gallery(GalleryView),
        "app.bsky.embed.external#view" => External(ExternalView),
    }
}
