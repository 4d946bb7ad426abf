// chat.bsky.* views and the `chat.bsky.convo.listConvos` output. Included by
// `mod.rs` into each flavour.

/// `chat.bsky.convo.listConvos#output`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ListConvosOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub convos: Vec<ConvoView>,
}

/// `chat.bsky.convo.defs#convoView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvoView {
    pub id: String,
    pub rev: String,
    pub members: Vec<ChatProfileViewBasic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reaction: Option<LastReaction>,
    pub muted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub unread_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ConvoKind>,
}

open_union! {
    /// `chat.bsky.convo.defs#convoView.lastMessage`.
    pub enum LastMessage {
        "chat.bsky.convo.defs#messageView" => Message(MessageView),
        "chat.bsky.convo.defs#deletedMessageView" => Deleted(DeletedMessageView),
        "chat.bsky.convo.defs#systemMessageView" => System(SystemMessageView),
    }
}

open_union! {
    /// `chat.bsky.convo.defs#convoView.lastReaction`.
    pub enum LastReaction {
        "chat.bsky.convo.defs#messageAndReactionView" => MessageAndReaction(MessageAndReactionView),
    }
}

open_union! {
    /// `chat.bsky.convo.defs#convoView.kind`.
    pub enum ConvoKind {
        "chat.bsky.convo.defs#directConvo" => Direct(Empty),
        "chat.bsky.convo.defs#groupConvo" => Group(GroupConvo),
    }
}

/// `chat.bsky.actor.defs#profileViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatProfileViewBasic {
    pub did: String,
    pub handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
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
    pub chat_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MemberKind>,
}

open_union! {
    /// `chat.bsky.actor.defs#profileViewBasic.kind`.
    pub enum MemberKind {
        "chat.bsky.actor.defs#directConvoMember" => Direct(Empty),
        "chat.bsky.actor.defs#groupConvoMember" => Group(GroupConvoMember),
        "chat.bsky.actor.defs#pastGroupConvoMember" => PastGroup(Empty),
    }
}

/// `chat.bsky.actor.defs#groupConvoMember`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupConvoMember {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<ChatProfileViewBasic>,
    pub role: String,
}

/// `chat.bsky.convo.defs#messageView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub rev: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facets: Option<Vec<Facet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<MessageEmbed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions: Option<Vec<ReactionView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyTo>,
    pub sender: DidRef,
    pub sent_at: String,
}

/// `chat.bsky.convo.defs#messageViewSender`, `#reactionViewSender` and
/// `#systemMessageReferredUser`: a DID and nothing else.
#[derive(Debug, Deserialize, Serialize)]
pub struct DidRef {
    pub did: String,
}

open_union! {
    /// `chat.bsky.convo.defs#messageView.embed`.
    pub enum MessageEmbed {
        "app.bsky.embed.record#view" => Record(RecordView),
        "chat.bsky.embed.joinLink#view" => JoinLink(JoinLinkEmbedView),
    }
}

open_union! {
    /// `chat.bsky.convo.defs#messageView.replyTo`.
    pub enum ReplyTo {
        "chat.bsky.convo.defs#messageView" => Message(MessageView),
        "chat.bsky.convo.defs#deletedMessageView" => Deleted(DeletedMessageView),
        "chat.bsky.convo.defs#messageBeforeUserJoinedGroupView" => BeforeUserJoined(Empty),
    }
}

/// `chat.bsky.convo.defs#reactionView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionView {
    pub value: String,
    pub sender: DidRef,
    pub created_at: String,
}

/// `chat.bsky.convo.defs#deletedMessageView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedMessageView {
    pub id: String,
    pub rev: String,
    pub sender: DidRef,
    pub sent_at: String,
}

/// `chat.bsky.convo.defs#messageAndReactionView`.
#[derive(Debug, Deserialize, Serialize)]
pub struct MessageAndReactionView {
    pub message: MessageView,
    pub reaction: ReactionView,
}

/// `chat.bsky.convo.defs#systemMessageView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemMessageView {
    pub id: String,
    pub rev: String,
    pub sent_at: String,
    pub data: SystemMessageData,
}

