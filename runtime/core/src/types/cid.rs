//! The `cid` format, and the CID itself.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use ::cid::multibase;
use data_encoding::BASE32_NOPAD_NOCASE;

use super::{FormatError, Reason};

/// Shortest CID string accepted, in bytes.
const MIN_LEN: usize = 8;

/// Longest CID string accepted, in bytes.
const MAX_LEN: usize = 256;

/// The longest binary CID: version, codec, hash code and length varints (at
/// most 9 bytes each) and a 64-byte digest.
#[doc(hidden)]
pub const MAX_CID_BYTES: usize = 4 * 9 + 64;

/// A content identifier: a decoded CIDv1, such as
/// `bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm`.
///
/// This is the Lexicon `cid` format (a string in JSON and in DAG-CBOR) and
/// what a [`CidLink`](crate::data::CidLink) holds, a [`Blob`](crate::data::Blob)
/// names and [`Record::cid`](crate::data::Record::cid) computes, so CIDs from
/// any of them compare directly:
///
/// ```
/// use atlex_core::data::CidLink;
/// use atlex_core::types::Cid;
///
/// let text: Cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm".parse()?;
/// let link: CidLink = serde_json::from_str(
///     r#"{"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}"#,
/// )?;
/// assert_eq!(link, text);
/// assert_eq!(text.codec(), 0x71); // dag-cbor
/// assert_eq!(Cid::from_bytes(&text.to_bytes())?, text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Text is accepted when it passes the atproto syntax rule (8 to 256
/// characters of `[A-Za-z0-9+=]`, not a CIDv0 `Qmb…`; [`Cid::validate`]
/// checks only that) and decodes, with the `cid` and `multibase` crates, as a
/// CIDv1 in some multibase with nothing after it. Text in any other form than
/// the canonical one (base32, lowercase) is kept and written back as it
/// was, so data never changes by being read and written:
///
/// ```
/// use atlex_core::types::Cid;
///
/// let base32: Cid = "bafyreibml5uieyxa5tufngvg7fgwbkwvlsuntwbxgtskoqynbt7wlchmfm".parse()?;
/// let base16: Cid = "f017112202c5f688262e0ece8569aa6f94d60aad55ca8d9d83734e4a7430d0cff6588ec2b".parse()?;
/// assert_eq!(base16, base32); // the same CID
/// assert_eq!(
///     base16.to_string(),
///     "f017112202c5f688262e0ece8569aa6f94d60aad55ca8d9d83734e4a7430d0cff6588ec2b"
/// );
/// assert_eq!(
///     base16.to_canonical_string(),
///     "bafyreibml5uieyxa5tufngvg7fgwbkwvlsuntwbxgtskoqynbt7wlchmfm"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Equality, hashing and ordering go by the CID, never by its text. A
/// CID made from binary, computed or converted from the `cid` crate's
/// [`Cid`](::cid::Cid) is written in base32.
#[derive(Clone)]
pub struct Cid {
    /// Boxed: the `cid` crate's CID is 96 bytes (room for a 64-byte
    /// digest), and held inline it made every struct with a CID that much
    /// larger to move; boxed, a `Cid` is the size of the `String` the `cid`
    /// format once was, and decodes no slower.
    cid: Box<::cid::Cid>,
    /// The text the CID was read from, when that is not its base32 form.
    text: Option<Box<str>>,
}

impl Cid {
    /// The Lexicon name of this string format: `cid`.
    pub const FORMAT: &'static str = "cid";

    /// Parses `value`: the syntax rule, then a decodable CIDv1. The text is
    /// kept only if it is not the canonical base32 form.
    pub fn new(value: impl Into<String>) -> Result<Self, FormatError> {
        let text = value.into();
        match decode_text(&text) {
            Ok((cid, true)) => Ok(Self {
                cid: Box::new(cid),
                text: None,
            }),
            Ok((cid, false)) => Ok(Self {
                cid: Box::new(cid),
                text: Some(text.into_boxed_str()),
            }),
            Err(reason) => Err(FormatError::new(Self::FORMAT, reason, text)),
        }
    }

    /// [`Cid::new`] for borrowed text, which is copied only when kept.
    fn from_text(text: &str) -> Result<Self, FormatError> {
        match decode_text(text) {
            Ok((cid, canonical)) => Ok(Self {
                cid: Box::new(cid),
                text: (!canonical).then(|| text.into()),
            }),
            Err(reason) => Err(FormatError::new(Self::FORMAT, reason, text)),
        }
    }

