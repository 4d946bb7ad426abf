//! Leaving a conversation on three services from their lexicons: the
//! `chat.bsky.convo.leaveConvo` XRPC procedure, Slack's
//! `conversations.leave` and Bitrix24's `POST /v1/chats/{chatId}/leave`.
//!
//! The last two are not XRPC: their lexicons (`com.slack.conversations.leave`,
//! `com.bitrix24.chats.leave`) describe the request, response and errors,
//! and a binding file beside each says how they travel over HTTP. The same
//! generated code gives a typed client call and a server trait for all three.
//!
//! - [`slack`] and [`bitrix24`]: mocks of the two APIs built on the generated
//!   `Service` traits, for offline use and tests.
//! - [`outcome`]: one way of handling the typed errors of all three alike.

pub mod bitrix24;
pub mod outcome;
pub mod slack;

pub use outcome::{LeaveOutcome, Outcome};

/// Serves `app` on a free loopback port and returns its base URL.
pub async fn serve(app: axum::Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}
