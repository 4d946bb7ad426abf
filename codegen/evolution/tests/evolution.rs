//! Generated code survives lexicon evolution.
//!
//! A server built on the `Service` trait generated from the NEW lexicons
//! answers on loopback as the new version does; a client uses the types
//! generated from the OLD lexicons. For each change `atlex diff` calls
//! compatible, the old client gets what the evolution rules promise:
//!
//! - a new error (`ReactionNotAllowed`): the error enum's `Unknown` case, with
//!   the name and message, not a decode failure;
//! - a new member of an open union (`#systemMessageView`): the union's
//!   `Unknown` variant, data kept exactly;
//! - a new `knownValues` value (`owner_suspended`): `Other(String)`;
//! - a new optional field (`kind`): kept, and written back, and the rest
//!   decodes;
//! - a record of the new version read, edited and written back by the old
//!   code: every field the new version wrote is still there, and the record
//!   has the CID the new code gives the same edit.
//!
//! The same holds the other way (a new client, an old server), and the diff
//! of the two fixture versions is checked to be exactly these changes.

use std::path::Path;

use atlex::client::{Client, Error, ValidationMode};
use atlex::server::XrpcRouter;
use atlex::service::{HandlerError, HandlerResult, Request};
use atlex::types::{Datetime, Did};
use atlex_evolution::{new, old};
use serde_json::json;

use new::com::example::evolution::convo as new_convo;
use old::com::example::evolution::convo as old_convo;

const ALICE: &str = "did:plc:alice000000000000000000a";

fn did() -> Did {
    ALICE.parse().unwrap()
}

fn sent_at() -> Datetime {
    "2026-04-15T12:00:00.000Z".parse().unwrap()
}

/// Serves `app` on a loopback port; its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A client that also checks outputs against the (old) lexicon's
/// constraints, so "decodes" below also means "validates".
fn client(base: &str) -> Client {
    Client::builder(base)
        .validate_outputs(ValidationMode::Strict)
        .build()
        .unwrap()
}

// ---- the new server --------------------------------------------------------

/// What a server of the NEW version sends for `getConvo`: a group convo whose
/// last message is a system message, locked because its owner was
/// suspended.
fn new_convo_view() -> new_convo::defs::ConvoView {
    use new_convo::defs::*;
    let joined = SystemMessageDataMemberJoin::new(MessageViewSender::new(did()));
    ConvoView::builder()
        .id("c1")
        .rev("r7")
        .muted(false)
        .unread_count(2)
        .build()
        .with_last_message(
            SystemMessageView::builder()
                .id("m9")
                .rev("r7")
                .sent_at(sent_at())
                .data(joined)
                .build(),
        )
        .with_status(ConvoViewStatus::Accepted)
        .with_lock_reason(ConvoViewLockReason::OwnerSuspended)
        .with_kind(GroupConvo::new("climbing"))
}

struct NewServer;

impl new_convo::Service for NewServer {
    async fn remove_reaction(
        &self,
        request: Request<new_convo::remove_reaction::RemoveReaction>,
    ) -> HandlerResult<new_convo::remove_reaction::RemoveReaction> {
        use new_convo::remove_reaction::{Error, Output};
        match request.input.message_id.as_str() {
            "system-message" => Err(HandlerError::endpoint(Error::ReactionNotAllowed {
                message: Some("reactions are not allowed on system messages".to_owned()),
            })),
            "deleted-message" => Err(HandlerError::endpoint(Error::ReactionMessageDeleted {
                message: None,
            })),
            id => Ok(Output::new(
                new_convo::defs::MessageView::builder()
                    .id(id)
                    .rev("r8")
                    .text("hello")
                    .sender(new_convo::defs::MessageViewSender::new(did()))
                    .sent_at(sent_at())
                    .build()
                    .with_reactions(Vec::new()),
            )),
        }
    }

