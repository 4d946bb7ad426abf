//! `firehose-consumer`: checks each event of a firehose and prints one JSON
//! line per op.
//!
//! With `ATLEX_FIREHOSE_URL` (a relay such as `https://bsky.network`, or a
//! running `firehose-server`), reads it live (`ATLEX_FIREHOSE_CURSOR` to
//! start from a seq), with keys from the PLC directory `ATLEX_PLC_URL`
//! (`https://plc.directory` by default; a `firehose-server` is its own).
//! Without it, starts the example's server in-process, writes a few records
//! to it through the generated client and reads them back from the start,
//! with keys from the server's DID documents.

use std::sync::Arc;

use atlex::identity::Resolver;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::io::stdout().lock();
    if let Ok(url) = std::env::var("ATLEX_FIREHOSE_URL") {
        let cursor = std::env::var("ATLEX_FIREHOSE_CURSOR")
            .ok()
            .map(|c| c.parse())
            .transpose()?;
        let mut resolver = Resolver::builder();
        if let Ok(plc) = std::env::var("ATLEX_PLC_URL") {
            resolver = resolver.plc_directory(plc);
        }
        return firehose::consume(&url, &resolver.build()?, cursor, None, &mut out).await;
    }
    let url = firehose::serve_local(Arc::new(firehose::Pds::default())).await?;
    let commits = firehose::write_sample(&url).await?;
    let resolver = Resolver::builder().plc_directory(&url).build()?;
    // The accounts' `#sync` events, then the commits.
    firehose::consume(&url, &resolver, Some(0), Some(2 + commits), &mut out).await
}
