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
//!
//! This module walks both sides together: documents, definitions, the type
//! of each schema and the references between definitions. What differs
//! inside one kind of schema is judged in a submodule: `scalars` (strings,
//! bytes, blobs, integers), `shapes` (objects and unions), `endpoints`
//! (parameters, bodies, errors, record keys) and `permissions` (permission
//! sets). `sides` holds what is compared (each document as read) and
//! `summary` the JSON outlines of documents the model cannot read.

use serde_json::Value;

use super::model::{
    Change, ChangeKind, Class, Compat, Constraint, DocReport, DocStatus, Flow, Impact,
};
use crate::diagnostics::pointer_push;
use crate::lexicon::{DefKey, Document, Schema, SchemaKind};

mod endpoints;
mod permissions;
mod scalars;
mod shapes;
mod sides;
mod summary;

use scalars::nonzero;
pub(crate) use sides::{Docs, Overlay, Parsed};
use summary::{json_paths, outline, summarize};

/// How deep the engine follows references that changed target, so that a
/// cycle of definitions (or a very deep chain) cannot make it loop.
const MAX_REF_DEPTH: usize = 24;

/// How many times, in one document, the engine follows changed references
/// into their targets; past it, a changed ref is reported as not compared.
/// Real lexicons need a few dozen; the bound keeps hostile input (chains of
/// definitions that each retarget several refs) from taking exponential time.
const MAX_REF_EXPANSIONS: usize = 4096;

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
        let same_primary = old.kind.is_primary() && old.kind.type_name() == new.kind.type_name();
        if same_primary {
            self.description(
                ctx,
                &new.pointer,
                old.description.as_deref(),
                new.description.as_deref(),
            );
        }
        match (&old.kind, &new.kind) {
            (SchemaKind::Query(o), SchemaKind::Query(n))
            | (SchemaKind::Procedure(o), SchemaKind::Procedure(n)) => self.endpoint(ctx, o, n),
            (SchemaKind::Subscription(o), SchemaKind::Subscription(n)) => {
                self.subscription(ctx, o, n);
            }
            (SchemaKind::Record(o), SchemaKind::Record(n)) => {
                if o.key != n.key {
                    self.record_key(ctx, &new.pointer, &o.key, &n.key);
                }
                self.schema(ctx, &o.record, &n.record);
            }
            (SchemaKind::PermissionSet(o), SchemaKind::PermissionSet(n)) => {
                self.permission_set(ctx, &new.pointer, o, n);
            }
            (SchemaKind::Space(o), SchemaKind::Space(n)) => {
                self.space(ctx, &new.pointer, o, n);
            }
            _ => self.schema(ctx, old, new),
        }
    }

    /// A change of another kind than those the engine names (reported,
    /// and cosmetic: it changes no data).
    fn other_changed(&mut self, ctx: &Ctx, pointer: &str, what: &'static str) {
        self.push(
            ctx,
            pointer,
            draft(ChangeKind::OtherChanged, Compat::NONE, what),
        );
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
            | (SchemaKind::PermissionSet(_), SchemaKind::PermissionSet(_))
            | (SchemaKind::Space(_), SchemaKind::Space(_)) => {
                // Primary types only occur as `main` definitions, which
                // `def` compares; nothing else holds them.
            }
            (SchemaKind::Permission(o), SchemaKind::Permission(n)) if o != n => {
                self.other_changed(ctx, &new.pointer, "a permission's fields changed");
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

/// The definition a reference written in `from` points at, among `docs`.
fn resolve<'d>(docs: &'d dyn Docs, from: &str, target: &str) -> Option<(DefKey, &'d Schema)> {
    let key = DefKey::resolve(from, target);
    let schema = docs.get(&key.nsid)?.doc.as_ref()?.def(&key.name)?;
    Some((key, &schema.schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn def_names_from_locations() {
        assert_eq!(def_name("a.b.c#main.output.x"), "main");
        assert_eq!(def_name("a.b.c#view"), "view");
        assert_eq!(def_name("a.b.c#items[]"), "items");
    }
}
