//! Objects and unions: properties added, removed, renamed, made required
//! or nullable, and union members and closedness.

use serde_json::json;

use super::{Ctx, Engine, draft, s};
use crate::diagnostics::pointer_push;
use crate::diff::model::{ChangeKind, Class, Compat, Impact};
use crate::lexicon::{DefKey, ObjectSchema, Schema, UnionSchema};

impl Engine<'_> {
    pub(super) fn object(
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
    pub(super) fn requirement(
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
    pub(super) fn same_shape(&mut self, ctx: &Ctx, a: &Schema, b: &Schema) -> bool {
        let mark = self.out.len();
        let probe = ctx.at(String::new());
        self.schema(&probe, a, b);
        let same = self.out[mark..].iter().all(|c| c.class == Class::Cosmetic);
        self.out.truncate(mark);
        same
    }

    // ---- unions -----------------------------------------------------------

    pub(super) fn union(&mut self, ctx: &Ctx, p: &str, o: &UnionSchema, n: &UnionSchema) {
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
}
