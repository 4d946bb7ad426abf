//! `atlex lex login` and `logout` (feature `resolve`), and the OAuth session
//! `atlex lex publish --oauth` writes with.
//!
//! `login` is atproto OAuth's loopback client: it listens on 127.0.0.1,
//! asks for the scopes publishing needs and waits for the authorization
//! server to send the browser back. The session is stored (with
//! `FileSessionStore`) only once the code is exchanged and the granted
//! scopes cover publishing. Beside the sessions, `clients.json` keeps each
//! account's loopback client (its redirect URI and scope, which make its
//! client id): the authorization server refreshes tokens only for the
//! client they were issued to, and the port of the redirect URI changes
//! from one login to the next.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atlex::client::Client;
use atlex::data::Record as _;
use atlex::identity::Resolver;
use atlex::oauth::client::{
    CallbackParams, ClientKind, FileSessionStore, MemorySessionStore, OAuthClient, OAuthError,
    OAuthSession, SessionStore,
};
use atlex::oauth::scope::{Access, RepoAction, RepoPermission, Scope, Scopes, Target};
use atlex::types::{AtIdentifier, Did};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::net::Schema;
use super::{LoginArgs, LogoutArgs, SessionDirArgs};
use crate::resolve::{NetworkArgs, runtime};

/// What publishing does to schema records: `putRecord` creates a record
/// or replaces it.
const PUBLISH_ACTIONS: [RepoAction; 2] = [RepoAction::Create, RepoAction::Update];

/// The file beside the sessions that names each account's loopback client.
const CLIENTS_FILE: &str = "clients.json";

/// The path of the redirect URI.
const CALLBACK_PATH: &str = "/callback";

/// An access token with less than this many seconds left is refreshed
/// before publishing starts, so that an expired session fails before any
/// check is made rather than between two writes.
const REFRESH_MARGIN: u64 = 60;

/// The scopes `atlex lex login` asks for: an atproto session that creates
/// and updates schema records, and nothing else.
fn publish_scopes() -> Scopes {
    let schemas = RepoPermission {
        collections: vec![Target::Nsid(Schema::NSID.to_owned())],
        actions: PUBLISH_ACTIONS.to_vec(),
    };
    [Scope::Atproto, Scope::Repo(schemas)].into_iter().collect()
}

/// The scope publishing needs that `granted` lacks, if any.
fn missing_scope(granted: &Scopes) -> Option<String> {
    PUBLISH_ACTIONS.iter().find_map(|action| {
        granted
            .require(&Access::record::<Schema>(*action))
            .err()
            .map(|missing| missing.scope().to_owned())
    })
}

/// The loopback client a stored session was issued to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct LoopbackClient {
    redirect_uri: String,
    scope: String,
}

/// The session directory: `--session-dir` (or `ATLEX_SESSION_DIR`), or
/// `atlex/sessions` in the user's configuration directory.
fn session_dir(args: &SessionDirArgs) -> Result<PathBuf, String> {
    match &args.session_dir {
        Some(dir) => Ok(dir.clone()),
        None => dirs::config_dir()
            .map(|dir| dir.join("atlex").join("sessions"))
            .ok_or_else(|| {
                "this user has no configuration directory: name one with --session-dir (or ATLEX_SESSION_DIR)".to_owned()
            }),
    }
}

/// The loopback clients of `dir`'s sessions, by DID.
fn read_clients(dir: &Path) -> Result<BTreeMap<String, LoopbackClient>, String> {
    let path = dir.join(CLIENTS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|err| format!("{}: not a list of clients: {err}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(err) => Err(format!("{}: {err}", path.display())),
    }
}

/// Writes `clients` to a temporary file, syncs it, then renames it over
/// the old one: a failure or a crash leaves the old list or the new one,
/// whole.
fn write_clients(dir: &Path, clients: &BTreeMap<String, LoopbackClient>) -> Result<(), String> {
    use std::io::Write as _;
    let path = dir.join(CLIENTS_FILE);
    let temporary = dir.join(format!(".{CLIENTS_FILE}.tmp"));
    let io = |err: std::io::Error| format!("{}: {err}", path.display());
    let text =
        serde_json::to_vec_pretty(clients).map_err(|err| format!("{}: {err}", path.display()))?;
    let mut file = std::fs::File::create(&temporary).map_err(io)?;
    file.write_all(&text).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&temporary, &path).map_err(io)
}

/// An OAuth client of `kind` that resolves with `resolver`, keeps sessions
/// in `store`, and makes its requests with the network settings.
fn oauth_client(
    network: &NetworkArgs,
    resolver: Resolver,
    kind: ClientKind,
    store: Arc<dyn SessionStore>,
) -> Result<OAuthClient, String> {
    OAuthClient::builder(kind)
        .resolver(resolver)
        .http_client(network.http_client()?)
        .session_store(store)
        .build()
        .map_err(|err| err.to_string())
}

