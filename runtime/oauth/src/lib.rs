//! OAuth for atproto apps.
//!
//! [`scope`]: the permission scopes an app asks for and a session is granted
//! (`atproto`, `transition:generic`, `repo:app.bsky.feed.post?action=create`,
//! `rpc:…?aud=…`, `blob:image/*`, `account:email`, `identity:handle`,
//! `include:<permission set>`): parsed, printed in their normal form,
//! checked against what a call needs, and permission sets expanded into the
//! permissions they grant.
//!
//! [`client`] (feature `client`): the OAuth client of the atproto profile —
//! sign-in with PAR, PKCE and DPoP, sessions that refresh themselves, and
//! OAuth sessions as the credentials of `atlex_client::Client`.

pub mod scope;

#[cfg(feature = "client")]
pub mod client;
