//! `cid-link`, `bytes` and `blob`: the data model's three special values,
//! each written in its JSON form or its DAG-CBOR form depending on the
//! serializer (see [`Serializer::is_human_readable`]).

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cid::serde::CID_SERDE_PRIVATE_IDENTIFIER;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::types::{Cid, FormatError, MAX_CID_BYTES};

/// Decodes `$bytes` leniently, as the reference implementations do: padding
/// optional, and non-zero trailing bits in the last symbol ignored.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A link to content by its CID: `{"$link": "<cid>"}` in JSON, CBOR tag 42 in
/// DAG-CBOR.
///
/// It holds a [`Cid`], the CID of every other part of atlex (a `cid`-format
/// string, a blob's reference, a record's computed CID), and compares with
/// one directly. JSON writes the link's text as it was read (base32 for a
/// link read from DAG-CBOR or computed).
///
/// ```
/// use atlex_core::data::CidLink;
///
/// let link: CidLink = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a".parse()?;
/// assert_eq!(link.codec(), 0x71); // dag-cbor
/// assert_eq!(
///     serde_json::to_string(&link)?,
///     r#"{"$link":"bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CidLink(pub Cid);

impl CidLink {
    /// The linked CID.
    pub fn cid(&self) -> &Cid {
        &self.0
    }

    /// Parses a CID string (see [`Cid::new`]).
    pub fn parse(text: &str) -> Result<Self, FormatError> {
        text.parse().map(Self)
    }

    /// Reads a binary CID (see [`Cid::from_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        Cid::from_bytes(bytes).map(Self)
    }

    /// Serializes `cid` as a link, for the types that hold a [`Cid`] and
    /// write it as one.
    pub(crate) fn serialize_cid<S: Serializer>(
        cid: &Cid,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("$link", cid)?;
            map.end()
        } else {
            // The convention the `cid` crate and DAG-CBOR serializers share:
            // a newtype of the CID's bytes under a private name becomes tag 42.
            let mut buf = [0; MAX_CID_BYTES];
            let bytes = cid.write_bytes(&mut buf);
            serializer.serialize_newtype_struct(CID_SERDE_PRIVATE_IDENTIFIER, &ByteString(bytes))
        }
    }
}

impl std::ops::Deref for CidLink {
    type Target = Cid;

    fn deref(&self) -> &Cid {
        &self.0
    }
}

impl fmt::Display for CidLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for CidLink {
    type Err = FormatError;

    fn from_str(text: &str) -> Result<Self, FormatError> {
        Self::parse(text)
    }
}

impl From<Cid> for CidLink {
    fn from(cid: Cid) -> Self {
        Self(cid)
    }
}

impl From<CidLink> for Cid {
    fn from(link: CidLink) -> Self {
        link.0
    }
}

impl From<cid::Cid> for CidLink {
    /// The CID; a CIDv0 becomes the CIDv1 of the same content, as in
    /// [`Cid`]'s conversion.
    fn from(cid: cid::Cid) -> Self {
        Self(cid.into())
    }
}

impl From<CidLink> for cid::Cid {
    fn from(link: CidLink) -> Self {
        link.0.into()
    }
}

impl PartialEq<Cid> for CidLink {
    fn eq(&self, other: &Cid) -> bool {
        self.0 == *other
    }
}

impl PartialEq<CidLink> for Cid {
    fn eq(&self, other: &CidLink) -> bool {
        *self == other.0
    }
}

/// Serializes borrowed bytes as a CBOR byte string.
struct ByteString<'a>(&'a [u8]);

impl Serialize for ByteString<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl Serialize for CidLink {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Self::serialize_cid(&self.0, serializer)
    }
}

/// A borrowed [`Cid`] serialized as a link.
struct LinkTo<'a>(&'a Cid);

impl Serialize for LinkTo<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CidLink::serialize_cid(self.0, serializer)
    }
}

/// Reads the bytes of a binary CID.
pub(crate) struct CidBytesVisitor;

impl<'de> Visitor<'de> for CidBytesVisitor {
    type Value = CidLink;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the bytes of a CID")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<CidLink, E> {
        CidLink::from_bytes(bytes).map_err(E::custom)
    }
}

/// Reads a CBOR tag-42 link: a newtype under the `cid` crate's private name.
struct TaggedCidVisitor;

impl<'de> Visitor<'de> for TaggedCidVisitor {
    type Value = CidLink;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a cid-link (CBOR tag 42)")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<CidLink, D::Error> {
        d.deserialize_bytes(CidBytesVisitor)
    }
}

impl<'de> Deserialize<'de> for CidLink {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            return deserializer
                .deserialize_newtype_struct(CID_SERDE_PRIVATE_IDENTIFIER, TaggedCidVisitor);
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, expecting = "a `{\"$link\": \"<cid>\"}` object")]
        struct Raw<'a> {
            #[serde(rename = "$link", borrow)]
            link: std::borrow::Cow<'a, str>,
        }
        let raw = Raw::deserialize(deserializer)?;
        CidLink::parse(&raw.link).map_err(de::Error::custom)
    }
}