/// The DID of `identifier`: a DID as given, a handle resolved (and checked
/// both ways).
async fn account_did(identifier: &str, resolver: &Resolver) -> Result<Did, String> {
    let account = AtIdentifier::new(identifier.trim())
        .map_err(|err| format!("{identifier:?} is not a handle or DID: {err}"))?;
    match account {
        AtIdentifier::Did(did) => Ok(did),
        AtIdentifier::Handle(_) => {
            let identity = resolver
                .resolve(&account)
                .await
                .map_err(|err| format!("{identifier}: {err}"))?;
            match identity.handle_problem {
                None => Ok(identity.did),
                Some(problem) => Err(format!("{identifier}: {problem}")),
            }
        }
    }
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The stored session of `account`, with the OAuth client it was issued
/// to.
async fn stored_session(
    account: &str,
    sessions: &SessionDirArgs,
    network: &NetworkArgs,
    resolver: &Resolver,
) -> Result<OAuthSession, String> {
    let dir = session_dir(sessions)?;
    let did = account_did(account, resolver).await?;
    let not_stored = || {
        format!(
            "there is no OAuth session of {account} in {}: log in with `atlex lex login {account}`",
            dir.display()
        )
    };
    if !dir.is_dir() {
        return Err(not_stored());
    }
    let Some(client) = read_clients(&dir)?.remove(did.as_str()) else {
        return Err(not_stored());
    };
    let kind = ClientKind::loopback(&client.redirect_uri, &client.scope)
        .map_err(|err| format!("{}: {err}", dir.join(CLIENTS_FILE).display()))?;
    let store = FileSessionStore::new(&dir).map_err(|err| err.to_string())?;
    let client = oauth_client(network, resolver.clone(), kind, Arc::new(store))?;
    match client.restore(&did).await {
        Ok(session) => Ok(session),
        Err(OAuthError::NoSession(_)) => Err(not_stored()),
        Err(err) => Err(err.to_string()),
    }
}

/// What writes schema records: the account, a client of its PDS that
/// writes as it, and what to do when its credentials fail.
pub(super) struct Writer {
    pub did: Did,
    pub client: Client,
    /// For an OAuth session: the account as given, to log in again with.
    relogin: Option<String>,
}

impl Writer {
    /// A writer with a password session's client.
    pub(super) fn password(did: Did, client: Client) -> Self {
        Self {
            did,
            client,
            relogin: None,
        }
    }

    /// Why writing `uri` failed; when the OAuth session's credentials
    /// failed (a refresh the server refused), how to get new ones.
    pub(super) fn error<E: std::fmt::Display>(
        &self,
        uri: &str,
        err: &atlex::client::Error<E>,
    ) -> String {
        match (&self.relogin, err) {
            (Some(account), atlex::client::Error::Auth { .. }) => {
                format!("{uri}: {err}; log in again with `atlex lex login {account}`")
            }
            _ => format!("{uri}: {err}"),
        }
    }
}

/// The writer of `account`'s stored OAuth session: refreshed first when its
/// access token has expired (a refresh the server refuses says to log in
/// again), and checking each write against the granted scopes before it is
/// sent.
pub(super) async fn oauth_writer(
    account: &str,
    sessions: &SessionDirArgs,
    network: &NetworkArgs,
    resolver: &Resolver,
    timeout: Duration,
) -> Result<Writer, String> {
    let session = stored_session(account, sessions, network, resolver).await?;
    let relogin = |err: OAuthError| {
        format!(
            "the OAuth session of {account} could not be refreshed ({err}): log in again with `atlex lex login {account}`"
        )
    };
    if session
        .data()
        .expires_at
        .is_some_and(|at| at <= now().saturating_add(REFRESH_MARGIN))
    {
        session.refresh().await.map_err(relogin)?;
    }
    if let Some(missing) = missing_scope(&session.scopes()) {
        return Err(format!(
            "the OAuth session of {account} was not granted {missing}, which publishing needs: log in again with `atlex lex login {account}`"
        ));
    }
    session.check_scopes(true);
    let did = Did::new(session.did())
        .map_err(|err| format!("the stored session's DID {:?}: {err}", session.did()))?;
    let client = session
        .client_builder()
        .timeout(timeout)
        .build()
        .map_err(|err| format!("{}: {err}", session.pds()))?;
    Ok(Writer {
        did,
        client,
        relogin: Some(account.to_owned()),
    })
}

/// Runs `atlex lex login`.
pub(super) fn login(args: &LoginArgs) -> ExitCode {
    let wait = match Duration::try_from_secs_f64(args.wait) {
        Ok(wait) if !wait.is_zero() => wait,
        _ => {
            eprintln!("error: --wait takes a positive number of seconds");
            return ExitCode::from(2);
        }
    };
    let dir = match session_dir(&args.sessions) {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    run_resolving(&args.network, async |resolver| {
        login_with(args, resolver, &dir, wait).await
    })
}

/// Sets up the resolver and the runtime, runs `work`, and prints its lines
/// (or its error) as [`super::finish`] does.
fn run_resolving<F>(network: &NetworkArgs, work: F) -> ExitCode
where
    F: AsyncFnOnce(Resolver) -> Result<Vec<String>, String>,
{
    let setup = network
        .resolver_builder()
        .and_then(|builder| builder.build().map_err(|err| err.to_string()))
        .and_then(|resolver| Ok((resolver, runtime()?)));
    let (resolver, runtime) = match setup {
        Ok(setup) => setup,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    super::finish(runtime.block_on(work(resolver)).map(|lines| (lines, true)))
}

async fn login_with(
    args: &LoginArgs,
    resolver: Resolver,
    dir: &Path,
    wait: Duration,
) -> Result<Vec<String>, String> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .await
        .map_err(|err| format!("listening on 127.0.0.1:{}: {err}", args.port))?;
    let port = listener
        .local_addr()
        .map_err(|err| format!("listening on 127.0.0.1: {err}"))?
        .port();
    let loopback = LoopbackClient {
        redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
        scope: publish_scopes().to_string(),
    };
    let kind = ClientKind::loopback(&loopback.redirect_uri, &loopback.scope)
        .map_err(|err| err.to_string())?;
    // Sessions stay in memory until the sign-in is complete and checked.
    let client = oauth_client(
        &args.network,
        resolver,
        kind,
        Arc::new(MemorySessionStore::default()),
    )?;
    let url = client
        .authorize(&args.identifier)
        .await
        .map_err(|err| format!("starting the sign-in of {}: {err}", args.identifier))?;
    // Ctrl-C ends the wait from the moment the address is printed: the
    // handler is installed when the future is first polled, here.
    let mut cancelled = std::pin::pin!(tokio::signal::ctrl_c());
    if let Poll::Ready(Err(err)) =
        std::future::poll_fn(|cx| Poll::Ready(cancelled.as_mut().poll(cx))).await
    {
        return Err(format!("cannot watch for Ctrl-C: {err}"));
    }
    eprintln!(
        "To let atlex publish lexicons as {}, open this address in a browser:\n\n    {url}\n\nWaiting for the authorization at {} ({} s at most; Ctrl-C to cancel)...",
        args.identifier,
        loopback.redirect_uri,
        wait.as_secs_f64()
    );
    let session = tokio::select! {
        finished = receive(listener, &client) => finished?,
        () = tokio::time::sleep(wait) => {
            return Err(format!(
                "no authorization came back within {} s (--wait): nothing was stored",
                wait.as_secs_f64()
            ));
        }
        _ = cancelled => {
            return Err("cancelled: nothing was stored".to_owned());
        }
    };
    let data = session.data();
    if let Some(missing) = missing_scope(&session.scopes()) {
        // Tokens that cannot publish are of no use: revoked, not kept.
        let _ = session.sign_out().await;
        return Err(format!(
            "the authorization server granted {:?}, without {missing}, which publishing needs: nothing was stored",
            data.scope
        ));
    }
    let store = FileSessionStore::new(dir).map_err(|err| err.to_string())?;
    let mut clients = read_clients(dir)?;
    clients.insert(data.did.clone(), loopback);
    write_clients(dir, &clients)?;
    store.put(&data).await.map_err(|err| err.to_string())?;
    Ok(vec![format!(
        "logged in as {} (PDS {}, scope {}); the session is stored in {}",
        data.did,
        data.pds,
        data.scope,
        dir.display()
    )])
}

/// What the sign-in waits for: the outcome of the callback that carried
/// its state.
type Outcome = Result<OAuthSession, OAuthError>;

/// Serves the redirect URI until a callback carries the sign-in's state
/// and ends it, successfully or not. Other requests, and callbacks with a
/// state the client did not issue, are answered and change nothing.
async fn receive(
    listener: tokio::net::TcpListener,
    client: &OAuthClient,
) -> Result<OAuthSession, String> {
    let (sender, mut outcomes) = mpsc::channel::<Outcome>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    continue;
                };
                // A browser may open connections it never uses: each is
                // served on its own.
                tokio::spawn(serve(stream, client.clone(), sender.clone()));
            }
            Some(outcome) = outcomes.recv() => {
                return outcome.map_err(|err| format!("the sign-in failed: {err}"));
            }
        }
    }
}

