//! Runs the in-memory chat.bsky service on loopback.
//!
//! ```sh
//! cargo run -p chat-server                 # listens on 127.0.0.1:2583
//! ATLEX_CHAT_ADDR=127.0.0.1:9000 cargo run -p chat-server
//! ```
//!
//! Three accounts exist, each acting through its bearer token:
//! alice (`alice-token`), bob (`bob-token`) and carol (`carol-token`).
//! For example:
//!
//! ```sh
//! curl -H 'Authorization: Bearer alice-token' \
//!   'http://127.0.0.1:2583/xrpc/chat.bsky.convo.listConvos?limit=10'
//! ```
//!
//! With `ATLEX_CHAT_SERVICE_DID` set (say `did:web:chat.example.com#bsky_chat`,
//! the DID and service id a PDS proxies to), it also accepts inter-service
//! JWTs for that audience, resolving issuers through `ATLEX_PLC_URL`
//! (`https://plc.directory` by default) and DNS.

use std::sync::Arc;

use atlex::identity::{DEFAULT_PLC_DIRECTORY, Resolver};
use atlex::server::ServiceAuthVerifier;
use chat_server::{ChatService, app_shared, app_with_service_auth, demo_accounts};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("ATLEX_CHAT_ADDR").unwrap_or_else(|_| "127.0.0.1:2583".to_owned());
    let accounts = demo_accounts();
    for account in &accounts {
        println!(
            "account {} ({}): Authorization: Bearer {}",
            account.handle, account.did, account.token
        );
    }
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "chat.bsky service listening on http://{}",
        listener.local_addr()?
    );
    let service = Arc::new(ChatService::new(accounts)?);
    let app = match std::env::var("ATLEX_CHAT_SERVICE_DID") {
        Ok(audience) => {
            let plc =
                std::env::var("ATLEX_PLC_URL").unwrap_or_else(|_| DEFAULT_PLC_DIRECTORY.to_owned());
            let resolver = Resolver::builder().plc_directory(plc).build()?;
            println!("accepting service-auth JWTs for {audience}");
            app_with_service_auth(service, ServiceAuthVerifier::new(resolver, audience))
        }
        Err(_) => app_shared(service),
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
