//! `atlex generate`: lexicon JSON in, Rust modules out.

use std::path::PathBuf;
use std::process::ExitCode;

use atlex_codegen::{Builder, builder, sync};
use clap::Args;

/// Generate Rust bindings from directories of lexicon JSON files.
///
/// Lexicons are read recursively from each DIR in any layout: a document is
/// known by its `id` (chat/bsky/convo/leaveConvo.json, or actor/profile.json
/// holding sh.tangled.actor.profile); top-level src/, tests/, benches/,
/// examples/ and target/ directories are skipped, and *.binding.json files
/// are HTTP bindings. The output is a module tree, one file per lexicon plus
/// a mod.rs per namespace, to be mounted as any module: `mod lexicons;` for
/// --out src/lexicons, `#[path = "..."] mod lexicons;`, or copied into a
/// crate. Only files whose contents change are written.
///
/// Exit status: 0 when the bindings were generated (warnings included; with
/// --skip-invalid, also when documents were left out), 1 when lexicons have
/// errors or the output cannot be written (or, with --check, is out of
/// date), 2 on a bad argument.
#[derive(Args)]
pub(crate) struct GenerateArgs {
    /// Directory of lexicon JSON files (repeatable).
    #[arg(long = "lexicons", value_name = "DIR", required = true)]
    pub lexicons: Vec<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Rust path of the module the output is mounted at (crate::lexicons),
    /// to write paths between generated modules from there. By default they
    /// are relative (super::…) and hold wherever the output is mounted.
    #[arg(long, value_name = "PATH")]
    pub root: Option<String>,
    /// Rust path of the atlex runtime crate.
    #[arg(long, value_name = "PATH", default_value = "::atlex")]
    pub runtime: String,
    /// Write one file of inline modules with this name instead of a tree.
    #[arg(long, value_name = "FILE")]
    pub single_file: Option<String>,
    /// Name of the tree's root file.
    #[arg(long, value_name = "FILE", default_value = "mod.rs")]
    pub root_file: String,
    /// Lexicons of a crate that has bindings for them, at Rust path RUSTPATH
    /// (repeatable), e.g. "$LEXICON_DIR=::atlex_lexicons" with the
    /// directory of atlex-lexicons: read for references, never generated; a
    /// local copy of one of them is ignored with a warning saying how it
    /// differs.
    #[arg(long = "extern-lexicons", value_name = "DIR=RUSTPATH")]
    pub extern_lexicons: Vec<String>,
    /// Types under NSID PREFIX live at Rust PATH and are not emitted
    /// (repeatable), e.g. com.atproto=::atlex_lexicons::com::atproto; their
    /// lexicons must be among the --lexicons.
    #[arg(long = "extern", value_name = "PREFIX=PATH")]
    pub extern_paths: Vec<String>,
    /// Leave out the files whose path relative to their --lexicons directory
    /// matches GLOB (repeatable), e.g. 'vendor/**' or '**/*.draft.json'.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Generate only the documents under NSID PREFIX and what they refer to
    /// (repeatable), e.g. sh.tangled.
    #[arg(long, value_name = "PREFIX")]
    pub only: Vec<String>,
    /// Leave out invalid documents and every document that refers to one
    /// (each reported as a warning, with the chain), generate the rest, and
    /// exit 0.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Do not check the lexicons against the `lexicons.json` beside each
    /// --lexicons directory. By default a pinned file missing or not having
    /// its pinned CID is an error (`atlex lex install` restores it).
    #[arg(long)]
    pub no_manifest: bool,
    /// Do not warn about documents whose path does not spell their id.
    #[arg(long)]
    pub no_layout_warnings: bool,
    /// Put each namespace (app.bsky) behind a cargo feature (app-bsky).
    #[arg(long)]
    pub namespace_features: bool,
    /// Do not generate the `Service` trait and `register` function of each
    /// group of endpoints.
    #[arg(long)]
    pub no_service_traits: bool,
    /// Drop the properties of objects that their lexicon does not declare,
    /// and their `$type`, instead of keeping them (in a field `extra`) so
    /// that data passes through unchanged. Such code changes the data it
    /// reads and writes back.
    #[arg(long)]
    pub drop_unknown_fields: bool,
    /// What is kept by default; accepted for older scripts.
    #[arg(long, hide = true, conflicts_with = "drop_unknown_fields")]
    pub keep_unknown_fields: bool,
    /// Remove .rs files in the output directory that are no longer generated.
    #[arg(long)]
    pub prune: bool,
    /// Change nothing; exit 1 if the output directory is out of date.
    #[arg(long)]
    pub check: bool,
    /// Do not print warnings.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `NAME=VALUE` with both sides non-empty.
fn pair<'a>(flag: &str, what: &str, spec: &'a str) -> Result<(&'a str, &'a str), ExitCode> {
    match spec.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a, b)),
        _ => {
            eprintln!("error: {flag} expects {what}, got {spec:?}");
            Err(ExitCode::from(2))
        }
    }
}

