//! Unions: generated enums whose members are objects told apart by their
//! `$type`.
//!
//! `#[derive(atlex::rt::Union)]` implements [`Union`] for a generated enum:
//! the `$type` of each member and how to read member number `i`. Finding the
//! `$type`, keeping a member this code does not know, refusing one in a
//! closed union and naming what failed are done here, once.
//!
//! A member decodes as a stream: once its `$type` is read, its other fields
//! come straight from the input, through the same code that decodes the
//! member's type anywhere else. Entries before the `$type` (writers usually
//! put it first; DAG-CBOR's key order puts it after shorter keys) have to be
//! read before the type is known; then the object is collected and read
//! again, from its JSON text.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::Serializer;

use crate::data::Unknown;
use crate::object::{Fields, Key, Object};

/// A `$type`-tagged union, as `#[derive(atlex::rt::Union)]` implements it.
pub trait Union: Sized {
    /// The `$type` of each member, in lexicon order; a member is known by its
    /// index here.
    const MEMBERS: &'static [&'static str];

    /// Reads member number `index` of [`MEMBERS`](Self::MEMBERS).
    fn decode_member<'de, A: MapAccess<'de>>(
        index: usize,
        member: Member<'de, A>,
    ) -> Result<Self, A::Error>;

    /// The value for a member whose `$type` is not in `MEMBERS`, kept whole;
    /// `None` for a closed union, which refuses it.
    fn unknown(data: Unknown) -> Option<Self>;
}

/// `Deserialize` of a generated union: an object with a string `$type`.
pub fn deserialize_union<'de, U: Union, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<U, D::Error> {
    deserializer.deserialize_map(UnionVisitor::<U>(PhantomData))
}

/// Writes member `value` of a union: its fields, after `"$type": type_name`.
pub fn serialize_member<T: Object, S: Serializer>(
    type_name: &'static str,
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    crate::object::serialize_tagged(Some(type_name), value, serializer)
}

struct UnionVisitor<U>(PhantomData<U>);

impl<'de, U: Union> Visitor<'de> for UnionVisitor<U> {
    type Value = U;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a union member: an object with a $type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<U, A::Error> {
        let (type_name, before) = read_type(&mut map)?;
        match member_index(U::MEMBERS, &type_name) {
            Some(index) if before.is_empty() => {
                U::decode_member(index, Member::new(U::MEMBERS[index], map))
            }
            Some(index) => {
                let collected = collect(before, None, map)?;
                replay::<U>(index, &collected).map_err(de::Error::custom)
            }
            None => {
                let data = collect(before, Some(&type_name), map)?;
                U::unknown(Unknown::new(data))
                    .ok_or_else(|| unexpected_member(&type_name, U::MEMBERS))
            }
        }
    }
}

/// Entries of an object, as read.
type Entries = Vec<(String, serde_json::Value)>;

fn member_index(members: &[&str], type_name: &str) -> Option<usize> {
    members.iter().position(|m| *m == type_name)
}

/// Reads entries up to and including the `$type`: the type, and the entries
/// before it.
fn read_type<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(String, Entries), A::Error> {
    let mut before = Vec::new();
    loop {
        let Some(key) = map.next_key::<Key<'de>>()? else {
            return Err(de::Error::custom("union member has no $type"));
        };
        if key.as_str() != "$type" {
            let key = key.as_str().to_owned();
            before.push((key, map.next_value::<serde_json::Value>()?));
            continue;
        }
        return match map.next_value::<serde_json::Value>()? {
            serde_json::Value::String(type_name) => Ok((type_name, before)),
            other => Err(de::Error::custom(format_args!(
                "union member has a non-string $type: {other}"
            ))),
        };
    }
}

/// The whole object: the entries read before its `$type`, the `$type` when
/// given (in its place), then the rest of the input.
fn collect<'de, A: MapAccess<'de>>(
    before: Entries,
    type_name: Option<&str>,
    mut map: A,
) -> Result<serde_json::Value, A::Error> {
    let mut object = serde_json::Map::new();
    object.extend(before);
    if let Some(type_name) = type_name {
        object.insert(
            "$type".to_owned(),
            serde_json::Value::String(type_name.to_owned()),
        );
    }
    while let Some(key) = map.next_key::<String>()? {
        let value = map.next_value::<serde_json::Value>()?;
        object.insert(key, value);
    }
    Ok(serde_json::Value::Object(object))
}

/// A union member whose `$type` has been read: the rest of its entries, to
/// be read as its type.
pub struct Member<'de, A> {
    type_name: &'static str,
    map: A,
    _input: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> Member<'de, A> {
    fn new(type_name: &'static str, map: A) -> Self {
        Self {
            type_name,
            map,
            _input: PhantomData,
        }
    }

    /// Reads the member as `T`, boxed (as union variants hold it).
    pub fn decode<T: Object>(self) -> Result<Box<T>, A::Error> {
        T::decode(Fields::new::<T>(self.map, Some(self.type_name))).map(Box::new)
    }
}

