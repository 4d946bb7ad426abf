//! An in-memory `chat.bsky.convo` service, built by implementing the
//! `Service` traits that atlex generates from the lexicons.
//!
//! The Bluesky chat service is not open source; this shows that anyone can
//! stand one up from the lexicons alone. It keeps everything in memory and
//! authenticates two ways ([`ChatAuth`]):
//!
//! - development tokens: each [`Account`] has one, and a request carrying
//!   `Authorization: Bearer <token>` acts as that account's DID;
//! - inter-service JWTs, as the real chat service receives them behind a PDS
//!   that proxies a user's call (`atproto-proxy:
//!   did:web:api.bsky.chat#bsky_chat`): signed by the user's atproto signing
//!   key, for this service's DID and the endpoint called, verified against
//!   the user's DID document ([`app_with_service_auth`]).
//!
//! Behaviour follows the lexicons' descriptions:
//! - leaving a group removes membership, but the owner gets `OwnerCannotLeave`
//!   until the group is locked (`lockConvo`);
//! - leaving a direct convo keeps the membership and only hides the convo from
//!   the leaver's listings;
//! - `addReaction` and `removeReaction` are idempotent; a value that is not
//!   exactly one grapheme or not an emoji gets `ReactionInvalidValue`, a
//!   deleted message `ReactionMessageDeleted`, a system message
//!   `ReactionNotAllowed`; an unknown convo is `InvalidConvo`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use atlex::server::{
    AuthRequest, Authenticator, CommonError, HandlerError, HandlerResult, Rejection, Request,
    ServiceAuthVerifier, ValidationMode, XrpcRouter,
};
use atlex::types::{Datetime, Did, Handle};
use atlex_lexicons::chat::bsky::actor::defs::{
    DirectConvoMember, GroupConvoMember, MemberRole, PastGroupConvoMember, ProfileViewBasic,
    ProfileViewBasicKind,
};
use atlex_lexicons::chat::bsky::convo::{
    self as convo, accept_convo, add_reaction, defs, get_convo, get_convo_for_members,
    get_messages, leave_convo, list_convos, lock_convo, mute_convo, remove_reaction, send_message,
    unmute_convo,
};
use atlex_lexicons::chat::bsky::group::{self as group, create_group};
use unicode_segmentation::UnicodeSegmentation;

/// An account the service knows, with the bearer token that acts as it.
#[derive(Clone, Debug)]
pub struct Account {
    /// The account's DID.
    pub did: Did,
    /// Its handle.
    pub handle: Handle,
    /// Its display name.
    pub display_name: Option<String>,
    /// The bearer token that authenticates as this account.
    pub token: String,
}

impl Account {
    /// An account; fails on an invalid DID or handle.
    pub fn new(did: &str, handle: &str, display_name: &str, token: &str) -> Result<Self, String> {
        Ok(Self {
            did: did.parse().map_err(|e| format!("{e}"))?,
            handle: handle.parse().map_err(|e| format!("{e}"))?,
            display_name: Some(display_name.to_owned()),
            token: token.to_owned(),
        })
    }
}

/// Three demo accounts: alice, bob and carol, with tokens `alice-token`,
/// `bob-token` and `carol-token`.
pub fn demo_accounts() -> Vec<Account> {
    [
        (
            "did:plc:alice000000000000000000a",
            "alice.test",
            "Alice",
            "alice-token",
        ),
        (
            "did:plc:bob00000000000000000000b",
            "bob.test",
            "Bob",
            "bob-token",
        ),
        (
            "did:plc:carol000000000000000000c",
            "carol.test",
            "Carol",
            "carol-token",
        ),
    ]
    .into_iter()
    .filter_map(|(did, handle, name, token)| Account::new(did, handle, name, token).ok())
    .collect()
}

/// How many distinct reactions one account may put on one message.
const REACTION_LIMIT: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lock {
    Unlocked,
    Locked,
}

#[derive(Debug)]
enum Kind {
    Direct,
    Group {
        name: String,
        owner: Did,
        lock: Lock,
        created_at: Datetime,
    },
}

#[derive(Debug)]
struct Member {
    did: Did,
    owner: bool,
    added_by: Option<Did>,
    /// Group only: the member left (or was removed).
    left: bool,
    /// Direct only: the member left, so the convo is hidden from their listings.
    hidden: bool,
    muted: bool,
    accepted: bool,
    /// How many messages of the convo this member has seen.
    read: usize,
}

#[derive(Debug)]
enum Body {
    Text {
        text: String,
        facets: Option<Vec<atlex_lexicons::app::bsky::richtext::facet::Facet>>,
        reply_to: Option<String>,
    },
    System(defs::SystemMessageViewData),
}

#[derive(Debug)]
struct Reaction {
    value: String,
    sender: Did,
    created_at: Datetime,
}

#[derive(Debug)]
struct Message {
    id: String,
    rev: String,
    sender: Did,
    sent_at: Datetime,
    body: Body,
    deleted: bool,
    reactions: Vec<Reaction>,
}

#[derive(Debug)]
struct Convo {
    id: String,
    rev: String,
    /// Ordering key of the last activity (higher is newer).
    activity: u64,
    kind: Kind,
    members: Vec<Member>,
    messages: Vec<Message>,
}