    /// Checks `value` against the syntax rule of the `cid` format only,
    /// without allocating (except for the error). Text can pass it and still
    /// not decode as a CID, which [`Cid::new`] refuses.
    pub fn validate(value: &str) -> Result<(), FormatError> {
        check(value).map_err(|reason| FormatError::new(Self::FORMAT, reason, value))
    }

    /// Reads a binary CID (as in CBOR tag 42, after its `0x00` prefix),
    /// which must be all of `bytes` and a CIDv1.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        decode_bytes(bytes)
            .map(Self::from_v1)
            .map_err(|reason| format!("invalid binary CID: {reason}"))
    }

    /// Reads a binary CIDv1 at the front of `bytes` (a CAR section): the CID
    /// and the bytes after it. The CID is the `cid` crate's, for an index
    /// that keeps it unboxed.
    #[cfg(feature = "cbor")]
    #[doc(hidden)]
    pub fn read_prefix(bytes: &[u8]) -> Result<(::cid::Cid, &[u8]), String> {
        let mut rest = bytes;
        let cid = ::cid::Cid::read_bytes(&mut rest).map_err(|err| err.to_string())?;
        if cid.version() == ::cid::Version::V0 {
            return Err(V0.to_owned());
        }
        Ok((cid, rest))
    }

    /// The binary CID.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = [0; MAX_CID_BYTES];
        self.write_bytes(&mut buf).to_vec()
    }

    /// Writes the binary CID into `buf`, returning the bytes used.
    pub(crate) fn write_bytes<'b>(&self, buf: &'b mut [u8; MAX_CID_BYTES]) -> &'b [u8] {
        write_binary(&self.cid, buf)
    }

    /// The multicodec of the content: `0x71` (DAG-CBOR) for records and
    /// other data, `0x55` (raw) for blobs.
    pub fn codec(&self) -> u64 {
        self.cid.codec()
    }

    /// The multihash code of the hash function (`0x12`, sha2-256, in
    /// atproto).
    pub fn hash_code(&self) -> u64 {
        ::cid::Cid::hash(&self.cid).code()
    }

    /// The digest of the content.
    pub fn digest(&self) -> &[u8] {
        ::cid::Cid::hash(&self.cid).digest()
    }

    /// The CID as the `cid` crate's type, for the IPLD ecosystem.
    pub fn as_cid(&self) -> &::cid::Cid {
        &self.cid
    }

    /// The canonical text (base32, lowercase), whatever text the CID was
    /// read from, which `Display` writes.
    pub fn to_canonical_string(&self) -> String {
        self.cid.to_string()
    }

    /// The text this CID was read from, if it was not the canonical form.
    pub fn original_text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// A decoded CIDv1, with no text.
    fn from_v1(cid: ::cid::Cid) -> Self {
        Self {
            cid: Box::new(cid),
            text: None,
        }
    }
}

#[cfg(feature = "cbor")]
impl Cid {
    /// The CID of canonical DAG-CBOR `bytes` (CIDv1, DAG-CBOR codec,
    /// sha2-256): a record's or another block's.
    ///
    /// ```
    /// use atlex_core::data::Value;
    /// use atlex_core::types::Cid;
    ///
    /// let value = Value::from_json(serde_json::json!({"text": "hi"}))?;
    /// let bytes = atlex_core::cbor::to_vec(&value)?;
    /// assert_eq!(Cid::of_dag_cbor(&bytes), atlex_core::cbor::cid_of(&value)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn of_dag_cbor(bytes: &[u8]) -> Self {
        crate::cbor::cid_for(crate::cbor::DAG_CBOR, bytes)
    }

    /// The CID of a blob's `bytes` (CIDv1, raw codec, sha2-256).
    pub fn of_raw(bytes: &[u8]) -> Self {
        crate::cbor::cid_for(crate::cbor::RAW, bytes)
    }
}

