//! The `$type` machinery of unions and tagged objects: writing a value with
//! its `$type` first ([`Tagged`]) and decoding a union member by its `$type`
//! ([`Union`], [`deserialize_union`]). Generated code reaches these through
//! [`crate::rt`].

use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Impossible, SerializeMap, SerializeStruct, Serializer};

use std::collections::BTreeMap;

use crate::data::{Key, Unknown, Value, ValueDeserializer};

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

/// A `$type`-tagged union, as generated code implements it: what
/// [`deserialize_union`] needs to decode one.
pub trait Union: Sized {
    /// The `$type` of each member, in lexicon order.
    const MEMBERS: &'static [&'static str];

    /// Decodes the member `type_name` (one of [`MEMBERS`](Self::MEMBERS))
    /// from `member`: the object without its `$type`.
    fn decode_member<'de, D: Deserializer<'de>>(
        type_name: &str,
        member: D,
    ) -> Result<Self, D::Error>;

    /// The value for a member of a type not in `MEMBERS`, kept whole; `None`
    /// for a closed union, which refuses it.
    fn unknown(data: Unknown) -> Option<Self>;
}

/// Decodes a union member: an object with a string `$type`.
///
/// The object is read as a stream: the entries before `$type` are buffered
/// as [`Value`]s (in JSON writers put `$type` first; in canonical DAG-CBOR
/// the keys shorter than `$type` come before it), and from `$type` on a known
/// member decodes straight from the input. Only a member of an unknown type
/// is collected whole, into [`Union::unknown`]. A known member that fails to
/// decode is an error naming the member and the path inside it. Buffered
/// entries are replayed as the input's own encoding would present them, so
/// links and bytes read the same whichever side of `$type` they stand.
pub fn deserialize_union<'de, U: Union, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<U, D::Error> {
    let human = deserializer.is_human_readable();
    deserializer.deserialize_map(UnionVisitor {
        human,
        union: std::marker::PhantomData,
    })
}

struct UnionVisitor<U> {
    /// Whether the input is a human-readable encoding (JSON).
    human: bool,
    union: std::marker::PhantomData<U>,
}

impl<'de, U: Union> Visitor<'de> for UnionVisitor<U> {
    type Value = U;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a union member: an object with a $type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<U, A::Error> {
        let mut before: Vec<(String, Value)> = Vec::new();
        let type_name = loop {
            let Some(key) = map.next_key::<Key<'de>>()? else {
                return Err(de::Error::custom("union member has no $type"));
            };
            let value = map.next_value::<Value>()?;
            if key.as_str() != "$type" {
                before.push((key.into_owned(), value));
                continue;
            }
            match value {
                Value::String(type_name) => break type_name,
                other => {
                    return Err(de::Error::custom(format_args!(
                        "union member has a non-string $type: {}",
                        other.to_json()
                    )));
                }
            }
        };

        if U::MEMBERS.contains(&type_name.as_str()) {
            // The member decodes from the same input. The key whose value
            // fails is noted, so the error names the field; nested unions add
            // theirs, and a decoder that tracks paths (the client's and
            // server's do) follows the whole way. Wrapping the member in such
            // a tracker here would nest wrappers once per union level, without
            // bound for recursive lexicons.
            let mut failed_at = None;
            // The member sees its `$type` too (first), for types that model it.
            before.insert(0, ("$type".to_owned(), Value::String(type_name.clone())));
            let rest = Resumed {
                before: before.into_iter(),
                value: None,
                key: None,
                failed_at: &mut failed_at,
                human: self.human,
                map,
            };
            let member = MemberDeserializer {
                map: rest,
                human: self.human,
            };
            let result = U::decode_member(&type_name, member);
            return result.map_err(|err| match failed_at {
                Some(key) => de::Error::custom(format_args!("invalid {type_name} at {key}: {err}")),
                None => de::Error::custom(format_args!("invalid {type_name}: {err}")),
            });
        }

