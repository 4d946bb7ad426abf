//! Small serde helpers that generated `Serialize` / `Deserialize` impls
//! call: strings mapped through a parser, and the error body of an endpoint.
//! Generated code reaches these through [`crate::rt`].

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeMap, Serializer};

use crate::xrpc::EndpointError;

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