/// Reads member `index` of `U` from a collected object (entries came before
/// its `$type`): from the object's JSON text, as a stream again. A program
/// that decodes JSON from bytes (as the client and server do) already has
/// the code for that stream, so this adds no copy of any member's decoder.
fn replay<U: Union>(index: usize, object: &serde_json::Value) -> Result<U, serde_json::Error> {
    let text = serde_json::to_vec(object)?;
    let mut deserializer = serde_json::Deserializer::from_slice(&text);
    let value = de::Deserializer::deserialize_map(
        &mut deserializer,
        ReplayVisitor::<U> {
            index,
            _union: PhantomData,
        },
    )?;
    deserializer.end()?;
    Ok(value)
}

struct ReplayVisitor<U> {
    index: usize,
    _union: PhantomData<U>,
}

impl<'de, U: Union> Visitor<'de> for ReplayVisitor<U> {
    type Value = U;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a union member")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<U, A::Error> {
        let type_name = U::MEMBERS.get(self.index).copied().unwrap_or_default();
        U::decode_member(self.index, Member::new(type_name, map))
    }
}

/// The error for a `$type` a closed union does not list.
pub fn unexpected_member<E: de::Error>(found: &str, expected: &'static [&'static str]) -> E {
    E::custom(format_args!(
        "unexpected $type {found:?} in closed union; expected one of {expected:?}"
    ))
}

#[cfg(test)]
#[allow(dead_code)]
mod tests {
    use serde_json::json;

    use crate::data::Unknown;
    use crate::rt;

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(type = "com.example.member")]
    struct Member {
        a: i64,
        b: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(record = "com.example.note", key = "tid")]
    struct Note {
        text: String,
    }

    #[derive(Debug, PartialEq, rt::Union)]
    enum Open {
        #[lex("com.example.member")]
        Member(Box<Member>),
        #[lex("com.example.note")]
        Note(Box<Note>),
        #[lex(unknown)]
        Unknown(Unknown),
    }

    #[derive(Debug, PartialEq, rt::Union)]
    enum Closed {
        #[lex("com.example.member")]
        Member(Box<Member>),
    }

    fn open(text: &str) -> Result<Open, serde_json::Error> {
        serde_json::from_str(text)
    }

    fn member(a: i64, b: &str) -> Open {
        Open::from(Member::new(a).with_b(b))
    }

    #[test]
    fn members_decode_wherever_type_stands() {
        let expected = member(1, "x");
        for text in [
            r#"{"$type":"com.example.member","a":1,"b":"x"}"#,
            r#"{"a":1,"$type":"com.example.member","b":"x"}"#,
            r#"{"a":1,"b":"x","extra":[1,{"c":2}],"$type":"com.example.member"}"#,
        ] {
            assert_eq!(open(text).unwrap(), expected, "{text}");
        }
        // From a JSON value too (as `Unknown::decode` and nested data do).
        let value = json!({"b": "x", "$type": "com.example.member", "a": 1});
        assert_eq!(serde_json::from_value::<Open>(value).unwrap(), expected);
    }

    #[test]
    fn members_write_type_first_once() {
        let text = serde_json::to_string(&member(1, "x")).unwrap();
        assert_eq!(text, r#"{"$type":"com.example.member","a":1,"b":"x"}"#);
        // A record member: its own $type is the member's, written once.
        let note = Open::from(Note::new("hi"));
        let text = serde_json::to_string(&note).unwrap();
        assert_eq!(text, r#"{"$type":"com.example.note","text":"hi"}"#);
        assert_eq!(open(&text).unwrap(), note);
    }

    #[test]
    fn member_errors_name_type_and_field() {
        #[derive(Debug, serde::Deserialize)]
        struct Page {
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
        assert!(
            err.to_string().contains("invalid com.example.member"),
            "{err}"
        );
        // An entry read before `$type` too.
        let err = open(r#"{"b":7,"$type":"com.example.member","a":1}"#).unwrap_err();
        assert!(
            err.to_string().contains("invalid com.example.member at b:"),
            "{err}"
        );
        // From a JSON value as well.
        let err = serde_json::from_value::<Open>(json!({"$type": "com.example.member", "a": true}))
            .unwrap_err();
        assert!(
            err.to_string().contains("invalid com.example.member at a:"),
            "{err}"
        );
    }

    #[test]
    fn unknown_members_are_kept_whole_and_closed_unions_refuse_them() {
        let text = r#"{"z":1,"$type":"com.example.newer","a":{"deep":[true]}}"#;
        match open(text).unwrap() {
            Open::Unknown(data) => {
                assert_eq!(data.type_name(), Some("com.example.newer"));
                assert_eq!(
                    data.as_value(),
                    &json!({"z": 1, "$type": "com.example.newer", "a": {"deep": [true]}})
                );
                // And written back as received.
                let again: serde_json::Value =
                    serde_json::to_value(Open::Unknown(data.clone())).unwrap();
                assert_eq!(&again, data.as_value());
            }
            other => panic!("decoded as {other:?}"),
        }
        let err = serde_json::from_str::<Closed>(text).unwrap_err();
        assert!(err.to_string().contains("com.example.newer"), "{err}");
        assert!(err.to_string().contains("closed union"), "{err}");
    }

    #[test]
    fn members_need_a_string_type() {
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
