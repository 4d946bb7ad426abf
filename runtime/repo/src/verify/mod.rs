//! A verifying consumer of repository event streams (sync 1.1): per
//! repository, the last revision and tree root seen, and each message of
//! `com.atproto.sync.subscribeRepos` checked against them.
//!
//! [`FirehoseVerifier`] holds that state and checks one message at a time,
//! whatever carried it (a WebSocket, a file, a test):
//!
//! - `#commit`: at most [`DEFAULT_MAX_OPS`] ops; a revision after the last
//!   one seen and not in the future; a `prevData` equal to the tree root
//!   last seen; the signature, against the account's key; and the ops,
//!   inverted on the partial tree the event's blocks carry, giving back
//!   `prevData` (see [`crate::sync`]). A signature that does not verify is
//!   checked once more with the key fetched again, in case the account
//!   rotated it.
//! - `#sync`: the commit block's signature; the repository's state is then
//!   reset to the commit's root and revision.
//! - `#identity`: the account's cached key is forgotten.
//! - `#account` and the rest pass through.
//!
//! Keys come from a [`KeySource`]: [`StaticKeys`] for keys known in
//! advance, `ResolverKeys` over an identity resolver (feature `resolve`).
//! When a repository's chain breaks (its `prevData` is not the root last
//! seen, a commit fails, a repository without state when state is
//! required), [`FirehoseVerifier::verify_or_resync`] calls a [`Resync`]
//! hook, which may fetch the whole repository (`com.atproto.sync.getRepo`);
//! its commit, verified, becomes the repository's state.
//!
//! With feature `client`, `VerifiedStream` runs a verifier over
//! `Client::subscribe`, `GetRepoResync` fetches repositories with the
//! client, and `fetch_repo` gets a CAR for [`verify_repo`], whose
//! records [`RepoCar::repo`] walks (backfill).

mod backfill;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "resolve")]
mod resolve;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atlex_core::types::{Cid, Did, Handle, Tid};
use atlex_identity::crypto::{PublicKey, SignatureError};
use bytes::Bytes;

use crate::commit::{Commit, CommitError};
use crate::events::{RepoEvent, RepoMessage};
use crate::firehose::RepoCommit;
use crate::mst::{MemoryBlockStore, Mst, MstError, Op};
use crate::repo_car::{RepoCar, RepoCarError, read_repo_car};
use crate::sync::{CommitCheck, SyncError, ops_of};

pub use backfill::verify_repo;
#[cfg(feature = "client")]
pub use client::{GetRepoResync, StreamError, VerifiedMessage, VerifiedStream, fetch_repo};
#[cfg(feature = "resolve")]
pub use resolve::ResolverKeys;

/// An error of a [`KeySource`] or a [`Resync`] hook, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most ops a `#commit` may carry (what relays accept): 200.
pub const DEFAULT_MAX_OPS: usize = 200;
/// How far in the future a revision may be, by default (clocks differ):
/// five minutes.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// Where a verifier finds each account's signing key.
pub trait KeySource: Send + Sync {
    /// The current `#atproto` key of `did`; `fresh` asks for it again from
    /// its source rather than from a cache (after a signature failed with
    /// the cached one).
    fn signing_key(
        &self,
        did: &Did,
        fresh: bool,
    ) -> impl Future<Output = Result<PublicKey, BoxError>> + Send;

    /// Forgets what is cached of `did`'s key (its identity changed).
    fn invalidate(&self, did: &Did) {
        let _ = did;
    }

    /// Checks that `handle` is `did`'s, both ways: the handle resolves to
    /// the DID and the DID's document claims the handle. A source that
    /// cannot resolve handles says so as an error: the handle of an
    /// `#identity` is then reported as failed ([`HandleCheck::Failed`]),
    /// never taken as verified.
    fn check_handle(
        &self,
        did: &Did,
        handle: &Handle,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (did, handle);
        async { Err("this key source does not resolve handles".into()) }
    }
}

