//! The verifying consumer: a repository built here, its commits verified
//! one after another, each failure reason produced by a crafted event, the
//! resync hook called on a break, backfill into typed records, and the
//! verified stream over loopback WebSocket.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use atlex::client::CursorStore;
use atlex::data::{Bytes as ByteString, CidLink};
use atlex::server::XrpcRouter;
use atlex::service::{Registry, Request, SubscriptionRequest};
use atlex::subscription::EventLog;
use atlex::types::Datetime;
use atlex::xrpc::Binary;
use atlex_core::types::{Cid, Did, Tid};
use atlex_identity::crypto::{Curve, PublicKey, SigningKey};
use atlex_lexicons::com::atproto::sync::get_repo::{self, GetRepo};
use atlex_lexicons::com::atproto::sync::subscribe_repos::{
    self, Message, RepoOp, RepoOpAction, SubscribeRepos,
};
use atlex_repo::car::{Car, CarWriter};
use atlex_repo::commit::{UnsignedCommit, next_rev};
use atlex_repo::mst::{BlockStore, MemoryBlockStore, Mst};
use atlex_repo::repo::RepoError;
use atlex_repo::repo_car::write_repo_car;
use atlex_repo::sync::SyncError;
use atlex_repo::verify::{
    BoxError, FirehoseVerifier, GetRepoResync, HandleCheck, KeySource, NoResync, RepoState,
    ResolverKeys, Resync, Resynced, StaticKeys, StreamError, Verified, VerifiedStream, VerifyError,
    fetch_repo, verify_repo,
};
use bytes::Bytes;
use futures_util::StreamExt as _;

const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

fn did() -> Did {
    Did::new(DID).unwrap()
}

/// A record: `{"text": …}`, its CID and bytes.
fn note(text: &str) -> (Cid, Vec<u8>) {
    #[derive(serde::Serialize)]
    struct Note<'a> {
        text: &'a str,
    }
    let bytes = atlex_core::cbor::to_vec(&Note { text }).unwrap();
    (Cid::of_dag_cbor(&bytes), bytes)
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Note {
    text: String,
}

enum Change<'a> {
    Create(&'a str, &'a str),
    Update(&'a str, &'a str),
    Delete(&'a str),
}

/// What can be done wrong to a commit event.
#[derive(Clone, Copy, Default)]
struct Craft {
    /// Sign with this key instead of the account's.
    other_key: bool,
    /// Leave out every record block.
    no_records: bool,
    /// Leave out the tree's root node.
    no_root: bool,
    /// Leave out the first op.
    drop_op: bool,
    /// Give this `prevData`.
    wrong_prev_data: bool,
    /// The commit's revision an hour ahead of the clock.
    future_rev: bool,
    /// The event's revision other than the commit's.
    event_rev_differs: bool,
}

/// An account writing to its repository, as a PDS does: each write a
/// signed commit and its `#commit` event.
struct Account {
    key: SigningKey,
    other: SigningKey,
    store: Arc<MemoryBlockStore>,
    tree: Mst<Arc<MemoryBlockStore>>,
    rev: Option<Tid>,
    commit: Option<Cid>,
    seq: i64,
}

impl Account {
    fn new() -> Self {
        let store = Arc::new(MemoryBlockStore::new());
        Self {
            key: SigningKey::generate(Curve::K256).unwrap(),
            other: SigningKey::generate(Curve::K256).unwrap(),
            tree: Mst::new(Arc::clone(&store)),
            store,
            rev: None,
            commit: None,
            seq: 0,
        }
    }

    fn keys(&self) -> StaticKeys {
        StaticKeys::new().with(did(), self.key.public_key())
    }

