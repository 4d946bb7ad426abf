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

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Diagnostics, Location, pointer_push};
use crate::lexicon::{self, Document, Schema, SchemaKind};

/// How the files of HTTP bindings end; they are not read as lexicons.
pub const BINDING_SUFFIX: &str = ".binding.json";

/// Top-level directories of a crate that hold no lexicons.
pub const CRATE_DIRS: &[&str] = &["src", "tests", "benches", "examples", "target"];

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

/// One document in the catalog, with where it came from.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The document.
    pub document: Document,
    /// The file it was read from, if any.
    pub file: Option<Arc<Path>>,
    /// The file's text, kept for diagnostics.
    pub source: Arc<str>,
}

/// All loaded documents, by NSID.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
    /// The text of every file read, accepted or not, for diagnostics.
    sources: BTreeMap<PathBuf, Arc<str>>,
    /// NSIDs of documents that were read but rejected, with their file.
    rejected: BTreeMap<String, Option<Arc<Path>>>,
    /// The binding files read, with their text, in path order.
    bindings: Vec<(Option<Arc<Path>>, Arc<str>)>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every `*.json` file under `root` (recursively, in sorted order).
    /// Each file's id must match its path relative to `root`
    /// (`chat/bsky/convo/leaveConvo.json` holds `chat.bsky.convo.leaveConvo`).
    pub fn load_dir(&mut self, root: &Path, diagnostics: &mut Diagnostics) {
        self.load_dir_filtered(root, &|_| false, diagnostics);
    }

    /// Loads the lexicons of a crate that keeps them in NSID layout at its
    /// root, beside `src/`, `tests/` and the like (as `atlex-lexicons` does):
    /// the top-level directories in [`CRATE_DIRS`] are skipped.
    pub fn load_crate_dir(&mut self, root: &Path, diagnostics: &mut Diagnostics) {
        let skip = |relative: &Path| {
            relative.components().count() == 1
                && relative
                    .to_str()
                    .is_some_and(|name| CRATE_DIRS.contains(&name))
        };
        self.load_dir_filtered(root, &skip, diagnostics);
    }

    /// Like [`Catalog::load_dir`], but skips every file or directory whose
    /// path relative to `root` satisfies `skip` (for a crate that keeps its
    /// lexicons beside `src/` and `tests/`).
    pub fn load_dir_filtered(
        &mut self,
        root: &Path,
        skip: &dyn Fn(&Path) -> bool,
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
            let expected = path
                .strip_prefix(root)
                .ok()
                .and_then(nsid_from_relative_path);
            self.add_source(Some(&path), &text, expected.as_deref(), diagnostics);
        }
    }

    /// Adds one document from its text. `expected_id`, when given, is the NSID
    /// its location implies; a different `id` is an error.
    pub fn add_source(
        &mut self,
        path: Option<&Path>,
        text: &str,
        expected_id: Option<&str>,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        let file: Option<Arc<Path>> = path.map(Arc::from);
        let source: Arc<str> = Arc::from(text);
        if let Some(path) = path {
            self.sources.insert(path.to_path_buf(), source.clone());
        }
        let read = lexicon::read(text, file.clone(), diagnostics);
        let Some(document) = read.document else {
            // Remember which NSID failed, so references to it say so.
            if let Some(id) = read.id {
                self.rejected.insert(id, file);
            }
            return None;
        };
        if let Some(expected) = expected_id
            && expected != document.id
        {
            let mut location = Location::new(file.clone(), "/id");
            location.lexicon = Some(document.id.clone());
            diagnostics.push(Diagnostic::error(
                location,
                format!(
                    "id `{}` does not match the file's path, which implies `{expected}`",
                    document.id
                ),
            ));
            return None;
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
            let mut location = Location::new(file, "/id");
            location.lexicon = Some(id.clone());
            let mut first = Location::new(existing.file.clone(), "/id");
            first.lexicon = Some(id.clone());
            diagnostics.push(
                Diagnostic::error(location, format!("duplicate NSID `{id}`"))
                    .with_related(first, "first defined here"),
            );
            return None;
        }
        self.entries.insert(
            id.clone(),
            Entry {
                document,
                file,
                source,
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
        for (_, entry) in other.entries {
            self.add(entry.document, entry.file, entry.source, diagnostics);
        }
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

    /// A location in document `nsid`.
    pub fn location(&self, nsid: &str, pointer: &str) -> Location {
        let mut location =
            Location::new(self.entries.get(nsid).and_then(|e| e.file.clone()), pointer);
        location.lexicon = lexicon::lexicon_location(nsid, pointer);
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
                            }
                        }
                    }
                });
            }
        }
        for (key, mut locations) in missing {
            let first = locations.remove(0);
            let what = if self.entries.contains_key(&key.nsid) {
                format!("`{}` has no definition `{}`", key.nsid, key.name)
            } else if self.rejected.contains_key(&key.nsid) {
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

/// What is wrong with referring to a definition of this kind, if anything.
fn ref_kind_problem(kind: &SchemaKind, in_union: bool) -> Option<String> {
    match kind {
        SchemaKind::Query(_)
        | SchemaKind::Procedure(_)
        | SchemaKind::Subscription(_)
        | SchemaKind::PermissionSet(_) => Some(format!(
            "of type `{}`, which is not a data type",
            kind.type_name()
        )),
        SchemaKind::Object(_) | SchemaKind::Record(_) => None,
        _ if in_union => Some(format!(
            "of type `{}`; union members must be objects or records",
            kind.type_name()
        )),
        _ => None,
    }
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
        | SchemaKind::Permission(_) => {}
    }
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

/// `chat/bsky/convo/leaveConvo.json` → `chat.bsky.convo.leaveConvo`.
pub fn nsid_from_relative_path(relative: &Path) -> Option<String> {
    let stem = relative.with_extension("");
    let parts: Option<Vec<&str>> = stem.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("."))
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
        let (catalog, diags) = catalog(&[("a.json", doc), ("b.json", doc)]);
        assert_eq!(catalog.len(), 1);
        let messages: Vec<&str> = diags.errors().map(|d| d.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("duplicate NSID")),
            "{messages:?}"
        );
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

    #[test]
    fn nsid_from_path() {
        assert_eq!(
            nsid_from_relative_path(Path::new("chat/bsky/convo/leaveConvo.json")).as_deref(),
            Some("chat.bsky.convo.leaveConvo")
        );
    }
}
