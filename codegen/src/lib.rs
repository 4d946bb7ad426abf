//! `atlex-codegen`: AT Protocol lexicon JSON in, typed Rust out.
//!
//! The generator runs in phases, one module each:
//!
//! 1. [`lexicon`]: read and check each document against the Lexicon language
//!    (through `json`, the one JSON reader, which knows where every value
//!    is and refuses keys written twice);
//! 2. [`catalog`]: index documents by NSID, whatever their layout (extern
//!    crates' documents winning over bundled copies), and check every
//!    reference; `scope` decides which documents are generated (the
//!    selection, extern documents, invalid ones and their dependents);
//! 3. `ir`: convert to a table of types keyed by id (cycles boxed), decide
//!    what each field checks, which queries page and which endpoints a
//!    server implements together, and attach the HTTP [`binding`]s of
//!    endpoints that are not XRPC;
//! 4. `names`: choose every Rust name, deterministically;
//! 5. `emit`: write tokens, one module per document: type definitions and
//!    the derives of the runtime (`atlex::rt::Object` and its kin), which
//!    write what is the same for every type;
//! 6. `output`: lay modules out as files, formatted with prettyplease.
//!
//! The phases are internal; the crate's interface is [`Builder`], [`Options`]
//! and [`generate`], [`diff`], and [`Diagnostics`].
//!
//! Beside generation, [`validate`] checks JSON data against lexicons at run
//! time (the `atlex validate` command).
//!
//! Problems are collected as [`Diagnostics`] across all phases and reported
//! together; no input makes the generator panic.
//!
//! There are three ways in: the `atlex` command line tool (the crate
//! `atlex-cli`, kept apart so that a `build.rs` compiles none of its
//! dependencies), [`Builder`] for `build.rs` scripts (in the manner of
//! prost-build), and [`generate`] for tools such as this repository's
//! `xtask`.
//! [`diff`] classifies lexicon changes by the spec's evolution rules (`atlex diff`).

pub mod binding;
pub mod builder;
pub mod catalog;
pub mod diagnostics;
pub mod diff;
pub(crate) mod emit;
pub mod files;
pub(crate) mod ir;
pub(crate) mod json;
pub mod lexicon;
pub mod lint;
pub mod locate;
pub(crate) mod names;
pub(crate) mod output;
#[cfg(feature = "pins")]
pub mod pins;
pub(crate) mod scope;
pub mod sync;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use builder::Builder;
pub use catalog::Catalog;
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use output::Layout;
pub use scope::LeftOut;

/// What to generate and where it is mounted.
#[derive(Clone, Debug)]
pub struct Options {
    /// The path of the runtime crate in generated code (`::atlex`).
    pub runtime: String,
    /// The Rust path of the module the generated tree is mounted at
    /// (`crate`, `crate::lexicons`), when paths between its modules are to be
    /// written from there. `None` (the default): they are written relative to
    /// the module they are in (`super::super::richtext::facet::Facet`), and
    /// hold wherever the tree is mounted (`mod lexicons;`, `#[path]`,
    /// `include!` in any module).
    pub root: Option<String>,
    /// NSID prefixes generated elsewhere, with the Rust path of each
    /// (`("com.atproto", "::atlex_lexicons::com::atproto")`): their documents
    /// are read for references but not emitted.
    pub extern_paths: Vec<(String, String)>,
    /// File layout.
    pub layout: Layout,
    /// Whether each namespace (`app.bsky`) sits behind a cargo feature
    /// (`app-bsky`).
    pub namespace_features: bool,
    /// What the `// @generated` header tells readers to do to regenerate.
    pub regenerate_hint: String,
    /// Whether each group of endpoints (`chat.bsky.convo`) gets a `Service`
    /// trait for servers to implement and a `register` function.
    pub service_traits: bool,
    /// The cargo feature of the generated crate that the `Service` traits and
    /// `register` functions sit behind (`server` for `atlex-lexicons`), or
    /// `None` to always emit them.
    pub server_feature: Option<String>,
    /// Whether objects keep what their lexicon does not declare: undeclared
    /// properties and a `$type` found on the wire, in a field of type
    /// [`atlex::data::ExtraFields`] (`extra` unless that name is taken), so
    /// that data passes through a decode / encode cycle unchanged and a
    /// record written back keeps its CID. On by default; turned off, objects
    /// drop both on decode.
    pub keep_unknown_fields: bool,
    /// Whether invalid documents are left out instead of failing the whole
    /// generation: each is reported (its errors become warnings), left out
    /// together with every document that refers to it (reported with the
    /// chain of references), and the rest is generated.
    pub skip_invalid: bool,
    /// NSID prefixes to generate (`sh.tangled`, `sh.tangled.repo.pull`):
    /// when any is given, only the documents under them and the documents
    /// they refer to are generated. Empty: all.
    pub only: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runtime: "::atlex".to_owned(),
            root: None,
            extern_paths: Vec::new(),
            layout: Layout::default(),
            namespace_features: false,
            regenerate_hint: "regenerate with atlex-codegen".to_owned(),
            service_traits: true,
            server_feature: None,
            keep_unknown_fields: true,
            skip_invalid: false,
            only: Vec::new(),
        }
    }
}

