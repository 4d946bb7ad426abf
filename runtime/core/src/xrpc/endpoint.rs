//! What an endpoint is: its NSID, kind, parameters, bodies and errors, and
//! the same for a subscription.

use std::fmt;

use serde::Deserialize;
use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};

use super::body::{DecodeError, EncodeError, Payload};
use super::codec::Codec;
use super::kind::EndpointKind;
use super::params::Params;
use super::subprotocol::Subprotocol;
use crate::binding::Binding;
use crate::validate::Validate;

/// The description of one query or procedure.
///
/// Generated code implements this on a unit struct per endpoint (for example
/// `chat::bsky::convo::leave_convo::LeaveConvo`). Clients and servers are
/// generic over it.
pub trait Endpoint {
    /// The endpoint's NSID (over XRPC, also its path: `/xrpc/<NSID>`).
    const NSID: &'static str;
    /// Query or procedure.
    const KIND: EndpointKind;
    /// The MIME type of the request body, when the endpoint takes one.
    const INPUT_ENCODING: Option<&'static str>;
    /// The MIME type of the response body, when the endpoint returns one.
    const OUTPUT_ENCODING: Option<&'static str>;
    /// Query-string parameters (`()` when the lexicon declares none).
    type Params: Params + Validate + Send + Sync + 'static;
    /// The request body: a generated type for JSON, [`Binary`](super::Binary) for other
    /// encodings, `()` when there is none.
    type Input: Validate + Send + Sync + 'static;
    /// The response body, with the same conventions as `Input`.
    type Output: Validate + Send + Sync + 'static;
    /// The endpoint's declared errors, plus a case for names it does not declare.
    type Error: EndpointError + Send + Sync + 'static;
    /// How `Input` travels as bytes: [`Json`](super::Json), [`Raw`](super::Raw) or
    /// [`NoBody`](super::NoBody).
    type InputCodec: Codec<Self::Input>;
    /// How `Output` travels as bytes.
    type OutputCodec: Codec<Self::Output>;
    /// How the endpoint travels over HTTP: XRPC ([`Binding::xrpc`]) unless
    /// the generator was given a binding for it (see [`crate::binding`]).
    const BINDING: Binding = Binding::xrpc(Self::KIND);

    /// Decodes a response body with `OutputCodec`: what the client does with
    /// a successful response, and the way to read one fetched by other means.
    ///
    /// The four body methods only call the codecs. With the runtime's
    /// `json-bodies-in-bindings` feature, in an optimized build (without debug
    /// assertions), generated endpoints with JSON bodies implement them
    /// again, with the same bodies, as ordinary functions of the bindings
    /// crate: the decoders and encoders they reach are then compiled and
    /// optimized once, with the bindings (all of their endpoints', which
    /// makes that build longer), and not again each time a program that
    /// calls the endpoint is rebuilt. Dev builds leave them to the program,
    /// where they cost little unoptimized.
    fn decode_output(content_type: Option<&str>, body: &[u8]) -> Result<Self::Output, DecodeError> {
        Self::OutputCodec::decode(content_type, body)
    }

    /// Encodes a request body with `InputCodec`; `encoding` overrides the
    /// MIME type sent.
    fn encode_input(input: &Self::Input, encoding: Option<&str>) -> Result<Payload, EncodeError> {
        Self::InputCodec::encode(input, encoding)
    }

    /// Decodes a request body with `InputCodec`, as a server does.
    fn decode_input(content_type: Option<&str>, body: &[u8]) -> Result<Self::Input, DecodeError> {
        Self::InputCodec::decode(content_type, body)
    }

    /// Encodes a response body with `OutputCodec`, as a server does.
    fn encode_output(
        output: &Self::Output,
        encoding: Option<&str>,
    ) -> Result<Payload, EncodeError> {
        Self::OutputCodec::encode(output, encoding)
    }
}

/// A query whose output can be fetched page by page: it takes a `cursor`
/// parameter and returns the next `cursor` (absent on the last page).
///
/// Generated for every query with a string `cursor` parameter and a `cursor`
/// field in its output.
pub trait Paginated: Endpoint {
    /// The cursor of the next page, if there is one.
    fn next_cursor(output: &Self::Output) -> Option<&str>;
    /// Sets the cursor parameter.
    fn set_cursor(params: &mut Self::Params, cursor: Option<String>);
}

