//! `atlex diff`: what changed between two versions of lexicons, and whether
//! it breaks anyone.

use std::process::ExitCode;

use clap::Args;

/// Compare two versions of lexicons and classify every change.
#[derive(Args)]
pub struct DiffArgs {}

/// Runs `atlex diff`.
pub fn run(_args: DiffArgs) -> ExitCode {
    eprintln!("error: `atlex diff` is not implemented yet");
    ExitCode::from(2)
}
