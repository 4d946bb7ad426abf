//! `firehose-server`: the PDS-like server of this example, on
//! `ATLEX_FIREHOSE_ADDR` (127.0.0.1:2584 by default; port 0 takes a free
//! one). It says where it listens on stderr.

use std::sync::Arc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("ATLEX_FIREHOSE_ADDR").unwrap_or_else(|_| "127.0.0.1:2584".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    eprintln!(
        "firehose-server on http://{addr}: createRecord / putRecord / deleteRecord with `Authorization: Bearer alice-token` (or bob-token), subscribeRepos at ws://{addr}/xrpc/com.atproto.sync.subscribeRepos, getRepo / getLatestCommit / getRecord / listRecords, DID documents at http://{addr}/<did>"
    );
    axum::serve(listener, firehose::app(Arc::new(firehose::Pds::default()))).await
}
