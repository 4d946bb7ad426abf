//! Lexicon constraint validation.
//!
//! Decoding already guarantees types, required fields, string formats, closed
//! enums and closed unions. What remains are the lexicon's value constraints:
//! string lengths (UTF-8 bytes) and grapheme counts, integer ranges, `enum`
//! and `const` values, array and bytes lengths, blob MIME types and sizes, and
//! `unknown` being an object. Generated types implement [`Validate`] by
//! checking exactly the constraints their lexicon declares; a violation names
//! the path (`convos[3].members[0].displayName`), the constraint and the
//! value's size.

use std::borrow::Cow;
use std::fmt;

use unicode_segmentation::UnicodeSegmentation;

use crate::data::{Blob, Bytes, Unknown};

/// A value whose lexicon constraints can be checked.
///
/// A type with nothing to check (its lexicon declares no constraint on it or
/// on anything in it) keeps the default, empty [`check`](Self::check).
pub trait Validate {
    /// Checks this value, reporting violations to `v` at its current path.
    fn check(&self, v: &mut Validator) {
        let _ = v;
    }

    /// Checks this value against the constraints a lexicon puts on it where
    /// it is used (a property's `maxLength`, an array's items…), and then
    /// what its own type declares when `rules.nested` is set.
    ///
    /// Strings, integers, booleans, bytes, blobs, `unknown`, arrays, options,
    /// boxes, format types and generated string enums apply the rules that
    /// fit them; other types only nest.
    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        if rules.nested {
            self.check(v);
        }
    }

    /// Checks this value and everything in it.
    fn validate(&self) -> Result<(), ValidationError> {
        let mut v = Validator::new();
        self.check(&mut v);
        v.finish()
    }
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Field(Cow<'static, str>),
    Index(usize),
}

/// Whether outputs are checked against the lexicon's constraints (lengths,
/// ranges, …) after decoding (by a client) or before sending (by a server):
/// the argument of `ClientBuilder::validate_outputs` and
/// `XrpcRouter::validate_outputs` alike. Decoding itself always checks
/// types and required fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ValidationMode {
    /// No check (the default).
    #[default]
    Off,
    /// A violation is an error: the client's call fails with
    /// `Error::Invalid`; the server answers 500 `InternalServerError`
    /// naming the violations instead of sending the output.
    Strict,
    /// The output goes through as it is, and its violations go to the hook
    /// set with `on_violation` (of the client builder or the router), if any.
    Lenient,
}

/// A violation hook, type-erased: the endpoint's NSID and what broke.
#[doc(hidden)]
pub type ViolationHook = std::sync::Arc<dyn Fn(&str, &ValidationError) + Send + Sync>;

/// Collects violations while walking a value.
#[derive(Debug, Default)]
pub struct Validator {
    path: Vec<Segment>,
    violations: Vec<Violation>,
}

/// One broken constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where: `convos[3].members[0].displayName` (empty for the value itself).
    pub path: String,
    /// Which constraint: `maxLength`, `maxGraphemes`, `minimum`, `accept`, ….
    pub constraint: &'static str,
    /// What was found against what was allowed.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.constraint, self.message)
        } else {
            write!(f, "{}: {}: {}", self.path, self.constraint, self.message)
        }
    }
}

/// Every violation found in a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The violations, in the order they were found.
    pub violations: Vec<Violation>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

/// The constraints a lexicon can put on a string.
#[derive(Clone, Copy, Debug, Default)]
pub struct StringRules {
    /// `minLength`, in UTF-8 bytes.
    pub min_length: Option<u64>,
    /// `maxLength`, in UTF-8 bytes.
    pub max_length: Option<u64>,
    /// `minGraphemes`.
    pub min_graphemes: Option<u64>,
    /// `maxGraphemes`.
    pub max_graphemes: Option<u64>,
    /// `enum`, for strings that are not a generated enum.
    pub enum_values: Option<&'static [&'static str]>,
    /// `const`.
    pub const_value: Option<&'static str>,
}

