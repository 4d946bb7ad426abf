//! The ops of a firehose commit (`com.atproto.sync.subscribeRepos#commit`):
//! each `(action, collection, rkey, cid, record)`, the record decoded from
//! the commit's CAR into a generated type, every block verified against its
//! CID.
//!
//! [`RepoCommit`] is what a `#commit` event offers (`atlex-lexicons`
//! implements it for its generated `subscribe_repos::Commit`); with feature
//! `cbor`, [`RepoCommit::decode_ops`] reads the CAR once and iterates the
//! ops. The record type is yours to choose:
//!
//! - the record dispatch of generated bindings (an enum of every record
//!   type, chosen by `$type`, with an `Unknown` case that keeps the data of
//!   other types);
//! - [`Unknown`](atlex_core::data::Unknown) or [`Value`](atlex_core::data::Value), to
//!   keep every record as data;
//! - one record type, for a stream already filtered to its collection.
//!
//! ```
//! use atlex::firehose::{Action, RepoCommit as _};
//! use atlex_lexicons::Record;
//! use atlex_lexicons::com::atproto::sync::subscribe_repos::Commit;
//!
//! fn print_posts(commit: &Commit) -> Result<(), Box<dyn std::error::Error>> {
//!     for op in commit.decode_ops::<Record>()? {
//!         let op = op?;
//!         if let (Action::Create, Some(Record::AppBskyFeedPost(post))) = (&op.action, &op.record) {
//!             println!("{} posted at://{}/{}/{}: {}", commit.repo, commit.repo, op.collection, op.rkey, post.text);
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Records are read leniently by default (old records carry legacy blobs and
//! other forms the strict decoder refuses; see [`atlex_core::cbor`]).

use atlex_core::types::{Did, Tid};

/// The CID type of commits and ops: [`atlex_core::types::Cid`].
pub use atlex_core::types::Cid;

pub use crate::events::{RepoEvent, RepoMessage};

/// A commit event of a repository event stream, as [`decode_ops`] reads it:
/// the repository, the commit's CID, the CAR of its blocks and its ops.
///
/// [`decode_ops`]: RepoCommit::decode_ops
pub trait RepoCommit {
    /// The repository the commit is in.
    fn repo(&self) -> &Did;
    /// The CID of the commit block.
    fn commit_cid(&self) -> &Cid;
    /// The CAR file of the commit's blocks (the commit block, its records,
    /// the changed MST nodes).
    fn blocks(&self) -> &[u8];
    /// The ops, as the event lists them.
    fn op_refs(&self) -> impl Iterator<Item = OpRef<'_>>;
    /// The root of the repository's tree before the commit (`prevData`),
    /// which the inversion of sync 1.1 checks against; `None` when the
    /// event does not give it.
    fn prev_data(&self) -> Option<&Cid> {
        None
    }
    /// The revision of the repository's previous commit (`since`); `None`
    /// for the repository's first commit, whose tree before is empty, and
    /// when the event does not give it.
    fn since(&self) -> Option<&Tid> {
        None
    }

    /// Reads the CAR (every block verified against its CID) and iterates the
    /// ops, each record decoded as `R`.
    #[cfg(feature = "cbor")]
    fn decode_ops<R: serde::de::DeserializeOwned>(
        &self,
    ) -> Result<CommitOps<'_, R>, crate::car::CarError> {
        CommitOps::new(self)
    }
}

/// One op of a commit event, as listed: still text and CIDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpRef<'a> {
    /// `create`, `update` or `delete`.
    pub action: &'a str,
    /// `<collection>/<rkey>`.
    pub path: &'a str,
    /// The new record's CID (creates and updates).
    pub cid: Option<&'a Cid>,
    /// The previous record's CID (updates and deletes, in the inductive
    /// firehose).
    pub prev: Option<&'a Cid>,
}

