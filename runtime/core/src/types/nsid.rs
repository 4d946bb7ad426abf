//! The `nsid` format.

use super::{Reason, check_domain_label};

/// Longest NSID accepted, in bytes.
pub(super) const MAX_LEN: usize = 317;

string_newtype! {
    /// A namespaced identifier (Lexicon format `nsid`), such as
    /// `app.bsky.feed.post`: a domain authority with its labels reversed
    /// (`app.bsky.feed`), then a name (`post`).
    ///
    /// Accepted: at least three `.`-separated segments, at most 317
    /// characters. The authority segments are domain labels: 1 to 63 ASCII
    /// letters, digits and hyphens, not starting or ending with a hyphen, and
    /// the first one (the top-level domain) starts with a letter. The name is
    /// 1 to 63 ASCII letters and digits starting with a letter. (The spec's
    /// 253-character limit on the authority is not applied on its own: the
    /// interop vectors accept a longer one within the overall limit.)
    ///
    /// The authority is case-insensitive and the name case-sensitive; the
    /// string is kept as given, see [`Nsid::normalized`].
    Nsid, "nsid"
}

impl Nsid {
    /// The authority segments as written: `app.bsky.feed` in
    /// `app.bsky.feed.post`.
    pub fn authority(&self) -> &str {
        self.0
            .rsplit_once('.')
            .map_or("", |(authority, _)| authority)
    }

    /// The authority as a domain name, labels in DNS order: `feed.bsky.app`
    /// for `app.bsky.feed.post`.
    pub fn domain_authority(&self) -> String {
        self.authority().rsplit('.').collect::<Vec<_>>().join(".")
    }

    /// The name segment: `post` in `app.bsky.feed.post`.
    pub fn name(&self) -> &str {
        self.0.rsplit_once('.').map_or("", |(_, name)| name)
    }

    /// The NSID in its normal form: authority lowercased, name unchanged.
    pub fn normalized(&self) -> String {
        format!("{}.{}", self.authority().to_ascii_lowercase(), self.name())
    }
}

pub(crate) fn check(s: &str) -> Result<(), Reason> {
    if fast(s) { Ok(()) } else { diagnose(s) }
}

/// Whether `s` is valid, in one pass (see [`super::fast`]); `false` leaves
/// the decision to [`diagnose`].
#[inline]
pub(super) fn fast(s: &str) -> bool {
    super::fast::nsid(s, MAX_LEN)
}

/// The full check, naming what is wrong.
pub(crate) fn diagnose(s: &str) -> Result<(), Reason> {
    if s.len() > MAX_LEN {
        return Err(format!("too long: {} bytes, max {MAX_LEN}", s.len()).into());
    }
    let Some((authority, name)) = s.rsplit_once('.') else {
        return Err("must have at least three segments".into());
    };
    let mut segments = 0usize;
    for segment in authority.split('.') {
        check_domain_label(segment, "segment")?;
        if segments == 0 && !segment.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err("first segment (the top-level domain) must start with a letter".into());
        }
        segments += 1;
    }
    if segments < 2 {
        return Err("must have at least three segments".into());
    }
    if name.is_empty() {
        return Err("name segment is empty".into());
    }
    if let Some(c) = super::first_refused(name, |b| b.is_ascii_alphanumeric()) {
        return Err(format!("invalid character {c:?} in name segment {name:?}").into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("name segment {name:?} must start with a letter").into());
    }
    if name.len() > 63 {
        return Err(format!("name segment too long: {} characters, max 63", name.len()).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let nsid = Nsid::new("App.Bsky.feed.postV2").unwrap();
        assert_eq!(nsid.authority(), "App.Bsky.feed");
        assert_eq!(nsid.name(), "postV2");
        assert_eq!(nsid.domain_authority(), "feed.Bsky.App");
        assert_eq!(nsid.normalized(), "app.bsky.feed.postV2");
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Nsid::validate(s).unwrap_err().reason;
        assert_eq!(reason("com.example"), "must have at least three segments");
        assert_eq!(reason("example"), "must have at least three segments");
        assert_eq!(
            reason("0two.example.foo"),
            "first segment (the top-level domain) must start with a letter"
        );
        assert_eq!(
            reason("com.example.fooBar.2"),
            "name segment \"2\" must start with a letter"
        );
        assert_eq!(
            reason("a-0.b-1.c-3"),
            "invalid character '-' in name segment \"c-3\""
        );
        assert_eq!(reason("com.example."), "name segment is empty");
        assert_eq!(
            reason("one..two.three"),
            "empty segment (leading, trailing or doubled '.')"
        );
    }

    #[test]
    fn serde_round_trip() {
        let nsid = Nsid::new("app.bsky.feed.post").unwrap();
        let json = serde_json::to_string(&nsid).unwrap();
        assert_eq!(serde_json::from_str::<Nsid>(&json).unwrap(), nsid);
        let err = serde_json::from_str::<Nsid>("\"com.example\"").unwrap_err();
        assert!(err.to_string().contains("at least three segments"), "{err}");
    }
}
