//! The `#[lex(...)]` attributes.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Lit, LitStr, Path, Token};

/// Attributes of the item itself.
#[derive(Default)]
pub(crate) struct Container {
    /// The runtime crate's path, `::atlex` unless given.
    pub krate: Option<Path>,
    pub type_name: Option<LitStr>,
    pub record: Option<LitStr>,
    pub key: Option<LitStr>,
    pub query: Option<LitStr>,
    pub procedure: Option<LitStr>,
    pub subscription: Option<LitStr>,
    /// A subscription's default subprotocol (`xrpc.v1.json`).
    pub subprotocol: Option<LitStr>,
    pub params: bool,
    pub message: bool,
    pub input: Option<LitStr>,
    pub output: Option<LitStr>,
    pub binding: Option<Path>,
    /// The builder type's name, when not `<Name>Builder`.
    pub builder: Option<Ident>,
}

impl Container {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for attr in lex_attrs(attrs) {
            attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("crate") {
                    let text: LitStr = meta.value()?.parse()?;
                    out.krate = Some(text.parse()?);
                } else if p.is_ident("type") {
                    out.type_name = Some(meta.value()?.parse()?);
                } else if p.is_ident("record") {
                    out.record = Some(meta.value()?.parse()?);
                } else if p.is_ident("key") {
                    out.key = Some(meta.value()?.parse()?);
                } else if p.is_ident("query") {
                    out.query = Some(meta.value()?.parse()?);
                } else if p.is_ident("procedure") {
                    out.procedure = Some(meta.value()?.parse()?);
                } else if p.is_ident("subscription") {
                    out.subscription = Some(meta.value()?.parse()?);
                } else if p.is_ident("subprotocol") {
                    out.subprotocol = Some(meta.value()?.parse()?);
                } else if p.is_ident("params") {
                    out.params = true;
                } else if p.is_ident("message") {
                    out.message = true;
                } else if p.is_ident("input") {
                    out.input = Some(meta.value()?.parse()?);
                } else if p.is_ident("output") {
                    out.output = Some(meta.value()?.parse()?);
                } else if p.is_ident("binding") {
                    out.binding = Some(meta.value()?.parse()?);
                } else if p.is_ident("builder") {
                    let text: LitStr = meta.value()?.parse()?;
                    out.builder = Some(text.parse()?);
                } else {
                    return Err(meta.error("unknown `lex` attribute"));
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// `<runtime>::rt`.
    pub(crate) fn rt(&self) -> TokenStream {
        match &self.krate {
            Some(path) => quote!(#path::rt),
            None => quote!(::atlex::rt),
        }
    }
}

/// A lexicon default.
pub(crate) enum Default {
    /// A string (`"latest"`).
    Str(LitStr),
    /// A boolean or an integer (`true`, `50`, `-1`).
    Value(TokenStream),
    /// A value of a generated enum (`Sort::Recent`).
    Path(Path),
}

/// An integer literal, perhaps negative.
fn parse_int(input: syn::parse::ParseStream) -> syn::Result<TokenStream> {
    let minus: Option<Token![-]> = input.parse()?;
    let value: syn::LitInt = input.parse()?;
    Ok(quote!(#minus #value))
}

/// Attributes of a field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub rename: Option<LitStr>,
    pub required: bool,
    pub default: Option<Default>,
    /// `check` (`Some(None)`) or `check(...)` (`Some(Some(rules))`).
    pub check: Option<Option<Rules>>,
    pub unknown: bool,
}

impl FieldAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for attr in lex_attrs(attrs) {
            attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p.is_ident("rename") {
                    out.rename = Some(meta.value()?.parse()?);
                } else if p.is_ident("required") {
                    out.required = true;
                } else if p.is_ident("unknown") {
                    out.unknown = true;
                } else if p.is_ident("default") {
                    let value = meta.value()?;
                    out.default = Some(if value.peek(LitStr) {
                        Default::Str(value.parse()?)
                    } else if value.peek(Token![-]) || value.peek(syn::LitInt) {
                        Default::Value(parse_int(value)?)
                    } else if value.peek(syn::LitBool) {
                        let b: syn::LitBool = value.parse()?;
                        Default::Value(quote!(#b))
                    } else {
                        Default::Path(value.parse()?)
                    });
                } else if p.is_ident("check") {
                    if meta.input.is_empty() || meta.input.peek(Token![,]) {
                        out.check = Some(None);
                    } else {
                        out.check = Some(Some(Rules::parse(&meta)?));
                    }
                } else {
                    return Err(meta.error("unknown `lex` field attribute"));
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// Constraints where a value is used.
#[derive(Default)]
pub(crate) struct Rules {
    /// `name: value` pairs of `rt::Rules`.
    entries: Vec<(Ident, TokenStream)>,
    items: Option<Box<Rules>>,
}

impl Rules {
    fn parse(meta: &ParseNestedMeta) -> syn::Result<Self> {
        let mut rules = Rules::default();
        meta.parse_nested_meta(|meta| {
            let Some(name) = meta.path.get_ident().cloned() else {
                return Err(meta.error("expected a constraint name"));
            };
            let entry =
                |value: TokenStream| (name.clone(), quote!(::core::option::Option::Some(#value)));
            match name.to_string().as_str() {
                "min_length" | "max_length" | "min_graphemes" | "max_graphemes" | "max_size" => {
                    let value: syn::LitInt = meta.value()?.parse()?;
                    rules.entries.push(entry(quote!(#value)));
                }
                "minimum" | "maximum" => {
                    let value = parse_int(meta.value()?)?;
                    rules.entries.push(entry(value));
                }
                "const_value" => {
                    let value = meta.value()?;
                    let (field, value) = if value.peek(LitStr) {
                        let text: LitStr = value.parse()?;
                        ("const_str", quote!(#text))
                    } else if value.peek(syn::LitBool) {
                        let b: syn::LitBool = value.parse()?;
                        ("const_bool", quote!(#b))
                    } else {
                        ("const_int", parse_int(value)?)
                    };
                    rules.entries.push((
                        Ident::new(field, name.span()),
                        quote!(::core::option::Option::Some(#value)),
                    ));
                }
                "enum_values" => {
                    let content;
                    let value = meta.value()?;
                    syn::bracketed!(content in value);
                    let values: Punctuated<TokenStream, Token![,]> =
                        content.parse_terminated(parse_int, Token![,])?;
                    let values = values.iter();
                    rules.entries.push((
                        Ident::new("int_enum", name.span()),
                        quote!(::core::option::Option::Some(&[#(#values),*])),
                    ));
                }
                "accept" => {
                    let content;
                    let value = meta.value()?;
                    syn::bracketed!(content in value);
                    let values: Punctuated<LitStr, Token![,]> = content
                        .parse_terminated(<LitStr as syn::parse::Parse>::parse, Token![,])?;
                    let values = values.iter();
                    rules.entries.push((
                        name.clone(),
                        quote!(::core::option::Option::Some(&[#(#values),*])),
                    ));
                }
                "object" | "nested" => rules.entries.push((name.clone(), quote!(true))),
                "items" => {
                    if meta.input.is_empty() || meta.input.peek(Token![,]) {
                        rules.items = Some(Box::new(Rules {
                            entries: vec![(Ident::new("nested", name.span()), quote!(true))],
                            items: None,
                        }));
                    } else {
                        rules.items = Some(Box::new(Rules::parse(&meta)?));
                    }
                }
                _ => return Err(meta.error("unknown constraint")),
            }
            Ok(())
        })?;
        Ok(rules)
    }

    /// An `rt::Rules` constant expression.
    pub(crate) fn tokens(&self, rt: &TokenStream) -> TokenStream {
        let names = self.entries.iter().map(|(n, _)| n);
        let values = self.entries.iter().map(|(_, v)| v);
        let items = self.items.as_ref().map(|items| {
            let items = items.tokens(rt);
            quote!(items: ::core::option::Option::Some(&#items),)
        });
        quote!(#rt::Rules { #(#names: #values,)* #items ..#rt::Rules::NONE })
    }
}

/// Attributes of an enum variant: a string (a union member's `$type`, a
/// string enum's value) or flags.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    pub value: Option<LitStr>,
    pub rename: Option<LitStr>,
    pub unknown: bool,
    pub other: bool,
}

impl VariantAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for attr in lex_attrs(attrs) {
            attr.parse_args_with(|input: syn::parse::ParseStream| {
                if input.peek(LitStr) {
                    out.value = Some(input.parse()?);
                    return Ok(());
                }
                let items = Punctuated::<syn::Meta, Token![,]>::parse_terminated(input)?;
                for item in items {
                    match &item {
                        syn::Meta::Path(p) if p.is_ident("unknown") => out.unknown = true,
                        syn::Meta::Path(p) if p.is_ident("other") => out.other = true,
                        syn::Meta::NameValue(nv) if nv.path.is_ident("rename") => {
                            let syn::Expr::Lit(syn::ExprLit {
                                lit: Lit::Str(text),
                                ..
                            }) = &nv.value
                            else {
                                return Err(syn::Error::new_spanned(
                                    &nv.value,
                                    "expected a string",
                                ));
                            };
                            out.rename = Some(text.clone());
                        }
                        other => {
                            return Err(syn::Error::new_spanned(
                                other,
                                "unknown `lex` variant attribute",
                            ));
                        }
                    }
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

fn lex_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("lex"))
}

/// The doc attributes among `attrs`.
pub(crate) fn docs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).collect()
}

/// The JSON name of a field that does not name its own (the contract with
/// the generator, in `atlex-names`).
pub(crate) fn wire_name(ident: &Ident) -> String {
    atlex_names::wire_name(&ident.to_string())
}

#[cfg(test)]
mod tests {
    use super::wire_name;
    use proc_macro2::Span;
    use syn::Ident;

    #[test]
    fn wire_names() {
        for (ident, json) in [
            ("created_at", "createdAt"),
            ("text", "text"),
            ("self_", "self"),
            ("uri_2", "uri2"),
            ("is_thread_muted", "isThreadMuted"),
        ] {
            assert_eq!(wire_name(&Ident::new(ident, Span::call_site())), json);
        }
        assert_eq!(
            wire_name(&Ident::new_raw("type", Span::call_site())),
            "type"
        );
    }
}
