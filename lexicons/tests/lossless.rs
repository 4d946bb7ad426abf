//! Records that survive a round trip: decoded into their generated type and
//! encoded again, every record of the corpora below has the bytes and the
//! CID it came with.
//!
//! - `fixtures/ts_roundtrip.json`: records as the official TypeScript client
//!   (`@atproto/api`) writes them — facets with their `$type`, quotes,
//!   `recordWithMedia` with a typed inner `record`, profiles, lists,
//!   threadgates, starter packs, … — and records carrying what these
//!   bindings do not know: undeclared properties at every depth, `$type`s
//!   on plain objects (also spelled `#main`), unknown union members, legacy
//!   blobs, values of every data-model kind.
//! - `fixtures/ts_records.json`: records made with `@atproto/lex-cbor`.
//! - `fixtures/ts_frames/repos.frames.gz`: every record of a firehose
//!   recording of the TypeScript implementation.
//!
//! Each record is checked three ways: its DAG-CBOR decoded strictly and
//! encoded again (same bytes, same CID), its JSON decoded and encoded again
//! (equal as data), and its JSON encoded as DAG-CBOR (the corpus's bytes).

use std::io::Read as _;

use atlex::data::{Record as _, Unknown};
use atlex::firehose::RepoCommit as _;
use atlex::subscription::decode_message;
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};
use base64::Engine as _;
use serde_json::Value as Json;

