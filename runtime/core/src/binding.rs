//! How an endpoint travels over HTTP: its [`Binding`].
//!
//! A lexicon says what an endpoint takes and returns; a binding says how
//! those travel as HTTP requests and responses, in the spirit of the HTTP
//! rules of gRPC services. XRPC is one binding among others, and the default:
//! every [`Endpoint`](crate::xrpc::Endpoint) has one
//! ([`Endpoint::BINDING`](crate::xrpc::Endpoint::BINDING)), which is
//! [`Binding::xrpc`] unless the generator was given another one. The client
//! builds every request from the binding and reads every response through its
//! [`Envelope`]; the server router mounts each endpoint at its binding's
//! method and path and answers through the same envelope.
//!
//! A binding has:
//!
//! - an HTTP [method](HttpMethod) and a [path](PathTemplate): XRPC's
//!   `/xrpc/<NSID>`, or a template such as `/v1/chats/{chatId}/leave` whose
//!   variables are filled from the endpoint's `parameters`;
//! - where the rest goes: the other parameters in the query string, the input
//!   as the body in one of the [formats](BodyFormat) it allows (the lexicon's
//!   encoding, JSON, or an HTML form);
//! - the [authentication scheme](Auth): a bearer token, an API key header, or
//!   both;
//! - the response [envelope](Envelope): how success is told from failure, and
//!   where the error's name and message are and what status each is sent with;
//! - an optional default base URL, and whether the client checks parameters
//!   and input against the lexicon before sending.
//!
//! | | XRPC | Slack Web API | Bitrix24 REST (vibecode) |
//! |---|---|---|---|
//! | path | `GET`/`POST /xrpc/<nsid>` | `POST /conversations.leave` | `POST /v1/chats/{chatId}/leave` |
//! | body | the lexicon's encoding | JSON or form | none |
//! | auth | `Authorization: Bearer`, if any | `Authorization: Bearer` | `X-Api-Key`, and `Authorization: Bearer` for a user session |
//! | success | 2xx | 2xx and `ok: true` (or `not_in_channel: true`) | 2xx and `success: true` |
//! | error | `{"error", "message"}` | `{"ok": false, "error"}`, HTTP 200 | `{"success": false, "error": {"code", "message"}}`, 401/403/422/502 |
//!
//! Bindings are data: generated code writes them with the `const fn`
//! builders below.
//!
//! ```
//! use atlex_core::binding::{Auth, BearerUse, Binding, Envelope, HttpMethod};
//!
//! const BITRIX_LEAVE: Binding = Binding::http(HttpMethod::Post, "/v1/chats/{chatId}/leave")
//!     .with_base_url("https://vibecode.bitrix24.com")
//!     .with_auth(Auth::api_key("X-Api-Key").with_bearer(BearerUse::Optional))
//!     .with_envelope(
//!         Envelope::new("/error/code")
//!             .with_ok_flag("/success")
//!             .with_error_message("/error/message")
//!             .with_error_statuses(&[("BITRIX_ERROR", 422), ("SCOPE_DENIED", 403)]),
//!     );
//! assert_eq!(BITRIX_LEAVE.path.variables(), Ok(vec!["chatId"]));
//! ```

use std::fmt;

use http::HeaderMap;
use serde_json::{Map, Value};

use crate::error::CommonError;

