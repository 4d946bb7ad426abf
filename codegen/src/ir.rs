//! The intermediate representation: a table of types keyed by [`TypeId`], and
//! per document a module of items that refer to them.
//!
//! Conversion reserves an id for every named definition of every document
//! before converting any, so a reference can be resolved to its id whether it
//! points forward, backward or round in a cycle. Inline types (an object's
//! union property, a string property with `knownValues`, an endpoint's input)
//! get their own ids as they are met. A last pass finds by-value cycles
//! between structs and marks the fields that must be boxed.

mod checks;
mod endpoints;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::catalog::Catalog;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::lexicon::{
    BodySchema, DefKey, ErrorSchema, ObjectSchema, Schema, SchemaKind, StringFormat, StringSchema,
};

/// The index of a type in [`Ir::types`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TypeId(pub usize);

/// The whole program: every type, and the module of every document.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ir {
    /// Every type, indexed by [`TypeId`].
    pub types: Vec<TypeDecl>,
    /// One module per document, by NSID.
    pub modules: BTreeMap<String, Module>,
    /// The groups of endpoints a server implements together: for each NSID
    /// prefix (`chat.bsky.convo`), the queries and procedures directly under
    /// it (`chat.bsky.convo.leaveConvo`, …), in NSID order. Each becomes a
    /// `Service` trait and a `register` function in the prefix's module.
    pub groups: BTreeMap<String, Vec<String>>,
}

/// The items a document becomes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Module {
    /// The document's NSID.
    pub nsid: String,
    /// The document's description, or its main definition's.
    pub description: Option<String>,
    /// The items, in definition order.
    pub items: Vec<Item>,
}

/// One item of a module.
#[derive(Clone, Debug)]
pub(crate) enum Item {
    /// A type (struct, enum or alias), and the inline types it owns follow it.
    Type(TypeId),
    /// A token: a named constant string.
    Token(TokenIr),
    /// A query or procedure.
    Endpoint(EndpointIr),
    /// A subscription.
    Subscription(SubscriptionIr),
    /// A permission set: documented, no types.
    PermissionSet(PermissionSetIr),
    /// A space type declaration: constants, no types.
    Space(SpaceIr),
}

/// A `space` definition.
#[derive(Clone, Debug)]
pub(crate) struct SpaceIr {
    /// What it declares.
    pub space: crate::lexicon::SpaceSchema,
    /// Its description.
    pub description: Option<String>,
}

/// A `token` definition.
#[derive(Clone, Debug)]
pub(crate) struct TokenIr {
    /// The definition.
    pub key: DefKey,
    /// Its description.
    pub description: Option<String>,
}

/// A `permission-set` definition.
#[derive(Clone, Debug)]
pub(crate) struct PermissionSetIr {
    /// Its title.
    pub title: Option<String>,
    /// Its detail text.
    pub detail: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// The `permissions` array as JSON text: each permission's `type`,
    /// `resource` and its other fields in the order written.
    pub permissions: String,
}

/// Where a type's name comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NameHint {
    /// A named definition (`main` included).
    Def(String),
    /// A fixed part of an endpoint.
    Part(Part),
    /// An inline type inside `owner`'s field `field` (`item`: inside the
    /// field's array items).
    Inline {
        /// The type whose field this is.
        owner: TypeId,
        /// The field's JSON name.
        field: String,
        /// Whether the type is the array item type of the field.
        item: bool,
    },
}

/// The fixed parts of an endpoint or subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Part {
    /// `Params`.
    Params,
    /// `Input`.
    Input,
    /// `Output`.
    Output,
    /// `Message`.
    Message,
    /// `Error`.
    Error,
}

/// One type.
#[derive(Clone, Debug)]
pub(crate) struct TypeDecl {
    /// The NSID of the module the type is emitted in.
    pub module: String,
    /// What its name is derived from.
    pub hint: NameHint,
    /// Its description.
    pub description: Option<String>,
    /// The JSON pointer of its schema.
    pub pointer: String,
    /// What it is.
    pub kind: TypeKind,
}

