//! `atlex-codegen`: AT Protocol lexicon JSON in, typed Rust out.
//!
//! The generator runs in phases, one module each:
//!
//! 1. [`lexicon`]: read and check each document against the Lexicon language;
//! 2. [`catalog`]: index documents by NSID and check every reference;
//! 3. [`ir`]: convert to a table of types keyed by id (cycles boxed), and
//!    attach the HTTP [`binding`]s of endpoints that are not XRPC;
//! 4. [`names`]: choose every Rust name, deterministically;
//! 5. [`emit`]: write tokens, one module per document;
//! 6. [`output`]: lay modules out as files, formatted with prettyplease.
//!
//! Beside generation, [`validate`] checks JSON data against lexicons at run
//! time (the `atlex validate` command).
//!
//! Problems are collected as [`Diagnostics`] across all phases and reported
//! together; no input makes the generator panic.
//!
//! There are three ways in: the `atlex` command line tool, [`Builder`] for
//! `build.rs` scripts (in the manner of prost-build), and [`generate`] for
//! tools such as this repository's `xtask`.
//! [`diff`] classifies lexicon changes by the spec's evolution rules (`atlex diff`).

pub mod binding;
pub mod builder;
pub mod catalog;
pub mod diagnostics;
pub mod diff;
pub mod emit;
pub mod ir;
pub mod json;
pub mod lexicon;
pub mod locate;
pub mod names;
pub mod output;
pub mod sync;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use builder::Builder;
pub use catalog::Catalog;
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use output::Layout;

/// What to generate and where it is mounted.
#[derive(Clone, Debug)]
pub struct Options {
    /// The path of the runtime crate in generated code (`::atlex`).
    pub runtime: String,
    /// The path of the generated module tree's root (`crate`, or
    /// `crate::lexicons` when it is included in a module).
    pub root: String,
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
    /// Whether objects keep the properties their lexicon does not declare
    /// (in a flattened [`atlex::data::ExtraFields`] field, `extra` unless that
    /// name is taken), so that data passes through unchanged. Off by default:
    /// unknown properties are dropped on decode. Code that builds such a
    /// struct names the field too (`extra: Default::default()`).
    pub keep_unknown_fields: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runtime: "::atlex".to_owned(),
            root: "crate".to_owned(),
            extern_paths: Vec::new(),
            layout: Layout::default(),
            namespace_features: false,
            regenerate_hint: "regenerate with atlex-codegen".to_owned(),
            service_traits: true,
            keep_unknown_fields: false,
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

/// Generates code for every document of `catalog` not covered by an extern
/// path. On error, every diagnostic found is returned.
pub fn generate(catalog: &Catalog, options: &Options) -> Result<Generated, Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let in_scope = |nsid: &str| !is_extern(options, nsid);
    catalog.check_refs(Some(&in_scope), &mut diagnostics);
    let mut ir = ir::build(catalog, &mut diagnostics);
    binding::attach(&mut ir, catalog, &in_scope, &mut diagnostics);
    let names = names::assign(&ir, catalog, options.keep_unknown_fields, &mut diagnostics);
    if diagnostics.has_errors() {
        return Err(finish(diagnostics, catalog));
    }
    let config = emit::EmitConfig {
        runtime: options.runtime.clone(),
        root: options.root.clone(),
        extern_paths: options.extern_paths.clone(),
    };
    let modules: Vec<output::ModuleEntry> = ir
        .modules
        .iter()
        .filter(|(nsid, _)| in_scope(nsid))
        .filter_map(|(nsid, module)| {
            Some(output::ModuleEntry {
                path: names.modules.get(nsid)?.clone(),
                nsid: nsid.clone(),
                doc: emit::module_doc(module),
            })
        })
        .collect();
    let documents = modules.len();
    let writer = output::Writer {
        layout: &options.layout,
        namespace_features: options.namespace_features,
        regenerate_hint: &options.regenerate_hint,
    };
    let emit_module = |prefix: &str, nsid: Option<&str>| {
        let mut tokens = nsid
            .and_then(|nsid| emit::module(&ir, &names, &config, nsid))
            .map(|m| m.tokens)
            .unwrap_or_default();
        if options.service_traits && !prefix.is_empty() {
            tokens.extend(emit::service(&ir, &names, &config, prefix));
        }
        tokens
    };
    let files = writer.write(modules, &emit_module, &mut diagnostics);
    let dependencies = ir.module_dependencies();
    let scoped: BTreeMap<&str, BTreeSet<&str>> = dependencies
        .into_iter()
        .filter(|(from, _)| in_scope(from))
        .map(|(from, to)| (from, to.into_iter().filter(|t| in_scope(t)).collect()))
        .collect();
    let features = output::namespace_features(&scoped);
    let diagnostics = finish(diagnostics, catalog);
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok(Generated {
        files,
        features,
        diagnostics,
        documents,
    })
}

/// Sorts diagnostics and fills in line numbers from the catalog's sources.
fn finish(mut diagnostics: Diagnostics, catalog: &Catalog) -> Diagnostics {
    diagnostics.locate(|file| catalog.source_of(file));
    diagnostics.sort();
    diagnostics
}
