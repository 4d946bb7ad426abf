//! A document that fails one phase is left out of the later ones, which go
//! on for the others: one run reports every problem that can be found.

use std::path::Path;

use atlex_codegen::catalog::Catalog;
use atlex_codegen::{Diagnostics, Options};

#[test]
fn problems_of_every_phase_are_found_in_one_run() {
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    let mut add = |catalog: &mut Catalog, file: &str, text: &str| {
        catalog.add_source(Some(Path::new(file)), text, None, &mut diagnostics);
    };
    // Reading: not a valid document.
    add(
        &mut catalog,
        "a.json",
        r#"{"lexicon":1,"id":"com.example.a","defs":{"main":{"type":"strng"}}}"#,
    );
    // Checking references: a definition that does not exist.
    add(
        &mut catalog,
        "b.json",
        r##"{"lexicon":1,"id":"com.example.b","defs":{"main":{"type":"object","properties":{"x":{"type":"ref","ref":"#nope"}}}}}"##,
    );
    // Bindings (checked after the references): a GET that takes an input.
    add(
        &mut catalog,
        "c.json",
        r#"{"lexicon":1,"id":"com.example.c","defs":{"main":{"type":"procedure","input":{"encoding":"application/json"}}}}"#,
    );
    catalog.add_binding_source(
        Some(Path::new("c.binding.json")),
        r#"{"binding":1,"endpoints":{"com.example.c":{"method":"GET","path":"/c"}}}"#,
    );
    // Naming (after the IR): two definitions that would get one Rust name.
    add(
        &mut catalog,
        "d.json",
        r#"{"lexicon":1,"id":"com.example.d","defs":{"fooBar":{"type":"object","properties":{}},"foo_bar":{"type":"object","properties":{}}}}"#,
    );
    let errors = atlex_codegen::generate(&catalog, &Options::default()).unwrap_err();
    diagnostics.extend(errors);
    let text = diagnostics.to_string();
    for expected in [
        "unknown type `strng`",
        "`com.example.b` has no definition `nope`",
        "`com.example.c` takes an input, which a GET request cannot carry",
        "would be named `FooBar`",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    // Each with its line and column.
    for diagnostic in diagnostics.iter() {
        assert!(
            diagnostic.location.line_col.is_some(),
            "no line and column: {diagnostic}"
        );
    }
}