/// Keys known in advance, by DID: for tests, or a consumer that keeps the
/// keys itself. A key can be replaced while the verifier runs.
#[derive(Debug, Default)]
pub struct StaticKeys {
    keys: RwLock<HashMap<Did, PublicKey>>,
}

impl StaticKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `did`'s key.
    pub fn with(self, did: Did, key: PublicKey) -> Self {
        self.set(did, key);
        self
    }

    /// Sets (or replaces) `did`'s key.
    pub fn set(&self, did: Did, key: PublicKey) {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(did, key);
    }
}

impl KeySource for StaticKeys {
    async fn signing_key(&self, did: &Did, _fresh: bool) -> Result<PublicKey, BoxError> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(did)
            .cloned()
            .ok_or_else(|| format!("no key for {did}").into())
    }
}

/// What a verifier calls when a repository's chain breaks: it may fetch
/// the repository's CAR (`com.atproto.sync.getRepo`), whose commit the
/// verifier checks and takes as the repository's state.
pub trait Resync: Send + Sync {
    /// The CAR of `did`'s whole repository, or `None` to leave the
    /// repository without state (its next commit then starts it anew).
    fn fetch_repo(&self, did: &Did)
    -> impl Future<Output = Result<Option<Bytes>, BoxError>> + Send;
}

/// A [`Resync`] hook that fetches nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResync;

impl Resync for NoResync {
    async fn fetch_repo(&self, _did: &Did) -> Result<Option<Bytes>, BoxError> {
        Ok(None)
    }
}

/// What a verifier knows of a repository: its last commit's revision and
/// tree root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoState {
    /// The revision of the last commit.
    pub rev: Tid,
    /// The root of the repository's tree after it (`data`).
    pub data: Cid,
}

/// A `#commit` that passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCommit {
    /// The commit block's CID.
    pub cid: Cid,
    /// The commit.
    pub commit: Commit,
    /// The tree's root before the commit: what the ops inverted to (the
    /// event's `prevData`, or the root last seen when the event has none);
    /// in unauthenticated mode, the event's `prevData` as given.
    pub prev_data: Option<Cid>,
    /// The ops.
    pub ops: Vec<Op>,
    /// Whether the signature was checked (not when signatures are skipped,
    /// nor in unauthenticated mode).
    pub signature_checked: bool,
    /// Whether the ops were inverted to `prev_data` (not in unauthenticated
    /// mode).
    pub inverted: bool,
}

/// What a message that passed was.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verified {
    /// A `#commit`, verified.
    Commit(VerifiedCommit),
    /// A `#sync`, verified: the repository's new state.
    Sync(RepoState),
    /// An `#identity`: the account's cached key was forgotten; its handle,
    /// checked.
    Identity(HandleCheck),
    /// An `#account`, passed through.
    Account,
    /// Any other message, passed through.
    Other,
}

/// The handle of an `#identity` event, as checked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandleCheck {
    /// The event gives no handle.
    NoHandle,
    /// The handle resolves to the account and its DID document claims it.
    Verified(Handle),
    /// The handle as the event gives it, not checked (the verifier skips
    /// handle checks, or is unauthenticated).
    Unchecked(Handle),
    /// The handle does not check out: do not show it as the account's.
    Failed {
        /// The handle the event gives.
        handle: Handle,
        /// Why.
        reason: String,
    },
}

