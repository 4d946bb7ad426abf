//! How responses carry results and errors ([`Envelope`]): reading a
//! response as success or a named error, and writing an error body.

use serde_json::{Map, Value};

use crate::error::CommonError;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn pointers() {
        assert!(check_pointer("/ok").is_ok());
        assert!(check_pointer("/error/code").is_ok());
        assert!(check_pointer("/a~1b/c~0").is_ok());
        assert!(check_pointer("ok").is_err());
        assert!(check_pointer("").is_err());
        assert!(check_pointer("/a~2").is_err());
    }
}