    async fn get_convo(
        &self,
        request: Request<new_convo::get_convo::GetConvo>,
    ) -> HandlerResult<new_convo::get_convo::GetConvo> {
        let _ = request;
        Ok(new_convo::get_convo::Output::new(new_convo_view()))
    }
}

async fn new_server() -> String {
    let app = XrpcRouter::new(NewServer)
        .mount(new_convo::register)
        .into_router();
    serve(app).await
}

fn old_input(message_id: &str) -> old_convo::remove_reaction::Input {
    old_convo::remove_reaction::Input::builder()
        .convo_id("c1")
        .message_id(message_id)
        .value("👍")
        .build()
}

// ---- old client, new server ------------------------------------------------

#[tokio::test]
async fn a_new_error_reaches_the_old_clients_unknown_case_with_name_and_message() {
    let client = client(&new_server().await);
    let result = client
        .procedure(
            old_convo::remove_reaction::RemoveReaction,
            &old_input("system-message"),
        )
        .await;
    match result {
        Err(Error::Endpoint {
            status: 400,
            error: old_convo::remove_reaction::Error::Unknown(e),
        }) => {
            assert_eq!(e.error, "ReactionNotAllowed");
            assert_eq!(
                e.message.as_deref(),
                Some("reactions are not allowed on system messages")
            );
        }
        other => panic!("expected the unknown-error case, got {other:?}"),
    }
    // The errors the old lexicon declares still arrive as themselves.
    let result = client
        .procedure(
            old_convo::remove_reaction::RemoveReaction,
            &old_input("deleted-message"),
        )
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Endpoint {
                error: old_convo::remove_reaction::Error::ReactionMessageDeleted { .. },
                ..
            })
        ),
        "{result:?}"
    );
    // And a success decodes as before.
    let out = client
        .procedure(old_convo::remove_reaction::RemoveReaction, &old_input("m1"))
        .await
        .unwrap();
    assert_eq!(out.message.id, "m1");
    assert_eq!(out.message.sender.did, did());
}

#[tokio::test]
async fn a_new_union_member_a_new_known_value_and_a_new_field_decode_in_the_old_client() {
    let client = client(&new_server().await);
    let out = client
        .query(
            old_convo::get_convo::GetConvo,
            &old_convo::get_convo::Params::new("c1"),
        )
        .await
        .unwrap();
    let convo = out.convo;

    // The new union member: the Unknown variant, with the data exactly as
    // the new server wrote it.
    let sent = serde_json::to_value(new_convo_view()).unwrap();
    match &convo.last_message {
        Some(old_convo::defs::ConvoViewLastMessage::Unknown(data)) => {
            assert_eq!(
                data.type_name(),
                Some("com.example.evolution.convo.defs#systemMessageView")
            );
            assert_eq!(data.as_value(), &sent["lastMessage"]);
            assert_eq!(data.as_value()["data"]["member"]["did"], json!(ALICE));
        }
        other => panic!("expected the union's Unknown variant, got {other:?}"),
    }

    // The new knownValues value: Other(String).
    assert_eq!(
        convo.lock_reason,
        Some(old_convo::defs::ConvoViewLockReason::Other(
            "owner_suspended".to_owned()
        ))
    );

    // The new optional field `kind` was on the wire, and is kept; every
    // field the old lexicon knows decoded.
    assert!(sent.get("kind").is_some());
    assert_eq!(
        convo.extra.get("kind").map(|k| k.to_json()),
        Some(sent["kind"].clone())
    );
    assert_eq!(convo.id, "c1");
    assert_eq!(convo.rev, "r7");
    assert!(!convo.muted);
    assert_eq!(convo.unread_count, 2);
    assert_eq!(
        convo.status,
        Some(old_convo::defs::ConvoViewStatus::Accepted)
    );

    // Re-encoding gives back what was received: nothing is lost on a round
    // trip through old code.
    let again = serde_json::to_value(&convo).unwrap();
    assert_eq!(again, sent);
}

