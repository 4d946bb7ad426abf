//! The XRPC client against a mock server: test endpoints written as
//! generated code is, with the runtime's derives, and an axum server that
//! records every request and answers what each test scripts.

#![cfg(feature = "client")]

#[macro_use]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use atlex::client::{
    Client, Error, GetRecordError, PutRecordError, RecordRef, RetryPolicy, StoredRecord,
    TransportKind, ValidationMode, ValidationStatus, Write, WriteResult,
};
use atlex::error::CommonError;
use atlex::rt::{Binary, Json, QueryReader, UnknownError};
use atlex::types::{AtIdentifier, AtUri, Cid, RecordKey};
use atlex::xrpc::Endpoint as _;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

// ---------------------------------------------------------------------------
// Endpoints, each a module as atlex-codegen writes one: the descriptor and
// its parts derived through `atlex::rt`.
// ---------------------------------------------------------------------------

/// `test.convo.leave`: a JSON procedure with declared errors (like
/// `chat.bsky.convo.leaveConvo`).
mod leave {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "test.convo.leave",
        input = "application/json",
        output = "application/json"
    )]
    pub(crate) struct Leave;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Input {
        pub convo_id: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub convo_id: String,
        pub rev: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::EndpointError)]
    pub(crate) enum Error {
        InvalidConvo {
            message: Option<String>,
        },
        OwnerCannotLeave {
            message: Option<String>,
        },
        #[lex(unknown)]
        Unknown(atlex::rt::UnknownError),
    }
}

use leave::{Error as LeaveError, Input as LeaveInput, Leave, Output as LeaveOutput};

/// `test.convo.leave` again, with body methods of its own: the client must
/// go through `Endpoint::encode_input` and `decode_output`, which generated
/// endpoints compile in the bindings crate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct LeaveMarked;

endpoint_as!(LeaveMarked = Leave {
    fn encode_input(
        input: &LeaveInput,
        encoding: Option<&str>,
    ) -> Result<atlex::rt::Payload, atlex::rt::EncodeError> {
        let marked = LeaveInput {
            convo_id: format!("{}+encoded", input.convo_id),
        };
        <Json as atlex::rt::Codec<LeaveInput>>::encode(&marked, encoding)
    }

    fn decode_output(
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<LeaveOutput, atlex::rt::DecodeError> {
        let mut output = <Json as atlex::rt::Codec<LeaveOutput>>::decode(content_type, body)?;
        output.rev.push_str("+decoded");
        Ok(output)
    }
});

/// `test.search.query`: a query with a required string, an array, a boolean
/// and an integer parameter.
mod search {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(query = "test.search.query", params, output = "application/json")]
    pub(crate) struct Search;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Params)]
    pub(crate) struct Params {
        pub q: String,
        pub tags: Vec<String>,
        pub include_hidden: Option<bool>,
        pub limit: Option<i64>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub hits: Vec<String>,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use search::{Params as SearchParams, Search};

fn search(q: &str) -> SearchParams {
    SearchParams {
        q: q.to_owned(),
        tags: Vec::new(),
        include_hidden: None,
        limit: None,
    }
}

/// `test.things.list`: a paginated query (like `chat.bsky.convo.listConvos`)
/// whose items have a constraint (`name` at most 5 bytes).
mod list_things {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(query = "test.things.list", params, output = "application/json")]
    pub(crate) struct ListThings;

    impl atlex::rt::Paginated for ListThings {
        fn next_cursor(output: &Self::Output) -> Option<&str> {
            output.cursor.as_deref()
        }

        fn set_cursor(params: &mut Self::Params, cursor: Option<String>) {
            params.cursor = cursor;
        }
    }

    impl atlex::rt::PaginatedItems for ListThings {
        type Item = Thing;

        fn items(output: Self::Output) -> Vec<Self::Item> {
            output.things
        }
    }

    #[derive(Clone, Debug, Default, PartialEq, Eq, atlex::rt::Params)]
    pub(crate) struct Params {
        pub limit: Option<i64>,
        pub cursor: Option<String>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub cursor: Option<String>,
        #[lex(check)]
        pub things: Vec<Thing>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Thing {
        #[lex(check(max_length = 5))]
        pub name: String,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use list_things::{ListThings, Output as ListOutput, Params as ListParams, Thing};

fn thing(name: &str) -> Thing {
    Thing {
        name: name.to_owned(),
    }
}

/// `test.blob.upload`: a procedure taking any bytes (like
/// `com.atproto.repo.uploadBlob`).
mod upload_blob {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "test.blob.upload",
        input = "*/*",
        output = "application/json"
    )]
    pub(crate) struct UploadBlob;

    pub(crate) type Input = atlex::rt::Binary;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub size: i64,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use upload_blob::UploadBlob;

/// `test.blob.get`: a query answering bytes (like `com.atproto.sync.getBlob`).
mod get_blob {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(query = "test.blob.get", params, output = "*/*")]
    pub(crate) struct GetBlob;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Params)]
    pub(crate) struct Params {
        pub cid: String,
    }

    pub(crate) type Output = atlex::rt::Binary;

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use get_blob::{GetBlob, Params as GetBlobParams};

/// `test.session.touch`: a procedure with neither input nor output.
mod touch {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(procedure = "test.session.touch")]
    pub(crate) struct Touch;

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use touch::Touch;

/// `test.account.resetPassword`: a procedure that declares names that are
/// also common errors (like `com.atproto.server.resetPassword`, whose
/// `ExpiredToken` is about the emailed token).
mod reset_password {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(procedure = "test.account.resetPassword", input = "application/json")]
    pub(crate) struct ResetPassword;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Input {
        pub token: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::EndpointError)]
    pub(crate) enum Error {
        ExpiredToken {
            message: Option<String>,
        },
        InvalidToken {
            message: Option<String>,
        },
        #[lex(unknown)]
        Unknown(atlex::rt::UnknownError),
    }
}

use reset_password::{Error as ResetPasswordError, Input as ResetPasswordInput, ResetPassword};

// ---------------------------------------------------------------------------
// The mock server.
// ---------------------------------------------------------------------------

/// One request the mock server received.
#[derive(Clone, Debug)]
struct Recorded {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

type Responder = Arc<dyn Fn(&Recorded, usize) -> Response<Body> + Send + Sync>;
type Log = Arc<Mutex<Vec<Recorded>>>;

/// A response header telling the mock to wait this many milliseconds before
/// answering.
const DELAY_HEADER: &str = "x-mock-delay-ms";

struct Mock {
    base: String,
    log: Log,
}

impl Mock {
    /// Serves on 127.0.0.1, answering request number `i` (from 0) with
    /// `respond(request, i)`.
    async fn start(
        respond: impl Fn(&Recorded, usize) -> Response<Body> + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Log::default();
        let responder: Responder = Arc::new(respond);
        let app = axum::Router::new()
            .fallback(handle)
            .with_state((log.clone(), responder));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, log }
    }

    /// Answers every request the same way.
    async fn always(respond: impl Fn() -> Response<Body> + Send + Sync + 'static) -> Self {
        Self::start(move |_, _| respond()).await
    }

    fn client(&self) -> Client {
        Client::new(&self.base).unwrap()
    }

    fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    fn request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests.into_iter().next().unwrap()
    }
}

async fn handle(
    State((log, respond)): State<(Log, Responder)>,
    request: axum::extract::Request,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let recorded = Recorded {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: body.to_vec(),
    };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(recorded.clone());
        log.len() - 1
    };
    let mut response = respond(&recorded, index);
    if let Some(delay) = response.headers_mut().remove(DELAY_HEADER) {
        let ms: u64 = delay.to_str().unwrap().parse().unwrap();
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    response
}

fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Body>) -> Response<Body> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response.body(body.into()).unwrap()
}

fn json_reply(status: u16, value: serde_json::Value) -> Response<Body> {
    reply(
        status,
        &[("content-type", "application/json")],
        value.to_string(),
    )
}

fn xrpc_error(status: u16, name: &str, message: Option<&str>) -> Response<Body> {
    match message {
        Some(message) => json_reply(status, json!({ "error": name, "message": message })),
        None => json_reply(status, json!({ "error": name })),
    }
}

