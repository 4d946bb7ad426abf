// chat.bsky.* views and the `chat.bsky.convo.listConvos` output. Included by
// `mod.rs` into each flavour.

/// `chat.bsky.convo.listConvos#output`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct ListConvosOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cursor: Option<String>,
    pub(crate) convos: Vec<ConvoView>,
}

/// `chat.bsky.convo.defs#convoView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConvoView {
    pub(crate) id: String,
    pub(crate) rev: String,
    pub(crate) members: Vec<ChatProfileViewBasic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_message: Option<LastMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_reaction: Option<LastReaction>,
    pub(crate) muted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    pub(crate) unread_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<ConvoKind>,
}

open_union! {
    /// `chat.bsky.convo.defs#convoView.lastMessage`.
    pub(crate) enum LastMessage {
        "chat.bsky.convo.defs#messageView" => Message(MessageView),
        "chat.bsky.convo.defs#deletedMessageView" => Deleted(DeletedMessageView),
        "chat.bsky.convo.defs#systemMessageView" => System(SystemMessageView),
    }
}

open_union! {
    /// `chat.bsky.convo.defs#convoView.lastReaction`.
    pub(crate) enum LastReaction {
        "chat.bsky.convo.defs#messageAndReactionView" => MessageAndReaction(MessageAndReactionView),
    }
}

open_union! {
    /// `chat.bsky.convo.defs#convoView.kind`.
    pub(crate) enum ConvoKind {
        "chat.bsky.convo.defs#directConvo" => Direct(Empty),
        "chat.bsky.convo.defs#groupConvo" => Group(GroupConvo),
    }
}

/// `chat.bsky.actor.defs#profileViewBasic`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChatProfileViewBasic {
    pub(crate) did: String,
    pub(crate) handle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) display_name: Option<String>,
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
    pub(crate) chat_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verification: Option<VerificationState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<MemberKind>,
}

open_union! {
    /// `chat.bsky.actor.defs#profileViewBasic.kind`.
    pub(crate) enum MemberKind {
        "chat.bsky.actor.defs#directConvoMember" => Direct(Empty),
        "chat.bsky.actor.defs#groupConvoMember" => Group(GroupConvoMember),
        "chat.bsky.actor.defs#pastGroupConvoMember" => PastGroup(Empty),
    }
}

/// `chat.bsky.actor.defs#groupConvoMember`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupConvoMember {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) added_by: Option<ChatProfileViewBasic>,
    pub(crate) role: String,
}

/// `chat.bsky.convo.defs#messageView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageView {
    pub(crate) id: String,
    pub(crate) rev: String,
    pub(crate) text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) facets: Option<Vec<Facet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) embed: Option<MessageEmbed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reactions: Option<Vec<ReactionView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reply_to: Option<ReplyTo>,
    pub(crate) sender: DidRef,
    pub(crate) sent_at: String,
}

/// `chat.bsky.convo.defs#messageViewSender`, `#reactionViewSender` and
/// `#systemMessageReferredUser`: a DID and nothing else.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct DidRef {
    pub(crate) did: String,
}

open_union! {
    /// `chat.bsky.convo.defs#messageView.embed`.
    pub(crate) enum MessageEmbed {
        "app.bsky.embed.record#view" => Record(RecordView),
        "chat.bsky.embed.joinLink#view" => JoinLink(JoinLinkEmbedView),
    }
}

open_union! {
    /// `chat.bsky.convo.defs#messageView.replyTo`.
    pub(crate) enum ReplyTo {
        "chat.bsky.convo.defs#messageView" => Message(MessageView),
        "chat.bsky.convo.defs#deletedMessageView" => Deleted(DeletedMessageView),
        "chat.bsky.convo.defs#messageBeforeUserJoinedGroupView" => BeforeUserJoined(Empty),
    }
}

/// `chat.bsky.convo.defs#reactionView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReactionView {
    pub(crate) value: String,
    pub(crate) sender: DidRef,
    pub(crate) created_at: String,
}

/// `chat.bsky.convo.defs#deletedMessageView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedMessageView {
    pub(crate) id: String,
    pub(crate) rev: String,
    pub(crate) sender: DidRef,
    pub(crate) sent_at: String,
}

/// `chat.bsky.convo.defs#messageAndReactionView`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct MessageAndReactionView {
    pub(crate) message: MessageView,
    pub(crate) reaction: ReactionView,
}

/// `chat.bsky.convo.defs#systemMessageView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SystemMessageView {
    pub(crate) id: String,
    pub(crate) rev: String,
    pub(crate) sent_at: String,
    pub(crate) data: SystemMessageData,
}

open_union! {
    /// `chat.bsky.convo.defs#systemMessageView.data`.
    pub(crate) enum SystemMessageData {
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
pub(crate) struct AddMember {
    pub(crate) member: DidRef,
    pub(crate) role: String,
    pub(crate) added_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataRemoveMember`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RemoveMember {
    pub(crate) member: DidRef,
    pub(crate) removed_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataMemberJoin`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MemberJoin {
    pub(crate) member: DidRef,
    pub(crate) role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) approved_by: Option<DidRef>,
}

/// `chat.bsky.convo.defs#systemMessageDataMemberLeave`.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct MemberLeave {
    pub(crate) member: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataLockConvo` and
/// `#systemMessageDataLockConvoPermanently`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LockedBy {
    pub(crate) locked_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataUnlockConvo`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnlockConvo {
    pub(crate) unlocked_by: DidRef,
}

/// `chat.bsky.convo.defs#systemMessageDataEditGroup`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EditGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) old_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) new_name: Option<String>,
}

/// `chat.bsky.convo.defs#groupConvo`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupConvo {
    pub(crate) created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) join_link: Option<JoinLinkView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) join_request_count: Option<i64>,
    pub(crate) lock_status: String,
    pub(crate) lock_status_moderation_override: bool,
    pub(crate) member_count: i64,
    pub(crate) member_limit: i64,
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unread_join_request_count: Option<i64>,
}

/// `chat.bsky.group.defs#joinLinkView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinLinkView {
    pub(crate) code: String,
    pub(crate) enabled_status: String,
    pub(crate) require_approval: bool,
    pub(crate) join_rule: String,
    pub(crate) created_at: String,
}

/// `chat.bsky.embed.joinLink#view`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinLinkEmbedView {
    pub(crate) join_link_preview: JoinLinkPreview,
}

open_union! {
    /// `chat.bsky.embed.joinLink#view.joinLinkPreview`.
    pub(crate) enum JoinLinkPreview {
        "chat.bsky.group.defs#joinLinkPreviewView" => Preview(JoinLinkPreviewView),
        "chat.bsky.group.defs#disabledJoinLinkPreviewView" => Disabled(JoinLinkCode),
        "chat.bsky.group.defs#invalidJoinLinkPreviewView" => Invalid(JoinLinkCode),
    }
}

/// `chat.bsky.group.defs#joinLinkPreviewView`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinLinkPreviewView {
    pub(crate) convo_id: String,
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) owner: ChatProfileViewBasic,
    pub(crate) member_count: i64,
    pub(crate) member_limit: i64,
    pub(crate) require_approval: bool,
    pub(crate) join_rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) convo: Option<ConvoView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) viewer: Option<JoinLinkViewerState>,
}

/// `chat.bsky.group.defs#joinLinkViewerState`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JoinLinkViewerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) requested_at: Option<String>,
}

/// `chat.bsky.group.defs#disabledJoinLinkPreviewView` and
/// `#invalidJoinLinkPreviewView`: the link's code.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct JoinLinkCode {
    pub(crate) code: String,
}
