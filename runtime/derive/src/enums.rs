//! `Union`, `StringEnum` and `EndpointError`: enums.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitStr, Type, Variant};

use crate::attrs::{Container, VariantAttrs};
use crate::object::{generic_of, map_param};

fn variants(input: &DeriveInput) -> syn::Result<Vec<(&Variant, VariantAttrs)>> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "expected an enum"));
    };
    data.variants
        .iter()
        .map(|v| Ok((v, VariantAttrs::parse(&v.attrs)?)))
        .collect()
}

/// The type of a one-field tuple variant.
fn payload(variant: &Variant) -> syn::Result<&Type> {
    match &variant.fields {
        Fields::Unnamed(f) if f.unnamed.len() == 1 => Ok(&f.unnamed[0].ty),
        _ => Err(syn::Error::new_spanned(
            variant,
            "expected one unnamed field",
        )),
    }
}

/// The `#[cfg(...)]` attributes of a variant, repeated on everything derived
/// for it.
fn cfgs(variant: &Variant) -> Vec<&Attribute> {
    variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .collect()
}

/// Whether a member with these `#[cfg(...)]`s is compiled in, as an
/// expression.
fn enabled(cfgs: &[&Attribute]) -> TokenStream {
    let tests = cfgs.iter().filter_map(|a| match &a.meta {
        syn::Meta::List(list) => {
            let predicate = &list.tokens;
            Some(quote!(::core::cfg!(#predicate)))
        }
        _ => None,
    });
    quote!(true #(&& #tests)*)
}

/// A union member: its variant, `$type`, object type and `cfg`s.
struct UnionMember<'a> {
    variant: &'a Ident,
    type_name: LitStr,
    ty: &'a Type,
    cfg: Vec<&'a Attribute>,
}

pub(crate) fn union(input: &DeriveInput) -> syn::Result<TokenStream> {
    let container = Container::parse(&input.attrs)?;
    let rt = container.rt();
    let serde = quote!(#rt::serde);
    let name = &input.ident;
    let mut members: Vec<UnionMember<'_>> = Vec::new();
    let mut unknown: Option<&Ident> = None;
    for (variant, attrs) in variants(input)? {
        if attrs.unknown {
            unknown = Some(&variant.ident);
            continue;
        }
        let Some(type_name) = attrs.value else {
            return Err(syn::Error::new_spanned(
                variant,
                "a member needs its `$type`: #[lex(\"nsid#def\")]",
            ));
        };
        let ty = payload(variant)?;
        let Some(inner) = generic_of(ty, "Box") else {
            return Err(syn::Error::new_spanned(
                ty,
                "a member holds a `Box` of its object",
            ));
        };
        members.push(UnionMember {
            variant: &variant.ident,
            type_name,
            ty: inner,
            cfg: cfgs(variant),
        });
    }
    let types = members.iter().map(|m| {
        let (cfg, t) = (&m.cfg, &m.type_name);
        quote!(#(#cfg)* #t)
    });
    let decode = if members.is_empty() {
        quote! {
            let _ = (index, member);
            ::core::result::Result::Err(#serde::de::Error::custom("this union has no members"))
        }
    } else if members.iter().any(|m| !m.cfg.is_empty()) {
        // Members compiled out shift the indices: member k's index is the
        // number of members before it that are compiled in.
        let mut consts = Vec::new();
        let mut arms = Vec::new();
        for (k, m) in members.iter().enumerate() {
            let index = quote::format_ident!("MEMBER_{}", k);
            let value = match k.checked_sub(1) {
                None => quote!(0),
                Some(j) => {
                    let before = quote::format_ident!("MEMBER_{}", j);
                    let on = enabled(&members[j].cfg);
                    quote!(#before + (#on) as usize)
                }
            };
            consts.push(quote!(const #index: usize = #value;));
            let (cfg, v) = (&m.cfg, m.variant);
            arms.push(quote!(#(#cfg)* #index => member.decode().map(#name::#v),));
        }
        quote! {
            #(#consts)*
            match index {
                #(#arms)*
                _ => ::core::result::Result::Err(#serde::de::Error::custom("no such member")),
            }
        }
    } else {
        let last = members.len() - 1;
        let arms = members.iter().enumerate().map(|(i, m)| {
            let v = m.variant;
            if i == last {
                quote!(_ => member.decode().map(#name::#v),)
            } else {
                quote!(#i => member.decode().map(#name::#v),)
            }
        });
        quote!(match index { #(#arms)* })
    };
    let unknown_fn = match unknown {
        Some(u) => quote!(::core::result::Result::Ok(Self::#u(data))),
        None => quote!(::core::result::Result::Err(data)),
    };
    let serialize_unknown = unknown
        .map(|u| quote!(Self::#u(value) => #serde::Serialize::serialize(value, serializer),));
    let serialize_arms = members.iter().map(|m| {
        let (cfg, t, v) = (&m.cfg, &m.type_name, m.variant);
        quote!(#(#cfg)* Self::#v(value) => #rt::serialize_member(#t, &**value, serializer),)
    });
    let serialize_body = if members.is_empty() && unknown.is_none() {
        quote!(match *self {})
    } else {
        quote! {
            match self {
                #(#serialize_arms)*
                #serialize_unknown
            }
        }
    };
    let validate = if members.is_empty() {
        quote!(impl #rt::Validate for #name {})
    } else {
        let rest = unknown.map(|_| quote!(_ => {}));
        let arms = members.iter().map(|m| {
            let (cfg, v) = (&m.cfg, m.variant);
            quote!(#(#cfg)* Self::#v(value) => #rt::Validate::check(&**value, v),)
        });
        quote! {
            impl #rt::Validate for #name {
                fn check(&self, v: &mut #rt::Validator) {
                    match self {
                        #(#arms)*
                        #rest
                    }
                }
            }
        }
    };
    let froms = members.iter().map(|m| {
        let (cfg, variant, ty) = (&m.cfg, m.variant, m.ty);
        quote! {
            #(#cfg)*
            impl ::core::convert::From<#ty> for #name {
                #[inline]
                fn from(member: #ty) -> Self {
                    Self::#variant(::std::boxed::Box::new(member))
                }
            }
        }
    });
    let map = map_param(name);
    let open = unknown.is_some();
    Ok(quote! {
        impl #rt::Union for #name {
            const MEMBERS: &'static [&'static str] = &[#(#types),*];

            #[inline]
            fn decode_member<'de, A: #serde::de::MapAccess<'de>>(
                index: usize,
                member: #rt::Member<'de, A>,
            ) -> ::core::result::Result<Self, A::Error> {
                <#rt::Decoders as #rt::DecodeUnion<Self>>::decode_member(index, member)
            }

            fn unknown(data: #rt::Unknown) -> ::core::result::Result<Self, #rt::Unknown> {
                #unknown_fn
            }
        }

        // On the runtime's `Decoders`, as objects' decoders are.
        impl #rt::DecodeUnion<#name> for #rt::Decoders {
            fn decode_member<'de, #map: #serde::de::MapAccess<'de>>(
                index: usize,
                member: #rt::Member<'de, #map>,
            ) -> ::core::result::Result<#name, #map::Error> {
                #decode
            }
        }

        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                #rt::deserialize_union(deserializer)
            }
        }

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                #serialize_body
            }
        }

        impl #rt::Typed for #name {
            const TYPES: &'static [&'static str] = <Self as #rt::Union>::MEMBERS;
            const OPEN: bool = #open;
        }

        #validate
        #(#froms)*
    })
}

pub(crate) fn string_enum(input: &DeriveInput) -> syn::Result<TokenStream> {
    let container = Container::parse(&input.attrs)?;
    let rt = container.rt();
    let serde = quote!(#rt::serde);
    let name = &input.ident;
    let mut values: Vec<(&Ident, LitStr)> = Vec::new();
    let mut other: Option<&Ident> = None;
    for (variant, attrs) in variants(input)? {
        if attrs.other {
            other = Some(&variant.ident);
            continue;
        }
        let Some(value) = attrs.value else {
            return Err(syn::Error::new_spanned(
                variant,
                "a value needs its text: #[lex(\"value\")]",
            ));
        };
        values.push((&variant.ident, value));
    }
    let idents: Vec<&Ident> = values.iter().map(|(v, _)| *v).collect();
    let texts: Vec<&LitStr> = values.iter().map(|(_, t)| t).collect();
    let values_doc = if other.is_some() {
        " The values the lexicon lists; others are allowed."
    } else {
        " The only values allowed."
    };
    let other_str = other.map(|o| quote!(Self::#o(value) => value,));
    let as_str_body = if values.is_empty() && other.is_none() {
        quote!(match *self {})
    } else {
        quote!(match self { #(Self::#idents => #texts,)* #other_str })
    };
    let parsing = match other {
        Some(o) => quote! {
            impl ::core::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    match value {
                        #(#texts => Self::#idents,)*
                        _ => Self::#o(::std::borrow::ToOwned::to_owned(value)),
                    }
                }
            }

            impl ::core::str::FromStr for #name {
                type Err = ::core::convert::Infallible;

                fn from_str(value: &str) -> ::core::result::Result<Self, Self::Err> {
                    ::core::result::Result::Ok(Self::from(value))
                }
            }

            impl<'de> #serde::Deserialize<'de> for #name {
                fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    #rt::deserialize_str(deserializer, |value| ::core::result::Result::Ok(Self::from(value)))
                }
            }
        },
        None => quote! {
            impl ::core::str::FromStr for #name {
                type Err = #rt::UnknownValue;

                fn from_str(value: &str) -> ::core::result::Result<Self, Self::Err> {
                    match value {
                        #(#texts => ::core::result::Result::Ok(Self::#idents),)*
                        _ => ::core::result::Result::Err(#rt::UnknownValue {
                            value: ::std::borrow::ToOwned::to_owned(value),
                            expected: Self::VALUES,
                        }),
                    }
                }
            }

            impl<'de> #serde::Deserialize<'de> for #name {
                fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    #rt::deserialize_str(deserializer, |value| {
                        value.parse::<Self>().map_err(|e| ::std::string::ToString::to_string(&e))
                    })
                }
            }
        },
    };
    Ok(quote! {
        impl #name {
            #[doc = #values_doc]
            pub const VALUES: &'static [&'static str] = &[#(#texts),*];

            /// The value as it goes over the wire.
            pub fn as_str(&self) -> &str {
                #as_str_body
            }
        }

        impl ::core::fmt::Display for #name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl #rt::Validate for #name {
            fn check_rules(&self, v: &mut #rt::Validator, rules: &#rt::Rules) {
                #rt::Validate::check_rules(self.as_str(), v, rules);
            }
        }

        #parsing
    })
}

pub(crate) fn endpoint_error(input: &DeriveInput) -> syn::Result<TokenStream> {
    let container = Container::parse(&input.attrs)?;
    let rt = container.rt();
    let serde = quote!(#rt::serde);
    let name = &input.ident;
    let mut declared: Vec<(&Ident, LitStr)> = Vec::new();
    let mut unknown: Option<&Ident> = None;
    for (variant, attrs) in variants(input)? {
        if attrs.unknown {
            unknown = Some(&variant.ident);
            continue;
        }
        let wire = attrs
            .rename
            .unwrap_or_else(|| LitStr::new(&variant.ident.to_string(), variant.ident.span()));
        declared.push((&variant.ident, wire));
    }
    let Some(unknown) = unknown else {
        return Err(syn::Error::new_spanned(
            name,
            "an error enum needs an #[lex(unknown)] variant",
        ));
    };
    let idents: Vec<&Ident> = declared.iter().map(|(v, _)| *v).collect();
    let wires: Vec<&LitStr> = declared.iter().map(|(_, w)| w).collect();
    let message_arm = if idents.is_empty() {
        TokenStream::new()
    } else {
        quote!(#(Self::#idents { message })|* => message.as_deref(),)
    };
    Ok(quote! {
        impl #rt::EndpointError for #name {
            const DECLARED: &'static [&'static str] = &[#(#wires),*];

            fn from_parts(
                error: ::std::string::String,
                message: ::core::option::Option<::std::string::String>,
            ) -> Self {
                match error.as_str() {
                    #(#wires => Self::#idents { message },)*
                    _ => Self::#unknown(#rt::UnknownError { error, message }),
                }
            }

            fn name(&self) -> &str {
                match self {
                    #(Self::#idents { .. } => #wires,)*
                    Self::#unknown(error) => &error.error,
                }
            }

            fn message(&self) -> ::core::option::Option<&str> {
                match self {
                    #message_arm
                    Self::#unknown(error) => error.message.as_deref(),
                }
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #rt::fmt_error(#rt::EndpointError::name(self), #rt::EndpointError::message(self), f)
            }
        }

        impl ::std::error::Error for #name {}

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                #rt::serialize_error(self, serializer)
            }
        }

        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                #rt::deserialize_error(deserializer)
            }
        }
    })
}