open_union! {
    /// `chat.bsky.convo.defs#systemMessageView.data`.
    pub enum SystemMessageData {
        "chat.bsky.convo.defs#systemMessageDataAddMember" => AddMember(AddMember),
        "chat.bsky.convo.defs#systemMessageDataRemoveMember" => RemoveMember(RemoveMember),
        "chat.bsky.convo.defs#systemMessageDataMemberJoin" => MemberJoin(MemberJoin),
        "chat.bsky.convo.defs#systemMessageDataMemberLeave" => MemberLeave(MemberLeave),
        "chat.bsky.convo.defs#systemMessageDataLockConvo" => LockConvo(LockedBy),
        "chat.bsky.convo.defs#systemMessageDataUnlockConvo" => UnlockConvo(UnlockConvo),
        "chat.bsky.convo.defs#systemMessageDataLockConvoPermanently" => LockConvoPermanently(LockedBy),
        "chat.bsky.convo.defs#systemMessageDataEditGroup" => EditGroup(EditGroup),
        "chat.bsky.convo.defs#systemMessageDataCreateJoinLink" => CreateJoinLink(Empty),
        "chat.bsky.convo.defs#systemMessageDataEditJoinLink" => EditJoinLink(Empty),
        "chat.bsky.convo.defs#systemMessageDataEnableJoinLink" => EnableJoinLink(Empty),
        "chat.bsky.convo.defs#systemMessageDataDisableJoinLink" => DisableJoinLink(Empty),
    }
}

/// `chat.bsky.convo.defs#systemMessageDataAddMember`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddMember {
    pub member: DidRef,
    pub role: String,
    pub added_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataRemoveMember`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveMember {
    pub member: DidRef,
    pub removed_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataMemberJoin`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberJoin {
    pub member: DidRef,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<DidRef>,
}

/// `chat.bsky.convo.defs#systemMessageDataMemberLeave`.
#[derive(Debug, Deserialize, Serialize)]
pub struct MemberLeave {
    pub member: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataLockConvo` and
/// `#systemMessageDataLockConvoPermanently`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LockedBy {
    pub locked_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataUnlockConvo`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockConvo {
    pub unlocked_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataEditGroup`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EditGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
}

/// `chat.bsky.convo.defs#groupConvo`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupConvo {
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_link: Option<JoinLinkView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_request_count: Option<i64>,
    pub lock_status: String,
    pub lock_status_moderation_override: bool,
    pub member_count: i64,
    pub member_limit: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_join_request_count: Option<i64>,
}

/// `chat.bsky.group.defs#joinLinkView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinLinkView {
    pub code: String,
    pub enabled_status: String,
    pub require_approval: bool,
    pub join_rule: String,
    pub created_at: String,
}

/// `chat.bsky.embed.joinLink#view`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinLinkEmbedView {
    pub join_link_preview: JoinLinkPreview,
}

open_union! {
    /// `chat.bsky.embed.joinLink#view.joinLinkPreview`.
    pub enum JoinLinkPreview {
        "chat.bsky.group.defs#joinLinkPreviewView" => Preview(JoinLinkPreviewView),
        "chat.bsky.group.defs#disabledJoinLinkPreviewView" => Disabled(JoinLinkCode),
        "chat.bsky.group.defs#invalidJoinLinkPreviewView" => Invalid(JoinLinkCode),
    }
}

/// `chat.bsky.group.defs#joinLinkPreviewView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinLinkPreviewView {
    pub convo_id: String,
    pub code: String,
    pub name: String,
    pub owner: ChatProfileViewBasic,
    pub member_count: i64,
    pub member_limit: i64,
    pub require_approval: bool,
    pub join_rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convo: Option<ConvoView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer: Option<JoinLinkViewerState>,
}

/// `chat.bsky.group.defs#joinLinkViewerState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinLinkViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
}

/// `chat.bsky.group.defs#disabledJoinLinkPreviewView` and
/// `#invalidJoinLinkPreviewView`: the link's code.
#[derive(Debug, Deserialize, Serialize)]
pub struct JoinLinkCode {
    pub code: String,
}