impl StringRules {
    /// No constraint.
    pub const NONE: Self = Self {
        min_length: None,
        max_length: None,
        min_graphemes: None,
        max_graphemes: None,
        enum_values: None,
        const_value: None,
    };
}

/// The constraints a lexicon can put on an integer.
#[derive(Clone, Copy, Debug, Default)]
pub struct IntegerRules {
    /// `minimum`.
    pub minimum: Option<i64>,
    /// `maximum`.
    pub maximum: Option<i64>,
    /// `enum`.
    pub enum_values: Option<&'static [i64]>,
    /// `const`.
    pub const_value: Option<i64>,
}

impl IntegerRules {
    /// No constraint.
    pub const NONE: Self = Self {
        minimum: None,
        maximum: None,
        enum_values: None,
        const_value: None,
    };
}

/// The constraints a lexicon puts on a value where it is used, whatever its
/// type: generated code passes one of these to [`Validate::check_rules`].
/// Lengths count UTF-8 bytes for strings, items for arrays and bytes for
/// `bytes`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules {
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minGraphemes`.
    pub min_graphemes: Option<u64>,
    /// `maxGraphemes`.
    pub max_graphemes: Option<u64>,
    /// A string's `const`.
    pub const_str: Option<&'static str>,
    /// `minimum`.
    pub minimum: Option<i64>,
    /// `maximum`.
    pub maximum: Option<i64>,
    /// An integer's `enum`.
    pub int_enum: Option<&'static [i64]>,
    /// An integer's `const`.
    pub const_int: Option<i64>,
    /// A boolean's `const`.
    pub const_bool: Option<bool>,
    /// A blob's `accept`.
    pub accept: Option<&'static [&'static str]>,
    /// A blob's `maxSize`.
    pub max_size: Option<u64>,
    /// `unknown` data must be an object.
    pub object: bool,
    /// Also check what the value's own type declares.
    pub nested: bool,
    /// The rules of each item of an array.
    pub items: Option<&'static Rules>,
}

impl Rules {
    /// No constraint.
    pub const NONE: Self = Self {
        min_length: None,
        max_length: None,
        min_graphemes: None,
        max_graphemes: None,
        const_str: None,
        minimum: None,
        maximum: None,
        int_enum: None,
        const_int: None,
        const_bool: None,
        accept: None,
        max_size: None,
        object: false,
        nested: false,
        items: None,
    };

    /// Only what the value's own type declares.
    pub const NESTED: Self = Self {
        nested: true,
        ..Self::NONE
    };

    fn string(&self) -> StringRules {
        StringRules {
            min_length: self.min_length,
            max_length: self.max_length,
            min_graphemes: self.min_graphemes,
            max_graphemes: self.max_graphemes,
            enum_values: None,
            const_value: self.const_str,
        }
    }
}

impl Validator {
    /// An empty validator at the root path.
    pub fn new() -> Self {
        Self::default()
    }

    /// The violations found, as a result.
    pub fn finish(self) -> Result<(), ValidationError> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                violations: self.violations,
            })
        }
    }

    /// The violations found so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Runs `f` at `path.name` (a `&'static str` costs no allocation).
    pub fn field(&mut self, name: impl Into<Cow<'static, str>>, f: impl FnOnce(&mut Self)) {
        self.enter(Segment::Field(name.into()));
        f(self);
        self.leave();
    }

    /// Runs `f` at `path[index]`.
    pub fn index(&mut self, index: usize, f: impl FnOnce(&mut Self)) {
        self.enter(Segment::Index(index));
        f(self);
        self.leave();
    }

    /// Checks `value` at `path.name`: what derived `Validate` impls do for
    /// each field whose type has constraints of its own. One copy per field
    /// type, not per field.
    pub fn check_field<T: Validate + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.enter(Segment::Field(Cow::Borrowed(name)));
        value.check(self);
        self.leave();
    }

    /// Checks `value` against `rules` at `path.name`: what derived
    /// `Validate` impls do for a field with constraints where it is used.
    pub fn check_field_rules<T: Validate + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
        rules: &Rules,
    ) {
        self.enter(Segment::Field(Cow::Borrowed(name)));
        value.check_rules(self, rules);
        self.leave();
    }

    // Entering and leaving a path segment are kept out of line: every field
    // check of every type calls them.
    #[inline(never)]
    fn enter(&mut self, segment: Segment) {
        self.path.push(segment);
    }

    #[inline(never)]
    fn leave(&mut self) {
        self.path.pop();
    }

    /// Checks a nested value at the current path.
    pub fn nested<T: Validate + ?Sized>(&mut self, value: &T) {
        value.check(self);
    }

    /// Checks every item of a list, each at its index.
    pub fn items<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        for (i, item) in items.iter().enumerate() {
            self.index(i, |v| f(v, item));
        }
    }

    /// The current path as text.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            match segment {
                Segment::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// Records a violation at the current path.
    pub fn violation(&mut self, constraint: &'static str, message: String) {
        let path = self.path();
        self.violations.push(Violation {
            path,
            constraint,
            message,
        });
    }

    /// Checks a string.
    pub fn string(&mut self, value: &str, rules: &StringRules) {
        let bytes = value.len() as u64;
        if let Some(min) = rules.min_length
            && bytes < min
        {
            self.violation(
                "minLength",
                format!("{bytes} bytes, at least {min} required"),
            );
        }
        if let Some(max) = rules.max_length
            && bytes > max
        {
            self.violation("maxLength", format!("{bytes} bytes, at most {max} allowed"));
        }
        // Graphemes are never more than bytes: count them only when the byte
        // length alone cannot settle the bounds.
        let needs_max = rules.max_graphemes.is_some_and(|max| bytes > max);
        let needs_min = rules.min_graphemes.is_some_and(|min| min > 0);
        if needs_max || needs_min {
            let count = value.graphemes(true).count() as u64;
            if let Some(min) = rules.min_graphemes
                && count < min
            {
                self.violation(
                    "minGraphemes",
                    format!("{count} graphemes, at least {min} required"),
                );
            }
            if let Some(max) = rules.max_graphemes
                && count > max
            {
                self.violation(
                    "maxGraphemes",
                    format!("{count} graphemes, at most {max} allowed"),
                );
            }
        }
        if let Some(values) = rules.enum_values
            && !values.contains(&value)
        {
            self.violation("enum", format!("{value:?} is not one of {values:?}"));
        }
        if let Some(expected) = rules.const_value
            && value != expected
        {
            self.violation("const", format!("{value:?}, must be {expected:?}"));
        }
    }

    /// Checks an integer.
    pub fn integer(&mut self, value: i64, rules: &IntegerRules) {
        if let Some(min) = rules.minimum
            && value < min
        {
            self.violation("minimum", format!("{value}, at least {min} required"));
        }
        if let Some(max) = rules.maximum
            && value > max
        {
            self.violation("maximum", format!("{value}, at most {max} allowed"));
        }
        if let Some(values) = rules.enum_values
            && !values.contains(&value)
        {
            self.violation("enum", format!("{value} is not one of {values:?}"));
        }
        if let Some(expected) = rules.const_value
            && value != expected
        {
            self.violation("const", format!("{value}, must be {expected}"));
        }
    }

    /// Checks a boolean `const`.
    pub fn boolean(&mut self, value: bool, const_value: Option<bool>) {
        if let Some(expected) = const_value
            && value != expected
        {
            self.violation("const", format!("{value}, must be {expected}"));
        }
    }

    /// Checks the length of an array.
    pub fn array_length(&mut self, len: usize, min: Option<u64>, max: Option<u64>) {
        let len = len as u64;
        if let Some(min) = min
            && len < min
        {
            self.violation("minLength", format!("{len} items, at least {min} required"));
        }
        if let Some(max) = max
            && len > max
        {
            self.violation("maxLength", format!("{len} items, at most {max} allowed"));
        }
    }

    /// Checks the length of bytes.
    pub fn bytes(&mut self, value: &Bytes, min: Option<u64>, max: Option<u64>) {
        let len = value.0.len() as u64;
        if let Some(min) = min
            && len < min
        {
            self.violation("minLength", format!("{len} bytes, at least {min} required"));
        }
        if let Some(max) = max
            && len > max
        {
            self.violation("maxLength", format!("{len} bytes, at most {max} allowed"));
        }
    }

    /// Checks a blob's MIME type against `accept` (patterns such as
    /// `image/*` or `*/*`) and its size against `max_size`.
    pub fn blob(&mut self, value: &Blob, accept: Option<&[&str]>, max_size: Option<u64>) {
        if let Some(patterns) = accept
            && !patterns.iter().any(|p| mime_matches(p, &value.mime_type))
        {
            self.violation(
                "accept",
                format!("MIME type {:?} is not one of {patterns:?}", value.mime_type),
            );
        }
        if let (Some(max), Some(size)) = (max_size, value.size)
            && size > max
        {
            self.violation("maxSize", format!("{size} bytes, at most {max} allowed"));
        }
    }

    /// Checks that `unknown` data is an object of the data model (not
    /// `$bytes`, `$link` or a blob, which are values of their own types), and
    /// that everything in it is valid data-model JSON.
    pub fn object(&mut self, value: &Unknown) {
        match value.as_value() {
            crate::data::Value::Object(map)
                if map.get("$type").and_then(crate::data::Value::as_str) != Some("blob") =>
            {
                if let Err(err) = value.as_value().check_data_model() {
                    self.violation("data model", err.to_string());
                }
            }
            other => {
                let kind = other.kind();
                self.violation("type", format!("{kind}, an object required"));
            }
        }
    }
}

