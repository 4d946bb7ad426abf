//! Objects: how generated structs go through serde, driven by a table of
//! their fields rather than code per struct.
//!
//! `#[derive(atlex::rt::Object)]` implements [`Object`] for a generated
//! #[lex(crate = "::atlex_core")]
//! struct: the JSON names of its fields ([`Object::FIELDS`]), one function
//! that reads a field's value by its index ([`Object::decode`]) and one that
//! writes every field ([`Object::encode`]). What is the same for every object
//! lives here once: walking the map, matching keys, rejecting duplicates,
//! skipping (or keeping) undeclared properties, checking a record's `$type`,
//! and naming what failed. Generated code reaches this module through
//! [`crate::rt`].
//!
//! Decoding reads the input as a stream: an object is one pass over its map,
//! values deserialized straight from the input. Generated `Deserialize` and
//! `Serialize` impls are one call each ([`deserialize_object`],
//! [`serialize_object`]), so a program that decodes a type instantiates the
//! map walk once per type and the value code once per deserializer.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};

use crate::data::{ExtraFields, Key, Value};

/// A generated struct that travels as a JSON object (or any serde map).
///
/// Implemented by `#[derive(atlex::rt::Object)]`; stable in behaviour but not
/// #[lex(crate = "::atlex_core")]
/// meant to be implemented by hand.
pub trait Object: Sized {
    /// The Rust name of the struct, for serializers that want one.
    const NAME: &'static str;
    /// The JSON name of each field, in declaration order; a field is known by
    /// its index here.
    const FIELDS: &'static [&'static str];
    /// The `$type` of a record: written first when it is serialized, and,
    /// when the input has one, checked to be this one. `None` for other
    /// objects, whose `$type` (if any) is ignored.
    const RECORD_TYPE: Option<&'static str> = None;
    /// The object's own `$type` (`nsid#def`, or the NSID of a `main`
    /// definition), for an object defined by a lexicon.
    const TYPE_NAME: Option<&'static str> = None;
    /// Whether properties not in [`FIELDS`](Self::FIELDS) are kept (in an
    /// [`ExtraFields`]) rather than skipped, with the object's `$type`.
    const KEEPS_UNKNOWN: bool = false;

    /// The index in [`FIELDS`](Self::FIELDS) of the field whose JSON name is
    /// `key`. (A `match` per type: the compiler turns it into comparisons
    /// of the input key against constants, faster than searching the table.)
    fn field(key: &str) -> Option<usize>;

    /// Reads the object from its entries. (The derive calls the decoder it
    /// implements on [`Decoders`].)
    fn decode<'de, A: MapAccess<'de>>(fields: Fields<'de, A>) -> Result<Self, A::Error>;

    /// Writes the fields that are set (not the record `$type`).
    fn encode<S: SerializeMap>(&self, map: &mut S) -> Result<(), S::Error>;

    /// How many entries [`encode`](Self::encode) writes.
    fn entries(&self) -> usize;
}

/// The type generated decoders are implemented on: `#[derive(Object)]`
/// implements [`DecodeObject<T>`] for it, `#[derive(Union)]`
/// [`DecodeUnion<U>`](crate::union::DecodeUnion), and their
/// [`Object::decode`] and [`Union::decode_member`](crate::union::Union::decode_member)
/// call that.
///
/// This is for the build of a program that decodes. rustc places the code of
/// a generic function for the types it is used with in the codegen unit of
/// the module of its impl's `Self` type, and copies the code that drops a
/// value into every unit that may drop one. Implemented on each generated
/// type, the decoders would spread over the program's units with the
/// modules of their types, and each unit would carry (and optimize) its own
/// copy of the drop code of every field type they read: for a view such as
/// `app.bsky.actor.defs#profileView` that is the whole tree of its fields,
/// in most of the units. Implemented on this one type, the decoders share
/// one unit, with the runtime's code they call, and one copy.
#[doc(hidden)]
#[derive(Debug)]
pub struct Decoders;

/// The decoder of object `T`, implemented on [`Decoders`] by
/// `#[derive(Object)]`.
#[doc(hidden)]
pub trait DecodeObject<T> {
    /// Reads a `T` from its entries.
    fn decode<'de, A: MapAccess<'de>>(fields: Fields<'de, A>) -> Result<T, A::Error>;
}

/// `Deserialize` of a generated object.
pub fn deserialize_object<'de, T: Object, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(ObjectVisitor::<T>(PhantomData))
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        expecting_object(f, T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::decode(Fields::new::<T>(map, None))
    }
}