/// What an op does to its record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A new record.
    Create,
    /// A new version of a record.
    Update,
    /// A record removed.
    Delete,
    /// An action this code does not know (from a newer protocol).
    Other(String),
}

impl Action {
    /// Reads an action as the event writes it.
    pub fn parse(text: &str) -> Self {
        match text {
            "create" => Self::Create,
            "update" => Self::Update,
            "delete" => Self::Delete,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The action as the event writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Other(other) => other,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "cbor")]
pub use decode::{CommitOps, Op, OpError, commit_of_car};

/// The commit of an event: [`commit::Commit`](crate::commit::Commit), here
/// for users of the event stream alone.
#[cfg(feature = "cbor")]
pub use crate::commit::{Commit, CommitError};

#[cfg(feature = "cbor")]
mod decode {
    use std::marker::PhantomData;

    use serde::de::DeserializeOwned;

    use super::{Action, Cid, OpRef, RepoCommit};
    use crate::car::{BlockError, Car, CarError};
    use crate::commit::{Commit, CommitError};
    use atlex_core::cbor::{self, DecodeError};
    use atlex_core::types::{Nsid, RecordKey};

    /// One op of a commit, decoded: what [`CommitOps`] yields.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Op<R> {
        /// What the op does.
        pub action: Action,
        /// The record's collection.
        pub collection: Nsid,
        /// The record's key.
        pub rkey: RecordKey,
        /// The new record's CID (creates and updates).
        pub cid: Option<Cid>,
        /// The previous record's CID, when the event gives it.
        pub prev: Option<Cid>,
        /// The new record (creates and updates), from its block.
        pub record: Option<R>,
    }

    impl<R> Op<R> {
        /// `<collection>/<rkey>`.
        pub fn path(&self) -> String {
            format!("{}/{}", self.collection, self.rkey)
        }
    }

    /// Why one op of a commit could not be read. The other ops are still
    /// yielded.
    #[derive(Debug, thiserror::Error)]
    pub enum OpError {
        /// The path is not `<nsid>/<record-key>`.
        #[error("op path {path:?}: {reason}")]
        Path {
            /// The path.
            path: String,
            /// What is wrong.
            reason: String,
        },
        /// A create or update without the new record's CID.
        #[error("op {path}: a {action} without a record CID")]
        MissingCid {
            /// The path.
            path: String,
            /// The action.
            action: Action,
        },
        /// The record's block is not in the commit's CAR.
        #[error("op {path}: record block {cid} is not in the commit")]
        MissingBlock {
            /// The path.
            path: String,
            /// The CID.
            cid: Box<Cid>,
        },
        /// The record's block does not decode as the record type.
        #[error("op {path}: record {cid}: {error}")]
        Record {
            /// The path.
            path: String,
            /// The record's CID.
            cid: Box<Cid>,
            /// Why.
            error: DecodeError,
        },
    }

