//! Permission sets: lexicons of type `permission-set`, which bundle the
//! permissions an app asks for under one name (`app.bsky.authFullApp`), to
//! be requested as the OAuth scope `include:<nsid>`.
//!
//! Generated code describes each with a unit struct implementing
//! [`PermissionSet`]; `atlex::oauth` (feature `oauth`) turns one into its
//! `include:` scope and the permissions it grants.

/// A permission set, as its lexicon declares it.
pub trait PermissionSet {
    /// The set's NSID: what an `include:` scope names.
    const NSID: &'static str;
    /// A title for the user, in the lexicon's language.
    const TITLE: Option<&'static str>;
    /// What the set permits, for the user.
    const DETAIL: Option<&'static str>;
    /// The `permissions` array as the lexicon writes it (JSON): fields this
    /// library does not know are kept, since a permission with a field its
    /// reader does not understand must be left out, not half-granted.
    const PERMISSIONS: &'static str;
}
