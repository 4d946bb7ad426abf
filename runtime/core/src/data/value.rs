//! [`Value`]: any value of the data model, in either encoding.

use std::collections::BTreeMap;
use std::fmt;

use std::marker::PhantomData;

use cid::serde::CID_SERDE_PRIVATE_IDENTIFIER;
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::{Bytes, CidLink, DataModelError, Strictness, decoding};

/// A value of the atproto data model: what an `unknown` field or an unknown
/// union member holds.
///
/// It reads and writes both encodings: in JSON, links are `{"$link"}` and
/// bytes `{"$bytes"}` objects; in DAG-CBOR they are tag 42 and byte strings.
/// Any value therefore survives JSON → DAG-CBOR → JSON unchanged. Integers
/// are 64-bit signed; the data model has no floats (JSON numbers like `12.0`
/// read as integers, other fractions are refused). Objects are kept sorted by
/// key, and writing them in DAG-CBOR sorts them canonically.
///
/// ```
/// use atlex_core::data::Value;
///
/// let value: Value = serde_json::from_str(
///     r#"{"$type": "com.example.thing", "ref": {"$link": "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"}}"#,
/// )?;
/// assert_eq!(value.type_name(), Some("com.example.thing"));
/// assert!(matches!(value.get("ref"), Some(Value::Link(_))));
/// assert_eq!(value, serde_json::json!({
///     "$type": "com.example.thing",
///     "ref": {"$link": "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"},
/// }));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit signed integer.
    Integer(i64),
    /// A UTF-8 string.
    String(String),
    /// Raw bytes.
    Bytes(Bytes),
    /// A link to content by CID.
    Link(CidLink),
    /// A list.
    Array(Vec<Value>),
    /// A map with string keys.
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// What kind of value this is, for messages ("a string", "an object", …).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Integer(_) => "an integer",
            Value::String(_) => "a string",
            Value::Bytes(_) => "bytes",
            Value::Link(_) => "a cid-link",
            Value::Array(_) => "an array",
            Value::Object(map) if is_blob(map) => "a blob",
            Value::Object(_) => "an object",
        }
    }

    /// The `$type` of an object that has a string one.
    pub fn type_name(&self) -> Option<&str> {
        self.get("$type").and_then(Value::as_str)
    }

    /// The entry `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|map| map.get(key))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is an object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is an object (a blob is one).
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Reads data-model JSON: `{"$link"}` and `{"$bytes"}` objects become
    /// links and bytes, integral numbers integers. Fails, naming the place,
    /// on what the data model cannot hold (fractions, integers beyond 64
    /// bits, malformed `$link` or `$bytes` objects).
    pub fn from_json(json: serde_json::Value) -> Result<Value, DataModelError> {
        let mut path = Vec::new();
        from_json_at(json, &mut path)
    }

    /// The data-model JSON form: links as `{"$link"}`, bytes as
    /// `{"$bytes"}` objects.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Integer(n) => serde_json::Value::from(*n),
            Value::String(text) => serde_json::Value::String(text.clone()),
            Value::Bytes(bytes) => single("$bytes", bytes.to_base64()),
            Value::Link(link) => single("$link", link.to_string()),
            Value::Array(items) => items.iter().map(Value::to_json).collect(),
            Value::Object(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
        }
    }

    /// Checks the data model's rules for objects: a `$type` is a non-empty
    /// string, and a `"$type": "blob"` object is a complete blob.
    pub fn check_data_model(&self) -> Result<(), DataModelError> {
        let mut path = Vec::new();
        check_at(self, &mut path)
    }
}

fn single(key: &str, text: String) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert(key.to_owned(), serde_json::Value::String(text));
    serde_json::Value::Object(map)
}

fn is_blob(map: &BTreeMap<String, Value>) -> bool {
    matches!(map.get("$type"), Some(Value::String(t)) if t == "blob")
}

fn path_error(path: &[String], reason: impl Into<String>) -> DataModelError {
    super::check::data_error(path, reason)
}

