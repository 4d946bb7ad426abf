//! `cargo xtask lexicons --refresh --from SOURCE`: takes the lexicons of
//! `atlex-lexicons` from a published source, then versions and regenerates
//! the crate so the tree is consistent in one step.
//!
//! SOURCE is a directory in NSID layout (an atproto checkout's `lexicons/`)
//! or an npm package, `npm:@atproto/api` or `npm:@atproto/api@VERSION`. The
//! package is fetched with `npm pack`; its lexicon JSON files are read when
//! it ships some, and otherwise the `schemaDict` object literal of its
//! JavaScript (how `@atproto/api` bundles them) is evaluated with `node`, in
//! a context of its own with nothing to call.
//!
//! Only the namespaces `lexicons/` already has are taken: a document of the
//! source whose JSON differs from the file's replaces it (a file equal as
//! JSON keeps its bytes), a new document of such a namespace is added, and a
//! document of a namespace the source has, which the source no longer has,
//! is reported, and removed only with `--remove-missing`. Every document
//! taken is checked first (JSON, a lexicon, its `id` matching its path, read
//! without error by the generator's reader); on any problem nothing is
//! written.
//!
//! The change is then diffed with the engine of `--check`. A breaking (or
//! unclassified) change not already acknowledged in `lexicon-changes.json`
//! stops the refresh unless `--acknowledge REASON` is given, which adds an
//! entry with that reason for each. The version of `atlex-lexicons` is raised
//! to the smallest that makes the release the changes need since the base
//! revision `--check` compares with, and the bindings are regenerated.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use atlex_codegen::Diagnostics;
use atlex_codegen::diff::{self, Acknowledgements, Bump, LexiconSet, render};
use atlex_codegen::files::nsid_from_relative_path;
use semver::Version;
use serde_json::Value;

use crate::lexicons::{ACK_FILE, choose_base, git, lexicons_at, lexicons_version};

pub(crate) mod format;
mod npm;
#[cfg(test)]
mod tests;

/// What to refresh from, and what the caller allows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    /// A directory in NSID layout, or `npm:PACKAGE[@VERSION]`.
    pub from: String,
    /// Acknowledge every breaking change with this reason.
    pub acknowledge: Option<String>,
    /// Remove documents the source no longer has.
    pub remove_missing: bool,
    /// Report only; write nothing.
    pub dry_run: bool,
}

/// The programs the refresh runs (tests point them elsewhere).
#[derive(Clone, Debug)]
pub(crate) struct Tools {
    pub npm: OsString,
    pub node: OsString,
    pub cargo: OsString,
}

impl Default for Tools {
    fn default() -> Self {
        Self {
            npm: "npm".into(),
            node: "node".into(),
            // The cargo running the task, when it is one.
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        }
    }
}

/// What a refresh did (or, with `dry_run`, would do).
#[derive(Debug)]
pub(crate) struct Outcome {
    /// What the source was (`npm:@atproto/api@0.21.0 …`, or the directory).
    pub source: String,
    /// Documents replaced, by NSID.
    pub changed: Vec<String>,
    /// Documents added.
    pub added: Vec<String>,
    /// Documents of the source equal to the files, which were left alone.
    pub unchanged: usize,
    /// Documents the source no longer has (of namespaces it has).
    pub missing: Vec<String>,
    /// Whether `missing` were removed.
    pub removed: bool,
    /// Namespaces of `lexicons/` the source has nothing of, with how many
    /// documents each: left as they are.
    pub other_namespaces: BTreeMap<String, usize>,
    /// The diff of `lexicons/` before and after.
    pub report: diff::Report,
    /// The release these changes need.
    pub bump: Bump,
    /// The version of `atlex-lexicons` before and after (equal when it
    /// already made the release).
    pub version: Option<(Version, Version)>,
    /// Entries added to `lexicon-changes.json`.
    pub acknowledged: usize,
    /// What regenerating said (`None` with `dry_run` or no change).
    pub generated: Option<String>,
}

pub(crate) const USAGE: &str = "\
  lexicons --refresh --from DIR|npm:PACKAGE[@VERSION] [--acknowledge REASON]
               [--remove-missing] [--dry-run]
               replace the documents of lexicons/ that differ from the source's, add the
               source's new documents of the namespaces lexicons/ has, report those it
               lacks (removed with --remove-missing); diff, bump the version of
               atlex-lexicons as the changes need, regenerate. Breaking changes stop it
               unless --acknowledge records them in lexicon-changes.json";