/// Raw bytes: `{"$bytes": "<standard base64 without padding>"}` in JSON, a
/// byte string in DAG-CBOR.
///
/// Decoding JSON also accepts padded base64, which some implementations emit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The base64 text written in `$bytes`.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&self.0)
    }

    /// Decodes `$bytes` text (padding optional).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        LENIENT_BASE64
            .decode(text.as_bytes())
            .map(Self)
            .map_err(|e| format!("invalid $bytes base64: {e}"))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("$bytes", &self.to_base64())?;
            map.end()
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

/// Reads a byte string.
struct ByteStringVisitor;

impl<'de> Visitor<'de> for ByteStringVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(bytes.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(bytes))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            return deserializer.deserialize_byte_buf(ByteStringVisitor);
        }
        #[derive(Deserialize)]
        #[serde(
            deny_unknown_fields,
            expecting = "a `{\"$bytes\": \"<base64>\"}` object"
        )]
        struct Raw<'a> {
            #[serde(rename = "$bytes", borrow)]
            bytes: std::borrow::Cow<'a, str>,
        }
        let raw = Raw::deserialize(deserializer)?;
        Bytes::from_base64(&raw.bytes).map_err(de::Error::custom)
    }
}

/// A reference to a blob: its CID, MIME type and size.
///
/// The current form is `{"$type": "blob", "ref": <cid-link>, "mimeType": …,
/// "size": …}`, in JSON and in DAG-CBOR alike (the `ref` being a `$link`
/// object or a tag-42 link). Old records carry the legacy form `{"cid":
/// "…", "mimeType": …}` without a size; such a blob decodes with `size: None`
/// and is written back in the legacy form, its `cid` text as it was, so
/// nothing is lost or invented.
/// Strict DAG-CBOR decoding ([`crate::cbor::from_slice`]) refuses the legacy
/// form and properties a blob does not have.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Blob {
    /// The CID of the blob's bytes (usually the `raw` codec and sha2-256).
    pub cid: Cid,
    /// The MIME type the uploader declared.
    pub mime_type: String,
    /// Size in bytes; `None` only for the legacy form.
    pub size: Option<u64>,
}

impl Blob {
    /// A blob reference in the current form.
    pub fn new(cid: impl Into<Cid>, mime_type: impl Into<String>, size: u64) -> Self {
        Self {
            cid: cid.into(),
            mime_type: mime_type.into(),
            size: Some(size),
        }
    }

    /// Whether this reference was read in the legacy `{"cid", "mimeType"}` form.
    pub fn is_legacy(&self) -> bool {
        self.size.is_none()
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.size {
            Some(size) => {
                let mut map = serializer.serialize_map(Some(4))?;
                map.serialize_entry("$type", "blob")?;
                map.serialize_entry("ref", &LinkTo(&self.cid))?;
                map.serialize_entry("mimeType", &self.mime_type)?;
                map.serialize_entry("size", &size)?;
                map.end()
            }
            None => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("cid", &self.cid)?;
                map.serialize_entry("mimeType", &self.mime_type)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BlobVisitor)
    }
}

struct BlobVisitor;

