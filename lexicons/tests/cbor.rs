//! Generated types through DAG-CBOR.
//!
//! - Records built by the official TypeScript libraries (`fixtures/ts/`,
//!   see its script): atlex writes the same bytes and computes the same CIDs,
//!   from the JSON through `Value` and through the generated types, and reads
//!   the CAR the TypeScript side wrote.
//! - The 100-convo listConvos page and the evolved page: JSON → typed →
//!   DAG-CBOR → typed → JSON is lossless.
//! - The interop record-data vectors, as untyped values.

use atlex::car::Car;
use atlex::cbor;
use atlex::data::{Record, Unknown, Value};
use atlex::types::Cid;
use atlex_lexicons::app::bsky::{actor, feed, graph};
use atlex_lexicons::chat::bsky::convo::list_convos;
use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

mod common;
use common::first_difference;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct TsRecord {
    name: String,
    json: serde_json::Value,
    cbor: Vec<u8>,
    cid: Cid,
}

fn ts_records() -> Vec<TsRecord> {
    let all: Vec<serde_json::Value> = serde_json::from_slice(&fixture("ts_records.json")).unwrap();
    all.into_iter()
        .map(|r| TsRecord {
            name: r["name"].as_str().unwrap().to_owned(),
            cbor: base64::engine::general_purpose::STANDARD
                .decode(r["cbor_base64"].as_str().unwrap())
                .unwrap(),
            cid: r["cid"].as_str().unwrap().parse().unwrap(),
            json: r["json"].clone(),
        })
        .collect()
}

/// The record as `T`: the same bytes and CID as TypeScript's, both ways,
/// and the same JSON back.
fn check_typed<T: Record + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    record: &TsRecord,
) {
    let typed: T = serde_json::from_value(record.json.clone()).unwrap();
    assert_eq!(
        typed.to_cbor().unwrap(),
        record.cbor,
        "{}: bytes",
        record.name
    );
    assert_eq!(typed.cid().unwrap(), record.cid, "{}: cid", record.name);
    let decoded = T::from_cbor(&record.cbor).unwrap();
    assert_eq!(decoded, typed, "{}", record.name);
    // The fixtures hold nothing the types do not model: the JSON is whole.
    let json = serde_json::to_value(atlex::rt::Tagged::new(T::TYPE, &decoded)).unwrap();
    assert_eq!(json, record.json, "{}: JSON", record.name);
}

#[test]
fn typescript_records_match_byte_for_byte() {
    let records = ts_records();
    assert_eq!(records.len(), 14);
    for record in &records {
        // Untyped: JSON → Value → DAG-CBOR.
        let value = Value::from_json(record.json.clone()).unwrap();
        assert_eq!(
            cbor::to_vec(&value).unwrap(),
            record.cbor,
            "{}: bytes",
            record.name
        );
        assert_eq!(
            cbor::cid_of(&value).unwrap(),
            record.cid,
            "{}: cid",
            record.name
        );
        let back: Value = cbor::from_slice(&record.cbor).unwrap();
        assert_eq!(back.to_json(), record.json, "{}", record.name);

        match record.json["$type"].as_str().unwrap() {
            "app.bsky.feed.post" => check_typed::<feed::post::Post>(record),
            "app.bsky.feed.like" => check_typed::<feed::like::Like>(record),
            "app.bsky.feed.repost" => check_typed::<feed::repost::Repost>(record),
            "app.bsky.feed.threadgate" => check_typed::<feed::threadgate::Threadgate>(record),
            "app.bsky.graph.follow" => check_typed::<graph::follow::Follow>(record),
            "app.bsky.graph.block" => check_typed::<graph::block::Block>(record),
            "app.bsky.graph.list" => check_typed::<graph::list::List>(record),
            "app.bsky.graph.listitem" => check_typed::<graph::listitem::Listitem>(record),
            "app.bsky.actor.profile" => check_typed::<actor::profile::Profile>(record),
            "chat.bsky.actor.declaration" => {
                check_typed::<atlex_lexicons::chat::bsky::actor::declaration::Declaration>(record)
            }
            other => {
                // A lexicon this code does not generate: kept whole.
                assert_eq!(other, "com.example.fixture.thing");
                let unknown: Unknown = cbor::from_slice(&record.cbor).unwrap();
                assert_eq!(cbor::to_vec(&unknown).unwrap(), record.cbor);
                assert_eq!(unknown.to_json(), record.json);
            }
        }
    }
}