        // A type this code does not know: kept whole.
        let mut object: BTreeMap<String, Value> = before.into_iter().collect();
        object.insert("$type".to_owned(), Value::String(type_name.clone()));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value::<Value>()?;
            if object.insert(key.as_str().to_owned(), value).is_some() {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {:?}",
                    key.as_str()
                )));
            }
        }
        U::unknown(Unknown::new(Value::Object(object)))
            .ok_or_else(|| unexpected_member(&type_name, U::MEMBERS))
    }
}

/// The member after its `$type`, as a deserializer that reports the input's
/// human-readability (serde's own `MapAccessDeserializer` reports `true`).
struct MemberDeserializer<A> {
    map: A,
    human: bool,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for MemberDeserializer<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }

    fn is_human_readable(&self) -> bool {
        self.human
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The entries of a union member: its `$type` and those read before it,
/// then the rest of the input.
struct Resumed<'f, 'de, A> {
    before: std::vec::IntoIter<(String, Value)>,
    /// The value of the buffered key just returned.
    value: Option<Value>,
    /// The key just returned.
    key: Option<Key<'de>>,
    /// The key whose value failed to decode.
    failed_at: &'f mut Option<String>,
    /// Whether the input is human-readable, for replaying buffered values.
    human: bool,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Resumed<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let key = match self.before.next() {
            Some((key, value)) => {
                self.value = Some(value);
                Key::Owned(key)
            }
            None => match self.map.next_key::<Key<'de>>()? {
                Some(key) => key,
                None => return Ok(None),
            },
        };
        let found = match &key {
            Key::Borrowed(text) => {
                seed.deserialize(de::value::BorrowedStrDeserializer::<A::Error>::new(text))
            }
            Key::Owned(text) => seed.deserialize(de::value::StrDeserializer::<A::Error>::new(text)),
        };
        self.key = Some(key);
        found.map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        let result = match self.value.take() {
            Some(value) => seed.deserialize(ValueDeserializer::<A::Error>::new(&value, self.human)),
            None => self.map.next_value_seed(seed),
        };
        if result.is_err() {
            *self.failed_at = self.key.take().map(|key| key.into_owned());
        }
        result
    }
}

pub fn unexpected_member<E: de::Error>(found: &str, expected: &'static [&'static str]) -> E {
    E::custom(format_args!(
        "unexpected $type {found:?} in closed union; expected one of {expected:?}"
    ))
}