/// The MIME type of HTML form bodies.
pub const FORM_MIME: &str = "application/x-www-form-urlencoded";
/// The `Content-Type` JSON bodies are sent with under [`BodyFormat::Json`].
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// An HTTP method a binding can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HttpMethod {
    /// `GET` (servers also answer `HEAD`).
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl HttpMethod {
    /// Every method, in the order above.
    pub const ALL: [HttpMethod; 5] = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Patch,
        HttpMethod::Delete,
    ];

    /// The method's name (`POST`).
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// The method called `name` (upper case, as HTTP writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether requests of this method carry a body.
    pub const fn has_body(self) -> bool {
        !matches!(self, HttpMethod::Get)
    }

    /// The method as an [`http::Method`].
    pub fn to_http(self) -> http::Method {
        match self {
            HttpMethod::Get => http::Method::GET,
            HttpMethod::Post => http::Method::POST,
            HttpMethod::Put => http::Method::PUT,
            HttpMethod::Patch => http::Method::PATCH,
            HttpMethod::Delete => http::Method::DELETE,
        }
    }

    /// Whether a request of method `method` is one of this method (`HEAD`
    /// counts as `GET`).
    pub fn accepts(self, method: &http::Method) -> bool {
        *method == self.to_http() || (self == HttpMethod::Get && *method == http::Method::HEAD)
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an endpoint is, below the base URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathTemplate {
    /// `/xrpc/<NSID>`.
    Xrpc,
    /// A path such as `/v1/chats/{chatId}/leave`: segments separated by `/`,
    /// each either literal (`A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) + , ; = @`) or a
    /// whole-segment `{variable}` naming a parameter of the endpoint.
    Template(&'static str),
}

impl PathTemplate {
    /// The template's variables, in order (none for [`PathTemplate::Xrpc`]),
    /// or why the template is not valid.
    pub fn variables(&self) -> Result<Vec<&'static str>, String> {
        match self {
            PathTemplate::Xrpc => Ok(Vec::new()),
            PathTemplate::Template(template) => check_path_template(template),
        }
    }
}

/// One segment of a parsed template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment<'t> {
    Literal(&'t str),
    Variable(&'t str),
}

/// Checks a path template, returning its variables in order.
///
/// A template starts with `/`; its segments are non-empty, either literal or
/// a whole `{name}` (`name`: a letter or `_`, then letters, digits or `_`);
/// a variable appears once; `.` and `..` segments and paths under `/xrpc`
/// (XRPC's own) are refused.
pub fn check_path_template(template: &str) -> Result<Vec<&str>, String> {
    let segments = parse_template(template)?;
    let mut variables: Vec<&str> = Vec::new();
    for segment in &segments {
        if let Segment::Variable(name) = segment {
            if variables.contains(name) {
                return Err(format!("variable `{{{name}}}` appears twice"));
            }
            variables.push(name);
        }
    }
    if segments.first() == Some(&Segment::Literal("xrpc")) {
        return Err("paths under `/xrpc` are XRPC's own".to_owned());
    }
    Ok(variables)
}

fn parse_template(template: &str) -> Result<Vec<Segment<'_>>, String> {
    let Some(rest) = template.strip_prefix('/') else {
        return Err("a path template must start with `/`".to_owned());
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split('/')
        .map(|segment| {
            if segment.is_empty() {
                return Err("a path template has no empty segments (`//` or a trailing `/`)".to_owned());
            }
            if let Some(inner) = segment.strip_prefix('{') {
                let Some(name) = inner.strip_suffix('}') else {
                    return Err(format!("segment `{segment}`: a variable is a whole segment, `{{name}}`"));
                };
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(format!(
                        "variable `{{{name}}}`: a name is a letter or `_`, then letters, digits or `_`"
                    ));
                }
                return Ok(Segment::Variable(name));
            }
            if segment == "." || segment == ".." {
                return Err(format!("segment `{segment}` is not allowed"));
            }
            if let Some(c) = segment.chars().find(|c| !is_literal_char(*c)) {
                return Err(format!(
                    "segment `{segment}`: `{c}` is not allowed in a literal segment"
                ));
            }
            Ok(Segment::Literal(segment))
        })
        .collect()
}

fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()+,;=@".contains(c)
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes a path segment: everything but unreserved characters.
fn encode_segment(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

/// Decodes a percent-encoded path segment (`+` stays `+`); `None` for a bad
/// escape or bytes that are not UTF-8.
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A filled path, and the parameters left for the query string.
#[doc(hidden)]
pub type Expanded<'p> = (String, Vec<&'p (&'static str, String)>);

/// The path of a template with its variables filled from `pairs` (the
/// endpoint's parameters as query pairs), and the pairs left for the query
/// string.
///
/// Each variable takes exactly one pair of its name, non-empty and neither
/// `.` nor `..`. For the client of `atlex-client`.
#[doc(hidden)]
pub fn expand_path<'p>(
    template: &str,
    pairs: &'p [(&'static str, String)],
) -> Result<Expanded<'p>, String> {
    let segments = parse_template(template)?;
    let mut path = String::with_capacity(template.len() + 16);
    let mut used: Vec<&str> = Vec::new();
    for segment in &segments {
        path.push('/');
        match segment {
            Segment::Literal(text) => path.push_str(text),
            Segment::Variable(name) => {
                let mut values = pairs.iter().filter(|(k, _)| k == name);
                let value = match (values.next(), values.next()) {
                    (Some((_, value)), None) => value,
                    (None, _) => return Err(format!("path parameter `{name}` is not set")),
                    (Some(_), Some(_)) => {
                        return Err(format!("path parameter `{name}` has more than one value"));
                    }
                };
                if value.is_empty() || value == "." || value == ".." {
                    return Err(format!(
                        "path parameter `{name}` cannot be {value:?} (it must be a non-empty path segment)"
                    ));
                }
                encode_segment(value, &mut path);
                used.push(name);
            }
        }
    }
    if segments.is_empty() {
        path.push('/');
    }
    let rest = pairs.iter().filter(|(k, _)| !used.contains(k)).collect();
    Ok((path, rest))
}

