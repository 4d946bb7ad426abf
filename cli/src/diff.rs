//! `atlex diff`: what changed between two versions of lexicons, and whether
//! it breaks anyone.

use std::path::PathBuf;
use std::process::ExitCode;

use atlex_codegen::diff::{self, Acknowledgements, LexiconSet, render};
use clap::{Args, ValueEnum};

use crate::stdout::Stdout;

/// Compare two versions of lexicons and classify every change.
///
/// OLD and NEW are each a lexicon file, a directory of lexicons in NSID
/// layout (top-level src/, tests/, benches/, examples/ and target/ are
/// skipped), or a git revision of either: git:REV:PATH, with PATH relative to
/// the repository root (git:HEAD~1:lexicons, git:main:lexicons/app/bsky/feed/post.json).
///
/// Every change is listed per NSID with its compatibility class from the
/// Lexicon spec's evolution rules, judged from both sides: existing readers
/// of the data (clients of an output, servers of an input, consumers of
/// records) and existing writers. Documents the model cannot read (pre-v1
/// formats, broken JSON) are reported as unclassified with a structural
/// summary. The last line says what release a crate of bindings generated
/// from the lexicons needs (semver major, minor or patch; `"semver"` in JSON).
///
/// Exit status: 0 when nothing is breaking or unclassified (or all such
/// changes are acknowledged), 1 when something is, 2 when an input cannot be
/// read; the same when stdout closes before the report is printed whole
/// (`| head`).
#[derive(Args)]
pub(crate) struct DiffArgs {
    /// The old version: FILE, DIR or git:REV:PATH.
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new version: FILE, DIR or git:REV:PATH.
    #[arg(value_name = "NEW")]
    pub new: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// A JSON file of acknowledged breaking changes
    /// ({"acknowledged": [{"nsid", "change", "location"?, "reason"}]}); the
    /// changes it covers do not fail the exit status.
    #[arg(long, value_name = "FILE")]
    pub acknowledged: Option<PathBuf>,
    /// The git repository that git:REV:PATH sides are read from.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Lexicons the compared ones refer to (the rest of the project),
    /// read into both sides where a side has no document of that NSID: a
    /// ref retargeted into them is then classified, not left unclassified
    /// for want of its target (repeatable).
    #[arg(long = "lexicons", value_name = "DIR")]
    pub lexicons: Vec<PathBuf>,
    /// Lexicons of another set (as `atlex generate` takes it; the Rust path
    /// after `=` is ignored here), read as --lexicons are (repeatable).
    #[arg(long = "extern-lexicons", value_name = "DIR[=RUSTPATH]")]
    pub extern_lexicons: Vec<String>,
}

/// How the report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people: each changed document, its changes and why.
    Text,
    /// For machines: one JSON object (see `atlex_codegen::diff::render::json`).
    Json,
}

/// Runs `atlex diff`.
pub(crate) fn run(args: DiffArgs) -> ExitCode {
    let load = |spec: &str| {
        LexiconSet::load(spec, &args.repo).map_err(|err| {
            eprintln!("error: reading {spec}: {err}");
            ExitCode::from(2)
        })
    };
    let old = match load(&args.old) {
        Ok(set) => set,
        Err(code) => return code,
    };
    let new = match load(&args.new) {
        Ok(set) => set,
        Err(code) => return code,
    };
    let (mut old, mut new) = (old, new);
    let context = args.lexicons.iter().cloned().chain(
        args.extern_lexicons
            .iter()
            .map(|spec| PathBuf::from(spec.split_once('=').map_or(spec.as_str(), |(dir, _)| dir))),
    );
    for dir in context {
        let set = match LexiconSet::from_path(&dir, &dir.display().to_string()) {
            Ok(set) => set,
            Err(err) => {
                eprintln!("error: reading {}: {err}", dir.display());
                return ExitCode::from(2);
            }
        };
        add_context(&mut old, &set);
        add_context(&mut new, &set);
    }
    let mut report = diff::diff(&old, &new);
    if let Some(path) = &args.acknowledged {
        let acks = match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| Acknowledgements::parse(&text))
        {
            Ok(acks) => acks,
            Err(err) => {
                eprintln!("error: {}: {err}", path.display());
                return ExitCode::from(2);
            }
        };
        for unused in acks.apply(&mut report) {
            report.warnings.push(format!(
                "{}: the acknowledgement of `{}` in {} covers no breaking change",
                path.display(),
                unused.change,
                unused.nsid
            ));
        }
    }
    let mut out = Stdout::lock();
    match args.format {
        Format::Text => out.write_all(render::text(&report).as_bytes()),
        Format::Json => match serde_json::to_string_pretty(&render::json(&report)) {
            Ok(text) => writeln!(out, "{text}"),
            Err(err) => {
                eprintln!("error: writing JSON: {err}");
                return ExitCode::from(2);
            }
        },
    }
    out.finish(if report.fails() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Adds to `side` the documents of `context` it has none of: what its refs
/// point at, so that a ref retargeted into them can be classified.
pub(crate) fn add_context(side: &mut LexiconSet, context: &LexiconSet) {
    for (nsid, doc) in &context.documents {
        side.documents
            .entry(nsid.clone())
            .or_insert_with(|| doc.clone());
    }
}
