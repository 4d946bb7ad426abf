//! The reader that checks a JSON document against the Lexicon language and
//! builds the model from it.
//!
//! Reading never stops at the first problem: every problem becomes a
//! [`Diagnostic`](crate::Diagnostic) naming the JSON location, and the reader keeps what it can
//! so later problems are found in the same run. Unknown keys are tolerated
//! with a warning (real lexicons carry extras such as `revision`, `$type` or
//! `needsCbor`).

use std::path::Path;
use std::sync::Arc;

use super::{
    ArraySchema, BlobSchema, BodySchema, BooleanSchema, BytesSchema, Def, Document, EndpointSchema,
    ErrorSchema, IntegerSchema, ObjectSchema, PermissionSchema, PermissionSetSchema, RecordSchema,
    RefSchema, Schema, SchemaKind, SpaceSchema, StringFormat, StringSchema, SubscriptionSchema,
    UnionSchema, is_valid_nsid,
};
use crate::diagnostics::{Diagnostics, pointer_push};
use crate::json::{self, Kind, Object, Value};

/// What [`read`] found in a text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Read {
    /// The document, when it is valid.
    pub document: Option<Document>,
    /// Its `id`, when one could be read (also when the document is not
    /// valid, so references to it can say it was rejected).
    pub id: Option<String>,
}

/// Reads a lexicon document from JSON text. Problems go to `diagnostics`;
/// `None` when nothing usable could be read.
pub fn parse_document(
    text: &str,
    file: Option<Arc<Path>>,
    diagnostics: &mut Diagnostics,
) -> Option<Document> {
    read(text, file, diagnostics).document
}

/// Reads a lexicon document from JSON text, and its `id` even when the
/// document is not valid. A key written twice makes it invalid.
pub fn read(text: &str, file: Option<Arc<Path>>, diagnostics: &mut Diagnostics) -> Read {
    let errors_before = error_count(diagnostics);
    let Some((value, repeated)) = json::Reader::parse(text, file.clone(), diagnostics) else {
        return Read::default();
    };
    let mut reader = Reader {
        json: json::Reader::new(&value, text, file, json::Subject::None, diagnostics),
    };
    let document = reader.document(&value);
    let id = match &reader.json.subject {
        json::Subject::Lexicon(id) => Some(id.clone()),
        _ => None,
    };
    // A document with an error is invalid as a whole, whatever the reader
    // could make of the rest: it is rejected (and, with `skip_invalid`, left
    // out with what refers to it).
    let valid = !repeated && error_count(diagnostics) == errors_before;
    Read {
        document: document.filter(|_| valid),
        id,
    }
}

fn error_count(diagnostics: &Diagnostics) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

/// Reads a lexicon document from a JSON value parsed elsewhere (its
/// diagnostics have no line and column).
pub fn read_document(
    value: &serde_json::Value,
    file: Option<Arc<Path>>,
    diagnostics: &mut Diagnostics,
) -> Option<Document> {
    let value = Value::from_serde(value);
    let mut reader = Reader {
        json: json::Reader::new(&value, "", file, json::Subject::None, diagnostics),
    };
    reader.document(&value)
}

/// The lexicon reader: the shared JSON reader, and the Lexicon language's
/// rules on top.
struct Reader<'a> {
    json: json::Reader<'a>,
}

json::wraps_reader!(Reader);

/// Types that may only be a document's `main` definition.
const PRIMARY_TYPES: &[&str] = &[
    "record",
    "query",
    "procedure",
    "subscription",
    "permission-set",
    "space",
];

/// The record type a lexicon document is published as.
const LEXICON_SCHEMA_RECORD: &str = "com.atproto.lexicon.schema";

/// Keys every schema may carry besides its type-specific ones.
const COMMON_KEYS: &[&str] = &["type", "description"];

