//! [`Unknown`] and [`ExtraFields`]: data kept whole because no schema in
//! this code describes it.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{DataModelError, LexType, Value};

/// Data whose schema the lexicon leaves open (`"type": "unknown"`), or a
/// member of an open union whose `$type` this code does not know.
///
/// It holds any data-model [`Value`], links and bytes included, and writes it
/// back as received in either encoding: JSON → DAG-CBOR → JSON changes
/// nothing. Use [`Unknown::type_name`] to look at its `$type`,
/// [`Unknown::decode`] to read it as a generated type and
/// [`Unknown::to_json`] for its data-model JSON.
///
/// ```
/// use atlex_core::data::Unknown;
///
/// let data: Unknown = serde_json::from_str(r#"{"$type": "com.example.thing", "n": 1}"#)?;
/// assert_eq!(data.type_name(), Some("com.example.thing"));
/// assert_eq!(data.to_json(), serde_json::json!({"$type": "com.example.thing", "n": 1}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Unknown(pub Value);

impl Unknown {
    /// Wraps a value.
    pub fn new(value: Value) -> Self {
        Self(value)
    }

    /// Reads data-model JSON (see [`Value::from_json`]).
    pub fn from_json(json: serde_json::Value) -> Result<Self, DataModelError> {
        Value::from_json(json).map(Self)
    }

    /// Encodes a generated type, adding its `$type`.
    pub fn encode<T: LexType + Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        let json = serde_json::to_value(crate::tagged::Tagged::new(T::TYPE, value))?;
        Value::from_json(json)
            .map(Self)
            .map_err(serde::ser::Error::custom)
    }

    /// The `$type` field, if the data is an object that has one.
    pub fn type_name(&self) -> Option<&str> {
        self.0.type_name()
    }

    /// Reads the data as `T`: a generated object or record, whose `$type` it
    /// must have when it has one, or a union (the record dispatch of a set
    /// of bindings, say), one of whose members it must be.
    ///
    /// ```
    /// use atlex_core::data::Unknown;
    /// use atlex_core::rt;
    ///
    /// #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    /// #[lex(crate = "::atlex_core", record = "com.example.note", key = "tid")]
    /// pub struct Note {
    ///     pub text: String,
    /// }
    ///
    /// #[derive(Clone, Debug, PartialEq, Eq, rt::Union)]
    /// #[lex(crate = "::atlex_core")]
    /// pub enum Record {
    ///     #[lex("com.example.note")]
    ///     Note(Box<Note>),
    ///     #[lex(unknown)]
    ///     Unknown(rt::Unknown),
    /// }
    ///
    /// let data: Unknown = serde_json::from_str(r#"{"$type": "com.example.note", "text": "hi"}"#)?;
    /// assert_eq!(data.decode::<Note>()?.text, "hi");
    /// assert!(matches!(data.decode::<Record>()?, Record::Note(note) if note.text == "hi"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode<T: Typed>(&self) -> Result<T, DecodeUnknownError> {
        match self.type_name() {
            Some(found) if !accepts::<T>(found) => Err(DecodeUnknownError::TypeMismatch {
                expected: expected::<T>(),
                found: found.to_owned(),
            }),
            _ => {
                let from = super::value::ValueDeserializer::<de::value::Error>::new(&self.0, false);
                serde_path_to_error::deserialize(from).map_err(|err| {
                    let path = err.path().to_string();
                    DecodeUnknownError::Invalid {
                        path: if path == "." { String::new() } else { path },
                        reason: err.into_inner().to_string(),
                    }
                })
            }
        }
    }

    /// The value.
    pub fn as_value(&self) -> &Value {
        &self.0
    }

    /// The value, by value.
    pub fn into_value(self) -> Value {
        self.0
    }

    /// The data-model JSON form (see [`Value::to_json`]).
    pub fn to_json(&self) -> serde_json::Value {
        self.0.to_json()
    }
}

impl From<Value> for Unknown {
    fn from(value: Value) -> Self {
        Self(value)
    }
}

impl TryFrom<serde_json::Value> for Unknown {
    type Error = DataModelError;

    fn try_from(json: serde_json::Value) -> Result<Self, DataModelError> {
        Self::from_json(json)
    }
}

/// A generated type that data is read as by its `$type`
/// ([`Unknown::decode`]): an object or record, which has one `$type`
/// ([`LexType`]), or a union, whose members have theirs
/// (`#[derive(Union)]` implements it).
///
/// Only constants: nothing of it is compiled with the bindings.
pub trait Typed: DeserializeOwned {
    /// The `$type`s data read as this type may have.
    const TYPES: &'static [&'static str];
    /// Whether data of any other `$type` may be read as this type too (an
    /// open union keeps it as its unknown member).
    const OPEN: bool = false;
}

