// app.bsky.feed.defs, app.bsky.graph.defs and app.bsky.labeler.defs views,
// and the `app.bsky.feed.getTimeline` output. Included by `mod.rs` into each
// flavour.

/// `app.bsky.feed.getTimeline#output`.
#[derive(Debug, Deserialize, Serialize)]
pub struct GetTimelineOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub feed: Vec<FeedViewPost>,
}

/// `app.bsky.feed.defs#feedViewPost`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedViewPost {
    pub post: PostView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FeedReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_id: Option<String>,
}

/// `app.bsky.feed.defs#postView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostView {
    pub uri: String,
    pub cid: String,
    pub author: ProfileViewBasic,
    pub record: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<EmbedView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmark_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repost_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_count: Option<i64>,
    pub indexed_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<PostViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threadgate: Option<ThreadgateView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<Value>,
}

/// `app.bsky.feed.defs#viewerState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmarked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_likers: Option<KnownLikers>,
}

/// `app.bsky.feed.defs#knownLikers`.
#[derive(Debug, Deserialize, Serialize)]
pub struct KnownLikers {
    pub count: i64,
    pub actors: Vec<ProfileViewBasic>,
}

/// `app.bsky.feed.defs#threadgateView`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ThreadgateView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<ListViewBasic>>,
}

/// `app.bsky.feed.defs#replyRef`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyRef {
    pub root: ReplyPost,
    pub parent: ReplyPost,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grandparent_author: Option<ProfileViewBasic>,
}

open_union! {
    /// `app.bsky.feed.defs#replyRef.root` and `.parent`.
    pub enum ReplyPost {
        "app.bsky.feed.defs#postView" => Post(PostView),
        "app.bsky.feed.defs#notFoundPost" => NotFound(NotFoundPost),
        "app.bsky.feed.defs#blockedPost" => Blocked(BlockedPost),
    }
}

/// `app.bsky.feed.defs#notFoundPost`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotFoundPost {
    pub uri: String,
    pub not_found: bool,
}

/// `app.bsky.feed.defs#blockedPost`.
#[derive(Debug, Deserialize, Serialize)]
pub struct BlockedPost {
    pub uri: String,
    pub blocked: bool,
    pub author: BlockedAuthor,
}

/// `app.bsky.feed.defs#blockedAuthor`.
#[derive(Debug, Deserialize, Serialize)]
pub struct BlockedAuthor {
    pub did: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<ViewerState>,
}

open_union! {
    /// `app.bsky.feed.defs#feedViewPost.reason`.
    pub enum FeedReason {
        "app.bsky.feed.defs#reasonRepost" => Repost(ReasonRepost),
        "app.bsky.feed.defs#reasonPin" => Pin(Empty),
    }
}

/// `app.bsky.feed.defs#reasonRepost`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasonRepost {
    pub by: ProfileViewBasic,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    pub indexed_at: String,
}

/// `app.bsky.feed.defs#generatorView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorView {
    pub uri: String,
    pub cid: String,
    pub did: String,
    pub creator: ProfileView,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_facets: Option<Vec<Facet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepts_interactions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<LikeViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_mode: Option<String>,
    pub indexed_at: String,
}

/// `app.bsky.feed.defs#generatorViewerState` and
/// `app.bsky.labeler.defs#labelerViewerState`, which have the same one
/// field.
#[derive(Debug, Deserialize, Serialize)]
pub struct LikeViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like: Option<String>,
}

/// `app.bsky.graph.defs#listViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListViewBasic {
    pub uri: String,
    pub cid: String,
    pub name: String,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_item_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<ListViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_at: Option<String>,
}

/// `app.bsky.graph.defs#listViewerState`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ListViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
}

/// `app.bsky.graph.defs#listView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListView {
    pub uri: String,
    pub cid: String,
    pub creator: ProfileView,
    pub name: String,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_facets: Option<Vec<Facet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_item_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<ListViewerState>,
    pub indexed_at: String,
}

/// `app.bsky.graph.defs#starterPackViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StarterPackViewBasic {
    pub uri: String,
    pub cid: String,
    pub record: Value,
    pub creator: ProfileViewBasic,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_item_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_week_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_all_time_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    pub indexed_at: String,
}

/// `app.bsky.labeler.defs#labelerView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelerView {
    pub uri: String,
    pub cid: String,
    pub creator: ProfileView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<LikeViewerState>,
    pub indexed_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
}