impl Reader<'_> {
    fn document(&mut self, value: &Value) -> Option<Document> {
        let Some(map) = value.as_object() else {
            self.error("", "a lexicon document must be a JSON object");
            return None;
        };
        let mut ok = true;
        match map.get("lexicon") {
            Some(v) if v.as_i64() == Some(1) => {}
            Some(v) => {
                self.error(
                    "/lexicon",
                    format!("`lexicon` must be the integer 1, found {v}"),
                );
                ok = false;
            }
            None => {
                self.error("", "missing `lexicon` (the language version, 1)");
                ok = false;
            }
        }
        let id = match map.get("id") {
            Some(Value {
                kind: Kind::String(id),
                ..
            }) => match atlex::types::Nsid::validate(id) {
                Ok(()) => Some(id.clone()),
                Err(err) => {
                    self.error("/id", format!("`id` is not a valid NSID: {err}"));
                    None
                }
            },
            Some(v) => {
                self.error("/id", format!("`id` must be an NSID string, found {v}"));
                None
            }
            None => {
                self.error("", "missing `id` (the document's NSID)");
                None
            }
        };
        if let Some(id) = &id {
            self.subject = json::Subject::Lexicon(id.clone());
        }
        let revision = match map.get("revision") {
            None => None,
            Some(v) => match v.as_i64() {
                Some(r) if r >= 0 => Some(r),
                _ => {
                    self.error(
                        "/revision",
                        format!("`revision` must be a non-negative integer, found {v}"),
                    );
                    None
                }
            },
        };
        let description = self.opt_string(map, "", "description");
        for (key, value) in map.iter() {
            // A document fetched from the network is the record it was
            // published as, `$type` included (`atlex lex install` and
            // `@atproto/lex` keep it).
            let record_type = key == "$type" && value.as_str() == Some(LEXICON_SCHEMA_RECORD);
            if !record_type
                && !["lexicon", "id", "revision", "description", "defs"].contains(&key.as_str())
            {
                self.warning(
                    &pointer_push("", key),
                    format!("unknown top-level key `{key}` ignored"),
                );
            }
        }
        let mut defs = Vec::new();
        match map.get("defs") {
            Some(Value {
                kind: Kind::Object(entries),
                ..
            }) => {
                for (name, def) in entries {
                    let pointer = pointer_push("/defs", name);
                    match def_name_syntax(name) {
                        DefName::Spec => {}
                        DefName::Tolerated => self.warning(
                            &pointer,
                            format!(
                                "definition name {name:?} is outside the Lexicon syntax (a letter, then letters, digits and `_`); it is kept as written on the wire, and its Rust name is made from it"
                            ),
                        ),
                        DefName::Invalid => {
                            self.error(
                                &pointer,
                                format!(
                                    "invalid definition name {name:?}: a name holds ASCII letters, digits, `_` and `-`"
                                ),
                            );
                            ok = false;
                            continue;
                        }
                    }
                    match self.def(name, def, &pointer) {
                        Some(schema) => defs.push(Def {
                            name: name.clone(),
                            schema,
                        }),
                        None => ok = false,
                    }
                }
            }
            Some(_) => {
                self.error("/defs", "`defs` must be an object of named definitions");
                ok = false;
            }
            None => {
                self.error("", "missing `defs`");
                ok = false;
            }
        }
        let id = id?;
        ok.then_some(Document {
            id,
            revision,
            description,
            defs,
        })
    }

    /// A named definition: any type except the ones that only make sense
    /// inline (`ref`, `union`, `unknown`, `params`, `permission`); primary
    /// types only as `main`.
    fn def(&mut self, name: &str, value: &Value, pointer: &str) -> Option<Schema> {
        // Placement first: a misplaced primary type is reported as such, not
        // for whatever else is wrong inside it.
        let type_name = value.get("type").and_then(Value::as_str);
        if let Some(type_name) = type_name
            && PRIMARY_TYPES.contains(&type_name)
            && name != "main"
        {
            self.error(
                &pointer_push(pointer, "type"),
                format!("type `{type_name}` must be the `main` definition, not `{name}`"),
            );
            return None;
        }
        let schema = self.schema(value, pointer)?;
        match &schema.kind {
            SchemaKind::Ref(_)
            | SchemaKind::Union(_)
            | SchemaKind::Unknown
            | SchemaKind::Params(_)
            | SchemaKind::Permission(_) => {
                self.error(
                    &pointer_push(pointer, "type"),
                    format!(
                        "type `{}` cannot be a named definition; it may only appear inside another type",
                        schema.kind.type_name()
                    ),
                );
                None
            }
            kind if kind.is_primary() && name != "main" => {
                self.error(
                    &pointer_push(pointer, "type"),
                    format!(
                        "type `{}` must be the `main` definition, not `{name}`",
                        kind.type_name()
                    ),
                );
                None
            }
            _ => Some(schema),
        }
    }

    fn schema(&mut self, value: &Value, pointer: &str) -> Option<Schema> {
        let Some(map) = value.as_object() else {
            self.error(
                pointer,
                format!("a schema must be a JSON object, found {value}"),
            );
            return None;
        };
        let type_name = match map.get("type") {
            Some(Value {
                kind: Kind::String(t),
                ..
            }) => t.as_str(),
            Some(v) => {
                self.error(
                    &pointer_push(pointer, "type"),
                    format!("`type` must be a string, found {v}"),
                );
                return None;
            }
            None => {
                self.error(pointer, "missing `type`");
                return None;
            }
        };
        let description = self.opt_string(map, pointer, "description");
        let (kind, allowed): (Option<SchemaKind>, &[&str]) = match type_name {
            "boolean" => (
                Some(SchemaKind::Boolean(BooleanSchema {
                    default: self.opt_bool(map, pointer, "default"),
                    const_value: self.opt_bool(map, pointer, "const"),
                })),
                &["default", "const"],
            ),
            "integer" => (
                Some(SchemaKind::Integer(self.integer(map, pointer))),
                &["minimum", "maximum", "enum", "default", "const"],
            ),
            "string" => (
                Some(SchemaKind::String(self.string(map, pointer))),
                &[
                    "format",
                    "minLength",
                    "maxLength",
                    "minGraphemes",
                    "maxGraphemes",
                    "knownValues",
                    "enum",
                    "default",
                    "const",
                ],
            ),
            "bytes" => (
                Some(SchemaKind::Bytes(BytesSchema {
                    min_length: self.opt_u64(map, pointer, "minLength"),
                    max_length: self.opt_u64(map, pointer, "maxLength"),
                })),
                &["minLength", "maxLength"],
            ),
            "cid-link" => (Some(SchemaKind::CidLink), &[]),
            "blob" => (
                Some(SchemaKind::Blob(BlobSchema {
                    accept: self.opt_strings(map, pointer, "accept"),
                    max_size: self.opt_u64(map, pointer, "maxSize"),
                })),
                &["accept", "maxSize"],
            ),
            "array" => (
                self.array(map, pointer).map(SchemaKind::Array),
                &["items", "minLength", "maxLength"],
            ),
            "object" => (
                self.object(map, pointer, false).map(SchemaKind::Object),
                &["properties", "required", "nullable"],
            ),
            "params" => (
                self.object(map, pointer, true).map(SchemaKind::Params),
                &["properties", "required"],
            ),
            "token" => (Some(SchemaKind::Token), &[]),
            "ref" => (self.reference(map, pointer).map(SchemaKind::Ref), &["ref"]),
            "union" => (
                self.union(map, pointer).map(SchemaKind::Union),
                &["refs", "closed"],
            ),
            "unknown" => (Some(SchemaKind::Unknown), &[]),
            "record" => (
                self.record(map, pointer).map(SchemaKind::Record),
                &["key", "record"],
            ),
            "query" => (
                self.endpoint(map, pointer, false).map(SchemaKind::Query),
                &["parameters", "output", "errors"],
            ),
            "procedure" => (
                self.endpoint(map, pointer, true).map(SchemaKind::Procedure),
                &["parameters", "input", "output", "errors"],
            ),
            "subscription" => (
                self.subscription(map, pointer)
                    .map(SchemaKind::Subscription),
                &["parameters", "message", "errors", "subprotocol"],
            ),
            "permission-set" => (
                self.permission_set(map, pointer)
                    .map(SchemaKind::PermissionSet),
                &[
                    "title",
                    "title:lang",
                    "detail",
                    "detail:lang",
                    "permissions",
                ],
            ),
            "permission" => (
                self.permission(map, pointer).map(SchemaKind::Permission),
                &[],
            ),
            "space" => (
                self.space(map, pointer).map(SchemaKind::Space),
                &["key", "name", "name:lang", "collections"],
            ),
            other => {
                self.error(
                    &pointer_push(pointer, "type"),
                    format!("unknown type `{other}`"),
                );
                return None;
            }
        };
        if type_name != "permission" {
            for key in map.keys() {
                if !COMMON_KEYS.contains(&key.as_str()) && !allowed.contains(&key.as_str()) {
                    self.warning(
                        &pointer_push(pointer, key),
                        format!("unknown key `{key}` on type `{type_name}` ignored"),
                    );
                }
            }
        }
        Some(Schema {
            description,
            pointer: pointer.to_owned(),
            kind: kind?,
        })
    }

    /// Warns about every value of the list `key` (at `pointer`) that repeats
    /// an earlier one: the repeat means nothing, and is ignored.
    fn warn_repeats<T: PartialEq + std::fmt::Debug>(
        &mut self,
        pointer: &str,
        key: &str,
        values: &[T],
    ) {
        for (i, value) in values.iter().enumerate() {
            if let Some(first) = values[..i].iter().position(|v| v == value) {
                let at = pointer_push(&pointer_push(pointer, key), &i.to_string());
                self.warning(
                    &at,
                    format!("`{key}` lists {value:?} twice (first at index {first}); the repeat is ignored"),
                );
            }
        }
    }

    fn integer(&mut self, map: &Object, pointer: &str) -> IntegerSchema {
        let schema = IntegerSchema {
            minimum: self.opt_i64(map, pointer, "minimum"),
            maximum: self.opt_i64(map, pointer, "maximum"),
            enum_values: self.opt_list(map, pointer, "enum", "integers", Value::as_i64),
            default: self.opt_i64(map, pointer, "default"),
            const_value: self.opt_i64(map, pointer, "const"),
        };
        if let Some(values) = &schema.enum_values {
            self.warn_repeats(pointer, "enum", values);
        }
        if let (Some(min), Some(max)) = (schema.minimum, schema.maximum)
            && min > max
        {
            self.error(
                pointer,
                format!("minimum {min} is greater than maximum {max}"),
            );
        }
        if let Some(default) = schema.default {
            let below = schema.minimum.is_some_and(|m| default < m);
            let above = schema.maximum.is_some_and(|m| default > m);
            if below || above {
                self.warning(
                    &pointer_push(pointer, "default"),
                    format!("default {default} is outside the minimum/maximum range"),
                );
            }
        }
        schema
    }

    fn string(&mut self, map: &Object, pointer: &str) -> StringSchema {
        let format = match map.get("format") {
            None => None,
            Some(Value {
                kind: Kind::String(name),
                ..
            }) => match StringFormat::from_name(name) {
                Some(format) => Some(format),
                None => {
                    self.error(
                        &pointer_push(pointer, "format"),
                        format!("unknown string format `{name}`"),
                    );
                    None
                }
            },
            Some(v) => {
                self.error(
                    &pointer_push(pointer, "format"),
                    format!("`format` must be a string, found {v}"),
                );
                None
            }
        };
        let schema = StringSchema {
            format,
            min_length: self.opt_u64(map, pointer, "minLength"),
            max_length: self.opt_u64(map, pointer, "maxLength"),
            min_graphemes: self.opt_u64(map, pointer, "minGraphemes"),
            max_graphemes: self.opt_u64(map, pointer, "maxGraphemes"),
            known_values: self
                .opt_strings(map, pointer, "knownValues")
                .unwrap_or_default(),
            enum_values: self.opt_strings(map, pointer, "enum"),
            default: self.opt_string(map, pointer, "default"),
            const_value: self.opt_string(map, pointer, "const"),
        };
        self.warn_repeats(pointer, "knownValues", &schema.known_values);
        if let Some(values) = &schema.enum_values {
            self.warn_repeats(pointer, "enum", values);
        }
        for (min, max, what) in [
            (schema.min_length, schema.max_length, "length"),
            (schema.min_graphemes, schema.max_graphemes, "graphemes"),
        ] {
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                self.error(
                    pointer,
                    format!("minimum {what} {min} is greater than maximum {max}"),
                );
            }
        }
        if let Some(default) = &schema.default {
            self.check_string_default(pointer, &schema, default);
        }
        schema
    }

    /// Warns when a string's `default` breaks its own constraints: data
    /// written with the default would then be invalid data.
    fn check_string_default(&mut self, pointer: &str, schema: &StringSchema, default: &str) {
        let mut v = atlex::validate::Validator::new();
        v.string(
            default,
            &atlex::validate::StringRules {
                min_length: schema.min_length,
                max_length: schema.max_length,
                min_graphemes: schema.min_graphemes,
                max_graphemes: schema.max_graphemes,
                ..atlex::validate::StringRules::NONE
            },
        );
        let mut problems: Vec<String> = v.violations().iter().map(|x| x.to_string()).collect();
        if let Some(values) = &schema.enum_values
            && !values.iter().any(|x| x == default)
        {
            problems.push(format!("it is not one of the `enum` values {values:?}"));
        }
        if let Some(expected) = &schema.const_value
            && expected != default
        {
            problems.push(format!("it differs from the `const` {expected:?}"));
        }
        if !problems.is_empty() {
            self.warning(
                &pointer_push(pointer, "default"),
                format!(
                    "default {default:?} breaks the schema's own constraints: {}",
                    problems.join("; ")
                ),
            );
        }
    }

    fn array(&mut self, map: &Object, pointer: &str) -> Option<ArraySchema> {
        let min_length = self.opt_u64(map, pointer, "minLength");
        let max_length = self.opt_u64(map, pointer, "maxLength");
        let items_pointer = pointer_push(pointer, "items");
        let Some(items) = map.get("items") else {
            self.error(pointer, "an `array` needs `items`");
            return None;
        };
        let items = self.schema(items, &items_pointer)?;
        if !is_field_type(&items.kind) {
            self.error(
                &items_pointer,
                format!("array items cannot be of type `{}`", items.kind.type_name()),
            );
            return None;
        }
        if let (Some(min), Some(max)) = (min_length, max_length)
            && min > max
        {
            self.error(
                pointer,
                format!("minLength {min} is greater than maxLength {max}"),
            );
        }
        Some(ArraySchema {
            items: Box::new(items),
            min_length,
            max_length,
        })
    }

    fn object(&mut self, map: &Object, pointer: &str, params: bool) -> Option<ObjectSchema> {
        let mut ok = true;
        let mut properties = Vec::new();
        let mut declared: Vec<String> = Vec::new();
        let props_pointer = pointer_push(pointer, "properties");
        match map.get("properties") {
            None if params => {}
            None => {
                self.warning(
                    pointer,
                    "an `object` without `properties`; read as having none",
                );
            }
            Some(Value {
                kind: Kind::Object(props),
                ..
            }) => {
                for (name, value) in props {
                    let pointer = pointer_push(&props_pointer, name);
                    // Named by `required` or `nullable` or not, a property
                    // that failed to read has been reported already.
                    declared.push(name.clone());
                    if name == "$type" {
                        if !self.type_tag_property(value, &pointer) {
                            ok = false;
                        }
                        continue;
                    }
                    let Some(schema) = self.schema(value, &pointer) else {
                        ok = false;
                        continue;
                    };
                    let problem = if params {
                        param_type_problem(&schema.kind)
                    } else if is_field_type(&schema.kind) {
                        None
                    } else {
                        Some(format!(
                            "a property of an object cannot be of type `{}`",
                            schema.kind.type_name()
                        ))
                    };
                    if let Some(problem) = problem {
                        self.error(&pointer, problem);
                        ok = false;
                        continue;
                    }
                    properties.push((name.clone(), schema));
                }
            }
            Some(v) => {
                self.error(
                    &props_pointer,
                    format!("`properties` must be an object, found {v}"),
                );
                ok = false;
            }
        }
        let required = self
            .opt_strings(map, pointer, "required")
            .unwrap_or_default();
        let nullable = self
            .opt_strings(map, pointer, "nullable")
            .unwrap_or_default();
        for (key, names) in [("required", &required), ("nullable", &nullable)] {
            self.warn_repeats(pointer, key, names);
            for (i, name) in names.iter().enumerate() {
                if !declared.contains(name) {
                    let at = pointer_push(&pointer_push(pointer, key), &i.to_string());
                    self.error(
                        &at,
                        format!("`{key}` names `{name}`, which is not a property"),
                    );
                    ok = false;
                }
            }
        }
        // A `$type` property read as the type tag is no field of the object.
        let required = required.into_iter().filter(|n| n != "$type").collect();
        let nullable = nullable.into_iter().filter(|n| n != "$type").collect();
        ok.then_some(ObjectSchema {
            properties,
            required,
            nullable,
        })
    }

    /// A property named `$type`. Declared as a string with a `const`, it
    /// pins the object's type tag (a common way to write a facet feature),
    /// as the reference implementation accepts: it is read as the type tag,
    /// which the object carries by its definition wherever the data model
    /// asks for one, and is no field. Anything else is an error. Returns
    /// whether it was accepted.
    fn type_tag_property(&mut self, value: &Value, pointer: &str) -> bool {
        let declared = value
            .as_object()
            .filter(|map| map.get("type").and_then(Value::as_str) == Some("string"))
            .and_then(|map| map.get("const"))
            .and_then(Value::as_str);
        let Some(tag) = declared else {
            self.error(
                pointer,
                "a property cannot be named `$type` unless it is a string with a `const`: `$type` is the data model's type tag, which records and union members carry by their definition",
            );
            return false;
        };
        let expected = def_type_name(self.subject_nsid(), pointer);
        let message = match expected {
            Some(expected) if expected != tag => format!(
                "property `$type` pins the type tag to {tag:?}, but this object is {expected:?}, whose data carries {expected:?}; the property is read as the type tag and is no field"
            ),
            _ => format!(
                "property `$type` (a string with `const` {tag:?}) is read as the object's type tag, which it carries by its definition; it is no field"
            ),
        };
        self.warning(pointer, message);
        true
    }

    /// The NSID of the document being read, once its `id` is known.
    fn subject_nsid(&self) -> Option<&str> {
        match &self.json.subject {
            json::Subject::Lexicon(id) => Some(id),
            _ => None,
        }
    }

    fn reference(&mut self, map: &Object, pointer: &str) -> Option<RefSchema> {
        match map.get("ref") {
            Some(Value {
                kind: Kind::String(target),
                ..
            }) => {
                if let Err(reason) = check_ref_syntax(target) {
                    self.error(&pointer_push(pointer, "ref"), reason);
                    return None;
                }
                Some(RefSchema {
                    target: target.clone(),
                })
            }
            Some(v) => {
                self.error(
                    &pointer_push(pointer, "ref"),
                    format!("`ref` must be a string, found {v}"),
                );
                None
            }
            None => {
                self.error(pointer, "a `ref` needs `ref`");
                None
            }
        }
    }

    fn union(&mut self, map: &Object, pointer: &str) -> Option<UnionSchema> {
        let refs_pointer = pointer_push(pointer, "refs");
        let Some(refs) = self.opt_strings(map, pointer, "refs") else {
            if !map.contains_key("refs") {
                self.error(pointer, "a `union` needs `refs`");
            }
            return None;
        };
        let mut ok = true;
        for (i, target) in refs.iter().enumerate() {
            if let Err(reason) = check_ref_syntax(target) {
                self.error(&pointer_push(&refs_pointer, &i.to_string()), reason);
                ok = false;
            }
        }
        let closed = self.opt_bool(map, pointer, "closed").unwrap_or(false);
        if closed && refs.is_empty() {
            self.warning(pointer, "a closed union with no refs can hold no value");
        }
        ok.then_some(UnionSchema { refs, closed })
    }

    /// Checks a key type (`tid`, `nsid`, `any`, `literal:<value>`) of a
    /// `record` or `space`.
    fn key_type(&mut self, pointer: &str, what: &str, key: &str) {
        let valid = matches!(key, "tid" | "nsid" | "any")
            || key.strip_prefix("literal:").is_some_and(|v| !v.is_empty());
        if !valid {
            let hint = if key.is_empty() || key.contains(':') {
                String::new()
            } else {
                format!(" (a fixed key is written `literal:{key}`)")
            };
            self.error(
                &pointer_push(pointer, "key"),
                format!(
                    "{what} `key` must be `tid`, `nsid`, `any` or `literal:<value>`, found {key:?}{hint}"
                ),
            );
        }
    }

    /// A space type declaration: `key`, `name` (1 to 64 graphemes) and
    /// `collections` (NSIDs) are required, `name:lang` maps language tags
    /// to names.
    fn space(&mut self, map: &Object, pointer: &str) -> Option<SpaceSchema> {
        let mut ok = true;
        let key = match map.get("key") {
            Some(Value {
                kind: Kind::String(key),
                ..
            }) => {
                self.key_type(pointer, "space", key);
                key.clone()
            }
            _ => {
                self.error(
                    pointer,
                    "a `space` needs a `key` string (its space key type)",
                );
                ok = false;
                String::new()
            }
        };
        let name_rules = atlex::validate::StringRules {
            min_graphemes: Some(1),
            max_graphemes: Some(64),
            ..atlex::validate::StringRules::NONE
        };
        let check_name = |reader: &mut Self, at: &str, name: &str| {
            let mut v = atlex::validate::Validator::new();
            v.string(name, &name_rules);
            if !v.violations().is_empty() {
                reader.error(
                    at,
                    format!("a space `name` is 1 to 64 graphemes, found {name:?}"),
                );
                return false;
            }
            true
        };
        let name = match map.get("name") {
            Some(Value {
                kind: Kind::String(name),
                ..
            }) => {
                ok &= check_name(self, &pointer_push(pointer, "name"), name);
                name.clone()
            }
            _ => {
                self.error(pointer, "a `space` needs a `name` string, shown to users");
                ok = false;
                String::new()
            }
        };
        let mut name_lang = Vec::new();
        let lang_at = pointer_push(pointer, "name:lang");
        match map.get("name:lang") {
            None => {}
            Some(Value {
                kind: Kind::Object(names),
                ..
            }) => {
                for (lang, value) in names {
                    let at = pointer_push(&lang_at, lang);
                    if atlex::types::Language::validate(lang).is_err() {
                        self.error(&at, format!("{lang:?} is not a language tag"));
                        ok = false;
                    }
                    match value.as_str() {
                        Some(text) => {
                            ok &= check_name(self, &at, text);
                            name_lang.push((lang.clone(), text.to_owned()));
                        }
                        None => {
                            self.error(
                                &at,
                                format!("a localized name must be a string, found {value}"),
                            );
                            ok = false;
                        }
                    }
                }
            }
            Some(v) => {
                self.error(
                    &lang_at,
                    format!("`name:lang` must be an object of names by language, found {v}"),
                );
                ok = false;
            }
        }
        let collections = match self.opt_strings(map, pointer, "collections") {
            Some(collections) => collections,
            None => {
                if !map.contains_key("collections") {
                    self.error(pointer, "a `space` needs `collections`, an array of NSIDs");
                }
                ok = false;
                Vec::new()
            }
        };
        for (i, collection) in collections.iter().enumerate() {
            if !is_valid_nsid(collection) {
                let at = pointer_push(&pointer_push(pointer, "collections"), &i.to_string());
                self.error(
                    &at,
                    format!("collection {collection:?} is not a valid NSID"),
                );
                ok = false;
            }
        }
        self.warn_repeats(pointer, "collections", &collections);
        ok.then_some(SpaceSchema {
            key,
            name,
            name_lang,
            collections,
        })
    }

    fn record(&mut self, map: &Object, pointer: &str) -> Option<RecordSchema> {
        let key = match map.get("key") {
            Some(Value {
                kind: Kind::String(key),
                ..
            }) => {
                self.key_type(pointer, "record", key);
                key.clone()
            }
            Some(v) => {
                self.error(
                    &pointer_push(pointer, "key"),
                    format!("record `key` must be a string, found {v}"),
                );
                "any".to_owned()
            }
            None => {
                self.warning(pointer, "record has no `key`; treating it as `any`");
                "any".to_owned()
            }
        };
        let record_pointer = pointer_push(pointer, "record");
        let Some(record) = map.get("record") else {
            self.error(pointer, "a `record` needs `record`, an object schema");
            return None;
        };
        let record = self.schema(record, &record_pointer)?;
        if !matches!(record.kind, SchemaKind::Object(_)) {
            self.error(
                &record_pointer,
                format!(
                    "a record's `record` must be an `object`, found type `{}`",
                    record.kind.type_name()
                ),
            );
            return None;
        }
        Some(RecordSchema {
            key,
            record: Box::new(record),
        })
    }

    fn endpoint(&mut self, map: &Object, pointer: &str, procedure: bool) -> Option<EndpointSchema> {
        let mut ok = true;
        let parameters = self.parameters(map, pointer, &mut ok);
        let input = if procedure {
            self.body(map, pointer, "input", &mut ok)
        } else {
            None
        };
        let output = self.body(map, pointer, "output", &mut ok);
        let errors = self.errors(map, pointer, &mut ok);
        ok.then_some(EndpointSchema {
            parameters,
            input,
            output,
            errors,
        })
    }

    fn subscription(&mut self, map: &Object, pointer: &str) -> Option<SubscriptionSchema> {
        let mut ok = true;
        let parameters = self.parameters(map, pointer, &mut ok);
        let message = self.body(map, pointer, "message", &mut ok);
        if !map.contains_key("message") {
            // The spec requires it: without it, no reader knows what the
            // stream's frames hold.
            self.error(
                pointer,
                "a `subscription` needs a `message` (its schema: a `union` of the frame types)",
            );
            ok = false;
        }
        if let Some(message) = &message
            && let Some(schema) = &message.schema
            && !matches!(schema.kind, SchemaKind::Union(_))
        {
            self.error(
                &schema.pointer,
                "a subscription `message` schema must be a `union`",
            );
            ok = false;
        }
        let errors = self.errors(map, pointer, &mut ok);
        let subprotocol = self.subprotocol(map, pointer, &mut ok);
        ok.then_some(SubscriptionSchema {
            parameters,
            message,
            errors,
            subprotocol,
        })
    }

    /// A subscription's `subprotocol`: one of the tokens of
    /// [`atlex_names::SUBPROTOCOLS`].
    fn subprotocol(&mut self, map: &Object, pointer: &str, ok: &mut bool) -> Option<String> {
        let value = map.get("subprotocol")?;
        let at = pointer_push(pointer, "subprotocol");
        let known = || {
            atlex_names::SUBPROTOCOLS
                .iter()
                .map(|(token, _)| format!("`{token}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &value.kind {
            Kind::String(token) if atlex_names::subprotocol_variant(token).is_some() => {
                Some(token.clone())
            }
            Kind::String(token) => {
                self.error(
                    &at,
                    format!(
                        "unknown `subprotocol` {token:?}; expected one of {}",
                        known()
                    ),
                );
                *ok = false;
                None
            }
            _ => {
                self.error(
                    &at,
                    format!(
                        "`subprotocol` must be a string, one of {}; found {value}",
                        known()
                    ),
                );
                *ok = false;
                None
            }
        }
    }

    fn parameters(&mut self, map: &Object, pointer: &str, ok: &mut bool) -> Option<Box<Schema>> {
        let value = map.get("parameters")?;
        let at = pointer_push(pointer, "parameters");
        match self.schema(value, &at) {
            Some(schema) if matches!(schema.kind, SchemaKind::Params(_)) => Some(Box::new(schema)),
            Some(schema) => {
                self.error(
                    &at,
                    format!(
                        "`parameters` must be of type `params`, found `{}`",
                        schema.kind.type_name()
                    ),
                );
                *ok = false;
                None
            }
            None => {
                *ok = false;
                None
            }
        }
    }

    fn body(
        &mut self,
        map: &Object,
        pointer: &str,
        key: &str,
        ok: &mut bool,
    ) -> Option<BodySchema> {
        let value = map.get(key)?;
        let at = pointer_push(pointer, key);
        let Some(body) = value.as_object() else {
            self.error(&at, format!("`{key}` must be an object, found {value}"));
            *ok = false;
            return None;
        };
        let is_message = key == "message";
        let encoding = match body.get("encoding") {
            Some(Value {
                kind: Kind::String(e),
                ..
            }) if !e.is_empty() => {
                self.check_encoding_list(&pointer_push(&at, "encoding"), e, ok);
                e.clone()
            }
            Some(v) => {
                self.error(
                    &pointer_push(&at, "encoding"),
                    format!("`encoding` must be a MIME type string, found {v}"),
                );
                *ok = false;
                String::new()
            }
            None if is_message => String::new(),
            None => {
                self.error(&at, format!("`{key}` needs an `encoding`"));
                *ok = false;
                String::new()
            }
        };
        let description = self.opt_string(body, &at, "description");
        let schema = match body.get("schema") {
            None => None,
            Some(value) => {
                let schema_at = pointer_push(&at, "schema");
                match self.schema(value, &schema_at) {
                    Some(schema)
                        if matches!(
                            schema.kind,
                            SchemaKind::Object(_) | SchemaKind::Ref(_) | SchemaKind::Union(_)
                        ) =>
                    {
                        Some(Box::new(schema))
                    }
                    Some(schema) => {
                        self.error(
                            &schema_at,
                            format!(
                                "a body schema must be an `object`, `ref` or `union`, found `{}`",
                                schema.kind.type_name()
                            ),
                        );
                        *ok = false;
                        None
                    }
                    None => {
                        *ok = false;
                        None
                    }
                }
            }
        };
        for k in body.keys() {
            if !["encoding", "schema", "description"].contains(&k.as_str()) {
                self.warning(
                    &pointer_push(&at, k),
                    format!("unknown key `{k}` on `{key}` ignored"),
                );
            }
        }
        Some(BodySchema {
            encoding,
            description,
            schema,
            pointer: at,
        })
    }

    /// An `encoding` is one MIME type (or pattern), but real lexicons list
    /// several separated by commas. That is read as a list, each item a
    /// MIME type the body may be in, with a warning; an empty item is an
    /// error.
    fn check_encoding_list(&mut self, pointer: &str, encoding: &str, ok: &mut bool) {
        if !encoding.contains(',') {
            return;
        }
        let items: Vec<&str> = encoding.split(',').map(str::trim).collect();
        if items.iter().any(|item| item.is_empty()) {
            self.error(
                pointer,
                format!("`encoding` {encoding:?} has an empty item in its comma-separated list"),
            );
            *ok = false;
            return;
        }
        self.warning(
            pointer,
            format!(
                "`encoding` is one MIME type; {encoding:?} is read as the list {items:?}, and a body in any of them is accepted"
            ),
        );
    }

    fn errors(&mut self, map: &Object, pointer: &str, ok: &mut bool) -> Vec<ErrorSchema> {
        let at = pointer_push(pointer, "errors");
        let Some(value) = map.get("errors") else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.error(&at, format!("`errors` must be an array, found {value}"));
            *ok = false;
            return Vec::new();
        };
        let mut errors: Vec<ErrorSchema> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_at = pointer_push(&at, &i.to_string());
            let Some(obj) = item.as_object() else {
                self.error(
                    &item_at,
                    format!("an error must be an object, found {item}"),
                );
                *ok = false;
                continue;
            };
            let name = match obj.get("name") {
                Some(Value {
                    kind: Kind::String(name),
                    ..
                }) if !name.is_empty() && !name.contains(char::is_whitespace) => name.clone(),
                Some(v) => {
                    self.error(
                        &pointer_push(&item_at, "name"),
                        format!(
                            "an error `name` must be a non-empty string without spaces, found {v}"
                        ),
                    );
                    *ok = false;
                    continue;
                }
                None => {
                    self.error(&item_at, "an error needs a `name`");
                    *ok = false;
                    continue;
                }
            };
            if errors.iter().any(|e| e.name == name) {
                self.error(&item_at, format!("error `{name}` is declared twice"));
                *ok = false;
                continue;
            }
            for k in obj.keys() {
                if k != "name" && k != "description" {
                    self.warning(
                        &pointer_push(&item_at, k),
                        format!("unknown key `{k}` on an error ignored"),
                    );
                }
            }
            let description = self.opt_string(obj, &item_at, "description");
            errors.push(ErrorSchema { name, description });
        }
        errors
    }

    fn permission_set(&mut self, map: &Object, pointer: &str) -> Option<PermissionSetSchema> {
        let title = self.opt_string(map, pointer, "title");
        let detail = self.opt_string(map, pointer, "detail");
        let at = pointer_push(pointer, "permissions");
        let mut permissions = Vec::new();
        match map.get("permissions") {
            Some(Value {
                kind: Kind::Array(items),
                ..
            }) => {
                for (i, item) in items.iter().enumerate() {
                    let item_at = pointer_push(&at, &i.to_string());
                    let schema = self.schema(item, &item_at)?;
                    if !matches!(schema.kind, SchemaKind::Permission(_)) {
                        self.error(
                            &item_at,
                            format!(
                                "a permission set holds `permission`s, found type `{}`",
                                schema.kind.type_name()
                            ),
                        );
                        return None;
                    }
                    permissions.push(schema);
                }
            }
            Some(v) => {
                self.error(&at, format!("`permissions` must be an array, found {v}"));
                return None;
            }
            None => {
                self.error(pointer, "a `permission-set` needs `permissions`");
                return None;
            }
        }
        Some(PermissionSetSchema {
            title,
            detail,
            permissions,
        })
    }

    fn permission(&mut self, map: &Object, pointer: &str) -> Option<PermissionSchema> {
        let resource = match map.get("resource") {
            Some(Value {
                kind: Kind::String(r),
                ..
            }) if !r.is_empty() => r.clone(),
            _ => {
                self.error(pointer, "a `permission` needs a `resource` string");
                return None;
            }
        };
        let fields = map
            .iter()
            .filter(|(k, _)| !["type", "resource", "description"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.to_serde()))
            .collect();
        Some(PermissionSchema { resource, fields })
    }
}