    fn write(&mut self, changes: &[Change<'_>]) -> Message {
        self.write_crafted(changes, Craft::default())
    }

    /// Applies `changes` and returns the commit's event, crafted as asked
    /// (the repository keeps the changes either way).
    fn write_crafted(&mut self, changes: &[Change<'_>], craft: Craft) -> Message {
        let prev_data = self.tree.root().unwrap();
        let mut tree = self.tree.clone();
        let mut ops = Vec::new();
        let mut records = Vec::new();
        for change in changes {
            let (action, path, cid, prev) = match change {
                Change::Create(path, text) => {
                    let (cid, bytes) = note(text);
                    tree = tree.insert(path, cid.clone()).unwrap();
                    records.push((cid.clone(), bytes));
                    (RepoOpAction::Create, path, Some(cid), None)
                }
                Change::Update(path, text) => {
                    let (cid, bytes) = note(text);
                    let prev = tree.get(path).unwrap().unwrap();
                    tree = tree.update(path, cid.clone()).unwrap();
                    records.push((cid.clone(), bytes));
                    (RepoOpAction::Update, path, Some(cid), Some(prev))
                }
                Change::Delete(path) => {
                    let prev = tree.get(path).unwrap().unwrap();
                    tree = tree.delete(path).unwrap();
                    (RepoOpAction::Delete, path, None, Some(prev))
                }
            };
            let op = RepoOp::builder()
                .action(action)
                .path(path.to_string())
                .cid(cid.map(CidLink))
                .build();
            ops.push(match prev {
                Some(prev) => op.with_prev(CidLink(prev)),
                None => op,
            });
        }
        let data = tree.write().unwrap();
        let rev = if craft.future_rev {
            let now = Tid::next().unwrap();
            Tid::from_parts(now.timestamp_micros() + 3_600_000_000, 0).unwrap()
        } else {
            next_rev(self.rev.as_ref()).unwrap()
        };
        let key = if craft.other_key {
            &self.other
        } else {
            &self.key
        };
        let commit = UnsignedCommit::new(did(), data.clone(), rev.clone()).sign(key);
        let commit_cid = commit.cid();
        self.store
            .put(&commit_cid, commit.to_bytes().into())
            .unwrap();

        let mut car = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&commit_cid)).unwrap();
        car.write_block(&commit_cid, &commit.to_bytes()).unwrap();
        for (cid, bytes) in &records {
            self.store.put(cid, bytes.clone().into()).unwrap();
            if !craft.no_records {
                car.write_block(cid, bytes).unwrap();
            }
        }
        for change in changes {
            let path = match change {
                Change::Create(path, _) | Change::Update(path, _) | Change::Delete(path) => path,
            };
            for block in tree.covering_proof(path).unwrap() {
                if !(craft.no_root && block.cid == data) {
                    car.write_block(&block.cid, &block.data).unwrap();
                }
            }
        }
        let blocks = car.finish().unwrap();

        if craft.drop_op {
            ops.remove(0);
        }
        let prev_data = if craft.wrong_prev_data {
            note("not a tree").0
        } else {
            prev_data
        };
        let event_rev = if craft.event_rev_differs {
            next_rev(Some(&rev)).unwrap()
        } else {
            rev.clone()
        };
        self.seq += 1;
        let since = self.rev.replace(rev);
        self.tree = tree;
        self.commit = Some(commit_cid.clone());
        subscribe_repos::Commit::builder()
            .seq(self.seq)
            .rebase(false)
            .too_big(false)
            .repo(did())
            .commit(CidLink(commit_cid))
            .rev(event_rev)
            .since(since)
            .blocks(ByteString(blocks))
            .ops(ops)
            .blobs(Vec::new())
            .time(Datetime::now())
            .build()
            .with_prev_data(CidLink(prev_data))
            .into()
    }

    /// The repository as `getRepo` gives it.
    fn repo_car(&self) -> Vec<u8> {
        write_repo_car(&*self.store, self.commit.as_ref().unwrap(), Vec::new()).unwrap()
    }

    /// A `#sync` of the current commit, signed by `key`.
    fn sync_event(&mut self, key: &SigningKey) -> Message {
        let rev = next_rev(self.rev.as_ref()).unwrap();
        let commit = UnsignedCommit::new(did(), self.tree.root().unwrap(), rev.clone()).sign(key);
        let mut car =
            CarWriter::with_roots(Vec::new(), std::slice::from_ref(&commit.cid())).unwrap();
        car.write_block(&commit.cid(), &commit.to_bytes()).unwrap();
        self.seq += 1;
        self.rev = Some(rev.clone());
        subscribe_repos::Sync::builder()
            .seq(self.seq)
            .did(did())
            .blocks(ByteString(car.finish().unwrap()))
            .rev(rev.to_string())
            .time(Datetime::now())
            .build()
            .into()
    }
}

/// `car` without block `cid`.
fn without_block(car: &[u8], cid: &Cid) -> Vec<u8> {
    let car = Car::from_slice(car).unwrap();
    let mut writer = CarWriter::with_roots(Vec::new(), car.roots()).unwrap();
    for (block, data) in car.blocks.iter() {
        if block != *cid {
            writer.write_block(&block, data).unwrap();
        }
    }
    writer.finish().unwrap()
}

fn path(n: u32) -> String {
    format!("com.example.note/3jzfcijpj2z{n:02}")
}

