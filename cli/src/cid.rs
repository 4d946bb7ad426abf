//! `atlex cid`: the CID of a record or any data-model value.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cbor::{invalid, read_input, read_json};
use crate::stdout::Stdout;

/// Print the CID of the DAG-CBOR encoding of the JSON in FILE.
///
/// FILE holds data-model JSON: a record with its `$type`
/// (`{"$type": "app.bsky.feed.post", ...}`) or any other value. The CID is
/// CIDv1, DAG-CBOR codec, sha2-256, as a repository names the record. With
/// --raw, FILE is any bytes (a blob) and the CID uses the raw codec.
///
/// Exit status: 0 on success, 1 when FILE is not data-model JSON (the reason
/// is printed), 2 when it cannot be read.
#[derive(Args)]
pub struct CidArgs {
    /// The file (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The CID of the file's bytes as a blob (raw codec), not of JSON.
    #[arg(long)]
    pub raw: bool,
}

/// Runs `atlex cid`.
pub fn run(args: CidArgs) -> ExitCode {
    let cid = if args.raw {
        match read_input(&args.file) {
            Ok(bytes) => atlex::types::Cid::of_raw(&bytes),
            Err(code) => return code,
        }
    } else {
        let value = match read_json(&args.file) {
            Ok(value) => value,
            Err(code) => return code,
        };
        match atlex::cbor::cid_of(&value) {
            Ok(cid) => cid,
            Err(err) => return invalid(&args.file, err),
        }
    };
    let mut out = Stdout::lock();
    writeln!(out, "{cid}");
    out.finish(ExitCode::SUCCESS)
}
