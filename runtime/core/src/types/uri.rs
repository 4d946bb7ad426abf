//! The `uri` format.

use super::Reason;

/// Longest URI accepted, in bytes.
const MAX_LEN: usize = 8 * 1024;

string_newtype! {
    /// A URI (Lexicon format `uri`), of any scheme: `https://example.com`,
    /// `dns:example.com`, `at://…`, `did:…`.
    ///
    /// Accepted: an RFC 3986 scheme (an ASCII letter, then letters, digits,
    /// `+`, `-` and `.`), a `:`, and a non-empty rest of printable ASCII
    /// (no whitespace, no control or non-ASCII characters). At most 8 KiB.
    /// The rest is not checked further against the RFC 3986 grammar.
    Uri, "uri"
}

impl Uri {
    /// The scheme, as written: `https` in `https://example.com`.
    pub fn scheme(&self) -> &str {
        self.0.split_once(':').map_or("", |(scheme, _)| scheme)
    }
}

fn check(s: &str) -> Result<(), Reason> {
    if fast(s) { Ok(()) } else { diagnose(s) }
}

/// Whether `s` is valid, in one pass (see [`super::fast`]); `false` leaves
/// the decision to [`diagnose`].
#[inline]
pub(super) fn fast(s: &str) -> bool {
    super::fast::uri(s, MAX_LEN)
}

/// The full check, naming what is wrong.
pub(crate) fn diagnose(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err("empty".into());
    }
    if s.len() > MAX_LEN {
        return Err(format!("too long: {} bytes, max {MAX_LEN}", s.len()).into());
    }
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("must start with a scheme, which starts with a letter".into());
    }
    let Some((scheme, rest)) = s.split_once(':') else {
        return Err("missing ':' after the scheme".into());
    };
    if let Some(c) = super::first_refused(scheme, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
    }) {
        return Err(format!("invalid character {c:?} in scheme").into());
    }
    if rest.is_empty() {
        return Err("nothing after the scheme".into());
    }
    if let Some(c) = super::first_refused(rest, |b| b.is_ascii_graphic()) {
        return Err(if c.is_whitespace() {
            format!("contains whitespace {c:?}")
        } else {
            format!("invalid character {c:?} (URIs are printable ASCII; percent-encode others)")
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme() {
        assert_eq!(Uri::new("https://example.com").unwrap().scheme(), "https");
        assert_eq!(Uri::new("dns:example.com").unwrap().scheme(), "dns");
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Uri::validate(s).unwrap_err().reason;
        assert_eq!(reason("http:"), "nothing after the scheme");
        assert_eq!(reason("example.com"), "missing ':' after the scheme");
        assert_eq!(
            reason("-http://x"),
            "must start with a scheme, which starts with a letter"
        );
        assert_eq!(reason("ht tp://x"), "invalid character ' ' in scheme");
        assert_eq!(reason("https://x/a b"), "contains whitespace ' '");
        assert!(reason("https://x/é").starts_with("invalid character 'é'"));
    }

    #[test]
    fn serde_round_trip() {
        let uri = Uri::new("https://example.com/path?q=blah#frag").unwrap();
        let json = serde_json::to_string(&uri).unwrap();
        assert_eq!(serde_json::from_str::<Uri>(&json).unwrap(), uri);
        let err = serde_json::from_str::<Uri>("\"http:\"").unwrap_err();
        assert!(
            err.to_string().contains("nothing after the scheme"),
            "{err}"
        );
    }
}