/// The variables of a template in a request path, decoded: `None` when the
/// path does not fit the template or a value does not decode.
#[doc(hidden)]
pub fn match_path(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let segments = parse_template(template).ok()?;
    let given: Vec<&str> = match path.strip_prefix('/')? {
        "" => Vec::new(),
        rest => rest.split('/').collect(),
    };
    if given.len() != segments.len() {
        return None;
    }
    let mut values = Vec::new();
    for (segment, text) in segments.iter().zip(given) {
        match segment {
            Segment::Literal(literal) => {
                if *literal != text {
                    return None;
                }
            }
            Segment::Variable(name) => {
                let value = decode_segment(text)?;
                if value.is_empty() {
                    return None;
                }
                values.push((*name, value));
            }
        }
    }
    Some(values)
}

/// The route a template is mounted at in axum: variables renamed by
/// position (`/v1/chats/{p0}/leave`), so that templates differing only in
/// variable names share one route.
#[doc(hidden)]
pub fn route_path(template: &str) -> Option<String> {
    let segments = parse_template(template).ok()?;
    if segments.is_empty() {
        return Some("/".to_owned());
    }
    let mut out = String::new();
    let mut n = 0;
    for segment in segments {
        out.push('/');
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Variable(_) => {
                out.push_str(&format!("{{p{n}}}"));
                n += 1;
            }
        }
    }
    Some(out)
}

/// How a request body may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyFormat {
    /// The lexicon's input encoding, through the endpoint's codec (XRPC).
    Encoding,
    /// JSON, sent as `application/json; charset=utf-8`.
    Json,
    /// An HTML form (`application/x-www-form-urlencoded`): each top-level
    /// field a pair, strings as they are, numbers and booleans as text,
    /// arrays and objects as JSON text.
    Form,
}

impl BodyFormat {
    /// The format's name in binding files (`encoding`, `json`, `form`).
    pub const fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Encoding => "encoding",
            BodyFormat::Json => "json",
            BodyFormat::Form => "form",
        }
    }

    /// The format called `name` in binding files.
    pub fn from_name(name: &str) -> Option<Self> {
        [BodyFormat::Encoding, BodyFormat::Json, BodyFormat::Form]
            .into_iter()
            .find(|f| f.as_str() == name)
    }

    /// The MIME type a server accepts for this format, given the lexicon's
    /// input encoding.
    pub fn accepts(self, encoding: &str) -> &str {
        match self {
            BodyFormat::Encoding => encoding,
            BodyFormat::Json => "application/json",
            BodyFormat::Form => FORM_MIME,
        }
    }
}

/// Whether and how the `Authorization: Bearer` header is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BearerUse {
    /// Never sent.
    Never,
    /// Sent when the client has a token; servers do not require it.
    Optional,
    /// Always sent: the client refuses to call without a token, and servers
    /// answer `AuthenticationRequired` when it is missing.
    Required,
}

impl BearerUse {
    /// The name in binding files (`none`, `optional`, `required`).
    pub const fn as_str(self) -> &'static str {
        match self {
            BearerUse::Never => "none",
            BearerUse::Optional => "optional",
            BearerUse::Required => "required",
        }
    }

    /// The value called `name` in binding files.
    pub fn from_name(name: &str) -> Option<Self> {
        [BearerUse::Never, BearerUse::Optional, BearerUse::Required]
            .into_iter()
            .find(|b| b.as_str() == name)
    }
}