/// What a type is.
#[derive(Clone, Debug)]
pub(crate) enum TypeKind {
    /// A struct: an object, record or params.
    Struct(StructIr),
    /// A `$type`-tagged enum.
    Union(UnionIr),
    /// A string enum (closed `enum` or open `knownValues`).
    StringEnum(StringEnumIr),
    /// Another name for a type (a named array, string, integer … definition,
    /// or an endpoint body that is a reference).
    Alias(Ty),
    /// The errors of an endpoint.
    Errors(Vec<ErrorSchema>),
    /// Reserved and not converted (only while building).
    Pending,
}

/// What kind of object a struct is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StructRole {
    /// An `object` definition or inline object; `$type` is its definition key
    /// when it has one.
    Object,
    /// A `record`: `key` is its record-key kind.
    Record {
        /// The record `key` as written.
        key: String,
    },
    /// The `params` of an endpoint.
    Params,
    /// The inline object schema of an input, output or message body.
    Body,
}

/// A struct.
#[derive(Clone, Debug)]
pub(crate) struct StructIr {
    /// Its fields, in property order.
    pub fields: Vec<FieldIr>,
    /// The `$type` of values of this struct, for definitions.
    pub type_name: Option<String>,
    /// What kind of object it is.
    pub role: StructRole,
}

/// A literal default value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DefaultValue {
    /// A boolean default.
    Bool(bool),
    /// An integer default.
    Integer(i64),
    /// A string default.
    String(String),
}

/// A field.
#[derive(Clone, Debug)]
pub(crate) struct FieldIr {
    /// The JSON property name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Whether the property is required.
    pub required: bool,
    /// Whether the property may be `null`.
    pub nullable: bool,
    /// Whether the field is boxed to break a by-value cycle.
    pub boxed: bool,
    /// The default from the lexicon.
    pub default: Option<DefaultValue>,
    /// Its description.
    pub description: Option<String>,
    /// The JSON pointer of the property's schema.
    pub pointer: String,
    /// What to check of its values: the constraints where it is used (its
    /// own, and those of the named string, array or integer definition it
    /// refers to) and whether its type has checks of its own. `None` when
    /// nothing can be broken.
    pub check: Option<RulesIr>,
}

/// The constraints on a value where it is used, and whether its own type
/// declares more (`nested`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RulesIr {
    /// `minLength` (bytes of a string, items of an array, length of bytes).
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minGraphemes`.
    pub min_graphemes: Option<u64>,
    /// `maxGraphemes`.
    pub max_graphemes: Option<u64>,
    /// A string's `const`.
    pub const_str: Option<String>,
    /// `minimum`.
    pub minimum: Option<i64>,
    /// `maximum`.
    pub maximum: Option<i64>,
    /// An integer's `enum`.
    pub int_enum: Option<Vec<i64>>,
    /// An integer's `const`.
    pub const_int: Option<i64>,
    /// A boolean's `const`.
    pub const_bool: Option<bool>,
    /// A blob's `accept`.
    pub accept: Option<Vec<String>>,
    /// A blob's `maxSize`.
    pub max_size: Option<u64>,
    /// `unknown` data must be an object.
    pub object: bool,
    /// The value's type (a struct or union) has checks of its own.
    pub nested: bool,
    /// What to check of each item of an array.
    pub items: Option<Box<RulesIr>>,
}

impl RulesIr {
    /// Only the value's own checks.
    pub(crate) fn nested() -> Self {
        Self {
            nested: true,
            ..Self::default()
        }
    }

    /// Whether these are only the value's own checks.
    pub(crate) fn is_nested_only(&self) -> bool {
        *self == Self::nested()
    }
}

/// The type of a field, array item, alias or body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Ty {
    /// `boolean`.
    Bool,
    /// `integer`.
    Integer,
    /// `string`, with its format.
    String(Option<StringFormat>),
    /// `bytes`.
    Bytes,
    /// `cid-link`.
    CidLink,
    /// `blob`.
    Blob,
    /// `unknown`.
    Unknown,
    /// A generated type.
    Named(TypeId),
    /// An array.
    Array(Box<Ty>),
}

/// A union.
#[derive(Clone, Debug)]
pub(crate) struct UnionIr {
    /// The members, in `refs` order.
    pub members: Vec<UnionMember>,
    /// Whether the union is closed.
    pub closed: bool,
}

/// A union member.
#[derive(Clone, Debug)]
pub(crate) struct UnionMember {
    /// The definition.
    pub key: DefKey,
    /// The `$type` that selects it.
    pub type_name: String,
    /// The struct it decodes into.
    pub target: TypeId,
    /// Whether the reference was written `#local` in its document.
    pub local: bool,
}

