//! The `atlex` command line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod car;
mod cbor;
mod cid;
mod diff;
mod generate;
mod lex;
mod lint;
mod resolve;
mod stdout;
mod validate;

/// With the `mimalloc` feature, the binary's allocator (see Cargo.toml).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rust tooling for AT Protocol lexicons.
#[derive(Parser)]
#[command(name = "atlex", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Generate(generate::GenerateArgs),
    Validate(validate::ValidateArgs),
    Diff(diff::DiffArgs),
    Cid(cid::CidArgs),
    Cbor(cbor::CborArgs),
    Car(car::CarArgs),
    Resolve(resolve::ResolveArgs),
    Lex(lex::LexArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Generate(args) => generate::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Cid(args) => cid::run(args),
        Command::Cbor(args) => cbor::run(args),
        Command::Car(args) => car::run(args),
        Command::Resolve(args) => resolve::run(args),
        Command::Lex(args) => lex::run(args),
    }
}
