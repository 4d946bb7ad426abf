//! The common handling of the three services' answers: chat.bsky through the
//! chat-server example, and the shared cases (rate limits, transport).

use std::time::{Duration, SystemTime};

use atlex::client::{Client, Error};
use atlex::error::CommonError;
use atlex_lexicons::chat::bsky::convo::leave_convo;
use atlex_lexicons::chat::bsky::group::create_group;
use atlex_lexicons::com::slack::conversations::leave as slack_leave;
use leave_everywhere::{LeaveOutcome, Outcome, serve};

#[tokio::test]
async fn chat_bsky_answers_sort_into_outcomes() {
    let service = chat_server::ChatService::new(chat_server::demo_accounts()).unwrap();
    let base = serve(chat_server::app(service)).await.unwrap();
    let client = |token: &str| Client::builder(&base).bearer(token).build().unwrap();
    let (alice, bob) = (client("alice-token"), client("bob-token"));
    let group = alice
        .procedure(
            create_group::CreateGroup,
            &create_group::Input::builder()
                .members(vec![
                    "did:plc:bob00000000000000000000b".parse().unwrap(),
                    "did:plc:carol000000000000000000c".parse().unwrap(),
                ])
                .name("g".to_owned())
                .build(),
        )
        .await
        .unwrap()
        .convo;
    let leave = leave_convo::Input::new(group.id);
    let first = bob.procedure(leave_convo::LeaveConvo, &leave).await;
    assert_eq!(first.outcome(), Outcome::Left);
    let again = bob.procedure(leave_convo::LeaveConvo, &leave).await;
    assert!(
        matches!(again.outcome(), Outcome::NotAMember(_)),
        "{again:?}"
    );
    let owner = alice.procedure(leave_convo::LeaveConvo, &leave).await;
    assert!(
        matches!(owner.outcome(), Outcome::NotAllowed(_)),
        "{owner:?}"
    );
    let stranger = client("nobody-token")
        .procedure(leave_convo::LeaveConvo, &leave)
        .await;
    assert!(
        matches!(stranger.outcome(), Outcome::NotAllowed(_)),
        "{stranger:?}"
    );
}

#[tokio::test]
async fn shared_cases() {
    let reset = SystemTime::now() + Duration::from_secs(60);
    let limited: Result<slack_leave::Output, _> = Err(Error::Common {
        status: 429,
        error: CommonError::RateLimitExceeded {
            message: None,
            reset: Some(reset),
        },
    });
    match limited.outcome() {
        Outcome::RetryLater(Some(wait)) => assert!(wait <= Duration::from_secs(60)),
        other => panic!("{other:?}"),
    }
    let unreachable = Client::new("http://127.0.0.1:9")
        .unwrap()
        .procedure(
            slack_leave::Leave,
            &slack_leave::Input::new("C1".to_owned()),
        )
        .await;
    // No token: refused before sending, which is neither a retry nor a
    // refusal of the service.
    assert!(
        matches!(unreachable.outcome(), Outcome::Other(_)),
        "{unreachable:?}"
    );
    let unreachable = Client::builder("http://127.0.0.1:9")
        .bearer("t")
        .build()
        .unwrap()
        .procedure(
            slack_leave::Leave,
            &slack_leave::Input::new("C1".to_owned()),
        )
        .await;
    assert_eq!(unreachable.outcome(), Outcome::RetryLater(None));
}
