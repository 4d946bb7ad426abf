//! The frame codec: a DAG-CBOR header, then a DAG-CBOR body.

use std::marker::PhantomData;

use bytes::Bytes;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer};
use serde::{Deserialize, Serialize};

use super::error::from_error_frame;
use super::{Frame, FrameError, SubscriptionError};
use crate::cbor::{self, DecodeError, EncodeError};
use crate::data::{Unknown, Value};
use crate::union::Union;
use crate::xrpc::{EndpointError, Subscription};

/// The `op` of a message frame.
const OP_MESSAGE: i64 = 1;
/// The `op` of an error frame.
const OP_ERROR: i64 = -1;

#[derive(Serialize)]
struct HeaderOut<'a> {
    op: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<&'a str>,
}

#[derive(Deserialize)]
struct HeaderIn {
    op: i64,
    #[serde(default)]
    t: Option<String>,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

#[derive(Deserialize)]
struct ErrorIn {
    error: String,
    #[serde(default)]
    message: Option<String>,
}

/// A frame read but not yet decoded: a message's type and body bytes, or an
/// error's name and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameView<'a> {
    /// A message (`op` 1).
    Message {
        /// The header's `t`: usually a short reference into the
        /// subscription's lexicon (`#commit`), possibly a full type name.
        t: String,
        /// The body, still encoded.
        body: &'a [u8],
    },
    /// An error (`op` -1): the server closes the stream after it.
    Error {
        /// The error name.
        error: String,
        /// The message, if any.
        message: Option<String>,
    },
}

impl<'a> FrameView<'a> {
    /// Reads the header of a frame (leniently: any DAG-CBOR map with an
    /// integer `op`; other header fields are ignored) and, for an error, its
    /// body.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FrameError> {
        let (header, body) =
            cbor::from_slice_prefix_lenient::<HeaderIn>(bytes).map_err(FrameError::Header)?;
        match header.op {
            OP_MESSAGE => match header.t {
                Some(t) if !t.is_empty() => Ok(Self::Message { t, body }),
                _ => Err(FrameError::MissingType),
            },
            OP_ERROR => {
                let body: ErrorIn =
                    cbor::from_slice_lenient(body).map_err(FrameError::ErrorBody)?;
                Ok(Self::Error {
                    error: body.error,
                    message: body.message,
                })
            }
            op => Err(FrameError::Op(op)),
        }
    }
}

impl Frame {
    /// A message frame: header `{"op": 1, "t": t}`, then `body`.
    pub fn message<T: Serialize + ?Sized>(t: &str, body: &T) -> Result<Frame, EncodeError> {
        let mut bytes = cbor::to_vec(&HeaderOut {
            op: OP_MESSAGE,
            t: Some(t),
        })?;
        cbor::to_writer(&mut bytes, body)?;
        Ok(Frame {
            bytes: Bytes::from(bytes),
            error: false,
        })
    }

    /// An error frame: header `{"op": -1}`, then `{"error": name,
    /// "message": message}`.
    pub fn error(name: &str, message: Option<&str>) -> Frame {
        let encoded = cbor::to_vec(&HeaderOut {
            op: OP_ERROR,
            t: None,
        })
        .and_then(|mut bytes| {
            cbor::to_writer(
                &mut bytes,
                &ErrorOut {
                    error: name,
                    message,
                },
            )
            .map(|()| bytes)
        });
        match encoded {
            Ok(bytes) => Frame {
                bytes: Bytes::from(bytes),
                error: true,
            },
            // Two maps of an integer and strings always encode.
            Err(err) => unreachable!("an error frame always encodes: {err}"),
        }
    }

    /// The error frame of one of a subscription's errors.
    pub fn of_error<E: EndpointError>(error: &E) -> Frame {
        Frame::error(error.name(), error.message())
    }

    /// The `ConsumerTooSlow` error frame: what a server sends a subscriber
    /// that fell behind the events it keeps, before it closes the stream.
    pub fn consumer_too_slow() -> Frame {
        Frame::error(
            "ConsumerTooSlow",
            Some("the subscriber fell behind the events this server keeps"),
        )
    }