/// Decodes `text` as a CIDv1: the CID and whether `text` is its canonical
/// (base32, lowercase) form.
fn decode_text(text: &str) -> Result<(::cid::Cid, bool), Reason> {
    let undecodable = |reason: Reason| format!("not a decodable CID: {reason}");
    if let Some(base32) = text.strip_prefix('b') {
        match decode_base32(base32) {
            // Every character is a base32 letter or digit and a CID's
            // encoding is 4 to MAX_CID_BYTES bytes (8 to 161 characters),
            // so the syntax rule holds without checking it.
            Ok(cid) => {
                // The base32 decoder refuses non-zero trailing bits and the
                // lengths no byte string encodes to, and `decode_bytes` every
                // byte string that is not the CID's own encoding, so
                // lowercase base32 text is canonical. It also reads
                // uppercase letters, which the canonical form has none of.
                let canonical = !text.bytes().any(|b| b.is_ascii_uppercase());
                return Ok((cid, canonical));
            }
            Err(reason) => {
                check(text)?;
                return Err(undecodable(reason).into());
            }
        }
    }
    check(text)?;
    if ::cid::Version::is_v0_str(text) {
        return Err(V0.into());
    }
    let (_, bytes) = multibase::decode(text).map_err(|err| undecodable(err.to_string().into()))?;
    let cid = decode_bytes(&bytes).map_err(undecodable)?;
    Ok((cid, false))
}

/// Decodes the base32 text of a CID (after its multibase prefix `b`).
///
/// Base32 is the form of nearly every CID, so it is decoded into a buffer
/// here rather than into the new `Vec` that `multibase::decode` returns. It
/// is the same decoding: RFC 4648 base32 without padding, in either case.
fn decode_base32(base32: &str) -> Result<::cid::Cid, Reason> {
    let len = BASE32_NOPAD_NOCASE
        .decode_len(base32.len())
        .map_err(|err| err.to_string())?;
    let mut buf = [0; MAX_CID_BYTES];
    let bytes = buf
        .get_mut(..len)
        .ok_or_else(|| format!("{len} bytes, more than a CID"))?;
    let len = BASE32_NOPAD_NOCASE
        .decode_mut(base32.as_bytes(), bytes)
        .map_err(|partial| partial.error.to_string())?;
    decode_bytes(&bytes[..len])
}

const V0: &str = "CIDv0 is not allowed; use CIDv1";

/// Writes the binary form of `cid` into `buf`, returning the bytes used.
#[doc(hidden)]
pub fn write_binary<'b>(cid: &::cid::Cid, buf: &'b mut [u8; MAX_CID_BYTES]) -> &'b [u8] {
    let mut rest = &mut buf[..];
    // A CID never exceeds the buffer: its parts are bounded above.
    let len = cid.write_bytes(&mut rest).unwrap_or_default();
    &buf[..len]
}

/// Decodes a binary CIDv1 that is all of `bytes`, in its one encoding.
fn decode_bytes(bytes: &[u8]) -> Result<::cid::Cid, Reason> {
    let cid = ::cid::Cid::try_from(bytes).map_err(|err| err.to_string())?;
    if cid.version() == ::cid::Version::V0 {
        return Err(V0.into());
    }
    // The varints are read in their shortest form only, so a CID that used
    // all the bytes was written exactly so.
    if cid.encoded_len() != bytes.len() {
        return Err(format!(
            "{} bytes after the CID",
            bytes.len().saturating_sub(cid.encoded_len())
        )
        .into());
    }
    Ok(cid)
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
        return Err(V0.into());
    }
    Ok(())
}

impl From<::cid::Cid> for Cid {
    /// The CID; a CIDv0 becomes the CIDv1 of the same content (DAG-PB codec,
    /// the same multihash).
    fn from(cid: ::cid::Cid) -> Self {
        match cid.version() {
            ::cid::Version::V1 => Self::from_v1(cid),
            ::cid::Version::V0 => Self::from_v1(::cid::Cid::new_v1(cid.codec(), *cid.hash())),
        }
    }
}

impl From<Cid> for ::cid::Cid {
    fn from(cid: Cid) -> Self {
        *cid.cid
    }
}

impl PartialEq for Cid {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.cid == other.cid
    }
}

impl Eq for Cid {}

impl Hash for Cid {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        Hash::hash(&self.cid, state);
    }
}

impl PartialOrd for Cid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cid {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cid.cmp(&other.cid)
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.text {
            Some(text) => f.write_str(text),
            None => fmt::Display::fmt(&self.cid, f),
        }
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cid").field(&self.to_string()).finish()
    }
}

impl std::str::FromStr for Cid {
    type Err = FormatError;

    fn from_str(text: &str) -> Result<Self, FormatError> {
        Self::from_text(text)
    }
}

impl TryFrom<&str> for Cid {
    type Error = FormatError;

    fn try_from(text: &str) -> Result<Self, FormatError> {
        Self::from_text(text)
    }
}

impl TryFrom<String> for Cid {
    type Error = FormatError;

    fn try_from(text: String) -> Result<Self, FormatError> {
        Self::new(text)
    }
}

impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.text {
            Some(text) => serializer.serialize_str(text),
            None => serializer.serialize_str(&self.cid.to_string()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

/// Reads a CID from a borrowed or owned string, copying the text only when
/// it is kept.
struct TextVisitor;

impl serde::de::Visitor<'_> for TextVisitor {
    type Value = Cid;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string in the Lexicon `cid` format")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Cid, E> {
        Cid::from_text(v).map_err(E::custom)
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Cid, E> {
        Cid::new(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher as _;

    use ::cid::multibase::Base;

    use super::*;

    const CID: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

    #[test]
    fn decodes() {
        let cid = Cid::new(CID).unwrap();
        assert_eq!(cid.to_string(), CID);
        assert_eq!(cid.original_text(), None);
        assert_eq!(cid.codec(), 0x71);
        assert_eq!(cid.hash_code(), 0x12);
        assert_eq!(cid.digest().len(), 32);
        assert_eq!(cid.as_cid().to_string(), CID);
        assert_eq!(Cid::from(*cid.as_cid()), cid);
        assert_eq!(::cid::Cid::from(cid.clone()), *cid.as_cid());
        assert_eq!(format!("{cid:?}"), format!("Cid({CID:?})"));
        // Syntactically valid, not decodable.
        let err = Cid::new("z7x3CtScH765HvShXT").unwrap_err();
        assert!(err.reason.starts_with("not a decodable CID"), "{err}");
        assert!(Cid::validate("z7x3CtScH765HvShXT").is_ok());
    }

    #[test]
    fn keeps_other_forms_and_compares_by_cid() {
        let canonical = Cid::new(CID).unwrap();
        let bytes = canonical.to_bytes();
        let others = [
            format!("B{}", CID[1..].to_ascii_uppercase()),
            // Lowercase base32 with uppercase letters mixed in, which the
            // base32 decoder also reads.
            format!("b{}", CID[1..].replacen('a', "A", 1)),
            multibase::encode(Base::Base16Lower, &bytes),
            multibase::encode(Base::Base58Btc, &bytes),
            multibase::encode(Base::Base10, &bytes),
            multibase::encode(Base::Base32HexLower, &bytes),
            multibase::encode(Base::Base36Lower, &bytes),
        ];
        for text in others {
            let cid = Cid::new(text.as_str()).unwrap();
            assert_eq!(cid.to_string(), text);
            assert_eq!(cid.original_text(), Some(text.as_str()));
            assert_eq!(cid, canonical);
            assert_eq!(cid.to_canonical_string(), CID);
            assert_eq!(text.parse::<Cid>().unwrap().to_string(), text);
            let json = serde_json::to_string(&cid).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<Cid>(&json).unwrap().to_string(),
                text
            );
            let state = std::collections::hash_map::RandomState::new();
            assert_eq!(state.hash_one(&cid), state.hash_one(&canonical));
            assert_eq!(cid.cmp(&canonical), Ordering::Equal);
        }
    }

    #[test]
    fn canonical_text_is_exactly_the_base32_form() {
        let bytes = Cid::new(CID).unwrap().to_bytes();
        // The last character of the base32 form carries 2 bits of padding
        // (36 bytes are 288 bits, its 58 characters 290): setting them gives
        // text that a lax decoder would read as the same bytes, and that the
        // base32 decoder refuses.
        let last = CID.as_bytes()[CID.len() - 1];
        let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
        let index = alphabet.iter().position(|&c| c == last).unwrap();
        let padded = format!("{}{}", &CID[..CID.len() - 1], alphabet[index | 1] as char);
        assert_ne!(padded, CID);
        let err = Cid::new(padded.as_str()).unwrap_err();
        assert!(err.reason.starts_with("not a decodable CID"), "{err}");
        // Bytes after the CID, in base32.
        let longer = multibase::encode(Base::Base32Lower, [&bytes[..], &[0]].concat());
        let err = Cid::new(longer).unwrap_err();
        assert!(err.reason.contains("1 bytes after the CID"), "{err}");
        // A CID decoded from its base32 text is that text.
        for codec in [0x55, 0x71, 0x70] {
            let hash = ::cid::multihash::Multihash::<64>::wrap(0x12, &[7; 32]).unwrap();
            let text = ::cid::Cid::new_v1(codec, hash).to_string();
            let cid = Cid::new(text.as_str()).unwrap();
            assert_eq!(cid.original_text(), None, "{text}");
            assert_eq!(cid.to_string(), text);
        }
    }

    #[test]
    fn base32_is_read_as_multibase_reads_it() {
        let bytes = Cid::new(CID).unwrap().to_bytes();
        let mut texts = vec![
            CID.to_owned(),
            CID.to_ascii_uppercase().replacen('B', "b", 1),
            format!("{CID}a"),
            format!("{CID}aa"),
            format!("{}1", &CID[..CID.len() - 1]),
            format!("{}8", &CID[..CID.len() - 1]),
            format!("b{}", "a".repeat(200)),
            multibase::encode(Base::Base32Lower, [&bytes[..], &[0]].concat()),
            multibase::encode(Base::Base32Lower, &bytes[..30]),
        ];
        for cut in [1, 2, 7, 8, 9, 10, 30] {
            texts.push(CID[..CID.len() - cut].to_owned());
        }
        let mut accepted = 0;
        for text in &texts {
            let ours = decode_text(text).map(|(cid, _)| cid);
            let theirs = check(text).map_err(drop).and_then(|()| {
                let (_, bytes) = multibase::decode(text).map_err(drop)?;
                decode_bytes(&bytes).map_err(drop)
            });
            accepted += usize::from(ours.is_ok());
            assert_eq!(ours.ok(), theirs.ok(), "{text}");
        }
        // The CID in either case; every other text is refused.
        assert_eq!(accepted, 2);
    }

    #[test]
    fn binary_cids_must_be_whole_and_v1() {
        let cid = Cid::new(CID).unwrap();
        let bytes = cid.to_bytes();
        assert_eq!(Cid::from_bytes(&bytes).unwrap(), cid);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(
            Cid::from_bytes(&longer)
                .unwrap_err()
                .contains("1 bytes after")
        );
        assert!(Cid::from_bytes(&bytes[..10]).is_err());
        assert!(Cid::from_bytes(&[]).is_err());
        let v0 = ::cid::Cid::try_from("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR").unwrap();
        assert!(
            Cid::from_bytes(&v0.to_bytes())
                .unwrap_err()
                .contains("CIDv0")
        );
        let mut buf = [0; MAX_CID_BYTES];
        assert_eq!(cid.write_bytes(&mut buf), &bytes[..]);
    }

    #[test]
    fn cidv0_is_refused_as_text_and_upgraded_from_the_cid_crate() {
        let v0 = "QmWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnRx";
        assert!(
            Cid::validate(v0).is_ok(),
            "the syntax rule only refuses Qmb…"
        );
        let err = Cid::new(v0).unwrap_err();
        assert_eq!(err.reason, V0);
        let decoded =
            ::cid::Cid::try_from("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR").unwrap();
        // The same bytes in a multibase: decodable, but a CIDv0.
        let based = multibase::encode(Base::Base32Lower, decoded.to_bytes());
        assert_eq!(
            Cid::new(based).unwrap_err().reason,
            format!("not a decodable CID: {V0}")
        );
        let upgraded = Cid::from(decoded);
        assert_eq!(upgraded.as_cid().version(), ::cid::Version::V1);
        assert_eq!(upgraded.codec(), 0x70);
        assert_eq!(upgraded.digest(), decoded.hash().digest());
    }

    #[test]
    fn reasons() {
        let reason = |s: &str| Cid::validate(s).unwrap_err().reason;
        assert_eq!(reason("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"), V0);
        assert_eq!(reason("noop"), "too short: 4 bytes, min 8");
        assert_eq!(reason(&format!(" {CID}")), "invalid character ' '");
        assert!(reason("bafyreie5737/").starts_with("invalid character"));
        assert_eq!(
            Cid::new("noop").unwrap_err().reason,
            "too short: 4 bytes, min 8"
        );
    }

    #[test]
    fn serde_round_trip() {
        let cid = Cid::new(CID).unwrap();
        let json = serde_json::to_string(&cid).unwrap();
        assert_eq!(json, format!("\"{CID}\""));
        assert_eq!(serde_json::from_str::<Cid>(&json).unwrap(), cid);
        let owned: Cid = serde_json::from_value(serde_json::json!(CID)).unwrap();
        assert_eq!(owned, cid);
        let err = serde_json::from_str::<Cid>("\"example.com\"").unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid cid \"example.com\": invalid character '.'"),
            "{err}"
        );
        let err = serde_json::from_str::<Cid>("12").unwrap_err();
        assert!(err.to_string().contains("Lexicon `cid` format"), "{err}");
    }
}