// ---- a record through old code ----------------------------------------------

#[test]
fn a_record_of_the_new_version_edited_by_old_code_keeps_every_field() {
    use atlex::data::{Blob, Record as _};
    use new::com::example::evolution::note as new_note;
    use old::com::example::evolution::note as old_note;

    let preview = Blob::new(
        "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"
            .parse::<atlex::data::CidLink>()
            .unwrap(),
        "image/png",
        2048,
    );
    let attachment = new_note::Attachment::new("https://example.com/a".parse().unwrap())
        .with_caption("the first")
        .with_preview(preview);
    let written = new_note::Note::builder()
        .text("draft")
        .created_at(sent_at())
        .build()
        .with_mood(new_note::NoteMood::Busy)
        .with_attachment(attachment.clone())
        .with_links(vec![attachment]);
    let bytes = written.to_cbor().unwrap();

    // Old code reads it, edits the one field it is asked to, writes it back.
    let mut read = old_note::Note::from_cbor(&bytes).unwrap();
    assert_eq!(read.text, "draft");
    read.text = "final".to_owned();
    let rewritten = read.to_cbor().unwrap();

    // New code reads every field it wrote, with the edit.
    let back = new_note::Note::from_cbor(&rewritten).unwrap();
    let mut expected = written.clone();
    expected.text = "final".to_owned();
    assert_eq!(back, expected);
    assert_eq!(back.mood, Some(new_note::NoteMood::Busy));
    let attachment = back.attachment.as_ref().unwrap();
    assert_eq!(attachment.caption.as_deref(), Some("the first"));
    assert!(attachment.preview.is_some());
    assert_eq!(back.links.as_ref().map(Vec::len), Some(1));
    // The same bytes, and CID, as the new code's own edit.
    assert_eq!(rewritten, expected.to_cbor().unwrap());
    assert_eq!(read.cid().unwrap(), expected.cid().unwrap());
    assert_ne!(read.cid().unwrap(), written.cid().unwrap());
}

// ---- new client, old server ------------------------------------------------

struct OldServer;

impl old_convo::Service for OldServer {
    async fn get_convo(
        &self,
        request: Request<old_convo::get_convo::GetConvo>,
    ) -> HandlerResult<old_convo::get_convo::GetConvo> {
        let _ = request;
        use old_convo::defs::*;
        let deleted = DeletedMessageView::builder()
            .id("m1")
            .rev("r1")
            .sender(MessageViewSender::new(did()))
            .sent_at(sent_at())
            .build();
        Ok(old_convo::get_convo::Output::new(
            ConvoView::builder()
                .id("c1")
                .rev("r1")
                .muted(true)
                .unread_count(0)
                .build()
                .with_last_message(deleted)
                .with_status(ConvoViewStatus::Request)
                .with_lock_reason(ConvoViewLockReason::OwnerLeft),
        ))
    }

    async fn remove_reaction(
        &self,
        request: Request<old_convo::remove_reaction::RemoveReaction>,
    ) -> HandlerResult<old_convo::remove_reaction::RemoveReaction> {
        let _ = request;
        Err(HandlerError::endpoint(
            old_convo::remove_reaction::Error::ReactionInvalidValue {
                message: Some("not an emoji".to_owned()),
            },
        ))
    }
}

#[tokio::test]
async fn the_new_client_reads_what_an_old_server_writes() {
    let base = serve(
        XrpcRouter::new(OldServer)
            .mount(old_convo::register)
            .into_router(),
    )
    .await;
    let client = client(&base);
    let out = client
        .query(
            new_convo::get_convo::GetConvo,
            &new_convo::get_convo::Params::new("c1"),
        )
        .await
        .unwrap();
    // The field the old server does not know is simply absent.
    assert_eq!(out.convo.kind, None);
    assert!(matches!(
        out.convo.last_message,
        Some(new_convo::defs::ConvoViewLastMessage::DeletedMessageView(_))
    ));
    assert_eq!(
        out.convo.lock_reason,
        Some(new_convo::defs::ConvoViewLockReason::OwnerLeft)
    );
    let result = client
        .procedure(
            new_convo::remove_reaction::RemoveReaction,
            &new_convo::remove_reaction::Input::builder()
                .convo_id("c1")
                .message_id("m1")
                .value("x")
                .build(),
        )
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Endpoint {
                error: new_convo::remove_reaction::Error::ReactionInvalidValue { .. },
                ..
            })
        ),
        "{result:?}"
    );
}

