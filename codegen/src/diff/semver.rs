//! What release a crate of generated bindings needs for a lexicon change.
//!
//! Generated code follows the diff's classes: with `new` and the `with_*`
//! setters for building, and `#[non_exhaustive]` structs and enums, what the
//! diff calls compatible adds to the generated API without breaking code
//! that uses it as documented. So a change's [`Bump`] is:
//!
//! - **major** for a breaking or unclassified change, and for a compatible
//!   one that still removes or retypes Rust items: an optional property, an
//!   error or a known value removed (a field or variant disappears), a
//!   reference retargeted (the field's type changes);
//! - **minor** for a compatible change that adds: a document, definition,
//!   optional property, union member, known value or error, or a changed
//!   `default` (what `*_or_default` returns);
//! - **patch** for a cosmetic change: descriptions (docs), `revision`, keys
//!   the model does not read, permission sets (module docs only);
//! - **none** when nothing changed.
//!
//! An acknowledged breaking change still needs its major release: the
//! acknowledgement keeps CI green, not downstream builds.
//!
//! Versions follow Cargo's reading of semver: below 1.0, the leftmost
//! non-zero number is the major one (`0.3.1` → `0.4.0` for a major release,
//! `0.3.2` for a minor or patch one).

use std::fmt;

use semver::Version;

use crate::diff::model::{Change, ChangeKind, Class, Report};

/// A release kind, ordered from nothing to major.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bump {
    /// Nothing changed.
    None,
    /// Only documentation changes.
    Patch,
    /// Additions.
    Minor,
    /// Changes that break code using the generated API.
    Major,
}

impl Bump {
    /// The stable name (`none`, `patch`, `minor`, `major`).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Patch => "patch",
            Self::Minor => "minor",
            Self::Major => "major",
        }
    }

    /// The release one change needs.
    pub fn of(change: &Change) -> Self {
        if change.class >= Class::Unclassified {
            return Self::Major;
        }
        if change.class == Class::Cosmetic {
            return Self::Patch;
        }
        match change.kind {
            ChangeKind::PropertyRemoved
            | ChangeKind::PropertyRenamed
            | ChangeKind::ErrorRemoved
            | ChangeKind::KnownValueRemoved
            | ChangeKind::UnionRefRemoved
            | ChangeKind::RefChanged
            | ChangeKind::TypeChanged
            | ChangeKind::DefRemoved
            | ChangeKind::DocumentRemoved
            | ChangeKind::RequiredAdded
            | ChangeKind::RequiredRemoved
            | ChangeKind::NullableAdded
            | ChangeKind::NullableRemoved
            | ChangeKind::UnionClosed
            | ChangeKind::BodyAdded
            | ChangeKind::BodyRemoved
            | ChangeKind::BodySchemaAdded
            | ChangeKind::BodySchemaRemoved
            | ChangeKind::SubprotocolChanged
            | ChangeKind::UnparsedDocument => Self::Major,
            ChangeKind::PermissionAdded
            | ChangeKind::PermissionRemoved
            | ChangeKind::DescriptionChanged
            | ChangeKind::RevisionChanged
            | ChangeKind::OtherChanged => Self::Patch,
            _ => Self::Minor,
        }
    }

    /// The release a whole report needs: the largest of its changes'.
    pub fn of_report(report: &Report) -> Self {
        report
            .changes()
            .map(|(_, c)| Self::of(c))
            .max()
            .unwrap_or(Self::None)
    }

    /// The smallest version after `version` that makes this release
    /// (`version` itself for [`Bump::None`]).
    pub fn next(self, version: &Version) -> Version {
        let (major, minor, patch) = (version.major, version.minor, version.patch);
        match (self, major, minor) {
            (Self::None, ..) => Version::new(major, minor, patch),
            (Self::Major, 0, 0) => Version::new(0, 0, patch + 1),
            (Self::Major, 0, _) => Version::new(0, minor + 1, 0),
            (Self::Major, ..) => Version::new(major + 1, 0, 0),
            (Self::Minor, 0, _) | (Self::Patch, ..) => Version::new(major, minor, patch + 1),
            (Self::Minor, ..) => Version::new(major, minor + 1, 0),
        }
    }

    /// Whether going from version `old` to `new` makes (at least) this
    /// release.
    pub fn made_by(self, old: &Version, new: &Version) -> bool {
        self == Self::None || *new >= self.next(old)
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn next_versions_follow_cargo() {
        assert_eq!(Bump::Major.next(&v("1.4.2")), v("2.0.0"));
        assert_eq!(Bump::Minor.next(&v("1.4.2")), v("1.5.0"));
        assert_eq!(Bump::Patch.next(&v("1.4.2")), v("1.4.3"));
        assert_eq!(Bump::Major.next(&v("0.1.0")), v("0.2.0"));
        assert_eq!(Bump::Minor.next(&v("0.1.0")), v("0.1.1"));
        assert_eq!(Bump::Major.next(&v("0.0.3")), v("0.0.4"));
        assert_eq!(Bump::None.next(&v("0.1.0")), v("0.1.0"));
    }

    #[test]
    fn a_version_makes_a_release_or_not() {
        assert!(Bump::Minor.made_by(&v("0.1.0"), &v("0.1.1")));
        assert!(Bump::Minor.made_by(&v("0.1.0"), &v("0.2.0")));
        assert!(!Bump::Major.made_by(&v("0.1.0"), &v("0.1.5")));
        assert!(Bump::Major.made_by(&v("0.1.0"), &v("0.2.0")));
        assert!(!Bump::Patch.made_by(&v("0.1.0"), &v("0.1.0")));
        assert!(Bump::None.made_by(&v("0.1.0"), &v("0.1.0")));
        // A pre-release of the version needed comes before it.
        assert!(!Bump::Major.made_by(&v("1.2.0"), &v("2.0.0-alpha.1")));
    }
}
