//! Checks that the client's hand-written endpoint descriptors agree with the
//! checked-in upstream lexicons.

use atlex_core::xrpc::{Endpoint, EndpointError, EndpointKind};

/// The lexicon of `nsid`, from the checked-in upstream lexicons.
pub(crate) fn lexicon(nsid: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../lexicons")
        .join(nsid.replace('.', "/"))
        .with_extension("json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn errors(main: &serde_json::Value) -> Vec<String> {
    main["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The properties `schema` (an object) declares, after checking that every
/// one it requires is among `fields_read`.
fn properties(schema: &serde_json::Value, fields_read: &[&str], what: &str) -> Vec<String> {
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap();
        assert!(fields_read.contains(&required), "{what}: {required}");
    }
    schema["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

/// Kind, encodings and declared errors of `E` are its lexicon's; every
/// field the hand-written types read or write is in its input, output or
/// parameters, and every required one is among them.
pub(crate) fn check<E: Endpoint>(fields_read: &[&str]) {
    let main = lexicon(E::NSID)["defs"]["main"].clone();
    let kind = match E::KIND {
        EndpointKind::Query => "query",
        EndpointKind::Procedure => "procedure",
    };
    assert_eq!(main["type"], kind, "{}", E::NSID);
    assert_eq!(
        main["input"]["encoding"].as_str(),
        E::INPUT_ENCODING,
        "{}",
        E::NSID
    );
    assert_eq!(
        main["output"]["encoding"].as_str(),
        E::OUTPUT_ENCODING,
        "{}",
        E::NSID
    );
    assert_eq!(errors(&main), E::Error::DECLARED, "{}", E::NSID);
    let mut declared = Vec::new();
    for part in ["input", "output"] {
        declared.extend(properties(&main[part]["schema"], fields_read, E::NSID));
    }
    declared.extend(properties(&main["parameters"], fields_read, E::NSID));
    for field in fields_read {
        assert!(declared.iter().any(|d| d == field), "{}: {field}", E::NSID);
    }
}

/// Definition `nsid#name` is an object that declares every field of
/// `fields_read` and requires none other.
pub(crate) fn check_object(nsid: &str, name: &str, fields_read: &[&str]) {
    let def = lexicon(nsid)["defs"][name].clone();
    let what = format!("{nsid}#{name}");
    assert_eq!(def["type"], "object", "{what}");
    let declared = properties(&def, fields_read, &what);
    for field in fields_read {
        assert!(declared.iter().any(|d| d == field), "{what}: {field}");
    }
}

/// The string definition at `path` in the definitions of `nsid` has
/// exactly `values` as its known values.
pub(crate) fn check_known_values(nsid: &str, path: &[&str], values: &[&str]) {
    let mut def = lexicon(nsid)["defs"].clone();
    for step in path {
        def = def[step].clone();
    }
    let known: Vec<&str> = def["knownValues"]
        .as_array()
        .unwrap_or_else(|| panic!("{nsid} {path:?}: no knownValues"))
        .iter()
        .map(|value| value.as_str().unwrap())
        .collect();
    assert_eq!(known, values, "{nsid} {path:?}");
}
