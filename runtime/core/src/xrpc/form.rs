//! HTML form bodies (`application/x-www-form-urlencoded`) of JSON types.
//!
//! Writing: each top-level field of the value (an object) is one pair:
//! strings as they are, numbers and booleans as their JSON text, arrays and
//! objects as JSON text (Slack's convention for structured arguments), and
//! `null` left out.
//!
//! Reading: every value is text, turned into what the target type asks for:
//! a number, a boolean (`true`/`false`, `1`/`0`), a string, or, for arrays,
//! objects and unions, the JSON the text holds.

use serde::de::value::{Error as ValueError, MapDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Unexpected, Visitor};
use serde::{Serialize, forward_to_deserialize_any};
use serde_json::Value;

use super::body::DecodeError;

pub(crate) use crate::binding::FORM_MIME;

/// The form of `value`, which must serialize as an object.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<String, String> {
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    let Value::Object(fields) = value else {
        return Err("only an object can be sent as a form".to_owned());
    };
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &fields {
        match value {
            Value::Null => {}
            Value::String(text) => {
                out.append_pair(name, text);
            }
            other => {
                out.append_pair(name, &other.to_string());
            }
        }
    }
    Ok(out.finish())
}

/// Reads a form into `T`; an error names the field that failed.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let mut pairs: Vec<(String, FormValue)> = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        if pairs.iter().any(|(seen, _)| *seen == name) {
            return Err(DecodeError {
                what: "form body",
                path: name.into_owned(),
                reason: "the field is given more than once".to_owned(),
            });
        }
        pairs.push((name.into_owned(), FormValue(value.into_owned())));
    }
    let map = MapDeserializer::<_, ValueError>::new(pairs.into_iter());
    serde_path_to_error::deserialize(map).map_err(|err| DecodeError {
        what: "form body",
        path: err.path().to_string(),
        reason: err.into_inner().to_string(),
    })
}

/// One form value, read as the type being decoded asks.
struct FormValue(String);

impl<'de> IntoDeserializer<'de, ValueError> for FormValue {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl FormValue {
    /// The text as JSON, for structured types.
    fn json(&self) -> Result<Value, ValueError> {
        serde_json::from_str(&self.0).map_err(|e| {
            de::Error::custom(format_args!(
                "expected JSON text for a structured value: {e}"
            ))
        })
    }

    fn parse<N: std::str::FromStr>(&self, what: &'static str) -> Result<N, ValueError> {
        self.0
            .trim()
            .parse()
            .map_err(|_| de::Error::invalid_value(Unexpected::Str(&self.0), &what))
    }

    fn string(self) -> StringDeserializer<ValueError> {
        self.0.into_deserializer()
    }
}

macro_rules! integers {
    ($($method:ident => $visit:ident: $ty:ty,)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            visitor.$visit(self.parse::<$ty>("an integer")?)
        })*
    };
}

impl<'de> Deserializer<'de> for FormValue {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_string(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0.trim() {
            "true" | "1" => visitor.visit_bool(true),
            "false" | "0" => visitor.visit_bool(false),
            _ => Err(de::Error::invalid_value(
                Unexpected::Str(&self.0),
                &"true or false",
            )),
        }
    }

    integers! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_f32(self.parse("a number")?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_f64(self.parse("a number")?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        if self.0.is_empty() {
            visitor.visit_unit()
        } else {
            Err(de::Error::invalid_value(
                Unexpected::Str(&self.0),
                &"nothing",
            ))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.json()?
            .deserialize_seq(visitor)
            .map_err(de::Error::custom)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.json()?
            .deserialize_tuple(len, visitor)
            .map_err(de::Error::custom)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.json()?
            .deserialize_tuple_struct(name, len, visitor)
            .map_err(de::Error::custom)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.json()?
            .deserialize_map(visitor)
            .map_err(de::Error::custom)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.json()?
            .deserialize_struct(name, fields, visitor)
            .map_err(de::Error::custom)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        if self.0.trim_start().starts_with('{') {
            self.json()?
                .deserialize_enum(name, variants, visitor)
                .map_err(de::Error::custom)
        } else {
            self.string().deserialize_enum(name, variants, visitor)
        }
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        a: i64,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        channel: String,
        #[serde(rename = "chatId")]
        chat_id: i64,
        flag: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        maybe: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<i64>,
        tags: Vec<String>,
        inner: Inner,
        numeric_text: String,
    }

    #[test]
    fn round_trip() {
        let sample = Sample {
            channel: "C 1&2".to_owned(),
            chat_id: 456,
            flag: true,
            maybe: None,
            count: Some(-3),
            tags: vec!["x".to_owned(), "y,z".to_owned()],
            inner: Inner { a: 1 },
            numeric_text: "123".to_owned(),
        };
        let text = encode(&sample).unwrap();
        assert!(text.contains("channel=C+1%262"), "{text}");
        assert!(text.contains("chatId=456"), "{text}");
        assert!(!text.contains("maybe"), "{text}");
        let back: Sample = decode(text.as_bytes()).unwrap();
        assert_eq!(back, sample);
    }

    #[test]
    fn errors_name_the_field() {
        let err = decode::<Sample>(b"channel=a&chatId=x").unwrap_err();
        assert_eq!(err.path, "chatId", "{err}");
        let err = decode::<Sample>(b"channel=a&channel=b").unwrap_err();
        assert_eq!(err.path, "channel", "{err}");
        let err = decode::<Sample>(b"channel=a").unwrap_err();
        assert!(err.reason.contains("missing field"), "{err}");
        let err = decode::<Sample>(
            b"channel=a&chatId=1&flag=maybe&tags=[]&inner={\"a\":1}&numeric_text=1",
        )
        .unwrap_err();
        assert_eq!(err.path, "flag", "{err}");
        let err = decode::<Sample>(b"channel=a&chatId=1&flag=1&tags=x&inner={}&numeric_text=1")
            .unwrap_err();
        assert_eq!(err.path, "tags", "{err}");
        // Hostile input does not panic.
        for body in [&b"%ff=%fe"[..], b"&&&===", b"a", &[0xff; 64]] {
            let _ = decode::<Sample>(body);
        }
        assert!(encode(&5).is_err());
    }
}