impl<'de> Visitor<'de> for BlobVisitor {
    type Value = Blob;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a blob object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Blob, A::Error> {
        let strict = super::decoding_strictly();
        let mut type_tag: Option<super::Key<'de>> = None;
        let mut link: Option<CidLink> = None;
        let mut legacy_cid: Option<super::Key<'de>> = None;
        let mut mime_type: Option<String> = None;
        let mut size: Option<i64> = None;
        while let Some(key) = map.next_key::<super::Key<'de>>()? {
            match key.as_str() {
                "$type" => type_tag = Some(map.next_value()?),
                "ref" => link = Some(map.next_value()?),
                "cid" => legacy_cid = Some(map.next_value()?),
                "mimeType" => mime_type = Some(map.next_value()?),
                "size" => size = Some(map.next_value()?),
                other if strict => {
                    return Err(de::Error::custom(format_args!(
                        "a blob has no property {other:?}"
                    )));
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let mime_type = mime_type.ok_or_else(|| de::Error::missing_field("mimeType"))?;
        match (type_tag, link, legacy_cid) {
            (Some(tag), Some(link), None) => {
                if tag.as_str() != "blob" {
                    return Err(de::Error::custom(format_args!(
                        "blob has $type {:?}, expected \"blob\"",
                        tag.as_str()
                    )));
                }
                let size = size.ok_or_else(|| de::Error::missing_field("size"))?;
                let size = u64::try_from(size)
                    .map_err(|_| de::Error::custom(format_args!("blob size {size} is negative")))?;
                Ok(Blob {
                    cid: link.0,
                    mime_type,
                    size: Some(size),
                })
            }
            (None, None, Some(cid)) => {
                if strict {
                    return Err(de::Error::custom(
                        "legacy blob form {\"cid\", \"mimeType\"}: decode leniently to accept it",
                    ));
                }
                let cid = cid
                    .as_str()
                    .parse()
                    .map_err(|err| de::Error::custom(format_args!("legacy blob cid: {err}")))?;
                Ok(Blob {
                    cid,
                    mime_type,
                    size: None,
                })
            }
            (None, Some(_), _) => Err(de::Error::missing_field("$type")),
            (Some(_), None, _) => Err(de::Error::missing_field("ref")),
            (_, Some(_), Some(_)) => Err(de::Error::custom(
                "blob has both \"ref\" and legacy \"cid\"",
            )),
            (None, None, None) => Err(de::Error::missing_field("ref")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CID: &str = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";

    #[test]
    fn cid_link_round_trip() {
        let v = json!({ "$link": CID });
        let link: CidLink = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(link.to_string(), CID);
        assert_eq!(serde_json::to_value(&link).unwrap(), v);
        let cid: Cid = CID.parse().unwrap();
        assert_eq!(link, cid);
        assert_eq!(cid, link);
        assert_eq!(*link, cid);
        assert_eq!(link.cid(), &cid);
        assert_eq!(Cid::from(link.clone()), cid);
        assert_eq!(CidLink::from(cid.clone()), link);
        assert_eq!(CidLink::from(*cid.as_cid()), link);
        assert_eq!(cid::Cid::from(link.clone()), *cid.as_cid());
        for bad in [
            json!({ "$link": "nope" }),
            json!({ "$link": CID, "x": 1 }),
            json!({ "$link": "/ipfs/bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a" }),
            json!({ "$link": "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR" }),
            // Passes the syntax, does not decode.
            json!({ "$link": "z7x3CtScH765HvShXT" }),
        ] {
            assert!(
                serde_json::from_value::<CidLink>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_link_in_another_base_is_written_back_as_read() {
        let cid: Cid = CID.parse().unwrap();
        let base58 = cid
            .as_cid()
            .to_string_of_base(cid::multibase::Base::Base58Btc)
            .unwrap();
        let v = json!({ "$link": base58 });
        let link: CidLink = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(link, cid);
        assert_eq!(serde_json::to_value(&link).unwrap(), v);
    }

    #[test]
    fn binary_links_must_be_whole_and_v1() {
        let link: CidLink = CID.parse().unwrap();
        let bytes = link.to_bytes();
        assert_eq!(CidLink::from_bytes(&bytes).unwrap(), link);
        assert!(CidLink::from_bytes(&[&bytes[..], &[0]].concat()).is_err());
        let v0 = cid::Cid::try_from("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR").unwrap();
        assert!(
            CidLink::from_bytes(&v0.to_bytes())
                .unwrap_err()
                .contains("CIDv0")
        );
    }

    #[test]
    fn bytes_round_trip_and_padding() {
        let v = json!({ "$bytes": "AQID" });
        let b: Bytes = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(b.0, vec![1, 2, 3]);
        assert_eq!(serde_json::to_value(&b).unwrap(), v);
        let padded: Bytes = serde_json::from_value(json!({ "$bytes": "AQ==" })).unwrap();
        assert_eq!(padded.0, vec![1]);
        assert_eq!(padded.to_base64(), "AQ");
        let err = serde_json::from_value::<Bytes>(json!({ "$bytes": "!!" })).unwrap_err();
        assert!(err.to_string().contains("base64"), "{err}");
    }

    #[test]
    fn blob_current_and_legacy_forms() {
        let v = json!({ "$type": "blob", "ref": { "$link": CID }, "mimeType": "image/png", "size": 12 });
        let blob: Blob = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(blob.size, Some(12));
        assert_eq!(serde_json::to_value(&blob).unwrap(), v);

        let legacy = json!({ "cid": CID, "mimeType": "image/jpeg" });
        let blob: Blob = serde_json::from_value(legacy.clone()).unwrap();
        assert!(blob.is_legacy());
        assert_eq!(serde_json::to_value(&blob).unwrap(), legacy);
        // A legacy cid in base58 is written back in base58.
        let base58 = blob
            .cid
            .as_cid()
            .to_string_of_base(cid::multibase::Base::Base58Btc)
            .unwrap();
        let legacy = json!({ "cid": base58, "mimeType": "image/jpeg" });
        let same: Blob = serde_json::from_value(legacy.clone()).unwrap();
        assert_eq!(same, blob);
        assert_eq!(serde_json::to_value(&same).unwrap(), legacy);

        for bad in [
            json!({ "ref": { "$link": CID }, "mimeType": "a/b", "size": 1 }),
            json!({ "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b" }),
            json!({ "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b", "size": -1 }),
            json!({ "$type": "nope", "ref": { "$link": CID }, "mimeType": "a/b", "size": 1 }),
            json!({ "$type": "blob", "mimeType": "a/b", "size": 1 }),
            json!({ "cid": "not a cid", "mimeType": "a/b" }),
            json!("blob"),
        ] {
            assert!(
                serde_json::from_value::<Blob>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
