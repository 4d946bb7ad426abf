//! Lint: rules for lexicon documents beyond what the language requires,
//! as lexicon authors in the community write them (names and casing,
//! descriptions, string limits, record keys, references, deprecated
//! constructs), for `atlex lex lint`.
//!
//! Every rule has a stable code and name, a severity, and in [`RULES`] an
//! example document that breaks it and one that keeps it (the tests run
//! both, and `docs/lint.md` is made from the table). The language itself
//! is checked by the reader: its errors and warnings are findings of the
//! rules `invalid-lexicon` and `language-warning`.

use std::collections::HashSet;
use std::path::Path;

use crate::catalog::{Catalog, LoadOptions, ref_kind_problem, token_member_note, visit_refs};
use crate::diagnostics::{Diagnostics, Location, Severity, pointer_push};
use crate::lexicon::{DefKey, Document, Schema, SchemaKind};

/// One lint rule.
#[derive(Debug)]
pub struct Rule {
    /// Its stable code (`LEX101`).
    pub code: &'static str,
    /// Its stable name (`nsid-casing`).
    pub name: &'static str,
    /// How bad a finding of it is.
    pub severity: Severity,
    /// What it checks and why, in a sentence or two.
    pub summary: &'static str,
    /// A document that breaks the rule.
    pub failing: &'static str,
    /// The same document, keeping it.
    pub passing: &'static str,
}

