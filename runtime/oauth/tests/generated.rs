//! Generated permission-set types expand as the reference implementation
//! expands their lexicons (the fixture of `interop.rs`), and generated
//! endpoints and records give the access they need.

use atlex_lexicons::app::bsky;
use atlex_lexicons::chat::bsky as chat;
use atlex_oauth::scope::{Access, IncludeScope, PermissionSet, RepoAction, Scope, Scopes};
use serde_json::Value;

const AUD: &str = "did:web:api.bsky.app#bsky_appview";

/// The reference's expansion of `include:<nsid>`, with or without the audience.
fn reference(nsid: &str, with_aud: bool) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/scopes.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let include = if with_aud {
        format!("include:{nsid}?aud=did:web:api.bsky.app%23bsky_appview")
    } else {
        format!("include:{nsid}")
    };
    let case = fixture["expansions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["include"] == include.as_str())
        .unwrap_or_else(|| panic!("no reference expansion of {include}"));
    case["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn expansion<S: atlex_core::permission::PermissionSet>(aud: Option<&str>) -> Vec<String> {
    let set = PermissionSet::of::<S>().unwrap();
    let include = IncludeScope::of::<S>(aud).unwrap();
    include.expand(&set).iter().map(Scope::to_string).collect()
}

macro_rules! check {
    ($($set:ty),+ $(,)?) => {{
        let mut checked = 0;
        $(
            let nsid = <$set as atlex_core::permission::PermissionSet>::NSID;
            assert_eq!(expansion::<$set>(None), reference(nsid, false), "{nsid}");
            assert_eq!(expansion::<$set>(Some(AUD)), reference(nsid, true), "{nsid} with aud");
            checked += 1;
        )+
        checked
    }};
}

#[test]
fn every_generated_permission_set_expands_as_the_reference_does() {
    let checked = check!(
        bsky::auth_create_posts::AuthCreatePosts,
        bsky::auth_delete_content::AuthDeleteContent,
        bsky::auth_full_app::AuthFullApp,
        bsky::auth_manage_feed_declarations::AuthManageFeedDeclarations,
        bsky::auth_manage_labeler_service::AuthManageLabelerService,
        bsky::auth_manage_moderation::AuthManageModeration,
        bsky::auth_manage_notifications::AuthManageNotifications,
        bsky::auth_manage_profile::AuthManageProfile,
        bsky::auth_view_all::AuthViewAll,
        chat::auth_full_chat_client::AuthFullChatClient,
    );
    // Every upstream permission set: the fixture has one case per set and
    // audience.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/scopes.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let upstream = fixture["expansions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["file"].as_str().unwrap().starts_with("(synthetic)"))
        .count();
    assert_eq!(checked * 2, upstream);
}

#[test]
fn a_session_granted_a_set_permits_what_the_set_names() {
    let set = PermissionSet::of::<bsky::auth_create_posts::AuthCreatePosts>().unwrap();
    let include = IncludeScope::of::<bsky::auth_create_posts::AuthCreatePosts>(Some(AUD)).unwrap();
    assert_eq!(
        include.to_string(),
        "include:app.bsky.authCreatePosts?aud=did:web:api.bsky.app%23bsky_appview"
    );
    let granted: Scopes = include.expand_to_scopes(&set);
    let post = Access::record::<bsky::feed::post::Post>(RepoAction::Create);
    assert!(granted.allows(&post));
    let delete = Access::record::<bsky::feed::post::Post>(RepoAction::Delete);
    assert_eq!(
        granted.require(&delete).unwrap_err().scope(),
        "repo:app.bsky.feed.post?action=delete"
    );
    let timeline = Access::endpoint::<bsky::feed::get_timeline::GetTimeline>(AUD);
    assert_eq!(
        granted.require(&timeline).unwrap_err().scope(),
        "rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview"
    );
    // A bad audience is refused as in a scope string.
    assert!(IncludeScope::of::<bsky::auth_view_all::AuthViewAll>(Some("did:web:x")).is_err());
}
