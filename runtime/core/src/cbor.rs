//! DAG-CBOR, the data model's binary encoding, and the CIDs computed from it
//! (feature `cbor`).
//!
//! Every generated type and every [`crate::data`] type encodes to and
//! decodes from DAG-CBOR with the same serde impls that read and write JSON:
//! links become CBOR tag 42, bytes byte strings, maps are written in the
//! canonical order (shorter keys first, then bytewise), integers in their
//! shortest form. The codec is `serde_ipld_dagcbor`; this module adds the
//! data model's rules on top of it, errors that name the place, a lenient
//! mode for old data, and CIDs.
//!
//! ```
//! use atlex_core::data::Value;
//!
//! let record: Value = serde_json::from_str(r#"{"$type": "com.example.note", "text": "hi"}"#)?;
//! let bytes = atlex_core::cbor::to_vec(&record)?;
//! assert_eq!(atlex_core::cbor::from_slice::<Value>(&bytes)?, record);
//! let cid = atlex_core::cbor::cid_of(&record)?;
//! assert_eq!(cid.codec(), atlex_core::cbor::DAG_CBOR);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Strict and lenient decoding
//!
//! [`from_slice`] is strict: the input must be canonical DAG-CBOR of the data
//! model. It refuses floats, tags other than 42, map keys out of order or
//! repeated, integers and lengths not in their shortest form, indefinite
//! lengths, bytes after the value, maps with a `$link` or `$bytes` key (JSON
//! could not tell them from a link or bytes), a `$type` that is not a
//! non-empty string, incomplete blobs and the legacy blob form.
//!
//! [`from_slice_lenient`] reads what other writers have produced over time:
//! non-canonical order and widths, floats that hold an integer (`12.0`),
//! indefinite lengths, `undefined` (as `null`), the legacy blob form
//! `{"cid", "mimeType"}`. It never accepts what it would have to change to
//! keep: fractional floats, other tags, repeated keys. Data read leniently and
//! written again is canonical, so its CID may differ from the input's.
//!
//! Every decode bounds what it allocates by the input's size (a length
//! prefix claiming gigabytes fails at the end of the input) and nesting to
//! [`MAX_DEPTH`] levels.
//!
//! # Frames
//!
//! A message made of two values back to back (an event stream's header and
//! body) reads with [`from_slice_prefix`]: the first value, then the rest.

use std::convert::Infallible;

use cbor4ii::core::dec::{self, Decode};
use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::data::{Bytes, CidLink, RecordOf, Strictness, Value, decode_with};

mod encode;
pub(crate) mod members;

/// The CID type of this module's functions: [`crate::types::Cid`].
pub use crate::types::Cid;

/// The multicodec code of DAG-CBOR, the codec of records and other data.
pub const DAG_CBOR: u64 = 0x71;
/// The multicodec code of raw bytes, the codec of blobs.
pub const RAW: u64 = 0x55;
/// The multihash code of sha2-256, atproto's hash.
pub const SHA2_256: u64 = 0x12;
/// How deeply values may nest (each map, array and optional value counts).
pub const MAX_DEPTH: usize = 256;

/// Encodes `value` as canonical DAG-CBOR.
///
/// Fails only for values outside the data model (a float, a map with a key
/// that is not a string, a `$type`-tagged value that is not an object),
/// which no generated type holds.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    // Room for a typical record up front, rather than growing from nothing.
    encode::encode(value, Vec::with_capacity(512)).map_err(|err| EncodeError(err.0))
}

/// Encodes `value` as canonical DAG-CBOR into `writer`.
pub fn to_writer<W: std::io::Write, T: Serialize + ?Sized>(
    mut writer: W,
    value: &T,
) -> Result<(), EncodeError> {
    let bytes = to_vec(value)?;
    writer
        .write_all(&bytes)
        .map_err(|err| EncodeError(format!("write failed: {err}")))
}