#[test]
fn the_typescript_car_reads_with_every_block_verified() {
    let bytes = fixture("ts_records.car");
    let car = Car::from_slice(&bytes).unwrap();
    assert_eq!(car.roots().len(), 1);
    let records = ts_records();
    assert_eq!(car.blocks.len(), records.len() + 1);
    let root: Value = car.blocks.decode(&car.roots()[0]).unwrap();
    let links = root["records"].as_array().unwrap();
    assert_eq!(links.len(), records.len());
    for (record, link) in records.iter().zip(links) {
        let Value::Link(link) = link else {
            panic!("{link:?}")
        };
        assert_eq!(*link, record.cid);
        assert_eq!(
            car.blocks.get(link.cid()).unwrap(),
            record.cbor,
            "{}",
            record.name
        );
    }
    let post = records
        .iter()
        .find(|r| r.name == "post_with_facets_and_images")
        .unwrap();
    let typed: feed::post::Post = car.blocks.decode_record(&post.cid).unwrap();
    assert_eq!(typed.cid().unwrap(), post.cid);
    // Wrong type asked for: an error naming the block and the $type.
    let err = car
        .blocks
        .decode_record::<feed::like::Like>(&post.cid)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&post.cid.to_string()) && err.contains("app.bsky.feed.post"),
        "{err}"
    );
}

#[test]
fn the_hundred_convo_page_round_trips_through_cbor_typed() {
    let text = fixture("list_convos_100.json");
    let original: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let typed: list_convos::Output = serde_json::from_slice(&text).unwrap();
    let bytes = cbor::to_vec(&typed).unwrap();
    let again: list_convos::Output = cbor::from_slice(&bytes).unwrap();
    assert_eq!(again, typed);
    let json = serde_json::to_value(&again).unwrap();
    if let Some(difference) = first_difference(&original, &json, "") {
        panic!("JSON → typed → CBOR → typed → JSON differs at {difference}");
    }
    // The same page untyped encodes to the same bytes.
    let value = Value::from_json(original.clone()).unwrap();
    assert_eq!(cbor::to_vec(&value).unwrap(), bytes);
    let back: Value = cbor::from_slice(&bytes).unwrap();
    assert_eq!(back.to_json(), original);
}

#[test]
fn the_evolved_page_keeps_everything_through_cbor() {
    let text = fixture("list_convos_evolved.json");
    let typed: list_convos::Output = serde_json::from_slice(&text).unwrap();
    let expected: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let again: list_convos::Output = cbor::from_slice(&cbor::to_vec(&typed).unwrap()).unwrap();
    assert_eq!(again, typed);
    let json = serde_json::to_value(&again).unwrap();
    if let Some(difference) = first_difference(&expected, &json, "") {
        panic!("evolved page differs after CBOR at {difference}");
    }
}

#[test]
fn interop_record_data_round_trips_untyped() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../codegen/tests/vectors/lexicon/record-data-valid.json"
    );
    let vectors: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(vectors.len(), 3);
    for vector in vectors {
        let value = Value::from_json(vector["data"].clone()).unwrap();
        let bytes = cbor::to_vec(&value).unwrap();
        let back: Value = cbor::from_slice(&bytes).unwrap();
        assert_eq!(back, value, "{}", vector["name"]);
        // The same JSON, but for base64 written with stray trailing bits
        // (`"123"`), which reads leniently and is written canonically.
        assert_eq!(back, vector["data"], "{}", vector["name"]);
        assert_eq!(cbor::cid_of(&back).unwrap(), cbor::cid_of(&value).unwrap());
    }
}

