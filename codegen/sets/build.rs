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
        for (path, text) in &generated.files {
            let target = out_dir.join(path);
            if std::fs::read_to_string(&target).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&target, text)
                    .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
            }
        }
        // The corpus repeats NSID segments on purpose
        // (`com.example.service.Service`), which clippy's module_inception
        // would call a mistake.
        let allow = if set.corpus {
            "#[allow(clippy::module_inception)]\n"
        } else {
            ""
        };
        let _ = writeln!(
            all,
            "#[rustfmt::skip]\n{allow}pub mod {name} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/{name}.rs\"));\n}}",
            name = set.name
        );
    }
    std::fs::write(out_dir.join("all.rs"), all).unwrap_or_else(|e| panic!("all.rs: {e}"));
}

/// Every directory under `corpus/`, as a set without an extern crate.
fn corpus_sets(dir: &Path) -> Vec<Set> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
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
