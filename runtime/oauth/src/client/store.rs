//! Where the client keeps authorizations in flight ([`StateStore`]) and
//! sessions ([`SessionStore`]): in memory by default, sessions in files for
//! a client that restarts ([`FileSessionStore`]).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::OAuthError;

/// The future a store's methods return.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, OAuthError>> + Send + 'a>>;

/// An authorization in flight: what the callback needs, kept from the
/// pushed request until the user comes back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The issuer the request went to.
    pub issuer: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// The DPoP key of the session to be (base64url of its secret scalar).
    pub dpop_key: String,
    /// The account the user said they are, if they gave a handle or DID.
    pub expected_did: Option<String>,
    /// The PDS of that account, if known.
    pub expected_pds: Option<String>,
}

/// Keeps [`PendingAuthorization`]s by `state`, each for a limited time and
/// taken once.
pub trait StateStore: Send + Sync + 'static {
    /// Keeps `pending` under `state` for `ttl`.
    fn put(&self, state: &str, pending: PendingAuthorization, ttl: Duration)
    -> StoreFuture<'_, ()>;
    /// Takes what is kept under `state` (so that a second take finds
    /// nothing); `None` when there is nothing, or it expired.
    fn take<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<PendingAuthorization>>;
}

/// How many authorizations in flight [`MemoryStateStore`] keeps; past it,
/// expired ones are dropped, then the request is refused.
const MAX_PENDING: usize = 10_000;

/// A [`StateStore`] in memory, for a client that runs as one process.
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    pending: Mutex<HashMap<String, (Instant, PendingAuthorization)>>,
}

impl StateStore for MemoryStateStore {
    fn put(
        &self,
        state: &str,
        pending: PendingAuthorization,
        ttl: Duration,
    ) -> StoreFuture<'_, ()> {
        let result = (|| {
            let mut map = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if map.len() >= MAX_PENDING {
                map.retain(|_, (expires, _)| *expires > now);
            }
            if map.len() >= MAX_PENDING {
                return Err(OAuthError::Store(format!(
                    "{MAX_PENDING} authorizations are already in flight"
                )));
            }
            map.insert(state.to_owned(), (now + ttl, pending));
            Ok(())
        })();
        Box::pin(async move { result })
    }

    fn take<'a>(&'a self, state: &'a str) -> StoreFuture<'a, Option<PendingAuthorization>> {
        let taken = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(state)
            .filter(|(expires, _)| *expires > Instant::now())
            .map(|(_, pending)| pending);
        Box::pin(async move { Ok(taken) })
    }
}

/// What a session keeps: the tokens, the key they are bound to, and the
/// servers they are for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// The account.
    pub did: String,
    /// The account's PDS (the resource server), an origin.
    pub pds: String,
    /// The authorization server that issued the tokens.
    pub issuer: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// The DPoP key (base64url of its secret scalar).
    pub dpop_key: String,
}

/// Keeps sessions by account DID.
pub trait SessionStore: Send + Sync + 'static {
    /// The session of `did`, if one is kept.
    fn get<'a>(&'a self, did: &'a str) -> StoreFuture<'a, Option<SessionData>>;
    /// Keeps `session` (replacing the account's earlier one).
    fn put<'a>(&'a self, session: &'a SessionData) -> StoreFuture<'a, ()>;
    /// Forgets the session of `did`.
    fn delete<'a>(&'a self, did: &'a str) -> StoreFuture<'a, ()>;
}

/// A [`SessionStore`] in memory: sessions end with the process.
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<String, SessionData>>,
}

impl SessionStore for MemorySessionStore {
    fn get<'a>(&'a self, did: &'a str) -> StoreFuture<'a, Option<SessionData>> {
        let found = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(did)
            .cloned();
        Box::pin(async move { Ok(found) })
    }

    fn put<'a>(&'a self, session: &'a SessionData) -> StoreFuture<'a, ()> {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session.did.clone(), session.clone());
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(&'a self, did: &'a str) -> StoreFuture<'a, ()> {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(did);
        Box::pin(async { Ok(()) })
    }
}

/// A [`SessionStore`] in a directory: one JSON file per account, written
/// to a temporary file, flushed, then renamed over the old one, so that a
/// crash leaves the old session or the new one, never half of either.
///
/// A file per account rather than a database: a client keeps a few
/// sessions, each read and written whole, and a rotated refresh token must
/// reach the disk before it is used; rename is atomic on the file systems
/// that matter, and the store needs no database library. The files hold
/// tokens and keys: the directory is created readable by its owner only
/// (on Unix).
#[derive(Debug)]
pub struct FileSessionStore {
    dir: PathBuf,
}

