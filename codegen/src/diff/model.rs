//! The data a diff produces: every change as a value, with where it is, what
//! it was and became, and its compatibility class from each side.
//!
//! Nothing here is text for people; [`super::render`] turns a [`Report`] into
//! text or JSON.

use std::fmt;

use serde_json::Value;

/// A constraint of the Lexicon language, named as in lexicon JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Constraint {
    /// `minLength` (strings in UTF-8 bytes, bytes, arrays in items).
    MinLength,
    /// `maxLength`.
    MaxLength,
    /// `minGraphemes`.
    MinGraphemes,
    /// `maxGraphemes`.
    MaxGraphemes,
    /// `minimum` (integers).
    Minimum,
    /// `maximum` (integers).
    Maximum,
    /// `enum`: the closed set of values (one change per value added or
    /// removed, or the whole list when it appears or disappears).
    Enum,
    /// `const`.
    Const,
    /// `default`.
    Default,
    /// `format` (strings).
    Format,
    /// `accept` (blobs: MIME types or `type/*` globs).
    Accept,
    /// `maxSize` (blobs, in bytes).
    MaxSize,
    /// `encoding` of an endpoint input or output (a MIME type or glob).
    Encoding,
    /// `key` of a record (`tid`, `nsid`, `any`, `literal:<value>`).
    RecordKey,
}

impl Constraint {
    /// The name as written in lexicon JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::MinLength => "minLength",
            Self::MaxLength => "maxLength",
            Self::MinGraphemes => "minGraphemes",
            Self::MaxGraphemes => "maxGraphemes",
            Self::Minimum => "minimum",
            Self::Maximum => "maximum",
            Self::Enum => "enum",
            Self::Const => "const",
            Self::Default => "default",
            Self::Format => "format",
            Self::Accept => "accept",
            Self::MaxSize => "maxSize",
            Self::Encoding => "encoding",
            Self::RecordKey => "key",
        }
    }
}

/// Which way a constraint moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Fewer values are valid than before (some old data may now be invalid).
    Tightened,
    /// More values are valid than before (some new data is invalid under the
    /// old lexicon).
    Loosened,
    /// Neither a subset nor a superset (a `const` or `default` that changed, a
    /// format replaced by an unrelated one).
    Changed,
}

/// What changed. Each kind has a stable `snake_case` name (see
/// [`ChangeKind::name`]) used in JSON output and in acknowledgement files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// A document (NSID) that OLD does not have.
    DocumentAdded,
    /// A document (NSID) that NEW no longer has.
    DocumentRemoved,
    /// A definition added to a document.
    DefAdded,
    /// A definition removed from a document.
    DefRemoved,
    /// The `type` of a definition, property, array item or body changed.
    TypeChanged,
    /// A `ref` now points at another definition (or was replaced by the same
    /// schema written inline, or the reverse). What the two targets differ
    /// in, if anything, is reported as further changes at the same location.
    RefChanged,
    /// An object or params property added.
    PropertyAdded,
    /// An object or params property removed.
    PropertyRemoved,
    /// A property removed and another added with the same schema: it looks
    /// renamed.
    PropertyRenamed,
    /// A property became required.
    RequiredAdded,
    /// A property is no longer required.
    RequiredRemoved,
    /// A property became nullable.
    NullableAdded,
    /// A property is no longer nullable.
    NullableRemoved,
    /// A constraint allows fewer values.
    ConstraintTightened(Constraint),
    /// A constraint allows more values.
    ConstraintLoosened(Constraint),
    /// A constraint changed without being tighter or looser.
    ConstraintChanged(Constraint),
    /// A string's `knownValues` gained a value.
    KnownValueAdded,
    /// A string's `knownValues` lost a value.
    KnownValueRemoved,
    /// A union gained a member (`refs`).
    UnionRefAdded,
    /// A union lost a member.
    UnionRefRemoved,
    /// A union became `closed`.
    UnionClosed,
    /// A union is no longer `closed`.
    UnionOpened,
    /// An endpoint or subscription declares a new error.
    ErrorAdded,
    /// An endpoint or subscription no longer declares an error.
    ErrorRemoved,
    /// An endpoint gained an `input` or `output`, or a subscription a
    /// `message`.
    BodyAdded,
    /// An endpoint lost its `input` or `output`, or a subscription its
    /// `message`.
    BodyRemoved,
    /// A body gained a `schema` (it was described by its encoding alone).
    BodySchemaAdded,
    /// A body lost its `schema`.
    BodySchemaRemoved,
    /// A subscription's default `subprotocol` changed (absent is
    /// `xrpc.v0.cbor`).
    SubprotocolChanged,
    /// A permission added to a permission set, or an entry added to one of a
    /// permission's lists (`lxm`, `collection`, …), the permission being
    /// otherwise the same.
    PermissionAdded,
    /// A permission, or an entry of one of its lists, removed from a
    /// permission set.
    PermissionRemoved,
    /// A `description` (of a document, definition, property, body or error)
    /// changed, appeared or disappeared.
    DescriptionChanged,
    /// The document's `revision` changed.
    RevisionChanged,
    /// Something the Lexicon model does not read changed (unknown keys, a
    /// permission set's `title` or `detail`).
    OtherChanged,
    /// One side is not a lexicon document the model reads (a pre-v1 format,
    /// invalid JSON, a broken schema): only a structural summary of the JSON
    /// is given.
    UnparsedDocument,
}

