//! The atproto interop data-model vectors (copied, CC0, into
//! `tests/vectors/data-model/`), JSON side: valid documents pass the
//! data-model check, invalid ones fail it for their reason, and the fixtures
//! (which also carry CBOR, not checked here) are valid JSON of the model whose
//! `$link` / `$bytes` values decode as atlex's types and re-encode unchanged.

use atlex::data::{Bytes, CidLink, check_data_model_object};
use serde_json::Value;

fn vectors(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/vectors/data-model/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn valid_json_passes() {
    let valid = vectors("data-model-valid.json");
    assert_eq!(valid.len(), 5);
    for vector in valid {
        let result = check_data_model_object(&vector["json"]);
        assert!(result.is_ok(), "{}: {result:?}", vector["note"]);
    }
}

#[test]
fn invalid_json_fails_for_its_reason() {
    // (note, words the reason must contain)
    let expected: &[(&str, &str)] = &[
        (
            "top-level not an object",
            "object required at the top level",
        ),
        ("float", "not an integer"),
        ("record with $type null", "$type is null"),
        ("record with $type wrong type", "$type is a number"),
        ("record with empty $type string", "$type is an empty string"),
        ("blob with string size", "invalid blob"),
        ("blob with missing key", "invalid blob"),
        ("bytes with wrong field type", "$bytes is an array"),
        ("bytes with extra fields", "no other fields"),
        ("link with wrong field type", "$link is a number"),
        ("link with bogus CID", "invalid cid"),
        ("link with extra fields", "no other fields"),
    ];
    let invalid = vectors("data-model-invalid.json");
    assert_eq!(invalid.len(), expected.len());
    for vector in invalid {
        let note = vector["note"].as_str().unwrap();
        let (_, words) = expected
            .iter()
            .find(|(n, _)| *n == note)
            .unwrap_or_else(|| panic!("no expectation for {note:?}"));
        match check_data_model_object(&vector["json"]) {
            Ok(()) => panic!("{note}: accepted"),
            Err(err) => assert!(err.to_string().contains(words), "{note}: {err}"),
        }
    }
}

#[test]
fn fixtures_are_valid_and_special_values_round_trip() {
    let fixtures = vectors("data-model-fixtures.json");
    assert_eq!(fixtures.len(), 3);
    let mut links = 0;
    let mut bytes = 0;
    for fixture in fixtures {
        let json = &fixture["json"];
        assert!(check_data_model_object(json).is_ok(), "{json}");
        let mut stack = vec![json];
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) if map.contains_key("$link") => {
                    let link: CidLink = serde_json::from_value(value.clone()).unwrap();
                    assert_eq!(&serde_json::to_value(link).unwrap(), value);
                    links += 1;
                }
                Value::Object(map) if map.contains_key("$bytes") => {
                    let b: Bytes = serde_json::from_value(value.clone()).unwrap();
                    assert_eq!(&serde_json::to_value(&b).unwrap(), value);
                    bytes += 1;
                }
                Value::Object(map) => stack.extend(map.values()),
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
    assert!(links > 0 && bytes > 0, "{links} links, {bytes} bytes");
}
