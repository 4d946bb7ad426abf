//! Naming: the one place that decides every Rust name the generator writes.
//!
//! - NSID segments become snake_case module names (`leaveConvo` → `leave_convo`).
//! - Definitions become UpperCamel types; a document's `main` takes the name of
//!   its last NSID segment (`app.bsky.feed.post` → `Post`); inline types are
//!   named after their owner and field (`ConvoView` + `lastMessage` →
//!   `ConvoViewLastMessage`).
//! - Endpoint modules reserve `Params`, `Input`, `Output`, `Error`, `Message`
//!   and the endpoint's own name (`LeaveConvo`).
//! - Fields become snake_case; a field's JSON name is its name in
//!   lowerCamelCase ([`wire_name`]) unless the emitter says otherwise. The
//!   methods the `Object` derive adds follow from field names: `new`,
//!   `with_<field>` setters and `<field>_or_default` accessors, which cannot
//!   meet each other or trait methods.
//! - Each group of endpoints (`chat.bsky.convo`) gets a `Service` trait and a
//!   `register` function in its module; a definition there that would also be
//!   `Service` gives way (`ServiceDef`). An endpoint with an HTTP binding has
//!   a `BINDING` constant.
//! - Keywords are escaped (`r#type`; `self` → `self_`, which cannot be raw).
//!
//! Two things that would get the same name are resolved deterministically (in
//! definition order, the later one gets a numeric suffix) and reported as a
//! warning that names both.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

use crate::catalog::Catalog;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::ir::{Ir, Item, NameHint, Part, StructRole, TypeId, TypeKind};
use crate::lexicon::DefKey;

/// Prelude names the emitter writes bare unless a generated type in the same
/// module shadows them.
pub(crate) const PRELUDE_TYPES: &[&str] = &["Box", "Option", "Result", "String", "Vec"];

/// The names tried, in order, for the field that keeps an object's
/// undeclared properties; a lexicon property takes precedence.
const EXTRA_FIELD_NAMES: &[&str] = &["extra", "extra_fields", "unknown_fields"];

/// Every name of the generated code.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    /// Module path of each document, as identifiers (`["chat", "bsky", "convo", "leave_convo"]`).
    pub modules: BTreeMap<String, Vec<String>>,
    /// Type name of each [`TypeId`].
    pub types: Vec<String>,
    /// Field names, by type and field index.
    pub fields: HashMap<(TypeId, usize), String>,
    /// Variant names of unions, string enums and error enums, by type and index.
    pub variants: HashMap<(TypeId, usize), String>,
    /// The catch-all variant of open unions, open string enums and error enums.
    pub catch_all: HashMap<TypeId, String>,
    /// Constant names of tokens.
    pub tokens: HashMap<DefKey, String>,
    /// Endpoint (and subscription) descriptor names, by NSID.
    pub endpoints: HashMap<String, String>,
    /// Prelude type names shadowed in a module, by NSID.
    pub shadowed: HashMap<String, BTreeSet<&'static str>>,
    /// Main definitions that earlier versions named `Main` (another
    /// definition of the document had its name), with that name: the
    /// generated code keeps it as a deprecated alias.
    pub main_aliases: HashMap<TypeId, String>,
    /// The builder type of each struct with two or more required fields
    /// (`#[derive(Object)]` makes it), where it is not the derive's own
    /// choice, [`builder_name`] of the struct's name: that name was taken
    /// in the module.
    pub builders: HashMap<TypeId, String>,
    /// With `keep_unknown_fields`: the field of each object (not params)
    /// that keeps the properties its lexicon does not declare.
    pub extra_fields: HashMap<TypeId, String>,
    /// The record types, by NSID, with their variant in the record dispatch
    /// ([`RECORD_DISPATCH`]): `app.bsky.feed.post` is `AppBskyFeedPost`.
    pub records: BTreeMap<String, (TypeId, String)>,
    /// The server items of each group of endpoints, by NSID prefix.
    pub services: BTreeMap<String, ServiceNames>,
    /// The constant holding an endpoint's HTTP binding, by NSID.
    pub bindings: HashMap<String, String>,
    /// The unit struct describing a permission set, by NSID.
    pub permission_sets: HashMap<String, String>,
}