/// Serves one connection, closed after its first answer. The outcome of a
/// callback it carried is sent once the connection is closed: by then the
/// browser has the page that says it, and the command may end.
async fn serve(
    stream: tokio::net::TcpStream,
    client: OAuthClient,
    outcomes: mpsc::Sender<Outcome>,
) {
    let slot: Arc<Mutex<Option<Outcome>>> = Arc::default();
    let service = {
        let slot = Arc::clone(&slot);
        hyper::service::service_fn(move |request| {
            let (client, slot) = (client.clone(), Arc::clone(&slot));
            async move {
                let (page, outcome) = answer(&request, &client).await;
                if outcome.is_some() {
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) = outcome;
                }
                Ok::<_, Infallible>(page)
            }
        })
    };
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
    let outcome = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(outcome) = outcome {
        let _ = outcomes.send(outcome).await;
    }
}

/// Answers one request to the loopback server; a callback with the
/// sign-in's state also gives its outcome.
async fn answer<B>(
    request: &hyper::Request<B>,
    client: &OAuthClient,
) -> (hyper::Response<Full<Bytes>>, Option<Outcome>) {
    if request.method() != hyper::Method::GET || request.uri().path() != CALLBACK_PATH {
        let text = format!("atlex waits for the authorization at {CALLBACK_PATH}.");
        return (page(hyper::StatusCode::NOT_FOUND, text), None);
    }
    let params = CallbackParams::from_query(request.uri().query().unwrap_or_default());
    match client.callback(&params).await {
        Err(OAuthError::UnknownState) => {
            let text = "This is not the authorization atlex waits for (its state is unknown or used); atlex still waits.";
            (page(hyper::StatusCode::BAD_REQUEST, text.to_owned()), None)
        }
        Ok(session) => {
            let text = "atlex is signed in: you can close this page.";
            (
                page(hyper::StatusCode::OK, text.to_owned()),
                Some(Ok(session)),
            )
        }
        Err(err) => {
            let text = format!("atlex could not sign in: {err}");
            (page(hyper::StatusCode::BAD_REQUEST, text), Some(Err(err)))
        }
    }
}

