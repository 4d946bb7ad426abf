//! The `server` feature: `XrpcRouter` driven through `tower::ServiceExt::oneshot`
//! and once over a real loopback socket.
//!
//! The endpoints below are test lexicons written as `atlex-codegen` writes
//! bindings: modules of types with the runtime's derives.

#![cfg(feature = "server")]

#[macro_use]
mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use atlex::server::{
    CommonError, DEFAULT_BODY_LIMIT, HandlerError, HandlerResult, Registry, Request,
    ValidationMode, XrpcRouter,
};
use atlex::types::Did;
use atlex::xrpc::{EndpointError, Json};
use axum::Router;
use axum::body::{Body, Bytes};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------
// Endpoints, each a module as atlex-codegen writes one: the descriptor and
// its parts derived through `atlex::rt`.
// ---------------------------------------------------------------------------

/// `com.example.test.listThings`: a query with a required parameter, a
/// constrained `limit` (1..=100) and an array parameter.
mod list_things {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        query = "com.example.test.listThings",
        params,
        output = "application/json"
    )]
    pub(crate) struct ListThings;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Params)]
    pub(crate) struct Params {
        pub actor: String,
        #[lex(default = 50, check(minimum = 1, maximum = 100))]
        pub limit: Option<i64>,
        #[lex(check(items(max_length = 10)))]
        pub tags: Option<Vec<String>>,
    }

    /// The output's lexicon allows at most three tags; the handler echoes
    /// the parameters' tags, which the lexicon leaves unbounded, so a
    /// handler can break it.
    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub actor: String,
        pub limit: i64,
        #[lex(check(max_length = 3))]
        pub tags: Vec<String>,
        pub caller: Option<String>,
        pub user_agent: Option<String>,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use list_things::{ListThings, Output as ListThingsOutput};

/// `com.example.test.createPost`: a JSON procedure whose input has length
/// and grapheme constraints.
mod create_post {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "com.example.test.createPost",
        input = "application/json",
        output = "application/json"
    )]
    pub(crate) struct CreatePost;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Input {
        #[lex(check(max_length = 40, max_graphemes = 10))]
        pub text: String,
        #[lex(check(items(max_length = 5)))]
        pub langs: Option<Vec<String>>,
        pub count: Option<i64>,
        #[lex(check(object))]
        pub extra: Option<atlex::rt::Unknown>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub uri: String,
        pub text: String,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use create_post::{CreatePost, Input as CreatePostInput, Output as CreatePostOutput};

/// `com.example.test.createPost` with body methods of its own: the server
/// must go through `Endpoint::decode_input` and `encode_output`, which
/// generated endpoints compile in the bindings crate.
struct CreatePostMarked;

endpoint_as!(CreatePostMarked = CreatePost {
    fn decode_input(
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<CreatePostInput, atlex::xrpc::DecodeError> {
        let mut input = <Json as atlex::xrpc::Codec<CreatePostInput>>::decode(content_type, body)?;
        input.text.push_str("+decoded");
        Ok(input)
    }

    fn encode_output(
        output: &CreatePostOutput,
        encoding: Option<&str>,
    ) -> Result<atlex::xrpc::Payload, atlex::xrpc::EncodeError> {
        let marked = CreatePostOutput {
            uri: output.uri.clone(),
            text: format!("{}+encoded", output.text),
        };
        <Json as atlex::xrpc::Codec<CreatePostOutput>>::encode(&marked, encoding)
    }
});

/// `com.example.test.uploadBlob`: any bytes in (`*/*`), the same bytes out.
mod upload_blob {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "com.example.test.uploadBlob",
        input = "*/*",
        output = "*/*"
    )]
    pub(crate) struct UploadBlob;

    pub(crate) type Input = atlex::rt::Binary;

    pub(crate) type Output = atlex::rt::Binary;

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use upload_blob::UploadBlob;

/// `com.example.test.setAvatar`: an image (`image/*`) or a PDF in, its size
/// out. Its encoding lists both, as some lexicons write it.
mod set_avatar {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "com.example.test.setAvatar",
        input = "image/*, application/pdf",
        output = "application/json"
    )]
    pub(crate) struct SetAvatar;

    pub(crate) type Input = atlex::rt::Binary;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub mime_type: String,
        pub size: i64,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use set_avatar::{Output as SetAvatarOutput, SetAvatar};

/// `com.example.test.deleteThing`: declares `ThingNotFound` and
/// `ThingLocked`; no output. The handler's answer depends on the `id`.
mod delete_thing {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(procedure = "com.example.test.deleteThing", input = "application/json")]
    pub(crate) struct DeleteThing;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Input {
        pub id: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::EndpointError)]
    pub(crate) enum Error {
        ThingNotFound {
            message: Option<String>,
        },
        ThingLocked {
            message: Option<String>,
        },
        #[lex(unknown)]
        Unknown(atlex::rt::UnknownError),
    }
}

use delete_thing::{DeleteThing, Error as DeleteThingError};

/// `com.example.test.resetThings`: a procedure with neither input nor output.
mod reset_things {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(procedure = "com.example.test.resetThings")]
    pub(crate) struct ResetThings;

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use reset_things::ResetThings;

