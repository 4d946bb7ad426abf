//! Permission sets: lexicons of type `permission-set`, which `include:`
//! scopes name, and what they expand to.
//!
//! A set grants only `repo` and `rpc` permissions, only on NSIDs under its
//! own authority (its NSID without the name: `app.bsky.authFullApp` covers
//! `app.bsky.*` and below), never `*`. An `rpc` permission names no service
//! of its own (`aud` absent or `*`); with `inheritAud: true` it takes the
//! service of the `include:` scope. A permission that breaks a rule, names
//! an unknown resource or carries an unknown field is left out, not an
//! error: sets are expected to grow fields that older readers must not
//! half-understand.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::permission::{IncludeScope, RepoPermission, RpcPermission, Target};
use super::syntax::{LexiconPermission, Source};
use super::{Scope, Scopes};

/// The `main` definition of a permission-set lexicon.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSet {
    /// A title for the user, in the lexicon's language.
    #[serde(default)]
    pub title: Option<String>,
    /// The title in other languages, by language tag.
    #[serde(default, rename = "title:lang")]
    pub title_lang: Map<String, Value>,
    /// What the set permits, for the user.
    #[serde(default)]
    pub detail: Option<String>,
    /// The detail in other languages, by language tag.
    #[serde(default, rename = "detail:lang")]
    pub detail_lang: Map<String, Value>,
    /// The permission objects, as written.
    pub permissions: Vec<Value>,
}

/// Why a document is not a permission-set lexicon.
#[derive(Debug, thiserror::Error)]
pub enum PermissionSetError {
    /// Not JSON, or not the shape of a lexicon with a permission set.
    #[error("not a permission-set lexicon: {0}")]
    Shape(#[from] serde_json::Error),
    /// The `main` definition is of another type.
    #[error("the `main` definition of `{id}` is a `{found}`, not a `permission-set`")]
    NotAPermissionSet {
        /// The lexicon's NSID.
        id: String,
        /// The type it has.
        found: String,
    },
}

#[derive(Deserialize)]
struct Document {
    id: String,
    defs: Defs,
}

#[derive(Deserialize)]
struct Defs {
    main: Main,
}

#[derive(Deserialize)]
struct Main {
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl PermissionSet {
    /// The set a generated permission-set type describes.
    ///
    /// ```
    /// # use atlex_oauth::scope::PermissionSet;
    /// /// What the generator writes for a permission-set lexicon.
    /// struct AuthBasic;
    /// impl atlex_core::permission::PermissionSet for AuthBasic {
    ///     const NSID: &'static str = "com.example.authBasic";
    ///     const TITLE: Option<&'static str> = Some("Basic");
    ///     const DETAIL: Option<&'static str> = None;
    ///     const PERMISSIONS: &'static str =
    ///         r#"[{"type":"permission","resource":"repo","collection":["com.example.post"]}]"#;
    /// }
    /// let set = PermissionSet::of::<AuthBasic>()?;
    /// let include = "include:com.example.authBasic".parse::<atlex_oauth::scope::Scope>()?;
    /// # let atlex_oauth::scope::Scope::Include(include) = include else { unreachable!() };
    /// assert_eq!(include.expand_to_scopes(&set).to_string(), "repo:com.example.post");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn of<S: atlex_core::permission::PermissionSet>() -> Result<Self, PermissionSetError> {
        Ok(Self {
            title: S::TITLE.map(str::to_owned),
            title_lang: Map::new(),
            detail: S::DETAIL.map(str::to_owned),
            detail_lang: Map::new(),
            permissions: serde_json::from_str(S::PERMISSIONS)?,
        })
    }

    /// Reads a lexicon document whose `main` is a permission set: its NSID
    /// and the set.
    pub fn from_lexicon(json: &str) -> Result<(String, Self), PermissionSetError> {
        let doc: Document = serde_json::from_str(json)?;
        if doc.defs.main.kind != "permission-set" {
            return Err(PermissionSetError::NotAPermissionSet {
                id: doc.id,
                found: doc.defs.main.kind,
            });
        }
        let set = serde_json::from_value(Value::Object(doc.defs.main.rest))?;
        Ok((doc.id, set))
    }
}

impl IncludeScope {
    /// The `include:` scope of a generated permission-set type, with the
    /// service its `inheritAud` permissions are for (a DID and a service id,
    /// `did:web:api.bsky.app#bsky_appview`).
    pub fn of<S: atlex_core::permission::PermissionSet>(
        aud: Option<&str>,
    ) -> Result<Self, super::ScopeError> {
        let include = Self {
            nsid: S::NSID.to_owned(),
            aud: aud.map(str::to_owned),
        };
        // Read back, so that a bad audience is refused as it would be in a
        // scope string.
        match include.to_string().parse()? {
            Scope::Include(include) => Ok(include),
            _ => Err(super::ScopeError::new(S::NSID, "not an include scope")),
        }
    }

