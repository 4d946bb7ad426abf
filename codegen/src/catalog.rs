//! The catalog: every loaded lexicon document, indexed by NSID, with its
//! references resolved and checked.
//!
//! Loading a directory reports, all at once: files that are not valid
//! lexicons, duplicate NSIDs, ids that do not match their path, references to
//! definitions that do not exist (with every place that refers to them), and
//! references to definitions of the wrong kind.
//!
//! Files named `*.binding.json` are not lexicons but HTTP bindings (see
//! [`crate::binding`]): the catalog keeps their text for the generator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Diagnostics, Location, lexicon_location, pointer_push};
use crate::files::{CRATE_DIRS, nsid_from_relative_path};
use crate::lexicon::{self, DefKey, Document, Schema, SchemaKind};

/// How the files of HTTP bindings end; they are not read as lexicons.
pub const BINDING_SUFFIX: &str = ".binding.json";

/// One document in the catalog, with where it came from.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The document.
    pub document: Document,
    /// The file it was read from, if any.
    pub file: Option<Arc<Path>>,
    /// The file's text, kept for diagnostics.
    pub source: Arc<str>,
    /// For a document an extern crate has bindings for (see
    /// [`Catalog::load_extern`]): the Rust path of that crate
    /// (`::atlex_lexicons`). It is read for references and never generated.
    pub extern_crate: Option<String>,
}

