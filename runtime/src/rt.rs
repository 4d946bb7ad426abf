//! The one module generated code reaches the runtime through.
//!
//! Code written by `atlex-codegen` refers to `::atlex::rt::…` only, so a crate
//! with generated bindings depends on `atlex` and nothing else: serde and
//! serde_json are re-exported from here. The helpers below are public for the
//! generated code's sake; they are stable in behaviour but not meant to be
//! called by hand.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::ser::{self, Impossible, SerializeMap, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

pub use serde;
pub use serde_json;

pub use crate::binding::{
    Auth, BearerUse, Binding, BodyFormat, CommonNames, Envelope, HttpMethod, PathTemplate,
};
pub use crate::data::{Blob, Bytes, CidLink, ExtraFields, LexType, Record, RecordKeyKind, Unknown};
pub use crate::service::{HandlerError, HandlerResult, Registry, Request};
pub use crate::types::{
    AtIdentifier, AtUri, Cid, Datetime, Did, Handle, Language, Nsid, RecordKey, Tid, Uri,
};
pub use crate::validate::{IntegerRules, StringRules, Validate, Validator};
pub use crate::xrpc::{
    Binary, Codec, Endpoint, EndpointError, EndpointKind, Json, NoBody, Paginated, PaginatedItems,
    Params, ParamsError, QueryReader, QueryWriter, Raw, Subscription, UnknownError, UnknownValue,
};

/// Serializes `value` as an object whose first entry is `"$type": type_name`.
///
/// Used for union members and for [`Unknown::encode`]. `value` must serialize
/// as a struct or a map (every generated object does: as a map when it keeps
/// undeclared properties in a flattened field). A `$type` the value writes
/// itself is left out: the tag is written once, first.
pub struct Tagged<'a, T: ?Sized> {
    type_name: &'a str,
    value: &'a T,
}

impl<'a, T: ?Sized> Tagged<'a, T> {
    /// Pairs a value with its `$type`.
    pub fn new(type_name: &'a str, value: &'a T) -> Self {
        Self { type_name, value }
    }
}

impl<T: Serialize + ?Sized> Serialize for Tagged<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(TaggedSerializer {
            type_name: self.type_name,
            inner: serializer,
        })
    }
}

struct TaggedSerializer<'a, S> {
    type_name: &'a str,
    inner: S,
}

/// The struct being written after its `$type` entry.
pub struct TaggedStruct<M> {
    map: M,
}

impl<M: SerializeMap> SerializeStruct for TaggedStruct<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        if key == "$type" {
            // The tag was already written; a struct that models `$type` itself
            // must not write it twice.
            return Ok(());
        }
        self.map.serialize_entry(key, value)
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.map.end()
    }
}

/// The map being written after its `$type` entry.
pub struct TaggedMap<M> {
    map: M,
    /// Whether the key just seen was `$type`, whose value is then left out.
    skip_value: bool,
}

/// Whether a map key serializes as the string `$type`.
fn is_type_key<K: Serialize + ?Sized>(key: &K) -> bool {
    matches!(serde_json::to_value(key), Ok(serde_json::Value::String(k)) if k == "$type")
}

impl<M: SerializeMap> SerializeMap for TaggedMap<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Self::Error> {
        if is_type_key(key) {
            self.skip_value = true;
            return Ok(());
        }
        self.map.serialize_key(key)
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Self::Error> {
        if std::mem::take(&mut self.skip_value) {
            return Ok(());
        }
        self.map.serialize_value(value)
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Self::Error> {
        if is_type_key(key) {
            return Ok(());
        }
        self.map.serialize_entry(key, value)
    }

    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.map.end()
    }
}

fn not_an_object<E: ser::Error>() -> E {
    E::custom("a value with a $type must serialize as an object")
}

macro_rules! reject {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err(not_an_object())
        })*
    };
}

impl<'a, S: Serializer> Serializer for TaggedSerializer<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = TaggedMap<S::SerializeMap>;
    type SerializeStruct = TaggedStruct<S::SerializeMap>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    reject! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(not_an_object())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(not_an_object())
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let mut map = self.inner.serialize_map(len.map(|n| n + 1))?;
        map.serialize_entry("$type", self.type_name)?;
        Ok(TaggedMap {
            map,
            skip_value: false,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let mut map = self.inner.serialize_map(Some(len + 1))?;
        map.serialize_entry("$type", self.type_name)?;
        Ok(TaggedStruct { map })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(not_an_object())
    }
}

/// Reads a union member: an object with a string `$type`. Returns the type
/// and the whole object (the `$type` entry included).
pub fn read_union<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<(String, serde_json::Value), D::Error> {
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
    let type_name = match map.get("$type") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(de::Error::custom(format_args!(
                "union member has a non-string $type: {other}"
            )));
        }
        None => return Err(de::Error::custom("union member has no $type")),
    };
    Ok((type_name, serde_json::Value::Object(map)))
}

