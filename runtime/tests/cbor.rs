//! DAG-CBOR: the interop data-model vectors (copied, CC0, into
//! `tests/vectors/data-model/`) on the CBOR side, strict and lenient
//! decoding of bad input, the data types in both encodings, record CIDs.

use atlex::cbor::{self, DecodeError};
use atlex::data::{
    Blob, Bytes, CidLink, ExtraFields, LexType, Record, RecordKeyKind, Unknown, Value,
};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

const CID: &str = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";
const BLOB_CID: &str = "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity";

fn vectors(file: &str) -> Vec<serde_json::Value> {
    let path = format!(
        "{}/tests/vectors/data-model/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn base64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text.trim_end_matches('='))
        .unwrap()
}

fn strict_err<T: serde::de::DeserializeOwned + std::fmt::Debug>(bytes: &[u8]) -> String {
    cbor::from_slice::<T>(bytes).unwrap_err().to_string()
}

#[test]
fn fixtures_encode_to_their_bytes_and_cid_and_decode_to_their_json() {
    let fixtures = vectors("data-model-fixtures.json");
    assert_eq!(fixtures.len(), 3);
    for fixture in fixtures {
        let json = &fixture["json"];
        let expected = base64(fixture["cbor_base64"].as_str().unwrap());
        let value = Value::from_json(json.clone()).unwrap();
        let bytes = cbor::to_vec(&value).unwrap();
        assert_eq!(bytes, expected, "{json}");
        assert_eq!(
            cbor::cid_of(&value).unwrap().to_string(),
            fixture["cid"],
            "{json}"
        );

        let decoded: Value = cbor::from_slice(&expected).unwrap();
        assert_eq!(decoded, value);
        assert_eq!(&decoded.to_json(), json);
        assert_eq!(serde_json::to_value(&decoded).unwrap(), *json);
        // Unknown is the same value.
        let unknown: Unknown = cbor::from_slice(&expected).unwrap();
        assert_eq!(cbor::to_vec(&unknown).unwrap(), expected);
        assert_eq!(&unknown.to_json(), json);
    }
}

/// A generic CBOR writer, as a DAG-CBOR library would write JSON it does not
/// check: keys in canonical order, numbers as integers or 64-bit floats,
/// well-formed `$link` and `$bytes` objects as tag 42 and byte strings,
/// malformed ones as plain maps. For putting the data-model vectors into
/// CBOR.
fn plain_cbor(json: &serde_json::Value, out: &mut Vec<u8>) {
    match json {
        serde_json::Value::Null => out.push(0xf6),
        serde_json::Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => head(0, u, out),
            (None, Some(i)) => head(1, (-1 - i) as u64, out),
            _ => {
                out.push(0xfb);
                out.extend(n.as_f64().unwrap().to_be_bytes());
            }
        },
        serde_json::Value::String(s) => {
            head(3, s.len() as u64, out);
            out.extend(s.as_bytes());
        }
        serde_json::Value::Array(items) => {
            head(4, items.len() as u64, out);
            items.iter().for_each(|item| plain_cbor(item, out));
        }
        serde_json::Value::Object(map) => {
            let text = |key: &str| map.get(key).and_then(|v| v.as_str());
            let link = text("$link").and_then(|t| t.parse::<CidLink>().ok());
            let bytes = text("$bytes").and_then(|t| Bytes::from_base64(t).ok());
            match (map.len(), link, bytes) {
                (1, Some(link), _) => {
                    let cid = link.cid().to_bytes();
                    out.extend([0xd8, 42]);
                    head(2, cid.len() as u64 + 1, out);
                    out.push(0);
                    out.extend(cid);
                }
                (1, _, Some(bytes)) => {
                    head(2, bytes.0.len() as u64, out);
                    out.extend(bytes.0);
                }
                _ => {
                    head(5, map.len() as u64, out);
                    // In DAG-CBOR's order, so that what fails is what the
                    // vector is about.
                    let mut entries: Vec<_> = map.iter().collect();
                    entries.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then(a.cmp(b)));
                    for (k, v) in entries {
                        head(3, k.len() as u64, out);
                        out.extend(k.as_bytes());
                        plain_cbor(v, out);
                    }
                }
            }
        }
    }
}

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

fn plain(json: serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    plain_cbor(&json, &mut out);
    out
}