/// All loaded documents, by NSID.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
    /// The text of every file read, accepted or not, for diagnostics.
    sources: BTreeMap<PathBuf, Arc<str>>,
    /// NSIDs of documents that were read but rejected, with their file.
    rejected: BTreeMap<String, Option<Arc<Path>>>,
    /// Files that were read but rejected.
    rejected_files: BTreeSet<Arc<Path>>,
    /// The binding files read, with their text, in path order.
    bindings: Vec<(Option<Arc<Path>>, Arc<str>)>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every `*.json` file under `root` (recursively, in sorted order),
    /// in any layout: each document is known by its `id` (see
    /// [`LoadOptions`]).
    pub fn load_dir(&mut self, root: &Path, diagnostics: &mut Diagnostics) {
        self.load(root, &LoadOptions::default(), diagnostics);
    }

    /// Loads the lexicons of a crate that keeps them at its root, beside
    /// `src/`, `tests/` and the like (as `atlex-lexicons` does): the
    /// top-level directories in [`CRATE_DIRS`] are skipped.
    pub fn load_crate_dir(&mut self, root: &Path, diagnostics: &mut Diagnostics) {
        let options = LoadOptions {
            crate_dir: true,
            ..LoadOptions::default()
        };
        self.load(root, &options, diagnostics);
    }

    /// Loads the lexicons of a crate that already has bindings for them, at
    /// `rust_path` (`::atlex_lexicons`): they are read for references and
    /// never generated, and a local copy of one of them (a lexicon set that
    /// bundles its own `com.atproto.*`) is ignored, with a warning that says
    /// how it differs. Load these before the lexicons that refer to them.
    /// Their binding files are not read: the crate has generated them.
    pub fn load_extern(
        &mut self,
        root: &Path,
        rust_path: &str,
        options: &LoadOptions,
        diagnostics: &mut Diagnostics,
    ) {
        let before: BTreeSet<String> = self.entries.keys().cloned().collect();
        let bindings = self.bindings.len();
        self.load(root, options, diagnostics);
        self.bindings.truncate(bindings);
        for (nsid, entry) in &mut self.entries {
            if !before.contains(nsid) && entry.extern_crate.is_none() {
                entry.extern_crate = Some(rust_path.to_owned());
            }
        }
    }

    /// Loads the lexicon files under `root` as `options` says.
    pub fn load(&mut self, root: &Path, options: &LoadOptions, diagnostics: &mut Diagnostics) {
        let skip = |relative: &Path| {
            let crate_dir = options.crate_dir
                && relative.components().count() == 1
                && relative
                    .to_str()
                    .is_some_and(|name| CRATE_DIRS.contains(&name));
            crate_dir
                || options
                    .exclude
                    .as_ref()
                    .is_some_and(|set| set.is_match(relative))
        };
        self.load_dir_filtered(root, &skip, options.layout_warnings, diagnostics);
    }

    /// Loads every lexicon under `root` but the files and directories whose
    /// path relative to `root` satisfies `skip`. With `layout_warnings`, a
    /// document whose path does not spell its id is warned about.
    pub fn load_dir_filtered(
        &mut self,
        root: &Path,
        skip: &dyn Fn(&Path) -> bool,
        layout_warnings: bool,
        diagnostics: &mut Diagnostics,
    ) {
        let mut files = Vec::new();
        let mut bindings = Vec::new();
        if let Err(err) = collect_json_files(root, root, skip, &mut files, &mut bindings) {
            diagnostics.push(Diagnostic::error(
                Location::new(Some(Arc::from(root)), ""),
                format!("cannot read lexicon directory: {err}"),
            ));
            return;
        }
        files.sort();
        bindings.sort();
        for path in bindings {
            match std::fs::read_to_string(&path) {
                Ok(text) => self.add_binding_source(Some(&path), &text),
                Err(err) => diagnostics.push(Diagnostic::error(
                    Location::new(Some(Arc::from(path.as_path())), ""),
                    format!("cannot read file: {err}"),
                )),
            }
        }
        for path in files {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(err) => {
                    diagnostics.push(Diagnostic::error(
                        Location::new(Some(Arc::from(path.as_path())), ""),
                        format!("cannot read file: {err}"),
                    ));
                    continue;
                }
            };
            let implied = layout_warnings
                .then(|| {
                    path.strip_prefix(root)
                        .ok()
                        .and_then(nsid_from_relative_path)
                })
                .flatten();
            self.add_source(Some(&path), &text, implied.as_deref(), diagnostics);
        }
    }

    /// Adds one document from its text. `implied_id`, when given, is the NSID
    /// its path spells; a different `id` is warned about, unless the path
    /// spells the end of it (`actor/profile.json` holding
    /// `sh.tangled.actor.profile`, a layout rooted inside the namespace).
    ///
    /// A document whose id an extern crate provides (see
    /// [`Catalog::load_extern`]) is ignored, with a warning saying whether it
    /// differs from the extern one; a copy identical to a document already
    /// loaded is ignored silently; a different document with the same id is
    /// an error naming both files.
    pub fn add_source(
        &mut self,
        path: Option<&Path>,
        text: &str,
        implied_id: Option<&str>,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        let file: Option<Arc<Path>> = path.map(Arc::from);
        let source: Arc<str> = Arc::from(text);
        if let Some(path) = path {
            self.sources.insert(path.to_path_buf(), source.clone());
        }
        let mut problems = Diagnostics::new();
        let read = lexicon::read(text, file.clone(), &mut problems);
        let id = read.document.as_ref().map(|d| d.id.clone()).or(read.id);
        if let Some(id) = &id
            && let Some(existing) = self.entries.get(id)
            && let Some(rust_path) = &existing.extern_crate
        {
            let warning = bundled_copy_warning(
                existing,
                rust_path,
                file.clone(),
                text,
                &read.document,
                &problems,
            );
            if let Some(warning) = warning {
                diagnostics.push(warning);
            }
            return None;
        }
        diagnostics.extend(problems);
        let Some(document) = read.document else {
            // Remember which NSID failed, so references to it say so.
            if let Some(file) = &file {
                self.rejected_files.insert(file.clone());
            }
            if let Some(id) = id {
                self.rejected.insert(id, file);
            }
            return None;
        };
        if let Some(implied) = implied_id
            && implied != document.id
            && !document.id.ends_with(&format!(".{implied}"))
        {
            let mut location = Location::new(file.clone(), "/id");
            location.lexicon = Some(document.id.clone());
            location.nsid = Some(document.id.clone());
            diagnostics.push(Diagnostic::warning(
                location,
                format!(
                    "id `{}` does not match the file's path, which spells `{implied}`; documents are known by their id (silence this with `layout_warnings(false)` or `--no-layout-warnings`)",
                    document.id
                ),
            ));
        }
        self.add(document, file, source, diagnostics)
    }

    /// Adds the text of a binding file (read by [`crate::binding`] when code
    /// is generated).
    pub fn add_binding_source(&mut self, path: Option<&Path>, text: &str) {
        let file: Option<Arc<Path>> = path.map(Arc::from);
        let source: Arc<str> = Arc::from(text);
        if let Some(path) = path {
            self.sources.insert(path.to_path_buf(), source.clone());
        }
        self.bindings.push((file, source));
    }

    /// The binding files, with their text.
    pub fn binding_sources(&self) -> &[(Option<Arc<Path>>, Arc<str>)] {
        &self.bindings
    }

    /// Adds a parsed document. A second document with the same NSID is an error
    /// naming both files.
    pub fn add(
        &mut self,
        document: Document,
        file: Option<Arc<Path>>,
        source: Arc<str>,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        let id = document.id.clone();
        if let Some(existing) = self.entries.get(&id) {
            if existing.document == document {
                return None;
            }
            let mut location = Location::new(file, "/id");
            location.lexicon = Some(id.clone());
            location.nsid = Some(id.clone());
            let mut first = Location::new(existing.file.clone(), "/id");
            first.lexicon = Some(id.clone());
            first.nsid = Some(id.clone());
            diagnostics.push(
                Diagnostic::error(
                    location,
                    format!("duplicate NSID `{id}`: two different documents have this id"),
                )
                .with_related(first, "the other is here"),
            );
            return None;
        }
        self.entries.insert(
            id.clone(),
            Entry {
                document,
                file,
                source,
                extern_crate: None,
            },
        );
        Some(id)
    }

    /// Moves every document of `other` into this catalog; an NSID present in
    /// both is reported as a duplicate. Its binding files are not kept: a
    /// merged catalog holds lexicons generated elsewhere.
    pub fn merge(&mut self, other: Catalog, diagnostics: &mut Diagnostics) {
        self.sources.extend(other.sources);
        self.rejected.extend(other.rejected);
        self.rejected_files.extend(other.rejected_files);
        for (_, entry) in other.entries {
            let extern_crate = entry.extern_crate.clone();
            if let Some(id) = self.add(entry.document, entry.file, entry.source, diagnostics)
                && let Some(entry) = self.entries.get_mut(&id)
            {
                entry.extern_crate = extern_crate;
            }
        }
    }

    /// Whether an extern crate provides document `nsid` (see
    /// [`Catalog::load_extern`]).
    pub fn is_extern(&self, nsid: &str) -> bool {
        self.entries
            .get(nsid)
            .is_some_and(|e| e.extern_crate.is_some())
    }

    /// Every document an extern crate provides, with the Rust path of that
    /// crate.
    pub fn extern_crates(&self) -> impl Iterator<Item = (&String, &String)> {
        self.entries
            .iter()
            .filter_map(|(nsid, e)| Some((nsid, e.extern_crate.as_ref()?)))
    }

    /// The NSIDs of documents that were read but rejected.
    pub fn rejected(&self) -> impl Iterator<Item = &String> {
        self.rejected.keys()
    }

    /// The file of the rejected document `nsid`.
    pub fn rejected_file(&self, nsid: &str) -> Option<Arc<Path>> {
        self.rejected.get(nsid).cloned().flatten()
    }

    /// The files that were rejected without an id that could be read (not
    /// JSON, or no `id`).
    pub fn unidentified_rejected_files(&self) -> impl Iterator<Item = &Arc<Path>> {
        self.rejected_files.iter().filter(|file| {
            !self
                .rejected
                .values()
                .any(|f| f.as_deref() == Some(&***file))
        })
    }

    /// Whether the file at `path` was read and rejected.
    pub fn is_rejected_file(&self, path: &Path) -> bool {
        self.rejected_files.contains(path)
    }

    /// This catalog without the documents in `left_out`, which count as
    /// rejected (references to them say so).
    pub fn without(&self, left_out: &BTreeSet<String>) -> Catalog {
        let mut catalog = self.clone();
        for nsid in left_out {
            if let Some(entry) = catalog.entries.remove(nsid) {
                catalog.rejected.insert(nsid.clone(), entry.file);
            }
        }
        catalog
    }

    /// Keeps only the binding files for which `keep` holds (by file).
    pub fn retain_bindings(&mut self, keep: impl Fn(Option<&Path>) -> bool) {
        self.bindings.retain(|(file, _)| keep(file.as_deref()));
    }

    /// The document `nsid`.
    pub fn get(&self, nsid: &str) -> Option<&Entry> {
        self.entries.get(nsid)
    }

    /// The schema of a definition.
    pub fn def(&self, key: &DefKey) -> Option<&Schema> {
        self.entries
            .get(&key.nsid)?
            .document
            .def(&key.name)
            .map(|d| &d.schema)
    }

    /// All documents, by NSID.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The source text of the document read from `file`.
    pub fn source_of(&self, file: &Path) -> Option<Arc<str>> {
        self.sources.get(file).cloned().or_else(|| {
            self.entries
                .values()
                .find(|e| e.file.as_deref() == Some(file))
                .map(|e| e.source.clone())
        })
    }

    /// Fills in the line and column of the diagnostics located in files the
    /// catalog has read.
    pub fn locate(&self, diagnostics: &mut Diagnostics) {
        let mut files = crate::locate::Files::new(|file: &Path| self.source_of(file));
        diagnostics.locate(|file, pointer| files.line_col(file, pointer));
    }

    /// A location in document `nsid`.
    pub fn location(&self, nsid: &str, pointer: &str) -> Location {
        let mut location =
            Location::new(self.entries.get(nsid).and_then(|e| e.file.clone()), pointer);
        location.lexicon = lexicon_location(nsid, pointer);
        location.nsid = Some(nsid.to_owned());
        location
    }

    /// Checks every reference: it must name an existing definition of a kind
    /// that may be referred to. A missing definition is reported once, with
    /// every place that refers to it. Documents outside `scope` (when given)
    /// are not checked, but may be referred to.
    pub fn check_refs(&self, scope: Option<&dyn Fn(&str) -> bool>, diagnostics: &mut Diagnostics) {
        let mut missing: BTreeMap<DefKey, Vec<Location>> = BTreeMap::new();
        for (nsid, entry) in &self.entries {
            if scope.is_some_and(|in_scope| !in_scope(nsid)) {
                continue;
            }
            for def in &entry.document.defs {
                visit_refs(&def.schema, &mut |pointer, target, in_union| {
                    let key = DefKey::resolve(nsid, target);
                    let location = self.location(nsid, pointer);
                    match self.def(&key) {
                        None => missing.entry(key).or_default().push(location),
                        Some(schema) => {
                            if let Some(problem) = ref_kind_problem(&schema.kind, in_union) {
                                diagnostics.push(Diagnostic::error(
                                    location,
                                    format!("reference to `{key}`, {problem}"),
                                ));
                            } else if in_union && matches!(schema.kind, SchemaKind::Token) {
                                diagnostics
                                    .push(Diagnostic::warning(location, token_member_note(&key)));
                            }
                        }
                    }
                });
            }
        }
        for (key, mut locations) in missing {
            let mut first = locations.remove(0);
            let what = if self.entries.contains_key(&key.nsid) {
                format!("`{}` has no definition `{}`", key.nsid, key.name)
            } else if self.rejected.contains_key(&key.nsid) {
                // The fault is the invalid document's: this one is not made
                // invalid by it (which would leave out everything that
                // refers to it in turn).
                first.nsid = None;
                format!("lexicon `{}` was rejected (see its errors)", key.nsid)
            } else {
                format!("no lexicon `{}` is loaded", key.nsid)
            };
            let mut diagnostic =
                Diagnostic::error(first, format!("unresolved reference to `{key}`: {what}"));
            for location in locations {
                diagnostic = diagnostic.with_related(location, "also referred to here");
            }
            diagnostics.push(diagnostic);
        }
    }
}

