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

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use atlex::binding::{BearerUse, BodyFormat, HttpMethod};
use atlex::error::CommonError;
use proc_macro2::TokenStream;
use quote::quote;
use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::diagnostics::{Diagnostic, Diagnostics, Location, pointer_push};
use crate::ir::Ir;
use crate::lexicon::{EndpointSchema, SchemaKind};

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

/// Settings, as given in `api` or in an endpoint (`None`: not given).
#[derive(Clone, Debug, Default)]
struct Settings {
    base_url: Option<String>,
    bearer: Option<BearerUse>,
    api_key: Option<Option<String>>,
    body: Option<(Vec<BodyFormat>, String)>,
    check_request: Option<bool>,
    envelope: Option<EnvelopeSpec>,
    success_when: Vec<String>,
    error_statuses: Vec<(String, u16, String)>,
}

impl Settings {
    /// `self`, with what `over` gives replacing it (lists added).
    fn overlay(&self, over: &Settings) -> Settings {
        let mut success_when = self.success_when.clone();
        success_when.extend(over.success_when.iter().cloned());
        let mut error_statuses = self.error_statuses.clone();
        error_statuses.extend(over.error_statuses.iter().cloned());
        Settings {
            base_url: over.base_url.clone().or_else(|| self.base_url.clone()),
            bearer: over.bearer.or(self.bearer),
            api_key: over.api_key.clone().or_else(|| self.api_key.clone()),
            body: over.body.clone().or_else(|| self.body.clone()),
            check_request: over.check_request.or(self.check_request),
            envelope: over.envelope.clone().or_else(|| self.envelope.clone()),
            success_when,
            error_statuses,
        }
    }
}

/// One endpoint entry of a file.
#[derive(Clone, Debug)]
struct EndpointEntry {
    nsid: String,
    pointer: String,
    method: Option<(HttpMethod, String)>,
    path: Option<(String, String)>,
    settings: Settings,
}

/// A binding file, read.
#[derive(Clone, Debug)]
struct BindingFile {
    file: Option<Arc<Path>>,
    api: Settings,
    endpoints: Vec<EndpointEntry>,
}

/// Keys of the file's root object.
const ROOT_KEYS: &[&str] = &["binding", "description", "api", "endpoints"];
/// Keys of settings (in `api` and in endpoints).
const SETTING_KEYS: &[&str] = &[
    "baseUrl",
    "auth",
    "body",
    "validateRequest",
    "envelope",
    "successWhen",
    "errorStatuses",
];
/// Keys only endpoints have.
const ENDPOINT_KEYS: &[&str] = &["method", "path", "description"];
/// Keys of an envelope object.
const ENVELOPE_KEYS: &[&str] = &[
    "okFlag",
    "successWhen",
    "errorName",
    "errorMessage",
    "errorStatus",
    "errorStatuses",
    "statusErrors",
    "commonErrors",
];

struct Reader<'d> {
    file: Option<Arc<Path>>,
    /// The endpoint being read, for locations.
    nsid: Option<String>,
    diagnostics: &'d mut Diagnostics,
}

