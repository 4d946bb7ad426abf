//! The comparison itself: two parsed documents in, a list of [`Change`]s out,
//! each classified by the evolution rules.
//!
//! The rules, from the Lexicon spec: all data valid under OLD must stay valid
//! under NEW (else existing *writers* break: what they write is rejected by
//! updated readers), and all data valid under NEW must be valid under OLD
//! (else existing *readers* break: they reject or misread what updated
//! writers write). Readers must ignore unknown fields, keep unknown members
//! of open unions, accept unknown `knownValues` and unknown error names; the
//! engine grades what they meet this way as [`Impact::Tolerated`]. Each rule
//! is stated where it is applied, in the `reason` of the change it produces.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::model::{
    Change, ChangeKind, Class, Compat, Constraint, DocReport, DocStatus, Flow, Impact,
};
use crate::diagnostics::{Diagnostics, pointer_push};
use crate::lexicon::{
    self, BlobSchema, BodySchema, DefKey, Document, EndpointSchema, ErrorSchema, ObjectSchema,
    PermissionSetSchema, Schema, SchemaKind, StringFormat, StringSchema, SubscriptionSchema,
    UnionSchema,
};

/// How deep the engine follows references that changed target, so that a
/// cycle of definitions (or a very deep chain) cannot make it loop.
const MAX_REF_DEPTH: usize = 24;

/// How many times, in one document, the engine follows changed references
/// into their targets; past it, a changed ref is reported as not compared.
/// Real lexicons need a few dozen; the bound keeps hostile input (chains of
/// definitions that each retarget several refs) from taking exponential time.
const MAX_REF_EXPANSIONS: usize = 4096;

/// How many JSON paths a structural summary lists before it stops.
const SUMMARY_LINES: usize = 20;

/// One side's document, read as far as it could be.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    /// Where it was read from.
    pub path: String,
    /// The JSON, or why the text is not JSON.
    pub raw: Result<Value, String>,
    /// The document, when the model reads it.
    pub doc: Option<Document>,
    /// Why the model does not read it (its first error), when it does not.
    pub problem: Option<String>,
}

impl Parsed {
    /// Reads a document from its JSON (or from the reason its text is not
    /// JSON).
    pub fn new(path: String, raw: Result<Value, String>) -> Self {
        let (doc, problem) = match &raw {
            Ok(value) => {
                let mut diagnostics = Diagnostics::new();
                let doc = lexicon::read_document(value, None, &mut diagnostics);
                let problem = match &doc {
                    Some(_) => None,
                    None => Some(
                        diagnostics
                            .errors()
                            .next()
                            .map(|d| {
                                if d.location.pointer.is_empty() {
                                    d.message.clone()
                                } else {
                                    format!("{}: {}", d.location.pointer, d.message)
                                }
                            })
                            .unwrap_or_else(|| "not a lexicon document".to_owned()),
                    ),
                };
                (doc, problem)
            }
            Err(reason) => (None, Some(format!("not JSON: {reason}"))),
        };
        Self {
            path,
            raw,
            doc,
            problem,
        }
    }

    /// The flow of the document as a whole, from the type of its `main`
    /// definition.
    fn flow(&self) -> Flow {
        match &self.doc {
            Some(doc) => doc
                .def("main")
                .map_or(Flow::Data, |d| def_flow("main", &d.schema)),
            None => Flow::Document,
        }
    }
}

/// The documents of one side, by NSID.
pub(crate) trait Docs {
    /// The document `nsid`.
    fn get(&self, nsid: &str) -> Option<&Parsed>;
}

impl Docs for BTreeMap<String, Parsed> {
    fn get(&self, nsid: &str) -> Option<&Parsed> {
        BTreeMap::get(self, nsid)
    }
}

/// A side made of a base set of documents with some replaced or removed
/// (`None`): a tree of lexicons just before or after one commit.
pub(crate) struct Overlay<'a> {
    /// The documents not in `changes`.
    pub base: &'a BTreeMap<String, Parsed>,
    /// Replaced (`Some`) and removed (`None`) documents.
    pub changes: &'a BTreeMap<String, Option<Parsed>>,
}

impl Docs for Overlay<'_> {
    fn get(&self, nsid: &str) -> Option<&Parsed> {
        match self.changes.get(nsid) {
            Some(changed) => changed.as_ref(),
            None => self.base.get(nsid),
        }
    }
}

/// Compares the documents of one NSID. `old` and `new` hold the documents of
/// every NSID of each side, so references into other documents can be
/// followed.
pub(crate) fn diff_document(nsid: &str, old: &dyn Docs, new: &dyn Docs) -> DocReport {
    let old_doc = old.get(nsid);
    let new_doc = new.get(nsid);
    let mut engine = Engine {
        old,
        new,
        out: Vec::new(),
        stack: Vec::new(),
        budget: MAX_REF_EXPANSIONS,
    };
    let status = match (old_doc, new_doc) {
        (None, None) => DocStatus::Unchanged,
        (None, Some(n)) => {
            engine.document_added(nsid, n);
            DocStatus::Added
        }
        (Some(o), None) => {
            engine.document_removed(nsid, o);
            DocStatus::Removed
        }
        (Some(o), Some(n)) => {
            if same_json(o, n) {
                DocStatus::Unchanged
            } else {
                engine.document_changed(nsid, o, n);
                DocStatus::Changed
            }
        }
    };
    DocReport {
        nsid: nsid.to_owned(),
        old_path: old_doc.map(|d| d.path.clone()),
        new_path: new_doc.map(|d| d.path.clone()),
        status,
        changes: engine.out,
    }
}

fn same_json(a: &Parsed, b: &Parsed) -> bool {
    match (&a.raw, &b.raw) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Where a schema sits while it is compared.
#[derive(Clone)]
struct Ctx<'c> {
    /// The document OLD's schema belongs to (local `#refs` resolve in it).
    old_nsid: &'c str,
    /// The document NEW's schema belongs to.
    new_nsid: &'c str,
    /// The lexicon location of the schema.
    location: String,
    /// Which way its data flows.
    flow: Flow,
    /// When the schemas were reached through a changed `ref`: the pointer of
    /// that ref, used for every change below it (their own pointers are in
    /// other documents).
    anchor: Option<String>,
}

impl Ctx<'_> {
    fn at(&self, location: String) -> Self {
        Self {
            location,
            ..self.clone()
        }
    }

    fn with_flow(&self, flow: Flow) -> Self {
        Self {
            flow,
            ..self.clone()
        }
    }

    fn pointer(&self, pointer: &str) -> String {
        self.anchor.clone().unwrap_or_else(|| pointer.to_owned())
    }
}

struct Engine<'a> {
    old: &'a dyn Docs,
    new: &'a dyn Docs,
    out: Vec<Change>,
    /// The pairs of definitions being compared through changed refs.
    stack: Vec<(DefKey, DefKey)>,
    /// How many more times changed refs may be followed.
    budget: usize,
}

/// What [`Engine::enter`] found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// The pair is now being compared; pop it from the stack when done.
    Entered,
    /// The pair is already being compared further up: whatever differs is
    /// reported there.
    Cycle,
    /// Too deep, or the document's budget is spent: not compared.
    Exhausted,
}

/// A single change about to be recorded.
struct Draft {
    kind: ChangeKind,
    old: Option<Value>,
    new: Option<Value>,
    compat: Compat,
    reason: String,
}

fn draft(kind: ChangeKind, compat: Compat, reason: impl Into<String>) -> Draft {
    Draft {
        kind,
        old: None,
        new: None,
        compat,
        reason: reason.into(),
    }
}

impl Draft {
    fn values(mut self, old: Option<Value>, new: Option<Value>) -> Self {
        self.old = old;
        self.new = new;
        self
    }
}

/// The class of a change of `kind` with effect `compat`.
fn classify(kind: ChangeKind, compat: Compat) -> Class {
    match kind {
        ChangeKind::DescriptionChanged | ChangeKind::RevisionChanged | ChangeKind::OtherChanged => {
            Class::Cosmetic
        }
        ChangeKind::UnparsedDocument => Class::Unclassified,
        _ => {
            let worst = compat.worst();
            if worst == Impact::Breaking || worst == Impact::Validation {
                Class::Breaking
            } else if worst == Impact::Unknown {
                Class::Unclassified
            } else {
                Class::Compatible
            }
        }
    }
}

