//! The `Binding` value of an endpoint as generated code writes it, and its
//! one-line description for docs.

use atlex::binding::{BearerUse, BodyFormat, HttpMethod};
use proc_macro2::TokenStream;
use quote::quote;

use super::{EndpointBinding, EnvelopeSpec};

/// The `Binding` value of an endpoint, as generated code writes it: the
/// runtime's `const fn` builders, from `rt` (`::atlex::rt`).
pub fn tokens(binding: &EndpointBinding, rt: &TokenStream) -> TokenStream {
    let method = match binding.method {
        HttpMethod::Get => quote!(Get),
        HttpMethod::Post => quote!(Post),
        HttpMethod::Put => quote!(Put),
        HttpMethod::Patch => quote!(Patch),
        HttpMethod::Delete => quote!(Delete),
    };
    let mut out = match &binding.path {
        Some(path) => quote!(#rt::Binding::http(#rt::HttpMethod::#method, #path)),
        None => {
            let (kind, xrpc_method) = if binding.is_query {
                (quote!(Query), HttpMethod::Get)
            } else {
                (quote!(Procedure), HttpMethod::Post)
            };
            let mut out = quote!(#rt::Binding::xrpc(#rt::EndpointKind::#kind));
            if binding.method != xrpc_method {
                out.extend(quote!(.with_method(#rt::HttpMethod::#method)));
            }
            out
        }
    };
    if let Some(url) = &binding.base_url {
        out.extend(quote!(.with_base_url(#url)));
    }
    if binding.body != [BodyFormat::Encoding] {
        let formats = binding.body.iter().map(|f| match f {
            BodyFormat::Encoding => quote!(#rt::BodyFormat::Encoding),
            BodyFormat::Json => quote!(#rt::BodyFormat::Json),
            BodyFormat::Form => quote!(#rt::BodyFormat::Form),
        });
        out.extend(quote!(.with_body(&[#(#formats),*])));
    }
    let bearer = match binding.bearer {
        BearerUse::Never => quote!(#rt::BearerUse::Never),
        BearerUse::Optional => quote!(#rt::BearerUse::Optional),
        BearerUse::Required => quote!(#rt::BearerUse::Required),
    };
    match (&binding.api_key, binding.bearer) {
        (None, BearerUse::Optional) => {}
        (None, _) => out.extend(quote!(.with_auth(#rt::Auth::bearer(#bearer)))),
        (Some(header), BearerUse::Never) => {
            out.extend(quote!(.with_auth(#rt::Auth::api_key(#header))))
        }
        (Some(header), _) => {
            out.extend(quote!(.with_auth(#rt::Auth::api_key(#header).with_bearer(#bearer))));
        }
    }
    if binding.envelope != EnvelopeSpec::xrpc() {
        let envelope = envelope_tokens(&binding.envelope, rt);
        out.extend(quote!(.with_envelope(#envelope)));
    }
    let default_check = binding.path.is_some();
    if binding.check_request != default_check {
        let check = binding.check_request;
        out.extend(quote!(.with_check_request(#check)));
    }
    out
}

fn envelope_tokens(envelope: &EnvelopeSpec, rt: &TokenStream) -> TokenStream {
    let name = &envelope.error_name;
    let mut out = quote!(#rt::Envelope::new(#name));
    if let Some(flag) = &envelope.ok_flag {
        out.extend(quote!(.with_ok_flag(#flag)));
    }
    if !envelope.also_ok.is_empty() {
        let pointers = &envelope.also_ok;
        out.extend(quote!(.with_also_ok(&[#(#pointers),*])));
    }
    if let Some(message) = &envelope.error_message {
        out.extend(quote!(.with_error_message(#message)));
    }
    let status = |n: u16| proc_macro2::Literal::u16_unsuffixed(n);
    if let Some(code) = envelope.error_status {
        let code = status(code);
        out.extend(quote!(.with_error_status(#code)));
    }
    if !envelope.error_statuses.is_empty() {
        let pairs = envelope.error_statuses.iter().map(|(name, code)| {
            let code = status(*code);
            quote!((#name, #code))
        });
        out.extend(quote!(.with_error_statuses(&[#(#pairs),*])));
    }
    if !envelope.status_errors.is_empty() {
        let pairs = envelope.status_errors.iter().map(|(code, name)| {
            let code = status(*code);
            quote!((#code, #name))
        });
        out.extend(quote!(.with_status_errors(&[#(#pairs),*])));
    }
    if let Some(names) = &envelope.common_names {
        let pairs = names.iter().map(|(common, sent)| quote!((#common, #sent)));
        out.extend(quote!(.with_common_names(&[#(#pairs),*])));
    }
    out
}

/// A one-line description of a binding for docs: `POST /v1/chats/{chatId}/leave`.
pub fn describe(binding: &EndpointBinding) -> String {
    match &binding.path {
        Some(path) => format!("{} {path}", binding.method),
        None => format!("{} /xrpc/{}", binding.method, binding.nsid),
    }
}
