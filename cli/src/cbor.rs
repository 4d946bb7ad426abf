//! `atlex cbor encode|decode`: data-model JSON to DAG-CBOR and back.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use atlex::data::{Value, check_data_model};
use clap::{Args, Subcommand};

use crate::stdout::Stdout;

/// Convert between data-model JSON and DAG-CBOR.
///
/// Exit status: 0 on success, 1 when the input is not valid data (the reason
/// is printed), 2 when it cannot be read.
#[derive(Args)]
pub struct CborArgs {
    #[command(subcommand)]
    pub command: CborCommand,
}

/// What to convert.
#[derive(Subcommand)]
pub enum CborCommand {
    /// Write the canonical DAG-CBOR of the JSON in FILE to stdout.
    Encode {
        /// A JSON file (`-` for stdin): any data-model value, such as a
        /// record with its `$type`.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Write the data-model JSON of the DAG-CBOR in FILE to stdout.
    Decode {
        /// A DAG-CBOR file (`-` for stdin).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Accept non-canonical DAG-CBOR and old forms (integral floats,
        /// keys out of order, non-minimal widths, legacy blobs).
        #[arg(long)]
        lenient: bool,
    },
}

/// Runs `atlex cbor`.
pub fn run(args: CborArgs) -> ExitCode {
    match args.command {
        CborCommand::Encode { file } => {
            let value = match read_json(&file) {
                Ok(value) => value,
                Err(code) => return code,
            };
            let bytes = match atlex::cbor::to_vec(&value) {
                Ok(bytes) => bytes,
                Err(err) => return invalid(&file, err),
            };
            write_stdout(&bytes)
        }
        CborCommand::Decode { file, lenient } => {
            let bytes = match read_input(&file) {
                Ok(bytes) => bytes,
                Err(code) => return code,
            };
            let decoded = if lenient {
                atlex::cbor::from_slice_lenient::<Value>(&bytes)
            } else {
                atlex::cbor::from_slice::<Value>(&bytes)
            };
            match decoded {
                Ok(value) => match serde_json::to_string_pretty(&value) {
                    Ok(mut text) => {
                        text.push('\n');
                        write_stdout(text.as_bytes())
                    }
                    Err(err) => invalid(&file, err),
                },
                Err(err) => invalid(&file, format!("not DAG-CBOR of the data model: {err}")),
            }
        }
    }
}

/// The bytes of FILE, or of stdin for `-`; exit 2 when they cannot be read.
pub fn read_input(file: &Path) -> Result<Vec<u8>, ExitCode> {
    let read = if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(file)
    };
    read.map_err(|err| {
        eprintln!("error: {}: {err}", file.display());
        ExitCode::from(2)
    })
}

/// The data-model value of the JSON in FILE; exit 1 when it is not one.
pub fn read_json(file: &Path) -> Result<Value, ExitCode> {
    let bytes = read_input(file)?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|err| invalid(file, format!("not valid JSON: {err}")))?;
    check_data_model(&json)
        .and_then(|()| Value::from_json(json))
        .map_err(|err| invalid(file, format!("not data-model JSON: {err}")))
}

/// Reports invalid data in FILE: exit 1.
pub fn invalid(file: &Path, reason: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {}: {reason}", file.display());
    ExitCode::FAILURE
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = Stdout::lock();
    out.write_all(bytes);
    out.finish(ExitCode::SUCCESS)
}