/// The CIDv1 (DAG-CBOR codec, sha2-256) of `value`'s canonical encoding.
///
/// For a record, encode it with its `$type`: [`crate::data::Record::cid`]
/// does.
pub fn cid_of<T: Serialize + ?Sized>(value: &T) -> Result<Cid, EncodeError> {
    to_vec(value).map(|bytes| cid_for(DAG_CBOR, &bytes))
}

/// The CIDv1 of `bytes` with the given codec ([`DAG_CBOR`] for encoded
/// data, [`RAW`] for a blob's bytes) and sha2-256.
pub fn cid_for(codec: u64, bytes: &[u8]) -> Cid {
    let digest = sha2::Sha256::digest(bytes);
    match cid::multihash::Multihash::<64>::wrap(SHA2_256, &digest) {
        Ok(hash) => cid::Cid::new_v1(codec, hash).into(),
        // A 32-byte digest always fits the 64-byte multihash.
        Err(_) => unreachable!("a sha2-256 digest fits a multihash"),
    }
}

/// Checks that `bytes` are the content `cid` names: the hash of `bytes` (with
/// the CID's hash function, which must be sha2-256) equals the CID's digest.
pub fn verify(cid: &Cid, bytes: &[u8]) -> Result<(), VerifyError> {
    verify_cid(cid.as_cid(), bytes)
}

/// [`verify`] for the `cid` crate's CID, which the CAR block index keys by.
#[doc(hidden)]
pub fn verify_cid(cid: &cid::Cid, bytes: &[u8]) -> Result<(), VerifyError> {
    let hash = cid.hash();
    if hash.code() != SHA2_256 {
        return Err(VerifyError::UnsupportedHash {
            cid: Box::new((*cid).into()),
            code: hash.code(),
        });
    }
    let digest = sha2::Sha256::digest(bytes);
    if hash.digest() == digest.as_slice() {
        Ok(())
    } else {
        Err(VerifyError::Mismatch {
            cid: Box::new((*cid).into()),
            actual: Box::new(cid_for(cid.codec(), bytes)),
        })
    }
}

/// Why [`verify`] refused bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The bytes hash to another CID.
    #[error("block {cid}: its bytes hash to {actual}")]
    Mismatch {
        /// The CID the bytes were said to have.
        cid: Box<Cid>,
        /// The CID they have.
        actual: Box<Cid>,
    },
    /// The CID uses a hash function other than sha2-256.
    #[error("block {cid}: hash function 0x{code:x} is not supported (only sha2-256)")]
    UnsupportedHash {
        /// The CID.
        cid: Box<Cid>,
        /// Its multihash code.
        code: u64,
    },
}

/// Decodes canonical DAG-CBOR (see [strictness](self#strict-and-lenient-decoding)).
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    let (value, rest) = decode_first(bytes, Strictness::Strict)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(trailing(bytes, rest))
    }
}

/// Decodes DAG-CBOR as other writers have produced it over time (see
/// [strictness](self#strict-and-lenient-decoding)).
pub fn from_slice_lenient<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, rest) = decode_first_lenient(bytes)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(trailing(bytes, rest))
    }
}

/// Decodes the first value of `bytes`, strictly, and returns it with the
/// bytes after it: the way to read two values back to back, such as the
/// header and body of an event-stream frame.
///
/// ```
/// use atlex_core::data::Value;
///
/// let mut frame = atlex_core::cbor::to_vec(&Value::from(1))?;
/// frame.extend(atlex_core::cbor::to_vec(&Value::from("body"))?);
/// let (header, rest) = atlex_core::cbor::from_slice_prefix::<i64>(&frame)?;
/// let body: String = atlex_core::cbor::from_slice(rest)?;
/// assert_eq!((header, body.as_str()), (1, "body"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_slice_prefix<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
) -> Result<(T, &'de [u8]), DecodeError> {
    decode_first(bytes, Strictness::Strict)
}

/// [`from_slice_prefix`], leniently.
pub fn from_slice_prefix_lenient<T: DeserializeOwned>(
    bytes: &[u8],
) -> Result<(T, &[u8]), DecodeError> {
    decode_first_lenient(bytes)
}

