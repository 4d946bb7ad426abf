//! The property of the `frame_decode` fuzz target, shared with the test that
//! runs it over a seed corpus and its mutations in CI
//! (`lexicons/tests/frame_corpus.rs`): event-stream frames on arbitrary
//! bytes never panic, and what decodes is consistent:
//!
//! - the header reads the same through `FrameView` and `Frame::from_bytes`;
//! - an error frame decodes to the typed error of its name;
//! - a message that decodes strictly decodes leniently to the same message,
//!   and (a type the union lists) writes a frame that decodes strictly to it
//!   again; a message that decodes leniently writes a frame that decodes;
//! - a `#commit`'s ops, from its CAR, read into the generated record
//!   dispatch and into `Value` alike: as many items, the same ops, the same
//!   errors.

use atlex::data::Value;
use atlex::firehose::RepoCommit as _;
use atlex::rt::Subscription;
use atlex::subscription::{Frame, FrameView, SubscriptionError, decode_message};
use atlex_lexicons::Record;
use atlex_lexicons::com::atproto::label::subscribe_labels::SubscribeLabels;
use atlex_lexicons::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};

/// Checks every property on `data`, panicking when one does not hold.
pub(crate) fn frame_decode(data: &[u8]) {
    let view = FrameView::parse(data);
    match (&view, Frame::from_bytes(data.to_vec())) {
        (Ok(view), Ok(frame)) => {
            assert_eq!(frame.is_error(), matches!(view, FrameView::Error { .. }));
            assert_eq!(frame.as_bytes(), data);
        }
        (Err(a), Err(b)) => assert_eq!(a, &b),
        (a, b) => panic!("FrameView {a:?}, Frame {b:?}"),
    }
    if let Ok(FrameView::Error { error, .. }) = &view {
        match decode_message::<SubscribeRepos>(data, false) {
            Err(e @ (SubscriptionError::Endpoint(_) | SubscriptionError::Common(_))) => {
                assert_eq!(e.error_name(), Some(error.as_str()));
            }
            other => panic!("an error frame decoded to {other:?}"),
        }
    }
    round_trips::<SubscribeRepos>(data, |message| matches!(message, Message::Unknown(_)));
    round_trips::<SubscribeLabels>(data, |message| {
        matches!(
            message,
            atlex_lexicons::com::atproto::label::subscribe_labels::Message::Unknown(_)
        )
    });
    if let Ok(Message::Commit(commit)) = decode_message::<SubscribeRepos>(data, true) {
        let typed = commit.decode_ops::<Record>();
        let untyped = commit.decode_ops::<Value>();
        match (typed, untyped) {
            (Ok(typed), Ok(untyped)) => {
                let _ = typed.commit();
                let typed: Vec<_> = typed.collect();
                let untyped: Vec<_> = untyped.collect();
                assert_eq!(typed.len(), untyped.len(), "one item per op");
                for (t, u) in typed.iter().zip(&untyped) {
                    match (t, u) {
                        (Ok(t), Ok(u)) => {
                            assert_eq!(
                                (&t.action, &t.collection, &t.rkey, &t.cid, &t.prev),
                                (&u.action, &u.collection, &u.rkey, &u.cid, &u.prev)
                            );
                            assert_eq!(t.record.is_some(), u.record.is_some());
                        }
                        // A block that is a `Value` but not a valid record
                        // of its type fails the typed side only.
                        (Err(_), _) => {}
                        (Ok(t), Err(u)) => panic!("typed {t:?}, untyped {u}"),
                    }
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!(
                "the CAR reads for one side only: {:?} / {:?}",
                a.err(),
                b.err()
            ),
        }
    }
}

/// The round trips of a message of `S` decoded from `data`; `unknown` says
/// whether a message is the union's `Unknown` case.
fn round_trips<S>(data: &[u8], unknown: impl Fn(&S::Message) -> bool)
where
    S: Subscription,
    S::Message: PartialEq + std::fmt::Debug,
{
    let strict = decode_message::<S>(data, false);
    let lenient = decode_message::<S>(data, true);
    if let Ok(message) = &strict {
        assert_eq!(
            lenient.as_ref().ok(),
            Some(message),
            "strict implies lenient"
        );
        let again = Frame::of_message::<S>(message).expect("a decoded message encodes");
        if !unknown(message) {
            let back =
                decode_message::<S>(again.as_bytes(), false).expect("a re-encoded frame decodes");
            assert_eq!(&back, message);
        }
    }
    if let Ok(message) = &lenient {
        let again = Frame::of_message::<S>(message).expect("a decoded message encodes");
        if !unknown(message) {
            let back =
                decode_message::<S>(again.as_bytes(), true).expect("a re-encoded frame decodes");
            assert_eq!(&back, message);
        }
    }
}