impl Catalog {
    /// Checks what only the whole set shows about definitions: an array
    /// definition whose items are itself, through references to array
    /// definitions only (`"arr": {"type": "array", "items": {"type": "ref",
    /// "ref": "#arr"}}`), describes no type with an end. Documents outside
    /// `scope` (when given) are not checked.
    pub fn check_definitions(
        &self,
        scope: Option<&dyn Fn(&str) -> bool>,
        diagnostics: &mut Diagnostics,
    ) {
        for (nsid, entry) in &self.entries {
            if scope.is_some_and(|in_scope| !in_scope(nsid)) {
                continue;
            }
            for def in &entry.document.defs {
                let start = DefKey::new(nsid.clone(), def.name.clone());
                let mut path = vec![start.clone()];
                let mut schema = &def.schema;
                while let Some(next) = array_item_ref(schema, &path[path.len() - 1].nsid) {
                    if next == start {
                        let through = if path.len() > 1 {
                            let names: Vec<String> = path.iter().map(ToString::to_string).collect();
                            format!(" (through {})", names.join(" → "))
                        } else {
                            String::new()
                        };
                        diagnostics.push(Diagnostic::error(
                            self.location(nsid, &def.schema.pointer),
                            format!(
                                "`{start}` is an array whose items are itself{through}: no value of it has an end, and no Rust type can hold it; give the items an object"
                            ),
                        ));
                        break;
                    }
                    if path.contains(&next) || path.len() > self.entries.len() {
                        break;
                    }
                    let Some(target) = self.def(&next) else {
                        break;
                    };
                    schema = target;
                    path.push(next);
                }
            }
        }
    }
}

