//! The record dispatch, emitted at the root of the generated tree: one enum
//! of every record type, chosen by `$type`, for code that meets records of
//! any type (a repository's records, the ops of a firehose commit).

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::docs::{docs, ident, own_docs};
use crate::emit::{EmitConfig, Emitter};
use crate::ir::Ir;
use crate::names::{Names, RECORD_DISPATCH, RECORD_DISPATCH_UNKNOWN};

/// The dispatch over `records` (NSIDs, each with the cargo feature its
/// namespace needs, if any), with a case that keeps a record of any other
/// type as data. Empty when there are no records.
pub(crate) fn record_dispatch(
    ir: &Ir,
    names: &Names,
    config: &EmitConfig,
    records: &[(&str, Option<String>)],
) -> TokenStream {
    let emitter = Emitter::new(ir, names, config, "");
    let rt = &emitter.rt;
    let variants: Vec<TokenStream> = records
        .iter()
        .filter_map(|(nsid, feature)| {
            let (id, variant) = names.records.get(*nsid)?;
            let cfg = feature
                .as_ref()
                .map(|feature| quote!(#[cfg(feature = #feature)]));
            let variant = ident(variant);
            let path = emitter.type_path(*id);
            let doc = docs(Some(&format!("`{nsid}`")));
            Some(quote! {
                #doc
                #cfg
                #[lex(#nsid)]
                #variant(::std::boxed::Box<#path>),
            })
        })
        .collect();
    if variants.is_empty() {
        return TokenStream::new();
    }
    let name = ident(RECORD_DISPATCH);
    let unknown = ident(RECORD_DISPATCH_UNKNOWN);
    let doc = own_docs(
        "A record of any type these bindings have, chosen by its `$type` (a \
         repository's records, a firehose commit's ops); a record of any other \
         type is kept as data in the unknown case.",
    );
    let attr = emitter.container_attr(Vec::new());
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq, Eq, #rt::Union)]
        #attr
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            /// A record of a type these bindings do not have, kept as it was received.
            #[lex(unknown)]
            #unknown(#rt::Unknown),
        }
    }
}
