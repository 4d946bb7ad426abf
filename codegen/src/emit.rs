//! Emission: the IR and its names, as Rust tokens, one module per document.
//! Emission decides nothing about the lexicon: every fact it writes (names,
//! constraints, pagination, groups of endpoints) was settled by [`crate::ir`]
//! and [`crate::names`].
//!
//! Generated code is type definitions and the derives of the runtime
//! (`#[derive(::atlex::rt::Object)]` and its kin, with `#[lex(...)]`
//! attributes), which write the impls that are the same for every type.
//! Conventions:
//! - the runtime is reached only through `<runtime>::rt` (by default
//!   `::atlex::rt`);
//! - types of other modules are referred to by a path relative to the module
//!   written (`super::super::richtext::facet::Facet`), which holds wherever
//!   the tree is mounted, or, when a root is configured, by absolute path
//!   from it (`crate::app::bsky::richtext::facet::Facet`);
//! - prelude types are written bare unless a generated type of the same
//!   module shadows them (a definition named `Result`), then by full path;
//! - every struct and every open enum is `#[non_exhaustive]`: built with
//!   `new` and the `with_*` setters, matched with a wildcard arm, so a change
//!   `atlex diff` calls compatible (an optional field, a union member, a
//!   known value, an error) does not break code that uses them.

mod docs;
mod records;
mod service;

use std::collections::HashMap;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use crate::ir::{
    BodyIr, BodyTy, DefaultValue, EndpointIr, EndpointKind, FieldIr, Ir, Item, NameHint, Part,
    PermissionSetIr, RulesIr, SpaceIr, StringEnumIr, StructIr, StructRole, SubscriptionIr, Ty,
    TypeId, TypeKind, UnionIr,
};
use crate::lexicon::StringFormat;
use crate::names::{Names, wire_name};

pub(crate) use docs::{docs, docs_or, ident, path_tokens};
pub(crate) use records::record_dispatch;
pub(crate) use service::service;

/// Paths and switches the emitted code uses.
#[derive(Clone, Debug)]
pub(crate) struct EmitConfig {
    /// The runtime crate, `::atlex` by default.
    pub runtime: String,
    /// Where the generated module tree is mounted (`crate`), for absolute
    /// paths between its modules; `None` (the default): relative paths.
    pub root: Option<String>,
    /// NSID prefixes whose types live in another crate, with that crate's path
    /// for the prefix (`("com.atproto", "::atlex_lexicons::com::atproto")`).
    pub extern_paths: Vec<(String, String)>,
    /// The cargo feature the `Service` traits and `register` functions sit
    /// behind, if any.
    pub server_feature: Option<String>,
}

impl Default for EmitConfig {
    fn default() -> Self {
        Self {
            runtime: "::atlex".to_owned(),
            root: None,
            extern_paths: Vec::new(),
            server_feature: None,
        }
    }
}

/// Emits the items of the module of document `nsid`.
pub(crate) fn module(
    ir: &Ir,
    names: &Names,
    config: &EmitConfig,
    nsid: &str,
) -> Option<TokenStream> {
    let module = ir.modules.get(nsid)?;
    let emitter = Emitter::new(ir, names, config, nsid);
    let mut tokens = TokenStream::new();
    tokens.extend(quote! {
        #[doc = " The NSID of this lexicon."]
        pub const NSID: &str = #nsid;
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
            Item::Space(space) => tokens.extend(emitter.space(space)),
            Item::PermissionSet(set) => {
                let name = names
                    .permission_sets
                    .get(nsid)
                    .map_or("PermissionSet", String::as_str);
                tokens.extend(emitter.permission_set(ident(name), set));
            }
        }
    }
    Some(tokens)
}