/// How callers authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Auth {
    /// The `Authorization: Bearer` token (the client's access token).
    pub bearer: BearerUse,
    /// A header carrying the client's API key on every call (`X-Api-Key`).
    pub api_key: Option<&'static str>,
}

impl Auth {
    /// XRPC: the access token as `Authorization: Bearer`, when there is one.
    pub const XRPC: Auth = Auth {
        bearer: BearerUse::Optional,
        api_key: None,
    };

    /// A bearer token only, used as `bearer` says.
    pub const fn bearer(bearer: BearerUse) -> Self {
        Auth {
            bearer,
            api_key: None,
        }
    }

    /// An API key in header `header`, on every call, and no bearer token
    /// (add one with [`with_bearer`](Self::with_bearer)).
    pub const fn api_key(header: &'static str) -> Self {
        Auth {
            bearer: BearerUse::Never,
            api_key: Some(header),
        }
    }

    /// Changes how the bearer token is used.
    pub const fn with_bearer(mut self, bearer: BearerUse) -> Self {
        self.bearer = bearer;
        self
    }

    /// What the scheme requires and a request with these headers lacks, if
    /// anything (XRPC's scheme requires nothing).
    pub fn missing(&self, headers: &HeaderMap) -> Option<String> {
        if self.api_key.is_none() && self.bearer != BearerUse::Required {
            return None;
        }
        Credentials::read(self, headers).missing(self)
    }
}

/// Which error names mean the errors common to every endpoint
/// ([`CommonError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommonNames {
    /// XRPC's own names (`InvalidRequest`, `RateLimitExceeded`, …).
    Xrpc,
    /// The API's names for some of them, as `(common name, API name)` pairs
    /// (`("AuthenticationRequired", "not_authed")`); the others keep their
    /// XRPC names.
    Mapped(&'static [(&'static str, &'static str)]),
}

/// How responses carry results and errors.
///
/// Pointers are JSON pointers into the response body (`/error/code`).
///
/// A client reads a response as success when its status is 2xx and, if the
/// envelope has an [`ok_flag`](Self::ok_flag), the flag or one of the
/// [`also_ok`](Self::also_ok) pointers is `true`; the whole body is then the
/// output. Otherwise the error is sorted, in this order: a status listed in
/// [`status_errors`](Self::status_errors) is that common error; a name the
/// endpoint declares is its typed error; a name that stands for a common
/// error ([`common`](Self::common)) is that common error; another name is the
/// endpoint error's unknown case; a body without a name is an HTTP error.
///
/// A server writes an error as an object with the flag `false`, the name and
/// the message at their pointers, with the status of
/// [`error_statuses`](Self::error_statuses) for its name, else
/// [`error_status`](Self::error_status), else the handler's (declared errors)
/// or the common error's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Envelope {
    /// A boolean that is `true` on success (`/ok`, `/success`).
    pub ok_flag: Option<&'static str>,
    /// Other booleans whose `true` also means success (Slack's
    /// `/not_in_channel`).
    pub also_ok: &'static [&'static str],
    /// Where the error name is (`/error`, `/error/code`).
    pub error_name: &'static str,
    /// Where the error message is, if errors have one.
    pub error_message: Option<&'static str>,
    /// The status every error is sent with, unless `error_statuses` says.
    pub error_status: Option<u16>,
    /// The status of particular errors, by name as sent.
    pub error_statuses: &'static [(&'static str, u16)],
    /// Statuses that mean a common error whatever the body says (`(429,
    /// "RateLimitExceeded")`).
    pub status_errors: &'static [(u16, &'static str)],
    /// The names of the common errors.
    pub common: CommonNames,
}

impl Envelope {
    /// XRPC: success is a 2xx status; errors are `{"error", "message"}` with
    /// the XRPC error names.
    pub const XRPC: Envelope = Envelope::new("/error").with_error_message("/message");

