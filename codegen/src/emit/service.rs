//! The server side of a group of endpoints: a `Service` trait with one
//! method per query, procedure and subscription, and a `register` function,
//! emitted in the group's module, behind a cargo feature when the options
//! name one.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::docs::{docs, ident, own_docs};
use crate::emit::{EmitConfig, Emitter};
use crate::ir::{Ir, Item};
use crate::names::Names;

/// The `Service` trait and `register` function of the endpoints directly
/// under NSID prefix `group`, to be emitted in the group's module. Empty when
/// the group has no endpoints.
pub(crate) fn service(ir: &Ir, names: &Names, config: &EmitConfig, group: &str) -> TokenStream {
    let Some(service_names) = names.services.get(group) else {
        return TokenStream::new();
    };
    let emitter = Emitter::new(ir, names, config, group);
    let rt = &emitter.rt;
    let mut methods = Vec::new();
    let mut registrations = Vec::new();
    for (nsid, method) in &service_names.methods {
        let (Some(path), Some(descriptor)) = (names.modules.get(nsid), names.endpoints.get(nsid))
        else {
            continue;
        };
        let Some(module) = path.last() else {
            continue;
        };
        // Only the endpoints emitted here: a group split between an extern
        // crate and this one serves its own endpoints.
        let Some(module_ir) = ir.modules.get(nsid) else {
            continue;
        };
        let Some((description, subscription)) =
            module_ir.items.iter().find_map(|item| match item {
                Item::Endpoint(e) => Some((e.description.as_deref(), false)),
                Item::Subscription(s) => Some((s.description.as_deref(), true)),
                _ => None,
            })
        else {
            continue;
        };
        let summary = description
            .and_then(|d| d.split("\n\n").next())
            .map(|d| format!("`{nsid}`: {d}"))
            .unwrap_or_else(|| format!("`{nsid}`."));
        let doc = docs(Some(&summary));
        let method = ident(method);
        let module = ident(module);
        let descriptor = ident(descriptor);
        let (request, result, add) = if subscription {
            (
                quote!(SubscriptionRequest),
                quote!(SubscriptionResult),
                quote!(add_subscription),
            )
        } else {
            (quote!(Request), quote!(HandlerResult), quote!(add))
        };
        methods.push(quote! {
            #doc
            fn #method(
                &self,
                request: #rt::#request<#module::#descriptor>,
            ) -> impl ::core::future::Future<Output = #rt::#result<#module::#descriptor>> + Send {
                #rt::not_implemented(request)
            }
        });
        registrations.push(quote! {
            registry.#add::<#module::#descriptor, _, _>(|service: ::std::sync::Arc<S>, request| async move {
                service.#method(request).await
            });
        });
    }
    if methods.is_empty() {
        return TokenStream::new();
    }
    let trait_name = ident(&service_names.service);
    let register = ident(&service_names.register);
    let cfg = config
        .server_feature
        .as_ref()
        .map(|feature| quote!(#[cfg(feature = #feature)]));
    let feature_note = config
        .server_feature
        .as_ref()
        .map(|f| format!("\n\nAvailable with the `{f}` feature."))
        .unwrap_or_default();
    let trait_doc = own_docs(&format!(
        "The `{group}` endpoints, as a server implements them: one method per endpoint, \
         each answering `MethodNotImplemented` unless implemented.\n\n\
         Mount an implementation with [`{}`].{feature_note}",
        service_names.register
    ));
    let register_doc = own_docs(&format!(
        "Mounts every `{group}` endpoint of a [`{}`] on `registry`.{feature_note}",
        service_names.service
    ));
    quote! {
        #trait_doc
        #cfg
        pub trait #trait_name: Send + Sync + 'static {
            #(#methods)*
        }

        #register_doc
        #cfg
        pub fn #register<S: #trait_name, R: #rt::Registry<S>>(registry: &mut R) {
            #(#registrations)*
        }
    }
}