impl ChangeKind {
    /// The stable name of the kind (`error_added`, `constraint_tightened`).
    pub fn name(self) -> &'static str {
        match self {
            Self::DocumentAdded => "document_added",
            Self::DocumentRemoved => "document_removed",
            Self::DefAdded => "def_added",
            Self::DefRemoved => "def_removed",
            Self::TypeChanged => "type_changed",
            Self::RefChanged => "ref_changed",
            Self::PropertyAdded => "property_added",
            Self::PropertyRemoved => "property_removed",
            Self::PropertyRenamed => "property_renamed",
            Self::RequiredAdded => "required_added",
            Self::RequiredRemoved => "required_removed",
            Self::NullableAdded => "nullable_added",
            Self::NullableRemoved => "nullable_removed",
            Self::ConstraintTightened(_) => "constraint_tightened",
            Self::ConstraintLoosened(_) => "constraint_loosened",
            Self::ConstraintChanged(_) => "constraint_changed",
            Self::KnownValueAdded => "known_value_added",
            Self::KnownValueRemoved => "known_value_removed",
            Self::UnionRefAdded => "union_ref_added",
            Self::UnionRefRemoved => "union_ref_removed",
            Self::UnionClosed => "union_closed",
            Self::UnionOpened => "union_opened",
            Self::ErrorAdded => "error_added",
            Self::ErrorRemoved => "error_removed",
            Self::BodyAdded => "body_added",
            Self::BodyRemoved => "body_removed",
            Self::BodySchemaAdded => "body_schema_added",
            Self::BodySchemaRemoved => "body_schema_removed",
            Self::SubprotocolChanged => "subprotocol_changed",
            Self::PermissionAdded => "permission_added",
            Self::PermissionRemoved => "permission_removed",
            Self::DescriptionChanged => "description_changed",
            Self::RevisionChanged => "revision_changed",
            Self::OtherChanged => "other_changed",
            Self::UnparsedDocument => "unparsed_document",
        }
    }

    /// The constraint a `constraint_*` kind is about.
    pub fn constraint(self) -> Option<Constraint> {
        match self {
            Self::ConstraintTightened(c)
            | Self::ConstraintLoosened(c)
            | Self::ConstraintChanged(c) => Some(c),
            _ => None,
        }
    }

    /// Which way a `constraint_*` kind moved the constraint.
    pub fn direction(self) -> Option<Direction> {
        match self {
            Self::ConstraintTightened(_) => Some(Direction::Tightened),
            Self::ConstraintLoosened(_) => Some(Direction::Loosened),
            Self::ConstraintChanged(_) => Some(Direction::Changed),
            _ => None,
        }
    }

    /// A short phrase for people (`error added`, `maxLength tightened`).
    pub fn phrase(self) -> String {
        match self {
            Self::ConstraintTightened(c) => format!("{} tightened", c.name()),
            Self::ConstraintLoosened(c) => format!("{} loosened", c.name()),
            Self::ConstraintChanged(c) => format!("{} changed", c.name()),
            Self::UnionRefAdded => "union member added".to_owned(),
            Self::UnionRefRemoved => "union member removed".to_owned(),
            Self::UnionClosed => "union closed".to_owned(),
            Self::UnionOpened => "union opened".to_owned(),
            Self::RequiredAdded => "became required".to_owned(),
            Self::RequiredRemoved => "no longer required".to_owned(),
            Self::NullableAdded => "became nullable".to_owned(),
            Self::NullableRemoved => "no longer nullable".to_owned(),
            Self::KnownValueAdded => "known value added".to_owned(),
            Self::KnownValueRemoved => "known value removed".to_owned(),
            Self::UnparsedDocument => "unparsed document changed".to_owned(),
            other => other.name().replace('_', " "),
        }
    }

    /// Every kind name, for checking acknowledgement files.
    pub const NAMES: &'static [&'static str] = &[
        "document_added",
        "document_removed",
        "def_added",
        "def_removed",
        "type_changed",
        "ref_changed",
        "property_added",
        "property_removed",
        "property_renamed",
        "required_added",
        "required_removed",
        "nullable_added",
        "nullable_removed",
        "constraint_tightened",
        "constraint_loosened",
        "constraint_changed",
        "known_value_added",
        "known_value_removed",
        "union_ref_added",
        "union_ref_removed",
        "union_closed",
        "union_opened",
        "error_added",
        "error_removed",
        "body_added",
        "body_removed",
        "body_schema_added",
        "body_schema_removed",
        "subprotocol_changed",
        "permission_added",
        "permission_removed",
        "description_changed",
        "revision_changed",
        "other_changed",
        "unparsed_document",
    ];
}

