//! The server: accounts, their repositories, the writes that change them and
//! the events those writes append to the firehose.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use atlex::car::CarWriter;
use atlex::cbor;
use atlex::crypto::{Curve, SigningKey};
use atlex::data::{Bytes, CidLink, Unknown};
use atlex::repo::commit::{Commit, UnsignedCommit, next_rev};
use atlex::repo::mst::{BlockStore as _, MemoryBlockStore, Mst, MstError};
use atlex::server::{CommonError, XrpcRouter};
use atlex::subscription::EventLog;
use atlex::types::{Cid, Datetime, Did, Tid};
use atlex_lexicons::com::atproto::repo::{self, defs::CommitMeta};
use atlex_lexicons::com::atproto::sync::{self, subscribe_repos};

/// The accounts: bearer token, DID (made up for the demo, in the form of
/// `did:plc`: 24 characters of lowercase base32; the server's own `/{did}`
/// endpoint serves their documents), signing key (hex; fixed, for a demo).
pub(crate) const ACCOUNTS: &[(&str, &str, &str)] = &[
    (
        "alice-token",
        "did:plc:zmromlgyy6krurta6aidtixk",
        "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c",
    ),
    (
        "bob-token",
        "did:plc:6b2e7gp7hmgux6z7kj4ndlxj",
        "2f6d4d2c6a0bc0b73b2a1f6c8f3f77b5d2f1e1e9a4e2b0c7d8e9f0a1b2c3d4e5",
    ),
];

/// One account and its repository.
pub(crate) struct Account {
    pub(crate) did: Did,
    pub(crate) key: SigningKey,
    /// The repository: `collection/rkey` → the record's CID. Its store holds
    /// the nodes, the records and the commits.
    pub(crate) tree: Mst<Arc<MemoryBlockStore>>,
    /// The last commit: its CID and revision.
    pub(crate) head: Cid,
    pub(crate) rev: Tid,
    /// Every commit's revision and tree root, oldest first: what
    /// `getRepo` with `since` diffs from.
    pub(crate) history: Vec<(Tid, Cid)>,
}

impl Account {
    /// A new account with an empty repository and its first commit.
    fn new(did: Did, key: SigningKey) -> Result<Self, CommonError> {
        let tree = Mst::new(Arc::new(MemoryBlockStore::new()));
        let rev = next_rev(None).map_err(|e| internal(&e))?;
        let commit = sign(&did, &key, &tree, rev)?;
        Ok(Self {
            head: commit.cid(),
            history: vec![(commit.rev.clone(), commit.data)],
            rev: commit.rev,
            did,
            key,
            tree,
        })
    }

    /// Signs a commit of `tree` after the account's last one and makes it
    /// the head; returns it.
    fn commit(&mut self, tree: Mst<Arc<MemoryBlockStore>>) -> Result<Commit, CommonError> {
        let rev = next_rev(Some(&self.rev)).map_err(|e| internal(&e))?;
        let commit = sign(&self.did, &self.key, &tree, rev)?;
        self.tree = tree;
        self.head = commit.cid();
        self.rev = commit.rev.clone();
        self.history.push((commit.rev.clone(), commit.data.clone()));
        Ok(commit)
    }

    /// The commit block of the head.
    pub(crate) fn head_commit(&self) -> Result<Commit, CommonError> {
        let bytes = self
            .tree
            .store()
            .get(&self.head)
            .map_err(|e| internal(&e))?
            .ok_or_else(|| internal(&"the head commit is not in the store"))?;
        Commit::from_bytes(&bytes).map_err(|e| internal(&e))
    }
}

/// Writes the nodes of `tree` and a commit of it, signed, to its store.
fn sign(
    did: &Did,
    key: &SigningKey,
    tree: &Mst<Arc<MemoryBlockStore>>,
    rev: Tid,
) -> Result<Commit, CommonError> {
    let data = tree.write().map_err(|e| internal(&e))?;
    let commit = UnsignedCommit::new(did.clone(), data, rev).sign(key);
    tree.store()
        .put(&commit.cid(), commit.to_bytes().into())
        .map_err(|e| internal(&e))?;
    Ok(commit)
}

/// An `InternalServerError` saying what failed.
pub(crate) fn internal(err: &dyn std::fmt::Display) -> CommonError {
    CommonError::InternalServerError {
        message: Some(err.to_string()),
    }
}

/// The server's state: accounts and their repositories, and the event log.
pub struct Pds {
    /// By bearer token.
    accounts: Mutex<BTreeMap<String, Account>>,
    log: EventLog<subscribe_repos::SubscribeRepos>,
}

