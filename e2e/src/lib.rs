//! The official PDS (`@atproto/pds`) and an in-memory PLC directory
//! (`@did-plc/server`), started on 127.0.0.1 for atlex's end-to-end tests.
//!
//! [`Pds::start`] installs what the servers need on first use
//! (`pds/install.sh`: Node.js 22 and the packages of `pds/package-lock.json`,
//! from the npm registry), starts `pds/start.mjs` with a fresh data directory
//! and free ports, and waits until both servers answer. Dropping the [`Pds`]
//! stops them, also when a test panics; if the test process dies without
//! unwinding, the servers stop by themselves when their standard input
//! closes.
//!
//! ```no_run
//! let pds = atlex_e2e::Pds::start()?;
//! println!("PDS at {}, PLC directory at {}", pds.url(), pds.plc_url());
//! # Ok::<(), atlex_e2e::Error>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the servers may take to answer once started (they take 4–10 s
/// on two cores).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a `Pds` dropped waits for the servers to stop before it kills
/// them.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the servers could not be installed or started.
#[derive(Clone, Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The folder of `install.sh`, `start.mjs` and the installed packages.
pub fn pds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pds")
}

/// Writes `atlex-e2e: <line>` to the test process's standard error, which
/// the test harness does not capture (unlike `eprintln!`): the install's
/// steps, the timings and the tests' counts show in every run.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "atlex-e2e: {line}");
}

/// Runs `install.sh` once per process and returns the Node.js binary it
/// installed. Later calls return the first call's result.
pub fn install() -> Result<PathBuf, Error> {
    static INSTALLED: OnceLock<Result<PathBuf, Error>> = OnceLock::new();
    INSTALLED.get_or_init(run_install).clone()
}

fn run_install() -> Result<PathBuf, Error> {
    let script = pds_dir().join("install.sh");
    let started = Instant::now();
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| Error(format!("running {}: {err}", script.display())))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    for line in text.lines().filter(|line| line.starts_with("install.sh:")) {
        note(line);
    }
    if !output.status.success() {
        return Err(Error(format!(
            "{} failed ({}):\n{text}\n{errors}",
            script.display(),
            output.status
        )));
    }
    note(&format!(
        "install.sh took {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let node = text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("install.sh: node is "))
        .ok_or_else(|| Error(format!("install.sh did not say where node is:\n{text}")))?;
    Ok(PathBuf::from(node))
}

/// A running PDS and PLC directory, listening on 127.0.0.1. Stopped when
/// dropped.
pub struct Pds {
    child: Child,
    /// Held open: `start.mjs` stops when it closes.
    stdin: Option<ChildStdin>,
    url: String,
    plc_url: String,
    admin_password: String,
    data: tempfile::TempDir,
}

impl Pds {
    /// Installs what is missing, then starts a PDS and a PLC directory with
    /// a new data directory and free ports, and waits until they answer.
    pub fn start() -> Result<Self, Error> {
        Self::start_with_env(&[])
    }

    /// [`start`](Self::start), with these environment variables set for the
    /// servers' process (such as `NODE_EXTRA_CA_CERTS`, for a test server
    /// with its own certificate that the PDS fetches from).
    pub fn start_with_env(vars: &[(&str, &str)]) -> Result<Self, Error> {
        let node = install()?;
        let data = tempfile::Builder::new()
            .prefix("atlex-e2e-pds-")
            .tempdir()
            .map_err(|err| Error(format!("a data directory: {err}")))?;
        let log_path = data.path().join("start.log");
        let log = File::create(&log_path)
            .map_err(|err| Error(format!("{}: {err}", log_path.display())))?;
        let started = Instant::now();
        let mut child = Command::new(&node)
            .current_dir(pds_dir())
            .arg("start.mjs")
            .arg("--data-dir")
            .arg(data.path())
            .args(["--plc-port", "0", "--pds-port", "0"])
            // A `Pds` that is never dropped (one kept in a static) leaves
            // no data behind either: start.mjs removes it when it stops.
            .arg("--remove-data-dir")
            .env("LOG_ENABLED", "false")
            .envs(vars.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|err| Error(format!("starting {} start.mjs: {err}", node.display())))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        // From here on, dropping `pds` stops the servers.
        let mut pds = Self {
            child,
            stdin,
            url: String::new(),
            plc_url: String::new(),
            admin_password: String::new(),
            data,
        };
        let ready = stdout
            .ok_or_else(|| Error("start.mjs has no standard output".into()))
            .and_then(|stdout| wait_ready(stdout, &log_path));
        let ready = ready.map_err(|Error(err)| {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            Error(format!("{err}\nstart.mjs wrote:\n{log}"))
        })?;
        pds.url = ready.pds;
        pds.plc_url = ready.plc;
        pds.admin_password = ready.admin_password;
        note(&format!(
            "PDS at {} and PLC at {} answered {:.1} s after start",
            pds.url,
            pds.plc_url,
            started.elapsed().as_secs_f64()
        ));
        Ok(pds)
    }

    /// The PDS's base URL, `http://localhost:<port>`: its service DID is
    /// `did:web:localhost` and its handles end in `.test`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PLC directory's base URL, `http://localhost:<port>`.
    pub fn plc_url(&self) -> &str {
        &self.plc_url
    }

    /// The PDS's admin password (basic auth as `admin`).
    pub fn admin_password(&self) -> &str {
        &self.admin_password
    }

    /// The PDS's data directory (removed when the `Pds` is dropped).
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }
}

impl Drop for Pds {
    fn drop(&mut self) {
        // Closing stdin asks start.mjs to stop (it closes the databases);
        // the kill makes sure of it.
        drop(self.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What start.mjs prints once both servers answer.
struct Ready {
    pds: String,
    plc: String,
    admin_password: String,
}

fn wait_ready(stdout: std::process::ChildStdout, log: &Path) -> Result<Ready, Error> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = send.send(read);
    });
    let line = match receive.recv_timeout(START_TIMEOUT) {
        Ok(Ok(line)) if line.is_empty() => {
            return Err(Error("start.mjs exited before the servers answered".into()));
        }
        Ok(Ok(line)) => line,
        Ok(Err(err)) => return Err(Error(format!("reading start.mjs's output: {err}"))),
        Err(_) => {
            return Err(Error(format!(
                "the servers did not answer within {} s (log: {})",
                START_TIMEOUT.as_secs(),
                log.display()
            )));
        }
    };
    let value: serde_json::Value = serde_json::from_str(&line)
        .map_err(|err| Error(format!("start.mjs printed {line:?}: {err}")))?;
    let field = |name: &str| {
        value[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error(format!("start.mjs printed no `{name}`: {line}")))
    };
    Ok(Ready {
        pds: field("pds")?,
        plc: field("plc")?,
        admin_password: field("adminPassword")?,
    })
}