/// Types allowed as object properties and array items.
fn is_field_type(kind: &SchemaKind) -> bool {
    matches!(
        kind,
        SchemaKind::Boolean(_)
            | SchemaKind::Integer(_)
            | SchemaKind::String(_)
            | SchemaKind::Bytes(_)
            | SchemaKind::CidLink
            | SchemaKind::Blob(_)
            | SchemaKind::Array(_)
            | SchemaKind::Object(_)
            | SchemaKind::Ref(_)
            | SchemaKind::Union(_)
            | SchemaKind::Unknown
    )
}

/// What is wrong with a parameter of this type, if anything: parameters are
/// booleans, integers, strings and arrays of those.
fn param_type_problem(kind: &SchemaKind) -> Option<String> {
    match kind {
        SchemaKind::Boolean(_) | SchemaKind::Integer(_) | SchemaKind::String(_) => None,
        SchemaKind::Unknown => Some(
            "a parameter of type `unknown` has no query-string form, so no code can send or read it; parameters are booleans, integers, strings or arrays of those".to_owned(),
        ),
        SchemaKind::Array(a) => match &a.items.kind {
            SchemaKind::Boolean(_) | SchemaKind::Integer(_) | SchemaKind::String(_) => None,
            items => Some(format!(
                "an array parameter holds booleans, integers or strings (one query-string value each), not `{}`",
                items.type_name()
            )),
        },
        other => Some(format!(
            "a parameter is a boolean, integer, string or an array of booleans, integers or strings, not `{}`",
            other.type_name()
        )),
    }
}