/// A reader of the JSON text of a value [`Fields`] read before a member's
/// `$type`. The field's type is read from it by the code a JSON program has
/// for that type anyway; making the reader, the text ([`replay_text`]) and
/// the errors ([`replay_error`]) is done here, once for every type. The text
/// is the runtime's own writing of one value, so nothing can follow it.
#[inline(never)]
fn replay_reader(text: &[u8]) -> serde_json::Deserializer<serde_json::de::SliceRead<'_>> {
    serde_json::Deserializer::from_slice(text)
}

/// The error of a replayed value, as its format's error.
#[cold]
#[inline(never)]
fn replay_error<E: de::Error>(err: serde_json::Error) -> E {
    E::custom(without_position(&err))
}

/// The JSON text of a value to replay. Links and bytes are written as the
/// data model writes them in JSON, `{"$link"}` and `{"$bytes"}`; a map of
/// the input that has such a key itself would read back as something else,
/// and is refused.
fn replay_text(value: &Value) -> Result<Vec<u8>, String> {
    fn ambiguous(value: &Value) -> Option<&str> {
        match value {
            Value::Array(items) => items.iter().find_map(ambiguous),
            Value::Object(map) => map
                .keys()
                .find(|key| *key == "$link" || *key == "$bytes")
                .map(String::as_str)
                .or_else(|| map.values().find_map(ambiguous)),
            _ => None,
        }
    }
    if let Some(key) = ambiguous(value) {
        return Err(format!(
            "a map with a {key:?} key, before the member's $type, cannot be read as a field"
        ));
    }
    serde_json::to_vec(value).map_err(|err| err.to_string())
}

/// A JSON error's message without the position in the replayed text, which
/// is not a position in the input.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    if err.line() == 0 {
        return text;
    }
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => text,
    }
}

fn expecting_object(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    write!(f, "a {name} object")
}

/// `Serialize` of a generated object: a map of the fields that are set, a
/// record's `$type` first, or the `$type` the object keeps in `kept` (what
/// it holds besides its declared fields, for an object that keeps it).
pub fn serialize_object<T: Object, S: Serializer>(
    value: &T,
    kept: Option<&ExtraFields>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let kept = match T::RECORD_TYPE {
        Some(_) => None,
        None => kept.and_then(kept_type::<T>),
    };
    serialize_tagged(T::RECORD_TYPE, kept, value, serializer)
}

/// Writes `value` with a `$type` as its first entry: `type_name` when the
/// writer gives one (a record's, a union member's), or else the one the
/// object keeps (its own, when decoding found it or code asked for it, or
/// another one it was read with).
pub(crate) fn serialize_tagged<T: Object, S: Serializer>(
    type_name: Option<&str>,
    kept: Option<KeptType<'_>>,
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let len = value.entries() + usize::from(type_name.is_some() || kept.is_some());
    let mut map = serializer.serialize_map(Some(len))?;
    if let Some(type_name) = type_name {
        map.serialize_entry("$type", type_name)?;
    }
    match kept {
        None => {}
        Some(KeptType::Own(own)) => map.serialize_entry("$type", own)?,
        Some(KeptType::Other(other)) => map.serialize_entry("$type", other)?,
    }
    value.encode(&mut map)?;
    map.end()
}

/// The `$type` an object writes of itself.
pub(crate) enum KeptType<'a> {
    Own(&'static str),
    Other(&'a Value),
}

/// The `$type` an object of type `T` keeps in `extra`, if any.
#[inline]
fn kept_type<T: Object>(extra: &ExtraFields) -> Option<KeptType<'_>> {
    match T::TYPE_NAME {
        Some(own) if extra.writes_type() => Some(KeptType::Own(own)),
        _ => extra.other_type().map(KeptType::Other),
    }
}

/// Writes the properties an object of type `T` kept: not a `$type`
/// (written first, with the object's other entries' count), nor one named
/// as a declared field (which the field's own entry is).
pub fn encode_unknown<T: Object, S: SerializeMap>(
    kept: &ExtraFields,
    map: &mut S,
) -> Result<(), S::Error> {
    if kept.is_empty() {
        return Ok(());
    }
    for (name, value) in kept.iter().filter(|(name, _)| written(name, T::field)) {
        map.serialize_entry(name, value)?;
    }
    Ok(())
}