impl<T: LexType + DeserializeOwned> Typed for T {
    const TYPES: &'static [&'static str] = &[T::TYPE];
}

/// Whether data of `$type` `found` may be read as `T`.
fn accepts<T: Typed>(found: &str) -> bool {
    T::OPEN || T::TYPES.contains(&found)
}

/// What `T` accepts, for an error.
fn expected<T: Typed>() -> String {
    let types: Vec<String> = T::TYPES.iter().map(|t| format!("{t:?}")).collect();
    match (T::OPEN, types.as_slice()) {
        (false, [one]) => one.clone(),
        (false, _) => format!("one of {}", types.join(", ")),
        (true, _) => format!("any (members: {})", types.join(", ")),
    }
}

/// Why [`Unknown::decode`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeUnknownError {
    /// The data names another type.
    #[error("expected $type {expected}, found {found:?}")]
    TypeMismatch {
        /// The type or types asked for.
        expected: String,
        /// The `$type` in the data.
        found: String,
    },
    /// The data does not fit the type.
    #[error("{}{reason}", if path.is_empty() { String::new() } else { format!("at {path}: ") })]
    Invalid {
        /// Where in the data (`a.b[2]`), empty at the top.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// What an object carries besides its declared fields: the properties its
/// lexicon does not declare, and whether its `$type` is written.
///
/// Every generated object has a field of this type (`extra`, unless the
/// lexicon has a property of that name), so that data from a newer lexicon,
/// or written by another client, passes through a decode / encode cycle
/// unchanged, in JSON and in DAG-CBOR: a record read, edited and written back
/// keeps its CID except for what was edited.
///
/// - Undeclared properties are kept as [`Value`]s, in any nesting, and
///   written back after the declared fields (DAG-CBOR puts every key in its
///   canonical place).
/// - An object's own `$type` is optional outside unions and records, and
///   some clients write it (the TypeScript client on every rich-text facet).
///   When decoding finds it, [`writes_type`](Self::writes_type) is set and
///   encoding writes it again; values built in code leave it unset unless
///   [`set_writes_type`](Self::set_writes_type) asks for it. A union member's
///   and a record's `$type` is always written, by the union or the record.
/// - A `$type` that is not the object's own (another string, or the own type
///   spelled `nsid#main`) is kept as the property `"$type"` and written back
///   as it was.
/// - A `null` where the lexicon allows only a value or absence is kept (by
///   the field's place among the object's fields) and written back while
///   the field stays unset.
///
/// ```
/// use atlex_core::data::{ExtraFields, Value};
///
/// let mut extra = ExtraFields::default();
/// extra.insert("addedLater", true);
/// assert_eq!(extra.get("addedLater"), Some(&Value::Bool(true)));
/// assert_eq!(serde_json::to_string(&extra).unwrap(), r#"{"addedLater":true}"#);
/// assert!(!extra.writes_type());
/// ```
#[derive(Clone, Default)]
pub struct ExtraFields {
    /// Whether the object's own `$type` is written.
    own_type: bool,
    /// What was kept; `None` when nothing was, which is what nearly every
    /// object holds (no allocation, one word).
    kept: Option<Box<Kept>>,
}

/// The undeclared properties and the fields read as a `null` they may not
/// hold.
#[derive(Clone, Default, PartialEq, Eq)]
struct Kept {
    properties: BTreeMap<String, Value>,
    /// Bit `i`: field number `i` of the object was `null`.
    nulls: u128,
}

impl Kept {
    fn is_empty(&self) -> bool {
        self.properties.is_empty() && self.nulls == 0
    }
}

impl ExtraFields {
    /// The value of property `name`, if it was received.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.kept.as_ref()?.properties.get(name)
    }

    /// Sets property `name`. (A property named as one of the object's
    /// declared fields is not written: the field is.)
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.kept
            .get_or_insert_with(Box::default)
            .properties
            .insert(name.into(), value.into())
    }

    /// Removes property `name`.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let kept = self.kept.as_mut()?;
        let removed = kept.properties.remove(name);
        if kept.is_empty() {
            self.kept = None;
        }
        removed
    }

    /// The properties, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.kept
            .iter()
            .flat_map(|kept| kept.properties.iter())
            .map(|(name, value)| (name.as_str(), value))
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.kept.as_ref().map_or(0, |kept| kept.properties.len())
    }

    /// Whether there are none (whatever else is kept).
    pub fn is_empty(&self) -> bool {
        self.kept
            .as_ref()
            .is_none_or(|kept| kept.properties.is_empty())
    }

    /// Whether field number `index` of the object was read as a `null` it
    /// may not hold (for the derive's encoding: written while the field is
    /// unset).
    #[doc(hidden)]
    #[inline]
    pub fn kept_null(&self, index: usize) -> bool {
        match &self.kept {
            None => false,
            Some(kept) => index < 128 && kept.nulls & (1 << index) != 0,
        }
    }

    /// Keeps that field number `index` was read as a `null`; `false` for a
    /// field past the 128th, which cannot be kept.
    pub(crate) fn keep_null(&mut self, index: usize) -> bool {
        if index >= 128 {
            return false;
        }
        self.kept.get_or_insert_with(Box::default).nulls |= 1 << index;
        true
    }

    /// Whether the object's own `$type` is written when it is encoded on its
    /// own (not as a union member or a record, whose `$type` is always
    /// written).
    pub fn writes_type(&self) -> bool {
        self.own_type
    }

    /// Sets whether the object's own `$type` is written (see
    /// [`writes_type`](Self::writes_type)).
    pub fn set_writes_type(&mut self, write: bool) {
        self.own_type = write;
    }

    /// The `$type` property kept because it is not the object's own.
    pub(crate) fn other_type(&self) -> Option<&Value> {
        self.get("$type")
    }
}

