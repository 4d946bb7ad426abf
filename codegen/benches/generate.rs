//! How long generation takes for the 404 lexicons of `atlex-lexicons`, against a
//! baseline in the same run: just reading and parsing their JSON.
//!
//! `cargo bench -p atlex-codegen --bench generate`

use std::path::{Path, PathBuf};

use atlex_codegen::catalog::Catalog;
use atlex_codegen::{Diagnostics, Layout, Options};

fn main() {
    divan::main();
}

fn lexicon_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lexicons")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let top = path
            .strip_prefix(lexicon_dir())
            .map(|p| p.components().count() == 1);
        let skipped = top.unwrap_or(false) && ["src", "tests"].iter().any(|d| path.ends_with(d));
        if path.is_dir() && !skipped {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json")
            && !path
                .to_str()
                .is_some_and(|p| p.ends_with(atlex_codegen::catalog::BINDING_SUFFIX))
        {
            out.push(path);
        }
    }
}

fn load() -> Catalog {
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    catalog.load_crate_dir(&lexicon_dir(), &mut diagnostics);
    assert!(!diagnostics.has_errors());
    catalog
}

fn options() -> Options {
    Options {
        layout: Layout::Tree {
            root_file: "mod.rs".to_owned(),
        },
        namespace_features: true,
        ..Options::default()
    }
}

/// Baseline: read every file and parse it as JSON.
#[divan::bench(sample_count = 20)]
fn baseline_read_and_parse_json() -> usize {
    let mut files = Vec::new();
    json_files(&lexicon_dir(), &mut files);
    assert_eq!(files.len(), 404);
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            serde_json::from_str::<serde_json::Value>(&text).unwrap();
            text.len()
        })
        .sum()
}

/// Reading, checking and indexing every document (the catalog).
#[divan::bench(sample_count = 20)]
fn load_catalog() -> usize {
    load().len()
}

/// Everything: catalog, IR, names, tokens, prettyplease, files in memory.
#[divan::bench(sample_count = 20)]
fn generate_all() -> usize {
    let catalog = load();
    let generated = atlex_codegen::generate(&catalog, &options()).unwrap();
    generated.files.len()
}