#[test]
fn valid_vectors_survive_cbor() {
    let valid = vectors("data-model-valid.json");
    assert_eq!(valid.len(), 5);
    for vector in valid {
        let json = &vector["json"];
        let value = Value::from_json(json.clone()).unwrap();
        let bytes = cbor::to_vec(&value).unwrap();
        let back: Value = cbor::from_slice(&bytes).unwrap();
        assert_eq!(back, value, "{}", vector["note"]);
        // Integers written as 123.0 are integers of the data model.
        let expected: serde_json::Value =
            serde_json::from_str(&json.to_string().replace("123.0", "123")).unwrap();
        assert_eq!(back.to_json(), expected, "{}", vector["note"]);
    }
}

#[test]
fn invalid_vectors_fail_on_the_cbor_side_too() {
    // (note, words the strict decoder's reason must contain)
    let expected: &[(&str, &str)] = &[
        ("float", "the data model has no floats"),
        ("record with $type null", "$type is null"),
        ("record with $type wrong type", "$type is an integer"),
        ("record with empty $type string", "$type is an empty string"),
        ("blob with string size", "invalid blob: size is a string"),
        ("blob with missing key", "invalid blob: missing field `ref`"),
        ("bytes with wrong field type", "\"$bytes\" key: reserved"),
        ("bytes with extra fields", "\"$bytes\" key: reserved"),
        ("link with wrong field type", "\"$link\" key: reserved"),
        ("link with bogus CID", "\"$link\" key: reserved"),
        ("link with extra fields", "\"$link\" key: reserved"),
    ];
    let invalid = vectors("data-model-invalid.json");
    assert_eq!(invalid.len(), expected.len() + 1);
    for vector in invalid {
        let note = vector["note"].as_str().unwrap();
        let json = &vector["json"];
        if note == "top-level not an object" {
            // A string is a value of the model, not a record.
            let value: Value = cbor::from_slice(&plain(json.clone())).unwrap();
            assert!(!value.is_object());
            continue;
        }
        // JSON that is not of the data model has no DAG-CBOR form.
        assert!(
            Value::from_json(json.clone())
                .and_then(|v| v.check_data_model())
                .is_err(),
            "{note}: converted"
        );
        let (_, words) = expected
            .iter()
            .find(|(n, _)| *n == note)
            .unwrap_or_else(|| panic!("no expectation for {note:?}"));
        let bytes = plain(json.clone());
        let err = strict_err::<Value>(&bytes);
        assert!(err.contains(words), "{note}: {err}");
        if ["blob with string size", "blob with missing key"].contains(&note) {
            let err = cbor::from_slice::<BlobHolder>(&bytes).unwrap_err();
            assert!(err.path().starts_with("blb"), "{note}: {err}");
        }
    }
}

#[derive(Debug, Deserialize)]
struct BlobHolder {
    #[allow(dead_code)]
    blb: Blob,
}

#[test]
fn floats_are_refused_strictly_and_read_leniently_only_when_integral() {
    // {"a": 2.0} and {"a": 2.5}
    let integral = plain(json!({ "a": 2.0 }));
    let fraction = plain(json!({ "a": 2.5 }));
    assert!(strict_err::<Value>(&integral).contains("the data model has no floats"));
    let value: Value = cbor::from_slice_lenient(&integral).unwrap();
    assert_eq!(value, json!({ "a": 2 }));
    let err = cbor::from_slice_lenient::<Value>(&fraction).unwrap_err();
    assert_eq!(err.path(), "a");
    assert!(err.reason().contains("2.5 is not an integer"), "{err}");

    #[derive(Debug, Deserialize)]
    struct Count {
        a: i64,
    }
    let err = strict_err::<Count>(&integral);
    assert!(err.contains("at a: a float"), "{err}");
    assert_eq!(cbor::from_slice_lenient::<Count>(&integral).unwrap().a, 2);
    // A 32-bit float, too.
    let f32_bytes = [0xa1, 0x61, b'a', 0xfa, 0x40, 0x00, 0x00, 0x00];
    assert!(strict_err::<Value>(&f32_bytes).contains("a float"));
    assert_eq!(
        cbor::from_slice_lenient::<Value>(&f32_bytes).unwrap(),
        json!({ "a": 2 })
    );
}

