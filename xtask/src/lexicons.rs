//! `cargo xtask lexicons`: keeping the lexicons of `atlex-lexicons` evolving
//! compatibly.
//!
//! `--check` diffs `lexicons/` in the working tree against the same tree at
//! a base revision, with the engine of `atlex diff`, and fails on a breaking
//! (or unclassifiable) change unless `lexicon-changes.json` at the
//! repository root acknowledges it, naming the NSID and the change.
//!
//! It also fails when the changes need a release (semver major, minor or
//! patch, as `atlex diff` says) that the version of `atlex-lexicons` does
//! not make: its version at the base, bumped as the changes need, must be
//! at most the working tree's.
//!
//! The base is, in order: `--base REV`; the `ATLEX_LEXICONS_BASE`
//! environment variable; the merge base of HEAD and `origin/main`, when that
//! ref exists and HEAD has commits of its own (a branch); HEAD's parent (on
//! main itself, the last commit's change). With none of these (not a git
//! repository, a single-commit or shallow clone) there is nothing to compare,
//! and the check passes, saying so.
//!
//! `--history-tree DIR --at REV` writes `lexicons/` as it stood just before
//! upstream commit REV (a hash prefix) or date REV (`YYYY-MM-DD`): each of its
//! documents in the version the history file in `codegen/tests/fixtures/diff/`
//! had then (documents added later left out), in NSID layout. An older version
//! of the whole tree, to diff against. (The history does not record every
//! move of a file as a removal, so its full tree would keep stale documents;
//! taking only the NSIDs of `lexicons/` avoids them.)
//!
//! `--refresh --from SOURCE` takes `lexicons/` from a published source (see
//! `crate::refresh`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use atlex_codegen::diff::history::{read_history, tree_before};
use atlex_codegen::diff::{self, Acknowledgements, Bump, LexiconSet, ack, render};
use semver::Version;

/// The acknowledgement file, at the repository root.
pub(crate) const ACK_FILE: &str = "lexicon-changes.json";

/// The environment variable naming the base revision.
pub(crate) const BASE_ENV: &str = "ATLEX_LEXICONS_BASE";

/// The lexicon history, split in parts that stay small enough to check in.
const HISTORY_PARTS: &[&str] = &[
    "codegen/tests/fixtures/diff/lexicon-history.1.jsonl",
    "codegen/tests/fixtures/diff/lexicon-history.2.jsonl",
];

