//! Leaves a conversation on chat.bsky, Slack and Bitrix24 through the
//! clients generated from their lexicons (and, for Slack and Bitrix24, their
//! HTTP bindings), and sorts every answer into one [`Outcome`]: left, not a
//! member, not allowed, retry later, or other.
//!
//! By default everything runs against local servers: the `chat-server`
//! example in-process, and mocks of Slack and Bitrix24 built on the generated
//! `Service` traits. Each service talks to the real thing when its variables
//! are set (this really leaves the conversation):
//!
//! | service | variables |
//! |---|---|
//! | chat.bsky | `ATLEX_CHAT_URL` (a PDS such as `https://bsky.social`), `ATLEX_CHAT_TOKEN` (an access token), `ATLEX_CHAT_CONVO` (the convo id), and `ATLEX_CHAT_PROXY` (for a PDS: `did:web:api.bsky.chat#bsky_chat`) |
//! | Slack | `SLACK_TOKEN` (a user token with the `*:write` scope of the conversation's type), `SLACK_CHANNEL` (`C…`), and `SLACK_API_URL` (default `https://slack.com/api`) |
//! | Bitrix24 | `BITRIX24_API_KEY`, `BITRIX24_CHAT_ID`, and `BITRIX24_USER_TOKEN` (an OAuth application's user session token) and `BITRIX24_URL` (default `https://vibecode.bitrix24.com`) |
//!
//! ```sh
//! cargo run -p leave-everywhere
//! SLACK_TOKEN=xoxp-… SLACK_CHANNEL=C0123456789 cargo run -p leave-everywhere
//! ```

use std::env;

use atlex::client::Client;
use atlex::xrpc::Endpoint as _;
use atlex_lexicons::chat::bsky::convo::{leave_convo, lock_convo};
use atlex_lexicons::chat::bsky::group::create_group;
use atlex_lexicons::com::bitrix24::chats::leave as bitrix_leave;
use atlex_lexicons::com::slack::conversations::leave as slack_leave;
use leave_everywhere::bitrix24::{self, BitrixPortal};
use leave_everywhere::slack::{self, SlackWorkspace};
use leave_everywhere::{LeaveOutcome, Outcome, serve};

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    bsky().await?;
    slack().await?;
    bitrix().await?;
    Ok(())
}