impl PartialEq for ExtraFields {
    fn eq(&self, other: &Self) -> bool {
        let nulls = |e: &Self| e.kept.as_ref().map_or(0, |kept| kept.nulls);
        self.own_type == other.own_type
            && nulls(self) == nulls(other)
            && self.iter().eq(other.iter())
    }
}

impl Eq for ExtraFields {}

impl fmt::Debug for ExtraFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        if self.own_type {
            map.entry(&"$type", &"(own)");
        }
        if let Some(kept) = self.kept.as_ref().filter(|kept| kept.nulls != 0) {
            map.entry(&"(null fields)", &format_args!("{:#b}", kept.nulls));
        }
        map.entries(self.iter()).finish()
    }
}

/// The properties, as a map (not the own `$type`, which belongs to the object
/// that holds them).
impl Serialize for ExtraFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A map of properties, every entry kept.
impl<'de> Deserialize<'de> for ExtraFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExtraVisitor;

        impl<'de> Visitor<'de> for ExtraVisitor {
            type Value = ExtraFields;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of properties")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ExtraFields, A::Error> {
                let mut kept = ExtraFields::default();
                while let Some(name) = map.next_key::<String>()? {
                    if kept.get(&name).is_some() {
                        return Err(de::Error::custom(format_args!(
                            "duplicate property {name:?}"
                        )));
                    }
                    let value = map.next_value::<Value>()?;
                    kept.insert(name, value);
                }
                Ok(kept)
            }
        }

        deserializer.deserialize_map(ExtraVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CID: &str = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";

    #[test]
    fn unknown_keeps_everything() {
        let v = json!({ "$type": "com.example.thing", "a": [1, { "$link": CID }], "b": null, "c": { "$bytes": "AQ" } });
        let u: Unknown = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(u.type_name(), Some("com.example.thing"));
        assert_eq!(serde_json::to_value(&u).unwrap(), v);
        assert_eq!(u.to_json(), v);
        assert_eq!(Unknown::from_json(v).unwrap(), u);
    }

    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    struct Thing {
        a: i64,
        link: crate::data::CidLink,
    }

    impl LexType for Thing {
        const TYPE: &'static str = "com.example.thing";
    }

    #[test]
    fn decode_checks_the_type_and_names_the_field() {
        let thing = Thing {
            a: 1,
            link: CID.parse().unwrap(),
        };
        let data = Unknown::encode(&thing).unwrap();
        assert_eq!(data.type_name(), Some("com.example.thing"));
        assert_eq!(data.decode::<Thing>().unwrap(), thing);

        let other = Unknown::from_json(json!({ "$type": "com.example.other", "a": 1 })).unwrap();
        assert!(matches!(
            other.decode::<Thing>(),
            Err(DecodeUnknownError::TypeMismatch { .. })
        ));
        let bad = Unknown::from_json(json!({ "a": "one", "link": { "$link": CID } })).unwrap();
        let err = bad.decode::<Thing>().unwrap_err().to_string();
        assert!(err.starts_with("at a: invalid type"), "{err}");
    }

    #[test]
    fn decoding_unknown_data_names_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            count: u32,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<Inner>,
        }
        impl LexType for Outer {
            const TYPE: &'static str = "com.example.outer";
        }
        let data = Unknown::from_json(serde_json::json!({
            "$type": "com.example.outer",
            "items": [{"count": 1}, {"count": "two"}]
        }))
        .unwrap();
        let err = data.decode::<Outer>().unwrap_err();
        assert!(
            matches!(&err, DecodeUnknownError::Invalid { path, .. } if path == "items[1].count"),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("at items[1].count: "), "{err}");
        let err = Unknown::from_json(serde_json::json!([]))
            .unwrap()
            .decode::<Outer>()
            .unwrap_err();
        assert!(
            matches!(&err, DecodeUnknownError::Invalid { path, .. } if path.is_empty()),
            "{err:?}"
        );
    }
}