/// The doc text of a document's module.
pub(crate) fn module_doc(module: &crate::ir::Module) -> Option<String> {
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
    let space = module.items.iter().find_map(|i| match i {
        Item::Space(s) => Some(s),
        _ => None,
    });
    if let Some(space) = space {
        doc.push_str(&format!(
            ": space type \"{}\", requested as the OAuth scope `space:{}`.",
            space.space.name, module.nsid
        ));
        if let Some(description) = &space.description {
            doc.push_str("\n\n");
            doc.push_str(description);
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
    /// The module path of the module written, from the root of the tree
    /// (empty at the root).
    here: &'a [String],
    rt: TokenStream,
    /// `crate = "…"` for `#[lex]` attributes, when the runtime is not `::atlex`.
    krate: Option<TokenStream>,
}

impl<'a> Emitter<'a> {
    fn new(ir: &'a Ir, names: &'a Names, config: &'a EmitConfig, nsid: &'a str) -> Self {
        let runtime = path_tokens(&config.runtime);
        let krate = (config.runtime != "::atlex").then(|| {
            let path = &config.runtime;
            quote!(crate = #path)
        });
        Self {
            ir,
            names,
            config,
            nsid,
            here: names.modules.get(nsid).map_or(&[], Vec::as_slice),
            rt: quote!(#runtime::rt),
            krate,
        }
    }

    /// The unit struct describing a permission set, and its
    /// `PermissionSet` impl: the set's NSID, title, detail and permissions.
    fn permission_set(&self, name: Ident, set: &PermissionSetIr) -> TokenStream {
        let rt = &self.rt;
        let nsid = self.nsid;
        let mut text = match &set.title {
            Some(title) => format!("The permission set \"{title}\""),
            None => format!("The permission set `{nsid}`"),
        };
        text.push_str(&format!(", requested as the OAuth scope `include:{nsid}`."));
        if let Some(detail) = &set.detail {
            text.push_str("\n\n");
            text.push_str(detail);
        }
        let doc = docs(Some(&text));
        let text = |t: &Option<String>| match t {
            Some(t) => quote!(::core::option::Option::Some(#t)),
            None => quote!(::core::option::Option::None),
        };
        let (title, detail) = (text(&set.title), text(&set.detail));
        let permissions = &set.permissions;
        quote! {
            #doc
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
            pub struct #name;

            impl #rt::PermissionSet for #name {
                const NSID: &'static str = NSID;
                const TITLE: ::core::option::Option<&'static str> = #title;
                const DETAIL: ::core::option::Option<&'static str> = #detail;
                const PERMISSIONS: &'static str = #permissions;
            }
        }
    }

    /// The constants of a space type declaration: what it declares, for
    /// building `space:` scopes and consent screens.
    fn space(&self, space: &SpaceIr) -> TokenStream {
        let s = &space.space;
        let (key, name) = (&s.key, &s.name);
        let langs = s
            .name_lang
            .iter()
            .map(|(lang, name)| quote!((#lang, #name)));
        let collections = &s.collections;
        let key_doc = docs(Some(
            "The kind of space key this space type recommends, written as a record key type is: `tid`, `nsid`, `any`, or `literal:` and the fixed key.",
        ));
        let name_doc = docs(Some(
            "The space type's name, shown to users on consent screens.",
        ));
        let lang_doc = docs(Some("The name in other languages: (language tag, name)."));
        let collections_doc = docs(Some(
            "The collections a space of this type is expected to hold: the default collections of a `space:` OAuth scope for it.",
        ));
        quote! {
            #key_doc
            pub const SPACE_KEY: &str = #key;
            #name_doc
            pub const SPACE_NAME: &str = #name;
            #lang_doc
            pub const SPACE_NAME_LANG: &[(&str, &str)] = &[#(#langs),*];
            #collections_doc
            pub const SPACE_COLLECTIONS: &[&str] = &[#(#collections),*];
        }
    }

    /// `#[lex(…)]` of an item, with the runtime's path when it is not the
    /// default; nothing when there is nothing to say.
    fn container_attr(&self, mut args: Vec<TokenStream>) -> TokenStream {
        if let Some(krate) = &self.krate {
            args.insert(0, krate.clone());
        }
        if args.is_empty() {
            TokenStream::new()
        } else {
            quote!(#[lex(#(#args),*)])
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
        if let Some(root) = &self.config.root {
            let root = path_tokens(root);
            let rest = segments.iter().map(|s| ident(s));
            return quote!(#root #(::#rest)*);
        }
        relative_path(self.here, segments)
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

    fn field_name(&self, id: TypeId, j: usize) -> &'a str {
        let names: &'a Names = self.names;
        names.fields.get(&(id, j)).map_or("field", String::as_str)
    }

    fn variant(&self, id: TypeId, j: usize, fallback: &'static str) -> Ident {
        ident(
            self.names
                .variants
                .get(&(id, j))
                .map_or(fallback, String::as_str),
        )
    }

    /// Emits a type, then the inline types it owns, depth first.
    fn type_tree(&self, id: TypeId, owned: &HashMap<TypeId, Vec<TypeId>>, out: &mut TokenStream) {
        out.extend(self.type_decl(id));
        if let Some(alias) = self.names.main_aliases.get(&id) {
            let alias = ident(alias);
            let name = self.type_name(id);
            let note =
                format!("a document's main definition is named after the document: `{name}`");
            out.extend(quote! {
                /// The main definition's earlier name.
                #[deprecated(note = #note)]
                pub type #alias = #name;
            });
        }
        if let Some(children) = owned.get(&id) {
            for child in children {
                self.type_tree(*child, owned, out);
            }
        }
    }

    fn type_decl(&self, id: TypeId) -> TokenStream {
        let decl = self.ir.get(id);
        let doc = docs_or(decl.description.as_deref(), || self.undescribed_type(id));
        match &decl.kind {
            TypeKind::Struct(s) => self.structure(id, s, doc),
            TypeKind::Union(u) => self.union(id, u, doc),
            TypeKind::StringEnum(e) => self.string_enum(id, e, doc),
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

    /// The doc of a type whose lexicon gives no description: what it is, by
    /// the name the lexicon gives it.
    fn undescribed_type(&self, id: TypeId) -> String {
        let decl = self.ir.get(id);
        let module = &decl.module;
        match &decl.hint {
            NameHint::Def(def) => {
                let reference = if def == "main" {
                    module.clone()
                } else {
                    format!("{module}#{def}")
                };
                match &decl.kind {
                    TypeKind::Struct(StructIr {
                        role: StructRole::Record { .. },
                        ..
                    }) => format!("The record `{reference}`."),
                    TypeKind::StringEnum(_) => format!("The values of `{reference}`."),
                    _ => format!("The definition `{reference}`."),
                }
            }
            NameHint::Part(part) => match part {
                Part::Params => format!("The parameters of `{module}`."),
                Part::Input => format!("The input of `{module}`."),
                Part::Output => format!("The output of `{module}`."),
                Part::Message => format!("A message of `{module}`."),
                Part::Error => format!("The errors of `{module}`."),
            },
            NameHint::Inline { owner, field, item } => {
                let owner = self.type_name(*owner);
                if *item {
                    format!("An item of `{owner}`'s property `{field}`.")
                } else {
                    format!("The value of `{owner}`'s property `{field}`.")
                }
            }
        }
    }

    fn structure(&self, id: TypeId, s: &StructIr, doc: TokenStream) -> TokenStream {
        let rt = &self.rt;
        let name = self.type_name(id);
        let mut fields = Vec::with_capacity(s.fields.len());
        for (j, field) in s.fields.iter().enumerate() {
            let field_name = self.field_name(id, j);
            let field_ident = ident(field_name);
            let ty = self.field_ty(field);
            let field_doc = docs_or(field.description.as_deref(), || match s.role {
                StructRole::Params => format!("The parameter `{}`.", field.name),
                _ => format!("The property `{}`.", field.name),
            });
            let mut args: Vec<TokenStream> = Vec::new();
            if wire_name(field_name) != field.name {
                let json = &field.name;
                args.push(quote!(rename = #json));
            }
            if field.required && field.nullable {
                args.push(quote!(required));
            }
            if let Some(default) = self.default(field) {
                args.push(quote!(default = #default));
            }
            if let Some(check) = &field.check {
                args.push(check_tokens(check));
            }
            let attr = if args.is_empty() {
                TokenStream::new()
            } else {
                quote!(#[lex(#(#args),*)])
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
                /// What the lexicon does not declare (properties, a `$type`), kept as received.
                #[lex(unknown)]
                pub #extra: #rt::ExtraFields,
            });
        }
        let default = s
            .fields
            .iter()
            .all(|f| !f.required)
            .then(|| quote!(Default,));
        let (derive, mut args) = match &s.role {
            StructRole::Params => (quote!(#rt::Params), Vec::new()),
            StructRole::Record { key } => {
                let nsid = self.nsid;
                (
                    quote!(#rt::Object),
                    vec![quote!(record = #nsid), quote!(key = #key)],
                )
            }
            StructRole::Object | StructRole::Body => {
                let args = s
                    .type_name
                    .as_ref()
                    .map(|t| vec![quote!(type = #t)])
                    .unwrap_or_default();
                (quote!(#rt::Object), args)
            }
        };
        if let Some(builder) = self.names.builders.get(&id) {
            args.push(quote!(builder = #builder));
        }
        let attr = self.container_attr(args);
        quote! {
            #doc
            #[derive(Clone, Debug, #default PartialEq, Eq, #derive)]
            #attr
            #[non_exhaustive]
            pub struct #name {
                #(#fields)*
            }
        }
    }

    /// The `default = …` of a field: for optional, non-null fields with a
    /// lexicon default.
    fn default(&self, field: &FieldIr) -> Option<TokenStream> {
        let default = field.default.as_ref()?;
        if field.required || field.nullable {
            return None;
        }
        match (default, &field.ty) {
            (DefaultValue::Bool(b), Ty::Bool) => Some(quote!(#b)),
            (DefaultValue::Integer(i), Ty::Integer) => Some(int_tokens(*i)),
            (DefaultValue::String(value), Ty::String(None)) => Some(quote!(#value)),
            (DefaultValue::String(value), Ty::Named(target)) => self.enum_value(*target, value),
            _ => None,
        }
    }

    /// Value `value` of string enum `target`: its variant, or the text for an
    /// open enum's catch-all.
    fn enum_value(&self, target: TypeId, value: &str) -> Option<TokenStream> {
        let TypeKind::StringEnum(e) = self.ir.resolve_kind(target) else {
            return None;
        };
        let target = match self.ir.resolve_alias(&Ty::Named(target)) {
            Ty::Named(t) => *t,
            _ => target,
        };
        if let Some(j) = e.values.iter().position(|v| v == value) {
            let path = self.type_path(target);
            let variant = ident(self.names.variants.get(&(target, j))?);
            return Some(quote!(#path::#variant));
        }
        e.open.then(|| quote!(#value))
    }

    fn union(&self, id: TypeId, u: &UnionIr, doc: TokenStream) -> TokenStream {
        let rt = &self.rt;
        let name = self.type_name(id);
        let boxed = self.prelude("Box");
        let mut variants = Vec::new();
        for (j, member) in u.members.iter().enumerate() {
            let variant = self.variant(id, j, "Member");
            let ty = self.type_path(member.target);
            let type_name = &member.type_name;
            let doc = docs(Some(&format!("A `{type_name}`.")));
            variants.push(quote! {
                #doc
                #[lex(#type_name)]
                #variant(#boxed<#ty>),
            });
        }
        if let Some(catch_all) = self.names.catch_all.get(&id).filter(|_| !u.closed) {
            let catch_all = ident(catch_all);
            variants.push(quote! {
                /// A member this code does not know (from a newer lexicon), kept as it was received.
                #[lex(unknown)]
                #catch_all(#rt::Unknown),
            });
        }
        let attr = self.container_attr(Vec::new());
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq, #rt::Union)]
            #attr
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
            }
        }
    }

    fn string_enum(&self, id: TypeId, e: &StringEnumIr, doc: TokenStream) -> TokenStream {
        let rt = &self.rt;
        let name = self.type_name(id);
        let string = self.prelude("String");
        let mut variants = Vec::new();
        for (j, value) in e.values.iter().enumerate() {
            let variant = self.variant(id, j, "Value");
            let doc = docs(Some(&format!("The value `{value}`.")));
            variants.push(quote! {
                #doc
                #[lex(#value)]
                #variant,
            });
        }
        let open = e.open.then(|| quote!(#[non_exhaustive]));
        if let Some(catch_all) = self.names.catch_all.get(&id).filter(|_| e.open) {
            let catch_all = ident(catch_all);
            variants.push(quote! {
                /// A value the lexicon does not list.
                #[lex(other)]
                #catch_all(#string),
            });
        }
        let attr = self.container_attr(Vec::new());
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, #rt::StringEnum)]
            #attr
            #open
            pub enum #name {
                #(#variants)*
            }
        }
    }

    fn errors(&self, id: TypeId) -> TokenStream {
        let TypeKind::Errors(errors) = &self.ir.get(id).kind else {
            return TokenStream::new();
        };
        let rt = &self.rt;
        let name = self.type_name(id);
        let nsid = self.nsid;
        if errors.is_empty() {
            let doc = docs(Some(&format!(
                "`{nsid}` declares no errors: any error name a server sends is undeclared."
            )));
            return quote! {
                #doc
                pub type #name = #rt::UndeclaredError;
            };
        }
        let string = self.prelude("String");
        let option = self.prelude("Option");
        let mut variants = Vec::new();
        for (j, error) in errors.iter().enumerate() {
            let variant = self.variant(id, j, "Declared");
            let doc = docs_or(error.description.as_deref(), || {
                format!("The error `{}`.", error.name)
            });
            let rename = (variant != error.name).then(|| {
                let wire = &error.name;
                quote!(#[lex(rename = #wire)])
            });
            variants.push(quote! {
                #doc
                #rename
                #variant {
                    /// The message the server sent with the error, if any.
                    message: #option<#string>,
                },
            });
        }
        let catch_all = ident(
            self.names
                .catch_all
                .get(&id)
                .map_or("Unknown", String::as_str),
        );
        let doc = docs(Some(&format!(
            "The errors `{nsid}` declares, and any other error name a server sends."
        )));
        let attr = self.container_attr(Vec::new());
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq, #rt::EndpointError)]
            #attr
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                /// An error name the lexicon does not declare (from a newer version, or a server's own).
                #[lex(unknown)]
                #catch_all(#rt::UnknownError),
            }
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

    fn descriptor_name(&self, fallback: &'static str) -> Ident {
        ident(
            self.names
                .endpoints
                .get(self.nsid)
                .map_or(fallback, String::as_str),
        )
    }

    fn endpoint(&self, endpoint: &EndpointIr) -> TokenStream {
        let rt = &self.rt;
        let name = self.descriptor_name("Endpoint");
        let nsid = &endpoint.nsid;
        let (kind_text, kind) = match endpoint.kind {
            EndpointKind::Query => ("query", quote!(query = #nsid)),
            EndpointKind::Procedure => ("procedure", quote!(procedure = #nsid)),
        };
        let mut doc_text = format!("The `{nsid}` {kind_text}.");
        if let Some(description) = &endpoint.description {
            doc_text.push_str("\n\n");
            doc_text.push_str(description);
        }
        let mut args = vec![kind];
        if endpoint.params.is_some() {
            args.push(quote!(params));
        }
        if let Some(input) = &endpoint.input {
            let encoding = &input.encoding;
            args.push(quote!(input = #encoding));
        }
        if let Some(output) = &endpoint.output {
            let encoding = &output.encoding;
            args.push(quote!(output = #encoding));
        }
        let mut binding = TokenStream::new();
        if let (Some(b), Some(constant)) = (&endpoint.binding, self.names.bindings.get(self.nsid)) {
            let constant = ident(constant);
            let shown = crate::binding::describe(b);
            doc_text.push_str(&format!("\n\nOver HTTP: `{shown}` (see `{constant}`)."));
            let value = crate::binding::tokens(b, rt);
            let binding_doc = docs(Some(&format!("How `{nsid}` travels over HTTP: `{shown}`.")));
            binding = quote! {
                #binding_doc
                pub const #constant: #rt::Binding = #value;
            };
            args.push(quote!(binding = #constant));
        }
        let doc = docs(Some(&doc_text));
        let attr = self.container_attr(args);
        let pagination = self.pagination(&name, endpoint);
        let input_alias = self.body_alias(&endpoint.input, Part::Input);
        let output_alias = self.body_alias(&endpoint.output, Part::Output);
        quote! {
            #doc
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, #rt::Endpoint)]
            #attr
            pub struct #name;

            #binding
            #pagination
            #input_alias
            #output_alias
        }
    }

    /// `Paginated` (and `PaginatedItems`) for a query the IR found pages.
    fn pagination(&self, name: &Ident, endpoint: &EndpointIr) -> TokenStream {
        let Some(p) = &endpoint.pagination else {
            return TokenStream::new();
        };
        let rt = &self.rt;
        let option = self.prelude("Option");
        let string = self.prelude("String");
        let vec = self.prelude("Vec");
        let param_cursor = ident(self.field_name(p.params.0, p.params.1));
        let output_cursor = ident(self.field_name(p.output.0, p.output.1));
        let read_cursor = if p.cursor_required {
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
        if let Some((j, item, required)) = &p.items {
            let field = ident(self.field_name(p.output.0, *j));
            let item = self.ty(item);
            let take = if *required {
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
        let name = self.descriptor_name("Subscription");
        let nsid = &subscription.nsid;
        let mut doc_text = format!("The `{nsid}` subscription.");
        if let Some(description) = &subscription.description {
            doc_text.push_str("\n\n");
            doc_text.push_str(description);
        }
        let doc = docs(Some(&doc_text));
        let mut args = vec![quote!(subscription = #nsid)];
        if subscription.params.is_some() {
            args.push(quote!(params));
        }
        if subscription.message.is_some() {
            args.push(quote!(message));
        }
        if let Some(token) = &subscription.subprotocol {
            args.push(quote!(subprotocol = #token));
        }
        let attr = self.container_attr(args);
        quote! {
            #doc
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, #rt::Subscription)]
            #attr
            pub struct #name;
        }
    }
}

impl Ir {
    /// The kind of a type, following aliases.
    pub(crate) fn resolve_kind(&self, id: TypeId) -> &TypeKind {
        match self.resolve_alias(&Ty::Named(id)) {
            Ty::Named(target) => &self.get(*target).kind,
            _ => &self.get(id).kind,
        }
    }
}

/// The path from module `here` to module `to` (both from the root of the
/// tree): up to their common ancestor with `super`, then down (`self` when
/// `to` is below `here`).
fn relative_path(here: &[String], to: &[String]) -> TokenStream {
    let common = here.iter().zip(to).take_while(|(a, b)| a == b).count();
    let up = here.len() - common;
    let down = to[common..].iter().map(|s| ident(s));
    if up == 0 {
        quote!(self #(::#down)*)
    } else {
        let supers = std::iter::repeat_n(quote!(super), up);
        quote!(#(#supers)::* #(::#down)*)
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

fn int_tokens(value: i64) -> TokenStream {
    let literal = Literal::u64_unsuffixed(value.unsigned_abs());
    if value < 0 {
        quote!(-#literal)
    } else {
        quote!(#literal)
    }
}

/// Whether checking a value with `rules` is just checking what its own type
/// (or each item's, for an array) declares, which `check` alone says.
fn is_plain_nested(rules: &RulesIr) -> bool {
    rules.is_nested_only()
        || (RulesIr {
            items: None,
            ..rules.clone()
        } == RulesIr::default()
            && rules.items.as_deref().is_some_and(is_plain_nested))
}

/// `check` or `check(…)` of a field's `#[lex]` attribute.
fn check_tokens(rules: &RulesIr) -> TokenStream {
    if is_plain_nested(rules) {
        return quote!(check);
    }
    let inner = rules_tokens(rules);
    quote!(check(#(#inner),*))
}

fn rules_tokens(rules: &RulesIr) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for (name, value) in [
        ("min_length", rules.min_length),
        ("max_length", rules.max_length),
        ("min_graphemes", rules.min_graphemes),
        ("max_graphemes", rules.max_graphemes),
        ("max_size", rules.max_size),
    ] {
        if let Some(value) = value {
            let name = ident(name);
            let value = Literal::u64_unsuffixed(value);
            out.push(quote!(#name = #value));
        }
    }
    for (name, value) in [("minimum", rules.minimum), ("maximum", rules.maximum)] {
        if let Some(value) = value {
            let name = ident(name);
            let value = int_tokens(value);
            out.push(quote!(#name = #value));
        }
    }
    if let Some(values) = &rules.int_enum {
        let values = values.iter().map(|v| int_tokens(*v));
        out.push(quote!(enum_values = [#(#values),*]));
    }
    if let Some(value) = &rules.const_str {
        out.push(quote!(const_value = #value));
    }
    if let Some(value) = rules.const_int {
        let value = int_tokens(value);
        out.push(quote!(const_value = #value));
    }
    if let Some(value) = rules.const_bool {
        out.push(quote!(const_value = #value));
    }
    if let Some(accept) = &rules.accept {
        out.push(quote!(accept = [#(#accept),*]));
    }
    if rules.object {
        out.push(quote!(object));
    }
    if rules.nested {
        out.push(quote!(nested));
    }
    if let Some(items) = &rules.items {
        if is_plain_nested(items) {
            out.push(quote!(items));
        } else {
            let inner = rules_tokens(items);
            out.push(quote!(items(#(#inner),*)));
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_go_up_to_the_common_ancestor_then_down() {
        let path = |s: &str| -> Vec<String> {
            s.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let relative = |here: &str, to: &str| relative_path(&path(here), &path(to)).to_string();
        assert_eq!(
            relative("app::bsky::feed::post", "app::bsky::richtext::facet"),
            "super :: super :: richtext :: facet"
        );
        assert_eq!(
            relative("app::bsky::feed::post", "app::bsky::feed::like"),
            "super :: like"
        );
        assert_eq!(
            relative("app::bsky::feed::post", "com::atproto::repo"),
            "super :: super :: super :: super :: com :: atproto :: repo"
        );
        // From the root, and from a document that is a namespace too.
        assert_eq!(
            relative("", "app::bsky::feed::post"),
            "self :: app :: bsky :: feed :: post"
        );
        assert_eq!(
            relative("app::bsky::feed", "app::bsky::feed::post"),
            "self :: post"
        );
        assert_eq!(
            relative("app::bsky::feed::post", "app::bsky::feed"),
            "super"
        );
    }

    #[test]
    fn rules_become_attributes() {
        let tags = RulesIr {
            max_length: Some(8),
            items: Some(Box::new(RulesIr {
                max_length: Some(640),
                max_graphemes: Some(64),
                ..RulesIr::default()
            })),
            ..RulesIr::default()
        };
        assert_eq!(
            check_tokens(&tags).to_string(),
            "check (max_length = 8 , items (max_length = 640 , max_graphemes = 64))"
        );
        let nested_items = RulesIr {
            items: Some(Box::new(RulesIr::nested())),
            ..RulesIr::default()
        };
        assert_eq!(check_tokens(&nested_items).to_string(), "check");
        let bounded = RulesIr {
            minimum: Some(-3),
            int_enum: Some(vec![1, -2]),
            ..RulesIr::default()
        };
        assert_eq!(
            check_tokens(&bounded).to_string(),
            "check (minimum = - 3 , enum_values = [1 , - 2])"
        );
    }
}