/// Decodes the object of a union member whose `$type` is known. An error names
/// the member and the path of the field inside it that failed.
pub fn decode_member<T: DeserializeOwned, E: de::Error>(
    type_name: &str,
    value: serde_json::Value,
) -> Result<T, E> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            E::custom(format_args!("invalid {type_name}: {inner}"))
        } else {
            E::custom(format_args!("invalid {type_name} at {path}: {inner}"))
        }
    })
}

/// Decodes the object of a union member and boxes it.
pub fn decode_member_boxed<T: DeserializeOwned, E: de::Error>(
    type_name: &str,
    value: serde_json::Value,
) -> Result<Box<T>, E> {
    decode_member(type_name, value).map(Box::new)
}

/// The error for a closed union that meets a `$type` outside its list.
pub fn unexpected_member<E: de::Error>(found: &str, expected: &'static [&'static str]) -> E {
    E::custom(format_args!(
        "unexpected $type {found:?} in closed union; expected one of {expected:?}"
    ))
}

/// Deserializes a string (borrowed or owned) and maps it with `f`.
pub fn deserialize_str<'de, D, T, F>(deserializer: D, f: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    struct StrVisitor<F>(F);

    impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for StrVisitor<F> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
    }

    deserializer.deserialize_str(StrVisitor(f))
}

/// `deserialize_with` for a nullable field that may also be absent
/// (`Option<Option<T>>`): absent is `None` (with `#[serde(default)]`), `null`
/// is `Some(None)`.
pub fn deserialize_nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `deserialize_with` for a required nullable field (`Option<T>`): `null` is
/// `None`, and a missing field is an error rather than `None`.
pub fn deserialize_required_nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// Writes the `{"error", "message"}` body of an endpoint error.
pub fn serialize_error<E: EndpointError, S: Serializer>(
    error: &E,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let message = error.message();
    let mut map = serializer.serialize_map(Some(if message.is_some() { 2 } else { 1 }))?;
    map.serialize_entry("error", error.name())?;
    if let Some(message) = message {
        map.serialize_entry("message", message)?;
    }
    map.end()
}

/// Reads the `{"error", "message"}` body of an endpoint error.
pub fn deserialize_error<'de, E: EndpointError, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<E, D::Error> {
    #[derive(Deserialize)]
    struct Body {
        error: String,
        #[serde(default)]
        message: Option<String>,
    }
    let body = Body::deserialize(deserializer)?;
    Ok(E::from_parts(body.error, body.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Member {
        a: i64,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        b: Option<String>,
    }

    #[test]
    fn tagged_writes_type_first() {
        let m = Member { a: 1, b: None };
        let s = serde_json::to_string(&Tagged::new("com.example.member", &m)).unwrap();
        assert_eq!(s, r#"{"$type":"com.example.member","a":1}"#);
        assert!(serde_json::to_string(&Tagged::new("x", &5)).is_err());
    }

    #[test]
    fn tagged_maps_write_type_once_and_first() {
        // A struct that keeps undeclared properties serializes as a map.
        #[derive(Serialize)]
        struct Kept {
            a: i64,
            #[serde(flatten)]
            extra: std::collections::BTreeMap<String, serde_json::Value>,
        }
        let mut extra = std::collections::BTreeMap::new();
        extra.insert("$type".to_owned(), json!("com.example.stale"));
        extra.insert("z".to_owned(), json!([1]));
        let kept = Kept { a: 1, extra };
        let s = serde_json::to_string(&Tagged::new("com.example.member", &kept)).unwrap();
        assert_eq!(s, r#"{"$type":"com.example.member","a":1,"z":[1]}"#);

        let mut plain = std::collections::BTreeMap::new();
        plain.insert("$type", "com.example.stale");
        plain.insert("b", "x");
        let s = serde_json::to_string(&Tagged::new("com.example.member", &plain)).unwrap();
        assert_eq!(s, r#"{"$type":"com.example.member","b":"x"}"#);
    }

    #[test]
    fn decode_member_names_type_and_path() {
        let v = json!({ "$type": "com.example.member", "a": "one" });
        let err = decode_member::<Member, serde_json::Error>("com.example.member", v).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("com.example.member"), "{text}");
        assert!(text.contains(" at a:"), "{text}");
    }

    #[test]
    fn read_union_requires_string_type() {
        let (t, _) = read_union(json!({ "$type": "x.y.z", "a": 1 })).unwrap();
        assert_eq!(t, "x.y.z");
        assert!(read_union(json!({ "a": 1 })).is_err());
        assert!(read_union(json!({ "$type": 3 })).is_err());
        assert!(read_union(json!([1])).is_err());
    }
}
