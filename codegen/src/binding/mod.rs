//! HTTP bindings: how endpoints that are not XRPC travel over the wire.
//!
//! A lexicon describes an endpoint's parameters, input, output and errors; a
//! binding file says how they travel as HTTP, so the generated endpoint can
//! be called and served through another API's conventions (see
//! `atlex::binding` for what the runtime does with it). Endpoints without a
//! binding stay XRPC.
//!
//! # Files
//!
//! Binding files are named `*.binding.json` and sit anywhere among the
//! lexicons (the catalog does not read them as lexicons); one file usually
//! covers one API. Example, `com/bitrix24/bitrix24.binding.json`:
//!
//! ```json
//! {
//!   "binding": 1,
//!   "description": "Bitrix24 REST API (vibecode gateway)",
//!   "api": {
//!     "baseUrl": "https://vibecode.bitrix24.com",
//!     "auth": { "apiKey": "X-Api-Key", "bearer": "optional" },
//!     "envelope": {
//!       "okFlag": "/success",
//!       "errorName": "/error/code",
//!       "errorMessage": "/error/message",
//!       "errorStatuses": { "BITRIX_ERROR": 422, "BITRIX_UNAVAILABLE": 502,
//!                          "SCOPE_DENIED": 403, "TOKEN_MISSING": 401 }
//!     }
//!   },
//!   "endpoints": {
//!     "com.bitrix24.chats.leave": { "method": "POST", "path": "/v1/chats/{chatId}/leave" }
//!   }
//! }
//! ```
//!
//! - `binding` (required): the format version, `1`.
//! - `description`: free text.
//! - `api`: settings every endpoint of the file starts from.
//! - `endpoints` (required): per NSID, `method` (`GET`, `POST`, `PUT`,
//!   `PATCH`, `DELETE`; by default `GET` for a query and `POST` for a
//!   procedure), `path` (a template below the base URL; by default XRPC's
//!   `/xrpc/<nsid>`), and any setting, which replaces the file's.
//!
//! Settings:
//!
//! - `baseUrl`: where the API is served (`https://slack.com/api`).
//! - `auth`: `bearer` (`none`, `optional`, `required`; default `optional`)
//!   and `apiKey`, the header of an API key sent on every call.
//! - `body`: the formats the input may travel in, the client's default
//!   first: `encoding` (the lexicon's input encoding, as XRPC), `json`
//!   (`application/json; charset=utf-8`), `form`
//!   (`application/x-www-form-urlencoded`). Default `["encoding"]`.
//! - `validateRequest`: whether clients check parameters and input against
//!   the lexicon before sending (default `true`).
//! - `envelope`: `"xrpc"` (the default), or an object: `okFlag` (the JSON
//!   pointer of a boolean that is `true` on success), `successWhen` (pointers
//!   of other booleans whose `true` is a success too), `errorName` (required:
//!   where the error name is), `errorMessage`, `errorStatus` (the status of
//!   every error), `errorStatuses` (per error name), `statusErrors` (statuses
//!   that mean a common error, `{"429": "RateLimitExceeded"}`) and
//!   `commonErrors` (the API's names for the common errors,
//!   `{"AuthenticationRequired": "not_authed"}`).
//! - Beside `envelope`, `successWhen` and `errorStatuses` add to the
//!   envelope's own (Slack's `not_in_channel` is a success of one method).
//!
//! Path variables name `parameters` of the endpoint, which must be required
//! and scalar (`integer`, `string`, `boolean`); the other parameters go in
//! the query string, the input in the body.
//!
//! Every problem is reported with its file, line, column and JSON pointer,
//! all together, like the lexicon reader's.

//!
//! # Phases
//!
//! - [`read`]: a binding file's JSON into settings and endpoint entries;
//! - [`check`]: each entry combined with its file's settings and checked
//!   against the endpoint's lexicon, into an [`EndpointBinding`] (the IR
//!   attaches each to its endpoint);
//! - [`emit`]: the `Binding` value generated code writes.

use atlex::binding::{BearerUse, BodyFormat, HttpMethod};

pub mod check;
pub mod emit;
pub mod read;

pub use check::resolve;
pub use emit::{describe, tokens};

/// The binding of one endpoint, resolved: file settings, endpoint settings
/// and defaults combined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointBinding {
    /// The endpoint's NSID.
    pub nsid: String,
    /// The HTTP method.
    pub method: HttpMethod,
    /// Whether the endpoint is a query (XRPC's method is then `GET`, else
    /// `POST`).
    pub is_query: bool,
    /// The path template; `None` for XRPC's `/xrpc/<nsid>`.
    pub path: Option<String>,
    /// The default base URL.
    pub base_url: Option<String>,
    /// The body formats, the client's default first.
    pub body: Vec<BodyFormat>,
    /// How the bearer token is used.
    pub bearer: BearerUse,
    /// The API key header, if any.
    pub api_key: Option<String>,
    /// The response envelope.
    pub envelope: EnvelopeSpec,
    /// Whether clients check requests before sending.
    pub check_request: bool,
}

/// A response envelope as a binding file describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSpec {
    /// The success flag.
    pub ok_flag: Option<String>,
    /// Other pointers whose `true` is a success.
    pub also_ok: Vec<String>,
    /// Where the error name is.
    pub error_name: String,
    /// Where the error message is.
    pub error_message: Option<String>,
    /// The status of every error.
    pub error_status: Option<u16>,
    /// The status of particular errors.
    pub error_statuses: Vec<(String, u16)>,
    /// Statuses that mean a common error.
    pub status_errors: Vec<(u16, String)>,
    /// The API's names of common errors; `None` for XRPC's.
    pub common_names: Option<Vec<(String, String)>>,
}

impl EnvelopeSpec {
    /// XRPC's envelope.
    pub fn xrpc() -> Self {
        Self {
            ok_flag: None,
            also_ok: Vec::new(),
            error_name: "/error".to_owned(),
            error_message: Some("/message".to_owned()),
            error_status: None,
            error_statuses: Vec::new(),
            status_errors: Vec::new(),
            common_names: None,
        }
    }
}
