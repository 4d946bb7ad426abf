//! Bindings other than XRPC, through client and server together: path
//! templates, several methods on one path, form bodies, authentication
//! schemes and envelopes. The endpoints are test lexicons written as
//! `atlex-codegen` writes bindings, with the runtime's derives.

#![cfg(all(feature = "client", feature = "server"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atlex::binding::{BodyFormat, Envelope};
use atlex::client::{Client, Error, TransportKind};
use atlex::error::CommonError;
use atlex::server::XrpcRouter;
use atlex::service::{HandlerError, HandlerResult, Registry, Request};
use atlex::xrpc::UnknownError;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Endpoints, as atlex-codegen writes them from a lexicon and a binding file:
// a module each, with the runtime's derives. They share the parts below.
// ---------------------------------------------------------------------------

/// The errors of the endpoints below: `NotFound`, `Gone`, and the unknown
/// case.
#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::EndpointError)]
enum ItemError {
    NotFound {
        message: Option<String>,
    },
    Gone {
        message: Option<String>,
    },
    #[lex(unknown)]
    Unknown(UnknownError),
}

/// `{"ok": …}` envelopes: success flag `/ok`, errors at `/error/code` and
/// `/error/message`, `NotFound` sent with 404, `Gone` with 410, and the API's
/// own names for two common errors.
const ENVELOPE: Envelope = Envelope::new("/error/code")
    .with_ok_flag("/ok")
    .with_error_message("/error/message")
    .with_error_statuses(&[("NotFound", 404), ("Gone", 410)])
    .with_status_errors(&[(429, "RateLimitExceeded")])
    .with_common_names(&[
        ("InvalidRequest", "bad_request"),
        ("ExpiredToken", "token_expired"),
    ]);

/// Parameters of the item endpoints: `shelf` and `item` fill the path,
/// `verbose` goes in the query.
#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Params)]
struct ItemParams {
    shelf: String,
    #[lex(check(minimum = 1))]
    item: i64,
    verbose: Option<bool>,
}

/// What the item endpoints answer.
#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
struct ItemOutput {
    ok: bool,
    shelf: String,
    item: i64,
    verbose: Option<bool>,
    note: Option<String>,
}

/// A note to put on an item: a string, a number, a flag and a list.
#[derive(Clone, Debug, PartialEq, Eq, atlex::rt::Object)]
struct NoteInput {
    text: String,
    stars: i64,
    pinned: bool,
    tags: Option<Vec<String>>,
}

/// `com.example.shelf.getItem`.
mod get_item {
    pub(crate) use super::{ItemError as Error, ItemOutput as Output, ItemParams as Params};
    use atlex::binding::{Binding, HttpMethod};

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        query = "com.example.shelf.getItem",
        params,
        output = "application/json",
        binding = BINDING
    )]
    pub(crate) struct GetItem;

    const BINDING: Binding = Binding::http(HttpMethod::Get, "/shelves/{shelf}/items/{item}")
        .with_envelope(super::ENVELOPE);
}

use get_item::GetItem;

/// `com.example.shelf.deleteItem`: the same path as getItem.
mod delete_item {
    pub(crate) use super::{ItemError as Error, ItemOutput as Output, ItemParams as Params};
    use atlex::binding::{Binding, HttpMethod};

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "com.example.shelf.deleteItem",
        params,
        output = "application/json",
        binding = BINDING
    )]
    pub(crate) struct DeleteItem;

    const BINDING: Binding = Binding::http(HttpMethod::Delete, "/shelves/{shelf}/items/{item}")
        .with_envelope(super::ENVELOPE)
        .with_check_request(false);
}

use delete_item::DeleteItem;

