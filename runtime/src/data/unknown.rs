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
/// use atlex::data::Unknown;
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
        let json = serde_json::to_value(crate::union::Tagged::new(T::TYPE, value))?;
        Value::from_json(json)
            .map(Self)
            .map_err(serde::ser::Error::custom)
    }

    /// The `$type` field, if the data is an object that has one.
    pub fn type_name(&self) -> Option<&str> {
        self.0.type_name()
    }

    /// Reads the data as `T`. The `$type`, when present, must be `T`'s.
    pub fn decode<T: LexType + DeserializeOwned>(&self) -> Result<T, DecodeUnknownError> {
        match self.type_name() {
            Some(found) if found != T::TYPE => Err(DecodeUnknownError::TypeMismatch {
                expected: T::TYPE,
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
    /// The data does not fit the type.
    #[error("{}{reason}", if path.is_empty() { String::new() } else { format!("at {path}: ") })]
    Invalid {
        /// Where in the data (`a.b[2]`), empty at the top.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The properties of an object that its lexicon does not declare, kept as
/// received, for code generated with `keep_unknown_fields`.
///
/// Such code gives each object a field of this type (`extra`, unless the
/// lexicon has a property of that name) flattened into the object, so data
/// from a newer lexicon keeps its new properties through a decode / encode
/// cycle, in JSON and in DAG-CBOR. The `$type` of the object is never kept
/// here: it is the object's own, written by whoever encodes it.
///
/// ```
/// use atlex::data::{ExtraFields, Value};
///
/// let mut extra = ExtraFields::default();
/// extra.insert("addedLater", true);
/// assert_eq!(extra.get("addedLater"), Some(&Value::Bool(true)));
/// assert_eq!(serde_json::to_string(&extra).unwrap(), r#"{"addedLater":true}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraFields(pub BTreeMap<String, Value>);

impl ExtraFields {
    /// The value of property `name`, if it was received.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// Sets property `name`. A `$type` set here is not written on encode:
    /// the object's own is.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.0.insert(name.into(), value.into())
    }

    /// Removes property `name`.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// The properties, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
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
                let mut kept = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name == "$type" {
                        map.next_value::<de::IgnoredAny>()?;
                    } else {
                        let value = map.next_value::<Value>()?;
                        kept.insert(name, value);
                    }
                }
                Ok(ExtraFields(kept))
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
