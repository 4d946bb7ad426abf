//! `com.slack.conversations.leave` over loopback: the generated client
//! against servers built on the generated `Service` trait (and, where a test
//! needs a server that misbehaves or answers what the trait cannot, a raw
//! axum handler).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use atlex::binding::BodyFormat;
use atlex::client::{Client, Error, TransportKind};
use atlex::error::CommonError;
use atlex::rt::{EndpointError, Request};
use atlex::server::XrpcRouter;
use atlex::service::{HandlerError, HandlerResult};
use atlex_lexicons::com::slack::conversations::{self, leave};
use leave_everywhere::slack::{ALICE_TOKEN, SlackWorkspace};
use leave_everywhere::{LeaveOutcome, Outcome, serve};
use serde_json::{Value, json};

fn input(channel: &str) -> leave::Input {
    leave::Input::new(channel.to_owned())
}

async fn workspace() -> (Arc<SlackWorkspace>, String) {
    let workspace = Arc::new(SlackWorkspace::demo());
    let base = serve(SlackWorkspace::router_shared(Arc::clone(&workspace)))
        .await
        .unwrap();
    (workspace, base)
}

/// A request from outside the atlex client: status, headers and JSON body.
async fn post(
    base: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/conversations.leave"))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

fn client(base: &str, token: &str) -> Client {
    Client::builder(base).bearer(token).build().unwrap()
}

/// A raw server answering every request with `status`, `headers` and `body`.
async fn raw(status: u16, headers: &'static [(&'static str, &'static str)], body: Value) -> String {
    let app = axum::Router::new().route(
        "/conversations.leave",
        axum::routing::post(move || {
            let body = body.clone();
            async move {
                let mut response = axum::response::Response::new(axum::body::Body::from(
                    serde_json::to_vec(&body).unwrap(),
                ));
                *response.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
                for (name, value) in headers {
                    response
                        .headers_mut()
                        .insert(*name, axum::http::HeaderValue::from_static(value));
                }
                response
            }
        }),
    );
    serve(app).await.unwrap()
}

#[tokio::test]
async fn ok_true_is_success() {
    let (workspace, base) = workspace().await;
    let out = client(&base, ALICE_TOKEN)
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap();
    assert!(out.ok);
    assert_eq!(out.not_in_channel, None);
    assert_eq!(out.warning, None);
    assert!(!workspace.is_member("C0RANDOM", "U0ALICE"));
}

#[tokio::test]
async fn not_in_channel_is_a_success_that_says_so() {
    let (_, base) = workspace().await;
    let alice = client(&base, ALICE_TOKEN);
    alice
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap();
    let again = alice.procedure(leave::Leave, &input("C0RANDOM")).await;
    let out = again.as_ref().unwrap();
    assert!(!out.ok);
    assert_eq!(out.not_in_channel, Some(true));
    assert_eq!(
        again.outcome(),
        Outcome::NotAMember("not_in_channel".to_owned())
    );

    // The same body from any server.
    let base = raw(200, &[], json!({"ok": false, "not_in_channel": true})).await;
    let out = client(&base, "t")
        .procedure(leave::Leave, &input("C1"))
        .await
        .unwrap();
    assert_eq!(out.not_in_channel, Some(true));
}

/// Answers the error named by the `channel` argument: a mock on the
/// generated trait that can give every declared error.
struct EveryError;

impl conversations::Service for EveryError {
    async fn leave(&self, request: Request<leave::Leave>) -> HandlerResult<leave::Leave> {
        Err(HandlerError::endpoint(leave::Error::from_parts(
            request.input.channel,
            Some("as asked".to_owned()),
        )))
    }
}

#[tokio::test]
async fn every_documented_error_is_its_typed_variant() {
    let app = XrpcRouter::new(EveryError)
        .mount(conversations::register)
        .into_router();
    let base = serve(app).await.unwrap();
    let alice = client(&base, ALICE_TOKEN);
    let declared = <leave::Error as EndpointError>::DECLARED;
    assert_eq!(
        declared.len(),
        38,
        "Slack documents 38 errors for this method"
    );
    for name in declared {
        let result = alice.procedure(leave::Leave, &input(name)).await;
        match result {
            // The binding sends `ratelimited` with HTTP 429, which means a
            // rate limit whatever the body says.
            Err(Error::Common {
                status: 429,
                error: CommonError::RateLimitExceeded { message, .. },
            }) if *name == "ratelimited" => {
                assert_eq!(message.as_deref(), Some("ratelimited"));
            }
            Err(Error::Endpoint { status, error }) => {
                assert_eq!(status, 200, "{name}: Slack answers errors with HTTP 200");
                assert_eq!(error.name(), *name);
                assert!(
                    !matches!(error, leave::Error::Unknown(_)),
                    "{name} decoded as unknown"
                );
                // Slack's envelope has no message field.
                assert_eq!(EndpointError::message(&error), None);
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    // With HTTP 200, `ratelimited` is the typed error too.
    let base = raw(200, &[], json!({"ok": false, "error": "ratelimited"})).await;
    let result = client(&base, "t")
        .procedure(leave::Leave, &input("C1"))
        .await;
    assert!(matches!(
        result,
        Err(Error::Endpoint {
            status: 200,
            error: leave::Error::Ratelimited { .. }
        })
    ));
}

#[tokio::test]
async fn demo_workspace_errors() {
    let (_, base) = workspace().await;
    let alice = client(&base, ALICE_TOKEN);
    for (channel, expected) in [
        ("C0GENERAL", "cant_leave_general"),
        ("C0OLD", "is_archived"),
        ("C0LONELY", "last_member"),
        ("C0NOPE", "channel_not_found"),
    ] {
        let error = alice
            .procedure(leave::Leave, &input(channel))
            .await
            .unwrap_err();
        assert_eq!(error.error_name(), Some(expected), "{channel}: {error}");
    }
    let guest = client(&base, leave_everywhere::slack::GUEST_TOKEN);
    let error = guest
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        Error::Endpoint {
            error: leave::Error::UserIsRestricted { .. },
            ..
        }
    ));
    // An unknown token: the handler's InvalidToken, under Slack's name.
    let error = client(&base, "xoxp-nobody")
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        Error::Endpoint {
            status: 200,
            error: leave::Error::InvalidAuth { .. }
        }
    ));
}