/// How a change affects software built against the OLD lexicon, on one side
/// of the data flow. Ordered from harmless to worst.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    /// Not affected.
    #[default]
    None,
    /// The data still decodes and validates, but this side may meet what it
    /// does not know and must fall back as the evolution rules require: an
    /// unknown field (ignored), an unknown union member (generated `Unknown`,
    /// data kept), an unknown `knownValues` value (`Other(String)`), an
    /// undeclared error name (the error enum's `Unknown` case, name and
    /// message kept), or an absent value read with a different default.
    Tolerated,
    /// The data still decodes, but may break a declared constraint (a length,
    /// range, grapheme count, blob size or type, `const`): only software that
    /// validates constraints rejects it. atlex servers always validate
    /// parameters and input; atlex clients only with
    /// `ValidationMode::Strict`.
    Validation,
    /// Cannot be told: one side is not a lexicon the model reads.
    Unknown,
    /// The data may fail to decode or be rejected outright (a type changed, a
    /// required field missing, a closed enum or union value it does not
    /// know), or the spec forbids the change (a rename, a removed union
    /// member, a removed definition).
    Breaking,
}

impl Impact {
    /// The stable name (`none`, `tolerated`, `validation`, `unknown`,
    /// `breaking`).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Tolerated => "tolerated",
            Self::Validation => "validation",
            Self::Unknown => "unknown",
            Self::Breaking => "breaking",
        }
    }

    /// Whether software on this side may fail (decode, validation, or
    /// unknown).
    pub fn breaks(self) -> bool {
        self >= Self::Validation
    }
}

/// Which way the data at a location flows, which tells who its readers and
/// writers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flow {
    /// Parameters and input of an endpoint: written by clients, read by
    /// servers.
    Request,
    /// Output and errors of an endpoint: written by servers, read by clients.
    Response,
    /// Messages of a subscription: written by servers, read by subscribers
    /// (clients).
    Message,
    /// The endpoint as a whole (added, removed, query turned procedure):
    /// clients call it, servers answer it.
    Endpoint,
    /// Record data: written by whoever creates records, read by anyone.
    Record,
    /// A definition other documents refer to (or a `main` object, string or
    /// token): its readers and writers are those of wherever it is used.
    Data,
    /// A whole document whose kind is not known (it could not be read).
    Document,
}

impl Flow {
    /// The stable name (`request`, `response`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Response => "response",
            Self::Message => "message",
            Self::Endpoint => "endpoint",
            Self::Record => "record",
            Self::Data => "data",
            Self::Document => "document",
        }
    }

    /// Who, among existing software, reads the data at this location and who
    /// writes it: `(readers, writers)`, as plural nouns.
    ///
    /// For parts of an endpoint these are its clients and servers (a client
    /// writes the input and reads the output); for data, its consumers and
    /// producers.
    pub fn roles(self) -> (&'static str, &'static str) {
        match self {
            Self::Request | Self::Endpoint => ("servers", "clients"),
            Self::Response | Self::Message => ("clients", "servers"),
            Self::Record | Self::Data | Self::Document => ("consumers", "producers"),
        }
    }
}

/// The effect of a change on each side: software built against OLD that
/// reads data at the location (and so meets data written under NEW), and
/// software built against OLD that writes it (whose data is read under NEW).
///
/// The evolution rules say all old data must stay valid under the new
/// lexicon (else old writers break) and all new data must be valid under the
/// old lexicon (else old readers break).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Compat {
    /// Existing readers: they meet data written under NEW.
    pub readers: Impact,
    /// Existing writers: their data is read under NEW.
    pub writers: Impact,
}

