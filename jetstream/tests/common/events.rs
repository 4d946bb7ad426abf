//! Jetstream v1 events as the network's traffic makes them: likes, posts
//! (rich text facets, images, links, quotes, replies), reposts, follows,
//! blocks, deletes, profile updates, identity and account events, in about
//! the proportions of the live stream, each record with its real CID.
//! Deterministic: the same seed makes the same events.

use atlex::types::{Cid, Tid};
use serde_json::{Value, json};

/// A small generator (xorshift64*): the events only need to vary, not to
/// be unpredictable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

fn did(rng: &mut Rng) -> String {
    let id: String = (0..24)
        .map(|_| BASE32[rng.below(32) as usize] as char)
        .collect();
    format!("did:plc:{id}")
}

fn tid(rng: &mut Rng, micros: u64) -> String {
    Tid::from_parts(micros - rng.below(2_000_000), rng.below(1024) as u16)
        .unwrap()
        .to_string()
}

fn cid(rng: &mut Rng) -> String {
    Cid::of_dag_cbor(&rng.next().to_le_bytes()).to_string()
}

fn blob(rng: &mut Rng, mime: &str) -> Value {
    json!({
        "$type": "blob",
        "ref": {"$link": Cid::of_raw(&rng.next().to_le_bytes()).to_string()},
        "mimeType": mime,
        "size": 20_000 + rng.below(900_000),
    })
}

fn datetime(micros: u64) -> String {
    // 2026-05-25T14:23:28.778Z and on: the date is fixed, the time moves.
    let millis = (micros / 1000) % 86_400_000;
    let (h, m, s, ms) = (
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000,
    );
    format!("2026-05-25T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

fn post_uri(rng: &mut Rng, micros: u64) -> String {
    format!(
        "at://{}/app.bsky.feed.post/{}",
        did(rng),
        tid(rng, micros - 3_600_000_000)
    )
}

fn strong_ref(rng: &mut Rng, micros: u64) -> Value {
    json!({"uri": post_uri(rng, micros), "cid": cid(rng)})
}

const WORDS: &[&str] = &[
    "the",
    "morning",
    "light",
    "over",
    "harbour",
    "was",
    "quiet",
    "again",
    "coffee",
    "first",
    "then",
    "everything",
    "else",
    "reading",
    "about",
    "protocols",
    "today",
    "what",
    "a",
    "week",
    "honestly",
    "new",
    "paper",
    "out",
    "garden",
    "finally",
    "blooming",
    "très",
    "bien",
    "día",
    "今日は",
    "良い",
    "天気",
    "🌱",
    "🎉",
];
/// For handles and link paths, which are ASCII.
const ASCII_WORDS: &[&str] = &["harbour", "garden", "reader", "morning", "paper", "light"];
const TAGS: &[&str] = &["art", "rustlang", "photography", "books", "gardening"];
const LANGS: &[&str] = &["en", "en", "en", "ja", "pt", "de", "es", "fr"];

/// Post text with facets whose byte ranges are right.
fn rich_text(rng: &mut Rng) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut facets = Vec::new();
    for _ in 0..3 + rng.below(25) {
        if !text.is_empty() {
            text.push(' ');
        }
        let start = text.len();
        match rng.below(20) {
            0 => {
                let handle = format!("{}.bsky.social", rng.pick(ASCII_WORDS));
                text.push('@');
                text.push_str(&handle);
                facets.push(json!({
                    "index": {"byteStart": start, "byteEnd": text.len()},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did(rng)}],
                }));
            }
            1 => {
                let uri = format!(
                    "https://example.com/{}/{}",
                    rng.pick(ASCII_WORDS),
                    rng.below(10_000)
                );
                text.push_str(&uri);
                facets.push(json!({
                    "index": {"byteStart": start, "byteEnd": text.len()},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
                }));
            }
            2 => {
                let tag = rng.pick(TAGS);
                text.push('#');
                text.push_str(tag);
                facets.push(json!({
                    "index": {"byteStart": start, "byteEnd": text.len()},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                }));
            }
            _ => text.push_str(rng.pick(WORDS)),
        }
    }
    (text, facets)
}

fn embed(rng: &mut Rng, micros: u64) -> Option<Value> {
    match rng.below(10) {
        0..=2 => {
            let images: Vec<Value> = (0..1 + rng.below(4))
                .map(|_| {
                    json!({
                        "alt": if rng.below(2) == 0 { "" } else { "a photo of the harbour at dawn" },
                        "image": blob(rng, "image/jpeg"),
                        "aspectRatio": {"width": 1000 + rng.below(3000), "height": 1000 + rng.below(3000)},
                    })
                })
                .collect();
            Some(json!({"$type": "app.bsky.embed.images", "images": images}))
        }
        3 => Some(json!({
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": format!("https://news.example.org/{}", rng.below(100_000)),
                "title": "A headline about something that happened",
                "description": "The first lines of the article, as the card shows them.",
                "thumb": blob(rng, "image/jpeg"),
            },
        })),
        4 => Some(json!({"$type": "app.bsky.embed.record", "record": strong_ref(rng, micros)})),
        _ => None,
    }
}