fn leave_ok() -> Response<Body> {
    json_reply(200, json!({ "convoId": "c1", "rev": "r1" }))
}

fn leave_input() -> LeaveInput {
    LeaveInput {
        convo_id: "c1".to_owned(),
    }
}

fn unix(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

// ---------------------------------------------------------------------------
// Requests.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn query_encodes_params_in_the_query_string() {
    let mock = Mock::always(|| json_reply(200, json!({ "hits": ["x", "y"] }))).await;
    let params = SearchParams {
        q: "hello world & more".to_owned(),
        tags: vec!["a".to_owned(), "b c".to_owned()],
        include_hidden: Some(false),
        limit: Some(25),
    };
    let output = mock.client().query(Search, &params).await.unwrap();
    assert_eq!(output.hits, ["x", "y"]);

    let request = mock.request();
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, "/xrpc/test.search.query");
    assert_eq!(
        request.query.as_deref(),
        Some("q=hello+world+%26+more&tags=a&tags=b+c&includeHidden=false&limit=25")
    );
    assert_eq!(request.header("content-type"), None);
    assert!(request.body.is_empty());
    assert_eq!(request.header("authorization"), None);
    let user_agent = request.header("user-agent").unwrap();
    assert!(user_agent.starts_with("atlex/"), "{user_agent}");
}

#[tokio::test]
async fn query_with_true_flag_and_no_optional_params() {
    let mock = Mock::always(|| json_reply(200, json!({ "hits": [] }))).await;
    let client = mock.client();
    let params = SearchParams {
        include_hidden: Some(true),
        ..search("q")
    };
    client.call(Search, &params, &()).await.unwrap();
    client.query(Search, &search("")).await.unwrap();
    let queries: Vec<_> = mock.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(
        queries,
        [
            Some("q=q&includeHidden=true".to_owned()),
            Some("q=".to_owned())
        ]
    );
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let mock = Mock::always(|| json_reply(200, json!({ "hits": [] }))).await;
    let client = Client::new(&format!("{}/pds/", mock.base)).unwrap();
    assert_eq!(client.base_url(), format!("{}/pds", mock.base));
    client.query(Search, &search("a")).await.unwrap();
    assert_eq!(mock.request().path, "/pds/xrpc/test.search.query");
}

#[tokio::test]
async fn headers_carry_token_proxy_labelers_and_user_agent() {
    let mock = Mock::always(|| json_reply(200, json!({ "hits": [] }))).await;
    let client = Client::builder(&mock.base)
        .bearer("token-1")
        .proxy("did:web:api.bsky.chat#bsky_chat")
        .accept_labelers([("did:plc:a", true), ("did:plc:b", false)])
        .user_agent("atlex-tests/1.0")
        .build()
        .unwrap();
    assert_eq!(client.access_token().as_deref(), Some("token-1"));
    client.query(Search, &search("a")).await.unwrap();
    client.set_access_token(Some("token-2".to_owned()));
    client.clone().query(Search, &search("b")).await.unwrap();
    client.set_access_token(None);
    client.query(Search, &search("c")).await.unwrap();

    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(
            request.header("atproto-proxy"),
            Some("did:web:api.bsky.chat#bsky_chat")
        );
        assert_eq!(
            request.header("atproto-accept-labelers"),
            Some("did:plc:a;redact, did:plc:b")
        );
        assert_eq!(request.header("user-agent"), Some("atlex-tests/1.0"));
    }
    assert_eq!(requests[0].header("authorization"), Some("Bearer token-1"));
    assert_eq!(requests[1].header("authorization"), Some("Bearer token-2"));
    assert_eq!(requests[2].header("authorization"), None);
}

#[tokio::test]
async fn json_procedure_posts_its_input() {
    let mock = Mock::always(leave_ok).await;
    let output = mock
        .client()
        .procedure(Leave, &leave_input())
        .await
        .unwrap();
    assert_eq!(
        output,
        LeaveOutput {
            convo_id: "c1".to_owned(),
            rev: "r1".to_owned()
        }
    );
    let request = mock.request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/xrpc/test.convo.leave");
    assert_eq!(request.query, None);
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, json!({ "convoId": "c1" }));
}

#[tokio::test]
async fn bodies_go_through_the_endpoints_body_methods() {
    let mock = Mock::always(leave_ok).await;
    let output = mock
        .client()
        .procedure(LeaveMarked, &leave_input())
        .await
        .unwrap();
    assert_eq!(output.rev, "r1+decoded");
    let body: serde_json::Value = serde_json::from_slice(&mock.request().body).unwrap();
    assert_eq!(body, json!({ "convoId": "c1+encoded" }));
}

#[tokio::test]
async fn procedure_without_input_sends_no_body() {
    let mock = Mock::always(|| reply(200, &[], "")).await;
    mock.client().call(Touch, &(), &()).await.unwrap();
    let request = mock.request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/xrpc/test.session.touch");
    assert_eq!(request.header("content-type"), None);
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn binary_upload_sends_bytes_with_their_content_type() {
    let data: Vec<u8> = (0..=255u8).collect();
    let mock = Mock::always(|| json_reply(200, json!({ "size": 256 }))).await;
    let output = mock
        .client()
        .procedure(UploadBlob, &Binary::new("image/png", data.clone()))
        .await
        .unwrap();
    assert_eq!(output.size, 256);
    let request = mock.request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.header("content-type"), Some("image/png"));
    assert_eq!(request.body, data);
}

#[tokio::test]
async fn binary_upload_without_a_type_uses_the_input_encoding() {
    let mock = Mock::always(|| json_reply(200, json!({ "size": 3 }))).await;
    mock.client()
        .procedure(UploadBlob, &Binary::new("", vec![1, 2, 3]))
        .await
        .unwrap();
    assert_eq!(mock.request().header("content-type"), Some("*/*"));
}

#[tokio::test]
async fn binary_download_keeps_bytes_and_content_type() {
    let data = vec![0u8, 159, 146, 150, 255];
    let body = data.clone();
    let mock =
        Mock::always(move || reply(200, &[("content-type", "video/mp4")], body.clone())).await;
    let params = GetBlobParams {
        cid: "bafkrei".to_owned(),
    };
    let output = mock.client().query(GetBlob, &params).await.unwrap();
    assert_eq!(output, Binary::new("video/mp4", data));
    let request = mock.request();
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.query.as_deref(), Some("cid=bafkrei"));
}

