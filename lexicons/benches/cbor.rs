//! DAG-CBOR through the generated types against the untyped baseline, in the
//! same run:
//!
//! - encode + CID of an `app.bsky.feed.post` with facets and an images embed
//!   (`post.cid()`), against `serde_ipld_dagcbor::to_vec` of the same value
//!   as an `Ipld` tree + sha2-256;
//! - reading a CAR of 1,000 record blocks (posts, likes, reposts, follows,
//!   blocks, profiles, lists, list items, threadgates) and decoding every
//!   block into the generated record types, against the same read decoding
//!   every block into `Ipld`; and the decoding alone, from blocks already
//!   read.
//!
//! Goal: the typed side at least as fast (ratio ≥ 1.0).
//!
//! `cargo bench -p atlex-lexicons --bench cbor`

use atlex::car::{Car, CarWriter};
use atlex::cbor;
use atlex::cid::Cid;
use atlex::data::{Record, Unknown, Value};
use atlex_lexicons::app::bsky::{actor, feed, graph};
use divan::Bencher;
use ipld_core::ipld::Ipld;
use sha2::Digest as _;

fn main() {
    divan::main();
}

fn ts_records() -> Vec<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ts_records.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::from_str::<Vec<serde_json::Value>>(&text)
        .unwrap_or_default()
        .into_iter()
        .map(|r| r["json"].clone())
        .collect()
}

fn post() -> feed::post::Post {
    let json = ts_records().into_iter().next().unwrap_or_default();
    serde_json::from_value(json).unwrap()
}

/// The CID of bytes, as the baseline computes it: sha2-256 and CIDv1.
fn ipld_cid(bytes: &[u8]) -> Cid {
    let digest = sha2::Sha256::digest(bytes);
    Cid::new_v1(
        0x71,
        atlex::cid::multihash::Multihash::wrap(0x12, &digest).unwrap(),
    )
}

#[divan::bench(sample_count = 2000)]
fn encode_cid_typed(bencher: Bencher) {
    let post = post();
    bencher.bench(|| divan::black_box(&post).cid().unwrap());
}

#[divan::bench(sample_count = 2000)]
fn encode_cid_ipld(bencher: Bencher) {
    let post = post();
    let ipld: Ipld = serde_ipld_dagcbor::from_slice(&post.to_cbor().unwrap()).unwrap();
    assert_eq!(
        ipld_cid(&serde_ipld_dagcbor::to_vec(&ipld).unwrap()),
        *post.cid().unwrap().as_cid()
    );
    bencher.bench(|| ipld_cid(&serde_ipld_dagcbor::to_vec(divan::black_box(&ipld)).unwrap()));
}

/// Any of the record types in the CAR, chosen by `$type`, as an application
/// reading a repository would decode them.
#[derive(Debug, atlex::rt::Union)]
#[allow(dead_code)]
enum AnyRecord {
    #[lex("app.bsky.feed.post")]
    Post(Box<feed::post::Post>),
    #[lex("app.bsky.feed.like")]
    Like(Box<feed::like::Like>),
    #[lex("app.bsky.feed.repost")]
    Repost(Box<feed::repost::Repost>),
    #[lex("app.bsky.feed.threadgate")]
    Threadgate(Box<feed::threadgate::Threadgate>),
    #[lex("app.bsky.graph.follow")]
    Follow(Box<graph::follow::Follow>),
    #[lex("app.bsky.graph.block")]
    Block(Box<graph::block::Block>),
    #[lex("app.bsky.graph.list")]
    List(Box<graph::list::List>),
    #[lex("app.bsky.graph.listitem")]
    Listitem(Box<graph::listitem::Listitem>),
    #[lex("app.bsky.actor.profile")]
    Profile(Box<actor::profile::Profile>),
    #[lex(unknown)]
    Unknown(Unknown),
}

/// A CAR of 1,000 record blocks: the TypeScript fixtures' records of the
/// types above, each made distinct by its `createdAt`, weighted roughly as
/// in a repository (likes most, then posts, reposts, follows).
fn car() -> Vec<u8> {
    let weights = [
        ("app.bsky.feed.like", 40),
        ("app.bsky.feed.post", 25),
        ("app.bsky.feed.repost", 12),
        ("app.bsky.graph.follow", 12),
        ("app.bsky.graph.block", 3),
        ("app.bsky.graph.listitem", 4),
        ("app.bsky.graph.list", 1),
        ("app.bsky.feed.threadgate", 2),
        ("app.bsky.actor.profile", 1),
    ];
    let records = ts_records();
    let mut pool = Vec::new();
    for (nsid, weight) in weights {
        let of_type: Vec<_> = records.iter().filter(|r| r["$type"] == nsid).collect();
        for i in 0..weight {
            pool.push(of_type[i % of_type.len()].clone());
        }
    }
    let mut writer = CarWriter::new(Vec::new()).unwrap();
    let mut last = None;
    for i in 0..1000 {
        let mut json = pool[i % pool.len()].clone();
        json["createdAt"] =
            format!("2024-01-01T00:{:02}:{:02}.{:03}Z", i / 600, i / 10 % 60, i).into();
        let value = Value::from_json(json).unwrap();
        last = Some(writer.write_value(&value).unwrap());
    }
    writer.finish_with_roots(&[last.unwrap()]).unwrap()
}

#[divan::bench(sample_count = 100)]
fn car_decode_typed(bencher: Bencher) {
    let bytes = car();
    bencher.bench(|| {
        let car = Car::from_slice(divan::black_box(&bytes)).unwrap();
        let records: Vec<AnyRecord> = car
            .blocks
            .iter()
            .map(|(_, data)| cbor::from_slice(data).unwrap())
            .collect();
        assert!(!records.iter().any(|r| matches!(r, AnyRecord::Unknown(_))));
        records
    });
}

#[divan::bench(sample_count = 100)]
fn car_decode_ipld(bencher: Bencher) {
    let bytes = car();
    bencher.bench(|| {
        let car = Car::from_slice(divan::black_box(&bytes)).unwrap();
        let records: Vec<Ipld> = car
            .blocks
            .iter()
            .map(|(_, data)| serde_ipld_dagcbor::from_slice(data).unwrap())
            .collect();
        records
    });
}

#[divan::bench(sample_count = 100)]
fn blocks_decode_typed(bencher: Bencher) {
    let bytes = car();
    let car = Car::from_slice(&bytes).unwrap();
    let blocks: Vec<&[u8]> = car.blocks.iter().map(|(_, data)| data).collect();
    assert_eq!(blocks.len(), 1000);
    bencher.bench(|| {
        divan::black_box(&blocks)
            .iter()
            .map(|data| cbor::from_slice::<AnyRecord>(data).unwrap())
            .collect::<Vec<_>>()
    });
}

#[divan::bench(sample_count = 100)]
fn blocks_decode_ipld(bencher: Bencher) {
    let bytes = car();
    let car = Car::from_slice(&bytes).unwrap();
    let blocks: Vec<&[u8]> = car.blocks.iter().map(|(_, data)| data).collect();
    bencher.bench(|| {
        divan::black_box(&blocks)
            .iter()
            .map(|data| serde_ipld_dagcbor::from_slice::<Ipld>(data).unwrap())
            .collect::<Vec<_>>()
    });
}
