//! Code written against the old bindings compiles unchanged against the new
//! ones, for every change `atlex diff` calls compatible between them (an
//! optional field, a union member, a known value, a declared error on an
//! endpoint with errors and on one without): `downstream/code.rs` is compiled
//! here twice, once per generation, and behaves the same on what both know.

use atlex::types::{Datetime, Did};
use atlex::xrpc::EndpointError;

mod against_old {
    use atlex_evolution::old::com::example::evolution::convo as lex;
    include!("downstream/code.rs");
}

mod against_new {
    use atlex_evolution::new::com::example::evolution::convo as lex;
    include!("downstream/code.rs");
}

fn did() -> Did {
    "did:plc:alice000000000000000000a".parse().unwrap()
}

fn at() -> Datetime {
    "2026-04-15T12:00:00.000Z".parse().unwrap()
}

#[test]
fn values_built_the_documented_way_are_the_same_in_both_generations() {
    let old = against_old::convo(did(), at());
    let new = against_new::convo(did(), at());
    assert_eq!(
        serde_json::to_value(&old).unwrap(),
        serde_json::to_value(&new).unwrap()
    );
    assert_eq!(against_old::last_message(&old), "deleted");
    assert_eq!(against_new::last_message(&new), "deleted");
    assert_eq!(against_old::lock_reason(&old), "the owner left");
    assert_eq!(against_new::lock_reason(&new), "the owner left");
    assert_eq!(against_old::ids(&old), ("c1", "r1", 0));
    assert_eq!(against_new::ids(&new), ("c1", "r1", 0));
    assert_eq!(
        serde_json::to_value(against_old::message(did(), at())).unwrap(),
        serde_json::to_value(against_new::message(did(), at())).unwrap()
    );
    assert_eq!(
        serde_json::to_value(against_old::remove_reaction("m1")).unwrap(),
        serde_json::to_value(against_new::remove_reaction("m1")).unwrap()
    );
}

#[test]
fn what_only_the_new_generation_knows_lands_in_the_wildcard_arms() {
    use atlex_evolution::new::com::example::evolution::convo as new;
    let mut convo = against_new::convo(did(), at());
    convo.last_message = Some(
        new::defs::SystemMessageView::builder()
            .id("m9")
            .rev("r7")
            .sent_at(at())
            .data(new::defs::SystemMessageDataMemberJoin::new(
                new::defs::MessageViewSender::new(did()),
            ))
            .build()
            .into(),
    );
    convo.lock_reason = Some(new::defs::ConvoViewLockReason::OwnerSuspended);
    assert_eq!(
        against_new::last_message(&convo),
        "a member this code does not know"
    );
    assert_eq!(
        against_new::lock_reason(&convo),
        "known to newer code: owner_suspended"
    );
    let error = new::remove_reaction::Error::from_parts("ReactionNotAllowed".to_owned(), None);
    assert_eq!(
        against_new::reaction_error(&error),
        "declared later: ReactionNotAllowed"
    );
    let error = new::get_convo::Error::from_parts("InvalidConvo".to_owned(), None);
    assert_eq!(
        against_new::get_convo_error(&error),
        "declared later: InvalidConvo"
    );
    // The old generation reads the same names as undeclared.
    use atlex_evolution::old::com::example::evolution::convo as old;
    let error = old::get_convo::Error::from_parts("InvalidConvo".to_owned(), None);
    assert_eq!(
        against_old::get_convo_error(&error),
        "undeclared: InvalidConvo"
    );
    let error = old::remove_reaction::Error::from_parts("ReactionNotAllowed".to_owned(), None);
    assert_eq!(
        against_old::reaction_error(&error),
        "undeclared: ReactionNotAllowed"
    );
    assert_eq!(
        against_old::get_convo().convo_id,
        against_new::get_convo().convo_id
    );
}