impl Default for Pds {
    /// The two accounts, each with an empty repository announced by a
    /// `#sync` event (seq 1 and 2).
    fn default() -> Self {
        let pds = Self {
            accounts: Mutex::new(BTreeMap::new()),
            log: EventLog::new(),
        };
        for (token, did, key) in ACCOUNTS {
            let did = Did::new(*did).expect("a DID");
            let key = SigningKey::from_hex(Curve::K256, key).expect("a key");
            // An empty tree over a memory store: nothing here can fail.
            pds.create_account(token, did, key)
                .expect("an account in memory");
        }
        pds
    }
}

/// The axum router of a [`Pds`]: its XRPC endpoints, and the DID documents
/// of its accounts at `/{did}` (the path a PLC directory serves them at).
pub fn app(pds: Arc<Pds>) -> axum::Router {
    XrpcRouter::from_arc(pds.clone())
        .mount(repo::register)
        .mount(sync::register)
        .into_router()
        .route(
            "/{did}",
            axum::routing::get(crate::serve::did_document).with_state(pds),
        )
}

/// A write to one account's repository.
pub(crate) enum Change {
    /// A new record; refused if the path has one.
    Create { path: String, record: Unknown },
    /// A record created or replaced.
    Put { path: String, record: Unknown },
    /// A record removed; refused if the path has none.
    Delete { path: String },
}

impl Pds {
    /// Adds an account with an empty repository and appends its `#sync`.
    fn create_account(&self, token: &str, did: Did, key: SigningKey) -> Result<(), CommonError> {
        let mut accounts = self.lock();
        let account = Account::new(did, key)?;
        self.append_sync(&account)?;
        accounts.insert(token.to_owned(), account);
        Ok(())
    }

    /// The accounts, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Account>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `read` on the account of `did`; `None` if there is none.
    pub(crate) fn with_account<T>(&self, did: &str, read: impl FnOnce(&Account) -> T) -> Option<T> {
        self.lock()
            .values()
            .find(|account| account.did.as_str() == did)
            .map(read)
    }

    /// Empties the repository of `did` with a new commit, announced by a
    /// `#sync` event: what a host does when it resets an account's
    /// repository. Consumers take the new commit as the repository's state.
    pub fn reset(&self, did: &str) -> Result<CommitMeta, CommonError> {
        let mut accounts = self.lock();
        let account = accounts
            .values_mut()
            .find(|account| account.did.as_str() == did)
            .ok_or_else(|| CommonError::invalid_request(format!("no repository {did}")))?;
        let empty = Mst::new(account.tree.store().clone());
        let commit = account.commit(empty)?;
        self.append_sync(account)?;
        Ok(CommitMeta::builder()
            .cid(commit.cid())
            .rev(commit.rev)
            .build())
    }

