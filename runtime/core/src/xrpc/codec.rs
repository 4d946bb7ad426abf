//! How a body type travels as bytes: JSON, raw bytes of another encoding, or
//! no body; and, for bindings that allow it, as an HTML form.

use super::body::{Binary, DecodeError, EncodeError, Payload};
use super::form;

/// How a body type travels over HTTP.
pub trait Codec<T> {
    /// Encodes a body; `Payload::content_type` is `None` for no body.
    fn encode(value: &T, encoding: Option<&str>) -> Result<Payload, EncodeError>;
    /// Decodes a body; `content_type` is the received `Content-Type`.
    fn decode(content_type: Option<&str>, body: &[u8]) -> Result<T, DecodeError>;

    /// Encodes a body as an HTML form (`application/x-www-form-urlencoded`),
    /// for bindings that allow forms. Only JSON bodies can be.
    fn encode_form(value: &T) -> Result<Payload, EncodeError> {
        let _ = value;
        Err(EncodeError {
            encoding: form::FORM_MIME,
            reason: "only JSON bodies can be sent as a form".to_owned(),
        })
    }

    /// Decodes an HTML form body, for bindings that allow forms. Only JSON
    /// bodies can be.
    fn decode_form(body: &[u8]) -> Result<T, DecodeError> {
        let _ = body;
        Err(DecodeError {
            what: "form body",
            path: String::new(),
            reason: "this endpoint's input cannot be read from a form".to_owned(),
        })
    }
}

/// JSON bodies of generated types (`application/json`).
#[derive(Clone, Copy, Debug)]
pub struct Json;

impl<T: serde::Serialize + serde::de::DeserializeOwned> Codec<T> for Json {
    fn encode(value: &T, encoding: Option<&str>) -> Result<Payload, EncodeError> {
        let body = serde_json::to_vec(value).map_err(|e| EncodeError {
            encoding: "application/json",
            reason: e.to_string(),
        })?;
        Ok(Payload {
            content_type: Some(encoding.unwrap_or("application/json").to_owned()),
            body,
        })
    }

    fn encode_form(value: &T) -> Result<Payload, EncodeError> {
        let body = form::encode(value).map_err(|reason| EncodeError {
            encoding: form::FORM_MIME,
            reason,
        })?;
        Ok(Payload {
            content_type: Some(form::FORM_MIME.to_owned()),
            body: body.into_bytes(),
        })
    }

    fn decode_form(body: &[u8]) -> Result<T, DecodeError> {
        form::decode(body)
    }

    fn decode(_content_type: Option<&str>, body: &[u8]) -> Result<T, DecodeError> {
        // The fast path decodes without tracking where it is; only a body
        // that fails is decoded again, with the path recorded, to say where.
        match serde_json::from_slice(body) {
            Ok(value) => Ok(value),
            Err(first) => Err(locate_json_error::<T>(body).unwrap_or_else(|| DecodeError {
                what: "JSON body",
                path: String::new(),
                reason: first.to_string(),
            })),
        }
    }
}

/// Decodes `body` again with path tracking, to describe why it fails.
fn locate_json_error<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(err) => Some(DecodeError {
            what: "JSON body",
            path: err.path().to_string(),
            reason: err.inner().to_string(),
        }),
        Ok(_) => de.end().err().map(|err| DecodeError {
            what: "JSON body",
            path: String::new(),
            reason: err.to_string(),
        }),
    }
}

/// Bodies in any other encoding, as bytes with their MIME type ([`Binary`]).
#[derive(Clone, Copy, Debug)]
pub struct Raw;

impl Codec<Binary> for Raw {
    fn encode(value: &Binary, encoding: Option<&str>) -> Result<Payload, EncodeError> {
        let content_type = if value.content_type.is_empty() {
            let encoding = encoding.unwrap_or("application/octet-stream");
            // An encoding may list several types (`image/png, image/jpeg`);
            // which one the bytes are in, only the caller knows.
            if encoding.contains(',') {
                return Err(EncodeError {
                    encoding: "binary",
                    reason: format!(
                        "the endpoint accepts any of `{encoding}`; set the body's content type to the one its bytes are in"
                    ),
                });
            }
            encoding.to_owned()
        } else {
            value.content_type.clone()
        };
        Ok(Payload {
            content_type: Some(content_type),
            body: value.data.clone(),
        })
    }

    fn decode(content_type: Option<&str>, body: &[u8]) -> Result<Binary, DecodeError> {
        Ok(Binary {
            content_type: content_type
                .unwrap_or("application/octet-stream")
                .to_owned(),
            data: body.to_vec(),
        })
    }
}

/// No body at all (`()`).
#[derive(Clone, Copy, Debug)]
pub struct NoBody;

impl Codec<()> for NoBody {
    fn encode(_value: &(), _encoding: Option<&str>) -> Result<Payload, EncodeError> {
        Ok(Payload::default())
    }

    fn decode(_content_type: Option<&str>, _body: &[u8]) -> Result<(), DecodeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Codec, Raw};
    use crate::xrpc::Binary;

    #[test]
    fn a_binary_body_for_an_encoding_listing_several_types_needs_its_own() {
        let untyped = Binary {
            content_type: String::new(),
            data: vec![1, 2],
        };
        let err = Raw::encode(&untyped, Some("image/png, image/jpeg")).unwrap_err();
        assert!(err.reason.contains("image/png, image/jpeg"), "{err}");
        let typed = Binary {
            content_type: "image/jpeg".to_owned(),
            data: vec![1, 2],
        };
        let payload = Raw::encode(&typed, Some("image/png, image/jpeg")).unwrap();
        assert_eq!(payload.content_type.as_deref(), Some("image/jpeg"));
        let payload = Raw::encode(&untyped, Some("image/png")).unwrap();
        assert_eq!(payload.content_type.as_deref(), Some("image/png"));
    }
}
