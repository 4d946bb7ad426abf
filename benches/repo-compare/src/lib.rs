//! The repository both readers read: 100,000 records of four collections,
//! built with atlex's tree and signed, as a `getRepo` CAR. Everything is
//! derived from the record's index, so every run reads the same bytes.

use atlex_core::data::Value;
use atlex_core::types::{Cid, Did, Tid};
use atlex_identity::crypto::{Curve, PublicKey, SigningKey};
use atlex_repo::commit::UnsignedCommit;
use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst};
use atlex_repo::repo_car::write_repo_car;
use serde_json::json;

/// How many records the repository holds.
pub const RECORDS: usize = 100_000;

/// The account's DID.
pub const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

/// The key the commit is signed with (a fixed secp256k1 key: signatures are
/// deterministic, so is the CAR).
pub fn signing_key() -> SigningKey {
    SigningKey::from_hex(
        Curve::K256,
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
    )
    .expect("a valid key")
}

/// The key a reader checks the commit's signature against.
pub fn public_key() -> PublicKey {
    signing_key().public_key()
}

/// A small deterministic hash of `i` (splitmix64), for varied fields.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A `did:plc` of 24 base32 characters made from `n`.
fn did_of(n: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let (mut a, mut b) = (mix(n), mix(n ^ 0x5555));
    let mut did = String::from("did:plc:");
    for k in 0..24 {
        let bits = if k < 12 { &mut a } else { &mut b };
        did.push(ALPHABET[(*bits & 31) as usize] as char);
        *bits >>= 5;
    }
    did
}

/// A datetime `i` seconds into 2024 (months of 28 days keep it simple).
fn datetime(i: u64) -> String {
    let (seconds, minutes, hours, days) = (i % 60, i / 60 % 60, i / 3600 % 24, i / 86_400);
    format!(
        "2024-{:02}-{:02}T{hours:02}:{minutes:02}:{seconds:02}.{:03}Z",
        days / 28 % 12 + 1,
        days % 28 + 1,
        mix(i) % 1000
    )
}

/// The record key of record `i`: TIDs a second apart, in insertion order.
fn rkey(i: u64) -> Tid {
    Tid::from_parts(1_700_000_000_000_000 + i * 1_000_003, (i % 1024) as u16)
        .expect("a timestamp in range")
}

/// A strong reference to someone's post.
fn strong_ref(n: u64) -> serde_json::Value {
    json!({
        "uri": format!("at://{}/app.bsky.feed.post/{}", did_of(n % 5_000), rkey(mix(n) % 1_000_000)),
        "cid": Cid::of_dag_cbor(&n.to_be_bytes()).to_string(),
    })
}

/// Post `i`: text, and in turns facets (mentions, links, tags), an images,
/// external or quote embed, a reply, languages.
fn post(i: u64) -> serde_json::Value {
    let h = mix(i);
    let mention = did_of(h % 5_000);
    let text = format!(
        "Post number {i} mentions @friend.example.com, links https://example.com/{h:x} and #rust. \
         A few more words, so that the text is about as long as posts are."
    );
    let mention_at = text.find("@friend").expect("in the text");
    let link_at = text.find("https://").expect("in the text");
    let link_end = link_at + text[link_at..].find(' ').expect("a space after it");
    let tag_at = text.find("#rust").expect("in the text");
    let mut record = json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": datetime(i),
        "langs": ["en"],
    });
    if !h.is_multiple_of(3) {
        record["facets"] = json!([
            {
                "index": {"byteStart": mention_at, "byteEnd": mention_at + 19},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": mention}],
            },
            {
                "index": {"byteStart": link_at, "byteEnd": link_end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": &text[link_at..link_end]}],
            },
            {
                "index": {"byteStart": tag_at, "byteEnd": tag_at + 5},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "rust"}],
            },
        ]);
    }
    match h % 5 {
        0 => {
            let image = |k: u64| {
                json!({
                    "alt": format!("picture {k} of post {i}"),
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": Cid::of_raw(&(i * 4 + k).to_be_bytes()).to_string()},
                        "mimeType": "image/jpeg",
                        "size": 100_000 + mix(i + k) % 900_000,
                    },
                    "aspectRatio": {"width": 1200, "height": 800},
                })
            };
            let images: Vec<_> = (0..1 + h / 5 % 3).map(image).collect();
            record["embed"] = json!({"$type": "app.bsky.embed.images", "images": images});
        }
        1 => {
            record["embed"] = json!({
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": format!("https://example.com/articles/{h:x}"),
                    "title": format!("An article, number {i}"),
                    "description": "What the article is about, in a sentence or two.",
                },
            });
        }
        2 => {
            record["embed"] = json!({"$type": "app.bsky.embed.record", "record": strong_ref(h)});
        }
        _ => {}
    }
    if h.is_multiple_of(7) {
        record["reply"] = json!({"root": strong_ref(h + 1), "parent": strong_ref(h + 2)});
    }
    record
}

/// Record `i` and its collection: posts, likes, reposts, follows in the
/// proportions 3 : 4 : 1 : 2.
fn record(i: u64) -> (&'static str, serde_json::Value) {
    match i % 10 {
        0..=2 => ("app.bsky.feed.post", post(i)),
        3..=6 => (
            "app.bsky.feed.like",
            json!({"$type": "app.bsky.feed.like", "subject": strong_ref(mix(i)), "createdAt": datetime(i)}),
        ),
        7 => (
            "app.bsky.feed.repost",
            json!({"$type": "app.bsky.feed.repost", "subject": strong_ref(mix(i)), "createdAt": datetime(i)}),
        ),
        _ => (
            "app.bsky.graph.follow",
            json!({"$type": "app.bsky.graph.follow", "subject": did_of(mix(i) % 50_000), "createdAt": datetime(i)}),
        ),
    }
}

/// Every record's path and value.
pub fn values(n: usize) -> Vec<(String, Value)> {
    (0..n as u64)
        .map(|i| {
            let (collection, json) = record(i);
            let value = Value::from_json(json).expect("a data model value");
            (format!("{collection}/{}", rkey(i)), value)
        })
        .collect()
}

/// Every record's path and DAG-CBOR.
pub fn records(n: usize) -> Vec<(String, Vec<u8>)> {
    values(n)
        .into_iter()
        .map(|(path, value)| {
            let bytes = atlex_core::cbor::to_vec(&value).expect("a value encodes");
            (path, bytes)
        })
        .collect()
}

/// The repository as a `getRepo` CAR: its signed commit, its nodes and its
/// records, in the order a reader walks them.
pub fn repository_car(n: usize) -> Vec<u8> {
    let store = MemoryBlockStore::new();
    let mut tree = Mst::new(&store);
    for (path, bytes) in records(n) {
        let cid = Cid::of_dag_cbor(&bytes);
        store
            .put(&cid, bytes.into())
            .expect("the CID is the record's");
        tree = tree.insert(&path, cid).expect("a new key");
    }
    let data = tree.write().expect("the store takes the nodes");
    let rev = Tid::from_parts(1_800_000_000_000_000, 0).expect("a timestamp in range");
    let did = Did::new(DID).expect("a valid DID");
    let commit = UnsignedCommit::new(did, data, rev).sign(&signing_key());
    store
        .put(&commit.cid(), commit.to_bytes().into())
        .expect("the CID is the commit's");
    write_repo_car(&store, &commit.cid(), Vec::new()).expect("every block is there")
}