/// Runs `cargo xtask lexicons --refresh ARGS` (the arguments after
/// `--refresh`).
pub(crate) fn run(root: &Path, args: &[&str]) -> ExitCode {
    let options = match parse_args(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}\nusage: cargo xtask\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match refresh(root, &options, &Tools::default()) {
        Ok(outcome) => {
            print!("{}", describe(&outcome, &options));
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: &[&str]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut from = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--from" => from = Some(args.next().ok_or("--from needs a source")?.to_string()),
            "--acknowledge" => {
                let reason = args.next().ok_or("--acknowledge needs a reason")?;
                if reason.trim().is_empty() {
                    return Err("--acknowledge needs a reason that is not empty".to_owned());
                }
                options.acknowledge = Some(reason.to_string());
            }
            "--remove-missing" => options.remove_missing = true,
            "--dry-run" => options.dry_run = true,
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    options.from = from.ok_or("--from SOURCE is required")?;
    Ok(options)
}

/// Refreshes `root/lexicons` from `options.from`, as the module says. On an
/// error nothing has been written, except when regenerating fails after the
/// lexicons were written (the message says so).
pub(crate) fn refresh(root: &Path, options: &Options, tools: &Tools) -> Result<Outcome, String> {
    let lexicons_dir = root.join("lexicons");
    let current = LexiconSet::from_path(&lexicons_dir, "lexicons/ (before)")
        .map_err(|e| format!("error: {e}"))?;
    let namespaces: BTreeSet<String> = current.documents.keys().map(|n| namespace_of(n)).collect();

    let scratch = tempfile::tempdir().map_err(|e| format!("error: a temporary directory: {e}"))?;
    let Source {
        set: source,
        from_directory,
        bundled,
    } = read_source(&options.from, tools, scratch.path())?;

    // Check every document of the namespaces taken before anything is
    // written.
    let mut problems = Vec::new();
    let mut taken: BTreeMap<String, Value> = BTreeMap::new();
    for (nsid, doc) in &source.documents {
        if !namespaces.contains(&namespace_of(nsid)) {
            continue;
        }
        let mut value = match &doc.json {
            Ok(value) => value.clone(),
            Err(e) => {
                problems.push(format!("  {}: not JSON: {e}", doc.path));
                continue;
            }
        };
        if bundled {
            let old = current
                .documents
                .get(nsid)
                .and_then(|d| d.json.as_ref().ok());
            npm::restore_refs(&mut value, old);
        }
        match check_document(&value, &doc.path, from_directory) {
            Ok(()) => {
                taken.insert(nsid.clone(), value);
            }
            Err(problem) => problems.push(format!("  {}: {problem}", doc.path)),
        }
    }
    for warning in &source.warnings {
        problems.push(format!("  {warning}"));
    }
    if !problems.is_empty() {
        return Err(format!(
            "error: {} is not a usable lexicon source; nothing was written:\n{}",
            source.label,
            problems.join("\n")
        ));
    }

    // The plan: what changes, what is added, what the source lacks.
    let source_namespaces: BTreeSet<String> =
        source.documents.keys().map(|n| namespace_of(n)).collect();
    let mut new = current.clone();
    new.label = source.label.clone();
    let mut outcome = Outcome {
        source: source.label.clone(),
        changed: Vec::new(),
        added: Vec::new(),
        unchanged: 0,
        missing: Vec::new(),
        removed: options.remove_missing,
        other_namespaces: BTreeMap::new(),
        report: diff::Report::default(),
        bump: Bump::None,
        version: None,
        acknowledged: 0,
        generated: None,
    };
    // Files to write, by path relative to lexicons/: the new text.
    let mut writes: BTreeMap<String, String> = BTreeMap::new();
    for (nsid, value) in &taken {
        match current.documents.get(nsid) {
            Some(doc) if doc.json.as_ref().ok() == Some(value) => outcome.unchanged += 1,
            Some(doc) => {
                let old_text = std::fs::read_to_string(lexicons_dir.join(&doc.path))
                    .map_err(|e| format!("error: reading lexicons/{}: {e}", doc.path))?;
                let text = format::write(value, &format::Layout::of(&old_text));
                writes.insert(doc.path.clone(), text);
                outcome.changed.push(nsid.clone());
                replace(&mut new, nsid, &doc.path, value);
            }
            None => {
                let path = format!("{}.json", nsid.replace('.', "/"));
                writes.insert(
                    path.clone(),
                    format::write(value, &format::Layout::default()),
                );
                outcome.added.push(nsid.clone());
                replace(&mut new, nsid, &path, value);
            }
        }
    }
    let mut removals = Vec::new();
    for (nsid, doc) in &current.documents {
        let namespace = namespace_of(nsid);
        if !source_namespaces.contains(&namespace) {
            *outcome.other_namespaces.entry(namespace).or_default() += 1;
        } else if !taken.contains_key(nsid) {
            outcome.missing.push(nsid.clone());
            if options.remove_missing {
                new.documents.remove(nsid);
                removals.push(doc.path.clone());
            }
        }
    }

    // The diff, and what it needs.
    let mut report = diff::diff(&current, &new);
    let ack_path = root.join(ACK_FILE);
    let ack_text = match std::fs::read_to_string(&ack_path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(format!("error: reading {ACK_FILE}: {err}")),
    };
    let acks = match &ack_text {
        Some(text) => {
            Acknowledgements::parse(text).map_err(|e| format!("error: {ACK_FILE}: {e}"))?
        }
        None => Acknowledgements::default(),
    };
    acks.apply(&mut report);
    let mut new_acks = Vec::new();
    if report.fails() {
        let failing: Vec<_> = report.changes().filter(|(_, c)| c.fails()).collect();
        let Some(reason) = &options.acknowledge else {
            let mut message = render::text(&report);
            message.push_str(&format!(
                "error: {} breaking or unclassified change{} from {}; nothing was written.\n\
                 fix: look at each, then run again with `--acknowledge REASON` to record them \
                 in {ACK_FILE} with that reason:\n",
                failing.len(),
                if failing.len() == 1 { "" } else { "s" },
                source.label
            ));
            for (doc, change) in &failing {
                message.push_str(&format!(
                    "  {} {} at {}\n",
                    doc.nsid,
                    change.kind.name(),
                    change.location
                ));
            }
            return Err(message);
        };
        for (doc, change) in &failing {
            new_acks.push(serde_json::json!({
                "nsid": doc.nsid,
                "change": change.kind.name(),
                "location": change.location,
                "reason": reason,
            }));
        }
        let all = Acknowledgements::parse(&acknowledged_text(ack_text.as_deref(), &new_acks)?)
            .map_err(|e| format!("error: the new entries of {ACK_FILE}: {e}"))?;
        all.apply(&mut report);
    }
    outcome.acknowledged = new_acks.len();
    outcome.bump = Bump::of_report(&report);
    outcome.report = report;

    let version = needed_version(root, &new, outcome.bump)?;
    outcome.version = version.clone();
    if options.dry_run {
        return Ok(outcome);
    }

    // Write: lexicons, removals, acknowledgements, version; then bindings.
    for (path, text) in &writes {
        let file = lexicons_dir.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("error: creating {}: {e}", dir.display()))?;
        }
        std::fs::write(&file, text).map_err(|e| format!("error: writing lexicons/{path}: {e}"))?;
    }
    for path in &removals {
        std::fs::remove_file(lexicons_dir.join(path))
            .map_err(|e| format!("error: removing lexicons/{path}: {e}"))?;
    }
    if !new_acks.is_empty() {
        std::fs::write(
            &ack_path,
            acknowledged_text(ack_text.as_deref(), &new_acks)?,
        )
        .map_err(|e| format!("error: writing {ACK_FILE}: {e}"))?;
    }
    if let Some((old, new)) = &version
        && old != new
    {
        set_version(root, new)?;
        if root.join("Cargo.lock").is_file() {
            // Only the workspace's own packages: Cargo.lock takes the new
            // version, and no dependency moves.
            let args = ["update", "--workspace", "--offline"].map(std::ffi::OsStr::new);
            run_tool(
                &tools.cargo,
                &args,
                root,
                "updating Cargo.lock to the new version",
            )?;
        }
    }
    if writes.is_empty() && removals.is_empty() {
        return Ok(outcome);
    }
    match crate::regenerate(root, false) {
        Ok(crate::Regenerated::Written(summary)) => outcome.generated = Some(summary),
        Ok(crate::Regenerated::Checked(_)) => {}
        Err(message) => {
            return Err(format!(
                "{message}\nerror: the lexicons were written, but the bindings could not be \
                 regenerated (above); `git diff lexicons/` shows the change"
            ));
        }
    }
    Ok(outcome)
}

