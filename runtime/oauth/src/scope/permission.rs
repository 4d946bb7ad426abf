//! The five resources a permission grants access to, each read from either
//! written form and printed in its normal form.

use std::fmt;

use super::checks;
use super::params::{Def, Refusal, Schema, read};
use super::syntax::{Printer, Source};

/// `*` (everything) or one NSID: the collections of a `repo` permission, the
/// methods of an `rpc` one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `*`: every collection or method. Not allowed in permission sets.
    Any,
    /// This NSID, as written.
    Nsid(String),
}

impl Target {
    fn new(value: &str) -> Self {
        if value == "*" {
            Self::Any
        } else {
            Self::Nsid(value.to_owned())
        }
    }

    /// `*` or the NSID.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Any => "*",
            Self::Nsid(nsid) => nsid,
        }
    }

    fn covers(targets: &[Target], nsid: &str) -> bool {
        targets
            .iter()
            .any(|t| matches!(t, Target::Any) || t.as_str() == nsid)
    }
}

/// Sorted, distinct, and `*` alone when it is among several.
fn normal_targets(targets: &[Target]) -> Vec<&str> {
    if targets.len() > 1 && targets.contains(&Target::Any) {
        return vec!["*"];
    }
    let mut names: Vec<&str> = targets.iter().map(Target::as_str).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// A closed set of words a parameter takes: the enum, its names in a scope
/// (`as_str`) and the reading of one.
macro_rules! keywords {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            #[allow(dead_code)] // Not every set is iterated.
            const ALL: &[$name] = &[$(Self::$variant,)+];

            /// The name in a scope.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }

            fn parse(value: &str) -> Option<Self> {
                match value {
                    $($word => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

keywords! {
    /// An operation on a record.
    RepoAction {
        /// `create`.
        Create = "create",
        /// `update`.
        Update = "update",
        /// `delete`.
        Delete = "delete",
    }
}

/// `repo`: writing records of some collections, for some actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoPermission {
    /// The collections, as given.
    pub collections: Vec<Target>,
    /// The actions allowed (all three when the scope names none).
    pub actions: Vec<RepoAction>,
}

const REPO: Schema = Schema {
    params: &[
        Def {
            name: "collection",
            list: true,
            required: true,
            check: checks::is_nsid_or_any,
        },
        Def {
            name: "action",
            list: true,
            required: false,
            check: |v| RepoAction::parse(v).is_some(),
        },
    ],
    positional: "collection",
};

impl RepoPermission {
    pub(crate) fn read(source: &impl Source) -> Result<Self, Refusal> {
        let values = read(&REPO, source)?;
        let collections = values[0].iter().flatten().map(|v| Target::new(v)).collect();
        let actions = match &values[1] {
            Some(given) => given.iter().filter_map(|v| RepoAction::parse(v)).collect(),
            None => RepoAction::ALL.to_vec(),
        };
        Ok(Self {
            collections,
            actions,
        })
    }

    /// Whether this permits `action` on records of `collection`.
    pub fn allows(&self, collection: &str, action: RepoAction) -> bool {
        self.actions.contains(&action) && Target::covers(&self.collections, collection)
    }

    pub(crate) fn print(collections: &[Target], actions: &[RepoAction]) -> String {
        let mut p = Printer::new("repo");
        p.list("collection", true, normal_targets(collections));
        let actions: Vec<&str> = RepoAction::ALL
            .iter()
            .copied()
            .filter(|a| actions.contains(a))
            .map(RepoAction::as_str)
            .collect();
        if actions.len() < RepoAction::ALL.len() {
            p.list("action", false, actions);
        }
        p.finish()
    }
}

impl fmt::Display for RepoPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::print(&self.collections, &self.actions))
    }
}

/// The service an `rpc` permission lets the app call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// `*`: any service.
    Any,
    /// A service of a DID: `did:web:api.bsky.app#bsky_appview`.
    Service(String),
}

impl Audience {
    fn new(value: &str) -> Self {
        if value == "*" {
            Self::Any
        } else {
            Self::Service(value.to_owned())
        }
    }

    /// `*` or the service reference.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Any => "*",
            Self::Service(service) => service,
        }
    }
}

