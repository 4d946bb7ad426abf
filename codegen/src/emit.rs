//! Emission: the IR and its names, as Rust tokens, one module per document.
//!
//! Conventions of the generated code:
//! - the runtime is reached only through `<runtime>::rt` (by default
//!   `::atlex::rt`), serde included (`#[serde(crate = "::atlex::rt::serde")]`);
//! - types of other modules are referred to by absolute path from the
//!   configured root (`crate::app::bsky::richtext::facet::Facet`);
//! - prelude types are written bare unless a generated type of the same
//!   module shadows them (a definition named `Result`), then by full path;
//! - trait impls name their traits by full path.

use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote};

use crate::ir::{
    BodyIr, BodyTy, DefaultValue, EndpointIr, EndpointKind, FieldIr, Ir, Item, NameHint, Part,
    StringEnumIr, StructIr, StructRole, SubscriptionIr, Ty, TypeId, TypeKind, UnionIr,
};
use crate::lexicon::{Schema, SchemaKind, StringFormat};
use crate::names::{Names, split_raw};

/// Paths the emitted code uses.
#[derive(Clone, Debug)]
pub struct EmitConfig {
    /// The runtime crate, `::atlex` by default.
    pub runtime: String,
    /// Where the generated module tree is mounted, `crate` by default.
    pub root: String,
    /// NSID prefixes whose types live in another crate, with that crate's path
    /// for the prefix (`("com.atproto", "::atlex_lexicons::com::atproto")`).
    pub extern_paths: Vec<(String, String)>,
}

impl Default for EmitConfig {
    fn default() -> Self {
        Self {
            runtime: "::atlex".to_owned(),
            root: "crate".to_owned(),
            extern_paths: Vec::new(),
        }
    }
}

/// One emitted module.
#[derive(Clone, Debug)]
pub struct EmittedModule {
    /// The document's NSID.
    pub nsid: String,
    /// The module's doc text.
    pub doc: Option<String>,
    /// Its items.
    pub tokens: TokenStream,
}

/// Emits the module of document `nsid`.
pub fn module(ir: &Ir, names: &Names, config: &EmitConfig, nsid: &str) -> Option<EmittedModule> {
    let module = ir.modules.get(nsid)?;
    let emitter = Emitter::new(ir, names, config, nsid);
    let mut tokens = TokenStream::new();
    let nsid_lit = nsid;
    tokens.extend(quote! {
        #[doc = " The NSID of this lexicon."]
        pub const NSID: &str = #nsid_lit;
    });
    let owned = owned_types(ir, nsid);
    for item in &module.items {
        match item {
            Item::Type(id) => emitter.type_tree(*id, &owned, &mut tokens),
            Item::Token(token) => {
                let name = ident(names.tokens.get(&token.key).map_or("TOKEN", String::as_str));
                let value = token.key.type_name();
                let doc = docs(token.description.as_deref().or(Some("A token.")));
                tokens.extend(quote! {
                    #doc
                    pub const #name: &str = #value;
                });
            }
            Item::Endpoint(endpoint) => {
                tokens.extend(emitter.endpoint(endpoint));
                let parts = [
                    endpoint.params,
                    endpoint.input.as_ref().and_then(body_type),
                    endpoint.output.as_ref().and_then(body_type),
                    Some(endpoint.errors),
                ];
                for id in parts.into_iter().flatten() {
                    emitter.type_tree(id, &owned, &mut tokens);
                }
            }
            Item::Subscription(subscription) => {
                tokens.extend(emitter.subscription(subscription));
                let parts = [
                    subscription.params,
                    subscription.message,
                    Some(subscription.errors),
                ];
                for id in parts.into_iter().flatten() {
                    emitter.type_tree(id, &owned, &mut tokens);
                }
            }
            Item::PermissionSet(_) => {}
        }
    }
    let doc = module_doc(module);
    Some(EmittedModule {
        nsid: nsid.to_owned(),
        doc,
        tokens,
    })
}

/// The `Service` trait and `register` function for the queries and
/// procedures directly under NSID prefix `group` (`chat.bsky.convo` for
/// `chat.bsky.convo.leaveConvo`, …), to be emitted in the group's module.
/// Empty when the group has no endpoints.
pub fn service(ir: &Ir, names: &Names, config: &EmitConfig, group: &str) -> TokenStream {
    let endpoints: Vec<(&String, Served<'_>)> = ir
        .modules
        .range(format!("{group}.")..)
        .take_while(|(nsid, _)| nsid.starts_with(&format!("{group}.")))
        .filter(|(nsid, _)| {
            nsid.rsplit_once('.')
                .is_some_and(|(parent, _)| parent == group)
        })
        .flat_map(|(nsid, module)| {
            module.items.iter().filter_map(move |item| match item {
                Item::Endpoint(endpoint) => Some((nsid, Served::Endpoint(endpoint))),
                Item::Subscription(subscription) => {
                    Some((nsid, Served::Subscription(subscription)))
                }
                _ => None,
            })
        })
        .collect();
    if endpoints.is_empty() {
        return TokenStream::new();
    }
    let emitter = Emitter::new(ir, names, config, group);
    let rt = &emitter.rt;
    let mut methods = Vec::new();
    let mut registrations = Vec::new();
    for (nsid, endpoint) in endpoints {
        let (Some(path), Some(descriptor)) = (names.modules.get(nsid), names.endpoints.get(nsid))
        else {
            continue;
        };
        let Some(module) = path.last() else {
            continue;
        };
        let method = ident(module);
        let module = ident(module);
        let descriptor = ident(descriptor);
        let description = match endpoint {
            Served::Endpoint(endpoint) => endpoint.description.as_deref(),
            Served::Subscription(subscription) => subscription.description.as_deref(),
        };
        let summary = description
            .and_then(|d| d.split("\n\n").next())
            .map(|d| format!("`{nsid}`: {d}"))
            .unwrap_or_else(|| format!("`{nsid}`."));
        let doc = docs(Some(&summary));
        let (request, result, add) = match endpoint {
            Served::Endpoint(_) => (quote!(Request), quote!(HandlerResult), quote!(add)),
            Served::Subscription(_) => (
                quote!(SubscriptionRequest),
                quote!(SubscriptionResult),
                quote!(add_subscription),
            ),
        };
        methods.push(quote! {
            #doc
            fn #method(
                &self,
                request: #rt::#request<#module::#descriptor>,
            ) -> impl ::core::future::Future<Output = #rt::#result<#module::#descriptor>> + Send {
                let _ = request;
                async { Err(#rt::HandlerError::not_implemented()) }
            }
        });
        registrations.push(quote! {
            registry.#add::<#module::#descriptor, _, _>(|service: ::std::sync::Arc<S>, request| async move {
                service.#method(request).await
            });
        });
    }
    let trait_doc = docs(Some(&format!(
        "The `{group}` endpoints, as a server implements them: one method per endpoint, \
         each answering `MethodNotImplemented` unless implemented.\n\n\
         Mount an implementation with [`register`]."
    )));
    let register_doc = docs(Some(&format!(
        "Mounts every `{group}` endpoint of a [`Service`] on `registry`."
    )));
    quote! {
        #trait_doc
        pub trait Service: Send + Sync + 'static {
            #(#methods)*
        }

        #register_doc
        pub fn register<S: Service, R: #rt::Registry<S>>(registry: &mut R) {
            #(#registrations)*
        }
    }
}

