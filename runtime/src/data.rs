//! The atproto data model's special JSON forms: `cid-link`, `bytes`, `blob` and
//! `unknown`.
//!
//! Each type reads and writes exactly the JSON representation the data model
//! specifies, so values pass through a decode / encode cycle unchanged:
//!
//! | lexicon type | JSON                                                        | Rust        |
//! |--------------|-------------------------------------------------------------|-------------|
//! | `cid-link`   | `{"$link": "bafy…"}`                                        | [`CidLink`] |
//! | `bytes`      | `{"$bytes": "<base64, no padding>"}`                        | [`Bytes`]   |
//! | `blob`       | `{"$type": "blob", "ref": {"$link": …}, "mimeType", "size"}` | [`Blob`]    |
//! | `unknown`    | any object (usually with a `$type`)                         | [`Unknown`] |

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Decodes `$bytes` leniently, as the reference implementations do: padding
/// optional, and non-zero trailing bits in the last symbol ignored.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::types::Cid;

/// A lexicon type that has a `$type` name: every object, record and union
/// member that atlex generates.
///
/// `TYPE` is the full reference, `nsid#def`, or the bare NSID for a `main`
/// definition, exactly as it appears in the `$type` field of data.
pub trait LexType {
    /// The `$type` string of this definition.
    const TYPE: &'static str;
}

/// A record type: the `main` definition of a lexicon whose type is `record`.
pub trait Record: LexType {
    /// The NSID of the record's collection (the same string as `TYPE`).
    const NSID: &'static str;
    /// What the lexicon allows as record keys in this collection.
    const KEY: RecordKeyKind;
}

/// The `key` of a record definition: which record keys a collection uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKeyKind {
    /// `tid`: a timestamp identifier.
    Tid,
    /// `nsid`: the key is an NSID.
    Nsid,
    /// `any`: any valid record key.
    Any,
    /// `literal:<value>`: exactly this key (for example `self`).
    Literal(&'static str),
}

impl RecordKeyKind {
    /// Whether `key` is allowed by this kind. `key` is assumed to be a
    /// syntactically valid record key already.
    pub fn allows(&self, key: &str) -> bool {
        match self {
            Self::Tid => crate::types::Tid::validate(key).is_ok(),
            Self::Nsid => crate::types::Nsid::validate(key).is_ok(),
            Self::Any => true,
            Self::Literal(literal) => key == *literal,
        }
    }
}

/// A link to content by its CID, written `{"$link": "<cid>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CidLink(pub Cid);

impl CidLink {
    /// The linked CID.
    pub fn cid(&self) -> &Cid {
        &self.0
    }
}

impl From<Cid> for CidLink {
    fn from(cid: Cid) -> Self {
        Self(cid)
    }
}

impl Serialize for CidLink {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("$link", self.0.as_str())?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for CidLink {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(rename = "$link")]
            link: Cid,
        }
        Raw::deserialize(deserializer).map(|raw| Self(raw.link))
    }
}

/// Raw bytes, written `{"$bytes": "<standard base64 without padding>"}`.
///
/// Decoding also accepts padded base64, which some implementations emit.
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
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("$bytes", &self.to_base64())?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw<'a> {
            #[serde(rename = "$bytes", borrow)]
            bytes: std::borrow::Cow<'a, str>,
        }
        let raw = Raw::deserialize(deserializer)?;
        LENIENT_BASE64
            .decode(raw.bytes.as_bytes())
            .map(Self)
            .map_err(|e| de::Error::custom(format_args!("invalid $bytes base64: {e}")))
    }
}

/// A reference to a blob: its CID, MIME type and size.
///
/// The current form is `{"$type": "blob", "ref": {"$link": …}, "mimeType": …,
/// "size": …}`. Old records carry the legacy form `{"cid": "…", "mimeType":
/// …}` without a size; such a blob decodes with `size: None` and is written
/// back in the legacy form, so nothing is lost or invented.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Blob {
    /// The CID of the blob's bytes.
    pub cid: Cid,
    /// The MIME type the uploader declared.
    pub mime_type: String,
    /// Size in bytes; `None` only for the legacy form.
    pub size: Option<u64>,
}