impl FileSessionStore {
    /// A store in `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, OAuthError> {
        let dir = dir.into();
        let io = |e: std::io::Error| OAuthError::Store(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(&dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        Ok(Self { dir })
    }

    /// The file of `did`: bytes outside `[A-Za-z0-9.-]` become `_` and two
    /// hex digits (`:` is `_3a`), so that no two DIDs share a file.
    fn path(&self, did: &str) -> PathBuf {
        let mut name = String::with_capacity(did.len() + 8);
        for byte in did.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-') {
                name.push(char::from(byte));
            } else {
                name.push_str(&format!("_{byte:02x}"));
            }
        }
        self.dir.join(format!("{name}.json"))
    }
}

impl SessionStore for FileSessionStore {
    fn get<'a>(&'a self, did: &'a str) -> StoreFuture<'a, Option<SessionData>> {
        Box::pin(async move {
            let path = self.path(did);
            let bytes = match tokio::fs::read(&path).await {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(OAuthError::Store(format!("{}: {e}", path.display()))),
            };
            let session: SessionData = serde_json::from_slice(&bytes)
                .map_err(|e| OAuthError::Store(format!("{}: {e}", path.display())))?;
            if session.did != did {
                return Err(OAuthError::Store(format!(
                    "{} holds the session of {}, not {did}",
                    path.display(),
                    session.did
                )));
            }
            Ok(Some(session))
        })
    }

    fn put<'a>(&'a self, session: &'a SessionData) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path(&session.did);
            let io = |e: std::io::Error| OAuthError::Store(format!("{}: {e}", path.display()));
            let bytes =
                serde_json::to_vec_pretty(session).map_err(|e| OAuthError::Store(e.to_string()))?;
            let dir = self.dir.clone();
            let target = path.clone();
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                use std::io::Write as _;
                let mut file = tempfile_in(&dir)?;
                file.1.write_all(&bytes)?;
                file.1.sync_all()?;
                std::fs::rename(&file.0, &target)?;
                // The rename itself reaches the disk with the directory.
                std::fs::File::open(&dir)?.sync_all()
            })
            .await
            .map_err(|e| OAuthError::Store(e.to_string()))?
            .map_err(io)
        })
    }

    fn delete<'a>(&'a self, did: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path(did);
            match tokio::fs::remove_file(&path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(OAuthError::Store(format!("{}: {e}", path.display()))),
            }
        })
    }
}

/// A new file in `dir` with a random name, readable by its owner only.
fn tempfile_in(dir: &std::path::Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = super::dpop::random_string(12).map_err(|e| std::io::Error::other(e.to_string()))?;
    let path = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> PendingAuthorization {
        PendingAuthorization {
            issuer: "https://auth.example.com".into(),
            verifier: "v".into(),
            dpop_key: "k".into(),
            expected_did: None,
            expected_pds: None,
        }
    }

    #[tokio::test]
    async fn states_are_taken_once_and_expire() {
        let store = MemoryStateStore::default();
        store
            .put("a", pending(), Duration::from_secs(60))
            .await
            .unwrap();
        assert!(store.take("a").await.unwrap().is_some());
        assert!(store.take("a").await.unwrap().is_none());
        assert!(store.take("never").await.unwrap().is_none());
        store.put("b", pending(), Duration::ZERO).await.unwrap();
        assert!(store.take("b").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn file_sessions_survive_a_new_store() {
        let dir = tempfile::tempdir().unwrap();
        let session = SessionData {
            did: "did:plc:abc".into(),
            pds: "https://pds.example.com".into(),
            issuer: "https://auth.example.com".into(),
            access_token: "at".into(),
            refresh_token: Some("rt".into()),
            expires_at: Some(1),
            scope: "atproto".into(),
            dpop_key: "k".into(),
        };
        FileSessionStore::new(dir.path())
            .unwrap()
            .put(&session)
            .await
            .unwrap();
        let mut next = session.clone();
        next.refresh_token = Some("rt2".into());
        FileSessionStore::new(dir.path())
            .unwrap()
            .put(&next)
            .await
            .unwrap();
        let store = FileSessionStore::new(dir.path()).unwrap();
        assert_eq!(store.get("did:plc:abc").await.unwrap(), Some(next));
        assert_eq!(store.get("did:plc:other").await.unwrap(), None);
        // Only the session's file is left: no temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        store.delete("did:plc:abc").await.unwrap();
        assert_eq!(store.get("did:plc:abc").await.unwrap(), None);
    }
}