#[test]
fn tags_other_than_42_are_refused() {
    // {"a": 43(h'00')}, {"a": 1(0)}: a tag with a one-byte and an inline head.
    for (bytes, words) in [
        (
            vec![0xa1, 0x61, b'a', 0xd8, 43, 0x41, 0x00],
            "tag 43: only tag 42",
        ),
        (
            vec![0xa1, 0x61, b'a', 0xc1, 0x00],
            "a tag (0xc1): only tag 42",
        ),
    ] {
        let err = cbor::from_slice::<Value>(&bytes).unwrap_err();
        assert!(err.reason().contains(words), "{err}");
        let err = cbor::from_slice_lenient::<Value>(&bytes).unwrap_err();
        assert!(err.to_string().contains("only tag 42"), "{err}");
        assert!(strict_err::<Unknown>(&bytes).contains("only tag 42"));
    }
    // Tag 42 must hold 0x00 and a CID.
    let mut no_prefix = vec![0xd8, 42, 0x58, 36];
    no_prefix.extend(CID.parse::<CidLink>().unwrap().cid().to_bytes());
    assert!(cbor::from_slice::<CidLink>(&no_prefix).is_err());
    assert!(cbor::from_slice_lenient::<Value>(&no_prefix).is_err());
}

#[test]
fn non_canonical_order_and_widths_are_strict_errors_and_lenient_reads() {
    let canonical = cbor::to_vec(&Value::from_json(json!({ "b": 1, "aa": 2 })).unwrap()).unwrap();
    assert_eq!(canonical, [0xa2, 0x61, b'b', 0x01, 0x62, b'a', b'a', 0x02]);
    // Bytewise order, which is not DAG-CBOR's (shorter keys first).
    let unordered = [0xa2, 0x62, b'a', b'a', 0x02, 0x61, b'b', 0x01];
    // 5 written in a one-byte argument; a string length written in two bytes.
    let wide_int = [0xa1, 0x61, b'a', 0x18, 0x05];
    let wide_len = [0xa1, 0x79, 0x00, 0x01, b'a', 0x05];
    // An indefinite-length array.
    let indefinite = [0xa1, 0x61, b'a', 0x9f, 0x01, 0xff];
    for (bytes, words, lenient) in [
        (
            &unordered[..],
            "out of canonical order",
            json!({ "b": 1, "aa": 2 }),
        ),
        (&wide_int[..], "not in its shortest form", json!({ "a": 5 })),
        (&wide_len[..], "not in its shortest form", json!({ "a": 5 })),
        (&indefinite[..], "indefinite-length", json!({ "a": [1] })),
    ] {
        let err = cbor::from_slice::<Value>(bytes).unwrap_err().to_string();
        assert!(err.contains(words), "{bytes:?}: {err}");
        assert!(
            err.contains("not canonical") || err.contains("canonical order"),
            "{err}"
        );
        let value: Value = cbor::from_slice_lenient(bytes).unwrap();
        assert_eq!(value, lenient);
        // Written again, canonically.
        let again = cbor::to_vec(&value).unwrap();
        assert_eq!(cbor::from_slice::<Value>(&again).unwrap(), value);
    }
    // Typed decoding is as strict.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Two {
        b: i64,
        aa: i64,
    }
    assert!(strict_err::<Two>(&unordered).contains("out of canonical order"));
    assert_eq!(cbor::from_slice_lenient::<Two>(&unordered).unwrap().aa, 2);
    // A repeated key is refused in both modes: keeping one would lose the other.
    let repeated = [0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02];
    assert!(strict_err::<Value>(&repeated).contains("repeated"));
    assert!(
        cbor::from_slice_lenient::<Value>(&repeated)
            .unwrap_err()
            .to_string()
            .contains("duplicate key \"a\"")
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = cbor::to_vec(&Value::from(7)).unwrap();
    bytes.push(0x00);
    for err in [
        cbor::from_slice::<Value>(&bytes).unwrap_err(),
        cbor::from_slice_lenient::<Value>(&bytes).unwrap_err(),
        cbor::from_slice::<i64>(&bytes).unwrap_err(),
    ] {
        assert_eq!(
            err.to_string(),
            "1 bytes after the end of the value (at byte 1)"
        );
    }
}

