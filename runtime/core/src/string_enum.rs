//! String enums (`#[derive(atlex::rt::StringEnum)]`, a lexicon string with
//! `knownValues` or `enum`): their `Deserialize` impls read the string,
//! borrowed or owned, and map it to a variant with [`deserialize_str`].
//! Generated code reaches it through [`crate::rt`].

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

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