/// Puts `value` in `set` under `nsid`, read from `path`.
fn replace(set: &mut LexiconSet, nsid: &str, path: &str, value: &Value) {
    set.documents.remove(nsid);
    set.insert(nsid, path, Ok(value.clone()));
}

/// The namespace of an NSID, as the crate's features are cut: its first two
/// segments.
fn namespace_of(nsid: &str) -> String {
    nsid.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A source, read.
struct Source {
    /// Its documents.
    set: LexiconSet,
    /// Whether it is a directory, whose paths must spell the ids.
    from_directory: bool,
    /// Whether its references were made `lex:` URIs by `@atproto/lexicon`
    /// (schemas bundled in JavaScript).
    bundled: bool,
}

/// Reads the source named by `from`.
fn read_source(from: &str, tools: &Tools, scratch: &Path) -> Result<Source, String> {
    if let Some(spec) = from.strip_prefix("npm:") {
        let (set, bundled) = npm::read(spec, tools, scratch)?;
        return Ok(Source {
            set,
            from_directory: false,
            bundled,
        });
    }
    let dir = Path::new(from);
    if !dir.is_dir() {
        return Err(format!(
            "error: the source `{from}` is not a directory (a directory in NSID layout, or \
             npm:PACKAGE[@VERSION])"
        ));
    }
    let set = LexiconSet::from_path(dir, from).map_err(|e| format!("error: {e}"))?;
    if set.documents.is_empty() {
        return Err(format!("error: {from} holds no lexicon files (*.json)"));
    }
    Ok(Source {
        set,
        from_directory: true,
        bundled: false,
    })
}

/// Whether `value`, read from `path`, is a lexicon the generator reads
/// without an error, and (from a directory) its `id` is what its path
/// spells.
fn check_document(value: &Value, path: &str, from_directory: bool) -> Result<(), String> {
    let id = value.get("id").and_then(Value::as_str);
    let (Some(1), Some(id)) = (value.get("lexicon").and_then(Value::as_i64), id) else {
        return Err("not a lexicon document (it needs `\"lexicon\": 1` and an `id`)".to_owned());
    };
    if from_directory {
        let implied = nsid_from_relative_path(Path::new(path));
        if implied.as_deref() != Some(id) {
            return Err(format!(
                "its id `{id}` is not the NSID its path spells (`{}`)",
                implied.unwrap_or_default()
            ));
        }
    }
    let mut diagnostics = Diagnostics::new();
    let file: Option<std::sync::Arc<Path>> = Some(Path::new(path).into());
    let document = atlex_codegen::lexicon::read_document(value, file, &mut diagnostics);
    if document.is_none() || diagnostics.has_errors() {
        let errors: Vec<String> = diagnostics.errors().map(|d| d.to_string()).collect();
        return Err(format!(
            "not a valid lexicon:\n    {}",
            if errors.is_empty() {
                "the reader could not read it".to_owned()
            } else {
                errors.join("\n    ")
            }
        ));
    }
    Ok(())
}

/// `lexicon-changes.json` with `entries` appended to its `acknowledged`
/// list (a new file when there is none), written as the file is: 2-space
/// JSON and a final newline.
fn acknowledged_text(current: Option<&str>, entries: &[Value]) -> Result<String, String> {
    let mut file: Value = match current {
        Some(text) => {
            serde_json::from_str(text).map_err(|e| format!("error: {ACK_FILE}: not JSON: {e}"))?
        }
        None => serde_json::json!({ "acknowledged": [] }),
    };
    let Some(list) = file.get_mut("acknowledged").and_then(Value::as_array_mut) else {
        return Err(format!("error: {ACK_FILE} has no `acknowledged` array"));
    };
    list.extend(entries.iter().cloned());
    let mut text = serde_json::to_string_pretty(&file)
        .map_err(|e| format!("error: writing {ACK_FILE}: {e}"))?;
    text.push('\n');
    Ok(text)
}

/// The version of `atlex-lexicons` now, and the one it needs: the smallest
/// that makes the release the change needs since the base revision (the one
/// `--check` compares with), or, without a base, since the tree before the
/// refresh (`bump`). `None` when the crate has no version.
fn needed_version(
    root: &Path,
    new: &LexiconSet,
    bump: Bump,
) -> Result<Option<(Version, Version)>, String> {
    let read_now = |path: &str| {
        std::fs::read_to_string(root.join(path)).map_err(|e| format!("reading {path}: {e}"))
    };
    let Some(now) = lexicons_version(&read_now)
        .map_err(|e| format!("error: the version of atlex-lexicons: {e}"))?
    else {
        return Ok(None);
    };
    let mut needed = bump.next(&now);
    // Without a base (not a git repository, a single-commit clone), the
    // tree before the refresh and its version are the base.
    if let Some((base, _)) = choose_base(root, None, &|_| {}).map_err(|e| format!("error: {e}"))? {
        let read_base = |path: &str| git(root, &["show", &format!("{base}:{path}")]);
        let old = lexicons_at(root, &base)?;
        if let Ok(Some(base_version)) = lexicons_version(&read_base) {
            needed = Bump::of_report(&diff::diff(&old, new)).next(&base_version);
        }
    }
    Ok(Some((now.clone(), now.max(needed))))
}

/// Sets the version of `atlex-lexicons`: in `lexicons/Cargo.toml` (which then
/// no longer inherits the workspace's) and in the root manifest's
/// `[workspace.dependencies]` entry, when it names one.
fn set_version(root: &Path, version: &Version) -> Result<(), String> {
    let edit = |path: &str, change: &dyn Fn(&mut toml_edit::DocumentMut) -> bool| {
        let file = root.join(path);
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("error: reading {path}: {e}"))?;
        let mut doc: toml_edit::DocumentMut =
            text.parse().map_err(|e| format!("error: {path}: {e}"))?;
        if change(&mut doc) {
            std::fs::write(&file, doc.to_string())
                .map_err(|e| format!("error: writing {path}: {e}"))?;
        }
        Ok::<(), String>(())
    };
    let text = version.to_string();
    edit("lexicons/Cargo.toml", &|doc| {
        let Some(package) = doc.get_mut("package").and_then(|p| p.as_table_like_mut()) else {
            return false;
        };
        package.insert("version", toml_edit::value(text.as_str()));
        true
    })?;
    if root.join("Cargo.toml").is_file() {
        edit("Cargo.toml", &|doc| {
            let Some(dependency) = doc
                .get_mut("workspace")
                .and_then(|w| w.get_mut("dependencies"))
                .and_then(|d| d.get_mut("atlex-lexicons"))
                .and_then(|d| d.as_table_like_mut())
            else {
                return false;
            };
            if dependency.get("version").is_none() {
                return false;
            }
            dependency.insert("version", toml_edit::value(text.as_str()));
            true
        })?;
    }
    Ok(())
}