/// Why a message does not verify. Each case names what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The commit carries more ops than allowed.
    #[error("{count} ops, more than the {max} allowed")]
    TooManyOps {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The revision is not after the last one seen: a message seen
    /// already, or out of order. The repository's state is unchanged.
    #[error("rev {rev} is not after the last one seen, {last}")]
    RevNotAfter {
        /// The message's revision.
        rev: Tid,
        /// The last one seen.
        last: Tid,
    },
    /// The revision is further in the future than clocks may differ.
    #[error("rev {rev} is in the future")]
    RevInFuture {
        /// The revision.
        rev: Tid,
    },
    /// The event's revision is not its commit's.
    #[error("the event says rev {event}, its commit has {commit}")]
    RevMismatch {
        /// The event's.
        event: String,
        /// The commit's.
        commit: Tid,
    },
    /// The event's `prevData` is not the tree root last seen: a commit was
    /// missed, or the repository was changed behind the stream.
    #[error("prevData {event} is not the last root seen, {last}")]
    PrevDataMismatch {
        /// The root last seen.
        last: Box<Cid>,
        /// The event's `prevData`.
        event: Box<Cid>,
    },
    /// Neither the event nor the verifier has the previous root, and the
    /// commit is not the repository's first (it has `since`): the ops
    /// cannot be checked (an event from before sync 1.1).
    #[error("the event has no prevData and the repository no state")]
    NoPrevData,
    /// The repository has no state, and the verifier requires it.
    #[error("no state for the repository")]
    NoState,
    /// The account's key could not be had.
    #[error("the key of {did}: {error}")]
    Key {
        /// The account.
        did: Did,
        /// Why.
        error: BoxError,
    },
    /// The signature does not verify with the account's key, fetched again.
    #[error("bad signature: {0}")]
    BadSignature(SignatureError),
    /// A block the check needs is not among the event's: the commit, a
    /// record, or a tree node of an op's proof.
    #[error("block {cid} is missing")]
    MissingBlock {
        /// The block's CID.
        cid: Box<Cid>,
    },
    /// Undoing the ops does not give `prevData`: the commit changes more, or
    /// other, than its ops say.
    #[error("the ops invert to {found}, not to prevData {expected}")]
    InversionMismatch {
        /// `prevData`.
        expected: Box<Cid>,
        /// What the inversion gave.
        found: Box<Cid>,
    },
    /// The commit is of another repository than the message's.
    #[error("the commit is of {found}, the message of {expected}")]
    WrongRepo {
        /// The message's repository.
        expected: Did,
        /// The commit's.
        found: Did,
    },
    /// The commit does not check in another way (its blocks, an op, the
    /// tree).
    #[error(transparent)]
    Commit(SyncError),
    /// The CAR of a `#sync` or of a whole repository does not read.
    #[error(transparent)]
    Repo(#[from] RepoCarError),
}

impl VerifyError {
    /// Whether the repository's state can no longer be trusted to follow
    /// the stream: every failure but a revision not after the last (a
    /// message seen already).
    pub fn breaks_chain(&self) -> bool {
        !matches!(self, Self::RevNotAfter { .. })
    }
}

impl From<SyncError> for VerifyError {
    fn from(error: SyncError) -> Self {
        let missing = |cid: Box<Cid>| Self::MissingBlock { cid };
        match error {
            SyncError::Signature(error) => Self::BadSignature(error),
            SyncError::MissingCommit(cid) => missing(cid),
            SyncError::MissingRecord { cid, .. } => missing(cid),
            SyncError::Tree(MstError::MissingBlock(cid)) => missing(cid),
            SyncError::Inversion {
                error: MstError::MissingBlock(cid),
                ..
            } => missing(cid),
            SyncError::InversionMismatch { expected, found } => {
                Self::InversionMismatch { expected, found }
            }
            SyncError::WrongRepo { expected, found } => Self::WrongRepo { expected, found },
            SyncError::RevNotAfter { rev, last } => Self::RevNotAfter { rev, last },
            other => Self::Commit(other),
        }
    }
}

/// A message that did not verify, and what the resync hook did about it.
#[derive(Debug)]
pub struct Rejected {
    /// The repository of the message.
    pub did: Option<Did>,
    /// Why it did not verify.
    pub error: VerifyError,
    /// The resync, when the failure broke the repository's chain and the
    /// hook fetched the repository: its verified commit, or why the resync
    /// failed.
    pub resync: Option<Result<Resynced, ResyncError>>,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.did {
            Some(did) => write!(f, "{did}: {}", self.error),
            None => self.error.fmt(f),
        }
    }
}