/// `com.example.test.getSecret`: a query the test service leaves
/// unimplemented.
mod get_secret {
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(query = "com.example.test.getSecret", output = "application/json")]
    pub(crate) struct GetSecret;

    #[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
    pub struct Output {
        pub secret: String,
    }

    pub(crate) type Error = atlex::rt::UndeclaredError;
}

use get_secret::{GetSecret, Output as GetSecretOutput};

/// The `com.example.test` endpoints as a server implements them, in the
/// shape of a generated `Service` trait.
trait Service: Send + Sync + 'static {
    fn list_things(
        &self,
        request: Request<ListThings>,
    ) -> impl Future<Output = HandlerResult<ListThings>> + Send {
        let _ = request;
        async { Err(HandlerError::not_implemented()) }
    }

    fn create_post(
        &self,
        request: Request<CreatePost>,
    ) -> impl Future<Output = HandlerResult<CreatePost>> + Send {
        let _ = request;
        async { Err(HandlerError::not_implemented()) }
    }

    fn upload_blob(
        &self,
        request: Request<UploadBlob>,
    ) -> impl Future<Output = HandlerResult<UploadBlob>> + Send {
        let _ = request;
        async { Err(HandlerError::not_implemented()) }
    }

    fn set_avatar(
        &self,
        request: Request<SetAvatar>,
    ) -> impl Future<Output = HandlerResult<SetAvatar>> + Send {
        let _ = request;
        async { Err(HandlerError::not_implemented()) }
    }

    fn delete_thing(
        &self,
        request: Request<DeleteThing>,
    ) -> impl Future<Output = HandlerResult<DeleteThing>> + Send {
        let _ = request;
        async { Err(HandlerError::not_implemented()) }
    }

    fn reset_things(
        &self,
        request: Request<ResetThings>,
    ) -> impl Future<Output = HandlerResult<ResetThings>> + Send {
        let _ = request;
        async { Err(HandlerError::not_implemented()) }
    }

    fn get_secret(
        &self,
        request: Request<GetSecret>,
    ) -> impl Future<Output = HandlerResult<GetSecret>> + Send {
        let _ = request;
        async { Err(HandlerError::not_implemented()) }
    }
}

/// Mounts every `com.example.test` endpoint, as generated `register`
/// functions do.
fn register<S: Service, R: Registry<S>>(registry: &mut R) {
    registry.add::<ListThings, _, _>(|service: Arc<S>, request| async move {
        service.list_things(request).await
    });
    registry.add::<CreatePost, _, _>(|service: Arc<S>, request| async move {
        service.create_post(request).await
    });
    registry.add::<UploadBlob, _, _>(|service: Arc<S>, request| async move {
        service.upload_blob(request).await
    });
    registry.add::<SetAvatar, _, _>(|service: Arc<S>, request| async move {
        service.set_avatar(request).await
    });
    registry.add::<DeleteThing, _, _>(|service: Arc<S>, request| async move {
        service.delete_thing(request).await
    });
    registry.add::<ResetThings, _, _>(|service: Arc<S>, request| async move {
        service.reset_things(request).await
    });
    registry.add::<GetSecret, _, _>(|service: Arc<S>, request| async move {
        service.get_secret(request).await
    });
}

/// The service under test; `getSecret` is left unimplemented.
struct Things;

impl Service for Things {
    async fn list_things(&self, request: Request<ListThings>) -> HandlerResult<ListThings> {
        let params = &request.params;
        if params.actor == "private" {
            request.context.require_caller()?;
        }
        Ok(ListThingsOutput {
            actor: params.actor.clone(),
            limit: params.limit_or_default(),
            tags: params.tags.clone().unwrap_or_default(),
            caller: request.context.caller.as_ref().map(|did| did.to_string()),
            user_agent: request
                .context
                .headers
                .get(header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
        })
    }

    async fn create_post(&self, request: Request<CreatePost>) -> HandlerResult<CreatePost> {
        Ok(CreatePostOutput {
            uri: "at://did:plc:test/com.example.post/1".to_owned(),
            text: request.input.text,
        })
    }

    async fn upload_blob(&self, request: Request<UploadBlob>) -> HandlerResult<UploadBlob> {
        Ok(request.input)
    }

    async fn set_avatar(&self, request: Request<SetAvatar>) -> HandlerResult<SetAvatar> {
        Ok(SetAvatarOutput {
            mime_type: request.input.content_type,
            size: i64::try_from(request.input.data.len()).expect("an image under 2^63 bytes"),
        })
    }

    async fn delete_thing(&self, request: Request<DeleteThing>) -> HandlerResult<DeleteThing> {
        match request.input.id.as_str() {
            "missing" => Err(HandlerError::endpoint(DeleteThingError::ThingNotFound {
                message: Some("no thing `missing`".to_owned()),
            })),
            "locked" => Err(HandlerError::endpoint(DeleteThingError::ThingLocked {
                message: Some("thing `locked` is locked".to_owned()),
            })
            .with_status(409)),
            "bare" => Err(DeleteThingError::ThingNotFound { message: None }.into()),
            "undeclared" => Err(HandlerError::endpoint(DeleteThingError::from_parts(
                "Mystery".to_owned(),
                Some("what is this".to_owned()),
            ))),
            "not-an-error-status" => {
                Err(
                    HandlerError::endpoint(DeleteThingError::ThingLocked { message: None })
                        .with_status(204),
                )
            }
            "forbidden" => Err(HandlerError::Common(CommonError::Forbidden {
                message: Some("not yours".to_owned()),
            })),
            "rate-limited" => Err(HandlerError::Common(CommonError::RateLimitExceeded {
                message: Some("slow down".to_owned()),
                reset: Some(SystemTime::now() + Duration::from_secs(30)),
            })),
            "rate-limited-fixed" => Err(HandlerError::Common(CommonError::RateLimitExceeded {
                message: None,
                reset: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500)),
            })),
            "rate-limited-no-reset" => Err(HandlerError::Common(CommonError::RateLimitExceeded {
                message: Some("slow down".to_owned()),
                reset: None,
            })),
            "panic" => panic!("the handler blew up"),
            _ => Ok(()),
        }
    }

    async fn reset_things(&self, _request: Request<ResetThings>) -> HandlerResult<ResetThings> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

