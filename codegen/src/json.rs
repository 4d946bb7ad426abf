//! The generator's one JSON reader: lexicon documents, binding files and the
//! locator of diagnostics all read JSON through it.
//!
//! [`parse`] reads strict JSON (RFC 8259: no comments, no trailing commas,
//! no control characters in strings) into a [`Value`] tree in which every
//! value and key knows its byte offset, so a problem found anywhere can be
//! reported with its line and column. A key written twice in one object is
//! never resolved silently: [`parse`] keeps the first and returns every
//! repeat as a [`Duplicate`] with both positions, and [`Reader`] reports them.
//! Parsing uses `jsonc-parser` in its strict mode.
//!
//! [`Reader`] is what the lexicon reader and the binding reader share: where
//! a JSON pointer is in the file, errors and warnings with file, line,
//! column, pointer and lexicon location, and the typed getters that report a
//! value of the wrong type in the same words everywhere.

use std::cell::OnceCell;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Diagnostics, Location, lexicon_location, pointer_push};

/// How deep arrays and objects may nest. Lexicons nest a dozen levels at
/// most; the bound keeps every recursive walk of a document shallow.
pub const MAX_DEPTH: usize = 128;

/// A JSON value with the byte offset where it starts in its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// Byte offset of the value's first character.
    pub at: usize,
    /// What it is.
    pub kind: Kind,
}

/// The kinds of JSON values.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written (`1`, `-2.5e3`).
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Object),
}

/// A JSON object: its members in file order, each key once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    members: Vec<Member>,
}

/// One member of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The key, unescaped.
    pub key: String,
    /// Byte offset of the key.
    pub key_at: usize,
    /// The value.
    pub value: Value,
}

impl Object {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members.iter().find(|m| m.key == key).map(|m| &m.value)
    }

    /// Whether the object has `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The members, in file order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Keys and values, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.members.iter().map(|m| (&m.key, &m.value))
    }

    /// The keys, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.members.iter().map(|m| &m.key)
    }

    /// How many members there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a String, &'a Value);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, Member>, fn(&'a Member) -> (&'a String, &'a Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.iter().map(|m| (&m.key, &m.value))
    }
}

impl Value {
    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number, if this is an integer that fits in an `i64` (written
    /// without fraction or exponent).
    pub fn as_i64(&self) -> Option<i64> {
        match &self.kind {
            Kind::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The number, if this is a non-negative integer that fits in a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.kind {
            Kind::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match &self.kind {
            Kind::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value of `key`, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// The value a JSON pointer (`/defs/main/properties/x`) leads to.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut value = self;
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = unescape_token(token);
            value = match &value.kind {
                Kind::Object(o) => o.get(&token)?,
                Kind::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// The same value as a `serde_json::Value`.
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            Kind::Null => J::Null,
            Kind::Bool(b) => J::Bool(*b),
            Kind::Number(n) => serde_json::from_str::<serde_json::Number>(n)
                .map(J::Number)
                .unwrap_or_else(|_| J::String(n.clone())),
            Kind::String(s) => J::String(s.clone()),
            Kind::Array(items) => J::Array(items.iter().map(Value::to_serde).collect()),
            Kind::Object(o) => J::Object(
                o.members
                    .iter()
                    .map(|m| (m.key.clone(), m.value.to_serde()))
                    .collect(),
            ),
        }
    }

    /// A value with no position (offset 0) from a `serde_json::Value`, for
    /// documents that were parsed elsewhere.
    pub fn from_serde(value: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        let kind = match value {
            J::Null => Kind::Null,
            J::Bool(b) => Kind::Bool(*b),
            J::Number(n) => Kind::Number(n.to_string()),
            J::String(s) => Kind::String(s.clone()),
            J::Array(items) => Kind::Array(items.iter().map(Value::from_serde).collect()),
            J::Object(map) => Kind::Object(Object {
                members: map
                    .iter()
                    .map(|(key, value)| Member {
                        key: key.clone(),
                        key_at: 0,
                        value: Value::from_serde(value),
                    })
                    .collect(),
            }),
        };
        Value { at: 0, kind }
    }
}

/// Compact JSON, as a message quotes a value.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Null => f.write_str("null"),
            Kind::Bool(b) => write!(f, "{b}"),
            Kind::Number(n) => f.write_str(n),
            Kind::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Kind::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Kind::Object(o) => {
                f.write_str("{")?;
                for (i, m) in o.members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(
                        f,
                        "{}:{}",
                        serde_json::Value::String(m.key.clone()),
                        m.value
                    )?;
                }
                f.write_str("}")
            }
        }
    }
}

