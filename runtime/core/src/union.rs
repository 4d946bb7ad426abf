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
//! member's type anywhere else. Entries before the `$type` (in JSON writers
//! put it first; in canonical DAG-CBOR keys shorter than `$type` come before
//! it) have to be read before the type is known: they are kept as
//! [`Value`]s and replayed first by the member's [`Fields`], each field's
//! value from its JSON text (links and bytes as `{"$link"}` and
//! `{"$bytes"}`, which the data model's types read in JSON), so that a
//! program compiles one decoder per type, not a second one for replays.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::Serializer;

use std::collections::BTreeMap;

use crate::data::{Key, Unknown, Value, ValueDeserializer};
use crate::object::{Fields, Object};

/// A `$type`-tagged union, as `#[derive(atlex::rt::Union)]` implements it.
/// #[lex(crate = "::atlex_core")]
pub trait Union: Sized {
    /// The `$type` of each member, in lexicon order; a member is known by its
    /// index here.
    const MEMBERS: &'static [&'static str];

    /// Reads member number `index` of [`MEMBERS`](Self::MEMBERS). (The
    /// derive calls the decoder it implements on
    /// [`Decoders`](crate::object::Decoders).)
    fn decode_member<'de, A: MapAccess<'de>>(
        index: usize,
        member: Member<'de, A>,
    ) -> Result<Self, A::Error>;

    /// The value for a member whose `$type` is not in `MEMBERS`, kept whole;
    /// a closed union refuses it, handing it back.
    fn unknown(data: Unknown) -> Result<Self, Unknown>;
}

/// The member decoder of union `U`, implemented on
/// [`Decoders`](crate::object::Decoders) by `#[derive(Union)]` (which says
/// why there).
#[doc(hidden)]
pub trait DecodeUnion<U> {
    /// Reads member number `index` of `U`'s members.
    fn decode_member<'de, A: MapAccess<'de>>(
        index: usize,
        member: Member<'de, A>,
    ) -> Result<U, A::Error>;
}

/// `Deserialize` of a generated union: an object with a string `$type`.
pub fn deserialize_union<'de, U: Union, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<U, D::Error> {
    let human = deserializer.is_human_readable();
    deserializer.deserialize_map(UnionVisitor::<U> {
        human,
        union: PhantomData,
    })
}

/// Writes member `value` of a union: its fields, after `"$type": type_name`.
pub fn serialize_member<T: Object, S: Serializer>(
    type_name: &'static str,
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    crate::object::serialize_tagged(Some(type_name), None, value, serializer)
}

struct UnionVisitor<U> {
    /// Whether the input is a human-readable encoding (JSON).
    human: bool,
    union: PhantomData<U>,
}

impl<'de, U: Union> Visitor<'de> for UnionVisitor<U> {
    type Value = U;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a union member: an object with a $type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<U, A::Error> {
        match find_member(&mut map, U::MEMBERS)? {
            Found::Known(index, before) => U::decode_member(
                index,
                Member::new(U::MEMBERS[index], map, before, self.human),
            ),
            Found::Unknown(data) => match U::unknown(data) {
                Ok(value) => Ok(value),
                Err(data) => Err(unknown_refused(&data, U::MEMBERS)),
            },
        }
    }
}

/// What [`find_member`] found.
enum Found {
    /// Member number `.0`, and the entries read before its `$type`; the
    /// ones after it are still to be read.
    Known(usize, Entries),
    /// A `$type` not among the members: the whole object.
    Unknown(Unknown),
}

/// Reads up to a member's `$type` and finds it among `members`, or reads the
/// whole object of one it does not know. (One copy per format, shared by
/// every union: what is left in each is the match on its members.)
#[inline(never)]
fn find_member<'de, A: MapAccess<'de>>(
    map: &mut A,
    members: &'static [&'static str],
) -> Result<Found, A::Error> {
    let (type_name, before) = read_type(map)?;
    let type_name = type_name.as_str();
    Ok(match member_index(members, type_name) {
        Some(index) => Found::Known(index, before),
        None => Found::Unknown(Unknown::new(collect(before, type_name, map)?)),
    })
}