/// The rules, by code.
pub const RULES: &[Rule] = &[
    Rule {
        code: "LEX001",
        name: "invalid-lexicon",
        severity: Severity::Error,
        summary: "The document breaks the Lexicon language (a wrong type, a missing field, a bad NSID…); it cannot be used.",
        failing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "strin"}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "string", "maxLength": 64}}}"#,
    },
    Rule {
        code: "LEX002",
        name: "language-warning",
        severity: Severity::Warning,
        summary: "The document is usable, but holds something the language does not define or means nothing (an unknown key, a repeated value).",
        failing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "token", "extra": true}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "token"}}}"#,
    },
    Rule {
        code: "LEX003",
        name: "ref-missing",
        severity: Severity::Error,
        summary: "A reference names a definition its (loaded) document does not have.",
        failing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "ref", "ref": "#nope"}}}, "item": {"type": "object", "properties": {}}}}"##,
        passing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "ref", "ref": "#item"}}}, "item": {"type": "object", "properties": {}}}}"##,
    },
    Rule {
        code: "LEX004",
        name: "ref-unresolved",
        severity: Severity::Warning,
        summary: "A reference names a document that is not among those linted (or was rejected); lint it with the documents it depends on to check the reference.",
        failing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "ref", "ref": "com.example.other#item"}}}}}"##,
        passing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "ref", "ref": "com.example.thing#item"}}}, "item": {"type": "object", "properties": {}}}}"##,
    },
    Rule {
        code: "LEX005",
        name: "ref-kind",
        severity: Severity::Error,
        summary: "A reference names a definition that cannot be referred to there (an endpoint, or a union member that is no object or record).",
        failing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "union", "refs": ["#count"]}}}, "count": {"type": "integer"}}}"##,
        passing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "union", "refs": ["#count"]}}}, "count": {"type": "object", "properties": {}}}}"##,
    },
    Rule {
        code: "LEX006",
        name: "known-value-missing",
        severity: Severity::Warning,
        summary: "A `knownValues` entry written as a reference (`nsid#name`, a token or a `$type`) names a definition its (loaded) document does not have.",
        failing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "string", "maxLength": 64, "knownValues": ["com.example.thing#lowe"]}, "lower": {"type": "token"}}}"##,
        passing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "string", "maxLength": 64, "knownValues": ["com.example.thing#lower"]}, "lower": {"type": "token"}}}"##,
    },
    Rule {
        code: "LEX101",
        name: "nsid-casing",
        severity: Severity::Warning,
        summary: "An NSID's domain segments are lowercase and its name segment is lowerCamelCase (`com.example.getThing`).",
        failing: r#"{"lexicon": 1, "id": "com.Example.GetThing", "defs": {"main": {"type": "token"}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.getThing", "defs": {"main": {"type": "token"}}}"#,
    },
    Rule {
        code: "LEX102",
        name: "def-name-casing",
        severity: Severity::Warning,
        summary: "Definition names are lowerCamelCase (`postView`): a letter first, then letters and digits.",
        failing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"Post_view": {"type": "token"}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"postView": {"type": "token"}}}"#,
    },
    Rule {
        code: "LEX103",
        name: "field-name-casing",
        severity: Severity::Warning,
        summary: "Property and parameter names are lowerCamelCase (`createdAt`): a lowercase letter first, then letters and digits.",
        failing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"created_at": {"type": "string", "format": "datetime"}}}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"createdAt": {"type": "string", "format": "datetime"}}}}}"#,
    },
    Rule {
        code: "LEX104",
        name: "error-name-casing",
        severity: Severity::Warning,
        summary: "Error names of an endpoint are UpperCamelCase (`InvalidCursor`), as clients match them by name.",
        failing: r#"{"lexicon": 1, "id": "com.example.getThing", "defs": {"main": {"type": "query", "description": "Gets a thing.", "errors": [{"name": "invalid_cursor"}]}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.getThing", "defs": {"main": {"type": "query", "description": "Gets a thing.", "errors": [{"name": "InvalidCursor"}]}}}"#,
    },
    Rule {
        code: "LEX201",
        name: "missing-description",
        severity: Severity::Warning,
        summary: "A record, query, procedure, subscription or permission set has a `description`: it is what users of the schema read first.",
        failing: r#"{"lexicon": 1, "id": "com.example.getThing", "defs": {"main": {"type": "query"}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.getThing", "defs": {"main": {"type": "query", "description": "Gets a thing."}}}"#,
    },
    Rule {
        code: "LEX301",
        name: "string-unbounded",
        severity: Severity::Warning,
        summary: "A string of stored data (a record, a subscription's message, or a definition either reaches through references) without a `format`, `enum` or `const` has a `maxLength` (or `maxGraphemes`), so that readers can bound what they store. Parameters and bodies of queries and procedures are not stored, and not checked.",
        failing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "record", "description": "A thing.", "key": "tid", "record": {"type": "object", "properties": {"tag": {"type": "ref", "ref": "#tag"}}}}, "tag": {"type": "object", "properties": {"name": {"type": "string"}}}}}"##,
        passing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "record", "description": "A thing.", "key": "tid", "record": {"type": "object", "properties": {"tag": {"type": "ref", "ref": "#tag"}}}}, "tag": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 640}}}}}"##,
    },
    Rule {
        code: "LEX302",
        name: "graphemes-without-length",
        severity: Severity::Warning,
        summary: "A string with `maxGraphemes` also has a `maxLength` in bytes: a grapheme has no bound in bytes, so `maxGraphemes` alone bounds nothing a reader stores.",
        failing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"name": {"type": "string", "maxGraphemes": 64}}}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"name": {"type": "string", "maxGraphemes": 64, "maxLength": 640}}}}}"#,
    },
    Rule {
        code: "LEX401",
        name: "record-key",
        severity: Severity::Error,
        summary: "A record's `literal:` key is a valid record key (`literal:self`); no record can be written under any other.",
        failing: r#"{"lexicon": 1, "id": "com.example.profile", "defs": {"main": {"type": "record", "description": "A profile.", "key": "literal:my profile", "record": {"type": "object", "properties": {}}}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.profile", "defs": {"main": {"type": "record", "description": "A profile.", "key": "literal:self", "record": {"type": "object", "properties": {}}}}}"#,
    },
    Rule {
        code: "LEX501",
        name: "deprecated-ref",
        severity: Severity::Warning,
        summary: "A reference names a definition whose description says it is deprecated.",
        failing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "ref", "ref": "#old"}}}, "old": {"type": "object", "description": "DEPRECATED: use #new.", "properties": {}}, "new": {"type": "object", "properties": {}}}}"##,
        passing: r##"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"a": {"type": "ref", "ref": "#new"}}}, "old": {"type": "object", "description": "DEPRECATED: use #new.", "properties": {}}, "new": {"type": "object", "properties": {}}}}"##,
    },
    Rule {
        code: "LEX502",
        name: "nullable",
        severity: Severity::Warning,
        summary: "An object lists `nullable` fields: an optional field left out says the same, and `null` is a value few readers expect.",
        failing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "nullable": ["n"], "properties": {"n": {"type": "integer"}}}}}"#,
        passing: r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "object", "properties": {"n": {"type": "integer"}}}}}"#,
    },
];