/// The flow of a definition's data.
fn def_flow(name: &str, schema: &Schema) -> Flow {
    match &schema.kind {
        SchemaKind::Record(_) if name == "main" => Flow::Record,
        SchemaKind::Query(_) | SchemaKind::Procedure(_) | SchemaKind::Subscription(_) => {
            Flow::Endpoint
        }
        _ => Flow::Data,
    }
}

/// `Some(s)` as a JSON string.
fn s(text: &str) -> Option<Value> {
    Some(Value::String(text.to_owned()))
}

impl Engine<'_> {
    fn push(&mut self, ctx: &Ctx, pointer: &str, d: Draft) {
        let class = classify(d.kind, d.compat);
        self.out.push(Change {
            kind: d.kind,
            location: ctx.location.clone(),
            pointer: ctx.pointer(pointer),
            old: d.old,
            new: d.new,
            flow: ctx.flow,
            compat: d.compat,
            class,
            reason: d.reason,
            details: Vec::new(),
            acknowledged: None,
        });
    }

    fn description(&mut self, ctx: &Ctx, pointer: &str, old: Option<&str>, new: Option<&str>) {
        if old != new {
            self.push(
                ctx,
                &pointer_push(pointer, "description"),
                draft(
                    ChangeKind::DescriptionChanged,
                    Compat::NONE,
                    "descriptions are documentation; no data or call changes",
                )
                .values(old.and_then(s), new.and_then(s)),
            );
        }
    }

    // ---- documents --------------------------------------------------------

    fn document_added(&mut self, nsid: &str, doc: &Parsed) {
        let ctx = doc_ctx(nsid, doc.flow());
        let (compat, reason) = match &doc.problem {
            None => (
                Compat::NONE,
                "a new document: nothing existing refers to it, so no existing software is affected"
                    .to_owned(),
            ),
            Some(problem) => (
                Compat::both(Impact::Unknown),
                format!("a new document, but not one the Lexicon model reads ({problem})"),
            ),
        };
        self.push(
            &ctx,
            "",
            draft(ChangeKind::DocumentAdded, compat, reason).values(None, s(nsid)),
        );
    }

    fn document_removed(&mut self, nsid: &str, doc: &Parsed) {
        let ctx = doc_ctx(nsid, doc.flow());
        self.push(
            &ctx,
            "",
            draft(
                ChangeKind::DocumentRemoved,
                Compat::new(Impact::None, Impact::Breaking),
                "the spec does not allow removing definitions: existing callers, data and other \
                 lexicons may still use them (a removed endpoint answers existing clients with \
                 MethodNotImplemented; records of a removed type are no longer understood)",
            )
            .values(s(nsid), None),
        );
    }

    fn document_changed(&mut self, nsid: &str, old: &Parsed, new: &Parsed) {
        match (&old.doc, &new.doc) {
            (Some(o), Some(n)) => {
                self.documents(nsid, o, n);
                if self.out.is_empty()
                    && let (Ok(a), Ok(b)) = (&old.raw, &new.raw)
                {
                    let mut paths = Vec::new();
                    json_paths(a, b, String::new(), &mut paths);
                    let ctx = doc_ctx(nsid, Flow::Document);
                    self.push(
                        &ctx,
                        paths.first().map_or("", |(p, _)| p.as_str()),
                        draft(
                            ChangeKind::OtherChanged,
                            Compat::NONE,
                            "only keys the Lexicon model does not read changed",
                        ),
                    );
                    if let Some(change) = self.out.last_mut() {
                        change.details = summarize(&paths);
                    }
                }
            }
            _ => self.unparsed(nsid, old, new),
        }
    }

    /// A document pair of which at least one side the model does not read: a
    /// structural summary of the JSON.
    fn unparsed(&mut self, nsid: &str, old: &Parsed, new: &Parsed) {
        let ctx = doc_ctx(nsid, Flow::Document);
        let mut details = Vec::new();
        for (side, doc) in [("OLD", old), ("NEW", new)] {
            match &doc.problem {
                Some(problem) => {
                    details.push(format!("{side} is not read by the model: {problem}"))
                }
                None => details.push(format!("{side} is a valid lexicon document")),
            }
        }
        let mut shape = Vec::new();
        if let (Ok(a), Ok(b)) = (&old.raw, &new.raw) {
            for (side, v) in [("OLD", a), ("NEW", b)] {
                shape.push(format!("{side} shape: {}", outline(v)));
            }
            let mut paths = Vec::new();
            json_paths(a, b, String::new(), &mut paths);
            details.extend(shape);
            details.extend(summarize(&paths));
        }
        let reason = "at least one side is not a lexicon document the model reads (a pre-v1 \
                      format, or a broken schema), so the change cannot be classified by the \
                      evolution rules; a structural summary of the JSON follows";
        let change = Change {
            kind: ChangeKind::UnparsedDocument,
            location: ctx.location.clone(),
            pointer: String::new(),
            old: old.problem.as_deref().and_then(s),
            new: new.problem.as_deref().and_then(s),
            flow: Flow::Document,
            compat: Compat::both(Impact::Unknown),
            class: Class::Unclassified,
            reason: reason.to_owned(),
            details,
            acknowledged: None,
        };
        self.out.push(change);
    }

    fn documents(&mut self, nsid: &str, old: &Document, new: &Document) {
        // Local references resolve in the document under the key it is
        // compared by (normally its id).
        let ctx = doc_ctx(nsid, Flow::Document);
        self.description(
            &ctx,
            "",
            old.description.as_deref(),
            new.description.as_deref(),
        );
        if old.revision != new.revision {
            self.push(
                &ctx,
                "/revision",
                draft(
                    ChangeKind::RevisionChanged,
                    Compat::NONE,
                    "`revision` only labels versions; no data or call changes",
                )
                .values(old.revision.map(Value::from), new.revision.map(Value::from)),
            );
        }
        for def in &new.defs {
            let ctx = ctx
                .at(format!("{nsid}#{}", def.name))
                .with_flow(def_flow(&def.name, &def.schema));
            match old.def(&def.name) {
                None => self.push(
                    &ctx,
                    &def.schema.pointer,
                    draft(
                        ChangeKind::DefAdded,
                        Compat::NONE,
                        "a new definition: existing data cannot use it and nothing existing changes",
                    )
                    .values(None, s(def.schema.kind.type_name())),
                ),
                Some(old_def) => self.def(&ctx, &old_def.schema, &def.schema),
            }
        }
        for def in &old.defs {
            if new.def(&def.name).is_none() {
                let ctx = ctx
                    .at(format!("{nsid}#{}", def.name))
                    .with_flow(def_flow(&def.name, &def.schema));
                self.push(
                    &ctx,
                    &def.schema.pointer,
                    draft(
                        ChangeKind::DefRemoved,
                        Compat::new(Impact::None, Impact::Breaking),
                        "the spec does not allow removing definitions: existing data, calls and \
                         other lexicons may still refer to it",
                    )
                    .values(s(def.schema.kind.type_name()), None),
                );
            }
        }
    }

    fn def(&mut self, ctx: &Ctx, old: &Schema, new: &Schema) {
        match (&old.kind, &new.kind) {
            (SchemaKind::Query(o), SchemaKind::Query(n))
            | (SchemaKind::Procedure(o), SchemaKind::Procedure(n)) => {
                self.description(
                    ctx,
                    &new.pointer,
                    old.description.as_deref(),
                    new.description.as_deref(),
                );
                self.endpoint(ctx, o, n);
            }
            (SchemaKind::Subscription(o), SchemaKind::Subscription(n)) => {
                self.description(
                    ctx,
                    &new.pointer,
                    old.description.as_deref(),
                    new.description.as_deref(),
                );
                self.subscription(ctx, o, n);
            }
            (SchemaKind::Record(o), SchemaKind::Record(n)) => {
                self.description(
                    ctx,
                    &new.pointer,
                    old.description.as_deref(),
                    new.description.as_deref(),
                );
                if o.key != n.key {
                    self.record_key(ctx, &new.pointer, &o.key, &n.key);
                }
                self.schema(ctx, &o.record, &n.record);
            }
            (SchemaKind::PermissionSet(o), SchemaKind::PermissionSet(n)) => {
                self.description(
                    ctx,
                    &new.pointer,
                    old.description.as_deref(),
                    new.description.as_deref(),
                );
                self.permission_set(ctx, &new.pointer, o, n);
            }
            _ => self.schema(ctx, old, new),
        }
    }

    // ---- schemas ----------------------------------------------------------

    fn schema(&mut self, ctx: &Ctx, old: &Schema, new: &Schema) {
        self.description(
            ctx,
            &new.pointer,
            old.description.as_deref(),
            new.description.as_deref(),
        );
        if old.kind.type_name() != new.kind.type_name() {
            self.type_changed(ctx, old, new);
            return;
        }
        match (&old.kind, &new.kind) {
            (SchemaKind::Boolean(o), SchemaKind::Boolean(n)) => {
                let p = &new.pointer;
                self.const_value(
                    ctx,
                    p,
                    o.const_value.map(Value::from),
                    n.const_value.map(Value::from),
                );
                self.default_value(
                    ctx,
                    p,
                    o.default.map(Value::from),
                    n.default.map(Value::from),
                );
            }
            (SchemaKind::Integer(o), SchemaKind::Integer(n)) => {
                let p = &new.pointer;
                self.lower(ctx, p, Constraint::Minimum, o.minimum, n.minimum);
                self.upper(ctx, p, Constraint::Maximum, o.maximum, n.maximum);
                self.enum_values(
                    ctx,
                    p,
                    o.enum_values
                        .as_ref()
                        .map(|v| v.iter().map(|x| Value::from(*x)).collect()),
                    n.enum_values
                        .as_ref()
                        .map(|v| v.iter().map(|x| Value::from(*x)).collect()),
                    Impact::Validation,
                );
                self.const_value(
                    ctx,
                    p,
                    o.const_value.map(Value::from),
                    n.const_value.map(Value::from),
                );
                self.default_value(
                    ctx,
                    p,
                    o.default.map(Value::from),
                    n.default.map(Value::from),
                );
            }
            (SchemaKind::String(o), SchemaKind::String(n)) => self.string(ctx, &new.pointer, o, n),
            (SchemaKind::Bytes(o), SchemaKind::Bytes(n)) => {
                let p = &new.pointer;
                self.lower(
                    ctx,
                    p,
                    Constraint::MinLength,
                    nonzero(o.min_length),
                    nonzero(n.min_length),
                );
                self.upper(ctx, p, Constraint::MaxLength, o.max_length, n.max_length);
            }
            (SchemaKind::Blob(o), SchemaKind::Blob(n)) => self.blob(ctx, &new.pointer, o, n),
            (SchemaKind::Array(o), SchemaKind::Array(n)) => {
                let p = &new.pointer;
                self.lower(
                    ctx,
                    p,
                    Constraint::MinLength,
                    nonzero(o.min_length),
                    nonzero(n.min_length),
                );
                self.upper(ctx, p, Constraint::MaxLength, o.max_length, n.max_length);
                let items = ctx.at(format!("{}[]", ctx.location));
                self.schema(&items, &o.items, &n.items);
            }
            (SchemaKind::Object(o), SchemaKind::Object(n))
            | (SchemaKind::Params(o), SchemaKind::Params(n)) => self.object(ctx, old, new, o, n),
            (SchemaKind::Ref(o), SchemaKind::Ref(n)) => {
                self.reference(ctx, new, &o.target, &n.target)
            }
            (SchemaKind::Union(o), SchemaKind::Union(n)) => self.union(ctx, &new.pointer, o, n),
            (SchemaKind::Record(_), SchemaKind::Record(_))
            | (SchemaKind::Query(_), SchemaKind::Query(_))
            | (SchemaKind::Procedure(_), SchemaKind::Procedure(_))
            | (SchemaKind::Subscription(_), SchemaKind::Subscription(_))
            | (SchemaKind::PermissionSet(_), SchemaKind::PermissionSet(_)) => {
                // Primary types only occur as `main` definitions, which
                // `def` compares; nothing else holds them.
            }
            (SchemaKind::Permission(o), SchemaKind::Permission(n)) if o != n => {
                self.push(
                    ctx,
                    &new.pointer,
                    draft(
                        ChangeKind::OtherChanged,
                        Compat::NONE,
                        "a permission's fields changed",
                    ),
                );
            }
            // cid-link, token and unknown have nothing more to compare; the
            // type names are equal, so no other pair reaches here.
            _ => {}
        }
    }

    /// The types differ. A `ref` on one side is looked through: when its
    /// target has the other side's type, the two are compared as if the ref
    /// were written inline.
    fn type_changed(&mut self, ctx: &Ctx, old: &Schema, new: &Schema) {
        match (&old.kind, &new.kind) {
            (SchemaKind::Ref(r), _) => {
                let Some((key, target)) = resolve(self.old, ctx.old_nsid, &r.target) else {
                    return self.unresolved(ctx, new, &r.target, "(inline)");
                };
                if target.kind.type_name() == new.kind.type_name() {
                    let entry = self.enter(&key, &key);
                    if entry == Entry::Exhausted {
                        return self.unresolved(ctx, new, &r.target, "(inline)");
                    }
                    self.push(
                        ctx,
                        &new.pointer,
                        draft(
                            ChangeKind::RefChanged,
                            Compat::NONE,
                            "the ref was replaced by a schema written inline; the data of a ref \
                             carries no `$type`, so only what the two schemas differ in matters \
                             (listed at this location)",
                        )
                        .values(s(&r.target), s("(inline)")),
                    );
                    if entry == Entry::Entered {
                        let inner = Ctx {
                            old_nsid: &key.nsid,
                            anchor: Some(ctx.pointer(&new.pointer)),
                            ..ctx.clone()
                        };
                        self.schema(&inner, target, new);
                        self.stack.pop();
                    }
                    return;
                }
            }
            (_, SchemaKind::Ref(r)) => {
                let Some((key, target)) = resolve(self.new, ctx.new_nsid, &r.target) else {
                    return self.unresolved(ctx, new, "(inline)", &r.target);
                };
                if target.kind.type_name() == old.kind.type_name() {
                    let entry = self.enter(&key, &key);
                    if entry == Entry::Exhausted {
                        return self.unresolved(ctx, new, "(inline)", &r.target);
                    }
                    self.push(
                        ctx,
                        &new.pointer,
                        draft(
                            ChangeKind::RefChanged,
                            Compat::NONE,
                            "an inline schema was moved to a definition and referred to; the \
                             data of a ref carries no `$type`, so only what the two schemas \
                             differ in matters (listed at this location)",
                        )
                        .values(s("(inline)"), s(&r.target)),
                    );
                    if entry == Entry::Entered {
                        let inner = Ctx {
                            new_nsid: &key.nsid,
                            anchor: Some(ctx.pointer(&new.pointer)),
                            ..ctx.clone()
                        };
                        self.schema(&inner, old, target);
                        self.stack.pop();
                    }
                    return;
                }
            }
            _ => {}
        }
        let object_like = |k: &SchemaKind| {
            matches!(
                k,
                SchemaKind::Object(_) | SchemaKind::Ref(_) | SchemaKind::Union(_)
            )
        };
        let (compat, reason) = match (&old.kind, &new.kind) {
            (SchemaKind::Unknown, n) if object_like(n) => (
                Compat::new(Impact::None, Impact::Breaking),
                "`unknown` narrowed to a specific type: data old writers wrote as any object may \
                 not fit it",
            ),
            (o, SchemaKind::Unknown) if object_like(o) => (
                Compat::new(Impact::Breaking, Impact::None),
                "widened to `unknown`: new writers may write objects old readers cannot decode",
            ),
            _ => (
                Compat::both(Impact::Breaking),
                "the spec does not allow changing a type: data of one type does not decode as the \
                 other",
            ),
        };
        self.push(
            ctx,
            &new.pointer,
            draft(ChangeKind::TypeChanged, compat, reason)
                .values(s(old.kind.type_name()), s(new.kind.type_name())),
        );
    }

    /// Starts comparing a pair of definitions reached through a changed ref
    /// (pushing it on the stack when [`Entry::Entered`]).
    fn enter(&mut self, old: &DefKey, new: &DefKey) -> Entry {
        if self.stack.iter().any(|(o, n)| o == old && n == new) {
            return Entry::Cycle;
        }
        if self.budget == 0 || self.stack.len() >= MAX_REF_DEPTH {
            return Entry::Exhausted;
        }
        self.budget -= 1;
        self.stack.push((old.clone(), new.clone()));
        Entry::Entered
    }

    fn reference(&mut self, ctx: &Ctx, new: &Schema, old_target: &str, new_target: &str) {
        let old_key = DefKey::resolve(ctx.old_nsid, old_target);
        let new_key = DefKey::resolve(ctx.new_nsid, new_target);
        if old_key == new_key {
            // The same definition: it is compared where it is defined.
            return;
        }
        let pointer = pointer_push(&new.pointer, "ref");
        let old_schema = resolve(self.old, ctx.old_nsid, old_target);
        let new_schema = resolve(self.new, ctx.new_nsid, new_target);
        match (old_schema, new_schema) {
            (Some((ok, os)), Some((nk, ns))) => {
                let entry = self.enter(&ok, &nk);
                if entry == Entry::Exhausted {
                    return self.unresolved(ctx, new, old_target, new_target);
                }
                self.push(
                    ctx,
                    &pointer,
                    draft(
                        ChangeKind::RefChanged,
                        Compat::NONE,
                        "the ref points at another definition; the data of a ref carries no \
                         `$type`, so only what the two targets differ in matters (listed at this \
                         location)",
                    )
                    .values(s(old_target), s(new_target)),
                );
                if entry == Entry::Entered {
                    let inner = Ctx {
                        old_nsid: &ok.nsid,
                        new_nsid: &nk.nsid,
                        anchor: Some(ctx.pointer(&pointer)),
                        ..ctx.clone()
                    };
                    self.schema(&inner, os, ns);
                    self.stack.pop();
                }
            }
            _ => self.unresolved(ctx, new, old_target, new_target),
        }
    }

    /// A ref changed (retargeted, inlined or extracted) whose target is not
    /// loaded (or not readable, or too deep to follow): whether the shapes
    /// differ cannot be told.
    fn unresolved(&mut self, ctx: &Ctx, new: &Schema, old_target: &str, new_target: &str) {
        let pointer = match &new.kind {
            SchemaKind::Ref(_) => pointer_push(&new.pointer, "ref"),
            _ => new.pointer.clone(),
        };
        self.push(
            ctx,
            &pointer,
            draft(
                ChangeKind::RefChanged,
                Compat::both(Impact::Unknown),
                "a ref changed, and its target is not loaded (or not a lexicon the model reads, \
                 or too deep in a chain of changed refs), so the two shapes cannot be compared",
            )
            .values(s(old_target), s(new_target)),
        );
    }

    fn string(&mut self, ctx: &Ctx, p: &str, o: &StringSchema, n: &StringSchema) {
        self.format(ctx, p, o.format, n.format);
        self.lower(
            ctx,
            p,
            Constraint::MinLength,
            nonzero(o.min_length),
            nonzero(n.min_length),
        );
        self.upper(ctx, p, Constraint::MaxLength, o.max_length, n.max_length);
        self.lower(
            ctx,
            p,
            Constraint::MinGraphemes,
            nonzero(o.min_graphemes),
            nonzero(n.min_graphemes),
        );
        self.upper(
            ctx,
            p,
            Constraint::MaxGraphemes,
            o.max_graphemes,
            n.max_graphemes,
        );
        // A string `enum` becomes a closed Rust enum: a value it does not list
        // fails to decode.
        self.enum_values(
            ctx,
            p,
            o.enum_values
                .as_ref()
                .map(|v| v.iter().map(|x| Value::from(x.as_str())).collect()),
            n.enum_values
                .as_ref()
                .map(|v| v.iter().map(|x| Value::from(x.as_str())).collect()),
            Impact::Breaking,
        );
        let pointer = pointer_push(p, "knownValues");
        for value in &n.known_values {
            if !o.known_values.contains(value) {
                self.push(
                    ctx,
                    &pointer,
                    draft(
                        ChangeKind::KnownValueAdded,
                        Compat::new(Impact::Tolerated, Impact::None),
                        "`knownValues` is an open set: old readers must accept values they do not \
                         know (generated code keeps them as `Other(String)`)",
                    )
                    .values(None, s(value)),
                );
            }
        }
        for value in &o.known_values {
            if !n.known_values.contains(value) {
                self.push(
                    ctx,
                    &pointer,
                    draft(
                        ChangeKind::KnownValueRemoved,
                        Compat::new(Impact::None, Impact::Tolerated),
                        "`knownValues` is an open set: data old writers still write with this \
                         value stays valid, and updated readers keep it as `Other(String)`",
                    )
                    .values(s(value), None),
                );
            }
        }
        self.const_value(
            ctx,
            p,
            o.const_value.as_deref().map(Value::from),
            n.const_value.as_deref().map(Value::from),
        );
        self.default_value(
            ctx,
            p,
            o.default.as_deref().map(Value::from),
            n.default.as_deref().map(Value::from),
        );
    }

    fn format(&mut self, ctx: &Ctx, p: &str, old: Option<StringFormat>, new: Option<StringFormat>) {
        if old == new {
            return;
        }
        let pointer = pointer_push(p, "format");
        let values = (
            old.map(|f| Value::from(f.name())),
            new.map(|f| Value::from(f.name())),
        );
        // Generated code decodes formatted strings into checked types
        // (`Did`, `AtUri`, …), so a value outside the format fails to decode.
        let d = match (old, new) {
            (None, Some(_)) => draft(
                ChangeKind::ConstraintTightened(Constraint::Format),
                Compat::new(Impact::None, Impact::Breaking),
                "a format on a string that had none: old writers may write strings outside it, \
                 which updated readers fail to decode",
            ),
            (Some(_), None) => draft(
                ChangeKind::ConstraintLoosened(Constraint::Format),
                Compat::new(Impact::Breaking, Impact::None),
                "the format was dropped: new writers may write strings old readers fail to \
                 decode as the format",
            ),
            (Some(a), Some(b)) if format_within(a, b) => draft(
                ChangeKind::ConstraintLoosened(Constraint::Format),
                Compat::new(Impact::Breaking, Impact::None),
                "the format widened: new writers may write values (of the wider format) old \
                 readers fail to decode",
            ),
            (Some(a), Some(b)) if format_within(b, a) => draft(
                ChangeKind::ConstraintTightened(Constraint::Format),
                Compat::new(Impact::None, Impact::Breaking),
                "the format narrowed: old writers may write values updated readers fail to decode",
            ),
            _ => draft(
                ChangeKind::ConstraintChanged(Constraint::Format),
                Compat::both(Impact::Breaking),
                "the format changed to an unrelated one: values of either fail to decode as the \
                 other",
            ),
        };
        self.push(ctx, &pointer, d.values(values.0, values.1));
    }

    fn blob(&mut self, ctx: &Ctx, p: &str, o: &BlobSchema, n: &BlobSchema) {
        self.upper(ctx, p, Constraint::MaxSize, o.max_size, n.max_size);
        let pointer = pointer_push(p, "accept");
        let reason_tight = "fewer MIME types are accepted: blobs old writers upload may be \
                            rejected by updated readers that validate";
        let reason_loose = "more MIME types are accepted: blobs new writers upload may be \
                            rejected by old readers that validate";
        match (&o.accept, &n.accept) {
            (None, None) => {}
            (None, Some(list)) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintTightened(Constraint::Accept),
                    Compat::new(Impact::None, Impact::Validation),
                    reason_tight,
                )
                .values(None, Some(json!(list))),
            ),
            (Some(list), None) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintLoosened(Constraint::Accept),
                    Compat::new(Impact::Validation, Impact::None),
                    reason_loose,
                )
                .values(Some(json!(list)), None),
            ),
            (Some(old), Some(new)) => {
                for mime in new.iter().filter(|m| !old.contains(m)) {
                    let covered = old.iter().any(|o| mime_covers(o, mime));
                    let d = if covered {
                        draft(
                            ChangeKind::ConstraintChanged(Constraint::Accept),
                            Compat::NONE,
                            "an accepted MIME type added that an existing entry already covers",
                        )
                    } else {
                        draft(
                            ChangeKind::ConstraintLoosened(Constraint::Accept),
                            Compat::new(Impact::Validation, Impact::None),
                            reason_loose,
                        )
                    };
                    self.push(ctx, &pointer, d.values(None, s(mime)));
                }
                for mime in old.iter().filter(|m| !new.contains(m)) {
                    let covered = new.iter().any(|n| mime_covers(n, mime));
                    let d = if covered {
                        draft(
                            ChangeKind::ConstraintChanged(Constraint::Accept),
                            Compat::NONE,
                            "an accepted MIME type removed that a remaining entry still covers",
                        )
                    } else {
                        draft(
                            ChangeKind::ConstraintTightened(Constraint::Accept),
                            Compat::new(Impact::None, Impact::Validation),
                            reason_tight,
                        )
                    };
                    self.push(ctx, &pointer, d.values(s(mime), None));
                }
            }
        }
    }

    /// An upper bound (`maxLength`, `maximum`, …): lower is tighter, absent
    /// is loosest. Constraint violations are caught by validation only, so
    /// the side that may meet them gets [`Impact::Validation`].
    fn upper<T>(&mut self, ctx: &Ctx, p: &str, c: Constraint, old: Option<T>, new: Option<T>)
    where
        T: Ord + Copy + Into<Value>,
    {
        let tighter = match (old, new) {
            (a, b) if a == b => return,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b < a,
            (None, None) => return,
        };
        self.bound(ctx, p, c, tighter, old.map(Into::into), new.map(Into::into));
    }

    /// A lower bound (`minLength`, `minimum`, …): higher is tighter, absent
    /// is loosest.
    fn lower<T>(&mut self, ctx: &Ctx, p: &str, c: Constraint, old: Option<T>, new: Option<T>)
    where
        T: Ord + Copy + Into<Value>,
    {
        let tighter = match (old, new) {
            (a, b) if a == b => return,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b > a,
            (None, None) => return,
        };
        self.bound(ctx, p, c, tighter, old.map(Into::into), new.map(Into::into));
    }

    fn bound(
        &mut self,
        ctx: &Ctx,
        p: &str,
        c: Constraint,
        tighter: bool,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        let pointer = pointer_push(p, c.name());
        let d = if tighter {
            draft(
                ChangeKind::ConstraintTightened(c),
                Compat::new(Impact::None, Impact::Validation),
                format!(
                    "`{}` tightened: data old writers may write is no longer valid, and updated \
                     readers that validate reject it (the spec does not allow tightening a \
                     constraint)",
                    c.name()
                ),
            )
        } else {
            draft(
                ChangeKind::ConstraintLoosened(c),
                Compat::new(Impact::Validation, Impact::None),
                format!(
                    "`{}` loosened: old writers are unaffected, but new writers may write data \
                     old readers that validate reject",
                    c.name()
                ),
            )
        };
        self.push(ctx, &pointer, d.values(old, new));
    }

    /// A closed value list (`enum`); `impact` is what a value outside it does
    /// to a reader (string enums are closed Rust enums that fail to decode;
    /// integer enums are checked by validation only).
    fn enum_values(
        &mut self,
        ctx: &Ctx,
        p: &str,
        old: Option<Vec<Value>>,
        new: Option<Vec<Value>>,
        impact: Impact,
    ) {
        let pointer = pointer_push(p, "enum");
        match (old, new) {
            (None, None) => {}
            (None, Some(list)) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintTightened(Constraint::Enum),
                    Compat::new(Impact::None, impact),
                    "a closed `enum` on a value that had none: old writers may write values \
                     outside it",
                )
                .values(None, Some(Value::Array(list))),
            ),
            (Some(list), None) => self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::ConstraintLoosened(Constraint::Enum),
                    Compat::new(impact, Impact::None),
                    "the closed `enum` was dropped: new writers may write values old readers do \
                     not accept",
                )
                .values(Some(Value::Array(list)), None),
            ),
            (Some(old), Some(new)) => {
                for v in new.iter().filter(|v| !old.contains(v)) {
                    self.push(
                        ctx,
                        &pointer,
                        draft(
                            ChangeKind::ConstraintLoosened(Constraint::Enum),
                            Compat::new(impact, Impact::None),
                            "a closed `enum` grew: old readers do not accept the new value (a \
                             closed set cannot grow without breaking readers; `knownValues` can)",
                        )
                        .values(None, Some(v.clone())),
                    );
                }
                for v in old.iter().filter(|v| !new.contains(v)) {
                    self.push(
                        ctx,
                        &pointer,
                        draft(
                            ChangeKind::ConstraintTightened(Constraint::Enum),
                            Compat::new(Impact::None, impact),
                            "a value was removed from a closed `enum`: data old writers write with \
                             it is rejected by updated readers",
                        )
                        .values(Some(v.clone()), None),
                    );
                }
            }
        }
    }

    fn const_value(&mut self, ctx: &Ctx, p: &str, old: Option<Value>, new: Option<Value>) {
        if old == new {
            return;
        }
        let pointer = pointer_push(p, "const");
        let d = match (&old, &new) {
            (None, _) => draft(
                ChangeKind::ConstraintTightened(Constraint::Const),
                Compat::new(Impact::None, Impact::Validation),
                "a `const` on a value that had none: old writers may write other values",
            ),
            (_, None) => draft(
                ChangeKind::ConstraintLoosened(Constraint::Const),
                Compat::new(Impact::Validation, Impact::None),
                "the `const` was dropped: new writers may write values old readers that validate \
                 reject",
            ),
            _ => draft(
                ChangeKind::ConstraintChanged(Constraint::Const),
                Compat::both(Impact::Validation),
                "the `const` changed: each side's value is invalid under the other's lexicon",
            ),
        };
        self.push(ctx, &pointer, d.values(old, new));
    }

    fn default_value(&mut self, ctx: &Ctx, p: &str, old: Option<Value>, new: Option<Value>) {
        if old == new {
            return;
        }
        self.push(
            ctx,
            &pointer_push(p, "default"),
            draft(
                ChangeKind::ConstraintChanged(Constraint::Default),
                Compat::both(Impact::Tolerated),
                "a `default` only says how an absent value is read: no data becomes invalid, but \
                 an absent value now means something else to one side",
            )
            .values(old, new),
        );
    }

    // ---- objects ----------------------------------------------------------

    fn object(
        &mut self,
        ctx: &Ctx,
        old_s: &Schema,
        new_s: &Schema,
        o: &ObjectSchema,
        n: &ObjectSchema,
    ) {
        let props = pointer_push(&new_s.pointer, "properties");
        let old_props = pointer_push(&old_s.pointer, "properties");
        let added: Vec<&(String, Schema)> = n
            .properties
            .iter()
            .filter(|(k, _)| o.property(k).is_none())
            .collect();
        let removed: Vec<&(String, Schema)> = o
            .properties
            .iter()
            .filter(|(k, _)| n.property(k).is_none())
            .collect();

        // A removed property and an added one with the same schema look like
        // a rename, when neither has another such partner (two removed
        // strings and one added string say nothing about which was renamed).
        let mut same = vec![vec![false; added.len()]; removed.len()];
        for (i, (_, old_schema)) in removed.iter().enumerate() {
            for (j, (_, new_schema)) in added.iter().enumerate() {
                same[i][j] = self.same_shape(ctx, old_schema, new_schema);
            }
        }
        let mut renamed: Vec<(&str, &str)> = Vec::new();
        for (i, (old_name, _)) in removed.iter().enumerate() {
            let partners: Vec<usize> = (0..added.len()).filter(|&j| same[i][j]).collect();
            if let [j] = partners[..]
                && (0..removed.len()).filter(|&k| same[k][j]).count() == 1
            {
                renamed.push((old_name, &added[j].0));
            }
        }
        let is_renamed_from = |name: &str| renamed.iter().any(|(o, _)| *o == name);
        let is_renamed_to = |name: &str| renamed.iter().any(|(_, n)| *n == name);

        for (name, schema) in &n.properties {
            let at = ctx.at(format!("{}.{name}", ctx.location));
            let pointer = pointer_push(&props, name);
            match o.property(name) {
                Some(old_schema) => {
                    self.requirement(&at, &pointer, o, n, name);
                    self.schema(&at, old_schema, schema);
                }
                None if is_renamed_to(name) => {
                    let from = renamed
                        .iter()
                        .find(|(_, to)| to == name)
                        .map_or("", |(from, _)| from);
                    self.push(
                        &at,
                        &pointer,
                        draft(
                            ChangeKind::PropertyRenamed,
                            Compat::both(Impact::Breaking),
                            "the spec does not allow renaming fields: old readers no longer find \
                             the value under its old name, and updated readers ignore what old \
                             writers write under it",
                        )
                        .values(s(from), s(name)),
                    );
                }
                None => {
                    let required = n.is_required(name);
                    let d = if required {
                        draft(
                            ChangeKind::PropertyAdded,
                            Compat::new(Impact::Tolerated, Impact::Breaking),
                            "a new required field: old writers do not write it, so updated readers \
                             reject their data (the spec requires new fields to be optional)",
                        )
                    } else {
                        draft(
                            ChangeKind::PropertyAdded,
                            Compat::new(Impact::Tolerated, Impact::None),
                            "a new optional field: old readers ignore unknown fields, and old \
                             writers' data without it stays valid",
                        )
                    };
                    self.push(
                        &at,
                        &pointer,
                        d.values(
                            None,
                            Some(json!({
                                "type": schema.kind.type_name(),
                                "required": required,
                            })),
                        ),
                    );
                }
            }
        }
        for (name, schema) in &o.properties {
            if n.property(name).is_some() || is_renamed_from(name) {
                continue;
            }
            let at = ctx.at(format!("{}.{name}", ctx.location));
            let required = o.is_required(name);
            let d = if required {
                draft(
                    ChangeKind::PropertyRemoved,
                    Compat::new(Impact::Breaking, Impact::Tolerated),
                    "a required field removed: new writers no longer write it, so old readers \
                     reject their data (the spec does not allow removing required fields)",
                )
            } else {
                draft(
                    ChangeKind::PropertyRemoved,
                    Compat::new(Impact::None, Impact::Tolerated),
                    "an optional field removed: data without it was always valid, and updated \
                     readers ignore it in old writers' data as an unknown field (the spec's best \
                     practice is to keep it, marked deprecated)",
                )
            };
            self.push(
                &at,
                &pointer_push(&old_props, name),
                d.values(
                    Some(json!({
                        "type": schema.kind.type_name(),
                        "required": required,
                    })),
                    None,
                ),
            );
        }
    }

    /// `required` and `nullable` of a property both sides have.
    fn requirement(
        &mut self,
        ctx: &Ctx,
        pointer: &str,
        o: &ObjectSchema,
        n: &ObjectSchema,
        name: &str,
    ) {
        match (o.is_required(name), n.is_required(name)) {
            (false, true) => self.push(
                ctx,
                pointer,
                draft(
                    ChangeKind::RequiredAdded,
                    Compat::new(Impact::None, Impact::Breaking),
                    "an optional field became required: data old writers write without it is \
                     rejected by updated readers",
                )
                .values(Some(false.into()), Some(true.into())),
            ),
            (true, false) => self.push(
                ctx,
                pointer,
                draft(
                    ChangeKind::RequiredRemoved,
                    Compat::new(Impact::Breaking, Impact::None),
                    "a required field became optional: new writers may leave it out, and old \
                     readers reject data without it (the spec does not allow removing required \
                     fields)",
                )
                .values(Some(true.into()), Some(false.into())),
            ),
            _ => {}
        }
        match (o.is_nullable(name), n.is_nullable(name)) {
            (false, true) => self.push(
                ctx,
                pointer,
                draft(
                    ChangeKind::NullableAdded,
                    Compat::new(Impact::Breaking, Impact::None),
                    "the field became nullable: new writers may write `null`, which old readers \
                     do not accept for it",
                )
                .values(Some(false.into()), Some(true.into())),
            ),
            (true, false) => self.push(
                ctx,
                pointer,
                draft(
                    ChangeKind::NullableRemoved,
                    Compat::new(Impact::None, Impact::Breaking),
                    "the field is no longer nullable: `null` that old writers may write is \
                     rejected by updated readers",
                )
                .values(Some(true.into()), Some(false.into())),
            ),
            _ => {}
        }
    }

    /// Whether two schemas differ in nothing but descriptions.
    fn same_shape(&mut self, ctx: &Ctx, a: &Schema, b: &Schema) -> bool {
        let mark = self.out.len();
        let probe = ctx.at(String::new());
        self.schema(&probe, a, b);
        let same = self.out[mark..].iter().all(|c| c.class == Class::Cosmetic);
        self.out.truncate(mark);
        same
    }

    // ---- unions -----------------------------------------------------------

    fn union(&mut self, ctx: &Ctx, p: &str, o: &UnionSchema, n: &UnionSchema) {
        let pointer = pointer_push(p, "refs");
        let old_keys: Vec<DefKey> = o
            .refs
            .iter()
            .map(|r| DefKey::resolve(ctx.old_nsid, r))
            .collect();
        let new_keys: Vec<DefKey> = n
            .refs
            .iter()
            .map(|r| DefKey::resolve(ctx.new_nsid, r))
            .collect();
        for (target, key) in n.refs.iter().zip(&new_keys) {
            if old_keys.contains(key) {
                continue;
            }
            let d = if o.closed {
                draft(
                    ChangeKind::UnionRefAdded,
                    Compat::new(Impact::Breaking, Impact::None),
                    "a closed union grew: old readers reject the new member (a closed union cannot \
                     grow without breaking readers)",
                )
            } else {
                draft(
                    ChangeKind::UnionRefAdded,
                    Compat::new(Impact::Tolerated, Impact::None),
                    "an open union may gain members: old readers keep the new member as unknown \
                     data (generated `Unknown` variant)",
                )
            };
            self.push(ctx, &pointer, d.values(None, s(target)));
        }
        for (target, key) in o.refs.iter().zip(&old_keys) {
            if new_keys.contains(key) {
                continue;
            }
            let reason = if n.closed {
                "a member removed from a union: data old writers write with it is rejected by \
                 updated readers of the closed union"
            } else {
                "the spec does not allow removing union members: data old writers write with it \
                 is no longer understood by updated readers (kept only as unknown data)"
            };
            self.push(
                ctx,
                &pointer,
                draft(
                    ChangeKind::UnionRefRemoved,
                    Compat::new(Impact::None, Impact::Breaking),
                    reason,
                )
                .values(s(target), None),
            );
        }
        match (o.closed, n.closed) {
            (false, true) => self.push(
                ctx,
                &pointer_push(p, "closed"),
                draft(
                    ChangeKind::UnionClosed,
                    Compat::new(Impact::None, Impact::Breaking),
                    "the union became closed: members beyond its refs, which old writers may \
                     write in an open union, are rejected by updated readers",
                )
                .values(Some(false.into()), Some(true.into())),
            ),
            (true, false) => self.push(
                ctx,
                &pointer_push(p, "closed"),
                draft(
                    ChangeKind::UnionOpened,
                    Compat::new(Impact::Breaking, Impact::None),
                    "the union is no longer closed: new writers may write members old readers \
                     (whose union has no unknown case) reject",
                )
                .values(Some(true.into()), Some(false.into())),
            ),
            _ => {}
        }
    }

    // ---- endpoints --------------------------------------------------------

    fn endpoint(&mut self, ctx: &Ctx, o: &EndpointSchema, n: &EndpointSchema) {
        self.parameters(ctx, o.parameters.as_deref(), n.parameters.as_deref());
        self.body(
            ctx,
            "input",
            Flow::Request,
            o.input.as_ref(),
            n.input.as_ref(),
        );
        self.body(
            ctx,
            "output",
            Flow::Response,
            o.output.as_ref(),
            n.output.as_ref(),
        );
        self.errors(ctx, &o.errors, &n.errors);
    }

    fn subscription(&mut self, ctx: &Ctx, o: &SubscriptionSchema, n: &SubscriptionSchema) {
        self.parameters(ctx, o.parameters.as_deref(), n.parameters.as_deref());
        self.body(
            ctx,
            "message",
            Flow::Message,
            o.message.as_ref(),
            n.message.as_ref(),
        );
        self.errors(ctx, &o.errors, &n.errors);
    }

    /// Parameters: absent parameters compare as an empty `params`, so a
    /// first parameter is reported as a property added.
    fn parameters(&mut self, ctx: &Ctx, old: Option<&Schema>, new: Option<&Schema>) {
        let at = ctx
            .at(format!("{}.parameters", ctx.location))
            .with_flow(Flow::Request);
        let empty = |pointer: &str| Schema {
            description: None,
            pointer: pointer.to_owned(),
            kind: SchemaKind::Params(ObjectSchema::default()),
        };
        let pointer = format!("/defs/{}/parameters", def_name(&ctx.location));
        match (old, new) {
            (None, None) => {}
            (Some(o), Some(n)) => self.schema(&at, o, n),
            (None, Some(n)) => self.schema(&at, &empty(&pointer), n),
            (Some(o), None) => self.schema(&at, o, &empty(&pointer)),
        }
    }

    fn body(
        &mut self,
        ctx: &Ctx,
        part: &str,
        flow: Flow,
        old: Option<&BodySchema>,
        new: Option<&BodySchema>,
    ) {
        let at = ctx.at(format!("{}.{part}", ctx.location)).with_flow(flow);
        match (old, new) {
            (None, None) => {}
            (None, Some(n)) => self.push(
                &at,
                &n.pointer,
                draft(
                    ChangeKind::BodyAdded,
                    Compat::new(Impact::Tolerated, Impact::Breaking),
                    format!(
                        "a new `{part}`: old writers send none, which updated readers that expect \
                         it reject"
                    ),
                )
                .values(None, Some(body_value(n))),
            ),
            (Some(o), None) => {
                let pointer = o.pointer.clone();
                self.push(
                    &at,
                    &pointer,
                    draft(
                        ChangeKind::BodyRemoved,
                        Compat::new(Impact::Breaking, Impact::Tolerated),
                        format!(
                            "the `{part}` was removed: new writers send none, and old readers \
                             expect it"
                        ),
                    )
                    .values(Some(body_value(o)), None),
                );
            }
            (Some(o), Some(n)) => {
                self.description(
                    &at,
                    &n.pointer,
                    o.description.as_deref(),
                    n.description.as_deref(),
                );
                if !o.encoding.eq_ignore_ascii_case(&n.encoding) {
                    self.encoding(&at, &n.pointer, &o.encoding, &n.encoding);
                }
                match (&o.schema, &n.schema) {
                    (None, None) => {}
                    (None, Some(schema)) => self.push(
                        &at,
                        &schema.pointer,
                        draft(
                            ChangeKind::BodySchemaAdded,
                            Compat::new(Impact::None, Impact::Breaking),
                            "a schema for a body that had none: what old writers send need not \
                             fit it",
                        )
                        .values(None, s(schema.kind.type_name())),
                    ),
                    (Some(schema), None) => self.push(
                        &at,
                        &n.pointer,
                        draft(
                            ChangeKind::BodySchemaRemoved,
                            Compat::new(Impact::Breaking, Impact::None),
                            "the body's schema was dropped: new writers may send what old \
                             readers cannot decode",
                        )
                        .values(s(schema.kind.type_name()), None),
                    ),
                    (Some(os), Some(ns)) => self.schema(&at, os, ns),
                }
            }
        }
    }

    fn encoding(&mut self, ctx: &Ctx, p: &str, old: &str, new: &str) {
        let pointer = pointer_push(p, "encoding");
        let d = if mime_covers(new, old) {
            draft(
                ChangeKind::ConstraintLoosened(Constraint::Encoding),
                Compat::new(Impact::Breaking, Impact::None),
                "the encoding widened: new writers may send content types old readers reject",
            )
        } else if mime_covers(old, new) {
            draft(
                ChangeKind::ConstraintTightened(Constraint::Encoding),
                Compat::new(Impact::None, Impact::Breaking),
                "the encoding narrowed: content types old writers send may be rejected by \
                 updated readers",
            )
        } else {
            draft(
                ChangeKind::ConstraintChanged(Constraint::Encoding),
                Compat::both(Impact::Breaking),
                "the encoding changed: neither side's content type is accepted by the other",
            )
        };
        self.push(ctx, &pointer, d.values(s(old), s(new)));
    }

    fn errors(&mut self, ctx: &Ctx, old: &[ErrorSchema], new: &[ErrorSchema]) {
        let base = format!("/defs/{}/errors", def_name(&ctx.location));
        for (i, error) in new.iter().enumerate() {
            let at = ctx
                .at(format!("{}.errors.{}", ctx.location, error.name))
                .with_flow(Flow::Response);
            let pointer = pointer_push(&base, &i.to_string());
            match old.iter().find(|e| e.name == error.name) {
                Some(before) => self.description(
                    &at,
                    &pointer,
                    before.description.as_deref(),
                    error.description.as_deref(),
                ),
                None => self.push(
                    &at,
                    &pointer,
                    draft(
                        ChangeKind::ErrorAdded,
                        Compat::new(Impact::Tolerated, Impact::None),
                        "a new error name: old clients must accept error names they do not know \
                         (generated clients keep its name and message in their unknown-error \
                         case); old servers never send it",
                    )
                    .values(None, s(&error.name)),
                ),
            }
        }
        for (i, error) in old.iter().enumerate() {
            if new.iter().any(|e| e.name == error.name) {
                continue;
            }
            let at = ctx
                .at(format!("{}.errors.{}", ctx.location, error.name))
                .with_flow(Flow::Response);
            self.push(
                &at,
                &pointer_push(&base, &i.to_string()),
                draft(
                    ChangeKind::ErrorRemoved,
                    Compat::new(Impact::None, Impact::Tolerated),
                    "an error is no longer declared: old clients simply stop seeing it; if old \
                     servers still send it, updated clients keep it in their unknown-error case",
                )
                .values(s(&error.name), None),
            );
        }
    }

    fn record_key(&mut self, ctx: &Ctx, p: &str, old: &str, new: &str) {
        let pointer = pointer_push(p, "key");
        let d = if new == "any" {
            draft(
                ChangeKind::ConstraintLoosened(Constraint::RecordKey),
                Compat::new(Impact::Breaking, Impact::None),
                "any record key is now allowed: records new writers create may have keys old \
                 readers reject",
            )
        } else if old == "any" {
            draft(
                ChangeKind::ConstraintTightened(Constraint::RecordKey),
                Compat::new(Impact::None, Impact::Breaking),
                "the record key narrowed: records old writers created may have keys updated \
                 readers reject",
            )
        } else {
            draft(
                ChangeKind::ConstraintChanged(Constraint::RecordKey),
                Compat::both(Impact::Breaking),
                "the record key changed: keys of either kind are invalid under the other",
            )
        };
        self.push(ctx, &pointer, d.values(s(old), s(new)));
    }

    fn permission_set(
        &mut self,
        ctx: &Ctx,
        p: &str,
        o: &PermissionSetSchema,
        n: &PermissionSetSchema,
    ) {
        if o.title != n.title || o.detail != n.detail {
            self.push(
                ctx,
                p,
                draft(
                    ChangeKind::OtherChanged,
                    Compat::NONE,
                    "a permission set's title or detail is shown to users; no data or call changes",
                )
                .values(
                    Some(json!({"title": o.title, "detail": o.detail})),
                    Some(json!({"title": n.title, "detail": n.detail})),
                ),
            );
        }
        let pointer = pointer_push(p, "permissions");
        let old_perms: Vec<Value> = o.permissions.iter().map(permission_value).collect();
        let new_perms: Vec<Value> = n.permissions.iter().map(permission_value).collect();
        // Permissions are paired by their resource and scalar fields
        // (`resource: rpc, inheritAud: true`) when that pairing is one to
        // one; the lists of a pair (`lxm`, `collection`, `action`, …) are then
        // compared entry by entry. Anything unpaired is added or removed
        // whole.
        let old_keys: Vec<Value> = old_perms.iter().map(permission_key).collect();
        let new_keys: Vec<Value> = new_perms.iter().map(permission_key).collect();
        let unique = |keys: &[Value], key: &Value| keys.iter().filter(|k| *k == key).count() == 1;
        let mut paired_old = vec![false; old_perms.len()];
        for (j, new_perm) in new_perms.iter().enumerate() {
            let at = ctx.at(format!("{}.permissions[{j}]", ctx.location));
            let item = pointer_push(&pointer, &j.to_string());
            let partner = old_keys
                .iter()
                .position(|k| *k == new_keys[j])
                .filter(|_| unique(&old_keys, &new_keys[j]) && unique(&new_keys, &new_keys[j]));
            match partner {
                Some(i) => {
                    paired_old[i] = true;
                    self.permission_lists(&at, &item, &old_perms[i], new_perm);
                }
                None if old_perms.contains(new_perm) => {}
                None => self.permission_grant(&at, &item, None, Some(new_perm.clone())),
            }
        }
        for (i, old_perm) in old_perms.iter().enumerate() {
            if !paired_old[i] && !new_perms.contains(old_perm) {
                let at = ctx.at(format!("{}.permissions[{i}]", ctx.location));
                let item = pointer_push(&pointer, &i.to_string());
                self.permission_grant(&at, &item, Some(old_perm.clone()), None);
            }
        }
    }

    /// The list fields of two paired permissions, entry by entry: each entry
    /// added or removed is a grant added or removed.
    fn permission_lists(&mut self, ctx: &Ctx, pointer: &str, old: &Value, new: &Value) {
        let empty = serde_json::Map::new();
        let old_map = old.as_object().unwrap_or(&empty);
        let new_map = new.as_object().unwrap_or(&empty);
        let resource = new_map.get("resource").cloned().unwrap_or(Value::Null);
        let fields: BTreeSet<&String> = old_map
            .iter()
            .chain(new_map)
            .filter(|(_, v)| v.is_array())
            .map(|(k, _)| k)
            .collect();
        let no_items = Vec::new();
        for field in fields {
            let items = |map: &serde_json::Map<String, Value>| {
                map.get(field.as_str())
                    .and_then(Value::as_array)
                    .unwrap_or(&no_items)
                    .clone()
            };
            let (before, after) = (items(old_map), items(new_map));
            let grant = |item: &Value| json!({"resource": resource, field.as_str(): item});
            for item in after.iter().filter(|i| !before.contains(i)) {
                self.permission_grant(ctx, pointer, None, Some(grant(item)));
            }
            for item in before.iter().filter(|i| !after.contains(i)) {
                self.permission_grant(ctx, pointer, Some(grant(item)), None);
            }
        }
    }

    /// A grant (a whole permission, or one entry of its lists) added (`new`)
    /// or removed (`old`).
    fn permission_grant(
        &mut self,
        ctx: &Ctx,
        pointer: &str,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        let d = if new.is_some() {
            draft(
                ChangeKind::PermissionAdded,
                Compat::NONE,
                "a permission added to the set: apps that request the set are granted more, and \
                 nothing they did stops working",
            )
        } else {
            draft(
                ChangeKind::PermissionRemoved,
                Compat::new(Impact::Breaking, Impact::None),
                "a permission removed from the set: apps that rely on it through the set lose \
                 access",
            )
        };
        self.push(ctx, pointer, d.values(old, new));
    }
}