/// The error for an unknown member of a closed union: `data`, refused.
#[cold]
#[inline(never)]
fn unknown_refused<E: de::Error>(data: &Unknown, members: &'static [&'static str]) -> E {
    unexpected_member(data.type_name().unwrap_or_default(), members)
}

/// Where `type_name` is in `members` (one copy for every union).
#[inline]
fn member_index(members: &[&str], type_name: &str) -> Option<usize> {
    members.iter().position(|m| *m == type_name)
}

/// Entries of an object, as read.
type Entries = Vec<(String, Value)>;

/// Reads entries up to and including the `$type`: the type, and the entries
/// before it.
fn read_type<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(Key<'de>, Entries), A::Error> {
    let mut before = Vec::new();
    loop {
        let Some(key) = map.next_key::<Key<'de>>()? else {
            return Err(de::Error::custom("union member has no $type"));
        };
        if key.as_str() != "$type" {
            before.push((key.into_owned(), map.next_value::<Value>()?));
            continue;
        }
        let TypeName(type_name) = map.next_value()?;
        return Ok((type_name, before));
    }
}

/// The value of a member's `$type`: a string, borrowed from the input where
/// it can be.
struct TypeName<'de>(Key<'de>);

impl<'de> Deserialize<'de> for TypeName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TypeNameVisitor;

        impl<'de> Visitor<'de> for TypeNameVisitor {
            type Value = TypeName<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (a union member has a non-string $type)")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(TypeName(Key::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(TypeName(Key::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(TypeName(Key::Owned(text)))
            }
        }

        deserializer.deserialize_str(TypeNameVisitor)
    }
}

/// The whole object of a member this code does not know: the entries read
/// before its `$type`, the `$type`, then the rest of the input.
fn collect<'de, A: MapAccess<'de>>(
    before: Entries,
    type_name: &str,
    map: &mut A,
) -> Result<Value, A::Error> {
    let mut object: BTreeMap<String, Value> = before.into_iter().collect();
    object.insert("$type".to_owned(), Value::String(type_name.to_owned()));
    while let Some(key) = map.next_key::<Key<'de>>()? {
        let key = key.into_owned();
        if object.contains_key(&key) {
            return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
        }
        let value = map.next_value::<Value>()?;
        object.insert(key, value);
    }
    Ok(Value::Object(object))
}

/// A union member whose `$type` has been read: the rest of its entries, to
/// be read as its type.
pub struct Member<'de, A> {
    type_name: &'static str,
    /// The entries read before the `$type`.
    before: Entries,
    /// The rest.
    map: A,
    /// Whether the input is human-readable.
    human: bool,
    _input: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> Member<'de, A> {
    fn new(type_name: &'static str, map: A, before: Entries, human: bool) -> Self {
        Self {
            type_name,
            before,
            map,
            human,
            _input: PhantomData,
        }
    }

    /// Reads the member as `T`, boxed (as union variants hold it): by the
    /// code that reads `T` anywhere else, the entries before the `$type`
    /// first.
    pub fn decode<T: Object>(self) -> Result<Box<T>, A::Error> {
        T::decode(Fields::resumed::<T>(
            self.map,
            Some(self.type_name),
            self.human,
            self.before,
        ))
        .map(Box::new)
    }

    /// Reads the member as any `T`, from all its entries: its `$type`
    /// first (for types that model it), then the others.
    pub fn deserialize<T: Deserialize<'de>>(self) -> Result<T, A::Error> {
        let mut before = vec![("$type".to_owned(), Value::String(self.type_name.to_owned()))];
        before.extend(self.before);
        T::deserialize(MemberDeserializer {
            human: self.human,
            map: Resumed {
                before: before.into_iter(),
                value: None,
                human: self.human,
                map: self.map,
            },
        })
    }
}

/// The entries after a member's `$type`, as a deserializer that reports the
/// input's human-readability (serde's `MapAccessDeserializer` says `true`).
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

/// The entries of a member after its `$type`: first those read before it,
/// then the rest of the input (for [`Member::deserialize`]).
struct Resumed<A> {
    before: std::vec::IntoIter<(String, Value)>,
    /// The value of the buffered key just returned.
    value: Option<Value>,
    /// Whether the input is human-readable, for replaying buffered values.
    human: bool,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Resumed<A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.before.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(de::value::StringDeserializer::<A::Error>::new(key))
                    .map(Some)
            }
            None => self.map.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(ValueDeserializer::<A::Error>::new(&value, self.human)),
            None => self.map.next_value_seed(seed),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint().map(|rest| rest + self.before.len())
    }
}