/// The items a group of endpoints gets in its module.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServiceNames {
    /// The trait servers implement (`Service`).
    pub service: String,
    /// The function that mounts an implementation (`register`).
    pub register: String,
    /// For each endpoint, its NSID and the trait method's name (its module's).
    pub methods: Vec<(String, String)>,
}

/// Whether `module` has a `main` definition.
fn has_main(ir: &Ir, module: &crate::ir::Module) -> bool {
    module.items.iter().any(|item| {
        matches!(item, Item::Type(id) if matches!(&ir.get(*id).hint, NameHint::Def(d) if d == "main"))
    })
}

/// Whether a definition of `module` other than `main` (`id`) has the name
/// `own`, the document's.
fn contests_main(ir: &Ir, module: &crate::ir::Module, main: TypeId, own: &str) -> bool {
    module.items.iter().any(|item| {
        matches!(item, Item::Type(other)
            if *other != main
                && matches!(&ir.get(*other).hint, NameHint::Def(d) if type_ident(d) == own))
    })
}

/// The builder `#[derive(Object)]` and `#[derive(Params)]` make for a struct
/// with two or more required fields, unless told another name
/// (`atlex-names`, shared with the derive).
pub(crate) use atlex_names::builder_name;

/// The name of the enum, at the root of the generated tree, of every record
/// type chosen by `$type`.
pub(crate) const RECORD_DISPATCH: &str = "Record";

/// The catch-all variant of the record dispatch.
pub(crate) const RECORD_DISPATCH_UNKNOWN: &str = "Unknown";

impl Names {
    /// Whether the prelude type `name` is shadowed in module `nsid`.
    pub(crate) fn is_shadowed(&self, nsid: &str, name: &str) -> bool {
        self.shadowed.get(nsid).is_some_and(|s| s.contains(name))
    }
}