#[test]
fn a_length_prefix_claiming_gigabytes_fails_at_the_end_of_the_input() {
    // A byte string, a text string, an array and a map each claiming 2^36
    // units, followed by almost nothing.
    for first in [0x5b, 0x7b, 0x9b, 0xbb] {
        let bytes = [first, 0, 0, 0, 0x10, 0, 0, 0, 0, 0x61, b'a', 0x01];
        let err = cbor::from_slice::<Value>(&bytes).unwrap_err();
        assert!(
            err.reason().contains("the input ends inside"),
            "{first:#x}: {err}"
        );
        assert!(cbor::from_slice_lenient::<Value>(&bytes).is_err());
        assert!(cbor::from_slice::<Vec<String>>(&bytes).is_err());
        assert!(cbor::from_slice::<Bytes>(&bytes).is_err());
    }
}

#[test]
fn nesting_thousands_deep_is_an_error() {
    // [[[[…0…]]]], 10,000 deep, and the same with maps.
    let mut arrays = vec![0x81; 10_000];
    arrays.push(0x00);
    let mut maps = Vec::new();
    for _ in 0..10_000 {
        maps.extend([0xa1, 0x61, b'a']);
    }
    maps.push(0x00);
    for bytes in [&arrays, &maps] {
        let err = cbor::from_slice::<Value>(bytes).unwrap_err();
        assert!(
            err.reason().contains("nested more than 256 levels"),
            "{err}"
        );
        let err = cbor::from_slice_lenient::<Value>(bytes).unwrap_err();
        assert!(
            err.to_string().contains("nested more than 256 levels"),
            "{err}"
        );
        assert!(cbor::from_slice::<Unknown>(bytes).is_err());
    }
    // Nesting within the limit is fine.
    let mut ok = vec![0x81; 100];
    ok.push(0x00);
    assert!(cbor::from_slice::<Value>(&ok).is_ok());
}

#[test]
fn undefined_and_other_simple_values() {
    let undefined = [0xa1, 0x61, b'a', 0xf7];
    assert!(strict_err::<Value>(&undefined).contains("undefined"));
    assert_eq!(
        cbor::from_slice_lenient::<Value>(&undefined).unwrap(),
        json!({ "a": null })
    );
    assert!(cbor::from_slice::<Value>(&[0xe0]).is_err());
    assert!(
        cbor::from_slice::<Value>(&[])
            .unwrap_err()
            .reason()
            .contains("ends")
    );
    // A map key must be a string.
    assert!(strict_err::<Value>(&[0xa1, 0x01, 0x02]).contains("a map key"));
    assert!(cbor::from_slice_lenient::<Value>(&[0xa1, 0x01, 0x02]).is_err());
    // Integers beyond the 64-bit signed range.
    let big = [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert!(strict_err::<Value>(&big).contains("out of the 64-bit range"));
    assert!(cbor::from_slice_lenient::<Value>(&big).is_err());
}

#[test]
fn links_bytes_and_blobs_in_both_encodings() {
    let link: CidLink = CID.parse().unwrap();
    let bytes = cbor::to_vec(&link).unwrap();
    assert_eq!(&bytes[..5], [0xd8, 0x2a, 0x58, 0x25, 0x00]);
    assert_eq!(cbor::from_slice::<CidLink>(&bytes).unwrap(), link);
    let data = Bytes(vec![1, 2, 3]);
    assert_eq!(cbor::to_vec(&data).unwrap(), [0x43, 1, 2, 3]);
    assert_eq!(cbor::from_slice::<Bytes>(&[0x43, 1, 2, 3]).unwrap(), data);
    assert!(cbor::from_slice::<Bytes>(&[0x63, 1, 2, 3]).is_err());

    let blob = Blob::new(BLOB_CID.parse::<CidLink>().unwrap(), "image/jpeg", 10000);
    let bytes = cbor::to_vec(&blob).unwrap();
    let fixture = &vectors("data-model-fixtures.json")[1];
    let expected = Value::from_json(fixture["json"]["c"].clone()).unwrap();
    assert_eq!(bytes, cbor::to_vec(&expected).unwrap());
    assert_eq!(cbor::from_slice::<Blob>(&bytes).unwrap(), blob);

    // The legacy form: refused strictly, kept leniently.
    let legacy = cbor::to_vec(
        &Value::from_json(json!({ "cid": BLOB_CID, "mimeType": "image/jpeg" })).unwrap(),
    )
    .unwrap();
    let err = strict_err::<Blob>(&legacy);
    assert!(err.contains("legacy blob form"), "{err}");
    let blob: Blob = cbor::from_slice_lenient(&legacy).unwrap();
    assert!(blob.is_legacy());
    assert_eq!(cbor::to_vec(&blob).unwrap(), legacy);
    // A legacy cid in base58 stays base58, in DAG-CBOR as in JSON.
    let base58 = blob
        .cid
        .as_cid()
        .to_string_of_base(atlex::cid::multibase::Base::Base58Btc)
        .unwrap();
    let json = json!({ "cid": base58, "mimeType": "image/jpeg" });
    let legacy = cbor::to_vec(&Value::from_json(json.clone()).unwrap()).unwrap();
    let read: Blob = cbor::from_slice_lenient(&legacy).unwrap();
    assert_eq!(read.cid, blob.cid);
    assert_eq!(read.cid.to_string(), base58);
    assert_eq!(cbor::to_vec(&read).unwrap(), legacy);
    assert_eq!(serde_json::to_value(&read).unwrap(), json);
    // A property blobs do not have: refused strictly, dropped leniently.
    let extra = cbor::to_vec(&Value::from_json(json!({ "$type": "blob", "ref": { "$link": BLOB_CID }, "mimeType": "a/b", "size": 1, "x": 1 })).unwrap()).unwrap();
    assert!(strict_err::<Blob>(&extra).contains("no property \"x\""));
    assert!(cbor::from_slice_lenient::<Blob>(&extra).is_ok());
}

/// A `strongRef` as generated code holds it: the `cid` a string of the
/// `cid` format.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct StrongRef {
    uri: String,
    cid: atlex::types::Cid,
}

