//! Repository tasks: `cargo xtask gen [--check]`, `cargo xtask lexicons
//! --check`, `cargo xtask lexicons --refresh --from SOURCE`, `cargo xtask
//! bench build`, `cargo xtask bench decode`.
//!
//! `gen` regenerates the bindings of `atlex-lexicons` from the lexicon JSON
//! in `lexicons/` (into `lexicons/src/generated/`) and the namespace features
//! of `lexicons/Cargo.toml`, writing only files whose contents change.
//! `gen --check` changes nothing: it prints what is stale as a diff and exits
//! non-zero, for CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use atlex_codegen::catalog::Catalog;
use atlex_codegen::sync::{self, SyncReport};
use atlex_codegen::{Diagnostics, Layout, Options};

mod bench;
mod lexicons;
mod refresh;

const USAGE: &str = "usage: cargo xtask gen [--check]

  gen          regenerate lexicons/src/generated and the features of lexicons/Cargo.toml
  gen --check  change nothing; print what is out of date and exit 1 if anything is";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["gen"] => generate(false),
        ["gen", "--check"] => generate(true),
        ["lexicons", rest @ ..] => lexicons::run(&workspace_root(), rest),
        ["bench", rest @ ..] => bench::run(&workspace_root(), rest),
        _ => {
            eprintln!(
                "{USAGE}\n{}\n{}\n{}",
                lexicons::USAGE,
                refresh::USAGE,
                bench::USAGE
            );
            ExitCode::from(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    // xtask/ is one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The lexicon catalog of the `atlex-lexicons` crate.
pub fn load_lexicons(crate_dir: &Path) -> (Catalog, Diagnostics) {
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    catalog.load_crate_dir(crate_dir, &mut diagnostics);
    (catalog, diagnostics)
}

fn generate(check: bool) -> ExitCode {
    match regenerate(&workspace_root(), check) {
        Ok(Regenerated::Written(summary)) => {
            eprintln!("{summary}");
            ExitCode::SUCCESS
        }
        Ok(Regenerated::Checked(code)) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// What [`regenerate`] did.
pub(crate) enum Regenerated {
    /// The files were written; a line saying how many.
    Written(String),
    /// `check` was asked for: the check's exit code (it printed the rest).
    Checked(ExitCode),
}

/// Regenerates the bindings of the `atlex-lexicons` crate under `root`
/// (`lexicons/src/generated` and the features of `lexicons/Cargo.toml`), or
/// with `check` compares them and prints what is stale. The error is the
/// whole message to print.
pub(crate) fn regenerate(root: &Path, check: bool) -> Result<Regenerated, String> {
    let crate_dir = root.join("lexicons");
    let out_dir = crate_dir.join("src/generated");
    let (catalog, mut diagnostics) = load_lexicons(&crate_dir);
    let options = Options {
        layout: Layout::Tree {
            root_file: "mod.rs".to_owned(),
        },
        // The modules are re-exported at the crate root (`pub use
        // generated::*`), so paths from `crate` hold; they read better than
        // relative ones.
        root: Some("crate".to_owned()),
        namespace_features: true,
        server_feature: Some("server".to_owned()),
        regenerate_hint: "run `cargo xtask gen`".to_owned(),
        ..Options::default()
    };
    let generated = match atlex_codegen::generate(&catalog, &options) {
        Ok(generated) => generated,
        Err(errors) => {
            diagnostics.extend(errors);
            catalog.locate(&mut diagnostics);
            diagnostics.sort();
            return Err(diagnostics.to_string());
        }
    };
    diagnostics.extend(generated.diagnostics.clone());
    if diagnostics.has_errors() {
        return Err(diagnostics.to_string());
    }
    for warning in diagnostics.warnings() {
        eprintln!("{warning}");
    }

    let mut report = sync::compare(&out_dir, &generated.files, &[])
        .map_err(|err| format!("error: reading {}: {err}", out_dir.display()))?;
    let manifest_path = crate_dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .map_err(|err| format!("error: reading {}: {err}", manifest_path.display()))?;
    let new_manifest = with_features(&manifest, &generated.features)
        .map_err(|message| format!("error: {}: {message}", manifest_path.display()))?;
    let manifest_changed = new_manifest != manifest;

    if check {
        return Ok(Regenerated::Checked(report_check(
            root,
            &out_dir,
            &report,
            manifest_changed.then_some((&manifest_path, &manifest, &new_manifest)),
        )));
    }
    sync::apply(&out_dir, &report)
        .map_err(|err| format!("error: writing {}: {err}", out_dir.display()))?;
    if manifest_changed {
        std::fs::write(&manifest_path, &new_manifest)
            .map_err(|err| format!("error: writing {}: {err}", manifest_path.display()))?;
    }
    report.changed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Regenerated::Written(format!(
        "generated {} lexicons: {} files written, {} unchanged, {} removed{}",
        generated.documents,
        report.changed.len(),
        report.unchanged,
        report.stale.len(),
        if manifest_changed {
            "; lexicons/Cargo.toml features updated"
        } else {
            ""
        }
    )))
}

fn report_check(
    root: &Path,
    out_dir: &Path,
    report: &SyncReport,
    manifest: Option<(&PathBuf, &String, &String)>,
) -> ExitCode {
    let relative = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    if report.is_clean() && manifest.is_none() {
        eprintln!("generated code is up to date ({} files)", report.unchanged);
        return ExitCode::SUCCESS;
    }
    const MAX_DIFF_LINES: usize = 400;
    let mut printed = 0;
    let mut print_diff = |name: &str, old: &str, new: &str| {
        let diff = similar::TextDiff::from_lines(old, new);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string();
        for line in text.lines() {
            if printed == MAX_DIFF_LINES {
                println!("… (diff truncated)");
            }
            if printed >= MAX_DIFF_LINES {
                break;
            }
            println!("{line}");
            printed += 1;
        }
    };
    for (path, old, new) in &report.changed {
        let name = relative(&out_dir.join(path));
        match old {
            Some(old) => print_diff(&name, old, new),
            None => println!("missing: {name}"),
        }
    }
    for path in &report.stale {
        println!("no longer generated: {}", relative(&out_dir.join(path)));
    }
    if let Some((path, old, new)) = manifest {
        print_diff(&relative(path), old, new);
    }
    eprintln!(
        "error: generated code is out of date: {} changed or missing, {} no longer generated{}.\n\
         fix: run `cargo xtask gen` and commit the result.",
        report.changed.len(),
        report.stale.len(),
        if manifest.is_some() {
            ", lexicons/Cargo.toml features differ"
        } else {
            ""
        }
    );
    ExitCode::FAILURE
}

const BEGIN: &str = "# @generated features: begin (cargo xtask gen)";
const END: &str = "# @generated features: end";

/// Replaces the generated block of `[features]` in the manifest.
fn with_features(
    manifest: &str,
    features: &BTreeMap<String, BTreeSet<String>>,
) -> Result<String, String> {
    let (Some(start), Some(end)) = (manifest.find(BEGIN), manifest.find(END)) else {
        return Err(format!(
            "the [features] table needs the markers `{BEGIN}` and `{END}`"
        ));
    };
    if end < start {
        return Err("feature markers are out of order".to_owned());
    }
    let mut block = String::from(BEGIN);
    block.push('\n');
    let all: Vec<String> = features.keys().map(|f| format!("{f:?}")).collect();
    block.push_str(&format!("full = [{}]\n", all.join(", ")));
    for (feature, deps) in features {
        let deps: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
        block.push_str(&format!("{feature} = [{}]\n", deps.join(", ")));
    }
    Ok(format!(
        "{}{}{}",
        &manifest[..start],
        block,
        &manifest[end..]
    ))
}
