//! `atlex lex login`, `publish --oauth` and `logout`: the `atlex` binary
//! against the official PDS's authorization server. The test reads the
//! address `login` prints, signs in and consents as the authorization page
//! does, and sends the browser's redirect to the command's loopback
//! server; then publishes a schema through the stored session (again after
//! its access token expired), and signs out. The `_lexicon` TXT record
//! that `publish` checks is answered by the test identity network's DNS
//! server; DIDs resolve through the PDS's PLC directory.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use atlex::client::Client;
use atlex::identity::testkit::TestNetwork;
use atlex::types::{AtIdentifier, Nsid, RecordKey};
use atlex_e2e::Pds;
use atlex_lexicons::com::atproto::repo::get_record::{self, GetRecord};
use common::{BoxError, account, approve, follow_redirect};
use serde_json::{Value, json};

const COLLECTION: &str = "com.atproto.lexicon.schema";
const NSID: &str = "com.example.note";

/// Builds the `atlex` binary with its network commands (feature
/// `resolve`) and returns its path. The workspace's own build of the
/// binary leaves that feature out.
fn atlex_binary() -> Result<PathBuf, BoxError> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(env!("CARGO"))
        .current_dir(&workspace)
        .args([
            "build",
            "-p",
            "atlex-cli",
            "--features",
            "resolve",
            "--bin",
            "atlex",
            "--message-format",
            "json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("cargo build of atlex: {}", output.status).into());
    }
    String::from_utf8(output.stdout)?
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["target"]["name"] == "atlex")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo build named no atlex executable".into())
}

/// The binary, the PDS, the DNS server, and the flags that point the
/// commands at them.
struct World {
    atlex: PathBuf,
    pds: Pds,
    network: TestNetwork,
    sessions: tempfile::TempDir,
}