/// `rpc`: calling some methods of a service through the PDS (proxied, or
/// with a service-auth token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcPermission {
    /// The service.
    pub aud: Audience,
    /// The methods.
    pub lxm: Vec<Target>,
}

const RPC: Schema = Schema {
    params: &[
        Def {
            name: "lxm",
            list: true,
            required: true,
            check: checks::is_nsid_or_any,
        },
        Def {
            name: "aud",
            list: false,
            required: true,
            check: checks::is_audience,
        },
    ],
    positional: "lxm",
};

impl RpcPermission {
    pub(crate) fn read(source: &impl Source) -> Result<Self, Refusal> {
        let values = read(&RPC, source)?;
        let lxm: Vec<Target> = values[0].iter().flatten().map(|v| Target::new(v)).collect();
        let aud = values[1]
            .iter()
            .flatten()
            .next()
            .map(|v| Audience::new(v))
            .ok_or(Refusal::Missing("aud"))?;
        if aud == Audience::Any && lxm.contains(&Target::Any) {
            return Err(Refusal::EveryMethodOfEveryService);
        }
        Ok(Self { aud, lxm })
    }

    /// Whether this permits calling `lxm` on service `aud`.
    pub fn allows(&self, lxm: &str, aud: &str) -> bool {
        (self.aud == Audience::Any || self.aud.as_str() == aud) && Target::covers(&self.lxm, lxm)
    }

    pub(crate) fn print(lxm: &[Target], aud: &str) -> String {
        let mut p = Printer::new("rpc");
        p.list("lxm", true, normal_targets(lxm));
        p.param("aud", aud);
        p.finish()
    }
}

impl fmt::Display for RpcPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::print(&self.lxm, self.aud.as_str()))
    }
}

/// `blob`: uploading files of some MIME types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobPermission {
    /// MIME types and patterns (`image/*`, `*/*`), as given.
    pub accept: Vec<String>,
}

const BLOB: Schema = Schema {
    params: &[Def {
        name: "accept",
        list: true,
        required: true,
        check: checks::is_accept,
    }],
    positional: "accept",
};

impl BlobPermission {
    pub(crate) fn read(source: &impl Source) -> Result<Self, Refusal> {
        let values = read(&BLOB, source)?;
        let accept = values[0]
            .iter()
            .flatten()
            .map(|v| (*v).to_owned())
            .collect();
        Ok(Self { accept })
    }

    /// Whether this permits uploading a file of type `mime`.
    pub fn allows(&self, mime: &str) -> bool {
        checks::is_mime(mime) && self.accept.iter().any(|a| checks::accept_matches(a, mime))
    }

    pub(crate) fn print(accept: &[String]) -> String {
        let mut p = Printer::new("blob");
        if accept.iter().any(|a| a == "*/*") {
            p.list("accept", true, ["*/*"]);
        } else {
            let lower: Vec<String> = accept.iter().map(|a| a.to_lowercase()).collect();
            let mut kept: Vec<&str> = lower
                .iter()
                .map(String::as_str)
                .filter(|a| {
                    a.ends_with("/*") || {
                        let kind = a.split('/').next().unwrap_or_default();
                        !lower.iter().any(|other| *other == format!("{kind}/*"))
                    }
                })
                .collect();
            kept.sort_unstable();
            p.list("accept", true, kept);
        }
        p.finish()
    }
}

impl fmt::Display for BlobPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::print(&self.accept))
    }
}

keywords! {
    /// A part of the account's hosting an `account` permission reaches.
    AccountAttr {
        /// `email`: the account's email address.
        Email = "email",
        /// `repo`: the whole repository, as a CAR (importing one, with `manage`).
        Repo = "repo",
        /// `status`: the account's hosting status.
        Status = "status",
    }
}

keywords! {
    /// How far an `account` permission reaches.
    AccountAction {
        /// `read` (the default).
        Read = "read",
        /// `manage`, which includes `read`.
        Manage = "manage",
    }
}

/// `account`: reading or managing a part of the account's hosting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountPermission {
    /// The part.
    pub attr: AccountAttr,
    /// What may be done with it (`read` when the scope says nothing).
    pub actions: Vec<AccountAction>,
}

