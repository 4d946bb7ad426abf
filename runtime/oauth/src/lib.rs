//! OAuth for atproto apps.
//!
//! [`scope`]: the permission scopes an app asks for and a session is granted
//! (`atproto`, `transition:generic`, `repo:app.bsky.feed.post?action=create`,
//! `rpc:…?aud=…`, `blob:image/*`, `account:email`, `identity:handle`,
//! `include:<permission set>`): parsed, printed in their normal form,
//! checked against what a call needs, and permission sets expanded into the
//! permissions they grant.

pub mod scope;
