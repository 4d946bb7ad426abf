//! The two forms a permission is written in, read through one interface:
//! the scope string (`resource:positional?name=value&…`) and a permission
//! object of a permission-set lexicon (`{"type": "permission", "resource":
//! "repo", "collection": […]}`); and the printer of the string form.
//!
//! The string form: the resource name runs to the first `:` or `?`; after a
//! `:` and up to the first `?` comes the positional value, percent-encoded as
//! a URI component; after the `?`, parameters as in an HTML form
//! (`application/x-www-form-urlencoded`: `&`-separated, `+` for a space), a
//! repeated name giving a list. The printer writes the normal form: the
//! positional part and the query percent-encoded, then the characters
//! `: / + , @ %` written back as themselves.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

/// One value of a parameter, as a source holds it: the checks of the
/// grammar accept strings only, so anything else is kept only to be refused.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Param<'a> {
    Str(&'a str),
    /// A JSON number, boolean, `null`, array or object where a string is due.
    NotString,
}

impl<'a> Param<'a> {
    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            Self::Str(s) => Some(s),
            Self::NotString => None,
        }
    }
}

/// What a source holds for a parameter name.
pub(crate) enum Lookup<'a> {
    /// Not given.
    Absent,
    /// Given in a shape the lookup cannot take: a repeated parameter or an
    /// array where one value is due, a single JSON value where a list is.
    WrongShape,
    Values(Vec<Param<'a>>),
}

/// A permission in one of its written forms.
pub(crate) trait Source {
    /// The resource name (`repo`, `rpc`, …).
    fn resource(&self) -> &str;
    /// The positional value, decoded.
    fn positional(&self) -> Option<&str>;
    /// The parameter names given, in order (a repeated name more than once).
    fn names(&self) -> Vec<&str>;
    /// The one value of `name`.
    fn single(&self, name: &str) -> Lookup<'_>;
    /// The values of `name`, a list.
    fn multi(&self, name: &str) -> Lookup<'_>;
}

/// A scope string split into its parts.
#[derive(Debug)]
pub(crate) struct ScopeString<'s> {
    resource: &'s str,
    positional: Option<String>,
    params: Vec<(String, String)>,
}

/// Why a scope string could not be split: its positional part is not a
/// percent-encoded UTF-8 string.
#[derive(Debug)]
pub(crate) struct BadEncoding;

impl<'s> ScopeString<'s> {
    pub(crate) fn split(scope: &'s str) -> Result<Self, BadEncoding> {
        let question = scope.find('?');
        let colon = scope.find(':');
        let resource_end = match (colon, question) {
            (Some(c), Some(q)) => c.min(q),
            (Some(i), None) | (None, Some(i)) => i,
            (None, None) => {
                return Ok(Self {
                    resource: scope,
                    positional: None,
                    params: Vec::new(),
                });
            }
        };
        let positional = match (colon, question) {
            (Some(c), None) => Some(decode_component(&scope[c + 1..])?),
            (Some(c), Some(q)) if c < q => Some(decode_component(&scope[c + 1..q])?),
            _ => None,
        };
        let params = match question {
            Some(q) if q + 1 < scope.len() => {
                let query = &scope[q + 1..];
                // As a browser's URLSearchParams reads a query: one leading
                // `?` is not part of it.
                let query = query.strip_prefix('?').unwrap_or(query);
                form_urlencoded::parse(query.as_bytes())
                    .map(|(name, value)| (name.into_owned(), value.into_owned()))
                    .collect()
            }
            _ => Vec::new(),
        };
        Ok(Self {
            resource: &scope[..resource_end],
            positional,
            params,
        })
    }

    fn values(&self, name: &str) -> Vec<Param<'_>> {
        self.params
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| Param::Str(v))
            .collect()
    }
}

impl Source for ScopeString<'_> {
    fn resource(&self) -> &str {
        self.resource
    }

    fn positional(&self) -> Option<&str> {
        self.positional.as_deref()
    }

    fn names(&self) -> Vec<&str> {
        self.params.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn single(&self, name: &str) -> Lookup<'_> {
        match self.values(name) {
            values if values.is_empty() => Lookup::Absent,
            values if values.len() > 1 => Lookup::WrongShape,
            values => Lookup::Values(values),
        }
    }

    fn multi(&self, name: &str) -> Lookup<'_> {
        match self.values(name) {
            values if values.is_empty() => Lookup::Absent,
            values => Lookup::Values(values),
        }
    }
}

/// Decodes a URI component: every `%` starts two hex digits, and the bytes
/// they give are UTF-8.
fn decode_component(s: &str) -> Result<String, BadEncoding> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(BadEncoding)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(BadEncoding);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_encoding::percent_decode(bytes)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| BadEncoding)
}

/// A permission object of a permission-set lexicon. `type` and `resource`
/// are not parameters.
pub(crate) struct LexiconPermission<'a> {
    resource: &'a str,
    object: &'a Map<String, Value>,
}

impl<'a> LexiconPermission<'a> {
    /// The object, when its `resource` is a string.
    pub(crate) fn new(object: &'a Map<String, Value>) -> Option<Self> {
        let resource = object.get("resource")?.as_str()?;
        Some(Self { resource, object })
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        match name {
            "type" | "resource" => None,
            _ => self.object.get(name),
        }
    }
}

fn param(value: &Value) -> Param<'_> {
    match value {
        Value::String(s) => Param::Str(s),
        _ => Param::NotString,
    }
}

