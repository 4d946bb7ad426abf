//! The diff engine on small, written-out lexicon pairs: every kind of change
//! (including those the upstream history never made), the classes and the
//! sides they break, roles and acknowledgements. The `atlex diff` command
//! line is tested with the `atlex-cli` crate.

use std::path::{Path, PathBuf};

use atlex_codegen::diff::{
    self, Acknowledgements, Change, Class, Flow, Impact, LexiconSet, Report, Verdict, render,
};
use serde_json::{Value, json};

const ID: &str = "com.example.evo";

fn doc(defs: Value) -> Value {
    json!({"lexicon": 1, "id": ID, "defs": defs})
}

fn set(label: &str, docs: &[Value]) -> LexiconSet {
    let mut set = LexiconSet::new(label);
    for d in docs {
        let id = d["id"].as_str().unwrap_or("x").to_owned();
        set.insert(id.clone(), &format!("{id}.json"), Ok(d.clone()));
    }
    set
}

/// Diffs two versions of the document `com.example.evo`, given by their
/// `defs`, with `others` (documents it may refer to) on both sides.
fn diff_defs(old: Value, new: Value, others: &[Value]) -> Report {
    let mut old_docs = vec![doc(old)];
    let mut new_docs = vec![doc(new)];
    old_docs.extend(others.iter().cloned());
    new_docs.extend(others.iter().cloned());
    diff::diff(&set("old", &old_docs), &set("new", &new_docs))
}

/// The change of `kind` at `com.example.evo<suffix>`; fails listing every
/// change when there is none or more than one.
fn the<'r>(report: &'r Report, suffix: &str, kind: &str) -> &'r Change {
    let location = format!("{ID}{suffix}");
    let found: Vec<&Change> = report
        .changes()
        .map(|(_, c)| c)
        .filter(|c| c.location == location && c.kind.name() == kind)
        .collect();
    match found[..] {
        [one] => one,
        _ => panic!(
            "expected one {kind} at {location}, found {}:\n{}",
            found.len(),
            render::text(report)
        ),
    }
}

fn effect(c: &Change) -> (Class, Impact, Impact) {
    (c.class, c.compat.readers, c.compat.writers)
}

use Class::{Breaking, Compatible, Cosmetic, Unclassified};
use Impact::{Breaking as B, None as N, Tolerated as T, Unknown as U, Validation as V};

fn object(props: Value, required: &[&str], nullable: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required, "nullable": nullable})
}

// ---- objects -----------------------------------------------------------

#[test]
fn nullable_and_required() {
    let s = json!({"a": {"type": "string"}, "b": {"type": "string"}});
    let r = diff_defs(
        json!({"view": object(s.clone(), &["a"], &["b"])}),
        json!({"view": object(s, &["b"], &["a"])}),
        &[],
    );
    // `a`: required -> optional (new writers may omit it; old readers need
    // it), and it may now be null (old readers do not accept null).
    assert_eq!(
        effect(the(&r, "#view.a", "required_removed")),
        (Breaking, B, N)
    );
    assert_eq!(
        effect(the(&r, "#view.a", "nullable_added")),
        (Breaking, B, N)
    );
    // `b`: optional -> required (old writers omit it), and null no longer
    // allowed (old writers may write it).
    assert_eq!(
        effect(the(&r, "#view.b", "required_added")),
        (Breaking, N, B)
    );
    assert_eq!(
        effect(the(&r, "#view.b", "nullable_removed")),
        (Breaking, N, B)
    );
    assert_eq!(r.verdict(), Verdict::Breaking);
    assert!(r.fails());
}

#[test]
fn properties_added_removed_and_renamed() {
    let r = diff_defs(
        json!({"view": object(json!({"keep": {"type": "integer"}, "old": {"type": "integer", "minimum": 1}, "gone": {"type": "boolean"}}), &["keep"], &[])}),
        json!({"view": object(json!({"keep": {"type": "integer"}, "renamed": {"type": "integer", "minimum": 1, "description": "docs may differ"}, "extra": {"type": "string"}, "must": {"type": "string"}}), &["keep", "must"], &[])}),
        &[],
    );
    let renamed = the(&r, "#view.renamed", "property_renamed");
    assert_eq!(effect(renamed), (Breaking, B, B));
    assert_eq!(renamed.old, Some(json!("old")));
    assert_eq!(
        effect(the(&r, "#view.extra", "property_added")),
        (Compatible, T, N)
    );
    assert_eq!(
        effect(the(&r, "#view.must", "property_added")),
        (Breaking, T, B)
    );
    assert_eq!(
        effect(the(&r, "#view.gone", "property_removed")),
        (Compatible, N, T)
    );
}