/// Names everything in `ir`.
pub(crate) fn assign(
    ir: &Ir,
    catalog: &Catalog,
    keep_unknown_fields: bool,
    diagnostics: &mut Diagnostics,
) -> Names {
    let mut names = Names {
        types: vec![String::new(); ir.types.len()],
        ..Names::default()
    };
    module_paths(ir, catalog, &mut names, diagnostics);
    record_variants(ir, &mut names);

    // Types per module, in id order (definitions are reserved before their
    // inline types, so an owner is named before what it owns).
    let mut by_module: BTreeMap<&str, Vec<TypeId>> = BTreeMap::new();
    for (i, decl) in ir.types.iter().enumerate() {
        by_module
            .entry(decl.module.as_str())
            .or_default()
            .push(TypeId(i));
    }
    for (group, members) in &ir.groups {
        let methods = members
            .iter()
            .filter_map(|nsid| {
                let module = names.modules.get(nsid)?.last()?;
                Some((nsid.clone(), module.clone()))
            })
            .collect();
        names.services.insert(
            group.clone(),
            ServiceNames {
                service: "Service".to_owned(),
                register: "register".to_owned(),
                methods,
            },
        );
    }
    for (nsid, module) in &ir.modules {
        let mut scope = Scope::new(catalog, nsid);
        if ir.groups.contains_key(nsid) {
            // The group's trait lives in this document's module.
            scope.claim_fixed("Service");
        }
        let last = nsid.rsplit('.').next().unwrap_or(nsid);
        let is_endpoint = module
            .items
            .iter()
            .any(|i| matches!(i, Item::Endpoint(_) | Item::Subscription(_)));
        if is_endpoint {
            for fixed in ["Params", "Input", "Output", "Error", "Message"] {
                scope.claim_fixed(fixed);
            }
            // A unit struct lives in the value namespace too: it must not
            // shadow the prelude's `Ok`, `Err`, `Some` or `None`.
            let mut candidate = type_ident(last);
            if ["Ok", "Err", "Some", "None"].contains(&candidate.as_str()) {
                candidate.push_str("Endpoint");
            }
            let descriptor = scope.claim(
                &candidate,
                None,
                "the endpoint descriptor",
                "/defs/main",
                diagnostics,
            );
            names.endpoints.insert(nsid.clone(), descriptor);
        }
        if module
            .items
            .iter()
            .any(|i| matches!(i, Item::PermissionSet(_)))
        {
            let name = scope.claim(
                &type_ident(last),
                None,
                "the permission set",
                "/defs/main",
                diagnostics,
            );
            names.permission_sets.insert(nsid.clone(), name);
        }
        // The module-level `NSID` constant, and an endpoint's `BINDING`.
        let mut consts = Scope::new(catalog, nsid);
        consts.claim_fixed("NSID");
        if module.items.iter().any(|i| matches!(i, Item::Space(_))) {
            for name in [
                "SPACE_KEY",
                "SPACE_NAME",
                "SPACE_NAME_LANG",
                "SPACE_COLLECTIONS",
            ] {
                consts.claim_fixed(name);
            }
        }
        let bound = module
            .items
            .iter()
            .any(|i| matches!(i, Item::Endpoint(e) if e.binding.is_some()));
        if bound {
            consts.claim_fixed("BINDING");
            names.bindings.insert(nsid.clone(), "BINDING".to_owned());
        }
        for item in &module.items {
            if let Item::Token(token) = item {
                let name = consts.claim(
                    &const_ident(&token.key.name),
                    None,
                    &format!("token `{}`", token.key),
                    &crate::diagnostics::pointer_push("/defs", &token.key.name),
                    diagnostics,
                );
                names.tokens.insert(token.key.clone(), name);
            }
        }
        for &id in by_module
            .get(nsid.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let decl = ir.get(id);
            let (candidate, what) = match &decl.hint {
                NameHint::Part(part) => {
                    names.types[id.0] = part_name(*part).to_owned();
                    continue;
                }
                NameHint::Def(def) if def == "main" => {
                    // The main definition takes the document's name, always.
                    let own = type_ident(last);
                    if contests_main(ir, module, id, &own) {
                        names.main_aliases.insert(id, "Main".to_owned());
                    }
                    (own, format!("definition `{nsid}#main`"))
                }
                NameHint::Def(def)
                    if has_main(ir, module) && type_ident(def) == type_ident(last) =>
                {
                    // Another definition of the document's name gives way to
                    // the main one, as one that meets an endpoint's name does.
                    (
                        format!("{}Def", type_ident(def)),
                        format!("definition `{nsid}#{def}`"),
                    )
                }
                NameHint::Def(def) => (type_ident(def), format!("definition `{nsid}#{def}`")),
                NameHint::Inline { owner, field, item } => {
                    let mut name = names.types[owner.0].clone();
                    name.push_str(&sanitize(&field.to_upper_camel_case()).replace('_', ""));
                    if *item {
                        name.push_str("Item");
                    }
                    // Inline types give way to definitions: a clash gets the
                    // kind of the inline type as a suffix.
                    if scope.taken.contains_key(&name) {
                        name.push_str(match decl.kind {
                            TypeKind::Union(_) => "Union",
                            TypeKind::StringEnum(_) => "Value",
                            _ => "Object",
                        });
                    }
                    (
                        name,
                        format!(
                            "the inline type of `{}` field `{field}`",
                            names.types[owner.0]
                        ),
                    )
                }
            };
            // A definition that meets an endpoint's fixed name becomes `…Def`.
            let alternative =
                matches!(decl.hint, NameHint::Def(_)).then(|| format!("{candidate}Def"));
            names.types[id.0] = scope.claim(
                &candidate,
                alternative.as_deref(),
                &what,
                &decl.pointer,
                diagnostics,
            );
        }
        // The builders the derive makes, in the same namespace: after every
        // type of the module, so a definition keeps its name.
        for &id in by_module
            .get(nsid.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let decl = ir.get(id);
            let TypeKind::Struct(s) = &decl.kind else {
                continue;
            };
            if s.fields.iter().filter(|f| f.required).count() < 2 {
                continue;
            }
            let default = builder_name(&names.types[id.0]);
            let name = scope.claim(
                &default,
                None,
                &format!("the builder of `{}`", names.types[id.0]),
                &decl.pointer,
                diagnostics,
            );
            if name != default {
                names.builders.insert(id, name);
            }
        }
        let shadowed: BTreeSet<&'static str> = PRELUDE_TYPES
            .iter()
            .copied()
            .filter(|p| scope.taken.contains_key(*p))
            .collect();
        if !shadowed.is_empty() {
            names.shadowed.insert(nsid.clone(), shadowed);
        }
    }

    // Members of each type.
    for (i, decl) in ir.types.iter().enumerate() {
        let id = TypeId(i);
        let mut scope = Scope::new(catalog, &decl.module);
        let owner = names.types[i].clone();
        match &decl.kind {
            TypeKind::Struct(s) => {
                for (j, field) in s.fields.iter().enumerate() {
                    let name = scope.claim(
                        &field_ident(&field.name),
                        None,
                        &format!("field `{}` of `{owner}`", field.name),
                        &field.pointer,
                        diagnostics,
                    );
                    names.fields.insert((id, j), name);
                }
                if keep_unknown_fields && s.role != StructRole::Params {
                    let free = EXTRA_FIELD_NAMES
                        .iter()
                        .find(|name| !scope.taken.contains_key(**name));
                    let name = match free {
                        Some(name) => (*name).to_owned(),
                        None => scope.claim(
                            EXTRA_FIELD_NAMES[0],
                            None,
                            &format!("the undeclared properties of `{owner}`"),
                            &decl.pointer,
                            diagnostics,
                        ),
                    };
                    names.extra_fields.insert(id, name);
                }
            }
            TypeKind::Union(u) => {
                let keys: Vec<(&DefKey, bool)> =
                    u.members.iter().map(|m| (&m.key, m.local)).collect();
                let candidates = union_variants(&keys);
                for (j, member) in u.members.iter().enumerate() {
                    let name = scope.claim(
                        &candidates[j],
                        None,
                        &format!("member `{}` of `{owner}`", member.type_name),
                        &decl.pointer,
                        diagnostics,
                    );
                    names.variants.insert((id, j), name);
                }
                if !u.closed {
                    names
                        .catch_all
                        .insert(id, scope.claim_catch_all(&["Unknown", "Other"]));
                }
            }
            TypeKind::StringEnum(e) => {
                let candidates = value_variants(&e.values);
                for (j, value) in e.values.iter().enumerate() {
                    let name = scope.claim(
                        &candidates[j],
                        None,
                        &format!("value {value:?} of `{owner}`"),
                        &decl.pointer,
                        diagnostics,
                    );
                    names.variants.insert((id, j), name);
                }
                if e.open {
                    names
                        .catch_all
                        .insert(id, scope.claim_catch_all(&["Other", "Unknown"]));
                }
            }
            TypeKind::Errors(errors) => {
                for (j, error) in errors.iter().enumerate() {
                    let name = scope.claim(
                        &type_ident(&error.name),
                        None,
                        &format!("error `{}` of `{owner}`", error.name),
                        &format!("{}/errors/{j}", decl.pointer),
                        diagnostics,
                    );
                    names.variants.insert((id, j), name);
                }
                names
                    .catch_all
                    .insert(id, scope.claim_catch_all(&["Unknown", "Other"]));
            }
            TypeKind::Alias(_) | TypeKind::Pending => {}
        }
    }
    names
}