/// A key written twice in one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The JSON pointer of the object.
    pub object: String,
    /// The key.
    pub key: String,
    /// Byte offset of the first (kept) occurrence.
    pub first: usize,
    /// Byte offset of the repeat (dropped).
    pub repeat: usize,
}

/// Text that is not JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// Byte offset.
    pub at: usize,
}

/// A parsed text.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The root value.
    pub value: Value,
    /// Keys written twice, in file order.
    pub duplicates: Vec<Duplicate>,
}

fn strict() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Parses strict JSON.
pub fn parse(text: &str) -> Result<Parsed, SyntaxError> {
    use jsonc_parser::{CollectOptions, CommentCollectionStrategy};
    let collect = CollectOptions {
        comments: CommentCollectionStrategy::Off,
        tokens: false,
    };
    let result = jsonc_parser::parse_to_ast(text, &collect, &strict()).map_err(|err| {
        let message = err.kind().to_string();
        let mut chars = message.chars();
        SyntaxError {
            message: match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => message,
            },
            at: err.range().start,
        }
    })?;
    let Some(root) = result.value else {
        return Err(SyntaxError {
            message: "no JSON value".to_owned(),
            at: text.len(),
        });
    };
    let mut converter = Converter {
        text,
        duplicates: Vec::new(),
    };
    let value = converter.value(&root, &mut String::new(), 0)?;
    Ok(Parsed {
        value,
        duplicates: converter.duplicates,
    })
}

struct Converter<'t> {
    text: &'t str,
    duplicates: Vec<Duplicate>,
}

impl Converter<'_> {
    fn value(
        &mut self,
        value: &jsonc_parser::ast::Value<'_>,
        pointer: &mut String,
        depth: usize,
    ) -> Result<Value, SyntaxError> {
        use jsonc_parser::ast::{ObjectPropName, Value as Ast};
        let at = value_start(value);
        if depth > MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("arrays and objects nest more than {MAX_DEPTH} levels deep"),
                at,
            });
        }
        let kind = match value {
            Ast::NullKeyword(_) => Kind::Null,
            Ast::BooleanLit(b) => Kind::Bool(b.value),
            Ast::NumberLit(n) => Kind::Number(n.value.to_owned()),
            Ast::StringLit(s) => Kind::String(self.string(s)?),
            Ast::Array(array) => {
                let mut items = Vec::with_capacity(array.elements.len());
                for (i, element) in array.elements.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    items.push(self.value(element, pointer, depth + 1)?);
                    pointer.truncate(len);
                }
                Kind::Array(items)
            }
            Ast::Object(object) => {
                let mut members: Vec<Member> = Vec::with_capacity(object.properties.len());
                for prop in &object.properties {
                    let (key, key_at) = match &prop.name {
                        ObjectPropName::String(s) => (self.string(s)?, s.range.start),
                        ObjectPropName::Word(w) => {
                            return Err(SyntaxError {
                                message: format!("a key must be a string, found `{}`", w.value),
                                at: w.range.start,
                            });
                        }
                    };
                    if let Some(first) = members.iter().find(|m| m.key == key) {
                        self.duplicates.push(Duplicate {
                            object: pointer.clone(),
                            key,
                            first: first.key_at,
                            repeat: key_at,
                        });
                        continue;
                    }
                    let len = pointer.len();
                    *pointer = pointer_push(pointer, &key);
                    let value = self.value(&prop.value, pointer, depth + 1)?;
                    pointer.truncate(len);
                    members.push(Member { key, key_at, value });
                }
                Kind::Object(Object { members })
            }
        };
        Ok(Value { at, kind })
    }

    /// A string literal's value; raw control characters are not JSON.
    fn string(&self, s: &jsonc_parser::ast::StringLit<'_>) -> Result<String, SyntaxError> {
        let raw = self.text.get(s.range.start..s.range.end).unwrap_or("");
        if let Some(offset) = raw.bytes().position(|b| b < 0x20) {
            return Err(SyntaxError {
                message: "a control character must be escaped in a string".to_owned(),
                at: s.range.start + offset,
            });
        }
        Ok(s.value.clone().into_owned())
    }
}

