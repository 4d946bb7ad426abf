//! Permission sets: permissions added to or removed from a set, and the
//! entries of their lists.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Ctx, Engine, draft};
use crate::diagnostics::pointer_push;
use crate::diff::model::{ChangeKind, Compat, Impact};
use crate::lexicon::{PermissionSetSchema, Schema, SchemaKind, SpaceSchema};

impl Engine<'_> {
    pub(super) fn permission_set(
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

    /// A space type: its key is a key kind as a record's is; its
    /// collections are what a `space:` scope for it grants by default, so
    /// each one added or removed is a grant added or removed; its names are
    /// shown to users and change nothing else.
    pub(super) fn space(&mut self, ctx: &Ctx, p: &str, o: &SpaceSchema, n: &SpaceSchema) {
        if o.key != n.key {
            self.record_key(ctx, p, &o.key, &n.key);
        }
        if o.name != n.name || o.name_lang != n.name_lang {
            let names = |x: &SpaceSchema| {
                let langs: serde_json::Map<String, Value> = x
                    .name_lang
                    .iter()
                    .map(|(lang, name)| (lang.clone(), Value::from(name.as_str())))
                    .collect();
                json!({"name": x.name, "name:lang": langs})
            };
            self.push(
                ctx,
                &pointer_push(p, "name"),
                draft(
                    ChangeKind::OtherChanged,
                    Compat::NONE,
                    "a space type's name is shown to users; no data or call changes",
                )
                .values(Some(names(o)), Some(names(n))),
            );
        }
        let pointer = pointer_push(p, "collections");
        let listed = |i: usize| {
            let at = ctx.at(format!("{}.collections[{i}]", ctx.location));
            (at, pointer_push(&pointer, &i.to_string()))
        };
        for (i, collection) in n.collections.iter().enumerate() {
            if !o.collections.contains(collection) {
                let d = draft(
                    ChangeKind::PermissionAdded,
                    Compat::NONE,
                    "a collection added to the space type: a `space:` scope for it grants more by \
                     default, and nothing apps did stops working",
                );
                let (at, item) = listed(i);
                self.push(&at, &item, d.values(None, Some(json!(collection))));
            }
        }
        for (i, collection) in o.collections.iter().enumerate() {
            if !n.collections.contains(collection) {
                let d = draft(
                    ChangeKind::PermissionRemoved,
                    Compat::new(Impact::Breaking, Impact::None),
                    "a collection removed from the space type: apps that rely on a `space:` \
                     scope's default to write it lose access",
                );
                let (at, item) = listed(i);
                self.push(&at, &item, d.values(Some(json!(collection)), None));
            }
        }
    }

    /// The list fields of two paired permissions, entry by entry: each entry
    /// added or removed is a grant added or removed.
    pub(super) fn permission_lists(&mut self, ctx: &Ctx, pointer: &str, old: &Value, new: &Value) {
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
    pub(super) fn permission_grant(
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