/// A repository of ten notes, and the events that made it.
fn history(account: &mut Account) -> Vec<Message> {
    let paths: Vec<String> = (0..10).map(path).collect();
    let mut events = Vec::new();
    for (n, path) in paths.iter().enumerate() {
        events.push(account.write(&[Change::Create(path, &format!("note {n}"))]));
    }
    events.push(account.write(&[
        Change::Update(&paths[3], "note 3, again"),
        Change::Delete(&paths[4]),
        Change::Create("com.example.other/3jzfcijpj2zaa", "another"),
    ]));
    events
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn a_chain_of_commits_verifies() {
    run(async {
        let mut account = Account::new();
        let events = history(&mut account);
        let mut verifier = FirehoseVerifier::new(account.keys());
        for event in &events {
            let Verified::Commit(commit) = verifier.verify(event).await.unwrap() else {
                panic!("not a commit");
            };
            assert!(commit.signature_checked && commit.inverted);
        }
        let Message::Commit(last) = events.last().unwrap() else {
            unreachable!()
        };
        assert_eq!(
            verifier.state(&did()),
            Some(&RepoState {
                rev: last.rev.clone(),
                data: account.tree.root().unwrap(),
            })
        );
        // The typed ops of the last commit.
        let Message::Commit(commit) = events.last().unwrap() else {
            unreachable!()
        };
        let mut verifier = FirehoseVerifier::new(account.keys());
        let verified = verifier
            .verify_commit(&**commit, &commit.rev)
            .await
            .unwrap();
        let actions: Vec<_> = verified.ops.iter().map(|op| op.action()).collect();
        assert_eq!(actions.len(), 3, "{actions:?}");
    });
}

/// Verifies `events` in order with a fresh verifier over `account`'s key;
/// the error of the last.
async fn last_error(account: &Account, events: &[Message]) -> VerifyError {
    let mut verifier = FirehoseVerifier::new(account.keys());
    let (last, before) = events.split_last().unwrap();
    for event in before {
        verifier.verify(event).await.unwrap();
    }
    verifier.verify(last).await.unwrap_err()
}

/// What a crafted commit's error must be.
type Expected = fn(&VerifyError) -> bool;

#[test]
fn each_failure_has_its_reason() {
    run(async {
        let crafted = |craft: Craft| {
            let mut account = Account::new();
            let mut events = history(&mut account);
            events.push(account.write_crafted(
                &[
                    Change::Create(&path(50), "new"),
                    Change::Update(&path(1), "changed"),
                ],
                craft,
            ));
            (account, events)
        };

        let default = Craft::default;
        let cases: [(&str, Craft, Expected); 7] = [
            (
                "signed by another key",
                Craft {
                    other_key: true,
                    ..default()
                },
                |error| matches!(error, VerifyError::BadSignature(_)),
            ),
            (
                "without its records",
                Craft {
                    no_records: true,
                    ..default()
                },
                |error| matches!(error, VerifyError::MissingBlock { .. }),
            ),
            (
                "without its tree's root node",
                Craft {
                    no_root: true,
                    ..default()
                },
                |error| matches!(error, VerifyError::MissingBlock { .. }),
            ),
            (
                // The other op does not invert to prevData.
                "with an op left out",
                Craft {
                    drop_op: true,
                    ..default()
                },
                |error| matches!(error, VerifyError::InversionMismatch { .. }),
            ),
            (
                "with a prevData not the last root",
                Craft {
                    wrong_prev_data: true,
                    ..default()
                },
                |error| matches!(error, VerifyError::PrevDataMismatch { .. }),
            ),
            (
                "an hour ahead",
                Craft {
                    future_rev: true,
                    ..default()
                },
                |error| matches!(error, VerifyError::RevInFuture { .. }),
            ),
            (
                "with the event's rev not the commit's",
                Craft {
                    event_rev_differs: true,
                    ..default()
                },
                |error| matches!(error, VerifyError::RevMismatch { .. }),
            ),
        ];
        for (what, craft, expected) in cases {
            let (account, events) = crafted(craft);
            let error = last_error(&account, &events).await;
            assert!(expected(&error), "a commit {what}: {error}");
            assert!(error.breaks_chain(), "a commit {what}");
        }

        // An op that says another record than the tree holds.
        let (account, mut events) = crafted(Craft::default());
        let Some(Message::Commit(commit)) = events.last_mut() else {
            unreachable!()
        };
        commit.ops[1].cid = commit.ops[0].cid.clone();
        let error = last_error(&account, &events).await;
        assert!(
            matches!(error, VerifyError::Commit(SyncError::OpNotInTree { .. })),
            "{error}"
        );

        // The revision going back: a commit seen already.
        let (account, mut events) = crafted(Craft::default());
        events.push(events[3].clone());
        let error = last_error(&account, &events).await;
        assert!(matches!(error, VerifyError::RevNotAfter { .. }), "{error}");
        assert!(!error.breaks_chain());

        // Too many ops.
        let (account, events) = crafted(Craft::default());
        let mut verifier = FirehoseVerifier::new(account.keys()).max_ops(1);
        let error = verifier.verify(events.last().unwrap()).await.unwrap_err();
        assert!(
            matches!(error, VerifyError::TooManyOps { count: 2, max: 1 }),
            "{error}"
        );

        // A repository without state, when state is required.
        let mut verifier = FirehoseVerifier::new(account.keys()).require_state();
        let error = verifier.verify(&events[0]).await.unwrap_err();
        assert!(matches!(error, VerifyError::NoState), "{error}");

        // Without its key.
        let mut verifier = FirehoseVerifier::new(StaticKeys::new());
        let error = verifier.verify(&events[0]).await.unwrap_err();
        assert!(matches!(error, VerifyError::Key { .. }), "{error}");
    });
}

#[test]
fn options_drop_checks() {
    run(async {
        let mut account = Account::new();
        let mut events = history(&mut account);
        events.push(account.write_crafted(
            &[Change::Create(&path(60), "x")],
            Craft {
                other_key: true,
                ..Craft::default()
            },
        ));
        // Signatures skipped: the commit signed by another key passes.
        let mut verifier = FirehoseVerifier::new(account.keys()).skip_signatures();
        for event in &events {
            let Verified::Commit(commit) = verifier.verify(event).await.unwrap() else {
                unreachable!()
            };
            assert!(!commit.signature_checked && commit.inverted);
        }

        // Unauthenticated: neither signatures nor inversions.
        events.push(account.write_crafted(
            &[Change::Create(&path(61), "y")],
            Craft {
                drop_op: true,
                ..Craft::default()
            },
        ));
        let mut verifier = FirehoseVerifier::new(StaticKeys::new()).unauthenticated();
        for event in &events {
            verifier.verify(event).await.unwrap();
        }
        assert_eq!(
            verifier.state(&did()).map(|state| &state.data),
            Some(&account.tree.root().unwrap())
        );

        // Revision order skipped: a commit seen already passes again.
        let mut verifier = FirehoseVerifier::new(account.keys()).skip_rev_order();
        verifier.verify(&events[0]).await.unwrap();
        verifier.verify(&events[1]).await.unwrap();
        let mut replay = verifier.state(&did()).cloned().unwrap();
        let Message::Commit(first) = &events[1] else {
            unreachable!()
        };
        replay.data = first.prev_data.clone().unwrap().0;
        verifier.set_state(did(), replay);
        verifier.verify(&events[1]).await.unwrap();
    });
}

/// Keys that rotate: the cached one is old until asked for fresh.
struct RotatingKeys {
    old: PublicKey,
    new: PublicKey,
    fresh_calls: AtomicUsize,
    invalidated: AtomicUsize,
}

impl KeySource for RotatingKeys {
    async fn signing_key(&self, _did: &Did, fresh: bool) -> Result<PublicKey, BoxError> {
        if fresh {
            self.fresh_calls.fetch_add(1, Ordering::SeqCst);
            Ok(self.new.clone())
        } else {
            Ok(self.old.clone())
        }
    }

    fn invalidate(&self, _did: &Did) {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_rotated_key_is_fetched_again_once() {
    run(async {
        let mut account = Account::new();
        let events = history(&mut account);
        let keys = RotatingKeys {
            old: SigningKey::generate(Curve::K256).unwrap().public_key(),
            new: account.key.public_key(),
            fresh_calls: AtomicUsize::new(0),
            invalidated: AtomicUsize::new(0),
        };
        let mut verifier = FirehoseVerifier::new(keys);
        verifier.verify(&events[0]).await.unwrap();
        assert_eq!(verifier.keys().fresh_calls.load(Ordering::SeqCst), 1);

        // A key that is wrong fresh too: one fetch more, then the failure.
        let keys = RotatingKeys {
            old: SigningKey::generate(Curve::K256).unwrap().public_key(),
            new: SigningKey::generate(Curve::K256).unwrap().public_key(),
            fresh_calls: AtomicUsize::new(0),
            invalidated: AtomicUsize::new(0),
        };
        let mut verifier = FirehoseVerifier::new(keys);
        let error = verifier.verify(&events[0]).await.unwrap_err();
        assert!(matches!(error, VerifyError::BadSignature(_)), "{error}");
        assert_eq!(verifier.keys().fresh_calls.load(Ordering::SeqCst), 1);

        // `#identity` invalidates the key; `#account` passes through.
        let identity: Message = subscribe_repos::Identity::builder()
            .seq(100)
            .did(did())
            .time(Datetime::now())
            .build()
            .into();
        assert_eq!(
            verifier.verify(&identity).await.unwrap(),
            Verified::Identity(HandleCheck::NoHandle)
        );
        assert_eq!(verifier.keys().invalidated.load(Ordering::SeqCst), 1);
        let account_event: Message = subscribe_repos::Account::builder()
            .seq(101)
            .did(did())
            .time(Datetime::now())
            .active(false)
            .build()
            .into();
        assert_eq!(
            verifier.verify(&account_event).await.unwrap(),
            Verified::Account
        );
    });
}

#[test]
fn a_sync_event_resets_the_state() {
    run(async {
        let mut account = Account::new();
        let events = history(&mut account);
        let mut verifier = FirehoseVerifier::new(account.keys());
        verifier.verify(&events[0]).await.unwrap();
        // The commits in between are missed; a `#sync` brings the state to
        // the repository's current root, and the next commit follows it.
        let key = account.key.clone();
        let sync = account.sync_event(&key);
        let Verified::Sync(state) = verifier.verify(&sync).await.unwrap() else {
            unreachable!()
        };
        assert_eq!(state.data, account.tree.root().unwrap());
        let next = account.write(&[Change::Create(&path(70), "after the sync")]);
        verifier.verify(&next).await.unwrap();

        let other = account.other.clone();
        let forged = account.sync_event(&other);
        let error = verifier.verify(&forged).await.unwrap_err();
        assert!(matches!(error, VerifyError::BadSignature(_)), "{error}");
    });
}

/// A hook serving the account's repository, counting its calls.
struct Serve {
    car: Vec<u8>,
    calls: AtomicUsize,
}

impl Resync for Serve {
    async fn fetch_repo(&self, did: &Did) -> Result<Option<Bytes>, BoxError> {
        assert_eq!(did.as_str(), DID);
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Some(Bytes::from(self.car.clone())))
    }
}

/// Verifies the first commit of `events`, then the seventh: commits 1 to
/// 5 are missed, the seventh's prevData is not the root last seen, and
/// `hook` fetches the repository. The verifier, and the repository
/// fetched.
async fn break_and_resync(
    account: &Account,
    events: &[Message],
    hook: &impl Resync,
) -> (FirehoseVerifier<StaticKeys>, Resynced) {
    let mut verifier = FirehoseVerifier::new(account.keys());
    verifier.verify(&events[0]).await.unwrap();
    let rejected = verifier
        .verify_or_resync(&events[6], hook)
        .await
        .unwrap_err();
    assert!(
        matches!(rejected.error, VerifyError::PrevDataMismatch { .. }),
        "{rejected}"
    );
    (verifier, rejected.resync.unwrap().unwrap())
}

#[test]
fn a_break_calls_the_resync_hook() {
    run(async {
        let mut account = Account::new();
        let events = history(&mut account);
        let hook = Serve {
            car: account.repo_car(),
            calls: AtomicUsize::new(0),
        };
        let (mut verifier, resynced) = break_and_resync(&account, &events, &hook).await;
        assert_eq!(hook.calls.load(Ordering::SeqCst), 1);
        assert_eq!(resynced.state.data, account.tree.root().unwrap());
        assert_eq!(verifier.state(&did()), Some(&resynced.state));
        // The commits before the repository's are seen already; the next
        // one follows.
        let error = verifier.verify(&events[8]).await.unwrap_err();
        assert!(matches!(error, VerifyError::RevNotAfter { .. }), "{error}");
        let next = account.write(&[Change::Create(&path(80), "after the resync")]);
        verifier.verify_or_resync(&next, &hook).await.unwrap();
        assert_eq!(hook.calls.load(Ordering::SeqCst), 1);

        // A replayed commit does not break the chain: no resync.
        let rejected = verifier
            .verify_or_resync(&events[2], &hook)
            .await
            .unwrap_err();
        assert!(rejected.resync.is_none());
        assert_eq!(hook.calls.load(Ordering::SeqCst), 1);

        // A failed commit without a resync: the repository is forgotten,
        // its next commit starts it anew.
        let bad = account.write_crafted(
            &[Change::Create(&path(81), "bad")],
            Craft {
                other_key: true,
                ..Craft::default()
            },
        );
        let rejected = verifier
            .verify_or_resync(&bad, &NoResync)
            .await
            .unwrap_err();
        assert!(rejected.resync.is_none());
        assert_eq!(verifier.state(&did()), None);
        let next = account.write(&[Change::Create(&path(82), "anew")]);
        verifier.verify(&next).await.unwrap();

        // A repository signed by another key does not become the state.
        let mut verifier =
            FirehoseVerifier::new(StaticKeys::new().with(did(), account.other.public_key()));
        let error = verifier.resync(&did(), &hook).await.unwrap_err();
        assert!(error.to_string().contains("signature"), "{error}");
        assert_eq!(verifier.state(&did()), None);
    });
}

#[test]
fn backfill_types_every_record_and_goes_past_bad_ones() {
    run(async {
        let mut account = Account::new();
        history(&mut account);
        // A record that is not a note, and one whose block is missing.
        let (number_cid, number) = {
            let bytes = atlex_core::cbor::to_vec(&42).unwrap();
            (Cid::of_dag_cbor(&bytes), bytes)
        };
        account.store.put(&number_cid, number.into()).unwrap();
        account.tree = account
            .tree
            .insert("com.example.note/3jzfcijpj2zzz", number_cid)
            .unwrap();
        let missing = note("never stored").0;
        account.tree = account
            .tree
            .insert("com.example.note/3jzfcijpj2zzy", missing.clone())
            .unwrap();
        // `write_repo_car` refuses a repository without its records: the
        // block is stored for it, and left out of the CAR.
        account
            .store
            .put(&missing, note("never stored").1.into())
            .unwrap();
        account.write(&[Change::Create(&path(90), "last")]);
        let car = without_block(&account.repo_car(), &missing);

        let keys = account.keys();
        let repo = verify_repo(&did(), &car, &keys).await.unwrap();
        let (mut notes, mut errors) = (Vec::new(), Vec::new());
        for record in repo.repo().unwrap().records::<Note>() {
            match record {
                Ok(record) => notes.push((record.collection().to_owned(), record.record.text)),
                Err(error) => errors.push(error),
            }
        }
        assert_eq!(notes.len(), 11, "{notes:?}");
        assert!(notes.contains(&("com.example.note".to_owned(), "note 3, again".to_owned())));
        assert!(!notes.iter().any(|(_, text)| text == "note 4"));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|e| matches!(e, RepoError::Decode { .. })));
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, RepoError::MissingRecord { .. }))
        );

        let stranger = StaticKeys::new().with(did(), account.other.public_key());
        let error = verify_repo(&did(), &car, &stranger).await.unwrap_err();
        assert!(matches!(error, VerifyError::BadSignature(_)), "{error}");
    });
}