/// The variant of each record type in the record dispatch: its NSID in
/// UpperCamelCase, numbered on the rare clash (`a.bc.d` and `ab.c.d`).
fn record_variants(ir: &Ir, names: &mut Names) {
    let mut taken: BTreeSet<String> = BTreeSet::from([RECORD_DISPATCH_UNKNOWN.to_owned()]);
    for (i, decl) in ir.types.iter().enumerate() {
        let TypeKind::Struct(s) = &decl.kind else {
            continue;
        };
        if !matches!(s.role, StructRole::Record { .. }) || names.records.contains_key(&decl.module)
        {
            continue;
        }
        let base = type_ident(&decl.module);
        let mut variant = base.clone();
        let mut n = 2;
        while !taken.insert(variant.clone()) {
            variant = format!("{base}{n}");
            n += 1;
        }
        names
            .records
            .insert(decl.module.clone(), (TypeId(i), variant));
    }
}

fn part_name(part: Part) -> &'static str {
    match part {
        Part::Params => "Params",
        Part::Input => "Input",
        Part::Output => "Output",
        Part::Message => "Message",
        Part::Error => "Error",
    }
}

/// Module paths for every document; segments that collide in the same parent
/// are suffixed and reported.
fn module_paths(ir: &Ir, catalog: &Catalog, names: &mut Names, diagnostics: &mut Diagnostics) {
    // parent path (as identifiers) -> segment identifier -> original segment
    let mut children: BTreeMap<Vec<String>, BTreeMap<String, String>> = BTreeMap::new();
    // original prefix -> its identifier path, so a prefix maps the same way
    // for every document under it
    let mut resolved: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for nsid in ir.modules.keys() {
        let mut path: Vec<String> = Vec::new();
        let mut prefix = String::new();
        for segment in nsid.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(segment);
            if let Some(done) = resolved.get(&prefix) {
                path = done.clone();
                continue;
            }
            let siblings = children.entry(path.clone()).or_default();
            let base = module_ident(segment);
            let mut candidate = base.clone();
            let mut n = 2;
            while let Some(other) = siblings.get(&candidate) {
                if other == segment {
                    break;
                }
                candidate = format!("{}_{n}", base.trim_start_matches("r#"));
                n += 1;
            }
            if candidate != base {
                diagnostics.push(Diagnostic::warning(
                    catalog.location(nsid, "/id"),
                    format!(
                        "NSID segment `{segment}` of `{prefix}` collides with a sibling as module `{base}`; named `{candidate}`"
                    ),
                ));
            }
            siblings.insert(candidate.clone(), segment.to_owned());
            path.push(candidate);
            resolved.insert(prefix.clone(), path.clone());
        }
        names.modules.insert(nsid.clone(), path);
    }
}

