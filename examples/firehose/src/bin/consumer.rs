//! `firehose-consumer`: prints one JSON line per op of a firehose.
//!
//! With `ATLEX_FIREHOSE_URL` (a relay such as `https://bsky.network`, or a
//! running `firehose-server`), reads it live (`ATLEX_FIREHOSE_CURSOR` to
//! start from a seq). Without it, starts the example's server in-process,
//! writes a few records to it through the generated client and reads them
//! back from the start.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::io::stdout().lock();
    if let Ok(url) = std::env::var("ATLEX_FIREHOSE_URL") {
        let cursor = std::env::var("ATLEX_FIREHOSE_CURSOR")
            .ok()
            .and_then(|c| c.parse().ok());
        return firehose::consume(&url, cursor, None, &mut out).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        axum::serve(listener, firehose::app(Arc::new(firehose::Pds::default()))).await
    });
    let commits = firehose::write_sample(&url).await?;
    firehose::consume(&url, Some(0), Some(commits), &mut out).await
}
