//! `Endpoint` and `Subscription`: the unit structs that describe an endpoint.
//! Its parts are the types of the same module named `Params`, `Input`,
//! `Output`, `Error` and `Message`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, LitStr};

use crate::attrs::Container;

pub fn endpoint(input: &DeriveInput) -> syn::Result<TokenStream> {
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
        }
    })
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

pub fn subscription(input: &DeriveInput) -> syn::Result<TokenStream> {
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
    Ok(quote! {
        impl #rt::Subscription for #name {
            const NSID: &'static str = #nsid;
            type Params = #params;
            type Message = #message;
            type Error = Error;
        }
    })
}