/// For an array definition whose items (through nested arrays) are a
/// reference: the definition referred to.
fn array_item_ref(schema: &Schema, nsid: &str) -> Option<DefKey> {
    let SchemaKind::Array(array) = &schema.kind else {
        return None;
    };
    let mut items = &*array.items;
    while let SchemaKind::Array(inner) = &items.kind {
        items = &inner.items;
    }
    match &items.kind {
        SchemaKind::Ref(r) => Some(DefKey::resolve(nsid, &r.target)),
        _ => None,
    }
}

/// What is wrong with referring to a definition of this kind, if anything.
pub(crate) fn ref_kind_problem(kind: &SchemaKind, in_union: bool) -> Option<String> {
    match kind {
        SchemaKind::Query(_)
        | SchemaKind::Procedure(_)
        | SchemaKind::Subscription(_)
        | SchemaKind::PermissionSet(_)
        | SchemaKind::Space(_) => Some(format!(
            "of type `{}`, which is not a data type",
            kind.type_name()
        )),
        SchemaKind::Object(_) | SchemaKind::Record(_) => None,
        SchemaKind::Token if !in_union => Some(
            "a `token`: a token names a value and is no data type; list it in a string's `knownValues` instead".to_owned(),
        ),
        // Accepted, as the reference implementation does; see
        // `token_member_note`.
        SchemaKind::Token => None,
        _ if in_union => Some(format!(
            "of type `{}`; union members must be objects or records",
            kind.type_name()
        )),
        _ => None,
    }
}