/// A string enum.
#[derive(Clone, Debug)]
pub(crate) struct StringEnumIr {
    /// The values, in lexicon order, without duplicates.
    pub values: Vec<String>,
    /// Open (`knownValues`: other strings allowed) or closed (`enum`).
    pub open: bool,
}

/// Query or procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndpointKind {
    /// `query`.
    Query,
    /// `procedure`.
    Procedure,
}

/// A query or procedure.
#[derive(Clone, Debug)]
pub(crate) struct EndpointIr {
    /// Its NSID.
    pub nsid: String,
    /// Query or procedure.
    pub kind: EndpointKind,
    /// Its description.
    pub description: Option<String>,
    /// Its `Params` struct.
    pub params: Option<TypeId>,
    /// Its input body.
    pub input: Option<BodyIr>,
    /// Its output body.
    pub output: Option<BodyIr>,
    /// Its `Error` enum.
    pub errors: TypeId,
    /// How it travels over HTTP, when a binding file says (XRPC otherwise).
    pub binding: Option<Box<crate::binding::EndpointBinding>>,
    /// How to page through it, for a query with a cursor.
    pub pagination: Option<PaginationIr>,
}

/// A query whose output can be fetched page by page: a string `cursor`
/// parameter, and a string `cursor` in its output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PaginationIr {
    /// The params struct, and its `cursor` field's index.
    pub params: (TypeId, usize),
    /// The output struct, and its `cursor` field's index.
    pub output: (TypeId, usize),
    /// Whether the output's cursor is required.
    pub cursor_required: bool,
    /// The output's one list, when it has exactly one: the field's index,
    /// its item type and whether it is required.
    pub items: Option<(usize, Ty, bool)>,
}

/// A subscription.
#[derive(Clone, Debug)]
pub(crate) struct SubscriptionIr {
    /// Its NSID.
    pub nsid: String,
    /// Its description.
    pub description: Option<String>,
    /// Its `Params` struct.
    pub params: Option<TypeId>,
    /// Its `Message` union.
    pub message: Option<TypeId>,
    /// Its `Error` enum.
    pub errors: TypeId,
    /// The default subprotocol its lexicon declares (`xrpc.v1.json`).
    pub subprotocol: Option<String>,
}

/// A request or response body.
#[derive(Clone, Debug)]
pub(crate) struct BodyIr {
    /// Its MIME type.
    pub encoding: String,
    /// What it holds.
    pub body: BodyTy,
    /// Its description.
    pub description: Option<String>,
}

/// What a body holds.
#[derive(Clone, Debug)]
pub(crate) enum BodyTy {
    /// JSON of a generated type.
    Json(TypeId),
    /// JSON without a schema.
    AnyJson,
    /// Bytes in another encoding.
    Binary,
}

/// Whether a MIME type is JSON.
pub(crate) fn is_json_encoding(encoding: &str) -> bool {
    encoding == "application/json"
}

/// What a named definition became, for resolving references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reserved {
    Type(TypeId),
    Token,
    Other,
}

/// Converts every document of the catalog into the IR.
pub(crate) fn build(catalog: &Catalog, diagnostics: &mut Diagnostics) -> Ir {
    let mut builder = Builder {
        catalog,
        ir: Ir::default(),
        reserved: HashMap::new(),
        schemas: checks::Schemas::default(),
        diagnostics,
    };
    builder.reserve();
    builder.convert();
    let Builder {
        mut ir, schemas, ..
    } = builder;
    mark_boxed_cycles(&mut ir);
    checks::assign(&mut ir, &schemas);
    endpoints::assign(&mut ir);
    ir
}

