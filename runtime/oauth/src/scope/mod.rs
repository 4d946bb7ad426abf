//! atproto OAuth scopes: what an app asks for, and what a session may do.
//!
//! A scope string is a space-separated list of scopes. Each [`Scope`] is a
//! fixed value (`atproto`, which every atproto session asks for, and the
//! `transition:` scopes standing for the app-password era's broad
//! permissions), a permission on one resource (`repo`, `rpc`, `blob`,
//! `account`, `identity`), or `include:` of a permission set published as a
//! lexicon.
//!
//! ```
//! use atlex_oauth::scope::{Access, RepoAction, Scope, Scopes};
//!
//! // Parsed and printed in normal form.
//! let scope: Scope = "repo?collection=app.bsky.feed.post&action=delete&action=create".parse()?;
//! assert_eq!(scope.to_string(), "repo:app.bsky.feed.post?action=create&action=delete");
//!
//! // What a session was granted, checked before a call.
//! let granted = Scopes::parse("atproto repo:app.bsky.feed.post?action=create");
//! let post = Access::Repo { collection: "app.bsky.feed.post", action: RepoAction::Create };
//! assert!(granted.allows(&post));
//! let like = Access::Repo { collection: "app.bsky.feed.like", action: RepoAction::Create };
//! let missing = granted.require(&like).unwrap_err();
//! assert_eq!(missing.scope(), "repo:app.bsky.feed.like?action=create");
//! # Ok::<(), atlex_oauth::scope::ScopeError>(())
//! ```
//!
//! Parsing, printing, checks and permission-set expansion agree with the
//! reference implementation (`@atproto/oauth-scopes`) on a corpus of scope
//! strings and on every upstream permission set; the corpus is a fixture of
//! this crate's tests, with the script that wrote it.

mod checks;
mod params;
mod permission;
mod set;
mod syntax;

use std::fmt;
use std::str::FromStr;

pub use permission::{
    AccountAction, AccountAttr, AccountPermission, Audience, BlobPermission, IdentityAttr,
    IdentityPermission, IncludeScope, RepoAction, RepoPermission, RpcPermission, Target,
};
pub use set::{PermissionSet, PermissionSetError};

use params::Refusal;
use syntax::ScopeString;

/// One scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `atproto`: an atproto session; required in every request.
    Atproto,
    /// `transition:generic`: what an app password allows (every record,
    /// blob and method but chat's).
    TransitionGeneric,
    /// `transition:chat.bsky`: the `chat.bsky` methods.
    TransitionChatBsky,
    /// `transition:email`: reading the account's email address.
    TransitionEmail,
    /// `repo:…`.
    Repo(RepoPermission),
    /// `rpc:…`.
    Rpc(RpcPermission),
    /// `blob:…`.
    Blob(BlobPermission),
    /// `account:…`.
    Account(AccountPermission),
    /// `identity:…`.
    Identity(IdentityPermission),
    /// `include:…`.
    Include(IncludeScope),
}

/// Why a string is not a scope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{scope}` is not a valid scope: {reason}")]
pub struct ScopeError {
    scope: String,
    reason: String,
}

impl ScopeError {
    fn new(scope: &str, reason: impl fmt::Display) -> Self {
        Self {
            scope: scope.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// The string refused.
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "atproto" => return Ok(Self::Atproto),
            "transition:generic" => return Ok(Self::TransitionGeneric),
            "transition:chat.bsky" => return Ok(Self::TransitionChatBsky),
            "transition:email" => return Ok(Self::TransitionEmail),
            _ => {}
        }
        let syntax = ScopeString::split(s)
            .map_err(|_| ScopeError::new(s, "its part after `:` is not percent-encoded UTF-8"))?;
        let refused = |refusal: Refusal| ScopeError::new(s, refusal);
        match syntax::Source::resource(&syntax) {
            "repo" => RepoPermission::read(&syntax).map(Self::Repo),
            "rpc" => RpcPermission::read(&syntax).map(Self::Rpc),
            "blob" => BlobPermission::read(&syntax).map(Self::Blob),
            "account" => AccountPermission::read(&syntax).map(Self::Account),
            "identity" => IdentityPermission::read(&syntax).map(Self::Identity),
            "include" => IncludeScope::read(&syntax).map(Self::Include),
            other => {
                return Err(ScopeError::new(
                    s,
                    format_args!("`{other}` is not a scope or resource this library knows"),
                ));
            }
        }
        .map_err(refused)
    }
}

impl fmt::Display for Scope {
    /// The normal form: parameters in a fixed order, lists sorted and
    /// without repeats, defaults left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Atproto => f.write_str("atproto"),
            Self::TransitionGeneric => f.write_str("transition:generic"),
            Self::TransitionChatBsky => f.write_str("transition:chat.bsky"),
            Self::TransitionEmail => f.write_str("transition:email"),
            Self::Repo(p) => p.fmt(f),
            Self::Rpc(p) => p.fmt(f),
            Self::Blob(p) => p.fmt(f),
            Self::Account(p) => p.fmt(f),
            Self::Identity(p) => p.fmt(f),
            Self::Include(p) => p.fmt(f),
        }
    }
}

