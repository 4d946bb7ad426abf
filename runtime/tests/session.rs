//! Password sessions against a mock PDS on loopback, found by resolving a
//! handle in the test identity network (`identity::testkit`): login, typed calls,
//! refresh on `ExpiredToken`, the session hook, resume, logout, and
//! `getServiceAuth`.

#![cfg(all(feature = "client", feature = "testkit"))]

use std::sync::{Arc, Mutex};

use atlex::client::{Error, Login, Session, SessionError, SessionEvent};
use atlex::identity::testkit::{Account, TestNetwork};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

const PASSWORD: &str = "correct horse";

/// The mock PDS's state: one account, its current tokens, and what it saw.
#[derive(Default)]
struct Pds {
    /// Alice's DID.
    alice: String,
    /// The DID createSession logs in (alice's unless a test changes it).
    account: Mutex<String>,
    access: Mutex<String>,
    refresh: Mutex<String>,
    issued: Mutex<u32>,
    /// `nsid atproto-proxy` of every request.
    seen: Mutex<Vec<String>>,
    /// Whether refreshSession refuses the refresh token.
    revoked: Mutex<bool>,
}

impl Pds {
    fn issue(&self) -> serde_json::Value {
        let mut issued = self.issued.lock().unwrap();
        *issued += 1;
        *self.access.lock().unwrap() = format!("access-{issued}");
        *self.refresh.lock().unwrap() = format!("refresh-{issued}");
        json!({
            "accessJwt": format!("access-{issued}"),
            "refreshJwt": format!("refresh-{issued}"),
            "handle": "alice.test",
            "did": *self.account.lock().unwrap(),
            "didDoc": {"id": self.alice},
            "email": "alice@example.com",
            "active": true,
        })
    }