/// `com.example.shelf.noteItem`: a body as a form or JSON, an API key and
/// a bearer token.
mod note_item {
    pub(crate) use super::{
        ItemError as Error, ItemOutput as Output, ItemParams as Params, NoteInput as Input,
    };
    use atlex::binding::{Auth, BearerUse, Binding, BodyFormat, HttpMethod};

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "com.example.shelf.noteItem",
        params,
        input = "application/json",
        output = "application/json",
        binding = BINDING
    )]
    pub(crate) struct NoteItem;

    const BINDING: Binding = Binding::http(HttpMethod::Put, "/shelves/{shelf}/items/{item}/note")
        .with_body(&[BodyFormat::Form, BodyFormat::Json])
        .with_auth(Auth::api_key("X-Key").with_bearer(BearerUse::Required))
        .with_envelope(super::ENVELOPE);
}

use note_item::NoteItem;

/// `com.example.shelf.badTemplate`: a path template the router refuses.
mod bad_template {
    pub(crate) use super::{ItemError as Error, ItemOutput as Output, ItemParams as Params};
    use atlex::binding::{Binding, HttpMethod};

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        query = "com.example.shelf.badTemplate",
        params,
        output = "application/json",
        binding = BINDING
    )]
    pub(crate) struct BadTemplate;

    const BINDING: Binding = Binding::http(HttpMethod::Get, "/shelves/{x}{y}");
}

use bad_template::BadTemplate;

/// `com.example.shelf.rawUpload`: a PNG as the body, which a binding that
/// only takes forms cannot send.
mod raw_upload {
    pub(crate) use super::{ItemError as Error, ItemOutput as Output, ItemParams as Params};
    use atlex::binding::{Binding, BodyFormat, HttpMethod};

    pub(crate) type Input = atlex::rt::Binary;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, atlex::rt::Endpoint)]
    #[lex(
        procedure = "com.example.shelf.rawUpload",
        params,
        input = "image/png",
        output = "application/json",
        binding = BINDING
    )]
    pub(crate) struct RawUpload;

    const BINDING: Binding =
        Binding::http(HttpMethod::Post, "/upload/{shelf}/{item}").with_body(&[BodyFormat::Form]);
}

use raw_upload::RawUpload;

/// `XrpcRouter` serving the endpoints above, with a call counter.
#[derive(Default)]
struct Shelf {
    calls: AtomicUsize,
}

fn register(registry: &mut XrpcRouter<Shelf>) {
    registry.add::<GetItem, _, _>(|shelf: Arc<Shelf>, request: Request<GetItem>| async move {
        shelf.calls.fetch_add(1, Ordering::Relaxed);
        let ItemParams {
            shelf: name,
            item,
            verbose,
        } = request.params;
        match item {
            404 => Err(HandlerError::endpoint(ItemError::NotFound {
                message: Some(format!("no item {item}")),
            })),
            410 => Err(HandlerError::endpoint(ItemError::Gone { message: None })),
            418 => Err(HandlerError::endpoint(ItemError::Unknown(UnknownError {
                error: "Teapot".to_owned(),
                message: None,
            }))),
            419 => Err(HandlerError::Common(CommonError::ExpiredToken {
                message: None,
            })),
            // An output the envelope reads as a failure: a bug.
            500 => Ok(ItemOutput {
                ok: false,
                shelf: name,
                item,
                verbose,
                note: None,
            }),
            _ => HandlerResult::<GetItem>::Ok(ItemOutput {
                ok: true,
                shelf: name,
                item,
                verbose,
                note: None,
            }),
        }
    });
    registry.add::<DeleteItem, _, _>(
        |shelf: Arc<Shelf>, request: Request<DeleteItem>| async move {
            shelf.calls.fetch_add(1, Ordering::Relaxed);
            Ok(ItemOutput {
                ok: true,
                shelf: format!("deleted from {}", request.params.shelf),
                item: request.params.item,
                verbose: None,
                note: None,
            })
        },
    );
    registry.add::<NoteItem, _, _>(|shelf: Arc<Shelf>, request: Request<NoteItem>| async move {
        shelf.calls.fetch_add(1, Ordering::Relaxed);
        let NoteInput {
            text,
            stars,
            pinned,
            tags,
        } = request.input;
        let key = request
            .context
            .header("x-key")
            .unwrap_or_default()
            .to_owned();
        let token = request
            .context
            .bearer_token()
            .unwrap_or_default()
            .to_owned();
        Ok(ItemOutput {
            ok: true,
            shelf: request.params.shelf,
            item: request.params.item,
            verbose: Some(pinned),
            note: Some(format!("{text}|{stars}|{tags:?}|{key}|{token}")),
        })
    });
    registry.add::<BadTemplate, _, _>(|_: Arc<Shelf>, _: Request<BadTemplate>| async move {
        HandlerResult::<BadTemplate>::Err(HandlerError::not_implemented())
    });
}