    /// The frame of a message of subscription `S`: its `$type` becomes the
    /// header's `t` (`#commit` for a definition of the subscription's own
    /// lexicon, else the full name), the rest the body.
    pub fn of_message<S: Subscription>(message: &S::Message) -> Result<Frame, EncodeError>
    where
        S::Message: Serialize,
    {
        let tagged: Value = cbor::to_vec(message).and_then(|bytes| {
            cbor::from_slice(&bytes).map_err(|err| EncodeError::new(err.to_string()))
        })?;
        let Value::Object(mut body) = tagged else {
            return Err(EncodeError::new("a message must be an object".to_owned()));
        };
        let Some(Value::String(type_name)) = body.remove("$type") else {
            return Err(EncodeError::new(
                "a message must have a string $type naming its type".to_owned(),
            ));
        };
        let t = match type_name.strip_prefix(S::NSID) {
            Some(short) if short.starts_with('#') => short,
            _ => type_name.as_str(),
        };
        Frame::message(t, &body)
    }

    /// A frame received as bytes, checked: its header is a message's or an
    /// error's (the body of a message is not decoded).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Result<Frame, FrameError> {
        let bytes = bytes.into();
        let error = matches!(FrameView::parse(&bytes)?, FrameView::Error { .. });
        Ok(Frame { bytes, error })
    }

    /// The frame's header and body.
    pub fn view(&self) -> Result<FrameView<'_>, FrameError> {
        FrameView::parse(&self.bytes)
    }
}

/// Decodes a frame of subscription `S`: a message into its generated union
/// (a `t` the union does not list into its `Unknown` case, whose `$type` is
/// the full type name), an error frame into the typed error.
///
/// `lenient` reads DAG-CBOR as other writers have produced it over time (see
/// [`crate::cbor`]); otherwise the body must be canonical.
pub fn decode_message<S>(
    bytes: &[u8],
    lenient: bool,
) -> Result<S::Message, SubscriptionError<S::Error>>
where
    S: Subscription,
    S::Message: Union + DeserializeOwned,
    S::Error: EndpointError,
{
    match FrameView::parse(bytes)? {
        FrameView::Message { t, body } => {
            decode_body::<S::Message>(S::NSID, &t, body, lenient).map_err(SubscriptionError::Frame)
        }
        FrameView::Error { error, message } => Err(from_error_frame(error, message)),
    }
}

/// Decodes the body of a message of type `t` (short `#name` or full) of the
/// subscription `nsid`.
pub(crate) fn decode_body<U: Union + DeserializeOwned>(
    nsid: &str,
    t: &str,
    body: &[u8],
    lenient: bool,
) -> Result<U, FrameError> {
    let known = U::MEMBERS
        .iter()
        .enumerate()
        .find(|(_, member)| names(member, nsid, t));
    if let Some((index, name)) = known {
        return cbor::from_slice_seed(
            body,
            MemberSeed::<U> {
                index,
                union: PhantomData,
            },
            lenient,
        )
        .map_err(|error| FrameError::Body {
            type_name: (*name).to_owned(),
            error,
        });
    }
    let type_name = full_type_name(nsid, t);
    let value: Result<Value, DecodeError> = if lenient {
        cbor::from_slice_lenient(body)
    } else {
        cbor::from_slice(body)
    };
    let body_error = |reason: String| FrameError::Body {
        type_name: type_name.clone(),
        error: DecodeError::new(String::new(), reason),
    };
    let mut map = match value {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return Err(body_error(format!(
                "{} where a map was expected",
                other.kind()
            )));
        }
        Err(error) => {
            return Err(FrameError::Body { type_name, error });
        }
    };
    map.entry("$type".to_owned())
        .or_insert_with(|| Value::String(type_name.clone()));
    U::unknown(Unknown(Value::Object(map)))
        .map_err(|_| body_error(format!("not one of the message types {:?}", U::MEMBERS)))
}

/// The full type name of a header's `t` in lexicon `nsid`: `#commit` is
/// `<nsid>#commit`, a full name stays as it is.
pub(crate) fn full_type_name(nsid: &str, t: &str) -> String {
    match t.strip_prefix('#') {
        Some(_) => format!("{nsid}{t}"),
        None => t.to_owned(),
    }
}

/// Whether the full type name `member` is what `t` names in lexicon `nsid`.
fn names(member: &str, nsid: &str, t: &str) -> bool {
    if t.starts_with('#') {
        member.len() == nsid.len() + t.len() && member.starts_with(nsid) && member.ends_with(t)
    } else {
        member == t
    }
}

/// Decodes member number `index` of union `U` from a body without `$type`.
struct MemberSeed<U> {
    index: usize,
    union: PhantomData<fn() -> U>,
}

impl<U> Clone for MemberSeed<U> {
    fn clone(&self) -> Self {
        Self {
            index: self.index,
            union: PhantomData,
        }
    }
}

impl<'de, U: Union> DeserializeSeed<'de> for MemberSeed<U> {
    type Value = U;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<U, D::Error> {
        crate::union::deserialize_member(self.index, deserializer)
    }
}