#[test]
fn a_rename_needs_a_single_candidate() {
    // Two strings removed, one added: which was renamed cannot be told.
    let r = diff_defs(
        json!({"view": object(json!({"before": {"type": "string"}, "author": {"type": "string"}}), &[], &[])}),
        json!({"view": object(json!({"cursor": {"type": "string"}}), &[], &[])}),
        &[],
    );
    assert!(
        r.changes()
            .all(|(_, c)| c.kind.name() != "property_renamed")
    );
    the(&r, "#view.before", "property_removed");
    the(&r, "#view.author", "property_removed");
    the(&r, "#view.cursor", "property_added");
}

// ---- constraints -------------------------------------------------------

#[test]
fn string_constraints() {
    let r = diff_defs(
        json!({"view": object(json!({
            "a": {"type": "string", "maxLength": 100, "minGraphemes": 1},
            "b": {"type": "string", "format": "did"},
            "c": {"type": "string", "format": "at-identifier"},
            "d": {"type": "string", "format": "did"},
            "e": {"type": "string", "const": "x"},
            "f": {"type": "string"},
            "g": {"type": "string", "enum": ["x", "y"]},
            "h": {"type": "string", "default": "x", "knownValues": ["x", "y"]},
        }), &[], &[])}),
        json!({"view": object(json!({
            "a": {"type": "string", "maxLength": 50, "minGraphemes": 2},
            "b": {"type": "string", "format": "at-identifier"},
            "c": {"type": "string", "format": "did"},
            "d": {"type": "string", "format": "datetime"},
            "e": {"type": "string", "const": "z"},
            "f": {"type": "string", "const": "z"},
            "g": {"type": "string", "enum": ["x", "z"]},
            "h": {"type": "string", "default": "y", "knownValues": ["x", "z"]},
        }), &[], &[])}),
        &[],
    );
    let tightened = |loc: &str| the(&r, loc, "constraint_tightened");
    // Lengths and grapheme counts: only validating readers care.
    let a: Vec<(&str, Impact)> = r
        .changes()
        .filter(|(_, c)| c.location.ends_with("#view.a"))
        .map(|(_, c)| {
            (
                c.kind.constraint().map_or("", |k| k.name()),
                c.compat.writers,
            )
        })
        .collect();
    assert_eq!(a, vec![("maxLength", V), ("minGraphemes", V)]);
    // did ⊂ at-identifier: widening breaks old readers, narrowing old
    // writers, and an unrelated format both (formats decode into types).
    assert_eq!(
        effect(the(&r, "#view.b", "constraint_loosened")),
        (Breaking, B, N)
    );
    assert_eq!(effect(tightened("#view.c")), (Breaking, N, B));
    assert_eq!(
        effect(the(&r, "#view.d", "constraint_changed")),
        (Breaking, B, B)
    );
    // const: changed is invalid both ways; added tightens.
    assert_eq!(
        effect(the(&r, "#view.e", "constraint_changed")),
        (Breaking, V, V)
    );
    assert_eq!(effect(tightened("#view.f")), (Breaking, N, V));
    // A closed string enum is a closed Rust enum: a new value fails to
    // decode in old readers; a removed one in new readers.
    let g: Vec<(&str, Impact, Impact)> = r
        .changes()
        .filter(|(_, c)| c.location.ends_with("#view.g"))
        .map(|(_, c)| (c.kind.name(), c.compat.readers, c.compat.writers))
        .collect();
    assert_eq!(
        g,
        vec![
            ("constraint_loosened", B, N),
            ("constraint_tightened", N, B)
        ]
    );
    // knownValues are open; a default change only changes how absence reads.
    assert_eq!(
        effect(the(&r, "#view.h", "known_value_added")),
        (Compatible, T, N)
    );
    assert_eq!(
        effect(the(&r, "#view.h", "known_value_removed")),
        (Compatible, N, T)
    );
    assert_eq!(
        effect(the(&r, "#view.h", "constraint_changed")),
        (Compatible, T, T)
    );
}

