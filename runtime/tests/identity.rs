//! `atlex::identity` against local mocks: a DNS server on a UDP socket of
//! 127.0.0.1 answering TXT queries, and one axum server playing the PLC
//! directory, `did:web` hosts and handles' well-known files (the HTTP client
//! sends every test host to it). Nothing touches the network.

#![cfg(feature = "identity")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atlex::identity::{IdentityError, Resolver};
use atlex::types::{AtIdentifier, Did, Handle};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::TXT;
use hickory_resolver::proto::rr::{RData, Record};

const ALICE: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const BOB: &str = "did:plc:bobbobbobbobbobbobbobbob";
const ALICE_KEY: &str = "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF";

/// Hosts the HTTP client sends to the mock server.
const HOSTS: &[&str] = &[
    "alice.test",
    "bob.test",
    "nobody.test",
    "both.test",
    "web.test",
    "redirect.test",
    "big.test",
    "slow.test",
];

/// What the mock HTTP server answers at a path.
#[derive(Clone)]
enum Reply {
    Json(serde_json::Value),
    Text(&'static str),
    Status(u16),
    Redirect(&'static str),
    /// This many bytes, announced in `Content-Length`.
    Sized(usize),
    /// This many bytes, streamed without a length.
    Streamed(usize),
    /// Nothing, ever.
    Hang,
}

#[derive(Default)]
struct Http {
    /// `host path` → reply (`127.0.0.1 /did:plc:…` for the directory).
    replies: Mutex<HashMap<String, Reply>>,
    /// Requests received per `host path`.
    hits: Mutex<HashMap<String, usize>>,
    /// Bytes of streamed bodies handed to the server so far.
    streamed: AtomicUsize,
}

impl Http {
    fn set(&self, host: &str, path: &str, reply: Reply) {
        self.replies
            .lock()
            .unwrap()
            .insert(format!("{host} {path}"), reply);
    }

    fn hits(&self, host: &str, path: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .get(&format!("{host} {path}"))
            .copied()
            .unwrap_or(0)
    }
}

async fn answer(
    State(http): State<Arc<Http>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_owned();
    let key = format!("{host} /{path}");
    *http.hits.lock().unwrap().entry(key.clone()).or_default() += 1;
    let reply = http.replies.lock().unwrap().get(&key).cloned();
    match reply {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Reply::Json(value)) => axum::Json(value).into_response(),
        Some(Reply::Text(text)) => text.into_response(),
        Some(Reply::Status(status)) => StatusCode::from_u16(status).unwrap().into_response(),
        Some(Reply::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Some(Reply::Sized(n)) => vec![b' '; n].into_response(),
        Some(Reply::Streamed(n)) => {
            let chunk = 16 * 1024;
            let chunks = n.div_ceil(chunk);
            let stream = futures_util::stream::iter(0..chunks).map(move |_| {
                http.streamed.fetch_add(chunk, Ordering::SeqCst);
                Ok::<_, std::io::Error>(vec![b' '; chunk])
            });
            Response::new(Body::from_stream(stream))
        }
        Some(Reply::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

use futures_util::StreamExt as _;

/// The mock DNS server's TXT records, by lowercase name without the final
/// dot; `hang` makes it read queries and never answer.
#[derive(Default)]
struct Dns {
    records: Mutex<HashMap<String, Vec<Vec<&'static [u8]>>>>,
    hang: std::sync::atomic::AtomicBool,
    queries: AtomicUsize,
}

impl Dns {
    fn txt(&self, name: &str, value: &'static str) {
        self.txt_parts(name, vec![value.as_bytes()]);
    }

    fn txt_parts(&self, name: &str, parts: Vec<&'static [u8]>) {
        self.records
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .push(parts);
    }
}

async fn serve_dns(dns: Arc<Dns>) -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            dns.queries.fetch_add(1, Ordering::SeqCst);
            if dns.hang.load(Ordering::SeqCst) {
                continue;
            }
            let mut response = Message::response(query.metadata.id, query.metadata.op_code);
            response.metadata.recursion_desired = query.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.add_queries(query.queries.clone());
            if let Some(question) = query.queries.first() {
                let name = question
                    .name()
                    .to_ascii()
                    .trim_end_matches('.')
                    .to_lowercase();
                match dns.records.lock().unwrap().get(&name) {
                    Some(values) => {
                        for parts in values {
                            response.add_answer(Record::from_rdata(
                                question.name().clone(),
                                60,
                                RData::TXT(TXT::from_bytes(parts.clone())),
                            ));
                        }
                    }
                    None => response.metadata.response_code = ResponseCode::NXDomain,
                }
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), peer).await;
        }
    });
    addr
}

