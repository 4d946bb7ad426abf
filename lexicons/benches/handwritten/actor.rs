// app.bsky.actor.defs: profile views and what they hold. Included by
// `mod.rs` into each flavour.

/// `app.bsky.actor.defs#profileViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileViewBasic {
    pub(crate) did: String,
    pub(crate) handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pronouns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) associated: Option<ProfileAssociated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<ViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verification: Option<VerificationState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<StatusView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) debug: Option<Value>,
}

/// `app.bsky.actor.defs#profileView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileView {
    pub(crate) did: String,
    pub(crate) handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pronouns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) associated: Option<ProfileAssociated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) indexed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<ViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verification: Option<VerificationState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<StatusView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) debug: Option<Value>,
}

/// `app.bsky.actor.defs#profileAssociated`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileAssociated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lists: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) feedgens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) starter_packs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labeler: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chat: Option<ProfileAssociatedChat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) activity_subscription: Option<ProfileAssociatedActivitySubscription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) germ: Option<ProfileAssociatedGerm>,
}

/// `app.bsky.actor.defs#profileAssociatedChat`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileAssociatedChat {
    pub(crate) allow_incoming: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) allow_group_invites: Option<String>,
}

/// `app.bsky.actor.defs#profileAssociatedActivitySubscription`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileAssociatedActivitySubscription {
    pub(crate) allow_subscriptions: String,
}

/// `app.bsky.actor.defs#profileAssociatedGerm`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileAssociatedGerm {
    pub(crate) message_me_url: String,
    pub(crate) show_button_to: String,
}

/// `app.bsky.actor.defs#viewerState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) muted_only_reposts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) muted_only_quoteposts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) muted_by_list: Option<ListViewBasic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocked_by: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocking_by_list: Option<ListViewBasic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) following: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) followed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) known_followers: Option<KnownFollowers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) activity_subscription: Option<ActivitySubscription>,
}

/// `app.bsky.actor.defs#knownFollowers`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct KnownFollowers {
    pub(crate) count: i64,
    pub(crate) followers: Vec<ProfileViewBasic>,
}

/// `app.bsky.actor.defs#verificationState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerificationState {
    pub(crate) verifications: Vec<VerificationView>,
    pub(crate) verified_status: String,
    pub(crate) trusted_verifier_status: String,
}

/// `app.bsky.actor.defs#verificationView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VerificationView {
    pub(crate) issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issuer_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issuer_handle: Option<String>,
    pub(crate) uri: String,
    pub(crate) is_valid: bool,
    pub(crate) created_at: String,
}

/// `app.bsky.actor.defs#statusView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cid: Option<String>,
    pub(crate) status: String,
    pub(crate) record: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) embed: Option<StatusEmbed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) is_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) is_disabled: Option<bool>,
}

open_union! {
    /// `app.bsky.actor.defs#statusView.embed`.
    pub(crate) enum StatusEmbed {
        "app.bsky.embed.external#view" => External(ExternalView),
    }
}