impl std::error::Error for Rejected {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A repository fetched again and verified: its new state, and the
/// repository itself (to index it again, through [`RepoCar::repo`]).
#[derive(Debug)]
pub struct Resynced {
    /// The repository's state, from its commit.
    pub state: RepoState,
    /// The repository.
    pub repo: RepoCar,
}

/// Why a resync failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResyncError {
    /// The hook failed.
    #[error("fetching the repository: {0}")]
    Fetch(BoxError),
    /// The repository it fetched does not verify.
    #[error("the repository fetched: {0}")]
    Verify(VerifyError),
}

#[derive(Clone, Debug)]
struct Options {
    verify_signatures: bool,
    verify_handles: bool,
    verify_rev_order: bool,
    unauthenticated: bool,
    require_state: bool,
    max_ops: usize,
    max_clock_skew: Duration,
}

/// Verifies the messages of repository event streams, keeping the last
/// revision and tree root of each repository (in memory).
///
/// By default it checks everything: signatures, the order of revisions,
/// and each commit's ops against its blocks and the previous root. The
/// options drop checks, as the TypeScript `@atproto/sync` Firehose's do.
///
/// ```
/// use atlex_core::types::{Did, Tid};
/// use atlex_identity::crypto::{Curve, SigningKey};
/// use atlex_repo::mst::{MemoryBlockStore, Mst};
/// use atlex_repo::verify::{FirehoseVerifier, RepoState, StaticKeys};
///
/// let key = SigningKey::generate(Curve::K256)?;
/// let did = Did::new("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?;
/// let mut verifier =
///     FirehoseVerifier::new(StaticKeys::new().with(did.clone(), key.public_key())).max_ops(50);
///
/// // A state known from elsewhere (a database, a backfill): the next commit
/// // of the repository must follow it.
/// let root = Mst::new(MemoryBlockStore::new()).root()?;
/// verifier.set_state(did.clone(), RepoState { rev: Tid::next()?, data: root.clone() });
/// assert_eq!(verifier.state(&did).map(|state| &state.data), Some(&root));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FirehoseVerifier<K> {
    keys: K,
    options: Options,
    repos: HashMap<Did, RepoState>,
}

impl<K: KeySource> FirehoseVerifier<K> {
    /// A verifier checking everything, with keys from `keys`, knowing no
    /// repository yet.
    pub fn new(keys: K) -> Self {
        Self {
            keys,
            options: Options {
                verify_signatures: true,
                verify_handles: true,
                verify_rev_order: true,
                unauthenticated: false,
                require_state: false,
                max_ops: DEFAULT_MAX_OPS,
                max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            },
            repos: HashMap::new(),
        }
    }

    /// Does not check signatures (commits' ops are still inverted).
    pub fn skip_signatures(mut self) -> Self {
        self.options.verify_signatures = false;
        self
    }

    /// Does not check the handles of `#identity` events: each is reported
    /// as [`HandleCheck::Unchecked`] (the TypeScript Firehose's
    /// `unauthenticatedHandles`).
    pub fn skip_handles(mut self) -> Self {
        self.options.verify_handles = false;
        self
    }

    /// Does not require each revision to be after the last one seen.
    pub fn skip_rev_order(mut self) -> Self {
        self.options.verify_rev_order = false;
        self
    }

    /// Checks nothing but that a commit's blocks read and hold its commit:
    /// no signature, no revision order, no inversion, no `prevData`. The
    /// state still follows the commits.
    pub fn unauthenticated(mut self) -> Self {
        self.options.unauthenticated = true;
        self
    }

    /// Treats a commit of a repository without state as a break of its
    /// chain (by default its own `prevData` is trusted as the start).
    pub fn require_state(mut self) -> Self {
        self.options.require_state = true;
        self
    }

    /// The most ops a commit may carry ([`DEFAULT_MAX_OPS`]).
    pub fn max_ops(mut self, max: usize) -> Self {
        self.options.max_ops = max;
        self
    }

