//! Validating JSON data against lexicons at run time, without generated
//! code: the schema is walked alongside the data.
//!
//! This is what `atlex validate` runs, and what checks the interop
//! record-data vectors. It checks everything a lexicon says about data:
//! types, required and nullable properties, string formats, lengths in UTF-8
//! bytes and graphemes, integer ranges, `enum` and `const`, array and bytes
//! lengths, the `$link` / `$bytes` / blob forms with `accept` and `maxSize`,
//! references (including references to tokens), unions (`$type` present,
//! closed unions closed) and `unknown` (an object of the data model). The
//! constraint checks themselves are the runtime's ([`atlex::validate`]), so
//! generated code and this validator agree.

use atlex::data::{Blob, Bytes, CidLink, check_data_model, json_kind, special_object};
use atlex::validate::{IntegerRules, StringRules, ValidationError, Validator};
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::lexicon::DefKey;
use crate::lexicon::{Schema, SchemaKind, StringFormat};

/// How deep references and nesting may go before the walk stops (data that
/// deep is reported, not followed).
const MAX_DEPTH: usize = 256;

/// Why data could not be validated at all.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// No such definition in the catalog.
    #[error("no definition `{0}` is loaded")]
    UnknownDefinition(DefKey),
    /// The data names no `$type` to validate a record against.
    #[error("the data has no `$type`; name the definition to validate against")]
    NoType,
    /// A part of an endpoint was asked of a definition that is no endpoint.
    #[error("`{0}` is a {1} definition, not a query, procedure or subscription")]
    NotAnEndpoint(DefKey, &'static str),
    /// The endpoint does not declare that part, or declares no schema for it
    /// (a binary body).
    #[error("`{0}` declares no {1} schema{2}")]
    NoSuchPart(DefKey, Part, String),
    /// The lexicons refer, on the way through the data, to a definition
    /// that is not loaded: a problem of the lexicons, not of the data.
    #[error("the lexicons refer to `{0}`, which is not loaded")]
    NotLoaded(DefKey),
    /// The data breaks the lexicon.
    #[error("{0}")]
    Invalid(ValidationError),
}

/// A part of an endpoint that carries data: what [`validate_part`] checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The parameters, as a JSON object of typed values.
    Params,
    /// The input body of a procedure.
    Input,
    /// The output body of a query or procedure.
    Output,
    /// A message of a subscription.
    Message,
}

impl Part {
    /// The part's name, as `atlex validate --part` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Part::Params => "params",
            Part::Input => "input",
            Part::Output => "output",
            Part::Message => "message",
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Part {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Part::Params, Part::Input, Part::Output, Part::Message]
            .into_iter()
            .find(|part| part.name() == text)
            .ok_or_else(|| {
                format!("unknown part {text:?}; expected params, input, output or message")
            })
    }
}

/// Validates `value` as the `part` (parameters, input, output or message) of
/// the endpoint `key`: a response body against `listConvos`'s output, say.
pub fn validate_part(
    catalog: &Catalog,
    key: &DefKey,
    part: Part,
    value: &Value,
) -> Result<(), ValidateError> {
    let schema = catalog
        .def(key)
        .ok_or_else(|| ValidateError::UnknownDefinition(key.clone()))?;
    let (parameters, body) = match &schema.kind {
        SchemaKind::Query(e) | SchemaKind::Procedure(e) => (
            &e.parameters,
            match part {
                Part::Input => e.input.as_ref(),
                Part::Output => e.output.as_ref(),
                Part::Params | Part::Message => None,
            },
        ),
        SchemaKind::Subscription(s) => (
            &s.parameters,
            match part {
                Part::Message => s.message.as_ref(),
                _ => None,
            },
        ),
        other => return Err(ValidateError::NotAnEndpoint(key.clone(), other.type_name())),
    };
    let target = match part {
        Part::Params => parameters.as_deref(),
        _ => body.and_then(|body| body.schema.as_deref()),
    };
    let Some(target) = target else {
        let why = match body {
            Some(body) if part != Part::Params => format!(" (its body is `{}`)", body.encoding),
            _ => String::new(),
        };
        return Err(ValidateError::NoSuchPart(key.clone(), part, why));
    };
    let mut v = Validator::new();
    let walker = Walker::new(catalog);
    walker.check(target, &key.nsid, value, &mut v, 0);
    walker.finish(v)
}

/// Validates `value` as data of definition `key` (a record is validated as
/// its record object; its `$type`, if present, must name `key`).
pub fn validate(catalog: &Catalog, key: &DefKey, value: &Value) -> Result<(), ValidateError> {
    let schema = catalog
        .def(key)
        .ok_or_else(|| ValidateError::UnknownDefinition(key.clone()))?;
    let mut v = Validator::new();
    let walker = Walker::new(catalog);
    if let SchemaKind::Record(_) = &schema.kind
        && let Some(found) = value.get("$type")
        && found.as_str() != Some(key.type_name().as_str())
    {
        v.field("$type", |v| {
            v.violation("$type", format!("{found}, must be {:?}", key.type_name()))
        });
    }
    walker.check(schema, &key.nsid, value, &mut v, 0);
    walker.finish(v)
}

