//! The firehose's `#commit` as [`atlex::firehose::RepoCommit`]: its ops
//! with their records, decoded from the commit's blocks; its messages as
//! [`atlex::firehose::RepoMessage`], for a verifying consumer.

use atlex::firehose::{Cid, OpRef, RepoCommit, RepoEvent, RepoMessage};
use atlex::types::{Did, Tid};

use crate::com::atproto::sync::subscribe_repos::{Commit, Message};

impl RepoCommit for Commit {
    fn repo(&self) -> &Did {
        &self.repo
    }

    fn commit_cid(&self) -> &Cid {
        &self.commit.0
    }

    fn blocks(&self) -> &[u8] {
        &self.blocks.0
    }

    fn op_refs(&self) -> impl Iterator<Item = OpRef<'_>> {
        self.ops.iter().map(|op| OpRef {
            action: op.action.as_str(),
            path: &op.path,
            cid: op.cid.as_ref().map(|link| &link.0),
            prev: op.prev.as_ref().map(|link| &link.0),
        })
    }

    fn prev_data(&self) -> Option<&Cid> {
        self.prev_data.as_ref().map(|link| &link.0)
    }

    fn since(&self) -> Option<&Tid> {
        self.since.as_ref()
    }
}

impl RepoMessage for Message {
    type Commit = Commit;

    fn event(&self) -> RepoEvent<'_, Commit> {
        match self {
            Self::Commit(commit) => RepoEvent::Commit {
                commit,
                rev: &commit.rev,
            },
            Self::Sync(sync) => RepoEvent::Sync {
                did: &sync.did,
                blocks: &sync.blocks.0,
                rev: &sync.rev,
            },
            Self::Identity(identity) => RepoEvent::Identity {
                did: &identity.did,
                handle: identity.handle.as_ref(),
            },
            Self::Account(account) => RepoEvent::Account {
                did: &account.did,
                active: account.active,
            },
            _ => RepoEvent::Other,
        }
    }
}