mod common;
use common::first_difference;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn read(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The record dispatch of `bytes`, refusing data it keeps as unknown: every
/// record of the corpora has a generated type. Strictly decoded, but for
/// records with the legacy blob form, which only lenient decoding reads.
fn typed(name: &str, bytes: &[u8]) -> Record {
    let record: Result<Record, _> = if name.contains("legacy_blob") {
        atlex::cbor::from_slice_lenient(bytes)
    } else {
        atlex::cbor::from_slice(bytes)
    };
    let record = record.unwrap_or_else(|e| panic!("{name}: decode: {e}"));
    if let Record::Unknown(unknown) = &record {
        panic!(
            "{name}: decoded as unknown data of type {:?}",
            unknown.type_name()
        );
    }
    record
}

/// Checks that `record` (the dispatch `typed` made of `bytes`) encodes to
/// `bytes` again, and has CID `cid` when given.
fn same_bytes(name: &str, record: &Record, bytes: &[u8], cid: Option<&str>) {
    let again = atlex::cbor::to_vec(record).unwrap_or_else(|e| panic!("{name}: encode: {e}"));
    if again != bytes {
        let want: atlex::data::Value = atlex::cbor::from_slice(bytes).unwrap();
        let got: atlex::data::Value = atlex::cbor::from_slice(&again).unwrap();
        let difference = first_difference(&want.to_json(), &got.to_json(), "");
        panic!("{name}: re-encodes to other bytes; first difference at {difference:?}");
    }
    if let Some(cid) = cid {
        assert_eq!(
            atlex::cbor::cid_of(record).unwrap().to_string(),
            cid,
            "{name}"
        );
    }
}

#[test]
fn records_written_by_the_typescript_client_keep_their_cid() {
    let corpus: Vec<Json> = serde_json::from_slice(&read("ts_roundtrip.json")).unwrap();
    assert_eq!(corpus.len(), 46);
    let mut unknown_parts = 0;
    for entry in &corpus {
        let name = entry["name"].as_str().unwrap();
        let cid = entry["cid"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(entry["cbor_base64"].as_str().unwrap())
            .unwrap();

        // DAG-CBOR → generated type → DAG-CBOR.
        let record = typed(name, &bytes);
        same_bytes(name, &record, &bytes, Some(cid));

        // JSON → generated type → JSON, and → DAG-CBOR.
        let json = &entry["json"];
        let from_json: Record =
            serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(from_json, record, "{name}: JSON and DAG-CBOR decode alike");
        let again = serde_json::to_value(&from_json).unwrap();
        if let Some(difference) = first_difference(json, &again, "") {
            panic!("{name}: JSON re-encodes differently at {difference}");
        }
        same_bytes(name, &from_json, &bytes, Some(cid));
        if name.starts_with("unknown_") {
            unknown_parts += 1;
        }
    }
    assert_eq!(unknown_parts, 13);
}

#[test]
fn records_made_with_the_typescript_codec_keep_their_cid() {
    let entries: Vec<Json> = serde_json::from_slice(&read("ts_records.json")).unwrap();
    let mut checked = 0;
    for entry in &entries {
        let name = entry["name"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(entry["cbor_base64"].as_str().unwrap())
            .unwrap();
        let cid = entry["cid"].as_str();
        let record: Record = atlex::cbor::from_slice(&bytes).unwrap();
        same_bytes(name, &record, &bytes, cid);
        checked += 1;
    }
    assert_eq!(checked, entries.len());
    assert!(checked >= 14);
}

fn gunzip(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&read(name)[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn every_record_of_the_typescript_firehose_keeps_its_cid() {
    let bytes = gunzip("ts_frames/repos.frames.gz");
    let mut rest = &bytes[..];
    let mut records = 0;
    while !rest.is_empty() {
        let (len, tail) = rest.split_at(4);
        let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        let Ok(Message::Commit(commit)) = decode_message::<SubscribeRepos>(frame, false) else {
            continue;
        };
        let ops = commit.decode_ops::<Record>().unwrap().strict();
        let blocks = ops.car().blocks.clone();
        for op in ops {
            let op = op.unwrap();
            let (Some(cid), Some(record)) = (&op.cid, &op.record) else {
                continue;
            };
            let name = op.path();
            let block = blocks.get(cid).unwrap();
            if let Record::Unknown(unknown) = record {
                // A collection these bindings do not generate: kept whole.
                assert_eq!(unknown.type_name(), Some("com.example.unknown.thing"));
            }
            same_bytes(&name, record, block, Some(&cid.to_string()));
            records += 1;
        }
    }
    assert!(records > 2000, "{records} records");
}

/// The entry of `ts_roundtrip.json` named `name`.
fn corpus_entry(name: &str) -> Json {
    let corpus: Vec<Json> = serde_json::from_slice(&read("ts_roundtrip.json")).unwrap();
    corpus
        .into_iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no corpus entry {name}"))
}

/// A record as an older and a newer lexicon see it: the older bindings read
/// it, edit a field they know and write it back; nothing else changes.
#[test]
fn an_edit_changes_only_what_was_edited() {
    let entry = corpus_entry("unknown_profile_future_field");
    let mut json = entry["json"].clone();
    let record: Record = serde_json::from_value(json.clone()).unwrap();
    let Record::AppBskyActorProfile(mut profile) = record else {
        panic!("not a profile");
    };
    profile.display_name = Some("Renamed".to_owned());
    json["displayName"] = "Renamed".into();
    let written = serde_json::to_value(Record::from(*profile.clone())).unwrap();
    assert_eq!(first_difference(&json, &written, ""), None);
    assert!(profile.extra.get("futureField").is_some());
    assert_eq!(
        profile.cid().unwrap(),
        atlex::cbor::cid_of(&atlex::data::Value::from_json(json).unwrap()).unwrap()
    );
}

/// Data nested deeper than the decoders allow is refused with an error, in
/// both encodings, not a stack overflow — also where it is kept as an
/// undeclared property.
#[test]
fn deeply_nested_undeclared_properties_are_refused_not_overflowed() {
    const DEPTH: usize = 100_000;
    let deep = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let text = format!(
        r#"{{"$type":"app.bsky.feed.like","subject":{{"uri":"at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vuowo2b","cid":"bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q"}},"createdAt":"2024-01-01T00:00:00.000Z","later":{deep}}}"#
    );
    let err = serde_json::from_str::<Record>(&text).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");

    // The same shape in DAG-CBOR: a map whose `later` is 100,000 nested arrays.
    let mut bytes = vec![0xa4];
    for (key, value) in [
        ("$type", cbor_text("app.bsky.feed.like")),
        (
            "later",
            vec![0x81; DEPTH].into_iter().chain([0x80]).collect(),
        ),
        ("subject", {
            let mut subject = vec![0xa2];
            subject.extend(cbor_text("cid"));
            subject.extend(cbor_text(
                "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q",
            ));
            subject.extend(cbor_text("uri"));
            subject.extend(cbor_text(
                "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vuowo2b",
            ));
            subject
        }),
        ("createdAt", cbor_text("2024-01-01T00:00:00.000Z")),
    ] {
        bytes.extend(cbor_text(key));
        bytes.extend(value);
    }
    let err = atlex::cbor::from_slice::<Record>(&bytes).unwrap_err();
    assert!(err.to_string().contains("levels deep"), "{err}");
    // Shallow, it decodes and is kept.
    let shallow: Unknown = atlex::cbor::from_slice_lenient(&{
        let mut b = vec![0xa1];
        b.extend(cbor_text("a"));
        b.extend([0x81, 0x80]);
        b
    })
    .unwrap();
    assert!(shallow.type_name().is_none());
}

/// A CBOR text string (short ones only).
fn cbor_text(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match text.len() {
        len @ 0..=23 => out.push(0x60 | len as u8),
        len @ 24..=255 => out.extend([0x78, len as u8]),
        len => panic!("{len} bytes"),
    }
    out.extend(text.as_bytes());
    out
}

/// A post built with the rich-text helper is the post the TypeScript client
/// writes for the same text: same facets, same `$type`s, same CID.
#[test]
fn rich_text_built_here_is_the_reference_clients_post() {
    use atlex_lexicons::app::bsky::feed::post::Post;
    use atlex_lexicons::app::bsky::richtext::facet::Tag;
    use atlex_lexicons::richtext::RichText;

    let entry = corpus_entry("post_mentions_links_tags");
    let (text, facets) = RichText::new()
        .text("✨ hi ")
        .mention(
            "@bob.test",
            "did:plc:vwzwgnygau7ed7b7wt5ux7y2".parse().unwrap(),
        )
        .text(" and ")
        .mention(
            "@carol.example.com",
            "did:web:carol.example.com".parse().unwrap(),
        )
        .text(": see ")
        .link(
            "https://example.com/a/long-path?q=1",
            "https://example.com/a/long-path?q=1".parse().unwrap(),
        )
        .text(", ")
        .link("example.org", "https://example.org".parse().unwrap())
        .text(" too. ")
        .tag("atproto")
        .text(" ")
        .tag("ラスト")
        .text(" ")
        .annotated("$ATPR", Tag::new("$ATPR").into())
        .text(" 🦀")
        .into_parts();
    let post = Post::builder()
        .text(text)
        .created_at("2025-06-01T09:01:01.234Z".parse().unwrap())
        .build()
        .with_facets(facets)
        .with_langs(vec!["en".parse().unwrap()]);
    let written = serde_json::to_value(&post).unwrap();
    assert_eq!(first_difference(&entry["json"], &written, ""), None);
    assert_eq!(
        post.cid().unwrap().to_string(),
        entry["cid"].as_str().unwrap()
    );
}

/// Data kept whole decodes into the record dispatch, and into each type.
#[test]
fn unknown_data_decodes_into_the_record_dispatch() {
    use atlex_lexicons::app::bsky::feed::post::Post;
    let entry = corpus_entry("post_mentions_links_tags");
    let data = Unknown::from_json(entry["json"].clone()).unwrap();
    let Record::AppBskyFeedPost(post) = data.decode::<Record>().unwrap() else {
        panic!("not a post");
    };
    assert_eq!(*post, data.decode::<Post>().unwrap());
    // A type the bindings do not have stays data; one they have is checked.
    let other = Unknown::from_json(serde_json::json!({"$type": "com.example.x", "a": 1})).unwrap();
    assert!(matches!(other.decode::<Record>(), Ok(Record::Unknown(_))));
    let err = other.decode::<Post>().unwrap_err().to_string();
    assert!(err.contains("app.bsky.feed.post"), "{err}");
}