// ---- the counterpart: what the diff calls breaking does break -------------

/// Serves one canned JSON answer for `nsid` (GET or POST).
async fn canned(nsid: &str, body: serde_json::Value) -> String {
    let body = body.to_string();
    let answer = move || {
        let body = body.clone();
        async move { ([("content-type", "application/json")], body) }
    };
    let app = axum::Router::new().route(
        &format!("/xrpc/{nsid}"),
        axum::routing::get(answer.clone()).post(answer),
    );
    serve(app).await
}

fn convo_json() -> serde_json::Value {
    json!({"convo": {"id": "c1", "rev": "r1", "muted": false, "unreadCount": 0}})
}

#[tokio::test]
async fn breaking_changes_do_break_the_old_client() {
    let params = old_convo::get_convo::Params::new("c1");
    let get_convo = "com.example.evolution.convo.getConvo";

    // Control: the old shape decodes.
    let base = canned(get_convo, convo_json()).await;
    let ok = client(&base)
        .query(old_convo::get_convo::GetConvo, &params)
        .await;
    assert!(ok.is_ok(), "{ok:?}");

    // required_removed (breaking for readers): a newer server leaves
    // `unreadCount` out, and the old client cannot decode the answer.
    let mut missing = convo_json();
    missing["convo"]
        .as_object_mut()
        .unwrap()
        .remove("unreadCount");
    let base = canned(get_convo, missing).await;
    let result = client(&base)
        .query(old_convo::get_convo::GetConvo, &params)
        .await;
    assert!(matches!(result, Err(Error::Decode { .. })), "{result:?}");

    // type_changed (breaking both ways): `unreadCount` as a string.
    let mut retyped = convo_json();
    retyped["convo"]["unreadCount"] = json!("0");
    let base = canned(get_convo, retyped).await;
    let result = client(&base)
        .query(old_convo::get_convo::GetConvo, &params)
        .await;
    assert!(matches!(result, Err(Error::Decode { .. })), "{result:?}");

    // constraint_loosened maxLength (impact "validation" on readers): a text
    // longer than the old maxLength of 10000 decodes, and only a client that
    // validates outputs rejects it.
    let long = json!({"message": {
        "id": "m1", "rev": "r1", "text": "a".repeat(10_001),
        "sender": {"did": ALICE}, "sentAt": "2026-04-15T12:00:00.000Z"
    }});
    let base = canned("com.example.evolution.convo.removeReaction", long).await;
    let input = old_input("m1");
    let strict = client(&base)
        .procedure(old_convo::remove_reaction::RemoveReaction, &input)
        .await;
    assert!(matches!(strict, Err(Error::Invalid { .. })), "{strict:?}");
    let lenient = Client::new(&base)
        .unwrap()
        .procedure(old_convo::remove_reaction::RemoveReaction, &input)
        .await;
    assert_eq!(lenient.unwrap().message.text.len(), 10_001);
}

// ---- what atlex diff says about these fixtures -----------------------------

