//! The string formats of the Lexicon language, each a validated newtype.
//!
//! | Lexicon format  | Rust type        |
//! |-----------------|------------------|
//! | `did`           | [`Did`]          |
//! | `handle`        | [`Handle`]       |
//! | `at-identifier` | [`AtIdentifier`] |
//! | `nsid`          | [`Nsid`]         |
//! | `at-uri`        | [`AtUri`]        |
//! | `cid`           | [`Cid`]          |
//! | `tid`           | [`Tid`]          |
//! | `record-key`    | [`RecordKey`]    |
//! | `datetime`      | [`Datetime`]     |
//! | `language`      | [`Language`]     |
//! | `uri`           | [`Uri`]          |
//!
//! Every type keeps the string exactly as it was given (nothing is
//! normalized), so a value decodes and re-encodes unchanged. Each one can be
//! built with `new`, `parse`, `TryFrom<String>` or `TryFrom<&str>`, and has an
//! associated `validate(&str)` that checks a string without allocating. All of
//! them serialize as a plain string and check the string when deserialized.
//!
//! [`Cid`] is the one that is more than its string: it holds the decoded CID
//! (and its text only when that is not the canonical base32 form), so it is
//! also the CID of links, blobs and records.
//!
//! The accepted syntax is that of the atproto specifications, in their most
//! permissive valid form, as pinned down by the atproto interop test vectors.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// Why a string was rejected: a static text where possible, formatted when
/// the reason carries details.
pub(crate) type Reason = Cow<'static, str>;

/// Implements the string-like traits shared by every format type.
///
/// The type must have `FORMAT`, `new(impl Into<String>) -> Result<Self,
/// FormatError>`, `as_str(&self) -> &str` and `into_inner(self) -> String`.
macro_rules! string_format_traits {
    ($ty:ident) => {
        impl ::std::str::FromStr for $ty {
            type Err = $crate::types::FormatError;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::convert::AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::ops::Deref for $ty {
            type Target = str;

            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::convert::TryFrom<String> for $ty {
            type Error = $crate::types::FormatError;

            fn try_from(value: String) -> ::std::result::Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl ::std::convert::TryFrom<&str> for $ty {
            type Error = $crate::types::FormatError;

            fn try_from(value: &str) -> ::std::result::Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl ::std::convert::From<$ty> for String {
            fn from(value: $ty) -> String {
                value.into_inner()
            }
        }

        impl ::std::cmp::PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl ::std::cmp::PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                deserializer.deserialize_str($crate::types::FormatVisitor::<$ty>::new($ty::FORMAT))
            }
        }
    };
}

/// Defines a format type as a newtype over `String`, checked by the `check`
/// function of the module it is invoked in.
macro_rules! string_newtype {
    ($(#[$meta:meta])* $ty:ident, $format:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(String);

        impl $ty {
            #[doc = concat!("The Lexicon name of this string format: `", $format, "`.")]
            pub const FORMAT: &'static str = $format;

            /// Checks `value` and wraps it, unchanged, if it is valid.
            pub fn new(value: impl Into<String>) -> Result<Self, $crate::types::FormatError> {
                let value = value.into();
                match check(&value) {
                    Ok(()) => Ok(Self(value)),
                    Err(reason) => Err($crate::types::FormatError::new($format, reason, value)),
                }
            }

            /// Checks `value` without allocating (except for the error).
            pub fn validate(value: &str) -> Result<(), $crate::types::FormatError> {
                check(value).map_err(|reason| $crate::types::FormatError::new($format, reason, value))
            }

            /// The string, exactly as it was given.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The string, exactly as it was given.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl ::std::borrow::Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        string_format_traits!($ty);
    };
}

mod at_identifier;
mod at_uri;
mod cid;
mod datetime;
mod did;
mod fast;
mod handle;
mod language;
mod nsid;
mod record_key;
mod tid;
mod uri;

pub use self::at_identifier::AtIdentifier;
pub use self::at_uri::AtUri;
pub use self::cid::Cid;
#[doc(hidden)]
pub use self::cid::MAX_CID_BYTES;
#[doc(hidden)]
pub use self::cid::write_binary;
pub use self::datetime::Datetime;
pub use self::did::Did;
pub use self::handle::Handle;
pub use self::language::Language;
pub use self::nsid::Nsid;
pub use self::record_key::RecordKey;
pub use self::tid::Tid;
pub use self::uri::Uri;

/// How many characters of the rejected value [`FormatError`]'s `Display`
/// shows.
const SHOWN_CHARS: usize = 64;

/// A string that is not valid for its Lexicon string format.
///
/// `Display` reads like `invalid did "did:FOO:bar": method must be lowercase
/// letters`; the value is escaped and cut to its first 64 characters there,
/// while [`FormatError::value`] keeps all of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {format} {}: {reason}", ShownValue(.value))]
#[non_exhaustive]
pub struct FormatError {
    /// The Lexicon format name, such as `did` or `at-uri`.
    pub format: &'static str,
    /// What is wrong with the value, in words.
    pub reason: String,
    /// The rejected value, whole.
    pub value: String,
}

impl FormatError {
    /// An error for `value`, which is not a valid `format` because of
    /// `reason`.
    pub fn new(format: &'static str, reason: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            format,
            reason: reason.into(),
            value: value.into(),
        }
    }
}

/// Shows a rejected value quoted and escaped, cut to [`SHOWN_CHARS`]
/// characters with `…` marking the cut.
struct ShownValue<'a>(&'a str);

impl fmt::Display for ShownValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(SHOWN_CHARS) {
            write!(f, "{}", c.escape_debug())?;
        }
        if chars.next().is_some() {
            f.write_str("…")?;
        }
        f.write_str("\"")
    }
}

