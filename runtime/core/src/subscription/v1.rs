//! The `v1` framing (`xrpc.v1.json`, `xrpc.v1.cbor`): one object per frame,
//! `{"$type": "message", "payload": {…}}` or `{"$type": "error", "error":
//! …, "message": …}`, the payload with its full `$type`; and the choice, by
//! subprotocol, between it and the two-object `v0` framing.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::from_error_frame;
use super::frame::{FrameView, decode_message, full_type_name};
use super::{Frame, FrameError, SubscriptionError};
use crate::cbor::{self, DecodeError, EncodeError};
use crate::data::Value;
use crate::union::Union;
use crate::xrpc::{EndpointError, Subprotocol, Subscription};

/// The `$type` of a `v1` message frame.
const MESSAGE: &str = "message";
/// The `$type` of a `v1` error frame.
const ERROR: &str = "error";

/// One frame as a subprotocol puts it on the wire: what a WebSocket message
/// carries, and whether that message is text or binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireFrame {
    /// A binary message: `xrpc.v0.cbor` and `xrpc.v1.cbor`.
    Binary(Bytes),
    /// A text message: `xrpc.v1.json`.
    Text(String),
}

impl WireFrame {
    /// The bytes of the message.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Binary(bytes) => bytes,
            Self::Text(text) => text.as_bytes(),
        }
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the message has no bytes (never true of an encoded frame).
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

#[derive(Serialize)]
struct MessageOut<'a, M: ?Sized> {
    #[serde(rename = "$type")]
    kind: &'static str,
    payload: &'a M,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    #[serde(rename = "$type")]
    kind: &'static str,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(expecting = "a v1 frame: an object with a `$type`")]