#[test]
fn integer_bytes_array_and_blob_constraints() {
    let r = diff_defs(
        json!({"view": object(json!({
            "i": {"type": "integer", "minimum": 0, "maximum": 10, "enum": [1, 2]},
            "by": {"type": "bytes", "maxLength": 10},
            "arr": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxLength": 3},
            "bl": {"type": "blob", "accept": ["image/png"], "maxSize": 1000},
            "b2": {"type": "blob", "accept": ["image/*"]},
            "b3": {"type": "blob"},
        }), &[], &[])}),
        json!({"view": object(json!({
            "i": {"type": "integer", "minimum": 1, "maximum": 20, "enum": [1, 2, 3]},
            "by": {"type": "bytes", "maxLength": 20, "minLength": 0},
            "arr": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxLength": 3},
            "bl": {"type": "blob", "accept": ["image/png", "image/jpeg"], "maxSize": 500},
            "b2": {"type": "blob", "accept": ["image/*", "image/webp"]},
            "b3": {"type": "blob", "accept": ["video/mp4"]},
        }), &[], &[])}),
        &[],
    );
    let kinds = |loc: &str| -> Vec<String> {
        r.changes()
            .filter(|(_, c)| c.location == format!("{ID}{loc}"))
            .map(|(_, c)| {
                format!(
                    "{} {} {}/{}",
                    c.kind.name(),
                    c.kind.constraint().map_or("", |k| k.name()),
                    c.compat.readers.name(),
                    c.compat.writers.name()
                )
            })
            .collect()
    };
    assert_eq!(
        kinds("#view.i"),
        vec![
            "constraint_tightened minimum none/validation",
            "constraint_loosened maximum validation/none",
            // Integer enums are checked by validation, not by decoding.
            "constraint_loosened enum validation/none",
        ]
    );
    // `minLength: 0` says nothing, so only maxLength changed.
    assert_eq!(
        kinds("#view.by"),
        vec!["constraint_loosened maxLength validation/none"]
    );
    // Array items are compared at `field[]`; the array's own bounds at the
    // field.
    assert_eq!(kinds("#view.arr"), Vec::<String>::new());
    assert_eq!(
        kinds("#view.arr[]"),
        vec!["constraint_tightened maxLength none/validation"]
    );
    assert_eq!(
        kinds("#view.bl"),
        vec![
            "constraint_tightened maxSize none/validation",
            "constraint_loosened accept validation/none",
        ]
    );
    // image/webp is already covered by image/*.
    assert_eq!(
        kinds("#view.b2"),
        vec!["constraint_changed accept none/none"]
    );
    assert_eq!(
        kinds("#view.b3"),
        vec!["constraint_tightened accept none/validation"]
    );
}

// ---- types and references ----------------------------------------------

#[test]
fn types_and_references() {
    let other = json!({"lexicon": 1, "id": "com.example.other", "defs": {
        "same": object(json!({"x": {"type": "string"}}), &["x"], &[]),
        "wider": object(json!({"x": {"type": "string"}, "y": {"type": "integer"}}), &["x"], &[]),
    }});
    let r = diff_defs(
        json!({
            "local": object(json!({"x": {"type": "string"}}), &["x"], &[]),
            "view": object(json!({
                "moved": {"type": "ref", "ref": "#local"},
                "grown": {"type": "ref", "ref": "#local"},
                "inlined": {"type": "ref", "ref": "#local"},
                "lost": {"type": "ref", "ref": "com.example.missing#thing"},
                "t": {"type": "integer"},
                "u": {"type": "unknown"},
                "o": {"type": "ref", "ref": "#local"},
            }), &[], &[]),
        }),
        json!({
            "local": object(json!({"x": {"type": "string"}}), &["x"], &[]),
            "view": object(json!({
                "moved": {"type": "ref", "ref": "com.example.other#same"},
                "grown": {"type": "ref", "ref": "com.example.other#wider"},
                "inlined": object(json!({"x": {"type": "string"}}), &["x"], &[]),
                "lost": {"type": "ref", "ref": "com.example.missing#other"},
                "t": {"type": "string"},
                "u": {"type": "ref", "ref": "#local"},
                "o": {"type": "unknown"},
            }), &[], &[]),
        }),
        &[other],
    );
    let at = |loc: &str| -> Vec<(&str, Class)> {
        r.changes()
            .filter(|(_, c)| c.location == format!("{ID}{loc}"))
            .map(|(_, c)| (c.kind.name(), c.class))
            .collect()
    };
    // Ref data has no $type: a retarget to the same shape is no change on
    // the wire, and one to a different shape shows the difference.
    assert_eq!(at("#view.moved"), vec![("ref_changed", Compatible)]);
    assert_eq!(at("#view.grown"), vec![("ref_changed", Compatible)]);
    assert_eq!(
        effect(the(&r, "#view.grown.y", "property_added")),
        (Compatible, T, N)
    );
    assert_eq!(at("#view.inlined"), vec![("ref_changed", Compatible)]);
    // Targets that are not loaded cannot be compared.
    assert_eq!(at("#view.lost"), vec![("ref_changed", Unclassified)]);
    assert_eq!(effect(the(&r, "#view.t", "type_changed")), (Breaking, B, B));
    // unknown narrowed to an object, and an object widened to unknown.
    assert_eq!(effect(the(&r, "#view.u", "type_changed")), (Breaking, N, B));
    assert_eq!(effect(the(&r, "#view.o", "type_changed")), (Breaking, B, N));
}

