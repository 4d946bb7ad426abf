//! The atproto data model: its special values (`cid-link`, `bytes`,
//! `blob`), [`Value`] and [`Unknown`] for open data, and the traits of
//! generated types.
//!
//! Every type here (and every generated type built on them) reads and writes
//! both encodings of the data model, JSON and DAG-CBOR, with one set of serde
//! impls that ask [`Serializer::is_human_readable`](serde::Serializer::is_human_readable):
//!
//! | lexicon type | JSON                                                          | DAG-CBOR                              | Rust        |
//! |--------------|---------------------------------------------------------------|---------------------------------------|-------------|
//! | `cid-link`   | `{"$link": "bafy…"}`                                          | tag 42, bytes `0x00` + binary CID     | [`CidLink`] |
//! | `bytes`      | `{"$bytes": "<base64, no padding>"}`                          | byte string                           | [`Bytes`]   |
//! | `blob`       | `{"$type": "blob", "ref": {"$link": …}, "mimeType", "size"}` | the same map, `ref` a tag-42 link     | [`Blob`]    |
//! | `unknown`    | any object (usually with a `$type`)                           | any map                               | [`Unknown`] |
//!
//! The codec itself (canonical DAG-CBOR, CIDs) is [`crate::cbor`], with the
//! `cbor` feature.

use std::cell::Cell;

mod check;
mod link;
mod unknown;
mod value;

pub use check::{
    DataModelError, check_data_model, check_data_model_object, json_kind, special_object,
};
pub use link::{Blob, Bytes, CidLink};
pub use unknown::{DecodeUnknownError, ExtraFields, Typed, Unknown};
pub use value::Value;

#[cfg(feature = "cbor")]
pub(crate) use check::data_path;
#[doc(hidden)]
pub use value::Key;
pub(crate) use value::ValueDeserializer;

/// A lexicon type that has a `$type` name: every object, record and union
/// member that atlex generates.
///
/// `TYPE` is the full reference, `nsid#def`, or the bare NSID for a `main`
/// definition, exactly as it appears in the `$type` field of data.
pub trait LexType {
    /// The `$type` string of this definition.
    const TYPE: &'static str;
}

/// A record type: the `main` definition of a lexicon whose type is `record`.
pub trait Record: LexType {
    /// The NSID of the record's collection (the same string as `TYPE`).
    const NSID: &'static str;
    /// What the lexicon allows as record keys in this collection.
    const KEY: RecordKeyKind;

    /// The record's canonical DAG-CBOR, with its `$type`: the bytes a
    /// repository stores (feature `cbor`).
    #[cfg(feature = "cbor")]
    fn to_cbor(&self) -> Result<Vec<u8>, crate::cbor::EncodeError>
    where
        Self: serde::Serialize + Sized,
    {
        crate::cbor::record_to_vec(self)
    }

    /// The record's CID: CIDv1, DAG-CBOR codec, sha2-256 of
    /// [`to_cbor`](Self::to_cbor) (feature `cbor`).
    ///
    /// ```
    /// # #[derive(serde::Serialize)]
    /// # struct Note { text: String }
    /// # impl atlex_core::data::LexType for Note { const TYPE: &'static str = "com.example.note"; }
    /// # impl atlex_core::data::Record for Note {
    /// #     const NSID: &'static str = "com.example.note";
    /// #     const KEY: atlex_core::data::RecordKeyKind = atlex_core::data::RecordKeyKind::Tid;
    /// # }
    /// use atlex_core::data::Record;
    ///
    /// let note = Note { text: "hi".into() };
    /// let json = serde_json::json!({"$type": "com.example.note", "text": "hi"});
    /// assert_eq!(note.cid()?, atlex_core::cbor::cid_of(&atlex_core::data::Value::from_json(json)?)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "cbor")]
    fn cid(&self) -> Result<crate::types::Cid, crate::cbor::EncodeError>
    where
        Self: serde::Serialize + Sized,
    {
        self.to_cbor()
            .map(|bytes| crate::types::Cid::of_dag_cbor(&bytes))
    }

