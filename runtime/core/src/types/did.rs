//! The `did` format.

use super::Reason;

/// Longest DID accepted, in bytes.
pub(super) const MAX_LEN: usize = 2048;

string_newtype! {
    /// A decentralized identifier (Lexicon format `did`), such as
    /// `did:plc:7iza6de2dwap2sbkpav7c6c6` or `did:web:example.com`.
    ///
    /// Accepted: `did:`, a method of lowercase ASCII letters, `:`, and a
    /// method-specific identifier of ASCII letters, digits and `._:%-`, where
    /// every `%` starts a two-hex-digit escape and the last character is not
    /// `:`. At most 2048 bytes. Any method is accepted, not only `plc` and
    /// `web`.
    Did, "did"
}

impl Did {
    /// The method: `plc` in `did:plc:abc`.
    pub fn method(&self) -> &str {
        self.parts().0
    }

    /// The method-specific identifier: `abc` in `did:plc:abc`.
    pub fn identifier(&self) -> &str {
        self.parts().1
    }

    fn parts(&self) -> (&str, &str) {
        self.0
            .strip_prefix("did:")
            .and_then(|rest| rest.split_once(':'))
            .unwrap_or(("", ""))
    }
}

pub(crate) fn check(s: &str) -> Result<(), Reason> {
    if fast(s) { Ok(()) } else { diagnose(s) }
}

/// Whether `s` is valid, in one pass (see [`super::fast`]); `false` leaves
/// the decision to [`diagnose`].
#[inline]
pub(super) fn fast(s: &str) -> bool {
    super::fast::did(s, MAX_LEN)
}

/// The full check, naming what is wrong.
pub(crate) fn diagnose(s: &str) -> Result<(), Reason> {
    if s.len() > MAX_LEN {
        return Err(format!("too long: {} bytes, max {MAX_LEN}", s.len()).into());
    }
    let Some(rest) = s.strip_prefix("did:") else {
        return Err("must start with \"did:\" (lowercase)".into());
    };
    let Some((method, id)) = rest.split_once(':') else {
        return Err("missing ':' after the method".into());
    };
    if method.is_empty() {
        return Err("method is empty".into());
    }
    if !method.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err("method must be lowercase letters".into());
    }
    if id.is_empty() {
        return Err("method-specific identifier is empty".into());
    }
    // Bytes, not characters: every byte before the one looked at is ASCII.
    let bytes = id.as_bytes();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-') {
            at += 1;
        } else if b == b'%' {
            if !matches!(bytes.get(at + 1..at + 3), Some([x, y]) if x.is_ascii_hexdigit() && y.is_ascii_hexdigit())
            {
                return Err("'%' must be followed by two hex digits".into());
            }
            at += 3;
        } else {
            let c = id[at..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(format!("invalid character {c:?} in identifier").into());
        }
    }
    if id.ends_with(':') {
        return Err("must not end with ':'".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let did = Did::new("did:web:localhost%3A1234").unwrap();
        assert_eq!(did.method(), "web");
        assert_eq!(did.identifier(), "localhost%3A1234");
        assert_eq!(Did::FORMAT, "did");
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Did::validate(s).unwrap_err().reason;
        assert_eq!(reason("did:m123:val"), "method must be lowercase letters");
        assert_eq!(
            reason("did:method:val%"),
            "'%' must be followed by two hex digits"
        );
        assert_eq!(
            reason("did:method:val%4"),
            "'%' must be followed by two hex digits"
        );
        assert_eq!(
            reason("did:method:%é0"),
            "'%' must be followed by two hex digits"
        );
        assert_eq!(reason("did:method:val:"), "must not end with ':'");
        assert_eq!(reason("did:method:"), "method-specific identifier is empty");
        assert_eq!(
            reason("did:method:v/x"),
            "invalid character '/' in identifier"
        );
        assert_eq!(reason("did:é:x"), "method must be lowercase letters");
        assert_eq!(
            reason("did:method:a%41é"),
            "invalid character 'é' in identifier"
        );
        assert!(Did::validate("did:method:%41%42:b").is_ok());
        let long = format!("did:method:{}", "v".repeat(2038));
        assert_eq!(reason(&long), "too long: 2049 bytes, max 2048");
        assert!(Did::validate(&long[..2048]).is_ok());
    }

    #[test]
    fn serde_round_trip() {
        let did = Did::new("did:plc:7iza6de2dwap2sbkpav7c6c6").unwrap();
        let json = serde_json::to_string(&did).unwrap();
        assert_eq!(json, "\"did:plc:7iza6de2dwap2sbkpav7c6c6\"");
        assert_eq!(serde_json::from_str::<Did>(&json).unwrap(), did);
        let err = serde_json::from_str::<Did>("\"did:FOO:bar\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid did \"did:FOO:bar\": method must be lowercase letters"),
            "{err}"
        );
    }

    #[test]
    fn conversions() {
        let did: Did = "did:plc:abc".parse().unwrap();
        assert_eq!(Did::try_from("did:plc:abc").unwrap(), did);
        assert_eq!(Did::try_from(String::from("did:plc:abc")).unwrap(), did);
        assert_eq!(did.to_string(), "did:plc:abc");
        assert_eq!(did.len(), 11);
        let s: String = did.clone().into();
        assert_eq!(s, "did:plc:abc");
        assert_eq!(did.into_inner(), "did:plc:abc");
    }
}
