//! The Lexicon language as a Rust model: [`Document`], its definitions and
//! the [`Schema`] of each, with the constraints the spec gives every type.
//!
//! The model holds what a document says, already checked. The reader
//! ([`read`], [`read_document`], [`parse_document`], [`check_ref_syntax`])
//! checks a JSON document against the language and builds the model from
//! it; it lives in a submodule of its own.

use std::fmt;

mod reader;

pub use reader::{Read, check_ref_syntax, parse_document, read, read_document};

/// A parsed lexicon document.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The NSID the document defines.
    pub id: String,
    /// The optional `revision` number.
    pub revision: Option<i64>,
    /// The document-level description.
    pub description: Option<String>,
    /// The definitions, in file order.
    pub defs: Vec<Def>,
}

impl Document {
    /// The definition called `name`.
    pub fn def(&self, name: &str) -> Option<&Def> {
        self.defs.iter().find(|d| d.name == name)
    }
}

/// One named definition of a document.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    /// Its name (`main`, `convoView`, …).
    pub name: String,
    /// Its schema.
    pub schema: Schema,
}

/// A schema: a type with its constraints, wherever it appears.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// The `description`.
    pub description: Option<String>,
    /// The JSON pointer of this schema in its document.
    pub pointer: String,
    /// The type and its fields.
    pub kind: SchemaKind,
}

/// The type of a schema and its type-specific fields.
#[derive(Clone, Debug, PartialEq)]
pub enum SchemaKind {
    /// `boolean`.
    Boolean(BooleanSchema),
    /// `integer`.
    Integer(IntegerSchema),
    /// `string`.
    String(StringSchema),
    /// `bytes`.
    Bytes(BytesSchema),
    /// `cid-link`.
    CidLink,
    /// `blob`.
    Blob(BlobSchema),
    /// `array`.
    Array(ArraySchema),
    /// `object`.
    Object(ObjectSchema),
    /// `params`: the parameters of a query, procedure or subscription.
    Params(ObjectSchema),
    /// `token`: a named value with no data.
    Token,
    /// `ref`.
    Ref(RefSchema),
    /// `union`.
    Union(UnionSchema),
    /// `unknown`: any object.
    Unknown,
    /// `record`.
    Record(RecordSchema),
    /// `query`.
    Query(EndpointSchema),
    /// `procedure`.
    Procedure(EndpointSchema),
    /// `subscription`.
    Subscription(SubscriptionSchema),
    /// `permission-set`.
    PermissionSet(PermissionSetSchema),
    /// `permission`, inside a permission set.
    Permission(PermissionSchema),
    /// `space`: a space type declaration (permissioned data).
    Space(SpaceSchema),
}

impl SchemaKind {
    /// The `type` string of this kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Boolean(_) => "boolean",
            Self::Integer(_) => "integer",
            Self::String(_) => "string",
            Self::Bytes(_) => "bytes",
            Self::CidLink => "cid-link",
            Self::Blob(_) => "blob",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
            Self::Params(_) => "params",
            Self::Token => "token",
            Self::Ref(_) => "ref",
            Self::Union(_) => "union",
            Self::Unknown => "unknown",
            Self::Record(_) => "record",
            Self::Query(_) => "query",
            Self::Procedure(_) => "procedure",
            Self::Subscription(_) => "subscription",
            Self::PermissionSet(_) => "permission-set",
            Self::Permission(_) => "permission",
            Self::Space(_) => "space",
        }
    }

    /// Whether this is a primary type, allowed only as the `main` definition.
    pub fn is_primary(&self) -> bool {
        matches!(
            self,
            Self::Record(_)
                | Self::Query(_)
                | Self::Procedure(_)
                | Self::Subscription(_)
                | Self::PermissionSet(_)
                | Self::Space(_)
        )
    }
}

/// `boolean` constraints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BooleanSchema {
    /// `default`.
    pub default: Option<bool>,
    /// `const`.
    pub const_value: Option<bool>,
}

/// `integer` constraints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntegerSchema {
    /// `minimum`.
    pub minimum: Option<i64>,
    /// `maximum`.
    pub maximum: Option<i64>,
    /// `enum`: the closed set of allowed values.
    pub enum_values: Option<Vec<i64>>,
    /// `default`.
    pub default: Option<i64>,
    /// `const`.
    pub const_value: Option<i64>,
}

