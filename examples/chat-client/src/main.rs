//! Drives the chat.bsky service of `examples/chat-server` with the atlex
//! client and the generated endpoints: pages through convos, sends messages,
//! reacts, removes a reaction twice (it is idempotent), and tries to leave a
//! group as its owner, handling the typed `OwnerCannotLeave`.
//!
//! ```sh
//! cargo run -p chat-server &                     # in one terminal
//! ATLEX_CHAT_URL=http://127.0.0.1:2583 cargo run -p chat-client
//! cargo run -p chat-client                       # or: starts a server in-process
//! ```

use atlex::client::{Client, Error};
use atlex_lexicons::chat::bsky::convo::{
    add_reaction, defs, get_convo_for_members, leave_convo, list_convos, lock_convo,
    remove_reaction, send_message,
};
use atlex_lexicons::chat::bsky::group::create_group;
use futures_util::StreamExt as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = match std::env::var("ATLEX_CHAT_URL") {
        Ok(url) => url,
        Err(_) => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let app =
                chat_server::app(chat_server::ChatService::new(chat_server::demo_accounts())?);
            tokio::spawn(async move { axum::serve(listener, app).await });
            println!("(no ATLEX_CHAT_URL: started the example server on {addr})");
            format!("http://{addr}")
        }
    };
    let alice = Client::builder(&base).bearer("alice-token").build()?;
    let bob_did: atlex::types::Did = "did:plc:bob00000000000000000000b".parse()?;
    let carol_did: atlex::types::Did = "did:plc:carol000000000000000000c".parse()?;

    // A direct convo with bob, and a group with bob and carol.
    let direct = alice
        .query(
            get_convo_for_members::GetConvoForMembers,
            &get_convo_for_members::Params::new(vec![bob_did.clone()]),
        )
        .await?
        .convo;
    let group = alice
        .procedure(
            create_group::CreateGroup,
            &create_group::Input::builder()
                .members(vec![bob_did, carol_did])
                .name("Weekend plans".to_owned())
                .build(),
        )
        .await?
        .convo;
    println!("direct convo {}, group convo {}", direct.id, group.id);

    let hello = send(&alice, &direct.id, "Hi Bob!").await?;
    send(&alice, &group.id, "Who's in for Saturday?").await?;

    // Page through the convos, one per page, following the cursor.
    let params = list_convos::Params::new().with_limit(1);
    let mut pages = alice.pages(list_convos::ListConvos, params);
    let mut n = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        n += 1;
        for convo in &page.convos {
            println!(
                "page {n}: {} with {} member(s), last message {}",
                convo.id,
                convo.members.len(),
                last_text(convo)
            );
        }
    }

    // React, then remove the reaction twice: the second removal is a no-op.
    let react = add_reaction::Input::builder()
        .convo_id(direct.id.clone())
        .message_id(hello.id.clone())
        .value("👍".to_owned())
        .build();
    let reacted = alice.procedure(add_reaction::AddReaction, &react).await?;
    println!(
        "reactions after adding: {}",
        reaction_count(&reacted.message)
    );
    let removal = remove_reaction::Input::builder()
        .convo_id(react.convo_id.clone())
        .message_id(react.message_id.clone())
        .value(react.value.clone())
        .build();
    for attempt in 1..=2 {
        let out = alice
            .procedure(remove_reaction::RemoveReaction, &removal)
            .await?;
        println!(
            "removal {attempt}: reactions now {}",
            reaction_count(&out.message)
        );
    }

    // Not an emoji: the declared error, typed.
    let bad = add_reaction::Input::builder()
        .convo_id(react.convo_id.clone())
        .message_id(react.message_id.clone())
        .value("ok")
        .build();
    match alice.procedure(add_reaction::AddReaction, &bad).await {
        Err(Error::Endpoint {
            error: add_reaction::Error::ReactionInvalidValue { message },
            status,
        }) => println!("reaction \"ok\" refused ({status}): ReactionInvalidValue {message:?}"),
        other => println!("unexpected: {other:?}"),
    }

    // The owner cannot leave an unlocked group.
    let leave = leave_convo::Input::new(group.id.clone());
    match alice.procedure(leave_convo::LeaveConvo, &leave).await {
        Err(Error::Endpoint {
            error: leave_convo::Error::OwnerCannotLeave { message },
            status,
        }) => {
            println!("leaving as owner refused ({status}): OwnerCannotLeave {message:?}");
            alice
                .procedure(
                    lock_convo::LockConvo,
                    &lock_convo::Input::new(group.id.clone()),
                )
                .await?;
            let left = alice.procedure(leave_convo::LeaveConvo, &leave).await?;
            println!("after locking the group, left it at rev {}", left.rev);
        }
        Err(other) => return Err(other.into()),
        Ok(_) => println!("unexpected: the owner left an unlocked group"),
    }
    Ok(())
}

async fn send(
    client: &Client,
    convo_id: &str,
    text: &str,
) -> Result<defs::MessageView, Error<send_message::Error>> {
    client
        .procedure(
            send_message::SendMessage,
            &send_message::Input::builder()
                .convo_id(convo_id.to_owned())
                .message(defs::MessageInput::new(text.to_owned()))
                .build(),
        )
        .await
}

fn last_text(convo: &defs::ConvoView) -> String {
    match &convo.last_message {
        Some(defs::ConvoViewLastMessage::MessageView(m)) => format!("{:?}", m.text),
        Some(defs::ConvoViewLastMessage::SystemMessageView(_)) => "(system message)".to_owned(),
        Some(defs::ConvoViewLastMessage::DeletedMessageView(_)) => "(deleted)".to_owned(),
        Some(defs::ConvoViewLastMessage::Unknown(u)) => format!("(unknown {:?})", u.type_name()),
        // Members a newer lexicon adds, which these bindings would know.
        Some(other) => format!("({other:?})"),
        None => "(none)".to_owned(),
    }
}

fn reaction_count(message: &defs::MessageView) -> usize {
    message.reactions.as_ref().map_or(0, Vec::len)
}