/// The result of a successful generation.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// File contents, by path relative to the output directory.
    pub files: BTreeMap<PathBuf, String>,
    /// For each namespace feature, the other namespace features it needs.
    pub features: BTreeMap<String, BTreeSet<String>>,
    /// Warnings (generation fails on errors).
    pub diagnostics: Diagnostics,
    /// How many documents were emitted.
    pub documents: usize,
    /// The documents left out of generation, and why (with
    /// [`Options::skip_invalid`]).
    pub left_out: BTreeMap<String, LeftOut>,
    /// The documents outside [`Options::only`] and not needed there: read,
    /// neither checked nor generated.
    pub unselected: BTreeSet<String>,
}

/// Loads every lexicon under each directory into one catalog. Top-level
/// `src`, `tests`, `benches`, `examples` and `target` directories are
/// skipped, so a crate that keeps its lexicons at its root (as
/// `atlex-lexicons` does) can be named directly.
pub fn load_dirs<P: AsRef<Path>>(dirs: &[P]) -> (Catalog, Diagnostics) {
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    for dir in dirs {
        catalog.load_crate_dir(dir.as_ref(), &mut diagnostics);
    }
    (catalog, diagnostics)
}

fn is_extern(options: &Options, nsid: &str) -> bool {
    options
        .extern_paths
        .iter()
        .any(|(prefix, _)| nsid == prefix || nsid.starts_with(&format!("{prefix}.")))
}

fn has_prefix(nsid: &str, prefix: &str) -> bool {
    nsid == prefix || nsid.starts_with(&format!("{prefix}."))
}

/// Generates code for every document of `catalog` that is not generated
/// elsewhere (an extern path, or an extern crate's document) and, when
/// [`Options::only`] names prefixes, is under one of them or referred to from
/// there.
///
/// Every problem findable is reported in one run: a document that fails one
/// phase is left out of the later ones, which go on for the others. On
/// error, every diagnostic found is returned. With
/// [`Options::skip_invalid`], invalid documents and those that refer to them
/// are left out and reported as warnings, and the rest is generated.
pub fn generate(catalog: &Catalog, options: &Options) -> Result<Generated, Diagnostics> {
    generate_after_reading(catalog, options, Diagnostics::new())
}