fn value_start(value: &jsonc_parser::ast::Value<'_>) -> usize {
    use jsonc_parser::ast::Value as Ast;
    match value {
        Ast::StringLit(v) => v.range.start,
        Ast::NumberLit(v) => v.range.start,
        Ast::BooleanLit(v) => v.range.start,
        Ast::Object(v) => v.range.start,
        Ast::Array(v) => v.range.start,
        Ast::NullKeyword(v) => v.range.start,
    }
}

fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..)?.chars().count() + 1;
    Some((line, col))
}

/// Line starts of a text, for many [`line_col`] look-ups.
struct Lines<'t> {
    text: &'t str,
    starts: OnceCell<Vec<usize>>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            starts: OnceCell::new(),
        }
    }

    fn line_col(&self, offset: usize) -> Option<(usize, usize)> {
        let starts = self.starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset);
        let start = *starts.get(line.checked_sub(1)?)?;
        let col = self.text.get(start..offset)?.chars().count() + 1;
        Some((line, col))
    }
}

/// Makes a reader type that wraps a [`Reader`] in its field `json`
/// dereference to it, so the shared methods are its own.
macro_rules! wraps_reader {
    ($reader:ident) => {
        impl<'a> std::ops::Deref for $reader<'a> {
            type Target = $crate::json::Reader<'a>;

            fn deref(&self) -> &Self::Target {
                &self.json
            }
        }

        impl std::ops::DerefMut for $reader<'_> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.json
            }
        }
    };
}
pub(crate) use wraps_reader;

/// What lexicon location the diagnostics of a [`Reader`] name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Nothing known yet (a document before its `id` is read).
    None,
    /// The lexicon document `nsid`: locations read `nsid#def.field`.
    Lexicon(String),
    /// The binding of endpoint `nsid`: locations read `nsid (binding)`.
    Binding(String),
}

/// Reads one JSON text: reports where things are, and what is wrong with
/// them, in the words every reader of the generator uses.
pub struct Reader<'a> {
    /// The file, when the text came from one.
    pub file: Option<Arc<Path>>,
    /// Whose diagnostics these are.
    pub subject: Subject,
    /// Where problems go.
    pub diagnostics: &'a mut Diagnostics,
    root: Option<&'a Value>,
    lines: Lines<'a>,
}

impl<'a> Reader<'a> {
    /// Parses `text` (from `file`): a syntax error is reported and gives
    /// `None`; every key written twice is reported as an error naming both
    /// places (the first is kept). Returns the root and whether keys were
    /// repeated.
    pub fn parse(
        text: &str,
        file: Option<Arc<Path>>,
        diagnostics: &mut Diagnostics,
    ) -> Option<(Value, bool)> {
        match parse(text) {
            Ok(parsed) => {
                let repeated = !parsed.duplicates.is_empty();
                for duplicate in &parsed.duplicates {
                    let pointer = pointer_push(&duplicate.object, &duplicate.key);
                    let mut at = Location::new(file.clone(), pointer.clone());
                    at.line_col = line_col(text, duplicate.repeat);
                    let mut first = Location::new(file.clone(), pointer);
                    first.line_col = line_col(text, duplicate.first);
                    diagnostics.push(
                        Diagnostic::error(
                            at,
                            format!(
                                "key `{}` is written twice in one object; which one is meant cannot be told",
                                duplicate.key
                            ),
                        )
                        .with_related(first, "first written here"),
                    );
                }
                Some((parsed.value, repeated))
            }
            Err(err) => {
                let mut location = Location::new(file, "");
                location.line_col = line_col(text, err.at);
                diagnostics.push(Diagnostic::error(
                    location,
                    format!("not valid JSON: {}", err.message),
                ));
                None
            }
        }
    }