#[tokio::test]
async fn an_undocumented_error_is_unknown_with_its_name() {
    let base = raw(
        200,
        &[],
        json!({"ok": false, "error": "brand_new_error", "warning": "x"}),
    )
    .await;
    let error = client(&base, "t")
        .procedure(leave::Leave, &input("C1"))
        .await
        .unwrap_err();
    match error {
        Error::Endpoint {
            status: 200,
            error: leave::Error::Unknown(unknown),
        } => {
            assert_eq!(unknown.error, "brand_new_error");
            assert_eq!(unknown.message, None);
        }
        other => panic!("{other:?}"),
    }
    // No error name at all: an HTTP error with the body.
    let base = raw(200, &[], json!({"ok": false})).await;
    let error = client(&base, "t")
        .procedure(leave::Leave, &input("C1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Http { status: 200, body, .. } if body.contains("\"ok\"")),
        "{error:?}"
    );
}

#[tokio::test]
async fn warnings_reach_the_caller() {
    let warned = SlackWorkspace::demo().with_warnings(vec![
        leave::ResponseMetadataWarningsItem::SuperfluousCharset,
        leave::ResponseMetadataWarningsItem::Other("method_deprecated".to_owned()),
    ]);
    let base = serve(warned.router()).await.unwrap();
    let out = client(&base, ALICE_TOKEN)
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap();
    assert_eq!(
        out.warning.as_deref(),
        Some("superfluous_charset,method_deprecated")
    );
    let warnings = out.response_metadata.and_then(|m| m.warnings).unwrap();
    assert_eq!(
        warnings,
        vec![
            leave::ResponseMetadataWarningsItem::SuperfluousCharset,
            leave::ResponseMetadataWarningsItem::Other("method_deprecated".to_owned()),
        ]
    );

    // The mock warns as Slack does about a JSON body without a charset (the
    // atlex client always sends one).
    let (_, base) = workspace().await;
    let (status, _, body) = post(
        &base,
        Some(ALICE_TOKEN),
        "application/json",
        r#"{"channel":"C0RANDOM"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "ok": true,
            "warning": "missing_charset",
            "response_metadata": {"warnings": ["missing_charset"]}
        })
    );
}