    /// How far in the future a revision may be
    /// ([`DEFAULT_MAX_CLOCK_SKEW`]).
    pub fn max_clock_skew(mut self, skew: Duration) -> Self {
        self.options.max_clock_skew = skew;
        self
    }

    /// The key source.
    pub fn keys(&self) -> &K {
        &self.keys
    }

    /// What is known of `did`'s repository.
    pub fn state(&self, did: &Did) -> Option<&RepoState> {
        self.repos.get(did)
    }

    /// Sets what is known of `did`'s repository (from a database, a
    /// backfill).
    pub fn set_state(&mut self, did: Did, state: RepoState) {
        self.repos.insert(did, state);
    }

    /// Forgets `did`'s repository.
    pub fn forget(&mut self, did: &Did) -> Option<RepoState> {
        self.repos.remove(did)
    }

    /// How many repositories have state.
    pub fn repos(&self) -> usize {
        self.repos.len()
    }

    /// Verifies one message, updating the state of its repository when it
    /// passes. A failure leaves the state as it was.
    pub async fn verify<M: RepoMessage + ?Sized>(
        &mut self,
        message: &M,
    ) -> Result<Verified, VerifyError> {
        match message.event() {
            RepoEvent::Commit { commit, rev } => {
                self.verify_commit(commit, rev).await.map(Verified::Commit)
            }
            RepoEvent::Sync { did, blocks, rev } => {
                self.verify_sync(did, blocks, rev).await.map(Verified::Sync)
            }
            RepoEvent::Identity { did, handle } => {
                self.keys.invalidate(did);
                let check = match handle {
                    None => HandleCheck::NoHandle,
                    Some(handle)
                        if !self.options.verify_handles || self.options.unauthenticated =>
                    {
                        HandleCheck::Unchecked(handle.clone())
                    }
                    Some(handle) => match self.keys.check_handle(did, handle).await {
                        Ok(()) => HandleCheck::Verified(handle.clone()),
                        Err(error) => HandleCheck::Failed {
                            handle: handle.clone(),
                            reason: error.to_string(),
                        },
                    },
                };
                Ok(Verified::Identity(check))
            }
            RepoEvent::Account { .. } => Ok(Verified::Account),
            RepoEvent::Other => Ok(Verified::Other),
        }
    }

    /// Verifies one message; when it fails in a way that breaks its
    /// repository's chain ([`VerifyError::breaks_chain`]), calls `hook` to
    /// fetch the repository and takes its verified commit as the new
    /// state. Without a new state (the hook fetched nothing, or the
    /// repository it fetched does not verify), the repository is
    /// forgotten: its next commit starts it anew.
    pub async fn verify_or_resync<M: RepoMessage + ?Sized, H: Resync + ?Sized>(
        &mut self,
        message: &M,
        hook: &H,
    ) -> Result<Verified, Rejected> {
        let error = match self.verify(message).await {
            Ok(verified) => return Ok(verified),
            Err(error) => error,
        };
        let did = match message.event() {
            RepoEvent::Commit { commit, .. } => Some(commit.repo().clone()),
            RepoEvent::Sync { did, .. }
            | RepoEvent::Identity { did, .. }
            | RepoEvent::Account { did, .. } => Some(did.clone()),
            RepoEvent::Other => None,
        };
        let resync = match &did {
            Some(did) if error.breaks_chain() => {
                let resync = self.resync(did, hook).await.transpose();
                if !matches!(resync, Some(Ok(_))) {
                    self.repos.remove(did);
                }
                resync
            }
            _ => None,
        };
        Err(Rejected { did, error, resync })
    }

    /// Fetches `did`'s repository with `hook`, verifies it and takes its
    /// commit as the repository's state. `None` when the hook fetched
    /// nothing.
    pub async fn resync<H: Resync + ?Sized>(
        &mut self,
        did: &Did,
        hook: &H,
    ) -> Result<Option<Resynced>, ResyncError> {
        let Some(car) = hook.fetch_repo(did).await.map_err(ResyncError::Fetch)? else {
            return Ok(None);
        };
        self.reset_from_repo(did, &car)
            .await
            .map(Some)
            .map_err(ResyncError::Verify)
    }