    /// Decodes the record from canonical DAG-CBOR; its `$type` must be this
    /// record's (feature `cbor`; [`crate::cbor::record_from_slice_lenient`]
    /// for old data).
    #[cfg(feature = "cbor")]
    fn from_cbor(bytes: &[u8]) -> Result<Self, crate::cbor::DecodeError>
    where
        Self: serde::de::DeserializeOwned,
    {
        crate::cbor::record_from_slice(bytes)
    }
}

/// A record with its `$type` checked: decodes the object as `T` only when
/// its `$type` is `T::TYPE`, and writes it with that `$type` first.
#[doc(hidden)]
pub struct RecordOf<T>(pub T);

impl<T: LexType + serde::de::DeserializeOwned> crate::rt::Union for RecordOf<T> {
    const MEMBERS: &'static [&'static str] = &[T::TYPE];

    fn decode_member<'de, A: serde::de::MapAccess<'de>>(
        _index: usize,
        member: crate::rt::Member<'de, A>,
    ) -> Result<Self, A::Error> {
        member.deserialize().map(RecordOf)
    }

    fn unknown(data: Unknown) -> Result<Self, Unknown> {
        Err(data)
    }
}

impl<'de, T: LexType + serde::de::DeserializeOwned> serde::Deserialize<'de> for RecordOf<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::rt::deserialize_union(deserializer)
    }
}

impl<T: LexType + serde::Serialize> serde::Serialize for RecordOf<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::rt::Tagged::new(T::TYPE, &self.0).serialize(serializer)
    }
}

/// The `key` of a record definition: which record keys a collection uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKeyKind {
    /// `tid`: a timestamp identifier.
    Tid,
    /// `nsid`: the key is an NSID.
    Nsid,
    /// `any`: any valid record key.
    Any,
    /// `literal:<value>`: exactly this key (for example `self`).
    Literal(&'static str),
}

impl RecordKeyKind {
    /// Whether `key` is allowed by this kind. `key` is assumed to be a
    /// syntactically valid record key already.
    pub fn allows(&self, key: &str) -> bool {
        match self {
            Self::Tid => crate::types::Tid::validate(key).is_ok(),
            Self::Nsid => crate::types::Nsid::validate(key).is_ok(),
            Self::Any => true,
            Self::Literal(literal) => key == *literal,
        }
    }
}

/// How a DAG-CBOR decode under way on this thread treats what the data
/// model allows only for old data (see [`crate::cbor`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "cbor"), allow(dead_code))]
pub(crate) enum Strictness {
    /// Canonical input only; no floats, no legacy blobs.
    Strict,
    /// Old and non-canonical data accepted where nothing is lost.
    Lenient,
}

thread_local! {
    static DECODING: Cell<Option<Strictness>> = const { Cell::new(None) };
}

/// The strictness of the DAG-CBOR decode under way on this thread, if one is.
pub(crate) fn decoding() -> Option<Strictness> {
    DECODING.with(Cell::get)
}

/// Whether a strict DAG-CBOR decode is under way on this thread.
pub(crate) fn decoding_strictly() -> bool {
    decoding() == Some(Strictness::Strict)
}

/// Runs `f` as a DAG-CBOR decode of the given strictness. serde has no way
/// to hand a setting down to `Deserialize` impls, and a decode runs on one
/// thread start to end, so the setting is a thread-local restored on return
/// (or unwind).
#[cfg_attr(not(feature = "cbor"), allow(dead_code))]
pub(crate) fn decode_with<R>(strictness: Strictness, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Strictness>);

    impl Drop for Restore {
        fn drop(&mut self) {
            DECODING.with(|cell| cell.set(self.0));
        }
    }

    let _restore = Restore(DECODING.with(|cell| cell.replace(Some(strictness))));
    f()
}