    /// An envelope whose error name is at `error_name`, with no flag, no
    /// message and no statuses of its own, and the XRPC common error names.
    pub const fn new(error_name: &'static str) -> Self {
        Envelope {
            ok_flag: None,
            also_ok: &[],
            error_name,
            error_message: None,
            error_status: None,
            error_statuses: &[],
            status_errors: &[],
            common: CommonNames::Xrpc,
        }
    }

    /// Sets the success flag.
    pub const fn with_ok_flag(mut self, pointer: &'static str) -> Self {
        self.ok_flag = Some(pointer);
        self
    }

    /// Sets the other pointers that mean success.
    pub const fn with_also_ok(mut self, pointers: &'static [&'static str]) -> Self {
        self.also_ok = pointers;
        self
    }

    /// Sets where the message is.
    pub const fn with_error_message(mut self, pointer: &'static str) -> Self {
        self.error_message = Some(pointer);
        self
    }

    /// Sets the status of every error.
    pub const fn with_error_status(mut self, status: u16) -> Self {
        self.error_status = Some(status);
        self
    }

    /// Sets the status of particular errors.
    pub const fn with_error_statuses(mut self, statuses: &'static [(&'static str, u16)]) -> Self {
        self.error_statuses = statuses;
        self
    }

    /// Sets the statuses that mean a common error.
    pub const fn with_status_errors(mut self, errors: &'static [(u16, &'static str)]) -> Self {
        self.status_errors = errors;
        self
    }

    /// Uses the API's own names for common errors.
    pub const fn with_common_names(
        mut self,
        names: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.common = CommonNames::Mapped(names);
        self
    }

    /// Whether a 2xx response must be read before it is known to be a
    /// success.
    pub fn checks_success(&self) -> bool {
        self.ok_flag.is_some()
    }

    /// Whether the body of a 2xx response means success.
    pub fn is_success(&self, body: &Value) -> bool {
        let Some(flag) = self.ok_flag else {
            return true;
        };
        std::iter::once(flag)
            .chain(self.also_ok.iter().copied())
            .any(|pointer| body.pointer(pointer) == Some(&Value::Bool(true)))
    }

    /// The name and message of an error body: the name must be a non-empty
    /// string; a message that is not a string is ignored.
    pub fn error_parts(&self, body: &[u8]) -> Option<(String, Option<String>)> {
        let value: Value = serde_json::from_slice(body).ok()?;
        self.error_parts_of(&value)
    }

    /// [`error_parts`](Self::error_parts) of a parsed body.
    pub fn error_parts_of(&self, body: &Value) -> Option<(String, Option<String>)> {
        let name = body
            .pointer(self.error_name)?
            .as_str()
            .filter(|name| !name.is_empty())?;
        let message = self
            .error_message
            .and_then(|pointer| body.pointer(pointer))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some((name.to_owned(), message))
    }

    /// The common error that an error named `name` (as sent) stands for.
    pub fn common_error(&self, name: &str, message: Option<String>) -> Option<CommonError> {
        match self.common {
            CommonNames::Xrpc => CommonError::from_parts(name, message),
            CommonNames::Mapped(names) => match names.iter().find(|(_, sent)| *sent == name) {
                Some((common, _)) => CommonError::from_parts(common, message),
                None => CommonError::from_parts(name, message)
                    .filter(|error| !names.iter().any(|(common, _)| *common == error.name())),
            },
        }
    }

    /// The name a common error is sent with.
    pub fn common_name(&self, error: &CommonError) -> &'static str {
        match self.common {
            CommonNames::Xrpc => error.name(),
            CommonNames::Mapped(names) => names
                .iter()
                .find(|(common, _)| *common == error.name())
                .map_or(error.name(), |(_, sent)| *sent),
        }
    }

    /// The common error (by XRPC name) that a response status stands for.
    pub fn status_error(&self, status: u16) -> Option<&'static str> {
        self.status_errors
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, name)| *name)
    }

    /// The status the envelope gives errors named `name` (as sent), if it
    /// gives one.
    pub fn status_of(&self, name: &str) -> Option<u16> {
        self.error_statuses
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, status)| *status)
            .or(self.error_status)
    }

    /// The body of an error response.
    pub fn error_body(&self, name: &str, message: Option<&str>) -> Vec<u8> {
        let mut body = Value::Object(Map::new());
        if let Some(flag) = self.ok_flag {
            set_pointer(&mut body, flag, Value::Bool(false));
        }
        set_pointer(&mut body, self.error_name, Value::String(name.to_owned()));
        if let (Some(pointer), Some(message)) = (self.error_message, message) {
            set_pointer(&mut body, pointer, Value::String(message.to_owned()));
        }
        // A value of strings and booleans always serializes.
        serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"error":"InternalServerError"}"#.to_vec())
    }
}

