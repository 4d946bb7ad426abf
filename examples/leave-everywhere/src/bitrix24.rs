//! A Bitrix24 portal that serves `POST /v1/chats/{chatId}/leave`, built by
//! implementing the `com.bitrix24.chats` `Service` trait generated from the
//! lexicon and its binding: the router mounts it at that path, reads
//! `chatId` from the path into the typed parameters (and refuses one below
//! 1), requires the `X-Api-Key` header, and writes `{"success": true, "data":
//! true}` or `{"success": false, "error": {"code", "message"}}` with the
//! status the binding gives each error (422, 502, 403, 401).
//!
//! Behaviour follows the endpoint's documentation:
//! - a personal key acts as its owner; an OAuth application's key acts as
//!   the user whose session token comes as `Authorization: Bearer`;
//! - a key without the `im` scope is `SCOPE_DENIED`, a key without tokens
//!   `TOKEN_MISSING`, an unknown chat (or one the user is not in)
//!   `BITRIX_ERROR`, a portal that is down `BITRIX_UNAVAILABLE`;
//! - the owner may leave, and stays the owner.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use atlex::server::{CommonError, HandlerError, HandlerResult, Request, XrpcRouter};
use atlex_lexicons::com::bitrix24::chats::{self, leave};

/// An API key of the portal.
#[derive(Clone, Debug)]
pub struct ApiKey {
    /// The user a personal key acts as; `None` for an application's key,
    /// which acts as the user of the session token sent with it.
    pub user: Option<u64>,
    /// Its scopes (`im` is needed to leave chats).
    pub scopes: Vec<String>,
    /// Whether tokens are configured for it.
    pub has_tokens: bool,
}

/// A group chat.
#[derive(Clone, Debug)]
pub struct Chat {
    /// Its owner (who stays the owner after leaving).
    pub owner: u64,
    /// Its members.
    pub members: BTreeSet<u64>,
}

/// What one request carried, for tests to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The `X-Api-Key` header.
    pub api_key: Option<String>,
    /// The bearer token.
    pub bearer: Option<String>,
    /// The chat id from the path.
    pub chat_id: i64,
}

/// An in-memory Bitrix24 portal.
#[derive(Debug, Default)]
pub struct BitrixPortal {
    keys: HashMap<String, ApiKey>,
    /// User ids by session token.
    sessions: HashMap<String, u64>,
    chats: Mutex<BTreeMap<i64, Chat>>,
    unavailable: AtomicBool,
    seen: Mutex<Vec<Seen>>,
}

/// The personal key of user 1.
pub const PERSONAL_KEY: &str = "personal-key-1";
/// An application's key (acts as the session token's user).
pub const APP_KEY: &str = "app-key";
/// A key without the `im` scope.
pub const NO_IM_KEY: &str = "key-without-im";
/// A key without tokens.
pub const NO_TOKENS_KEY: &str = "key-without-tokens";
/// The session token of user 2.
pub const USER_2_SESSION: &str = "session-of-user-2";

impl BitrixPortal {
    /// A portal with users 1, 2 and 3, the keys above, and chats 456 (owner
    /// 1; members 1, 2, 3) and 789 (owner 2; members 2, 3).
    pub fn demo() -> Self {
        let key = |user, scopes: &[&str], has_tokens| ApiKey {
            user,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            has_tokens,
        };
        let keys = HashMap::from([
            (PERSONAL_KEY.to_owned(), key(Some(1), &["im", "user"], true)),
            (APP_KEY.to_owned(), key(None, &["im"], true)),
            (NO_IM_KEY.to_owned(), key(Some(1), &["user"], true)),
            (NO_TOKENS_KEY.to_owned(), key(Some(1), &["im"], false)),
        ]);
        let chat = |owner, members: &[u64]| Chat {
            owner,
            members: members.iter().copied().collect(),
        };
        Self {
            keys,
            sessions: HashMap::from([(USER_2_SESSION.to_owned(), 2)]),
            chats: Mutex::new(BTreeMap::from([
                (456, chat(1, &[1, 2, 3])),
                (789, chat(2, &[2, 3])),
            ])),
            ..Self::default()
        }
    }

    /// Makes every call answer `BITRIX_UNAVAILABLE` (or stops it).
    pub fn set_unavailable(&self, down: bool) {
        self.unavailable.store(down, Ordering::Relaxed);
    }

    /// What each request carried so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }

    /// The chat, as it is now.
    pub fn chat(&self, id: i64) -> Option<Chat> {
        lock(&self.chats).get(&id).cloned()
    }

    /// The portal's routes (`POST /v1/chats/{chatId}/leave`), for
    /// `axum::serve`.
    pub fn router(self) -> axum::Router {
        Self::router_shared(std::sync::Arc::new(self))
    }

    /// [`router`](Self::router) for a portal the caller keeps a handle on.
    pub fn router_shared(portal: std::sync::Arc<Self>) -> axum::Router {
        XrpcRouter::from_arc(portal)
            .mount(chats::register)
            .into_router()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn bitrix_error(message: &str) -> HandlerError<leave::Error> {
    leave::Error::BitrixError {
        message: Some(message.to_owned()),
    }
    .into()
}

impl chats::Service for BitrixPortal {
    async fn leave(&self, request: Request<leave::Leave>) -> HandlerResult<leave::Leave> {
        let context = &request.context;
        let chat_id = request.params.chat_id;
        lock(&self.seen).push(Seen {
            api_key: context.header("x-api-key").map(str::to_owned),
            bearer: context.bearer_token().map(str::to_owned),
            chat_id,
        });
        // The binding makes the router refuse a request without a key.
        let key = context.header("x-api-key").unwrap_or_default();
        let Some(key) = self.keys.get(key) else {
            return Err(HandlerError::Common(CommonError::AuthenticationRequired {
                message: Some("unknown API key".to_owned()),
            }));
        };
        if !key.has_tokens {
            return Err(leave::Error::TokenMissing {
                message: Some("the API key has no configured tokens".to_owned()),
            }
            .into());
        }
        if !key.scopes.iter().any(|s| s == "im") {
            return Err(leave::Error::ScopeDenied {
                message: Some("the API key lacks the im scope".to_owned()),
            }
            .into());
        }
        if self.unavailable.load(Ordering::Relaxed) {
            return Err(leave::Error::BitrixUnavailable {
                message: Some("Bitrix24 is unavailable".to_owned()),
            }
            .into());
        }
        let user = match (key.user, context.bearer_token()) {
            (_, Some(session)) => match self.sessions.get(session) {
                Some(user) => *user,
                None => {
                    return Err(HandlerError::Common(CommonError::AuthenticationRequired {
                        message: Some("unknown user session token".to_owned()),
                    }));
                }
            },
            (Some(user), None) => user,
            (None, None) => {
                return Err(HandlerError::Common(CommonError::AuthenticationRequired {
                    message: Some("an application key needs a user session token".to_owned()),
                }));
            }
        };
        let mut chats = lock(&self.chats);
        let Some(chat) = chats.get_mut(&chat_id) else {
            return Err(bitrix_error("Chat not found"));
        };
        if !chat.members.remove(&user) {
            return Err(bitrix_error("You are not a member of this chat"));
        }
        Ok(leave::Output::builder().success(true).data(true).build())
    }
}