#[test]
fn a_cid_string_in_another_base_round_trips_byte_identically() {
    let canonical: atlex::types::Cid = CID.parse().unwrap();
    let bytes = canonical.to_bytes();
    let bases = [
        atlex::cid::multibase::Base::Base32Lower,
        atlex::cid::multibase::Base::Base32Upper,
        atlex::cid::multibase::Base::Base58Btc,
        atlex::cid::multibase::Base::Base16Lower,
        atlex::cid::multibase::Base::Base36Lower,
    ];
    for base in bases {
        let text = atlex::cid::multibase::encode(base, &bytes);
        let json = json!({ "uri": "at://did:plc:abc/com.example.note/1", "cid": text });
        let cbor_bytes = cbor::to_vec(&Value::from_json(json.clone()).unwrap()).unwrap();

        let from_json: StrongRef = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(from_json.cid, canonical, "{base:?}");
        assert_eq!(serde_json::to_value(&from_json).unwrap(), json);
        assert_eq!(cbor::to_vec(&from_json).unwrap(), cbor_bytes);

        let from_cbor: StrongRef = cbor::from_slice(&cbor_bytes).unwrap();
        assert_eq!(from_cbor, from_json);
        assert_eq!(from_cbor.cid.to_string(), text);
        assert_eq!(cbor::to_vec(&from_cbor).unwrap(), cbor_bytes);
        assert_eq!(serde_json::to_value(&from_cbor).unwrap(), json);
        // The same CID as a link: equal, and written as a link.
        assert_eq!(CidLink::from(from_cbor.cid.clone()), canonical);
    }
}

#[test]
fn a_link_read_from_json_in_another_base_keeps_its_text_there() {
    let canonical: CidLink = CID.parse().unwrap();
    let base58 = canonical
        .as_cid()
        .to_string_of_base(atlex::cid::multibase::Base::Base58Btc)
        .unwrap();
    let json = json!({ "l": { "$link": base58 } });
    let value = Value::from_json(json.clone()).unwrap();
    assert_eq!(value.to_json(), json);
    // DAG-CBOR has one form of a link: the binary CID, from either text.
    let bytes = cbor::to_vec(&value).unwrap();
    assert_eq!(
        bytes,
        cbor::to_vec(&Value::from_json(json!({ "l": { "$link": CID } })).unwrap()).unwrap()
    );
    let back: Value = cbor::from_slice(&bytes).unwrap();
    assert_eq!(back, value);
    assert_eq!(back.to_json(), json!({ "l": { "$link": CID } }));
}

/// A union as generated code writes it, with members whose fields sort
/// before `$type` in canonical DAG-CBOR.
#[derive(Debug, PartialEq, atlex::rt::Union)]
enum Embed {
    #[lex("com.example.image")]
    Image(Box<Image>),
    #[lex(unknown)]
    Unknown(Unknown),
}