/// Whether `mime` matches `pattern` (`image/png`, `image/*`, `*/*`).
pub fn mime_matches(pattern: &str, mime: &str) -> bool {
    if pattern == "*/*" || pattern == "*" {
        return true;
    }
    let mime = mime.split(';').next().unwrap_or(mime).trim();
    match pattern.strip_suffix("/*") {
        Some(kind) => mime
            .split_once('/')
            .is_some_and(|(k, _)| k.eq_ignore_ascii_case(kind)),
        None => pattern.eq_ignore_ascii_case(mime),
    }
}

macro_rules! no_constraints {
    ($($ty:ty),* $(,)?) => {
        $(impl Validate for $ty {})*
    };
}

no_constraints!((), crate::data::CidLink, crate::xrpc::body::Binary);

/// Types checked as strings: their own format is checked on parse, and a
/// lexicon may still bound their length.
macro_rules! string_constraints {
    ($($ty:ty),* $(,)?) => {
        $(impl Validate for $ty {
            fn check_rules(&self, v: &mut Validator, rules: &Rules) {
                v.string(self.as_ref(), &rules.string());
            }
        })*
    };
}

string_constraints!(
    String,
    str,
    crate::types::AtIdentifier,
    crate::types::AtUri,
    crate::types::Datetime,
    crate::types::Did,
    crate::types::Handle,
    crate::types::Language,
    crate::types::Nsid,
    crate::types::RecordKey,
    crate::types::Tid,
    crate::types::Uri,
);