/// A PDS-like server: the event log of `subscribeRepos`, and `getRepo`.
struct Pds {
    log: EventLog<SubscribeRepos>,
    car: Vec<u8>,
}

fn register<R: Registry<Pds>>(registry: &mut R) {
    registry.add_subscription::<SubscribeRepos, _, _>(
        |pds: Arc<Pds>, request: SubscriptionRequest<SubscribeRepos>| async move {
            pds.log.subscribe(request.params.cursor)
        },
    );
    registry.add::<GetRepo, _, _>(|pds: Arc<Pds>, request: Request<GetRepo>| async move {
        assert_eq!(request.params.did.as_str(), DID);
        Ok::<get_repo::Output, _>(Binary::new("application/vnd.ipld.car", pds.car.clone()))
    });
}

/// Serves `router` on a loopback port; its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// `message` with sequence number `seq`.
fn sequenced(message: &Message, seq: i64) -> Message {
    let mut message = message.clone();
    match &mut message {
        Message::Commit(commit) => commit.seq = seq,
        Message::Sync(sync) => sync.seq = seq,
        _ => unreachable!(),
    }
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verified_stream_over_websocket() {
    let mut account = Account::new();
    let mut events = history(&mut account);
    // Commit 12 is lost on the way: commit 13 breaks the chain, and the
    // resync over `getRepo` brings the state to the repository's.
    account.write(&[Change::Create(&path(40), "lost")]);
    events.push(account.write(&[Change::Create(&path(41), "after the loss")]));
    let car = account.repo_car();
    // A forged commit: rejected, and the repository fetched again.
    events.push(account.write_crafted(
        &[Change::Create(&path(42), "forged")],
        Craft {
            other_key: true,
            ..Craft::default()
        },
    ));
    let log = EventLog::<SubscribeRepos>::new();
    for event in &events {
        log.append(|seq| sequenced(event, seq)).unwrap();
    }
    let router = XrpcRouter::new(Pds {
        log,
        car: car.clone(),
    })
    .mount(register)
    .into_router();
    let url = serve(router).await;

    let client = atlex::client::Client::new(&url).unwrap();
    assert_eq!(fetch_repo(&client, &did()).await.unwrap(), car);

    let params = subscribe_repos::Params::new().with_cursor(0);
    let events = client.subscribe(SubscribeRepos, &params);
    let mut stream = VerifiedStream::new(
        events,
        FirehoseVerifier::new(account.keys()),
        GetRepoResync::new(client.clone()),
    );
    assert_eq!(stream.last_seq(), None);
    for seq in 1..=11 {
        let verified = stream.next().await.unwrap().unwrap();
        assert!(matches!(verified.verified, Verified::Commit(_)));
        assert_eq!(stream.last_seq(), Some(seq));
    }
    let Some(Err(StreamError::Rejected { message, rejected })) = stream.next().await else {
        panic!("commit 13 is not rejected");
    };
    assert!(matches!(*message, Message::Commit(_)));
    assert!(
        matches!(rejected.error, VerifyError::PrevDataMismatch { .. }),
        "{rejected}"
    );
    let resynced = rejected.resync.unwrap().unwrap();
    assert_eq!(stream.last_seq(), Some(12));
    let Some(Err(StreamError::Rejected { rejected, .. })) = stream.next().await else {
        panic!("the forged commit is not rejected");
    };
    assert!(
        matches!(rejected.error, VerifyError::BadSignature(_)),
        "{rejected}"
    );
    assert_eq!(rejected.resync.unwrap().unwrap().state, resynced.state);
    assert_eq!(stream.last_seq(), Some(13));
    assert_eq!(
        stream.verifier().unwrap().state(&did()),
        Some(&resynced.state)
    );

    // A consumer saves its cursor after five messages, stops, and resumes
    // from it: the sixth message comes first.
    let saved = MemoryCursor::default();
    let params = subscribe_repos::Params::new().with_cursor(0);
    let open = || {
        VerifiedStream::new(
            client.subscribe(SubscribeRepos, &params),
            FirehoseVerifier::new(account.keys()),
            NoResync,
        )
        .resume_with(saved.clone())
        .unwrap()
    };
    let mut stream = open();
    for _ in 0..5 {
        stream.next().await.unwrap().unwrap();
    }
    stream.save_cursor().unwrap();
    assert_eq!(*saved.0.lock().unwrap(), Some(5));
    drop(stream);
    let mut stream = open();
    let first = stream.next().await.unwrap().unwrap();
    let Message::Commit(commit) = &first.message else {
        unreachable!()
    };
    assert_eq!(commit.seq, 6);
    assert_eq!(stream.last_seq(), Some(6));
}

/// A cursor kept in memory, shared by its clones.
#[derive(Clone, Default)]
struct MemoryCursor(Arc<std::sync::Mutex<Option<i64>>>);

impl CursorStore for MemoryCursor {
    fn load(&self) -> std::io::Result<Option<i64>> {
        Ok(*self.0.lock().unwrap())
    }

    fn save(&self, seq: i64) -> std::io::Result<()> {
        *self.0.lock().unwrap() = Some(seq);
        Ok(())
    }
}

#[path = "common/ts_frames.rs"]
mod ts_frames;

#[test]
fn the_typescript_firehose_verifies_with_zero_failures() {
    run(async {
        let messages = ts_frames::messages();
        let keys = StaticKeys::new().with(ts_frames::did(), ts_frames::key());
        let mut verifier = FirehoseVerifier::new(keys);
        let mut commits = 0;
        for message in &messages {
            match verifier.verify(message).await {
                Ok(Verified::Commit(commit)) => {
                    assert!(commit.signature_checked && commit.inverted);
                    commits += 1;
                }
                Ok(_) => {}
                Err(error) => panic!("{error}"),
            }
        }
        assert_eq!(commits, 2000);

        // The same stream with one commit left out breaks at the next.
        let mut verifier =
            FirehoseVerifier::new(StaticKeys::new().with(ts_frames::did(), ts_frames::key()));
        let commits: Vec<&Message> = messages
            .iter()
            .filter(|message| matches!(message, Message::Commit(_)))
            .collect();
        verifier.verify(commits[0]).await.unwrap();
        let error = verifier.verify(commits[2]).await.unwrap_err();
        assert!(
            matches!(error, VerifyError::PrevDataMismatch { .. }),
            "{error}"
        );
    });
}

/// A PLC directory of one account whose document names `key`; counts the
/// documents it serves.
struct Plc {
    key: std::sync::Mutex<PublicKey>,
    served: AtomicUsize,
    /// The account's PDS.
    pds: Option<String>,
}

impl Plc {
    fn document(&self) -> serde_json::Value {
        self.served.fetch_add(1, Ordering::SeqCst);
        let key = self.key.lock().unwrap().to_multikey();
        let services: Vec<serde_json::Value> = self
            .pds
            .iter()
            .map(|pds| {
                serde_json::json!({
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": pds,
                })
            })
            .collect();
        serde_json::json!({
            "id": DID,
            "verificationMethod": [{
                "id": format!("{DID}#atproto"),
                "type": "Multikey",
                "controller": DID,
                "publicKeyMultibase": key,
            }],
            "service": services,
        })
    }

    /// Serves the directory on loopback; a resolver using it.
    async fn serve(self: &Arc<Self>) -> atlex_identity::identity::Resolver {
        let plc = Arc::clone(self);
        let router = axum::Router::new().fallback(move || {
            let plc = Arc::clone(&plc);
            async move { axum::Json(plc.document()) }
        });
        atlex_identity::identity::Resolver::builder()
            .plc_directory(serve(router).await)
            .build()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolver_keys_follow_rotations_and_identity_events() {
    let mut account = Account::new();
    let plc = Arc::new(Plc {
        key: std::sync::Mutex::new(account.key.public_key()),
        served: AtomicUsize::new(0),
        pds: None,
    });
    let mut verifier = FirehoseVerifier::new(ResolverKeys::new(plc.serve().await));
    let events = history(&mut account);
    for event in &events {
        verifier.verify(event).await.unwrap();
    }
    // One document, cached.
    assert_eq!(plc.served.load(Ordering::SeqCst), 1);

    // The account rotates its key: the cached one fails, the document is
    // fetched again, and the commit verifies.
    account.key = SigningKey::generate(Curve::K256).unwrap();
    *plc.key.lock().unwrap() = account.key.public_key();
    let rotated = account.write(&[Change::Create(&path(30), "new key")]);
    verifier.verify(&rotated).await.unwrap();
    assert_eq!(plc.served.load(Ordering::SeqCst), 2);
    let next = account.write(&[Change::Create(&path(31), "cached")]);
    verifier.verify(&next).await.unwrap();
    assert_eq!(plc.served.load(Ordering::SeqCst), 2);

    // After `#identity`, the next key is fetched again even though the
    // cached one would do.
    let identity: Message = subscribe_repos::Identity::builder()
        .seq(100)
        .did(did())
        .time(Datetime::now())
        .build()
        .into();
    verifier.verify(&identity).await.unwrap();
    let next = account.write(&[Change::Create(&path(32), "after identity")]);
    verifier.verify(&next).await.unwrap();
    assert_eq!(plc.served.load(Ordering::SeqCst), 3);
    let next = account.write(&[Change::Create(&path(33), "cached again")]);
    verifier.verify(&next).await.unwrap();
    assert_eq!(plc.served.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_fetches_the_repository_from_the_accounts_pds() {
    let mut account = Account::new();
    let events = history(&mut account);
    let pds = XrpcRouter::new(Pds {
        log: EventLog::new(),
        car: account.repo_car(),
    })
    .mount(register)
    .into_router();
    let plc = Arc::new(Plc {
        key: std::sync::Mutex::new(account.key.public_key()),
        served: AtomicUsize::new(0),
        pds: Some(serve(pds).await),
    });
    let hook = GetRepoResync::from_pds(plc.serve().await);

    let (_, resynced) = break_and_resync(&account, &events, &hook).await;
    assert_eq!(resynced.state.data, account.tree.root().unwrap());
    assert_eq!(plc.served.load(Ordering::SeqCst), 1);
}

/// `#commit` `event` without its `prevData`, and with `since` as given.
fn without_prev_data(event: &Message, since: Option<Tid>) -> Message {
    let Message::Commit(commit) = event else {
        panic!("not a commit")
    };
    let mut commit = (**commit).clone();
    commit.prev_data = None;
    commit.since = since;
    Message::Commit(Box::new(commit))
}

/// A repository's first commit carries no `prevData` (the official PDS
/// sends none; the tree before is empty, and `since` is null): a verifier
/// with no state checks its inversion against the empty tree. A later
/// commit that claims to be a first one fails that inversion, and one with
/// `since` but without `prevData` cannot be checked.
#[test]
fn a_first_commit_inverts_to_the_empty_tree() {
    run(async {
        let mut account = Account::new();
        let events = history(&mut account);
        let first = without_prev_data(&events[0], None);
        let mut verifier = FirehoseVerifier::new(account.keys());
        let Verified::Commit(commit) = verifier.verify(&first).await.unwrap() else {
            panic!("not a commit");
        };
        let empty = Mst::new(MemoryBlockStore::new()).root().unwrap();
        assert_eq!(commit.prev_data, Some(empty));
        assert!(commit.inverted && commit.signature_checked);
        // The rest of the chain follows from its state.
        for event in &events[1..] {
            let event = without_prev_data(event, None);
            verifier.verify(&event).await.unwrap();
        }

        let later = without_prev_data(&events[3], None);
        let error = FirehoseVerifier::new(account.keys())
            .verify(&later)
            .await
            .unwrap_err();
        assert!(
            matches!(error, VerifyError::InversionMismatch { .. }),
            "{error:?}"
        );
        let Message::Commit(third) = &events[2] else {
            unreachable!()
        };
        let later = without_prev_data(&events[3], Some(third.rev.clone()));
        let error = FirehoseVerifier::new(account.keys())
            .verify(&later)
            .await
            .unwrap_err();
        assert!(matches!(error, VerifyError::NoPrevData), "{error:?}");
    });
}

/// The handle of an `#identity`: verified when it resolves to the account
/// (DNS TXT here) and the account's document claims it; failed when either
/// way does not hold; unchecked when the verifier skips handles; and never
/// verified by a key source that cannot resolve handles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_handles_are_checked_both_ways() {
    use atlex::identity::testkit::{HandleMethod, TestNetwork};

    let network = TestNetwork::start().await.unwrap();
    let alice = network
        .account_with("alice.test", Curve::K256, &[HandleMethod::Dns])
        .unwrap();
    network
        .point_handle("bob.test", alice.did(), HandleMethod::Dns)
        .unwrap();
    let identity = |handle: &str| -> Message {
        subscribe_repos::Identity::builder()
            .seq(1)
            .did(alice.did().clone())
            .time(Datetime::now())
            .build()
            .with_handle(atlex::types::Handle::new(handle).unwrap())
            .into()
    };
    let handle = |text: &str| atlex::types::Handle::new(text).unwrap();

    let mut verifier = FirehoseVerifier::new(ResolverKeys::new(network.resolver()));
    assert_eq!(
        verifier.verify(&identity("alice.test")).await.unwrap(),
        Verified::Identity(HandleCheck::Verified(handle("alice.test")))
    );
    // bob.test points at the account, but its document claims alice.test.
    let Verified::Identity(HandleCheck::Failed { handle: failed, .. }) =
        verifier.verify(&identity("bob.test")).await.unwrap()
    else {
        panic!("bob.test is not the account's handle");
    };
    assert_eq!(failed, handle("bob.test"));
    // nobody.test resolves to nothing.
    assert!(matches!(
        verifier.verify(&identity("nobody.test")).await.unwrap(),
        Verified::Identity(HandleCheck::Failed { .. })
    ));

    let mut skipping = FirehoseVerifier::new(ResolverKeys::new(network.resolver())).skip_handles();
    assert_eq!(
        skipping.verify(&identity("bob.test")).await.unwrap(),
        Verified::Identity(HandleCheck::Unchecked(handle("bob.test")))
    );
    let mut static_keys = FirehoseVerifier::new(StaticKeys::new());
    assert!(matches!(
        static_keys.verify(&identity("alice.test")).await.unwrap(),
        Verified::Identity(HandleCheck::Failed { .. })
    ));
}