#[derive(Debug, PartialEq, atlex::rt::Object)]
#[lex(type = "com.example.image")]
struct Image {
    /// Sorts before `$type` (shorter).
    r#ref: CidLink,
    alt: String,
    /// Sorts before `$type`, too.
    raw: Bytes,
    aspect_ratio: Option<i64>,
}

#[test]
fn unions_decode_from_cbor_with_fields_before_type() {
    let image = Embed::Image(Box::new(Image {
        r#ref: CID.parse().unwrap(),
        alt: "x".into(),
        raw: Bytes(vec![9, 8]),
        aspect_ratio: None,
    }));
    let bytes = cbor::to_vec(&image).unwrap();
    // Canonical order: alt, raw, ref (3 bytes) before $type (5); the unset
    // aspectRatio is left out.
    let value: Value = cbor::from_slice(&bytes).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["$type", "alt", "raw", "ref"]);
    assert_eq!(bytes[1..5], [0x63, b'a', b'l', b't']);
    assert_eq!(bytes[7..11], [0x63, b'r', b'a', b'w']);
    assert_eq!(cbor::from_slice::<Embed>(&bytes).unwrap(), image);
    // The same through JSON.
    let json = serde_json::to_string(&image).unwrap();
    assert_eq!(serde_json::from_str::<Embed>(&json).unwrap(), image);

    // A member of an unknown type keeps its links and bytes, in CBOR too.
    let newer = Value::from_json(
        json!({ "$type": "com.example.video", "ref": { "$link": CID }, "raw": { "$bytes": "AQ" } }),
    )
    .unwrap();
    let bytes = cbor::to_vec(&newer).unwrap();
    match cbor::from_slice::<Embed>(&bytes).unwrap() {
        Embed::Unknown(data) => {
            assert_eq!(data.as_value(), &newer);
            assert_eq!(cbor::to_vec(&data).unwrap(), bytes);
        }
        other => panic!("{other:?}"),
    }

    // A bad field before `$type` is named.
    let bad = Value::from_json(
        json!({ "$type": "com.example.image", "ref": 5, "alt": "x", "raw": { "$bytes": "AQ" } }),
    )
    .unwrap();
    let err = cbor::from_slice::<Embed>(&cbor::to_vec(&bad).unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid com.example.image at ref:"),
        "{err}"
    );
}

#[test]
fn extra_fields_keep_links_and_bytes_through_cbor() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Kept {
        a: i64,
        #[serde(flatten)]
        extra: ExtraFields,
    }
    let value = Value::from_json(json!({ "a": 1, "link": { "$link": CID }, "raw": { "$bytes": "AQID" }, "deep": [{ "x": { "$link": CID } }] })).unwrap();
    let bytes = cbor::to_vec(&value).unwrap();
    let kept: Kept = cbor::from_slice(&bytes).unwrap();
    assert!(matches!(kept.extra.get("link"), Some(Value::Link(_))));
    assert!(matches!(kept.extra.get("raw"), Some(Value::Bytes(_))));
    assert_eq!(cbor::to_vec(&kept).unwrap(), bytes);
    // And JSON → CBOR → JSON.
    let json = serde_json::to_value(&kept).unwrap();
    assert_eq!(json, value.to_json());
    // A text map shaped like a JSON link is not a link in CBOR.
    let fake = [
        0xa2, 0x61, b'a', 0x01, 0x61, b'b', 0xa1, 0x65, b'$', b'l', b'i', b'n', b'k', 0x61, b'x',
    ];
    assert!(
        strict_err::<Kept>(&fake).contains("reserved"),
        "{}",
        strict_err::<Kept>(&fake)
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Note {
    text: String,
    #[serde(rename = "createdAt")]
    created_at: atlex::types::Datetime,
}

/// `com.example.note`, a record.
macro_rules! note_record {
    ($ty:ident) => {
        impl LexType for $ty {
            const TYPE: &'static str = "com.example.note";
        }

        impl Record for $ty {
            const NSID: &'static str = "com.example.note";
            const KEY: RecordKeyKind = RecordKeyKind::Tid;
        }
    };
}

note_record!(Note);

/// The same record, as a type that writes its own `$type`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TypedNote {
    #[serde(rename = "$type")]
    type_name: String,
    text: String,
    #[serde(rename = "createdAt")]
    created_at: atlex::types::Datetime,
}

