//! What an XRPC endpoint is, as generated code describes it: its NSID, kind,
//! parameters, bodies and declared errors.

use std::borrow::Cow;

use crate::binding::Binding;
use crate::validate::Validate;
use std::fmt;
use std::str::FromStr;

/// Whether an endpoint is read-only (HTTP GET) or has effects (HTTP POST).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// A `query`: `GET /xrpc/<nsid>`, parameters in the query string.
    Query,
    /// A `procedure`: `POST /xrpc/<nsid>`, optionally with a body.
    Procedure,
}

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
    /// The request body: a generated type for JSON, [`Binary`] for other
    /// encodings, `()` when there is none.
    type Input: Validate + Send + Sync + 'static;
    /// The response body, with the same conventions as `Input`.
    type Output: Validate + Send + Sync + 'static;
    /// The endpoint's declared errors, plus a case for names it does not declare.
    type Error: EndpointError + Send + Sync + 'static;
    /// How `Input` travels as bytes: [`Json`], [`Raw`] or [`NoBody`].
    type InputCodec: Codec<Self::Input>;
    /// How `Output` travels as bytes.
    type OutputCodec: Codec<Self::Output>;
    /// How the endpoint travels over HTTP: XRPC ([`Binding::xrpc`]) unless
    /// the generator was given a binding for it (see [`crate::binding`]).
    const BINDING: Binding = Binding::xrpc(Self::KIND);
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

/// A request or response body as bytes, with its `Content-Type`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload {
    /// The `Content-Type`, when there is a body.
    pub content_type: Option<String>,
    /// The bytes (empty when there is no body).
    pub body: Vec<u8>,
}

/// Why a body could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode the body as {encoding}: {reason}")]
pub struct EncodeError {
    /// The intended encoding.
    pub encoding: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// Why a body could not be decoded: what was expected, where in the body it
/// failed (a path such as `convos[3].members[0].handle`), and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}{}: {reason}", if path.is_empty() || path == "." { String::new() } else { format!(" at {path}") })]
pub struct DecodeError {
    /// What the body should have been (`JSON body`, `empty body`, …).
    pub what: &'static str,
    /// Where in the body the problem is.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

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
            encoding: crate::binding::FORM_MIME,
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
        let body = crate::binding::encode_form(value).map_err(|reason| EncodeError {
            encoding: crate::binding::FORM_MIME,
            reason,
        })?;
        Ok(Payload {
            content_type: Some(crate::binding::FORM_MIME.to_owned()),
            body: body.into_bytes(),
        })
    }

    fn decode_form(body: &[u8]) -> Result<T, DecodeError> {
        crate::binding::decode_form(body)
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
            encoding.unwrap_or("application/octet-stream").to_owned()
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

/// A body in an encoding other than JSON (`*/*`, `application/vnd.ipld.car`,
/// `video/mp4`, …): the bytes and their MIME type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Binary {
    /// The `Content-Type` of the body.
    pub content_type: String,
    /// The body.
    pub data: Vec<u8>,
}

impl Binary {
    /// A body of `data` with MIME type `content_type`.
    pub fn new(content_type: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type: content_type.into(),
            data: data.into(),
        }
    }
}

/// A closed string enum met a value outside its list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {value:?}; expected one of {expected:?}")]
pub struct UnknownValue {
    /// The value found.
    pub value: String,
    /// The values the lexicon allows.
    pub expected: &'static [&'static str],
}

/// An endpoint's query-string parameters.
///
/// Encoding follows the XRPC rules: each parameter is `name=value`; an array
/// repeats its name once per item; booleans are `true`/`false`; integers are
/// decimal.
pub trait Params: Sized {
    /// Appends the parameters that are set.
    fn write_query(&self, query: &mut QueryWriter);
    /// Reads the parameters from a parsed query string.
    fn read_query(query: &QueryReader<'_>) -> Result<Self, ParamsError>;
}

impl Params for () {
    fn write_query(&self, _query: &mut QueryWriter) {}

    fn read_query(_query: &QueryReader<'_>) -> Result<Self, ParamsError> {
        Ok(())
    }
}

/// A value that can stand in a query string: anything with `FromStr` and
/// `Display` (integers, booleans, strings, format types, generated string
/// enums).
pub trait ParamValue: Sized {
    /// Parses one occurrence.
    fn parse_param(text: &str) -> Result<Self, String>;
    /// Formats one occurrence.
    fn format_param(&self) -> String;
}

impl<T> ParamValue for T
where
    T: FromStr + fmt::Display,
    T::Err: fmt::Display,
{
    fn parse_param(text: &str) -> Result<Self, String> {
        text.parse().map_err(|e: T::Err| e.to_string())
    }

    fn format_param(&self) -> String {
        self.to_string()
    }
}

/// Collects `name=value` pairs of a query string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryWriter {
    pairs: Vec<(&'static str, String)>,
}

impl QueryWriter {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a required parameter.
    pub fn required<T: ParamValue>(&mut self, name: &'static str, value: &T) {
        self.pairs.push((name, value.format_param()));
    }

