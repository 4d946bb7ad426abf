//! A Slack workspace that serves `conversations.leave`, built by implementing
//! the `com.slack.conversations` `Service` trait generated from the lexicon
//! and its binding: the router mounts it at `POST /conversations.leave`,
//! reads JSON or form bodies, requires a bearer token, and writes results and
//! errors the way Slack's Web API does (`{"ok": false, "error": …}` with HTTP
//! 200, `ratelimited` with 429 and `Retry-After`).
//!
//! Behaviour follows the method's documentation:
//! - leaving a channel the user is in answers `{"ok": true}`;
//! - leaving one the user is not in is not an error: `{"ok": false,
//!   "not_in_channel": true}`;
//! - the general channel gives `cant_leave_general`, an archived one
//!   `is_archived`, the last member `last_member`, an unknown id
//!   `channel_not_found`, a restricted (guest) user `user_is_restricted`;
//! - no token is `not_authed`, an unknown one `invalid_auth`;
//! - a JSON body without a charset gets the `missing_charset` warning, a form
//!   with one `superfluous_charset`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use atlex::server::{
    CommonError, HandlerError, HandlerResult, Request, RequestContext, XrpcRouter,
};
use atlex_lexicons::com::slack::conversations::{self, leave};

/// A user of the workspace.
#[derive(Clone, Debug)]
pub struct User {
    /// The user id (`U…`).
    pub id: String,
    /// Restricted and guest users cannot leave channels.
    pub restricted: bool,
}

/// A channel.
#[derive(Clone, Debug, Default)]
pub struct Channel {
    /// Its name, without `#`.
    pub name: String,
    /// Whether it is the workspace's general channel.
    pub general: bool,
    /// Whether it is archived.
    pub archived: bool,
    /// Its members' ids.
    pub members: BTreeSet<String>,
}

/// What one request carried, for tests to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The bearer token.
    pub bearer: Option<String>,
    /// The `channel` argument.
    pub channel: String,
}

/// An in-memory Slack workspace.
#[derive(Debug, Default)]
pub struct SlackWorkspace {
    /// Users by token.
    tokens: HashMap<String, User>,
    channels: Mutex<BTreeMap<String, Channel>>,
    /// When set, every call answers `ratelimited` (HTTP 429) until then.
    rate_limited_until: Mutex<Option<SystemTime>>,
    /// Warnings added to every answer, to see how callers surface them.
    extra_warnings: Vec<leave::ResponseMetadataWarningsItem>,
    seen: Mutex<Vec<Seen>>,
}

/// The demo workspace's tokens.
pub const ALICE_TOKEN: &str = "xoxp-alice";
/// A guest's token.
pub const GUEST_TOKEN: &str = "xoxp-guest";

impl SlackWorkspace {
    /// A workspace with users alice (`xoxp-alice`), bob (`xoxp-bob`) and a
    /// guest (`xoxp-guest`), and channels `C0GENERAL` (#general),
    /// `C0RANDOM` (alice, bob, guest), `C0LONELY` (alice alone) and
    /// `C0OLD` (archived).
    pub fn demo() -> Self {
        let user = |id: &str, restricted| User {
            id: id.to_owned(),
            restricted,
        };
        let tokens = HashMap::from([
            (ALICE_TOKEN.to_owned(), user("U0ALICE", false)),
            ("xoxp-bob".to_owned(), user("U0BOB", false)),
            (GUEST_TOKEN.to_owned(), user("U0GUEST", true)),
        ]);
        let members = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect();
        let channel = |name: &str, general, archived, ids: &[&str]| Channel {
            name: name.to_owned(),
            general,
            archived,
            members: members(ids),
        };
        let channels = BTreeMap::from([
            (
                "C0GENERAL".to_owned(),
                channel("general", true, false, &["U0ALICE", "U0BOB", "U0GUEST"]),
            ),
            (
                "C0RANDOM".to_owned(),
                channel("random", false, false, &["U0ALICE", "U0BOB", "U0GUEST"]),
            ),
            (
                "C0LONELY".to_owned(),
                channel("lonely", false, false, &["U0ALICE"]),
            ),
            (
                "C0OLD".to_owned(),
                channel("old", false, true, &["U0ALICE", "U0BOB"]),
            ),
        ]);
        Self {
            tokens,
            channels: Mutex::new(channels),
            ..Self::default()
        }
    }

