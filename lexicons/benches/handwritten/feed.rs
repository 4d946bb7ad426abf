// app.bsky.feed.defs, app.bsky.graph.defs and app.bsky.labeler.defs views,
// and the `app.bsky.feed.getTimeline` output. Included by `mod.rs` into each
// flavour.

/// `app.bsky.feed.getTimeline#output`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct GetTimelineOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cursor: Option<String>,
    pub(crate) feed: Vec<FeedViewPost>,
}

/// `app.bsky.feed.defs#feedViewPost`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FeedViewPost {
    pub(crate) post: PostView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reply: Option<ReplyRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<FeedReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) feed_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) req_id: Option<String>,
}

/// `app.bsky.feed.defs#postView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostView {
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) author: ProfileViewBasic,
    pub(crate) record: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) embed: Option<EmbedView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bookmark_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reply_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repost_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) quote_count: Option<i64>,
    pub(crate) indexed_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<PostViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) threadgate: Option<ThreadgateView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) debug: Option<Value>,
}

/// `app.bsky.feed.defs#viewerState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) repost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) like: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bookmarked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thread_muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reply_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) embedding_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) known_likers: Option<KnownLikers>,
}

/// `app.bsky.feed.defs#knownLikers`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct KnownLikers {
    pub(crate) count: i64,
    pub(crate) actors: Vec<ProfileViewBasic>,
}

/// `app.bsky.feed.defs#threadgateView`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ThreadgateView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) record: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lists: Option<Vec<ListViewBasic>>,
}

/// `app.bsky.feed.defs#replyRef`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplyRef {
    pub(crate) root: ReplyPost,
    pub(crate) parent: ReplyPost,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) grandparent_author: Option<ProfileViewBasic>,
}

open_union! {
    /// `app.bsky.feed.defs#replyRef.root` and `.parent`.
    pub(crate) enum ReplyPost {
        "app.bsky.feed.defs#postView" => Post(PostView),
        "app.bsky.feed.defs#notFoundPost" => NotFound(NotFoundPost),
        "app.bsky.feed.defs#blockedPost" => Blocked(BlockedPost),
    }
}

/// `app.bsky.feed.defs#notFoundPost`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotFoundPost {
    pub(crate) uri: String,
    pub(crate) not_found: bool,
}

/// `app.bsky.feed.defs#blockedPost`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct BlockedPost {
    pub(crate) uri: String,
    pub(crate) blocked: bool,
    pub(crate) author: BlockedAuthor,
}

/// `app.bsky.feed.defs#blockedAuthor`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct BlockedAuthor {
    pub(crate) did: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<ViewerState>,
}

open_union! {
    /// `app.bsky.feed.defs#feedViewPost.reason`.
    pub(crate) enum FeedReason {
        "app.bsky.feed.defs#reasonRepost" => Repost(ReasonRepost),
        "app.bsky.feed.defs#reasonPin" => Pin(Empty),
    }
}

/// `app.bsky.feed.defs#reasonRepost`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReasonRepost {
    pub(crate) by: ProfileViewBasic,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cid: Option<String>,
    pub(crate) indexed_at: String,
}

/// `app.bsky.feed.defs#generatorView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GeneratorView {
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) did: String,
    pub(crate) creator: ProfileView,
    pub(crate) display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description_facets: Option<Vec<Facet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) accepts_interactions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<LikeViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content_mode: Option<String>,
    pub(crate) indexed_at: String,
}

/// `app.bsky.feed.defs#generatorViewerState` and
/// `app.bsky.labeler.defs#labelerViewerState`, which have the same one
/// field.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct LikeViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) like: Option<String>,
}

/// `app.bsky.graph.defs#listViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListViewBasic {
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) name: String,
    pub(crate) purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) list_item_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<ListViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) indexed_at: Option<String>,
}

/// `app.bsky.graph.defs#listViewerState`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ListViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocked: Option<String>,
}

/// `app.bsky.graph.defs#listView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListView {
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) creator: ProfileView,
    pub(crate) name: String,
    pub(crate) purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description_facets: Option<Vec<Facet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) list_item_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<ListViewerState>,
    pub(crate) indexed_at: String,
}

/// `app.bsky.graph.defs#starterPackViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StarterPackViewBasic {
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) record: Value,
    pub(crate) creator: ProfileViewBasic,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) list_item_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) joined_week_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) joined_all_time_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    pub(crate) indexed_at: String,
}

/// `app.bsky.labeler.defs#labelerView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LabelerView {
    pub(crate) uri: String,
    pub(crate) cid: String,
    pub(crate) creator: ProfileView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) like_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<LikeViewerState>,
    pub(crate) indexed_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
}
