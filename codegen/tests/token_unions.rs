//! Unions whose members are tokens, as real lexicon sets write them and the
//! reference implementation accepts: an open union keeps such a value as an
//! unknown member, with a warning; a closed union cannot hold it, an error.

use std::path::Path;

use atlex_codegen::catalog::Catalog;
use atlex_codegen::lexicon::DefKey;
use atlex_codegen::validate::validate;
use atlex_codegen::{Diagnostics, Options, generate};
use serde_json::json;

fn catalog(closed: bool) -> Catalog {
    let text = format!(
        r##"{{"lexicon":1,"id":"com.example.mood","defs":{{
            "main":{{"type":"object","required":["mood"],"properties":{{
                "mood":{{"type":"union","closed":{closed},"refs":["#happy","#sad","#custom"]}}}}}},
            "happy":{{"type":"token","description":"Happy."}},
            "sad":{{"type":"token","description":"Sad."}},
            "custom":{{"type":"object","required":["text"],"properties":{{"text":{{"type":"string","maxLength":64}}}}}}}}}}"##
    );
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    catalog.add_source(Some(Path::new("mood.json")), &text, None, &mut diagnostics);
    assert!(diagnostics.is_empty(), "{diagnostics}");
    catalog
}

#[test]
fn an_open_union_of_tokens_is_generated_with_a_warning() {
    let generated = generate(&catalog(false), &Options::default()).expect("generated");
    let warnings: Vec<&str> = generated
        .diagnostics
        .warnings()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("`com.example.mood#happy` is a `token`")
            && warnings[0].contains(r#""$type": "com.example.mood#happy""#),
        "{warnings:?}"
    );
    let code: String = generated.files.values().cloned().collect();
    assert!(code.contains("Custom"), "the object member is generated");
}

#[test]
fn a_closed_union_of_tokens_is_refused() {
    let errors = match generate(&catalog(true), &Options::default()) {
        Ok(_) => panic!("a closed union with token members was generated"),
        Err(diagnostics) => diagnostics,
    };
    let messages: Vec<&str> = errors.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("closed union lists the token `com.example.mood#happy`"),
        "{messages:?}"
    );
}

#[test]
fn a_token_member_holds_its_type_only() {
    let catalog = catalog(false);
    let key = DefKey::new("com.example.mood", "main");
    let ok = json!({"mood": {"$type": "com.example.mood#sad"}});
    validate(&catalog, &key, &ok).expect("a token member");
    let extra = json!({"mood": {"$type": "com.example.mood#sad", "why": "rain"}});
    let err = validate(&catalog, &key, &extra).unwrap_err().to_string();
    assert!(
        err.contains("mood.why") && err.contains("carries no data"),
        "{err}"
    );
    let member = json!({"mood": {"$type": "com.example.mood#custom", "text": "meh"}});
    validate(&catalog, &key, &member).expect("an object member");
}

/// Reads and generates one document: the warnings, or the errors.
fn generate_one(defs: &str) -> Result<Vec<String>, Vec<String>> {
    let text = format!(r#"{{"lexicon":1,"id":"com.example.u","defs":{defs}}}"#);
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    catalog.add_source(Some(Path::new("u.json")), &text, None, &mut diagnostics);
    let messages = |d: &Diagnostics| d.iter().map(|d| d.message.clone()).collect::<Vec<_>>();
    if diagnostics.has_errors() {
        return Err(messages(&diagnostics));
    }
    match generate(&catalog, &Options::default()) {
        Ok(generated) => {
            diagnostics.extend(generated.diagnostics);
            Ok(messages(&diagnostics))
        }
        Err(errors) => Err(messages(&errors)),
    }
}

#[test]
fn unions_and_token_references_as_the_spec_clarifies_them() {
    // A closed union of one member, and an open union of none, are unions.
    let single = generate_one(
        r##"{"main":{"type":"object","properties":{"u":{"type":"union","closed":true,"refs":["#a"]}}},
             "a":{"type":"object","properties":{}}}"##,
    );
    assert_eq!(single, Ok(vec![]));
    let empty =
        generate_one(r#"{"main":{"type":"object","properties":{"u":{"type":"union","refs":[]}}}}"#);
    assert_eq!(empty, Ok(vec![]));
    // A closed union of none can hold nothing: a warning.
    let closed_empty = generate_one(
        r#"{"main":{"type":"object","properties":{"u":{"type":"union","closed":true,"refs":[]}}}}"#,
    )
    .expect("generated");
    assert!(
        closed_empty[0].contains("can hold no value"),
        "{closed_empty:?}"
    );
    // A `ref` to a token outside a union names a value, not a type.
    let token_ref = generate_one(
        r##"{"main":{"type":"object","properties":{"t":{"type":"ref","ref":"#tok"}}},"tok":{"type":"token"}}"##,
    )
    .unwrap_err();
    assert!(token_ref[0].contains("knownValues"), "{token_ref:?}");
}