impl Reader<'_> {
    fn location(&self, pointer: &str) -> Location {
        let mut location = Location::new(self.file.clone(), pointer);
        location.lexicon = self.nsid.as_ref().map(|nsid| format!("{nsid} (binding)"));
        location
    }

    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        let location = self.location(pointer);
        self.diagnostics.push(Diagnostic::error(location, message));
    }

    fn warning(&mut self, pointer: &str, message: impl Into<String>) {
        let location = self.location(pointer);
        self.diagnostics
            .push(Diagnostic::warning(location, message));
    }

    fn unknown_keys(&mut self, map: &Map<String, Value>, pointer: &str, known: &[&[&str]]) {
        for key in map.keys() {
            if !known.iter().any(|keys| keys.contains(&key.as_str())) {
                self.warning(
                    &pointer_push(pointer, key),
                    format!("unknown key `{key}` is ignored"),
                );
            }
        }
    }

    fn object<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        match value.as_object() {
            Some(map) => Some(map),
            None => {
                self.error(pointer, format!("{what} must be an object, found {value}"));
                None
            }
        }
    }

    fn string(&mut self, value: &Value, pointer: &str, what: &str) -> Option<String> {
        match value.as_str() {
            Some(text) => Some(text.to_owned()),
            None => {
                self.error(pointer, format!("{what} must be a string, found {value}"));
                None
            }
        }
    }

    fn pointer(&mut self, value: &Value, pointer: &str, what: &str) -> Option<String> {
        let text = self.string(value, pointer, what)?;
        match atlex::binding::check_pointer(&text) {
            Ok(()) => Some(text),
            Err(reason) => {
                self.error(pointer, format!("{what}: {reason}"));
                None
            }
        }
    }

    fn pointers(&mut self, value: &Value, pointer: &str, what: &str) -> Vec<String> {
        let Some(items) = value.as_array() else {
            self.error(
                pointer,
                format!("{what} must be an array of JSON pointers, found {value}"),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                self.pointer(item, &pointer_push(pointer, &i.to_string()), what)
            })
            .collect()
    }

    fn status(&mut self, value: &Value, pointer: &str, what: &str) -> Option<u16> {
        match value.as_u64().and_then(|n| u16::try_from(n).ok()) {
            Some(status) if (100..=599).contains(&status) => Some(status),
            _ => {
                self.error(
                    pointer,
                    format!("{what} must be an HTTP status (100 to 599), found {value}"),
                );
                None
            }
        }
    }

    fn file(&mut self, value: &Value) -> Option<BindingFile> {
        let map = self.object(value, "", "a binding file")?;
        self.unknown_keys(map, "", &[ROOT_KEYS]);
        match map.get("binding") {
            Some(v) if v.as_i64() == Some(1) => {}
            Some(v) => self.error(
                "/binding",
                format!("`binding` must be the integer 1, found {v}"),
            ),
            None => self.error("", "missing `binding` (the format version, 1)"),
        }
        if let Some(description) = map.get("description") {
            self.string(description, "/description", "`description`");
        }
        let api = match map.get("api") {
            Some(api) => match self.object(api, "/api", "`api`") {
                Some(api) => {
                    self.unknown_keys(api, "/api", &[SETTING_KEYS]);
                    self.settings(api, "/api")
                }
                None => Settings::default(),
            },
            None => Settings::default(),
        };
        let mut endpoints = Vec::new();
        match map.get("endpoints") {
            None => self.error("", "missing `endpoints` (the bound endpoints, by NSID)"),
            Some(value) => {
                if let Some(entries) = self.object(value, "/endpoints", "`endpoints`") {
                    for (nsid, entry) in entries {
                        let pointer = pointer_push("/endpoints", nsid);
                        if let Err(err) = atlex::types::Nsid::validate(nsid) {
                            self.error(&pointer, format!("`{nsid}` is not a valid NSID: {err}"));
                            continue;
                        }
                        self.nsid = Some(nsid.clone());
                        if let Some(entry) = self.endpoint(nsid, entry, &pointer) {
                            endpoints.push(entry);
                        }
                        self.nsid = None;
                    }
                }
            }
        }
        Some(BindingFile {
            file: self.file.clone(),
            api,
            endpoints,
        })
    }

    fn endpoint(&mut self, nsid: &str, value: &Value, pointer: &str) -> Option<EndpointEntry> {
        let map = self.object(value, pointer, "an endpoint's binding")?;
        self.unknown_keys(map, pointer, &[SETTING_KEYS, ENDPOINT_KEYS]);
        let method = map.get("method").and_then(|v| {
            let at = pointer_push(pointer, "method");
            let name = self.string(v, &at, "`method`")?;
            match HttpMethod::from_name(&name) {
                Some(method) => Some((method, at)),
                None => {
                    self.error(
                        &at,
                        format!("`method` must be GET, POST, PUT, PATCH or DELETE, found {name:?}"),
                    );
                    None
                }
            }
        });
        let path = map.get("path").and_then(|v| {
            let at = pointer_push(pointer, "path");
            let template = self.string(v, &at, "`path`")?;
            match atlex::binding::check_path_template(&template) {
                Ok(_) => Some((template, at)),
                Err(reason) => {
                    self.error(
                        &at,
                        format!("`path` {template:?} is not a valid path template: {reason}"),
                    );
                    None
                }
            }
        });
        if let Some(description) = map.get("description") {
            self.string(
                description,
                &pointer_push(pointer, "description"),
                "`description`",
            );
        }
        let settings = self.settings(map, pointer);
        Some(EndpointEntry {
            nsid: nsid.to_owned(),
            pointer: pointer.to_owned(),
            method,
            path,
            settings,
        })
    }

    fn settings(&mut self, map: &Map<String, Value>, pointer: &str) -> Settings {
        let mut settings = Settings::default();
        if let Some(v) = map.get("baseUrl") {
            let at = pointer_push(pointer, "baseUrl");
            if let Some(url) = self.string(v, &at, "`baseUrl`") {
                match check_base_url(&url) {
                    Ok(()) => settings.base_url = Some(url),
                    Err(reason) => self.error(&at, format!("`baseUrl` {url:?}: {reason}")),
                }
            }
        }
        if let Some(v) = map.get("auth") {
            let at = pointer_push(pointer, "auth");
            if let Some(auth) = self.object(v, &at, "`auth`") {
                self.unknown_keys(auth, &at, &[&["bearer", "apiKey"]]);
                if let Some(v) = auth.get("bearer") {
                    let at = pointer_push(&at, "bearer");
                    if let Some(name) = self.string(v, &at, "`bearer`") {
                        match BearerUse::from_name(&name) {
                            Some(bearer) => settings.bearer = Some(bearer),
                            None => self.error(&at, format!("`bearer` must be \"none\", \"optional\" or \"required\", found {name:?}")),
                        }
                    }
                }
                settings.api_key = Some(None);
                if let Some(v) = auth.get("apiKey") {
                    let at = pointer_push(&at, "apiKey");
                    if let Some(header) = self.string(v, &at, "`apiKey`") {
                        match atlex::binding::check_header_name(&header) {
                            Ok(()) => settings.api_key = Some(Some(header)),
                            Err(reason) => self.error(&at, format!("`apiKey`: {reason}")),
                        }
                    }
                }
                if settings.bearer.is_none() {
                    settings.bearer = Some(BearerUse::Optional);
                }
            }
        }
        if let Some(v) = map.get("body") {
            let at = pointer_push(pointer, "body");
            match v.as_array() {
                Some(items) if !items.is_empty() => {
                    let mut formats = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let at = pointer_push(&at, &i.to_string());
                        let Some(name) = self.string(item, &at, "a body format") else {
                            continue;
                        };
                        match BodyFormat::from_name(&name) {
                            Some(format) if formats.contains(&format) => {
                                self.error(&at, format!("body format {name:?} is listed twice"));
                            }
                            Some(format) => formats.push(format),
                            None => self.error(&at, format!("body format must be \"encoding\", \"json\" or \"form\", found {name:?}")),
                        }
                    }
                    if !formats.is_empty() {
                        settings.body = Some((formats, at));
                    }
                }
                _ => self.error(
                    &at,
                    format!("`body` must be a non-empty array of body formats, found {v}"),
                ),
            }
        }
        if let Some(v) = map.get("validateRequest") {
            let at = pointer_push(pointer, "validateRequest");
            match v.as_bool() {
                Some(b) => settings.check_request = Some(b),
                None => self.error(
                    &at,
                    format!("`validateRequest` must be a boolean, found {v}"),
                ),
            }
        }
        if let Some(v) = map.get("envelope") {
            settings.envelope = self.envelope(v, &pointer_push(pointer, "envelope"));
        }
        if let Some(v) = map.get("successWhen") {
            settings.success_when =
                self.pointers(v, &pointer_push(pointer, "successWhen"), "`successWhen`");
        }
        if let Some(v) = map.get("errorStatuses") {
            settings.error_statuses =
                self.error_statuses(v, &pointer_push(pointer, "errorStatuses"));
        }
        settings
    }

    fn error_statuses(&mut self, value: &Value, pointer: &str) -> Vec<(String, u16, String)> {
        let Some(map) = self.object(value, pointer, "`errorStatuses`") else {
            return Vec::new();
        };
        map.iter()
            .filter_map(|(name, status)| {
                let at = pointer_push(pointer, name);
                if name.is_empty() {
                    self.error(&at, "an error name cannot be empty");
                    return None;
                }
                let status = self.status(status, &at, &format!("the status of `{name}`"))?;
                Some((name.clone(), status, at))
            })
            .collect()
    }

    fn envelope(&mut self, value: &Value, pointer: &str) -> Option<EnvelopeSpec> {
        if let Some(name) = value.as_str() {
            if name == "xrpc" {
                return Some(EnvelopeSpec::xrpc());
            }
            self.error(
                pointer,
                format!("`envelope` must be \"xrpc\" or an object, found {name:?}"),
            );
            return None;
        }
        let map = self.object(value, pointer, "`envelope`")?;
        self.unknown_keys(map, pointer, &[ENVELOPE_KEYS]);
        let get = |key: &str| map.get(key).map(|v| (v, pointer_push(pointer, key)));
        let ok_flag = get("okFlag").and_then(|(v, at)| self.pointer(v, &at, "`okFlag`"));
        let also_ok = get("successWhen")
            .map(|(v, at)| self.pointers(v, &at, "`successWhen`"))
            .unwrap_or_default();
        let error_message =
            get("errorMessage").and_then(|(v, at)| self.pointer(v, &at, "`errorMessage`"));
        let error_status =
            get("errorStatus").and_then(|(v, at)| self.status(v, &at, "`errorStatus`"));
        let error_statuses = get("errorStatuses")
            .map(|(v, at)| self.error_statuses(v, &at))
            .unwrap_or_default()
            .into_iter()
            .map(|(name, status, _)| (name, status))
            .collect();
        let mut status_errors = Vec::new();
        if let Some((v, at)) = get("statusErrors")
            && let Some(entries) = self.object(v, &at, "`statusErrors`")
        {
            for (status, name) in entries {
                let at = pointer_push(&at, status);
                let code = status
                    .parse::<u16>()
                    .ok()
                    .filter(|s| (400..=599).contains(s));
                let Some(code) = code else {
                    self.error(
                        &at,
                        format!(
                            "`statusErrors` keys are error statuses (400 to 599), found {status:?}"
                        ),
                    );
                    continue;
                };
                let Some(name) = self.string(name, &at, "a common error name") else {
                    continue;
                };
                if !CommonError::NAMES.contains(&name.as_str()) {
                    self.error(
                        &at,
                        format!(
                            "`{name}` is not a common error ({})",
                            CommonError::NAMES.join(", ")
                        ),
                    );
                    continue;
                }
                status_errors.push((code, name));
            }
        }
        let mut common_names = None;
        if let Some((v, at)) = get("commonErrors")
            && let Some(entries) = self.object(v, &at, "`commonErrors`")
        {
            let mut names: Vec<(String, String)> = Vec::new();
            for (common, sent) in entries {
                let at = pointer_push(&at, common);
                if !CommonError::NAMES.contains(&common.as_str()) {
                    self.error(
                        &at,
                        format!(
                            "`{common}` is not a common error ({})",
                            CommonError::NAMES.join(", ")
                        ),
                    );
                    continue;
                }
                let Some(sent) = self.string(sent, &at, "an error name") else {
                    continue;
                };
                if sent.is_empty() {
                    self.error(&at, "an error name cannot be empty");
                    continue;
                }
                if let Some((other, _)) = names.iter().find(|(_, s)| *s == sent) {
                    self.error(&at, format!("`{sent}` already stands for `{other}`"));
                    continue;
                }
                names.push((common.clone(), sent));
            }
            common_names = Some(names);
        }
        let error_name = match get("errorName") {
            Some((v, at)) => self.pointer(v, &at, "`errorName`")?,
            None => {
                self.error(
                    pointer,
                    "missing `errorName` (the JSON pointer of the error name)",
                );
                return None;
            }
        };
        // The pointers of one error body must not run through each other.
        let mut written: Vec<(&str, &str)> = vec![("errorName", &error_name)];
        if let Some(flag) = &ok_flag {
            written.push(("okFlag", flag));
        }
        if let Some(message) = &error_message {
            written.push(("errorMessage", message));
        }
        for (i, (a, pa)) in written.iter().enumerate() {
            for (b, pb) in &written[i + 1..] {
                if pa == pb
                    || pb.starts_with(&format!("{pa}/"))
                    || pa.starts_with(&format!("{pb}/"))
                {
                    self.error(
                        pointer,
                        format!(
                            "`{a}` ({pa}) and `{b}` ({pb}) overlap: an error body cannot hold both"
                        ),
                    );
                }
            }
        }
        if ok_flag.is_none() && !also_ok.is_empty() {
            self.warning(
                &pointer_push(pointer, "successWhen"),
                "`successWhen` has no effect without `okFlag`",
            );
        }
        Some(EnvelopeSpec {
            ok_flag,
            also_ok,
            error_name,
            error_message,
            error_status,
            error_statuses,
            status_errors,
            common_names,
        })
    }
}

