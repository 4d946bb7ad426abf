//! Generates the bindings of Jetstream's lexicons (`lexicons/`) into
//! `OUT_DIR/atlex.rs`; `com.atproto.sync.subscribeRepos`, which
//! `network.bsky.jetstream.subscribeEvents` refers to, comes from
//! `atlex-lexicons`. The servers' `Service` traits are behind feature
//! `server`.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let result = atlex_codegen::Builder::new()
        .lexicons(manifest.join("lexicons"))
        .extern_lexicons(atlex_lexicons::LEXICON_DIR, "::atlex_lexicons")
        .server_feature("server")
        .compile();
    if let Err(e) = result {
        panic!("{e}");
    }
}