    /// Reads a repository's CAR (`getRepo`), verifies its commit (signature,
    /// unless skipped) and its whole tree, and takes the commit as the
    /// repository's state.
    pub async fn reset_from_repo(
        &mut self,
        did: &Did,
        car: &[u8],
    ) -> Result<Resynced, VerifyError> {
        let check_signature = self.checks_signatures();
        let repo = read_verified_repo(did, car, &self.keys, check_signature).await?;
        repo.tree()
            .and_then(|tree| tree.check_all())
            .map_err(|err| VerifyError::Repo(err.into()))?;
        let state = RepoState {
            rev: repo.commit.rev.clone(),
            data: repo.commit.data.clone(),
        };
        self.repos.insert(did.clone(), state.clone());
        Ok(Resynced { state, repo })
    }

    /// Verifies a `#commit` event whose revision is `rev`, and makes its
    /// commit the repository's state.
    pub async fn verify_commit<C: RepoCommit + ?Sized>(
        &mut self,
        event: &C,
        rev: &Tid,
    ) -> Result<VerifiedCommit, VerifyError> {
        let did = event.repo();
        let count = event.op_refs().count();
        if count > self.options.max_ops {
            return Err(VerifyError::TooManyOps {
                count,
                max: self.options.max_ops,
            });
        }
        let ops = ops_of(event.op_refs())?;
        if self.options.unauthenticated {
            return self.take_unchecked(event, ops);
        }

        let state = self.repos.get(did);
        if self.options.verify_rev_order
            && let Some(state) = state
            && *rev <= state.rev
        {
            return Err(VerifyError::RevNotAfter {
                rev: rev.clone(),
                last: state.rev.clone(),
            });
        }
        self.check_not_future(rev)?;
        if self.options.require_state && state.is_none() {
            return Err(VerifyError::NoState);
        }
        let prev_data = match (event.prev_data(), state) {
            (Some(event), Some(state)) if *event != state.data => {
                return Err(VerifyError::PrevDataMismatch {
                    last: Box::new(state.data.clone()),
                    event: Box::new(event.clone()),
                });
            }
            (Some(event), _) => event.clone(),
            (None, Some(state)) => state.data.clone(),
            // The repository's first commit (no `since`): the tree before
            // it is empty. An event that leaves out `since` of a later
            // commit then fails the inversion, never passes.
            (None, None) if event.since().is_none() => Mst::new(MemoryBlockStore::new())
                .root()
                .map_err(|error| VerifyError::Commit(SyncError::Tree(error)))?,
            (None, None) => return Err(VerifyError::NoPrevData),
        };

        let check =
            CommitCheck::new(did, event.commit_cid(), event.blocks(), &ops).prev_data(&prev_data);
        let checks_signature = self.options.verify_signatures;
        let checked = if checks_signature {
            signed_with(&self.keys, did, |key| check.signed_by(key).run()).await?
        } else {
            check.run()?
        };
        if checked.commit.rev != *rev {
            return Err(VerifyError::RevMismatch {
                event: rev.to_string(),
                commit: checked.commit.rev,
            });
        }
        self.repos.insert(
            did.clone(),
            RepoState {
                rev: checked.commit.rev.clone(),
                data: checked.commit.data.clone(),
            },
        );
        Ok(VerifiedCommit {
            cid: event.commit_cid().clone(),
            commit: checked.commit,
            prev_data: Some(checked.prev_data),
            ops,
            signature_checked: checks_signature,
            inverted: true,
        })
    }

