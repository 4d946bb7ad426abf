//! What to check of each field's values: the lexicon constraints where the
//! field is used ([`RulesIr`]), decided here so that emission only writes
//! them down.
//!
//! A struct or union "has checks of its own" when any field (or member) has
//! something to check; since types refer to each other, in cycles too, that
//! is a fixpoint.

use std::collections::HashMap;

use crate::ir::{Ir, RulesIr, Ty, TypeId, TypeKind};
use crate::lexicon::{Schema, SchemaKind};

/// How deep aliases and array items are followed.
const MAX_DEPTH: usize = 16;

/// The schemas constraints are read from, kept aside while converting.
#[derive(Default)]
pub(super) struct Schemas {
    /// Named definitions that became aliases or string enums: their
    /// constraints apply wherever they are referred to.
    pub def: HashMap<TypeId, Schema>,
    /// Each struct field's property schema, by type and field index.
    pub field: HashMap<(TypeId, usize), Schema>,
}

/// Fills in [`FieldIr::check`](crate::ir::FieldIr::check) for every field.
pub(super) fn assign(ir: &mut Ir, schemas: &Schemas) {
    let own = own_checks(ir, schemas);
    let mut checks = Vec::new();
    for (i, decl) in ir.types.iter().enumerate() {
        if let TypeKind::Struct(s) = &decl.kind {
            for (j, field) in s.fields.iter().enumerate() {
                let rules = schemas
                    .field
                    .get(&(TypeId(i), j))
                    .and_then(|schema| rules(ir, schemas, &own, &field.ty, schema, 0));
                checks.push((i, j, rules));
            }
        }
    }
    for (i, j, rules) in checks {
        if let TypeKind::Struct(s) = &mut ir.types[i].kind {
            s.fields[j].check = rules;
        }
    }
}

/// Whether each struct and union has checks of its own.
fn own_checks(ir: &Ir, schemas: &Schemas) -> Vec<bool> {
    let mut own = vec![false; ir.types.len()];
    loop {
        let mut changed = false;
        for i in 0..ir.types.len() {
            if own[i] {
                continue;
            }
            let needs = match &ir.types[i].kind {
                TypeKind::Struct(s) => s.fields.iter().enumerate().any(|(j, f)| {
                    schemas
                        .field
                        .get(&(TypeId(i), j))
                        .is_some_and(|schema| rules(ir, schemas, &own, &f.ty, schema, 0).is_some())
                }),
                TypeKind::Union(u) => u.members.iter().any(|m| own[m.target.0]),
                _ => false,
            };
            if needs {
                own[i] = true;
                changed = true;
            }
        }
        if !changed {
            return own;
        }
    }
}

/// What to check of a value of type `ty` described by `schema`.
fn rules(
    ir: &Ir,
    schemas: &Schemas,
    own: &[bool],
    ty: &Ty,
    schema: &Schema,
    depth: usize,
) -> Option<RulesIr> {
    // Aliases and arrays of aliases can refer back to themselves; what such
    // a cycle could check is checked on its first turn.
    if depth > MAX_DEPTH {
        return None;
    }
    match ty {
        Ty::Named(id) => match &ir.get(*id).kind {
            TypeKind::Alias(inner) => {
                let schema = schemas.def.get(id).unwrap_or(schema);
                rules(ir, schemas, own, inner, schema, depth + 1)
            }
            TypeKind::StringEnum(_) => string(schemas.def.get(id).unwrap_or(schema)),
            TypeKind::Struct(_) | TypeKind::Union(_) if own.get(id.0).copied().unwrap_or(false) => {
                Some(RulesIr::nested())
            }
            _ => None,
        },
        Ty::Array(inner) => {
            let SchemaKind::Array(array) = &schema.kind else {
                return None;
            };
            let items = rules(ir, schemas, own, inner, &array.items, depth + 1).map(Box::new);
            if array.min_length.is_none() && array.max_length.is_none() && items.is_none() {
                return None;
            }
            Some(RulesIr {
                min_length: array.min_length,
                max_length: array.max_length,
                items,
                ..RulesIr::default()
            })
        }
        Ty::String(_) => string(schema),
        Ty::Integer => match &schema.kind {
            SchemaKind::Integer(i)
                if i.minimum.is_some()
                    || i.maximum.is_some()
                    || i.enum_values.is_some()
                    || i.const_value.is_some() =>
            {
                Some(RulesIr {
                    minimum: i.minimum,
                    maximum: i.maximum,
                    int_enum: i.enum_values.clone(),
                    const_int: i.const_value,
                    ..RulesIr::default()
                })
            }
            _ => None,
        },
        Ty::Bool => match &schema.kind {
            SchemaKind::Boolean(b) if b.const_value.is_some() => Some(RulesIr {
                const_bool: b.const_value,
                ..RulesIr::default()
            }),
            _ => None,
        },
        Ty::Bytes => match &schema.kind {
            SchemaKind::Bytes(b) if b.min_length.is_some() || b.max_length.is_some() => {
                Some(RulesIr {
                    min_length: b.min_length,
                    max_length: b.max_length,
                    ..RulesIr::default()
                })
            }
            _ => None,
        },
        Ty::Blob => match &schema.kind {
            SchemaKind::Blob(b) if b.accept.is_some() || b.max_size.is_some() => Some(RulesIr {
                accept: b.accept.clone(),
                max_size: b.max_size,
                ..RulesIr::default()
            }),
            _ => None,
        },
        Ty::Unknown => match &schema.kind {
            SchemaKind::Unknown => Some(RulesIr {
                object: true,
                ..RulesIr::default()
            }),
            _ => None,
        },
        Ty::CidLink => None,
    }
}

/// The string constraints of `schema`, if it has any.
fn string(schema: &Schema) -> Option<RulesIr> {
    let SchemaKind::String(s) = &schema.kind else {
        return None;
    };
    if s.min_length.is_none()
        && s.max_length.is_none()
        && s.min_graphemes.is_none()
        && s.max_graphemes.is_none()
        && s.const_value.is_none()
    {
        return None;
    }
    Some(RulesIr {
        min_length: s.min_length,
        max_length: s.max_length,
        min_graphemes: s.min_graphemes,
        max_graphemes: s.max_graphemes,
        const_str: s.const_value.clone(),
        ..RulesIr::default()
    })
}
