//! `atlex lex`: lexicons from the network. `install` resolves NSIDs to the
//! schema records their authorities publish and pins each by CID in
//! `lexicons.json`; `publish` writes the project's own schemas to its
//! repository (with a password, or the OAuth session `login` stores);
//! `status` says what changed locally and upstream since the pins.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::resolve::NetworkArgs;

mod local;
#[cfg(feature = "resolve")]
mod login;
#[cfg(feature = "resolve")]
mod net;

/// Lint lexicons; install, publish and check those published on the network;
/// sign in to publish over OAuth.
///
/// An NSID's schema is published as a `com.atproto.lexicon.schema` record
/// (record key: the NSID) in the repository of the DID named by the DNS TXT
/// record `_lexicon.<authority>` (`did=<did>`), the authority's labels in
/// DNS order: `_lexicon.feed.example.com` for `com.example.feed.post`.
#[derive(Args)]
pub(crate) struct LexArgs {
    #[command(subcommand)]
    command: LexCommand,
}

#[derive(Subcommand)]
enum LexCommand {
    Lint(crate::lint::LintArgs),
    Install(InstallArgs),
    Publish(PublishArgs),
    Status(StatusArgs),
    Login(LoginArgs),
    Logout(LogoutArgs),
}

/// Where the project's lexicons and manifest are.
#[derive(Args)]
pub(crate) struct ProjectArgs {
    /// The manifest of installed lexicons.
    #[arg(long, value_name = "FILE", default_value = "lexicons.json")]
    pub manifest: PathBuf,
    /// The project's lexicons, in NSID layout: those installed and its own.
    #[arg(long, value_name = "DIR", default_value = "lexicons")]
    pub lexicons: PathBuf,
    /// Lexicons provided by another set (as `atlex generate` takes it, the
    /// Rust path after `=` is ignored here): what they hold is never
    /// installed (repeatable).
    #[arg(long = "extern-lexicons", value_name = "DIR[=RUSTPATH]")]
    pub extern_lexicons: Vec<String>,
}

impl ProjectArgs {
    fn dirs(&self) -> local::Dirs {
        local::Dirs {
            lexicons: self.lexicons.clone(),
            externs: self
                .extern_lexicons
                .iter()
                .map(|spec| {
                    PathBuf::from(spec.split_once('=').map_or(spec.as_str(), |(dir, _)| dir))
                })
                .collect(),
        }
    }
}