/// Deserializes a format type from a borrowed or owned string.
pub(crate) struct FormatVisitor<T> {
    format: &'static str,
    target: PhantomData<fn() -> T>,
}

impl<T> FormatVisitor<T> {
    pub(crate) fn new(format: &'static str) -> Self {
        Self {
            format,
            target: PhantomData,
        }
    }
}

impl<T> serde::de::Visitor<'_> for FormatVisitor<T>
where
    T: TryFrom<String, Error = FormatError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string in the Lexicon `{}` format", self.format)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        T::try_from(v.to_owned()).map_err(E::custom)
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<T, E> {
        T::try_from(v).map_err(E::custom)
    }
}

/// The first character of `s` that `allowed` refuses, where `allowed` judges
/// ASCII bytes and every other character is refused: a check that reads
/// bytes, not UTF-8, on the common path where every character is allowed.
#[inline]
pub(crate) fn first_refused(s: &str, allowed: impl Fn(u8) -> bool) -> Option<char> {
    let at = s.bytes().position(|b| !(b.is_ascii() && allowed(b)))?;
    // Every byte before `at` is ASCII, so `at` starts a character.
    Some(
        s[at..]
            .chars()
            .next()
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    )
}

/// Checks one label of a domain name (a handle label or an NSID authority
/// segment): 1 to 63 ASCII letters, digits and hyphens, with no hyphen at
/// either end. `what` names the label in the reason ("label", "segment").
pub(crate) fn check_domain_label(label: &str, what: &str) -> Result<(), Reason> {
    if label.is_empty() {
        return Err(format!("empty {what} (leading, trailing or doubled '.')").into());
    }
    if let Some(c) = first_refused(label, |b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!("invalid character {c:?} in {what} {label:?}").into());
    }
    if label.len() > 63 {
        return Err(format!("{what} too long: {} characters, max 63", label.len()).into());
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!("{what} {label:?} starts or ends with '-'").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_refused_names_whole_characters() {
        let digit = |b: u8| b.is_ascii_digit();
        assert_eq!(first_refused("123", digit), None);
        assert_eq!(first_refused("", digit), None);
        assert_eq!(first_refused("12x3", digit), Some('x'));
        assert_eq!(first_refused("1é", digit), Some('é'));
        assert_eq!(first_refused("1🦀", |_| true), Some('🦀'));
    }

    #[test]
    fn display_quotes_and_truncates() {
        let err = Did::new("did:FOO:bar").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid did \"did:FOO:bar\": method must be lowercase letters"
        );
        let long = format!("did:method:{}", "v".repeat(3000));
        let err = Did::new(long.clone()).unwrap_err();
        assert_eq!(err.value, long);
        assert_eq!(err.reason, "too long: 3011 bytes, max 2048");
        let shown = err.to_string();
        let expected = format!("invalid did \"{}…\": ", &long[..64]);
        assert!(shown.starts_with(&expected), "{shown}");
    }

    #[test]
    fn display_escapes_and_cuts_on_characters() {
        let value = format!("{}\n", "é".repeat(70));
        let err = FormatError::new("x", "r", value);
        let shown = err.to_string();
        assert_eq!(shown, format!("invalid x \"{}…\": r", "é".repeat(64)));
        let err = FormatError::new("x", "r", "a\"b\n");
        assert_eq!(err.to_string(), "invalid x \"a\\\"b\\n\": r");
    }

    #[test]
    fn deserialize_from_owned_and_borrowed_strings() {
        // serde_json hands out borrowed strings for unescaped input and owned
        // ones when it had to unescape.
        let did: Did = serde_json::from_str("\"did:plc:abc\"").unwrap();
        assert_eq!(did, "did:plc:abc");
        let did: Did = serde_json::from_str("\"did:plc:\\u0061bc\"").unwrap();
        assert_eq!(did, "did:plc:abc");
        let did: Did = serde_json::from_value(serde_json::json!("did:plc:abc")).unwrap();
        assert_eq!(did, "did:plc:abc");
        let err = serde_json::from_str::<Did>("12").unwrap_err();
        assert!(err.to_string().contains("Lexicon `did` format"), "{err}");
    }
}
