//! Two generations of bindings for one set of lexicons, to test that code
//! generated from an old version keeps working when the other side speaks a
//! newer, compatible version.
//!
//! `lexicons/old` and `lexicons/new` hold `com.example.evolution.convo.*`:
//! small self-contained copies of `chat.bsky.convo` definitions, with the
//! changes real upstream commits made between the two versions:
//!
//! - `removeReaction` is `chat.bsky.convo.removeReaction` at ca07871c48 (old)
//!   and at 1d575edac9 (new), which added the errors `InvalidConvo` and
//!   `ReactionNotAllowed`;
//! - `defs#convoView` follows `chat.bsky.convo.defs#convoView` in the same
//!   commits: its `lastMessage` union gained `#systemMessageView`, and it
//!   gained the optional field `kind`;
//! - `defs#convoView.lockReason` carries the `knownValues` of
//!   `chat.bsky.moderation.subscribeModEvents#eventGroupChatUpdated.lockReason`
//!   before and after 37c6fe6cae, which added `owner_suspended`.
//!
//! The tests (in `tests/`) run a server built on the *new* generated
//! `Service` trait and call it with the *old* generated client types.

/// Bindings generated from `lexicons/old`.
pub mod old {
    include!(concat!(env!("OUT_DIR"), "/old.rs"));
}

/// Bindings generated from `lexicons/new`.
pub mod new {
    include!(concat!(env!("OUT_DIR"), "/new.rs"));
}
