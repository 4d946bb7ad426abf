//! The `cbor_decode` fuzz target's property (`fuzz/checks/cbor_decode.rs`),
//! run in every test run over a seed corpus and deterministic mutations of
//! it: truncations of each seed, and bytes flipped and bumped. The
//! fuzzer explores further (`fuzz/README.md`); this keeps what it checks
//! exercised where CI runs.

use atlex::cbor;
use atlex::data::Value;
use base64::Engine as _;

#[path = "../../fuzz/checks/cbor_decode.rs"]
mod check;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The seeds: the TypeScript records' DAG-CBOR, their CAR, a two-convo
/// listConvos page, and a post with a legacy blob (read leniently only).
fn seeds() -> Vec<(String, Vec<u8>)> {
    let records: Vec<serde_json::Value> =
        serde_json::from_slice(&fixture("ts_records.json")).unwrap();
    let mut seeds: Vec<(String, Vec<u8>)> = records
        .iter()
        .map(|r| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(r["cbor_base64"].as_str().unwrap())
                .unwrap();
            (r["name"].as_str().unwrap().to_owned(), bytes)
        })
        .collect();
    seeds.push(("ts_records.car".to_owned(), fixture("ts_records.car")));

    let mut page: serde_json::Value =
        serde_json::from_slice(&fixture("list_convos_100.json")).unwrap();
    page["convos"].as_array_mut().unwrap().truncate(2);
    let page = Value::from_json(page).unwrap();
    seeds.push(("list_convos_2".to_owned(), cbor::to_vec(&page).unwrap()));

    let legacy = serde_json::json!({
        "$type": "app.bsky.feed.post",
        "text": "old",
        "createdAt": "2023-01-01T00:00:00.000Z",
        "embed": {
            "$type": "app.bsky.embed.images",
            "images": [{
                "alt": "",
                "image": {
                    "cid": "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity",
                    "mimeType": "image/jpeg",
                },
            }],
        },
    });
    let legacy = Value::from_json(legacy).unwrap();
    seeds.push((
        "legacy_blob_post".to_owned(),
        cbor::to_vec(&legacy).unwrap(),
    ));
    seeds
}

#[test]
fn the_seeds_hold_the_property() {
    let seeds = seeds();
    assert_eq!(seeds.len(), 17);
    for (name, bytes) in &seeds {
        // Each seed decodes (strictly, but the legacy blob only leniently):
        // the property is checked on accepted values, not only on errors.
        let strict = cbor::from_slice::<Value>(bytes).is_ok();
        let car = atlex::car::Car::from_slice(bytes).is_ok();
        assert!(
            strict || car || name == "legacy_blob_post",
            "{name} does not decode"
        );
        check::cbor_decode(bytes);
    }
}

#[test]
fn mutations_of_the_seeds_hold_the_property() {
    let mut cases = 0;
    for (name, bytes) in seeds() {
        // Every byte of the records; every 13th of the CAR and the page,
        // which are longer (a debug build checks about 25,000 inputs).
        let step = if bytes.len() > 1024 { 13 } else { 1 };
        let mut mutant = bytes.clone();
        for at in (0..bytes.len()).step_by(step) {
            let run = |data: &[u8], what: &str| {
                let result = std::panic::catch_unwind(|| check::cbor_decode(data));
                assert!(result.is_ok(), "{name}, {what} at byte {at}: {data:02x?}");
            };
            run(&bytes[..at], "truncated");
            for change in [0xff, 0x01] {
                mutant[at] = bytes[at] ^ change;
                run(&mutant, &format!("xor {change:#04x}"));
            }
            mutant[at] = bytes[at].wrapping_add(1);
            run(&mutant, "+1");
            mutant[at] = bytes[at];
            cases += 4;
        }
    }
    assert!(cases > 20_000, "{cases} cases");
}
