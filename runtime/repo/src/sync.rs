//! A firehose commit checked on its own blocks (sync 1.1): the commit's
//! tree, partial, is read from the blocks the event carries; every op must
//! show in it; undoing the ops (a create deleted, an update and a delete
//! restored from their `prev`) must give back the tree's previous root,
//! `prevData`. A consumer that holds the previous root then knows the
//! commit changes exactly what its ops say, without the rest of the
//! repository.
//!
//! For an event of a firehose (a generated `subscribe_repos::Commit`, or
//! any [`RepoCommit`]): `let ops = ops_of(event.op_refs())?;` then
//! `CommitCheck::of_event(&event, &ops)`, with the repository's key from
//! its DID document and the last revision seen of it.
//!
//! ```
//! use atlex_core::types::{Did, Tid};
//! use atlex_identity::crypto::{Curve, SigningKey};
//! use atlex_repo::car::CarWriter;
//! use atlex_repo::commit::UnsignedCommit;
//! use atlex_repo::mst::{MemoryBlockStore, Mst, Op};
//! use atlex_repo::sync::CommitCheck;
//!
//! // A repository with one record, and a commit that adds a second.
//! let store = MemoryBlockStore::new();
//! let (first, second) = (atlex_core::cbor::cid_of(&1)?, atlex_core::cbor::cid_of(&2)?);
//! let before = Mst::new(&store).insert("com.example.note/3jzfcijpj2z2a", first)?;
//! let after = before.insert("com.example.note/3jzfcijpj2z2b", second.clone())?;
//!
//! let key = SigningKey::generate(Curve::K256)?;
//! let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
//! let commit = UnsignedCommit::new(did.clone(), after.root()?, Tid::next()?).sign(&key);
//!
//! // What the event carries: the commit, the record, and the covering proof
//! // of each op's key.
//! let path = "com.example.note/3jzfcijpj2z2b";
//! let mut car = CarWriter::with_roots(Vec::new(), &[commit.cid()])?;
//! car.write_block(&commit.cid(), &commit.to_bytes())?;
//! car.write_block(&second, &atlex_core::cbor::to_vec(&2)?)?;
//! for block in after.covering_proof(path)? {
//!     car.write_block(&block.cid, &block.data)?;
//! }
//! let blocks = car.finish()?;
//!
//! let ops = [Op::Create { path: path.into(), cid: second }];
//! let previous = before.root()?;
//! let checked = CommitCheck::new(&did, &commit.cid(), &blocks, &ops)
//!     .prev_data(&previous)
//!     .signed_by(&key.public_key())
//!     .run()?;
//! assert_eq!(checked.prev_data, previous);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashSet;

use atlex_core::types::{Cid, Did, Tid};

use crate::car::{Car, CarError};
use crate::commit::{Commit, CommitError};
use crate::firehose::{Action, OpRef, RepoCommit};
use crate::mst::{MemoryBlockStore, Mst, MstError, Op};

/// The check of one commit: what the event says, and what the consumer
/// knows (the previous root, the last revision, the repository's key).
/// [`run`](CommitCheck::run) does it.
#[derive(Clone, Copy)]
#[must_use = "a check does nothing until it is run"]
pub struct CommitCheck<'a> {
    repo: &'a Did,
    commit: &'a Cid,
    blocks: &'a [u8],
    ops: &'a [Op],
    prev_data: Option<&'a Cid>,
    after_rev: Option<&'a Tid>,
    #[cfg(feature = "crypto")]
    key: Option<&'a atlex_identity::crypto::PublicKey>,
}

/// A commit that passed: the commit, and the root its ops were undone to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedCommit {
    /// The commit.
    pub commit: Commit,
    /// The tree's root before the commit, as the inversion computed it:
    /// the `prevData` given to the check, if one was; otherwise the root a
    /// consumer compares with the one it holds.
    pub prev_data: Cid,
}

