//! The `record-key` format.

use super::{Reason, Tid};

/// Longest record key accepted, in bytes.
pub(super) const MAX_LEN: usize = 512;

string_newtype! {
    /// A record key (Lexicon format `record-key`): the last part of a record's
    /// AT URI, such as `3jzfcijpj2z2a` or `self`.
    ///
    /// Accepted: 1 to 512 ASCII letters, digits and `._:~-`, except the
    /// strings `.` and `..`. Case-sensitive.
    RecordKey, "record-key"
}

impl RecordKey {
    /// Wraps `key`, a part of a string already checked whole (the record key
    /// of a valid AT URI), without checking it again.
    pub(super) fn from_checked(key: &str) -> Self {
        debug_assert!(check(key).is_ok(), "{key:?} is not a record key");
        Self(key.to_owned())
    }
}

impl From<Tid> for RecordKey {
    /// Every TID is a valid record key.
    fn from(tid: Tid) -> Self {
        Self(tid.into_inner())
    }
}

pub(crate) fn check(s: &str) -> Result<(), Reason> {
    if fast(s) { Ok(()) } else { diagnose(s) }
}

/// Whether `s` is valid, in one pass (see [`super::fast`]); `false` leaves
/// the decision to [`diagnose`].
#[inline]
pub(super) fn fast(s: &str) -> bool {
    super::fast::record_key(s, MAX_LEN)
}

/// The full check, naming what is wrong.
pub(crate) fn diagnose(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err("empty".into());
    }
    if let Some(c) = super::first_refused(s, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'~' | b'-')
    }) {
        return Err(format!("invalid character {c:?}").into());
    }
    if s.len() > MAX_LEN {
        return Err(format!("too long: {} bytes, max {MAX_LEN}", s.len()).into());
    }
    if s == "." || s == ".." {
        return Err("\".\" and \"..\" are not allowed".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        let reason = |s: &str| RecordKey::validate(s).unwrap_err().reason;
        assert_eq!(reason(".."), "\".\" and \"..\" are not allowed");
        assert_eq!(reason("a/b"), "invalid character '/'");
        assert_eq!(reason(""), "empty");
        assert_eq!(reason(&"o".repeat(513)), "too long: 513 bytes, max 512");
    }

    #[test]
    fn from_tid_and_serde() {
        let key = RecordKey::from(Tid::new("3jzfcijpj2z2a").unwrap());
        assert_eq!(key, "3jzfcijpj2z2a");
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(serde_json::from_str::<RecordKey>(&json).unwrap(), key);
        let err = serde_json::from_str::<RecordKey>("\".\"").unwrap_err();
        assert!(err.to_string().contains("are not allowed"), "{err}");
    }
}