/// What a `Service` method serves.
enum Served<'a> {
    Endpoint(&'a EndpointIr),
    Subscription(&'a SubscriptionIr),
}

/// The record dispatch, emitted at the root of the generated tree: an enum of
/// every record type of `records` (NSIDs, each with the `cfg` feature its
/// namespace needs, if any) chosen by `$type`, with a case that keeps any
/// other record as data. Empty when there are no records.
pub fn record_dispatch(
    ir: &Ir,
    names: &Names,
    config: &EmitConfig,
    records: &[(&str, Option<String>)],
) -> TokenStream {
    let emitter = Emitter::new(ir, names, config, "");
    let rt = &emitter.rt;
    let serde = &emitter.serde;
    let mut variants = Vec::new();
    let mut type_names = Vec::new();
    let mut ser_arms = Vec::new();
    let mut de_arms = Vec::new();
    let mut check_arms = Vec::new();
    for (nsid, feature) in records {
        let Some((id, variant)) = names.records.get(*nsid) else {
            continue;
        };
        let cfg = feature
            .as_ref()
            .map(|feature| quote!(#[cfg(feature = #feature)]));
        let variant = ident(variant);
        let path = emitter.type_path(*id);
        let doc = docs(Some(&format!("`{nsid}`")));
        variants.push(quote! { #doc #cfg #variant(Box<#path>), });
        type_names.push(quote! { #cfg #nsid, });
        ser_arms.push(quote! {
            #cfg
            Self::#variant(value) => #serde::Serialize::serialize(&#rt::Tagged::new(#nsid, &**value), serializer),
        });
        de_arms.push(quote! {
            #cfg
            #nsid => #serde::Deserialize::deserialize(member).map(|value| Self::#variant(Box::new(value))),
        });
        check_arms.push(quote! { #cfg Self::#variant(value) => v.nested(&**value), });
    }
    if variants.is_empty() {
        return TokenStream::new();
    }
    let name = ident(crate::names::RECORD_DISPATCH);
    let unknown = ident(crate::names::RECORD_DISPATCH_UNKNOWN);
    let doc = docs(Some(
        "A record of any type these bindings have, chosen by its `$type` (a \
         repository's records, a firehose commit's ops); a record of any other \
         type is kept as data in the unknown case.",
    ));
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq)]
        pub enum #name {
            #(#variants)*
            /// A record of a type these bindings do not have, kept as it was received.
            #unknown(#rt::Unknown),
        }

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    #(#ser_arms)*
                    Self::#unknown(value) => #serde::Serialize::serialize(value, serializer),
                }
            }
        }

        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #rt::deserialize_union(deserializer)
            }
        }

        impl #rt::Union for #name {
            const MEMBERS: &'static [&'static str] = &[#(#type_names)*];

            fn decode_member<'de, D: #serde::Deserializer<'de>>(type_name: &str, member: D) -> Result<Self, D::Error> {
                match type_name {
                    #(#de_arms)*
                    _ => Err(#rt::unexpected_member(type_name, Self::MEMBERS)),
                }
            }

            fn unknown(data: #rt::Unknown) -> Option<Self> {
                Some(Self::#unknown(data))
            }
        }

        impl #rt::Validate for #name {
            fn check(&self, v: &mut #rt::Validator) {
                match self {
                    #(#check_arms)*
                    Self::#unknown(_) => {}
                }
            }
        }
    }
}

/// The doc text of a document's module.
pub fn module_doc(module: &crate::ir::Module) -> Option<String> {
    let mut doc = format!("`{}`", module.nsid);
    let permission = module.items.iter().find_map(|i| match i {
        Item::PermissionSet(p) => Some(p),
        _ => None,
    });
    if let Some(p) = permission {
        doc.push_str(": permission set");
        if let Some(title) = &p.title {
            doc.push_str(&format!(" \"{title}\""));
        }
        doc.push('.');
        for text in [&p.detail, &p.description].into_iter().flatten() {
            doc.push_str("\n\n");
            doc.push_str(text);
        }
        return Some(doc);
    }
    if let Some(description) = &module.description {
        doc.push_str(": ");
        doc.push_str(description);
    }
    Some(doc)
}

fn body_type(body: &BodyIr) -> Option<TypeId> {
    match body.body {
        BodyTy::Json(id) => Some(id),
        BodyTy::AnyJson | BodyTy::Binary => None,
    }
}

/// Inline types of module `nsid`, by owner, in id order.
fn owned_types(ir: &Ir, nsid: &str) -> HashMap<TypeId, Vec<TypeId>> {
    let mut owned: HashMap<TypeId, Vec<TypeId>> = HashMap::new();
    for (i, decl) in ir.types.iter().enumerate() {
        if decl.module == nsid
            && let NameHint::Inline { owner, .. } = decl.hint
        {
            owned.entry(owner).or_default().push(TypeId(i));
        }
    }
    owned
}

struct Emitter<'a> {
    ir: &'a Ir,
    names: &'a Names,
    config: &'a EmitConfig,
    nsid: &'a str,
    rt: TokenStream,
    serde: TokenStream,
    serde_crate: String,
}