/// How many entries [`encode_unknown`] writes, `field` being the object's
/// [`Object::field`]. Called from each type's `entries`, which is compiled
/// with the bindings: one function for every type.
pub fn unknown_len(kept: &ExtraFields, field: fn(&str) -> Option<usize>) -> usize {
    if kept.is_empty() {
        return 0;
    }
    kept.iter().filter(|(name, _)| written(name, field)).count()
}

/// Whether kept property `name` is written with the object's fields.
fn written(name: &str, field: fn(&str) -> Option<usize>) -> bool {
    name != "$type" && field(name).is_none()
}

/// The entries of an object being decoded, walked field by field.
///
/// [`next_field`](Self::next_field) gives the index of the next declared
/// field found; the caller then reads its value with
/// [`set`](Self::set) or [`set_optional`](Self::set_optional). Everything else (duplicates, `$type`, undeclared
/// properties) is dealt with here.
///
/// A union member's entries that came before its `$type` were read before
/// its type was known, as [`Value`]s: they come first, and a field's value
/// among them is read from its JSON text, by the code that reads JSON from a
/// slice. A program that decodes JSON has that code for every type already,
/// so the replay adds no copy of the types' decoding for the format at hand
/// (a replay through a deserializer of [`Value`]s would compile one more copy
/// of every member's fields).
pub struct Fields<'de, A> {
    map: A,
    /// Entries read before a union member's `$type`, still to be walked.
    pending: std::vec::IntoIter<(String, Value)>,
    /// The JSON text of the last pending entry
    /// [`next_field`](Self::next_field) gave.
    replay: Vec<u8>,
    /// Whether the current field's value is `replay`, still to be read.
    replaying: bool,
    names: &'static [&'static str],
    /// [`Object::field`] of the type being read.
    lookup: fn(&str) -> Option<usize>,
    /// The field whose value is to be read.
    current: usize,
    /// Fields seen (the first 64; later ones are rare enough to go unchecked).
    seen: u64,
    record_type: Option<&'static str>,
    /// [`Object::TYPE_NAME`] of the type being read.
    own_type: Option<&'static str>,
    kept: Option<ExtraFields>,
    /// The union member being decoded, to name in errors.
    member: Option<&'static str>,
    /// Whether the input is human-readable: a member's errors in DAG-CBOR
    /// are noted for the decoder to name, not printed (see
    /// `cbor::members`).
    human: bool,
    _input: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> Fields<'de, A> {
    /// The entries of `map`, as fields of `T`; `member` is the `$type` of the
    /// union member being read, if it is one (its `$type` already read).
    #[inline]
    pub(crate) fn new<T: Object>(map: A, member: Option<&'static str>) -> Self {
        Self::resumed::<T>(map, member, true, Vec::new())
    }

    /// [`new`](Self::new), with the entries read before the member's `$type`
    /// to walk first.
    #[inline]
    pub(crate) fn resumed<T: Object>(
        map: A,
        member: Option<&'static str>,
        human: bool,
        before: Vec<(String, Value)>,
    ) -> Self {
        Self {
            map,
            pending: before.into_iter(),
            replay: Vec::new(),
            replaying: false,
            names: T::FIELDS,
            lookup: T::field,
            current: 0,
            seen: 0,
            record_type: if member.is_some() {
                None
            } else {
                T::RECORD_TYPE
            },
            own_type: T::TYPE_NAME,
            kept: T::KEEPS_UNKNOWN.then(ExtraFields::default),
            member,
            human,
            _input: PhantomData,
        }
    }

    /// The index of the next declared field, or `None` at the end of the
    /// object.
    #[inline]
    pub fn next_field(&mut self) -> Result<Option<usize>, A::Error> {
        if self.pending.len() > 0
            && let Some(index) = self.next_pending()?
        {
            return Ok(Some(index));
        }
        loop {
            let Some(key) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            match (self.lookup)(key.as_str()) {
                Some(index) => return self.found(index).map(Some),
                None => self.other(key.as_str())?,
            }
        }
    }

    /// The next declared field among the pending entries, its value kept to
    /// be replayed; the undeclared ones kept or skipped on the way.
    #[inline(never)]
    fn next_pending(&mut self) -> Result<Option<usize>, A::Error> {
        for (key, value) in self.pending.by_ref() {
            match (self.lookup)(&key) {
                Some(index) => {
                    let index = self.found(index)?;
                    match replay_text(&value) {
                        Ok(text) => {
                            self.replay = text;
                            self.replaying = true;
                        }
                        Err(message) => {
                            return Err(self.field_error(de::Error::custom(message)));
                        }
                    }
                    return Ok(Some(index));
                }
                None => {
                    if let Some(kept) = &mut self.kept {
                        kept.insert(key, value);
                    }
                }
            }
        }
        Ok(None)
    }

    /// Notes that field `index` was found, refusing it a second time.
    #[inline(always)]
    fn found(&mut self, index: usize) -> Result<usize, A::Error> {
        if index < 64 {
            let bit = 1u64 << index;
            if self.seen & bit != 0 {
                return Err(self.wrap(de::Error::custom(format_args!(
                    "duplicate field `{}`",
                    self.names[index]
                ))));
            }
            self.seen |= bit;
        }
        self.current = index;
        Ok(index)
    }

    /// Reads the value of an entry that is not a declared field: a `$type`
    /// (checked), or a property kept or skipped.
    #[inline(never)]
    fn other(&mut self, key: &str) -> Result<(), A::Error> {
        if key == "$type" {
            return self.check_type();
        }
        match &mut self.kept {
            Some(kept) => {
                let key = key.to_owned();
                let value = self.map.next_value::<Value>()?;
                kept.insert(key, value);
            }
            None => {
                self.map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    /// Reads the value of the field [`next_field`](Self::next_field) just
    /// gave into `slot` (a field that must be present, or one whose `null`
    /// is kept).
    ///
    /// Out of line, as [`set_optional`](Self::set_optional) is: called from
    /// every type's decoder, a small copy would be imported into each one
    /// and optimized again by a program's release build (ThinLTO), which
    /// costs that build more than the call costs decoding.
    #[inline(never)]
    pub fn set<T: DeserializeOwned>(&mut self, slot: &mut Option<T>) -> Result<(), A::Error> {
        *slot = Some(self.value()?);
        Ok(())
    }

    /// Reads the value of an optional field into `slot`, `null` as absent
    /// (and kept, by an object that keeps what it does not model).
    #[inline(never)]
    pub fn set_optional<T: DeserializeOwned>(
        &mut self,
        slot: &mut Option<T>,
    ) -> Result<(), A::Error> {
        *slot = self.value()?;
        if slot.is_none() {
            return self.keep_null();
        }
        Ok(())
    }

    /// Keeps the `null` the current field was read as, where the lexicon
    /// allows only a value or absence: it is written back while the field
    /// stays unset.
    #[cold]
    #[inline(never)]
    fn keep_null(&mut self) -> Result<(), A::Error> {
        let index = self.current;
        let kept = match &mut self.kept {
            Some(kept) => kept.keep_null(index),
            None => true,
        };
        if kept {
            return Ok(());
        }
        Err(self.field_error(de::Error::custom(
            "null, which this field may not hold (past the 128th field, it cannot be kept)",
        )))
    }

    /// The value of the current field. (Code per field type, kept small:
    /// the rest is in functions shared by every type.)
    fn value<T: DeserializeOwned>(&mut self) -> Result<T, A::Error> {
        let result = if self.replaying {
            self.replayed()
        } else {
            self.map.next_value()
        };
        match result {
            Ok(_) => result,
            Err(err) => Err(self.field_error(err)),
        }
    }

    /// The value of the current field from its replayed JSON text.
    #[inline(never)]
    fn replayed<T: DeserializeOwned>(&mut self) -> Result<T, A::Error> {
        self.replaying = false;
        T::deserialize(&mut replay_reader(&self.replay)).map_err(replay_error)
    }

    /// The error for the first of `required` (field index, whether missing)
    /// that is missing.
    #[cold]
    pub fn missing(&self, required: &[(usize, bool)]) -> A::Error {
        let index = required
            .iter()
            .find(|(_, missing)| *missing)
            .map_or(0, |(index, _)| *index);
        let name = self.names.get(index).copied().unwrap_or("?");
        self.wrap(de::Error::missing_field(name))
    }

    /// A field's error, naming the field of the union member it is in.
    #[cold]
    #[inline(never)]
    fn field_error(&self, err: A::Error) -> A::Error {
        let field = self.names[self.current];
        match self.member {
            Some(member) if !self.noted(member, Some(field)) => {
                de::Error::custom(format_args!("invalid {member} at {field}: {err}"))
            }
            _ => err,
        }
    }

    /// The undeclared properties kept, for an object that keeps them.
    pub fn unknown(&mut self) -> ExtraFields {
        self.kept.take().unwrap_or_default()
    }

    /// Reads a `$type`: a record's must be the record's; a union member's was
    /// read already (a second one is a duplicate); another object keeps it,
    /// as its own or as the property it is.
    fn check_type(&mut self) -> Result<(), A::Error> {
        if let Some(expected) = self.record_type {
            let found = self.map.next_value::<Key<'de>>()?;
            return if found.as_str() == expected {
                Ok(())
            } else {
                Err(de::Error::custom(format_args!(
                    "$type {:?} where {expected:?} was expected",
                    found.as_str()
                )))
            };
        }
        if self.member.is_some() {
            return Err(self.wrap(de::Error::custom("duplicate field `$type`")));
        }
        let Some(kept) = &mut self.kept else {
            self.map.next_value::<IgnoredAny>()?;
            return Ok(());
        };
        if kept.writes_type() || kept.other_type().is_some() {
            return Err(de::Error::custom("duplicate field `$type`"));
        }
        let found = self.map.next_value::<Value>()?;
        match (&found, self.own_type) {
            (Value::String(found), Some(own)) if found == own => kept.set_writes_type(true),
            _ => {
                kept.insert("$type", found);
            }
        }
        Ok(())
    }

    fn wrap(&self, err: A::Error) -> A::Error {
        match self.member {
            Some(member) if !self.noted(member, None) => {
                de::Error::custom(format_args!("invalid {member}: {err}"))
            }
            _ => err,
        }
    }

    /// Whether an error of `member` (at `field`) is noted for the DAG-CBOR
    /// decoder to name, to be passed on as it is: its errors print as their
    /// `Debug` form, so it describes them itself.
    fn noted(&self, member: &'static str, field: Option<&'static str>) -> bool {
        #[cfg(feature = "cbor")]
        return !self.human && crate::cbor::members::note(member, field);
        #[cfg(not(feature = "cbor"))]
        {
            let _ = (member, field, self.human);
            false
        }
    }
}

#[cfg(test)]
#[allow(dead_code)]
mod tests {
    use serde_json::json;

    use crate::data::{ExtraFields, Value};
    use crate::rt;
    use crate::validate::Validate;

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(crate = "crate", record = "com.example.post", key = "tid")]
    struct Post {
        #[lex(check(max_length = 10, max_graphemes = 5))]
        text: String,
        #[lex(check(max_length = 2, items(max_length = 3)))]
        tags: Option<Vec<String>>,
        #[lex(required)]
        reply_to: Option<String>,
        note: Option<Option<String>>,
        #[lex(rename = "URI")]
        uri: Option<String>,
        #[lex(default = 50)]
        limit: Option<i64>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(crate = "crate")]
    struct Kept {
        a: i64,
        #[lex(unknown)]
        extra: ExtraFields,
    }

    #[test]
    fn records_write_their_type_and_fields_that_are_set() {
        let post = Post::builder()
            .text("hi")
            .reply_to(None::<String>)
            .build()
            .with_note(None::<String>);
        let text = serde_json::to_string(&post).unwrap();
        assert_eq!(
            text,
            r#"{"$type":"com.example.post","text":"hi","replyTo":null,"note":null}"#
        );
        assert_eq!(serde_json::from_str::<Post>(&text).unwrap(), post);
        assert_eq!(post.limit_or_default(), 50);
    }

    #[test]
    fn a_record_type_may_be_absent_but_not_wrong() {
        let post: Post = serde_json::from_str(r#"{"text":"hi","replyTo":"r"}"#).unwrap();
        assert_eq!(post.reply_to.as_deref(), Some("r"));
        assert_eq!(post.note, None);
        let err = serde_json::from_str::<Post>(
            r#"{"$type":"com.example.other","text":"hi","replyTo":null}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("com.example.other"), "{err}");
    }

    #[test]
    fn fields_are_checked() {
        // Required, even when nullable.
        let err = serde_json::from_str::<Post>(r#"{"text":"hi"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `replyTo`"), "{err}");
        // Not twice.
        let err =
            serde_json::from_str::<Post>(r#"{"text":"a","text":"b","replyTo":null}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate field `text`"), "{err}");
        // Optional ones may be null; renamed ones go by their JSON name.
        let post: Post =
            serde_json::from_str(r#"{"text":"a","replyTo":null,"tags":null,"URI":"u","uri":3}"#)
                .unwrap();
        assert_eq!(post.tags, None);
        assert_eq!(post.uri.as_deref(), Some("u"));
        // An object, not anything else.
        assert!(serde_json::from_str::<Post>("[1]").is_err());
    }

    #[test]
    fn constraints_apply_where_fields_declare_them() {
        let post = Post::builder()
            .text("abcdefghijk")
            .reply_to(None::<String>)
            .build()
            .with_tags(vec!["abcd".to_owned(), "b".to_owned(), "c".to_owned()]);
        let text = post.validate().unwrap_err().to_string();
        assert!(text.contains("text: maxLength: 11 bytes"), "{text}");
        assert!(text.contains("tags: maxLength: 3 items"), "{text}");
        assert!(text.contains("tags[0]: maxLength: 4 bytes"), "{text}");
        assert!(
            Post::builder()
                .reply_to(None::<String>)
                .text("ok")
                .build()
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn undeclared_properties_are_kept_when_asked() {
        let text = r#"{"a":1,"later":[true],"$type":"com.example.stale"}"#;
        let kept: Kept = serde_json::from_str(text).unwrap();
        assert_eq!(
            kept.extra.get("later").map(Value::to_json),
            Some(json!([true]))
        );
        // Not the object's own type: kept as it is, and written first.
        assert_eq!(
            kept.extra.get("$type"),
            Some(&Value::String("com.example.stale".into()))
        );
        assert!(!kept.extra.writes_type());
        assert_eq!(
            serde_json::to_string(&kept).unwrap(),
            r#"{"$type":"com.example.stale","a":1,"later":[true]}"#
        );
    }

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(crate = "crate", type = "com.example.defs#facet")]
    struct Facet {
        start: i64,
        note: Option<String>,
        #[lex(unknown)]
        extra: ExtraFields,
    }

    /// Decodes `text` as `T` and encodes it again.
    fn again<T: serde::de::DeserializeOwned + serde::Serialize>(text: &str) -> String {
        let value: T = serde_json::from_str(text).unwrap();
        serde_json::to_string(&value).unwrap()
    }

    #[test]
    fn an_objects_own_type_is_written_back_when_it_was_read() {
        let typed = r#"{"$type":"com.example.defs#facet","start":1}"#;
        let facet: Facet = serde_json::from_str(typed).unwrap();
        assert!(facet.extra.writes_type());
        assert!(facet.extra.is_empty());
        assert_eq!(serde_json::to_string(&facet).unwrap(), typed);
        // Without one, none is written; built in code, on request.
        assert_eq!(again::<Facet>(r#"{"start":1}"#), r#"{"start":1}"#);
        let mut built = Facet::new(1);
        assert_eq!(serde_json::to_string(&built).unwrap(), r#"{"start":1}"#);
        built.extra.set_writes_type(true);
        assert_eq!(serde_json::to_string(&built).unwrap(), typed);
        assert_eq!(built, facet);
        // Another spelling, or a value that is not a string, stays as it was.
        for other in [
            r#"{"$type":"com.example.defs#facet#main","start":1}"#,
            r#"{"$type":"com.example.other","start":1}"#,
            r#"{"$type":7,"start":1}"#,
        ] {
            assert_eq!(again::<Facet>(other), other);
        }
        // Twice is not allowed.
        let twice = r#"{"$type":"com.example.defs#facet","start":1,"$type":"x"}"#;
        assert!(serde_json::from_str::<Facet>(twice).is_err());
    }

    #[test]
    fn a_null_where_the_lexicon_allows_none_is_kept_while_the_field_is_unset() {
        let text = r#"{"start":1,"note":null}"#;
        let mut facet: Facet = serde_json::from_str(text).unwrap();
        assert_eq!(facet.note, None);
        assert_eq!(serde_json::to_string(&facet).unwrap(), text);
        facet.note = Some("set".into());
        assert_eq!(
            serde_json::to_string(&facet).unwrap(),
            r#"{"start":1,"note":"set"}"#
        );
        // Objects that keep nothing drop it, as before.
        let post: Post =
            serde_json::from_str(r#"{"text":"a","replyTo":null,"tags":null}"#).unwrap();
        assert_eq!(post.tags, None);
    }
}