impl Blob {
    /// A blob reference in the current form.
    pub fn new(cid: Cid, mime_type: impl Into<String>, size: u64) -> Self {
        Self {
            cid,
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
                map.serialize_entry("ref", &CidLink(self.cid.clone()))?;
                map.serialize_entry("mimeType", &self.mime_type)?;
                map.serialize_entry("size", &size)?;
                map.end()
            }
            None => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("cid", self.cid.as_str())?;
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
        let mut type_tag: Option<String> = None;
        let mut link: Option<CidLink> = None;
        let mut legacy_cid: Option<Cid> = None;
        let mut mime_type: Option<String> = None;
        let mut size: Option<i64> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "$type" => type_tag = Some(map.next_value()?),
                "ref" => link = Some(map.next_value()?),
                "cid" => legacy_cid = Some(map.next_value()?),
                "mimeType" => mime_type = Some(map.next_value()?),
                "size" => size = Some(map.next_value()?),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let mime_type = mime_type.ok_or_else(|| de::Error::missing_field("mimeType"))?;
        match (type_tag, link, legacy_cid) {
            (Some(tag), Some(link), None) => {
                if tag != "blob" {
                    return Err(de::Error::custom(format_args!(
                        "blob has $type {tag:?}, expected \"blob\""
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
            (None, None, Some(cid)) => Ok(Blob {
                cid,
                mime_type,
                size: None,
            }),
            (None, Some(_), _) => Err(de::Error::missing_field("$type")),
            (Some(_), None, _) => Err(de::Error::missing_field("ref")),
            (_, Some(_), Some(_)) => Err(de::Error::custom(
                "blob has both \"ref\" and legacy \"cid\"",
            )),
            (None, None, None) => Err(de::Error::missing_field("ref")),
        }
    }
}

/// Data whose schema the lexicon leaves open (`"type": "unknown"`), or a
/// member of an open union whose `$type` this code does not know.
///
/// The value is kept exactly as it was received, so re-encoding it writes the
/// same JSON. Use [`Unknown::type_name`] to look at its `$type` and
/// [`Unknown::decode`] to read it as a generated type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Unknown(pub serde_json::Value);

impl Unknown {
    /// Wraps a JSON value.
    pub fn new(value: serde_json::Value) -> Self {
        Self(value)
    }

    /// Encodes a generated type, adding its `$type`.
    pub fn encode<T: LexType + Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_value(crate::rt::Tagged::new(T::TYPE, value)).map(Self)
    }

    /// The `$type` field, if the data is an object that has one.
    pub fn type_name(&self) -> Option<&str> {
        self.0.get("$type").and_then(serde_json::Value::as_str)
    }

    /// Reads the data as `T`. The `$type`, when present, must be `T`'s.
    pub fn decode<T: LexType + DeserializeOwned>(&self) -> Result<T, DecodeUnknownError> {
        match self.type_name() {
            Some(found) if found != T::TYPE => Err(DecodeUnknownError::TypeMismatch {
                expected: T::TYPE,
                found: found.to_owned(),
            }),
            _ => serde_path_to_error::deserialize(&self.0).map_err(|err| {
                let path = err.path().to_string();
                DecodeUnknownError::Invalid {
                    path: if path == "." { String::new() } else { path },
                    source: err.into_inner(),
                }
            }),
        }
    }

    /// The JSON value.
    pub fn as_value(&self) -> &serde_json::Value {
        &self.0
    }

    /// The JSON value, by value.
    pub fn into_value(self) -> serde_json::Value {
        self.0
    }
}

impl From<serde_json::Value> for Unknown {
    fn from(value: serde_json::Value) -> Self {
        Self(value)
    }
}

/// Why [`Unknown::decode`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeUnknownError {
    /// The data names another type.
    #[error("expected $type {expected:?}, found {found:?}")]
    TypeMismatch {
        /// The type asked for.
        expected: &'static str,
        /// The `$type` in the data.
        found: String,
    },
    /// The data does not fit the type: where (`embed.images[0].alt`, empty
    /// at the top) and why.
    #[error("{}{source}", if path.is_empty() { String::new() } else { format!("at {path}: ") })]
    Invalid {
        /// Where in the data.
        path: String,
        /// What is wrong.
        source: serde_json::Error,
    },
}

/// Why JSON is not valid data-model JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", if path.is_empty() { String::new() } else { format!("at {path}: ") })]
pub struct DataModelError {
    /// Where (`a.b[2]`), empty for the top level.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// What kind of JSON value this is, for messages.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// If an object is one of the data model's special forms (`$bytes`,
/// `$link`, a blob), which one.
pub fn special_object(map: &serde_json::Map<String, serde_json::Value>) -> Option<&'static str> {
    if map.contains_key("$bytes") {
        Some("bytes")
    } else if map.contains_key("$link") {
        Some("a cid-link")
    } else if map.get("$type").and_then(serde_json::Value::as_str) == Some("blob") {
        Some("a blob")
    } else {
        None
    }
}

/// Checks that JSON follows the atproto data model: integers only (a float
/// with no fraction counts as an integer), `$type` a non-empty string,
/// `$link` and `$bytes` objects well formed and alone, blobs complete.
pub fn check_data_model(value: &serde_json::Value) -> Result<(), DataModelError> {
    let mut path = Vec::new();
    check_value(value, &mut path, 0)
}

/// Checks that a whole document (a record, a body) is data-model JSON: an
/// object at the top.
pub fn check_data_model_object(value: &serde_json::Value) -> Result<(), DataModelError> {
    if !value.is_object() {
        return Err(DataModelError {
            path: String::new(),
            reason: format!("{}, an object required at the top level", json_kind(value)),
        });
    }
    check_data_model(value)
}

const MAX_DEPTH: usize = 512;

fn data_error(path: &[String], reason: impl Into<String>) -> DataModelError {
    let mut text = String::new();
    for segment in path {
        if !segment.starts_with('[') && !text.is_empty() {
            text.push('.');
        }
        text.push_str(segment);
    }
    DataModelError {
        path: text,
        reason: reason.into(),
    }
}

fn check_value(
    value: &serde_json::Value,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), DataModelError> {
    if depth > MAX_DEPTH {
        return Err(data_error(path, "nested too deeply"));
    }
    match value {
        serde_json::Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                if n.as_i64().is_none() {
                    return Err(data_error(
                        path,
                        format!("integer {n} is out of the 64-bit range"),
                    ));
                }
                Ok(())
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => Ok(()),
                    _ => Err(data_error(
                        path,
                        format!("{n} is not an integer; the data model has no floats"),
                    )),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                check_value(item, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        serde_json::Value::Object(map) => check_object(map, path, depth),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::String(_) => {
            Ok(())
        }
    }
}

fn check_object(
    map: &serde_json::Map<String, serde_json::Value>,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), DataModelError> {
    if let Some(link) = map.get("$link") {
        if map.len() != 1 {
            return Err(data_error(path, "a $link object has no other fields"));
        }
        return match link.as_str() {
            Some(cid) => Cid::validate(cid).map_err(|e| data_error(path, e.to_string())),
            None => Err(data_error(
                path,
                format!("$link is {}, a CID string required", json_kind(link)),
            )),
        };
    }
    if let Some(bytes) = map.get("$bytes") {
        if map.len() != 1 {
            return Err(data_error(path, "a $bytes object has no other fields"));
        }
        return match bytes.as_str() {
            Some(text) => LENIENT_BASE64
                .decode(text.as_bytes())
                .map(drop)
                .map_err(|e| data_error(path, format!("invalid $bytes base64: {e}"))),
            None => Err(data_error(
                path,
                format!("$bytes is {}, a base64 string required", json_kind(bytes)),
            )),
        };
    }
    match map.get("$type") {
        None => {}
        Some(serde_json::Value::String(t)) if t.is_empty() => {
            return Err(data_error(path, "$type is an empty string"));
        }
        Some(serde_json::Value::String(t)) if t == "blob" => {
            return Blob::deserialize(&serde_json::Value::Object(map.clone()))
                .map(drop)
                .map_err(|e| data_error(path, format!("invalid blob: {e}")));
        }
        Some(serde_json::Value::String(_)) => {}
        Some(other) => {
            return Err(data_error(
                path,
                format!("$type is {}, a string required", json_kind(other)),
            ));
        }
    }
    for (key, value) in map {
        path.push(key.clone());
        check_value(value, path, depth + 1)?;
        path.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CID: &str = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";

    #[test]
    fn decoding_unknown_data_names_the_field() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            count: u32,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<Inner>,
        }
        impl LexType for Outer {
            const TYPE: &'static str = "com.example.outer";
        }
        let data = Unknown::new(json!({
            "$type": "com.example.outer",
            "items": [{"count": 1}, {"count": "two"}]
        }));
        let err = data.decode::<Outer>().unwrap_err();
        assert!(
            matches!(&err, DecodeUnknownError::Invalid { path, .. } if path == "items[1].count"),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("at items[1].count: "), "{err}");
        let err = Unknown::new(json!([])).decode::<Outer>().unwrap_err();
        assert!(matches!(&err, DecodeUnknownError::Invalid { path, .. } if path.is_empty()));
    }

    #[test]
    fn cid_link_round_trip() {
        let v = json!({ "$link": CID });
        let link: CidLink = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(link.cid().as_str(), CID);
        assert_eq!(serde_json::to_value(&link).unwrap(), v);
        assert!(serde_json::from_value::<CidLink>(json!({ "$link": "nope" })).is_err());
        assert!(serde_json::from_value::<CidLink>(json!({ "$link": CID, "x": 1 })).is_err());
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

        for bad in [
            json!({ "ref": { "$link": CID }, "mimeType": "a/b", "size": 1 }),
            json!({ "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b" }),
            json!({ "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b", "size": -1 }),
            json!({ "$type": "nope", "ref": { "$link": CID }, "mimeType": "a/b", "size": 1 }),
            json!({ "$type": "blob", "mimeType": "a/b", "size": 1 }),
            json!("blob"),
        ] {
            assert!(
                serde_json::from_value::<Blob>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_keeps_everything() {
        let v = json!({ "$type": "com.example.thing", "a": [1, { "$link": CID }], "b": null });
        let u: Unknown = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(u.type_name(), Some("com.example.thing"));
        assert_eq!(serde_json::to_value(&u).unwrap(), v);
    }
}

/// The properties of an object that its lexicon does not declare, kept as
/// received, for code generated with `keep_unknown_fields`.
///
/// Such code gives each object a field of this type (`extra`, unless the
/// lexicon has a property of that name) flattened into the object, so data
/// from a newer lexicon keeps its new properties through a decode / encode
/// cycle. The `$type` of the object is never kept here: it is the object's
/// own, written by whoever encodes it.
///
/// ```
/// use atlex::data::ExtraFields;
///
/// let mut extra = ExtraFields::default();
/// extra.insert("addedLater", serde_json::json!(true));
/// assert_eq!(extra.get("addedLater"), Some(&serde_json::json!(true)));
/// assert_eq!(serde_json::to_string(&extra).unwrap(), r#"{"addedLater":true}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraFields(pub std::collections::BTreeMap<String, serde_json::Value>);

impl ExtraFields {
    /// The value of property `name`, if it was received.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.get(name)
    }

    /// Sets property `name`. A `$type` set here is not written on encode:
    /// the object's own is.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: serde_json::Value,
    ) -> Option<serde_json::Value> {
        self.0.insert(name.into(), value)
    }

    /// Removes property `name`.
    pub fn remove(&mut self, name: &str) -> Option<serde_json::Value> {
        self.0.remove(name)
    }

    /// The properties, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &serde_json::Value)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for ExtraFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kept = self.0.iter().filter(|(name, _)| name.as_str() != "$type");
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in kept {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ExtraFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExtraVisitor;

        impl<'de> Visitor<'de> for ExtraVisitor {
            type Value = ExtraFields;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the remaining properties of an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ExtraFields, A::Error> {
                let mut kept = std::collections::BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name == "$type" {
                        map.next_value::<de::IgnoredAny>()?;
                    } else {
                        let value = map.next_value::<serde_json::Value>()?;
                        kept.insert(name, value);
                    }
                }
                Ok(ExtraFields(kept))
            }
        }

        deserializer.deserialize_map(ExtraVisitor)
    }
}
