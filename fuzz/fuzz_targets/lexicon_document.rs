//! The lexicon reader and the whole generator on arbitrary documents: every
//! input yields code or diagnostics, never a panic.
#![no_main]

use atlex_codegen::catalog::Catalog;
use atlex_codegen::{Diagnostics, Layout, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    catalog.add_source(None, text, None, &mut diagnostics);
    // A second document referring into the first exercises cross references.
    catalog.add_source(
        None,
        r##"{"lexicon":1,"id":"com.example.fuzz.other","defs":{"main":{"type":"object","properties":{"x":{"type":"ref","ref":"com.example.fuzz.doc#thing"},"u":{"type":"union","refs":["com.example.fuzz.doc"]}}}}}"##,
        None,
        &mut diagnostics,
    );
    let options = Options {
        layout: Layout::SingleFile {
            file: "out.rs".to_owned(),
        },
        ..Options::default()
    };
    let _ = atlex_codegen::generate(&catalog, &options);
    for diagnostic in diagnostics.iter() {
        let _ = diagnostic.to_string();
    }
    let _ = atlex_codegen::locate::line_col(text, "/defs/main/properties/x");
});
