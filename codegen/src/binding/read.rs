//! Reading a binding file: its JSON into the file's settings and its
//! endpoint entries, every problem reported with file, line, column and
//! pointer (through the shared `json::Reader`).

use std::path::Path;
use std::sync::Arc;

use atlex::binding::{BearerUse, BodyFormat, HttpMethod};
use atlex::error::CommonError;

use super::EnvelopeSpec;
use crate::diagnostics::{Diagnostics, pointer_push};
use crate::json::{self, Object, Subject, Value};

/// Settings, as given in `api` or in an endpoint (`None`: not given).
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) base_url: Option<String>,
    pub(crate) bearer: Option<BearerUse>,
    pub(crate) api_key: Option<Option<String>>,
    pub(crate) body: Option<(Vec<BodyFormat>, String)>,
    pub(crate) check_request: Option<bool>,
    pub(crate) envelope: Option<EnvelopeSpec>,
    pub(crate) success_when: Vec<String>,
    pub(crate) error_statuses: Vec<(String, u16, String)>,
}

impl Settings {
    /// `self`, with what `over` gives replacing it (lists added).
    pub(crate) fn overlay(&self, over: &Settings) -> Settings {
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
pub(crate) struct EndpointEntry {
    pub(crate) nsid: String,
    pub(crate) pointer: String,
    pub(crate) method: Option<(HttpMethod, String)>,
    pub(crate) path: Option<(String, String)>,
    pub(crate) settings: Settings,
}

/// A binding file, read.
#[derive(Clone, Debug)]
pub(crate) struct BindingFile {
    pub(crate) file: Option<Arc<Path>>,
    pub(crate) api: Settings,
    pub(crate) endpoints: Vec<EndpointEntry>,
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

/// The binding reader: the shared JSON reader, and the format's rules on
/// top.
pub(crate) struct Reader<'a> {
    pub(crate) json: json::Reader<'a>,
}

json::wraps_reader!(Reader);

impl Reader<'_> {
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
        self.unknown_keys(map, "", &[ROOT_KEYS], "");
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
                    self.unknown_keys(api, "/api", &[SETTING_KEYS], "");
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
                        self.subject = Subject::Binding(nsid.clone());
                        if let Some(entry) = self.endpoint(nsid, entry, &pointer) {
                            endpoints.push(entry);
                        }
                        self.subject = Subject::None;
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
        self.unknown_keys(map, pointer, &[SETTING_KEYS, ENDPOINT_KEYS], "");
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

    fn settings(&mut self, map: &Object, pointer: &str) -> Settings {
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
                self.unknown_keys(auth, &at, &[&["bearer", "apiKey"]], "");
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
        self.unknown_keys(map, pointer, &[ENVELOPE_KEYS], "");
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
pub(crate) fn check_base_url(url: &str) -> Result<(), String> {
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
pub(crate) fn parse_file(
    file: Option<Arc<Path>>,
    text: &str,
    diagnostics: &mut Diagnostics,
) -> Option<BindingFile> {
    let (value, repeated) = json::Reader::parse(text, file.clone(), diagnostics)?;
    let mut reader = Reader {
        json: json::Reader::new(&value, text, file, Subject::None, diagnostics),
    };
    let parsed = reader.file(&value)?;
    // A key written twice leaves the file's meaning open: nothing of it is used.
    (!repeated).then_some(parsed)
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
}