    /// Verifies a `#sync` event (the commit block's signature, its
    /// revision) and resets the repository's state to its commit.
    pub async fn verify_sync(
        &mut self,
        did: &Did,
        blocks: &[u8],
        rev: &str,
    ) -> Result<RepoState, VerifyError> {
        let check_signature = self.checks_signatures();
        let repo = read_verified_repo(did, blocks, &self.keys, check_signature).await?;
        let commit = repo.commit;
        if commit.rev.as_str() != rev {
            return Err(VerifyError::RevMismatch {
                event: rev.to_owned(),
                commit: commit.rev,
            });
        }
        if !self.options.unauthenticated {
            if self.options.verify_rev_order
                && let Some(state) = self.repos.get(did)
                && commit.rev < state.rev
            {
                return Err(VerifyError::RevNotAfter {
                    rev: commit.rev,
                    last: state.rev.clone(),
                });
            }
            self.check_not_future(&commit.rev)?;
        }
        let state = RepoState {
            rev: commit.rev,
            data: commit.data,
        };
        self.repos.insert(did.clone(), state.clone());
        Ok(state)
    }

    fn checks_signatures(&self) -> bool {
        self.options.verify_signatures && !self.options.unauthenticated
    }

    fn check_not_future(&self, rev: &Tid) -> Result<(), VerifyError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(self.options.max_clock_skew);
        let limit = u64::try_from(now.as_micros()).unwrap_or(u64::MAX);
        if rev.timestamp_micros() > limit {
            return Err(VerifyError::RevInFuture { rev: rev.clone() });
        }
        Ok(())
    }

    /// Unauthenticated mode: the commit as its blocks give it.
    fn take_unchecked<C: RepoCommit + ?Sized>(
        &mut self,
        event: &C,
        ops: Vec<Op>,
    ) -> Result<VerifiedCommit, VerifyError> {
        let car = crate::car::Car::from_slice(event.blocks()).map_err(SyncError::Car)?;
        let cid = event.commit_cid();
        let block = car
            .blocks
            .get(cid)
            .ok_or_else(|| VerifyError::MissingBlock {
                cid: Box::new(cid.clone()),
            })?;
        let commit = Commit::from_bytes(block).map_err(SyncError::Commit)?;
        if commit.did != *event.repo() {
            return Err(VerifyError::WrongRepo {
                expected: event.repo().clone(),
                found: commit.did,
            });
        }
        self.repos.insert(
            commit.did.clone(),
            RepoState {
                rev: commit.rev.clone(),
                data: commit.data.clone(),
            },
        );
        Ok(VerifiedCommit {
            cid: cid.clone(),
            commit,
            prev_data: event.prev_data().cloned(),
            ops,
            signature_checked: false,
            inverted: false,
        })
    }
}

/// Runs `check` with `did`'s key; when the signature does not verify, once
/// more with the key fetched again, if it changed (a rotated key).
async fn signed_with<K: KeySource + ?Sized, T>(
    keys: &K,
    did: &Did,
    check: impl Fn(&PublicKey) -> Result<T, SyncError>,
) -> Result<T, VerifyError> {
    let key_error = |error| VerifyError::Key {
        did: did.clone(),
        error,
    };
    let key = keys.signing_key(did, false).await.map_err(key_error)?;
    match check(&key) {
        Err(SyncError::Signature(first)) => {
            let fresh = keys.signing_key(did, true).await.map_err(key_error)?;
            if fresh == key {
                return Err(VerifyError::BadSignature(first));
            }
            Ok(check(&fresh)?)
        }
        other => Ok(other?),
    }
}

/// Reads a CAR whose first root is `did`'s commit (a repository, or a
/// `#sync` event's blocks) and checks the commit's signature.
async fn read_verified_repo<K: KeySource + ?Sized>(
    did: &Did,
    car: &[u8],
    keys: &K,
    check_signature: bool,
) -> Result<RepoCar, VerifyError> {
    let repo = read_repo_car(car)?;
    if repo.commit.did != *did {
        return Err(VerifyError::WrongRepo {
            expected: did.clone(),
            found: repo.commit.did,
        });
    }
    if check_signature {
        signed_with(keys, did, |key| {
            repo.commit.verify(key).map_err(|err| match err {
                CommitError::Signature(err) => SyncError::Signature(err),
                other => SyncError::Commit(other),
            })
        })
        .await?;
    }
    Ok(repo)
}