/// A permission of a set as one JSON object (`resource` and its fields).
fn permission_value(perm: &Schema) -> Value {
    match &perm.kind {
        SchemaKind::Permission(x) => {
            let mut v = serde_json::Map::new();
            v.insert("resource".to_owned(), Value::from(x.resource.as_str()));
            for (k, f) in &x.fields {
                v.insert(k.clone(), f.clone());
            }
            Value::Object(v)
        }
        other => Value::from(other.type_name()),
    }
}

/// What pairs a permission with its other version: everything but its lists.
fn permission_key(value: &Value) -> Value {
    match value.as_object() {
        Some(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_array())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => value.clone(),
    }
}

fn doc_ctx(nsid: &str, flow: Flow) -> Ctx<'_> {
    Ctx {
        old_nsid: nsid,
        new_nsid: nsid,
        location: nsid.to_owned(),
        flow,
        anchor: None,
    }
}

/// `nsid#main.output` → `main`.
fn def_name(location: &str) -> &str {
    let after = location.split_once('#').map_or(location, |(_, d)| d);
    after.split(['.', '[']).next().unwrap_or(after)
}

/// A lower bound of 0 says nothing; it compares as absent.
fn nonzero(bound: Option<u64>) -> Option<u64> {
    bound.filter(|b| *b > 0)
}

