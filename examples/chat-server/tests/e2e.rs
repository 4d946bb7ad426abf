//! End to end over loopback: the generated client against the chat service
//! built on the generated server traits.
//!
//! - every seed endpoint (leaveConvo, listConvos, removeReaction) and each of
//!   its declared errors, through client and server;
//! - forward compatibility: an undeclared error name and an unknown union
//!   member from a (newer) server reach the client intact;
//! - a catalogue of bad input against the server, each answered with the
//!   right status and error name.

use std::sync::Arc;

use atlex::client::{Client, Error};
use atlex::error::CommonError;
use atlex::types::Did;
use atlex_lexicons::chat::bsky::convo::{
    add_reaction, defs, get_convo, get_convo_for_members, get_messages, leave_convo, list_convos,
    lock_convo, remove_reaction, send_message,
};
use atlex_lexicons::chat::bsky::group::create_group;
use chat_server::{ChatService, app_shared, demo_accounts};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

const ALICE: &str = "did:plc:alice000000000000000000a";
const BOB: &str = "did:plc:bob00000000000000000000b";
const CAROL: &str = "did:plc:carol000000000000000000c";

struct Harness {
    base: String,
    service: Arc<ChatService>,
}

impl Harness {
    async fn start() -> Self {
        let service = Arc::new(ChatService::new(demo_accounts()).unwrap());
        let base = serve(app_shared(Arc::clone(&service))).await;
        Self { base, service }
    }