    fn see(&self, nsid: &str, headers: &HeaderMap) {
        let proxy = headers
            .get("atproto-proxy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        self.seen.lock().unwrap().push(format!("{nsid} {proxy}"));
    }

    /// Expires the current access token.
    fn expire(&self) {
        *self.access.lock().unwrap() = "nothing-valid".to_owned();
    }
}

fn bearer(headers: &HeaderMap) -> String {
    atlex::binding::bearer_token(headers)
        .unwrap_or("")
        .to_owned()
}

fn error(status: StatusCode, name: &str) -> Response {
    (status, axum::Json(json!({"error": name, "message": name}))).into_response()
}

async fn create_session(
    State(pds): State<Arc<Pds>>,
    headers: HeaderMap,
    axum::Json(input): axum::Json<serde_json::Value>,
) -> Response {
    pds.see("createSession", &headers);
    if input["password"] != PASSWORD {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationRequired");
    }
    if input["identifier"] != *pds.account.lock().unwrap() && input["identifier"] != pds.alice {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationRequired");
    }
    axum::Json(pds.issue()).into_response()
}

async fn refresh_session(State(pds): State<Arc<Pds>>, headers: HeaderMap) -> Response {
    pds.see("refreshSession", &headers);
    if *pds.revoked.lock().unwrap() {
        return error(StatusCode::BAD_REQUEST, "ExpiredToken");
    }
    if bearer(&headers) != *pds.refresh.lock().unwrap() {
        return error(StatusCode::BAD_REQUEST, "InvalidToken");
    }
    axum::Json(pds.issue()).into_response()
}

async fn delete_session(State(pds): State<Arc<Pds>>, headers: HeaderMap) -> Response {
    pds.see("deleteSession", &headers);
    if bearer(&headers) != *pds.refresh.lock().unwrap() {
        return error(StatusCode::BAD_REQUEST, "InvalidToken");
    }
    *pds.revoked.lock().unwrap() = true;
    StatusCode::OK.into_response()
}

/// A call that needs the access token: answers the token's account.
async fn whoami(State(pds): State<Arc<Pds>>, headers: HeaderMap) -> Response {
    pds.see("whoami", &headers);
    if bearer(&headers) != *pds.access.lock().unwrap() {
        return error(StatusCode::BAD_REQUEST, "ExpiredToken");
    }
    axum::Json(json!({"did": *pds.account.lock().unwrap()})).into_response()
}

/// `createRecord` for the token's account: answers where the record went.
async fn create_record(
    State(pds): State<Arc<Pds>>,
    headers: HeaderMap,
    axum::Json(input): axum::Json<serde_json::Value>,
) -> Response {
    pds.see("createRecord", &headers);
    if bearer(&headers) != *pds.access.lock().unwrap() {
        return error(StatusCode::BAD_REQUEST, "ExpiredToken");
    }
    if input["repo"] != *pds.account.lock().unwrap() {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest");
    }
    let uri = format!(
        "at://{}/{}/3kabc",
        input["repo"].as_str().unwrap_or_default(),
        input["collection"].as_str().unwrap_or_default()
    );
    let cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
    axum::Json(json!({"uri": uri, "cid": cid})).into_response()
}

async fn get_service_auth(
    State(pds): State<Arc<Pds>>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    pds.see("getServiceAuth", &headers);
    if bearer(&headers) != *pds.access.lock().unwrap() {
        return error(StatusCode::BAD_REQUEST, "ExpiredToken");
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    axum::Json(json!({"token": query.join("&")})).into_response()
}

async fn start_pds(alice: &str) -> (Arc<Pds>, String) {
    let pds = Arc::new(Pds {
        alice: alice.to_owned(),
        account: Mutex::new(alice.to_owned()),
        ..Pds::default()
    });
    let app = axum::Router::new()
        .route(
            "/xrpc/com.atproto.server.createSession",
            post(create_session),
        )
        .route(
            "/xrpc/com.atproto.server.refreshSession",
            post(refresh_session),
        )
        .route(
            "/xrpc/com.atproto.server.deleteSession",
            post(delete_session),
        )
        .route(
            "/xrpc/com.atproto.server.getServiceAuth",
            get(get_service_auth),
        )
        .route("/xrpc/com.example.whoami", get(whoami))
        .route("/xrpc/com.atproto.repo.createRecord", post(create_record))
        .with_state(Arc::clone(&pds));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (pds, url)
}

/// `com.example.whoami`: the caller's DID.
mod whoami {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(query = "com.example.whoami", output = "application/json")]
    pub(crate) struct Whoami;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub did: String,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use whoami::Whoami;

/// `com.example.note`, a record type of the application's own.
#[derive(serde::Serialize)]
struct Note {
    text: String,
}

impl atlex::data::LexType for Note {
    const TYPE: &'static str = "com.example.note";
}

impl atlex::data::Record for Note {
    const NSID: &'static str = "com.example.note";
    const KEY: atlex::data::RecordKeyKind = atlex::data::RecordKeyKind::Tid;
}

/// What the session hook heard: `created|refreshed|ended <access token>`.
type Events = Arc<Mutex<Vec<String>>>;

fn recording(events: &Events) -> impl Fn(SessionEvent<'_>) + Send + Sync + 'static {
    let events = Arc::clone(events);
    move |event| {
        let line = match event {
            SessionEvent::Created(s) => format!("created {}", s.access_jwt),
            SessionEvent::Refreshed(s) => format!("refreshed {}", s.access_jwt),
            SessionEvent::Ended(s) => format!("ended {}", s.access_jwt),
            _ => "other".to_owned(),
        };
        events.lock().unwrap().push(line);
    }
}

struct World {
    network: TestNetwork,
    alice: Account,
    pds: Arc<Pds>,
    pds_url: String,
}

/// alice.test resolves to alice, whose document names the mock PDS.
async fn world() -> World {
    let network = TestNetwork::start().await.unwrap();
    let alice = network.account("alice.test").unwrap();
    let (pds, pds_url) = start_pds(alice.did().as_str()).await;
    alice.set_pds(&pds_url);
    World {
        network,
        alice,
        pds,
        pds_url,
    }
}

impl World {
    fn alice(&self) -> &str {
        self.alice.did().as_str()
    }
}

#[tokio::test]
async fn login_with_a_handle_then_typed_calls_and_refresh() {
    let world = world().await;
    let events = Events::default();
    let client = Login::new()
        .resolver(world.network.resolver())
        .configure(|builder| builder.proxy("did:web:chat.test#bsky_chat"))
        .on_session(recording(&events))
        .password("alice.test", PASSWORD)
        .await
        .unwrap();
    let session = client.session();
    assert_eq!(session.did.as_str(), world.alice());
    assert_eq!(session.handle.as_str(), "alice.test");
    assert_eq!(session.service, world.pds_url);
    assert_eq!(session.active, Some(true));

    let out = client.query(Whoami, &()).await.unwrap();
    assert_eq!(out.did, world.alice());

    // The access token expires: the call refreshes, then succeeds.
    world.pds.expire();
    let out = client.query(Whoami, &()).await.unwrap();
    assert_eq!(out.did, world.alice());
    assert_eq!(client.session().access_jwt, "access-2");
    assert_eq!(client.access_token().as_deref(), Some("access-2"));
    assert_eq!(
        *events.lock().unwrap(),
        ["created access-1", "refreshed access-2"]
    );

    // The session's calls carry the proxy header; the account calls do not.
    assert_eq!(
        *world.pds.seen.lock().unwrap(),
        [
            "createSession -",
            "whoami did:web:chat.test#bsky_chat",
            "whoami did:web:chat.test#bsky_chat",
            "refreshSession -",
            "whoami did:web:chat.test#bsky_chat",
        ]
    );

    // Typed record writes too, in the session's repository.
    world.pds.expire();
    let repo = client.session().did.into();
    let note = Note {
        text: "hello".to_owned(),
    };
    let written = client.create_record(&repo, &note).await.unwrap();
    assert_eq!(
        written.uri.as_str(),
        format!("at://{}/com.example.note/3kabc", world.alice())
    );
    assert_eq!(client.session().access_jwt, "access-3");

    // A refresh on demand.
    let refreshed = client.refresh().await.unwrap();
    assert_eq!(refreshed.access_jwt, "access-4");
    assert_eq!(client.access_token().as_deref(), Some("access-4"));
}

#[tokio::test]
async fn a_stored_session_resumes() {
    let world = world().await;
    let client = Login::new()
        .resolver(world.network.resolver())
        .password(world.alice(), PASSWORD)
        .await
        .unwrap();
    let stored = serde_json::to_string(&client.session()).unwrap();
    drop(client);

    let session: Session = serde_json::from_str(&stored).unwrap();
    assert!(
        !format!("{session:?}").contains("access-1"),
        "tokens stay out of Debug"
    );
    let events = Events::default();
    let resumed = Login::new()
        .on_session(recording(&events))
        .resume(session)
        .unwrap();
    assert_eq!(resumed.query(Whoami, &()).await.unwrap().did, world.alice());
    world.pds.expire();
    assert_eq!(resumed.query(Whoami, &()).await.unwrap().did, world.alice());
    assert_eq!(*events.lock().unwrap(), ["refreshed access-2"]);
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session() {
    let world = world().await;
    let events = Events::default();
    let client = Login::new()
        .resolver(world.network.resolver())
        .on_session(recording(&events))
        .password("alice.test", PASSWORD)
        .await
        .unwrap();
    world.pds.expire();
    *world.pds.revoked.lock().unwrap() = true;
    let err = client.query(Whoami, &()).await.unwrap_err();
    assert!(matches!(err, Error::Refresh { .. }), "{err:?}");
    assert_eq!(
        *events.lock().unwrap(),
        ["created access-1", "ended access-1"]
    );
}

#[tokio::test]
async fn login_failures() {
    let world = world().await;
    let login = || Login::new().resolver(world.network.resolver());

    let err = login().password("alice.test", "wrong").await.unwrap_err();
    let SessionError::Login(err) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(err.error_name(), Some("AuthenticationRequired"));

    let err = login()
        .password("not a handle!", PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::InvalidIdentifier(_)), "{err:?}");

    let err = login().password("nobody.test", PASSWORD).await.unwrap_err();
    assert!(matches!(err, SessionError::Resolve(_)), "{err:?}");

    // A document that names no PDS.
    let bob = world.network.account("bob.test").unwrap();
    let err = login()
        .password(bob.did().as_str(), PASSWORD)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("#atproto_pds"), "{err}");

    // The PDS logs in someone else than the identifier resolved to.
    *world.pds.account.lock().unwrap() = bob.did().to_string();
    let err = login().password("alice.test", PASSWORD).await.unwrap_err();
    assert!(matches!(err, SessionError::WrongAccount { .. }), "{err:?}");
}

#[tokio::test]
async fn logout_and_service_auth() {
    let world = world().await;
    let events = Events::default();
    let client = Login::new()
        .on_session(recording(&events))
        .password_at(&world.pds_url, "alice.test", PASSWORD)
        .await
        .unwrap_err();
    // password_at sends the identifier as given; this PDS knows only DIDs.
    let SessionError::Login(_) = client else {
        panic!("{client:?}");
    };

    let client = Login::new()
        .on_session(recording(&events))
        .password_at(&world.pds_url, world.alice(), PASSWORD)
        .await
        .unwrap();
    let token = client
        .service_auth(
            "did:web:chat.test#bsky_chat",
            Some("chat.bsky.convo.listConvos"),
            Some(1_900_000_000),
        )
        .await
        .unwrap();
    assert_eq!(
        token,
        "aud=did:web:chat.test#bsky_chat&exp=1900000000&lxm=chat.bsky.convo.listConvos"
    );
    // getServiceAuth refreshes like any call.
    world.pds.expire();
    assert!(
        client
            .service_auth("did:web:chat.test", None, None)
            .await
            .is_ok()
    );

    client.logout().await.unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        ["created access-1", "refreshed access-2", "ended access-2"]
    );
}