impl World {
    /// `atlex lex <args>` with the network and session flags.
    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(&self.atlex);
        command
            .current_dir(dir)
            .arg("lex")
            .args(args)
            .args(["--plc", self.pds.plc_url(), "--plain-http", "--dns"])
            .arg(self.network.dns_address().to_string())
            .arg("--session-dir")
            .arg(self.sessions.path())
            .env_remove("ATLEX_PASSWORD")
            .env_remove("ATLEX_SESSION_DIR");
        command
    }

    /// Runs `atlex lex <args>` to its end, off the runtime's threads.
    async fn run(&self, dir: &Path, args: &[&str]) -> Result<Output, BoxError> {
        let mut command = self.command(dir, args);
        Ok(tokio::task::spawn_blocking(move || command.output()).await??)
    }

    /// `atlex lex login`, driven through consent as `name`.
    async fn login(&self, did: &str, name: &str) -> Result<Output, BoxError> {
        let mut child = self
            .command(Path::new("."), &["login", did, "--wait", "120"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        // The address to open: the indented line of what login prints.
        let (authorize, rest) = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let mut seen = String::new();
            for line in lines.by_ref() {
                let line = line?;
                if let Some(url) = line.trim_start().strip_prefix("http") {
                    return Ok::<_, std::io::Error>((Some(format!("http{url}")), lines));
                }
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(std::io::Error::other(format!(
                "login printed no address:\n{seen}"
            )))
        })
        .await??;
        let authorize = reqwest::Url::parse(&authorize.ok_or("no address")?)?;
        let redirect = approve(
            &authorize,
            &format!("{name}.test"),
            &format!("{name}-password"),
        )
        .await?;
        // The browser goes through the provider's redirect endpoint to the
        // command's loopback server.
        let callback = follow_redirect(&authorize, &redirect).await?;
        assert_eq!(callback.host_str(), Some("127.0.0.1"), "{callback}");
        let page = reqwest::get(callback.clone()).await?;
        let status = page.status();
        let text = page.text().await?;
        assert_eq!(status, 200, "{callback}: {text}");
        assert!(text.contains("signed in"), "{text}");
        let mut output = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
        let rest: Vec<String> = rest.map_while(Result::ok).collect();
        output.stderr = rest.join("\n").into_bytes();
        Ok(output)
    }

    /// The stored session file of `did` (FileSessionStore's, with the
    /// DID's `:` written `_3a`).
    fn session_file(&self, did: &str) -> PathBuf {
        self.sessions
            .path()
            .join(format!("{}.json", did.replace(':', "_3a")))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Checks that a command exited 0, showing what it printed when not.
fn succeeded(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn write_doc(project: &Path, document: &Value) -> Result<(), BoxError> {
    let path = project.join("lexicons/com/example/note.json");
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
    std::fs::write(path, serde_json::to_string_pretty(document)?)?;
    Ok(())
}

fn note(properties: Value) -> Value {
    json!({
        "lexicon": 1,
        "id": NSID,
        "defs": {"main": {"type": "record", "key": "tid", "record": {
            "type": "object", "required": ["text"], "properties": properties
        }}}
    })
}

/// The CID `publish` printed for the schema: `…: published <cid>`.
fn published_cid(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        line.split_once(": published ")
            .map(|(_, cid)| cid.trim().to_owned())
    })
}

/// The schema record of `did` as the PDS serves it: its CID and value.
async fn record_on_pds(pds: &Pds, did: &atlex::types::Did) -> Result<(String, Value), BoxError> {
    let params = get_record::Params::builder()
        .repo(AtIdentifier::from(did.clone()))
        .collection(Nsid::new(COLLECTION)?)
        .rkey(RecordKey::new(NSID)?)
        .build();
    let record = Client::new(pds.url())?.query(GetRecord, &params).await?;
    let cid = record.cid.ok_or("getRecord gave no CID")?.to_string();
    Ok((cid, serde_json::to_value(&record.value)?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_publish_refresh_and_logout() -> Result<(), BoxError> {
    let atlex = tokio::task::spawn_blocking(atlex_binary).await??;
    let pds = tokio::task::spawn_blocking(Pds::start).await??;
    let did = account(&pds, "lexpub").await?;
    let network = TestNetwork::start().await?;
    network.set_txt("_lexicon.example.com", &[&format!("did={did}")]);
    let world = World {
        atlex,
        pds,
        network,
        sessions: tempfile::tempdir()?,
    };
    let project = tempfile::tempdir()?;
    let publish = ["publish", NSID, "--identifier", did.as_str(), "--oauth"];

    // No session yet: publish says to log in.
    let out = world.run(project.path(), &publish).await?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("atlex lex login"),
        "{}",
        text(&out.stderr)
    );

    // Sign in through the PDS's authorization server.
    let out = world.login(did.as_str(), "lexpub").await?;
    succeeded(&out);
    assert!(
        text(&out.stdout).contains(&format!("logged in as {did}")),
        "{}",
        text(&out.stdout)
    );
    let session: Value = serde_json::from_slice(&std::fs::read(world.session_file(did.as_str()))?)?;
    assert_eq!(
        session["scope"].as_str().map(|scope| {
            let mut scopes: Vec<&str> = scope.split(' ').collect();
            scopes.sort_unstable();
            scopes.join(" ")
        }),
        Some("atproto repo:com.atproto.lexicon.schema?action=create&action=update".to_owned())
    );

    // Publish through the session: the PDS holds the record with the CID
    // atlex printed.
    write_doc(project.path(), &note(json!({"text": {"type": "string"}})))?;
    let out = world.run(project.path(), &publish).await?;
    succeeded(&out);
    let first = published_cid(&text(&out.stdout)).ok_or_else(|| text(&out.stdout))?;
    let (cid, value) = record_on_pds(&world.pds, &did).await?;
    assert_eq!(cid, first);
    assert_eq!(value["$type"], COLLECTION);
    assert_eq!(value["id"], NSID);

    // The access token has expired (as the stored session says): publish
    // refreshes it, stores the rotated tokens, and writes.
    let mut session: Value =
        serde_json::from_slice(&std::fs::read(world.session_file(did.as_str()))?)?;
    let old_refresh = session["refresh_token"].clone();
    session["expires_at"] = json!(1);
    std::fs::write(
        world.session_file(did.as_str()),
        serde_json::to_vec(&session)?,
    )?;
    write_doc(
        project.path(),
        &note(
            json!({"text": {"type": "string"}, "lang": {"type": "string", "format": "language"}}),
        ),
    )?;
    let out = world.run(project.path(), &publish).await?;
    succeeded(&out);
    let second = published_cid(&text(&out.stdout)).ok_or_else(|| text(&out.stdout))?;
    assert_ne!(second, first);
    assert_eq!(record_on_pds(&world.pds, &did).await?.0, second);
    let refreshed: Value =
        serde_json::from_slice(&std::fs::read(world.session_file(did.as_str()))?)?;
    assert_ne!(refreshed["refresh_token"], old_refresh);
    assert!(refreshed["expires_at"].as_u64() > Some(1));

    // Sign out: revoked and deleted.
    let clients = world.sessions.path().join("clients.json");
    let kept_clients = std::fs::read(&clients)?;
    let out = world.run(project.path(), &["logout", did.as_str()]).await?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("revoked and deleted"),
        "{}",
        text(&out.stdout)
    );
    assert!(!world.session_file(did.as_str()).exists());
    let left: Value = serde_json::from_slice(&std::fs::read(&clients)?)?;
    assert!(left.get(did.as_str()).is_none(), "{left}");
    let out = world.run(project.path(), &publish).await?;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("log in with `atlex lex login"),
        "{}",
        text(&out.stderr)
    );

    // A copy of the revoked session, put back and expired, cannot be
    // refreshed: publish says to log in again.
    let mut revoked = refreshed.clone();
    revoked["expires_at"] = json!(1);
    std::fs::write(
        world.session_file(did.as_str()),
        serde_json::to_vec(&revoked)?,
    )?;
    std::fs::write(&clients, kept_clients)?;
    let out = world.run(project.path(), &publish).await?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("could not be refreshed") && err.contains("log in again"),
        "{err}"
    );

    // Put back as if fresh: the PDS refuses its access token at the write,
    // the refresh that follows is refused too, and nothing is written.
    revoked["expires_at"] = refreshed["expires_at"].clone();
    std::fs::write(
        world.session_file(did.as_str()),
        serde_json::to_vec(&revoked)?,
    )?;
    write_doc(
        project.path(),
        &note(json!({
            "text": {"type": "string"},
            "lang": {"type": "string", "format": "language"},
            "tags": {"type": "array", "items": {"type": "string"}}
        })),
    )?;
    let out = world.run(project.path(), &publish).await?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("authentication failed") && err.contains("log in again"),
        "{err}"
    );
    assert_eq!(record_on_pds(&world.pds, &did).await?.0, second);
    Ok(())
}