note_record!(TypedNote);

#[test]
fn record_cids_include_the_type_once_whoever_writes_it() {
    let json = json!({ "$type": "com.example.note", "text": "hello", "createdAt": "2024-01-01T00:00:00Z" });
    let expected = cbor::cid_of(&Value::from_json(json.clone()).unwrap()).unwrap();
    let note: Note = serde_json::from_value(json.clone()).unwrap();
    let typed: TypedNote = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(note.cid().unwrap(), expected);
    assert_eq!(typed.cid().unwrap(), expected);
    assert_eq!(note.to_cbor().unwrap(), typed.to_cbor().unwrap());
    assert_eq!(expected.codec(), cbor::DAG_CBOR);
    assert_eq!(expected.hash_code(), cbor::SHA2_256);

    let bytes = note.to_cbor().unwrap();
    assert_eq!(Note::from_cbor(&bytes).unwrap(), note);
    assert_eq!(TypedNote::from_cbor(&bytes).unwrap(), typed);
    cbor::verify(&expected, &bytes).unwrap();
    // The `$type` must be the record's.
    let other = cbor::to_vec(&Value::from_json(json!({ "$type": "com.example.other", "text": "x", "createdAt": "2024-01-01T00:00:00Z" })).unwrap()).unwrap();
    let err = Note::from_cbor(&other).unwrap_err().to_string();
    assert!(err.contains("com.example.other"), "{err}");
    let untyped = cbor::to_vec(
        &Value::from_json(json!({ "text": "x", "createdAt": "2024-01-01T00:00:00Z" })).unwrap(),
    )
    .unwrap();
    assert!(
        Note::from_cbor(&untyped)
            .unwrap_err()
            .to_string()
            .contains("no $type")
    );
    // A bad field is named.
    let bad = cbor::to_vec(
        &Value::from_json(
            json!({ "$type": "com.example.note", "text": "x", "createdAt": "yesterday" }),
        )
        .unwrap(),
    )
    .unwrap();
    let err = Note::from_cbor(&bad).unwrap_err().to_string();
    assert!(
        err.contains("createdAt") && err.contains("invalid datetime"),
        "{err}"
    );
}

#[test]
fn verify_names_the_block_and_its_real_cid() {
    let bytes = cbor::to_vec(&Value::from("x")).unwrap();
    let cid = cbor::cid_for(cbor::DAG_CBOR, &bytes);
    cbor::verify(&cid, &bytes).unwrap();
    let err = cbor::verify(&cid, b"other").unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("block {cid}: its bytes hash to bafy")),
        "{err}"
    );
    let raw = cbor::cid_for(cbor::RAW, b"blob bytes");
    assert!(raw.to_string().starts_with("bafkrei"));
}

#[test]
fn frames_are_two_values_back_to_back() {
    let header = Value::from_json(json!({ "op": 1, "t": "#commit" })).unwrap();
    let body = Value::from_json(json!({ "seq": 5, "blocks": { "$bytes": "AAEC" } })).unwrap();
    let mut frame = cbor::to_vec(&header).unwrap();
    frame.extend(cbor::to_vec(&body).unwrap());
    let (h, rest) = cbor::from_slice_prefix::<Value>(&frame).unwrap();
    assert_eq!(h, header);
    assert_eq!(cbor::from_slice::<Value>(rest).unwrap(), body);
    let (h, rest) = cbor::from_slice_prefix_lenient::<Value>(&frame).unwrap();
    assert_eq!(
        (h, cbor::from_slice::<Value>(rest).unwrap()),
        (header, body)
    );
    assert!(cbor::from_slice::<Value>(&frame).is_err());
}

#[test]
fn errors_say_where_and_what() {
    let err: DecodeError = cbor::from_slice::<Note>(
        &cbor::to_vec(&Value::from_json(json!({ "text": 1, "createdAt": "x" })).unwrap()).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.path(), "text");
    assert!(
        err.reason()
            .contains("an integer (0x01) where a string was expected"),
        "{err}"
    );
    let err = strict_err::<Value>(&[0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x02]);
    assert_eq!(
        err,
        "map keys repeated or out of canonical order (shorter first, then bytewise)"
    );
}