/// [`generate`], given what reading the catalog's files reported (`read`):
/// those diagnostics are settled with the generator's (with
/// [`Options::skip_invalid`], the errors of what is left out become
/// warnings; the warnings of documents outside [`Options::only`] are
/// dropped), located and sorted once, and returned with them.
pub(crate) fn generate_after_reading(
    catalog: &Catalog,
    options: &Options,
    read: Diagnostics,
) -> Result<Generated, Diagnostics> {
    let graph = scope::Graph::new(catalog);
    let external = |nsid: &str| is_extern(options, nsid) || catalog.is_extern(nsid);
    // The selection, and what it needs; documents outside it are not read
    // further (extern ones stay, for references).
    let unneeded: BTreeSet<String> = if options.only.is_empty() {
        BTreeSet::new()
    } else {
        let roots = catalog
            .entries()
            .map(|(nsid, _)| nsid)
            .filter(|nsid| options.only.iter().any(|p| has_prefix(nsid, p)))
            .cloned();
        let needed = graph.closure(roots, &|nsid| !external(nsid));
        catalog
            .entries()
            .map(|(nsid, _)| nsid)
            .filter(|nsid| !external(nsid) && !needed.contains(*nsid))
            .cloned()
            .collect()
    };
    // The fix-point: each round leaves out the documents found invalid so
    // far (with `skip_invalid`, and every document that refers to one),
    // until a round finds no new invalid document.
    let mut invalid: BTreeSet<String> = catalog.rejected().cloned().collect();
    let mut found = Diagnostics::new();
    let (left_out, result) = loop {
        let left_out = scope::left_out(&graph, &invalid, options.skip_invalid);
        let removed: BTreeSet<String> = left_out.keys().chain(&unneeded).cloned().collect();
        let view = if removed.iter().any(|nsid| catalog.get(nsid).is_some()) {
            std::borrow::Cow::Owned(catalog.without(&removed))
        } else {
            std::borrow::Cow::Borrowed(catalog)
        };
        match generate_round(&view, options, &external, &removed) {
            Round::Invalid(newly, diagnostics) => {
                // Keep what was found about the documents now left out; the
                // rest is found again in the next round.
                for diagnostic in diagnostics {
                    if concerns(&diagnostic, &newly) {
                        found.push(diagnostic);
                    }
                }
                invalid.extend(newly);
            }
            Round::Done(result) => break (left_out, result),
        }
    };
    let (generated, diagnostics) = match result {
        Ok(mut generated) => {
            let diagnostics = std::mem::take(&mut generated.diagnostics);
            (Some(generated), diagnostics)
        }
        Err(diagnostics) => (None, diagnostics),
    };
    found.extend(diagnostics);
    // What was said while reading documents that are not generated is beside
    // the point.
    let mut read = read;
    read.retain(|d| {
        d.is_error()
            || !d
                .location
                .nsid
                .as_ref()
                .is_some_and(|nsid| unneeded.contains(nsid))
    });
    if options.skip_invalid {
        for file in catalog.unidentified_rejected_files() {
            // A rejected file without an id is reported beside its errors,
            // when they are among those read.
            let reported = read
                .iter()
                .any(|d| d.location.file.as_deref() == Some(&**file));
            if !reported {
                continue;
            }
            // The whole file, which may not even be JSON to point into.
            let mut location = diagnostics::Location::new(Some(file.clone()), "");
            location.line_col = Some((1, 1));
            read.push(Diagnostic::warning(
                location,
                "left out: this file is no lexicon document that could be read (see its errors)",
            ));
        }
        for (nsid, why) in &left_out {
            let generated_here = !external(nsid) && !unneeded.contains(nsid);
            if generated_here {
                found.push(scope::report(catalog, &graph, nsid, why));
            }
        }
    }
    read.extend(found);
    let mut found = read;
    if options.skip_invalid {
        settle(&mut found, catalog, &left_out);
    }
    catalog.locate(&mut found);
    found.sort();
    match generated {
        Some(mut generated) if !found.has_errors() => {
            generated.diagnostics = found;
            generated.left_out = left_out;
            generated.unselected = unneeded;
            Ok(generated)
        }
        _ => Err(found),
    }
}

/// Whether a diagnostic is about one of `documents`: it belongs to one, or
/// (a reference into an invalid document, which belongs to none) is located
/// in one.
fn concerns(diagnostic: &Diagnostic, documents: &BTreeSet<String>) -> bool {
    let location = &diagnostic.location;
    match &location.nsid {
        Some(nsid) => documents.contains(nsid),
        None => location.lexicon.as_deref().is_some_and(|lexicon| {
            let nsid = lexicon.split_once('#').map_or(lexicon, |(nsid, _)| nsid);
            documents.contains(nsid)
        }),
    }
}

/// Turns the errors of documents that are left out (or of files that were
/// rejected) into warnings: with [`Options::skip_invalid`], they are reported
/// and do not fail the generation.
fn settle(diagnostics: &mut Diagnostics, catalog: &Catalog, left_out: &BTreeMap<String, LeftOut>) {
    diagnostics.downgrade(|d| {
        d.location
            .nsid
            .as_ref()
            .is_some_and(|nsid| left_out.contains_key(nsid))
            || d.location
                .file
                .as_deref()
                .is_some_and(|file| catalog.is_rejected_file(file))
    });
}

/// What one round of generation came to.
enum Round {
    /// These documents (of the round's catalog) proved invalid; another
    /// round goes on without them.
    Invalid(BTreeSet<String>, Diagnostics),
    /// Nothing new is invalid: the result (its diagnostics not yet sorted).
    Done(Result<Generated, Diagnostics>),
}