/// The rule called `name`.
pub fn rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name || r.code == name)
}

fn named(name: &str) -> &'static Rule {
    // Every name passed is one of the table's (the tests run each rule).
    rule(name).unwrap_or(&RULES[0])
}

/// One finding: a rule broken at a place.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// Its severity (the rule's).
    pub severity: Severity,
    /// Where, with line and column when the file's text is known.
    pub location: Location,
    /// What is wrong there.
    pub message: String,
}

/// What a lint run found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The findings, by file, position and code.
    pub findings: Vec<Finding>,
    /// How many documents were read and accepted.
    pub documents: usize,
}

impl Report {
    /// How many findings are errors.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// How many findings are warnings.
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}

/// Lints every lexicon under each of `dirs` together (references between
/// them resolve), read as `options` says. A directory holding a
/// `Cargo.toml` is read as a crate's (its `src/`, `tests/` and the like
/// are skipped; see [`LoadOptions::crate_dir`]).
pub fn lint_dirs(dirs: &[&Path], options: &LoadOptions) -> Report {
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    for dir in dirs {
        let options = LoadOptions {
            crate_dir: options.crate_dir || dir.join("Cargo.toml").is_file(),
            ..options.clone()
        };
        catalog.load(dir, &options, &mut diagnostics);
    }
    lint_catalog(&catalog, diagnostics)
}

/// Lints documents given as texts, each with the file name it is reported
/// under.
pub fn lint_texts(texts: &[(&str, &str)]) -> Report {
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    for (name, text) in texts {
        catalog.add_source(Some(Path::new(name)), text, None, &mut diagnostics);
    }
    lint_catalog(&catalog, diagnostics)
}

/// Lints the documents of `catalog`; `loaded` holds what reading them
/// reported.
pub fn lint_catalog(catalog: &Catalog, loaded: Diagnostics) -> Report {
    let mut lint = Lint {
        catalog,
        findings: Vec::new(),
        stored: stored_definitions(catalog),
    };
    let mut language = loaded;
    catalog.check_definitions(None, &mut language);
    for diagnostic in language {
        let rule = if diagnostic.is_error() {
            named("invalid-lexicon")
        } else {
            named("language-warning")
        };
        lint.findings.push(Finding {
            rule,
            severity: rule.severity,
            location: diagnostic.location,
            message: diagnostic.message,
        });
    }
    for (nsid, entry) in catalog.entries() {
        lint.document(nsid, &entry.document);
    }
    let mut files = crate::locate::Files::new(|file: &Path| catalog.source_of(file));
    for finding in &mut lint.findings {
        let location = &mut finding.location;
        if location.line_col.is_none()
            && let Some(file) = &location.file
        {
            location.line_col = files.line_col(file, &location.pointer);
        }
    }
    let mut findings = lint.findings;
    findings.sort_by(|a, b| {
        (
            &a.location.file,
            a.location.line_col,
            a.rule.code,
            &a.message,
        )
            .cmp(&(
                &b.location.file,
                b.location.line_col,
                b.rule.code,
                &b.message,
            ))
    });
    Report {
        findings,
        documents: catalog.len(),
    }
}

