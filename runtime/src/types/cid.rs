//! The `cid` format.

use std::fmt;

use super::{FormatError, Reason};

/// Shortest CID string accepted, in bytes.
const MIN_LEN: usize = 8;

/// Longest CID string accepted, in bytes.
const MAX_LEN: usize = 256;

/// A content identifier in string form (Lexicon format `cid`), such as
/// `bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm`.
///
/// Accepted, as the atproto syntax rules say: 8 to 256 characters of
/// `[A-Za-z0-9+=]`, and not a CIDv0 (`Qmb…`). That check is syntactic: a
/// string can pass it and still not decode as a CID. [`Cid::to_cid`] decodes
/// it (with the `cid` crate) and reports such strings; [`Cid::from_cid`] builds
/// one from a decoded CID.
///
/// The string is kept as given, so a CID in a base other than base32
/// re-encodes unchanged.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid(String);

impl Cid {
    /// The Lexicon name of this string format: `cid`.
    pub const FORMAT: &'static str = "cid";

    /// Checks `value` and wraps it, unchanged, if it is valid.
    pub fn new(value: impl Into<String>) -> Result<Self, FormatError> {
        let text = value.into();
        match check(&text) {
            Ok(()) => Ok(Self(text)),
            Err(reason) => Err(FormatError::new(Self::FORMAT, reason, text)),
        }
    }

    /// Checks `value` without allocating (except for the error).
    pub fn validate(value: &str) -> Result<(), FormatError> {
        check(value).map_err(|reason| FormatError::new(Self::FORMAT, reason, value))
    }

    /// The CID in the default string form for CIDv1 (base32, lowercase).
    /// Fails for CIDv0.
    pub fn from_cid(cid: ::cid::Cid) -> Result<Self, FormatError> {
        Self::new(cid.to_string())
    }

    /// The string, exactly as it was given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The string, exactly as it was given.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// Decodes the CID. Fails for strings that pass the syntax check but are
    /// not a multibase-encoded CIDv1.
    pub fn to_cid(&self) -> Result<::cid::Cid, FormatError> {
        let cid = ::cid::Cid::try_from(self.0.as_str()).map_err(|err| {
            FormatError::new(
                Self::FORMAT,
                format!("not a decodable CID: {err}"),
                self.as_str(),
            )
        })?;
        if cid.version() == ::cid::Version::V0 {
            return Err(FormatError::new(
                Self::FORMAT,
                "CIDv0 is not allowed; use CIDv1",
                self.as_str(),
            ));
        }
        Ok(cid)
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cid").field(&self.0).finish()
    }
}

fn check(s: &str) -> Result<(), Reason> {
    if s.len() < MIN_LEN {
        return Err(format!("too short: {} bytes, min {MIN_LEN}", s.len()).into());
    }
    if s.len() > MAX_LEN {
        return Err(format!("too long: {} bytes, max {MAX_LEN}", s.len()).into());
    }
    if let Some(c) =
        super::first_refused(s, |b| b.is_ascii_alphanumeric() || b == b'+' || b == b'=')
    {
        return Err(format!("invalid character {c:?}").into());
    }
    if s.starts_with("Qmb") {
        return Err("CIDv0 is not allowed; use CIDv1".into());
    }
    Ok(())
}

string_format_traits!(Cid);

#[cfg(test)]
mod tests {
    use super::*;

    const CID: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

    #[test]
    fn decodes() {
        let cid = Cid::new(CID).unwrap();
        assert_eq!(cid.to_cid().unwrap().to_string(), CID);
        assert_eq!(cid.to_cid().unwrap().codec(), 0x71);
        assert_eq!(Cid::from_cid(cid.to_cid().unwrap()).unwrap(), cid);
        // Syntactically valid, not decodable.
        let contrived = Cid::new("z7x3CtScH765HvShXT").unwrap();
        assert!(contrived.to_cid().is_err());
        assert_eq!(format!("{cid:?}"), format!("Cid({CID:?})"));
    }

    #[test]
    fn keeps_other_bases() {
        let hex = "f017012202c5f688262e0ece8569aa6f94d60aad55ca8d9d83734e4a7430d0cff6588ec2b";
        let cid = Cid::new(hex).unwrap();
        assert_eq!(cid.as_str(), hex);
        assert!(cid.to_cid().unwrap().to_string().starts_with("bafy"));
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Cid::validate(s).unwrap_err().reason;
        assert_eq!(
            reason("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"),
            "CIDv0 is not allowed; use CIDv1"
        );
        assert_eq!(reason("noop"), "too short: 4 bytes, min 8");
        assert_eq!(reason(&format!(" {CID}")), "invalid character ' '");
        assert!(reason("bafyreie5737/").starts_with("invalid character"));
        let v0 = ::cid::Cid::try_from("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR").unwrap();
        assert!(Cid::from_cid(v0).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let cid = Cid::new(CID).unwrap();
        let json = serde_json::to_string(&cid).unwrap();
        assert_eq!(json, format!("\"{CID}\""));
        assert_eq!(serde_json::from_str::<Cid>(&json).unwrap(), cid);
        let err = serde_json::from_str::<Cid>("\"example.com\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid cid \"example.com\": invalid character '.'"),
            "{err}"
        );
    }
}