fn post(rng: &mut Rng, micros: u64) -> Value {
    let (text, facets) = rich_text(rng);
    let mut post = json!({
        "$type": "app.bsky.feed.post",
        "createdAt": datetime(micros),
        "langs": [rng.pick(LANGS)],
        "text": text,
    });
    if !facets.is_empty() {
        post["facets"] = Value::Array(facets);
    }
    if let Some(embed) = embed(rng, micros) {
        post["embed"] = embed;
    }
    if rng.below(3) == 0 {
        let root = strong_ref(rng, micros);
        let parent = if rng.below(2) == 0 {
            root.clone()
        } else {
            strong_ref(rng, micros)
        };
        post["reply"] = json!({"root": root, "parent": parent});
    }
    post
}

fn commit(
    rng: &mut Rng,
    micros: u64,
    operation: &str,
    collection: &str,
    record: Option<Value>,
) -> String {
    let rkey = if collection == "app.bsky.actor.profile" {
        "self".to_owned()
    } else {
        tid(rng, micros)
    };
    // Jetstream writes a commit's fields in this order, and the record's
    // keys sorted (as serde_json's maps are here).
    let (rev, rkey) = (tid(rng, micros), Value::String(rkey));
    let head = format!(
        r#""rev":"{rev}","operation":"{operation}","collection":"{collection}","rkey":{rkey}"#
    );
    match record {
        Some(record) => {
            let cid = atlex::cbor::cid_of(&atlex::data::Value::from_json(record.clone()).unwrap())
                .unwrap();
            format!(r#"{{{head},"record":{record},"cid":"{cid}"}}"#)
        }
        None => format!("{{{head}}}"),
    }
}

/// One event at `micros`, as Jetstream writes it.
pub fn event(rng: &mut Rng, micros: u64) -> String {
    let repo = did(rng);
    let at = datetime(micros);
    let (kind, payload) = match rng.below(100) {
        0..=44 => {
            let like = json!({"$type": "app.bsky.feed.like", "createdAt": at, "subject": strong_ref(rng, micros)});
            (
                "commit",
                commit(rng, micros, "create", "app.bsky.feed.like", Some(like)),
            )
        }
        45..=59 => {
            let post = post(rng, micros);
            (
                "commit",
                commit(rng, micros, "create", "app.bsky.feed.post", Some(post)),
            )
        }
        60..=69 => {
            let repost = json!({"$type": "app.bsky.feed.repost", "createdAt": at, "subject": strong_ref(rng, micros)});
            (
                "commit",
                commit(rng, micros, "create", "app.bsky.feed.repost", Some(repost)),
            )
        }
        70..=84 => {
            let follow =
                json!({"$type": "app.bsky.graph.follow", "createdAt": at, "subject": did(rng)});
            (
                "commit",
                commit(rng, micros, "create", "app.bsky.graph.follow", Some(follow)),
            )
        }
        85..=86 => {
            let block =
                json!({"$type": "app.bsky.graph.block", "createdAt": at, "subject": did(rng)});
            (
                "commit",
                commit(rng, micros, "create", "app.bsky.graph.block", Some(block)),
            )
        }
        87..=94 => {
            let collection = rng.pick(&[
                "app.bsky.feed.like",
                "app.bsky.feed.post",
                "app.bsky.graph.follow",
            ]);
            ("commit", commit(rng, micros, "delete", collection, None))
        }
        95 => {
            let profile = json!({
                "$type": "app.bsky.actor.profile",
                "avatar": blob(rng, "image/jpeg"),
                "createdAt": at,
                "description": "Writing about gardens, code and the sea. 🌱",
                "displayName": "Harbour Light",
            });
            (
                "commit",
                commit(
                    rng,
                    micros,
                    "update",
                    "app.bsky.actor.profile",
                    Some(profile),
                ),
            )
        }
        96..=97 => {
            let handle = format!("{}.bsky.social", rng.pick(&["harbour", "garden", "reader"]));
            (
                "identity",
                json!({"did": repo, "handle": handle, "seq": 30_340_000_000_u64 + rng.below(1_000_000), "time": at})
                    .to_string(),
            )
        }
        _ => {
            let mut account = json!({"active": true, "did": repo, "seq": 30_340_000_000_u64 + rng.below(1_000_000), "time": at});
            if rng.below(2) == 0 {
                account["active"] = Value::Bool(false);
                account["status"] = Value::String("deactivated".into());
            }
            ("account", account.to_string())
        }
    };
    format!(r#"{{"did":"{repo}","time_us":{micros},"kind":"{kind}","{kind}":{payload}}}"#)
}

/// `n` events, one every few hundred microseconds, as JSON text.
pub fn mix(n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut micros = 1_779_719_009_000_000_u64;
    (0..n)
        .map(|_| {
            micros += 50 + rng.below(600);
            event(&mut rng, micros)
        })
        .collect()
}

/// `micros` as a datetime with microseconds, on the date of [`mix`].
pub fn datetime_micros(micros: u64) -> String {
    let millis = datetime(micros);
    format!("{}{:03}Z", millis.trim_end_matches('Z'), micros % 1000)
}