#[test]
fn a_legacy_blob_in_a_post_is_refused_strictly_with_its_path_and_read_leniently() {
    let mut json = ts_records()[0].json.clone();
    let image = &mut json["embed"]["images"][0]["image"];
    *image = serde_json::json!({ "cid": image["ref"]["$link"].clone(), "mimeType": "image/jpeg" });
    let bytes = cbor::to_vec(&Value::from_json(json.clone()).unwrap()).unwrap();
    let err = feed::post::Post::from_cbor(&bytes).unwrap_err();
    assert_eq!(err.path(), "embed.images[0].image", "{err}");
    assert!(
        err.reason().ends_with(
            "at images: legacy blob form {\"cid\", \"mimeType\"}: decode leniently to accept it"
        ),
        "{err}"
    );
    let post: feed::post::Post = cbor::record_from_slice_lenient(&bytes).unwrap();
    assert_eq!(post.to_cbor().unwrap(), bytes);
    assert_eq!(
        serde_json::to_value(atlex::rt::Tagged::new("app.bsky.feed.post", &post)).unwrap(),
        json
    );
}

#[test]
fn a_strong_ref_and_the_record_it_names_compare_by_cid() {
    let records = ts_records();
    let named = |name: &str| records.iter().find(|r| r.name == name).unwrap();
    let post_record = named("post_with_facets_and_images");
    let post: feed::post::Post = serde_json::from_value(post_record.json.clone()).unwrap();
    let post_cid = post.cid().unwrap();

    // A like of the post, read from JSON and from DAG-CBOR: the strongRef's
    // `cid` is a string in both, and the record's CID in Rust.
    let mut json = named("like").json.clone();
    json["subject"]["cid"] = post_record.cid.to_string().into();
    let from_json: feed::like::Like = serde_json::from_value(json.clone()).unwrap();
    let bytes = cbor::to_vec(&Value::from_json(json).unwrap()).unwrap();
    let from_cbor = feed::like::Like::from_cbor(&bytes).unwrap();
    assert_eq!(from_json.subject.cid, post_cid);
    assert_eq!(from_cbor.subject.cid, post_cid);
    assert_eq!(from_cbor.to_cbor().unwrap(), bytes);

    // The CAR's block and its root's link to it are found by the same CID.
    let car_bytes = fixture("ts_records.car");
    let car = Car::from_slice(&car_bytes).unwrap();
    let linked: feed::post::Post = car.blocks.decode_record(&from_cbor.subject.cid).unwrap();
    assert_eq!(linked, post);
    let root: Value = car.blocks.decode(&car.roots()[0]).unwrap();
    assert!(
        root["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|link| matches!(link, Value::Link(link) if *link == from_cbor.subject.cid))
    );

    // A strongRef in another base still names the post, and is written back
    // as it came, in both encodings.
    let base58 = post_cid
        .as_cid()
        .to_string_of_base(atlex::cid::multibase::Base::Base58Btc)
        .unwrap();
    let mut json = named("like").json.clone();
    json["subject"]["cid"] = base58.clone().into();
    let like: feed::like::Like = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(like.subject.cid, post_cid);
    assert_eq!(like.subject.cid.to_string(), base58);
    let bytes = cbor::to_vec(&Value::from_json(json.clone()).unwrap()).unwrap();
    assert_eq!(like.to_cbor().unwrap(), bytes);
    let from_cbor = feed::like::Like::from_cbor(&bytes).unwrap();
    assert_eq!(from_cbor.to_cbor().unwrap(), bytes);
    assert_eq!(
        serde_json::to_value(atlex::rt::Tagged::new("app.bsky.feed.like", &from_cbor)).unwrap(),
        json
    );
}

/// The post fixture as data-model JSON, with `edit` applied, in canonical
/// DAG-CBOR.
fn post_bytes(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut json = ts_records()[0].json.clone();
    edit(&mut json);
    cbor::to_vec(&Value::from_json(json).unwrap()).unwrap()
}

/// Replaces the first occurrence of `from` in `bytes` by `to`.
fn splice(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the bytes to replace");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// The bad inputs of the data model, into a generated record: each a clear
/// error naming what is wrong (and, inside the record, where), never a
/// panic.
#[test]
fn bad_input_into_a_generated_record_is_a_clear_error() {
    use feed::post::Post;
    let strict = |bytes: &[u8]| Post::from_cbor(bytes).unwrap_err().to_string();

    // A float where the lexicon has an integer: the image's aspect ratio
    // width, 2000 written as 2000.0 (0xfb + 8 bytes).
    let good = post_bytes(|_| {});
    let width = [&b"\x65width"[..], &[0x19, 0x07, 0xd0]].concat();
    let float = splice(
        &good,
        &width,
        &[&b"\x65width\xfb"[..], &2000f64.to_be_bytes()].concat(),
    );
    let err = strict(&float);
    assert!(err.contains("float"), "{err}");
    assert!(err.contains("aspectRatio"), "{err}");

    // A tag other than 42 on the image's CID.
    let tagged = splice(&good, &[0xd8, 42], &[0xd8, 43]);
    let err = strict(&tagged);
    assert!(err.contains("only tag 42"), "{err}");
    assert!(err.contains("embed.images[0].image"), "{err}");

    // Keys out of canonical order: "text" (4) before "$type" (5) swapped
    // into bytewise order, and an integer in a wider form than needed.
    let text = post_bytes(|json| {
        json.as_object_mut()
            .unwrap()
            .retain(|k, _| k == "$type" || k == "text" || k == "createdAt");
    });
    let unordered = {
        let value: Value = cbor::from_slice(&text).unwrap();
        let Value::Object(map) = value else { panic!() };
        // Bytewise order of the encoded keys' strings alone, as a writer
        // that sorts strings (not their encodings) does.
        let mut out = vec![0xa0 + map.len() as u8];
        for (key, value) in &map {
            out.extend(cbor::to_vec(key).unwrap());
            out.extend(cbor::to_vec(value).unwrap());
        }
        out
    };
    assert_ne!(unordered, text);
    let err = strict(&unordered);
    assert!(err.contains("out of canonical order"), "{err}");
    let post = cbor::record_from_slice_lenient::<Post>(&unordered).unwrap();
    assert_eq!(post.to_cbor().unwrap(), text);
    let wide = splice(
        &good,
        &width,
        &[&b"\x65width"[..], &[0x1a, 0, 0, 0x07, 0xd0]].concat(),
    );
    let err = strict(&wide);
    assert!(err.contains("not in its shortest form"), "{err}");
    assert_eq!(
        cbor::record_from_slice_lenient::<Post>(&wide)
            .unwrap()
            .to_cbor()
            .unwrap(),
        good
    );

    // Bytes after the record.
    let mut trailing = good.clone();
    trailing.push(0x00);
    assert!(strict(&trailing).contains("1 bytes after the end of the value"));

    // A text claiming 2^36 bytes, where the post's text is.
    let text_head = [0x64, b't', b'e', b'x', b't'];
    let at = good.windows(5).position(|w| w == text_head).unwrap() + 5;
    let mut giant = good[..at].to_vec();
    giant.extend([0x7b, 0, 0, 0, 0x10, 0, 0, 0, 0, b'h', b'i']);
    let err = strict(&giant);
    assert!(err.contains("the input ends inside"), "{err}");

    // An undeclared field nested 10,000 deep (the decoder skips undeclared
    // fields, and skipping must stop at the depth limit too).
    let mut deep = good.clone();
    deep[0] += 1; // One more entry in the map, which is short here.
    assert!(deep[0] < 0xb8, "{:#x}", deep[0]);
    deep.extend(cbor::to_vec("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz").unwrap());
    deep.extend(vec![0x81; 10_000]);
    deep.push(0x00);
    let err = strict(&deep);
    assert!(err.contains("nested more than 256 levels"), "{err}");
    let err = cbor::record_from_slice_lenient::<Post>(&deep)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nested more than 256 levels"), "{err}");

    // A CAR whose header claims more bytes than the file has.
    let car = fixture("ts_records.car");
    let mut lying = vec![0xff, 0x7f];
    lying.extend(&car[1..]);
    let err = Car::from_slice(&lying).unwrap_err().to_string();
    assert!(err.contains("claims 16383 bytes"), "{err}");
}