async fn start() -> (Arc<Shelf>, String) {
    let shelf = Arc::new(Shelf::default());
    let app = XrpcRouter::from_arc(Arc::clone(&shelf))
        .mount(register)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (shelf, format!("http://{addr}"))
}

fn params(shelf: &str, item: i64) -> ItemParams {
    ItemParams {
        shelf: shelf.to_owned(),
        item,
        verbose: None,
    }
}

async fn raw(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value, String) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body.to_owned()).send().await.unwrap();
    let status = response.status().as_u16();
    let allow = response
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        allow,
    )
}

// ---------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn path_variables_are_filled_encoded_and_read_back() {
    let (_, base) = start().await;
    let client = Client::new(&base).unwrap();
    let mut p = params("a b/c é?", 7);
    p.verbose = Some(true);
    let out = client.query(GetItem, &p).await.unwrap();
    assert_eq!(out.shelf, "a b/c é?");
    assert_eq!(out.item, 7);
    assert_eq!(out.verbose, Some(true));

    // On the wire: variables in the path, the rest in the query string.
    let (status, body, _) = raw(
        "GET",
        &format!("{base}/shelves/x%2Fy/items/3?verbose=false"),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"ok": true, "shelf": "x/y", "item": 3, "verbose": false})
    );

    // A path variable given again in the query is refused, as is one that
    // does not parse or breaks the lexicon.
    for path in [
        "/shelves/x/items/3?item=4",
        "/shelves/x/items/three",
        "/shelves/x/items/0",
    ] {
        let (status, body, _) = raw("GET", &format!("{base}{path}"), &[], "").await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["ok"], json!(false), "{path}");
        assert_eq!(
            body["error"]["code"],
            json!("bad_request"),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn a_path_variable_that_cannot_be_a_segment_is_refused_before_sending() {
    let (shelf, base) = start().await;
    let client = Client::new(&base).unwrap();
    for bad in ["", ".", ".."] {
        let error = client.query(GetItem, &params(bad, 1)).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidInput { .. }),
            "{bad:?}: {error:?}"
        );
    }
    // The lexicon's `minimum: 1`, checked because the binding asks.
    let error = client.query(GetItem, &params("x", 0)).await.unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    assert_eq!(shelf.calls.load(Ordering::Relaxed), 0);
    // deleteItem's binding does not check: the server refuses instead.
    let error = client
        .call(DeleteItem, &params("x", 0), &())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Common {
                status: 400,
                error: CommonError::InvalidRequest { .. }
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn one_path_several_methods() {
    let (_, base) = start().await;
    let client = Client::new(&base).unwrap();
    let got = client.query(GetItem, &params("s", 5)).await.unwrap();
    assert_eq!(got.shelf, "s");
    let deleted = client.call(DeleteItem, &params("s", 5), &()).await.unwrap();
    assert_eq!(deleted.shelf, "deleted from s");

    let (status, body, allow) = raw("POST", &format!("{base}/shelves/s/items/5"), &[], "").await;
    assert_eq!(status, 400);
    assert_eq!(allow, "GET, HEAD, DELETE");
    assert_eq!(body["error"]["code"], json!("bad_request"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected GET or DELETE"),
        "{body}"
    );
    let (status, body, _) = raw("HEAD", &format!("{base}/shelves/s/items/5"), &[], "").await;
    assert_eq!((status, body), (200, Value::Null));
}

#[tokio::test]
async fn errors_go_through_the_envelope_both_ways() {
    let (_, base) = start().await;
    let client = Client::new(&base).unwrap();
    let error = client.query(GetItem, &params("s", 404)).await.unwrap_err();
    assert_eq!(
        format!("{error:?}"),
        format!(
            "{:?}",
            Error::<ItemError>::Endpoint {
                status: 404,
                error: ItemError::NotFound {
                    message: Some("no item 404".to_owned())
                }
            }
        )
    );
    let (status, body, _) = raw("GET", &format!("{base}/shelves/s/items/404"), &[], "").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"ok": false, "error": {"code": "NotFound", "message": "no item 404"}})
    );
    let error = client.query(GetItem, &params("s", 410)).await.unwrap_err();
    assert!(matches!(
        error,
        Error::Endpoint {
            status: 410,
            error: ItemError::Gone { message: None }
        }
    ));

    // An undeclared name from the handler is a bug: 500 in the envelope.
    let error = client.query(GetItem, &params("s", 418)).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Common {
                status: 500,
                error: CommonError::InternalServerError { .. }
            }
        ),
        "{error:?}"
    );
    // So is an output the envelope reads as a failure.
    let (status, body, _) = raw("GET", &format!("{base}/shelves/s/items/500"), &[], "").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["code"], json!("InternalServerError"));
    // A common error with the API's name is read back as the common error.
    let error = client.query(GetItem, &params("s", 419)).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Common {
                error: CommonError::ExpiredToken { .. },
                ..
            }
        ),
        "{error:?}"
    );
    let (_, body, _) = raw("GET", &format!("{base}/shelves/s/items/419"), &[], "").await;
    assert_eq!(body["error"]["code"], json!("token_expired"));
}