fn from_json_at(json: serde_json::Value, path: &mut Vec<String>) -> Result<Value, DataModelError> {
    Ok(match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(n) => Value::Integer(n),
            None => match n.as_f64() {
                Some(f) if n.as_u64().is_none() => {
                    Value::Integer(integral(f).ok_or_else(|| path_error(path, not_integer(&n)))?)
                }
                _ => {
                    return Err(path_error(
                        path,
                        format!("integer {n} is out of the 64-bit range"),
                    ));
                }
            },
        },
        serde_json::Value::String(text) => Value::String(text),
        serde_json::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(format!("[{i}]"));
                out.push(from_json_at(item, path)?);
                path.pop();
            }
            Value::Array(out)
        }
        serde_json::Value::Object(map) => {
            for special in ["$link", "$bytes"] {
                if let Some(inner) = map.get(special) {
                    if map.len() != 1 {
                        return Err(path_error(
                            path,
                            format!("a {special} object has no other fields"),
                        ));
                    }
                    return special_value(special, inner)
                        .map_err(|reason| path_error(path, reason));
                }
            }
            let mut out = BTreeMap::new();
            for (key, value) in map {
                path.push(key.clone());
                let value = from_json_at(value, path)?;
                path.pop();
                out.insert(key, value);
            }
            Value::Object(out)
        }
    })
}

fn not_integer(n: &dyn fmt::Display) -> String {
    format!("{n} is not an integer; the data model has no floats")
}

/// The integer a float stands for, if it has no fraction and is within the
/// range JSON numbers keep exactly.
fn integral(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0).then_some(f as i64)
}

/// The value of a `{"$link": …}` or `{"$bytes": …}` object.
fn special_value(special: &str, inner: &serde_json::Value) -> Result<Value, String> {
    let text = inner.as_str().ok_or_else(|| {
        let wanted = if special == "$link" {
            "a CID string"
        } else {
            "a base64 string"
        };
        format!(
            "{special} is {}, {wanted} required",
            super::json_kind(inner)
        )
    })?;
    if special == "$link" {
        CidLink::parse(text)
            .map(Value::Link)
            .map_err(|e| e.to_string())
    } else {
        Bytes::from_base64(text).map(Value::Bytes)
    }
}

fn check_at(value: &Value, path: &mut Vec<String>) -> Result<(), DataModelError> {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                check_at(item, path)?;
                path.pop();
            }
            Ok(())
        }
        Value::Object(map) => {
            check_object_rules(map).map_err(|reason| path_error(path, reason))?;
            for (key, item) in map {
                path.push(key.clone());
                check_at(item, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The rules of one object: `$type` a non-empty string; a blob complete and
/// nothing more.
fn check_object_rules(map: &BTreeMap<String, Value>) -> Result<(), String> {
    match map.get("$type") {
        None => Ok(()),
        Some(Value::String(t)) if t.is_empty() => Err("$type is an empty string".to_owned()),
        Some(Value::String(t)) if t == "blob" => {
            check_blob(map).map_err(|e| format!("invalid blob: {e}"))
        }
        Some(Value::String(_)) => Ok(()),
        Some(other) => Err(format!("$type is {}, a string required", other.kind())),
    }
}

fn check_blob(map: &BTreeMap<String, Value>) -> Result<(), String> {
    match map.get("ref") {
        Some(Value::Link(_)) => {}
        Some(other) => return Err(format!("ref is {}, a cid-link required", other.kind())),
        None => return Err("missing field `ref`".to_owned()),
    }
    match map.get("mimeType") {
        Some(Value::String(_)) => {}
        Some(other) => return Err(format!("mimeType is {}, a string required", other.kind())),
        None => return Err("missing field `mimeType`".to_owned()),
    }
    match map.get("size") {
        Some(Value::Integer(n)) if *n >= 0 => {}
        Some(Value::Integer(n)) => return Err(format!("size {n} is negative")),
        Some(other) => return Err(format!("size is {}, an integer required", other.kind())),
        None => return Err("missing field `size`".to_owned()),
    }
    match map
        .keys()
        .find(|k| !matches!(k.as_str(), "$type" | "ref" | "mimeType" | "size"))
    {
        Some(extra) => Err(format!("a blob has no property {extra:?}")),
        None => Ok(()),
    }
}

impl PartialEq<serde_json::Value> for Value {
    /// Whether `json` is this value's data-model JSON form.
    fn eq(&self, json: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (self, json) {
            (Value::Null, J::Null) => true,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::Integer(a), J::Number(b)) => b.as_i64() == Some(*a),
            (Value::String(a), J::String(b)) => a == b,
            (Value::Array(a), J::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Value::Object(a), J::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w))
            }
            (Value::Link(link), J::Object(b)) => {
                b.len() == 1
                    && b.get("$link")
                        .and_then(J::as_str)
                        .is_some_and(|text| CidLink::parse(text).is_ok_and(|read| read == *link))
            }
            (Value::Bytes(bytes), J::Object(b)) => {
                b.len() == 1
                    && b.get("$bytes")
                        .and_then(J::as_str)
                        .is_some_and(|text| Bytes::from_base64(text).ok().as_ref() == Some(bytes))
            }
            _ => false,
        }
    }
}