/// The `$type` of data of the named definition whose own properties
/// `property` (a pointer `/defs/<name>/properties/$type`, or inside a
/// record's `record`) belongs to; `None` for deeper, inline objects.
fn def_type_name(nsid: Option<&str>, property: &str) -> Option<String> {
    let rest = property.strip_prefix("/defs/")?;
    let (name, rest) = rest.split_once('/')?;
    if rest != "properties/$type" && rest != "record/properties/$type" {
        return None;
    }
    Some(super::DefKey::new(nsid?, name.replace("~1", "/").replace("~0", "~")).type_name())
}

/// How a definition name stands to the Lexicon syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DefName {
    /// Letters, digits and underscores, starting with a letter.
    Spec,
    /// Outside the spec but used by real lexicon sets and accepted by the
    /// reference implementation: ASCII letters, digits, `_` and `-`
    /// (`all-rights-reserved`, `cc-by-nc-nd_4__0`).
    Tolerated,
    /// Anything else (spaces, `#`, `.`, `/`, other characters, empty).
    Invalid,
}

fn def_name_syntax(name: &str) -> DefName {
    let mut chars = name.chars();
    let spec = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if spec {
        DefName::Spec
    } else if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        DefName::Tolerated
    } else {
        DefName::Invalid
    }
}

