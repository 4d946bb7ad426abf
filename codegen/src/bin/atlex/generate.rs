//! `atlex generate`: lexicon JSON in, Rust modules out.

use std::path::PathBuf;
use std::process::ExitCode;

use atlex_codegen::{Layout, Options, load_dirs, sync};
use clap::Args;

/// Generate Rust bindings from a directory of lexicon JSON files.
///
/// Lexicons are read from DIR in NSID layout (chat/bsky/convo/leaveConvo.json
/// holds chat.bsky.convo.leaveConvo); top-level src/, tests/, benches/,
/// examples/ and target/ directories are skipped. The output is a module tree, one file
/// per lexicon plus a mod.rs per namespace, to be included with
/// `#[path = "..."] mod lexicons;` or copied into a crate. Only files whose
/// contents change are written.
#[derive(Args)]
pub struct GenerateArgs {
    /// Directory of lexicon JSON files (repeatable).
    #[arg(long = "lexicons", value_name = "DIR", required = true)]
    pub lexicons: Vec<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Rust path of the module the output is mounted at.
    #[arg(long, value_name = "PATH", default_value = "crate")]
    pub root: String,
    /// Rust path of the atlex runtime crate.
    #[arg(long, value_name = "PATH", default_value = "::atlex")]
    pub runtime: String,
    /// Write one file of inline modules with this name instead of a tree.
    #[arg(long, value_name = "FILE")]
    pub single_file: Option<String>,
    /// Name of the tree's root file.
    #[arg(long, value_name = "FILE", default_value = "mod.rs")]
    pub root_file: String,
    /// Types under NSID PREFIX live at Rust PATH and are not emitted
    /// (repeatable), e.g. com.atproto=::atlex_lexicons::com::atproto.
    #[arg(long = "extern", value_name = "PREFIX=PATH")]
    pub extern_paths: Vec<String>,
    /// Put each namespace (app.bsky) behind a cargo feature (app-bsky).
    #[arg(long)]
    pub namespace_features: bool,
    /// Do not generate the `Service` trait and `register` function of each
    /// group of endpoints.
    #[arg(long)]
    pub no_service_traits: bool,
    /// Keep the properties of objects that their lexicon does not declare
    /// (in a flattened `extra` field) instead of dropping them on decode.
    #[arg(long)]
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

/// Runs `atlex generate`.
pub fn run(args: GenerateArgs) -> ExitCode {
    let GenerateArgs {
        lexicons,
        out,
        root,
        runtime,
        single_file,
        root_file,
        extern_paths,
        namespace_features,
        no_service_traits,
        keep_unknown_fields,
        prune,
        check,
        quiet,
    } = args;

    let mut externs = Vec::new();
    for spec in &extern_paths {
        match spec.split_once('=') {
            Some((prefix, path)) if !prefix.is_empty() && !path.is_empty() => {
                externs.push((prefix.to_owned(), path.to_owned()));
            }
            _ => {
                eprintln!("error: --extern expects PREFIX=PATH, got {spec:?}");
                return ExitCode::from(2);
            }
        }
    }
    let options = Options {
        runtime,
        root,
        extern_paths: externs,
        layout: match single_file {
            Some(file) => Layout::SingleFile { file },
            None => Layout::Tree { root_file },
        },
        namespace_features,
        regenerate_hint: "regenerate with `atlex generate`".to_owned(),
        service_traits: !no_service_traits,
        keep_unknown_fields,
        ..Options::default()
    };
    let (catalog, mut diagnostics) = load_dirs(&lexicons);
    let generated = match atlex_codegen::generate(&catalog, &options) {
        Ok(generated) => generated,
        Err(errors) => {
            diagnostics.extend(errors);
            diagnostics.locate(|f| catalog.source_of(f));
            diagnostics.sort();
            eprintln!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    diagnostics.extend(generated.diagnostics.clone());
    if diagnostics.has_errors() {
        eprintln!("{diagnostics}");
        return ExitCode::FAILURE;
    }
    if !quiet && !diagnostics.is_empty() {
        eprintln!("{diagnostics}");
    }
    let mut report = match sync::compare(&out, &generated.files, &[]) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {}: {err}", out.display());
            return ExitCode::FAILURE;
        }
    };
    if !prune {
        report.stale.clear();
    }
    if check {
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
    if let Err(err) = sync::apply(&out, &report) {
        eprintln!("error: {}: {err}", out.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "generated {} lexicons into {}: {} files written, {} unchanged, {} removed",
        generated.documents,
        out.display(),
        report.changed.len(),
        report.unchanged,
        report.stale.len()
    );
    ExitCode::SUCCESS
}