struct Lint<'a> {
    catalog: &'a Catalog,
    findings: Vec<Finding>,
    /// The definitions stored data reaches ([`stored_definitions`]).
    stored: HashSet<DefKey>,
}

/// The definitions whose values end up stored: records, subscriptions'
/// messages (logs that consumers keep), and every definition they reach
/// through references, transitively.
fn stored_definitions(catalog: &Catalog) -> HashSet<DefKey> {
    let mut stored = HashSet::new();
    let mut queue = Vec::new();
    for (nsid, entry) in catalog.entries() {
        for def in &entry.document.defs {
            if let Some(root) = stored_part(&def.schema) {
                visit_refs(root, &mut |_, target, _| {
                    queue.push(DefKey::resolve(nsid, target));
                });
            }
        }
    }
    while let Some(key) = queue.pop() {
        if stored.contains(&key) {
            continue;
        }
        if let Some(schema) = catalog.def(&key) {
            visit_refs(schema, &mut |_, target, _| {
                queue.push(DefKey::resolve(&key.nsid, target));
            });
        }
        stored.insert(key);
    }
    stored
}

/// The part of a primary definition whose values are stored, if any: a
/// record's object, a subscription's message.
fn stored_part(schema: &Schema) -> Option<&Schema> {
    match &schema.kind {
        SchemaKind::Record(_) => Some(schema),
        SchemaKind::Subscription(s) => s.message.as_ref()?.schema.as_deref(),
        _ => None,
    }
}

