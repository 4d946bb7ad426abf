//! DAG-CBOR decoding into `Value` / `Unknown` and into generated types, on
//! arbitrary bytes: never a panic; what strict decoding accepts is canonical
//! (it re-encodes to the very bytes) and survives JSON; what lenient decoding
//! accepts re-encodes to canonical bytes that decode strictly to the same
//! value; typed values re-encode and decode to themselves.
#![no_main]

use atlex::cbor;
use atlex::data::{Unknown, Value};
use atlex_lexicons::app::bsky::feed::post;
use atlex_lexicons::chat::bsky::convo::{defs, list_convos};
use libfuzzer_sys::fuzz_target;

/// A typed value re-encodes, and what it writes decodes to the same value.
fn typed<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    for decoded in [cbor::from_slice::<T>(data), cbor::from_slice_lenient::<T>(data)] {
        if let Ok(value) = decoded {
            let bytes = cbor::to_vec(&value).unwrap();
            assert_eq!(cbor::from_slice::<T>(&bytes).unwrap(), value);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = cbor::from_slice::<Value>(data) {
        assert_eq!(cbor::to_vec(&value).unwrap(), data, "strict input is canonical");
        assert_eq!(Value::from_json(value.to_json()).unwrap(), value);
        let unknown: Unknown = cbor::from_slice(data).unwrap();
        assert_eq!(unknown.as_value(), &value);
    }
    if let Ok(value) = cbor::from_slice_lenient::<Value>(data) {
        let bytes = cbor::to_vec(&value).unwrap();
        assert_eq!(cbor::from_slice::<Value>(&bytes).unwrap(), value);
    }
    let _ = cbor::from_slice_prefix::<Value>(data);
    let _ = atlex::car::Car::from_slice(data);
    typed::<post::Post>(data);
    typed::<defs::MessageView>(data);
    typed::<list_convos::Output>(data);
});
