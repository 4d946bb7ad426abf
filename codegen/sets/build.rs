//! Generates every set of `sets.rs` (and every document set under
//! `corpus/`) into `OUT_DIR`, one module each, so that building this crate
//! compiles all of them: a set the generator accepts but whose code rustc
//! rejects fails the build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

include!("sets.rs");

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=lexicons");
    println!("cargo:rerun-if-changed=corpus");
    println!("cargo:rerun-if-changed=sets.rs");
    let extern_dir = Path::new(atlex_lexicons::LEXICON_DIR);
    let mut all = String::new();
    let corpus = corpus_sets(&manifest.join("corpus"));
    for set in SETS.iter().chain(&corpus) {
        let generated = match builder(set, &manifest, extern_dir).generate() {
            Ok(generated) => generated,
            Err(err) => panic!("set `{}` does not generate:\n{err}", set.name),
        };
        write_files(&generated, &out_dir);
        // The corpus repeats NSID segments on purpose
        // (`com.example.service.Service`), which clippy's module_inception
        // would call a mistake.
        let allow = if set.corpus {
            "#[allow(clippy::module_inception)]\n"
        } else {
            ""
        };
        add_module(&mut all, set.name, allow);
    }
    for (name, path) in fuzz_documents(&manifest.join("corpus/fuzz")) {
        generate_document(&name, &path, &out_dir);
        add_module(&mut all, &name, "#[allow(clippy::module_inception)]\n");
    }
    std::fs::write(out_dir.join("all.rs"), all).unwrap_or_else(|e| panic!("all.rs: {e}"));
}

/// The documents of `corpus/fuzz/` (inputs the `lexicon_document` fuzz
/// target found, kept when the generator accepts them), each its own set:
/// `fuzz_<file stem>`.
fn fuzz_documents(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_owned();
            Some((format!("fuzz_{stem}"), path))
        })
        .collect()
}

/// Generates one document alone into `OUT_DIR/<name>.rs`.
fn generate_document(name: &str, path: &Path, out_dir: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut catalog = atlex_codegen::Catalog::new();
    let mut diagnostics = atlex_codegen::Diagnostics::new();
    catalog.add_source(Some(path), &text, None, &mut diagnostics);
    let options = atlex_codegen::Options {
        root: Some(format!("crate::{name}")),
        layout: atlex_codegen::Layout::SingleFile {
            file: format!("{name}.rs"),
        },
        ..atlex_codegen::Options::default()
    };
    let generated = match atlex_codegen::generate(&catalog, &options) {
        Ok(generated) if !diagnostics.has_errors() => generated,
        Ok(_) => panic!("{} is not accepted:\n{diagnostics}", path.display()),
        Err(errors) => panic!("{} is not accepted:\n{errors}", path.display()),
    };
    write_files(&generated, out_dir);
}

/// Writes the files of `generated` into `out_dir`, leaving alone those that
/// have not changed (so that rustc's inputs keep their times).
fn write_files(generated: &atlex_codegen::Generated, out_dir: &Path) {
    for (file, text) in &generated.files {
        let target = out_dir.join(file);
        if std::fs::read_to_string(&target).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&target, text).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        }
    }
}

/// Adds to `all` the module `name`, holding `OUT_DIR/<name>.rs`.
fn add_module(all: &mut String, name: &str, attributes: &str) {
    let _ = writeln!(
        all,
        "#[rustfmt::skip]\n{attributes}pub mod {name} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/{name}.rs\"));\n}}"
    );
}

/// Every directory under `corpus/` but `fuzz/`, as a set without an extern
/// crate.
fn corpus_sets(dir: &Path) -> Vec<Set> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                // One set per file there (see `fuzz_documents`).
                .filter(|name| name != "fuzz")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let name: &'static str = Box::leak(name.into_boxed_str());
            Set {
                name,
                dir: name,
                corpus: true,
                configure: same,
            }
        })
        .collect()
}