impl Compat {
    /// Neither side is affected.
    pub const NONE: Self = Self {
        readers: Impact::None,
        writers: Impact::None,
    };

    /// Both sides have `impact`.
    pub const fn both(impact: Impact) -> Self {
        Self {
            readers: impact,
            writers: impact,
        }
    }

    /// Readers have `readers`, writers `writers`.
    pub const fn new(readers: Impact, writers: Impact) -> Self {
        Self { readers, writers }
    }

    /// The worse of the two.
    pub fn worst(self) -> Impact {
        self.readers.max(self.writers)
    }
}

/// The compatibility class of one change. Ordered from harmless to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// No effect on data or calls: descriptions, `revision`, keys the model
    /// does not read.
    Cosmetic,
    /// Existing software on both sides keeps working, possibly meeting values
    /// it does not know and handling them as the evolution rules require.
    Compatible,
    /// Cannot be classified: one side is not a lexicon the model reads.
    Unclassified,
    /// Existing software on at least one side may fail, or the spec forbids
    /// the change.
    Breaking,
}

impl Class {
    /// The stable name (`cosmetic`, `compatible`, `unclassified`,
    /// `breaking`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Cosmetic => "cosmetic",
            Self::Compatible => "compatible",
            Self::Unclassified => "unclassified",
            Self::Breaking => "breaking",
        }
    }
}

/// The verdict of a document or of a whole diff: its worst class, or
/// `unchanged`. Ordered from harmless to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Nothing changed.
    Unchanged,
    /// Only cosmetic changes.
    Cosmetic,
    /// Compatible changes (and perhaps cosmetic ones).
    Compatible,
    /// Some change could not be classified; none is known to break.
    Unclassified,
    /// Some change breaks.
    Breaking,
}

impl Verdict {
    /// The stable name (`unchanged`, `cosmetic`, `compatible`,
    /// `unclassified`, `breaking`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Cosmetic => "cosmetic",
            Self::Compatible => "compatible",
            Self::Unclassified => "unclassified",
            Self::Breaking => "breaking",
        }
    }

    /// The verdict of a list of changes.
    pub fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Self {
        changes
            .into_iter()
            .map(|c| Self::from(c.class))
            .max()
            .unwrap_or(Self::Unchanged)
    }
}

impl From<Class> for Verdict {
    fn from(class: Class) -> Self {
        match class {
            Class::Cosmetic => Self::Cosmetic,
            Class::Compatible => Self::Compatible,
            Class::Unclassified => Self::Unclassified,
            Class::Breaking => Self::Breaking,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One change.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// What changed.
    pub kind: ChangeKind,
    /// Where, as a lexicon location: `nsid#def.property`, with `[]` for array
    /// items (`nsid#def.tags[]`), `.parameters`, `.input`, `.output` and
    /// `.message` for the parts of an endpoint, and `.errors.Name` for an
    /// error.
    pub location: String,
    /// The JSON pointer of the changed schema in NEW, or in OLD when NEW has
    /// no such place.
    pub pointer: String,
    /// The old value, when there is one to show (a bound, a type name, a
    /// member, a description).
    pub old: Option<Value>,
    /// The new value.
    pub new: Option<Value>,
    /// Which way the data at the location flows.
    pub flow: Flow,
    /// The effect on existing readers and writers.
    pub compat: Compat,
    /// The class, which follows from `kind` and `compat`.
    pub class: Class,
    /// Why the change has this class, in a sentence from the evolution rules.
    pub reason: String,
    /// Further lines (the structural summary of an unparsed document).
    pub details: Vec<String>,
    /// When an acknowledgement covers this change: its reason.
    pub acknowledged: Option<String>,
}

impl Change {
    /// Existing software that may fail because of this change, by role
    /// (`clients`, `servers`, `consumers`, `producers`).
    pub fn breaks(&self) -> Vec<&'static str> {
        let (readers, writers) = self.flow.roles();
        let mut out = Vec::new();
        if self.compat.readers.breaks() {
            out.push(readers);
        }
        if self.compat.writers.breaks() {
            out.push(writers);
        }
        out
    }

    /// Whether this change fails a check: breaking or unclassified, and not
    /// acknowledged.
    pub fn fails(&self) -> bool {
        self.class >= Class::Unclassified && self.acknowledged.is_none()
    }
}

/// How a document differs between OLD and NEW.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocStatus {
    /// Only NEW has it.
    Added,
    /// Only OLD has it.
    Removed,
    /// Both have it and something differs.
    Changed,
    /// Both have it, identical as JSON.
    Unchanged,
}