    /// Appends an optional parameter if it is set.
    pub fn optional<T: ParamValue>(&mut self, name: &'static str, value: &Option<T>) {
        if let Some(value) = value {
            self.required(name, value);
        }
    }

    /// Appends one pair per item.
    pub fn list<T: ParamValue>(&mut self, name: &'static str, values: &[T]) {
        for value in values {
            self.required(name, value);
        }
    }

    /// Appends one pair per item, if the list is set.
    pub fn optional_list<T: ParamValue>(&mut self, name: &'static str, values: &Option<Vec<T>>) {
        if let Some(values) = values {
            self.list(name, values);
        }
    }

    /// The pairs in order.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.pairs
    }

    /// The percent-encoded query string, without a leading `?`.
    pub fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            out.append_pair(name, value);
        }
        out.finish()
    }
}

/// A parsed query string, read by name.
#[derive(Clone, Debug, Default)]
pub struct QueryReader<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> QueryReader<'a> {
    /// Parses a percent-encoded query string (without the leading `?`).
    pub fn parse(query: &'a str) -> Self {
        Self {
            pairs: form_urlencoded::parse(query.as_bytes()).collect(),
        }
    }

    /// Reads already-decoded pairs.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Cow<'a, str>>,
        V: Into<Cow<'a, str>>,
    {
        Self {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    fn parse_one<T: ParamValue>(name: &str, text: &str) -> Result<T, ParamsError> {
        T::parse_param(text).map_err(|reason| ParamsError::Invalid {
            name: name.to_owned(),
            value: text.to_owned(),
            reason,
        })
    }

    /// A parameter that must appear exactly once. Given empty (`?convoId=`)
    /// it counts as missing, as the reference server has it.
    pub fn required<T: ParamValue>(&self, name: &str) -> Result<T, ParamsError> {
        let missing = || ParamsError::Missing {
            name: name.to_owned(),
        };
        let mut values = self.values(name);
        if values.next() == Some("") && values.next().is_none() {
            return Err(missing());
        }
        self.optional(name)?.ok_or_else(missing)
    }

    /// A parameter that may appear at most once.
    pub fn optional<T: ParamValue>(&self, name: &str) -> Result<Option<T>, ParamsError> {
        let mut values = self.values(name);
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(ParamsError::Repeated {
                name: name.to_owned(),
            });
        }
        Self::parse_one(name, first).map(Some)
    }

    /// An array parameter that must have at least one item.
    pub fn list<T: ParamValue>(&self, name: &str) -> Result<Vec<T>, ParamsError> {
        self.optional_list(name)?
            .ok_or_else(|| ParamsError::Missing {
                name: name.to_owned(),
            })
    }

    /// An array parameter; `None` when it does not appear.
    pub fn optional_list<T: ParamValue>(&self, name: &str) -> Result<Option<Vec<T>>, ParamsError> {
        let values = self
            .values(name)
            .map(|text| Self::parse_one(name, text))
            .collect::<Result<Vec<T>, _>>()?;
        Ok(if values.is_empty() {
            None
        } else {
            Some(values)
        })
    }
}

/// A query string that does not fit an endpoint's parameters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// A required parameter is absent.
    #[error("missing required parameter `{name}`")]
    Missing {
        /// The parameter.
        name: String,
    },
    /// A single-valued parameter appears more than once.
    #[error("parameter `{name}` given more than once")]
    Repeated {
        /// The parameter.
        name: String,
    },
    /// A value does not parse as the parameter's type.
    #[error("invalid value {value:?} for parameter `{name}`: {reason}")]
    Invalid {
        /// The parameter.
        name: String,
        /// The text given.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip() {
        let mut w = QueryWriter::new();
        w.required("limit", &5i64);
        w.optional("cursor", &Some("a b&c".to_string()));
        w.optional::<bool>("flag", &None);
        w.list("members", &["x".to_string(), "y".to_string()]);
        w.required("yes", &true);
        let text = w.to_query_string();
        assert_eq!(text, "limit=5&cursor=a+b%26c&members=x&members=y&yes=true");

        let r = QueryReader::parse(&text);
        assert_eq!(r.required::<i64>("limit").unwrap(), 5);
        assert_eq!(
            r.optional::<String>("cursor").unwrap().as_deref(),
            Some("a b&c")
        );
        assert_eq!(r.optional::<bool>("flag").unwrap(), None);
        assert_eq!(r.list::<String>("members").unwrap(), vec!["x", "y"]);
        assert!(r.required::<bool>("yes").unwrap());
    }

    #[test]
    fn query_errors() {
        let r = QueryReader::parse("limit=abc&a=1&a=2");
        assert!(matches!(
            r.required::<i64>("limit"),
            Err(ParamsError::Invalid { .. })
        ));
        assert!(matches!(
            r.optional::<i64>("a"),
            Err(ParamsError::Repeated { .. })
        ));
        assert!(matches!(
            r.required::<i64>("b"),
            Err(ParamsError::Missing { .. })
        ));
        assert!(matches!(
            r.list::<i64>("b"),
            Err(ParamsError::Missing { .. })
        ));
    }
}