#[test]
fn unions() {
    let members = json!({
        "a": object(json!({}), &[], &[]),
        "b": object(json!({}), &[], &[]),
        "c": object(json!({}), &[], &[]),
    });
    let mut old = members.clone();
    old["view"] = object(
        json!({
            "open": {"type": "union", "refs": ["#a"]},
            "closed": {"type": "union", "refs": ["#a"], "closed": true},
            "closing": {"type": "union", "refs": ["#a", "#b"]},
            "opening": {"type": "union", "refs": ["#a"], "closed": true},
            "shrinking": {"type": "union", "refs": ["#a", "com.example.evo#b"]},
        }),
        &[],
        &[],
    );
    let mut new = members;
    new["view"] = object(
        json!({
            "open": {"type": "union", "refs": ["#a", "#c"]},
            "closed": {"type": "union", "refs": ["#a", "#c"], "closed": true},
            "closing": {"type": "union", "refs": ["#a", "#b"], "closed": true},
            "opening": {"type": "union", "refs": ["#a"]},
            "shrinking": {"type": "union", "refs": ["com.example.evo#a"]},
        }),
        &[],
        &[],
    );
    let r = diff_defs(old, new, &[]);
    assert_eq!(
        effect(the(&r, "#view.open", "union_ref_added")),
        (Compatible, T, N)
    );
    assert_eq!(
        effect(the(&r, "#view.closed", "union_ref_added")),
        (Breaking, B, N)
    );
    assert_eq!(
        effect(the(&r, "#view.closing", "union_closed")),
        (Breaking, N, B)
    );
    assert_eq!(
        effect(the(&r, "#view.opening", "union_opened")),
        (Breaking, B, N)
    );
    // `#a` and `com.example.evo#a` are the same member; `#b` is gone.
    let removed = the(&r, "#view.shrinking", "union_ref_removed");
    assert_eq!(removed.old, Some(json!("com.example.evo#b")));
    assert_eq!(effect(removed), (Breaking, N, B));
}

// ---- endpoints ---------------------------------------------------------

fn procedure(params: Value, input: Value, output: Value, errors: Value) -> Value {
    let mut main = json!({"type": "procedure", "errors": errors});
    if !params.is_null() {
        main["parameters"] = params;
    }
    if !input.is_null() {
        main["input"] = input;
    }
    if !output.is_null() {
        main["output"] = output;
    }
    json!({"main": main})
}

fn body(encoding: &str, schema: Value) -> Value {
    if schema.is_null() {
        json!({"encoding": encoding})
    } else {
        json!({"encoding": encoding, "schema": schema})
    }
}

#[test]
fn endpoints_and_the_roles_they_break() {
    let obj = |props: Value, required: &[&str]| object(props, required, &[]);
    let r = diff_defs(
        procedure(
            json!({"type": "params", "properties": {"limit": {"type": "integer", "maximum": 100}}}),
            body(
                "application/json",
                obj(json!({"text": {"type": "string", "maxLength": 10}}), &[]),
            ),
            body(
                "application/json",
                obj(json!({"n": {"type": "integer"}}), &["n"]),
            ),
            json!([{"name": "Gone", "description": "old"}, {"name": "Kept", "description": "old"}]),
        ),
        procedure(
            json!({"type": "params", "properties": {
                "limit": {"type": "integer", "maximum": 50},
                "cursor": {"type": "string"},
                "actor": {"type": "string"},
            }, "required": ["actor"]}),
            body(
                "application/json",
                obj(json!({"text": {"type": "string", "maxLength": 20}}), &[]),
            ),
            body(
                "application/json",
                obj(json!({"n": {"type": "integer", "maximum": 5}}), &["n"]),
            ),
            json!([{"name": "Kept", "description": "new"}, {"name": "New"}]),
        ),
        &[],
    );
    let roles = |loc: &str, kind: &str| {
        let c = the(&r, loc, kind);
        (c.flow, c.breaks())
    };
    // Input: clients write, servers read.
    assert_eq!(
        roles("#main.parameters.limit", "constraint_tightened"),
        (Flow::Request, vec!["clients"])
    );
    assert_eq!(
        roles("#main.input.text", "constraint_loosened"),
        (Flow::Request, vec!["servers"])
    );
    assert_eq!(
        roles("#main.parameters.cursor", "property_added"),
        (Flow::Request, vec![])
    );
    assert_eq!(
        roles("#main.parameters.actor", "property_added"),
        (Flow::Request, vec!["clients"])
    );
    // Output: servers write, clients read.
    assert_eq!(
        roles("#main.output.n", "constraint_tightened"),
        (Flow::Response, vec!["servers"])
    );
    assert_eq!(
        effect(the(&r, "#main.errors.New", "error_added")),
        (Compatible, T, N)
    );
    assert_eq!(
        effect(the(&r, "#main.errors.Gone", "error_removed")),
        (Compatible, N, T)
    );
    assert_eq!(
        effect(the(&r, "#main.errors.Kept", "description_changed")),
        (Cosmetic, N, N)
    );
}

