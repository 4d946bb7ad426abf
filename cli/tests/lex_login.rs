//! `atlex lex login` and `logout` (feature `resolve`) on loopback, against
//! an authorization server of the test's own that answers what the OAuth
//! client asks (metadata, PAR, tokens, revocation) without checking proofs:
//! what is tested is the command — its loopback server, what it stores and
//! when it stores nothing. The sign-in against the official PDS, and
//! publishing through the session, are tested in atlex-e2e
//! (`tests/lex_oauth.rs`).

#![cfg(feature = "resolve")]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};

use atlex::identity::testkit::TestNetwork;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

/// What the scope of `atlex lex login` is.
const PUBLISH_SCOPE: &str = "atproto repo:com.atproto.lexicon.schema?action=create&action=update";

/// The account that logs in.
const HANDLE: &str = "publisher.example.com";

/// The authorization server (and PDS: it names itself) of the test.
struct Server {
    base: String,
    did: String,
    /// The scope the token endpoint grants.
    grant: Mutex<String>,
    /// The PAR requests, as forms.
    pushed: Mutex<Vec<HashMap<String, String>>>,
    /// The tokens revoked.
    revoked: Mutex<Vec<String>>,
}

async fn protected_resource(State(server): State<Arc<Server>>) -> Json<Value> {
    Json(json!({"resource": server.base, "authorization_servers": [server.base]}))
}

async fn authorization_server(State(server): State<Arc<Server>>) -> Json<Value> {
    let base = &server.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "pushed_authorization_request_endpoint": format!("{base}/oauth/par"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "require_pushed_authorization_requests": true,
        "dpop_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "scopes_supported": ["atproto"]
    }))
}

async fn par(
    State(server): State<Arc<Server>>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    server.pushed.lock().unwrap().push(form);
    (
        StatusCode::CREATED,
        Json(json!({"request_uri": "urn:ietf:params:oauth:request_uri:test", "expires_in": 60})),
    )
}

async fn token(State(server): State<Arc<Server>>) -> Json<Value> {
    Json(json!({
        "access_token": "access",
        "token_type": "DPoP",
        "refresh_token": "refresh",
        "expires_in": 3600,
        "scope": server.grant.lock().unwrap().clone(),
        "sub": server.did
    }))
}

async fn revoke(
    State(server): State<Arc<Server>>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    server
        .revoked
        .lock()
        .unwrap()
        .push(form.get("token").cloned().unwrap_or_default());
    StatusCode::OK
}

struct World {
    network: TestNetwork,
    server: Arc<Server>,
    dir: PathBuf,
}

impl World {
    async fn start(name: &str) -> Self {
        let network = TestNetwork::start().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let account = network.account(HANDLE).unwrap();
        account.set_pds(&base);
        let server = Arc::new(Server {
            base,
            did: account.did().to_string(),
            grant: Mutex::new(PUBLISH_SCOPE.to_owned()),
            pushed: Mutex::default(),
            revoked: Mutex::default(),
        });
        let router = Router::new()
            .route(
                "/.well-known/oauth-protected-resource",
                get(protected_resource),
            )
            .route(
                "/.well-known/oauth-authorization-server",
                get(authorization_server),
            )
            .route("/oauth/par", post(par))
            .route("/oauth/token", post(token))
            .route("/oauth/revoke", post(revoke))
            .with_state(Arc::clone(&server));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lex-login-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            network,
            server,
            dir,
        }
    }

    fn sessions(&self) -> PathBuf {
        self.dir.join("sessions")
    }

    /// `atlex lex <args>` pointed at the test network and session directory.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atlex"));
        command
            .current_dir(&self.dir)
            .arg("lex")
            .args(args)
            .args(["--plc", &self.network.plc_directory(), "--plain-http"])
            .arg("--dns")
            .arg(self.network.dns_address().to_string())
            .arg("--session-dir")
            .arg(self.sessions())
            .env_remove("ATLEX_PASSWORD")
            .env_remove("ATLEX_SESSION_DIR");
        command
    }

    /// Runs `atlex lex <args>` to its end: exit code, stdout, stderr.
    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut command = self.command(args);
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts `atlex lex login` and reads what it prints up to the redirect
    /// URI it waits at.
    async fn login(&self, wait: &str) -> Login {
        self.login_as(&self.server.did, wait).await
    }

    /// [`login`](Self::login) of the account named `account`.
    async fn login_as(&self, account: &str, wait: &str) -> Login {
        let mut child = self
            .command(&["login", account, "--wait", wait])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (printed, redirect, stderr) = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let mut printed = String::new();
            for line in lines.by_ref() {
                let line = line.unwrap();
                printed.push_str(&line);
                printed.push('\n');
                if let Some((_, rest)) = line.split_once("Waiting for the authorization at ") {
                    let redirect = rest.split_whitespace().next().unwrap().to_owned();
                    return (printed, redirect, lines);
                }
            }
            panic!("login printed no redirect URI:\n{printed}");
        })
        .await
        .unwrap();
        Login {
            child,
            printed,
            redirect,
            stderr,
        }
    }

    /// The `state` of the last authorization request pushed.
    fn last_state(&self) -> String {
        self.server.pushed.lock().unwrap().last().unwrap()["state"].clone()
    }

    fn session_files(&self) -> Vec<String> {
        match std::fs::read_dir(self.sessions()) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                names
            }
            Err(_) => Vec::new(),
        }
    }
}