/// The definition a reference written in `from` points at, among `docs`.
fn resolve<'d>(docs: &'d dyn Docs, from: &str, target: &str) -> Option<(DefKey, &'d Schema)> {
    let key = DefKey::resolve(from, target);
    let schema = docs.get(&key.nsid)?.doc.as_ref()?.def(&key.name)?;
    Some((key, &schema.schema))
}

/// Whether every value of format `inner` is also a value of `outer`.
fn format_within(inner: StringFormat, outer: StringFormat) -> bool {
    use StringFormat::*;
    matches!(
        (inner, outer),
        (Did, AtIdentifier)
            | (Handle, AtIdentifier)
            | (Tid, RecordKey)
            | (Nsid, RecordKey)
            | (AtUri, Uri)
    )
}

/// Whether MIME type or glob `outer` (`*/*`, `image/*`, `image/png`) covers
/// `inner`.
fn mime_covers(outer: &str, inner: &str) -> bool {
    let outer = outer.to_ascii_lowercase();
    let inner = inner.to_ascii_lowercase();
    if outer == inner || outer == "*/*" || outer == "*" {
        return true;
    }
    match outer.strip_suffix("/*") {
        Some(kind) => inner
            .split_once('/')
            .is_some_and(|(inner_kind, _)| inner_kind == kind),
        None => false,
    }
}

