//! The atproto interop record-data vectors (copied, CC0, into
//! `tests/vectors/lexicon/`): records validated against the vectors' own
//! catalog of lexicons. The 3 valid records pass; each of the 50 invalid ones
//! fails, at the path and for the constraint its name describes.

use std::path::Path;

use atlex_codegen::Diagnostics;
use atlex_codegen::catalog::Catalog;
use atlex_codegen::validate::{ValidateError, validate_typed};
use serde_json::Value;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/lexicon")
}

fn catalog() -> Catalog {
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    for entry in std::fs::read_dir(dir().join("catalog")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // The catalog files are not in NSID layout; their ids are not checked
        // against their paths.
        catalog.add_source(Some(&path), &text, None, &mut diagnostics);
    }
    assert!(!diagnostics.has_errors(), "{diagnostics}");
    assert_eq!(catalog.len(), 5);
    catalog
}

fn vectors(file: &str) -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(dir().join(file)).unwrap()).unwrap()
}

#[test]
fn valid_records_pass() {
    let catalog = catalog();
    let valid = vectors("record-data-valid.json");
    assert_eq!(valid.len(), 3);
    for vector in valid {
        let result = validate_typed(&catalog, &vector["data"]);
        assert!(result.is_ok(), "{}: {result:?}", vector["name"]);
    }
}

/// Why each invalid vector must fail: (name, path of the violation, the
/// constraint broken). Where two vectors share a name, both are listed.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("missing required field", "integer", "required"),
    ("invalid boolean field", "boolean", "type"),
    ("invalid integer field", "integer", "type"),
    ("invalid non-nullable string field", "string", "nullable"),
    ("invalid string field", "string", "type"),
    ("invalid bytes field", "bytes", "type"),
    ("invalid bytes: empty object", "bytes", "type"),
    ("invalid bytes: wrong type", "bytes", "type"),
    ("invalid cid-link field", "cid-link", "type"),
    ("invalid blob field", "blob", "type"),
    ("invalid blob: wrong type", "blob", "type"),
    ("invalid array", "array", "type"),
    ("invalid array element", "array[0]", "type"),
    ("object wrong data type", "object", "type"),
    ("object nested wrong data type", "object.a", "type"),
    ("invalid token ref type", "ref", "type"),
    ("invalid ref value", "ref", "type"),
    ("invalid string format handle", "formats.handle", "format"),
    ("invalid string format did", "formats.did", "format"),
    (
        "invalid string format atidentifier",
        "formats.atidentifier",
        "format",
    ),
    ("invalid string format nsid", "formats.nsid", "format"),
    ("invalid string format aturi", "formats.aturi", "format"),
    ("invalid string format cid", "formats.cid", "format"),
    (
        "invalid string format datetime",
        "formats.datetime",
        "format",
    ),
    (
        "invalid string format language",
        "formats.language",
        "format",
    ),
    ("invalid string format uri", "formats.uri", "format"),
    ("invalid string format tid", "formats.tid", "format"),
    (
        "invalid string format recordkey",
        "formats.recordkey",
        "format",
    ),
    ("wrong const value", "constInteger", "const"),
    ("integer not in enum", "enumInteger", "enum"),
    ("out of integer range", "rangeInteger", "maximum"),
    ("string too short", "lenString", "minLength"),
    ("string too long", "lenString", "maxLength"),
    (
        "string too short (graphemes)",
        "graphemeString",
        "minGraphemes",
    ),
    (
        "string too long (graphemes)",
        "graphemeString",
        "maxGraphemes",
    ),
    ("out of enum string", "enumString", "enum"),
    ("bytes too short", "sizeBytes", "minLength"),
    ("bytes too long", "sizeBytes", "maxLength"),
    ("array too short", "lenArray", "minLength"),
    ("array too long", "lenArray", "maxLength"),
    ("blob too large", "sizeBlob", "maxSize"),
    ("blob wrong type", "acceptBlob", "accept"),
    ("open union wrong data type", "union", "type"),
    ("open union missing $type", "union.$type", "required"),
    ("out of closed union", "closedUnion", "closed"),
    ("union inner invalid", "closedUnion", "closed"),
    ("union inner invalid", "union.a", "type"),
    ("unknown wrong type (bool)", "unknown", "type"),
    ("unknown wrong type (bytes)", "unknown", "type"),
    ("unknown wrong type (blob)", "unknown", "type"),
];

#[test]
fn invalid_records_fail_for_their_reason() {
    let catalog = catalog();
    let invalid = vectors("record-data-invalid.json");
    assert_eq!(invalid.len(), 50);
    assert_eq!(EXPECTED.len(), 50);
    let mut failures = Vec::new();
    for vector in &invalid {
        let name = vector["name"].as_str().unwrap();
        let violations = match validate_typed(&catalog, &vector["data"]) {
            Ok(_) => {
                failures.push(format!("{name}: accepted"));
                continue;
            }
            Err(ValidateError::Invalid(err)) => err.violations,
            Err(other) => {
                failures.push(format!("{name}: {other}"));
                continue;
            }
        };
        let explained = EXPECTED.iter().any(|(n, path, constraint)| {
            *n == name
                && violations
                    .iter()
                    .any(|x| x.path == *path && x.constraint == *constraint)
        });
        if !explained {
            failures.push(format!("{name}: {violations:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