#[tokio::test]
async fn the_apis_expired_token_name_triggers_a_refresh() {
    let (_, base) = start().await;
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&refreshes);
    let client = Client::builder(&base)
        .bearer("old")
        .on_expired_token(move || {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                Ok::<_, std::io::Error>("new".to_owned())
            }
        })
        .build()
        .unwrap();
    let error = client.query(GetItem, &params("s", 419)).await.unwrap_err();
    assert!(matches!(
        error,
        Error::Common {
            error: CommonError::ExpiredToken { .. },
            ..
        }
    ));
    assert_eq!(refreshes.load(Ordering::Relaxed), 1);
    assert_eq!(client.access_token().as_deref(), Some("new"));
}

#[tokio::test]
async fn form_and_json_bodies_with_key_and_bearer() {
    let (shelf, base) = start().await;
    let input = NoteInput {
        text: "a & b = c".to_owned(),
        stars: 5,
        pinned: true,
        tags: Some(vec!["x".to_owned(), "y".to_owned()]),
    };
    let client = Client::builder(&base)
        .api_key("k1")
        .bearer("t1")
        .build()
        .unwrap();
    // The binding's first format is a form.
    let out = client
        .call(NoteItem, &params("s", 2), &input)
        .await
        .unwrap();
    assert_eq!(
        out.note.as_deref(),
        Some(r#"a & b = c|5|Some(["x", "y"])|k1|t1"#)
    );
    assert_eq!(out.verbose, Some(true));
    let json_client = Client::builder(&base)
        .api_key("k2")
        .bearer("t2")
        .body_format(BodyFormat::Json)
        .build()
        .unwrap();
    let out = json_client
        .call(NoteItem, &params("s", 2), &input)
        .await
        .unwrap();
    assert_eq!(
        out.note.as_deref(),
        Some(r#"a & b = c|5|Some(["x", "y"])|k2|t2"#)
    );

    // On the wire.
    let url = format!("{base}/shelves/s/items/2/note");
    let auth = [("x-key", "k"), ("authorization", "Bearer t")];
    let form = [
        auth[0],
        auth[1],
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let (status, body, _) = raw("PUT", &url, &form, "text=hi&stars=3&pinned=false").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["note"], json!("hi|3|None|k|t"));
    let (status, body, _) = raw("PUT", &url, &form, "text=hi&stars=many&pinned=false").await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("stars"),
        "{body}"
    );
    let (status, _, _) = raw("PUT", &url, &form, "text=hi&text=again&stars=1&pinned=1").await;
    assert_eq!(status, 400);
    let json_type = [auth[0], auth[1], ("content-type", "application/json")];
    let (status, body, _) = raw(
        "PUT",
        &url,
        &json_type,
        r#"{"text":"j","stars":1,"pinned":true}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let other = [auth[0], auth[1], ("content-type", "text/plain")];
    let (status, body, _) = raw("PUT", &url, &other, "hi").await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected application/x-www-form-urlencoded or application/json"),
        "{body}"
    );

    // The scheme's credentials are required, on both sides.
    let calls = shelf.calls.load(Ordering::Relaxed);
    let (status, body, _) = raw("PUT", &url, &[auth[1], form[2]], "text=a&stars=1&pinned=1").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], json!("AuthenticationRequired"));
    let (status, _, _) = raw("PUT", &url, &[auth[0], form[2]], "text=a&stars=1&pinned=1").await;
    assert_eq!(status, 401);
    assert_eq!(shelf.calls.load(Ordering::Relaxed), calls);
    for client in [
        Client::builder(&base).bearer("t").build().unwrap(),
        Client::builder(&base).api_key("k").build().unwrap(),
    ] {
        let error = client
            .call(NoteItem, &params("s", 2), &input)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Transport {
                    kind: TransportKind::Build,
                    ..
                }
            ),
            "{error:?}"
        );
    }
    assert!(
        Client::builder(&base).api_key("bad\nkey").build().is_err(),
        "a key that is not a header value fails the build"
    );
}