struct Mocks {
    http: Arc<Http>,
    dns: Arc<Dns>,
    http_addr: SocketAddr,
    dns_addr: SocketAddr,
}

impl Mocks {
    async fn start() -> Self {
        let http = Arc::new(Http::default());
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::get(answer))
            .with_state(Arc::clone(&http));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http_addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let dns = Arc::new(Dns::default());
        let dns_addr = serve_dns(Arc::clone(&dns)).await;
        Self {
            http,
            dns,
            http_addr,
            dns_addr,
        }
    }

    fn builder(&self) -> atlex::identity::ResolverBuilder {
        let mut client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        for host in HOSTS {
            client = client.resolve(host, self.http_addr);
        }
        Resolver::builder()
            .plc_directory(format!("http://{}", self.http_addr))
            .dns_server(self.dns_addr)
            .plain_http(true)
            .timeout(Duration::from_millis(500))
            .http_client(client.build().unwrap())
    }

    fn resolver(&self) -> Resolver {
        self.builder().build().unwrap()
    }

    /// Publishes `did`'s document in the directory.
    fn plc(&self, did: &str, document: serde_json::Value) {
        self.http
            .set("127.0.0.1", &format!("/{did}"), Reply::Json(document));
    }
}

fn document(did: &str, handle: &str) -> serde_json::Value {
    serde_json::json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [format!("at://{handle}")],
        "verificationMethod": [{
            "id": format!("{did}#atproto"),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": ALICE_KEY,
        }],
        "service": [{
            "id": "#atproto_pds",
            "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": "https://pds.example.com",
        }],
    })
}

fn did(text: &str) -> Did {
    Did::new(text).unwrap()
}

fn handle(text: &str) -> Handle {
    Handle::new(text).unwrap()
}

fn identifier(text: &str) -> AtIdentifier {
    AtIdentifier::new(text).unwrap()
}

#[tokio::test]
async fn a_handle_in_dns_checks_out_both_ways() {
    let mocks = Mocks::start().await;
    mocks.dns.txt("_atproto.alice.test", "v=something-else");
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    );
    mocks.plc(ALICE, document(ALICE, "Alice.test"));
    let resolver = mocks.resolver();

    let identity = resolver.resolve(&identifier("ALICE.test")).await.unwrap();
    assert_eq!(identity.did, did(ALICE));
    assert_eq!(
        identity.handle.as_ref().map(Handle::as_str),
        Some("Alice.test")
    );
    assert_eq!(identity.handle_problem, None);
    assert_eq!(identity.signing_key().unwrap().to_multikey(), ALICE_KEY);
    assert_eq!(identity.pds().unwrap(), "https://pds.example.com");

    // From the DID, the claimed handle is resolved back.
    let identity = resolver.resolve(&identifier(ALICE)).await.unwrap();
    assert_eq!(
        identity.handle.as_ref().map(Handle::as_str),
        Some("Alice.test")
    );
}

#[tokio::test]
async fn txt_strings_of_one_record_are_joined() {
    let mocks = Mocks::start().await;
    mocks.dns.txt_parts(
        "_atproto.alice.test",
        vec![b"did=did:plc:ewvi7nx", b"zyoun6zhxrhs64oiz"],
    );
    let resolver = mocks.resolver();
    assert_eq!(
        resolver
            .resolve_handle(&handle("alice.test"))
            .await
            .unwrap(),
        did(ALICE)
    );
}

