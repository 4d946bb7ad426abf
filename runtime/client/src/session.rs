//! Password sessions with a PDS: log in, keep the tokens, refresh on
//! `ExpiredToken`, tell the application so it can store and resume them.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use super::account::{
    CreateSession, CreateSessionError, CreateSessionInput, DeleteSession, DeleteSessionError,
    RefreshSession, RefreshSessionError, SessionOutput,
};
use super::{BoxError, BuildError, Client, ClientBuilder, Error};
use atlex_core::types::{Did, Handle};

/// A logged-in session: who, with which PDS, and its tokens. Serializable,
/// so that an application can store it and [resume](Login::resume) it.
///
/// Its [`Debug`](fmt::Debug) output leaves the tokens out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The account.
    pub did: Did,
    /// Its handle, as the PDS gave it.
    pub handle: Handle,
    /// The PDS the session is with: calls go there.
    pub service: String,
    /// The access token, sent with each call.
    pub access_jwt: String,
    /// The refresh token, which gets new tokens.
    pub refresh_jwt: String,
    /// Whether the account is active, if the PDS said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Why it is not active (`takendown`, `suspended`, `deactivated`), if
    /// the PDS said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("service", &self.service)
            .field("active", &self.active)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn from_output(service: &str, output: SessionOutput) -> Self {
        Self {
            did: output.did,
            handle: output.handle,
            service: service.to_owned(),
            access_jwt: output.access_jwt,
            refresh_jwt: output.refresh_jwt,
            active: output.active,
            status: output.status,
        }
    }
}