/// Sets the value at `pointer`, making objects on the way; a pointer that
/// would go through a value that is not an object is left alone.
fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let Some(rest) = pointer.strip_prefix('/') else {
        return;
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = tokens.split_last() else {
        return;
    };
    let mut node = root;
    for token in path {
        let Value::Object(map) = node else {
            return;
        };
        node = map
            .entry(token.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(map) = node {
        map.insert(last.clone(), value);
    }
}

/// Checks a JSON pointer as bindings use them: `/` then reference tokens
/// (`~0` and `~1` escapes only).
pub fn check_pointer(pointer: &str) -> Result<(), String> {
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "{pointer:?} is not a JSON pointer (it must start with `/`)"
        ));
    };
    for token in rest.split('/') {
        let mut chars = token.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(format!("{pointer:?}: `~` must be followed by 0 or 1"));
            }
        }
    }
    Ok(())
}

/// Checks an HTTP header name.
pub fn check_header_name(name: &str) -> Result<(), String> {
    http::HeaderName::from_bytes(name.as_bytes())
        .map(|_| ())
        .map_err(|_| format!("{name:?} is not a valid HTTP header name"))
}

/// How an endpoint travels over HTTP.
///
/// See the [module documentation](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Binding {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path below the base URL.
    pub path: PathTemplate,
    /// Where the API is served, when it has one address (`https://slack.com/api`).
    pub base_url: Option<&'static str>,
    /// The body formats a server accepts, the client's default first.
    pub body: &'static [BodyFormat],
    /// How callers authenticate.
    pub auth: Auth,
    /// How responses carry results and errors.
    pub envelope: Envelope,
    /// Whether the client checks parameters and input against the lexicon
    /// before sending (and sends nothing when they break it).
    pub check_request: bool,
}

impl Binding {
    /// `method` at the path template `path`, with XRPC's body, auth and
    /// envelope until changed, and requests checked before sending.
    pub const fn http(method: HttpMethod, path: &'static str) -> Self {
        Binding {
            method,
            path: PathTemplate::Template(path),
            base_url: None,
            body: &[BodyFormat::Encoding],
            auth: Auth::XRPC,
            envelope: Envelope::XRPC,
            check_request: true,
        }
    }

    /// Sets the HTTP method.
    pub const fn with_method(mut self, method: HttpMethod) -> Self {
        self.method = method;
        self
    }

    /// Sets the default base URL.
    pub const fn with_base_url(mut self, url: &'static str) -> Self {
        self.base_url = Some(url);
        self
    }

    /// Sets the body formats (the client's default first).
    pub const fn with_body(mut self, formats: &'static [BodyFormat]) -> Self {
        self.body = formats;
        self
    }

    /// Sets the authentication scheme.
    pub const fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the envelope.
    pub const fn with_envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// Sets whether the client checks requests before sending.
    pub const fn with_check_request(mut self, check: bool) -> Self {
        self.check_request = check;
        self
    }

    /// The route as HTTP shows it: `POST /v1/chats/{chatId}/leave`, or
    /// `POST /xrpc/<nsid>` for `nsid`.
    pub fn describe(&self, nsid: &str) -> String {
        match self.path {
            PathTemplate::Xrpc => format!("{} /xrpc/{nsid}", self.method),
            PathTemplate::Template(template) => format!("{} {template}", self.method),
        }
    }
}