/// What a token listed as a member of a union means: data `{"$type":
/// "<token>"}` and nothing else. Such a value has no fields to generate; in
/// an open union it is kept as an unknown member (a closed union with a
/// token member is refused where its type is made).
pub(crate) fn token_member_note(key: &DefKey) -> String {
    format!(
        "union member `{key}` is a `token`, no data type: a value is then an object holding only `\"$type\": \"{}\"`, kept as an unknown member of the union; list tokens in a string's `knownValues` instead",
        key.type_name()
    )
}

/// Calls `f(pointer, target, in_union)` for every reference inside `schema`.
pub fn visit_refs(schema: &Schema, f: &mut dyn FnMut(&str, &str, bool)) {
    match &schema.kind {
        SchemaKind::Ref(r) => f(&pointer_push(&schema.pointer, "ref"), &r.target, false),
        SchemaKind::Union(u) => {
            let refs = pointer_push(&schema.pointer, "refs");
            for (i, target) in u.refs.iter().enumerate() {
                f(&pointer_push(&refs, &i.to_string()), target, true);
            }
        }
        SchemaKind::Array(a) => visit_refs(&a.items, f),
        SchemaKind::Object(o) | SchemaKind::Params(o) => {
            for (_, p) in &o.properties {
                visit_refs(p, f);
            }
        }
        SchemaKind::Record(r) => visit_refs(&r.record, f),
        SchemaKind::Query(e) | SchemaKind::Procedure(e) => {
            if let Some(p) = &e.parameters {
                visit_refs(p, f);
            }
            for body in [&e.input, &e.output].into_iter().flatten() {
                if let Some(s) = &body.schema {
                    visit_refs(s, f);
                }
            }
        }
        SchemaKind::Subscription(s) => {
            if let Some(p) = &s.parameters {
                visit_refs(p, f);
            }
            if let Some(m) = s.message.as_ref().and_then(|m| m.schema.as_ref()) {
                visit_refs(m, f);
            }
        }
        SchemaKind::Boolean(_)
        | SchemaKind::Integer(_)
        | SchemaKind::String(_)
        | SchemaKind::Bytes(_)
        | SchemaKind::CidLink
        | SchemaKind::Blob(_)
        | SchemaKind::Token
        | SchemaKind::Unknown
        | SchemaKind::PermissionSet(_)
        | SchemaKind::Permission(_)
        | SchemaKind::Space(_) => {}
    }
}

