//! `Endpoint` and `Subscription`: the unit structs that describe an endpoint.
//! Its parts are the types of the same module named `Params`, `Input`,
//! `Output`, `Error` and `Message`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, LitStr};

use crate::attrs::Container;

pub(crate) fn endpoint(input: &DeriveInput) -> syn::Result<TokenStream> {
    expand_endpoint(input, cfg!(feature = "json-bodies-in-bindings"))
}

/// The `Endpoint` impl; with `in_bindings`, JSON bodies' methods of its own.
fn expand_endpoint(input: &DeriveInput, in_bindings: bool) -> syn::Result<TokenStream> {
    let c = Container::parse(&input.attrs)?;
    let rt = c.rt();
    let name = &input.ident;
    let (nsid, kind) = match (&c.query, &c.procedure) {
        (Some(nsid), None) => (nsid, quote!(Query)),
        (None, Some(nsid)) => (nsid, quote!(Procedure)),
        _ => {
            return Err(syn::Error::new_spanned(
                name,
                "an endpoint is either #[lex(query = \"nsid\")] or #[lex(procedure = \"nsid\")]",
            ));
        }
    };
    let params = if c.params { quote!(Params) } else { quote!(()) };
    let (input_ty, input_encoding, input_codec) = body(c.input.as_ref(), quote!(Input), &rt);
    let (output_ty, output_encoding, output_codec) = body(c.output.as_ref(), quote!(Output), &rt);
    // With `json-bodies-in-bindings`, in optimized builds, JSON bodies get their
    // codec calls compiled here, in the bindings crate, not in each program
    // that calls the endpoint (see `Endpoint::decode_output`).
    let input_json = in_bindings && is_json(c.input.as_ref());
    let output_json = in_bindings && is_json(c.output.as_ref());
    let mut bodies = TokenStream::new();
    if output_json {
        bodies.extend(json_methods("output", &output_ty, &rt));
    }
    if input_json {
        bodies.extend(json_methods("input", &input_ty, &rt));
    }
    let binding = c
        .binding
        .as_ref()
        .map(|path| quote!(const BINDING: #rt::Binding = #path;));
    Ok(quote! {
        impl #rt::Endpoint for #name {
            const NSID: &'static str = #nsid;
            const KIND: #rt::EndpointKind = #rt::EndpointKind::#kind;
            const INPUT_ENCODING: ::core::option::Option<&'static str> = #input_encoding;
            const OUTPUT_ENCODING: ::core::option::Option<&'static str> = #output_encoding;
            type Params = #params;
            type Input = #input_ty;
            type Output = #output_ty;
            type Error = Error;
            type InputCodec = #input_codec;
            type OutputCodec = #output_codec;
            #binding
            #bodies
        }
    })
}

/// `decode_<side>` and `encode_<side>` of a JSON body of type `ty`, for
/// optimized builds.
fn json_methods(side: &str, ty: &TokenStream, rt: &TokenStream) -> TokenStream {
    let decode = quote::format_ident!("decode_{side}");
    let encode = quote::format_ident!("encode_{side}");
    quote! {
        #[cfg(not(debug_assertions))]
        #[inline(never)]
        fn #decode(
            content_type: ::core::option::Option<&str>,
            body: &[u8],
        ) -> ::core::result::Result<#ty, #rt::DecodeError> {
            <#rt::Json as #rt::Codec<#ty>>::decode(content_type, body)
        }
        #[cfg(not(debug_assertions))]
        #[inline(never)]
        fn #encode(
            value: &#ty,
            encoding: ::core::option::Option<&str>,
        ) -> ::core::result::Result<#rt::Payload, #rt::EncodeError> {
            <#rt::Json as #rt::Codec<#ty>>::encode(value, encoding)
        }
    }
}

/// Whether a body's encoding is JSON.
fn is_json(encoding: Option<&LitStr>) -> bool {
    encoding.is_some_and(|encoding| encoding.value() == "application/json")
}