/// One namespace of names (a module's types, a type's members).
struct Scope<'a> {
    catalog: &'a Catalog,
    nsid: &'a str,
    /// name -> what claimed it
    taken: HashMap<String, String>,
}

impl<'a> Scope<'a> {
    fn new(catalog: &'a Catalog, nsid: &'a str) -> Self {
        Self {
            catalog,
            nsid,
            taken: HashMap::new(),
        }
    }

    fn claim_fixed(&mut self, name: &str) {
        self.taken
            .insert(name.to_owned(), format!("the generated `{name}`"));
    }

    /// Claims `candidate`; if it is taken, `alternative` (when given and
    /// free), else the first free `candidate2`, `candidate3`, …. A clash is
    /// reported at `pointer`, naming both claimants.
    fn claim(
        &mut self,
        candidate: &str,
        alternative: Option<&str>,
        what: &str,
        pointer: &str,
        diagnostics: &mut Diagnostics,
    ) -> String {
        if !self.taken.contains_key(candidate) {
            self.taken.insert(candidate.to_owned(), what.to_owned());
            return candidate.to_owned();
        }
        let bare = candidate.trim_start_matches("r#");
        let separator =
            if bare.starts_with(|c: char| c.is_ascii_lowercase()) && !bare.ends_with('_') {
                "_"
            } else {
                ""
            };
        let name = match alternative {
            Some(alternative) if !self.taken.contains_key(alternative) => alternative.to_owned(),
            _ => {
                let mut n = 2;
                loop {
                    let name = format!("{bare}{separator}{n}");
                    if !self.taken.contains_key(&name) {
                        break name;
                    }
                    n += 1;
                }
            }
        };
        let other = self.taken.get(candidate).cloned().unwrap_or_default();
        diagnostics.push(Diagnostic::warning(
            self.catalog.location(self.nsid, pointer),
            format!("{what} would be named `{bare}`, like {other}; it is named `{name}`"),
        ));
        self.taken.insert(name.clone(), what.to_owned());
        name
    }

    /// The first free name of `choices`, else the first with a number.
    fn claim_catch_all(&mut self, choices: &[&str]) -> String {
        for choice in choices {
            if !self.taken.contains_key(*choice) {
                self.taken
                    .insert((*choice).to_owned(), "the catch-all".to_owned());
                return (*choice).to_owned();
            }
        }
        let base = choices.first().copied().unwrap_or("Unknown");
        let mut n = 2;
        loop {
            let name = format!("{base}{n}");
            if !self.taken.contains_key(&name) {
                self.taken.insert(name.clone(), "the catch-all".to_owned());
                return name;
            }
            n += 1;
        }
    }
}

/// Keywords that can be written raw (`r#type`).
const RAW_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NON_RAW_KEYWORDS: &[&str] = &["crate", "self", "super", "Self"];

