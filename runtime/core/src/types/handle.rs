//! The `handle` format.

use super::{Reason, check_domain_label};

/// Longest handle accepted, in bytes.
pub(super) const MAX_LEN: usize = 253;

string_newtype! {
    /// A handle (Lexicon format `handle`): a DNS domain name such as
    /// `alice.bsky.social`.
    ///
    /// Accepted: at least two labels separated by `.`; each label 1 to 63
    /// ASCII letters, digits and hyphens, not starting or ending with a
    /// hyphen; the last label (the TLD) starting with a letter; at most 253
    /// characters in all. No trailing dot. Special-use TLDs such as `.local`
    /// or `.invalid` are syntactically valid and accepted.
    ///
    /// Handles are case-insensitive, but the string is kept as given: compare
    /// with [`Handle::eq_normalized`] or [`Handle::normalized`].
    Handle, "handle"
}

impl Handle {
    /// The handle in its normal (lowercase) form.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Whether both are the same handle, ignoring ASCII case.
    pub fn eq_normalized(&self, other: &Handle) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

pub(crate) fn check(s: &str) -> Result<(), Reason> {
    if fast(s) { Ok(()) } else { diagnose(s) }
}

/// Whether `s` is valid, in one pass (see [`super::fast`]); `false` leaves
/// the decision to [`diagnose`].
#[inline]
pub(super) fn fast(s: &str) -> bool {
    super::fast::handle(s, MAX_LEN)
}

/// The full check, naming what is wrong.
pub(crate) fn diagnose(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err("empty".into());
    }
    if s.len() > MAX_LEN {
        return Err(format!("too long: {} bytes, max {MAX_LEN}", s.len()).into());
    }
    let mut labels = 0usize;
    let mut last = "";
    for label in s.split('.') {
        check_domain_label(label, "label")?;
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return Err("must have at least two labels (a name and a TLD)".into());
    }
    if !last.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("top-level domain must start with a letter".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_case_and_compares_normalized() {
        let a = Handle::new("Alice.Bsky.Social").unwrap();
        let b = Handle::new("alice.bsky.social").unwrap();
        assert_eq!(a.as_str(), "Alice.Bsky.Social");
        assert_ne!(a, b);
        assert!(a.eq_normalized(&b));
        assert_eq!(a.normalized(), "alice.bsky.social");
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Handle::validate(s).unwrap_err().reason;
        assert_eq!(
            reason("john"),
            "must have at least two labels (a name and a TLD)"
        );
        assert_eq!(
            reason("john.0"),
            "top-level domain must start with a letter"
        );
        assert_eq!(
            reason("john..test"),
            "empty label (leading, trailing or doubled '.')"
        );
        assert_eq!(
            reason("jo_hn.test"),
            "invalid character '_' in label \"jo_hn\""
        );
        assert_eq!(
            reason("john-.test"),
            "label \"john-\" starts or ends with '-'"
        );
        assert_eq!(reason(""), "empty");
        assert!(reason(&format!("a.{}.test", "o".repeat(64))).starts_with("label too long"));
    }

    #[test]
    fn serde_round_trip() {
        let handle = Handle::new("john.test").unwrap();
        let json = serde_json::to_string(&handle).unwrap();
        assert_eq!(json, "\"john.test\"");
        assert_eq!(serde_json::from_str::<Handle>(&json).unwrap(), handle);
        let err = serde_json::from_str::<Handle>("\"john\"").unwrap_err();
        assert!(err.to_string().contains("at least two labels"), "{err}");
    }
}