/// Bearer tokens are DIDs; `expired` is an expired token; anything else is
/// invalid. No header: anonymous.
fn bearer_did(headers: &HeaderMap) -> Result<Option<Did>, CommonError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "));
    match token {
        Some("expired") => Err(CommonError::ExpiredToken {
            message: Some("the token has expired".to_owned()),
        }),
        Some(token) => Did::new(token)
            .map(Some)
            .map_err(|err| CommonError::InvalidToken {
                message: Some(format!("bad bearer token: {err}")),
            }),
        None => Err(CommonError::InvalidToken {
            message: Some("not a bearer token".to_owned()),
        }),
    }
}

fn app() -> Router {
    XrpcRouter::new(Things)
        .mount(register)
        .authenticate(bearer_did)
        .into_router()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {:?}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// Asserts an XRPC error: status, JSON content type, name, and a message
    /// mentioning every one of `mentions`.
    #[track_caller]
    fn assert_error(&self, status: u16, name: &str, mentions: &[&str]) -> String {
        let body = self.json();
        assert_eq!(self.status.as_u16(), status, "{body}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{body}"
        );
        assert_eq!(body["error"], name, "{body}");
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        for mention in mentions {
            assert!(
                message.contains(mention),
                "message {message:?} does not mention {mention:?}"
            );
        }
        message
    }
}

async fn send(app: &Router, request: http::Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, http::Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post(app: &Router, uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Reply {
    let mut request = http::Request::post(uri);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    send(app, request.body(body.into()).unwrap()).await
}

async fn post_json(app: &Router, uri: &str, body: &str) -> Reply {
    post(app, uri, Some("application/json"), body.to_owned()).await
}

const LIST: &str = "/xrpc/com.example.test.listThings";
const CREATE: &str = "/xrpc/com.example.test.createPost";
const UPLOAD: &str = "/xrpc/com.example.test.uploadBlob";
const AVATAR: &str = "/xrpc/com.example.test.setAvatar";
const DELETE: &str = "/xrpc/com.example.test.deleteThing";
const RESET: &str = "/xrpc/com.example.test.resetThings";

// ---------------------------------------------------------------------------
// Routing and methods.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn outputs_are_checked_only_when_asked() {
    let uri = format!("{LIST}?actor=alice&tags=a&tags=b&tags=c&tags=d");
    // By default the server trusts its own data.
    let reply = get(&app(), &uri).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["tags"], json!(["a", "b", "c", "d"]));

    let checked = XrpcRouter::new(Things)
        .mount(register)
        .validate_outputs(ValidationMode::Strict)
        .into_router();
    let reply = get(&checked, &uri).await;
    reply.assert_error(500, "InternalServerError", &["output", "tags", "at most 3"]);
    // An output within the lexicon passes.
    let reply = get(&checked, &format!("{LIST}?actor=alice&tags=a")).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    // Leniently, the output is sent and the hook hears what it breaks.
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&heard);
    let lenient = XrpcRouter::new(Things)
        .mount(register)
        .validate_outputs(ValidationMode::Lenient)
        .on_violation(move |nsid, violations| {
            sink.lock().unwrap().push(format!("{nsid}: {violations}"));
        })
        .into_router();
    let reply = get(&lenient, &uri).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.json()["tags"], json!(["a", "b", "c", "d"]));
    let heard = heard.lock().unwrap().clone();
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert!(
        heard[0].contains("tags") && heard[0].contains("at most 3"),
        "{heard:?}"
    );
}

#[tokio::test]
async fn query_answers_its_output() {
    let app = app();
    let reply = send(
        &app,
        http::Request::get(format!("{LIST}?actor=alice&limit=5&tags=a&tags=b"))
            .header(header::USER_AGENT, "tests/1.0")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        // An absent optional field is left out, as generated objects write it.
        json!({"actor": "alice", "limit": 5, "tags": ["a", "b"], "userAgent": "tests/1.0"})
    );
}

