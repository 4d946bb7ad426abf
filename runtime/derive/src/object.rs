//! `Object` and `Params`: structs of named fields.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, LitStr, PathArguments, Type};

use crate::attrs::{Container, Default, FieldAttrs, docs, wire_name};

/// How a field travels.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    /// Must be present, not null (`T`).
    Required,
    /// Must be present, may be null (`Option<T>` with `required`).
    RequiredNullable,
    /// May be absent (`Option<T>`).
    Optional,
    /// May be absent or null (`Option<Option<T>>`).
    OptionalNullable,
}

struct Field<'a> {
    ident: &'a Ident,
    ty: &'a Type,
    json: LitStr,
    presence: Presence,
    attrs: FieldAttrs,
    docs: Vec<&'a syn::Attribute>,
}

impl Field<'_> {
    /// The type a setter or constructor takes (what the `Option`s hold).
    fn value_type(&self) -> &Type {
        match self.presence {
            Presence::Required | Presence::RequiredNullable => self.ty,
            Presence::Optional | Presence::OptionalNullable => {
                option_inner(self.ty).unwrap_or(self.ty)
            }
        }
    }
}

fn fields(input: &DeriveInput) -> syn::Result<(Vec<Field<'_>>, Option<&Ident>)> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "expected a struct"));
    };
    let named = match &data.fields {
        Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "expected named fields",
            ));
        }
    };
    let mut out = Vec::new();
    let mut unknown = None;
    for field in named {
        let Some(ident) = &field.ident else { continue };
        let attrs = FieldAttrs::parse(&field.attrs)?;
        if attrs.unknown {
            unknown = Some(ident);
            continue;
        }
        let presence = match option_inner(&field.ty) {
            None => Presence::Required,
            Some(inner) if option_inner(inner).is_some() => Presence::OptionalNullable,
            Some(_) if attrs.required => Presence::RequiredNullable,
            Some(_) => Presence::Optional,
        };
        let json = attrs
            .rename
            .clone()
            .unwrap_or_else(|| LitStr::new(&wire_name(ident), ident.span()));
        out.push(Field {
            ident,
            ty: &field.ty,
            json,
            presence,
            docs: docs(&field.attrs),
            attrs,
        });
    }
    Ok((out, unknown))
}

/// `T` of a type written `Option<T>` (by any path ending in `Option`).
fn option_inner(ty: &Type) -> Option<&Type> {
    generic_of(ty, "Option")
}

/// `T` of a type written `Name<T>` (by any path ending in `Name`).
pub(crate) fn generic_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

/// Whether a constructor or setter takes `impl Into<T>` for a field of type
/// `T`: strings (`&str`), generated types (a union from its member) and
/// boxes; not the runtime's types, integers, booleans or lists, whose values
/// are often written `"…".parse()?` or collected, which `impl Into` would
/// leave without a type.
fn takes_into(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    if path.qself.is_some() {
        return false;
    }
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    if last.ident == "String" || last.ident == "Box" {
        return true;
    }
    let primitive = ["i64", "bool", "Vec"].iter().any(|p| last.ident == p);
    let runtime = path.path.segments.iter().any(|s| s.ident == "rt");
    !primitive && !runtime
}

