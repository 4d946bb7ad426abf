//! The firehose's `#commit` as [`atlex::firehose::RepoCommit`]: its ops
//! with their records, decoded from the commit's blocks.

use atlex::firehose::{Cid, OpRef, RepoCommit};
use atlex::types::Did;

use crate::com::atproto::sync::subscribe_repos::Commit;

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
}