impl Lint<'_> {
    fn push(&mut self, rule: &str, nsid: &str, pointer: &str, message: String) {
        let rule = named(rule);
        self.findings.push(Finding {
            rule,
            severity: rule.severity,
            location: self.catalog.location(nsid, pointer),
            message,
        });
    }

    fn document(&mut self, nsid: &str, document: &Document) {
        self.nsid_casing(nsid);
        for def in &document.defs {
            if !is_lower_camel(&def.name) && def.name.chars().all(|c| c != '-') {
                self.push(
                    "def-name-casing",
                    nsid,
                    &def.schema.pointer,
                    format!("definition name `{}` is not lowerCamelCase", def.name),
                );
            }
            if def.schema.kind.is_primary() && def.schema.description.is_none() {
                self.push(
                    "missing-description",
                    nsid,
                    &def.schema.pointer,
                    format!(
                        "the {} `{nsid}` has no `description`",
                        def.schema.kind.type_name()
                    ),
                );
            }
            visit_refs(&def.schema, &mut |pointer, target, in_union| {
                self.reference(nsid, pointer, target, in_union);
            });
            walk(&def.schema, &mut |schema| self.schema(nsid, schema));
            let stored = if self.stored.contains(&DefKey::new(nsid, &def.name)) {
                Some(&def.schema)
            } else {
                stored_part(&def.schema)
            };
            if let Some(stored) = stored {
                walk(stored, &mut |schema| self.unbounded_string(nsid, schema));
            }
        }
    }

    /// The rule `string-unbounded`, for a schema of stored data.
    fn unbounded_string(&mut self, nsid: &str, schema: &Schema) {
        let SchemaKind::String(s) = &schema.kind else {
            return;
        };
        let bounded = s.max_length.is_some() || s.max_graphemes.is_some();
        if !bounded && s.format.is_none() && s.enum_values.is_none() && s.const_value.is_none() {
            self.push(
                "string-unbounded",
                nsid,
                &schema.pointer,
                "a string of stored data without `maxLength` (or a `format`, `enum` or `const`)"
                    .into(),
            );
        }
    }

    fn nsid_casing(&mut self, nsid: &str) {
        let (authority, name) = nsid.rsplit_once('.').unwrap_or(("", nsid));
        let mut problems = Vec::new();
        if authority.chars().any(|c| c.is_ascii_uppercase()) {
            problems.push("its domain segments are not all lowercase");
        }
        if !is_lower_camel(name) {
            problems.push("its name segment is not lowerCamelCase");
        }
        if !problems.is_empty() {
            self.push(
                "nsid-casing",
                nsid,
                "/id",
                format!("NSID `{nsid}`: {}", problems.join(", ")),
            );
        }
    }

    fn reference(&mut self, nsid: &str, pointer: &str, target: &str, in_union: bool) {
        let key = DefKey::resolve(nsid, target);
        match self.catalog.def(&key) {
            Some(schema) => {
                if let Some(problem) = ref_kind_problem(&schema.kind, in_union) {
                    self.push(
                        "ref-kind",
                        nsid,
                        pointer,
                        format!("reference to `{key}`, {problem}"),
                    );
                } else if in_union && matches!(schema.kind, SchemaKind::Token) {
                    self.push("language-warning", nsid, pointer, token_member_note(&key));
                }
                if schema.description.as_deref().is_some_and(says_deprecated) {
                    self.push(
                        "deprecated-ref",
                        nsid,
                        pointer,
                        format!(
                            "reference to `{key}`, which is deprecated: {:?}",
                            schema.description.as_deref().unwrap_or_default()
                        ),
                    );
                }
            }
            None if self.catalog.get(&key.nsid).is_some() => self.push(
                "ref-missing",
                nsid,
                pointer,
                format!(
                    "reference to `{key}`: `{}` has no definition `{}`",
                    key.nsid, key.name
                ),
            ),
            None => {
                let why = if self.catalog.rejected().any(|r| *r == key.nsid) {
                    "was rejected (see its errors)"
                } else {
                    "is not among the lexicons linted"
                };
                self.push(
                    "ref-unresolved",
                    nsid,
                    pointer,
                    format!(
                        "reference to `{key}` is not checked: lexicon `{}` {why}",
                        key.nsid
                    ),
                );
            }
        }
    }

    fn schema(&mut self, nsid: &str, schema: &Schema) {
        let pointer = &schema.pointer;
        match &schema.kind {
            SchemaKind::String(s) => {
                self.known_values(nsid, pointer, &s.known_values);
                if let (Some(graphemes), None) = (s.max_graphemes, s.max_length) {
                    self.push(
                        "graphemes-without-length",
                        nsid,
                        pointer,
                        format!(
                            "`maxGraphemes` {graphemes} without `maxLength`: give a bound in bytes too"
                        ),
                    );
                }
            }
            SchemaKind::Object(o) | SchemaKind::Params(o) => {
                for (name, property) in &o.properties {
                    if !is_lower_camel(name) {
                        self.push(
                            "field-name-casing",
                            nsid,
                            &property.pointer,
                            format!("field name `{name}` is not lowerCamelCase"),
                        );
                    }
                }
                if !o.nullable.is_empty() {
                    self.push(
                        "nullable",
                        nsid,
                        &pointer_push(pointer, "nullable"),
                        format!(
                            "`nullable` fields {:?}: leave an optional field out instead",
                            o.nullable
                        ),
                    );
                }
            }
            SchemaKind::Record(r) => {
                if let Some(literal) = r.key.strip_prefix("literal:")
                    && atlex::types::RecordKey::validate(literal).is_err()
                {
                    self.push(
                        "record-key",
                        nsid,
                        &pointer_push(pointer, "key"),
                        format!("`{}`: {literal:?} is not a valid record key", r.key),
                    );
                }
            }
            SchemaKind::Query(e) | SchemaKind::Procedure(e) => {
                self.error_names(nsid, pointer, &e.errors);
            }
            SchemaKind::Subscription(s) => self.error_names(nsid, pointer, &s.errors),
            _ => {}
        }
    }

    /// `knownValues` entries written `nsid#name`, into a loaded document:
    /// each must name a definition there (a token, or an object whose
    /// `$type` the value is).
    fn known_values(&mut self, nsid: &str, pointer: &str, values: &[String]) {
        let at = pointer_push(pointer, "knownValues");
        for (i, value) in values.iter().enumerate() {
            let Some((target, name)) = value.split_once('#') else {
                continue;
            };
            if self.catalog.get(target).is_none() {
                continue;
            }
            let key = DefKey::new(target, name);
            if self.catalog.def(&key).is_none() {
                self.push(
                    "known-value-missing",
                    nsid,
                    &pointer_push(&at, &i.to_string()),
                    format!("known value {value:?} names `{key}`, which is not defined"),
                );
            }
        }
    }

    fn error_names(&mut self, nsid: &str, pointer: &str, errors: &[crate::lexicon::ErrorSchema]) {
        let at = pointer_push(pointer, "errors");
        for (i, error) in errors.iter().enumerate() {
            let mut chars = error.name.chars();
            let upper_camel = chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_alphanumeric());
            if !upper_camel {
                self.push(
                    "error-name-casing",
                    nsid,
                    &pointer_push(&pointer_push(&at, &i.to_string()), "name"),
                    format!("error name `{}` is not UpperCamelCase", error.name),
                );
            }
        }
    }
}

