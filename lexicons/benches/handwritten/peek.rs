//! Decoding an open union by its `$type` without buffering the object.
//!
//! serde's internally tagged enums read the whole object into a buffer
//! before they look for the tag, because the tag may come last. AT Protocol
//! services write `$type` first, so a union can read the first key and, if
//! it is `$type`, hand the rest of the object to the member's derived
//! `Deserialize` as it comes. An object whose `$type` is not first is read
//! into a `serde_json::Map` and decoded from there, as serde would.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// An open union, as `peeked_union!` implements it.
pub(crate) trait Members: Sized {
    /// Whether `tag` names one of the union's members.
    fn knows(tag: &str) -> bool;
    /// Decodes member `tag` from the fields in `body`.
    fn member<'de, B: Body<'de>>(tag: &str, body: B) -> Result<Self, B::Error>;
    /// The catch-all member, for a `$type` the union does not list.
    fn unknown(value: Value) -> Self;
}

/// The fields of a union member.
pub(crate) trait Body<'de> {
    type Error: de::Error;
    /// Decodes the fields as a `T`.
    fn decode<T: Deserialize<'de>>(self) -> Result<T, Self::Error>;
}

/// The fields after a leading `$type`, still to be read from the input.
struct Rest<A>(A);

impl<'de, A: MapAccess<'de>> Body<'de> for Rest<A> {
    type Error = A::Error;

    fn decode<T: Deserialize<'de>>(self) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(self.0))
    }
}

/// The fields of an object read whole, because `$type` was not first.
struct Buffered<E>(Map<String, Value>, PhantomData<E>);

impl<'de, E: de::Error> Body<'de> for Buffered<E> {
    type Error = E;

    fn decode<T: Deserialize<'de>>(self) -> Result<T, E> {
        T::deserialize(Value::Object(self.0)).map_err(E::custom)
    }
}

/// Decodes the union `U` from a JSON object.
pub(crate) fn deserialize<'de, U: Members, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<U, D::Error> {
    deserializer.deserialize_map(UnionVisitor(PhantomData))
}

struct UnionVisitor<U>(PhantomData<U>);

impl<'de, U: Members> Visitor<'de> for UnionVisitor<U> {
    type Value = U;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with a $type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<U, A::Error> {
        let Some(Text(first)) = map.next_key()? else {
            return Err(de::Error::missing_field("$type"));
        };
        if first == "$type" {
            let Text(tag) = map.next_value()?;
            if U::knows(&tag) {
                return U::member(&tag, Rest(map));
            }
            let mut object = Map::new();
            object.insert(first.into_owned(), Value::String(tag.into_owned()));
            return read_rest(object, map).map(|object| U::unknown(Value::Object(object)));
        }
        let mut object = Map::new();
        object.insert(first.into_owned(), map.next_value()?);
        let object = read_rest(object, map)?;
        let tag = match object.get("$type") {
            Some(Value::String(tag)) => tag.clone(),
            Some(other) => {
                return Err(de::Error::invalid_type(
                    unexpected(other),
                    &"a string $type",
                ));
            }
            None => return Err(de::Error::missing_field("$type")),
        };
        if U::knows(&tag) {
            U::member(&tag, Buffered(object, PhantomData))
        } else {
            Ok(U::unknown(Value::Object(object)))
        }
    }
}

/// Adds the entries left in `map` to `object`.
fn read_rest<'de, A: MapAccess<'de>>(
    mut object: Map<String, Value>,
    mut map: A,
) -> Result<Map<String, Value>, A::Error> {
    while let Some((key, value)) = map.next_entry::<String, Value>()? {
        object.insert(key, value);
    }
    Ok(object)
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("a number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

/// A string, borrowed from the input when it has no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}