    /// The ops of a commit, each with its record decoded as `R`: made by
    /// [`RepoCommit::decode_ops`], which read the CAR and verified every
    /// block.
    pub struct CommitOps<'a, R> {
        car: Car<'a>,
        commit: Cid,
        ops: std::vec::IntoIter<OpRef<'a>>,
        lenient: bool,
        record: PhantomData<fn() -> R>,
    }

    impl<'a, R: DeserializeOwned> CommitOps<'a, R> {
        pub(super) fn new<C: RepoCommit + ?Sized>(commit: &'a C) -> Result<Self, CarError> {
            let car = Car::from_slice(commit.blocks())?;
            Ok(Self {
                car,
                commit: commit.commit_cid().clone(),
                ops: commit.op_refs().collect::<Vec<_>>().into_iter(),
                lenient: true,
                record: PhantomData,
            })
        }

        /// Decodes records strictly: canonical DAG-CBOR of the data model
        /// only (see [`atlex_core::cbor`]).
        pub fn strict(mut self) -> Self {
            self.lenient = false;
            self
        }

        /// The commit's blocks, verified.
        pub fn car(&self) -> &Car<'a> {
            &self.car
        }

        /// The commit, from its block (canonical DAG-CBOR, version 3): check
        /// its signature with [`Commit::verify`].
        pub fn commit(&self) -> Result<Commit, CommitCarError> {
            commit_block(&self.car, &self.commit)
        }

        fn decode(&self, op: OpRef<'a>) -> Result<Op<R>, OpError> {
            let path_error = |reason: String| OpError::Path {
                path: op.path.to_owned(),
                reason,
            };
            let Some((collection, rkey)) = op.path.split_once('/') else {
                return Err(path_error(
                    "no `/` between collection and record key".to_owned(),
                ));
            };
            let collection = Nsid::new(collection).map_err(|err| path_error(err.to_string()))?;
            let rkey = RecordKey::new(rkey).map_err(|err| path_error(err.to_string()))?;
            let action = Action::parse(op.action);
            let record = match (&action, op.cid) {
                (Action::Delete, _) | (Action::Other(_), None) => None,
                (Action::Create | Action::Update, None) => {
                    return Err(OpError::MissingCid {
                        path: op.path.to_owned(),
                        action,
                    });
                }
                (_, Some(cid)) => {
                    let Some(data) = self.car.blocks.get(cid) else {
                        return Err(OpError::MissingBlock {
                            path: op.path.to_owned(),
                            cid: Box::new(cid.clone()),
                        });
                    };
                    let decoded = if self.lenient {
                        cbor::from_slice_lenient(data)
                    } else {
                        cbor::from_slice(data)
                    };
                    Some(decoded.map_err(|error| OpError::Record {
                        path: op.path.to_owned(),
                        cid: Box::new(cid.clone()),
                        error,
                    })?)
                }
            };
            Ok(Op {
                action,
                collection,
                rkey,
                cid: op.cid.cloned(),
                prev: op.prev.cloned(),
                record,
            })
        }
    }

    impl<R: DeserializeOwned> Iterator for CommitOps<'_, R> {
        type Item = Result<Op<R>, OpError>;

        fn next(&mut self) -> Option<Self::Item> {
            let op = self.ops.next()?;
            Some(self.decode(op))
        }

        fn size_hint(&self) -> (usize, Option<usize>) {
            self.ops.size_hint()
        }
    }

    impl<R: DeserializeOwned> ExactSizeIterator for CommitOps<'_, R> {}

    /// The commit of a CAR whose first root is a commit block (the `blocks`
    /// of a `#sync` event): its CID and the commit object.
    pub fn commit_of_car(bytes: &[u8]) -> Result<(Cid, Commit), CommitCarError> {
        let car = Car::from_slice(bytes)?;
        let root = car.roots().first().ok_or(CommitCarError::NoRoot)?.clone();
        let commit = commit_block(&car, &root)?;
        Ok((root, commit))
    }

    fn commit_block(car: &Car<'_>, cid: &Cid) -> Result<Commit, CommitCarError> {
        let block = car
            .blocks
            .get(cid)
            .ok_or_else(|| CommitCarError::Block(BlockError::Missing(Box::new(cid.clone()))))?;
        Ok(Commit::from_bytes(block)?)
    }

    /// Why [`commit_of_car`] failed.
    #[derive(Debug, thiserror::Error)]
    pub enum CommitCarError {
        /// The CAR does not read.
        #[error(transparent)]
        Car(#[from] CarError),
        /// The CAR names no root.
        #[error("the CAR names no root")]
        NoRoot,
        /// The commit block is missing.
        #[error(transparent)]
        Block(#[from] BlockError),
        /// The commit block is not a commit (version 3, canonical DAG-CBOR).
        #[error(transparent)]
        Commit(#[from] CommitError),
    }
}

#[cfg(feature = "cbor")]
pub use decode::CommitCarError;