/// A lowercase ASCII letter, then ASCII letters and digits.
fn is_lower_camel(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

/// Whether a description marks its definition deprecated (`DEPRECATED: …`,
/// `Deprecated. Use …`).
fn says_deprecated(description: &str) -> bool {
    description
        .trim_start()
        .get(..10)
        .is_some_and(|start| start.eq_ignore_ascii_case("deprecated"))
}

/// Calls `f` on `schema` and every schema inside it.
fn walk(schema: &Schema, f: &mut dyn FnMut(&Schema)) {
    f(schema);
    match &schema.kind {
        SchemaKind::Array(a) => walk(&a.items, f),
        SchemaKind::Object(o) | SchemaKind::Params(o) => {
            for (_, property) in &o.properties {
                walk(property, f);
            }
        }
        SchemaKind::Record(r) => walk(&r.record, f),
        SchemaKind::Query(e) | SchemaKind::Procedure(e) => {
            let bodies = [&e.input, &e.output];
            for schema in e.parameters.iter().chain(
                bodies
                    .into_iter()
                    .flatten()
                    .filter_map(|b| b.schema.as_ref()),
            ) {
                walk(schema, f);
            }
        }
        SchemaKind::Subscription(s) => {
            let message = s.message.as_ref().and_then(|m| m.schema.as_ref());
            for schema in s.parameters.iter().chain(message) {
                walk(schema, f);
            }
        }
        SchemaKind::PermissionSet(p) => {
            for permission in &p.permissions {
                walk(permission, f);
            }
        }
        _ => {}
    }
}

/// Where a finding points, as `file:line:col` (or what is known of it).
pub fn place(location: &Location) -> String {
    let mut out = match &location.file {
        Some(file) => file.display().to_string(),
        None => "<input>".to_owned(),
    };
    if let Some((line, col)) = location.line_col {
        out.push_str(&format!(":{line}:{col}"));
    }
    out
}

/// The rules as `docs/lint.md` lists them: a table, then each rule with
/// its failing and passing example.
pub fn rules_markdown() -> String {
    let mut out = String::from("| Code | Name | Severity | What it checks |\n|---|---|---|---|\n");
    for rule in RULES {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            rule.code,
            rule.name,
            severity_name(rule.severity),
            rule.summary
        ));
    }
    for rule in RULES {
        out.push_str(&format!(
            "\n### {} `{}`\n\n{}\n\nFails:\n\n```json\n{}\n```\n\nPasses:\n\n```json\n{}\n```\n",
            rule.code, rule.name, rule.summary, rule.failing, rule.passing
        ));
    }
    out
}