fn body_value(body: &BodySchema) -> Value {
    json!({
        "encoding": body.encoding,
        "schema": body.schema.as_ref().map(|s| s.kind.type_name()),
    })
}

/// Every JSON path where `a` and `b` differ, with `added`, `removed` or
/// `changed`.
pub(crate) fn json_paths(
    a: &Value,
    b: &Value,
    pointer: String,
    out: &mut Vec<(String, &'static str)>,
) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let at = pointer_push(&pointer, key);
                match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => json_paths(u, v, at, out),
                    (Some(_), None) => out.push((at, "removed")),
                    (None, Some(_)) => out.push((at, "added")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let at = pointer_push(&pointer, &i.to_string());
                match (x.get(i), y.get(i)) {
                    (Some(u), Some(v)) => json_paths(u, v, at, out),
                    (Some(_), None) => out.push((at, "removed")),
                    (None, Some(_)) => out.push((at, "added")),
                    (None, None) => {}
                }
            }
        }
        (x, y) if x != y => out.push((pointer, "changed")),
        _ => {}
    }
}

/// Summary lines for a list of differing JSON paths.
fn summarize(paths: &[(String, &'static str)]) -> Vec<String> {
    let count = |what: &str| paths.iter().filter(|(_, w)| *w == what).count();
    let mut lines = vec![format!(
        "{} JSON paths differ: {} added, {} removed, {} changed",
        paths.len(),
        count("added"),
        count("removed"),
        count("changed")
    )];
    for (path, what) in paths.iter().take(SUMMARY_LINES) {
        let shown = if path.is_empty() {
            "(the whole value)"
        } else {
            path
        };
        lines.push(format!("{what} {shown}"));
    }
    if paths.len() > SUMMARY_LINES {
        lines.push(format!("… and {} more", paths.len() - SUMMARY_LINES));
    }
    lines
}

/// A one-line outline of a document's JSON: its format and top-level
/// structure (`lexicon 1, type procedure, keys […]` or `defs […]`).
fn outline(value: &Value) -> String {
    let Some(map) = value.as_object() else {
        return format!("not an object ({})", kind_of(value));
    };
    let mut parts = Vec::new();
    if let Some(v) = map.get("lexicon") {
        parts.push(format!("lexicon {v}"));
    }
    match map.get("defs").and_then(Value::as_object) {
        Some(defs) => {
            let names: Vec<String> = defs
                .iter()
                .map(
                    |(name, def)| match def.get("type").and_then(Value::as_str) {
                        Some(t) => format!("{name}: {t}"),
                        None => name.clone(),
                    },
                )
                .collect();
            parts.push(format!("defs [{}]", names.join(", ")));
        }
        None => {
            if let Some(t) = map.get("type").and_then(Value::as_str) {
                parts.push(format!("top-level type {t} (pre-v1 layout, no defs)"));
            }
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            parts.push(format!("keys [{}]", keys.join(", ")));
        }
    }
    parts.join(", ")
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_globs() {
        assert!(mime_covers("*/*", "image/png"));
        assert!(mime_covers("image/*", "image/png"));
        assert!(!mime_covers("image/*", "video/mp4"));
        assert!(!mime_covers("image/png", "image/*"));
        assert!(mime_covers("Application/JSON", "application/json"));
    }

    #[test]
    fn def_names_from_locations() {
        assert_eq!(def_name("a.b.c#main.output.x"), "main");
        assert_eq!(def_name("a.b.c#view"), "view");
        assert_eq!(def_name("a.b.c#items[]"), "items");
    }

    #[test]
    fn json_paths_lists_every_difference() {
        let a = json!({"x": 1, "y": [1, 2], "z": {"k": true}});
        let b = json!({"x": 2, "y": [1], "w": null, "z": {"k": true}});
        let mut out = Vec::new();
        json_paths(&a, &b, String::new(), &mut out);
        assert_eq!(
            out,
            vec![
                ("/w".to_owned(), "added"),
                ("/x".to_owned(), "changed"),
                ("/y/1".to_owned(), "removed"),
            ]
        );
    }
}