fn report(service: &str, what: &str, outcome: &Outcome) {
    println!("{service:<9} {what:<44} -> {outcome}");
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether all of `names` are set; says which are missing when only some are.
fn all_set(service: &str, names: &[&str]) -> bool {
    let missing: Vec<&str> = names.iter().copied().filter(|n| var(n).is_none()).collect();
    if !missing.is_empty() && missing.len() < names.len() {
        println!(
            "{service}: {} not set; using local servers",
            missing.join(", ")
        );
    }
    missing.is_empty()
}

async fn bsky() -> Result<(), BoxError> {
    if all_set(
        "chat.bsky",
        &["ATLEX_CHAT_URL", "ATLEX_CHAT_TOKEN", "ATLEX_CHAT_CONVO"],
    ) {
        let mut builder = Client::builder(&var("ATLEX_CHAT_URL").unwrap_or_default())
            .bearer(var("ATLEX_CHAT_TOKEN").unwrap_or_default());
        if let Some(proxy) = var("ATLEX_CHAT_PROXY") {
            builder = builder.proxy(proxy);
        }
        let client = builder.build()?;
        let convo_id = var("ATLEX_CHAT_CONVO").unwrap_or_default();
        let result = client
            .procedure(
                leave_convo::LeaveConvo,
                &leave_convo::Input::new(convo_id.clone()),
            )
            .await;
        report("chat.bsky", &format!("leave {convo_id}"), &result.outcome());
        return Ok(());
    }

    // The chat-server example, in-process: alice makes a group with bob and
    // carol; bob leaves, then tries again; alice, the owner, tries too.
    let service = chat_server::ChatService::new(chat_server::demo_accounts())?;
    let base = serve(chat_server::app(service)).await?;
    let client = |token: &str| Client::builder(&base).bearer(token).build();
    let (alice, bob) = (client("alice-token")?, client("bob-token")?);
    let group = alice
        .procedure(
            create_group::CreateGroup,
            &create_group::Input::builder()
                .members(vec![
                    "did:plc:bob00000000000000000000b".parse()?,
                    "did:plc:carol000000000000000000c".parse()?,
                ])
                .name("Leaving party".to_owned())
                .build(),
        )
        .await?
        .convo;
    let leave = leave_convo::Input::new(group.id.clone());
    let result = bob.procedure(leave_convo::LeaveConvo, &leave).await;
    report("chat.bsky", "bob leaves the group", &result.outcome());
    let result = bob.procedure(leave_convo::LeaveConvo, &leave).await;
    report("chat.bsky", "bob leaves it again", &result.outcome());
    let result = alice.procedure(leave_convo::LeaveConvo, &leave).await;
    report("chat.bsky", "alice (the owner) leaves", &result.outcome());
    if let Outcome::NotAllowed(_) = result.outcome() {
        let lock = lock_convo::Input::new(group.id.clone());
        alice.procedure(lock_convo::LockConvo, &lock).await?;
        let result = alice.procedure(leave_convo::LeaveConvo, &leave).await;
        report(
            "chat.bsky",
            "alice locks the group, then leaves",
            &result.outcome(),
        );
    }
    Ok(())
}

async fn slack() -> Result<(), BoxError> {
    if all_set("Slack", &["SLACK_TOKEN", "SLACK_CHANNEL"]) {
        let base = var("SLACK_API_URL")
            .or_else(|| slack_leave::Leave::BINDING.base_url.map(str::to_owned))
            .unwrap_or_default();
        let client = Client::builder(&base)
            .bearer(var("SLACK_TOKEN").unwrap_or_default())
            .build()?;
        let channel = var("SLACK_CHANNEL").unwrap_or_default();
        let result = client
            .procedure(
                slack_leave::Leave,
                &slack_leave::Input::new(channel.clone()),
            )
            .await;
        report("Slack", &format!("leave {channel}"), &result.outcome());
        return Ok(());
    }

    let workspace = SlackWorkspace::demo();
    let base = serve(workspace.router()).await?;
    let alice = Client::builder(&base).bearer(slack::ALICE_TOKEN).build()?;
    let guest = Client::builder(&base).bearer(slack::GUEST_TOKEN).build()?;
    let stranger = Client::builder(&base).bearer("xoxp-revoked").build()?;
    for (who, client, channel) in [
        ("alice", &alice, "C0RANDOM"),
        ("alice", &alice, "C0RANDOM"),
        ("alice", &alice, "C0GENERAL"),
        ("alice", &alice, "C0LONELY"),
        ("alice", &alice, "C0NOPE"),
        ("a guest", &guest, "C0GENERAL"),
        ("a guest", &guest, "C0RANDOM"),
        ("a revoked token", &stranger, "C0RANDOM"),
    ] {
        let input = slack_leave::Input::new(channel.to_owned());
        let result = client.procedure(slack_leave::Leave, &input).await;
        report(
            "Slack",
            &format!("{who} leaves {channel}"),
            &result.outcome(),
        );
    }
    Ok(())
}

async fn bitrix() -> Result<(), BoxError> {
    if all_set("Bitrix24", &["BITRIX24_API_KEY", "BITRIX24_CHAT_ID"]) {
        let base = var("BITRIX24_URL")
            .or_else(|| bitrix_leave::Leave::BINDING.base_url.map(str::to_owned))
            .unwrap_or_default();
        let mut builder =
            Client::builder(&base).api_key(var("BITRIX24_API_KEY").unwrap_or_default());
        if let Some(token) = var("BITRIX24_USER_TOKEN") {
            builder = builder.bearer(token);
        }
        let client = builder.build()?;
        let chat_id: i64 = var("BITRIX24_CHAT_ID").unwrap_or_default().parse()?;
        let result = client
            .call(
                bitrix_leave::Leave,
                &bitrix_leave::Params::new(chat_id),
                &(),
            )
            .await;
        report(
            "Bitrix24",
            &format!("leave chat {chat_id}"),
            &result.outcome(),
        );
        return Ok(());
    }

    let base = serve(BitrixPortal::demo().router()).await?;
    let personal = Client::builder(&base)
        .api_key(bitrix24::PERSONAL_KEY)
        .build()?;
    let app = Client::builder(&base)
        .api_key(bitrix24::APP_KEY)
        .bearer(bitrix24::USER_2_SESSION)
        .build()?;
    let no_im = Client::builder(&base)
        .api_key(bitrix24::NO_IM_KEY)
        .build()?;
    for (who, client, chat_id) in [
        ("user 1 (personal key)", &personal, 456),
        ("user 1 (personal key)", &personal, 456),
        ("user 2 (app key + session)", &app, 789),
        ("user 1 (personal key)", &personal, 1000),
        ("a key without the im scope", &no_im, 456),
        ("user 1 (personal key)", &personal, 0),
    ] {
        let params = bitrix_leave::Params::new(chat_id);
        let result = client.call(bitrix_leave::Leave, &params, &()).await;
        report(
            "Bitrix24",
            &format!("{who} leaves chat {chat_id}"),
            &result.outcome(),
        );
    }
    Ok(())
}