/// Any object with a `$type`, kept as data: the message type of a
/// subscription whose lexicon names no message union.
impl Union for Unknown {
    const MEMBERS: &'static [&'static str] = &[];

    fn decode_member<'de, D: Deserializer<'de>>(
        type_name: &str,
        _member: D,
    ) -> Result<Self, D::Error> {
        Err(unexpected_member(type_name, Self::MEMBERS))
    }

    fn unknown(data: Unknown) -> Option<Self> {
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
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

    /// A union of [`Member`] as generated code writes it.
    #[derive(Debug, PartialEq)]
    enum Open {
        Member(Box<Member>),
        Unknown(Unknown),
    }

    impl Union for Open {
        const MEMBERS: &'static [&'static str] = &["com.example.member"];

        fn decode_member<'de, D: Deserializer<'de>>(
            type_name: &str,
            member: D,
        ) -> Result<Self, D::Error> {
            match type_name {
                "com.example.member" => {
                    Member::deserialize(member).map(|m| Self::Member(Box::new(m)))
                }
                other => Err(unexpected_member(other, Self::MEMBERS)),
            }
        }

        fn unknown(data: Unknown) -> Option<Self> {
            Some(Self::Unknown(data))
        }
    }

    impl<'de> Deserialize<'de> for Open {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize_union(deserializer)
        }
    }

    /// The same union, closed.
    #[derive(Debug, PartialEq)]
    struct Closed(Member);

    impl Union for Closed {
        const MEMBERS: &'static [&'static str] = &["com.example.member"];

        fn decode_member<'de, D: Deserializer<'de>>(
            _type_name: &str,
            member: D,
        ) -> Result<Self, D::Error> {
            Member::deserialize(member).map(Self)
        }

        fn unknown(_data: Unknown) -> Option<Self> {
            None
        }
    }

    fn open(text: &str) -> Result<Open, serde_json::Error> {
        deserialize_union(&mut serde_json::Deserializer::from_str(text))
    }

    #[test]
    fn unions_decode_members_wherever_type_stands() {
        let expected = Open::Member(Box::new(Member {
            a: 1,
            b: Some("x".to_owned()),
        }));
        for text in [
            r#"{"$type":"com.example.member","a":1,"b":"x"}"#,
            r#"{"a":1,"$type":"com.example.member","b":"x"}"#,
            r#"{"a":1,"b":"x","extra":[1,{"c":2}],"$type":"com.example.member"}"#,
        ] {
            assert_eq!(open(text).unwrap(), expected, "{text}");
        }
        // From a JSON value too (as `Unknown::decode` and nested data do).
        let value = json!({"b": "x", "$type": "com.example.member", "a": 1});
        assert_eq!(deserialize_union::<Open, _>(value).unwrap(), expected);
    }

    #[test]
    fn union_member_errors_name_type_and_path() {
        #[derive(Debug, Deserialize)]
        struct Page {
            #[allow(dead_code)]
            items: Vec<Open>,
        }
        // A decoder that tracks paths follows the member's fields.
        let text = r#"{"items":[{"$type":"com.example.member","a":1},{"$type":"com.example.member","a":"one"}]}"#;
        let err = serde_path_to_error::deserialize::<_, Page>(
            &mut serde_json::Deserializer::from_str(text),
        )
        .unwrap_err();
        assert_eq!(err.path().to_string(), "items[1].a");
        let message = err.into_inner().to_string();
        assert!(message.contains("invalid com.example.member"), "{message}");
        assert!(message.contains("expected i64"), "{message}");

        // Without a tracker, the error still names the member and the field.
        let err = open(r#"{"$type":"com.example.member","a":"one"}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid com.example.member at a: invalid type"),
            "{err}"
        );
        let err = open(r#"{"b":"x","$type":"com.example.member"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `a`"), "{err}");
        // An entry read before `$type` too.
        let err = open(r#"{"b":7,"$type":"com.example.member","a":1}"#).unwrap_err();
        assert!(
            err.to_string().contains("invalid com.example.member at b:"),
            "{err}"
        );
        // From a JSON value as well.
        let err = deserialize_union::<Open, _>(json!({"$type": "com.example.member", "a": true}))
            .unwrap_err();
        assert!(
            err.to_string().contains("invalid com.example.member at a:"),
            "{err}"
        );
    }

    #[test]
    fn unions_keep_unknown_members_whole_and_closed_ones_refuse_them() {
        let text = r#"{"z":1,"$type":"com.example.newer","a":{"deep":[true]}}"#;
        match open(text).unwrap() {
            Open::Unknown(data) => {
                assert_eq!(data.type_name(), Some("com.example.newer"));
                assert_eq!(
                    data.as_value(),
                    &json!({"z": 1, "$type": "com.example.newer", "a": {"deep": [true]}})
                );
            }
            other => panic!("decoded as {other:?}"),
        }
        let err = deserialize_union::<Closed, _>(&mut serde_json::Deserializer::from_str(text))
            .unwrap_err();
        assert!(err.to_string().contains("com.example.newer"), "{err}");
    }

    #[test]
    fn union_members_need_a_string_type() {
        assert!(
            open(r#"{"a":1}"#)
                .unwrap_err()
                .to_string()
                .contains("no $type")
        );
        assert!(
            open(r#"{"$type":3}"#)
                .unwrap_err()
                .to_string()
                .contains("non-string")
        );
        assert!(open("[1]").is_err());
        assert!(open("null").is_err());
    }
}