/// A CID is checked as its text, which is made only when a lexicon bounds
/// it.
impl Validate for crate::types::Cid {
    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        let rules = rules.string();
        let StringRules {
            min_length,
            max_length,
            min_graphemes,
            max_graphemes,
            enum_values,
            const_value,
        } = rules;
        if min_length.is_some()
            || max_length.is_some()
            || min_graphemes.is_some()
            || max_graphemes.is_some()
            || enum_values.is_some()
            || const_value.is_some()
        {
            v.string(&self.to_string(), &rules);
        }
    }
}

impl Validate for i64 {
    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        v.integer(
            *self,
            &IntegerRules {
                minimum: rules.minimum,
                maximum: rules.maximum,
                enum_values: rules.int_enum,
                const_value: rules.const_int,
            },
        );
    }
}

impl Validate for bool {
    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        v.boolean(*self, rules.const_bool);
    }
}

impl Validate for Bytes {
    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        v.bytes(self, rules.min_length, rules.max_length);
    }
}

impl Validate for Blob {
    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        v.blob(self, rules.accept, rules.max_size);
    }
}

impl Validate for Unknown {
    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        if rules.object {
            v.object(self);
        }
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn check(&self, v: &mut Validator) {
        (**self).check(v);
    }

    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        (**self).check_rules(v, rules);
    }
}

