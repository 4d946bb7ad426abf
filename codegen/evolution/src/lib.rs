//! Three generations of bindings for one set of lexicons, to test that what
//! `atlex diff` calls compatible is compatible for generated code, both on
//! the wire and at compile time, and that what it calls breaking breaks.
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
//!   before and after 37c6fe6cae, which added `owner_suspended`;
//! - `getConvo` declares no errors in the old version and `InvalidConvo` in
//!   the new one (a change made for these tests);
//! - `com.example.evolution.note` is a record whose new version adds
//!   properties at the top (`mood`, `links`) and in a referenced object
//!   (`#attachment.caption`, `.preview`), for the read → edit → write of a
//!   record through old code (a change made for these tests).
//!
//! `lexicons/breaking` is the old version with one breaking change:
//! `removeReaction`'s input gains a required field.
//!
//! The tests (in `tests/`) run servers built on one generation's `Service`
//! trait and call them with the other's client types, and compile the same
//! downstream code (`tests/downstream/code.rs`) against the old and the new
//! generation. The same code does not compile against the breaking one:
//!
//! ```compile_fail,E0061
//! use atlex_evolution::breaking::com::example::evolution::convo as lex;
//! include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/downstream/code.rs"));
//! # fn main() {}
//! ```
//!
//! while it does against the old one (so the example above fails for the
//! new required field alone):
//!
//! ```
//! use atlex_evolution::old::com::example::evolution::convo as lex;
//! include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/downstream/code.rs"));
//! # fn main() {}
//! ```

/// Bindings generated from `lexicons/old`.
pub mod old {
    include!(concat!(env!("OUT_DIR"), "/old.rs"));
}

/// Bindings generated from `lexicons/new`.
pub mod new {
    include!(concat!(env!("OUT_DIR"), "/new.rs"));
}

/// Bindings generated from `lexicons/breaking`.
pub mod breaking {
    include!(concat!(env!("OUT_DIR"), "/breaking.rs"));
}