    /// Appends a `#sync` of the account's head: a CAR of the commit block.
    fn append_sync(&self, account: &Account) -> Result<(), CommonError> {
        let commit = account.head_commit()?;
        let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&account.head))
            .map_err(|e| internal(&e))?;
        car.write_block(&account.head, &commit.to_bytes())
            .map_err(|e| internal(&e))?;
        let blocks = car.finish().map_err(|e| internal(&e))?;
        self.log
            .append(|seq| {
                subscribe_repos::Sync::builder()
                    .seq(seq)
                    .did(account.did.clone())
                    .blocks(Bytes(blocks))
                    .rev(commit.rev.to_string())
                    .time(Datetime::now())
                    .build()
                    .into()
            })
            .map_err(|e| internal(&e))?;
        Ok(())
    }

    /// Applies `write` for the account of `token`, appends its `#commit` and
    /// returns the commit's CID and rev (and the record's CID for a create
    /// or put).
    pub(crate) fn write(
        &self,
        token: &str,
        repo: &str,
        write: Change,
    ) -> Result<(CommitMeta, Option<Cid>), CommonError> {
        let mut accounts = self.lock();
        let account = accounts
            .get_mut(token)
            .ok_or(CommonError::AuthenticationRequired {
                message: Some("use a bearer token: alice-token or bob-token".to_owned()),
            })?;
        if repo != account.did.as_str() {
            return Err(CommonError::invalid_request(format!(
                "this token writes to {} only",
                account.did
            )));
        }
        let store = account.tree.store().clone();
        let creates = matches!(write, Change::Create { .. });
        let (path, record) = match write {
            Change::Create { path, record } | Change::Put { path, record } => (path, Some(record)),
            Change::Delete { path } => (path, None),
        };
        let prev = current(&path, &account.tree)?;
        let record = record.as_ref().map(encode).transpose()?;
        let op = subscribe_repos::RepoOp::builder().path(path.clone());
        let (tree, op) = match (&record, prev) {
            (Some((cid, _)), None) => (
                account.tree.insert(&path, cid.clone()),
                op.action(subscribe_repos::RepoOpAction::Create)
                    .cid(Some(CidLink(cid.clone())))
                    .build(),
            ),
            (Some(_), Some(_)) if creates => {
                return Err(CommonError::invalid_request(format!("{path} exists")));
            }
            (Some((cid, _)), Some(prev)) => (
                account.tree.update(&path, cid.clone()),
                op.action(subscribe_repos::RepoOpAction::Update)
                    .cid(Some(CidLink(cid.clone())))
                    .build()
                    .with_prev(CidLink(prev)),
            ),
            (None, Some(prev)) => (
                account.tree.delete(&path),
                op.action(subscribe_repos::RepoOpAction::Delete)
                    .cid(None)
                    .build()
                    .with_prev(CidLink(prev)),
            ),
            (None, None) => {
                return Err(CommonError::invalid_request(format!("no record at {path}")));
            }
        };
        let tree = tree.map_err(|e| internal(&e))?;
        if let Some((cid, bytes)) = &record {
            store
                .put(cid, bytes.clone().into())
                .map_err(|e| internal(&e))?;
        }
        let prev_data = account.tree.root().map_err(|e| internal(&e))?;
        let diff = account.tree.diff(&tree).map_err(|e| internal(&e))?;
        let since = account.rev.clone();
        let commit = account.commit(tree)?;
        let commit_cid = commit.cid();

        // The event's blocks: the commit, the record, the tree's new nodes,
        // and the nodes that prove the write and let a consumer undo it.
        let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&commit_cid))
            .map_err(|e| internal(&e))?;
        car.write_block(&commit_cid, &commit.to_bytes())
            .map_err(|e| internal(&e))?;
        if let Some((cid, bytes)) = &record {
            car.write_block(cid, bytes).map_err(|e| internal(&e))?;
        }
        let proof = account
            .tree
            .covering_proof(&path)
            .map_err(|e| internal(&e))?;
        let mut written = HashSet::new();
        for block in diff.created_nodes.iter().chain(&proof) {
            if written.insert(block.cid.clone()) {
                car.write_block(&block.cid, &block.data)
                    .map_err(|e| internal(&e))?;
            }
        }
        let blocks = car.finish().map_err(|e| internal(&e))?;
        let record_cid = record.map(|(cid, _)| cid);
        let rev = commit.rev.clone();
        self.log
            .append(|seq| {
                subscribe_repos::Commit::builder()
                    .seq(seq)
                    .rebase(false)
                    .too_big(false)
                    .repo(account.did.clone())
                    .commit(CidLink(commit_cid.clone()))
                    .rev(rev.clone())
                    .since(Some(since))
                    .blocks(Bytes(blocks))
                    .ops(vec![op])
                    .blobs(Vec::new())
                    .time(Datetime::now())
                    .build()
                    .with_prev_data(CidLink(prev_data))
                    .into()
            })
            .map_err(|e| internal(&e))?;
        Ok((
            CommitMeta::builder().cid(commit_cid).rev(rev).build(),
            record_cid,
        ))
    }

    /// The firehose.
    pub(crate) fn log(&self) -> &EventLog<subscribe_repos::SubscribeRepos> {
        &self.log
    }
}

/// The CID of the record at `path`, if there is one.
fn current(path: &str, tree: &Mst<Arc<MemoryBlockStore>>) -> Result<Option<Cid>, CommonError> {
    tree.get(path).map_err(tree_error)
}

/// A tree's error as the client sees it: a path that is no repository key
/// is the request's fault (`InvalidRequest`), anything else the server's.
pub(crate) fn tree_error(err: MstError) -> CommonError {
    match err {
        MstError::InvalidKey { .. } => CommonError::invalid_request(err.to_string()),
        other => internal(&other),
    }
}

/// A record's block and its CID.
fn encode(record: &Unknown) -> Result<(Cid, Vec<u8>), CommonError> {
    let bytes = cbor::to_vec(record).map_err(|e| internal(&e))?;
    Ok((Cid::of_dag_cbor(&bytes), bytes))
}