/// The type, encoding and codec of a body.
fn body(
    encoding: Option<&LitStr>,
    ty: TokenStream,
    rt: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    match encoding {
        None => (
            quote!(()),
            quote!(::core::option::Option::None),
            quote!(#rt::NoBody),
        ),
        Some(encoding) => {
            let codec = if encoding.value() == "application/json" {
                quote!(#rt::Json)
            } else {
                quote!(#rt::Raw)
            };
            (ty, quote!(::core::option::Option::Some(#encoding)), codec)
        }
    }
}

pub(crate) fn subscription(input: &DeriveInput) -> syn::Result<TokenStream> {
    let c = Container::parse(&input.attrs)?;
    let rt = c.rt();
    let name = &input.ident;
    let Some(nsid) = &c.subscription else {
        return Err(syn::Error::new_spanned(
            name,
            "expected #[lex(subscription = \"nsid\")]",
        ));
    };
    let params = if c.params { quote!(Params) } else { quote!(()) };
    let message = if c.message {
        quote!(Message)
    } else {
        quote!(#rt::Unknown)
    };
    let subprotocol = match &c.subprotocol {
        None => None,
        Some(token) => {
            let Some(variant) = atlex_names::subprotocol_variant(&token.value()) else {
                let known: Vec<&str> = atlex_names::SUBPROTOCOLS.iter().map(|(t, _)| *t).collect();
                return Err(syn::Error::new_spanned(
                    token,
                    format!("unknown subprotocol; expected one of {}", known.join(", ")),
                ));
            };
            let variant = quote::format_ident!("{variant}");
            Some(quote!(const SUBPROTOCOL: #rt::Subprotocol = #rt::Subprotocol::#variant;))
        }
    };
    Ok(quote! {
        impl #rt::Subscription for #name {
            const NSID: &'static str = #nsid;
            type Params = #params;
            type Message = #message;
            type Error = Error;
            #subprotocol
        }
    })
}

#[cfg(test)]
mod tests {
    use super::expand_endpoint;

    /// The body methods an expansion overrides, each with the attributes
    /// before it.
    fn overrides(input: syn::DeriveInput, in_bindings: bool) -> Vec<String> {
        let expanded = expand_endpoint(&input, in_bindings).unwrap().to_string();
        let mut found = Vec::new();
        let mut rest = expanded.as_str();
        while let Some(at) = rest.find(" fn ") {
            let attrs = rest[..at]
                .rsplit([';', '}'])
                .next()
                .unwrap_or_default()
                .trim();
            let name = rest[at + 4..].split(' ').next().unwrap_or_default();
            found.push(format!("{name} {attrs}"));
            rest = &rest[at + 4..];
        }
        found
    }

    #[test]
    fn json_bodies_in_bindings_override_the_body_methods_of_optimized_builds() {
        let procedure: syn::DeriveInput = syn::parse_quote! {
            #[lex(procedure = "a.b.c", input = "application/json", output = "application/json")]
            struct C;
        };
        let cfg = "# [cfg (not (debug_assertions))] # [inline (never)]";
        assert!(overrides(procedure.clone(), false).is_empty());
        assert_eq!(
            overrides(procedure, true),
            [
                format!("decode_output {cfg}"),
                format!("encode_output {cfg}"),
                format!("decode_input {cfg}"),
                format!("encode_input {cfg}"),
            ]
        );
        // Bodies of other encodings, and no bodies, keep the trait's own
        // methods: their codecs are not generic.
        let upload = syn::parse_quote! {
            #[lex(procedure = "a.b.c", input = "*/*", output = "application/json")]
            struct C;
        };
        assert_eq!(
            overrides(upload, true),
            [
                format!("decode_output {cfg}"),
                format!("encode_output {cfg}")
            ]
        );
        let query = syn::parse_quote! {
            #[lex(query = "a.b.c")]
            struct C;
        };
        assert!(overrides(query, true).is_empty());
    }
}