struct Builder<'a> {
    catalog: &'a Catalog,
    ir: Ir,
    reserved: HashMap<DefKey, Reserved>,
    schemas: checks::Schemas,
    diagnostics: &'a mut Diagnostics,
}

impl Builder<'_> {
    fn push(&mut self, module: &str, hint: NameHint, schema: &Schema, kind: TypeKind) -> TypeId {
        let id = TypeId(self.ir.types.len());
        self.ir.types.push(TypeDecl {
            module: module.to_owned(),
            hint,
            description: schema.description.clone(),
            pointer: schema.pointer.clone(),
            kind,
        });
        id
    }

    /// Phase one: an id for every named data definition.
    fn reserve(&mut self) {
        for (nsid, entry) in self.catalog.entries() {
            for def in &entry.document.defs {
                let key = DefKey::new(nsid.clone(), def.name.clone());
                let reserved = match &def.schema.kind {
                    SchemaKind::Token => Reserved::Token,
                    SchemaKind::Query(_)
                    | SchemaKind::Procedure(_)
                    | SchemaKind::Subscription(_)
                    | SchemaKind::PermissionSet(_)
                    | SchemaKind::Space(_) => Reserved::Other,
                    _ => Reserved::Type(self.push(
                        nsid,
                        NameHint::Def(def.name.clone()),
                        &def.schema,
                        TypeKind::Pending,
                    )),
                };
                self.reserved.insert(key, reserved);
            }
        }
    }

    /// Phase two: convert every definition.
    fn convert(&mut self) {
        let catalog = self.catalog;
        for (nsid, entry) in catalog.entries() {
            let document = &entry.document;
            let mut module = Module {
                nsid: nsid.clone(),
                description: document.description.clone().or_else(|| {
                    document
                        .def("main")
                        .and_then(|d| d.schema.description.clone())
                }),
                items: Vec::new(),
            };
            for def in &document.defs {
                let key = DefKey::new(nsid.clone(), def.name.clone());
                match self.reserved.get(&key).copied() {
                    Some(Reserved::Type(id)) => {
                        let kind = self.def_kind(&key, &def.schema, id);
                        self.ir.types[id.0].kind = kind;
                        module.items.push(Item::Type(id));
                    }
                    Some(Reserved::Token) => module.items.push(Item::Token(TokenIr {
                        key,
                        description: def.schema.description.clone(),
                    })),
                    Some(Reserved::Other) | None => {
                        if let Some(item) = self.primary(&key, &def.schema) {
                            module.items.push(item);
                        }
                    }
                }
            }
            self.ir.modules.insert(nsid.clone(), module);
        }
    }

    /// The kind of a named data definition.
    fn def_kind(&mut self, key: &DefKey, schema: &Schema, id: TypeId) -> TypeKind {
        if !matches!(schema.kind, SchemaKind::Object(_) | SchemaKind::Record(_)) {
            self.schemas.def.insert(id, schema.clone());
        }
        match &schema.kind {
            SchemaKind::Object(object) => TypeKind::Struct(self.object(
                &key.nsid,
                object,
                id,
                Some(key.type_name()),
                StructRole::Object,
            )),
            SchemaKind::Record(record) => match &record.record.kind {
                SchemaKind::Object(object) => TypeKind::Struct(self.object(
                    &key.nsid,
                    object,
                    id,
                    Some(key.type_name()),
                    StructRole::Record {
                        key: record.key.clone(),
                    },
                )),
                _ => TypeKind::Alias(Ty::Unknown),
            },
            SchemaKind::String(string) => match string_enum(string) {
                Some(values) => TypeKind::StringEnum(values),
                None => TypeKind::Alias(Ty::String(string.format)),
            },
            _ => TypeKind::Alias(self.ty(&key.nsid, schema, id, "", false)),
        }
    }

    /// A primary definition (endpoint, subscription, permission set).
    fn primary(&mut self, key: &DefKey, schema: &Schema) -> Option<Item> {
        let nsid = key.nsid.as_str();
        match &schema.kind {
            SchemaKind::Query(e) | SchemaKind::Procedure(e) => {
                let kind = if matches!(schema.kind, SchemaKind::Query(_)) {
                    EndpointKind::Query
                } else {
                    EndpointKind::Procedure
                };
                let params = e.parameters.as_deref().map(|p| self.params(nsid, p));
                let input = e.input.as_ref().map(|b| self.body(nsid, b, Part::Input));
                let output = e.output.as_ref().map(|b| self.body(nsid, b, Part::Output));
                let errors = self.push(
                    nsid,
                    NameHint::Part(Part::Error),
                    schema,
                    TypeKind::Errors(e.errors.clone()),
                );
                Some(Item::Endpoint(EndpointIr {
                    nsid: nsid.to_owned(),
                    kind,
                    description: schema.description.clone(),
                    params,
                    input,
                    output,
                    errors,
                    binding: None,
                    pagination: None,
                }))
            }
            SchemaKind::Subscription(s) => {
                let params = s.parameters.as_deref().map(|p| self.params(nsid, p));
                let message = s
                    .message
                    .as_ref()
                    .and_then(|m| m.schema.as_deref())
                    .map(|m| {
                        let id =
                            self.push(nsid, NameHint::Part(Part::Message), m, TypeKind::Pending);
                        let kind = match &m.kind {
                            SchemaKind::Union(u) => TypeKind::Union(self.union(nsid, m, u)),
                            _ => TypeKind::Alias(Ty::Unknown),
                        };
                        self.ir.types[id.0].kind = kind;
                        id
                    });
                let errors = self.push(
                    nsid,
                    NameHint::Part(Part::Error),
                    schema,
                    TypeKind::Errors(s.errors.clone()),
                );
                Some(Item::Subscription(SubscriptionIr {
                    nsid: nsid.to_owned(),
                    description: schema.description.clone(),
                    params,
                    message,
                    errors,
                    subprotocol: s.subprotocol.clone(),
                }))
            }
            SchemaKind::PermissionSet(p) => Some(Item::PermissionSet(PermissionSetIr {
                title: p.title.clone(),
                detail: p.detail.clone(),
                description: schema.description.clone(),
                permissions: permissions_json(&p.permissions),
            })),
            SchemaKind::Space(s) => Some(Item::Space(SpaceIr {
                space: s.clone(),
                description: schema.description.clone(),
            })),
            _ => None,
        }
    }

    fn params(&mut self, nsid: &str, schema: &Schema) -> TypeId {
        let id = self.push(
            nsid,
            NameHint::Part(Part::Params),
            schema,
            TypeKind::Pending,
        );
        let kind = match &schema.kind {
            SchemaKind::Params(object) => {
                TypeKind::Struct(self.object(nsid, object, id, None, StructRole::Params))
            }
            _ => TypeKind::Alias(Ty::Unknown),
        };
        self.ir.types[id.0].kind = kind;
        id
    }

    fn body(&mut self, nsid: &str, body: &BodySchema, part: Part) -> BodyIr {
        let ty = match (&body.schema, is_json_encoding(&body.encoding)) {
            (_, false) => BodyTy::Binary,
            (None, true) => BodyTy::AnyJson,
            (Some(schema), true) => {
                let id = self.push(nsid, NameHint::Part(part), schema, TypeKind::Pending);
                let kind = match &schema.kind {
                    SchemaKind::Object(object) => {
                        TypeKind::Struct(self.object(nsid, object, id, None, StructRole::Body))
                    }
                    SchemaKind::Union(u) => TypeKind::Union(self.union(nsid, schema, u)),
                    _ => TypeKind::Alias(self.ty(nsid, schema, id, "", false)),
                };
                self.ir.types[id.0].kind = kind;
                BodyTy::Json(id)
            }
        };
        BodyIr {
            encoding: body.encoding.clone(),
            body: ty,
            description: body.description.clone(),
        }
    }

    fn object(
        &mut self,
        nsid: &str,
        object: &ObjectSchema,
        owner: TypeId,
        type_name: Option<String>,
        role: StructRole,
    ) -> StructIr {
        let mut fields = Vec::with_capacity(object.properties.len());
        for (j, (name, schema)) in object.properties.iter().enumerate() {
            let ty = self.ty(nsid, schema, owner, name, false);
            let constraints = self.token_refs_as_consts(nsid, schema);
            self.schemas.field.insert((owner, j), constraints);
            fields.push(FieldIr {
                name: name.clone(),
                ty,
                required: object.is_required(name),
                nullable: object.is_nullable(name),
                boxed: false,
                default: default_value(schema),
                description: schema.description.clone(),
                pointer: schema.pointer.clone(),
                check: None,
            });
        }
        StructIr {
            fields,
            type_name,
            role,
        }
    }

    /// The type of a property (or array item) `field` of `owner`.
    fn ty(&mut self, nsid: &str, schema: &Schema, owner: TypeId, field: &str, item: bool) -> Ty {
        let inline = |field: &str| NameHint::Inline {
            owner,
            field: field.to_owned(),
            item,
        };
        match &schema.kind {
            SchemaKind::Boolean(_) => Ty::Bool,
            SchemaKind::Integer(_) => Ty::Integer,
            SchemaKind::String(s) => match string_enum(s) {
                Some(e) => {
                    Ty::Named(self.push(nsid, inline(field), schema, TypeKind::StringEnum(e)))
                }
                None => Ty::String(s.format),
            },
            SchemaKind::Bytes(_) => Ty::Bytes,
            SchemaKind::CidLink => Ty::CidLink,
            SchemaKind::Blob(_) => Ty::Blob,
            SchemaKind::Unknown => Ty::Unknown,
            SchemaKind::Array(a) => {
                Ty::Array(Box::new(self.ty(nsid, &a.items, owner, field, true)))
            }
            SchemaKind::Object(o) => {
                let id = self.push(nsid, inline(field), schema, TypeKind::Pending);
                let kind = TypeKind::Struct(self.object(nsid, o, id, None, StructRole::Object));
                self.ir.types[id.0].kind = kind;
                Ty::Named(id)
            }
            SchemaKind::Union(u) => {
                let id = self.push(nsid, inline(field), schema, TypeKind::Pending);
                let kind = TypeKind::Union(self.union(nsid, schema, u));
                self.ir.types[id.0].kind = kind;
                Ty::Named(id)
            }
            SchemaKind::Ref(r) => {
                let key = DefKey::resolve(nsid, &r.target);
                match self.reserved.get(&key) {
                    Some(Reserved::Type(id)) => Ty::Named(*id),
                    // A reference to a token: the value is the token's name.
                    Some(Reserved::Token) => Ty::String(None),
                    // Already reported by the catalog's reference check.
                    Some(Reserved::Other) | None => Ty::Unknown,
                }
            }
            SchemaKind::Params(_)
            | SchemaKind::Token
            | SchemaKind::Record(_)
            | SchemaKind::Query(_)
            | SchemaKind::Procedure(_)
            | SchemaKind::Subscription(_)
            | SchemaKind::PermissionSet(_)
            | SchemaKind::Permission(_)
            | SchemaKind::Space(_) => {
                let location = self.catalog.location(nsid, &schema.pointer);
                self.diagnostics.push(Diagnostic::error(
                    location,
                    format!(
                        "type `{}` cannot be used as a field type",
                        schema.kind.type_name()
                    ),
                ));
                Ty::Unknown
            }
        }
    }

    /// A reference to a token means the value is the token's name: the
    /// schema a field is checked against becomes that string constant.
    fn token_refs_as_consts(&self, nsid: &str, schema: &Schema) -> Schema {
        match &schema.kind {
            SchemaKind::Ref(r) => {
                let key = DefKey::resolve(nsid, &r.target);
                if self.reserved.get(&key) == Some(&Reserved::Token) {
                    return Schema {
                        kind: SchemaKind::String(StringSchema {
                            const_value: Some(key.type_name()),
                            ..StringSchema::default()
                        }),
                        ..schema.clone()
                    };
                }
                schema.clone()
            }
            SchemaKind::Array(a) => {
                let mut array = a.clone();
                array.items = Box::new(self.token_refs_as_consts(nsid, &a.items));
                Schema {
                    kind: SchemaKind::Array(array),
                    ..schema.clone()
                }
            }
            _ => schema.clone(),
        }
    }

    fn union(
        &mut self,
        nsid: &str,
        schema: &Schema,
        union: &crate::lexicon::UnionSchema,
    ) -> UnionIr {
        let mut members: Vec<UnionMember> = Vec::with_capacity(union.refs.len());
        for target in &union.refs {
            let key = DefKey::resolve(nsid, target);
            let type_name = key.type_name();
            if members.iter().any(|m| m.type_name == type_name) {
                let location = self.catalog.location(nsid, &schema.pointer);
                self.diagnostics.push(Diagnostic::warning(
                    location,
                    format!("union lists `{type_name}` twice; the repeat is ignored"),
                ));
                continue;
            }
            if union.closed
                && matches!(
                    self.catalog.def(&key).map(|s| &s.kind),
                    Some(SchemaKind::Token)
                )
            {
                let location = self.catalog.location(nsid, &schema.pointer);
                self.diagnostics.push(Diagnostic::error(
                    location,
                    format!(
                        "closed union lists the token `{key}`: a value of it (`{{\"$type\": \"{type_name}\"}}`) has no member type to be read into; make the union open or the member an object"
                    ),
                ));
                continue;
            }
            // Non-object targets and missing targets were reported by the
            // catalog's reference check (token members of an open union are
            // kept as unknown members); skip them here.
            if let Some(Reserved::Type(id)) = self.reserved.get(&key).copied()
                && matches!(
                    self.catalog.def(&key).map(|s| &s.kind),
                    Some(SchemaKind::Object(_) | SchemaKind::Record(_))
                )
            {
                members.push(UnionMember {
                    local: key.nsid == nsid && target.starts_with('#'),
                    key,
                    type_name,
                    target: id,
                });
            }
        }
        UnionIr {
            members,
            closed: union.closed,
        }
    }
}