/// What happened to a session, for the hook of [`Login::on_session`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum SessionEvent<'a> {
    /// A login made it.
    Created(&'a Session),
    /// New tokens replaced the old ones: store this instead.
    Refreshed(&'a Session),
    /// The PDS refused the refresh token (expired, revoked) or the session
    /// was deleted: forget the stored session, and log in again.
    Ended(&'a Session),
}

type SessionHook = Arc<dyn Fn(SessionEvent<'_>) + Send + Sync>;
type Configure = Arc<dyn Fn(ClientBuilder) -> ClientBuilder + Send + Sync>;

/// Why a login or a session call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The identifier is neither a DID nor a handle.
    #[error("{0:?} is neither a handle nor a DID")]
    InvalidIdentifier(String),
    /// The handle or DID did not resolve to a PDS.
    #[cfg(feature = "identity")]
    #[error("cannot find the account's PDS: {0}")]
    Resolve(#[from] atlex_identity::identity::IdentityError),
    /// The client for the PDS could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// `createSession` failed: a wrong password (`AuthenticationRequired`),
    /// a second factor needed (`AuthFactorTokenRequired`), …
    #[error("login failed: {0}")]
    Login(#[from] Error<CreateSessionError>),
    /// `refreshSession` failed.
    #[error("refreshing the session failed: {0}")]
    Refresh(#[from] Error<RefreshSessionError>),
    /// `deleteSession` failed.
    #[error("logging out failed: {0}")]
    Logout(#[from] Error<DeleteSessionError>),
    /// The PDS logged in another account than the one the identifier
    /// resolved to.
    #[error("the PDS logged in {found}, but the identifier is {expected}")]
    WrongAccount {
        /// The DID the identifier resolved to.
        expected: Did,
        /// The DID of the session.
        found: Did,
    },
}

/// How to log in: the hooks and settings of the session's client.
///
/// ```no_run
/// # async fn run(password: &str) -> Result<(), atlex_client::SessionError> {
/// use atlex_client::{Login, SessionEvent};
///
/// let client = Login::new()
///     .configure(|builder| builder.proxy("did:web:api.bsky.chat#bsky_chat"))
///     .on_session(|event| match event {
///         SessionEvent::Created(session) | SessionEvent::Refreshed(session) => {
///             let _json = serde_json::to_string(session); // store it
///         }
///         SessionEvent::Ended(_) => { /* delete the stored session */ }
///         _ => {}
///     })
///     // `password` (feature `identity`) finds the PDS from the handle.
///     .password_at("https://bsky.social", "alice.example.com", password)
///     .await?;
/// println!("logged in as {}", client.session().did);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
#[must_use = "a Login does nothing until one of its login methods is awaited"]
pub struct Login {
    configure: Option<Configure>,
    hook: Option<SessionHook>,
    auth_factor_token: Option<String>,
    #[cfg(feature = "identity")]
    resolver: Option<atlex_identity::identity::Resolver>,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("configure", &self.configure.is_some())
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

impl Login {
    /// A login with default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adjusts the session's client (proxy, timeout, retries, labelers, …);
    /// its base URL and tokens are the session's.
    pub fn configure(
        mut self,
        configure: impl Fn(ClientBuilder) -> ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.configure = Some(Arc::new(configure));
        self
    }

    /// Called when the session is created, refreshed or ended, to store it.
    pub fn on_session(mut self, hook: impl Fn(SessionEvent<'_>) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The emailed code, for an account with two-factor sign-in (after a
    /// first attempt failed with `AuthFactorTokenRequired`).
    pub fn auth_factor_token(mut self, token: impl Into<String>) -> Self {
        self.auth_factor_token = Some(token.into());
        self
    }

    /// The resolver used to find the account's PDS (a default one
    /// otherwise).
    #[cfg(feature = "identity")]
    pub fn resolver(mut self, resolver: atlex_identity::identity::Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Logs in with a handle or DID and a password: resolves the identifier
    /// to the account's DID document, logs in at the PDS it names, and
    /// checks that the PDS logged in that same account.
    #[cfg(feature = "identity")]
    pub async fn password(
        self,
        identifier: &str,
        password: &str,
    ) -> Result<SessionClient, SessionError> {
        use atlex_core::types::AtIdentifier;
        let parsed = AtIdentifier::new(identifier.trim())
            .map_err(|_| SessionError::InvalidIdentifier(identifier.to_owned()))?;
        let resolver = match &self.resolver {
            Some(resolver) => resolver.clone(),
            None => atlex_identity::identity::Resolver::new()?,
        };
        let did = match &parsed {
            AtIdentifier::Did(did) => did.clone(),
            AtIdentifier::Handle(handle) => resolver.resolve_handle(handle).await?,
        };
        let document = resolver.resolve_did(&did).await?;
        let pds = document.pds().ok_or_else(|| {
            SessionError::Resolve(atlex_identity::identity::IdentityError::NoPds {
                did: did.to_string(),
            })
        })?;
        let pds = pds.to_owned();
        // The DID is what the PDS knows the account by, whatever its handle
        // is today.
        let client = self.password_at(&pds, did.as_str(), password).await?;
        let found = client.session().did;
        if found != did {
            return Err(SessionError::WrongAccount {
                expected: did,
                found,
            });
        }
        Ok(client)
    }

    /// Logs in at a known PDS (or entryway) with whatever identifier it
    /// accepts (handle, DID, email), without resolving anything.
    pub async fn password_at(
        self,
        service: &str,
        identifier: &str,
        password: &str,
    ) -> Result<SessionClient, SessionError> {
        let anonymous = account_client(&self.builder(service).build()?)?;
        let input = CreateSessionInput {
            identifier: identifier.to_owned(),
            password: password.to_owned(),
            auth_factor_token: self.auth_factor_token.clone(),
        };
        let output = anonymous.procedure(CreateSession, &input).await?;
        let session = Session::from_output(anonymous.base_url(), output);
        let client = self.start(session)?;
        client.state.emit(|s| SessionEvent::Created(s));
        Ok(client)
    }

    /// Resumes a stored session. Nothing is sent: an expired access token is
    /// refreshed on the first call that needs it.
    pub fn resume(self, session: Session) -> Result<SessionClient, SessionError> {
        self.start(session)
    }

    fn builder(&self, service: &str) -> ClientBuilder {
        let builder = Client::builder(service);
        match &self.configure {
            Some(configure) => configure(builder),
            None => builder,
        }
    }

    fn start(self, session: Session) -> Result<SessionClient, SessionError> {
        let refresher = account_client(&self.builder(&session.service).build()?)?;
        let state = Arc::new(State {
            session: RwLock::new(session.clone()),
            hook: self.hook.clone(),
            refresher,
            refresh_lock: tokio::sync::Mutex::new(()),
        });
        let hook_state = Arc::clone(&state);
        let client = self
            .builder(&session.service)
            .bearer(session.access_jwt)
            .on_expired_token(move || {
                let state = Arc::clone(&hook_state);
                async move {
                    let used = state.session().access_jwt;
                    state
                        .refresh(&used)
                        .await
                        .map(|session| session.access_jwt)
                        .map_err(|err| -> BoxError { Box::new(err) })
                }
            })
            .build()?;
        Ok(SessionClient { client, state })
    }
}

/// A client for the account calls themselves (`createSession`,
/// `refreshSession`, `deleteSession`) to the same PDS as `configured`, with
/// its connection pool, timeout and user agent but none of its other
/// headers: a proxy header set for the session's calls must not send the
/// login elsewhere.
fn account_client(configured: &Client) -> Result<Client, BuildError> {
    let inner = &configured.inner;
    let mut builder = Client::builder(&inner.base_url).http_client(inner.http.clone());
    if let Some(timeout) = inner.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(agent) = inner
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
    {
        builder = builder.user_agent(agent);
    }
    builder.build()
}

/// What a session's clients share.
struct State {
    session: RwLock<Session>,
    hook: Option<SessionHook>,
    /// Calls `refreshSession` and `deleteSession` with the refresh token
    /// (each call sets it, under `refresh_lock`).
    refresher: Client,
    refresh_lock: tokio::sync::Mutex<()>,
}

impl State {
    fn session(&self) -> Session {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn emit(&self, event: fn(&Session) -> SessionEvent<'_>) {
        if let Some(hook) = &self.hook {
            let session = self.session();
            hook(event(&session));
        }
    }

    /// New tokens, unless another caller already replaced `used` (the access
    /// token that expired).
    async fn refresh(&self, used: &str) -> Result<Session, Error<RefreshSessionError>> {
        let _guard = self.refresh_lock.lock().await;
        let current = self.session();
        if current.access_jwt != used {
            return Ok(current);
        }
        self.refresher
            .set_access_token(Some(current.refresh_jwt.clone()));
        let result = self.refresher.procedure(RefreshSession, &()).await;
        self.refresher.set_access_token(None);
        match result {
            Ok(output) => {
                let session = Session::from_output(&current.service, output);
                *self.session.write().unwrap_or_else(PoisonError::into_inner) = session.clone();
                self.emit(|s| SessionEvent::Refreshed(s));
                Ok(session)
            }
            Err(error) => {
                let refused = matches!(
                    error.error_name(),
                    Some("ExpiredToken" | "InvalidToken" | "AccountTakedown")
                );
                if refused {
                    self.emit(|s| SessionEvent::Ended(s));
                }
                Err(error)
            }
        }
    }
}

/// A [`Client`] logged in to the account's PDS, which refreshes its tokens
/// when the PDS answers `ExpiredToken`. It dereferences to the client, so
/// every call of generated endpoints works on it; clones share the session.
#[derive(Clone)]
pub struct SessionClient {
    client: Client,
    state: Arc<State>,
}

impl fmt::Debug for SessionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionClient")
            .field("session", &self.state.session())
            .finish_non_exhaustive()
    }
}

impl Deref for SessionClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl SessionClient {
    /// The session as it is now (tokens included), to store.
    pub fn session(&self) -> Session {
        self.state.session()
    }

    /// The client, to keep without the session's other methods.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Gets new tokens now, rather than on the next `ExpiredToken`.
    pub async fn refresh(&self) -> Result<Session, SessionError> {
        let used = self.state.session().access_jwt;
        let session = self.state.refresh(&used).await?;
        self.client
            .set_access_token(Some(session.access_jwt.clone()));
        Ok(session)
    }

    /// Ends the session at the PDS (`deleteSession`); the hook hears
    /// [`SessionEvent::Ended`].
    pub async fn logout(self) -> Result<(), SessionError> {
        let state = &self.state;
        let _guard = state.refresh_lock.lock().await;
        let session = state.session();
        state
            .refresher
            .set_access_token(Some(session.refresh_jwt.clone()));
        let result = state.refresher.procedure(DeleteSession, &()).await;
        state.refresher.set_access_token(None);
        result?;
        self.client.set_access_token(None);
        state.emit(|s| SessionEvent::Ended(s));
        Ok(())
    }
}

/// Logs in with a handle or DID and a password, with default settings:
/// [`Login::password`].
///
/// ```no_run
/// # async fn run(password: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let client = atlex_client::login("alice.example.com", password).await?;
/// // Any generated endpoint, e.g.
/// // client.query(app::bsky::actor::get_profile::GetProfile, &params).await?;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "identity")]
pub async fn login(identifier: &str, password: &str) -> Result<SessionClient, SessionError> {
    Login::new().password(identifier, password).await
}