    /// A reader of `root`, parsed from `text` (empty when positions are not
    /// known).
    pub fn new(
        root: &'a Value,
        text: &'a str,
        file: Option<Arc<Path>>,
        subject: Subject,
        diagnostics: &'a mut Diagnostics,
    ) -> Self {
        let mut reader = Self::unpositioned(file, subject, diagnostics);
        reader.root = Some(root);
        reader.lines = Lines::new(text);
        reader
    }

    /// A reader with no text: diagnostics get their line and column later,
    /// from the file's text ([`crate::diagnostics::Diagnostics::locate`]).
    pub fn unpositioned(
        file: Option<Arc<Path>>,
        subject: Subject,
        diagnostics: &'a mut Diagnostics,
    ) -> Self {
        Self {
            file,
            subject,
            diagnostics,
            root: None,
            lines: Lines::new(""),
        }
    }

    /// Where `pointer` is: file, line and column (when the text is known and
    /// the pointer leads somewhere), and the lexicon location.
    pub fn location(&self, pointer: &str) -> Location {
        let mut location = Location::new(self.file.clone(), pointer);
        match &self.subject {
            Subject::None => {}
            Subject::Lexicon(nsid) => {
                location.lexicon = lexicon_location(nsid, pointer);
                location.nsid = Some(nsid.clone());
            }
            Subject::Binding(nsid) => {
                location.lexicon = Some(format!("{nsid} (binding)"));
                location.nsid = Some(nsid.clone());
            }
        }
        if !self.lines.text.is_empty()
            && let Some(value) = self.root.and_then(|root| root.pointer(pointer))
        {
            location.line_col = self.lines.line_col(value.at);
        }
        location
    }

    /// Reports an error at `pointer`.
    pub fn error(&mut self, pointer: &str, message: impl Into<String>) {
        let location = self.location(pointer);
        self.diagnostics.push(Diagnostic::error(location, message));
    }

    /// Reports a warning at `pointer`.
    pub fn warning(&mut self, pointer: &str, message: impl Into<String>) {
        let location = self.location(pointer);
        self.diagnostics
            .push(Diagnostic::warning(location, message));
    }

    /// Warns about every key of `map` (at `pointer`) in none of `known`:
    /// "unknown key `k`{context} ignored".
    pub fn unknown_keys(&mut self, map: &Object, pointer: &str, known: &[&[&str]], context: &str) {
        for key in map.keys() {
            if !known.iter().any(|keys| keys.contains(&key.as_str())) {
                self.warning(
                    &pointer_push(pointer, key),
                    format!("unknown key `{key}`{context} ignored"),
                );
            }
        }
    }