    /// The permissions this `include:` grants from `set` (which must be the
    /// set its NSID names), in the set's order.
    pub fn expand(&self, set: &PermissionSet) -> Vec<Scope> {
        set.permissions
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|object| self.permission(object))
            .collect()
    }

    /// [`IncludeScope::expand`], as the scopes a session would be granted.
    pub fn expand_to_scopes(&self, set: &PermissionSet) -> Scopes {
        self.expand(set).into_iter().collect()
    }

    fn permission(&self, object: &Map<String, Value>) -> Option<Scope> {
        let source = LexiconPermission::new(object)?;
        match Source::resource(&source) {
            "repo" => {
                let permission = RepoPermission::read(&source).ok()?;
                self.all_under_authority(&permission.collections)
                    .then_some(Scope::Repo(permission))
            }
            "rpc" => {
                let permission = match (object.get("aud"), object.get("inheritAud"), &self.aud) {
                    (Some(aud), _, _) if aud.as_str() != Some("*") => return None,
                    (None, Some(Value::Bool(true)), Some(aud)) => {
                        let mut object = object.clone();
                        object.remove("inheritAud");
                        object.insert("aud".into(), Value::String(aud.clone()));
                        RpcPermission::read(&LexiconPermission::new(&object)?).ok()?
                    }
                    _ => RpcPermission::read(&source).ok()?,
                };
                self.all_under_authority(&permission.lxm)
                    .then_some(Scope::Rpc(permission))
            }
            _ => None,
        }
    }

    fn all_under_authority(&self, targets: &[Target]) -> bool {
        targets.iter().all(|t| self.is_under_authority(t))
    }

    /// Whether `target` is in the set's group or below: `app.bsky.feed.post`
    /// for `app.bsky.authFullApp`, not `app.other.thing` nor `*`.
    fn is_under_authority(&self, target: &Target) -> bool {
        let Target::Nsid(nsid) = target else {
            return false;
        };
        let Some(dot) = self.nsid.rfind('.') else {
            return false;
        };
        let group = &self.nsid.as_bytes()[..=dot];
        nsid.len() > dot + 1 && nsid.as_bytes().starts_with(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(permissions: Value) -> PermissionSet {
        serde_json::from_value(serde_json::json!({ "permissions": permissions })).unwrap()
    }

    fn expand(include: &str, set: &PermissionSet) -> Vec<String> {
        let Ok(Scope::Include(include)) = include.parse() else {
            panic!("{include}")
        };
        include.expand(set).iter().map(Scope::to_string).collect()
    }

    #[test]
    fn inherits_the_audience_and_keeps_to_its_authority() {
        let s = set(serde_json::json!([
            { "type": "permission", "resource": "repo", "collection": ["com.example.post", "com.example.sub.like"] },
            { "type": "permission", "resource": "repo", "collection": ["org.other.post"] },
            { "type": "permission", "resource": "repo", "collection": ["*"] },
            { "type": "permission", "resource": "rpc", "lxm": ["com.example.getFeed"], "inheritAud": true },
            { "type": "permission", "resource": "rpc", "lxm": ["com.example.getFeedSkeleton"], "aud": "*" },
            { "type": "permission", "resource": "rpc", "lxm": ["com.example.x"], "aud": "did:web:a.example#svc" },
            { "type": "permission", "resource": "blob", "accept": ["*/*"] },
            { "type": "permission", "resource": "repo", "collection": ["com.example.post"], "extra": 1 },
        ]));
        assert_eq!(
            expand(
                "include:com.example.authBasic?aud=did:web:api.example.com%23svc",
                &s
            ),
            [
                "repo?collection=com.example.post&collection=com.example.sub.like",
                "rpc:com.example.getFeed?aud=did:web:api.example.com%23svc",
                "rpc:com.example.getFeedSkeleton?aud=*",
            ]
        );
        // Without an audience to inherit, the permission that needs one is left out.
        assert_eq!(
            expand("include:com.example.authBasic", &s),
            [
                "repo?collection=com.example.post&collection=com.example.sub.like",
                "rpc:com.example.getFeedSkeleton?aud=*",
            ]
        );
    }

    #[test]
    fn reads_a_lexicon() {
        let json = r#"{"lexicon":1,"id":"com.example.authBasic","defs":{"main":{
            "type":"permission-set","title":"Basic","title:lang":{"ja":"基本"},
            "permissions":[{"type":"permission","resource":"repo","collection":["com.example.post"]}]}}}"#;
        let (id, set) = PermissionSet::from_lexicon(json).unwrap();
        assert_eq!(id, "com.example.authBasic");
        assert_eq!(set.title.as_deref(), Some("Basic"));
        assert_eq!(set.permissions.len(), 1);
        let record = r#"{"lexicon":1,"id":"com.example.post","defs":{"main":{"type":"record"}}}"#;
        assert!(matches!(
            PermissionSet::from_lexicon(record),
            Err(PermissionSetError::NotAPermissionSet { .. })
        ));
    }
}