    /// Adds these warnings to every answer.
    pub fn with_warnings(mut self, warnings: Vec<leave::ResponseMetadataWarningsItem>) -> Self {
        self.extra_warnings = warnings;
        self
    }

    /// Answers `ratelimited` (HTTP 429, `Retry-After`) for `wait` from now.
    pub fn rate_limit_for(&self, wait: Duration) {
        *lock(&self.rate_limited_until) = SystemTime::now().checked_add(wait);
    }

    /// Whether `user` is a member of `channel`.
    pub fn is_member(&self, channel: &str, user: &str) -> bool {
        lock(&self.channels)
            .get(channel)
            .is_some_and(|c| c.members.contains(user))
    }

    /// What each request carried so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }

    /// The workspace's routes (`POST /conversations.leave`), for
    /// `axum::serve`.
    pub fn router(self) -> axum::Router {
        Self::router_shared(Arc::new(self))
    }

    /// [`router`](Self::router) for a workspace the caller keeps a handle on.
    pub fn router_shared(workspace: Arc<Self>) -> axum::Router {
        XrpcRouter::from_arc(workspace)
            .mount(conversations::register)
            .into_router()
    }

    fn user(&self, context: &RequestContext) -> Result<&User, HandlerError<leave::Error>> {
        // The binding makes the router answer `not_authed` without a token.
        let token = context.bearer_token().unwrap_or_default();
        self.tokens.get(token).ok_or_else(|| {
            HandlerError::Common(CommonError::InvalidToken {
                message: Some("unknown token".to_owned()),
            })
        })
    }

    /// Slack's charset warnings for the request's `Content-Type`, and the
    /// extra ones.
    fn warnings(&self, context: &RequestContext) -> Vec<leave::ResponseMetadataWarningsItem> {
        let content_type = context.header("content-type").unwrap_or_default();
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        let charset = content_type.to_ascii_lowercase().contains("charset=");
        let mut warnings = self.extra_warnings.clone();
        if mime == "application/json" && !charset {
            warnings.push(leave::ResponseMetadataWarningsItem::MissingCharset);
        }
        if mime == "application/x-www-form-urlencoded" && charset {
            warnings.push(leave::ResponseMetadataWarningsItem::SuperfluousCharset);
        }
        warnings
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An answer of `ok` (or `not_in_channel`), with the warnings.
fn answer(ok: bool, warnings: Vec<leave::ResponseMetadataWarningsItem>) -> leave::Output {
    let (warning, response_metadata) = if warnings.is_empty() {
        (None, None)
    } else {
        let names: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        let metadata = leave::ResponseMetadata::new().with_warnings(warnings);
        (Some(names.join(",")), Some(metadata))
    };
    {
        let mut v = leave::Output::new(ok);
        v.not_in_channel = (!ok).then_some(true);
        v.warning = warning;
        v.response_metadata = response_metadata;
        v
    }
}

impl conversations::Service for SlackWorkspace {
    async fn leave(&self, request: Request<leave::Leave>) -> HandlerResult<leave::Leave> {
        lock(&self.seen).push(Seen {
            content_type: request.context.header("content-type").map(str::to_owned),
            bearer: request.context.bearer_token().map(str::to_owned),
            channel: request.input.channel.clone(),
        });
        if let Some(until) = *lock(&self.rate_limited_until)
            && until > SystemTime::now()
        {
            return Err(HandlerError::Common(CommonError::RateLimitExceeded {
                message: None,
                reset: Some(until),
            }));
        }
        let user = self.user(&request.context)?;
        let warnings = self.warnings(&request.context);
        let id = request.input.channel;
        let mut channels = lock(&self.channels);
        let Some(channel) = channels.get_mut(&id) else {
            return Err(leave::Error::ChannelNotFound { message: None }.into());
        };
        if channel.general {
            return Err(leave::Error::CantLeaveGeneral { message: None }.into());
        }
        if channel.archived {
            return Err(leave::Error::IsArchived { message: None }.into());
        }
        if !channel.members.contains(&user.id) {
            return Ok(answer(false, warnings));
        }
        if user.restricted {
            return Err(leave::Error::UserIsRestricted { message: None }.into());
        }
        if channel.members.len() == 1 {
            return Err(leave::Error::LastMember { message: None }.into());
        }
        channel.members.remove(&user.id);
        Ok(answer(true, warnings))
    }
}