/// The outcome, for a person: what changed and what `atlex diff` said.
pub(crate) fn describe(outcome: &Outcome, options: &Options) -> String {
    let mut out = String::new();
    if outcome.report.changed_documents().next().is_some() {
        out.push_str(&render::text(&outcome.report));
    }
    let list = |nsids: &[String]| {
        if nsids.is_empty() {
            String::new()
        } else {
            format!(": {}", nsids.join(", "))
        }
    };
    out.push_str(&format!(
        "refresh from {}{}\n  {} changed{}\n  {} added{}\n  {} unchanged\n",
        outcome.source,
        if options.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        },
        outcome.changed.len(),
        list(&outcome.changed),
        outcome.added.len(),
        list(&outcome.added),
        outcome.unchanged,
    ));
    if !outcome.missing.is_empty() {
        out.push_str(&format!(
            "  {} not in the source{}{}\n",
            outcome.missing.len(),
            list(&outcome.missing),
            if outcome.removed {
                " (removed)"
            } else {
                " (kept; --remove-missing removes them)"
            }
        ));
    }
    for (namespace, count) in &outcome.other_namespaces {
        out.push_str(&format!(
            "  {namespace}: {count} document{} kept (the source has none of this namespace)\n",
            if *count == 1 { "" } else { "s" }
        ));
    }
    out.push_str(&format!("  {}\n", render::semver_line(&outcome.report)));
    if outcome.acknowledged > 0 {
        out.push_str(&format!(
            "  {} breaking change{} acknowledged in {ACK_FILE}\n",
            outcome.acknowledged,
            if outcome.acknowledged == 1 { "" } else { "s" }
        ));
    }
    match &outcome.version {
        Some((old, new)) if old != new => {
            out.push_str(&format!("  atlex-lexicons {old} → {new}\n"));
        }
        Some((old, _)) => out.push_str(&format!("  atlex-lexicons stays at {old}\n")),
        None => {}
    }
    if let Some(generated) = &outcome.generated {
        out.push_str(&format!("  {generated}\n"));
    }
    out
}

/// Runs `program` with `args` in `dir`; its standard output, or an error
/// naming the program (and saying it is missing when it is).
pub(crate) fn run_tool(
    program: &OsString,
    args: &[&std::ffi::OsStr],
    dir: &Path,
    what: &str,
) -> Result<Vec<u8>, String> {
    let name = PathBuf::from(program).display().to_string();
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("error: `{name}` is not installed or not on the PATH; {what} needs it")
            } else {
                format!("error: running `{name}` ({what}): {e}")
            }
        })?;
    if !output.status.success() {
        return Err(format!(
            "error: `{name}` failed ({what}), {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}