/// Checks, converts, names and (when nothing proved invalid) emits the
/// documents of `catalog`.
fn generate_round(
    catalog: &Catalog,
    options: &Options,
    external: &dyn Fn(&str) -> bool,
    removed: &BTreeSet<String>,
) -> Round {
    let mut diagnostics = Diagnostics::new();
    let in_scope = |nsid: &str| !external(nsid);
    catalog.check_refs(Some(&in_scope), &mut diagnostics);
    catalog.check_definitions(Some(&in_scope), &mut diagnostics);
    let mut ir = ir::build(catalog, &mut diagnostics);
    // The bindings of endpoints left out of generation are passed over.
    let bindings = binding::resolve(
        catalog,
        &in_scope,
        &|nsid| removed.contains(nsid),
        &mut diagnostics,
    );
    ir.attach_bindings(bindings);
    let names = names::assign(&ir, catalog, options.keep_unknown_fields, &mut diagnostics);
    let newly: BTreeSet<String> = diagnostics
        .errors()
        .filter_map(|d| d.location.nsid.clone())
        .filter(|nsid| catalog.get(nsid).is_some())
        .collect();
    if !newly.is_empty() {
        return Round::Invalid(newly, diagnostics);
    }
    if diagnostics.has_errors() {
        return Round::Done(Err(diagnostics));
    }
    // Emission sees only the modules it writes: a group of endpoints split
    // between an extern crate and this one (a bundled `app.bsky.feed`
    // document the extern crate lacks) gets a service of its own endpoints.
    ir.modules.retain(|nsid, _| in_scope(nsid));
    // What the IR says about the modules written here, read before emission
    // so that each phase is gone through once: the namespace features (from
    // what their types refer to) and the documentation of each module.
    let features = output::namespace_features(
        &ir.module_dependencies()
            .into_iter()
            .filter(|(from, _)| in_scope(from))
            .map(|(from, to)| (from, to.into_iter().filter(|t| in_scope(t)).collect()))
            .collect(),
    );
    let modules: Vec<output::ModuleEntry> = ir
        .modules
        .iter()
        .filter_map(|(nsid, module)| {
            Some(output::ModuleEntry {
                path: names.modules.get(nsid)?.clone(),
                nsid: nsid.clone(),
                doc: emit::module_doc(module),
            })
        })
        .collect();
    let documents = modules.len();
    let mut extern_paths: Vec<(String, String)> = catalog
        .extern_crates()
        .map(|(nsid, rust_path)| (nsid.clone(), names::extern_module(rust_path, nsid)))
        .collect();
    extern_paths.extend(options.extern_paths.iter().cloned());
    let config = emit::EmitConfig {
        runtime: options.runtime.clone(),
        root: options.root.clone(),
        extern_paths,
        server_feature: options.server_feature.clone(),
    };
    // The records of the dispatch, each behind its namespace's feature.
    let records: Vec<(&str, Option<String>)> = names
        .records
        .keys()
        .filter(|nsid| in_scope(nsid))
        .map(|nsid| {
            let feature = options
                .namespace_features
                .then(|| output::namespace_feature(&output::namespace_of(nsid)));
            (nsid.as_str(), feature)
        })
        .collect();
    let emit_module = |prefix: &str, nsid: Option<&str>| {
        let mut tokens = nsid
            .and_then(|nsid| emit::module(&ir, &names, &config, nsid))
            .unwrap_or_default();
        if options.service_traits && !prefix.is_empty() {
            tokens.extend(emit::service(&ir, &names, &config, prefix));
        }
        if prefix.is_empty() {
            tokens.extend(emit::record_dispatch(&ir, &names, &config, &records));
        }
        tokens
    };
    let writer = output::Writer {
        layout: &options.layout,
        namespace_features: options.namespace_features,
        regenerate_hint: &options.regenerate_hint,
    };
    let files = writer.write(modules, &emit_module, &mut diagnostics);
    if diagnostics.has_errors() {
        return Round::Done(Err(diagnostics));
    }
    Round::Done(Ok(Generated {
        files,
        features,
        diagnostics,
        documents,
        left_out: BTreeMap::new(),
        unselected: BTreeSet::new(),
    }))
}
