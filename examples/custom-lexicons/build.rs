//! Generates bindings for `lexicons/` into `OUT_DIR/atlex.rs`.
//!
//! The item record refers to `com.atproto.repo.strongRef` and
//! `com.atproto.label.defs`; those types come from `atlex-lexicons` rather than
//! being generated again, so the upstream lexicon JSON is read for reference
//! only (here from this repository's `lexicons/`; a project of your own would
//! point at a copy, or at `atlex_lexicons::LEXICON_DIR` from a build-dependency).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let upstream = manifest.join("../../lexicons");
    let result = atlex_codegen::Builder::new()
        .lexicons(manifest.join("lexicons"))
        .extern_lexicons(upstream, "::atlex_lexicons")
        .compile();
    if let Err(e) = result {
        panic!("{e}");
    }
}
