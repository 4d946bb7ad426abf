//! Generates bindings for `lexicons/` into `OUT_DIR/atlex.rs`.
//!
//! The item record refers to `com.atproto.repo.strongRef` and
//! `com.atproto.label.defs`; those types come from `atlex-lexicons` rather than
//! being generated again. Its lexicon JSON ships with the crate, at
//! `atlex_lexicons::LEXICON_DIR`, which this script reads as a
//! build-dependency: a copy of this example works outside the repository.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let result = atlex_codegen::Builder::new()
        .lexicons(manifest.join("lexicons"))
        .extern_lexicons(atlex_lexicons::LEXICON_DIR, "::atlex_lexicons")
        .compile();
    if let Err(e) = result {
        panic!("{e}");
    }
}
