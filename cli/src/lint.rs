//! `atlex lex lint`: the lint rules of `atlex_codegen::lint` over lexicon
//! directories, for people or CI.

use std::path::PathBuf;
use std::process::ExitCode;

use atlex_codegen::Severity;
use atlex_codegen::catalog::{LoadOptions, exclude_set};
use atlex_codegen::lint::{self, Finding, RULES, Report, severity_name};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::stdout::Stdout;

/// Checks lexicons against the lint rules (names and casing, descriptions,
/// string limits, record keys, references, deprecated constructs) and the
/// Lexicon language. Exit status: 0 when there is no error (warnings are
/// printed), 1 when there are errors (or warnings, with `--deny-warnings`),
/// 2 on a bad argument or when output fails.
#[derive(Args)]
pub(crate) struct LintArgs {
    /// Lexicon directories, linted together (references between them
    /// resolve); `lexicons` when none is given. A directory holding a
    /// `Cargo.toml` is read as a crate's: its `src/`, `tests/` and the like
    /// are skipped.
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Warnings fail the exit status too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Print errors only.
    #[arg(long)]
    pub quiet: bool,
    /// Leave out files and directories matching GLOB (relative to a DIR;
    /// repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Do not warn about a document whose path does not spell its id.
    #[arg(long)]
    pub no_layout_warnings: bool,
    /// List the rules and exit.
    #[arg(long)]
    pub rules: bool,
}

/// How findings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One line per finding: `file:line:col: severity[CODE name]: message`,
    /// then a count.
    Text,
    /// One JSON object: `findings` (each with `code`, `rule`, `severity`,
    /// `file`, `line`, `column`, `pointer`, `lexicon`, `message`),
    /// `documents`, `errors`, `warnings`.
    Json,
}

/// Runs `atlex lex lint`.
pub(crate) fn run(args: LintArgs) -> ExitCode {
    let mut out = Stdout::lock();
    if args.rules {
        for rule in RULES {
            let severity = severity_name(rule.severity);
            writeln!(
                out,
                "{} {} ({severity}): {}",
                rule.code, rule.name, rule.summary
            );
        }
        return out.finish(ExitCode::SUCCESS);
    }
    let exclude = match exclude_set(&args.exclude) {
        Ok(set) => set,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let options = LoadOptions {
        exclude,
        layout_warnings: !args.no_layout_warnings,
        crate_dir: false,
    };
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from("lexicons")]
    } else {
        args.dirs.clone()
    };
    let dirs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
    let mut report = lint::lint_dirs(&dirs, &options);
    if args.quiet {
        report.findings.retain(|f| f.severity == Severity::Error);
    }
    match args.format {
        Format::Text => {
            for finding in &report.findings {
                writeln!(out, "{finding}");
            }
            eprintln!(
                "{} document(s): {} error(s), {} warning(s)",
                report.documents,
                report.errors(),
                report.warnings()
            );
        }
        Format::Json => match serde_json::to_string_pretty(&json_report(&report)) {
            Ok(text) => writeln!(out, "{text}"),
            Err(err) => {
                eprintln!("error: writing JSON: {err}");
                return ExitCode::from(2);
            }
        },
    }
    let fails = report.errors() > 0 || (args.deny_warnings && report.warnings() > 0);
    out.finish(if fails {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn json_finding(finding: &Finding) -> serde_json::Value {
    let location = &finding.location;
    json!({
        "code": finding.rule.code,
        "rule": finding.rule.name,
        "severity": severity_name(finding.severity),
        "file": location.file.as_ref().map(|f| f.display().to_string()),
        "line": location.line_col.map(|(line, _)| line),
        "column": location.line_col.map(|(_, col)| col),
        "pointer": location.pointer,
        "lexicon": location.lexicon,
        "message": finding.message,
    })
}

fn json_report(report: &Report) -> serde_json::Value {
    json!({
        "findings": report.findings.iter().map(json_finding).collect::<Vec<_>>(),
        "documents": report.documents,
        "errors": report.errors(),
        "warnings": report.warnings(),
    })
}