#[tokio::test]
async fn rate_limits_carry_the_wait() {
    // A server that answers 429 with Retry-After (and Slack's body).
    let base = raw(
        429,
        &[("retry-after", "30")],
        json!({"ok": false, "error": "ratelimited"}),
    )
    .await;
    let before = SystemTime::now();
    let error = client(&base, "t")
        .procedure(leave::Leave, &input("C1"))
        .await
        .unwrap_err();
    let Error::Common {
        status: 429,
        error: CommonError::RateLimitExceeded {
            reset: Some(reset), ..
        },
    } = &error
    else {
        panic!("{error:?}");
    };
    let wait = reset.duration_since(before).unwrap();
    assert!((29..=31).contains(&wait.as_secs()), "{wait:?}");
    assert_eq!(error.retry_after(), Some(*reset));
    assert!(error.is_retryable());
    assert!(matches!(
        Err::<leave::Output, _>(error).outcome(),
        Outcome::RetryLater(Some(_))
    ));

    // 429 without a body is a rate limit too.
    let base = raw(429, &[("retry-after", "5")], Value::Null).await;
    let error = client(&base, "t")
        .procedure(leave::Leave, &input("C1"))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        Error::Common {
            error: CommonError::RateLimitExceeded { reset: Some(_), .. },
            ..
        }
    ));

    // The mock on the generated trait: a handler's RateLimitExceeded is
    // written as Slack writes it, 429 `ratelimited` with Retry-After.
    let (workspace, base) = workspace().await;
    workspace.rate_limit_for(Duration::from_secs(20));
    let error = client(&base, ALICE_TOKEN)
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap_err();
    let wait = error
        .retry_after()
        .and_then(|at| at.duration_since(SystemTime::now()).ok())
        .unwrap();
    assert!((15..=21).contains(&wait.as_secs()), "{wait:?}");
    let (status, headers, body) = post(
        &base,
        Some(ALICE_TOKEN),
        "application/x-www-form-urlencoded",
        "channel=C0RANDOM",
    )
    .await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(body, json!({"ok": false, "error": "ratelimited"}));
}

#[tokio::test]
async fn json_and_form_bodies_both_work_with_the_token_in_the_header() {
    let (workspace, base) = workspace().await;
    client(&base, ALICE_TOKEN)
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap();
    let bob = Client::builder(&base)
        .bearer("xoxp-bob")
        .body_format(BodyFormat::Form)
        .build()
        .unwrap();
    let out = bob
        .procedure(leave::Leave, &input("C0RANDOM"))
        .await
        .unwrap();
    assert!(out.ok);
    let seen = workspace.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(seen[0].bearer.as_deref(), Some(ALICE_TOKEN));
    assert_eq!(
        seen[1].content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[1].bearer.as_deref(), Some("xoxp-bob"));
    assert_eq!(seen[1].channel, "C0RANDOM");

    // Any client's form works too.
    let (status, _, body) = post(
        &base,
        Some(leave_everywhere::slack::GUEST_TOKEN),
        "application/x-www-form-urlencoded",
        "channel=C0NOPE",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"ok": false, "error": "channel_not_found"}));
}

#[tokio::test]
async fn the_token_is_required() {
    let (workspace, base) = workspace().await;
    // The client refuses to call without one.
    let error = Client::new(&base)
        .unwrap()
        .procedure(leave::Leave, &input("C0RANDOM"))
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
    // The server answers `not_authed` to a request without one.
    let (status, _, body) = post(
        &base,
        None,
        "application/json; charset=utf-8",
        r#"{"channel":"C0RANDOM"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"ok": false, "error": "not_authed"}));
    assert!(workspace.seen().is_empty());
}

#[tokio::test]
async fn bad_requests_are_answered_in_slacks_envelope() {
    let (workspace, base) = workspace().await;
    for (body, content_type) in [
        ("{}", "application/json"),
        ("{\"channel\":5}", "application/json"),
        ("channel=", "application/x-www-form-urlencoded"),
        ("<channel/>", "text/xml"),
        ("", "application/json"),
    ] {
        let (status, _, reply) = post(&base, Some(ALICE_TOKEN), content_type, body).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(reply["ok"], json!(false), "{body}");
        assert_eq!(
            reply["error"],
            json!("invalid_arguments"),
            "{body}: {reply}"
        );
    }
    // A wrong method: Allow says POST.
    let response = reqwest::Client::new()
        .get(format!("{base}/conversations.leave"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert!(workspace.seen().is_empty());

    // The client checks the lexicon's `minLength: 1` before sending.
    let error = client(&base, ALICE_TOKEN)
        .procedure(leave::Leave, &input(""))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    assert!(workspace.seen().is_empty());
}