/// Why a commit does not check. Each case names what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The blocks are not a CAR whose blocks match their CIDs.
    #[error("commit blocks: {0}")]
    Car(#[from] CarError),
    /// The CAR's first root is not the commit (the event format requires
    /// it).
    #[error("the first root of the commit's blocks is {found:?}, not the commit")]
    RootNotCommit {
        /// The CAR's first root, if it has one.
        found: Option<Box<Cid>>,
    },
    /// The commit block is not among the blocks.
    #[error("the commit block {0} is not among the commit's blocks")]
    MissingCommit(Box<Cid>),
    /// The commit block is not a version 3 commit.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// The commit is of another repository than the event's.
    #[error("the commit is of {found}, the event of {expected}")]
    WrongRepo {
        /// The event's repository.
        expected: Did,
        /// The commit's.
        found: Did,
    },
    /// The commit's revision is not after the last one seen.
    #[error("commit rev {rev} is not after the last one, {last}")]
    RevNotAfter {
        /// The commit's revision.
        rev: Tid,
        /// The last one seen.
        last: Tid,
    },
    /// The signature does not verify with the repository's key.
    #[cfg(feature = "crypto")]
    #[error("commit signature: {0}")]
    Signature(atlex_identity::crypto::SignatureError),
    /// An op as the event lists it is not a create, update or delete with
    /// the CIDs its action needs.
    #[error("op {path}: {reason}")]
    BadOp {
        /// The op's path.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two ops on one path.
    #[error("two ops on {0}")]
    DuplicatePath(String),
    /// A create's or update's record is not among the blocks.
    #[error("op {path}: record block {cid} is not among the commit's blocks")]
    MissingRecord {
        /// The op's path.
        path: String,
        /// The record's CID.
        cid: Box<Cid>,
    },
    /// The commit's tree is not what the op says: a created or updated key
    /// without the op's CID, a deleted key still there.
    #[error("op {path}: the commit's tree holds {found:?} there, the op says {expected:?}")]
    OpNotInTree {
        /// The op's path.
        path: String,
        /// What the op says the tree holds.
        expected: Option<Cid>,
        /// What it holds.
        found: Option<Cid>,
    },
    /// The commit's tree could not be read: a node the check needs is not
    /// among the blocks (the commit left out part of a proof), or a node
    /// breaks the tree's rules.
    #[error("the commit's tree: {0}")]
    Tree(MstError),
    /// Undoing an op failed: the blocks lack a node the inversion needs, or
    /// the partial tree does not admit the op's undo.
    #[error("undoing op {path}: {error}")]
    Inversion {
        /// The op's path.
        path: String,
        /// Why.
        error: MstError,
    },
    /// Undoing the ops does not give the previous root: the commit changes
    /// more (or other) than its ops say.
    #[error("undoing the ops gives root {found}, not the previous root {expected}")]
    InversionMismatch {
        /// The previous root (`prevData`).
        expected: Box<Cid>,
        /// What the inversion gave.
        found: Box<Cid>,
    },
}

impl<'a> CommitCheck<'a> {
    /// The check of the commit `commit` of repository `repo`, whose event
    /// carries `blocks` (a CAR) and `ops`.
    pub fn new(repo: &'a Did, commit: &'a Cid, blocks: &'a [u8], ops: &'a [Op]) -> Self {
        Self {
            repo,
            commit,
            blocks,
            ops,
            prev_data: None,
            after_rev: None,
            #[cfg(feature = "crypto")]
            key: None,
        }
    }

    /// The check of a firehose event: its repository, commit, blocks and,
    /// when it has one, `prevData`; `ops` are its ops (see [`ops_of`]).
    pub fn of_event<C: RepoCommit + ?Sized>(event: &'a C, ops: &'a [Op]) -> Self {
        let check = Self::new(event.repo(), event.commit_cid(), event.blocks(), ops);
        match event.prev_data() {
            Some(root) => check.prev_data(root),
            None => check,
        }
    }

    /// The tree's root before the commit (the event's `prevData`, or the
    /// root the consumer holds): the inversion must give it.
    pub fn prev_data(mut self, root: &'a Cid) -> Self {
        self.prev_data = Some(root);
        self
    }

    /// The last revision seen of the repository: the commit's must be
    /// after it.
    pub fn after_rev(mut self, rev: &'a Tid) -> Self {
        self.after_rev = Some(rev);
        self
    }

    /// The repository's signing key (from its DID document): the commit's
    /// signature must verify with it (feature `crypto`).
    #[cfg(feature = "crypto")]
    pub fn signed_by(mut self, key: &'a atlex_identity::crypto::PublicKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Checks the commit: its block and signature, its revision, every op
    /// against the commit's tree, and the inversion of the ops back to the
    /// previous root. Nothing is written anywhere.
    pub fn run(&self) -> Result<CheckedCommit, SyncError> {
        let car = Car::from_slice(self.blocks)?;
        if car.roots().first() != Some(self.commit) {
            return Err(SyncError::RootNotCommit {
                found: car.roots().first().cloned().map(Box::new),
            });
        }
        let commit_bytes = car
            .blocks
            .get(self.commit)
            .ok_or_else(|| SyncError::MissingCommit(Box::new(self.commit.clone())))?;
        let commit = Commit::from_bytes(commit_bytes)?;
        if commit.did != *self.repo {
            return Err(SyncError::WrongRepo {
                expected: self.repo.clone(),
                found: commit.did,
            });
        }
        if let Some(last) = self.after_rev
            && commit.rev <= *last
        {
            return Err(SyncError::RevNotAfter {
                rev: commit.rev,
                last: last.clone(),
            });
        }
        #[cfg(feature = "crypto")]
        if let Some(key) = self.key {
            commit.verify(key).map_err(|err| match err {
                CommitError::Signature(err) => SyncError::Signature(err),
                other => SyncError::Commit(other),
            })?;
        }

        let mut paths = HashSet::with_capacity(self.ops.len());
        for op in self.ops {
            if !paths.insert(op.path()) {
                return Err(SyncError::DuplicatePath(op.path().to_owned()));
            }
            if let Some(cid) = op.cid()
                && !car.blocks.contains(cid)
            {
                return Err(SyncError::MissingRecord {
                    path: op.path().to_owned(),
                    cid: Box::new(cid.clone()),
                });
            }
        }

        let store = MemoryBlockStore::from_car(&car);
        let mut tree = Mst::load(&store, &commit.data).map_err(SyncError::Tree)?;
        for op in self.ops {
            let found = tree.get(op.path()).map_err(SyncError::Tree)?;
            if found.as_ref() != op.cid() {
                return Err(SyncError::OpNotInTree {
                    path: op.path().to_owned(),
                    expected: op.cid().cloned(),
                    found,
                });
            }
        }
        for op in self.ops {
            let undone = match op {
                Op::Create { path, .. } => tree.delete(path),
                Op::Update { path, prev, .. } => tree.update(path, prev.clone()),
                Op::Delete { path, prev } => tree.insert(path, prev.clone()),
            };
            tree = undone.map_err(|error| SyncError::Inversion {
                path: op.path().to_owned(),
                error,
            })?;
        }
        let root = tree.root().map_err(SyncError::Tree)?;
        if let Some(expected) = self.prev_data
            && root != *expected
        {
            return Err(SyncError::InversionMismatch {
                expected: Box::new(expected.clone()),
                found: Box::new(root),
            });
        }
        Ok(CheckedCommit {
            commit,
            prev_data: root,
        })
    }
}

/// The ops of a firehose event, as the check takes them: a create with its
/// record's CID, an update with the new and the previous, a delete with
/// the previous. Events of the firehose before sync 1.1 (no `prev`) do not
/// convert: their commits cannot be inverted.
pub fn ops_of<'a>(refs: impl IntoIterator<Item = OpRef<'a>>) -> Result<Vec<Op>, SyncError> {
    refs.into_iter()
        .map(|op| {
            let bad = |reason| SyncError::BadOp {
                path: op.path.to_owned(),
                reason,
            };
            let path = op.path.to_owned();
            match (Action::parse(op.action), op.cid, op.prev) {
                (Action::Create, Some(cid), None) => Ok(Op::Create {
                    path,
                    cid: cid.clone(),
                }),
                (Action::Update, Some(cid), Some(prev)) => Ok(Op::Update {
                    path,
                    cid: cid.clone(),
                    prev: prev.clone(),
                }),
                (Action::Delete, None, Some(prev)) => Ok(Op::Delete {
                    path,
                    prev: prev.clone(),
                }),
                (Action::Create, None, _) => Err(bad("a create without the record's CID")),
                (Action::Create, Some(_), Some(_)) => Err(bad("a create with a previous CID")),
                (Action::Update, None, _) => Err(bad("an update without the record's CID")),
                (Action::Update | Action::Delete, _, None) => {
                    Err(bad("no previous CID (`prev`), which the inversion needs"))
                }
                (Action::Delete, Some(_), Some(_)) => Err(bad("a delete with a record CID")),
                (Action::Other(_), _, _) => Err(bad("an action other than create, update, delete")),
            }
        })
        .collect()
}