/// The parameter type of a constructor or setter for values of `ty`.
fn param(ty: &Type) -> TokenStream {
    if takes_into(ty) {
        quote!(impl ::core::convert::Into<#ty>)
    } else {
        quote!(#ty)
    }
}

/// The expression storing parameter `ident` of type `ty`.
fn stored(ident: &Ident, ty: &Type) -> TokenStream {
    if takes_into(ty) {
        quote!(#ident.into())
    } else {
        quote!(#ident)
    }
}

fn is_string(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "String"))
}

/// The name of the map type parameter of a decoder implemented on the
/// runtime's `Decoders`, where the type is named by its name rather than
/// `Self`: one the type's own name cannot shadow.
pub(crate) fn map_param(name: &Ident) -> Ident {
    if name == "A" {
        format_ident!("B")
    } else {
        format_ident!("A")
    }
}

pub(crate) fn object(input: &DeriveInput) -> syn::Result<TokenStream> {
    let container = Container::parse(&input.attrs)?;
    let rt = container.rt();
    let serde = quote!(#rt::serde);
    let name = &input.ident;
    let name_text = name.to_string();
    let (fields, unknown) = fields(input)?;

    let names = fields.iter().map(|f| &f.json);
    let field_match = if fields.is_empty() {
        quote!(let _ = key; ::core::option::Option::None)
    } else {
        let keys = fields.iter().map(|f| &f.json);
        let indices = 0..fields.len();
        quote! {
            match key {
                #(#keys => ::core::option::Option::Some(#indices),)*
                _ => ::core::option::Option::None,
            }
        }
    };
    // Decoding keeps one tuple of slots, reads each field with one call and
    // has a single `?` in its loop and a single error exit at the end, so
    // the code per type (instantiated again for every input format) carries
    // one drop of the slots rather than one per field.
    let slots: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("f{i}")).collect();
    let indices: Vec<syn::Index> = (0..fields.len()).map(syn::Index::from).collect();
    let arms = fields
        .iter()
        .zip(&indices)
        .enumerate()
        .map(|(i, (f, slot))| match f.presence {
            Presence::Optional => quote!(#i => fields.set_optional(&mut slots.#slot),),
            _ => quote!(#i => fields.set(&mut slots.#slot),),
        });
    let patterns = fields.iter().zip(&slots).map(|(f, slot)| match f.presence {
        Presence::Required | Presence::RequiredNullable => {
            quote!(::core::option::Option::Some(#slot))
        }
        Presence::Optional | Presence::OptionalNullable => quote!(#slot),
    });
    let builds = fields.iter().zip(&slots).map(|(f, slot)| {
        let ident = f.ident;
        quote!(#ident: #slot,)
    });
    let missing = fields
        .iter()
        .zip(&indices)
        .enumerate()
        .filter(|(_, (f, _))| matches!(f.presence, Presence::Required | Presence::RequiredNullable))
        .map(|(i, (_, slot))| quote!((#i, slots.#slot.is_none())))
        .collect::<Vec<_>>();
    let unknown_build = unknown.map(|u| quote!(#u: fields.unknown(),));
    // A `null` kept where the lexicon allows a value or nothing (an object
    // that keeps what it does not model) is written while the field is unset.
    let kept_null = |i: usize| {
        unknown
            .filter(|_| i < 128)
            .map(|u| quote!(self.#u.kept_null(#i)))
    };
    let encodes = fields.iter().enumerate().map(|(i, f)| {
        let (ident, json) = (f.ident, &f.json);
        match (f.presence, kept_null(i)) {
            (Presence::Required | Presence::RequiredNullable, _) => {
                quote!(#serde::ser::SerializeMap::serialize_entry(map, #json, &self.#ident)?;)
            }
            (Presence::Optional, Some(null)) => quote! {
                if let ::core::option::Option::Some(value) = &self.#ident {
                    #serde::ser::SerializeMap::serialize_entry(map, #json, value)?;
                } else if #null {
                    #serde::ser::SerializeMap::serialize_entry(map, #json, &())?;
                }
            },
            (Presence::Optional | Presence::OptionalNullable, _) => quote! {
                if let ::core::option::Option::Some(value) = &self.#ident {
                    #serde::ser::SerializeMap::serialize_entry(map, #json, value)?;
                }
            },
        }
    });
    let unknown_encode = unknown.map(|u| quote!(#rt::encode_unknown::<Self, S>(&self.#u, map)?;));
    let always = fields
        .iter()
        .filter(|f| matches!(f.presence, Presence::Required | Presence::RequiredNullable))
        .count();
    let counted = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.presence, Presence::Optional | Presence::OptionalNullable))
        .map(|(i, f)| {
            let ident = f.ident;
            match (f.presence, kept_null(i)) {
                (Presence::Optional, Some(null)) => {
                    quote!(+ usize::from(self.#ident.is_some() || #null))
                }
                _ => quote!(+ usize::from(self.#ident.is_some())),
            }
        });
    let unknown_len = unknown.map(|u| quote!(+ #rt::unknown_len(&self.#u, Self::field)));
    let kept_arg = match unknown {
        Some(u) => quote!(::core::option::Option::Some(&self.#u)),
        None => quote!(::core::option::Option::None),
    };
    let type_name = container.record.as_ref().or(container.type_name.as_ref());
    let keeps_unknown = unknown.map(|_| {
        let own_type = type_name.map(|t| {
            quote!(const TYPE_NAME: ::core::option::Option<&'static str> = ::core::option::Option::Some(#t);)
        });
        quote! {
            #own_type
            const KEEPS_UNKNOWN: bool = true;
        }
    });

    let record_type = container
        .record
        .as_ref()
        .map(|nsid| quote!(const RECORD_TYPE: ::core::option::Option<&'static str> = ::core::option::Option::Some(#nsid);));
    let lex_type = type_name.map(|t| {
        quote! {
            impl #rt::LexType for #name {
                const TYPE: &'static str = #t;
            }
        }
    });
    let record = match &container.record {
        Some(nsid) => {
            let key = record_key(container.key.as_ref(), &rt)?;
            quote! {
                impl #rt::Record for #name {
                    const NSID: &'static str = #nsid;
                    const KEY: #rt::RecordKeyKind = #key;
                }
            }
        }
        None => TokenStream::new(),
    };
    let validate = validate(name, &fields, &rt);
    let methods = methods(input, &container, &fields, unknown);
    let body = if fields.is_empty() {
        quote! {
            while fields.next_field()?.is_some() {}
            ::core::result::Result::Ok(#name { #unknown_build })
        }
    } else {
        let nones = fields.iter().map(|_| quote!(::core::option::Option::None));
        let finish = if missing.is_empty() {
            quote! {
                let (#(#patterns,)*) = slots;
                ::core::result::Result::Ok(#name { #(#builds)* #unknown_build })
            }
        } else {
            quote! {
                match slots {
                    (#(#patterns,)*) => ::core::result::Result::Ok(#name { #(#builds)* #unknown_build }),
                    slots => ::core::result::Result::Err(fields.missing(&[#(#missing),*])),
                }
            }
        };
        quote! {
            let mut slots = (#(#nones,)*);
            while let ::core::option::Option::Some(index) = fields.next_field()? {
                match index {
                    #(#arms)*
                    _ => ::core::result::Result::Ok(()),
                }?;
            }
            #finish
        }
    };
    let map_arg = if fields.is_empty() && unknown.is_none() {
        quote!(_map)
    } else {
        quote!(map)
    };
    let map = map_param(name);
    Ok(quote! {
        impl #rt::Object for #name {
            const NAME: &'static str = #name_text;
            const FIELDS: &'static [&'static str] = &[#(#names),*];
            #record_type
            #keeps_unknown

            fn field(key: &str) -> ::core::option::Option<usize> {
                #field_match
            }

            #[inline]
            fn decode<'de, A: #serde::de::MapAccess<'de>>(
                fields: #rt::Fields<'de, A>,
            ) -> ::core::result::Result<Self, A::Error> {
                <#rt::Decoders as #rt::DecodeObject<Self>>::decode(fields)
            }

            fn encode<S: #serde::ser::SerializeMap>(&self, #map_arg: &mut S) -> ::core::result::Result<(), S::Error> {
                #(#encodes)*
                #unknown_encode
                ::core::result::Result::Ok(())
            }

            fn entries(&self) -> usize {
                #always #(#counted)* #unknown_len
            }
        }

        // The decoder is implemented on the runtime's `Decoders`, not on the
        // type: a program's build then keeps every type's decoder in one
        // codegen unit (`Decoders` says why).
        impl #rt::DecodeObject<#name> for #rt::Decoders {
            fn decode<'de, #map: #serde::de::MapAccess<'de>>(
                mut fields: #rt::Fields<'de, #map>,
            ) -> ::core::result::Result<#name, #map::Error> {
                #body
            }
        }

        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                #rt::deserialize_object(deserializer)
            }
        }

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                #rt::serialize_object(self, #kept_arg, serializer)
            }
        }

        #lex_type
        #record
        #validate
        #methods
    })
}

fn record_key(key: Option<&LitStr>, rt: &TokenStream) -> syn::Result<TokenStream> {
    let Some(key) = key else {
        return Ok(quote!(#rt::RecordKeyKind::Any));
    };
    let text = key.value();
    Ok(match text.as_str() {
        "tid" => quote!(#rt::RecordKeyKind::Tid),
        "nsid" => quote!(#rt::RecordKeyKind::Nsid),
        other => match other.strip_prefix("literal:") {
            Some(literal) => quote!(#rt::RecordKeyKind::Literal(#literal)),
            None => quote!(#rt::RecordKeyKind::Any),
        },
    })
}

/// `impl Validate`: the checks the fields' attributes ask for, or the
/// default (nothing to check).
fn validate(name: &Ident, fields: &[Field<'_>], rt: &TokenStream) -> TokenStream {
    let mut consts = Vec::new();
    let mut checks = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let Some(check) = &f.attrs.check else {
            continue;
        };
        let (ident, json) = (f.ident, &f.json);
        match check {
            None => checks.push(quote! {
                v.check_field(#json, &self.#ident);
            }),
            Some(rules) => {
                let rule = format_ident!("R{i}");
                let value = rules.tokens(rt);
                consts.push(quote!(const #rule: #rt::Rules = #value;));
                checks.push(quote! {
                    v.check_field_rules(#json, &self.#ident, &#rule);
                });
            }
        }
    }
    if checks.is_empty() {
        return quote!(impl #rt::Validate for #name {});
    }
    quote! {
        impl #rt::Validate for #name {
            fn check(&self, v: &mut #rt::Validator) {
                #(#consts)*
                #(#checks)*
            }
        }
    }
}

/// The constructor (`new`, or `builder` when two or more fields are
/// required), the `with_*` setters and the `*_or_default` accessors.
fn methods(
    input: &DeriveInput,
    container: &Container,
    fields: &[Field<'_>],
    unknown: Option<&Ident>,
) -> TokenStream {
    let rt = &container.rt();
    let name = &input.ident;
    let required: Vec<&Field> = fields
        .iter()
        .filter(|f| matches!(f.presence, Presence::Required | Presence::RequiredNullable))
        .collect();
    let constructor = if required.len() < 2 {
        new_method(name, fields, &required, unknown)
    } else {
        TokenStream::new()
    };
    let builder = if required.len() >= 2 {
        let name = container
            .builder
            .clone()
            .unwrap_or_else(|| builder_ident(&input.ident));
        builder(input, &name, fields, &required, unknown, rt)
    } else {
        TokenStream::new()
    };
    let setters = fields
        .iter()
        .filter(|f| matches!(f.presence, Presence::Optional | Presence::OptionalNullable))
        .map(|f| {
            let ident = f.ident;
            let setter = format_ident!("with_{}", bare(ident));
            let ty = param(f.value_type());
            let value = stored(ident, f.value_type());
            let docs = field_docs(f);
            quote! {
                #docs
                #[must_use]
                #[inline]
                pub fn #setter(mut self, #ident: #ty) -> Self {
                    self.#ident = ::core::option::Option::Some(#value);
                    self
                }
            }
        });
    let defaults = fields.iter().filter_map(|f| default_accessor(f));
    quote! {
        impl #name {
            #constructor
            #(#setters)*
            #(#defaults)*
        }

        #builder
    }
}

/// A field's name without its raw-identifier prefix.
fn bare(ident: &Ident) -> String {
    let text = ident.to_string();
    match text.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => text,
    }
}

/// The field's own docs, or a line naming it.
fn field_docs(f: &Field<'_>) -> TokenStream {
    let docs = &f.docs;
    if docs.is_empty() {
        let text = format!(" Sets `{}`.", f.json.value());
        quote!(#[doc = #text])
    } else {
        quote!(#(#docs)*)
    }
}

/// The initializers of the fields that are not required: unset.
fn unset_fields<'a>(
    fields: &'a [Field<'_>],
    unknown: Option<&'a Ident>,
) -> impl Iterator<Item = TokenStream> + 'a {
    fields
        .iter()
        .filter(|f| matches!(f.presence, Presence::Optional | Presence::OptionalNullable))
        .map(|f| {
            let ident = f.ident;
            quote!(#ident: ::core::option::Option::None,)
        })
        .chain(unknown.map(|u| quote!(#u: ::core::default::Default::default(),)))
}

/// `new`, for a type with at most one required field: nothing can be passed
/// in the wrong place.
fn new_method(
    name: &Ident,
    fields: &[Field<'_>],
    required: &[&Field<'_>],
    unknown: Option<&Ident>,
) -> TokenStream {
    let params = required.iter().map(|f| {
        let (ident, ty) = (f.ident, param(f.value_type()));
        quote!(#ident: #ty)
    });
    let inits = required.iter().map(|f| {
        let ident = f.ident;
        let value = stored(ident, f.value_type());
        quote!(#ident: #value,)
    });
    let unset = unset_fields(fields, unknown);
    let doc = match required.first() {
        None => format!(" A `{name}` with nothing set; set fields with the `with_*` methods."),
        Some(f) => format!(
            " A `{name}` from `{}`, the field the lexicon requires; set the others with the `with_*` methods.",
            f.ident
        ),
    };
    quote! {
        #[doc = #doc]
        #[inline]
        pub fn new(#(#params),*) -> Self {
            Self { #(#inits)* #(#unset)* }
        }
    }
}

/// `builder()` and the builder type, for a type with two or more required
/// fields: each is set by its name, once, and `build` exists only when all
/// are set, so no call can pass one field's value as another's, whatever
/// order the lexicon lists them in.
///
/// The builder's type parameters are the states of the required fields
/// (`Unset`, then `Set<T>`), named after the fields so that a missing one
/// is named in the compiler's error.
fn builder(
    input: &DeriveInput,
    builder: &Ident,
    fields: &[Field<'_>],
    required: &[&Field<'_>],
    unknown: Option<&Ident>,
    rt: &TokenStream,
) -> TokenStream {
    let name = &input.ident;
    let vis = &input.vis;
    let states = state_params(name, required);
    let unset_states = states.iter().map(|_| quote!(#rt::Unset));
    let list: Vec<String> = required
        .iter()
        .map(|f| format!("`{}`", bare(f.ident)))
        .collect();
    let list = list.join(", ");
    let ctor_doc = format!(
        " A [`{builder}`]: set the fields the lexicon requires ({list}) by name, then `build()`; set the others on the result with the `with_*` methods."
    );
    let type_doc = format!(
        " Builds a [`{name}`]: each field the lexicon requires ({list}) is set once, by its method, and `build` is there when all are."
    );
    let setters = required.iter().enumerate().map(|(i, f)| {
        let ident = f.ident;
        let ty = f.value_type();
        let param_ty = param(ty);
        let value = stored(ident, ty);
        let others: Vec<&Ident> = states
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, s)| s)
            .collect();
        let before = states.iter().enumerate().map(|(j, s)| {
            if j == i {
                quote!(#rt::Unset)
            } else {
                quote!(#s)
            }
        });
        let after = states.iter().enumerate().map(|(j, s)| {
            if j == i {
                quote!(#rt::Set<#ty>)
            } else {
                quote!(#s)
            }
        });
        let moved = (0..states.len()).map(|j| {
            let index = syn::Index::from(j);
            if j == i {
                quote!(#rt::Set(#value))
            } else {
                quote!(self.#index)
            }
        });
        let docs = field_docs(f);
        quote! {
            impl<#(#others),*> #builder<#(#before),*> {
                #docs
                #[inline]
                pub fn #ident(self, #ident: #param_ty) -> #builder<#(#after),*> {
                    #builder(#(#moved),*)
                }
            }
        }
    });
    let bounds = states.iter().zip(required).map(|(s, f)| {
        let ty = f.value_type();
        quote!(#s: #rt::IsSet<#ty>)
    });
    let inits = required.iter().enumerate().map(|(i, f)| {
        let ident = f.ident;
        let index = syn::Index::from(i);
        quote!(#ident: #rt::IsSet::value(self.#index),)
    });
    let unset = unset_fields(fields, unknown);
    let build_doc = format!(" The `{name}`, once every required field is set.");
    quote! {
        impl #name {
            #[doc = #ctor_doc]
            #[inline]
            pub fn builder() -> #builder {
                #builder(#(#unset_states),*)
            }
        }

        #[doc = #type_doc]
        #[must_use = "a builder does nothing until `build` is called"]
        #vis struct #builder<#(#states = #rt::Unset),*>(#(#states),*);

        #(#setters)*

        // The bounds on the method, not the impl: a field left out is then
        // an unmet bound that names its parameter (the field), with the
        // message of `IsSet`.
        impl<#(#states),*> #builder<#(#states),*> {
            #[doc = #build_doc]
            #[inline]
            pub fn build(self) -> #name
            where
                #(#bounds),*
            {
                #name { #(#inits)* #(#unset)* }
            }
        }
    }
}

/// The builder of type `name`, unless told another: `NameBuilder` (the
/// generator's `names::builder_name`, which keeps it free in every module or
/// names another).
pub(crate) fn builder_ident(name: &Ident) -> Ident {
    Ident::new(&atlex_names::builder_name(&name.to_string()), name.span())
}

/// The state parameters of a builder: the required fields' names in
/// UpperCamelCase, each made unlike every identifier of the field types and
/// the type's own name, which a parameter of that name would shadow.
fn state_params(name: &Ident, required: &[&Field<'_>]) -> Vec<Ident> {
    let mut taken = std::collections::HashSet::new();
    taken.insert(name.to_string());
    // A field `r#self` would make the keyword.
    taken.insert("Self".to_owned());
    for f in required {
        let ty = f.value_type();
        collect_idents(quote!(#ty), &mut taken);
    }
    required
        .iter()
        .map(|f| {
            let mut param = upper_camel(&bare(f.ident));
            while taken.contains(&param) {
                param.push_str("Field");
            }
            taken.insert(param.clone());
            format_ident!("{}", param)
        })
        .collect()
}

/// Every identifier in `tokens`, at any depth.
fn collect_idents(tokens: TokenStream, out: &mut std::collections::HashSet<String>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Ident(ident) => {
                out.insert(ident.to_string());
            }
            proc_macro2::TokenTree::Group(group) => collect_idents(group.stream(), out),
            _ => {}
        }
    }
}

/// `snake_case` → `SnakeCase`.
fn upper_camel(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn default_accessor(f: &Field<'_>) -> Option<TokenStream> {
    let default = f.attrs.default.as_ref()?;
    if f.presence != Presence::Optional {
        return None;
    }
    let ident = f.ident;
    let bare = ident.to_string();
    let bare = bare.strip_prefix("r#").unwrap_or(&bare);
    let method = format_ident!("{}_or_default", bare);
    let inner = f.value_type();
    let (shown, body) = match default {
        Default::Str(text) if is_string(inner) => (
            format!("{:?}", text.value()),
            quote! {
                #[inline]
                pub fn #method(&self) -> &str {
                    self.#ident.as_deref().unwrap_or(#text)
                }
            },
        ),
        Default::Str(text) => (
            format!("{:?}", text.value()),
            quote! {
                #[inline]
                pub fn #method(&self) -> #inner {
                    self.#ident.clone().unwrap_or_else(|| <#inner as ::core::convert::From<&str>>::from(#text))
                }
            },
        ),
        Default::Value(lit) => (
            lit.to_string().replace(' ', ""),
            quote! {
                #[inline]
                pub fn #method(&self) -> #inner {
                    self.#ident.unwrap_or(#lit)
                }
            },
        ),
        Default::Path(path) => (
            format!("`{}`", quote!(#path).to_string().replace(' ', "")),
            quote! {
                #[inline]
                pub fn #method(&self) -> #inner {
                    self.#ident.clone().unwrap_or(#path)
                }
            },
        ),
    };
    let doc = format!(
        " `{}`, or the lexicon's default ({shown}) when it is absent.",
        f.json.value()
    );
    Some(quote! {
        #[doc = #doc]
        #body
    })
}

pub(crate) fn params(input: &DeriveInput) -> syn::Result<TokenStream> {
    let container = Container::parse(&input.attrs)?;
    let rt = container.rt();
    let name = &input.ident;
    let (fields, unknown) = fields(input)?;
    if let Some(unknown) = unknown {
        return Err(syn::Error::new_spanned(
            unknown,
            "parameters keep no unknown fields",
        ));
    }
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    for f in &fields {
        let (ident, json) = (f.ident, &f.json);
        let list = generic_of(f.value_type(), "Vec").is_some();
        let method = match (list, f.presence) {
            (false, Presence::Required) => quote!(required),
            (true, Presence::Required) => quote!(list),
            (false, _) => quote!(optional),
            (true, _) => quote!(optional_list),
        };
        writes.push(quote!(query.#method(#json, &self.#ident);));
        reads.push(quote!(#ident: query.#method(#json)?,));
    }
    let query = if fields.is_empty() {
        quote!(_query)
    } else {
        quote!(query)
    };
    let validate = validate(name, &fields, &rt);
    let methods = methods(input, &container, &fields, None);
    Ok(quote! {
        impl #rt::Params for #name {
            fn write_query(&self, #query: &mut #rt::QueryWriter) {
                #(#writes)*
            }

            fn read_query(#query: &#rt::QueryReader<'_>) -> ::core::result::Result<Self, #rt::ParamsError> {
                ::core::result::Result::Ok(Self { #(#reads)* })
            }
        }

        #validate
        #methods
    })
}