impl<'a> Emitter<'a> {
    fn new(ir: &'a Ir, names: &'a Names, config: &'a EmitConfig, nsid: &'a str) -> Self {
        let runtime = path_tokens(&config.runtime);
        Self {
            ir,
            names,
            config,
            nsid,
            rt: quote!(#runtime::rt),
            serde: quote!(#runtime::rt::serde),
            serde_crate: format!("{}::rt::serde", config.runtime),
        }
    }

    /// A prelude type, by full path if this module shadows it.
    fn prelude(&self, name: &str) -> TokenStream {
        let shadowed = self.names.is_shadowed(self.nsid, name);
        match (name, shadowed) {
            ("Option", true) => quote!(::core::option::Option),
            ("Result", true) => quote!(::core::result::Result),
            ("String", true) => quote!(::std::string::String),
            ("Vec", true) => quote!(::std::vec::Vec),
            ("Box", true) => quote!(::std::boxed::Box),
            (other, _) => {
                let i = ident(other);
                quote!(#i)
            }
        }
    }

    fn type_name(&self, id: TypeId) -> Ident {
        ident(&self.names.types[id.0])
    }

    /// The path to a type from this module.
    fn type_path(&self, id: TypeId) -> TokenStream {
        let decl = self.ir.get(id);
        let name = self.type_name(id);
        if decl.module == self.nsid {
            return quote!(#name);
        }
        let module = self.module_path(&decl.module);
        quote!(#module::#name)
    }

    fn module_path(&self, nsid: &str) -> TokenStream {
        let segments: &[String] = self.names.modules.get(nsid).map_or(&[], Vec::as_slice);
        for (prefix, path) in &self.config.extern_paths {
            let depth = prefix.split('.').count();
            if nsid == prefix || nsid.starts_with(&format!("{prefix}.")) {
                let base = path_tokens(path);
                let rest = segments.iter().skip(depth).map(|s| ident(s));
                return quote!(#base #(::#rest)*);
            }
        }
        let root = path_tokens(&self.config.root);
        let rest = segments.iter().map(|s| ident(s));
        quote!(#root #(::#rest)*)
    }

    fn ty(&self, ty: &Ty) -> TokenStream {
        let rt = &self.rt;
        match ty {
            Ty::Bool => quote!(bool),
            Ty::Integer => quote!(i64),
            Ty::String(None) => self.prelude("String"),
            Ty::String(Some(format)) => {
                let name = ident(format_type(*format));
                quote!(#rt::#name)
            }
            Ty::Bytes => quote!(#rt::Bytes),
            Ty::CidLink => quote!(#rt::CidLink),
            Ty::Blob => quote!(#rt::Blob),
            Ty::Unknown => quote!(#rt::Unknown),
            Ty::Named(id) => self.type_path(*id),
            Ty::Array(inner) => {
                let vec = self.prelude("Vec");
                let inner = self.ty(inner);
                quote!(#vec<#inner>)
            }
        }
    }

    fn field_ty(&self, field: &FieldIr) -> TokenStream {
        let mut ty = self.ty(&field.ty);
        if field.boxed {
            let boxed = self.prelude("Box");
            ty = quote!(#boxed<#ty>);
        }
        let option = self.prelude("Option");
        if field.nullable {
            ty = quote!(#option<#ty>);
        }
        if !field.required {
            ty = quote!(#option<#ty>);
        }
        ty
    }

    /// Emits a type, then the inline types it owns, depth first.
    fn type_tree(&self, id: TypeId, owned: &HashMap<TypeId, Vec<TypeId>>, out: &mut TokenStream) {
        out.extend(self.type_decl(id));
        if let Some(children) = owned.get(&id) {
            for child in children {
                self.type_tree(*child, owned, out);
            }
        }
    }

    fn type_decl(&self, id: TypeId) -> TokenStream {
        let decl = self.ir.get(id);
        let doc = docs(decl.description.as_deref());
        match &decl.kind {
            TypeKind::Struct(s) => {
                let mut out = self.structure(id, s, doc);
                out.extend(self.validate_struct(id, s));
                out
            }
            TypeKind::Union(u) => {
                let mut out = self.union(id, u, doc);
                out.extend(self.validate_union(id, u));
                out
            }
            TypeKind::StringEnum(e) => {
                let mut out = self.string_enum(id, e, doc);
                out.extend(self.validate_impl(id, TokenStream::new()));
                out
            }
            TypeKind::Errors(_) => self.errors(id),
            TypeKind::Alias(ty) => {
                let name = self.type_name(id);
                let ty = self.ty(ty);
                quote! {
                    #doc
                    pub type #name = #ty;
                }
            }
            TypeKind::Pending => TokenStream::new(),
        }
    }

    fn structure(&self, id: TypeId, s: &StructIr, doc: TokenStream) -> TokenStream {
        let name = self.type_name(id);
        let serde = &self.serde;
        let serde_crate = &self.serde_crate;
        let rt = &self.rt;
        let runtime = &self.config.runtime;
        let is_none = if self.names.is_shadowed(self.nsid, "Option") {
            "::core::option::Option::is_none"
        } else {
            "Option::is_none"
        };
        let mut fields = Vec::with_capacity(s.fields.len());
        for (j, field) in s.fields.iter().enumerate() {
            let field_name = self
                .names
                .fields
                .get(&(id, j))
                .map_or("field", String::as_str);
            let field_ident = ident(field_name);
            let ty = self.field_ty(field);
            let field_doc = docs(field.description.as_deref());
            let mut args: Vec<TokenStream> = Vec::new();
            if split_raw(field_name).1 != field.name {
                let json = &field.name;
                args.push(quote!(rename = #json));
            }
            match (field.required, field.nullable) {
                (true, false) => {}
                (false, false) => {
                    args.push(quote!(default, skip_serializing_if = #is_none));
                }
                (false, true) => {
                    let with = format!("{runtime}::rt::deserialize_nullable");
                    args.push(quote!(
                        default,
                        deserialize_with = #with,
                        skip_serializing_if = #is_none
                    ));
                }
                (true, true) => {
                    let with = format!("{runtime}::rt::deserialize_required_nullable");
                    args.push(quote!(deserialize_with = #with));
                }
            }
            let attr = if args.is_empty() {
                TokenStream::new()
            } else {
                quote!(#[serde(#(#args),*)])
            };
            fields.push(quote! {
                #field_doc
                #attr
                pub #field_ident: #ty,
            });
        }
        if let Some(extra) = self.names.extra_fields.get(&id) {
            let extra = ident(extra);
            fields.push(quote! {
                /// Properties the lexicon does not declare, kept as received.
                #[serde(flatten)]
                pub #extra: #rt::ExtraFields,
            });
        }
        let all_optional = s.fields.iter().all(|f| !f.required);
        let default = if all_optional {
            quote!(Default,)
        } else {
            TokenStream::new()
        };
        let mut out = quote! {
            #doc
            #[derive(Clone, Debug, #default PartialEq, Eq, #serde::Serialize, #serde::Deserialize)]
            #[serde(crate = #serde_crate)]
            pub struct #name {
                #(#fields)*
            }
        };
        if let Some(type_name) = &s.type_name {
            out.extend(quote! {
                impl #rt::LexType for #name {
                    const TYPE: &'static str = #type_name;
                }
            });
        }
        if let StructRole::Record { key } = &s.role {
            let nsid = self.nsid;
            let kind = match key.as_str() {
                "tid" => quote!(#rt::RecordKeyKind::Tid),
                "nsid" => quote!(#rt::RecordKeyKind::Nsid),
                other => match other.strip_prefix("literal:") {
                    Some(literal) => quote!(#rt::RecordKeyKind::Literal(#literal)),
                    None => quote!(#rt::RecordKeyKind::Any),
                },
            };
            out.extend(quote! {
                impl #rt::Record for #name {
                    const NSID: &'static str = #nsid;
                    const KEY: #rt::RecordKeyKind = #kind;
                }
            });
        }
        if s.role == StructRole::Params {
            out.extend(self.params_impl(id, s));
        }
        out.extend(self.default_accessors(id, s));
        out
    }

    fn params_impl(&self, id: TypeId, s: &StructIr) -> TokenStream {
        let rt = &self.rt;
        let name = self.type_name(id);
        let result = self.prelude("Result");
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        for (j, field) in s.fields.iter().enumerate() {
            let field_ident = ident(
                self.names
                    .fields
                    .get(&(id, j))
                    .map_or("field", String::as_str),
            );
            let json = &field.name;
            let is_list = matches!(field.ty, Ty::Array(_));
            let method = match (is_list, field.required) {
                (false, true) => quote!(required),
                (false, false) => quote!(optional),
                (true, true) => quote!(list),
                (true, false) => quote!(optional_list),
            };
            writes.push(quote!(query.#method(#json, &self.#field_ident);));
            reads.push(quote!(#field_ident: query.#method(#json)?,));
        }
        let query_arg = if s.fields.is_empty() {
            quote!(_query)
        } else {
            quote!(query)
        };
        quote! {
            impl #rt::Params for #name {
                fn write_query(&self, #query_arg: &mut #rt::QueryWriter) {
                    #(#writes)*
                }

                fn read_query(#query_arg: &#rt::QueryReader<'_>) -> #result<Self, #rt::ParamsError> {
                    Ok(Self { #(#reads)* })
                }
            }
        }
    }

    /// `<field>_or_default()` for optional fields with a lexicon default.
    fn default_accessors(&self, id: TypeId, s: &StructIr) -> TokenStream {
        let mut methods = Vec::new();
        for (j, field) in s.fields.iter().enumerate() {
            let (Some(default), false, false) = (&field.default, field.required, field.nullable)
            else {
                continue;
            };
            let field_name = self
                .names
                .fields
                .get(&(id, j))
                .map_or("field", String::as_str);
            let field_ident = ident(field_name);
            let method = ident(&format!("{}_or_default", split_raw(field_name).1));
            let doc_text = format!(
                " `{}`, or the lexicon's default ({}) when it is absent.",
                field.name,
                match default {
                    DefaultValue::Bool(b) => b.to_string(),
                    DefaultValue::Integer(i) => i.to_string(),
                    DefaultValue::String(s) => format!("{s:?}"),
                }
            );
            let body = match (default, &field.ty) {
                (DefaultValue::Bool(b), Ty::Bool) => {
                    quote!(pub fn #method(&self) -> bool { self.#field_ident.unwrap_or(#b) })
                }
                (DefaultValue::Integer(i), Ty::Integer) => {
                    let i = proc_macro2::Literal::i64_unsuffixed(*i);
                    quote!(pub fn #method(&self) -> i64 { self.#field_ident.unwrap_or(#i) })
                }
                (DefaultValue::String(value), Ty::String(None)) => quote! {
                    pub fn #method(&self) -> &str { self.#field_ident.as_deref().unwrap_or(#value) }
                },
                (DefaultValue::String(value), Ty::Named(target)) => {
                    let Some(variant) = self.enum_value_expr(*target, value) else {
                        continue;
                    };
                    let ty = self.type_path(*target);
                    quote! {
                        pub fn #method(&self) -> #ty {
                            self.#field_ident.clone().unwrap_or(#variant)
                        }
                    }
                }
                _ => continue,
            };
            methods.push(quote! {
                #[doc = #doc_text]
                #body
            });
        }
        if methods.is_empty() {
            return TokenStream::new();
        }
        let name = self.type_name(id);
        quote! {
            impl #name {
                #(#methods)*
            }
        }
    }

    /// An expression of string enum `target` holding `value`.
    fn enum_value_expr(&self, target: TypeId, value: &str) -> Option<TokenStream> {
        let TypeKind::StringEnum(e) = &self.ir.resolve_kind(target) else {
            return None;
        };
        let path = self.type_path(target);
        if let Some(j) = e.values.iter().position(|v| v == value) {
            let variant = ident(self.names.variants.get(&(target, j))?);
            return Some(quote!(#path::#variant));
        }
        let catch_all = ident(self.names.catch_all.get(&target)?);
        Some(quote!(#path::#catch_all(#value.to_owned())))
    }

    fn union(&self, id: TypeId, u: &UnionIr, doc: TokenStream) -> TokenStream {
        let name = self.type_name(id);
        let rt = &self.rt;
        let serde = &self.serde;
        let result = self.prelude("Result");
        let boxed = self.prelude("Box");
        let mut variants = Vec::new();
        let mut ser_arms = Vec::new();
        let mut de_arms = Vec::new();
        for (j, member) in u.members.iter().enumerate() {
            let variant = ident(
                self.names
                    .variants
                    .get(&(id, j))
                    .map_or("Member", String::as_str),
            );
            let ty = self.type_path(member.target);
            let type_name = &member.type_name;
            let variant_doc = format!(" `{type_name}`");
            variants.push(quote! {
                #[doc = #variant_doc]
                #variant(#boxed<#ty>),
            });
            ser_arms.push(quote! {
                Self::#variant(value) => #serde::Serialize::serialize(&#rt::Tagged::new(#type_name, &**value), serializer),
            });
            de_arms.push(quote! {
                #type_name => #serde::Deserialize::deserialize(member).map(|value| Self::#variant(#boxed::new(value))),
            });
        }
        let catch_all = self
            .names
            .catch_all
            .get(&id)
            .filter(|_| !u.closed)
            .map(|c| ident(c));
        if let Some(catch_all) = &catch_all {
            variants.push(quote! {
                #[doc = " A member this code does not know (from a newer lexicon), kept as it was received."]
                #catch_all(#rt::Unknown),
            });
            ser_arms.push(quote! {
                Self::#catch_all(value) => #serde::Serialize::serialize(value, serializer),
            });
        }
        let members = u.members.iter().map(|m| m.type_name.as_str());
        let option = self.prelude("Option");
        let unknown = match &catch_all {
            Some(catch_all) => quote!(Some(Self::#catch_all(data))),
            None => quote!(None),
        };
        let data = if catch_all.is_some() {
            quote!(data)
        } else {
            quote!(_data)
        };
        let (member_arg, decode_body) = if u.members.is_empty() {
            (
                quote!(_member),
                quote!(Err(#rt::unexpected_member(type_name, Self::MEMBERS))),
            )
        } else {
            (
                quote!(member),
                quote! {
                    match type_name {
                        #(#de_arms)*
                        _ => Err(#rt::unexpected_member(type_name, Self::MEMBERS)),
                    }
                },
            )
        };
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub enum #name {
                #(#variants)*
            }

            impl #serde::Serialize for #name {
                fn serialize<S: #serde::Serializer>(&self, serializer: S) -> #result<S::Ok, S::Error> {
                    match self {
                        #(#ser_arms)*
                    }
                }
            }

            impl<'de> #serde::Deserialize<'de> for #name {
                fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> #result<Self, D::Error> {
                    #rt::deserialize_union(deserializer)
                }
            }

            impl #rt::Union for #name {
                const MEMBERS: &'static [&'static str] = &[#(#members),*];

                fn decode_member<'de, D: #serde::Deserializer<'de>>(
                    type_name: &str,
                    #member_arg: D,
                ) -> #result<Self, D::Error> {
                    #decode_body
                }

                fn unknown(#data: #rt::Unknown) -> #option<Self> {
                    #unknown
                }
            }
        }
    }

    fn string_enum(&self, id: TypeId, e: &StringEnumIr, doc: TokenStream) -> TokenStream {
        let name = self.type_name(id);
        let rt = &self.rt;
        let serde = &self.serde;
        let result = self.prelude("Result");
        let string = self.prelude("String");
        let values = &e.values;
        let variants: Vec<Ident> = (0..values.len())
            .map(|j| {
                ident(
                    self.names
                        .variants
                        .get(&(id, j))
                        .map_or("Value", String::as_str),
                )
            })
            .collect();
        let variant_docs = values.iter().map(|v| format!(" `{v:?}`"));
        let catch_all = self
            .names
            .catch_all
            .get(&id)
            .filter(|_| e.open)
            .map(|c| ident(c));
        let (other_variant, other_as_str) = match &catch_all {
            Some(c) => (
                quote! {
                    #[doc = " A value the lexicon does not list."]
                    #c(#string),
                },
                quote!(Self::#c(value) => value,),
            ),
            None => (TokenStream::new(), TokenStream::new()),
        };
        let open_doc = if e.open {
            " The values the lexicon lists; others are allowed."
        } else {
            " The only values allowed."
        };
        let mut out = quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum #name {
                #(#[doc = #variant_docs] #variants,)*
                #other_variant
            }

            impl #name {
                #[doc = #open_doc]
                pub const VALUES: &'static [&'static str] = &[#(#values),*];

                /// The value as it goes over the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(Self::#variants => #values,)*
                        #other_as_str
                    }
                }
            }

            impl ::core::fmt::Display for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl #serde::Serialize for #name {
                fn serialize<S: #serde::Serializer>(&self, serializer: S) -> #result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }
        };
        match &catch_all {
            Some(c) => out.extend(quote! {
                impl ::core::convert::From<&str> for #name {
                    fn from(value: &str) -> Self {
                        match value {
                            #(#values => Self::#variants,)*
                            _ => Self::#c(value.to_owned()),
                        }
                    }
                }

                impl ::core::str::FromStr for #name {
                    type Err = ::core::convert::Infallible;

                    fn from_str(value: &str) -> #result<Self, Self::Err> {
                        Ok(Self::from(value))
                    }
                }

                impl<'de> #serde::Deserialize<'de> for #name {
                    fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> #result<Self, D::Error> {
                        #rt::deserialize_str(deserializer, |value| Ok(Self::from(value)))
                    }
                }
            }),
            None => out.extend(quote! {
                impl ::core::str::FromStr for #name {
                    type Err = #rt::UnknownValue;

                    fn from_str(value: &str) -> #result<Self, Self::Err> {
                        match value {
                            #(#values => Ok(Self::#variants),)*
                            _ => Err(#rt::UnknownValue {
                                value: value.to_owned(),
                                expected: Self::VALUES,
                            }),
                        }
                    }
                }

                impl<'de> #serde::Deserialize<'de> for #name {
                    fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> #result<Self, D::Error> {
                        #rt::deserialize_str(deserializer, |value| value.parse::<Self>().map_err(|e| e.to_string()))
                    }
                }
            }),
        }
        out
    }

    fn errors(&self, id: TypeId) -> TokenStream {
        let TypeKind::Errors(errors) = &self.ir.get(id).kind else {
            return TokenStream::new();
        };
        let name = self.type_name(id);
        let rt = &self.rt;
        let serde = &self.serde;
        let result = self.prelude("Result");
        let string = self.prelude("String");
        let option = self.prelude("Option");
        let catch_all = ident(
            self.names
                .catch_all
                .get(&id)
                .map_or("Unknown", String::as_str),
        );
        let variants: Vec<Ident> = (0..errors.len())
            .map(|j| {
                ident(
                    self.names
                        .variants
                        .get(&(id, j))
                        .map_or("Declared", String::as_str),
                )
            })
            .collect();
        let error_names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        let variant_docs = errors.iter().map(|e| match &e.description {
            Some(d) => docs(Some(&format!("`{}`: {d}", e.name))),
            None => docs(Some(&format!("`{}`", e.name))),
        });
        let doc = docs(Some(&format!(
            "The errors `{}` declares, and any other error name a server sends.",
            self.nsid
        )));
        let (from_parts, name_body, message_body) = if variants.is_empty() {
            (
                quote!(Self::#catch_all(#rt::UnknownError { error, message })),
                quote! {
                    let Self::#catch_all(error) = self;
                    &error.error
                },
                quote! {
                    let Self::#catch_all(error) = self;
                    error.message.as_deref()
                },
            )
        } else {
            (
                quote! {
                    match error.as_str() {
                        #(#error_names => Self::#variants { message },)*
                        _ => Self::#catch_all(#rt::UnknownError { error, message }),
                    }
                },
                quote! {
                    match self {
                        #(Self::#variants { .. } => #error_names,)*
                        Self::#catch_all(error) => &error.error,
                    }
                },
                quote! {
                    match self {
                        #(Self::#variants { message })|* => message.as_deref(),
                        Self::#catch_all(error) => error.message.as_deref(),
                    }
                },
            )
        };
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub enum #name {
                #(
                    #variant_docs
                    #variants {
                        /// The server's message.
                        message: #option<#string>,
                    },
                )*
                /// An error name the lexicon does not declare (from a newer version, or a server's own).
                #catch_all(#rt::UnknownError),
            }

            impl #rt::EndpointError for #name {
                const DECLARED: &'static [&'static str] = &[#(#error_names),*];

                fn from_parts(error: #string, message: #option<#string>) -> Self {
                    #from_parts
                }

                fn name(&self) -> &str {
                    #name_body
                }

                fn message(&self) -> #option<&str> {
                    #message_body
                }
            }

            impl ::core::fmt::Display for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    let name = #rt::EndpointError::name(self);
                    match #rt::EndpointError::message(self) {
                        Some(message) => write!(f, "{name}: {message}"),
                        None => f.write_str(name),
                    }
                }
            }

            impl ::std::error::Error for #name {}

            impl #serde::Serialize for #name {
                fn serialize<S: #serde::Serializer>(&self, serializer: S) -> #result<S::Ok, S::Error> {
                    #rt::serialize_error(self, serializer)
                }
            }

            impl<'de> #serde::Deserialize<'de> for #name {
                fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> #result<Self, D::Error> {
                    #rt::deserialize_error(deserializer)
                }
            }
        }
    }

    /// `impl Validate` with the given body (`v` is the validator).
    fn validate_impl(&self, id: TypeId, body: TokenStream) -> TokenStream {
        let rt = &self.rt;
        let name = self.type_name(id);
        let v = if body.is_empty() {
            quote!(_v)
        } else {
            quote!(v)
        };
        quote! {
            impl #rt::Validate for #name {
                fn check(&self, #v: &mut #rt::Validator) {
                    #body
                }
            }
        }
    }

    fn validate_struct(&self, id: TypeId, s: &StructIr) -> TokenStream {
        let mut body = TokenStream::new();
        for (j, field) in s.fields.iter().enumerate() {
            let Some(check) = self.check(quote!(value), &field.ty, &field.schema) else {
                continue;
            };
            let field_ident = ident(
                self.names
                    .fields
                    .get(&(id, j))
                    .map_or("field", String::as_str),
            );
            let json = &field.name;
            let checked = quote!(v.field(#json, |v| #check););
            body.extend(match (field.required, field.nullable) {
                (true, false) => quote! {
                    let value = &self.#field_ident;
                    #checked
                },
                (false, true) => quote! {
                    if let Some(Some(value)) = &self.#field_ident {
                        #checked
                    }
                },
                _ => quote! {
                    if let Some(value) = &self.#field_ident {
                        #checked
                    }
                },
            });
        }
        self.validate_impl(id, body)
    }

    fn validate_union(&self, id: TypeId, u: &UnionIr) -> TokenStream {
        let variants: Vec<Ident> = u
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| self.ir.validates.get(m.target.0).copied().unwrap_or(false))
            .map(|(j, _)| {
                ident(
                    self.names
                        .variants
                        .get(&(id, j))
                        .map_or("Member", String::as_str),
                )
            })
            .collect();
        let exhaustive = variants.len() == u.members.len() && u.closed;
        let body = match (variants.as_slice(), exhaustive) {
            ([], _) => TokenStream::new(),
            ([only], true) => quote! {
                let Self::#only(value) = self;
                v.nested(&**value);
            },
            ([only], false) => quote! {
                if let Self::#only(value) = self {
                    v.nested(&**value);
                }
            },
            (many, exhaustive) => {
                let rest = if exhaustive {
                    TokenStream::new()
                } else {
                    quote!(_ => {})
                };
                quote! {
                    match self {
                        #(Self::#many(value) => v.nested(&**value),)*
                        #rest
                    }
                }
            }
        };
        self.validate_impl(id, body)
    }

    /// An expression that checks `value` (an expression of type `&T`, where
    /// `T` is `ty`) against `schema`, or `None` when there is nothing to check.
    fn check(&self, value: TokenStream, ty: &Ty, schema: &Schema) -> Option<TokenStream> {
        let rt = &self.rt;
        match ty {
            Ty::Named(id) => match &self.ir.get(*id).kind {
                TypeKind::Alias(inner) => {
                    let schema = self.ir.def_schemas.get(id).unwrap_or(schema);
                    self.check(value, inner, schema)
                }
                TypeKind::StringEnum(_) => {
                    let schema = self.ir.def_schemas.get(id).unwrap_or(schema);
                    let rules = string_rules(schema, rt)?;
                    Some(quote!(v.string(#value.as_str(), &#rules)))
                }
                TypeKind::Struct(_) | TypeKind::Union(_)
                    if self.ir.validates.get(id.0).copied().unwrap_or(false) =>
                {
                    Some(quote!(v.nested(#value)))
                }
                _ => None,
            },
            Ty::Array(inner) => {
                let SchemaKind::Array(array) = &schema.kind else {
                    return None;
                };
                let mut exprs = Vec::new();
                if array.min_length.is_some() || array.max_length.is_some() {
                    let min = option_u64(array.min_length);
                    let max = option_u64(array.max_length);
                    exprs.push(quote!(v.array_length(#value.len(), #min, #max)));
                }
                if let Some(item) = self.check(quote!(item), inner, &array.items) {
                    exprs.push(quote!(v.items(#value, |v, item| #item)));
                }
                block(exprs)
            }
            Ty::String(_) => {
                let rules = string_rules(schema, rt)?;
                Some(quote!(v.string(#value, &#rules)))
            }
            Ty::Integer => {
                let SchemaKind::Integer(i) = &schema.kind else {
                    return None;
                };
                if i.minimum.is_none()
                    && i.maximum.is_none()
                    && i.enum_values.is_none()
                    && i.const_value.is_none()
                {
                    return None;
                }
                let min = option_i64(i.minimum);
                let max = option_i64(i.maximum);
                let const_value = option_i64(i.const_value);
                let enum_values = match &i.enum_values {
                    Some(values) => {
                        let values = values
                            .iter()
                            .map(|n| proc_macro2::Literal::i64_unsuffixed(*n));
                        quote!(Some(&[#(#values),*]))
                    }
                    None => quote!(None),
                };
                Some(quote! {
                    v.integer(*#value, &#rt::IntegerRules {
                        minimum: #min,
                        maximum: #max,
                        enum_values: #enum_values,
                        const_value: #const_value,
                    })
                })
            }
            Ty::Bool => match &schema.kind {
                SchemaKind::Boolean(b) if b.const_value.is_some() => {
                    let expected = b.const_value;
                    let expected = match expected {
                        Some(b) => quote!(Some(#b)),
                        None => quote!(None),
                    };
                    Some(quote!(v.boolean(*#value, #expected)))
                }
                _ => None,
            },
            Ty::Bytes => match &schema.kind {
                SchemaKind::Bytes(b) if b.min_length.is_some() || b.max_length.is_some() => {
                    let min = option_u64(b.min_length);
                    let max = option_u64(b.max_length);
                    Some(quote!(v.bytes(#value, #min, #max)))
                }
                _ => None,
            },
            Ty::Blob => match &schema.kind {
                SchemaKind::Blob(b) if b.accept.is_some() || b.max_size.is_some() => {
                    let accept = match &b.accept {
                        Some(patterns) => quote!(Some(&[#(#patterns),*])),
                        None => quote!(None),
                    };
                    let max = option_u64(b.max_size);
                    Some(quote!(v.blob(#value, #accept, #max)))
                }
                _ => None,
            },
            Ty::Unknown => match &schema.kind {
                SchemaKind::Unknown => Some(quote!(v.object(#value))),
                _ => None,
            },
            Ty::CidLink => None,
        }
    }

    /// The `Input`/`Output` alias for bodies without a generated type.
    fn body_alias(&self, body: &Option<BodyIr>, part: Part) -> TokenStream {
        let Some(body) = body else {
            return TokenStream::new();
        };
        let rt = &self.rt;
        let ty = match body.body {
            BodyTy::Json(_) => return TokenStream::new(),
            BodyTy::AnyJson => quote!(#rt::Unknown),
            BodyTy::Binary => quote!(#rt::Binary),
        };
        let name = ident(part_ident(part));
        let text = match (&body.description, &body.body) {
            (Some(d), _) => d.clone(),
            (None, BodyTy::Binary) => format!("A `{}` body.", body.encoding),
            (None, _) => "A JSON body without a schema.".to_owned(),
        };
        let doc = docs(Some(&text));
        quote! {
            #doc
            pub type #name = #ty;
        }
    }

    fn body_assoc(&self, body: &Option<BodyIr>, part: Part) -> (TokenStream, TokenStream) {
        match body {
            None => (quote!(()), quote!(None)),
            Some(body) => {
                let name = ident(part_ident(part));
                let encoding = &body.encoding;
                (quote!(#name), quote!(Some(#encoding)))
            }
        }
    }

    fn endpoint(&self, endpoint: &EndpointIr) -> TokenStream {
        let rt = &self.rt;
        let name = ident(
            self.names
                .endpoints
                .get(self.nsid)
                .map_or("Endpoint", String::as_str),
        );
        let nsid = &endpoint.nsid;
        let kind_text = match endpoint.kind {
            EndpointKind::Query => "query",
            EndpointKind::Procedure => "procedure",
        };
        let kind = match endpoint.kind {
            EndpointKind::Query => quote!(#rt::EndpointKind::Query),
            EndpointKind::Procedure => quote!(#rt::EndpointKind::Procedure),
        };
        let mut doc_text = format!("The `{nsid}` {kind_text}.");
        if let Some(description) = &endpoint.description {
            doc_text.push_str("\n\n");
            doc_text.push_str(description);
        }
        if let Some(binding) = &endpoint.binding {
            doc_text.push_str(&format!(
                "\n\nOver HTTP: `{}` (its binding is `BINDING`).",
                crate::binding::describe(binding)
            ));
        }
        let doc = docs(Some(&doc_text));
        let binding = endpoint.binding.as_ref().map(|binding| {
            let value = crate::binding::tokens(binding, rt);
            quote!(const BINDING: #rt::Binding = #value;)
        });
        let params = if endpoint.params.is_some() {
            quote!(Params)
        } else {
            quote!(())
        };
        let (input, input_encoding) = self.body_assoc(&endpoint.input, Part::Input);
        let (output, output_encoding) = self.body_assoc(&endpoint.output, Part::Output);
        let input_alias = self.body_alias(&endpoint.input, Part::Input);
        let output_alias = self.body_alias(&endpoint.output, Part::Output);
        let input_codec = self.codec(&endpoint.input);
        let output_codec = self.codec(&endpoint.output);
        let pagination = self.pagination(&name, endpoint);
        quote! {
            #doc
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
            pub struct #name;

            impl #rt::Endpoint for #name {
                const NSID: &'static str = #nsid;
                const KIND: #rt::EndpointKind = #kind;
                const INPUT_ENCODING: Option<&'static str> = #input_encoding;
                const OUTPUT_ENCODING: Option<&'static str> = #output_encoding;
                type Params = #params;
                type Input = #input;
                type Output = #output;
                type Error = Error;
                type InputCodec = #input_codec;
                type OutputCodec = #output_codec;
                #binding
            }

            #pagination
            #input_alias
            #output_alias
        }
    }

    /// The codec of a body: JSON, raw bytes, or none.
    fn codec(&self, body: &Option<BodyIr>) -> TokenStream {
        let rt = &self.rt;
        match body.as_ref().map(|b| &b.body) {
            None => quote!(#rt::NoBody),
            Some(BodyTy::Json(_) | BodyTy::AnyJson) => quote!(#rt::Json),
            Some(BodyTy::Binary) => quote!(#rt::Raw),
        }
    }

    /// The struct a body type is, following aliases.
    fn body_struct(&self, id: TypeId) -> Option<(TypeId, &'a StructIr)> {
        let target = match self.ir.resolve_alias(&Ty::Named(id)) {
            Ty::Named(target) => *target,
            _ => return None,
        };
        match &self.ir.get(target).kind {
            TypeKind::Struct(s) => Some((target, s)),
            _ => None,
        }
    }

    /// The field of struct `id` whose JSON name is `json`, with its Rust name.
    fn field_named(&self, id: TypeId, json: &str) -> Option<(Ident, &'a FieldIr)> {
        let ir: &'a Ir = self.ir;
        let TypeKind::Struct(s) = &ir.get(id).kind else {
            return None;
        };
        let (j, field) = s.fields.iter().enumerate().find(|(_, f)| f.name == json)?;
        let name = self.names.fields.get(&(id, j))?;
        Some((ident(name), field))
    }

    /// `Paginated` (and `PaginatedItems`) for a query with a string `cursor`
    /// parameter whose output has a string `cursor`.
    fn pagination(&self, name: &Ident, endpoint: &EndpointIr) -> TokenStream {
        let rt = &self.rt;
        let option = self.prelude("Option");
        let string = self.prelude("String");
        let vec = self.prelude("Vec");
        let Some((params_id, _)) = endpoint.params.and_then(|p| self.body_struct(p)) else {
            return TokenStream::new();
        };
        let Some((param_cursor, param_field)) = self.field_named(params_id, "cursor") else {
            return TokenStream::new();
        };
        let Some(BodyTy::Json(output)) = endpoint.output.as_ref().map(|o| &o.body) else {
            return TokenStream::new();
        };
        let Some((output_id, output)) = self.body_struct(*output) else {
            return TokenStream::new();
        };
        let Some((output_cursor, output_field)) = self.field_named(output_id, "cursor") else {
            return TokenStream::new();
        };
        let is_string = |f: &FieldIr| f.ty == Ty::String(None) && !f.nullable;
        if !is_string(param_field) || param_field.required || !is_string(output_field) {
            return TokenStream::new();
        }
        let read_cursor = if output_field.required {
            quote!(Some(output.#output_cursor.as_str()))
        } else {
            quote!(output.#output_cursor.as_deref())
        };
        let mut out = quote! {
            impl #rt::Paginated for #name {
                fn next_cursor(output: &Self::Output) -> #option<&str> {
                    #read_cursor
                }

                fn set_cursor(params: &mut Self::Params, cursor: #option<#string>) {
                    params.#param_cursor = cursor;
                }
            }
        };
        let lists: Vec<(usize, &FieldIr)> = output
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.ty, Ty::Array(_)) && !f.nullable)
            .collect();
        if let [(j, list)] = lists.as_slice()
            && let Ty::Array(item) = &list.ty
            && let Some(field) = self.names.fields.get(&(output_id, *j))
        {
            let field = ident(field);
            let item = self.ty(item);
            let take = if list.required {
                quote!(output.#field)
            } else {
                quote!(output.#field.unwrap_or_default())
            };
            out.extend(quote! {
                impl #rt::PaginatedItems for #name {
                    type Item = #item;

                    fn items(output: Self::Output) -> #vec<Self::Item> {
                        #take
                    }
                }
            });
        }
        out
    }

    fn subscription(&self, subscription: &SubscriptionIr) -> TokenStream {
        let rt = &self.rt;
        let name = ident(
            self.names
                .endpoints
                .get(self.nsid)
                .map_or("Subscription", String::as_str),
        );
        let nsid = &subscription.nsid;
        let mut doc_text = format!("The `{nsid}` subscription.");
        if let Some(description) = &subscription.description {
            doc_text.push_str("\n\n");
            doc_text.push_str(description);
        }
        let doc = docs(Some(&doc_text));
        let params = if subscription.params.is_some() {
            quote!(Params)
        } else {
            quote!(())
        };
        let message = if subscription.message.is_some() {
            quote!(Message)
        } else {
            quote!(#rt::Unknown)
        };
        quote! {
            #doc
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
            pub struct #name;

            impl #rt::Subscription for #name {
                const NSID: &'static str = #nsid;
                type Params = #params;
                type Message = #message;
                type Error = Error;
            }
        }
    }
}

impl Ir {
    /// The kind of a type, following aliases.
    pub fn resolve_kind(&self, id: TypeId) -> &TypeKind {
        match self.resolve_alias(&Ty::Named(id)) {
            Ty::Named(target) => &self.get(*target).kind,
            _ => &self.get(id).kind,
        }
    }
}

fn part_ident(part: Part) -> &'static str {
    match part {
        Part::Params => "Params",
        Part::Input => "Input",
        Part::Output => "Output",
        Part::Message => "Message",
        Part::Error => "Error",
    }
}

/// One expression, or several as a block.
fn block(mut exprs: Vec<TokenStream>) -> Option<TokenStream> {
    match exprs.len() {
        0 => None,
        1 => exprs.pop(),
        _ => Some(quote!({ #(#exprs;)* })),
    }
}

fn option_u64(value: Option<u64>) -> TokenStream {
    match value {
        Some(n) => {
            let n = proc_macro2::Literal::u64_unsuffixed(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

fn option_i64(value: Option<i64>) -> TokenStream {
    match value {
        Some(n) => {
            let n = proc_macro2::Literal::i64_unsuffixed(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

/// `StringRules { … }` for a string schema with constraints.
fn string_rules(schema: &Schema, rt: &TokenStream) -> Option<TokenStream> {
    let SchemaKind::String(s) = &schema.kind else {
        return None;
    };
    if s.min_length.is_none()
        && s.max_length.is_none()
        && s.min_graphemes.is_none()
        && s.max_graphemes.is_none()
        && s.const_value.is_none()
    {
        return None;
    }
    let mut fields = Vec::new();
    for (name, value) in [
        ("min_length", s.min_length),
        ("max_length", s.max_length),
        ("min_graphemes", s.min_graphemes),
        ("max_graphemes", s.max_graphemes),
    ] {
        if value.is_some() {
            let name = ident(name);
            let value = option_u64(value);
            fields.push(quote!(#name: #value,));
        }
    }
    if let Some(c) = &s.const_value {
        fields.push(quote!(const_value: Some(#c),));
    }
    Some(quote!(#rt::StringRules { #(#fields)* ..#rt::StringRules::NONE }))
}

/// The runtime type of a string format.
fn format_type(format: StringFormat) -> &'static str {
    match format {
        StringFormat::AtIdentifier => "AtIdentifier",
        StringFormat::AtUri => "AtUri",
        StringFormat::Cid => "Cid",
        StringFormat::Datetime => "Datetime",
        StringFormat::Did => "Did",
        StringFormat::Handle => "Handle",
        StringFormat::Nsid => "Nsid",
        StringFormat::Tid => "Tid",
        StringFormat::RecordKey => "RecordKey",
        StringFormat::Uri => "Uri",
        StringFormat::Language => "Language",
    }
}

/// An identifier from a name the names phase produced (`r#type` is raw).
/// Names are sanitized there; anything else still yields a valid identifier.
pub fn ident(name: &str) -> Ident {
    let (raw, bare) = split_raw(name);
    let valid = bare
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && bare != "_";
    if !valid {
        return Ident::new("__invalid_name", Span::call_site());
    }
    if raw && !matches!(bare, "crate" | "self" | "super" | "Self") {
        Ident::new_raw(bare, Span::call_site())
    } else {
        Ident::new(bare, Span::call_site())
    }
}

/// Tokens of a path such as `::atlex` or `crate::lexicons`.
pub fn path_tokens(path: &str) -> TokenStream {
    let mut out = TokenStream::new();
    let absolute = path.starts_with("::");
    for (i, segment) in path.trim_start_matches("::").split("::").enumerate() {
        if i > 0 || absolute {
            out.extend(quote!(::));
        }
        ident(segment).to_tokens(&mut out);
    }
    out
}

/// Doc attributes for a description: one `#[doc]` per line, leading
/// whitespace trimmed (so nothing turns into a code block or doctest),
/// brackets escaped (no accidental intra-doc links) and bare URLs wrapped.
pub fn docs(text: Option<&str>) -> TokenStream {
    let Some(text) = text else {
        return TokenStream::new();
    };
    let lines: Vec<String> = text
        .trim()
        .lines()
        // Tabs become spaces: rustdoc and clippy expect no tabs in docs.
        .map(|line| format!(" {}", doc_line(&line.trim().replace('\t', "    "))))
        .map(|line| line.trim_end().to_owned())
        .collect();
    quote!(#(#[doc = #lines])*)
}

fn doc_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let is_url = word.starts_with("https://") || word.starts_with("http://");
        if is_url {
            let end = word.trim_end_matches(['.', ',', ')', ';', ':']).len();
            let (url, tail) = word.split_at(end);
            out.push('<');
            out.push_str(url);
            out.push('>');
            out.push_str(&escape_doc(tail));
        } else {
            out.push_str(&escape_doc(word));
        }
    }
    out
}

fn escape_doc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}