/// Something a call does that a scope must permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access<'a> {
    /// `action` on a record of `collection`.
    Repo {
        /// The record's collection NSID.
        collection: &'a str,
        /// Create, update or delete.
        action: RepoAction,
    },
    /// Calling method `lxm` of service `aud` through the PDS.
    Rpc {
        /// The method's NSID.
        lxm: &'a str,
        /// The service: a DID and a service id, `did:web:api.bsky.app#bsky_appview`.
        aud: &'a str,
    },
    /// Uploading a blob of type `mime`.
    Blob {
        /// The MIME type.
        mime: &'a str,
    },
    /// Reading or managing a part of the account's hosting.
    Account {
        /// The part.
        attr: AccountAttr,
        /// Read or manage.
        action: AccountAction,
    },
    /// Changing a part of the account's identity.
    Identity {
        /// The part.
        attr: IdentityAttr,
    },
}

impl Access<'static> {
    /// Calling the generated endpoint `E` on service `aud`.
    pub fn endpoint<E: atlex_core::xrpc::Endpoint>(aud: &'static str) -> Self {
        Self::Rpc { lxm: E::NSID, aud }
    }

    /// `action` on records of the generated record type `R`.
    pub fn record<R: atlex_core::data::Record>(action: RepoAction) -> Self {
        Self::Repo {
            collection: R::NSID,
            action,
        }
    }
}

impl Access<'_> {
    /// The narrowest scope that permits this access.
    pub fn needed_scope(&self) -> String {
        match *self {
            Self::Repo { collection, action } => {
                RepoPermission::print(&[Target::Nsid(collection.to_owned())], &[action])
            }
            Self::Rpc { lxm, aud } => RpcPermission::print(&[Target::Nsid(lxm.to_owned())], aud),
            Self::Blob { mime } => BlobPermission::print(&[mime.to_owned()]),
            Self::Account { attr, action } => AccountPermission::print(attr, &[action]),
            Self::Identity { attr } => IdentityPermission::print(attr),
        }
    }
}

/// A call the granted scopes do not permit, with the scope that would.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the session's scopes do not permit this; it needs the scope `{scope}`")]
pub struct ScopeMissing {
    scope: String,
}

impl ScopeMissing {
    /// The narrowest scope that would permit the call.
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

/// The scopes of a session or a request, as given: every item is kept,
/// including those this library cannot read (they permit nothing here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes {
    items: Vec<String>,
}

impl Scopes {
    /// Splits a scope string at spaces. Never fails: what is not a scope is
    /// kept as written.
    pub fn parse(scope: &str) -> Self {
        let items = scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Self { items }
    }

    /// The items, as given.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(String::as_str)
    }

    /// Whether `scope` is among the items, as written.
    pub fn contains(&self, scope: &str) -> bool {
        self.items.iter().any(|i| i == scope)
    }

    /// The items that are scopes, read.
    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.items.iter().filter_map(|i| i.parse().ok())
    }

    /// Whether these scopes permit `access`. The `transition:` scopes count:
    /// `transition:generic` permits every record, blob and method but those
    /// of `chat.bsky`, `transition:chat.bsky` those, `transition:email`
    /// reading the email address.
    pub fn allows(&self, access: &Access<'_>) -> bool {
        let generic = self.contains("transition:generic");
        let transitional = match *access {
            Access::Repo { .. } | Access::Blob { .. } => generic,
            Access::Rpc { lxm, .. } => {
                let chat = lxm.starts_with("chat.bsky.");
                (generic && (lxm == "*" || !chat))
                    || (chat && self.contains("transition:chat.bsky"))
            }
            Access::Account { attr, action } => {
                attr == AccountAttr::Email
                    && action == AccountAction::Read
                    && self.contains("transition:email")
            }
            Access::Identity { .. } => false,
        };
        transitional
            || self.scopes().any(|scope| match (&scope, *access) {
                (Scope::Repo(p), Access::Repo { collection, action }) => {
                    p.allows(collection, action)
                }
                (Scope::Rpc(p), Access::Rpc { lxm, aud }) => p.allows(lxm, aud),
                (Scope::Blob(p), Access::Blob { mime }) => p.allows(mime),
                (Scope::Account(p), Access::Account { attr, action }) => p.allows(attr, action),
                (Scope::Identity(p), Access::Identity { attr }) => p.allows(attr),
                _ => false,
            })
    }

    /// [`Scopes::allows`], or the scope that is missing.
    pub fn require(&self, access: &Access<'_>) -> Result<(), ScopeMissing> {
        if self.allows(access) {
            Ok(())
        } else {
            Err(ScopeMissing {
                scope: access.needed_scope(),
            })
        }
    }

    /// The scopes in normal form, sorted, those this library cannot read
    /// left out: the form in which two requests' scopes compare equal.
    pub fn normalized(&self) -> String {
        let mut items: Vec<String> = self.scopes().map(|s| s.to_string()).collect();
        items.sort_unstable();
        items.join(" ")
    }
}

impl fmt::Display for Scopes {
    /// The items as given, separated by spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.items.join(" "))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut scopes = Self::default();
        for scope in iter {
            let item = scope.to_string();
            if !scopes.contains(&item) {
                scopes.items.push(item);
            }
        }
        scopes
    }
}