#[tokio::test]
async fn a_binary_body_cannot_be_a_form() {
    let client = Client::new("http://127.0.0.1:9").unwrap();
    let error = client
        .call(
            RawUpload,
            &params("s", 1),
            &atlex::xrpc::Binary::new("image/png", vec![1, 2]),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Encode { .. }), "{error:?}");
}

#[tokio::test]
async fn bad_templates_are_not_mounted_and_nesting_works() {
    let app = XrpcRouter::new(Shelf::default())
        .mount(register)
        .into_router();
    let nested = axum::Router::new().nest("/api", app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, nested).await });
    let base = format!("http://{addr}/api");
    let out = Client::new(&base)
        .unwrap()
        .query(GetItem, &params("n", 9))
        .await
        .unwrap();
    assert_eq!(out.shelf, "n");
    let (status, _, _) = raw("GET", &format!("{base}/shelves/{{x}}{{y}}"), &[], "").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn hostile_success_bodies_do_not_panic() {
    use axum::routing::get;
    let bodies: Vec<(u16, &'static str)> = vec![
        (200, "not json"),
        (200, "[1,2]"),
        (200, r#"{"ok":"yes"}"#),
        (200, r#"{"ok":false,"error":{"code":5}}"#),
        (200, r#"{"ok":false,"error":"flat"}"#),
        (503, ""),
        (404, r#"{"ok":false,"error":{"code":"NotFound"}}"#),
    ];
    for (status, body) in bodies {
        let app = axum::Router::new().route(
            "/shelves/{s}/items/{i}",
            get(move || async move {
                let mut response = axum::response::Response::new(axum::body::Body::from(body));
                *response.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                response
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let error = Client::new(&format!("http://{addr}"))
            .unwrap()
            .query(GetItem, &params("s", 1))
            .await
            .unwrap_err();
        match (status, &error) {
            (
                404,
                Error::Endpoint {
                    error: ItemError::NotFound { message: None },
                    ..
                },
            ) => {}
            (_, Error::Http { status: s, .. }) if *s == status => {}
            _ => panic!("{status} {body}: {error:?}"),
        }
    }
}
