//! Facts about endpoints that emission needs and the lexicon only implies:
//! which queries page ([`PaginationIr`]), and which queries, procedures and
//! subscriptions a server implements together ([`Ir::groups`]).

use crate::ir::{BodyTy, EndpointIr, FieldIr, Ir, Item, PaginationIr, Ty, TypeId, TypeKind};

/// Fills in [`EndpointIr::pagination`] and [`Ir::groups`].
pub(super) fn assign(ir: &mut Ir) {
    let mut found = Vec::new();
    // Every query, procedure and subscription, in NSID order.
    let mut served = Vec::new();
    for (nsid, module) in &ir.modules {
        for (k, item) in module.items.iter().enumerate() {
            match item {
                Item::Endpoint(endpoint) => {
                    found.push((nsid.clone(), k, pagination(ir, endpoint)));
                    served.push(nsid.clone());
                }
                Item::Subscription(_) => served.push(nsid.clone()),
                _ => {}
            }
        }
    }
    for (nsid, k, pagination) in found {
        if let Some(Item::Endpoint(endpoint)) =
            ir.modules.get_mut(&nsid).and_then(|m| m.items.get_mut(k))
        {
            endpoint.pagination = pagination;
        }
    }
    for nsid in served {
        if let Some((group, _)) = nsid.rsplit_once('.') {
            let members = ir.groups.entry(group.to_owned()).or_default();
            if !members.contains(&nsid) {
                members.push(nsid);
            }
        }
    }
}

/// The struct a type is, following aliases.
fn struct_of(ir: &Ir, id: TypeId) -> Option<(TypeId, &[FieldIr])> {
    let start = Ty::Named(id);
    let target = match ir.resolve_alias(&start) {
        Ty::Named(target) => *target,
        _ => return None,
    };
    match &ir.get(target).kind {
        TypeKind::Struct(s) => Some((target, &s.fields)),
        _ => None,
    }
}

/// A query pages when it has an optional string `cursor` parameter and its
/// output a string `cursor`.
fn pagination(ir: &Ir, endpoint: &EndpointIr) -> Option<PaginationIr> {
    let is_cursor = |f: &FieldIr| f.name == "cursor" && f.ty == Ty::String(None) && !f.nullable;
    let (params, param_fields) = struct_of(ir, endpoint.params?)?;
    let param_cursor = param_fields
        .iter()
        .position(|f| is_cursor(f) && !f.required)?;
    let BodyTy::Json(output) = endpoint.output.as_ref()?.body else {
        return None;
    };
    let (output, output_fields) = struct_of(ir, output)?;
    let output_cursor = output_fields.iter().position(is_cursor)?;
    let lists: Vec<(usize, &FieldIr)> = output_fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.ty, Ty::Array(_)) && !f.nullable)
        .collect();
    let items = match lists.as_slice() {
        [(j, list)] => match &list.ty {
            Ty::Array(item) => Some((*j, (**item).clone(), list.required)),
            _ => None,
        },
        _ => None,
    };
    Some(PaginationIr {
        params: (params, param_cursor),
        output: (output, output_cursor),
        cursor_required: output_fields[output_cursor].required,
        items,
    })
}
