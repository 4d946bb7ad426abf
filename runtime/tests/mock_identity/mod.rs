//! Stand-ins for the network that answer what a test sets, including what
//! the test identity network (`identity::testkit`) never answers: TXT
//! records in several strings or several DIDs, bodies that are not DIDs or
//! not documents, error statuses, redirects, oversized and endless bodies,
//! and servers that never answer. A DNS server on a UDP socket of 127.0.0.1
//! answering TXT queries, and one axum server playing the PLC directory and
//! handles' well-known files (the resolver's HTTP client sends every test
//! host to it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atlex::identity::Resolver;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::TXT;
use hickory_resolver::proto::rr::{RData, Record};

pub(crate) const ALICE: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
pub(crate) const BOB: &str = "did:plc:bobbobbobbobbobbobbobbob";
pub(crate) const ALICE_KEY: &str = "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF";

/// Hosts the HTTP client sends to the mock server.
pub(crate) const HOSTS: &[&str] = &[
    "alice.test",
    "bob.test",
    "nobody.test",
    "redirect.test",
    "big.test",
    "slow.test",
];

/// What the mock HTTP server answers at a path.
#[derive(Clone)]
pub(crate) enum Reply {
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
pub(crate) struct Http {
    /// `host path` → reply (`127.0.0.1 /did:plc:…` for the directory).
    pub replies: Mutex<HashMap<String, Reply>>,
    /// Requests received per `host path`.
    pub hits: Mutex<HashMap<String, usize>>,
    /// Bytes of streamed bodies handed to the server so far.
    pub streamed: AtomicUsize,
}

impl Http {
    pub(crate) fn set(&self, host: &str, path: &str, reply: Reply) {
        self.replies
            .lock()
            .unwrap()
            .insert(format!("{host} {path}"), reply);
    }

    pub(crate) fn hits(&self, host: &str, path: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .get(&format!("{host} {path}"))
            .copied()
            .unwrap_or(0)
    }
}

pub(crate) async fn answer(
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

/// The mock DNS server's TXT records, by lowercase name without the final
/// dot; `hang` makes it read queries and never answer.
#[derive(Default)]
pub(crate) struct Dns {
    pub records: Mutex<HashMap<String, Vec<Vec<&'static [u8]>>>>,
    pub hang: std::sync::atomic::AtomicBool,
    pub queries: AtomicUsize,
}

impl Dns {
    pub(crate) fn txt(&self, name: &str, value: &'static str) {
        self.txt_parts(name, vec![value.as_bytes()]);
    }

    pub(crate) fn txt_parts(&self, name: &str, parts: Vec<&'static [u8]>) {
        self.records
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .push(parts);
    }
}

pub(crate) async fn serve_dns(dns: Arc<Dns>) -> SocketAddr {
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

pub(crate) struct Mocks {
    pub http: Arc<Http>,
    pub dns: Arc<Dns>,
    pub http_addr: SocketAddr,
    pub dns_addr: SocketAddr,
}

impl Mocks {
    pub(crate) async fn start() -> Self {
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

    pub(crate) fn builder(&self) -> atlex::identity::ResolverBuilder {
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

    pub(crate) fn resolver(&self) -> Resolver {
        self.builder().build().unwrap()
    }

    /// Publishes `did`'s document in the directory.
    pub(crate) fn plc(&self, did: &str, document: serde_json::Value) {
        self.http
            .set("127.0.0.1", &format!("/{did}"), Reply::Json(document));
    }
}

pub(crate) fn document(did: &str, handle: &str) -> serde_json::Value {
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
