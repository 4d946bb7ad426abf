//! The `at-uri` format.

use super::{Reason, RecordKey, at_identifier, nsid, record_key};

/// Longest AT URI accepted, in bytes.
const MAX_LEN: usize = 8 * 1024;

string_newtype! {
    /// An AT URI (Lexicon format `at-uri`), such as
    /// `at://did:plc:asdf123/app.bsky.feed.post/3jzfcijpj2z2a`.
    ///
    /// Accepted: the restricted syntax Lexicon uses, at most 8 KiB:
    /// `at://` (lowercase), an authority that is a valid DID or handle, then
    /// optionally `/` and a collection that is a valid NSID, then optionally
    /// `/` and a valid record key. No query, no fragment, no trailing slash,
    /// no other path segments.
    AtUri, "at-uri"
}

impl AtUri {
    /// The authority, a DID or a handle: `did:plc:asdf123` in
    /// `at://did:plc:asdf123/app.bsky.feed.post/abc`.
    pub fn authority(&self) -> &str {
        self.parts().0
    }

    /// The collection NSID, if there is one: `app.bsky.feed.post` in
    /// `at://did:plc:asdf123/app.bsky.feed.post/abc`.
    pub fn collection(&self) -> Option<&str> {
        self.parts().1
    }

    /// The record key, if there is one: `abc` in
    /// `at://did:plc:asdf123/app.bsky.feed.post/abc`. The URI was checked
    /// whole, so the key is a valid [`RecordKey`].
    pub fn rkey(&self) -> Option<RecordKey> {
        self.parts().2.map(RecordKey::from_checked)
    }

    fn parts(&self) -> (&str, Option<&str>, Option<&str>) {
        let rest = self.0.strip_prefix("at://").unwrap_or_default();
        let mut parts = rest.split('/');
        let authority = parts.next().unwrap_or_default();
        (authority, parts.next(), parts.next())
    }
}

fn check(s: &str) -> Result<(), Reason> {
    if fast(s) { Ok(()) } else { diagnose(s) }
}

/// Whether `s` is valid, in one pass (see [`super::fast`]); `false` leaves
/// the decision to [`diagnose`].
#[inline]
pub(super) fn fast(s: &str) -> bool {
    super::fast::at_uri(
        s,
        MAX_LEN,
        super::fast::AtUriLimits {
            did: super::did::MAX_LEN,
            handle: super::handle::MAX_LEN,
            nsid: super::nsid::MAX_LEN,
            record_key: super::record_key::MAX_LEN,
        },
    )
}

/// The full check, naming what is wrong.
pub(crate) fn diagnose(s: &str) -> Result<(), Reason> {
    if s.len() > MAX_LEN {
        return Err(format!("too long: {} bytes, max {MAX_LEN}", s.len()).into());
    }
    let Some(rest) = s.strip_prefix("at://") else {
        return Err("must start with \"at://\"".into());
    };
    if rest.contains('#') {
        return Err("fragments are not allowed".into());
    }
    if rest.contains('?') {
        return Err("queries are not allowed".into());
    }
    let mut parts = rest.split('/');
    let authority = parts.next().unwrap_or_default();
    if authority.is_empty() {
        return Err("authority is empty".into());
    }
    at_identifier::check(authority)
        .map_err(|reason| format!("authority is not a DID or handle: {reason}"))?;
    if let Some(collection) = parts.next() {
        if collection.is_empty() {
            return Err("empty path segment (trailing or doubled '/')".into());
        }
        nsid::check(collection)
            .map_err(|reason| format!("collection is not a valid NSID: {reason}"))?;
    }
    if let Some(rkey) = parts.next() {
        if rkey.is_empty() {
            return Err("empty path segment (trailing or doubled '/')".into());
        }
        record_key::check(rkey).map_err(|reason| format!("record key is not valid: {reason}"))?;
    }
    if parts.next().is_some() {
        return Err(
            "too many path segments: only a collection and a record key may follow the authority"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let uri = AtUri::new("at://did:plc:asdf123/app.bsky.feed.post/3jzfcijpj2z2a").unwrap();
        assert_eq!(uri.authority(), "did:plc:asdf123");
        assert_eq!(uri.collection(), Some("app.bsky.feed.post"));
        assert_eq!(uri.rkey(), Some(RecordKey::new("3jzfcijpj2z2a").unwrap()));

        let uri = AtUri::new("at://alice.test/app.bsky.feed.post").unwrap();
        assert_eq!(uri.authority(), "alice.test");
        assert_eq!(uri.collection(), Some("app.bsky.feed.post"));
        assert_eq!(uri.rkey(), None);

        let uri = AtUri::new("at://alice.test").unwrap();
        assert_eq!(uri.authority(), "alice.test");
        assert_eq!(uri.collection(), None);
        assert_eq!(uri.rkey(), None);
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| AtUri::validate(s).unwrap_err().reason;
        assert_eq!(reason("AT://did:plc:a"), "must start with \"at://\"");
        assert_eq!(reason("at://did:plc:a#frag"), "fragments are not allowed");
        assert_eq!(reason("at://did:plc:a?q"), "queries are not allowed");
        assert_eq!(reason("at:///x"), "authority is empty");
        assert_eq!(
            reason("at://did:plc:a/"),
            "empty path segment (trailing or doubled '/')"
        );
        assert!(reason("at://did:plc:a/short/x").starts_with("collection is not a valid NSID"));
        assert!(reason("at://did:plc:a/a.b.c/%23").starts_with("record key is not valid"));
        assert!(reason("at://did:plc:a/a.b.c/d/e").starts_with("too many path segments"));
        assert!(reason("at://name").starts_with("authority is not a DID or handle"));
    }

    #[test]
    fn serde_round_trip() {
        let uri = AtUri::new("at://did:plc:asdf123/app.bsky.feed.post/abc").unwrap();
        let json = serde_json::to_string(&uri).unwrap();
        assert_eq!(serde_json::from_str::<AtUri>(&json).unwrap(), uri);
        let err = serde_json::from_str::<AtUri>("\"at://did:plc:asdf123/\"").unwrap_err();
        assert!(err.to_string().contains("empty path segment"), "{err}");
    }
}