/// The credentials of a request, as a scheme reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The token of `Authorization: Bearer <token>`.
    pub bearer: Option<&'a str>,
    /// The API key, from the scheme's header.
    pub api_key: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// Reads the credentials `auth` uses from request headers (a bearer
    /// token is read whatever the scheme).
    pub fn read(auth: &Auth, headers: &'a HeaderMap) -> Self {
        Credentials {
            bearer: bearer_token(headers),
            api_key: auth
                .api_key
                .and_then(|name| headers.get(name))
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|key| !key.is_empty()),
        }
    }

    /// What the scheme requires and the request lacks, if anything.
    pub fn missing(&self, auth: &Auth) -> Option<String> {
        if let Some(header) = auth.api_key
            && self.api_key.is_none()
        {
            return Some(format!(
                "this endpoint requires an API key in the `{header}` header"
            ));
        }
        if auth.bearer == BearerUse::Required && self.bearer.is_none() {
            return Some(
                "this endpoint requires a bearer token (Authorization: Bearer …)".to_owned(),
            );
        }
        None
    }
}

/// The token of an `Authorization: Bearer <token>` header, if the request
/// has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xrpc::EndpointKind;
    use serde_json::json;

    #[test]
    fn templates() {
        assert_eq!(
            check_path_template("/v1/chats/{chatId}/leave"),
            Ok(vec!["chatId"])
        );
        assert_eq!(check_path_template("/conversations.leave"), Ok(vec![]));
        assert_eq!(check_path_template("/"), Ok(vec![]));
        for bad in [
            "",
            "v1/chats",
            "/v1//chats",
            "/v1/chats/",
            "/v1/{a}/{a}",
            "/v1/x{a}",
            "/v1/{a}x",
            "/v1/{1a}",
            "/v1/{}",
            "/v1/a b",
            "/v1/a%20b",
            "/v1/:id",
            "/v1/*rest",
            "/v1/..",
            "/xrpc/com.example.x",
            "/xrpc",
        ] {
            assert!(check_path_template(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expand_and_match() {
        let pairs = vec![("chatId", "456".to_owned()), ("other", "a b".to_owned())];
        let (path, rest) = expand_path("/v1/chats/{chatId}/leave", &pairs).unwrap();
        assert_eq!(path, "/v1/chats/456/leave");
        assert_eq!(rest, vec![&("other", "a b".to_owned())]);

        let odd = vec![("id", "a/b c%é".to_owned())];
        let (path, _) = expand_path("/x/{id}", &odd).unwrap();
        assert_eq!(path, "/x/a%2Fb%20c%25%C3%A9");
        assert_eq!(
            match_path("/x/{id}", &path),
            Some(vec![("id", "a/b c%é".to_owned())])
        );

        for bad in ["", ".", ".."] {
            let pairs = vec![("id", bad.to_owned())];
            assert!(expand_path("/x/{id}", &pairs).is_err(), "{bad:?}");
        }
        assert!(expand_path("/x/{id}", &[]).is_err());
        let twice = vec![("id", "1".to_owned()), ("id", "2".to_owned())];
        assert!(expand_path("/x/{id}", &twice).is_err());

        assert_eq!(match_path("/x/{id}", "/y/1"), None);
        assert_eq!(match_path("/x/{id}", "/x/1/2"), None);
        assert_eq!(match_path("/x/{id}", "/x/%zz"), None);
        assert_eq!(match_path("/x/{id}", "/x/%ff"), None);
        assert_eq!(match_path("/x/{id}", "/x/%4"), None);
        assert_eq!(match_path("/x/{id}", "/x/%+F"), None);
        assert_eq!(match_path("/", "/"), Some(vec![]));
    }

    #[test]
    fn envelopes_read_and_write() {
        let slack = Envelope::new("/error")
            .with_ok_flag("/ok")
            .with_also_ok(&["/not_in_channel"])
            .with_error_status(200)
            .with_error_statuses(&[("ratelimited", 429)])
            .with_common_names(&[("AuthenticationRequired", "not_authed")]);
        assert!(slack.is_success(&json!({"ok": true})));
        assert!(slack.is_success(&json!({"ok": false, "not_in_channel": true})));
        assert!(!slack.is_success(&json!({"ok": false, "error": "x"})));
        assert!(!slack.is_success(&json!({"ok": "true"})));
        assert!(!slack.is_success(&json!([1])));
        assert_eq!(
            slack.error_parts(br#"{"ok":false,"error":"channel_not_found"}"#),
            Some(("channel_not_found".to_owned(), None))
        );
        assert_eq!(slack.status_of("ratelimited"), Some(429));
        assert_eq!(slack.status_of("channel_not_found"), Some(200));
        let body: Value = serde_json::from_slice(&slack.error_body("x", Some("m"))).unwrap();
        assert_eq!(body, json!({"ok": false, "error": "x"}));
        let auth = CommonError::AuthenticationRequired { message: None };
        assert_eq!(slack.common_name(&auth), "not_authed");
        assert_eq!(slack.common_error("not_authed", None), Some(auth));
        // A common error without a name of the API's keeps its own; one with
        // a name is known by that name only.
        assert_eq!(
            slack.common_error("InvalidRequest", None),
            Some(CommonError::InvalidRequest { message: None })
        );
        assert_eq!(slack.common_error("AuthenticationRequired", None), None);

        let bitrix = Envelope::new("/error/code")
            .with_ok_flag("/success")
            .with_error_message("/error/message");
        let body: Value =
            serde_json::from_slice(&bitrix.error_body("BITRIX_ERROR", Some("Chat not found")))
                .unwrap();
        assert_eq!(
            body,
            json!({"success": false, "error": {"code": "BITRIX_ERROR", "message": "Chat not found"}})
        );
        assert_eq!(
            bitrix.error_parts(&serde_json::to_vec(&body).unwrap()),
            Some(("BITRIX_ERROR".to_owned(), Some("Chat not found".to_owned())))
        );
        assert_eq!(bitrix.error_parts(br#"{"error":"flat"}"#), None);

        let xrpc = Envelope::XRPC;
        assert_eq!(
            xrpc.error_body("InvalidConvo", Some("gone")),
            br#"{"error":"InvalidConvo","message":"gone"}"#
        );
        assert_eq!(xrpc.error_body("X", None), br#"{"error":"X"}"#);
        assert!(xrpc.is_success(&json!(null)));
        assert_eq!(
            xrpc.common_error("AuthRequired", None),
            Some(CommonError::AuthenticationRequired { message: None })
        );

        // Pointers that cross each other do not clobber what is there.
        let clash = Envelope::new("/error").with_error_message("/error/message");
        let body: Value = serde_json::from_slice(&clash.error_body("x", Some("m"))).unwrap();
        assert_eq!(body, json!({"error": "x"}));
    }

    #[test]
    fn pointers_and_headers() {
        assert!(check_pointer("/ok").is_ok());
        assert!(check_pointer("/error/code").is_ok());
        assert!(check_pointer("/a~1b/c~0").is_ok());
        assert!(check_pointer("ok").is_err());
        assert!(check_pointer("").is_err());
        assert!(check_pointer("/a~2").is_err());
        assert!(check_header_name("X-Api-Key").is_ok());
        assert!(check_header_name("X Api").is_err());
        assert!(check_header_name("").is_err());
    }

    #[test]
    fn credentials() {
        let mut headers = HeaderMap::new();
        let auth = Auth::api_key("x-api-key").with_bearer(BearerUse::Optional);
        assert!(Credentials::read(&auth, &headers).missing(&auth).is_some());
        headers.insert("x-api-key", http::HeaderValue::from_static("key"));
        let read = Credentials::read(&auth, &headers);
        assert_eq!(read.api_key, Some("key"));
        assert_eq!(read.bearer, None);
        assert_eq!(read.missing(&auth), None);
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer  tok "),
        );
        assert_eq!(Credentials::read(&auth, &headers).bearer, Some("tok"));
        let required = Auth::bearer(BearerUse::Required);
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Basic abc"),
        );
        assert!(
            Credentials::read(&required, &headers)
                .missing(&required)
                .is_some()
        );
    }

    #[test]
    fn xrpc_binding() {
        let query = Binding::xrpc(EndpointKind::Query);
        assert_eq!(query.method, HttpMethod::Get);
        assert_eq!(query.path, PathTemplate::Xrpc);
        assert!(!query.check_request);
        assert_eq!(
            Binding::xrpc(EndpointKind::Procedure).describe("a.b.c"),
            "POST /xrpc/a.b.c"
        );
        assert!(HttpMethod::Get.accepts(&http::Method::HEAD));
        assert!(!HttpMethod::Post.accepts(&http::Method::HEAD));
    }
}