/// How the files of a lexicon directory are read.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Files and directories to leave out, by their path relative to the
    /// directory (see [`exclude_set`]).
    pub exclude: Option<globset::GlobSet>,
    /// Whether a document whose path does not spell its id is warned about
    /// (on by default; documents are known by their id either way).
    pub layout_warnings: bool,
    /// Whether the directory is a crate's: its top-level [`CRATE_DIRS`] are
    /// skipped.
    pub crate_dir: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            exclude: None,
            layout_warnings: true,
            crate_dir: false,
        }
    }
}

/// The matcher of exclusion globs (`vendor/**`, `**/*.draft.json`), matched
/// against paths relative to a lexicon directory; `None` for no globs.
pub fn exclude_set(globs: &[String]) -> Result<Option<globset::GlobSet>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        let glob = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|err| format!("exclude glob {glob:?}: {err}"))?;
        builder.add(glob);
    }
    builder
        .build()
        .map(Some)
        .map_err(|err| format!("exclude globs: {err}"))
}

/// How many changes a warning about a bundled copy shows before "and N more".
const SHOWN_CHANGES: usize = 3;

/// The warning for a local copy of a document an extern crate provides:
/// nothing when it is the same document, else what the diff engine finds
/// different (or that the copy is not a valid lexicon).
fn bundled_copy_warning(
    used: &Entry,
    rust_path: &str,
    file: Option<Arc<Path>>,
    text: &str,
    copy: &Option<Document>,
    problems: &Diagnostics,
) -> Option<Diagnostic> {
    if copy.as_ref() == Some(&used.document) {
        return None;
    }
    let id = &used.document.id;
    let crate_path = rust_path
        .split("::")
        .find(|s| !s.is_empty())
        .unwrap_or(rust_path);
    let how = match copy {
        None => {
            let first = problems
                .errors()
                .next()
                .map_or_else(|| "it has errors".to_owned(), |d| d.message.clone());
            format!("it is not a valid lexicon ({first})")
        }
        Some(_) => {
            let side = |label: &str, path: &str, bytes: &[u8]| {
                let mut set = crate::diff::LexiconSet::new(label);
                set.insert_bytes(path, bytes, Some(id));
                set.single_file = true;
                set
            };
            let report = crate::diff::diff(
                &side("extern", "extern", used.source.as_bytes()),
                &side("local", "local", text.as_bytes()),
            );
            let changes: Vec<&crate::diff::Change> =
                report.changes().map(|(_, change)| change).collect();
            if changes.is_empty() {
                "it differs only in what the lexicon model ignores".to_owned()
            } else {
                let shown: Vec<String> = changes
                    .iter()
                    .take(SHOWN_CHANGES)
                    .map(|c| {
                        let shown = |v: &serde_json::Value| {
                            let text = v.to_string();
                            if text.chars().count() > 40 {
                                format!("{}…", text.chars().take(40).collect::<String>())
                            } else {
                                text
                            }
                        };
                        // Scalars say what changed; a schema would only be noise.
                        let scalar = |v: &&serde_json::Value| !v.is_object();
                        let values =
                            match (c.old.as_ref().filter(scalar), c.new.as_ref().filter(scalar)) {
                                (Some(old), Some(new)) => {
                                    format!(" {} → {}", shown(old), shown(new))
                                }
                                (Some(old), None) => format!(" {}", shown(old)),
                                (None, Some(new)) => format!(" {}", shown(new)),
                                (None, None) => String::new(),
                            };
                        format!(
                            "{}{values} at {} ({})",
                            c.kind.phrase(),
                            c.location,
                            c.class
                        )
                    })
                    .collect();
                let more = changes.len().saturating_sub(SHOWN_CHANGES);
                format!(
                    "read as a change from that lexicon to this copy, it differs ({} change{}, {}): {}{}",
                    changes.len(),
                    if changes.len() == 1 { "" } else { "s" },
                    report.verdict(),
                    shown.join("; "),
                    if more > 0 {
                        format!("; and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
        }
    };
    let mut location = Location::new(file, "/id");
    location.lexicon = Some(id.clone());
    let mut used_at = Location::new(used.file.clone(), "/id");
    used_at.lexicon = Some(id.clone());
    Some(
        Diagnostic::warning(
            location,
            format!(
                "this copy of `{id}` is ignored: its types come from `{crate_path}`, whose lexicon is used; {how}"
            ),
        )
        .with_related(used_at, "the lexicon used"),
    )
}

fn collect_json_files(
    root: &Path,
    dir: &Path,
    skip: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
    bindings: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.strip_prefix(root).is_ok_and(skip) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_json_files(root, &path, skip, out, bindings)?;
        } else if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.ends_with(BINDING_SUFFIX))
        {
            bindings.push(path);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(docs: &[(&str, &str)]) -> (Catalog, Diagnostics) {
        let mut catalog = Catalog::new();
        let mut diagnostics = Diagnostics::new();
        for (name, text) in docs {
            catalog.add_source(Some(Path::new(name)), text, None, &mut diagnostics);
        }
        catalog.check_refs(None, &mut diagnostics);
        (catalog, diagnostics)
    }

    #[test]
    fn missing_refs_name_every_place() {
        let (_, diags) = catalog(&[(
            "a.json",
            r##"{"lexicon":1,"id":"com.example.a","defs":{
                "x":{"type":"object","properties":{"p":{"type":"ref","ref":"#nope"},"q":{"type":"ref","ref":"#nope"}}},
                "y":{"type":"object","properties":{"u":{"type":"union","refs":["com.example.zzz"]}}}
            }}"##,
        )]);
        let errors: Vec<&Diagnostic> = diags.errors().collect();
        assert_eq!(errors.len(), 2, "{diags}");
        assert!(errors[0].message.contains("com.example.a#nope"), "{diags}");
        assert_eq!(errors[0].related.len(), 1);
        assert_eq!(
            errors[0].location.lexicon.as_deref(),
            Some("com.example.a#x.p")
        );
        assert!(
            errors[1].message.contains("no lexicon `com.example.zzz`"),
            "{diags}"
        );
    }

    #[test]
    fn duplicates_and_wrong_kinds() {
        let doc = r##"{"lexicon":1,"id":"com.example.a","defs":{
            "main":{"type":"query"},
            "s":{"type":"string"},
            "o":{"type":"object","properties":{"u":{"type":"union","refs":["#s"]},"r":{"type":"ref","ref":"#main"}}}
        }}"##;
        let other = doc.replace(r#""type":"string""#, r#""type":"integer""#);
        let (catalog, diags) = catalog(&[("a.json", doc), ("b.json", &other), ("c.json", doc)]);
        assert_eq!(catalog.len(), 1);
        // The identical copy (c.json) is silent; the different one is not.
        assert_eq!(
            diags
                .errors()
                .filter(|d| d.message.contains("duplicate NSID"))
                .count(),
            1,
            "{diags}"
        );
        // It names both files.
        let duplicate = diags
            .errors()
            .find(|d| d.message.contains("duplicate NSID"))
            .unwrap();
        assert_eq!(
            duplicate.location.file.as_deref(),
            Some(Path::new("b.json"))
        );
        assert_eq!(
            duplicate.related[0].0.file.as_deref(),
            Some(Path::new("a.json"))
        );
        let messages: Vec<&str> = diags.errors().map(|d| d.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("union members must be objects")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("not a data type")),
            "{messages:?}"
        );
    }
}