static NULL: Value = Value::Null;

impl std::ops::Index<&str> for Value {
    type Output = Value;

    /// The entry `key` of an object; `Null` when there is none or this is
    /// not an object (as `serde_json::Value` indexes).
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for Value {
    type Output = Value;

    /// Item `index` of an array; `Null` when there is none or this is not an
    /// array.
    fn index(&self, index: usize) -> &Value {
        self.as_array()
            .and_then(|items| items.get(index))
            .unwrap_or(&NULL)
    }
}

macro_rules! from_integers {
    ($($ty:ty),*) => {
        $(impl From<$ty> for Value {
            fn from(n: $ty) -> Self {
                Value::Integer(n.into())
            }
        })*
    };
}

from_integers!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::String(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::String(text)
    }
}

impl From<Bytes> for Value {
    fn from(bytes: Bytes) -> Self {
        Value::Bytes(bytes)
    }
}

impl From<CidLink> for Value {
    fn from(link: CidLink) -> Self {
        Value::Link(link)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl From<BTreeMap<String, Value>> for Value {
    fn from(map: BTreeMap<String, Value>) -> Self {
        Value::Object(map)
    }
}

impl TryFrom<serde_json::Value> for Value {
    type Error = DataModelError;

    fn try_from(json: serde_json::Value) -> Result<Self, DataModelError> {
        Value::from_json(json)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Integer(n) => serializer.serialize_i64(*n),
            Value::String(text) => serializer.serialize_str(text),
            Value::Bytes(bytes) => bytes.serialize(serializer),
            Value::Link(link) => link.serialize(serializer),
            Value::Array(items) => serializer.collect_seq(items),
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in map {
                    out.serialize_entry(key, value)?;
                }
                out.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let human = deserializer.is_human_readable();
        deserializer.deserialize_any(ValueVisitor { human })
    }
}

/// Reads any value. `human` is whether the input is a human-readable format
/// (JSON), where `{"$link"}` and `{"$bytes"}` objects are links and bytes.
struct ValueVisitor {
    human: bool,
}

impl ValueVisitor {
    /// Whether `$link` / `$bytes` objects stand for links and bytes: in JSON,
    /// never while a DAG-CBOR decode is under way (serde's buffering of
    /// flattened fields reports every format as human-readable).
    fn json_specials(&self) -> bool {
        self.human && decoding().is_none()
    }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a data-model value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Integer(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        i64::try_from(n)
            .map(Value::Integer)
            .map_err(|_| E::custom(format_args!("integer {n} is out of the 64-bit range")))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Value, E> {
        i64::try_from(n)
            .map(Value::Integer)
            .map_err(|_| E::custom(format_args!("integer {n} is out of the 64-bit range")))
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Value, E> {
        i64::try_from(n)
            .map(Value::Integer)
            .map_err(|_| E::custom(format_args!("integer {n} is out of the 64-bit range")))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        if decoding() == Some(Strictness::Strict) {
            return Err(E::custom(format_args!(
                "float {f:?}: the data model has no floats"
            )));
        }
        integral(f)
            .map(Value::Integer)
            .ok_or_else(|| E::custom(not_integer(&f)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(text))
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(Bytes(bytes.to_vec())))
    }

    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(Bytes(bytes)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    /// DAG-CBOR decoders hand a tag-42 link over as this newtype.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_bytes(super::link::CidBytesVisitor)
            .map(Value::Link)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // A length prefix may lie: reserve little (arrays nested to the
        // depth limit each reserve it), and grow as items come.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = BTreeMap::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let key = key.as_str();
            if key == "$link" || key == "$bytes" {
                if !self.json_specials() {
                    return Err(de::Error::custom(format_args!(
                        "a map with a {key:?} key: reserved, it would read as a {} in JSON",
                        if key == "$link" {
                            "cid-link"
                        } else {
                            "bytes value"
                        }
                    )));
                }
                if !object.is_empty() {
                    return Err(de::Error::custom(format_args!(
                        "a {key} object has no other fields"
                    )));
                }
                let inner = map.next_value::<serde_json::Value>()?;
                let special = special_value(key, &inner).map_err(de::Error::custom)?;
                if map.next_key::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom(format_args!(
                        "a {key} object has no other fields"
                    )));
                }
                return Ok(special);
            }
            let key = key.to_owned();
            let value = map.next_value::<Value>()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            object.insert(key, value);
        }
        if decoding() == Some(Strictness::Strict) {
            check_object_rules(&object).map_err(de::Error::custom)?;
        }
        Ok(Value::Object(object))
    }
}

/// A map key, borrowed from the input where it can be.
#[doc(hidden)]
pub enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(text) => text,
            Key::Owned(text) => text,
        }
    }

    pub(crate) fn into_owned(self) -> String {
        match self {
            Key::Borrowed(text) => text.to_owned(),
            Key::Owned(text) => text,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(text))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(text))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Replays a [`Value`] to a `Deserialize` impl as the format it came from