#[test]
fn bodies_and_encodings() {
    let schema = object(json!({"a": {"type": "string"}}), &[], &[]);
    let r = diff_defs(
        procedure(
            Value::Null,
            body("*/*", Value::Null),
            body("application/json", schema.clone()),
            json!([]),
        ),
        procedure(
            Value::Null,
            body("image/png", Value::Null),
            Value::Null,
            json!([]),
        ),
        &[],
    );
    assert_eq!(
        effect(the(&r, "#main.input", "constraint_tightened")),
        (Breaking, N, B)
    );
    let removed = the(&r, "#main.output", "body_removed");
    assert_eq!(effect(removed), (Breaking, B, T));
    assert_eq!(removed.breaks(), vec!["clients"]);

    let r = diff_defs(
        procedure(
            Value::Null,
            body("application/json", Value::Null),
            body("application/json", schema.clone()),
            json!([]),
        ),
        procedure(
            Value::Null,
            body("application/json", schema.clone()),
            body("application/json", Value::Null),
            json!([]),
        ),
        &[],
    );
    assert_eq!(
        effect(the(&r, "#main.input", "body_schema_added")),
        (Breaking, N, B)
    );
    assert_eq!(
        effect(the(&r, "#main.output", "body_schema_removed")),
        (Breaking, B, N)
    );

    // A procedure that became a query.
    let r = diff_defs(
        procedure(Value::Null, Value::Null, Value::Null, json!([])),
        json!({"main": {"type": "query"}}),
        &[],
    );
    let changed = the(&r, "#main", "type_changed");
    assert_eq!(changed.flow, Flow::Endpoint);
    assert_eq!(changed.breaks(), vec!["servers", "clients"]);
}

#[test]
fn subscriptions_records_and_permission_sets() {
    let msg = |refs: &[&str]| {
        json!({"main": {"type": "subscription", "message": {"schema": {"type": "union", "refs": refs}}},
               "a": object(json!({}), &[], &[]), "b": object(json!({}), &[], &[])})
    };
    let r = diff_defs(msg(&["#a"]), msg(&["#a", "#b"]), &[]);
    let added = the(&r, "#main.message", "union_ref_added");
    assert_eq!(
        (added.flow, effect(added)),
        (Flow::Message, (Compatible, T, N))
    );

    // The default subprotocol: absent and `xrpc.v0.cbor` are the same.
    let sub = |subprotocol: Option<&str>| {
        let mut defs = msg(&["#a"]);
        if let Some(token) = subprotocol {
            defs["main"]["subprotocol"] = json!(token);
        }
        defs
    };
    let r = diff_defs(sub(None), sub(Some("xrpc.v1.json")), &[]);
    let changed = the(&r, "#main", "subprotocol_changed");
    assert_eq!(
        (changed.flow, effect(changed)),
        (Flow::Message, (Breaking, B, B))
    );
    assert_eq!(
        (changed.old.clone(), changed.new.clone()),
        (Some(json!("xrpc.v0.cbor")), Some(json!("xrpc.v1.json")))
    );
    assert_eq!(
        diff_defs(sub(None), sub(Some("xrpc.v0.cbor")), &[])
            .changes()
            .filter(|(_, c)| c.kind.name() == "subprotocol_changed")
            .count(),
        0
    );

    let record = |key: &str| json!({"main": {"type": "record", "key": key, "record": object(json!({"t": {"type": "string"}}), &[], &[])}});
    for (old, new, kind, want) in [
        ("tid", "any", "constraint_loosened", (Breaking, B, N)),
        ("any", "tid", "constraint_tightened", (Breaking, N, B)),
        (
            "tid",
            "literal:self",
            "constraint_changed",
            (Breaking, B, B),
        ),
    ] {
        let r = diff_defs(record(old), record(new), &[]);
        let c = the(&r, "#main", kind);
        assert_eq!((c.flow, effect(c)), (Flow::Record, want), "{old} -> {new}");
        assert_eq!(
            c.breaks().len(),
            [want.1, want.2].iter().filter(|i| i.breaks()).count()
        );
    }

    let perms = |lxm: &[&str], aud: &str| {
        json!({"main": {"type": "permission-set", "title": "t", "permissions": [
            {"type": "permission", "resource": "rpc", "aud": aud, "lxm": lxm},
            {"type": "permission", "resource": "repo", "collection": ["com.example.evo"]},
        ]}})
    };
    let r = diff_defs(
        perms(&["a.b.c", "a.b.d"], "*"),
        perms(&["a.b.c", "a.b.e"], "*"),
        &[],
    );
    let at = "#main.permissions[0]";
    assert_eq!(effect(the(&r, at, "permission_added")), (Compatible, N, N));
    assert_eq!(effect(the(&r, at, "permission_removed")), (Breaking, B, N));
    // A scalar field changed: the permission is replaced whole.
    let r = diff_defs(perms(&["a.b.c"], "*"), perms(&["a.b.c"], "did:web:x"), &[]);
    assert_eq!(
        the(&r, at, "permission_added").new.as_ref().unwrap()["aud"],
        json!("did:web:x")
    );
}