pub(crate) const USAGE: &str = "\
  lexicons --check [--base REV]
               diff lexicons/ against REV (default: $ATLEX_LEXICONS_BASE, else the merge
               base with origin/main, else HEAD's parent); fail on breaking changes not
               acknowledged in lexicon-changes.json
  lexicons --history-tree DIR --at COMMIT|DATE
               write lexicons/ as it stood before an upstream commit or date, from the
               lexicon history";

/// Runs `cargo xtask lexicons ARGS`.
pub(crate) fn run(root: &Path, args: &[&str]) -> ExitCode {
    match args {
        ["--check"] => check(root, None),
        ["--check", "--base", base] => check(root, Some(base)),
        ["--history-tree", dir, "--at", at] => history_tree(root, Path::new(dir), at),
        ["--refresh", rest @ ..] => crate::refresh::run(root, rest),
        _ => {
            eprintln!("usage: cargo xtask\n{USAGE}\n{}", crate::refresh::USAGE);
            ExitCode::from(2)
        }
    }
}

fn check(root: &Path, base_arg: Option<&str>) -> ExitCode {
    let ack_path = root.join(ACK_FILE);
    let acks = match std::fs::read_to_string(&ack_path) {
        Ok(text) => match Acknowledgements::parse(&text) {
            Ok(acks) => acks,
            Err(err) => {
                eprintln!("error: {ACK_FILE}: {err}");
                return ExitCode::FAILURE;
            }
        },
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Acknowledgements::default(),
        Err(err) => {
            eprintln!("error: reading {ACK_FILE}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let (base, why) = match choose_base(root, base_arg, &|line| eprintln!("{line}")) {
        Ok(Some(found)) => found,
        Ok(None) => return ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let short: String = base.chars().take(12).collect();
    let old = match lexicons_at(root, &base) {
        Ok(set) => set,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let new = match LexiconSet::from_path(&root.join("lexicons"), "lexicons/ (working tree)") {
        Ok(set) => set,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut report = diff::diff(&old, &new);
    let unused = acks.apply(&mut report);
    eprintln!(
        "lexicons: comparing lexicons/ at {short} ({why}) with the working tree: {} documents before, {} now",
        old.documents.len(),
        new.documents.len()
    );
    if report.changed_documents().next().is_some() || !report.warnings.is_empty() {
        print!("{}", render::text(&report));
    } else {
        eprintln!("{}", render::summary_line(&report));
    }
    if !unused.is_empty() {
        eprintln!(
            "note: {} entr{} of {ACK_FILE} cover{} no change against {short} (an entry can go once the base includes its change):",
            unused.len(),
            if unused.len() == 1 { "y" } else { "ies" },
            if unused.len() == 1 { "s" } else { "" }
        );
        for a in unused {
            eprintln!(
                "  {} {} {}",
                a.nsid,
                a.change,
                a.location.as_deref().unwrap_or("")
            );
        }
    }
    let versioned = check_version(root, &base, &short, &report);
    if !report.fails() {
        return versioned;
    }
    let failing: Vec<_> = report.changes().filter(|(_, c)| c.fails()).collect();
    eprintln!(
        "error: {} breaking or unclassified lexicon change{} since {short}, not acknowledged.",
        failing.len(),
        if failing.len() == 1 { "" } else { "s" }
    );
    eprintln!(
        "fix: keep the change compatible (new fields optional, no removals, renames or type \
         changes, constraints unchanged; a new NSID for anything else), or acknowledge each \
         change in {ACK_FILE}, in its \"acknowledged\" list:"
    );
    for (doc, change) in failing {
        eprintln!("  {},", ack::entry_for(&doc.nsid, change));
    }
    ExitCode::FAILURE
}

/// Whether the version of `atlex-lexicons` makes the release its lexicon
/// changes need (see [`Bump`]): the semver bump from the version at `base`
/// to the working tree's must be at least that.
/// `lexicons/` as it stood at revision `base` (empty when it was not
/// there: every lexicon is then new).
pub(crate) fn lexicons_at(root: &Path, base: &str) -> Result<LexiconSet, String> {
    let short: String = base.chars().take(12).collect();
    if git(root, &["cat-file", "-e", &format!("{base}:lexicons")]).is_ok() {
        LexiconSet::from_git(root, base, "lexicons", &format!("git:{short}:lexicons"))
            .map_err(|err| format!("error: reading lexicons/ at {short}: {err}"))
    } else {
        Ok(LexiconSet::new(format!(
            "git:{short}:lexicons (absent: every lexicon is new)"
        )))
    }
}

fn check_version(root: &Path, base: &str, short: &str, report: &diff::Report) -> ExitCode {
    let bump = Bump::of_report(report);
    eprintln!("lexicons: {}", render::semver_line(report));
    if bump == Bump::None {
        return ExitCode::SUCCESS;
    }
    let read_base = |path: &str| git(root, &["show", &format!("{base}:{path}")]);
    let read_now = |path: &str| {
        std::fs::read_to_string(root.join(path)).map_err(|e| format!("reading {path}: {e}"))
    };
    let old = match lexicons_version(&read_base) {
        Ok(Some(version)) => version,
        Ok(None) => {
            eprintln!(
                "lexicons: atlex-lexicons has no version at {short}; no release to compare with"
            );
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("error: the version of atlex-lexicons at {short}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let new = match lexicons_version(&read_now) {
        Ok(Some(version)) => version,
        Ok(None) => {
            eprintln!("error: lexicons/Cargo.toml has no version");
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("error: the version of atlex-lexicons: {err}");
            return ExitCode::FAILURE;
        }
    };
    if bump.made_by(&old, &new) {
        eprintln!("lexicons: atlex-lexicons {old} at {short} → {new} makes a {bump} release");
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "error: lexicons/ changed since {short} in a way that needs a {bump} release of \
         atlex-lexicons, and its version went from {old} to {new}.\n\
         fix: set the version of atlex-lexicons (`version` in lexicons/Cargo.toml and in \
         the workspace's dependency on it, or of [workspace.package] in Cargo.toml while \
         lexicons/Cargo.toml inherits it) to {} or later.",
        bump.next(&old)
    );
    ExitCode::FAILURE
}

/// The version of `atlex-lexicons`, its manifests read with `read` (by path
/// from the repository root): its own, or the workspace's when it inherits
/// it. `None` when the crate is not there.
pub(crate) fn lexicons_version(
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Option<Version>, String> {
    let Ok(manifest) = read("lexicons/Cargo.toml") else {
        return Ok(None);
    };
    let manifest: toml::Table = manifest
        .parse()
        .map_err(|e| format!("lexicons/Cargo.toml: {e}"))?;
    let version = manifest.get("package").and_then(|p| p.get("version"));
    let text = match version {
        Some(toml::Value::String(text)) => text.clone(),
        Some(toml::Value::Table(t)) if t.get("workspace") == Some(&toml::Value::Boolean(true)) => {
            let workspace: toml::Table = read("Cargo.toml")?
                .parse()
                .map_err(|e| format!("Cargo.toml: {e}"))?;
            match workspace
                .get("workspace")
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get("version"))
            {
                Some(toml::Value::String(text)) => text.clone(),
                _ => return Err("Cargo.toml has no [workspace.package] version".to_owned()),
            }
        }
        _ => return Ok(None),
    };
    Version::parse(&text)
        .map(Some)
        .map_err(|e| format!("version {text:?}: {e}"))
}

/// The base revision (a full hash) and why it was chosen; `None` (after
/// saying why with `say`) when there is none.
pub(crate) fn choose_base(
    root: &Path,
    arg: Option<&str>,
    say: &dyn Fn(&str),
) -> Result<Option<(String, String)>, String> {
    let given = match arg {
        Some(rev) => Some((rev.to_owned(), "--base".to_owned())),
        None => std::env::var(BASE_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|rev| (rev.trim().to_owned(), format!("${BASE_ENV}"))),
    };
    if let Some((rev, source)) = given {
        let commit = git(
            root,
            &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
        )
        .map_err(|e| format!("base revision `{rev}` (from {source}) not found: {e}"))?;
        return Ok(Some((commit, format!("{rev}, from {source}"))));
    }
    if git(root, &["rev-parse", "--is-inside-work-tree"]).is_err() {
        say("lexicons: not a git repository; no base revision to compare with, nothing to check");
        return Ok(None);
    }
    let head = git(root, &["rev-parse", "--verify", "HEAD"])
        .map_err(|e| format!("no HEAD commit: {e}"))?;
    if git(root, &["rev-parse", "--verify", "-q", "origin/main"]).is_ok()
        && let Ok(merge_base) = git(root, &["merge-base", "HEAD", "origin/main"])
        && merge_base != head
    {
        return Ok(Some((
            merge_base,
            "merge base of HEAD and origin/main".to_owned(),
        )));
    }
    match git(root, &["rev-parse", "--verify", "-q", "HEAD^"]) {
        Ok(parent) => Ok(Some((
            parent,
            "HEAD's parent: HEAD has no commits beyond origin/main, or there is no origin/main"
                .to_owned(),
        ))),
        Err(_) => {
            say(&format!(
                "lexicons: HEAD adds no commits to origin/main (or there is none), and HEAD's \
                 parent is not here (a single-commit or shallow clone): no base revision to \
                 compare with, nothing to check (set {BASE_ENV} or pass --base to choose one)"
            ));
            Ok(None)
        }
    }
}

/// Runs git in `root`; its trimmed output, or its error output.
pub(crate) fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

fn history_tree(root: &Path, out: &Path, at: &str) -> ExitCode {
    let mut text = String::new();
    for part in HISTORY_PARTS {
        match std::fs::read_to_string(root.join(part)) {
            Ok(part) => text.push_str(&part),
            Err(err) => {
                eprintln!("error: reading {part}: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    let entries = match read_history(&text) {
        Ok(entries) => entries,
        Err(err) => {
            eprintln!("error: the lexicon history: {err}");
            return ExitCode::FAILURE;
        }
    };
    let is_date = at.len() == 10 && at.as_bytes().get(4) == Some(&b'-');
    let tree = if is_date {
        tree_before(&entries, |e| e.date.as_str() >= at)
    } else {
        if !entries.iter().any(|e| e.is_commit(at)) {
            eprintln!("error: no commit {at} in the lexicon history");
            return ExitCode::FAILURE;
        }
        tree_before(&entries, |e| e.is_commit(at))
    };
    let current = match LexiconSet::from_path(&root.join("lexicons"), "lexicons") {
        Ok(set) => set,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut written = 0;
    for (nsid, doc) in tree.values() {
        if !current.documents.contains_key(nsid) {
            continue;
        }
        let path: PathBuf = out.join(format!("{}.json", nsid.replace('.', "/")));
        if let Some(dir) = path.parent()
            && let Err(err) = std::fs::create_dir_all(dir)
        {
            eprintln!("error: creating {}: {err}", dir.display());
            return ExitCode::FAILURE;
        }
        if let Err(err) = std::fs::write(&path, format!("{doc:#}\n")) {
            eprintln!("error: writing {}: {err}", path.display());
            return ExitCode::FAILURE;
        }
        written += 1;
    }
    eprintln!(
        "wrote {written} of the {} lexicons of lexicons/ into {}, as they stood before {at} \
         (the others came later)",
        current.documents.len(),
        out.display()
    );
    ExitCode::SUCCESS
}
