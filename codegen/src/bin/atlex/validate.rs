//! `atlex validate`: check JSON data against lexicons.

use std::process::ExitCode;

use clap::Args;

/// Check a JSON value (a record, or data of any definition) against lexicons.
#[derive(Args)]
pub struct ValidateArgs {}

/// Runs `atlex validate`.
pub fn run(_args: ValidateArgs) -> ExitCode {
    eprintln!("error: `atlex validate` is not implemented yet");
    ExitCode::from(2)
}