impl Source for LexiconPermission<'_> {
    fn resource(&self) -> &str {
        self.resource
    }

    fn positional(&self) -> Option<&str> {
        None
    }

    fn names(&self) -> Vec<&str> {
        self.object
            .keys()
            .map(String::as_str)
            .filter(|name| self.get(name).is_some())
            .collect()
    }

    fn single(&self, name: &str) -> Lookup<'_> {
        match self.get(name) {
            None => Lookup::Absent,
            Some(Value::Array(_) | Value::Null) => Lookup::WrongShape,
            Some(value) => Lookup::Values(vec![param(value)]),
        }
    }

    fn multi(&self, name: &str) -> Lookup<'_> {
        match self.get(name) {
            None => Lookup::Absent,
            Some(Value::Array(items)) => Lookup::Values(items.iter().map(param).collect()),
            Some(_) => Lookup::WrongShape,
        }
    }
}

/// Characters a URI component leaves as they are.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Writes a permission in its normal string form.
pub(crate) struct Printer {
    resource: &'static str,
    positional: Option<String>,
    params: Vec<(&'static str, String)>,
}

impl Printer {
    pub(crate) fn new(resource: &'static str) -> Self {
        Self {
            resource,
            positional: None,
            params: Vec::new(),
        }
    }

    pub(crate) fn positional(&mut self, value: &str) {
        self.positional = Some(value.to_owned());
    }

    pub(crate) fn param(&mut self, name: &'static str, value: &str) {
        self.params.push((name, value.to_owned()));
    }

    /// A list: the positional value when it is the positional parameter and
    /// has one item, else one parameter per distinct item, in order. (A list
    /// of one item repeated is written as parameters, as the reference
    /// implementation writes it.)
    pub(crate) fn list<'v>(
        &mut self,
        name: &'static str,
        positional: bool,
        values: impl IntoIterator<Item = &'v str>,
    ) {
        let values: Vec<&str> = values.into_iter().collect();
        if let ([one], true) = (values.as_slice(), positional) {
            return self.positional(one);
        }
        let mut distinct: Vec<&str> = Vec::new();
        for value in values {
            if !distinct.contains(&value) {
                distinct.push(value);
                self.param(name, value);
            }
        }
    }

    pub(crate) fn finish(self) -> String {
        let mut out = String::from(self.resource);
        if let Some(positional) = &self.positional {
            out.push(':');
            let encoded = utf8_percent_encode(positional, COMPONENT).to_string();
            out.push_str(&normalize(&encoded));
        }
        if !self.params.is_empty() {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&self.params)
                .finish();
            out.push('?');
            out.push_str(&normalize(&query));
        }
        out
    }
}

/// Writes back the percent-encoded characters a scope keeps as they are
/// (`: / + , @ %`), in one pass from the left.
fn normalize(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let kept = match rest.get(at..at + 3) {
            Some("%3A") => Some(':'),
            Some("%2F") => Some('/'),
            Some("%2B") => Some('+'),
            Some("%2C") => Some(','),
            Some("%40") => Some('@'),
            Some("%25") => Some('%'),
            _ => None,
        };
        match kept {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_three_parts() {
        let s = ScopeString::split("repo:app.bsky.feed.post?action=create&action=delete").unwrap();
        assert_eq!(s.resource(), "repo");
        assert_eq!(s.positional(), Some("app.bsky.feed.post"));
        assert_eq!(s.names(), ["action", "action"]);
        assert!(matches!(s.single("action"), Lookup::WrongShape));
        assert!(matches!(s.multi("action"), Lookup::Values(v) if v.len() == 2));
    }

    #[test]
    fn a_colon_inside_the_query_is_not_a_positional_part() {
        let s = ScopeString::split("rpc?lxm=a.b.c&aud=did:web:x%23y").unwrap();
        assert_eq!(s.resource(), "rpc");
        assert_eq!(s.positional(), None);
        let Lookup::Values(aud) = s.single("aud") else {
            panic!("aud")
        };
        assert_eq!(aud[0].as_str(), Some("did:web:x#y"));
    }

    #[test]
    fn a_malformed_positional_part_is_refused() {
        assert!(ScopeString::split("repo:%zz").is_err());
        assert!(ScopeString::split("repo:%e9").is_err());
        assert!(ScopeString::split("repo:%C3%A9").is_ok());
    }

    #[test]
    fn prints_the_normal_form() {
        let mut p = Printer::new("rpc");
        p.list("lxm", true, ["app.bsky.feed.getFeed"]);
        p.param("aud", "did:web:api.example.com#svc");
        assert_eq!(
            p.finish(),
            "rpc:app.bsky.feed.getFeed?aud=did:web:api.example.com%23svc"
        );
        let mut p = Printer::new("blob");
        p.list("accept", true, ["image/*", "image/*"]);
        assert_eq!(p.finish(), "blob?accept=image/*");
        let mut p = Printer::new("blob");
        p.list("accept", true, ["image/*", "video/*"]);
        assert_eq!(p.finish(), "blob?accept=image/*&accept=video/*");
    }

    #[test]
    fn normalizing_does_not_look_again_at_what_it_wrote() {
        assert_eq!(normalize("%2541"), "%41");
        assert_eq!(normalize("%%3A"), "%:");
        assert_eq!(normalize("a%2"), "a%2");
    }
}