/// Install lexicons by NSID and pin them in lexicons.json.
///
/// Each NSID (or `prefix.*`: the schemas the authority `prefix` publishes
/// directly under it, listed from its repository) is resolved on the network: the `_lexicon` TXT record of its
/// authority names a DID, whose PDS serves the schema record with its proof
/// (com.atproto.sync.getRecord): the repository's commit must be of that
/// DID and signed by the key of its DID document, and its tree must hold
/// the record's CID at the schema's path. Documents it refers to are
/// installed too (not those an extern set or the project itself provides). Documents are written in NSID
/// layout, with their record `$type`, and pinned by CID in the manifest, in
/// the format of `@atproto/lex`.
///
/// Without NSIDs, installs what the manifest lists. Pinned documents whose
/// file is there with its CID are not fetched again; a missing one is
/// fetched from where it was pinned and must still have its CID. --update
/// resolves every NSID again and takes what is published now.
///
/// --ci changes nothing and needs no network: it fails (exit 1, saying
/// what) when a pinned file is missing or differs from its CID, or the
/// manifest is out of date (an NSID asked for that it does not list, a
/// reference to a document that is not installed, a pin nothing needs).
///
/// Exit status: 0 on success, 1 when something could not be installed or
/// checked (nothing is written then), 2 for bad arguments.
#[derive(Args)]
pub(crate) struct InstallArgs {
    /// NSIDs (`com.example.feed.post`) or groups (`com.example.feed.*`).
    #[arg(value_name = "NSID")]
    pub nsids: Vec<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Resolve every NSID again and take what is published now.
    #[arg(long, conflicts_with = "ci")]
    pub update: bool,
    /// Check the installed lexicons against the manifest; change nothing.
    #[arg(long)]
    pub ci: bool,
    /// The most documents one install fetches: a bound on what a chain of
    /// references can make it fetch.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_documents: usize,
    /// The largest schema record accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_record_size: u64,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Publish the project's own lexicons to its repository.
///
/// Logs in with a password (the handle or DID of the account, the password
/// from the environment variable ATLEX_PASSWORD), or with --oauth uses the
/// OAuth session `atlex lex login` stored for the account (refreshed when
/// its access token has expired; when that fails, log in again). Then
/// checks that the
/// `_lexicon` TXT record of each NSID's authority names the account's DID
/// (and says which record to add when it does not), compares each document
/// with the version published, refuses a change `atlex diff` calls
/// breaking (or cannot classify) unless --force, and writes each schema
/// record (`com.atproto.repo.putRecord`, record key: the NSID).
///
/// Without NSIDs, publishes every document of the lexicons directory that
/// the manifest does not pin (the project's own).
///
/// Exit status: 0 when every schema is published (or already is), 1 when
/// one is refused or fails, 2 for bad arguments.
#[derive(Args)]
pub(crate) struct PublishArgs {
    /// The NSIDs to publish.
    #[arg(value_name = "NSID")]
    pub nsids: Vec<String>,
    /// The account: a handle or a DID.
    #[arg(long, value_name = "HANDLE|DID")]
    pub identifier: String,
    /// Write with the OAuth session `atlex lex login` stored for the
    /// account, not a password (ATLEX_PASSWORD is then not read).
    #[arg(long)]
    pub oauth: bool,
    #[command(flatten)]
    pub sessions: SessionDirArgs,
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Publish breaking changes too.
    #[arg(long)]
    pub force: bool,
    /// Check and compare only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Say what changed since the pins: locally, and upstream.
///
/// For each pinned document: whether its file is missing or differs from
/// the pin, and (unless --offline) whether the published version is still
/// the pinned one, with what `atlex diff` says of the difference.
///
/// Exit status: 0 when nothing changed, 1 when something did or could not
/// be checked, 2 for bad arguments.
#[derive(Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Compare with the pins only, without asking the network.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Where `atlex lex login` keeps OAuth sessions.
#[derive(Args)]
pub(crate) struct SessionDirArgs {
    /// The directory of stored OAuth sessions (default: `atlex/sessions` in
    /// the user's configuration directory, `$XDG_CONFIG_HOME` or `~/.config`
    /// on Linux). Its files hold tokens: it is made readable by its owner
    /// only.
    #[arg(long, value_name = "DIR", env = "ATLEX_SESSION_DIR")]
    pub session_dir: Option<PathBuf>,
}

/// Sign in with OAuth, for `atlex lex publish --oauth`.
///
/// Starts atproto OAuth's loopback client for the account (a handle or a
/// DID): it listens on 127.0.0.1 (--port, any free port by default), asks
/// the account's authorization server for the scopes publishing needs
/// (`atproto`, and creating and updating `com.atproto.lexicon.schema`
/// records), prints the address to open in a browser (on standard error)
/// and waits for the browser to come back to
/// `http://127.0.0.1:<port>/callback`. The code is exchanged (PKCE, DPoP)
/// and the session stored in the session directory only once the granted
/// scopes cover publishing. Nothing is stored when the wait ends (--wait),
/// on Ctrl-C, or when the authorization fails.
///
/// Exit status: 0 when the session is stored, 1 when the sign-in failed or
/// was cancelled, 2 for bad arguments.
#[derive(Args)]
pub(crate) struct LoginArgs {
    /// The account: a handle or a DID.
    #[arg(value_name = "HANDLE|DID")]
    pub identifier: String,
    /// The port to listen on for the authorization server's redirect (0:
    /// any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
    /// Seconds to wait for the authorization.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub wait: f64,
    #[command(flatten)]
    pub sessions: SessionDirArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Sign out: revoke the stored OAuth session of an account and delete it.
///
/// The session is deleted also when the authorization server cannot be
/// reached to revoke it (then the exit status is 1, saying so).
///
/// Exit status: 0 when the session is revoked and deleted, 1 when there is
/// none or it could not be revoked, 2 for bad arguments.
#[derive(Args)]
pub(crate) struct LogoutArgs {
    /// The account: a handle or a DID.
    #[arg(value_name = "HANDLE|DID")]
    pub identifier: String,
    #[command(flatten)]
    pub sessions: SessionDirArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Runs `atlex lex`.
pub(crate) fn run(args: LexArgs) -> ExitCode {
    match args.command {
        LexCommand::Lint(args) => crate::lint::run(args),
        LexCommand::Install(args) if args.ci => ci(&args),
        LexCommand::Status(args) if args.offline => status_offline(&args),
        #[cfg(feature = "resolve")]
        LexCommand::Install(args) => net::install(&args),
        #[cfg(feature = "resolve")]
        LexCommand::Publish(args) => net::publish(&args),
        #[cfg(feature = "resolve")]
        LexCommand::Status(args) => net::status(&args),
        #[cfg(feature = "resolve")]
        LexCommand::Login(args) => login::login(&args),
        #[cfg(feature = "resolve")]
        LexCommand::Logout(args) => login::logout(&args),
        #[cfg(not(feature = "resolve"))]
        LexCommand::Install(_)
        | LexCommand::Publish(_)
        | LexCommand::Status(_)
        | LexCommand::Login(_)
        | LexCommand::Logout(_) => {
            eprintln!(
                "error: this atlex was built without network access; install it with\n    cargo install atlex-cli --features resolve\n(`atlex lex install --ci` and `atlex lex status --offline` need none)"
            );
            ExitCode::from(2)
        }
    }
}

/// Checks NSIDs given on the command line; `prefix.*` groups are checked
/// as the prefix.
fn check_nsids(nsids: &[String]) -> Result<(), ExitCode> {
    for nsid in nsids {
        let text = nsid
            .strip_suffix(".*")
            .map_or(nsid.clone(), |prefix| format!("{prefix}.x"));
        if let Err(err) = atlex::types::Nsid::new(text.as_str()) {
            eprintln!("error: {nsid:?} is not an NSID or NSID group (prefix.*): {err}");
            return Err(ExitCode::from(2));
        }
    }
    Ok(())
}

/// `atlex lex install --ci`.
fn ci(args: &InstallArgs) -> ExitCode {
    if let Err(code) = check_nsids(&args.nsids) {
        return code;
    }
    if args.nsids.iter().any(|nsid| nsid.ends_with(".*")) {
        eprintln!("error: --ci checks NSIDs, not groups (prefix.*)");
        return ExitCode::from(2);
    }
    let path = &args.project.manifest;
    let manifest = match local::Manifest::read(path) {
        Ok(Some(manifest)) => manifest,
        Ok(None) => {
            eprintln!(
                "error: out of date: there is no manifest at {}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let problems = local::check(&manifest, &args.project.dirs(), &args.nsids);
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    if problems.is_empty() {
        eprintln!(
            "{} lexicons installed as {} pins",
            manifest.resolutions.len(),
            path.display()
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `atlex lex status --offline`.
fn status_offline(args: &StatusArgs) -> ExitCode {
    finish(local_status(&args.project).map(|(lines, changed)| (lines, !changed)))
}

/// Prints a command's lines and exits 0 when it says all is well, 1 when
/// not; prints its error and exits 1 when it failed.
fn finish(result: Result<(Vec<String>, bool), String>) -> ExitCode {
    match result {
        Ok((lines, ok)) => {
            let mut out = crate::stdout::Stdout::lock();
            for line in lines {
                writeln!(out, "{line}");
            }
            out.finish(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// One line per pinned document that changed locally, and whether any did.
fn local_status(project: &ProjectArgs) -> Result<(Vec<String>, bool), String> {
    let manifest = local::Manifest::read(&project.manifest)?
        .ok_or_else(|| format!("there is no manifest at {}", project.manifest.display()))?;
    let mut lines = Vec::new();
    let mut changed = false;
    for (nsid, pin) in &manifest.resolutions {
        let line = match local::read_local(&project.lexicons, nsid) {
            Ok(file) if file.cid.to_string() == pin.cid => format!("{nsid}: as pinned"),
            Ok(file) => {
                changed = true;
                format!(
                    "{nsid}: changed locally (CID {}, pinned {})",
                    file.cid, pin.cid
                )
            }
            Err(err) => {
                changed = true;
                format!(
                    "{nsid}: {err} ({})",
                    local::document_path(&project.lexicons, nsid).display()
                )
            }
        };
        lines.push(line);
    }
    Ok((lines, changed))
}