    /// `value` as an object, or an error "{what} must be an object".
    pub fn object<'v>(
        &mut self,
        value: &'v Value,
        pointer: &str,
        what: &str,
    ) -> Option<&'v Object> {
        match value.as_object() {
            Some(map) => Some(map),
            None => {
                self.error(pointer, format!("{what} must be an object, found {value}"));
                None
            }
        }
    }

    /// `value` as a string, or an error "{what} must be a string".
    pub fn string(&mut self, value: &Value, pointer: &str, what: &str) -> Option<String> {
        match value.as_str() {
            Some(text) => Some(text.to_owned()),
            None => {
                self.error(pointer, format!("{what} must be a string, found {value}"));
                None
            }
        }
    }

    /// The string `key` of `map`, if present.
    pub fn opt_string(&mut self, map: &Object, pointer: &str, key: &str) -> Option<String> {
        let v = map.get(key)?;
        self.string(v, &pointer_push(pointer, key), &format!("`{key}`"))
    }

    /// The boolean `key` of `map`, if present.
    pub fn opt_bool(&mut self, map: &Object, pointer: &str, key: &str) -> Option<bool> {
        let v = map.get(key)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.error(
                    &pointer_push(pointer, key),
                    format!("`{key}` must be a boolean, found {v}"),
                );
                None
            }
        }
    }

    /// The integer `key` of `map`, if present.
    pub fn opt_i64(&mut self, map: &Object, pointer: &str, key: &str) -> Option<i64> {
        self.opt_number(map, pointer, key, "an integer", Value::as_i64)
    }

    /// The non-negative integer `key` of `map`, if present.
    pub fn opt_u64(&mut self, map: &Object, pointer: &str, key: &str) -> Option<u64> {
        self.opt_number(map, pointer, key, "a non-negative integer", Value::as_u64)
    }

    fn opt_number<T>(
        &mut self,
        map: &Object,
        pointer: &str,
        key: &str,
        what: &str,
        read: impl Fn(&Value) -> Option<T>,
    ) -> Option<T> {
        let v = map.get(key)?;
        let n = read(v);
        if n.is_none() {
            self.error(
                &pointer_push(pointer, key),
                format!("`{key}` must be {what}, found {v}"),
            );
        }
        n
    }

    /// The array of strings `key` of `map`, if present.
    pub fn opt_strings(&mut self, map: &Object, pointer: &str, key: &str) -> Option<Vec<String>> {
        self.opt_list(map, pointer, key, "strings", |v| {
            v.as_str().map(str::to_owned)
        })
    }

    /// The array `key` of `map` whose items `item` reads, if present.
    pub fn opt_list<T>(
        &mut self,
        map: &Object,
        pointer: &str,
        key: &str,
        what: &str,
        item: impl Fn(&Value) -> Option<T>,
    ) -> Option<Vec<T>> {
        let v = map.get(key)?;
        let at = pointer_push(pointer, key);
        let Some(items) = v.as_array() else {
            self.error(
                &at,
                format!("`{key}` must be an array of {what}, found {v}"),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, x) in items.iter().enumerate() {
            match item(x) {
                Some(x) => out.push(x),
                None => {
                    self.error(
                        &pointer_push(&at, &i.to_string()),
                        format!("`{key}` must hold only {what}, found {x}"),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_know_where_they_are() {
        let text = "{\n  \"a\": 1,\n  \"b\": {\"c/d\": [true, {\"e\": \"x\\\"y\"}]}\n}";
        let parsed = parse(text).unwrap();
        let at = |p: &str| line_col(text, parsed.value.pointer(p).unwrap().at);
        assert_eq!(at(""), Some((1, 1)));
        assert_eq!(at("/a"), Some((2, 8)));
        assert_eq!(at("/b/c~1d/1/e"), Some((3, 29)));
        assert_eq!(
            parsed.value.pointer("/b/c~1d/1/e").unwrap().as_str(),
            Some("x\"y")
        );
        assert!(parsed.value.pointer("/zzz").is_none());
        assert!(parsed.value.pointer("/b/c~1d/7").is_none());
    }

    #[test]
    fn duplicates_are_found_with_both_places() {
        let text = r#"{"defs": {"main": 1, "x": 2, "main": 3}}"#;
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.duplicates.len(), 1);
        let d = &parsed.duplicates[0];
        assert_eq!((d.object.as_str(), d.key.as_str()), ("/defs", "main"));
        assert_eq!((d.first, d.repeat), (10, 29));
        // The first is kept.
        assert_eq!(
            parsed.value.pointer("/defs/main").unwrap().as_i64(),
            Some(1)
        );
    }

    #[test]
    fn only_strict_json() {
        for bad in [
            "",
            "{\"a\":1,}",
            "[1 2]",
            "// x\n{}",
            "{a: 1}",
            "'a'",
            "0x10",
            "+1",
            ".5",
            "NaN",
            "\"\\x41\"",
            "\"a\u{1}b\"",
            "\"\t\"",
            "01",
            "{} {}",
            "\"\\ud800\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&"[".repeat(10_000)).is_err());
        assert!(parse(&format!("{}{}", "[".repeat(200), "]".repeat(200))).is_err());
        for good in ["1e5", "-0", "\"\\u00e9\"", "[[]]", "{\"\":null}"] {
            assert!(parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn numbers_read_as_integers_only_when_written_so() {
        let value = parse("[1, -2, 1.0, 1e2, 18446744073709551615]")
            .unwrap()
            .value;
        let items = value.as_array().unwrap();
        assert_eq!(items[0].as_i64(), Some(1));
        assert_eq!(items[1].as_u64(), None);
        assert_eq!(items[2].as_i64(), None);
        assert_eq!(items[3].as_i64(), None);
        assert_eq!(items[4].as_u64(), Some(u64::MAX));
        assert_eq!(value.to_string(), "[1,-2,1.0,1e2,18446744073709551615]");
    }
}
