// app.bsky.actor.defs: profile views and what they hold. Included by
// `mod.rs` into each flavour.

/// `app.bsky.actor.defs#profileViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileViewBasic {
    pub did: String,
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated: Option<ProfileAssociated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<ViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<Value>,
}

/// `app.bsky.actor.defs#profileView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub did: String,
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated: Option<ProfileAssociated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<ViewerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<Value>,
}

/// `app.bsky.actor.defs#profileAssociated`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileAssociated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedgens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starter_packs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeler: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<ProfileAssociatedChat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_subscription: Option<ProfileAssociatedActivitySubscription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub germ: Option<ProfileAssociatedGerm>,
}

/// `app.bsky.actor.defs#profileAssociatedChat`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileAssociatedChat {
    pub allow_incoming: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_group_invites: Option<String>,
}

/// `app.bsky.actor.defs#profileAssociatedActivitySubscription`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileAssociatedActivitySubscription {
    pub allow_subscriptions: String,
}

/// `app.bsky.actor.defs#profileAssociatedGerm`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileAssociatedGerm {
    pub message_me_url: String,
    pub show_button_to: String,
}

/// `app.bsky.actor.defs#viewerState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_only_reposts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_only_quoteposts: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_by_list: Option<ListViewBasic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_by_list: Option<ListViewBasic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_followers: Option<KnownFollowers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_subscription: Option<ActivitySubscription>,
}

/// `app.bsky.actor.defs#knownFollowers`.
#[derive(Debug, Deserialize, Serialize)]
pub struct KnownFollowers {
    pub count: i64,
    pub followers: Vec<ProfileViewBasic>,
}

/// `app.bsky.actor.defs#verificationState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationState {
    pub verifications: Vec<VerificationView>,
    pub verified_status: String,
    pub trusted_verifier_status: String,
}

/// `app.bsky.actor.defs#verificationView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationView {
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_handle: Option<String>,
    pub uri: String,
    pub is_valid: bool,
    pub created_at: String,
}

/// `app.bsky.actor.defs#statusView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    pub status: String,
    pub record: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<StatusEmbed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_disabled: Option<bool>,
}

open_union! {
    /// `app.bsky.actor.defs#statusView.embed`.
    pub enum StatusEmbed {
        "app.bsky.embed.external#view" => External(ExternalView),
    }
}