fn trailing(bytes: &[u8], rest: &[u8]) -> DecodeError {
    DecodeError::new(
        String::new(),
        format!(
            "{} bytes after the end of the value (at byte {})",
            rest.len(),
            bytes.len() - rest.len()
        ),
    )
}

/// The input of the decoder: a slice, read from the front, with a depth
/// budget.
struct Input<'a> {
    rest: &'a [u8],
    depth_left: usize,
}

impl<'a> Input<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            depth_left: MAX_DEPTH,
        }
    }
}

impl<'a> dec::Read<'a> for Input<'a> {
    type Error = Infallible;

    #[inline]
    fn fill<'short>(
        &'short mut self,
        want: usize,
    ) -> Result<dec::Reference<'a, 'short>, Infallible> {
        Ok(dec::Reference::Long(
            &self.rest[..want.min(self.rest.len())],
        ))
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        self.rest = &self.rest[n.min(self.rest.len())..];
    }

    #[inline]
    fn step_in(&mut self) -> bool {
        match self.depth_left.checked_sub(1) {
            Some(left) => {
                self.depth_left = left;
                true
            }
            None => false,
        }
    }

    #[inline]
    fn step_out(&mut self) {
        self.depth_left += 1;
    }
}

type Raw = serde_ipld_dagcbor::DecodeError<Infallible>;

/// Decodes one value from the front of `bytes`. On failure the decode runs
/// again with path tracking, so the common path pays nothing for the error's
/// location.
fn decode_first<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    strictness: Strictness,
) -> Result<(T, &'de [u8]), DecodeError> {
    decode_first_seed(bytes, std::marker::PhantomData::<T>, strictness)
}

/// [`decode_first`] with a seed: what decodes a value whose type is chosen at
/// run time (a union member named outside the data).
fn decode_first_seed<'de, S: DeserializeSeed<'de> + Clone>(
    bytes: &'de [u8],
    seed: S,
    strictness: Strictness,
) -> Result<(S::Value, &'de [u8]), DecodeError> {
    decode_with(strictness, || {
        let mut input = Input::new(bytes);
        let mut de = serde_ipld_dagcbor::de::Deserializer::from_reader(&mut input);
        match seed.clone().deserialize(&mut de) {
            Ok(value) => Ok((value, input.rest)),
            Err(_) => {
                let mut input = Input::new(bytes);
                let mut de = serde_ipld_dagcbor::de::Deserializer::from_reader(&mut input);
                let mut track = serde_path_to_error::Track::new();
                let (result, notes) = members::noting(|| {
                    seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
                });
                match result {
                    Err(err) => Err(DecodeError::new(
                        path_text(&track.path()),
                        members::within(&notes, describe(&err)),
                    )),
                    // Decoding is deterministic; should the second pass
                    // succeed all the same, its value is as good.
                    Ok(value) => Ok((value, input.rest)),
                }
            }
        }
    })
}

fn decode_first_lenient<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, &[u8]), DecodeError> {
    decode_first_lenient_seed(bytes, std::marker::PhantomData::<T>)
}

fn decode_first_lenient_seed<S, V>(bytes: &[u8], seed: S) -> Result<(V, &[u8]), DecodeError>
where
    S: for<'de> DeserializeSeed<'de, Value = V> + Clone,
{
    // Canonical input (most of it) decodes directly.
    let first = match decode_first_seed(bytes, seed.clone(), Strictness::Lenient) {
        Ok(found) => return Ok(found),
        Err(err) => err,
    };
    // Not even lenient CBOR: the reason found on the way is as good.
    let (canonical, rest) = canonicalize(bytes)?;
    if canonical.len() == bytes.len() - rest.len() && canonical == bytes[..canonical.len()] {
        // Nothing to mend: the first error stands.
        return Err(first);
    }
    let (value, _) = decode_first_seed(&canonical, seed, Strictness::Lenient)?;
    Ok((value, rest))
}