#[test]
fn space_types() {
    let space = |key: &str, name: &str, collections: &[&str]| {
        json!({"main": {"type": "space", "description": "A forum.", "key": key,
            "name": name, "collections": collections}})
    };
    let forum = || space("any", "Forum", &["a.b.c", "a.b.d"]);
    let same = diff_defs(forum(), forum(), &[]);
    assert_eq!(same.changes().count(), 0, "{}", render::text(&same));
    // A collection added grants more by default; one removed takes a grant
    // away from apps relying on the default.
    let r = diff_defs(forum(), space("any", "Forum", &["a.b.c", "a.b.e"]), &[]);
    let added = the(&r, "#main.collections[1]", "permission_added");
    assert_eq!(effect(added), (Compatible, N, N), "{}", render::text(&r));
    assert_eq!(added.new, Some(json!("a.b.e")));
    let removed = the(&r, "#main.collections[1]", "permission_removed");
    assert_eq!(effect(removed), (Breaking, B, N), "{}", render::text(&r));
    assert_eq!(removed.old, Some(json!("a.b.d")));
    // The key is a key kind, as a record's.
    let r = diff_defs(forum(), space("tid", "Forum", &["a.b.c", "a.b.d"]), &[]);
    assert_eq!(
        effect(the(&r, "#main", "constraint_tightened")),
        (Breaking, N, B)
    );
    // The name is only shown.
    let r = diff_defs(forum(), space("any", "Board", &["a.b.c", "a.b.d"]), &[]);
    assert_eq!(effect(the(&r, "#main", "other_changed")), (Cosmetic, N, N));
    assert_eq!(r.changes().count(), 1, "{}", render::text(&r));
}

// ---- documents ---------------------------------------------------------

#[test]
fn documents_definitions_and_cosmetics() {
    let old = json!({"lexicon": 1, "id": ID, "revision": 1, "description": "a", "defs": {
        "t": {"type": "token"}, "gone": {"type": "token"}}});
    let new = json!({"lexicon": 1, "id": ID, "revision": 2, "description": "b", "needsCbor": true,
        "defs": {"t": {"type": "token"}, "added": {"type": "token"}}});
    let ep = json!({"lexicon": 1, "id": "com.example.call", "defs": {"main": {"type": "query"}}});
    let neu = json!({"lexicon": 1, "id": "com.example.neu", "defs": {"main": {"type": "query"}}});
    let r = diff::diff(&set("old", &[old, ep]), &set("new", &[new, neu]));
    assert_eq!(effect(the(&r, "", "revision_changed")), (Cosmetic, N, N));
    assert_eq!(effect(the(&r, "", "description_changed")), (Cosmetic, N, N));
    assert_eq!(effect(the(&r, "#added", "def_added")), (Compatible, N, N));
    assert_eq!(effect(the(&r, "#gone", "def_removed")), (Breaking, N, B));
    let removed = r
        .changes()
        .find(|(_, c)| c.kind.name() == "document_removed")
        .unwrap()
        .1;
    assert_eq!(removed.flow, Flow::Endpoint);
    assert_eq!(removed.breaks(), vec!["clients"]);
    assert!(
        r.changes()
            .any(|(_, c)| c.kind.name() == "document_added" && c.class == Compatible)
    );

    // Only a key the model ignores: cosmetic, and the path is named.
    let r = diff_defs(
        json!({"t": {"type": "token"}}),
        json!({"t": {"type": "token", "x-note": 1}}),
        &[],
    );
    let other = the(&r, "", "other_changed");
    assert_eq!(other.class, Cosmetic);
    assert!(
        other.details.iter().any(|d| d == "added /defs/t/x-note"),
        "{:?}",
        other.details
    );

    // Reordered keys are no change at all.
    let a: Value = serde_json::from_str(
        r#"{"lexicon":1,"id":"com.example.evo","defs":{"t":{"type":"token","description":"d"}}}"#,
    )
    .unwrap();
    let b: Value = serde_json::from_str(
        r#"{"defs":{"t":{"description":"d","type":"token"}},"id":"com.example.evo","lexicon":1}"#,
    )
    .unwrap();
    let r = diff::diff(&set("a", &[a]), &set("b", &[b]));
    assert_eq!(r.verdict(), Verdict::Unchanged);
}