/// A plain-text page: what it says is never read as markup.
fn page(status: hyper::StatusCode, text: String) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        hyper::header::X_CONTENT_TYPE_OPTIONS,
        hyper::header::HeaderValue::from_static("nosniff"),
    );
    response
}

/// Runs `atlex lex logout`.
pub(super) fn logout(args: &LogoutArgs) -> ExitCode {
    run_resolving(&args.network, async |resolver| {
        logout_with(args, &resolver).await
    })
}

async fn logout_with(args: &LogoutArgs, resolver: &Resolver) -> Result<Vec<String>, String> {
    let account = &args.identifier;
    let session = stored_session(account, &args.sessions, &args.network, resolver).await?;
    let dir = session_dir(&args.sessions)?;
    let did = session.did();
    let revoked = session.sign_out().await;
    // Deleted also when the server could not be asked to revoke: the user
    // wants the tokens gone from this machine.
    FileSessionStore::new(&dir)
        .map_err(|err| err.to_string())?
        .delete(&did)
        .await
        .map_err(|err| err.to_string())?;
    let mut clients = read_clients(&dir)?;
    if clients.remove(&did).is_some() {
        write_clients(&dir, &clients)?;
    }
    match revoked {
        Ok(()) => Ok(vec![format!(
            "logged out {did}: the session is revoked and deleted"
        )]),
        Err(err) => Err(format!(
            "the session of {did} is deleted, but revoking it failed: {err}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_asks_for_schema_writes_only() {
        let scopes = publish_scopes();
        assert_eq!(
            scopes.to_string(),
            "atproto repo:com.atproto.lexicon.schema?action=create&action=update"
        );
        assert_eq!(missing_scope(&scopes), None);
        assert_eq!(
            missing_scope(&Scopes::parse("atproto transition:generic")),
            None
        );
        assert_eq!(
            missing_scope(&Scopes::parse(
                "atproto repo:com.atproto.lexicon.schema?action=create"
            ))
            .as_deref(),
            Some("repo:com.atproto.lexicon.schema?action=update")
        );
        assert_eq!(
            missing_scope(&Scopes::parse("atproto")).as_deref(),
            Some("repo:com.atproto.lexicon.schema?action=create")
        );
    }

    #[test]
    fn clients_are_kept_by_did() {
        let dir = std::env::temp_dir().join(format!("atlex-login-clients-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(read_clients(&dir).unwrap().is_empty());
        let client = LoopbackClient {
            redirect_uri: "http://127.0.0.1:4567/callback".to_owned(),
            scope: publish_scopes().to_string(),
        };
        let clients = BTreeMap::from([("did:plc:abc".to_owned(), client)]);
        write_clients(&dir, &clients).unwrap();
        assert_eq!(read_clients(&dir).unwrap(), clients);
        std::fs::write(dir.join(CLIENTS_FILE), "[").unwrap();
        let err = read_clients(&dir).unwrap_err();
        assert!(err.contains("not a list of clients"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