/// Decodes the whole of `bytes` with `seed`, strictly or leniently: for
/// values whose type is chosen outside the data, such as the body of an
/// event-stream frame, whose type its header names.
#[cfg(feature = "cbor")]
pub(crate) fn from_slice_seed<S, V>(bytes: &[u8], seed: S, lenient: bool) -> Result<V, DecodeError>
where
    S: for<'de> DeserializeSeed<'de, Value = V> + Clone,
{
    let (value, rest) = if lenient {
        decode_first_lenient_seed(bytes, seed)?
    } else {
        decode_first_seed(bytes, seed, Strictness::Strict)?
    };
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(trailing(bytes, rest))
    }
}

/// Reads the first value of `bytes` as any CBOR the data model can hold and
/// writes it again canonically.
fn canonicalize(bytes: &[u8]) -> Result<(Vec<u8>, &[u8]), DecodeError> {
    let mut input = Input::new(bytes);
    let raw = cbor4ii::core::Value::decode(&mut input)
        .map_err(|err| DecodeError::new(String::new(), describe(&Raw::from(err))))?;
    let rest = input.rest;
    let mut path = Vec::new();
    let value = lenient_value(raw, &mut path)
        .map_err(|reason| DecodeError::new(crate::data::data_path(&path), reason))?;
    let canonical = to_vec(&value).map_err(|err| DecodeError::new(String::new(), err.0))?;
    Ok((canonical, rest))
}

/// The data-model value of lenient CBOR.
fn lenient_value(raw: cbor4ii::core::Value, path: &mut Vec<String>) -> Result<Value, String> {
    use cbor4ii::core::Value as C;
    Ok(match raw {
        C::Null => Value::Null,
        C::Bool(b) => Value::Bool(b),
        C::Integer(n) => Value::Integer(
            i64::try_from(n).map_err(|_| format!("integer {n} is out of the 64-bit range"))?,
        ),
        C::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9_223_372_036_854_775_808.0 {
                Value::Integer(f as i64)
            } else {
                return Err(format!(
                    "{f} is not an integer; the data model has no floats"
                ));
            }
        }
        C::Bytes(bytes) => Value::Bytes(Bytes(bytes)),
        C::Text(text) => Value::String(text),
        C::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(format!("[{i}]"));
                out.push(lenient_value(item, path)?);
                path.pop();
            }
            Value::Array(out)
        }
        C::Map(entries) => {
            let mut out = std::collections::BTreeMap::new();
            for (key, value) in entries {
                let C::Text(key) = key else {
                    return Err("a map key that is not a string".to_owned());
                };
                if key == "$link" || key == "$bytes" {
                    return Err(format!(
                        "a map with a {key:?} key: reserved, it would read as a special value in JSON"
                    ));
                }
                path.push(key.clone());
                let value = lenient_value(value, path)?;
                path.pop();
                if out.insert(key.clone(), value).is_some() {
                    return Err(format!("duplicate key {key:?}"));
                }
            }
            Value::Object(out)
        }
        C::Tag(42, inner) => match *inner {
            C::Bytes(bytes) => match bytes.split_first() {
                Some((0, cid)) => Value::Link(CidLink::from_bytes(cid)?),
                _ => return Err("tag 42 without the 0x00 prefix of a CID".to_owned()),
            },
            _ => return Err("tag 42 around something other than bytes".to_owned()),
        },
        C::Tag(tag, _) => return Err(format!("tag {tag}: only tag 42 (cid-link) is allowed")),
        // `cbor4ii::core::Value` is exhaustive today; a future item is refused.
        #[allow(unreachable_patterns)]
        _ => return Err("an item outside the data model".to_owned()),
    })
}

fn path_text(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    // A failing map key shows as `?`: the map is the place.
    let text = text.strip_suffix('?').unwrap_or(&text);
    let text = text.strip_suffix('.').unwrap_or(text);
    text.to_owned()
}