impl<T: Validate> Validate for Option<T> {
    fn check(&self, v: &mut Validator) {
        if let Some(value) = self {
            value.check(v);
        }
    }

    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        if let Some(value) = self {
            value.check_rules(v, rules);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn check(&self, v: &mut Validator) {
        for (i, item) in self.iter().enumerate() {
            v.index(i, |v| item.check(v));
        }
    }

    fn check_rules(&self, v: &mut Validator, rules: &Rules) {
        v.array_length(self.len(), rules.min_length, rules.max_length);
        if let Some(items) = rules.items {
            for (i, item) in self.iter().enumerate() {
                v.index(i, |v| item.check_rules(v, items));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_count_bytes_and_graphemes() {
        let mut v = Validator::new();
        let rules = StringRules {
            max_length: Some(8),
            max_graphemes: Some(1),
            min_graphemes: Some(1),
            ..StringRules::NONE
        };
        v.field("a", |v| v.string("👍🏽", &rules)); // 8 bytes, 1 grapheme
        v.field("b", |v| v.string("ab", &rules));
        v.field("c", |v| v.string("", &rules));
        v.field("d", |v| v.string("👨‍👩‍👧‍👧", &rules)); // 25 bytes, 1 grapheme
        let err = v.finish().unwrap_err();
        let text = err.to_string();
        assert_eq!(err.violations.len(), 3, "{text}");
        assert!(
            text.contains("b: maxGraphemes: 2 graphemes, at most 1 allowed"),
            "{text}"
        );
        assert!(text.contains("c: minGraphemes: 0 graphemes"), "{text}");
        assert!(
            text.contains("d: maxLength: 25 bytes, at most 8 allowed"),
            "{text}"
        );
    }

    #[test]
    fn paths_nest() {
        let mut v = Validator::new();
        v.field("convos", |v| {
            v.index(3, |v| {
                v.field("members", |v| {
                    v.index(0, |v| v.field("handle", |v| v.violation("x", "y".into())))
                })
            })
        });
        assert_eq!(v.violations()[0].path, "convos[3].members[0].handle");
    }

    #[test]
    fn integers_arrays_blobs_unknown() {
        let mut v = Validator::new();
        let rules = IntegerRules {
            minimum: Some(1),
            maximum: Some(100),
            ..IntegerRules::NONE
        };
        v.integer(0, &rules);
        v.integer(101, &rules);
        v.integer(50, &rules);
        v.array_length(4, None, Some(3));
        let cid: crate::data::CidLink =
            "bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
                .parse()
                .unwrap();
        let blob = Blob::new(cid, "text/plain", 2000);
        v.blob(&blob, Some(&["image/*"]), Some(1000));
        v.object(&Unknown(crate::data::Value::Array(vec![1.into()])));
        let constraints: Vec<&str> = v.violations().iter().map(|x| x.constraint).collect();
        assert_eq!(
            constraints,
            [
                "minimum",
                "maximum",
                "maxLength",
                "accept",
                "maxSize",
                "type"
            ]
        );
    }

    #[test]
    fn mime_patterns() {
        assert!(mime_matches("image/*", "image/png"));
        assert!(mime_matches("image/*", "IMAGE/jpeg; q=1"));
        assert!(!mime_matches("image/*", "video/mp4"));
        assert!(mime_matches("*/*", "anything/else"));
        assert!(mime_matches("video/mp4", "video/mp4"));
        assert!(!mime_matches("video/mp4", "video/webm"));
    }
}