/// would have presented it: `human` true for JSON (links and bytes as
/// `{"$link"}` / `{"$bytes"}` maps), false for DAG-CBOR (tag-42 newtypes and
/// byte strings). Errors are of the caller's type `E`.
pub(crate) struct ValueDeserializer<'a, E> {
    value: &'a Value,
    human: bool,
    error: PhantomData<E>,
}

impl<'a, E> ValueDeserializer<'a, E> {
    pub(crate) fn new(value: &'a Value, human: bool) -> Self {
        Self {
            value,
            human,
            error: PhantomData,
        }
    }

    fn child(&self, value: &'a Value) -> Self {
        Self::new(value, self.human)
    }
}

impl<'de, E: de::Error> Deserializer<'de> for ValueDeserializer<'_, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Null if self.human => visitor.visit_unit(),
            Value::Null => visitor.visit_none(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Integer(n) => visitor.visit_i64(*n),
            Value::String(text) => visitor.visit_str(text),
            Value::Bytes(bytes) if self.human => visitor.visit_map(
                de::value::MapDeserializer::new(std::iter::once(("$bytes", bytes.to_base64()))),
            ),
            Value::Bytes(bytes) => visitor.visit_bytes(&bytes.0),
            Value::Link(link) if self.human => visitor.visit_map(de::value::MapDeserializer::new(
                std::iter::once(("$link", link.to_string())),
            )),
            Value::Link(link) => visitor.visit_newtype_struct(LinkBytes::<E>(link, PhantomData)),
            Value::Array(items) => self.visit_items(items, visitor),
            Value::Object(map) => self.visit_entries(map, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.value {
            Value::Link(link) if name == CID_SERDE_PRIVATE_IDENTIFIER => {
                visitor.visit_newtype_struct(LinkBytes::<E>(link, PhantomData))
            }
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.value {
            Value::String(text) => visitor.visit_enum(text.as_str().into_deserializer()),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        self.human
    }

    // A type that asks for one kind gets that kind or the error its visitor
    // would give for another: only the visitor's method for that kind is
    // compiled for it, not one per kind as `deserialize_any` needs.
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Integer(n) => visitor.visit_i64(*n),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::String(text) => visitor.visit_str(text),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.deserialize_str(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Array(items) => self.visit_items(items, visitor),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::Object(map) => self.visit_entries(map, visitor),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    // A struct may be the JSON form of bytes or a link (`{"$bytes"}`,
    // `{"$link"}`): that is how `Bytes` and `CidLink` read themselves from
    // human-readable input. Generated objects ask for a map, and get only
    // objects.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.value {
            Value::Bytes(_) | Value::Link(_) if self.human => self.deserialize_any(visitor),
            _ => self.deserialize_map(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct tuple tuple_struct
    }
}

impl<'a, E: de::Error> ValueDeserializer<'a, E> {
    fn visit_items<'de, V: Visitor<'de>>(
        &self,
        items: &'a [Value],
        visitor: V,
    ) -> Result<V::Value, E> {
        let mut seq = Items {
            items: items.iter(),
            parent: self,
        };
        let value = visitor.visit_seq(&mut seq)?;
        match seq.items.len() {
            0 => Ok(value),
            left => Err(de::Error::invalid_length(
                items.len() - left,
                &"fewer items",
            )),
        }
    }

    fn visit_entries<'de, V: Visitor<'de>>(
        &self,
        map: &'a BTreeMap<String, Value>,
        visitor: V,
    ) -> Result<V::Value, E> {
        let mut entries = Entries {
            entries: map.iter(),
            value: None,
            parent: self,
        };
        let value = visitor.visit_map(&mut entries)?;
        match entries.entries.len() {
            0 => Ok(value),
            left => Err(de::Error::invalid_length(
                map.len() - left,
                &"fewer entries",
            )),
        }
    }

    /// The error for a value of another kind than `expected` asks for: what
    /// the visitor's default method for the value's kind gives.
    fn mismatch(&self, expected: &dyn de::Expected) -> E {
        let unexpected = match self.value {
            Value::Null if self.human => de::Unexpected::Unit,
            Value::Null => de::Unexpected::Option,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Integer(n) => de::Unexpected::Signed(*n),
            Value::String(text) => de::Unexpected::Str(text),
            Value::Bytes(_) | Value::Link(_) if self.human => de::Unexpected::Map,
            Value::Bytes(bytes) => de::Unexpected::Bytes(&bytes.0),
            Value::Link(_) => de::Unexpected::NewtypeStruct,
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        };
        E::invalid_type(unexpected, expected)
    }
}

struct Items<'p, 'a, E> {
    items: std::slice::Iter<'a, Value>,
    parent: &'p ValueDeserializer<'a, E>,
}

impl<'de, E: de::Error> SeqAccess<'de> for Items<'_, '_, E> {
    type Error = E;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, E> {
        match self.items.next() {
            Some(item) => seed.deserialize(self.parent.child(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'p, 'a, E> {
    entries: std::collections::btree_map::Iter<'a, String, Value>,
    value: Option<&'a Value>,
    parent: &'p ValueDeserializer<'a, E>,
}

impl<'de, E: de::Error> MapAccess<'de> for Entries<'_, '_, E> {
    type Error = E;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, E> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(de::value::StrDeserializer::<E>::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, E> {
        match self.value.take() {
            Some(value) => seed.deserialize(self.parent.child(value)),
            None => Err(de::Error::custom(
                "a map value was asked for before its key",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// The bytes of a link, inside the tag-42 newtype.
struct LinkBytes<'a, E>(&'a CidLink, PhantomData<E>);

impl<'de, E: de::Error> Deserializer<'de> for LinkBytes<'_, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        let mut buf = [0; crate::types::MAX_CID_BYTES];
        visitor.visit_bytes(self.0.write_bytes(&mut buf))
    }

    fn is_human_readable(&self) -> bool {
        false
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CID: &str = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";

    #[test]
    fn json_round_trip_keeps_links_and_bytes() {
        let json = json!({
            "$type": "com.example.thing",
            "a": [1, -2, { "$link": CID }, null, true],
            "b": { "$bytes": "AQID" },
            "c": { "nested": { "deeper": "x" } },
            "d": 12.0,
        });
        let value: Value = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(value.type_name(), Some("com.example.thing"));
        assert_eq!(value.get("d"), Some(&Value::Integer(12)));
        assert!(matches!(value.get("b"), Some(Value::Bytes(b)) if b.0 == [1, 2, 3]));
        let mut expected = json.clone();
        expected["d"] = json!(12);
        assert_eq!(serde_json::to_value(&value).unwrap(), expected);
        assert_eq!(value.to_json(), expected);
        assert_eq!(value, expected);
        assert_eq!(Value::from_json(json).unwrap(), value);
    }

    #[test]
    fn json_errors_name_the_place() {
        for (json, words) in [
            (json!({ "a": [1, 1.5] }), "a[1]: 1.5 is not an integer"),
            (
                json!({ "a": { "$link": CID, "x": 1 } }),
                "a: a $link object has no other fields",
            ),
            (
                json!({ "a": { "$link": 7 } }),
                "a: $link is a number, a CID string required",
            ),
            (
                json!({ "a": { "$bytes": "!" } }),
                "a: invalid $bytes base64",
            ),
            (
                json!({ "a": 18446744073709551615u64 }),
                "a: integer 18446744073709551615 is out of the 64-bit range",
            ),
        ] {
            let err = Value::from_json(json.clone()).unwrap_err().to_string();
            assert!(err.contains(words), "{json}: {err}");
            let err = serde_json::from_value::<Value>(json.clone())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(words.split(": ").last().unwrap()),
                "{json}: {err}"
            );
        }
        let err = serde_json::from_str::<Value>(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate key \"a\""), "{err}");
        let err = serde_json::from_str::<Value>(r#"{"x": 1, "$bytes": "AQ"}"#).unwrap_err();
        assert!(err.to_string().contains("no other fields"), "{err}");
    }

    #[test]
    fn data_model_rules() {
        let ok = json!({ "$type": "x", "b": { "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b", "size": 1 } });
        Value::from_json(ok).unwrap().check_data_model().unwrap();
        for (json, words) in [
            (json!({ "$type": "" }), "$type is an empty string"),
            (json!({ "a": { "$type": 3 } }), "a: $type is an integer"),
            (
                json!({ "b": { "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b" } }),
                "b: invalid blob: missing field `size`",
            ),
            (
                json!({ "b": { "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b", "size": "1" } }),
                "size is a string",
            ),
            (
                json!({ "b": { "$type": "blob", "ref": { "$link": CID }, "mimeType": "a/b", "size": 1, "x": 1 } }),
                "no property \"x\"",
            ),
        ] {
            let err = Value::from_json(json.clone())
                .unwrap()
                .check_data_model()
                .unwrap_err();
            assert!(err.to_string().contains(words), "{json}: {err}");
        }
    }

    #[test]
    fn replays_as_each_encoding_would() {
        /// Absent is `None`, `null` is `Some(None)`.
        fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
            Option::<i64>::deserialize(d).map(Some)
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct Thing {
            link: CidLink,
            bytes: Bytes,
            #[serde(default, deserialize_with = "nullable")]
            maybe: Option<Option<i64>>,
            items: Vec<String>,
        }
        let json = json!({ "link": { "$link": CID }, "bytes": { "$bytes": "AQID" }, "maybe": null, "items": ["a"] });
        let value = Value::from_json(json).unwrap();
        for human in [true, false] {
            let thing =
                Thing::deserialize(ValueDeserializer::<de::value::Error>::new(&value, human))
                    .unwrap();
            assert_eq!(thing.link.to_string(), CID);
            assert_eq!(thing.bytes.0, [1, 2, 3]);
            assert_eq!(thing.maybe, Some(None));
            assert_eq!(
                Value::deserialize(ValueDeserializer::<de::value::Error>::new(&value, human))
                    .unwrap(),
                value
            );
        }
    }
}
