//! Generates bindings three times, from three versions of the same
//! lexicons: `lexicons/old` into `OUT_DIR/old.rs` (mounted at `crate::old`),
//! `lexicons/new` (compatible changes) into `OUT_DIR/new.rs` and
//! `lexicons/breaking` (a breaking change) into `OUT_DIR/breaking.rs`.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    for version in ["old", "new", "breaking"] {
        let result = atlex_codegen::Builder::new()
            .lexicons(manifest.join("lexicons").join(version))
            .file_name(format!("{version}.rs"))
            .root_path(format!("crate::{version}"))
            .compile();
        if let Err(e) = result {
            panic!("{version} lexicons: {e}");
        }
    }
}