#[test]
fn documents_the_model_rejects_are_summarized_not_fatal() {
    // The pre-v1 layout: no `defs`, the type at the top.
    let legacy = json!({"lexicon": 1, "id": ID, "type": "query",
        "parameters": {"user": {"type": "string"}}, "output": {"encoding": "application/json"}});
    let current = doc(
        json!({"main": {"type": "query", "parameters": {"type": "params",
        "properties": {"actor": {"type": "string"}}}}}),
    );
    let r = diff::diff(
        &set("old", std::slice::from_ref(&legacy)),
        &set("new", &[current]),
    );
    let c = the(&r, "", "unparsed_document");
    assert_eq!(effect(c), (Unclassified, U, U));
    assert_eq!(r.verdict(), Verdict::Unclassified);
    assert!(r.fails());
    let details = c.details.join("\n");
    assert!(
        details.contains("OLD is not read by the model: missing `defs`"),
        "{details}"
    );
    assert!(
        details.contains("NEW is a valid lexicon document"),
        "{details}"
    );
    assert!(
        details.contains("top-level type query (pre-v1 layout, no defs)"),
        "{details}"
    );
    assert!(details.contains("removed /parameters"), "{details}");

    // Not even JSON.
    let mut broken = LexiconSet::new("broken");
    broken.insert_bytes("com/example/evo.json", b"{ nope", Some(ID));
    let r = diff::diff(&set("old", &[legacy]), &broken);
    let c = the(&r, "", "unparsed_document");
    assert!(
        c.new
            .as_ref()
            .unwrap()
            .as_str()
            .unwrap()
            .starts_with("not JSON")
    );
}

/// A fresh directory under cargo's scratch space for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("diff-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn two_single_files_are_compared_whatever_their_ids() {
    let dir = scratch("single");
    let a = dir.join("a.json");
    let b = dir.join("b.json");
    std::fs::write(&a, doc(json!({"t": {"type": "token"}})).to_string()).unwrap();
    let mut other = doc(json!({"t": {"type": "token"}, "u": {"type": "token"}}));
    other["id"] = json!("com.example.renamed");
    std::fs::write(&b, other.to_string()).unwrap();
    let old = LexiconSet::load(a.to_str().unwrap(), &dir).unwrap();
    let new = LexiconSet::load(b.to_str().unwrap(), &dir).unwrap();
    let r = diff::diff(&old, &new);
    assert_eq!(r.documents.len(), 1);
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.changes()
            .any(|(_, c)| c.location == "com.example.renamed#u")
    );
}

#[test]
fn acknowledgements_cover_named_changes_only() {
    let r0 = diff_defs(
        json!({"view": object(json!({"a": {"type": "string"}, "b": {"type": "string"}}), &["a", "b"], &[])}),
        json!({"view": object(json!({}), &[], &[])}),
        &[],
    );
    assert!(r0.fails());
    let acks = Acknowledgements::parse(&format!(
        r#"{{"acknowledged": [
            {{"nsid": "{ID}", "change": "property_removed", "location": "{ID}#view.a", "reason": "never used"}},
            {{"nsid": "{ID}", "change": "def_removed", "reason": "stale"}}
        ]}}"#
    ))
    .unwrap();
    let mut r = r0.clone();
    let unused = acks.apply(&mut r);
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0].change, "def_removed");
    // `b` is still unacknowledged.
    assert!(r.fails());
    assert_eq!(
        the(&r, "#view.a", "property_removed")
            .acknowledged
            .as_deref(),
        Some("never used")
    );
    // Without a location an entry covers every such change of the document.
    let all = Acknowledgements::parse(&format!(
        r#"{{"acknowledged": [{{"nsid": "{ID}", "change": "property_removed", "reason": "ok"}}]}}"#
    ))
    .unwrap();
    let mut r = r0;
    assert!(all.apply(&mut r).is_empty());
    assert!(!r.fails());
    assert_eq!(r.verdict(), Verdict::Breaking);
    assert!(render::text(&r).contains("acknowledged: ok"));
}