/// Validates a record (or any object) by its `$type`.
pub fn validate_typed(catalog: &Catalog, value: &Value) -> Result<DefKey, ValidateError> {
    let type_name = value
        .get("$type")
        .and_then(Value::as_str)
        .ok_or(ValidateError::NoType)?;
    let key = DefKey::resolve("", type_name);
    validate(catalog, &key, value)?;
    Ok(key)
}

struct Walker<'c> {
    catalog: &'c Catalog,
    /// The first definition the walk needed and the catalog lacks.
    missing: std::cell::RefCell<Option<DefKey>>,
}

impl<'c> Walker<'c> {
    fn new(catalog: &'c Catalog) -> Self {
        Self {
            catalog,
            missing: std::cell::RefCell::new(None),
        }
    }

    /// The outcome of a walk: a missing definition first (the lexicons'
    /// problem), then the violations.
    fn finish(self, v: Validator) -> Result<(), ValidateError> {
        if let Some(key) = self.missing.into_inner() {
            return Err(ValidateError::NotLoaded(key));
        }
        v.finish().map_err(ValidateError::Invalid)
    }

    fn not_loaded(&self, key: DefKey) {
        self.missing.borrow_mut().get_or_insert(key);
    }
}

fn wrong_type(v: &mut Validator, value: &Value, expected: &str) {
    v.violation("type", format!("{}, {expected} required", json_kind(value)));
}

/// An integer of the data model: a JSON integer, or a float with no fraction.
fn as_integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0)
            .map(|f| f as i64)
    })
}

fn check_format(v: &mut Validator, format: StringFormat, s: &str) {
    use atlex::types::*;
    let result = match format {
        StringFormat::AtIdentifier => AtIdentifier::validate(s),
        StringFormat::AtUri => AtUri::validate(s),
        StringFormat::Cid => Cid::validate(s),
        StringFormat::Datetime => Datetime::validate(s),
        StringFormat::Did => Did::validate(s),
        StringFormat::Handle => Handle::validate(s),
        StringFormat::Nsid => Nsid::validate(s),
        StringFormat::Tid => Tid::validate(s),
        StringFormat::RecordKey => RecordKey::validate(s),
        StringFormat::Uri => Uri::validate(s),
        StringFormat::Language => Language::validate(s),
    };
    if let Err(err) = result {
        v.violation("format", err.to_string());
    }
}

