//! The property of the `cbor_decode` fuzz target, shared with the test that
//! runs it over a seed corpus and its mutations in CI
//! (`lexicons/tests/cbor_corpus.rs`): DAG-CBOR decoding into `Value` /
//! `Unknown` and into generated types, on arbitrary bytes, never panics;
//! what strict decoding accepts is canonical (it re-encodes to the very
//! bytes) and survives JSON; what lenient decoding accepts re-encodes to
//! canonical bytes that decode to the same value (strictly too, unless
//! strict decoding refused the input for what lenient decoding keeps, such
//! as a legacy blob); typed values re-encode and decode to themselves.

use atlex::cbor;
use atlex::data::{Unknown, Value};
use atlex_lexicons::app::bsky::feed::post;
use atlex_lexicons::chat::bsky::convo::{defs, list_convos};

/// Checks every property on `data`, panicking when one does not hold.
pub(crate) fn cbor_decode(data: &[u8]) {
    if let Ok(value) = cbor::from_slice::<Value>(data) {
        assert_eq!(
            cbor::to_vec(&value).unwrap(),
            data,
            "strict input is canonical"
        );
        assert_eq!(Value::from_json(value.to_json()).unwrap(), value);
        let unknown: Unknown = cbor::from_slice(data).unwrap();
        assert_eq!(unknown.as_value(), &value);
    }
    if let Ok(value) = cbor::from_slice_lenient::<Value>(data) {
        rewritten(data, &value);
    }
    let _ = cbor::from_slice_prefix::<Value>(data);
    let _ = atlex::car::Car::from_slice(data);
    typed::<post::Post>(data);
    typed::<defs::MessageView>(data);
    typed::<list_convos::Output>(data);
}

/// A typed value re-encodes, and what it writes decodes to the same value.
fn typed<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = cbor::from_slice::<T>(data) {
        let bytes = cbor::to_vec(&value).unwrap();
        assert_eq!(cbor::from_slice::<T>(&bytes).unwrap(), value);
    }
    if let Ok(value) = cbor::from_slice_lenient::<T>(data) {
        rewritten(data, &value);
    }
}

/// What lenient decoding accepted from `data`, written again, is canonical
/// (read and written once more, it is the same bytes) and the same value;
/// it decodes strictly to that value, unless it holds what lenient decoding
/// keeps as it was read and strict decoding refuses (a legacy or incomplete
/// blob, say), which strict decoding then refused in `data` too.
fn rewritten<T>(data: &[u8], value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = cbor::to_vec(value).unwrap();
    let again: T = cbor::from_slice_lenient(&bytes).unwrap();
    assert_eq!(&again, value);
    assert_eq!(cbor::to_vec(&again).unwrap(), bytes, "written canonically");
    match cbor::from_slice::<T>(&bytes) {
        Ok(strict) => assert_eq!(&strict, value),
        Err(err) => assert!(
            cbor::from_slice::<T>(data).is_err(),
            "strict decoding refuses the rewritten value but took the input: {err}"
        ),
    }
}
