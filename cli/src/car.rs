//! `atlex car ls`: the roots and blocks of a CAR file.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use atlex::car::{CarError, CarStream};
use clap::{Args, Subcommand};
use serde::Deserialize;

use crate::cbor::invalid;
use crate::stdout::Stdout;

/// Read CAR files (repository exports, firehose blocks).
#[derive(Args)]
pub struct CarArgs {
    #[command(subcommand)]
    pub command: CarCommand,
}

/// What to do with the CAR.
#[derive(Subcommand)]
pub enum CarCommand {
    /// List the roots (`root CID`) and every block (`CID SIZE [$TYPE]`),
    /// each verified against its CID.
    ///
    /// Exit status: 0 when every block is good, 1 at the first bad one (a
    /// CID that does not match its bytes, a length that lies; the blocks
    /// before it are listed), 2 when FILE cannot be read. When stdout closes
    /// early (`| head`), the listing stops there: 0, unless a bad block came
    /// before.
    Ls {
        /// The CAR file (`-` for stdin).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Runs `atlex car`.
pub fn run(args: CarArgs) -> ExitCode {
    match args.command {
        CarCommand::Ls { file } => ls(&file),
    }
}

/// Only the `$type` of a block, the rest skipped.
#[derive(Deserialize)]
struct TypeOnly {
    #[serde(rename = "$type")]
    type_name: Option<String>,
}

fn ls(file: &Path) -> ExitCode {
    let input: Box<dyn Read> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(file) {
            Ok(opened) => Box::new(opened),
            Err(err) => {
                eprintln!("error: {}: {err}", file.display());
                return ExitCode::from(2);
            }
        }
    };
    let stream = match CarStream::new(BufReader::new(input)) {
        Ok(stream) => stream,
        Err(err) => return car_error(file, err),
    };
    let mut out = Stdout::lock();
    let mut lines = String::new();
    for root in &stream.header().roots {
        lines.push_str(&format!("root {root}\n"));
    }
    for block in stream {
        let block = match block {
            Ok(block) => block,
            Err(err) => {
                out.write_all(lines.as_bytes());
                let status = car_error(file, err);
                return out.finish(status);
            }
        };
        let type_name = (block.cid.codec() == atlex::cbor::DAG_CBOR)
            .then(|| atlex::cbor::from_slice_lenient::<TypeOnly>(&block.data).ok())
            .flatten()
            .and_then(|t| t.type_name);
        match type_name {
            Some(t) => lines.push_str(&format!("{} {} {t}\n", block.cid, block.data.len())),
            None => lines.push_str(&format!("{} {}\n", block.cid, block.data.len())),
        }
        if lines.len() > 64 << 10 {
            out.write_all(lines.as_bytes());
            lines.clear();
            if !out.is_open() {
                break;
            }
        }
    }
    out.write_all(lines.as_bytes());
    out.finish(ExitCode::SUCCESS)
}

/// Bad data exits 1, a failed read 2.
fn car_error(file: &Path, err: CarError) -> ExitCode {
    match err {
        CarError::Io(err) => {
            eprintln!("error: {}: {err}", file.display());
            ExitCode::from(2)
        }
        other => invalid(file, other),
    }
}
