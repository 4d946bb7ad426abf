//! The `at-identifier` format.

use super::{Did, FormatError, Handle, Reason, did, handle};

/// An account identifier (Lexicon format `at-identifier`): either a [`Did`]
/// or a [`Handle`].
///
/// A string starting with `did:` must be a valid DID; anything else must be a
/// valid handle. Serializes as the plain string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AtIdentifier {
    /// A DID, such as `did:plc:7iza6de2dwap2sbkpav7c6c6`.
    Did(Did),
    /// A handle, such as `alice.bsky.social`.
    Handle(Handle),
}

impl AtIdentifier {
    /// The Lexicon name of this string format: `at-identifier`.
    pub const FORMAT: &'static str = "at-identifier";

    /// Checks `value` and wraps it, unchanged, as a DID (if it starts with
    /// `did:`) or a handle.
    pub fn new(value: impl Into<String>) -> Result<Self, FormatError> {
        let value = value.into();
        let result = if value.starts_with("did:") {
            Did::new(value).map(Self::Did)
        } else {
            Handle::new(value).map(Self::Handle)
        };
        result
            .map_err(|err| FormatError::new(Self::FORMAT, retag(err.format, err.reason), err.value))
    }

    /// Checks `value` without allocating (except for the error).
    pub fn validate(value: &str) -> Result<(), FormatError> {
        check(value).map_err(|reason| FormatError::new(Self::FORMAT, reason, value))
    }

    /// The string, exactly as it was given.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Did(did) => did.as_str(),
            Self::Handle(handle) => handle.as_str(),
        }
    }

    /// The string, exactly as it was given.
    pub fn into_inner(self) -> String {
        match self {
            Self::Did(did) => did.into_inner(),
            Self::Handle(handle) => handle.into_inner(),
        }
    }

    /// The DID, if this is one.
    pub fn as_did(&self) -> Option<&Did> {
        match self {
            Self::Did(did) => Some(did),
            Self::Handle(_) => None,
        }
    }

    /// The handle, if this is one.
    pub fn as_handle(&self) -> Option<&Handle> {
        match self {
            Self::Did(_) => None,
            Self::Handle(handle) => Some(handle),
        }
    }
}

/// Turns the reason a DID or handle was rejected into the reason the
/// identifier was.
fn retag(format: &str, reason: impl std::fmt::Display) -> String {
    if format == Did::FORMAT {
        format!("starts with \"did:\" but is not a valid DID: {reason}")
    } else {
        format!("not a DID, and not a valid handle: {reason}")
    }
}

pub(crate) fn check(s: &str) -> Result<(), Reason> {
    if s.starts_with("did:") {
        did::check(s).map_err(|reason| retag(Did::FORMAT, reason).into())
    } else {
        handle::check(s).map_err(|reason| retag(Handle::FORMAT, reason).into())
    }
}

impl From<Did> for AtIdentifier {
    fn from(did: Did) -> Self {
        Self::Did(did)
    }
}

impl From<Handle> for AtIdentifier {
    fn from(handle: Handle) -> Self {
        Self::Handle(handle)
    }
}

string_format_traits!(AtIdentifier);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_variant() {
        let id = AtIdentifier::new("did:plc:abc").unwrap();
        assert_eq!(id.as_did().map(Did::as_str), Some("did:plc:abc"));
        assert!(id.as_handle().is_none());
        let id = AtIdentifier::new("john.test").unwrap();
        assert_eq!(id.as_handle().map(Handle::as_str), Some("john.test"));
        assert_eq!(id.as_str(), "john.test");
        assert_eq!(AtIdentifier::from(Handle::new("a.test").unwrap()), "a.test");
    }

    #[test]
    fn errors_name_the_identifier() {
        let err = AtIdentifier::new("did:thing").unwrap_err();
        assert_eq!(err.format, "at-identifier");
        assert_eq!(
            err.reason,
            "starts with \"did:\" but is not a valid DID: missing ':' after the method"
        );
        assert_eq!(err.value, "did:thing");
        assert_eq!(AtIdentifier::validate("did:thing").unwrap_err(), err);
        let err = AtIdentifier::new("@handle").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid at-identifier \"@handle\": not a DID, and not a valid handle: \
             invalid character '@' in label \"@handle\""
        );
    }

    #[test]
    fn serde_round_trip() {
        for s in ["did:plc:abc", "john.test"] {
            let id = AtIdentifier::new(s).unwrap();
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<AtIdentifier>(&json).unwrap(), id);
        }
        let err = serde_json::from_str::<AtIdentifier>("\"blah\"").unwrap_err();
        assert!(err.to_string().contains("not a valid handle"), "{err}");
    }
}