/// The verdict of `atlex diff` from fixture version `from` to `to`, and its
/// changes that are not cosmetic: location, kind and class.
fn fixture_diff(
    from: &str,
    to: &str,
) -> (
    atlex_codegen::diff::Verdict,
    Vec<(String, &'static str, atlex_codegen::diff::Class)>,
) {
    use atlex_codegen::diff::{self, Class, LexiconSet};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicons");
    let old = LexiconSet::from_path(&root.join(from), from).unwrap();
    let new = LexiconSet::from_path(&root.join(to), to).unwrap();
    let report = diff::diff(&old, &new);
    let changes = report
        .changes()
        .filter(|(_, c)| c.class != Class::Cosmetic)
        .map(|(_, c)| (c.location.clone(), c.kind.name(), c.class))
        .collect();
    (report.verdict(), changes)
}

#[test]
fn atlex_diff_finds_exactly_these_changes_and_calls_them_compatible() {
    use atlex_codegen::diff::{Class, Verdict};
    let (verdict, changes) = fixture_diff("old", "new");
    assert_eq!(verdict, Verdict::Compatible);
    let d = "com.example.evolution.convo.defs";
    let r = "com.example.evolution.convo.removeReaction";
    let n = "com.example.evolution.note";
    let expected: Vec<(String, &str, Class)> = vec![
        (
            format!("{d}#convoView.lastMessage"),
            "union_ref_added",
            Class::Compatible,
        ),
        (
            format!("{d}#convoView.lockReason"),
            "known_value_added",
            Class::Compatible,
        ),
        (
            format!("{d}#convoView.kind"),
            "property_added",
            Class::Compatible,
        ),
        (format!("{d}#directConvo"), "def_added", Class::Compatible),
        (format!("{d}#groupConvo"), "def_added", Class::Compatible),
        (
            format!("{d}#systemMessageView"),
            "def_added",
            Class::Compatible,
        ),
        (
            format!("{d}#systemMessageDataMemberJoin"),
            "def_added",
            Class::Compatible,
        ),
        (
            "com.example.evolution.convo.getConvo#main.errors.InvalidConvo".to_owned(),
            "error_added",
            Class::Compatible,
        ),
        (
            format!("{r}#main.errors.InvalidConvo"),
            "error_added",
            Class::Compatible,
        ),
        (
            format!("{r}#main.errors.ReactionNotAllowed"),
            "error_added",
            Class::Compatible,
        ),
        (
            format!("{n}#main.mood"),
            "property_added",
            Class::Compatible,
        ),
        (
            format!("{n}#main.links"),
            "property_added",
            Class::Compatible,
        ),
        (
            format!("{n}#attachment.caption"),
            "property_added",
            Class::Compatible,
        ),
        (
            format!("{n}#attachment.preview"),
            "property_added",
            Class::Compatible,
        ),
    ];
    assert_eq!(changes, expected);
}

/// The two generations really differ where the tests above say: the old
/// code does not know what the new server sends.
#[test]
fn the_old_bindings_do_not_know_the_new_names() {
    use atlex::xrpc::EndpointError;
    let old_errors = <old_convo::remove_reaction::Error as EndpointError>::DECLARED;
    let new_errors = <new_convo::remove_reaction::Error as EndpointError>::DECLARED;
    assert!(!old_errors.contains(&"ReactionNotAllowed"));
    assert!(new_errors.contains(&"ReactionNotAllowed"));
    assert!(!old_convo::defs::ConvoViewLockReason::VALUES.contains(&"owner_suspended"));
    assert!(new_convo::defs::ConvoViewLockReason::VALUES.contains(&"owner_suspended"));
}

/// The breaking generation differs from the old one by one change, which
/// `atlex diff` calls breaking: so the `compile_fail` example of the crate
/// docs (old downstream code against it) fails for that change alone.
#[test]
fn the_breaking_fixture_adds_one_required_field_and_nothing_else() {
    use atlex_codegen::diff::{Class, Verdict};
    let (verdict, changes) = fixture_diff("old", "breaking");
    assert_eq!(verdict, Verdict::Breaking);
    assert_eq!(
        changes,
        [(
            "com.example.evolution.convo.removeReaction#main.input.reason".to_owned(),
            "property_added",
            Class::Breaking
        )]
    );
}