/// The enum a string schema becomes, if it has a value list.
fn string_enum(s: &StringSchema) -> Option<StringEnumIr> {
    let (values, open) = match &s.enum_values {
        Some(values) => (values, false),
        None if !s.known_values.is_empty() => (&s.known_values, true),
        None => return None,
    };
    let mut seen = BTreeSet::new();
    let values = values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect();
    Some(StringEnumIr { values, open })
}

fn default_value(schema: &Schema) -> Option<DefaultValue> {
    match &schema.kind {
        SchemaKind::Boolean(b) => b.default.map(DefaultValue::Bool),
        SchemaKind::Integer(i) => i.default.map(DefaultValue::Integer),
        SchemaKind::String(s) => s.default.clone().map(DefaultValue::String),
        _ => None,
    }
}

impl Ir {
    /// The type with id `id`.
    pub(crate) fn get(&self, id: TypeId) -> &TypeDecl {
        &self.types[id.0]
    }

    /// Follows aliases to the type that is not an alias.
    pub(crate) fn resolve_alias<'a>(&'a self, ty: &'a Ty) -> &'a Ty {
        let mut ty = ty;
        // Aliases cannot loop through names alone more times than there are
        // types; the bound makes a malformed cycle harmless.
        for _ in 0..self.types.len() {
            match ty {
                Ty::Named(id) => match &self.types[id.0].kind {
                    TypeKind::Alias(inner) => ty = inner,
                    _ => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }

    /// Attaches each of `bindings` (by NSID) to its endpoint; a binding
    /// whose endpoint is not here is dropped.
    pub(crate) fn attach_bindings(
        &mut self,
        mut bindings: BTreeMap<String, crate::binding::EndpointBinding>,
    ) {
        if bindings.is_empty() {
            return;
        }
        for (nsid, module) in self.modules.iter_mut() {
            for item in &mut module.items {
                if let Item::Endpoint(endpoint) = item
                    && let Some(binding) = bindings.remove(nsid)
                {
                    endpoint.binding = Some(Box::new(binding));
                }
            }
        }
    }

    /// The modules each module's types refer to, by NSID.
    pub(crate) fn module_dependencies(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for decl in &self.types {
            let from = decl.module.as_str();
            let entry = deps.entry(from).or_default();
            let mut add = |id: TypeId| {
                let to = self.types[id.0].module.as_str();
                if to != from {
                    entry.insert(to);
                }
            };
            match &decl.kind {
                TypeKind::Struct(s) => {
                    for f in &s.fields {
                        f.ty.for_each_named(&mut add);
                    }
                }
                TypeKind::Union(u) => u.members.iter().for_each(|m| add(m.target)),
                TypeKind::Alias(ty) => ty.for_each_named(&mut add),
                TypeKind::StringEnum(_) | TypeKind::Errors(_) | TypeKind::Pending => {}
            }
        }
        deps
    }
}

impl Ty {
    /// Calls `f` for every generated type this type mentions.
    pub(crate) fn for_each_named(&self, f: &mut impl FnMut(TypeId)) {
        match self {
            Ty::Named(id) => f(*id),
            Ty::Array(inner) => inner.for_each_named(f),
            _ => {}
        }
    }
}

/// Marks struct fields that hold a struct of their own by-value cycle, so the
/// emitter boxes them. Union members are always boxed and arrays allocate, so
/// only direct (and optional) struct fields, through aliases, form cycles.
fn mark_boxed_cycles(ir: &mut Ir) {
    let n = ir.types.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, decl) in ir.types.iter().enumerate() {
        match &decl.kind {
            TypeKind::Struct(s) => {
                for f in &s.fields {
                    if let Some(target) = by_value_target(ir, &f.ty) {
                        edges[i].push(target);
                    }
                }
            }
            TypeKind::Alias(ty) => {
                if let Some(target) = by_value_target(ir, ty) {
                    edges[i].push(target);
                }
            }
            _ => {}
        }
    }
    let component = strongly_connected(&edges);
    let mut boxed = Vec::new();
    for (i, decl) in ir.types.iter().enumerate() {
        if let TypeKind::Struct(s) = &decl.kind {
            for (j, f) in s.fields.iter().enumerate() {
                if let Some(target) = by_value_target(ir, &f.ty)
                    && component[target] == component[i]
                {
                    boxed.push((i, j));
                }
            }
        }
    }
    for (i, j) in boxed {
        if let TypeKind::Struct(s) = &mut ir.types[i].kind {
            s.fields[j].boxed = true;
        }
    }
}

/// The struct or alias a field holds by value (not through an array).
fn by_value_target(_ir: &Ir, ty: &Ty) -> Option<usize> {
    match ty {
        Ty::Named(id) => Some(id.0),
        _ => None,
    }
}

/// Tarjan's algorithm, iteratively: the component index of every node.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![usize::MAX; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to visit)
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&next) = edges[node].get(*edge) {
                *edge += 1;
                if index[next] == usize::MAX {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[node]);
                }
                if low[node] == index[node] {
                    while let Some(member) = stack.pop() {
                        on_stack[member] = false;
                        component[member] = next_component;
                        if member == node {
                            break;
                        }
                    }
                    next_component += 1;
                }
            }
        }
    }
    component
}

/// The permissions of a set as JSON text, as the runtime reads them.
fn permissions_json(permissions: &[Schema]) -> String {
    let items: Vec<serde_json::Value> = permissions
        .iter()
        .filter_map(|schema| match &schema.kind {
            SchemaKind::Permission(p) => {
                let mut object = serde_json::Map::new();
                object.insert("type".into(), "permission".into());
                object.insert("resource".into(), p.resource.clone().into());
                object.extend(p.fields.clone());
                Some(serde_json::Value::Object(object))
            }
            _ => None,
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

#[cfg(test)]
mod tests {
    use super::strongly_connected;

    #[test]
    fn components() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3, 4 alone
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![]];
        let c = strongly_connected(&edges);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[0], c[3]);
        assert_ne!(c[3], c[4]);
    }
}
