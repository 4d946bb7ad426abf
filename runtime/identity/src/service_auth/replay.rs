//! Each service-auth token is accepted once: the verifier remembers the
//! `jti` of every token it accepted until the token expires, and refuses a
//! token whose `jti` it has seen. A token copied from a log or a proxy can
//! then not be sent again while it is still valid.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// An error of a [`ReplayStore`] (a shared store that could not be reached,
/// say): the token is refused, since it cannot be told new.
pub type ReplayStoreError = Box<dyn std::error::Error + Send + Sync>;

/// What [`ReplayStore::first_use`] returns.
pub type FirstUse<'a> = Pin<Box<dyn Future<Output = Result<bool, ReplayStoreError>> + Send + 'a>>;

/// Where the tokens a verifier accepted are remembered.
///
/// [`MemoryReplayStore`] is the default; several instances of one service
/// share a store of their own (a table with a unique key, a cache with
/// set-if-absent), so that a token accepted by one is refused by the others.
pub trait ReplayStore: Send + Sync + 'static {
    /// Records token `id` (its issuer and `jti`) as used until `expires`
    /// (Unix seconds), atomically: `true` when it was not recorded yet,
    /// `false` when it was (a replay). `now` is the time of the check, for
    /// dropping what has expired.
    fn first_use<'a>(&'a self, id: &'a str, expires: u64, now: u64) -> FirstUse<'a>;
}

/// The tokens accepted in this process, at most `capacity` of them unexpired
/// at a time.
///
/// When it is full of tokens that have not expired, a new token is refused
/// (with [`Full`]) rather than an old one forgotten, which would let that
/// one be replayed; only tokens whose signature verified are recorded, so
/// only issuers the service trusts can fill it.
#[derive(Debug)]
pub struct MemoryReplayStore {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    expires: HashMap<String, u64>,
    by_expiry: BTreeSet<(u64, String)>,
}

/// The default capacity of a [`MemoryReplayStore`].
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// [`MemoryReplayStore`] holds `capacity` unexpired tokens already.
#[derive(Debug, thiserror::Error)]
#[error(
    "the replay store holds {capacity} unexpired tokens, its capacity; refusing more until some expire"
)]
pub struct Full {
    /// The store's capacity.
    pub capacity: usize,
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::new(DEFAULT_REPLAY_CAPACITY)
    }
}

impl MemoryReplayStore {
    /// A store of at most `capacity` unexpired tokens.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(State::default()),
        }
    }

    /// How many tokens are recorded (expired ones included until the next
    /// check drops them).
    pub fn len(&self) -> usize {
        self.lock().expires.len()
    }

    /// Whether no token is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the maps whole:
        // each update below is complete before anything can panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record(&self, id: &str, expires: u64, now: u64) -> Result<bool, Full> {
        let mut state = self.lock();
        while let Some((expiry, _)) = state.by_expiry.first()
            && *expiry < now
        {
            if let Some((_, old)) = state.by_expiry.pop_first() {
                state.expires.remove(&old);
            }
        }
        if state.expires.contains_key(id) {
            return Ok(false);
        }
        if state.expires.len() >= self.capacity {
            return Err(Full {
                capacity: self.capacity,
            });
        }
        state.expires.insert(id.to_owned(), expires);
        state.by_expiry.insert((expires, id.to_owned()));
        Ok(true)
    }
}

impl ReplayStore for MemoryReplayStore {
    fn first_use<'a>(&'a self, id: &'a str, expires: u64, now: u64) -> FirstUse<'a> {
        let result = self.record(id, expires, now).map_err(Into::into);
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_new_once_until_it_expires() {
        let store = MemoryReplayStore::new(2);
        assert!(store.record("a", 100, 0).unwrap());
        assert!(!store.record("a", 100, 50).unwrap());
        assert!(store.record("b", 200, 50).unwrap());
        // Full of unexpired tokens: a third is refused, not let in.
        assert!(store.record("c", 200, 60).is_err());
        // Once `a` expired it is forgotten, which makes room.
        assert!(store.record("c", 200, 101).unwrap());
        assert_eq!(store.len(), 2);
        assert!(store.record("a", 300, 101).is_err());
        assert!(store.record("a", 300, 201).unwrap());
        assert_eq!(store.len(), 1);
    }
}