/// The builder the arguments describe.
fn builder(args: &GenerateArgs) -> Result<Builder, ExitCode> {
    let mut builder = Builder::new()
        .runtime_path(&args.runtime)
        .regenerate_hint("regenerate with `atlex generate`")
        .namespace_features(args.namespace_features)
        .service_traits(!args.no_service_traits)
        .keep_unknown_fields(!args.drop_unknown_fields)
        .skip_invalid(args.skip_invalid)
        .layout_warnings(!args.no_layout_warnings);
    if args.no_manifest {
        builder = builder.no_manifest();
    }
    if let Some(root) = &args.root {
        builder = builder.root_path(root);
    }
    builder = match &args.single_file {
        Some(file) => builder.file_name(file),
        None => builder.tree_layout(&args.root_file),
    };
    for dir in &args.lexicons {
        builder = builder.lexicons(dir);
    }
    for spec in &args.extern_lexicons {
        let (dir, path) = pair("--extern-lexicons", "DIR=RUSTPATH", spec)?;
        builder = builder.extern_lexicons(dir, path);
    }
    for spec in &args.extern_paths {
        let (prefix, path) = pair("--extern", "PREFIX=PATH", spec)?;
        builder = builder.extern_path(prefix, path);
    }
    for glob in &args.exclude {
        builder = builder.exclude(glob);
    }
    for prefix in &args.only {
        builder = builder.only(prefix);
    }
    Ok(builder)
}

/// Runs `atlex generate`.
pub(crate) fn run(args: GenerateArgs) -> ExitCode {
    let builder = match builder(&args) {
        Ok(builder) => builder,
        Err(code) => return code,
    };
    let generated = match builder.generate() {
        Ok(generated) => generated,
        Err(builder::Error::Exclude(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
        Err(err) => {
            match err {
                builder::Error::Lexicons(diagnostics) => eprintln!("{diagnostics}"),
                other => eprintln!("error: {other}"),
            }
            return ExitCode::FAILURE;
        }
    };
    let diagnostics = &generated.diagnostics;
    if !args.quiet && !diagnostics.is_empty() {
        eprintln!("{diagnostics}");
    }
    let out = &args.out;
    let mut report = match sync::compare(out, &generated.files, &[]) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {}: {err}", out.display());
            return ExitCode::FAILURE;
        }
    };
    if !args.prune {
        report.stale.clear();
    }
    if args.check {
        for (path, _, _) in &report.changed {
            eprintln!("stale: {}", out.join(path).display());
        }
        for path in &report.stale {
            eprintln!("no longer generated: {}", out.join(path).display());
        }
        return if report.is_clean() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    if let Err(err) = sync::apply(out, &report) {
        eprintln!("error: {}: {err}", out.display());
        return ExitCode::FAILURE;
    }
    let left_out = if generated.left_out.is_empty() {
        String::new()
    } else {
        format!(" ({} left out)", generated.left_out.len())
    };
    eprintln!(
        "generated {} lexicons{left_out} into {}: {} files written, {} unchanged, {} removed",
        generated.documents,
        out.display(),
        report.changed.len(),
        report.unchanged,
        report.stale.len()
    );
    ExitCode::SUCCESS
}
