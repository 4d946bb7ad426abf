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

mod auth;
mod envelope;
mod path;

pub use auth::{Auth, BearerUse, Credentials, bearer_token, check_header_name};
pub use envelope::{CommonNames, Envelope, check_pointer};
pub use path::{Expanded, PathTemplate, check_path_template, expand_path, match_path, route_path};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xrpc::EndpointKind;

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