/// A paginated query whose output has exactly one list: the items of each
/// page can be streamed one by one.
pub trait PaginatedItems: Paginated {
    /// One item of the list.
    type Item: Send + 'static;
    /// Takes the list out of a page.
    fn items(output: Self::Output) -> Vec<Self::Item>;
}

/// The description of one subscription (an event stream over WebSocket).
///
/// Generated code implements this on a unit struct per subscription (for
/// example `com::atproto::sync::subscribe_repos::SubscribeRepos`); the
/// client's `subscribe` and the server's router are generic over it.
pub trait Subscription: 'static {
    /// The subscription's NSID (over XRPC, also its path: `/xrpc/<NSID>`).
    const NSID: &'static str;
    /// Query-string parameters (`()` when the lexicon declares none).
    type Params: Params + Validate + Send + Sync + 'static;
    /// The union of message types the stream carries; each frame's `t` names
    /// a member.
    type Message: crate::union::Union
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Validate
        + Send
        + Sync
        + 'static;
    /// The subscription's declared errors, plus a case for names it does not
    /// declare.
    type Error: EndpointError + Send + Sync + 'static;
    /// The subprotocol of a connection that negotiates none: the lexicon's
    /// `subprotocol`, [`Subprotocol::V0Cbor`] when it declares none.
    const SUBPROTOCOL: Subprotocol = Subprotocol::V0Cbor;
}

/// An endpoint's error type: the names its lexicon declares, and an
/// [`UnknownError`] case for any other name a server sends.
///
/// Generated code implements this for every endpoint's `Error` enum; its
/// `from_parts` never fails, so an error name added by a newer lexicon still
/// decodes (into the unknown case, with name and message).
pub trait EndpointError: Sized + fmt::Debug + fmt::Display {
    /// The error names the lexicon declares.
    const DECLARED: &'static [&'static str];
    /// Builds the error from the `error` and `message` of a response body.
    fn from_parts(error: String, message: Option<String>) -> Self;
    /// The error name, as it goes over the wire.
    fn name(&self) -> &str;
    /// The human-readable message, if any.
    fn message(&self) -> Option<&str>;
}

/// An error name that an endpoint's lexicon does not declare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownError {
    /// The `error` field of the response.
    pub error: String,
    /// The `message` field of the response.
    pub message: Option<String>,
}

impl fmt::Display for UnknownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "{}: {}", self.error, message),
            None => f.write_str(&self.error),
        }
    }
}

impl std::error::Error for UnknownError {}

/// The error type of an endpoint whose lexicon declares no errors: every
/// error name a server sends is one the lexicon does not declare.
///
/// Generated modules of such endpoints name it `Error`. It has the shape of a
/// generated error enum with no declared case, so code that matches
/// `Error::Unknown(..)` with a wildcard arm, or calls [`EndpointError::name`]
/// and [`EndpointError::message`], keeps compiling when a later lexicon
/// version declares errors and `Error` becomes an enum of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UndeclaredError {
    /// An error name the lexicon does not declare.
    Unknown(UnknownError),
}

impl EndpointError for UndeclaredError {
    const DECLARED: &'static [&'static str] = &[];

    fn from_parts(error: String, message: Option<String>) -> Self {
        Self::Unknown(UnknownError { error, message })
    }

    fn name(&self) -> &str {
        let Self::Unknown(error) = self;
        &error.error
    }

    fn message(&self) -> Option<&str> {
        let Self::Unknown(error) = self;
        error.message.as_deref()
    }
}

impl fmt::Display for UndeclaredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self::Unknown(error) = self;
        error.fmt(f)
    }
}

impl std::error::Error for UndeclaredError {}

impl serde::Serialize for UndeclaredError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_error(self, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for UndeclaredError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_error(deserializer)
    }
}

/// `Display` of a generated error enum: `Name: message`, or the name alone.
pub fn fmt_error(name: &str, message: Option<&str>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match message {
        Some(message) => write!(f, "{name}: {message}"),
        None => f.write_str(name),
    }
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