    fn client(&self, token: &str) -> Client {
        Client::builder(&self.base).bearer(token).build().unwrap()
    }
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn did(s: &str) -> Did {
    s.parse().unwrap()
}

async fn direct(client: &Client, with: &str) -> defs::ConvoView {
    client
        .query(
            get_convo_for_members::GetConvoForMembers,
            &get_convo_for_members::Params::new(vec![did(with)]),
        )
        .await
        .unwrap()
        .convo
}

async fn group(client: &Client, name: &str) -> defs::ConvoView {
    client
        .procedure(
            create_group::CreateGroup,
            &create_group::Input::builder()
                .members(vec![did(BOB), did(CAROL)])
                .name(name.to_owned())
                .build(),
        )
        .await
        .unwrap()
        .convo
}

async fn send(client: &Client, convo_id: &str, text: &str) -> defs::MessageView {
    client
        .procedure(
            send_message::SendMessage,
            &send_message::Input::builder()
                .convo_id(convo_id.to_owned())
                .message(defs::MessageInput::new(text.to_owned()))
                .build(),
        )
        .await
        .unwrap()
}

async fn ids(client: &Client) -> Vec<String> {
    client
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap()
        .convos
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn leave(convo_id: &str) -> leave_convo::Input {
    leave_convo::Input::new(convo_id.to_owned())
}

// ---- leaveConvo -----------------------------------------------------------

#[tokio::test]
async fn leaving_a_direct_convo_only_hides_it_from_the_leaver() {
    let h = Harness::start().await;
    let (alice, bob) = (h.client("alice-token"), h.client("bob-token"));
    let convo = direct(&alice, BOB).await;
    send(&alice, &convo.id, "hi").await;
    let out = alice
        .procedure(leave_convo::LeaveConvo, &leave(&convo.id))
        .await
        .unwrap();
    assert_eq!(out.convo_id, convo.id);
    assert!(!out.rev.is_empty());
    assert!(!ids(&alice).await.contains(&convo.id));
    // Membership is kept: bob still lists it with both members.
    let seen_by_bob = bob
        .query(
            get_convo::GetConvo,
            &get_convo::Params::new(convo.id.clone()),
        )
        .await
        .unwrap()
        .convo;
    assert_eq!(seen_by_bob.members.len(), 2);
    assert!(ids(&bob).await.contains(&convo.id));
}

#[tokio::test]
async fn leave_convo_declared_errors() {
    let h = Harness::start().await;
    let (alice, bob) = (h.client("alice-token"), h.client("bob-token"));

    // InvalidConvo: unknown id, on status 400.
    match alice
        .procedure(leave_convo::LeaveConvo, &leave("nope"))
        .await
    {
        Err(Error::Endpoint {
            status: 400,
            error: leave_convo::Error::InvalidConvo { message },
        }) => {
            assert!(message.unwrap().contains("nope"))
        }
        other => panic!("{other:?}"),
    }

    // OwnerCannotLeave until the group is locked.
    let group = group(&alice, "owners").await;
    match alice
        .procedure(leave_convo::LeaveConvo, &leave(&group.id))
        .await
    {
        Err(Error::Endpoint {
            error: leave_convo::Error::OwnerCannotLeave { message },
            ..
        }) => {
            assert!(message.unwrap().contains("locking"))
        }
        other => panic!("{other:?}"),
    }
    alice
        .procedure(
            lock_convo::LockConvo,
            &lock_convo::Input::new(group.id.clone()),
        )
        .await
        .unwrap();
    alice
        .procedure(leave_convo::LeaveConvo, &leave(&group.id))
        .await
        .unwrap();

    // Leaving a group removes membership: bob no longer sees alice in it, and
    // alice can no longer act in it.
    let seen_by_bob = bob
        .query(
            get_convo::GetConvo,
            &get_convo::Params::new(group.id.clone()),
        )
        .await
        .unwrap()
        .convo;
    assert!(seen_by_bob.members.iter().all(|m| m.did.as_str() != ALICE));
    assert!(matches!(
        alice
            .procedure(leave_convo::LeaveConvo, &leave(&group.id))
            .await,
        Err(Error::Endpoint {
            error: leave_convo::Error::InvalidConvo { .. },
            ..
        })
    ));
    // A member who is not the owner leaves an unlocked group freely.
    let other = self::group(&alice, "second").await;
    bob.procedure(leave_convo::LeaveConvo, &leave(&other.id))
        .await
        .unwrap();
}

// ---- listConvos -----------------------------------------------------------

#[tokio::test]
async fn list_convos_pages_with_cursor_and_default_limit() {
    let h = Harness::start().await;
    let alice = h.client("alice-token");
    for i in 0..53 {
        group(&alice, &format!("group {i}")).await;
    }
    // Default limit is 50.
    let first = alice
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap();
    assert_eq!(first.convos.len(), 50);
    assert!(first.cursor.is_some());

    // Pages of 7 cover all 53 exactly once, newest first, then stop.
    let params = list_convos::Params::new().with_limit(7);
    let pages: Vec<_> = alice
        .pages(list_convos::ListConvos, params.clone())
        .collect()
        .await;
    assert_eq!(pages.len(), 8);
    let items: Vec<defs::ConvoView> = alice
        .items(list_convos::ListConvos, params)
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(items.len(), 53);
    let mut unique: Vec<&String> = items.iter().map(|c| &c.id).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 53);

    // Out-of-range limits are the lexicon's constraint: InvalidRequest.
    for limit in [0, 101] {
        match alice
            .query(
                list_convos::ListConvos,
                &list_convos::Params::new().with_limit(limit),
            )
            .await
        {
            Err(Error::Common {
                status: 400,
                error: CommonError::InvalidRequest { message },
            }) => {
                assert!(message.unwrap().contains("limit"), "{limit}")
            }
            other => panic!("{limit}: {other:?}"),
        }
    }
    // Anonymous callers are refused.
    let anonymous = Client::new(&h.base).unwrap();
    assert!(matches!(
        anonymous
            .query(list_convos::ListConvos, &list_convos::Params::default())
            .await,
        Err(Error::Common {
            status: 401,
            error: CommonError::AuthenticationRequired { .. }
        })
    ));
}

// ---- removeReaction (and addReaction) --------------------------------------

fn reaction(convo_id: &str, message_id: &str, value: &str) -> remove_reaction::Input {
    remove_reaction::Input::builder()
        .convo_id(convo_id.to_owned())
        .message_id(message_id.to_owned())
        .value(value.to_owned())
        .build()
}

async fn add(
    client: &Client,
    input: &remove_reaction::Input,
) -> Result<defs::MessageView, Error<add_reaction::Error>> {
    client
        .procedure(
            add_reaction::AddReaction,
            &add_reaction::Input::builder()
                .convo_id(input.convo_id.clone())
                .message_id(input.message_id.clone())
                .value(input.value.clone())
                .build(),
        )
        .await
        .map(|o| o.message)
}

#[tokio::test]
async fn remove_reaction_is_idempotent() {
    let h = Harness::start().await;
    let alice = h.client("alice-token");
    let convo = direct(&alice, BOB).await;
    let message = send(&alice, &convo.id, "react to me").await;
    let thumbs = reaction(&convo.id, &message.id, "👍");
    let added = add(&alice, &thumbs).await.unwrap();
    assert_eq!(added.reactions.as_ref().map(Vec::len), Some(1));
    // Adding again changes nothing.
    assert_eq!(
        add(&alice, &thumbs)
            .await
            .unwrap()
            .reactions
            .map(|r| r.len()),
        Some(1)
    );
    for _ in 0..2 {
        let out = alice
            .procedure(remove_reaction::RemoveReaction, &thumbs)
            .await
            .unwrap();
        assert!(out.message.reactions.is_none());
    }
}

#[tokio::test]
async fn remove_reaction_declared_errors() {
    let h = Harness::start().await;
    let alice = h.client("alice-token");
    let convo = direct(&alice, BOB).await;
    let message = send(&alice, &convo.id, "hello").await;

    // InvalidConvo.
    let r = alice
        .procedure(
            remove_reaction::RemoveReaction,
            &reaction("nope", &message.id, "👍"),
        )
        .await;
    assert!(
        matches!(
            r,
            Err(Error::Endpoint {
                error: remove_reaction::Error::InvalidConvo { .. },
                ..
            })
        ),
        "{r:?}"
    );

    // ReactionInvalidValue: two graphemes (a lexicon constraint the server
    // maps to the declared error), one grapheme that is not an emoji.
    for value in ["👍👍", "a"] {
        let r = alice
            .procedure(
                remove_reaction::RemoveReaction,
                &reaction(&convo.id, &message.id, value),
            )
            .await;
        assert!(
            matches!(
                r,
                Err(Error::Endpoint {
                    status: 400,
                    error: remove_reaction::Error::ReactionInvalidValue { .. }
                })
            ),
            "{value}: {r:?}"
        );
        let r = add(&alice, &reaction(&convo.id, &message.id, value)).await;
        assert!(
            matches!(
                r,
                Err(Error::Endpoint {
                    error: add_reaction::Error::ReactionInvalidValue { .. },
                    ..
                })
            ),
            "{value}: {r:?}"
        );
    }

    // ReactionNotAllowed: a system message (the group's "member added").
    let group = group(&alice, "g").await;
    let messages = alice
        .query(
            get_messages::GetMessages,
            &get_messages::Params::new(group.id.clone()),
        )
        .await
        .unwrap()
        .messages;
    let system_id = messages
        .iter()
        .find_map(|m| match m {
            get_messages::OutputMessagesItem::SystemMessageView(s) => Some(s.id.clone()),
            _ => None,
        })
        .unwrap();
    let r = alice
        .procedure(
            remove_reaction::RemoveReaction,
            &reaction(&group.id, &system_id, "👍"),
        )
        .await;
    assert!(
        matches!(
            r,
            Err(Error::Endpoint {
                error: remove_reaction::Error::ReactionNotAllowed { .. },
                ..
            })
        ),
        "{r:?}"
    );

    // ReactionMessageDeleted.
    assert!(h.service.delete_message(&convo.id, &message.id));
    let r = alice
        .procedure(
            remove_reaction::RemoveReaction,
            &reaction(&convo.id, &message.id, "👍"),
        )
        .await;
    assert!(
        matches!(
            r,
            Err(Error::Endpoint {
                error: remove_reaction::Error::ReactionMessageDeleted { .. },
                ..
            })
        ),
        "{r:?}"
    );
    let r = add(&alice, &reaction(&convo.id, &message.id, "👍")).await;
    assert!(
        matches!(
            r,
            Err(Error::Endpoint {
                error: add_reaction::Error::ReactionMessageDeleted { .. },
                ..
            })
        ),
        "{r:?}"
    );
}

// ---- forward compatibility -------------------------------------------------

#[tokio::test]
async fn an_undeclared_error_name_reaches_the_unknown_case() {
    let app = axum::Router::new().route(
        "/xrpc/chat.bsky.convo.leaveConvo",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::BAD_GATEWAY,
                [("content-type", "application/json")],
                r#"{"error":"ConvoArchived","message":"archived last week"}"#,
            )
        }),
    );
    let client = Client::new(&serve(app).await).unwrap();
    match client.procedure(leave_convo::LeaveConvo, &leave("c")).await {
        Err(Error::Endpoint {
            status: 502,
            error: leave_convo::Error::Unknown(e),
        }) => {
            assert_eq!(e.error, "ConvoArchived");
            assert_eq!(e.message.as_deref(), Some("archived last week"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_union_member_keeps_its_data() {
    let future = json!({
        "$type": "chat.bsky.convo.defs#pollMessageView",
        "id": "m1",
        "question": "lunch?",
        "options": [{"text": "yes"}, {"text": "no"}]
    });
    let body = json!({
        "convos": [{
            "id": "c1", "rev": "r1", "muted": false, "unreadCount": 0,
            "members": [{ "did": ALICE, "handle": "alice.test" }],
            "lastMessage": future,
            "newField": { "added": "later" }
        }]
    })
    .to_string();
    let app = axum::Router::new().route(
        "/xrpc/chat.bsky.convo.listConvos",
        axum::routing::get(move || async move { ([("content-type", "application/json")], body) }),
    );
    let client = Client::new(&serve(app).await).unwrap();
    let out = client
        .query(list_convos::ListConvos, &list_convos::Params::default())
        .await
        .unwrap();
    match &out.convos[0].last_message {
        Some(defs::ConvoViewLastMessage::Unknown(data)) => {
            assert_eq!(
                data.type_name(),
                Some("chat.bsky.convo.defs#pollMessageView")
            );
            assert_eq!(data.as_value(), &future);
        }
        other => panic!("{other:?}"),
    }
}

// ---- bad input against the server ------------------------------------------

async fn raw(
    h: &Harness,
    method: &str,
    nsid: &str,
    query: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let url = format!("{}/xrpc/{nsid}{query}", h.base);
    let http = reqwest::Client::new();
    let mut request = http
        .request(method.parse().unwrap(), url)
        .header("authorization", "Bearer alice-token");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_error() {
    let h = Harness::start().await;
    let json = Some("application/json");
    let leave = "chat.bsky.convo.leaveConvo";
    let list = "chat.bsky.convo.listConvos";
    // (what, method, NSID, query, content type, body, status, error name)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Vec<u8>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            "POST",
            leave,
            "",
            json,
            b"{\"convoId\":".to_vec(),
            400,
            "InvalidRequest",
        ),
        (
            "wrong JSON type",
            "POST",
            leave,
            "",
            json,
            br#"{"convoId":42}"#.to_vec(),
            400,
            "InvalidRequest",
        ),
        (
            "missing required field",
            "POST",
            leave,
            "",
            json,
            b"{}".to_vec(),
            400,
            "InvalidRequest",
        ),
        (
            "not an object",
            "POST",
            leave,
            "",
            json,
            b"[1,2]".to_vec(),
            400,
            "InvalidRequest",
        ),
        (
            "empty body",
            "POST",
            leave,
            "",
            json,
            Vec::new(),
            400,
            "InvalidRequest",
        ),
        (
            "limit 0",
            "GET",
            list,
            "?limit=0",
            None,
            Vec::new(),
            400,
            "InvalidRequest",
        ),
        (
            "limit 101",
            "GET",
            list,
            "?limit=101",
            None,
            Vec::new(),
            400,
            "InvalidRequest",
        ),
        (
            "limit abc",
            "GET",
            list,
            "?limit=abc",
            None,
            Vec::new(),
            400,
            "InvalidRequest",
        ),
        (
            "limit twice",
            "GET",
            list,
            "?limit=1&limit=2",
            None,
            Vec::new(),
            400,
            "InvalidRequest",
        ),
        (
            "GET on a procedure",
            "GET",
            leave,
            "",
            None,
            Vec::new(),
            400,
            "InvalidRequest",
        ),
        (
            "POST on a query",
            "POST",
            list,
            "",
            json,
            b"{}".to_vec(),
            400,
            "InvalidRequest",
        ),
        (
            "wrong content type",
            "POST",
            leave,
            "",
            Some("text/plain"),
            br#"{"convoId":"x"}"#.to_vec(),
            400,
            "InvalidRequest",
        ),
        (
            "oversized body",
            "POST",
            leave,
            "",
            json,
            format!("{{\"convoId\":\"{}\"}}", "x".repeat(2 << 20)).into_bytes(),
            413,
            "PayloadTooLarge",
        ),
        (
            "unknown method",
            "GET",
            "chat.bsky.convo.noSuchThing",
            "",
            None,
            Vec::new(),
            501,
            "MethodNotImplemented",
        ),
        (
            "valid but unknown convo",
            "POST",
            leave,
            "",
            json,
            br#"{"convoId":"x"}"#.to_vec(),
            400,
            "InvalidConvo",
        ),
    ];
    let mut failures = Vec::new();
    for (what, method, nsid, query, content_type, body, status, error) in cases {
        let (got_status, got) = raw(&h, method, nsid, query, content_type, body).await;
        let got_error = got["error"].as_str().unwrap_or("<none>");
        let has_message = got["message"].as_str().is_some_and(|m| !m.is_empty());
        if got_status != status || got_error != error || !has_message {
            failures.push(format!(
                "{what}: expected {status} {error}, got {got_status} {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