// ---- hostile input -----------------------------------------------------

#[test]
fn reference_cycles_and_exponential_chains_terminate() {
    // A self-referencing definition retargeted to another one.
    let r = diff_defs(
        json!({"a": object(json!({"next": {"type": "ref", "ref": "#a"}}), &[], &[]),
               "b": object(json!({"next": {"type": "ref", "ref": "#b"}}), &[], &[]),
               "view": object(json!({"x": {"type": "ref", "ref": "#a"}}), &[], &[])}),
        json!({"a": object(json!({"next": {"type": "ref", "ref": "#a"}}), &[], &[]),
               "b": object(json!({"next": {"type": "ref", "ref": "#b"}}), &[], &[]),
               "view": object(json!({"x": {"type": "ref", "ref": "#b"}}), &[], &[])}),
        &[],
    );
    assert_eq!(
        effect(the(&r, "#view.x", "ref_changed")),
        (Compatible, N, N)
    );

    // Two chains of 40 definitions, each pointing twice at the next; the
    // start is retargeted from one chain to the other, so a naive walk would
    // compare 2^40 pairs.
    let chain = |name: &str, extra: bool| -> Vec<(String, Value)> {
        (0..40)
            .map(|i| {
                let next = format!("#{name}{}", i + 1);
                let mut props =
                    json!({"l": {"type": "ref", "ref": next}, "r": {"type": "ref", "ref": next}});
                if i == 39 {
                    props = json!({"end": {"type": "string"}});
                    if extra {
                        props["more"] = json!({"type": "integer"});
                    }
                }
                (format!("{name}{i}"), object(props, &[], &[]))
            })
            .collect()
    };
    let mut defs = serde_json::Map::new();
    for (k, v) in chain("a", false).into_iter().chain(chain("b", true)) {
        defs.insert(k, v);
    }
    let mut old = Value::Object(defs.clone());
    let mut new = Value::Object(defs);
    old["view"] = object(json!({"x": {"type": "ref", "ref": "#a0"}}), &[], &[]);
    new["view"] = object(json!({"x": {"type": "ref", "ref": "#b0"}}), &[], &[]);
    let started = std::time::Instant::now();
    let r = diff_defs(old, new, &[]);
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    // Past the budget, a changed ref is reported as not compared.
    assert!(r.changes().any(|(_, c)| c.class == Unclassified));
}

#[test]
fn mutated_real_lexicons_never_make_the_diff_fail() {
    // Upstream lexicons (documents of views, a procedure, a query with a
    // union, a batch procedure) against versions of themselves
    // with one key removed, or one value replaced by a value of another
    // JSON type: whatever the model makes of them, the diff reports.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lexicons/chat/bsky/convo");
    let mut count = 0;
    // (name, every how many-th place is mutated: the big convo defs sampled)
    for (name, stride) in [
        ("defs", 7),
        ("../actor/defs", 1),
        ("removeReaction", 1),
        ("getLog", 1),
        ("sendMessageBatch", 1),
    ] {
        let path = dir.join(format!("{name}.json"));
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut pointers = Vec::new();
        fn walk(v: &Value, at: String, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                        out.push(p.clone());
                        walk(x, p, out);
                    }
                }
                Value::Array(a) => {
                    for (i, x) in a.iter().enumerate() {
                        let p = format!("{at}/{i}");
                        out.push(p.clone());
                        walk(x, p, out);
                    }
                }
                _ => {}
            }
        }
        walk(&original, String::new(), &mut pointers);
        for (n, pointer) in pointers.iter().enumerate().step_by(stride) {
            let mut mutated = original.clone();
            let Some(slot) = mutated.pointer_mut(pointer) else {
                continue;
            };
            *slot = match (n % 4, &*slot) {
                (0, _) => Value::Null,
                (1, Value::String(_)) => json!(7),
                (1, _) => json!("x"),
                (2, _) => json!([]),
                _ => json!({"type": "ref", "ref": "#nowhere"}),
            };
            let old = set("old", std::slice::from_ref(&original));
            let new = set("new", &[mutated]);
            for (a, b) in [(&old, &new), (&new, &old)] {
                let r = diff::diff(a, b);
                let _ = render::text(&r);
                let _ = render::json(&r);
                count += 1;
            }
        }
    }
    assert!(count > 400, "{count}");
}