/// The string formats of the Lexicon language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StringFormat {
    /// `at-identifier`: a DID or a handle.
    AtIdentifier,
    /// `at-uri`.
    AtUri,
    /// `cid` (as a string, not a link).
    Cid,
    /// `datetime`.
    Datetime,
    /// `did`.
    Did,
    /// `handle`.
    Handle,
    /// `nsid`.
    Nsid,
    /// `tid`.
    Tid,
    /// `record-key`.
    RecordKey,
    /// `uri`.
    Uri,
    /// `language`: a BCP-47 tag.
    Language,
}

impl StringFormat {
    /// Every format, with its lexicon name.
    pub const ALL: [(&'static str, StringFormat); 11] = [
        ("at-identifier", Self::AtIdentifier),
        ("at-uri", Self::AtUri),
        ("cid", Self::Cid),
        ("datetime", Self::Datetime),
        ("did", Self::Did),
        ("handle", Self::Handle),
        ("nsid", Self::Nsid),
        ("tid", Self::Tid),
        ("record-key", Self::RecordKey),
        ("uri", Self::Uri),
        ("language", Self::Language),
    ];

    /// The format called `name` in a lexicon.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The lexicon name of the format.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }
}

/// `string` constraints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StringSchema {
    /// `format`, if it names a known format.
    pub format: Option<StringFormat>,
    /// `minLength` in UTF-8 bytes.
    pub min_length: Option<u64>,
    /// `maxLength` in UTF-8 bytes.
    pub max_length: Option<u64>,
    /// `minGraphemes`.
    pub min_graphemes: Option<u64>,
    /// `maxGraphemes`.
    pub max_graphemes: Option<u64>,
    /// `knownValues`: suggested values; others are allowed.
    pub known_values: Vec<String>,
    /// `enum`: the closed set of allowed values.
    pub enum_values: Option<Vec<String>>,
    /// `default`.
    pub default: Option<String>,
    /// `const`.
    pub const_value: Option<String>,
}

/// `bytes` constraints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BytesSchema {
    /// `minLength` in bytes.
    pub min_length: Option<u64>,
    /// `maxLength` in bytes.
    pub max_length: Option<u64>,
}

/// `blob` constraints.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlobSchema {
    /// `accept`: MIME types or globs (`image/*`).
    pub accept: Option<Vec<String>>,
    /// `maxSize` in bytes.
    pub max_size: Option<u64>,
}

/// `array`.
#[derive(Clone, Debug, PartialEq)]
pub struct ArraySchema {
    /// `items`.
    pub items: Box<Schema>,
    /// `minLength` in items.
    pub min_length: Option<u64>,
    /// `maxLength` in items.
    pub max_length: Option<u64>,
}

/// `object` (and `params`, which has the same shape).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectSchema {
    /// `properties`, in file order.
    pub properties: Vec<(String, Schema)>,
    /// `required`.
    pub required: Vec<String>,
    /// `nullable`.
    pub nullable: Vec<String>,
}

impl ObjectSchema {
    /// Whether `name` is required.
    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }

    /// Whether `name` is nullable.
    pub fn is_nullable(&self, name: &str) -> bool {
        self.nullable.iter().any(|r| r == name)
    }

    /// The property called `name`.
    pub fn property(&self, name: &str) -> Option<&Schema> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }
}

/// `ref`.
#[derive(Clone, Debug, PartialEq)]
pub struct RefSchema {
    /// The reference as written (`#local`, `nsid`, `nsid#def`).
    pub target: String,
}

/// `union`.
#[derive(Clone, Debug, PartialEq)]
pub struct UnionSchema {
    /// The references, as written.
    pub refs: Vec<String>,
    /// `closed`: no members beyond `refs`.
    pub closed: bool,
}

/// `record`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordSchema {
    /// `key`: `tid`, `nsid`, `any` or `literal:<value>`.
    pub key: String,
    /// `record`: the object schema of the record.
    pub record: Box<Schema>,
}

/// The `input` or `output` of an endpoint, or a subscription `message`.
#[derive(Clone, Debug, PartialEq)]
pub struct BodySchema {
    /// `encoding` (a MIME type); empty for a subscription message.
    pub encoding: String,
    /// `description`.
    pub description: Option<String>,
    /// `schema`, when the body is described.
    pub schema: Option<Box<Schema>>,
    /// The JSON pointer of the body.
    pub pointer: String,
}

