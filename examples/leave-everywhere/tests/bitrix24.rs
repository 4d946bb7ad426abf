//! `com.bitrix24.chats.leave` over loopback: the generated client against
//! the portal built on the generated `Service` trait (and a raw axum handler
//! where a test needs a server the trait cannot be).

use std::sync::Arc;

use atlex::client::{Client, Error, TransportKind};
use atlex::rt::EndpointError;
use atlex_lexicons::com::bitrix24::chats::leave;
use leave_everywhere::bitrix24::{
    self, APP_KEY, BitrixPortal, NO_IM_KEY, NO_TOKENS_KEY, PERSONAL_KEY, USER_2_SESSION,
};
use leave_everywhere::{LeaveOutcome, Outcome, serve};
use serde_json::{Value, json};

async fn portal() -> (Arc<BitrixPortal>, String) {
    let portal = Arc::new(BitrixPortal::demo());
    let base = serve(BitrixPortal::router_shared(Arc::clone(&portal)))
        .await
        .unwrap();
    (portal, base)
}

fn with_key(base: &str, key: &str) -> Client {
    Client::builder(base).api_key(key).build().unwrap()
}

async fn leave(client: &Client, chat_id: i64) -> Result<leave::Output, Error<leave::Error>> {
    client
        .call(leave::Leave, &leave::Params::new(chat_id), &())
        .await
}

/// A request from outside the atlex client: status and JSON body.
async fn post(base: &str, path: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("{base}{path}"));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn success_is_success_true_data_true() {
    let (portal, base) = portal().await;
    let out = leave(&with_key(&base, PERSONAL_KEY), 456).await.unwrap();
    assert_eq!(
        out,
        leave::Output::builder().success(true).data(true).build()
    );
    let chat = portal.chat(456).unwrap();
    assert!(!chat.members.contains(&1));
    assert_eq!(chat.owner, 1, "the owner stays the owner after leaving");

    // On the wire.
    let (status, body) = post(&base, "/v1/chats/789/leave", Some(APP_KEY)).await;
    assert_eq!((status, body["success"].clone()), (401, json!(false)));
    let (status, body) = post(&base, "/v1/chats/456/leave", Some(PERSONAL_KEY)).await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({"success": false, "error": {"code": "BITRIX_ERROR", "message": "You are not a member of this chat"}})
    );
}

#[tokio::test]
async fn documented_errors_are_typed_with_status_and_message() {
    let (portal, base) = portal().await;
    let personal = with_key(&base, PERSONAL_KEY);

    let error = leave(&personal, 1000).await.unwrap_err();
    match &error {
        Error::Endpoint {
            status: 422,
            error: leave::Error::BitrixError { message },
        } => assert_eq!(message.as_deref(), Some("Chat not found")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Err::<leave::Output, _>(error).outcome(),
        Outcome::NotAMember(_)
    ));

    portal.set_unavailable(true);
    let error = leave(&personal, 456).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Endpoint {
                status: 502,
                error: leave::Error::BitrixUnavailable { message: Some(m) },
            } if m == "Bitrix24 is unavailable"
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    portal.set_unavailable(false);

    let error = leave(&with_key(&base, NO_IM_KEY), 456).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Endpoint {
                status: 403,
                error: leave::Error::ScopeDenied { message: Some(m) },
            } if m.contains("im scope")
        ),
        "{error:?}"
    );

    let error = leave(&with_key(&base, NO_TOKENS_KEY), 456)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Endpoint {
                status: 401,
                error: leave::Error::TokenMissing { message: Some(_) },
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        Err::<leave::Output, _>(error).outcome(),
        Outcome::NotAllowed("TOKEN_MISSING: the API key has no configured tokens".to_owned())
    );

    // Each declared error, written by the generated server with the
    // binding's status.
    assert_eq!(
        <leave::Error as EndpointError>::DECLARED,
        [
            "BITRIX_ERROR",
            "BITRIX_UNAVAILABLE",
            "SCOPE_DENIED",
            "TOKEN_MISSING"
        ]
    );
}

#[tokio::test]
async fn an_undocumented_code_is_unknown() {
    let app = axum::Router::new().route(
        "/v1/chats/{id}/leave",
        axum::routing::post(|| async {
            let mut response = axum::response::Response::new(axum::body::Body::from(
                r#"{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}"#,
            ));
            *response.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
            response
        }),
    );
    let base = serve(app).await.unwrap();
    let error = leave(&with_key(&base, "k"), 1).await.unwrap_err();
    match error {
        Error::Endpoint {
            status: 429,
            error: leave::Error::Unknown(unknown),
        } => {
            assert_eq!(unknown.error, "RATE_LIMITED");
            assert_eq!(unknown.message.as_deref(), Some("slow down"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn chat_id_must_be_positive_before_anything_is_sent() {
    let (portal, base) = portal().await;
    let personal = with_key(&base, PERSONAL_KEY);
    for chat_id in [0, -1, i64::MIN] {
        let error = leave(&personal, chat_id).await.unwrap_err();
        match &error {
            Error::InvalidInput { nsid, error } => {
                assert_eq!(*nsid, "com.bitrix24.chats.leave");
                assert_eq!(error.violations[0].path, "chatId");
                assert_eq!(error.violations[0].constraint, "minimum");
            }
            other => panic!("{chat_id}: {other:?}"),
        }
    }
    assert!(portal.seen().is_empty(), "{:?}", portal.seen());

    // A server refuses them too, in Bitrix24's envelope.
    for path in [
        "/v1/chats/0/leave",
        "/v1/chats/abc/leave",
        "/v1/chats/-4/leave",
    ] {
        let (status, body) = post(&base, path, Some(PERSONAL_KEY)).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["success"], json!(false), "{path}");
        assert_eq!(body["error"]["code"], json!("InvalidRequest"), "{path}");
        assert!(body["error"]["message"].is_string(), "{path}");
    }
    assert!(portal.seen().is_empty());
}

#[tokio::test]
async fn the_api_key_always_and_the_bearer_when_configured() {
    let (portal, base) = portal().await;
    leave(&with_key(&base, PERSONAL_KEY), 456).await.unwrap();
    let app = Client::builder(&base)
        .api_key(APP_KEY)
        .bearer(USER_2_SESSION)
        .build()
        .unwrap();
    leave(&app, 789).await.unwrap();
    let seen = portal.seen();
    assert_eq!(
        seen,
        vec![
            bitrix24::Seen {
                api_key: Some(PERSONAL_KEY.to_owned()),
                bearer: None,
                chat_id: 456,
            },
            bitrix24::Seen {
                api_key: Some(APP_KEY.to_owned()),
                bearer: Some(USER_2_SESSION.to_owned()),
                chat_id: 789,
            },
        ]
    );
    assert!(!portal.chat(789).unwrap().members.contains(&2));

    // Without a key the client sends nothing, and a server refuses a
    // request without one.
    let error = leave(&Client::new(&base).unwrap(), 456).await.unwrap_err();
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
    let (status, body) = post(&base, "/v1/chats/456/leave", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], json!("AuthenticationRequired"));
    assert_eq!(portal.seen().len(), 2);
}