#[tokio::test]
async fn a_handle_without_dns_resolves_over_https() {
    let mocks = Mocks::start().await;
    mocks.http.set(
        "bob.test",
        "/.well-known/atproto-did",
        Reply::Text("  did:plc:bobbobbobbobbobbobbobbob\n"),
    );
    mocks.plc(BOB, document(BOB, "bob.test"));
    let identity = mocks
        .resolver()
        .resolve(&identifier("bob.test"))
        .await
        .unwrap();
    assert_eq!(identity.did, did(BOB));
    assert_eq!(
        identity.handle.as_ref().map(Handle::as_str),
        Some("bob.test")
    );

    // Redirects are followed for the well-known file.
    mocks.http.set(
        "redirect.test",
        "/.well-known/atproto-did",
        Reply::Redirect("http://bob.test/.well-known/atproto-did"),
    );
    assert_eq!(
        mocks
            .resolver()
            .resolve_handle(&handle("redirect.test"))
            .await
            .unwrap(),
        did(BOB)
    );
}

#[tokio::test]
async fn dns_wins_when_the_methods_disagree() {
    let mocks = Mocks::start().await;
    mocks
        .dns
        .txt("_atproto.both.test", "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz");
    mocks.http.set(
        "both.test",
        "/.well-known/atproto-did",
        Reply::Text("did:plc:bobbobbobbobbobbobbobbob"),
    );
    let resolver = mocks.resolver();
    assert_eq!(
        resolver.resolve_handle(&handle("both.test")).await.unwrap(),
        did(ALICE)
    );
}

#[tokio::test]
async fn several_dids_in_dns_are_ambiguous() {
    let mocks = Mocks::start().await;
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    );
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:bobbobbobbobbobbobbobbob",
    );
    let err = mocks
        .resolver()
        .resolve_handle(&handle("alice.test"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, IdentityError::AmbiguousHandle { dids, .. } if dids.len() == 2),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_handle_says_what_each_method_found() {
    let mocks = Mocks::start().await;
    mocks.http.set(
        "nobody.test",
        "/.well-known/atproto-did",
        Reply::Text("<html>parked domain</html>"),
    );
    let err = mocks
        .resolver()
        .resolve_handle(&handle("nobody.test"))
        .await
        .unwrap_err();
    let IdentityError::HandleNotFound { dns, https, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(dns.contains("no TXT record"), "{dns}");
    assert!(https.contains("not a DID"), "{https}");
    // The message names both.
    let text = err.to_string();
    assert!(
        text.contains("nobody.test") && text.contains("DNS") && text.contains("HTTPS"),
        "{text}"
    );
}

#[tokio::test]
async fn a_handle_the_document_does_not_claim_is_not_verified() {
    let mocks = Mocks::start().await;
    // mallory.test points at alice, whose document claims alice.test.
    mocks
        .dns
        .txt("_atproto.bob.test", "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz");
    mocks.plc(ALICE, document(ALICE, "alice.test"));
    let identity = mocks
        .resolver()
        .resolve(&identifier("bob.test"))
        .await
        .unwrap();
    assert_eq!(identity.did, did(ALICE));
    assert_eq!(identity.handle, None);
    match identity.handle_problem {
        Some(IdentityError::HandleMismatch {
            handle, claimed, ..
        }) => {
            assert_eq!(handle, "bob.test");
            assert_eq!(claimed.as_deref(), Some("alice.test"));
        }
        other => panic!("{other:?}"),
    }

    // The other way: bob's document claims alice.test, which is alice's.
    mocks.plc(BOB, document(BOB, "alice.test"));
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    );
    let identity = mocks.resolver().resolve(&identifier(BOB)).await.unwrap();
    assert_eq!(identity.handle, None);
    let problem = identity.handle_problem.unwrap();
    assert!(
        matches!(&problem, IdentityError::HandleMismatch { resolves_to: Some(to), .. } if to == ALICE),
        "{problem:?}"
    );
    assert!(
        problem.to_string().contains("resolves to did:plc:ewvi7"),
        "{problem}"
    );

    // A document with no handle at all.
    let mut no_handle = document(BOB, "x.test");
    no_handle["alsoKnownAs"] = serde_json::json!([]);
    mocks.plc(BOB, no_handle);
    let identity = mocks.resolver().resolve(&identifier(BOB)).await.unwrap();
    assert!(matches!(
        identity.handle_problem,
        Some(IdentityError::NoHandle { .. })
    ));
}

#[tokio::test]
async fn broken_documents_are_specific_errors() {
    let mocks = Mocks::start().await;
    let resolver = mocks.resolver();

    let mut no_key = document(ALICE, "alice.test");
    no_key["verificationMethod"] = serde_json::json!([]);
    mocks.plc(ALICE, no_key);
    let err = resolver.signing_key(&did(ALICE), true).await.unwrap_err();
    assert!(matches!(err, IdentityError::NoKey { .. }), "{err:?}");

    let mut bad_key = document(ALICE, "alice.test");
    bad_key["verificationMethod"][0]["publicKeyMultibase"] = "zNotAKey".into();
    mocks.plc(ALICE, bad_key);
    let err = resolver.signing_key(&did(ALICE), true).await.unwrap_err();
    assert!(matches!(err, IdentityError::BadKey { .. }), "{err:?}");

    mocks.plc(
        ALICE,
        serde_json::json!({"id": ALICE, "service": "not a list"}),
    );
    let err = resolver.refresh_did(&did(ALICE)).await.unwrap_err();
    assert!(
        matches!(&err, IdentityError::MalformedDocument { reason, .. } if reason.starts_with("service")),
        "{err:?}"
    );

    mocks.plc(ALICE, document(BOB, "bob.test"));
    let err = resolver.refresh_did(&did(ALICE)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::WrongDocument { .. }),
        "{err:?}"
    );

    let err = resolver.resolve_did(&did(BOB)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::DidNotFound { status: 404, .. }),
        "{err:?}"
    );

    mocks
        .http
        .set("127.0.0.1", &format!("/{BOB}"), Reply::Status(503));
    let err = resolver.resolve_did(&did(BOB)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::Http { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());

    mocks.http.set(
        "127.0.0.1",
        &format!("/{BOB}"),
        Reply::Redirect("/did:plc:ewvi7nxzyoun6zhxrhs64oiz"),
    );
    let err = resolver.resolve_did(&did(BOB)).await.unwrap_err();
    assert!(matches!(err, IdentityError::Http { .. }), "{err:?}");
}

