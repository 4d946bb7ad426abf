// Downstream code written against the OLD bindings, in the ways their docs
// show: values built with `new` and the `with_*` setters, unions built from
// their members, enums and errors matched with a wildcard arm. It is
// compiled unchanged against the old and the new bindings (`downstream.rs`);
// against bindings with a breaking change it does not compile (the
// `compile_fail` example of `atlex_evolution::breaking`).
//
// `lex` is the `com.example.evolution.convo` module of the bindings it is
// compiled against.

use atlex::types::{Datetime, Did};
use atlex::xrpc::EndpointError;

use lex::defs::{
    ConvoView, ConvoViewLastMessage, ConvoViewLockReason, ConvoViewStatus, DeletedMessageView,
    MessageView, MessageViewSender,
};

/// An optional field added later (`kind`) is unset by `new` and needs no
/// setter call; a union member added later (`#systemMessageView`) does not
/// change how one is built from its member.
pub fn convo(did: Did, at: Datetime) -> ConvoView {
    let deleted = DeletedMessageView::builder().id("m1").rev("r1").sender(MessageViewSender::new(did)).sent_at(at).build();
    ConvoView::builder().id("c1").rev("r1").muted(false).unread_count(0).build()
        .with_last_message(deleted)
        .with_status(ConvoViewStatus::Accepted)
        .with_lock_reason(ConvoViewLockReason::OwnerLeft)
}

/// A message, built from its required fields, with an optional one set.
pub fn message(did: Did, at: Datetime) -> MessageView {
    MessageView::builder().id("m2").rev("r2").text("hello").sender(MessageViewSender::new(did)).sent_at(at).build().with_reactions(Vec::new())
}

/// A union matched with a wildcard: a member added later lands in `_`.
pub fn last_message(convo: &ConvoView) -> &'static str {
    match &convo.last_message {
        Some(ConvoViewLastMessage::MessageView(_)) => "message",
        Some(ConvoViewLastMessage::DeletedMessageView(_)) => "deleted",
        Some(ConvoViewLastMessage::Unknown(_)) => "unknown",
        Some(_) => "a member this code does not know",
        None => "none",
    }
}

/// A string with `knownValues` matched with a wildcard: a value added later
/// lands in `_` (or in `Other` while these bindings do not know it).
pub fn lock_reason(convo: &ConvoView) -> String {
    match &convo.lock_reason {
        Some(ConvoViewLockReason::OwnerLeft) => "the owner left".to_owned(),
        Some(ConvoViewLockReason::Other(other)) => format!("other: {other}"),
        Some(reason) => format!("known to newer code: {reason}"),
        None => "not locked".to_owned(),
    }
}

/// Fields read by name, the rest left out with `..`.
pub fn ids(convo: &ConvoView) -> (&str, &str, i64) {
    let ConvoView {
        id,
        rev,
        unread_count,
        ..
    } = convo;
    (id, rev, *unread_count)
}

/// An endpoint's input, built from its required fields.
pub fn remove_reaction(message_id: &str) -> lex::remove_reaction::Input {
    lex::remove_reaction::Input::builder().convo_id("c1").message_id(message_id).value("👍").build()
}

/// Declared errors matched with a wildcard: an error declared later lands in
/// `_` (or in `Unknown` while these bindings do not declare it).
pub fn reaction_error(error: &lex::remove_reaction::Error) -> String {
    use lex::remove_reaction::Error;
    match error {
        Error::ReactionMessageDeleted { .. } => "deleted".to_owned(),
        Error::ReactionInvalidValue { message } => format!("invalid: {message:?}"),
        Error::Unknown(unknown) => format!("undeclared: {}", unknown.error),
        other => format!("declared later: {}", other.name()),
    }
}

/// The errors of an endpoint that declares none (yet): the same matching.
pub fn get_convo_error(error: &lex::get_convo::Error) -> String {
    match error {
        lex::get_convo::Error::Unknown(unknown) => format!("undeclared: {}", unknown.error),
        other => format!("declared later: {}", other.name()),
    }
}

/// Parameters, built from their required fields.
pub fn get_convo() -> lex::get_convo::Params {
    lex::get_convo::Params::new("c1")
}