impl Convo {
    fn member(&self, did: &Did) -> Option<&Member> {
        self.members.iter().find(|m| &m.did == did)
    }

    fn member_mut(&mut self, did: &Did) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| &m.did == did)
    }

    /// Whether `did` currently takes part (a group member who left does not).
    fn is_active(&self, did: &Did) -> bool {
        self.member(did).is_some_and(|m| !m.left)
    }
}

#[derive(Debug, Default)]
struct State {
    convos: BTreeMap<String, Convo>,
    counter: u64,
}

impl State {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A fresh revision: sortable, unique.
    fn rev(&mut self) -> String {
        format!("{:020}", self.next())
    }
}

/// The in-memory chat service.
#[derive(Debug)]
pub struct ChatService {
    accounts: BTreeMap<Did, Account>,
    /// `handle.invalid`, the handle atproto shows for accounts it cannot resolve.
    unknown_handle: Handle,
    tokens: HashMap<String, Did>,
    state: Mutex<State>,
}

type Handled<E> = HandlerResult<E>;

fn invalid_convo<E>(make: impl FnOnce(Option<String>) -> E, id: &str) -> HandlerError<E> {
    HandlerError::endpoint(make(Some(format!(
        "no conversation {id:?} for this account"
    ))))
}

impl ChatService {
    /// A service for these accounts.
    pub fn new(accounts: Vec<Account>) -> Result<Self, atlex::types::FormatError> {
        let tokens = accounts
            .iter()
            .map(|a| (a.token.clone(), a.did.clone()))
            .collect();
        let accounts = accounts.into_iter().map(|a| (a.did.clone(), a)).collect();
        Ok(Self {
            accounts,
            unknown_handle: Handle::new("handle.invalid")?,
            tokens,
            state: Mutex::new(State::default()),
        })
    }

    /// Whether `token` is one of the accounts' development tokens.
    pub fn is_dev_token(&self, token: &str) -> bool {
        self.tokens.contains_key(token)
    }