/// What a decoder error means, in words.
fn describe(err: &Raw) -> String {
    use serde_ipld_dagcbor::DecodeError as E;
    match err {
        E::Msg(message) => message.clone(),
        E::Read(never) => match *never {},
        E::Eof { name, .. } => format!("the input ends inside {}", item(name)),
        E::Mismatch {
            name: "CBOR tag",
            found,
        } => {
            format!("tag {found}: only tag 42 (cid-link) is allowed")
        }
        E::Mismatch {
            name: "CBOR tag head",
            found,
        } => {
            format!("{}: only tag 42 (cid-link) is allowed", head(*found))
        }
        E::Mismatch { name, found } | E::Unsupported { name, found } => {
            format!("{} where {} was expected", head(*found), item(name))
        }
        E::RequireUtf8 { name } => format!("{} is not valid UTF-8", item(name)),
        E::DepthOverflow { .. } => format!("nested more than {MAX_DEPTH} levels deep"),
        E::LengthMismatch {
            name,
            expect,
            value,
        } => {
            format!("{}: {value} items declared, {expect} read", item(name))
        }
        E::TrailingData => "bytes after the end of the value".to_owned(),
        E::IndefiniteSize => "an indefinite-length item: not canonical DAG-CBOR".to_owned(),
        E::NonMinimal { name, .. } => {
            format!(
                "{} not in its shortest form: not canonical DAG-CBOR",
                item(name)
            )
        }
        E::UnorderedKey => {
            "map keys repeated or out of canonical order (shorter first, then bytewise)".to_owned()
        }
        other => other.to_string(),
    }
}

fn item(name: &str) -> String {
    match name {
        "any" | "option" | "value" => "a value",
        "map key" => "a map key",
        "str" | "string" => "a string",
        "bytes" | "cid" => "a byte string",
        "array" | "tuple" => "an array",
        "map" => "a map",
        "bool" => "a boolean",
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" => {
            "an integer"
        }
        "f32" | "f64" => "a float",
        "unit" => "null",
        "tag" | "tag head" => "a tag",
        other => return format!("a {other}"),
    }
    .to_owned()
}

/// What a CBOR initial byte introduces, for messages.
fn head(byte: u8) -> String {
    let what = match byte >> 5 {
        0 | 1 => "an integer",
        2 => "a byte string",
        3 => "a text string",
        4 => "an array",
        5 => "a map",
        6 => "a tag",
        _ => match byte {
            0xf4 | 0xf5 => "a boolean",
            0xf6 => "null",
            0xf7 => "undefined",
            0xf9..=0xfb => "a float (the data model has none)",
            0xff => "a break",
            _ => "a simple value",
        },
    };
    format!("{what} (0x{byte:02x})")
}

/// Why a value could not be encoded as DAG-CBOR.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode as DAG-CBOR: {0}")]
pub struct EncodeError(String);

impl EncodeError {
    pub(crate) fn new(reason: String) -> Self {
        Self(reason)
    }
}

/// Why bytes are not DAG-CBOR of the expected value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", if path.is_empty() { String::new() } else { format!("at {path}: ") })]
pub struct DecodeError {
    path: String,
    reason: String,
}

impl DecodeError {
    pub(crate) fn new(path: String, reason: String) -> Self {
        Self { path, reason }
    }

