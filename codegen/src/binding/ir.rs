//! Attaching the checked bindings to their endpoints in the IR.

use crate::catalog::Catalog;
use crate::diagnostics::Diagnostics;
use crate::ir::Ir;

/// Resolves the catalog's bindings and attaches each to its endpoint in the
/// IR. The bindings of endpoints `left_out` of generation are passed over.
pub fn attach(
    ir: &mut Ir,
    catalog: &Catalog,
    in_scope: &dyn Fn(&str) -> bool,
    left_out: &dyn Fn(&str) -> bool,
    diagnostics: &mut Diagnostics,
) {
    let mut bindings = super::resolve(catalog, in_scope, left_out, diagnostics);
    if bindings.is_empty() {
        return;
    }
    for (nsid, module) in ir.modules.iter_mut() {
        for item in &mut module.items {
            if let crate::ir::Item::Endpoint(endpoint) = item
                && let Some(binding) = bindings.remove(nsid)
            {
                endpoint.binding = Some(Box::new(binding));
            }
        }
    }
}