const ACCOUNT: Schema = Schema {
    params: &[
        Def {
            name: "attr",
            list: false,
            required: true,
            check: |v| AccountAttr::parse(v).is_some(),
        },
        Def {
            name: "action",
            list: true,
            required: false,
            check: |v| AccountAction::parse(v).is_some(),
        },
    ],
    positional: "attr",
};

impl AccountPermission {
    pub(crate) fn read(source: &impl Source) -> Result<Self, Refusal> {
        let values = read(&ACCOUNT, source)?;
        let attr = values[0]
            .iter()
            .flatten()
            .find_map(|v| AccountAttr::parse(v))
            .ok_or(Refusal::Missing("attr"))?;
        let actions = match &values[1] {
            Some(given) => given
                .iter()
                .filter_map(|v| AccountAction::parse(v))
                .collect(),
            None => vec![AccountAction::Read],
        };
        Ok(Self { attr, actions })
    }

    /// Whether this permits `action` on `attr`.
    pub fn allows(&self, attr: AccountAttr, action: AccountAction) -> bool {
        self.attr == attr
            && (self.actions.contains(&AccountAction::Manage) || self.actions.contains(&action))
    }

    pub(crate) fn print(attr: AccountAttr, actions: &[AccountAction]) -> String {
        let mut p = Printer::new("account");
        p.positional(attr.as_str());
        let only_read = !actions.is_empty() && actions.iter().all(|a| *a == AccountAction::Read);
        if !only_read {
            p.list("action", false, actions.iter().map(|a| a.as_str()));
        }
        p.finish()
    }
}

impl fmt::Display for AccountPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::print(self.attr, &self.actions))
    }
}

keywords! {
    /// A part of the account's identity an `identity` permission controls.
    IdentityAttr {
        /// `handle`.
        Handle = "handle",
        /// `*`: the whole DID document and the handle.
        Any = "*",
    }
}

/// `identity`: changing the account's handle or DID document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityPermission {
    /// The part.
    pub attr: IdentityAttr,
}

const IDENTITY: Schema = Schema {
    params: &[Def {
        name: "attr",
        list: false,
        required: true,
        check: |v| IdentityAttr::parse(v).is_some(),
    }],
    positional: "attr",
};

impl IdentityPermission {
    pub(crate) fn read(source: &impl Source) -> Result<Self, Refusal> {
        let values = read(&IDENTITY, source)?;
        let attr = values[0]
            .iter()
            .flatten()
            .find_map(|v| IdentityAttr::parse(v))
            .ok_or(Refusal::Missing("attr"))?;
        Ok(Self { attr })
    }

    /// Whether this permits changing `attr`.
    pub fn allows(&self, attr: IdentityAttr) -> bool {
        self.attr == IdentityAttr::Any || self.attr == attr
    }

    pub(crate) fn print(attr: IdentityAttr) -> String {
        let mut p = Printer::new("identity");
        p.positional(attr.as_str());
        p.finish()
    }
}

impl fmt::Display for IdentityPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::print(self.attr))
    }
}

/// `include`: the permissions of a permission set, a lexicon of type
/// `permission-set`, with the service its `rpc` permissions that inherit an
/// audience are for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncludeScope {
    /// The permission set's NSID.
    pub nsid: String,
    /// The audience handed to the set's permissions with `inheritAud`.
    pub aud: Option<String>,
}

const INCLUDE: Schema = Schema {
    params: &[
        Def {
            name: "nsid",
            list: false,
            required: true,
            check: checks::is_nsid,
        },
        Def {
            name: "aud",
            list: false,
            required: false,
            check: checks::is_service_ref,
        },
    ],
    positional: "nsid",
};

impl IncludeScope {
    pub(crate) fn read(source: &impl Source) -> Result<Self, Refusal> {
        let values = read(&INCLUDE, source)?;
        let nsid = values[0]
            .iter()
            .flatten()
            .next()
            .ok_or(Refusal::Missing("nsid"))?;
        let aud = values[1].iter().flatten().next().map(|v| (*v).to_owned());
        Ok(Self {
            nsid: (*nsid).to_owned(),
            aud,
        })
    }
}

impl fmt::Display for IncludeScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = Printer::new("include");
        p.positional(&self.nsid);
        if let Some(aud) = &self.aud {
            p.param("aud", aud);
        }
        f.write_str(&p.finish())
    }
}
