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

use chat_server::{ChatService, app, demo_accounts};

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
    axum::serve(listener, app(ChatService::new(accounts)?))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