impl Walker<'_> {
    fn check(&self, schema: &Schema, nsid: &str, value: &Value, v: &mut Validator, depth: usize) {
        if depth > MAX_DEPTH {
            v.violation("depth", format!("nested more than {MAX_DEPTH} levels"));
            return;
        }
        match &schema.kind {
            SchemaKind::Boolean(b) => match value.as_bool() {
                Some(x) => v.boolean(x, b.const_value),
                None => wrong_type(v, value, "a boolean"),
            },
            SchemaKind::Integer(i) => match as_integer(value) {
                Some(n) => {
                    v.integer(
                        n,
                        &IntegerRules {
                            minimum: i.minimum,
                            maximum: i.maximum,
                            ..IntegerRules::NONE
                        },
                    );
                    if let Some(values) = &i.enum_values
                        && !values.contains(&n)
                    {
                        v.violation("enum", format!("{n} is not one of {values:?}"));
                    }
                    if let Some(expected) = i.const_value
                        && n != expected
                    {
                        v.violation("const", format!("{n}, must be {expected}"));
                    }
                }
                None => wrong_type(v, value, "an integer"),
            },
            SchemaKind::String(s) => {
                let Some(text) = value.as_str() else {
                    return wrong_type(v, value, "a string");
                };
                if let Some(format) = s.format {
                    check_format(v, format, text);
                }
                v.string(
                    text,
                    &StringRules {
                        min_length: s.min_length,
                        max_length: s.max_length,
                        min_graphemes: s.min_graphemes,
                        max_graphemes: s.max_graphemes,
                        ..StringRules::NONE
                    },
                );
                if let Some(values) = &s.enum_values
                    && !values.iter().any(|x| x == text)
                {
                    v.violation("enum", format!("{text:?} is not one of {values:?}"));
                }
                if let Some(expected) = &s.const_value
                    && text != expected
                {
                    v.violation("const", format!("{text:?}, must be {expected:?}"));
                }
            }
            SchemaKind::Bytes(b) => match Bytes::deserialize(value) {
                Ok(bytes) => v.bytes(&bytes, b.min_length, b.max_length),
                Err(err) => v.violation("type", format!("not a $bytes object: {err}")),
            },
            SchemaKind::CidLink => {
                if let Err(err) = CidLink::deserialize(value) {
                    v.violation("type", format!("not a $link object: {err}"));
                }
            }
            SchemaKind::Blob(b) => match Blob::deserialize(value) {
                Ok(blob) => {
                    let accept: Option<Vec<&str>> = b
                        .accept
                        .as_ref()
                        .map(|a| a.iter().map(String::as_str).collect());
                    v.blob(&blob, accept.as_deref(), b.max_size);
                }
                Err(err) => v.violation("type", format!("not a blob: {err}")),
            },
            SchemaKind::Array(a) => {
                let Some(items) = value.as_array() else {
                    return wrong_type(v, value, "an array");
                };
                v.array_length(items.len(), a.min_length, a.max_length);
                for (i, item) in items.iter().enumerate() {
                    v.index(i, |v| self.check(&a.items, nsid, item, v, depth + 1));
                }
            }
            SchemaKind::Object(o) | SchemaKind::Params(o) => {
                let Some(map) = value.as_object() else {
                    return wrong_type(v, value, "an object");
                };
                for name in &o.required {
                    if !map.contains_key(name) {
                        v.field(name.clone(), |v| {
                            v.violation("required", "missing required property".to_owned())
                        });
                    }
                }
                for (name, property) in &o.properties {
                    let Some(field) = map.get(name) else {
                        continue;
                    };
                    v.field(name.clone(), |v| {
                        if field.is_null() {
                            if !o.is_nullable(name) {
                                v.violation(
                                    "nullable",
                                    "null, but the property is not nullable".to_owned(),
                                );
                            }
                        } else {
                            self.check(property, nsid, field, v, depth + 1);
                        }
                    });
                }
            }
            SchemaKind::Record(r) => self.check(&r.record, nsid, value, v, depth + 1),
            SchemaKind::Ref(r) => {
                let key = DefKey::resolve(nsid, &r.target);
                match self.catalog.def(&key) {
                    Some(target) if matches!(target.kind, SchemaKind::Token) => {
                        let expected = key.type_name();
                        match value.as_str() {
                            Some(text) if text == expected => {}
                            Some(text) => v.violation(
                                "const",
                                format!("{text:?}, must be the token {expected:?}"),
                            ),
                            None => wrong_type(v, value, "a token name (string)"),
                        }
                    }
                    Some(target) => self.check(target, &key.nsid, value, v, depth + 1),
                    None => self.not_loaded(key),
                }
            }
            SchemaKind::Union(u) => {
                let Some(map) = value.as_object() else {
                    return wrong_type(v, value, "an object with a $type");
                };
                let type_name = match map.get("$type") {
                    Some(Value::String(t)) if !t.is_empty() => t,
                    Some(other) => {
                        return v.field("$type", |v| wrong_type(v, other, "a non-empty string"));
                    }
                    None => {
                        return v.field("$type", |v| {
                            v.violation("required", "a union member needs a $type".to_owned())
                        });
                    }
                };
                let found = DefKey::resolve("", type_name);
                let member = u
                    .refs
                    .iter()
                    .map(|r| DefKey::resolve(nsid, r))
                    .find(|k| *k == found);
                match member {
                    Some(key) => match self.catalog.def(&key) {
                        // A token member: the object holds its `$type` only.
                        Some(Schema {
                            kind: SchemaKind::Token,
                            ..
                        }) => {
                            for extra in map.keys().filter(|k| *k != "$type") {
                                v.field(extra.clone(), |v| {
                                    v.violation(
                                        "token",
                                        format!("the member {type_name:?} is a token, which carries no data"),
                                    )
                                });
                            }
                        }
                        Some(target) => self.check(target, &key.nsid, value, v, depth + 1),
                        None => self.not_loaded(key),
                    },
                    None if u.closed => v.violation(
                        "closed",
                        format!("$type {type_name:?} is not a member of this closed union"),
                    ),
                    None => {
                        if let Err(err) = check_data_model(value) {
                            v.violation("data model", err.to_string());
                        }
                    }
                }
            }
            SchemaKind::Unknown => match value.as_object() {
                Some(map) => {
                    if let Some(kind) = special_object(map) {
                        v.violation("type", format!("{kind}, an object required"));
                    } else if let Err(err) = check_data_model(value) {
                        v.violation("data model", err.to_string());
                    }
                }
                None => wrong_type(v, value, "an object"),
            },
            SchemaKind::Token
            | SchemaKind::Query(_)
            | SchemaKind::Procedure(_)
            | SchemaKind::Subscription(_)
            | SchemaKind::PermissionSet(_)
            | SchemaKind::Permission(_)
            | SchemaKind::Space(_) => v.violation(
                "type",
                format!(
                    "a `{}` definition describes no data",
                    schema.kind.type_name()
                ),
            ),
        }
    }
}
