//! The messages of `com.atproto.sync.subscribeRepos` as a verifying
//! consumer sorts them: [`RepoMessage`], implemented by the generated
//! `subscribe_repos::Message` of `atlex-lexicons` (the runtime cannot name
//! generated types, which depend on it).

use atlex_core::types::{Did, Handle, Tid};

use crate::firehose::RepoCommit;

/// A message of a repository event stream (`subscribeRepos`), seen as
/// one of the events a verifier knows.
pub trait RepoMessage {
    /// The message's `#commit` event.
    type Commit: RepoCommit + Send + Sync;

    /// What the message is.
    fn event(&self) -> RepoEvent<'_, Self::Commit>;
}

/// One message of a repository event stream, by kind.
#[derive(Debug)]
#[non_exhaustive]
pub enum RepoEvent<'a, C> {
    /// `#commit`: a signed commit and its ops.
    Commit {
        /// The event.
        commit: &'a C,
        /// The revision the event says the commit has (the commit block's
        /// must be the same).
        rev: &'a Tid,
    },
    /// `#sync`: the repository's current commit, which replaces whatever a
    /// consumer held of it.
    Sync {
        /// The repository.
        did: &'a Did,
        /// A CAR whose first root is the commit block.
        blocks: &'a [u8],
        /// The commit's revision, as the event gives it.
        rev: &'a str,
    },
    /// `#identity`: the account's handle or DID document may have changed.
    Identity {
        /// The account.
        did: &'a Did,
        /// The handle the event gives, unchecked.
        handle: Option<&'a Handle>,
    },
    /// `#account`: the account's hosting status changed.
    Account {
        /// The account.
        did: &'a Did,
        /// Whether the account is active.
        active: bool,
    },
    /// Anything else (`#info`, a kind this code does not know).
    Other,
}