    /// Where in the value (`embed.images[0].alt`), empty for the top level
    /// or when the input is not CBOR at all.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Decodes a record of type `T`, strictly: its `$type` must be `T`'s.
pub fn record_from_slice<T: crate::data::LexType + DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, DecodeError> {
    from_slice::<RecordOf<T>>(bytes).map(|record| record.0)
}

/// [`record_from_slice`], leniently.
pub fn record_from_slice_lenient<T: crate::data::LexType + DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, DecodeError> {
    from_slice_lenient::<RecordOf<T>>(bytes).map(|record| record.0)
}

/// A record encoded with its `$type` (whether or not the type writes it
/// itself).
pub fn record_to_vec<T: crate::data::LexType + Serialize>(
    record: &T,
) -> Result<Vec<u8>, EncodeError> {
    to_vec(&crate::rt::Tagged::new(T::TYPE, record))
}

#[cfg(test)]
#[allow(dead_code)]
mod tests {
    use super::*;
    use crate::rt;

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(crate = "crate", type = "com.example.member")]
    struct Member {
        a: i64,
        number: Option<i64>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, rt::Object)]
    #[lex(crate = "crate", type = "com.example.outer")]
    struct Outer {
        inner: Inner,
    }

    #[derive(Clone, Debug, PartialEq, Eq, rt::Union)]
    #[lex(crate = "crate")]
    enum Inner {
        #[lex("com.example.member")]
        Member(Box<Member>),
    }

    #[derive(Clone, Debug, PartialEq, rt::Object)]
    #[lex(crate = "crate")]
    struct Holder {
        embed: Outers,
    }

    #[derive(Clone, Debug, PartialEq, Eq, rt::Union)]
    #[lex(crate = "crate")]
    enum Outers {
        #[lex("com.example.outer")]
        Outer(Box<Outer>),
    }

    /// Canonical DAG-CBOR of `{"embed": {"$type": "com.example.outer",
    /// "inner": {"a": a, "$type": "com.example.member", "number": number}}}`,
    /// the values given as their encoded bytes.
    fn nested(a: &[u8], number: &[u8]) -> Vec<u8> {
        let text = |s: &str| [&[0x60 + s.len() as u8][..], s.as_bytes()].concat();
        [
            &[0xa1][..],
            &text("embed"),
            &[0xa2],
            &text("$type"),
            &[0x71],
            b"com.example.outer",
            &text("inner"),
            &[0xa3],
            &text("a"),
            a,
            &text("$type"),
            &[0x72],
            b"com.example.member",
            &text("number"),
            number,
        ]
        .concat()
    }

    #[test]
    fn errors_inside_union_members_name_the_members_and_read_as_words() {
        let good = nested(&[0x01], &[0x02]);
        let holder: Holder = from_slice(&good).unwrap();
        let Outers::Outer(outer) = &holder.embed;
        let Inner::Member(member) = &outer.inner;
        assert_eq!((member.a, member.number), (1, Some(2)));

        // A decoder error after the member's `$type`: described, not its
        // `Debug` form.
        let float = nested(&[0x01], &[&[0xfb][..], &2.0f64.to_be_bytes()].concat());
        let err = from_slice::<Holder>(&float).unwrap_err();
        assert_eq!(err.path(), "embed.inner.number");
        assert_eq!(
            err.reason(),
            "invalid com.example.outer at inner: invalid com.example.member at number: \
             a float (the data model has none) (0xfb) where an integer was expected"
        );
        // The same leniently: 2.0 holds an integer, so it reads as 2.
        let lenient: Holder = from_slice_lenient(&float).unwrap();
        assert_eq!(lenient, holder);

        // A field read before the `$type`, replayed (the path ends at the
        // member, the reason names the field): its message as it is.
        let string = nested(&[0x61, b'x'], &[0x02]);
        let err = from_slice::<Holder>(&string).unwrap_err();
        assert_eq!(err.path(), "embed.inner");
        assert!(
            err.reason().starts_with(
                "invalid com.example.outer at inner: invalid com.example.member at a: invalid type: string \"x\""
            ),
            "{err}"
        );

        // An error of the member as a whole: `a` left out.
        let mut missing = nested(&[0x01], &[0x02]);
        let at = missing.iter().position(|b| *b == 0xa3).unwrap();
        missing[at] = 0xa2;
        assert_eq!(missing.drain(at + 1..at + 4).as_slice(), b"\x61a\x01");
        let err = from_slice::<Holder>(&missing).unwrap_err();
        assert_eq!(
            err.reason(),
            "invalid com.example.outer at inner: invalid com.example.member: missing field `a`"
        );
    }
}