/// `error` or `warning`.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A finding as `file:line:col: severity[CODE name]: message`.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}[{} {}]: {}",
            place(&self.location),
            severity_name(self.severity),
            self.rule.code,
            self.rule.name,
            self.message
        )?;
        if let Some(lexicon) = &self.location.lexicon {
            write!(f, " (at {lexicon})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<&'static str> {
        lint_texts(&[("example.json", text)])
            .findings
            .iter()
            .map(|f| f.rule.name)
            .collect()
    }

    #[test]
    fn every_rule_fails_its_failing_example_and_not_its_passing_one() {
        for rule in RULES {
            let failing = codes(rule.failing);
            assert!(
                failing.contains(&rule.name),
                "{}: failing example gives {failing:?}",
                rule.name
            );
            let passing = codes(rule.passing);
            assert!(
                passing.is_empty(),
                "{}: passing example gives {passing:?}",
                rule.name
            );
        }
    }

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(
                rule.code.starts_with("LEX") && rule.code.len() == 6,
                "{}",
                rule.code
            );
            for other in &RULES[..i] {
                assert_ne!(rule.code, other.code);
                assert_ne!(rule.name, other.name);
            }
        }
    }

    #[test]
    fn findings_carry_line_and_column() {
        let report = lint_texts(&[(
            "thing.json",
            "{\"lexicon\": 1, \"id\": \"com.example.thing\", \"defs\": {\n  \"main\": {\"type\": \"record\", \"description\": \"A thing.\", \"key\": \"tid\", \"record\": {\"type\": \"object\", \"properties\": {\n    \"name\": {\"type\": \"string\"}}}}}}",
        )]);
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        let finding = &report.findings[0];
        assert_eq!(finding.location.line_col, Some((3, 13)));
        assert_eq!(
            finding.to_string(),
            "thing.json:3:13: warning[LEX301 string-unbounded]: a string of stored data without `maxLength` (or a `format`, `enum` or `const`) (at com.example.thing#main.name)"
        );
    }

    #[test]
    fn only_strings_of_stored_data_need_a_length() {
        // A record reaching a definition of another document, which refers
        // back to itself; a subscription's message; a query whose parameters
        // and output hold strings, one output object also used by the record.
        let record = r##"{"lexicon": 1, "id": "com.example.post", "defs": {"main": {"type": "record", "description": "A post.", "key": "tid", "record": {"type": "object", "properties": {"text": {"type": "string"}, "tag": {"type": "ref", "ref": "com.example.defs#tag"}}}}}}"##;
        let defs = r##"{"lexicon": 1, "id": "com.example.defs", "defs": {"tag": {"type": "object", "properties": {"name": {"type": "string"}, "parent": {"type": "ref", "ref": "#tag"}}}, "view": {"type": "object", "properties": {"summary": {"type": "string"}, "tag": {"type": "ref", "ref": "#tag"}}}}}"##;
        let query = r##"{"lexicon": 1, "id": "com.example.getPosts", "defs": {"main": {"type": "query", "description": "Posts.", "parameters": {"type": "params", "properties": {"cursor": {"type": "string"}}}, "output": {"encoding": "application/json", "schema": {"type": "object", "properties": {"cursor": {"type": "string"}, "views": {"type": "array", "items": {"type": "ref", "ref": "com.example.defs#view"}}}}}}}}"##;
        let subscription = r##"{"lexicon": 1, "id": "com.example.subscribe", "defs": {"main": {"type": "subscription", "description": "Events.", "parameters": {"type": "params", "properties": {"filter": {"type": "string"}}}, "message": {"schema": {"type": "union", "refs": ["#event"]}}}, "event": {"type": "object", "properties": {"note": {"type": "string"}}}}}"##;
        let report = lint_texts(&[
            ("post.json", record),
            ("defs.json", defs),
            ("getPosts.json", query),
            ("subscribe.json", subscription),
        ]);
        let mut found: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.rule.name == "string-unbounded")
            .map(|f| f.location.pointer.as_str())
            .collect();
        found.sort_unstable();
        assert_eq!(
            found,
            [
                "/defs/event/properties/note",
                "/defs/main/record/properties/text",
                "/defs/tag/properties/name",
            ],
            "{:?}",
            report.findings
        );
    }
}