// ---------------------------------------------------------------------------
// Error responses.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn declared_errors_are_typed_whatever_the_status() {
    for status in [400u16, 401, 500, 502] {
        let mock = Mock::always(move || {
            xrpc_error(status, "OwnerCannotLeave", Some("lock the group first"))
        })
        .await;
        let err = mock
            .client()
            .procedure(Leave, &leave_input())
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.error_name(), Some("OwnerCannotLeave"));
        assert_eq!(err.is_retryable(), status == 502, "{status}");
        assert_eq!(
            err.to_string(),
            format!("OwnerCannotLeave: lock the group first (HTTP {status})")
        );
        match err {
            Error::Endpoint { status: got, error } => {
                assert_eq!(got, status);
                assert_eq!(
                    error,
                    LeaveError::OwnerCannotLeave {
                        message: Some("lock the group first".to_owned())
                    }
                );
            }
            other => panic!("status {status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn undeclared_error_keeps_status_name_and_message() {
    let mock = Mock::start(|_, i| match i {
        0 => xrpc_error(409, "ConvoLocked", Some("locked by the owner")),
        _ => xrpc_error(400, "SomethingNew", None),
    })
    .await;
    let client = mock.client();
    match client.procedure(Leave, &leave_input()).await.unwrap_err() {
        Error::Endpoint { status, error } => {
            assert_eq!(status, 409);
            assert_eq!(
                error,
                LeaveError::Unknown(UnknownError {
                    error: "ConvoLocked".to_owned(),
                    message: Some("locked by the owner".to_owned()),
                })
            );
        }
        other => panic!("{other:?}"),
    }
    match client.procedure(Leave, &leave_input()).await.unwrap_err() {
        Error::Endpoint { status, error } => {
            assert_eq!(status, 400);
            assert_eq!(
                error,
                LeaveError::Unknown(UnknownError {
                    error: "SomethingNew".to_owned(),
                    message: None,
                })
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn common_errors_are_recognised_by_name() {
    let cases = [
        (
            400u16,
            "InvalidRequest",
            CommonError::InvalidRequest {
                message: Some("m".to_owned()),
            },
        ),
        (
            401,
            "AuthRequired",
            CommonError::AuthenticationRequired {
                message: Some("m".to_owned()),
            },
        ),
        (
            500,
            "InternalServerError",
            CommonError::InternalServerError {
                message: Some("m".to_owned()),
            },
        ),
        (
            400,
            "UpstreamFailure",
            CommonError::UpstreamFailure {
                message: Some("m".to_owned()),
            },
        ),
    ];
    for (status, name, expected) in cases {
        let mock = Mock::always(move || xrpc_error(status, name, Some("m"))).await;
        let err = mock
            .client()
            .procedure(Leave, &leave_input())
            .await
            .unwrap_err();
        match err {
            Error::Common { status: got, error } => {
                assert_eq!(got, status);
                assert_eq!(error, expected);
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// What reset time a response should carry.
#[derive(Clone, Copy, Debug)]
enum Reset {
    /// This Unix time.
    At(u64),
    /// This many seconds after the response.
    After(u64),
    /// None.
    Absent,
}

#[tokio::test]
async fn declared_names_win_over_common_ones() {
    let mock = Mock::always(|| xrpc_error(400, "InvalidToken", Some("bad email token"))).await;
    let input = ResetPasswordInput {
        token: "t".to_owned(),
    };
    match mock
        .client()
        .procedure(ResetPassword, &input)
        .await
        .unwrap_err()
    {
        Error::Endpoint { status, error } => {
            assert_eq!(status, 400);
            assert_eq!(
                error,
                ResetPasswordError::InvalidToken {
                    message: Some("bad email token".to_owned())
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_reset_from_each_header_form() {
    let cases: [(&[(&str, &str)], Reset); 6] = [
        (
            &[("ratelimit-reset", "2000000000")],
            Reset::At(2_000_000_000),
        ),
        (&[("retry-after", "120")], Reset::After(120)),
        (
            &[("retry-after", "Wed, 18 May 2033 03:33:20 GMT")],
            Reset::At(2_000_000_000),
        ),
        (
            &[("ratelimit-reset", "2000000000"), ("retry-after", "120")],
            Reset::At(2_000_000_000),
        ),
        (&[("retry-after", "whenever")], Reset::Absent),
        (&[], Reset::Absent),
    ];
    for (headers, expected) in cases {
        let mock = Mock::always(move || {
            let mut all = vec![("content-type", "application/json")];
            all.extend_from_slice(headers);
            reply(
                429,
                &all,
                json!({ "error": "RateLimitExceeded", "message": "slow down" }).to_string(),
            )
        })
        .await;
        let before = SystemTime::now();
        let err = mock.client().query(Search, &search("a")).await.unwrap_err();
        let after = SystemTime::now();
        assert!(err.is_retryable());
        let reset = err.retry_after();
        match err {
            Error::Common {
                status: 429,
                error:
                    CommonError::RateLimitExceeded {
                        message,
                        reset: got,
                    },
            } => {
                assert_eq!(message.as_deref(), Some("slow down"));
                assert_eq!(got, reset);
                match expected {
                    Reset::Absent => assert_eq!(got, None, "{headers:?}"),
                    Reset::At(at) => assert_eq!(got, Some(unix(at)), "{headers:?}"),
                    Reset::After(delay) => {
                        let got = got.unwrap();
                        assert!(got >= before + Duration::from_secs(delay), "{headers:?}");
                        assert!(got <= after + Duration::from_secs(delay), "{headers:?}");
                    }
                }
            }
            other => panic!("{headers:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn non_json_error_body_is_http() {
    let mock = Mock::always(|| {
        reply(
            502,
            &[("content-type", "text/html")],
            "<html><body>Bad Gateway</body></html>",
        )
    })
    .await;
    let err = mock
        .client()
        .procedure(Leave, &leave_input())
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.error_name(), None);
    match err {
        Error::Http {
            status,
            content_type,
            body,
            retry_after,
        } => {
            assert_eq!(status, 502);
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert_eq!(body, "<html><body>Bad Gateway</body></html>");
            assert_eq!(retry_after, None);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn non_json_503_still_says_when_to_retry() {
    let mock = Mock::always(|| {
        reply(
            503,
            &[("content-type", "text/plain"), ("retry-after", "30")],
            "over capacity",
        )
    })
    .await;
    let before = SystemTime::now();
    let err = mock.client().query(Search, &search("a")).await.unwrap_err();
    let after = SystemTime::now();
    assert!(err.is_retryable());
    let retry_after = err.retry_after().unwrap();
    assert!(retry_after >= before + Duration::from_secs(30));
    assert!(retry_after <= after + Duration::from_secs(30));
    assert!(
        matches!(&err, Error::Http { status: 503, body, .. } if body == "over capacity"),
        "{err:?}"
    );
}

#[tokio::test]
async fn huge_and_invalid_utf8_error_bodies_are_cut_and_replaced() {
    let mock = Mock::start(|_, i| match i {
        0 => reply(500, &[], vec![b'x'; 5 * 1024 * 1024]),
        _ => reply(
            500,
            &[("content-type", "text/plain")],
            vec![b'a', 0xff, b'b'],
        ),
    })
    .await;
    let client = mock.client();
    match client.query(Search, &search("a")).await.unwrap_err() {
        Error::Http {
            status: 500,
            content_type: None,
            body,
            ..
        } => {
            assert_eq!(
                body.len(),
                Error::<atlex::rt::UndeclaredError>::HTTP_BODY_LIMIT + '…'.len_utf8()
            );
            assert!(body.starts_with("xxxx"));
            assert!(body.ends_with('…'));
        }
        other => panic!("{other:?}"),
    }
    match client.query(Search, &search("a")).await.unwrap_err() {
        Error::Http { body, .. } => assert_eq!(body, "a\u{fffd}b"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn json_error_without_a_string_error_is_http() {
    let bodies = [
        json!({ "message": "no name here" }),
        json!({ "error": 42, "message": "not a string" }),
        json!(["error", "InvalidConvo"]),
    ];
    for value in bodies {
        let text = value.to_string();
        let mock = Mock::always(move || json_reply(400, value.clone())).await;
        let err = mock
            .client()
            .procedure(Leave, &leave_input())
            .await
            .unwrap_err();
        match err {
            Error::Http {
                status,
                content_type,
                body,
                retry_after,
            } => {
                assert_eq!(status, 400);
                assert_eq!(content_type.as_deref(), Some("application/json"));
                assert_eq!(body, text);
                assert_eq!(retry_after, None);
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn other_status_classes_are_errors_too() {
    let mock = Mock::always(|| reply(304, &[], "")).await;
    let err = mock.client().query(Search, &search("a")).await.unwrap_err();
    assert!(
        matches!(&err, Error::Http { status: 304, body, .. } if body.is_empty()),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Bad success bodies and transport failures.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn undecodable_success_bodies_name_the_path() {
    let cases: [(&str, &str); 4] = [
        (r#"{"convoId":5,"rev":"r1"}"#, "convoId"),
        (r#"{"convoId":"c1","rev":"#, "rev"),
        (r#"{"convoId":"c1"}"#, "."),
        ("<html>oops</html>", "."),
    ];
    for (body, path) in cases {
        let mock =
            Mock::always(move || reply(200, &[("content-type", "application/json")], body)).await;
        let err = mock
            .client()
            .procedure(Leave, &leave_input())
            .await
            .unwrap_err();
        assert_eq!(err.status(), None);
        match err {
            Error::Decode { nsid, error } => {
                assert_eq!(nsid, "test.convo.leave");
                assert_eq!(error.what, "JSON body");
                assert_eq!(error.path, path, "{body}: {error}");
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn nested_decode_error_path() {
    let mock = Mock::always(|| {
        json_reply(
            200,
            json!({ "things": [{ "name": "a" }, { "name": ["b"] }] }),
        )
    })
    .await;
    match mock
        .client()
        .query(ListThings, &ListParams::default())
        .await
        .unwrap_err()
    {
        Error::Decode { nsid, error } => {
            assert_eq!(nsid, "test.things.list");
            assert_eq!(error.path, "things[1].name");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(&format!("http://{address}")).unwrap();
    let err = client.query(Search, &search("x")).await.unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
    match &err {
        Error::Transport {
            nsid,
            url,
            kind,
            source,
        } => {
            assert_eq!(*nsid, "test.search.query");
            assert_eq!(*url, format!("http://{address}/xrpc/test.search.query?q=x"));
            assert_eq!(*kind, TransportKind::Connect);
            assert!(source.is_some());
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.starts_with("test.search.query: cannot connect"),
        "{text}"
    );
}

/// A server that answers every connection with `response`, as raw bytes, and
/// closes it.
async fn raw_server(response: &'static [u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(response).await;
            let _ = socket.shutdown().await;
        }
    });
    base
}

#[tokio::test]
async fn malformed_http_is_a_transport_error() {
    let cases: [(&[u8], TransportKind); 3] = [
        (b"this is not HTTP at all\r\n\r\n", TransportKind::Send),
        (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"hits\":",
            TransportKind::Body,
        ),
        (
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 100\r\n\r\n{\"error\"",
            TransportKind::Body,
        ),
    ];
    for (response, expected) in cases {
        let base = raw_server(response).await;
        let client = Client::new(&base).unwrap();
        match client.query(Search, &search("a")).await.unwrap_err() {
            Error::Transport { nsid, kind, .. } => {
                assert_eq!(nsid, "test.search.query");
                assert_eq!(kind, expected, "{}", String::from_utf8_lossy(response));
            }
            other => panic!("{}: {other:?}", String::from_utf8_lossy(response)),
        }
    }
}

#[tokio::test]
async fn unreadable_reset_headers_are_ignored() {
    let base = raw_server(
        b"HTTP/1.1 429 Too Many Requests\r\nretry-after: \xff\xfe\r\nratelimit-reset: 99999999999999999999999\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nslow",
    )
    .await;
    let client = Client::new(&base).unwrap();
    match client.query(Search, &search("a")).await.unwrap_err() {
        Error::Http {
            status,
            content_type,
            body,
            retry_after,
        } => {
            assert_eq!(status, 429);
            assert_eq!(content_type.as_deref(), Some("text/plain"));
            assert_eq!(body, "slow");
            assert_eq!(retry_after, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn futures_streams_and_errors_are_send() {
    fn send<T: Send>(_: &T) {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    let client = Client::new("https://bsky.social").unwrap();
    let params = search("a");
    let input = leave_input();
    send(&client.query(Search, &params));
    send(&client.procedure(Leave, &input));
    send(&client.call(Touch, &(), &()));
    send(&client.pages(ListThings, ListParams::default()));
    error::<Error<LeaveError>>();
}

#[tokio::test]
async fn slow_server_times_out() {
    let mock = Mock::always(|| reply(200, &[(DELAY_HEADER, "2000")], r#"{"hits":[]}"#)).await;
    let client = Client::builder(&mock.base)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.query(Search, &search("x")).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_millis(1500));
    assert!(err.is_retryable());
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Timeout,
                nsid: "test.search.query",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn response_size_limit() {
    let mock = Mock::always(|| json_reply(200, json!({ "hits": vec!["0123456789"; 100] }))).await;
    let client = Client::builder(&mock.base)
        .max_response_size(64)
        .build()
        .unwrap();
    let err = client.query(Search, &search("x")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::TooLarge { limit: 64 },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_access_token_fails_before_sending() {
    let mock = Mock::always(|| json_reply(200, json!({ "hits": [] }))).await;
    let client = mock.client();
    client.set_access_token(Some("bad\ntoken".to_owned()));
    let err = client.query(Search, &search("x")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Build,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(mock.requests().is_empty());
}

// ---------------------------------------------------------------------------
// Token refresh.
// ---------------------------------------------------------------------------

/// Answers `ExpiredToken` with `status` to the old token, and success to any
/// other.
fn expiring(status: u16) -> impl Fn(&Recorded, usize) -> Response<Body> + Send + Sync + 'static {
    move |request, _| {
        if request.header("authorization") == Some("Bearer old") {
            xrpc_error(status, "ExpiredToken", Some("token has expired"))
        } else {
            leave_ok()
        }
    }
}

#[tokio::test]
async fn expired_token_is_refreshed_and_the_call_retried() {
    for status in [400u16, 401] {
        let mock = Mock::start(expiring(status)).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let client = Client::builder(&mock.base)
            .bearer("old")
            .on_expired_token(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, std::io::Error>("new".to_owned()) }
            })
            .build()
            .unwrap();
        let output = client.procedure(Leave, &leave_input()).await.unwrap();
        assert_eq!(output.rev, "r1");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(client.access_token().as_deref(), Some("new"));
        let requests = mock.requests();
        let tokens: Vec<_> = requests
            .iter()
            .map(|r| r.header("authorization").unwrap())
            .collect();
        assert_eq!(tokens, ["Bearer old", "Bearer new"], "status {status}");
        assert_eq!(requests[0].body, requests[1].body);
    }
}

#[tokio::test]
async fn concurrent_expiries_share_one_refresh() {
    let mock = Mock::start(expiring(400)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let client = Client::builder(&mock.base)
        .bearer("old")
        .on_expired_token(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, std::io::Error>("new".to_owned())
            }
        })
        .build()
        .unwrap();
    let input = leave_input();
    let (a, b) = tokio::join!(
        client.procedure(Leave, &input),
        client.procedure(Leave, &input)
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refresh_failure_surfaces() {
    let mock = Mock::start(expiring(400)).await;
    let client = Client::builder(&mock.base)
        .bearer("old")
        .on_expired_token(|| async {
            Err::<String, _>(std::io::Error::other("refresh token revoked"))
        })
        .build()
        .unwrap();
    let err = client.procedure(Leave, &leave_input()).await.unwrap_err();
    match &err {
        Error::Refresh { nsid, source } => {
            assert_eq!(*nsid, "test.convo.leave");
            assert_eq!(source.to_string(), "refresh token revoked");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "test.convo.leave: the access token expired and refreshing it failed: refresh token revoked"
    );
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(client.access_token().as_deref(), Some("old"));
}

#[tokio::test]
async fn expired_token_without_a_hook_is_a_common_error() {
    let mock = Mock::start(expiring(401)).await;
    let client = Client::builder(&mock.base).bearer("old").build().unwrap();
    match client.procedure(Leave, &leave_input()).await.unwrap_err() {
        Error::Common { status, error } => {
            assert_eq!(status, 401);
            assert_eq!(
                error,
                CommonError::ExpiredToken {
                    message: Some("token has expired".to_owned())
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn declared_expired_token_is_the_endpoint_s_own() {
    let mock = Mock::always(|| xrpc_error(400, "ExpiredToken", Some("reset token expired"))).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let client = Client::builder(&mock.base)
        .bearer("old")
        .on_expired_token(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, std::io::Error>("new".to_owned()) }
        })
        .build()
        .unwrap();
    let input = ResetPasswordInput {
        token: "t".to_owned(),
    };
    match client.procedure(ResetPassword, &input).await.unwrap_err() {
        Error::Endpoint { status, error } => {
            assert_eq!(status, 400);
            assert_eq!(
                error,
                ResetPasswordError::ExpiredToken {
                    message: Some("reset token expired".to_owned())
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(client.access_token().as_deref(), Some("old"));
}

#[tokio::test]
async fn refresh_happens_once_per_call() {
    let mock = Mock::always(|| xrpc_error(400, "ExpiredToken", None)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let client = Client::builder(&mock.base)
        .bearer("old")
        .on_expired_token(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, std::io::Error>(format!("new-{n}")) }
        })
        .build()
        .unwrap();
    let err = client.procedure(Leave, &leave_input()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Common {
                status: 400,
                error: CommonError::ExpiredToken { message: None }
            }
        ),
        "{err:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let tokens: Vec<_> = mock
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(tokens, ["Bearer old", "Bearer new-0"]);
}

// ---------------------------------------------------------------------------
// Retries.
// ---------------------------------------------------------------------------

fn policy(max_attempts: u32, max_total_wait_ms: u64, default_delay_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        max_total_wait: Duration::from_millis(max_total_wait_ms),
        default_delay: Duration::from_millis(default_delay_ms),
    }
}

fn rate_limited(retry_after: &str) -> Response<Body> {
    reply(
        429,
        &[
            ("content-type", "application/json"),
            ("retry-after", retry_after),
        ],
        json!({ "error": "RateLimitExceeded" }).to_string(),
    )
}

#[tokio::test]
async fn retry_after_429_waits_as_told() {
    let mock = Mock::start(|_, i| match i {
        0 => rate_limited("1"),
        _ => json_reply(200, json!({ "hits": ["ok"] })),
    })
    .await;
    let client = Client::builder(&mock.base)
        .retry(policy(3, 5_000, 10))
        .build()
        .unwrap();
    let start = Instant::now();
    let output = client.query(Search, &search("a")).await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(output.hits, ["ok"]);
    assert_eq!(mock.requests().len(), 2);
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(3_000), "{elapsed:?}");
}

#[tokio::test]
async fn retry_after_503_without_reset_uses_the_default_delay() {
    let mock = Mock::start(|_, i| match i {
        0 | 1 => reply(503, &[("content-type", "text/plain")], "busy"),
        _ => json_reply(200, json!({ "hits": [] })),
    })
    .await;
    let client = Client::builder(&mock.base)
        .retry(policy(3, 1_000, 100))
        .build()
        .unwrap();
    let start = Instant::now();
    client.query(Search, &search("a")).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(mock.requests().len(), 3);
}

#[tokio::test]
async fn retry_gives_up_at_once_when_the_wait_is_over_budget() {
    let mock = Mock::always(|| rate_limited("30")).await;
    let client = Client::builder(&mock.base)
        .retry(policy(5, 1_000, 10))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.query(Search, &search("a")).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(mock.requests().len(), 1);
    assert!(
        matches!(
            err,
            Error::Common {
                status: 429,
                error: CommonError::RateLimitExceeded { reset: Some(_), .. }
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn retry_stops_when_the_budget_runs_out() {
    let mock = Mock::always(|| reply(503, &[], "")).await;
    let client = Client::builder(&mock.base)
        .retry(policy(10, 250, 100))
        .build()
        .unwrap();
    let err = client.query(Search, &search("a")).await.unwrap_err();
    // Waits of 100 ms and 100 ms fit in 250 ms; a third would not.
    assert_eq!(mock.requests().len(), 3);
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
}

#[tokio::test]
async fn retry_stops_after_max_attempts() {
    let mock = Mock::always(|| xrpc_error(503, "NotEnoughResources", Some("busy"))).await;
    let client = Client::builder(&mock.base)
        .retry(policy(3, 5_000, 10))
        .build()
        .unwrap();
    let err = client.procedure(Leave, &leave_input()).await.unwrap_err();
    assert_eq!(mock.requests().len(), 3);
    match err {
        Error::Common { status, error } => {
            assert_eq!(status, 503);
            assert_eq!(
                error,
                CommonError::NotEnoughResources {
                    message: Some("busy".to_owned())
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_retry_without_a_policy_nor_for_other_statuses() {
    let mock = Mock::always(|| rate_limited("0")).await;
    mock.client().query(Search, &search("a")).await.unwrap_err();
    assert_eq!(mock.requests().len(), 1);

    let mock = Mock::always(|| reply(502, &[], "bad gateway")).await;
    let client = Client::builder(&mock.base)
        .retry(policy(3, 1_000, 10))
        .build()
        .unwrap();
    client.query(Search, &search("a")).await.unwrap_err();
    assert_eq!(mock.requests().len(), 1);
}

// ---------------------------------------------------------------------------
// Pagination.
// ---------------------------------------------------------------------------

/// Answers `test.things.list` from a table of cursor → (next cursor, names).
fn pager(
    table: &'static [(
        Option<&'static str>,
        Option<&'static str>,
        &'static [&'static str],
    )],
) -> impl Fn(&Recorded, usize) -> Response<Body> + Send + Sync + 'static {
    move |request, _| {
        let params: ListParams = atlex::rt::Params::read_query(&QueryReader::parse(
            request.query.as_deref().unwrap_or(""),
        ))
        .unwrap();
        let Some((_, next, names)) = table
            .iter()
            .find(|(at, _, _)| *at == params.cursor.as_deref())
        else {
            return xrpc_error(500, "InternalServerError", Some("no such page"));
        };
        let output = ListOutput {
            cursor: next.map(str::to_owned),
            things: names.iter().map(|name| thing(name)).collect(),
        };
        json_reply(200, serde_json::to_value(output).unwrap())
    }
}

fn queries(mock: &Mock) -> Vec<String> {
    mock.requests()
        .into_iter()
        .map(|r| r.query.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn pages_follow_cursors_until_there_is_none() {
    let mock = Mock::start(pager(&[
        (None, Some("c1"), &["a", "b"]),
        (Some("c1"), Some("c2"), &["c"]),
        (Some("c2"), None, &["d"]),
    ]))
    .await;
    let params = ListParams {
        limit: Some(2),
        cursor: None,
    };
    let pages: Vec<_> = mock.client().pages(ListThings, params).collect().await;
    let pages: Vec<ListOutput> = pages.into_iter().map(Result::unwrap).collect();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].things, [thing("a"), thing("b")]);
    assert_eq!(pages[2].cursor, None);
    assert_eq!(
        queries(&mock),
        ["limit=2", "limit=2&cursor=c1", "limit=2&cursor=c2"]
    );
}

#[tokio::test]
async fn pages_stop_on_a_repeated_cursor() {
    let mock = Mock::start(pager(&[
        (None, Some("a"), &["1"]),
        (Some("a"), Some("b"), &["2"]),
        (Some("b"), Some("a"), &["3"]),
    ]))
    .await;
    // Bounded, so that a client that loops fails the test instead of hanging.
    let pages: Vec<_> = mock
        .client()
        .pages(ListThings, ListParams::default())
        .take(10)
        .collect()
        .await;
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[2].as_ref().unwrap().cursor.as_deref(), Some("a"));
    assert_eq!(queries(&mock), ["", "cursor=a", "cursor=b"]);
}

#[tokio::test]
async fn pages_stop_on_an_empty_cursor() {
    let mock = Mock::start(pager(&[(None, Some(""), &["1"])])).await;
    let pages: Vec<_> = mock
        .client()
        .pages(ListThings, ListParams::default())
        .collect()
        .await;
    assert_eq!(pages.len(), 1);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn pages_are_fetched_as_the_stream_is_read() {
    let mock = Mock::start(pager(&[
        (None, Some("c1"), &["a"]),
        (Some("c1"), Some("c2"), &["b"]),
        (Some("c2"), None, &["c"]),
    ]))
    .await;
    let mut pages = mock.client().pages(ListThings, ListParams::default());
    assert!(mock.requests().is_empty());
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(first.things, [thing("a")]);
    assert_eq!(mock.requests().len(), 1);
    drop(pages);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn pages_from_a_given_cursor_and_on_another_task() {
    let mock = Mock::start(pager(&[
        (Some("c1"), Some("c2"), &["b"]),
        (Some("c2"), None, &["c"]),
    ]))
    .await;
    let client = mock.client();
    let params = ListParams {
        limit: None,
        cursor: Some("c1".to_owned()),
    };
    // The stream is Send + 'static: it can be moved to another task.
    let names = tokio::spawn(async move {
        client
            .items(ListThings, params)
            .map(|item| item.unwrap().name)
            .collect::<Vec<_>>()
            .await
    })
    .await
    .unwrap();
    assert_eq!(names, ["b", "c"]);
}

#[tokio::test]
async fn items_stream_across_pages_and_end_after_an_error() {
    let mock = Mock::start(pager(&[
        (None, Some("c1"), &["a", "b"]),
        (Some("c1"), Some("c2"), &[]),
        (Some("c2"), Some("c3"), &["c"]),
        // No page for c3: the server answers InternalServerError.
    ]))
    .await;
    let items: Vec<_> = mock
        .client()
        .items(ListThings, ListParams::default())
        .collect()
        .await;
    assert_eq!(items.len(), 4, "{items:?}");
    let names: Vec<_> = items[..3]
        .iter()
        .map(|item| item.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    match &items[3] {
        Err(Error::Common { status, error }) => {
            assert_eq!(*status, 500);
            assert_eq!(
                *error,
                CommonError::InternalServerError {
                    message: Some("no such page".to_owned())
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(queries(&mock), ["", "cursor=c1", "cursor=c2", "cursor=c3"]);
}

// ---------------------------------------------------------------------------
// Output validation.
// ---------------------------------------------------------------------------

fn oversized_things() -> Response<Body> {
    json_reply(
        200,
        json!({ "things": [{ "name": "ok" }, { "name": "much too long" }] }),
    )
}

#[tokio::test]
async fn strict_validation_fails_the_call() {
    let mock = Mock::always(oversized_things).await;
    let client = Client::builder(&mock.base)
        .validate_outputs(ValidationMode::Strict)
        .build()
        .unwrap();
    match client
        .query(ListThings, &ListParams::default())
        .await
        .unwrap_err()
    {
        Error::Invalid { nsid, error } => {
            assert_eq!(nsid, "test.things.list");
            assert_eq!(error.violations.len(), 1);
            assert_eq!(error.violations[0].path, "things[1].name");
            assert_eq!(error.violations[0].constraint, "maxLength");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn strict_validation_passes_valid_outputs() {
    let mock = Mock::always(|| json_reply(200, json!({ "things": [{ "name": "ok" }] }))).await;
    let client = Client::builder(&mock.base)
        .validate_outputs(ValidationMode::Strict)
        .build()
        .unwrap();
    let output = client
        .query(ListThings, &ListParams::default())
        .await
        .unwrap();
    assert_eq!(output.things, [thing("ok")]);
}

#[tokio::test]
async fn lenient_validation_keeps_the_data_and_reports() {
    let mock = Mock::always(oversized_things).await;
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let client = Client::builder(&mock.base)
        .validate_outputs(ValidationMode::Lenient)
        .on_violation(move |nsid, error| {
            sink.lock()
                .unwrap()
                .push((nsid.to_owned(), error.violations[0].path.clone()));
        })
        .build()
        .unwrap();
    let output = client
        .query(ListThings, &ListParams::default())
        .await
        .unwrap();
    assert_eq!(output.things[1], thing("much too long"));
    assert_eq!(
        *reports.lock().unwrap(),
        [("test.things.list".to_owned(), "things[1].name".to_owned())]
    );
}

#[tokio::test]
async fn validation_is_off_by_default() {
    let mock = Mock::always(oversized_things).await;
    let reports = Arc::new(AtomicUsize::new(0));
    let sink = reports.clone();
    let client = Client::builder(&mock.base)
        .on_violation(move |_, _| {
            sink.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let output = client
        .query(ListThings, &ListParams::default())
        .await
        .unwrap();
    assert_eq!(output.things.len(), 2);
    assert_eq!(reports.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------
// Typed records.
// ---------------------------------------------------------------------------

/// `test.feed.post`, as atlex-codegen writes a record type: it writes its
/// `$type` and keeps properties it does not declare.
#[derive(Clone, Debug, PartialEq, atlex::rt::Object)]
#[lex(record = "test.feed.post", key = "tid")]
struct Post {
    #[lex(check(max_length = 30))]
    text: String,
    created_at: atlex::types::Datetime,
    #[lex(unknown)]
    extra_fields: atlex::rt::ExtraFields,
}

/// `test.actor.profile`: one record per account, under `self`.
#[derive(Clone, Debug, PartialEq, atlex::rt::Object)]
#[lex(record = "test.actor.profile", key = "literal:self")]
struct Profile {
    display_name: Option<String>,
}

/// `test.feed.like`, with serde impls of its own: it writes a `$type` of
/// its choosing, which the client replaces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Like {
    #[serde(rename = "$type")]
    type_name: String,
    subject: String,
}

impl atlex::data::LexType for Like {
    const TYPE: &'static str = "test.feed.like";
}

impl atlex::data::Record for Like {
    const NSID: &'static str = "test.feed.like";
    const KEY: atlex::data::RecordKeyKind = atlex::data::RecordKeyKind::Tid;
}

/// A record type whose `Serialize` does not write an object.
struct Broken;

impl Serialize for Broken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("not an object")
    }
}

impl atlex::data::LexType for Broken {
    const TYPE: &'static str = "test.broken";
}

impl atlex::data::Record for Broken {
    const NSID: &'static str = "test.broken";
    const KEY: atlex::data::RecordKeyKind = atlex::data::RecordKeyKind::Any;
}

/// A record type whose lexicon names a key that is no record key.
#[derive(Serialize)]
struct BadKey {}

impl atlex::data::LexType for BadKey {
    const TYPE: &'static str = "test.bad.key";
}

impl atlex::data::Record for BadKey {
    const NSID: &'static str = "test.bad.key";
    const KEY: atlex::data::RecordKeyKind = atlex::data::RecordKeyKind::Literal("..");
}

const ALICE: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const RECORD_CID: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
const COMMIT_CID: &str = "bafyreihg5e6agq5ttgqqdmk6wa3zfz4jjcnqvqotymupmbzcdbrpgrqaay";
const RKEY: &str = "3jzfcijpj2z2a";

fn alice() -> AtIdentifier {
    AtIdentifier::new(ALICE).unwrap()
}

fn rkey() -> RecordKey {
    RecordKey::new(RKEY).unwrap()
}

fn uri(collection: &str, rkey: &str) -> String {
    format!("at://{ALICE}/{collection}/{rkey}")
}

/// A post as a server holds it: a property this code does not declare, an
/// integer a double cannot hold, text beyond ASCII.
fn post_json(text: &str) -> serde_json::Value {
    json!({
        "$type": "test.feed.post",
        "text": text,
        "createdAt": "2024-11-01T12:00:00.000Z",
        "via": { "app": "x", "n": 9_007_199_254_740_993_i64 },
    })
}

fn post(text: &str) -> Post {
    serde_json::from_value(post_json(text)).unwrap()
}

fn commit_json() -> serde_json::Value {
    json!({ "cid": COMMIT_CID, "rev": RKEY })
}

fn body(request: &Recorded) -> serde_json::Value {
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.header("content-type"), Some("application/json"));
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn create_record_sends_the_record_as_it_serializes_in_its_collection() {
    let mock = Mock::always(|| {
        json_reply(
            200,
            json!({
                "uri": uri("test.feed.post", "3kabc"),
                "cid": RECORD_CID,
                "commit": commit_json(),
                "validationStatus": "unknown",
            }),
        )
    })
    .await;
    let post = post("héllo 😀");
    let written: RecordRef<Post> = mock.client().create_record(&alice(), &post).await.unwrap();
    assert_eq!(written.uri.as_str(), uri("test.feed.post", "3kabc"));
    assert_eq!(
        written.uri.rkey().as_ref().map(RecordKey::as_str),
        Some("3kabc")
    );
    assert_eq!(written.cid.to_string(), RECORD_CID);
    let commit = written.commit.clone().unwrap();
    assert_eq!(
        (commit.cid.to_string().as_str(), commit.rev.as_str()),
        (COMMIT_CID, RKEY)
    );
    assert_eq!(written.validation_status, Some(ValidationStatus::Unknown));

    let request = mock.request();
    assert_eq!(request.path, "/xrpc/com.atproto.repo.createRecord");
    assert_eq!(
        body(&request),
        json!({
            "repo": ALICE,
            "collection": "test.feed.post",
            "record": post_json("héllo 😀"),
        })
    );
    // The record is in the body exactly as its own `Serialize` writes it.
    let text = String::from_utf8(request.body.clone()).unwrap();
    let record = serde_json::to_string(&post).unwrap();
    assert!(text.contains(&record), "{text}");
    assert!(record.contains("9007199254740993"), "{record}");
}

#[tokio::test]
async fn create_record_with_a_key_and_validate_and_the_collections_fixed_key() {
    let mock = Mock::start(|request, _| {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let collection = body["collection"].as_str().unwrap();
        let rkey = body["rkey"].as_str().unwrap_or("3kserver");
        json_reply(
            200,
            json!({ "uri": uri(collection, rkey), "cid": RECORD_CID }),
        )
    })
    .await;
    let client = mock.client();
    let written = client
        .create_record_with(&alice(), Some(&rkey()), &post("keyed"), Some(false))
        .await
        .unwrap();
    assert_eq!(
        written.uri.rkey().as_ref().map(RecordKey::as_str),
        Some(RKEY)
    );
    assert_eq!((written.commit, written.validation_status), (None, None));
    // A profile's only key is `self`.
    let written = client
        .create_record(&alice(), &Profile::new().with_display_name("Alice"))
        .await
        .unwrap();
    assert_eq!(
        written.uri.rkey().as_ref().map(RecordKey::as_str),
        Some("self")
    );
    // The `$type` is the record type's, whatever its serde impl writes.
    let like = Like {
        type_name: "something.else".to_owned(),
        subject: "at://x".to_owned(),
    };
    client.create_record(&alice(), &like).await.unwrap();

    let bodies: Vec<_> = mock.requests().iter().map(body).collect();
    assert_eq!(bodies[0]["rkey"], RKEY);
    assert_eq!(bodies[0]["validate"], false);
    assert_eq!(
        bodies[1],
        json!({
            "repo": ALICE,
            "collection": "test.actor.profile",
            "rkey": "self",
            "record": { "$type": "test.actor.profile", "displayName": "Alice" },
        })
    );
    assert_eq!(
        bodies[2]["record"],
        json!({ "$type": "test.feed.like", "subject": "at://x" })
    );
    assert_eq!(bodies[2]["collection"], "test.feed.like");
    let text = String::from_utf8(mock.requests()[2].body.clone()).unwrap();
    assert_eq!(text.matches("$type").count(), 1, "{text}");
}

#[tokio::test]
async fn get_record_reads_the_typed_record_and_put_record_writes_it_back_with_swap() {
    let mock = Mock::start(|_, index| match index {
        0 => json_reply(
            200,
            json!({
                "uri": uri("test.feed.post", RKEY),
                "cid": RECORD_CID,
                "value": post_json("first"),
            }),
        ),
        _ => json_reply(
            200,
            json!({ "uri": uri("test.feed.post", RKEY), "cid": COMMIT_CID }),
        ),
    })
    .await;
    let client = mock.client();
    let mut stored: StoredRecord<Post> = client.get_record(&alice(), &rkey()).await.unwrap();
    assert_eq!(stored.uri.as_str(), uri("test.feed.post", RKEY));
    assert_eq!(
        stored.cid.as_ref().map(ToString::to_string).as_deref(),
        Some(RECORD_CID)
    );
    assert_eq!(stored.value, post("first"));

    stored.value.text = "edited".to_owned();
    let written = client
        .put_record(&alice(), &rkey(), &stored.value, stored.cid.as_ref())
        .await
        .unwrap();
    assert_eq!(written.cid.to_string(), COMMIT_CID);

    let requests = mock.requests();
    assert_eq!(requests[0].method, Method::GET);
    assert_eq!(requests[0].path, "/xrpc/com.atproto.repo.getRecord");
    assert_eq!(
        requests[0].query.as_deref(),
        Some(
            "repo=did%3Aplc%3Aewvi7nxzyoun6zhxrhs64oiz&collection=test.feed.post&rkey=3jzfcijpj2z2a"
        )
    );
    assert_eq!(requests[1].path, "/xrpc/com.atproto.repo.putRecord");
    // The property this code does not declare goes back unchanged.
    assert_eq!(
        body(&requests[1]),
        json!({
            "repo": ALICE,
            "collection": "test.feed.post",
            "rkey": RKEY,
            "record": post_json("edited"),
            "swapRecord": RECORD_CID,
        })
    );
}

#[tokio::test]
async fn get_record_refuses_another_type_and_types_record_not_found() {
    let mock = Mock::start(|_, index| {
        let value = match index {
            0 => json!({ "$type": "test.feed.like", "subject": "at://x" }),
            1 => json!({ "text": "no type", "createdAt": "2024-11-01T12:00:00.000Z" }),
            2 => post_json(&"long ".repeat(10)),
            _ => return xrpc_error(400, "RecordNotFound", Some("Could not locate record")),
        };
        json_reply(
            200,
            json!({ "uri": uri("test.feed.post", RKEY), "value": value }),
        )
    })
    .await;
    let client = Client::builder(&mock.base)
        .validate_outputs(ValidationMode::Strict)
        .build()
        .unwrap();
    for expected in ["test.feed.like", "$type"] {
        match client.get_record::<Post>(&alice(), &rkey()).await {
            Err(Error::Decode { nsid, error }) => {
                assert_eq!(nsid, "com.atproto.repo.getRecord");
                assert_eq!(error.path, "value");
                assert!(error.reason.contains(expected), "{error}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
    // The record is checked as its type says.
    match client.get_record::<Post>(&alice(), &rkey()).await {
        Err(Error::Invalid { error, .. }) => assert_eq!(error.violations[0].path, "value.text"),
        other => panic!("expected a violation, got {other:?}"),
    }
    match client.get_record::<Post>(&alice(), &rkey()).await {
        Err(Error::Endpoint {
            status: 400,
            error: GetRecordError::RecordNotFound { message },
        }) => assert_eq!(message.as_deref(), Some("Could not locate record")),
        other => panic!("expected RecordNotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn put_and_delete_with_swap_and_invalid_swap_is_typed() {
    let mock = Mock::start(|_, index| match index {
        0 => xrpc_error(400, "InvalidSwap", Some("Record was at bafy…")),
        1 => json_reply(200, json!({})),
        _ => json_reply(200, json!({ "commit": commit_json() })),
    })
    .await;
    let client = mock.client();
    let cid = Cid::new(RECORD_CID).unwrap();
    match client
        .put_record(&alice(), &rkey(), &post("stale"), Some(&cid))
        .await
    {
        Err(Error::Endpoint {
            error: PutRecordError::InvalidSwap { .. },
            ..
        }) => {}
        other => panic!("expected InvalidSwap, got {other:?}"),
    }
    let commit = client
        .delete_record::<Like>(&alice(), &rkey(), None)
        .await
        .unwrap();
    assert_eq!(commit, None);
    let commit = client
        .delete_record::<Like>(&alice(), &rkey(), Some(&cid))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(commit.rev.as_str(), RKEY);

    let requests = mock.requests();
    assert_eq!(requests[1].path, "/xrpc/com.atproto.repo.deleteRecord");
    assert_eq!(
        body(&requests[1]),
        json!({ "repo": ALICE, "collection": "test.feed.like", "rkey": RKEY })
    );
    assert_eq!(body(&requests[2])["swapRecord"], RECORD_CID);
}

#[tokio::test]
async fn apply_writes_sends_each_write_with_its_collection_and_types_the_results() {
    let mock = Mock::always(|| {
        json_reply(
            200,
            json!({
                "commit": commit_json(),
                "results": [
                    {
                        "$type": "com.atproto.repo.applyWrites#createResult",
                        "uri": uri("test.feed.post", "3kabc"),
                        "cid": RECORD_CID,
                        "validationStatus": "valid",
                    },
                    {
                        "$type": "com.atproto.repo.applyWrites#updateResult",
                        "uri": uri("test.actor.profile", "self"),
                        "cid": COMMIT_CID,
                    },
                    { "$type": "com.atproto.repo.applyWrites#deleteResult" },
                ],
            }),
        )
    })
    .await;
    let profile = Profile::new().with_display_name("Alice");
    let applied = mock
        .client()
        .apply_writes(
            &alice(),
            [
                Write::create(&post("one")),
                Write::update(RecordKey::new("self").unwrap(), &profile),
                Write::delete::<Like>(rkey()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(applied.commit.unwrap().cid.to_string(), COMMIT_CID);
    assert_eq!(
        applied.results.unwrap(),
        [
            WriteResult::Create {
                uri: AtUri::new(uri("test.feed.post", "3kabc")).unwrap(),
                cid: Cid::new(RECORD_CID).unwrap(),
                validation_status: Some(ValidationStatus::Valid),
            },
            WriteResult::Update {
                uri: AtUri::new(uri("test.actor.profile", "self")).unwrap(),
                cid: Cid::new(COMMIT_CID).unwrap(),
                validation_status: None,
            },
            WriteResult::Delete,
        ]
    );
    let request = mock.request();
    assert_eq!(request.path, "/xrpc/com.atproto.repo.applyWrites");
    assert_eq!(
        body(&request),
        json!({
            "repo": ALICE,
            "writes": [
                {
                    "$type": "com.atproto.repo.applyWrites#create",
                    "collection": "test.feed.post",
                    "value": post_json("one"),
                },
                {
                    "$type": "com.atproto.repo.applyWrites#update",
                    "collection": "test.actor.profile",
                    "rkey": "self",
                    "value": { "$type": "test.actor.profile", "displayName": "Alice" },
                },
                {
                    "$type": "com.atproto.repo.applyWrites#delete",
                    "collection": "test.feed.like",
                    "rkey": RKEY,
                },
            ],
        })
    );
}

#[tokio::test]
async fn apply_writes_results_must_match_the_writes() {
    let create_result = json!({
        "$type": "com.atproto.repo.applyWrites#createResult",
        "uri": uri("test.feed.post", "3kabc"),
        "cid": RECORD_CID,
    });
    let delete_result = json!({ "$type": "com.atproto.repo.applyWrites#deleteResult" });
    let replies = [
        json!({ "results": [create_result.clone()] }),
        json!({ "results": [delete_result.clone(), create_result.clone()] }),
        json!({ "results": [create_result, { "$type": "com.atproto.repo.applyWrites#newResult" }] }),
        json!({}),
    ];
    let mock = Mock::start(move |_, index| json_reply(200, replies[index].clone())).await;
    let client = mock.client();
    let writes = || [Write::create(&post("one")), Write::delete::<Post>(rkey())];
    let mut failures = Vec::new();
    for _ in 0..3 {
        match client.apply_writes(&alice(), writes()).await {
            Err(Error::Decode { nsid, error }) => {
                assert_eq!(nsid, "com.atproto.repo.applyWrites");
                failures.push(format!("{}: {}", error.path, error.reason));
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
    assert_eq!(failures[0], "results: 1 results for 2 writes");
    assert_eq!(
        failures[1],
        "results[0]: a delete result for a create write"
    );
    assert!(failures[2].contains("newResult"), "{}", failures[2]);
    // The lexicon makes the list optional.
    let applied = client.apply_writes(&alice(), writes()).await.unwrap();
    assert_eq!((applied.commit, applied.results), (None, None));
}

#[tokio::test]
async fn a_record_that_does_not_encode_is_not_sent() {
    let mock = Mock::always(|| json_reply(200, json!({}))).await;
    let client = mock.client();
    match client.create_record(&alice(), &Broken).await {
        Err(Error::Encode { nsid, error }) => {
            assert_eq!(nsid, "com.atproto.repo.createRecord");
            assert!(error.reason.contains("test.broken"), "{error}");
        }
        other => panic!("expected an encode error, got {other:?}"),
    }
    match client.create_record(&alice(), &BadKey {}).await {
        Err(Error::Encode { error, .. }) => {
            assert!(error.reason.contains("the key of test.bad.key"), "{error}")
        }
        other => panic!("expected an encode error, got {other:?}"),
    }
    for bad in [Write::create(&Broken), Write::create(&BadKey {})] {
        let writes = [Write::create(&post("fine")), bad];
        match client.apply_writes(&alice(), writes).await {
            Err(Error::Encode { nsid, .. }) => assert_eq!(nsid, "com.atproto.repo.applyWrites"),
            other => panic!("expected an encode error, got {other:?}"),
        }
    }
    assert!(mock.requests().is_empty());
}

// ---------------------------------------------------------------------------
// Per-request authentication.
// ---------------------------------------------------------------------------

/// What an [`atlex::client::Authenticate`] hook saw of an answer: the NSID,
/// the proxy, the status, the error name, the `Authorization` it sent.
type Seen = (&'static str, Option<String>, u16, Option<String>, String);

/// Signs each request with a numbered header, asks for a resend after a
/// 401, and keeps what it saw.
#[derive(Default)]
struct Numbered {
    sent: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
    refuse: bool,
}

impl atlex::client::Authenticate for Numbered {
    fn headers<'a>(
        &'a self,
        request: &'a atlex::client::AuthRequest<'a>,
    ) -> atlex::client::AuthFuture<'a, HeaderMap> {
        Box::pin(async move {
            if self.refuse {
                return Err(format!("{} is not allowed", request.nsid).into());
            }
            let n = self.sent.fetch_add(1, Ordering::Relaxed);
            let mut headers = HeaderMap::new();
            headers.insert("authorization", format!("Test {n}").parse()?);
            assert_eq!(request.retry as usize, n);
            Ok(headers)
        })
    }

    fn answer<'a>(
        &'a self,
        request: &'a atlex::client::AuthRequest<'a>,
        answer: &'a atlex::client::AuthAnswer<'a>,
    ) -> atlex::client::AuthFuture<'a, atlex::client::AuthVerdict> {
        Box::pin(async move {
            let sent = answer
                .sent
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            self.seen.lock().unwrap().push((
                request.nsid,
                request.proxy.map(str::to_owned),
                answer.status.as_u16(),
                answer.error.map(str::to_owned),
                sent,
            ));
            Ok(if answer.status == 401 {
                atlex::client::AuthVerdict::Retry
            } else {
                atlex::client::AuthVerdict::Accept
            })
        })
    }
}

#[tokio::test]
async fn an_authenticate_hook_signs_each_request_and_may_have_it_sent_again() {
    let mock = Mock::start(|_, i| match i {
        0 => xrpc_error(401, "InvalidToken", None),
        _ => json_reply(200, json!({ "hits": [] })),
    })
    .await;
    let hook = Arc::new(Numbered::default());
    let client = Client::builder(&mock.base)
        .proxy("did:web:api.example.com#svc")
        .authenticate(hook.clone())
        .build()
        .unwrap();
    client.query(Search, &search("a")).await.unwrap();
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("authorization"), Some("Test 0"));
    assert_eq!(requests[1].header("authorization"), Some("Test 1"));
    let seen = hook.seen.lock().unwrap().clone();
    let proxy = Some("did:web:api.example.com#svc".to_owned());
    assert_eq!(
        seen,
        vec![
            (
                Search::NSID,
                proxy.clone(),
                401,
                Some("InvalidToken".to_owned()),
                "Test 0".to_owned()
            ),
            (Search::NSID, proxy, 200, None, "Test 1".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_hook_that_keeps_asking_gets_a_bounded_number_of_resends() {
    let mock = Mock::always(|| xrpc_error(401, "InvalidToken", None)).await;
    let client = Client::builder(&mock.base)
        .authenticate(Arc::new(Numbered::default()))
        .build()
        .unwrap();
    let err = client.query(Search, &search("a")).await.unwrap_err();
    assert!(matches!(err, Error::Common { status: 401, .. }), "{err:?}");
    assert_eq!(
        mock.requests().len(),
        1 + atlex::client::MAX_AUTH_RETRIES as usize
    );
}

#[tokio::test]
async fn a_hook_that_refuses_a_request_sends_nothing() {
    let mock = Mock::always(|| json_reply(200, json!({ "hits": [] }))).await;
    let client = Client::builder(&mock.base)
        .authenticate(Arc::new(Numbered {
            refuse: true,
            ..Numbered::default()
        }))
        .build()
        .unwrap();
    let err = client.query(Search, &search("a")).await.unwrap_err();
    let Error::Auth { nsid, source } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*nsid, Search::NSID);
    assert!(source.to_string().contains("is not allowed"), "{source}");
    assert!(mock.requests().is_empty());
}