/// Keeps ASCII letters, digits and underscores; anything else becomes `_`.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Escapes a lower-case identifier: keywords raw or suffixed, a leading digit
/// prefixed, an empty or `_` name replaced by `fallback`.
fn escape_lower(name: String, fallback: &str) -> String {
    let name = name.trim_matches('_').to_owned();
    let name = if name.is_empty() {
        fallback.to_owned()
    } else {
        name
    };
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    };
    if NON_RAW_KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else if RAW_KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// A module name for an NSID segment.
pub(crate) fn module_ident(segment: &str) -> String {
    escape_lower(sanitize(&segment.to_snake_case()), "module")
}

/// The Rust path of the module of document `nsid` in a crate that has
/// bindings for it, at `crate_path` (`::atlex_lexicons`): a module per NSID
/// segment, as [`module_ident`] names it.
pub(crate) fn extern_module(crate_path: &str, nsid: &str) -> String {
    let module: Vec<String> = nsid.split('.').map(module_ident).collect();
    format!("{crate_path}::{}", module.join("::"))
}

/// A field name for a JSON property.
pub(crate) fn field_ident(property: &str) -> String {
    escape_lower(sanitize(&property.to_snake_case()), "field")
}

/// An UpperCamel type name.
pub(crate) fn type_ident(text: &str) -> String {
    let camel = sanitize(&text.to_upper_camel_case()).replace('_', "");
    let camel = if camel.is_empty() {
        "Type".to_owned()
    } else {
        camel
    };
    let camel = if camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{camel}")
    } else {
        camel
    };
    if camel == "Self" {
        "SelfDef".to_owned()
    } else {
        camel
    }
}

/// The JSON name the `Object` derive gives a field that does not name its
/// own (`atlex-names`, shared with the derive). The emitter writes `rename`
/// where this is not the property's name.
pub(crate) use atlex_names::wire_name;

/// A SCREAMING_SNAKE constant name.
pub(crate) fn const_ident(text: &str) -> String {
    let shouty = sanitize(&text.to_shouty_snake_case());
    let shouty = shouty.trim_matches('_');
    if shouty.is_empty() {
        "TOKEN".to_owned()
    } else if shouty.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{shouty}")
    } else {
        shouty.to_owned()
    }
}

/// The variant name of a union member: local `#view` → `View`; another
/// document's main → its last segment (`Images`); another document's def →
/// both (`ImagesView`).
/// (A `defs` document adds nothing to a name, so `chat.bsky.convo.defs#messageView`
/// is `MessageView`.)
pub(crate) fn union_variant(key: &DefKey, local: bool) -> String {
    let last = key.nsid.rsplit('.').next().unwrap_or(&key.nsid);
    if key.name == "main" {
        type_ident(last)
    } else if local || last == "defs" {
        type_ident(&key.name)
    } else {
        format!("{}{}", type_ident(last), type_ident(&key.name))
    }
}

/// Variant names for the members of one union: [`union_variant`] of each,
/// except that members whose names clash are qualified with the NSID segment
/// before their document name (`ConvoDefsMessageView`…), deterministically.
pub(crate) fn union_variants(members: &[(&DefKey, bool)]) -> Vec<String> {
    let short: Vec<String> = members.iter().map(|(k, l)| union_variant(k, *l)).collect();
    short
        .iter()
        .zip(members)
        .map(|(name, (key, _))| {
            if short.iter().filter(|s| *s == name).count() < 2 {
                return name.clone();
            }
            let segments: Vec<&str> = key.nsid.split('.').collect();
            let qualifier: String = segments
                .iter()
                .rev()
                .take(2)
                .rev()
                .map(|s| type_ident(s))
                .collect();
            if key.name == "main" {
                qualifier
            } else {
                format!("{qualifier}{}", type_ident(&key.name))
            }
        })
        .collect()
}

/// The variant name of a string value: `locked-permanently` →
/// `LockedPermanently`, `!hide` → `Hide`, `app.bsky.feed.defs#requestLess` →
/// `RequestLess`, `18+` → `V18`.
pub(crate) fn value_variant(value: &str) -> String {
    if value.is_empty() {
        return "Empty".to_owned();
    }
    let tail = match value.rsplit_once('#') {
        Some((_, def)) if !def.is_empty() => def,
        _ => value,
    };
    type_ident(tail)
}