struct FrameIn<M> {
    #[serde(rename = "$type")]
    kind: String,
    #[serde(default = "none")]
    payload: Option<M>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// `None`, without the `Default` bound serde's own default would put on `M`.
fn none<M>() -> Option<M> {
    None
}

/// Writes a `v1` object in the encoding of `subprotocol` (JSON as text,
/// CBOR as binary).
fn encode_v1<T: Serialize + ?Sized>(
    value: &T,
    subprotocol: Subprotocol,
) -> Result<WireFrame, EncodeError> {
    if subprotocol == Subprotocol::V1Json {
        serde_json::to_string(value)
            .map(WireFrame::Text)
            .map_err(|err| EncodeError::new(err.to_string()))
    } else {
        cbor::to_vec(value).map(|bytes| WireFrame::Binary(Bytes::from(bytes)))
    }
}

/// The frame of a message of subscription `S` in `subprotocol`: the `v0`
/// frame of [`Frame::of_message`], or the `v1` object with the message as
/// its payload (its `$type`, the full name, written by the union).
pub fn encode_message<S: Subscription>(
    message: &S::Message,
    subprotocol: Subprotocol,
) -> Result<WireFrame, EncodeError> {
    if !subprotocol.is_v1() {
        return Frame::of_message::<S>(message).map(|frame| WireFrame::Binary(frame.to_bytes()));
    }
    encode_v1(
        &MessageOut {
            kind: MESSAGE,
            payload: message,
        },
        subprotocol,
    )
}

/// The error frame `name` (with `message`) in `subprotocol`.
pub fn encode_error(name: &str, message: Option<&str>, subprotocol: Subprotocol) -> WireFrame {
    if !subprotocol.is_v1() {
        return WireFrame::Binary(Frame::error(name, message).to_bytes());
    }
    let out = ErrorOut {
        kind: ERROR,
        error: name,
        message,
    };
    match encode_v1(&out, subprotocol) {
        Ok(frame) => frame,
        // A map of strings always encodes, in either encoding.
        Err(err) => unreachable!("an error frame always encodes: {err}"),
    }
}

impl Frame {
    /// This frame (a stored `v0` frame of subscription `nsid`) as
    /// `subprotocol` sends it, so that one log of `v0` frames serves every
    /// subprotocol: for `v0` the same bytes; for `v1` a message's body with
    /// its `$type` (the full name of the header's `t`) becomes the payload,
    /// an error frame the `v1` error.
    ///
    /// The body is read leniently and written canonically (DAG-CBOR) or as
    /// the data model's JSON (links as `{"$link"}`, bytes as `{"$bytes"}`).
    /// A body that already has a `$type` other than the header's is refused
    /// rather than changed.
    pub fn to_wire(&self, nsid: &str, subprotocol: Subprotocol) -> Result<WireFrame, FrameError> {
        if !subprotocol.is_v1() {
            return Ok(WireFrame::Binary(self.to_bytes()));
        }
        match self.view()? {
            FrameView::Error { error, message } => {
                Ok(encode_error(&error, message.as_deref(), subprotocol))
            }
            FrameView::Message { t, body } => {
                let type_name = full_type_name(nsid, &t);
                let body_error = |error: DecodeError| FrameError::Body {
                    type_name: type_name.clone(),
                    error,
                };
                let mut map = match cbor::from_slice_lenient::<Value>(body) {
                    Ok(Value::Object(map)) => map,
                    Ok(other) => {
                        return Err(body_error(DecodeError::new(
                            String::new(),
                            format!("{} where a map was expected", other.kind()),
                        )));
                    }
                    Err(error) => return Err(body_error(error)),
                };
                match map.get("$type") {
                    None => {
                        map.insert("$type".to_owned(), Value::String(type_name.clone()));
                    }
                    Some(Value::String(own)) if *own == type_name => {}
                    Some(other) => {
                        return Err(body_error(DecodeError::new(
                            "$type".to_owned(),
                            format!("the body's own $type {other:?} is not the header's"),
                        )));
                    }
                }
                encode_v1(
                    &MessageOut {
                        kind: MESSAGE,
                        payload: &map,
                    },
                    subprotocol,
                )
                .map_err(|err| {
                    body_error(DecodeError::new(
                        String::new(),
                        format!("cannot write it: {err}"),
                    ))
                })
            }
        }
    }
}

/// Decodes one frame of subscription `S` received over `subprotocol`: a
/// message into its generated union (a `$type` the union does not list into
/// its `Unknown` case, as for `v0`), an error frame into the typed error.
///
/// A frame over `limit` bytes is [`SubscriptionError::TooLarge`]; nesting is
/// bounded (128 levels in JSON, [`cbor::MAX_DEPTH`] in DAG-CBOR), and a frame
/// nested deeper is a [`FrameError`]. `lenient` reads DAG-CBOR as
/// [`decode_message`] does.
pub fn decode_frame<S>(
    subprotocol: Subprotocol,
    bytes: &[u8],
    limit: usize,
    lenient: bool,
) -> Result<S::Message, SubscriptionError<S::Error>>
where
    S: Subscription,
    S::Message: Union + DeserializeOwned,
    S::Error: EndpointError,
{
    if bytes.len() > limit {
        return Err(SubscriptionError::TooLarge { limit });
    }
    let frame: FrameIn<S::Message> = match subprotocol {
        Subprotocol::V1Json => serde_json::from_slice(bytes)
            .map_err(|err| FrameError::V1(DecodeError::new(String::new(), err.to_string())))?,
        Subprotocol::V1Cbor if lenient => {
            cbor::from_slice_lenient(bytes).map_err(FrameError::V1)?
        }
        Subprotocol::V1Cbor => cbor::from_slice(bytes).map_err(FrameError::V1)?,
        _ => return decode_message::<S>(bytes, lenient),
    };
    match (frame.kind.as_str(), frame.payload, frame.error) {
        (MESSAGE, Some(message), _) => Ok(message),
        (MESSAGE, None, _) => Err(FrameError::MissingPayload.into()),
        (ERROR, _, Some(error)) => Err(from_error_frame(error, frame.message)),
        (ERROR, _, None) => Err(FrameError::V1(DecodeError::new(
            "error".to_owned(),
            "an error frame without its `error` name".to_owned(),
        ))
        .into()),
        (other, _, _) => Err(FrameError::V1Type(other.to_owned()).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Unknown;
    use crate::xrpc::UndeclaredError;

    /// A message union of two members, one of them the stream's own
    /// definition, open to others.
    #[derive(Clone, Debug, PartialEq, Eq, crate::rt::Union)]
    #[lex(crate = "crate")]
    enum Message {
        #[lex("com.example.stream#tick")]
        Tick(Box<Tick>),
        #[lex(unknown)]
        Unknown(Unknown),
    }

    #[derive(Clone, Debug, PartialEq, Eq, crate::rt::Object)]
    #[lex(crate = "crate", type = "com.example.stream#tick")]
    struct Tick {
        seq: i64,
        #[lex(unknown)]
        extra: crate::data::ExtraFields,
    }

    struct Stream;

    impl Subscription for Stream {
        const NSID: &'static str = "com.example.stream";
        type Params = ();
        type Message = Message;
        type Error = UndeclaredError;
    }

    const LIMIT: usize = 1 << 20;

    fn tick(seq: i64) -> Message {
        Message::Tick(Box::new(Tick {
            seq,
            extra: Default::default(),
        }))
    }

    fn decode(p: Subprotocol, bytes: &[u8]) -> Result<Message, SubscriptionError<UndeclaredError>> {
        decode_frame::<Stream>(p, bytes, LIMIT, false)
    }

    #[test]
    fn a_message_is_one_object_with_its_full_type() {
        let json = encode_message::<Stream>(&tick(42), Subprotocol::V1Json).unwrap();
        let WireFrame::Text(text) = &json else {
            panic!("JSON goes as text: {json:?}")
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text).unwrap(),
            serde_json::json!({"$type": "message", "payload": {"$type": "com.example.stream#tick", "seq": 42}})
        );
        let cbor = encode_message::<Stream>(&tick(42), Subprotocol::V1Cbor).unwrap();
        let WireFrame::Binary(bytes) = &cbor else {
            panic!("CBOR goes as binary: {cbor:?}")
        };
        // One canonical DAG-CBOR object, the same as the JSON one.
        let value: Value = cbor::from_slice(bytes).unwrap();
        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
        for (p, frame) in [(Subprotocol::V1Json, json), (Subprotocol::V1Cbor, cbor)] {
            assert_eq!(decode(p, frame.as_bytes()).unwrap(), tick(42));
        }
    }

    #[test]
    fn a_stored_v0_frame_reads_the_same_in_every_subprotocol() {
        let stored = Frame::of_message::<Stream>(&tick(7)).unwrap();
        for p in Subprotocol::ALL {
            let wire = stored.to_wire(Stream::NSID, p).unwrap();
            assert_eq!(matches!(wire, WireFrame::Text(_)), p == Subprotocol::V1Json);
            assert_eq!(decode(p, wire.as_bytes()).unwrap(), tick(7), "{p}");
        }
        // The transcoded frame is what encoding the message gives.
        for p in [Subprotocol::V1Json, Subprotocol::V1Cbor] {
            assert_eq!(
                stored.to_wire(Stream::NSID, p).unwrap(),
                encode_message::<Stream>(&tick(7), p).unwrap()
            );
        }
        let error = Frame::error("FutureCursor", Some("ahead"));
        let json = error.to_wire(Stream::NSID, Subprotocol::V1Json).unwrap();
        assert_eq!(
            json,
            WireFrame::Text(
                r#"{"$type":"error","error":"FutureCursor","message":"ahead"}"#.to_owned()
            )
        );
        for p in Subprotocol::ALL {
            let wire = error.to_wire(Stream::NSID, p).unwrap();
            match decode(p, wire.as_bytes()) {
                Err(SubscriptionError::Endpoint(e)) => {
                    assert_eq!((e.name(), e.message()), ("FutureCursor", Some("ahead")));
                }
                other => panic!("{p}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_unknown_type_is_kept_as_the_unions_unknown_member() {
        let body: Value = serde_json::from_str(r#"{"seq": 3, "link": {"$bytes": "AAE"}}"#).unwrap();
        let frame = Frame::message("#later", &body)
            .map(|f| f.to_wire(Stream::NSID, Subprotocol::V1Json).unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(
                std::str::from_utf8(frame.as_bytes()).unwrap()
            )
            .unwrap(),
            serde_json::json!({"$type": "message", "payload": {"$type": "com.example.stream#later", "seq": 3, "link": {"$bytes": "AAE"}}})
        );
        let Message::Unknown(unknown) = decode(Subprotocol::V1Json, frame.as_bytes()).unwrap()
        else {
            panic!("not the unknown member")
        };
        assert_eq!(unknown.type_name(), Some("com.example.stream#later"));
        assert!(matches!(
            unknown.as_value().get("link"),
            Some(Value::Bytes(_))
        ));
    }

    #[test]
    fn bad_frames_are_errors_and_the_stream_goes_on() {
        let cases: &[(&str, &str)] = &[
            ("", "EOF"),
            ("[]", "an object with a `$type`"),
            (r#"{"payload": {}}"#, "$type"),
            (r#"{"$type": "message"}"#, "payload"),
            (r#"{"$type": "message", "payload": {"seq": 1}}"#, "$type"),
            (
                r#"{"$type": "message", "payload": {"$type": "com.example.stream#tick"}}"#,
                "seq",
            ),
            (r#"{"$type": "error"}"#, "error"),
            (r##"{"$type": "#commit"}"##, "#commit"),
        ];
        for (json, says) in cases {
            match decode(Subprotocol::V1Json, json.as_bytes()) {
                Err(SubscriptionError::Frame(error)) => {
                    assert!(error.to_string().contains(says), "{json}: {error}");
                }
                other => panic!("{json}: {other:?}"),
            }
        }
        // A body that says it is of another type than its header is not
        // relabelled.
        let lying = Frame::message(
            "#tick",
            &serde_json::json!({"$type": "com.example.other", "seq": 1}),
        )
        .unwrap();
        assert!(lying.to_wire(Stream::NSID, Subprotocol::V1Json).is_err());
        assert!(
            Frame::message("#tick", &5)
                .unwrap()
                .to_wire(Stream::NSID, Subprotocol::V1Cbor)
                .is_err()
        );
    }

    #[test]
    fn frames_are_bounded_in_size_and_depth() {
        let frame = encode_message::<Stream>(&tick(1), Subprotocol::V1Json).unwrap();
        assert!(matches!(
            decode_frame::<Stream>(Subprotocol::V1Json, frame.as_bytes(), frame.len() - 1, true),
            Err(SubscriptionError::TooLarge { limit }) if limit == frame.len() - 1
        ));
        // An unknown member nested far deeper than any stack allows.
        let depth = 100_000;
        let deep = format!(
            r#"{{"$type": "message", "payload": {{"$type": "com.example.stream#x", "v": {}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(matches!(
            decode(Subprotocol::V1Json, deep.as_bytes()),
            Err(SubscriptionError::Frame(_))
        ));
        let mut cbor_deep = cbor::to_vec(&serde_json::json!({"$type": "message"})).unwrap();
        // The same map with a `payload` key (sorted after `$type`) holding
        // `depth` nested one-item arrays.
        cbor_deep[0] = 0xa2;
        cbor_deep.extend_from_slice(&[0x67]);
        cbor_deep.extend_from_slice(b"payload");
        cbor_deep.extend(std::iter::repeat_n(0x81, depth));
        cbor_deep.push(0x00);
        for lenient in [false, true] {
            assert!(matches!(
                decode_frame::<Stream>(Subprotocol::V1Cbor, &cbor_deep, LIMIT, lenient),
                Err(SubscriptionError::Frame(_))
            ));
        }
    }
}