/// A declared error of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorSchema {
    /// The error name (`InvalidConvo`).
    pub name: String,
    /// What it means.
    pub description: Option<String>,
}

/// `query` and `procedure`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EndpointSchema {
    /// `parameters`.
    pub parameters: Option<Box<Schema>>,
    /// `input` (procedures).
    pub input: Option<BodySchema>,
    /// `output`.
    pub output: Option<BodySchema>,
    /// `errors`.
    pub errors: Vec<ErrorSchema>,
}

/// `subscription`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubscriptionSchema {
    /// `parameters`.
    pub parameters: Option<Box<Schema>>,
    /// `message`.
    pub message: Option<BodySchema>,
    /// `errors`.
    pub errors: Vec<ErrorSchema>,
    /// `subprotocol`: the stream's default wire subprotocol (`xrpc.v1.json`),
    /// when the lexicon declares one; absent means `xrpc.v0.cbor`.
    pub subprotocol: Option<String>,
}

/// `permission-set`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PermissionSetSchema {
    /// `title`.
    pub title: Option<String>,
    /// `detail`.
    pub detail: Option<String>,
    /// `permissions`.
    pub permissions: Vec<Schema>,
}

/// `permission`: its `resource` and the resource-specific fields as written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PermissionSchema {
    /// `resource` (`repo`, `rpc`, `blob`, `account`, `identity`, …).
    pub resource: String,
    /// The other fields, unchecked.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// `space`: the declaration of a space type, the kind of a permissioned
/// space (a shared context whose members keep their records in
/// permissioned repositories). Its NSID names the type; it describes no data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpaceSchema {
    /// `key`: the recommended kind of space key, written as a record key
    /// type is (`tid`, `nsid`, `any`, `literal:<value>`).
    pub key: String,
    /// `name`: the name users see on consent screens (1 to 64 graphemes).
    pub name: String,
    /// `name:lang`: the name in other languages, by language tag, in the
    /// order written.
    pub name_lang: Vec<(String, String)>,
    /// `collections`: the collections a space of this type is expected to
    /// hold (the default of a `space:` OAuth scope for it).
    pub collections: Vec<String>,
}

/// Whether `s` is a syntactically valid NSID (the runtime's [`atlex::types::Nsid`] rules).
pub fn is_valid_nsid(s: &str) -> bool {
    atlex::types::Nsid::validate(s).is_ok()
}

/// A fully qualified definition: an NSID and a definition name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DefKey {
    /// The document's NSID.
    pub nsid: String,
    /// The definition's name (`main` for the document's main definition).
    pub name: String,
}

impl DefKey {
    /// The key of `nsid#name`.
    pub fn new(nsid: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            nsid: nsid.into(),
            name: name.into(),
        }
    }

    /// Resolves a reference written in document `from`: `#def` is local,
    /// `nsid` means `nsid#main`.
    pub fn resolve(from: &str, target: &str) -> Self {
        match target.split_once('#') {
            Some(("", def)) => Self::new(from, def),
            Some((nsid, def)) => Self::new(nsid, def),
            None => Self::new(target, "main"),
        }
    }

    /// The `$type` string of data of this definition: the bare NSID for
    /// `main`, `nsid#name` otherwise.
    pub fn type_name(&self) -> String {
        if self.name == "main" {
            self.nsid.clone()
        } else {
            format!("{}#{}", self.nsid, self.name)
        }
    }
}

impl fmt::Display for DefKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.nsid, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_reference_forms() {
        assert_eq!(DefKey::resolve("a.b.c", "#x"), DefKey::new("a.b.c", "x"));
        assert_eq!(
            DefKey::resolve("a.b.c", "d.e.f"),
            DefKey::new("d.e.f", "main")
        );
        assert_eq!(
            DefKey::resolve("a.b.c", "d.e.f#y"),
            DefKey::new("d.e.f", "y")
        );
        assert_eq!(DefKey::new("d.e.f", "main").type_name(), "d.e.f");
        assert_eq!(DefKey::new("d.e.f", "y").type_name(), "d.e.f#y");
    }
}