#[tokio::test]
async fn did_web_documents() {
    let mocks = Mocks::start().await;
    let web = "did:web:web.test";
    mocks.http.set(
        "web.test",
        "/.well-known/did.json",
        Reply::Json(document(web, "web.test")),
    );
    let resolver = mocks.resolver();
    let doc = resolver.resolve_did(&did(web)).await.unwrap();
    assert_eq!(doc.pds(), Some("https://pds.example.com"));

    let err = resolver
        .resolve_did(&did("did:web:nobody.test"))
        .await
        .unwrap_err();
    assert!(matches!(err, IdentityError::DidNotFound { .. }), "{err:?}");

    // localhost is plain HTTP whatever the setting, as in the reference
    // implementation.
    let local = format!("did:web:localhost%3A{}", mocks.http_addr.port());
    mocks.http.set(
        "localhost",
        "/.well-known/did.json",
        Reply::Json(document(&local, "web.test")),
    );
    let resolver = mocks.builder().plain_http(false).build().unwrap();
    assert_eq!(resolver.resolve_did(&did(&local)).await.unwrap().id, local);
}

#[tokio::test]
async fn a_ten_megabyte_answer_is_refused_without_reading_it() {
    let mocks = Mocks::start().await;
    let resolver = mocks.resolver();
    let ten_mb = 10 * 1024 * 1024;

    mocks
        .http
        .set("127.0.0.1", &format!("/{ALICE}"), Reply::Sized(ten_mb));
    let err = resolver.resolve_did(&did(ALICE)).await.unwrap_err();
    assert!(
        matches!(err, IdentityError::TooLarge { limit: 65536, .. }),
        "{err:?}"
    );

    // Without a Content-Length, reading stops at the limit.
    mocks
        .http
        .set("127.0.0.1", &format!("/{ALICE}"), Reply::Streamed(ten_mb));
    let err = resolver.resolve_did(&did(ALICE)).await.unwrap_err();
    assert!(matches!(err, IdentityError::TooLarge { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let streamed = mocks.http.streamed.load(Ordering::SeqCst);
    assert!(
        streamed < ten_mb,
        "the server produced all {streamed} bytes"
    );

    // Same for a handle's well-known file, whose limit is 4 KiB.
    mocks.http.set(
        "big.test",
        "/.well-known/atproto-did",
        Reply::Streamed(ten_mb),
    );
    let err = resolver
        .resolve_handle(&handle("big.test"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, IdentityError::TooLarge { limit: 4096, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_resolver_that_hangs_times_out() {
    let mocks = Mocks::start().await;
    let resolver = mocks.resolver();
    mocks
        .http
        .set("127.0.0.1", &format!("/{ALICE}"), Reply::Hang);
    let started = Instant::now();
    let err = resolver.resolve_did(&did(ALICE)).await.unwrap_err();
    assert!(matches!(err, IdentityError::Timeout { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5));

    // A DNS server that never answers, and a web server that hangs: the
    // handle does not resolve, each method saying why.
    mocks.dns.hang.store(true, Ordering::SeqCst);
    mocks
        .http
        .set("slow.test", "/.well-known/atproto-did", Reply::Hang);
    let err = resolver
        .resolve_handle(&handle("slow.test"))
        .await
        .unwrap_err();
    let IdentityError::HandleNotFound { dns, https, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(mocks.dns.queries.load(Ordering::SeqCst) > 0);
    assert!(
        dns.contains("no answer") || dns.contains("timed out") || dns.contains("time"),
        "{dns}"
    );
    assert!(https.contains("no answer within"), "{https}");

    // While DNS hangs, HTTPS still answers.
    mocks.http.set(
        "bob.test",
        "/.well-known/atproto-did",
        Reply::Text("did:plc:bobbobbobbobbobbobbobbob"),
    );
    assert_eq!(
        resolver.resolve_handle(&handle("bob.test")).await.unwrap(),
        did(BOB)
    );
}

#[tokio::test]
async fn documents_and_handles_are_cached_for_their_ttl() {
    let mocks = Mocks::start().await;
    mocks.dns.txt(
        "_atproto.alice.test",
        "did=did:plc:ewvi7nxzyoun6zhxrhs64oiz",
    );
    mocks.plc(ALICE, document(ALICE, "alice.test"));
    let path = format!("/{ALICE}");

    let resolver = mocks.resolver();
    for _ in 0..3 {
        resolver.resolve(&identifier("alice.test")).await.unwrap();
    }
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 1);
    let queries = mocks.dns.queries.load(Ordering::SeqCst);
    resolver
        .resolve_handle(&handle("alice.test"))
        .await
        .unwrap();
    assert_eq!(mocks.dns.queries.load(Ordering::SeqCst), queries);

    // A refresh goes to the directory, and the cache keeps what it got.
    resolver.refresh_did(&did(ALICE)).await.unwrap();
    resolver.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 2);

    // Past the TTL, entries are fetched again.
    let short = mocks
        .builder()
        .cache(Duration::from_millis(200), 100)
        .build()
        .unwrap();
    short.resolve_did(&did(ALICE)).await.unwrap();
    short.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 3);
    tokio::time::sleep(Duration::from_millis(400)).await;
    short.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 4);

    // With no cache, every call fetches.
    let none = mocks
        .builder()
        .cache(Duration::from_secs(60), 0)
        .build()
        .unwrap();
    none.resolve_did(&did(ALICE)).await.unwrap();
    none.resolve_did(&did(ALICE)).await.unwrap();
    assert_eq!(mocks.http.hits("127.0.0.1", &path), 6);
}