/// A running `atlex lex login`.
struct Login {
    child: Child,
    printed: String,
    redirect: String,
    stderr: Lines<BufReader<ChildStderr>>,
}

impl Login {
    /// Sends the browser back with `query`: the page's status and text.
    async fn callback(&self, query: &str) -> (u16, String) {
        let answer = reqwest::get(format!("{}?{query}", self.redirect))
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }

    /// Waits for the command to end: exit code, stdout, the rest of stderr.
    async fn finish(self) -> (i32, String, String) {
        let Self {
            child, mut stderr, ..
        } = self;
        tokio::task::spawn_blocking(move || {
            let out = child.wait_with_output().unwrap();
            let rest: Vec<String> = stderr.by_ref().map_while(Result::ok).collect();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                rest.join("\n"),
            )
        })
        .await
        .unwrap()
    }
}

fn did_file(did: &str) -> String {
    format!("{}.json", did.replace(':', "_3a"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_stores_the_session_and_logout_revokes_it() {
    let world = World::start("stored").await;
    let did = world.server.did.clone();
    let base = world.server.base.clone();
    // By handle: resolved to the DID, whose PDS names the authorization
    // server.
    let login = world.login_as(HANDLE, "30").await;
    assert!(
        login.redirect.starts_with("http://127.0.0.1:"),
        "{}",
        login.redirect
    );
    assert!(login.redirect.ends_with("/callback"), "{}", login.redirect);
    assert!(
        login
            .printed
            .contains(&format!("{base}/oauth/authorize?client_id=")),
        "{}",
        login.printed
    );
    let pushed = world.server.pushed.lock().unwrap().last().unwrap().clone();
    assert_eq!(pushed["scope"], PUBLISH_SCOPE);
    assert_eq!(pushed["redirect_uri"], login.redirect);
    assert_eq!(pushed["login_hint"], HANDLE);

    // Another path, and a state this sign-in did not issue: answered,
    // nothing ends.
    let (status, _) = {
        let answer = reqwest::get(login.redirect.replace("/callback", "/other"))
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    };
    assert_eq!(status, 404);
    let (status, page) = login
        .callback(&format!("code=c&state=forged&iss={base}"))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("state is unknown"), "{page}");
    assert!(world.session_files().is_empty());

    // The authorization server sends the browser back: the session is
    // stored, with the client it was issued to.
    let state = world.last_state();
    let (status, page) = login
        .callback(&format!("code=c&state={state}&iss={base}"))
        .await;
    assert_eq!(status, 200, "{page}");
    let redirect = login.redirect.clone();
    let (code, out, err) = login.finish().await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("logged in as {did}")), "{out}");
    assert_eq!(
        world.session_files(),
        ["clients.json".to_owned(), did_file(&did)]
    );
    let session: Value = serde_json::from_str(
        &std::fs::read_to_string(world.sessions().join(did_file(&did))).unwrap(),
    )
    .unwrap();
    assert_eq!(session["did"], did.as_str());
    assert_eq!(session["refresh_token"], "refresh");
    let clients: Value = serde_json::from_str(
        &std::fs::read_to_string(world.sessions().join("clients.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        clients[&did],
        json!({"redirect_uri": redirect, "scope": PUBLISH_SCOPE})
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(world.sessions())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    // Logout revokes the refresh token and deletes the session and its
    // client.
    let (code, out, err) = world.run(&["logout", HANDLE]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("revoked and deleted"), "{out}");
    assert_eq!(*world.server.revoked.lock().unwrap(), ["refresh"]);
    assert_eq!(world.session_files(), ["clients.json"]);
    let clients = std::fs::read_to_string(world.sessions().join("clients.json")).unwrap();
    assert!(!clients.contains(&did), "{clients}");

    // Nothing to log out, nothing to publish with.
    let (code, _, err) = world.run(&["logout", &did]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("log in with `atlex lex login {did}`")),
        "{err}"
    );
    let (code, _, err) = world
        .run(&[
            "publish",
            "com.example.note",
            "--identifier",
            &did,
            "--oauth",
        ])
        .await;
    assert_eq!(code, 1);
    assert!(err.contains("there is no OAuth session"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_does_not_complete_stores_nothing() {
    let world = World::start("nothing").await;
    let base = world.server.base.clone();

    // Nobody comes back: the wait ends.
    let login = world.login("1").await;
    let (code, out, err) = login.finish().await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("no authorization came back within 1 s"),
        "{err}"
    );
    assert!(err.contains("nothing was stored"), "{err}");
    assert!(!world.sessions().exists());

    // Ctrl-C while it waits.
    #[cfg(unix)]
    {
        let login = world.login("30").await;
        let pid = login.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success());
        let (code, _, err) = login.finish().await;
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("cancelled: nothing was stored"), "{err}");
        assert!(!world.sessions().exists());
    }

    // The callback names another issuer: refused.
    let login = world.login("30").await;
    let state = world.last_state();
    let (status, page) = login
        .callback(&format!(
            "code=c&state={state}&iss=https://evil.example.com"
        ))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("issuer"), "{page}");
    let (code, _, err) = login.finish().await;
    assert_eq!(code, 1);
    assert!(err.contains("the sign-in failed"), "{err}");
    assert!(!world.sessions().exists());

    // The user refused.
    let login = world.login("30").await;
    let state = world.last_state();
    let (status, _) = login
        .callback(&format!("error=access_denied&state={state}&iss={base}"))
        .await;
    assert_eq!(status, 400);
    let (code, _, err) = login.finish().await;
    assert_eq!(code, 1);
    assert!(err.contains("access_denied"), "{err}");
    assert!(!world.sessions().exists());

    // The server grants less than publishing needs: the tokens are
    // revoked, not stored.
    *world.server.grant.lock().unwrap() = "atproto".to_owned();
    let login = world.login("30").await;
    let state = world.last_state();
    let (status, _) = login
        .callback(&format!("code=c&state={state}&iss={base}"))
        .await;
    assert_eq!(status, 200);
    let (code, _, err) = login.finish().await;
    assert_eq!(code, 1);
    assert!(
        err.contains("without repo:com.atproto.lexicon.schema?action=create"),
        "{err}"
    );
    assert!(err.contains("nothing was stored"), "{err}");
    assert_eq!(*world.server.revoked.lock().unwrap(), ["refresh"]);
    assert!(!world.sessions().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_names_its_credentials() {
    let world = World::start("credentials").await;
    let (code, _, err) = world
        .run(&[
            "publish",
            "com.example.note",
            "--identifier",
            &world.server.did,
        ])
        .await;
    assert_eq!(code, 2);
    assert!(err.contains("ATLEX_PASSWORD"), "{err}");
    assert!(err.contains("--oauth"), "{err}");
}