#[tokio::test]
async fn absent_optional_params_are_left_to_the_handler() {
    let reply = get(&app(), &format!("{LIST}?actor=bob")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["limit"], 50);
    assert_eq!(reply.json()["tags"], json!([]));
}

#[tokio::test]
async fn percent_encoded_params_are_decoded() {
    let reply = get(&app(), &format!("{LIST}?actor=a%20b%26c&tags=%C3%A9")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["actor"], "a b&c");
    assert_eq!(reply.json()["tags"], json!(["é"]));
}

#[tokio::test]
async fn head_answers_a_query_without_body() {
    let app = app();
    let full = get(&app, &format!("{LIST}?actor=alice")).await;
    let head = send(
        &app,
        http::Request::head(format!("{LIST}?actor=alice"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(
        head.header("content-length"),
        Some(full.body.len().to_string().as_str())
    );
}

#[tokio::test]
async fn unknown_nsid_is_not_implemented() {
    let app = app();
    let reply = get(&app, "/xrpc/com.example.test.nope").await;
    reply.assert_error(501, "MethodNotImplemented", &["com.example.test.nope"]);
    let reply = post_json(&app, "/xrpc/com.example.test.nope", "{}").await;
    reply.assert_error(501, "MethodNotImplemented", &["com.example.test.nope"]);
}

#[tokio::test]
async fn a_path_that_is_no_nsid_is_a_bad_request() {
    let app = app();
    for path in [
        "/xrpc/",
        "/xrpc/bad..nsid",
        "/xrpc/com.example.test.getItem/extra",
        "/xrpc/not/even/an/nsid",
        "/xrpc/com.example",
    ] {
        let reply = get(&app, path).await;
        reply.assert_error(400, "InvalidRequest", &[path, "names no XRPC method"]);
    }
    let reply = post_json(&app, "/xrpc/a.b.c/extra", "{}").await;
    reply.assert_error(400, "InvalidRequest", &["/xrpc/a.b.c/extra"]);
}

#[tokio::test]
async fn unimplemented_service_method_is_not_implemented() {
    let reply = get(&app(), "/xrpc/com.example.test.getSecret").await;
    reply.assert_error(501, "MethodNotImplemented", &["does not implement"]);
}

#[tokio::test]
async fn other_paths_are_left_to_axum() {
    let app = app();
    let reply = get(&app, "/health").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let app = app
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/xrpc/_health", axum::routing::get(|| async { "fine" }));
    let reply = get(&app, "/health").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(&reply.body[..], b"ok");
    let reply = get(&app, "/xrpc/_health").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(&reply.body[..], b"fine");
    let reply = get(&app, &format!("{LIST}?actor=alice")).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn query_refuses_post() {
    let reply = post_json(&app(), &format!("{LIST}?actor=alice"), "{}").await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &["Incorrect HTTP method (POST), expected GET"],
    );
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn procedure_refuses_get_and_others() {
    let app = app();
    let reply = get(&app, CREATE).await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &["Incorrect HTTP method (GET), expected POST"],
    );
    assert_eq!(reply.header("allow"), Some("POST"));

    for method in [Method::PUT, Method::DELETE, Method::PATCH, Method::HEAD] {
        let reply = send(
            &app,
            http::Request::builder()
                .method(method.clone())
                .uri(RESET)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method}");
        assert_eq!(reply.header("allow"), Some("POST"));
        if method != Method::HEAD {
            reply.assert_error(400, "InvalidRequest", &[method.as_str(), "expected POST"]);
        }
    }
}

// ---------------------------------------------------------------------------
// Parameters.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn limit_below_minimum() {
    let reply = get(&app(), &format!("{LIST}?actor=alice&limit=0")).await;
    let message = reply.assert_error(400, "InvalidRequest", &["limit", "minimum"]);
    assert_eq!(
        message,
        "invalid parameters: limit: minimum: 0, at least 1 required"
    );
}

#[tokio::test]
async fn limit_above_maximum() {
    let reply = get(&app(), &format!("{LIST}?actor=alice&limit=101")).await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &["limit: maximum: 101, at most 100 allowed"],
    );
}

#[tokio::test]
async fn limit_not_a_number() {
    let reply = get(&app(), &format!("{LIST}?actor=alice&limit=abc")).await;
    reply.assert_error(400, "InvalidRequest", &["\"abc\"", "`limit`"]);
    let reply = get(
        &app(),
        &format!("{LIST}?actor=alice&limit=99999999999999999999999"),
    )
    .await;
    reply.assert_error(400, "InvalidRequest", &["`limit`"]);
}

#[tokio::test]
async fn missing_required_param() {
    let reply = get(&app(), &format!("{LIST}?limit=5")).await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &["missing required parameter `actor`"],
    );
    let reply = get(&app(), LIST).await;
    reply.assert_error(400, "InvalidRequest", &["`actor`"]);
    // Given empty, it is missing all the same.
    let reply = get(&app(), &format!("{LIST}?actor=&limit=5")).await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &["missing required parameter `actor`"],
    );
}