/// Checks the syntax of a reference: `#def`, `nsid` or `nsid#def`.
pub fn check_ref_syntax(target: &str) -> Result<(), String> {
    let (nsid, def) = match target.split_once('#') {
        Some((nsid, def)) => (nsid, Some(def)),
        None => (target, None),
    };
    if !nsid.is_empty() && !is_valid_nsid(nsid) {
        return Err(format!(
            "reference {target:?} does not start with a valid NSID"
        ));
    }
    match def {
        Some(def) if def_name_syntax(def) == DefName::Invalid => Err(format!(
            "reference {target:?} names an invalid definition {def:?}"
        )),
        None if nsid.is_empty() => Err("empty reference".to_owned()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<Document>, Diagnostics) {
        let mut diagnostics = Diagnostics::new();
        let doc = parse_document(text, None, &mut diagnostics);
        (doc, diagnostics)
    }

    #[test]
    fn nsid_syntax() {
        for ok in [
            "com.example.foo",
            "app.bsky.feed.post",
            "a-b.c.d9",
            "com.example.fooBar",
        ] {
            assert!(is_valid_nsid(ok), "{ok}");
        }
        for bad in [
            "one-two-three",
            "com.example",
            "com.example.3d",
            "com..x",
            "com.ex-.x",
            "1com.x.y",
            "com.example.foo-bar",
            "",
        ] {
            assert!(!is_valid_nsid(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_keys_warn_but_parse() {
        let (doc, diags) = parse(
            r#"{"lexicon":1,"id":"com.example.thing","$type":"com.example.notASchema","needsCbor":true,
               "defs":{"main":{"type":"object","properties":{},"extra":1}}}"#,
        );
        assert!(doc.is_some());
        assert!(!diags.has_errors());
        assert_eq!(diags.warnings().count(), 3, "{diags}");
    }

    #[test]
    fn every_problem_is_reported() {
        let (doc, diags) = parse(
            r##"{"lexicon":1,"id":"com.example.thing","defs":{
                "a":{"type":"object","properties":{"x":{"type":"strin"}},"required":["y"]},
                "b":{"type":"ref","ref":"#a"},
                "c":{"type":"integer","minimum":5,"maximum":1}
            }}"##,
        );
        assert!(doc.is_none());
        let messages: Vec<String> = diags.errors().map(|d| d.message.clone()).collect();
        assert!(
            messages.iter().any(|m| m.contains("unknown type `strin`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("names `y`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("cannot be a named definition")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("greater than maximum")),
            "{messages:?}"
        );
    }

    fn warnings_of(text: &str) -> (Option<Document>, Vec<String>, Vec<String>) {
        let (doc, diags) = parse(text);
        let errors = diags.errors().map(|d| d.message.clone()).collect();
        let warnings = diags.warnings().map(|d| d.message.clone()).collect();
        (doc, errors, warnings)
    }

    #[test]
    fn a_default_breaking_its_constraints_is_reported() {
        let (doc, errors, warnings) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.thing","defs":{"main":{"type":"object","properties":{
                "a":{"type":"string","maxLength":3,"default":"toolong"},
                "b":{"type":"string","enum":["x","y"],"default":"z"},
                "c":{"type":"string","maxGraphemes":2,"maxLength":20,"default":"ok"}}}}}"#,
        );
        assert!(doc.is_some() && errors.is_empty(), "{errors:?}");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("\"toolong\"") && warnings[0].contains("maxLength"),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("enum"), "{warnings:?}");
    }

    #[test]
    fn a_published_schema_record_reads_without_a_warning() {
        let doc = |ty: &str| {
            format!(
                r#"{{"$type":"{ty}","lexicon":1,"id":"com.example.thing","defs":{{"main":{{"type":"token"}}}}}}"#
            )
        };
        let (read, errors, warnings) = warnings_of(&doc("com.atproto.lexicon.schema"));
        assert!(
            read.is_some() && errors.is_empty() && warnings.is_empty(),
            "{warnings:?}"
        );
        let (_, _, warnings) = warnings_of(&doc("com.example.other"));
        assert_eq!(warnings, ["unknown top-level key `$type` ignored"]);
    }

    #[test]
    fn a_subscription_needs_a_message() {
        let (doc, errors, _) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.sub","defs":{"main":{"type":"subscription"}}}"#,
        );
        assert!(doc.is_none());
        assert!(
            errors.iter().any(|m| m.contains("needs a `message`")),
            "{errors:?}"
        );
    }

    #[test]
    fn an_unknown_parameter_is_refused_without_naming_the_spec() {
        let (doc, errors, _) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.q","defs":{"main":{"type":"query",
                "parameters":{"type":"params","properties":{"x":{"type":"unknown"}}}}}}"#,
        );
        assert!(doc.is_none());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("no query-string form"), "{errors:?}");
        assert!(!errors[0].contains("spec"), "{errors:?}");
    }

    #[test]
    fn a_type_property_with_const_is_read_as_the_type_tag() {
        let (doc, errors, warnings) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.facet","defs":{
                "link":{"type":"object","required":["$type","uri"],"properties":{
                    "$type":{"type":"string","const":"com.example.facet#link"},
                    "uri":{"type":"string","format":"uri"}}},
                "odd":{"type":"object","properties":{
                    "$type":{"type":"string","const":"com.example.other"}}}}}"#,
        );
        let doc = doc.expect("accepted");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(!warnings[0].contains("but this object is"), "{warnings:?}");
        assert!(warnings[1].contains("but this object is"), "{warnings:?}");
        let SchemaKind::Object(link) = &doc.def("link").unwrap().schema.kind else {
            panic!("an object");
        };
        assert_eq!(link.properties.len(), 1);
        assert_eq!(link.required, ["uri"]);

        for bad in [r#"{"type":"string"}"#, r#"{"type":"integer","const":1}"#] {
            let text = format!(
                r#"{{"lexicon":1,"id":"com.example.facet","defs":{{"main":{{"type":"object","properties":{{"$type":{bad}}}}}}}}}"#
            );
            let (doc, errors, _) = warnings_of(&text);
            assert!(doc.is_none(), "{bad}");
            assert!(errors[0].contains("`$type`"), "{errors:?}");
        }
    }

    #[test]
    fn an_encoding_listing_several_types_is_read_as_a_list() {
        let (doc, errors, warnings) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.upload","defs":{"main":{"type":"procedure",
                "input":{"encoding":"image/png, image/jpeg"}}}}"#,
        );
        assert!(doc.is_some() && errors.is_empty(), "{errors:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains(r#"["image/png", "image/jpeg"]"#),
            "{warnings:?}"
        );
        let (doc, errors, _) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.upload","defs":{"main":{"type":"procedure",
                "input":{"encoding":"image/png,,image/jpeg"}}}}"#,
        );
        assert!(doc.is_none());
        assert!(errors[0].contains("empty item"), "{errors:?}");
    }

    #[test]
    fn a_space_type_is_read_and_checked() {
        let (doc, errors, warnings) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.forum","defs":{"main":{"type":"space",
                "key":"any","name":"Forum","name:lang":{"es":"Foro"},
                "collections":["com.example.thread","com.example.reply"]}}}"#,
        );
        assert!(
            errors.is_empty() && warnings.is_empty(),
            "{errors:?} {warnings:?}"
        );
        let doc = doc.expect("accepted");
        let SchemaKind::Space(space) = &doc.def("main").unwrap().schema.kind else {
            panic!("a space");
        };
        assert_eq!(space.key, "any");
        assert_eq!(space.name_lang, [("es".to_owned(), "Foro".to_owned())]);
        assert_eq!(space.collections.len(), 2);

        let (doc, errors, _) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.forum","defs":{"main":{"type":"space",
                "key":"self","name":"","name:lang":{"not a tag":"x"},
                "collections":["nope"]}}}"#,
        );
        assert!(doc.is_none());
        assert_eq!(errors.len(), 4, "{errors:?}");
        let (doc, errors, _) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.forum","defs":{"main":{"type":"object","properties":{}},
                "other":{"type":"space","key":"any","name":"F","collections":[]}}}"#,
        );
        assert!(doc.is_none());
        assert!(
            errors[0].contains("must be the `main` definition"),
            "{errors:?}"
        );
        let (doc, errors, _) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.forum","defs":{"main":{"type":"space"}}}"#,
        );
        assert!(doc.is_none());
        assert_eq!(errors.len(), 3, "{errors:?}");
    }

    #[test]
    fn space_permissions_in_a_permission_set_are_read() {
        let (doc, errors, warnings) = warnings_of(
            r#"{"lexicon":1,"id":"com.example.access","defs":{"main":{"type":"permission-set",
                "title":"Forums","permissions":[{"type":"permission","resource":"space",
                "spaceType":"com.example.forum","action":["read","create"]}]}}}"#,
        );
        assert!(
            errors.is_empty() && warnings.is_empty(),
            "{errors:?} {warnings:?}"
        );
        let doc = doc.expect("accepted");
        let SchemaKind::PermissionSet(set) = &doc.def("main").unwrap().schema.kind else {
            panic!("a permission set");
        };
        let SchemaKind::Permission(permission) = &set.permissions[0].kind else {
            panic!("a permission");
        };
        assert_eq!(permission.resource, "space");
        assert_eq!(permission.fields["spaceType"], "com.example.forum");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for text in [
            "",
            "null",
            "[]",
            "{\"lexicon\":1}",
            "{\"defs\":[]}",
            "{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"main\":{\"type\":\"array\"}}}",
            "{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"main\":5}}",
        ] {
            let (doc, diags) = parse(text);
            assert!(doc.is_none(), "{text}");
            assert!(diags.has_errors(), "{text}");
        }
    }
}
