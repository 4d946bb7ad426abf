//! `labeler`: labels the posts of a firehose whose text holds a word, and
//! serves the labels.
//!
//! - `ATLEX_LABELER_ADDR`: where it listens (127.0.0.1:2585 by default);
//!   its DID is `did:web:localhost%3A<port>`.
//! - `ATLEX_LABELER_DATA`: its data directory (`labeler-data` by default).
//! - `ATLEX_FIREHOSE_URL`: the server whose `subscribeRepos` it follows
//!   (`http://127.0.0.1:2584` by default, where `firehose-server` listens).
//! - `ATLEX_LABELER_WORD` (`spam` by default): the word a post's text must
//!   hold; `ATLEX_LABELER_VALUE` (`spam` by default): the label's value.

use labeler::{BoxError, Config};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let addr = env("ATLEX_LABELER_ADDR", "127.0.0.1:2585");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let config = Config {
        data: env("ATLEX_LABELER_DATA", "labeler-data").into(),
        firehose: env("ATLEX_FIREHOSE_URL", "http://127.0.0.1:2584"),
        word: env("ATLEX_LABELER_WORD", "spam"),
        value: env("ATLEX_LABELER_VALUE", "spam"),
    };
    labeler::run(config, listener).await
}