#[tokio::test]
async fn repeated_single_param() {
    let reply = get(&app(), &format!("{LIST}?actor=alice&limit=5&limit=6")).await;
    reply.assert_error(400, "InvalidRequest", &["`limit`", "more than once"]);
    let reply = get(&app(), &format!("{LIST}?actor=alice&actor=bob")).await;
    reply.assert_error(400, "InvalidRequest", &["`actor`", "more than once"]);
}

#[tokio::test]
async fn every_param_violation_is_listed_with_its_path() {
    let reply = get(
        &app(),
        &format!("{LIST}?actor=alice&limit=500&tags=ok&tags=much-too-long"),
    )
    .await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &["limit: maximum", "tags[1]: maxLength: 13 bytes, at most 10"],
    );
}

// ---------------------------------------------------------------------------
// Input.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn json_procedure_answers_its_output() {
    let app = app();
    let reply = post_json(&app, CREATE, r#"{"text": "hello", "langs": ["en"]}"#).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json()["text"], "hello");

    for content_type in [
        "application/json; charset=utf-8",
        "Application/JSON",
        " application/json ;charset=UTF-8",
    ] {
        let reply = post(&app, CREATE, Some(content_type), r#"{"text":"hi"}"#).await;
        assert_eq!(reply.status, StatusCode::OK, "{content_type}");
    }
}

#[tokio::test]
async fn missing_content_type() {
    let reply = post(&app(), CREATE, None, r#"{"text":"hi"}"#).await;
    reply.assert_error(400, "InvalidRequest", &["Content-Type", "application/json"]);
}

#[tokio::test]
async fn missing_body() {
    let app = app();
    let reply = post(&app, CREATE, None, Body::empty()).await;
    reply.assert_error(400, "InvalidRequest", &["body", "required"]);
    let reply = post(&app, CREATE, Some("application/json"), Body::empty()).await;
    reply.assert_error(400, "InvalidRequest", &["body", "required"]);
}

#[tokio::test]
async fn wrong_content_type() {
    let app = app();
    let reply = post(&app, CREATE, Some("text/plain"), r#"{"text":"hi"}"#).await;
    let message = reply.assert_error(400, "InvalidRequest", &[]);
    assert_eq!(
        message,
        "Wrong request encoding (Content-Type): text/plain, expected application/json"
    );
    let reply = post(&app, CREATE, Some("application/jsonx"), r#"{"text":"hi"}"#).await;
    reply.assert_error(400, "InvalidRequest", &["application/jsonx"]);
}

#[tokio::test]
async fn malformed_json() {
    let app = app();
    for body in [
        r#"{"text": "hi""#,
        r#"{"text": "hi"} trailing"#,
        "not json",
        "{,}",
        r#"{"text": "\ud800"}"#,
    ] {
        let reply = post_json(&app, CREATE, body).await;
        reply.assert_error(400, "InvalidRequest", &["invalid JSON body"]);
    }
}

#[tokio::test]
async fn wrong_json_types() {
    let app = app();
    let reply = post_json(&app, CREATE, r#"{"text": 5}"#).await;
    reply.assert_error(400, "InvalidRequest", &["at text", "invalid type"]);
    let reply = post_json(&app, CREATE, r#"{"text": "hi", "langs": ["en", 7]}"#).await;
    reply.assert_error(400, "InvalidRequest", &["langs[1]", "invalid type"]);
    let reply = post_json(&app, CREATE, r#""text""#).await;
    reply.assert_error(400, "InvalidRequest", &["invalid type"]);
    let reply = post_json(&app, CREATE, "42").await;
    reply.assert_error(400, "InvalidRequest", &["invalid type"]);
    let reply = post_json(&app, CREATE, "null").await;
    reply.assert_error(400, "InvalidRequest", &["invalid type"]);
}

#[tokio::test]
async fn missing_required_field() {
    let reply = post_json(&app(), CREATE, r#"{"langs": []}"#).await;
    reply.assert_error(400, "InvalidRequest", &["missing field `text`"]);
}

#[tokio::test]
async fn bad_utf8_huge_numbers_and_deep_nesting_are_bad_requests() {
    let app = app();
    let reply = post(
        &app,
        CREATE,
        Some("application/json"),
        b"{\"text\": \"\xff\xfe\"}".to_vec(),
    )
    .await;
    reply.assert_error(400, "InvalidRequest", &["invalid JSON body"]);

    let reply = post_json(
        &app,
        CREATE,
        r#"{"text": "hi", "count": 999999999999999999999999999999}"#,
    )
    .await;
    reply.assert_error(400, "InvalidRequest", &["count"]);
    let reply = post_json(&app, CREATE, r#"{"text": "hi", "count": 1e400}"#).await;
    reply.assert_error(400, "InvalidRequest", &["count"]);

    let deep = format!(
        r#"{{"text": "hi", "extra": {}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let reply = post_json(&app, CREATE, &deep).await;
    reply.assert_error(400, "InvalidRequest", &["at extra", "recursion limit"]);
    // Unknown fields are skipped without recursing.
    let reply = post_json(&app, CREATE, &deep.replace("extra", "ignored")).await;
    assert_eq!(reply.status, StatusCode::OK);

    // Open data that breaks its constraint.
    let reply = post_json(&app, CREATE, r#"{"text": "hi", "extra": [1]}"#).await;
    reply.assert_error(400, "InvalidRequest", &["extra: type: an array"]);
}

#[tokio::test]
async fn input_violations_are_listed_with_their_paths() {
    let app = app();
    let reply = post_json(&app, CREATE, r#"{"text": "abcdefghijk"}"#).await;
    let message = reply.assert_error(400, "InvalidRequest", &[]);
    assert_eq!(
        message,
        "invalid input: text: maxGraphemes: 11 graphemes, at most 10 allowed"
    );

    let long = "👍🏽".repeat(6); // 48 bytes, 6 graphemes
    let reply = post_json(
        &app,
        CREATE,
        &json!({"text": long, "langs": ["en", "toolong"]}).to_string(),
    )
    .await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &[
            "text: maxLength: 48 bytes, at most 40 allowed",
            "langs[1]: maxLength: 7 bytes, at most 5 allowed",
        ],
    );
}

#[tokio::test]
async fn procedure_without_input_ignores_the_body() {
    let app = app();
    let reply = post(&app, RESET, Some("text/plain"), "whatever {{{").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    let reply = post(&app, RESET, None, Body::empty()).await;
    assert_eq!(reply.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------
// Body size.
// ---------------------------------------------------------------------------

fn small_app(limit: usize) -> Router {
    XrpcRouter::new(Things)
        .mount(register)
        .body_limit(limit)
        .into_router()
}

#[tokio::test]
async fn oversized_body_with_content_length() {
    let app = small_app(64);
    let body = vec![b'x'; 100];
    let reply = send(
        &app,
        http::Request::post(UPLOAD)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, "100")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    reply.assert_error(413, "PayloadTooLarge", &["64 bytes"]);
}

#[tokio::test]
async fn oversized_body_without_content_length() {
    let app = small_app(64);
    let reply = post(
        &app,
        UPLOAD,
        Some("application/octet-stream"),
        vec![b'x'; 65],
    )
    .await;
    reply.assert_error(413, "PayloadTooLarge", &["64 bytes"]);

    // In chunks, with no size known in advance.
    let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from_static(&[b'y'; 10])));
    let reply = post(
        &app,
        UPLOAD,
        Some("application/octet-stream"),
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
    .await;
    reply.assert_error(413, "PayloadTooLarge", &["64 bytes"]);

    // A Content-Length that lies is not trusted.
    let reply = send(
        &app,
        http::Request::post(CREATE)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, "10")
            .body(Body::from(json!({"text": "x".repeat(200)}).to_string()))
            .unwrap(),
    )
    .await;
    reply.assert_error(413, "PayloadTooLarge", &["64 bytes"]);
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let app = small_app(64);
    let reply = post(
        &app,
        UPLOAD,
        Some("application/octet-stream"),
        vec![7u8; 64],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body.len(), 64);

    let chunks = (0..8).map(|i| Ok::<_, std::io::Error>(Bytes::from(vec![i as u8; 8])));
    let reply = post(
        &app,
        UPLOAD,
        Some("application/octet-stream"),
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let expected: Vec<u8> = (0..8).flat_map(|i| [i as u8; 8]).collect();
    assert_eq!(&reply.body[..], &expected[..]);
}

#[tokio::test]
async fn default_body_limit_is_one_mebibyte() {
    assert_eq!(DEFAULT_BODY_LIMIT, 1024 * 1024);
    let app = app();
    let reply = post(
        &app,
        UPLOAD,
        Some("application/octet-stream"),
        vec![0u8; DEFAULT_BODY_LIMIT],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = post(
        &app,
        UPLOAD,
        Some("application/octet-stream"),
        vec![0u8; DEFAULT_BODY_LIMIT + 1],
    )
    .await;
    reply.assert_error(413, "PayloadTooLarge", &["1048576 bytes"]);
}

// ---------------------------------------------------------------------------
// Binary bodies and empty outputs.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn binary_round_trip() {
    let app = app();
    let data: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let reply = post(&app, UPLOAD, Some("image/png"), data.clone()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("image/png"));
    assert_eq!(&reply.body[..], &data[..]);

    // `*/*` takes anything.
    let reply = post(&app, UPLOAD, Some("application/x-whatever; v=2"), "text").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("application/x-whatever; v=2")
    );
    assert_eq!(&reply.body[..], b"text");

    // But still needs a body and a Content-Type.
    let reply = post(&app, UPLOAD, Some("image/png"), Body::empty()).await;
    reply.assert_error(400, "InvalidRequest", &["body", "required"]);
    let reply = post(&app, UPLOAD, None, data).await;
    reply.assert_error(400, "InvalidRequest", &["Content-Type"]);
}

#[tokio::test]
async fn mime_wildcards_match_the_type() {
    let app = app();
    let reply = post(&app, AVATAR, Some("image/png"), vec![1, 2, 3]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"mimeType": "image/png", "size": 3}));
    let reply = post(&app, AVATAR, Some("IMAGE/JPEG"), vec![1]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = post(&app, AVATAR, Some("text/plain"), vec![1]).await;
    reply.assert_error(
        400,
        "InvalidRequest",
        &["Wrong request encoding (Content-Type): text/plain, expected image/*, application/pdf"],
    );
}

#[tokio::test]
async fn an_encoding_listing_several_types_accepts_each() {
    let app = app();
    let reply = post(&app, AVATAR, Some("application/pdf"), vec![1, 2]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({"mimeType": "application/pdf", "size": 2})
    );
    let reply = post(&app, AVATAR, Some("application/json"), vec![1]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn no_body_output_is_an_empty_200() {
    let reply = post_json(&app(), DELETE, r#"{"id": "thing-1"}"#).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("content-type"), None);
}

// ---------------------------------------------------------------------------
// Handler errors.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn declared_error_with_default_status() {
    let app = app();
    let reply = post_json(&app, DELETE, r#"{"id": "missing"}"#).await;
    reply.assert_error(400, "ThingNotFound", &["no thing `missing`"]);

    let reply = post_json(&app, DELETE, r#"{"id": "bare"}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json(), json!({"error": "ThingNotFound"}));
}

#[tokio::test]
async fn declared_error_with_custom_status() {
    let reply = post_json(&app(), DELETE, r#"{"id": "locked"}"#).await;
    reply.assert_error(409, "ThingLocked", &["is locked"]);
}

#[tokio::test]
async fn undeclared_error_is_an_internal_error() {
    let reply = post_json(&app(), DELETE, r#"{"id": "undeclared"}"#).await;
    let message = reply.assert_error(500, "InternalServerError", &[]);
    assert_eq!(message, "handler returned an undeclared error `Mystery`");
}

#[tokio::test]
async fn declared_error_with_a_success_status_is_an_internal_error() {
    let reply = post_json(&app(), DELETE, r#"{"id": "not-an-error-status"}"#).await;
    reply.assert_error(500, "InternalServerError", &["ThingLocked", "204"]);
}

#[tokio::test]
async fn common_error_keeps_its_status() {
    let reply = post_json(&app(), DELETE, r#"{"id": "forbidden"}"#).await;
    reply.assert_error(403, "Forbidden", &["not yours"]);
}

#[tokio::test]
async fn panicking_handler_is_an_internal_error() {
    let app = app();
    let reply = post_json(&app, DELETE, r#"{"id": "panic"}"#).await;
    reply.assert_error(500, "InternalServerError", &["panicked"]);
    // The router goes on serving.
    let reply = post_json(&app, DELETE, r#"{"id": "fine"}"#).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_sets_reset_headers() {
    let app = app();
    let before = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let reply = post_json(&app, DELETE, r#"{"id": "rate-limited"}"#).await;
    reply.assert_error(429, "RateLimitExceeded", &["slow down"]);
    let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry_after), "{retry_after}");
    let reset: u64 = reply.header("ratelimit-reset").unwrap().parse().unwrap();
    assert!(
        (before + 30..=before + 32).contains(&reset),
        "{reset} vs {before}"
    );

    // A reset in the past: retry now; whole seconds round up.
    let reply = post_json(&app, DELETE, r#"{"id": "rate-limited-fixed"}"#).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("0"));
    assert_eq!(reply.header("ratelimit-reset"), Some("1700000001"));

    // No reset known: no headers.
    let reply = post_json(&app, DELETE, r#"{"id": "rate-limited-no-reset"}"#).await;
    reply.assert_error(429, "RateLimitExceeded", &["slow down"]);
    assert_eq!(reply.header("retry-after"), None);
    assert_eq!(reply.header("ratelimit-reset"), None);
}

// ---------------------------------------------------------------------------
// Authentication.
// ---------------------------------------------------------------------------

fn with_auth(uri: &str, authorization: &str) -> http::Request<Body> {
    http::Request::get(uri)
        .header(header::AUTHORIZATION, authorization)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn authenticator_names_the_caller() {
    let app = app();
    let reply = send(
        &app,
        with_auth(&format!("{LIST}?actor=private"), "Bearer did:plc:alice123"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["caller"], "did:plc:alice123");
}

#[tokio::test]
async fn authenticator_accepts_anonymous_callers() {
    let app = app();
    let reply = get(&app, &format!("{LIST}?actor=public")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["caller"], Value::Null);
    // The handler requires a caller for this one.
    let reply = get(&app, &format!("{LIST}?actor=private")).await;
    reply.assert_error(401, "AuthenticationRequired", &["requires authentication"]);
}

#[tokio::test]
async fn authenticator_rejects_bad_tokens() {
    let app = app();
    let reply = send(&app, with_auth(&format!("{LIST}?actor=a"), "Bearer nope")).await;
    reply.assert_error(400, "InvalidToken", &["bad bearer token"]);
    let reply = send(&app, with_auth(&format!("{LIST}?actor=a"), "Basic abc")).await;
    reply.assert_error(400, "InvalidToken", &["not a bearer token"]);
    let reply = send(
        &app,
        with_auth(&format!("{LIST}?actor=a"), "Bearer expired"),
    )
    .await;
    reply.assert_error(400, "ExpiredToken", &["expired"]);
}

#[tokio::test]
async fn authenticator_runs_before_params_and_input() {
    let app = app();
    // Invalid params, bad token: the token is what is reported.
    let reply = send(&app, with_auth(&format!("{LIST}?limit=abc"), "Bearer nope")).await;
    reply.assert_error(400, "InvalidToken", &[]);
    // Malformed body, bad token.
    let reply = send(
        &app,
        http::Request::post(CREATE)
            .header(header::AUTHORIZATION, "Bearer nope")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{{{{"))
            .unwrap(),
    )
    .await;
    reply.assert_error(400, "InvalidToken", &[]);
}

#[tokio::test]
async fn authenticator_requiring_credentials() {
    let app = XrpcRouter::new(Things)
        .mount(register)
        .authenticate(|headers| match bearer_did(headers)? {
            Some(did) => Ok(Some(did)),
            None => Err(CommonError::AuthenticationRequired {
                message: Some("sign in first".to_owned()),
            }),
        })
        .into_router();
    let reply = get(&app, &format!("{LIST}?actor=a")).await;
    reply.assert_error(401, "AuthenticationRequired", &["sign in first"]);
    let reply = send(
        &app,
        with_auth(&format!("{LIST}?actor=a"), "Bearer did:web:example.com"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["caller"], "did:web:example.com");
}

// ---------------------------------------------------------------------------
// Building routers.
// ---------------------------------------------------------------------------

/// A second service, with only `getSecret`.
struct Vault;

impl Service for Vault {
    async fn get_secret(&self, _request: Request<GetSecret>) -> HandlerResult<GetSecret> {
        Ok(GetSecretOutput {
            secret: "hunter2".to_owned(),
        })
    }
}

#[tokio::test]
async fn merge_combines_services() {
    let vault = XrpcRouter::new(Vault).mount(|registry: &mut XrpcRouter<Vault>| {
        registry.add::<GetSecret, _, _>(|vault: Arc<Vault>, request| async move {
            vault.get_secret(request).await
        });
    });
    let app = XrpcRouter::from_arc(Arc::new(Things))
        .mount(register)
        .merge(vault)
        .into_router();
    let reply = get(&app, "/xrpc/com.example.test.getSecret").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"secret": "hunter2"}));
    let reply = get(&app, &format!("{LIST}?actor=alice")).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn bodies_go_through_the_endpoints_body_methods() {
    let app = XrpcRouter::new(Things)
        .mount(|registry: &mut XrpcRouter<Things>| {
            registry.add::<CreatePostMarked, _, _>(|_: Arc<Things>, request| async move {
                Ok(CreatePostOutput {
                    uri: "at://did:plc:test/com.example.post/1".to_owned(),
                    text: request.input.text,
                })
            });
        })
        .into_router();
    let reply = post_json(&app, CREATE, r#"{"text": "hi", "langs": []}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.json()["text"], json!("hi+decoded+encoded"));
}

#[tokio::test]
async fn mounting_again_replaces_the_handler() {
    let app = XrpcRouter::new(Things)
        .mount(register)
        .mount(|registry: &mut XrpcRouter<Things>| {
            registry.add::<ResetThings, _, _>(|_: Arc<Things>, _| async {
                Err(HandlerError::Common(CommonError::Forbidden {
                    message: Some("replaced".to_owned()),
                }))
            });
        })
        .into_router();
    let reply = post(&app, RESET, None, Body::empty()).await;
    reply.assert_error(403, "Forbidden", &["replaced"]);
}

#[test]
fn debug_lists_the_endpoints() {
    let router = XrpcRouter::new(Things).mount(register).body_limit(10);
    let text = format!("{router:?}");
    assert!(text.contains("com.example.test.listThings"), "{text}");
    assert!(text.contains("body_limit: 10"), "{text}");
}

// ---------------------------------------------------------------------------
// Over a real socket.
// ---------------------------------------------------------------------------

/// Sends `request` as is over a new connection and reads the whole answer
/// (the request asks for `Connection: close`).
async fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8(answer).unwrap()
}

#[tokio::test]
async fn serves_over_loopback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app()).await });

    let answer = raw_http(
        addr,
        b"GET /xrpc/com.example.test.listThings?actor=alice&limit=3 HTTP/1.1\r\n\
          Host: localhost\r\nAuthorization: Bearer did:plc:alice123\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{answer}"
    );
    assert!(
        answer.ends_with(r#"{"actor":"alice","limit":3,"tags":[],"caller":"did:plc:alice123"}"#),
        "{answer}"
    );

    let body = r#"{"text": 12}"#;
    let request = format!(
        "POST /xrpc/com.example.test.createPost HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = raw_http(addr, request.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#""error":"InvalidRequest""#), "{answer}");

    let body = r#"{"id": "panic"}"#;
    let request = format!(
        "POST /xrpc/com.example.test.deleteThing HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = raw_http(addr, request.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains(r#""error":"InternalServerError""#),
        "{answer}"
    );

    // A declared length over the limit is refused before any body is sent.
    let answer = raw_http(
        addr,
        b"POST /xrpc/com.example.test.uploadBlob HTTP/1.1\r\nHost: localhost\r\n\
          Content-Type: image/png\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#""error":"PayloadTooLarge""#), "{answer}");

    server.abort();
}
