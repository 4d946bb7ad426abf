//! `atlex validate`: check JSON data against lexicons.

use std::path::PathBuf;
use std::process::ExitCode;

use atlex_codegen::lexicon::DefKey;
use atlex_codegen::load_dirs;
use atlex_codegen::validate::{Part, ValidateError, validate, validate_part, validate_typed};
use clap::Args;

use crate::stdout::Stdout;

/// Check JSON data against lexicons.
///
/// Each FILE holds one JSON value: a record (validated against the
/// definition its `$type` names) or, with --nsid, data of any definition
/// (`com.example.thing` for its main definition, `com.example.thing#view` for
/// another; add --part params|input|output|message to check a request or
/// response of an endpoint). Prints `ok`, or every violation with its path.
///
/// Exit status: 0 when every file is valid; 1 when one breaks its lexicon;
/// 2 when a lexicon problem or an unreadable file stops a check: the lexicons
/// have errors, the definition is not loaded (or the lexicons refer to one
/// that is not), a file cannot be read or is not JSON. Every file is checked
/// either way; the worst status wins (also when stdout closes early: then
/// the checks go on without printing).
#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// Directory of lexicon JSON files in NSID layout (repeatable).
    #[arg(long = "lexicons", value_name = "DIR", required = true)]
    pub lexicons: Vec<PathBuf>,
    /// The definition to validate against, instead of the data's `$type`.
    #[arg(long, value_name = "NSID[#DEF]")]
    pub nsid: Option<String>,
    /// With `--nsid` naming an endpoint: check the data as its `params`,
    /// `input`, `output` or (subscription) `message`.
    #[arg(long, value_name = "PART", requires = "nsid")]
    pub part: Option<Part>,
    /// Leave out lexicon documents that have errors (reported as warnings)
    /// and check against the rest; data that needs a left-out document
    /// cannot be checked (status 2 for that file).
    #[arg(long)]
    pub skip_invalid: bool,
    /// JSON files to check.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs `atlex validate`.
pub(crate) fn run(args: ValidateArgs) -> ExitCode {
    let (catalog, mut diagnostics) = load_dirs(&args.lexicons);
    if diagnostics.has_errors() {
        if !args.skip_invalid {
            eprintln!("{diagnostics}");
            return ExitCode::from(2);
        }
        // A document with an error is not in the catalog: what refers to it
        // cannot be checked, and says so when it is.
        diagnostics.downgrade(|_| true);
        let left_out: Vec<&String> = catalog.rejected().collect();
        eprintln!("{diagnostics}");
        eprintln!(
            "warning: {} invalid lexicon document(s) left out{}",
            left_out.len(),
            if left_out.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    left_out
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    let key = args
        .nsid
        .as_deref()
        .map(|target| DefKey::resolve("", target));
    let mut out = Stdout::lock();
    // 1: some data breaks its lexicon; 2: some check could not be made.
    let mut status = 0u8;
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("error: {}: {err}", file.display());
                status = 2;
                continue;
            }
        };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(err) => {
                eprintln!("error: {}: not valid JSON: {err}", file.display());
                status = 2;
                continue;
            }
        };
        let result = match &key {
            Some(key) => match args.part {
                Some(part) => validate_part(&catalog, key, part, &value).map(|()| key.clone()),
                None => validate(&catalog, key, &value).map(|()| key.clone()),
            },
            None => validate_typed(&catalog, &value),
        };
        match result {
            Ok(key) => match args.part {
                Some(part) => writeln!(out, "{}: ok ({key} {part})", file.display()),
                None => writeln!(out, "{}: ok ({key})", file.display()),
            },
            Err(ValidateError::Invalid(err)) => {
                status = status.max(1);
                writeln!(
                    out,
                    "{}: {} violation(s)",
                    file.display(),
                    err.violations.len()
                );
                for violation in &err.violations {
                    let path = if violation.path.is_empty() {
                        "(value)"
                    } else {
                        &violation.path
                    };
                    writeln!(
                        out,
                        "  {path}: {}: {}",
                        violation.constraint, violation.message
                    );
                }
            }
            Err(other) => {
                eprintln!("error: {}: {other}", file.display());
                status = 2;
            }
        }
    }
    out.finish(ExitCode::from(status))
}