impl DocStatus {
    /// The stable name (`added`, `removed`, `changed`, `unchanged`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
            Self::Unchanged => "unchanged",
        }
    }
}

/// The changes of one document (NSID).
#[derive(Clone, Debug, PartialEq)]
pub struct DocReport {
    /// The NSID (the document's `id`, or the NSID its path implies when it
    /// has none).
    pub nsid: String,
    /// Where OLD's document was read from.
    pub old_path: Option<String>,
    /// Where NEW's document was read from.
    pub new_path: Option<String>,
    /// Added, removed, changed or unchanged.
    pub status: DocStatus,
    /// Every change, in document order.
    pub changes: Vec<Change>,
}

impl DocReport {
    /// The worst class among the changes.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(&self.changes)
    }

    /// Whether some change fails a check (see [`Change::fails`]).
    pub fn fails(&self) -> bool {
        self.changes.iter().any(Change::fails)
    }
}

/// The result of comparing two sets of lexicons.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// What OLD was (a path, or `git:REV:PATH`).
    pub old_label: String,
    /// What NEW was.
    pub new_label: String,
    /// Every document of either side, by NSID; unchanged ones included.
    pub documents: Vec<DocReport>,
    /// Problems with the inputs that did not stop the diff (two files with
    /// the same NSID).
    pub warnings: Vec<String>,
}

impl Report {
    /// The worst verdict of any document.
    pub fn verdict(&self) -> Verdict {
        self.documents
            .iter()
            .map(DocReport::verdict)
            .max()
            .unwrap_or(Verdict::Unchanged)
    }

    /// Whether some change fails a check: a breaking or unclassified change
    /// that is not acknowledged. This is what a non-zero exit code reports.
    pub fn fails(&self) -> bool {
        self.documents.iter().any(DocReport::fails)
    }

    /// Every change of every document.
    pub fn changes(&self) -> impl Iterator<Item = (&DocReport, &Change)> {
        self.documents
            .iter()
            .flat_map(|d| d.changes.iter().map(move |c| (d, c)))
    }

    /// The documents that changed (added, removed or changed).
    pub fn changed_documents(&self) -> impl Iterator<Item = &DocReport> {
        self.documents
            .iter()
            .filter(|d| d.status != DocStatus::Unchanged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_name_is_listed_once() {
        use ChangeKind::*;
        let c = Constraint::MaxLength;
        let all = [
            DocumentAdded,
            DocumentRemoved,
            DefAdded,
            DefRemoved,
            TypeChanged,
            RefChanged,
            PropertyAdded,
            PropertyRemoved,
            PropertyRenamed,
            RequiredAdded,
            RequiredRemoved,
            NullableAdded,
            NullableRemoved,
            ConstraintTightened(c),
            ConstraintLoosened(c),
            ConstraintChanged(c),
            KnownValueAdded,
            KnownValueRemoved,
            UnionRefAdded,
            UnionRefRemoved,
            UnionClosed,
            UnionOpened,
            ErrorAdded,
            ErrorRemoved,
            BodyAdded,
            BodyRemoved,
            BodySchemaAdded,
            BodySchemaRemoved,
            SubprotocolChanged,
            PermissionAdded,
            PermissionRemoved,
            DescriptionChanged,
            RevisionChanged,
            OtherChanged,
            UnparsedDocument,
        ];
        let names: Vec<&str> = all.iter().map(|k| k.name()).collect();
        assert_eq!(names, ChangeKind::NAMES);
        assert_eq!(ConstraintLoosened(c).direction(), Some(Direction::Loosened));
        assert_eq!(ConstraintTightened(c).phrase(), "maxLength tightened");
        assert_eq!(UnionRefAdded.phrase(), "union member added");
    }

    #[test]
    fn classes_order_from_harmless_to_worst() {
        assert!(Impact::None < Impact::Tolerated && Impact::Validation < Impact::Breaking);
        assert!(!Impact::Tolerated.breaks() && Impact::Validation.breaks());
        assert_eq!(Verdict::of([]), Verdict::Unchanged);
        assert_eq!(Verdict::from(Class::Unclassified), Verdict::Unclassified);
        assert_eq!(Flow::Request.roles(), ("servers", "clients"));
        assert_eq!(Flow::Response.roles(), ("clients", "servers"));
    }
}