    /// The caller named by a development bearer token, for
    /// [`XrpcRouter::authenticate`].
    pub fn authenticate(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<Option<Did>, CommonError> {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| CommonError::InvalidToken {
                message: Some("expected `Authorization: Bearer <token>`".to_owned()),
            })?;
        match self.tokens.get(token) {
            Some(did) => Ok(Some(did.clone())),
            None => Err(CommonError::InvalidToken {
                message: Some("unknown token".to_owned()),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a handler panicked mid-update; the data
        // is still the best there is for an in-memory demo.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn profile(&self, did: &Did, kind: Option<ProfileViewBasicKind>) -> ProfileViewBasic {
        let account = self.accounts.get(did);
        let handle = account.map_or_else(|| self.unknown_handle.clone(), |a| a.handle.clone());
        let mut profile = ProfileViewBasic::builder()
            .did(did.clone())
            .handle(handle)
            .build();
        profile.display_name = account.and_then(|a| a.display_name.clone());
        profile.kind = kind;
        profile
    }

    fn member_view(&self, convo: &Convo, member: &Member) -> ProfileViewBasic {
        let kind = match &convo.kind {
            Kind::Direct => DirectConvoMember::new().into(),
            Kind::Group { .. } if member.left => PastGroupConvoMember::new().into(),
            Kind::Group { .. } => {
                let role = if member.owner {
                    MemberRole::Owner
                } else {
                    MemberRole::Standard
                };
                let mut view = GroupConvoMember::new(role);
                view.added_by = member.added_by.as_ref().map(|did| self.profile(did, None));
                view.into()
            }
        };
        self.profile(&member.did, Some(kind))
    }

    fn message_view(
        &self,
        convo: &Convo,
        message: &Message,
        with_reply: bool,
    ) -> MessageViewOrOther {
        if message.deleted {
            return MessageViewOrOther::Deleted(
                defs::DeletedMessageView::builder()
                    .id(message.id.clone())
                    .rev(message.rev.clone())
                    .sender(defs::MessageViewSender::new(message.sender.clone()))
                    .sent_at(message.sent_at.clone())
                    .build(),
            );
        }
        match &message.body {
            Body::System(data) => MessageViewOrOther::System(
                defs::SystemMessageView::builder()
                    .id(message.id.clone())
                    .rev(message.rev.clone())
                    .sent_at(message.sent_at.clone())
                    .data(data.clone())
                    .build(),
            ),
            Body::Text {
                text,
                facets,
                reply_to,
            } => {
                let reply_to = reply_to
                    .as_ref()
                    .filter(|_| with_reply)
                    .and_then(|id| convo.messages.iter().find(|m| &m.id == id))
                    .map(|target| -> defs::MessageViewReplyTo {
                        match self.message_view(convo, target, false) {
                            MessageViewOrOther::Message(view) => (*view).into(),
                            MessageViewOrOther::Deleted(view) => view.into(),
                            MessageViewOrOther::System(_) => {
                                defs::MessageBeforeUserJoinedGroupView::new().into()
                            }
                        }
                    });
                let mut view = defs::MessageView::builder()
                    .id(message.id.clone())
                    .rev(message.rev.clone())
                    .text(text.clone())
                    .sender(defs::MessageViewSender::new(message.sender.clone()))
                    .sent_at(message.sent_at.clone())
                    .build();
                view.facets = facets.clone();
                view.reply_to = reply_to;
                view.reactions = (!message.reactions.is_empty()).then(|| {
                    message
                        .reactions
                        .iter()
                        .map(|r| {
                            defs::ReactionView::builder()
                                .value(r.value.clone())
                                .sender(defs::ReactionViewSender::new(r.sender.clone()))
                                .created_at(r.created_at.clone())
                                .build()
                        })
                        .collect()
                });
                MessageViewOrOther::Message(Box::new(view))
            }
        }
    }

    fn convo_view(&self, convo: &Convo, viewer: &Did) -> defs::ConvoView {
        let me = convo.member(viewer);
        let last_message = convo
            .messages
            .last()
            .map(|m| -> defs::ConvoViewLastMessage {
                match self.message_view(convo, m, false) {
                    MessageViewOrOther::Message(v) => (*v).into(),
                    MessageViewOrOther::Deleted(v) => v.into(),
                    MessageViewOrOther::System(v) => v.into(),
                }
            });
        let read = me.map_or(0, |m| m.read);
        let unread = convo
            .messages
            .iter()
            .skip(read)
            .filter(|m| &m.sender != viewer && !matches!(m.body, Body::System(_)))
            .count();
        let kind: defs::ConvoViewKind = match &convo.kind {
            Kind::Direct => defs::DirectConvo::new().into(),
            Kind::Group {
                name,
                lock,
                created_at,
                ..
            } => defs::GroupConvo::builder()
                .created_at(created_at.clone())
                .lock_status(match lock {
                    Lock::Unlocked => defs::ConvoLockStatus::Unlocked,
                    Lock::Locked => defs::ConvoLockStatus::Locked,
                })
                .lock_status_moderation_override(false)
                .member_count(convo.members.iter().filter(|m| !m.left).count() as i64)
                .member_limit(100)
                .name(name.clone())
                .build()
                .into(),
        };
        let members: Vec<_> = convo
            .members
            .iter()
            .filter(|m| !m.left)
            .map(|m| self.member_view(convo, m))
            .collect();
        let status = if me.is_some_and(|m| m.accepted) {
            defs::ConvoStatus::Accepted
        } else {
            defs::ConvoStatus::Request
        };
        let mut view = defs::ConvoView::builder()
            .id(convo.id.clone())
            .rev(convo.rev.clone())
            .members(members)
            .muted(me.is_some_and(|m| m.muted))
            .unread_count(unread as i64)
            .build()
            .with_status(status)
            .with_kind(kind);
        view.last_message = last_message;
        view
    }

    fn touch(state: &mut State, convo_id: &str) -> String {
        let rev = state.rev();
        let activity = state.counter;
        if let Some(convo) = state.convos.get_mut(convo_id) {
            convo.rev = rev.clone();
            convo.activity = activity;
        }
        rev
    }

    fn system_message(
        state: &mut State,
        convo_id: &str,
        sender: &Did,
        data: defs::SystemMessageViewData,
    ) {
        let n = state.next();
        let rev = Self::touch(state, convo_id);
        if let Some(convo) = state.convos.get_mut(convo_id) {
            convo.messages.push(Message {
                id: format!("msg-{n}"),
                rev,
                sender: sender.clone(),
                sent_at: Datetime::now(),
                body: Body::System(data),
                deleted: false,
                reactions: Vec::new(),
            });
        }
    }

    /// The shared checks of addReaction and removeReaction: the convo and
    /// message exist, the message can carry reactions, the value is one emoji.
    fn check_reaction<E>(
        state: &State,
        caller: &Did,
        convo_id: &str,
        message_id: &str,
        value: &str,
        errors: ReactionErrors<E>,
    ) -> Result<(), HandlerError<E>> {
        let convo = state
            .convos
            .get(convo_id)
            .filter(|c| c.is_active(caller))
            .ok_or_else(|| invalid_convo(errors.invalid_convo, convo_id))?;
        let message = convo
            .messages
            .iter()
            .find(|m| m.id == message_id)
            .ok_or_else(|| {
                HandlerError::invalid_request(format!(
                    "no message {message_id:?} in this conversation"
                ))
            })?;
        if message.deleted {
            return Err(HandlerError::endpoint((errors.deleted)(Some(
                "the message has been deleted".to_owned(),
            ))));
        }
        if matches!(message.body, Body::System(_)) {
            return Err(HandlerError::endpoint((errors.not_allowed)(Some(
                "system messages cannot have reactions".to_owned(),
            ))));
        }
        if let Err(reason) = check_reaction_value(value) {
            return Err(HandlerError::endpoint((errors.invalid_value)(Some(reason))));
        }
        Ok(())
    }
}

/// The declared errors of the reaction endpoints, as constructors.
struct ReactionErrors<E> {
    invalid_convo: fn(Option<String>) -> E,
    deleted: fn(Option<String>) -> E,
    not_allowed: fn(Option<String>) -> E,
    invalid_value: fn(Option<String>) -> E,
}

enum MessageViewOrOther {
    Message(Box<defs::MessageView>),
    Deleted(defs::DeletedMessageView),
    System(defs::SystemMessageView),
}

/// Checks that a reaction is exactly one grapheme and an emoji.
pub fn check_reaction_value(value: &str) -> Result<(), String> {
    let graphemes = value.graphemes(true).count();
    if graphemes != 1 {
        return Err(format!(
            "a reaction is exactly one emoji, got {graphemes} graphemes"
        ));
    }
    if !is_emoji(value) {
        return Err(format!("{value:?} is not an emoji"));
    }
    Ok(())
}

/// Whether a single grapheme is an emoji: its first code point is in one of
/// the Unicode ranges emoji are drawn from, or it is a keycap (`1️⃣`) or a
/// flag (two regional indicators). An approximation of the Unicode emoji
/// property that needs no data tables.
pub fn is_emoji(grapheme: &str) -> bool {
    let mut chars = grapheme.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let rest: Vec<char> = chars.collect();
    let c = first as u32;
    let keycap =
        (first.is_ascii_digit() || first == '#' || first == '*') && rest.contains(&'\u{20E3}');
    let pictographic = matches!(c,
        0x1F000..=0x1FAFF   // symbols & pictographs, emoticons, transport, flags, …
        | 0x2600..=0x27BF   // miscellaneous symbols, dingbats
        | 0x2300..=0x23FF   // miscellaneous technical (⌚, ⏰, …)
        | 0x2B00..=0x2BFF   // arrows and stars (⭐, ⬆)
        | 0x2190..=0x21FF   // arrows
        | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x24C2 | 0x25AA..=0x25FE);
    pictographic || keycap
}

impl convo::Service for ChatService {
    async fn get_convo_for_members(
        &self,
        request: Request<get_convo_for_members::GetConvoForMembers>,
    ) -> Handled<get_convo_for_members::GetConvoForMembers> {
        let caller = request.context.require_caller()?.clone();
        let mut wanted: Vec<Did> = request.params.members;
        if let Some(missing) = wanted.iter().find(|d| !self.accounts.contains_key(*d)) {
            return Err(HandlerError::endpoint(
                get_convo_for_members::Error::RecipientNotFound {
                    message: Some(format!("no account {missing}")),
                },
            ));
        }
        wanted.push(caller.clone());
        wanted.sort();
        wanted.dedup();
        if wanted.len() != 2 {
            return Err(HandlerError::invalid_request(
                "a direct conversation has exactly one other member; use chat.bsky.group.createGroup for groups",
            ));
        }
        let mut state = self.lock();
        let existing = state
            .convos
            .values()
            .find(|c| {
                matches!(c.kind, Kind::Direct) && {
                    let mut dids: Vec<&Did> = c.members.iter().map(|m| &m.did).collect();
                    dids.sort();
                    dids == wanted.iter().collect::<Vec<_>>()
                }
            })
            .map(|c| c.id.clone());
        let id = match existing {
            Some(id) => {
                if let Some(me) = state
                    .convos
                    .get_mut(&id)
                    .and_then(|c| c.member_mut(&caller))
                {
                    me.hidden = false;
                }
                id
            }
            None => {
                let id = format!("convo-{}", state.next());
                let rev = state.rev();
                let activity = state.counter;
                let members = wanted
                    .iter()
                    .map(|did| Member {
                        did: did.clone(),
                        owner: false,
                        added_by: None,
                        left: false,
                        hidden: false,
                        muted: false,
                        accepted: *did == caller,
                        read: 0,
                    })
                    .collect();
                state.convos.insert(
                    id.clone(),
                    Convo {
                        id: id.clone(),
                        rev,
                        activity,
                        kind: Kind::Direct,
                        members,
                        messages: Vec::new(),
                    },
                );
                id
            }
        };
        let convo = state
            .convos
            .get(&id)
            .ok_or_else(|| HandlerError::internal("conversation vanished"))?;
        Ok(get_convo_for_members::Output::new(
            self.convo_view(convo, &caller),
        ))
    }

    async fn get_convo(
        &self,
        request: Request<get_convo::GetConvo>,
    ) -> Handled<get_convo::GetConvo> {
        let caller = request.context.require_caller()?.clone();
        let state = self.lock();
        let id = &request.params.convo_id;
        let convo = state
            .convos
            .get(id)
            .filter(|c| c.is_active(&caller))
            .ok_or_else(|| {
                invalid_convo(|message| get_convo::Error::InvalidConvo { message }, id)
            })?;
        Ok(get_convo::Output::new(self.convo_view(convo, &caller)))
    }

    async fn list_convos(
        &self,
        request: Request<list_convos::ListConvos>,
    ) -> Handled<list_convos::ListConvos> {
        let caller = request.context.require_caller()?.clone();
        let params = &request.params;
        let limit = usize::try_from(params.limit_or_default()).unwrap_or(50);
        // The cursor is "<activity>/<id>" of the last convo of the previous page.
        let after = match params.cursor.as_deref() {
            None => None,
            Some(cursor) => {
                let (activity, id) = cursor
                    .split_once('/')
                    .and_then(|(a, id)| Some((a.parse::<u64>().ok()?, id.to_owned())))
                    .ok_or_else(|| {
                        HandlerError::invalid_request(format!("malformed cursor {cursor:?}"))
                    })?;
                Some((activity, id))
            }
        };
        let state = self.lock();
        let mut visible: Vec<&Convo> = state
            .convos
            .values()
            .filter(|c| c.member(&caller).is_some_and(|m| !m.left && !m.hidden))
            .filter(|c| match &params.kind {
                Some(list_convos::ParamsKind::Direct) => matches!(c.kind, Kind::Direct),
                Some(list_convos::ParamsKind::Group) => matches!(c.kind, Kind::Group { .. }),
                _ => true,
            })
            .filter(|c| match &params.status {
                Some(list_convos::ParamsStatus::Accepted) => {
                    c.member(&caller).is_some_and(|m| m.accepted)
                }
                Some(list_convos::ParamsStatus::Request) => {
                    c.member(&caller).is_some_and(|m| !m.accepted)
                }
                _ => true,
            })
            .collect();
        // Newest activity first; ties by id for a stable order.
        visible.sort_by(|a, b| b.activity.cmp(&a.activity).then_with(|| a.id.cmp(&b.id)));
        // The page starts after the cursor's convo in that order.
        let start = match &after {
            None => 0,
            Some((activity, id)) => visible
                .iter()
                .position(|c| c.activity < *activity || (c.activity == *activity && c.id > *id))
                .unwrap_or(visible.len()),
        };
        let page: Vec<&Convo> = visible.iter().skip(start).take(limit).copied().collect();
        let cursor = (start + page.len() < visible.len())
            .then(|| page.last().map(|c| format!("{}/{}", c.activity, c.id)))
            .flatten();
        let mut output = list_convos::Output::new(
            page.iter()
                .map(|c| self.convo_view(c, &caller))
                .collect::<Vec<_>>(),
        );
        output.cursor = cursor;
        Ok(output)
    }

    async fn send_message(
        &self,
        request: Request<send_message::SendMessage>,
    ) -> Handled<send_message::SendMessage> {
        let caller = request.context.require_caller()?.clone();
        let input = request.input;
        let mut state = self.lock();
        let id = input.convo_id.clone();
        let convo = state
            .convos
            .get(&id)
            .filter(|c| c.is_active(&caller))
            .ok_or_else(|| {
                invalid_convo(|message| send_message::Error::InvalidConvo { message }, &id)
            })?;
        if let Kind::Group {
            lock: Lock::Locked, ..
        } = convo.kind
        {
            return Err(HandlerError::endpoint(send_message::Error::ConvoLocked {
                message: Some("the group is locked".to_owned()),
            }));
        }
        let reply_to = input.message.reply_to.map(|r| r.message_id);
        if let Some(target) = &reply_to
            && !convo.messages.iter().any(|m| &m.id == target)
        {
            return Err(HandlerError::endpoint(
                send_message::Error::ReplyTargetNotFound {
                    message: Some(format!("no message {target:?} in this conversation")),
                },
            ));
        }
        let n = state.next();
        let rev = Self::touch(&mut state, &id);
        let convo = state
            .convos
            .get_mut(&id)
            .ok_or_else(|| HandlerError::internal("conversation vanished"))?;
        convo.messages.push(Message {
            id: format!("msg-{n}"),
            rev,
            sender: caller.clone(),
            sent_at: Datetime::now(),
            body: Body::Text {
                text: input.message.text,
                facets: input.message.facets,
                reply_to,
            },
            deleted: false,
            reactions: Vec::new(),
        });
        let count = convo.messages.len();
        if let Some(me) = convo.member_mut(&caller) {
            me.read = count;
            me.accepted = true;
        }
        let convo = &*convo;
        match convo
            .messages
            .last()
            .map(|m| self.message_view(convo, m, true))
        {
            Some(MessageViewOrOther::Message(view)) => Ok(*view),
            _ => Err(HandlerError::internal("the new message has no view")),
        }
    }

    async fn get_messages(
        &self,
        request: Request<get_messages::GetMessages>,
    ) -> Handled<get_messages::GetMessages> {
        let caller = request.context.require_caller()?.clone();
        let params = &request.params;
        let state = self.lock();
        let id = &params.convo_id;
        let convo = state
            .convos
            .get(id)
            .filter(|c| c.is_active(&caller))
            .ok_or_else(|| {
                invalid_convo(|message| get_messages::Error::InvalidConvo { message }, id)
            })?;
        let limit = usize::try_from(params.limit_or_default()).unwrap_or(50);
        // Newest first; the cursor is the index of the next (older) message.
        let end = match params.cursor.as_deref() {
            None => convo.messages.len(),
            Some(cursor) => cursor
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= convo.messages.len())
                .ok_or_else(|| {
                    HandlerError::invalid_request(format!("malformed cursor {cursor:?}"))
                })?,
        };
        let start = end.saturating_sub(limit);
        let messages: Vec<_> = convo.messages[start..end]
            .iter()
            .rev()
            .map(|m| match self.message_view(convo, m, true) {
                MessageViewOrOther::Message(v) => get_messages::OutputMessagesItem::MessageView(v),
                MessageViewOrOther::Deleted(v) => {
                    get_messages::OutputMessagesItem::DeletedMessageView(Box::new(v))
                }
                MessageViewOrOther::System(v) => {
                    get_messages::OutputMessagesItem::SystemMessageView(Box::new(v))
                }
            })
            .collect();
        let mut output = get_messages::Output::new(messages);
        output.cursor = (start > 0).then(|| start.to_string());
        Ok(output)
    }

    async fn add_reaction(
        &self,
        request: Request<add_reaction::AddReaction>,
    ) -> Handled<add_reaction::AddReaction> {
        let caller = request.context.require_caller()?.clone();
        let input = request.input;
        let mut state = self.lock();
        Self::check_reaction(
            &state,
            &caller,
            &input.convo_id,
            &input.message_id,
            &input.value,
            ReactionErrors {
                invalid_convo: |message| add_reaction::Error::InvalidConvo { message },
                deleted: |message| add_reaction::Error::ReactionMessageDeleted { message },
                not_allowed: |message| add_reaction::Error::ReactionNotAllowed { message },
                invalid_value: |message| add_reaction::Error::ReactionInvalidValue { message },
            },
        )?;
        let convo = state
            .convos
            .get_mut(&input.convo_id)
            .ok_or_else(|| HandlerError::internal("conversation vanished"))?;
        let message = convo
            .messages
            .iter_mut()
            .find(|m| m.id == input.message_id)
            .ok_or_else(|| HandlerError::internal("message vanished"))?;
        let already = message
            .reactions
            .iter()
            .any(|r| r.sender == caller && r.value == input.value);
        if !already {
            let mine = message
                .reactions
                .iter()
                .filter(|r| r.sender == caller)
                .count();
            if mine >= REACTION_LIMIT {
                return Err(HandlerError::endpoint(
                    add_reaction::Error::ReactionLimitReached {
                        message: Some(format!("at most {REACTION_LIMIT} reactions per message")),
                    },
                ));
            }
            message.reactions.push(Reaction {
                value: input.value.clone(),
                sender: caller.clone(),
                created_at: Datetime::now(),
            });
        }
        let convo = &*convo;
        match convo
            .messages
            .iter()
            .find(|m| m.id == input.message_id)
            .map(|m| self.message_view(convo, m, true))
        {
            Some(MessageViewOrOther::Message(view)) => Ok(add_reaction::Output::new(*view)),
            _ => Err(HandlerError::internal("the message has no view")),
        }
    }

    async fn remove_reaction(
        &self,
        request: Request<remove_reaction::RemoveReaction>,
    ) -> Handled<remove_reaction::RemoveReaction> {
        let caller = request.context.require_caller()?.clone();
        let input = request.input;
        let mut state = self.lock();
        Self::check_reaction(
            &state,
            &caller,
            &input.convo_id,
            &input.message_id,
            &input.value,
            ReactionErrors {
                invalid_convo: |message| remove_reaction::Error::InvalidConvo { message },
                deleted: |message| remove_reaction::Error::ReactionMessageDeleted { message },
                not_allowed: |message| remove_reaction::Error::ReactionNotAllowed { message },
                invalid_value: |message| remove_reaction::Error::ReactionInvalidValue { message },
            },
        )?;
        let convo = state
            .convos
            .get_mut(&input.convo_id)
            .ok_or_else(|| HandlerError::internal("conversation vanished"))?;
        let message = convo
            .messages
            .iter_mut()
            .find(|m| m.id == input.message_id)
            .ok_or_else(|| HandlerError::internal("message vanished"))?;
        // Idempotent: removing a reaction that is not there is not an error.
        message
            .reactions
            .retain(|r| !(r.sender == caller && r.value == input.value));
        let convo = &*convo;
        match convo
            .messages
            .iter()
            .find(|m| m.id == input.message_id)
            .map(|m| self.message_view(convo, m, true))
        {
            Some(MessageViewOrOther::Message(view)) => Ok(remove_reaction::Output::new(*view)),
            _ => Err(HandlerError::internal("the message has no view")),
        }
    }

    async fn leave_convo(
        &self,
        request: Request<leave_convo::LeaveConvo>,
    ) -> Handled<leave_convo::LeaveConvo> {
        let caller = request.context.require_caller()?.clone();
        let id = request.input.convo_id;
        let mut state = self.lock();
        let convo = state
            .convos
            .get(&id)
            .filter(|c| c.member(&caller).is_some_and(|m| !m.left && !m.hidden))
            .ok_or_else(|| {
                invalid_convo(|message| leave_convo::Error::InvalidConvo { message }, &id)
            })?;
        match &convo.kind {
            Kind::Group {
                owner,
                lock: Lock::Unlocked,
                ..
            } if *owner == caller => {
                return Err(HandlerError::endpoint(
                    leave_convo::Error::OwnerCannotLeave {
                        message: Some(
                            "the owner of a group cannot leave before locking it".to_owned(),
                        ),
                    },
                ));
            }
            Kind::Group { .. } => {
                Self::system_message(
                    &mut state,
                    &id,
                    &caller,
                    defs::SystemMessageDataMemberLeave::new(defs::SystemMessageReferredUser::new(
                        caller.clone(),
                    ))
                    .into(),
                );
                if let Some(me) = state
                    .convos
                    .get_mut(&id)
                    .and_then(|c| c.member_mut(&caller))
                {
                    me.left = true;
                }
            }
            Kind::Direct => {
                if let Some(me) = state
                    .convos
                    .get_mut(&id)
                    .and_then(|c| c.member_mut(&caller))
                {
                    me.hidden = true;
                }
            }
        }
        let rev = Self::touch(&mut state, &id);
        Ok(leave_convo::Output::builder().convo_id(id).rev(rev).build())
    }

    async fn accept_convo(
        &self,
        request: Request<accept_convo::AcceptConvo>,
    ) -> Handled<accept_convo::AcceptConvo> {
        let caller = request.context.require_caller()?.clone();
        let id = request.input.convo_id;
        let mut state = self.lock();
        let member = state
            .convos
            .get_mut(&id)
            .filter(|c| c.is_active(&caller))
            .and_then(|c| c.member_mut(&caller))
            .ok_or_else(|| {
                invalid_convo(|message| accept_convo::Error::InvalidConvo { message }, &id)
            })?;
        member.accepted = true;
        let rev = Self::touch(&mut state, &id);
        Ok(accept_convo::Output::new().with_rev(rev))
    }

    async fn mute_convo(
        &self,
        request: Request<mute_convo::MuteConvo>,
    ) -> Handled<mute_convo::MuteConvo> {
        let caller = request.context.require_caller()?.clone();
        let id = request.input.convo_id;
        let convo = self.set_muted(&caller, &id, true).ok_or_else(|| {
            invalid_convo(|message| mute_convo::Error::InvalidConvo { message }, &id)
        })?;
        Ok(mute_convo::Output::new(convo))
    }

    async fn unmute_convo(
        &self,
        request: Request<unmute_convo::UnmuteConvo>,
    ) -> Handled<unmute_convo::UnmuteConvo> {
        let caller = request.context.require_caller()?.clone();
        let id = request.input.convo_id;
        let convo = self.set_muted(&caller, &id, false).ok_or_else(|| {
            invalid_convo(|message| unmute_convo::Error::InvalidConvo { message }, &id)
        })?;
        Ok(unmute_convo::Output::new(convo))
    }

    async fn lock_convo(
        &self,
        request: Request<lock_convo::LockConvo>,
    ) -> Handled<lock_convo::LockConvo> {
        let caller = request.context.require_caller()?.clone();
        let id = request.input.convo_id;
        let mut state = self.lock();
        let convo = state
            .convos
            .get_mut(&id)
            .filter(|c| c.is_active(&caller))
            .ok_or_else(|| {
                invalid_convo(|message| lock_convo::Error::InvalidConvo { message }, &id)
            })?;
        match &mut convo.kind {
            Kind::Direct => {
                return Err(HandlerError::invalid_request(
                    "only group conversations can be locked",
                ));
            }
            Kind::Group { owner, .. } if *owner != caller => {
                return Err(HandlerError::endpoint(
                    lock_convo::Error::InsufficientRole {
                        message: Some("only the owner can lock the group".to_owned()),
                    },
                ));
            }
            Kind::Group {
                lock: Lock::Locked, ..
            } => {
                return Err(HandlerError::endpoint(lock_convo::Error::ConvoLocked {
                    message: Some("the group is already locked".to_owned()),
                }));
            }
            Kind::Group { lock, .. } => *lock = Lock::Locked,
        }
        Self::system_message(
            &mut state,
            &id,
            &caller,
            defs::SystemMessageDataLockConvo::new(defs::SystemMessageReferredUser::new(
                caller.clone(),
            ))
            .into(),
        );
        let convo = state
            .convos
            .get(&id)
            .ok_or_else(|| HandlerError::internal("conversation vanished"))?;
        Ok(lock_convo::Output::new(self.convo_view(convo, &caller)))
    }
}

impl ChatService {
    /// Deletes a message for everyone, as a moderator would (not an XRPC
    /// endpoint of this service). Returns whether the message existed.
    pub fn delete_message(&self, convo_id: &str, message_id: &str) -> bool {
        let mut state = self.lock();
        let Some(message) = state
            .convos
            .get_mut(convo_id)
            .and_then(|c| c.messages.iter_mut().find(|m| m.id == message_id))
        else {
            return false;
        };
        message.deleted = true;
        true
    }

    fn set_muted(&self, caller: &Did, id: &str, muted: bool) -> Option<defs::ConvoView> {
        let mut state = self.lock();
        let member = state
            .convos
            .get_mut(id)
            .filter(|c| c.is_active(caller))
            .and_then(|c| c.member_mut(caller))?;
        member.muted = muted;
        Self::touch(&mut state, id);
        state.convos.get(id).map(|c| self.convo_view(c, caller))
    }
}

impl group::Service for ChatService {
    async fn create_group(
        &self,
        request: Request<create_group::CreateGroup>,
    ) -> Handled<create_group::CreateGroup> {
        let caller = request.context.require_caller()?.clone();
        let input = request.input;
        if let Some(missing) = input
            .members
            .iter()
            .find(|d| !self.accounts.contains_key(*d))
        {
            return Err(HandlerError::invalid_request(format!(
                "no account {missing}"
            )));
        }
        let mut state = self.lock();
        let id = format!("convo-{}", state.next());
        let rev = state.rev();
        let activity = state.counter;
        let mut members = vec![Member {
            did: caller.clone(),
            owner: true,
            added_by: None,
            left: false,
            hidden: false,
            muted: false,
            accepted: true,
            read: 0,
        }];
        for did in input.members.iter().filter(|d| **d != caller) {
            if members.iter().any(|m| &m.did == did) {
                continue;
            }
            members.push(Member {
                did: did.clone(),
                owner: false,
                added_by: Some(caller.clone()),
                left: false,
                hidden: false,
                muted: false,
                accepted: false,
                read: 0,
            });
        }
        let added: Vec<Did> = members.iter().skip(1).map(|m| m.did.clone()).collect();
        state.convos.insert(
            id.clone(),
            Convo {
                id: id.clone(),
                rev,
                activity,
                kind: Kind::Group {
                    name: input.name,
                    owner: caller.clone(),
                    lock: Lock::Unlocked,
                    created_at: Datetime::now(),
                },
                members,
                messages: Vec::new(),
            },
        );
        for did in added {
            Self::system_message(
                &mut state,
                &id,
                &caller,
                defs::SystemMessageDataAddMember::builder()
                    .member(defs::SystemMessageReferredUser::new(did))
                    .role(MemberRole::Standard)
                    .added_by(defs::SystemMessageReferredUser::new(caller.clone()))
                    .build()
                    .into(),
            );
        }
        let convo = state
            .convos
            .get(&id)
            .ok_or_else(|| HandlerError::internal("conversation vanished"))?;
        Ok(create_group::Output::new(self.convo_view(convo, &caller)))
    }
}

/// How the service authenticates callers: development tokens first, then,
/// when a verifier is set, inter-service JWTs.
#[derive(Debug)]
pub struct ChatAuth {
    service: Arc<ChatService>,
    service_auth: Option<ServiceAuthVerifier>,
}

impl ChatAuth {
    /// Development tokens of `service`'s accounts, and service-auth JWTs
    /// checked by `service_auth` if given.
    pub fn new(service: Arc<ChatService>, service_auth: Option<ServiceAuthVerifier>) -> Self {
        Self {
            service,
            service_auth,
        }
    }
}

impl Authenticator for ChatAuth {
    async fn authenticate(&self, request: AuthRequest<'_>) -> Result<Option<Did>, Rejection> {
        match (&self.service_auth, request.bearer_token()) {
            // A JWT: any account of the network, as its PDS vouches for it.
            (Some(verifier), Some(token)) if !self.service.is_dev_token(token) => {
                verifier.authenticate(request).await
            }
            _ => self
                .service
                .authenticate(request.headers)
                .map_err(Rejection::from),
        }
    }
}

/// The service's HTTP routes: `/xrpc/chat.bsky.convo.*` and
/// `/xrpc/chat.bsky.group.createGroup`, authenticated with the accounts'
/// development tokens.
pub fn app(service: ChatService) -> axum::Router {
    app_shared(Arc::new(service))
}

/// [`app`] for a service the caller keeps a handle on (to reach
/// [`ChatService::delete_message`], say).
pub fn app_shared(service: Arc<ChatService>) -> axum::Router {
    router(ChatAuth::new(Arc::clone(&service), None), service)
}

/// [`app_shared`], also accepting inter-service JWTs that `verifier` checks
/// (for this service's DID, such as `did:web:api.bsky.chat#bsky_chat`):
/// their issuer is the caller, whether or not it is one of the demo
/// accounts.
pub fn app_with_service_auth(
    service: Arc<ChatService>,
    verifier: ServiceAuthVerifier,
) -> axum::Router {
    router(ChatAuth::new(Arc::clone(&service), Some(verifier)), service)
}

fn router(auth: ChatAuth, service: Arc<ChatService>) -> axum::Router {
    XrpcRouter::from_arc(service)
        .mount(convo::register)
        .mount(group::register)
        .authenticator(auth)
        // Debug builds (and so the tests) check every answer against the
        // lexicon: a bug that builds a bad view fails loudly here rather than
        // in a client.
        .validate_outputs(if cfg!(debug_assertions) {
            ValidationMode::Strict
        } else {
            ValidationMode::Off
        })
        // A reaction that is not exactly one grapheme breaks the lexicon's
        // constraints; the lexicon declares ReactionInvalidValue for it.
        .map_invalid_input::<add_reaction::AddReaction>(|violations| {
            Some(add_reaction::Error::ReactionInvalidValue {
                message: Some(format!("a reaction is exactly one emoji: {violations}")),
            })
        })
        .map_invalid_input::<remove_reaction::RemoveReaction>(|violations| {
            Some(remove_reaction::Error::ReactionInvalidValue {
                message: Some(format!("a reaction is exactly one emoji: {violations}")),
            })
        })
        .into_router()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_values() {
        for ok in ["👍", "👍🏽", "❤️", "🇫🇷", "1️⃣", "👨‍👩‍👧‍👧", "⭐"]
        {
            assert_eq!(check_reaction_value(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a", "👍👍", "ab", "é", "1", "#"] {
            assert!(check_reaction_value(bad).is_err(), "{bad}");
        }
    }
}