/// Variant names for a list of values: [`value_variant`] of each, except
/// that references (`nsid#def`) whose short names clash are all qualified
/// with their namespace (`ComAtprotoReasonAppeal`, `ToolsOzoneReasonAppeal`).
pub(crate) fn value_variants(values: &[String]) -> Vec<String> {
    let short: Vec<String> = values.iter().map(|v| value_variant(v)).collect();
    let mut out = short.clone();
    for (i, name) in short.iter().enumerate() {
        let group: Vec<&str> = short
            .iter()
            .zip(values)
            .filter(|(s, _)| *s == name)
            .map(|(_, v)| v.as_str())
            .collect();
        if group.len() < 2 {
            continue;
        }
        let Some((nsid, def)) = values[i].split_once('#') else {
            continue;
        };
        if nsid.is_empty() {
            continue;
        }
        let nsids: Vec<Vec<&str>> = group
            .iter()
            .filter_map(|v| v.split_once('#').map(|(n, _)| n.split('.').collect()))
            .collect();
        let segments: Vec<&str> = nsid.split('.').collect();
        let namespaces: BTreeSet<String> = nsids
            .iter()
            .map(|n| n.iter().take(2).copied().collect::<Vec<_>>().join("."))
            .collect();
        let qualifier = if namespaces.len() == nsids.len() {
            // Different namespaces: `ComAtproto…` / `ToolsOzone…`.
            segments
                .iter()
                .take(2)
                .copied()
                .collect::<Vec<_>>()
                .join("_")
        } else {
            // Same namespace: the first segment where they part ways.
            let at = (0..segments.len())
                .find(|k| nsids.iter().any(|n| n.get(*k) != segments.get(*k)))
                .unwrap_or(segments.len().saturating_sub(1));
            segments.get(at).copied().unwrap_or_default().to_owned()
        };
        out[i] = format!("{}{}", type_ident(&qualifier), type_ident(def));
    }
    out
}

/// Splits `r#name` into its raw flag and the bare name.
pub(crate) fn split_raw(name: &str) -> (bool, &str) {
    match name.strip_prefix("r#") {
        Some(bare) => (true, bare),
        None => (false, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(module_ident("leaveConvo"), "leave_convo");
        assert_eq!(module_ident("self"), "self_");
        assert_eq!(module_ident("type"), "r#type");
        assert_eq!(field_ident("convoId"), "convo_id");
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(field_ident("self"), "self_");
        assert_eq!(field_ident("$type"), "r#type");
        assert_eq!(field_ident("3d"), "_3d");
        assert_eq!(field_ident("title:lang"), "title_lang");
        assert_eq!(field_ident("_"), "field");
        // The derive's rule, in both directions.
        for (json, field) in [
            ("convoId", "convo_id"),
            ("self", "self_"),
            ("type", "r#type"),
        ] {
            assert_eq!(field_ident(json), field);
            assert_eq!(wire_name(field), json);
        }
        assert_eq!(wire_name("uri_2"), "uri2");
        assert_eq!(wire_name(&field_ident("URI")), "uri");
        assert_eq!(type_ident("convoView"), "ConvoView");
        assert_eq!(type_ident("self"), "SelfDef");
        assert_eq!(type_ident("Result"), "Result");
        assert_eq!(const_ident("requestLess"), "REQUEST_LESS");
        assert_eq!(value_variant("locked-permanently"), "LockedPermanently");
        assert_eq!(value_variant("!hide"), "Hide");
        assert_eq!(
            value_variant("app.bsky.feed.defs#requestLess"),
            "RequestLess"
        );
        assert_eq!(value_variant("18+"), "V18");
        assert_eq!(value_variant(""), "Empty");
        assert_eq!(
            union_variant(&DefKey::new("app.bsky.embed.images", "view"), false),
            "ImagesView"
        );
        assert_eq!(
            union_variant(&DefKey::new("app.bsky.embed.images", "main"), false),
            "Images"
        );
        assert_eq!(
            union_variant(&DefKey::new("a.b.c", "messageView"), true),
            "MessageView"
        );
    }
}
