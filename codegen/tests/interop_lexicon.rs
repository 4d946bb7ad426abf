//! The atproto interop vectors for lexicon documents (copied, CC0, into
//! `tests/vectors/lexicon/`): every valid document is accepted without an
//! error, every invalid one is rejected with the specific message its name
//! describes.

use atlex_codegen::Diagnostics;
use atlex_codegen::lexicon::read_document;
use serde_json::Value;

fn vectors(file: &str) -> Vec<(String, Value)> {
    let path = format!(
        "{}/tests/vectors/lexicon/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let items: Vec<Value> = serde_json::from_str(&text).unwrap();
    items
        .into_iter()
        .map(|item| {
            (
                item["name"].as_str().unwrap().to_owned(),
                item["lexicon"].clone(),
            )
        })
        .collect()
}

#[test]
fn valid_documents_are_accepted() {
    let valid = vectors("lexicon-valid.json");
    assert_eq!(valid.len(), 3);
    for (name, lexicon) in valid {
        let mut diagnostics = Diagnostics::new();
        let doc = read_document(&lexicon, None, &mut diagnostics);
        assert!(
            doc.is_some() && !diagnostics.has_errors(),
            "{name}: {diagnostics}"
        );
    }
}

/// What each invalid vector must be rejected for: (vector name, JSON pointer
/// of the problem, words the message must contain).
const EXPECTED: &[(&str, &str, &str)] = &[
    (
        "invalid lexicon field",
        "/lexicon",
        "`lexicon` must be the integer 1",
    ),
    ("invalid id field", "/id", "`id` must be an NSID string"),
    ("invalid NSID", "/id", "`id` is not a valid NSID"),
    (
        "defined unknown",
        "/defs/demo/type",
        "type `unknown` cannot be a named definition",
    ),
    (
        "defined ref",
        "/defs/demo/type",
        "type `ref` cannot be a named definition",
    ),
    (
        "non-main primary",
        "/defs/demo/type",
        "type `record` must be the `main` definition",
    ),
    (
        "record missing type object",
        "/defs/main/record",
        "missing `type`",
    ),
];

#[test]
fn invalid_documents_are_rejected_for_their_reason() {
    let invalid = vectors("lexicon-invalid.json");
    assert_eq!(invalid.len(), EXPECTED.len());
    for (name, lexicon) in invalid {
        let (_, pointer, words) = EXPECTED
            .iter()
            .find(|(n, _, _)| *n == name)
            .unwrap_or_else(|| panic!("no expectation for vector {name:?}"));
        let mut diagnostics = Diagnostics::new();
        let doc = read_document(&lexicon, None, &mut diagnostics);
        assert!(doc.is_none(), "{name}: accepted");
        let found = diagnostics
            .errors()
            .any(|d| d.location.pointer == *pointer && d.message.contains(words));
        assert!(
            found,
            "{name}: expected {words:?} at {pointer}, got:\n{diagnostics}"
        );
    }
}