/// Reads member number `index` of union `U` from an object that has no
/// `$type` of its own: the body of a subscription message, whose type the
/// frame's header names.
#[cfg(feature = "cbor")]
pub(crate) fn deserialize_member<'de, U: Union, D: Deserializer<'de>>(
    index: usize,
    deserializer: D,
) -> Result<U, D::Error> {
    struct MemberVisitor<U> {
        index: usize,
        human: bool,
        union: PhantomData<U>,
    }

    impl<'de, U: Union> Visitor<'de> for MemberVisitor<U> {
        type Value = U;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a message: an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<U, A::Error> {
            let Some(type_name) = U::MEMBERS.get(self.index) else {
                return Err(de::Error::custom(format_args!(
                    "no member {} in a union of {}",
                    self.index,
                    U::MEMBERS.len()
                )));
            };
            U::decode_member(
                self.index,
                Member::new(type_name, map, Vec::new(), self.human),
            )
        }
    }

    let human = deserializer.is_human_readable();
    deserializer.deserialize_map(MemberVisitor::<U> {
        index,
        human,
        union: PhantomData,
    })
}

/// Any object with a `$type`, kept as data: the message type of a
/// subscription whose lexicon names no message union.
impl Union for Unknown {
    const MEMBERS: &'static [&'static str] = &[];

    fn decode_member<'de, A: MapAccess<'de>>(
        index: usize,
        member: Member<'de, A>,
    ) -> Result<Self, A::Error> {
        let _ = member;
        Err(de::Error::custom(format_args!(
            "no member {index} in a union without members"
        )))
    }

    fn unknown(data: Unknown) -> Result<Self, Unknown> {
        Ok(data)
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
    #[lex(crate = "crate", type = "com.example.member")]
    struct Member {
        a: i64,
        b: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(crate = "crate", record = "com.example.note", key = "tid")]
    struct Note {
        text: String,
    }

    #[derive(Debug, PartialEq, rt::Union)]
    #[lex(crate = "crate")]
    enum Open {
        #[lex("com.example.member")]
        Member(Box<Member>),
        #[lex("com.example.note")]
        Note(Box<Note>),
        #[lex(unknown)]
        Unknown(Unknown),
    }

    #[derive(Debug, PartialEq, rt::Union)]
    #[lex(crate = "crate")]
    enum Closed {
        #[lex("com.example.member")]
        Member(Box<Member>),
    }

    /// Members compiled out, as the record dispatch's are when their
    /// namespace's feature is off.
    #[derive(Debug, PartialEq, rt::Union)]
    #[lex(crate = "crate")]
    enum Gated {
        #[cfg(any())]
        #[lex("com.example.gone")]
        Gone(Box<Member>),
        #[lex("com.example.member")]
        Member(Box<Member>),
        #[cfg(test)]
        #[lex("com.example.note")]
        Note(Box<Note>),
        #[lex(unknown)]
        Unknown(Unknown),
    }

    /// Types named as the derives' own type parameters might be.
    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(crate = "crate", type = "com.example.a")]
    struct A {
        a: i64,
    }

    mod named {
        use crate::rt;

        #[derive(Debug, PartialEq, rt::Union)]
        #[lex(crate = "crate")]
        pub(super) enum A {
            #[lex("com.example.a")]
            A(Box<super::A>),
        }
    }

    #[test]
    fn types_may_be_named_as_type_parameters() {
        let a: A = serde_json::from_str(r#"{"a":1}"#).unwrap();
        assert_eq!(a, A::new(1));
        let union: named::A = serde_json::from_str(r#"{"a":2,"$type":"com.example.a"}"#).unwrap();
        assert_eq!(union, named::A::from(A::new(2)));
    }

    #[test]
    fn members_compiled_out_are_unknown_and_the_others_decode() {
        use crate::union::Union as _;
        assert_eq!(Gated::MEMBERS, ["com.example.member", "com.example.note"]);
        let note: Gated =
            serde_json::from_str(r#"{"$type":"com.example.note","text":"hi"}"#).unwrap();
        assert_eq!(note, Gated::from(Note::new("hi")));
        let member: Gated =
            serde_json::from_str(r#"{"a":1,"$type":"com.example.member"}"#).unwrap();
        assert_eq!(member, Gated::from(Member::new(1)));
        let gone: Gated = serde_json::from_str(r#"{"$type":"com.example.gone","a":1}"#).unwrap();
        assert!(matches!(gone, Gated::Unknown(_)), "{gone:?}");
        let text = serde_json::to_string(&note).unwrap();
        assert_eq!(text, r#"{"$type":"com.example.note","text":"hi"}"#);
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
    fn entries_before_type_replay_without_positions_of_their_own() {
        // The replayed value's error reads as the streamed one's would, with
        // no position in text the input never held.
        let err = open(r#"{"b":7,"$type":"com.example.member","a":1}"#).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("invalid type: integer `7`"), "{text}");
        assert_eq!(text.matches(" at line ").count(), 1, "{text}");
        // Undeclared entries before it are skipped, nested ones included.
        let expected = member(1, "x");
        assert_eq!(
            open(r#"{"z":{"deep":[1]},"b":"x","a":1,"$type":"com.example.member"}"#).unwrap(),
            expected
        );
    }

    #[cfg(feature = "cbor")]
    #[test]
    fn links_and_bytes_before_type_replay_from_dag_cbor() {
        use crate::data::{Bytes, CidLink, Value};

        #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
        #[lex(crate = "crate", type = "com.example.linked")]
        struct Linked {
            l: CidLink,
            by: Bytes,
            #[lex(unknown)]
            extra: crate::data::ExtraFields,
        }

        #[derive(Debug, PartialEq, rt::Union)]
        #[lex(crate = "crate")]
        enum Links {
            #[lex("com.example.linked")]
            Linked(Box<Linked>),
        }

        let link: CidLink = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
            .parse()
            .unwrap();
        let object = |extra: Option<Value>| {
            let mut map = std::collections::BTreeMap::new();
            map.insert("$type".to_owned(), Value::from("com.example.linked"));
            map.insert("l".to_owned(), Value::Link(link.clone()));
            map.insert("by".to_owned(), Value::Bytes(Bytes(vec![0, 1, 2])));
            if let Some(extra) = extra {
                map.insert("ex".to_owned(), extra);
            }
            crate::cbor::to_vec(&Value::Object(map)).unwrap()
        };
        // Canonical DAG-CBOR puts "l", "by" and "ex" before "$type".
        let Links::Linked(linked) = crate::cbor::from_slice::<Links>(&object(None)).unwrap();
        assert_eq!((&linked.l, linked.by.as_slice()), (&link, &[0u8, 1, 2][..]));
        let kept = Value::Array(vec![Value::Link(link.clone())]);
        let Links::Linked(linked) =
            crate::cbor::from_slice::<Links>(&object(Some(kept.clone()))).unwrap();
        assert_eq!(linked.extra.get("ex"), Some(&kept));
        // A map whose own key is "$link" has no JSON form to replay from:
        // refused, not read as a link.
        let mut odd = std::collections::BTreeMap::new();
        odd.insert("$link".to_owned(), Value::from("x"));
        #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
        #[lex(crate = "crate", type = "com.example.held")]
        struct Held {
            v: crate::data::Value,
        }
        #[derive(Debug, PartialEq, rt::Union)]
        #[lex(crate = "crate")]
        enum Holds {
            #[lex("com.example.held")]
            Held(Box<Held>),
        }
        let mut map = std::collections::BTreeMap::new();
        map.insert("$type".to_owned(), Value::from("com.example.held"));
        map.insert("v".to_owned(), Value::Object(odd));
        let bytes = crate::cbor::to_vec(&Value::Object(map)).unwrap();
        let err = crate::cbor::from_slice::<Holds>(&bytes).unwrap_err();
        assert!(err.to_string().contains("\"$link\" key"), "{err}");
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
                let again = serde_json::to_value(Open::Unknown(data.clone())).unwrap();
                assert_eq!(again, data.to_json());
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