/// Checks a base URL: `http` or `https`, a host, no query or fragment.
fn check_base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("a base URL starts with https:// or http://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("a base URL has a host".to_owned());
    }
    if rest.contains(['?', '#']) {
        return Err("a base URL takes no query or fragment".to_owned());
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a base URL has no spaces".to_owned());
    }
    Ok(())
}

/// Reads one binding file; `None` when nothing usable could be read.
fn parse_file(
    file: Option<Arc<Path>>,
    text: &str,
    diagnostics: &mut Diagnostics,
) -> Option<BindingFile> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(err) => {
            let mut location = Location::new(file, "");
            location.line_col = Some((err.line(), err.column()));
            diagnostics.push(Diagnostic::error(
                location,
                format!("not valid JSON: {err}"),
            ));
            return None;
        }
    };
    let mut reader = Reader {
        file,
        nsid: None,
        diagnostics,
    };
    reader.file(&value)
}

/// Reads every binding file of the catalog and checks each binding against
/// its endpoint's lexicon. Endpoints outside `in_scope` (generated
/// elsewhere) are skipped with a warning.
pub fn resolve(
    catalog: &Catalog,
    in_scope: &dyn Fn(&str) -> bool,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, EndpointBinding> {
    let mut out: BTreeMap<String, EndpointBinding> = BTreeMap::new();
    let mut first_seen: BTreeMap<String, Location> = BTreeMap::new();
    let mut routes: BTreeMap<(HttpMethod, String), (String, Location)> = BTreeMap::new();
    for (file, text) in catalog.binding_sources() {
        let Some(parsed) = parse_file(file.clone(), text, diagnostics) else {
            continue;
        };
        for entry in &parsed.endpoints {
            let mut reader = Reader {
                file: parsed.file.clone(),
                nsid: Some(entry.nsid.clone()),
                diagnostics,
            };
            let location = reader.location(&entry.pointer);
            if let Some(first) = first_seen.get(&entry.nsid) {
                reader.diagnostics.push(
                    Diagnostic::error(location, format!("`{}` is bound twice", entry.nsid))
                        .with_related(first.clone(), "first bound here"),
                );
                continue;
            }
            first_seen.insert(entry.nsid.clone(), location.clone());
            if !in_scope(&entry.nsid) {
                reader.warning(
                    &entry.pointer,
                    format!(
                        "`{}` is generated elsewhere; its binding is ignored here",
                        entry.nsid
                    ),
                );
                continue;
            }
            let Some(binding) = check(&mut reader, catalog, &parsed.api, entry) else {
                continue;
            };
            if let Some(path) = &binding.path
                && let Some(route) = normalized_route(path)
            {
                let key = (binding.method, route);
                if let Some((other, first)) = routes.get(&key) {
                    let message = format!(
                        "`{}` and `{other}` are both bound to {} {path}",
                        entry.nsid, binding.method
                    );
                    reader.diagnostics.push(
                        Diagnostic::error(location, message)
                            .with_related(first.clone(), "bound here"),
                    );
                    continue;
                }
                routes.insert(key, (entry.nsid.clone(), location));
            }
            out.insert(entry.nsid.clone(), binding);
        }
    }
    out
}

/// A template with its variables unnamed, to find two bindings of one route.
fn normalized_route(template: &str) -> Option<String> {
    atlex::binding::check_path_template(template).ok()?;
    Some(
        template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "{}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Combines an entry with its file's settings and checks it against the
/// lexicon.
fn check(
    reader: &mut Reader<'_>,
    catalog: &Catalog,
    api: &Settings,
    entry: &EndpointEntry,
) -> Option<EndpointBinding> {
    let nsid = entry.nsid.as_str();
    let Some(lexicon) = catalog.get(nsid) else {
        reader.error(&entry.pointer, format!("no lexicon `{nsid}` is loaded"));
        return None;
    };
    let main = lexicon.document.def("main").map(|d| &d.schema.kind);
    let (schema, is_query) = match main {
        Some(SchemaKind::Query(e)) => (e, true),
        Some(SchemaKind::Procedure(e)) => (e, false),
        Some(other) => {
            reader.error(
                &entry.pointer,
                format!(
                    "`{nsid}` is a {}; only queries and procedures can be bound",
                    other.type_name()
                ),
            );
            return None;
        }
        None => {
            reader.error(
                &entry.pointer,
                format!("`{nsid}` has no main definition to bind"),
            );
            return None;
        }
    };
    let settings = api.overlay(&entry.settings);
    let mut ok = true;

    let method = entry.method.as_ref().map_or(
        if is_query {
            HttpMethod::Get
        } else {
            HttpMethod::Post
        },
        |(m, _)| *m,
    );
    if !method.has_body() && schema.input.is_some() {
        let at = entry
            .method
            .as_ref()
            .map_or(entry.pointer.as_str(), |(_, at)| at);
        reader.error(
            at,
            format!("`{nsid}` takes an input, which a {method} request cannot carry"),
        );
        ok = false;
    }

    if let Some((template, at)) = &entry.path {
        ok &= check_path_variables(reader, schema, template, at);
    }

    let input_encoding = schema.input.as_ref().map(|b| b.encoding.as_str());
    let body = match &settings.body {
        Some((formats, at)) => {
            let structured = formats.iter().any(|f| *f != BodyFormat::Encoding);
            match input_encoding {
                None => reader.warning(at, format!("`{nsid}` has no input; `body` has no effect")),
                Some(encoding) if structured && encoding != "application/json" => {
                    reader.error(
                        at,
                        format!(
                            "`json` and `form` bodies need a JSON input; `{nsid}` takes {encoding}"
                        ),
                    );
                    ok = false;
                }
                Some(_) => {}
            }
            formats.clone()
        }
        None => vec![BodyFormat::Encoding],
    };

    let mut envelope = settings.envelope.clone().unwrap_or_else(EnvelopeSpec::xrpc);
    for pointer in &settings.success_when {
        if !envelope.also_ok.contains(pointer) {
            envelope.also_ok.push(pointer.clone());
        }
    }
    if envelope.ok_flag.is_none() && !settings.success_when.is_empty() {
        reader.warning(
            &entry.pointer,
            "`successWhen` has no effect: the envelope has no `okFlag`",
        );
    }
    let declared: Vec<&str> = schema.errors.iter().map(|e| e.name.as_str()).collect();
    for (name, status, at) in &settings.error_statuses {
        if !declared.contains(&name.as_str()) && at.starts_with(&entry.pointer) {
            reader.warning(at, format!("`{nsid}` declares no error `{name}`"));
        }
        envelope.error_statuses.retain(|(n, _)| n != name);
        envelope.error_statuses.push((name.clone(), *status));
    }
    if let Some(flag) = &envelope.ok_flag {
        ok &= check_output_field(reader, schema, flag, &entry.pointer);
    }

    let (bearer, api_key) = match (&settings.bearer, &settings.api_key) {
        (None, None) => (BearerUse::Optional, None),
        (bearer, key) => (bearer.unwrap_or(BearerUse::Optional), key.clone().flatten()),
    };
    ok.then(|| EndpointBinding {
        nsid: nsid.to_owned(),
        method,
        is_query,
        path: entry.path.as_ref().map(|(t, _)| t.clone()),
        base_url: settings.base_url.clone(),
        body,
        bearer,
        api_key,
        envelope,
        check_request: settings.check_request.unwrap_or(true),
    })
}

/// Every path variable is a required scalar parameter.
fn check_path_variables(
    reader: &mut Reader<'_>,
    schema: &EndpointSchema,
    template: &str,
    at: &str,
) -> bool {
    let Ok(variables) = atlex::binding::check_path_template(template) else {
        return false;
    };
    let params = schema.parameters.as_deref().and_then(|p| match &p.kind {
        SchemaKind::Params(o) => Some(o),
        _ => None,
    });
    let mut ok = true;
    for variable in variables {
        let problem = match params.and_then(|p| p.property(variable).map(|s| (p, s))) {
            None => Some("names no parameter of the endpoint".to_owned()),
            Some((params, schema)) => {
                let scalar = matches!(
                    schema.kind,
                    SchemaKind::Integer(_) | SchemaKind::String(_) | SchemaKind::Boolean(_)
                );
                if !scalar {
                    Some(format!(
                        "is a parameter of type `{}`; path variables are integers, strings or booleans",
                        schema.kind.type_name()
                    ))
                } else if !params.is_required(variable) {
                    Some("is an optional parameter; path variables must be required".to_owned())
                } else {
                    None
                }
            }
        };
        if let Some(problem) = problem {
            reader.error(at, format!("path variable `{{{variable}}}` {problem}"));
            ok = false;
        }
    }
    ok
}

/// A success flag needs a JSON output; a one-level flag that is not one of
/// its fields gets a warning.
fn check_output_field(
    reader: &mut Reader<'_>,
    schema: &EndpointSchema,
    flag: &str,
    pointer: &str,
) -> bool {
    let nsid = reader.nsid.clone().unwrap_or_default();
    match schema.output.as_ref().map(|b| b.encoding.as_str()) {
        Some("application/json") => {}
        Some(encoding) => {
            reader.error(
                pointer,
                format!(
                    "`{nsid}` answers {encoding}; an envelope with `okFlag` needs a JSON output"
                ),
            );
            return false;
        }
        None => {
            reader.error(
                pointer,
                format!("`{nsid}` has no output; an envelope with `okFlag` needs a JSON output"),
            );
            return false;
        }
    }
    let Some(name) = flag.strip_prefix('/').filter(|n| !n.contains('/')) else {
        return true;
    };
    let object = schema
        .output
        .as_ref()
        .and_then(|b| b.schema.as_deref())
        .and_then(|s| match &s.kind {
            SchemaKind::Object(o) => Some(o),
            _ => None,
        });
    if let Some(object) = object
        && object.property(name).is_none()
    {
        reader.warning(
            pointer,
            format!("the output of `{nsid}` has no field `{name}`, the envelope's success flag"),
        );
    }
    true
}

/// Resolves the catalog's bindings and attaches each to its endpoint in the
/// IR.
pub fn attach(
    ir: &mut Ir,
    catalog: &Catalog,
    in_scope: &dyn Fn(&str) -> bool,
    diagnostics: &mut Diagnostics,
) {
    let mut bindings = resolve(catalog, in_scope, diagnostics);
    if bindings.is_empty() {
        return;
    }
    for (nsid, module) in ir.modules.iter_mut() {
        for item in &mut module.items {
            if let crate::ir::Item::Endpoint(endpoint) = item
                && let Some(binding) = bindings.remove(nsid)
            {
                endpoint.binding = Some(Box::new(binding));
            }
        }
    }
}

/// The `Binding` value of an endpoint, as generated code writes it: the
/// runtime's `const fn` builders, from `rt` (`::atlex::rt`).
pub fn tokens(binding: &EndpointBinding, rt: &TokenStream) -> TokenStream {
    let method = match binding.method {
        HttpMethod::Get => quote!(Get),
        HttpMethod::Post => quote!(Post),
        HttpMethod::Put => quote!(Put),
        HttpMethod::Patch => quote!(Patch),
        HttpMethod::Delete => quote!(Delete),
    };
    let mut out = match &binding.path {
        Some(path) => quote!(#rt::Binding::http(#rt::HttpMethod::#method, #path)),
        None => {
            let (kind, xrpc_method) = if binding.is_query {
                (quote!(Query), HttpMethod::Get)
            } else {
                (quote!(Procedure), HttpMethod::Post)
            };
            let mut out = quote!(#rt::Binding::xrpc(#rt::EndpointKind::#kind));
            if binding.method != xrpc_method {
                out.extend(quote!(.with_method(#rt::HttpMethod::#method)));
            }
            out
        }
    };
    if let Some(url) = &binding.base_url {
        out.extend(quote!(.with_base_url(#url)));
    }
    if binding.body != [BodyFormat::Encoding] {
        let formats = binding.body.iter().map(|f| match f {
            BodyFormat::Encoding => quote!(#rt::BodyFormat::Encoding),
            BodyFormat::Json => quote!(#rt::BodyFormat::Json),
            BodyFormat::Form => quote!(#rt::BodyFormat::Form),
        });
        out.extend(quote!(.with_body(&[#(#formats),*])));
    }
    let bearer = match binding.bearer {
        BearerUse::Never => quote!(#rt::BearerUse::Never),
        BearerUse::Optional => quote!(#rt::BearerUse::Optional),
        BearerUse::Required => quote!(#rt::BearerUse::Required),
    };
    match (&binding.api_key, binding.bearer) {
        (None, BearerUse::Optional) => {}
        (None, _) => out.extend(quote!(.with_auth(#rt::Auth::bearer(#bearer)))),
        (Some(header), BearerUse::Never) => {
            out.extend(quote!(.with_auth(#rt::Auth::api_key(#header))))
        }
        (Some(header), _) => {
            out.extend(quote!(.with_auth(#rt::Auth::api_key(#header).with_bearer(#bearer))));
        }
    }
    if binding.envelope != EnvelopeSpec::xrpc() {
        let envelope = envelope_tokens(&binding.envelope, rt);
        out.extend(quote!(.with_envelope(#envelope)));
    }
    let default_check = binding.path.is_some();
    if binding.check_request != default_check {
        let check = binding.check_request;
        out.extend(quote!(.with_check_request(#check)));
    }
    out
}

fn envelope_tokens(envelope: &EnvelopeSpec, rt: &TokenStream) -> TokenStream {
    let name = &envelope.error_name;
    let mut out = quote!(#rt::Envelope::new(#name));
    if let Some(flag) = &envelope.ok_flag {
        out.extend(quote!(.with_ok_flag(#flag)));
    }
    if !envelope.also_ok.is_empty() {
        let pointers = &envelope.also_ok;
        out.extend(quote!(.with_also_ok(&[#(#pointers),*])));
    }
    if let Some(message) = &envelope.error_message {
        out.extend(quote!(.with_error_message(#message)));
    }
    let status = |n: u16| proc_macro2::Literal::u16_unsuffixed(n);
    if let Some(code) = envelope.error_status {
        let code = status(code);
        out.extend(quote!(.with_error_status(#code)));
    }
    if !envelope.error_statuses.is_empty() {
        let pairs = envelope.error_statuses.iter().map(|(name, code)| {
            let code = status(*code);
            quote!((#name, #code))
        });
        out.extend(quote!(.with_error_statuses(&[#(#pairs),*])));
    }
    if !envelope.status_errors.is_empty() {
        let pairs = envelope.status_errors.iter().map(|(code, name)| {
            let code = status(*code);
            quote!((#code, #name))
        });
        out.extend(quote!(.with_status_errors(&[#(#pairs),*])));
    }
    if let Some(names) = &envelope.common_names {
        let pairs = names.iter().map(|(common, sent)| quote!((#common, #sent)));
        out.extend(quote!(.with_common_names(&[#(#pairs),*])));
    }
    out
}

/// A one-line description of a binding for docs: `POST /v1/chats/{chatId}/leave`.
pub fn describe(binding: &EndpointBinding) -> String {
    match &binding.path {
        Some(path) => format!("{} {path}", binding.method),
        None => format!("{} /xrpc/{}", binding.method, binding.nsid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert!(check_base_url("https://slack.com/api").is_ok());
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        for bad in [
            "slack.com",
            "https://",
            "https:///x",
            "https://a?b",
            "https://a#b",
            "ftp://a",
            "https://a b",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn routes_normalize() {
        assert_eq!(
            normalized_route("/v1/chats/{chatId}/leave").as_deref(),
            Some("/v1/chats/{}/leave")
        );
        assert_eq!(
            normalized_route("/v1/chats/{id}/leave"),
            normalized_route("/v1/chats/{chatId}/leave")
        );
        assert_eq!(normalized_route("bad"), None);
    }
}
