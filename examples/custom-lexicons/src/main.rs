//! Uses the generated types: builds a record, encodes it with its `$type`,
//! writes query parameters, and reads a response and an error.
//!
//! Run with `cargo run -p custom-lexicons`.

use atlex::data::Unknown;
use atlex::xrpc::{Endpoint, EndpointError, Params, QueryWriter};
use custom_lexicons::com::example::todo::{item, list_items};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A record, with a reference into com.atproto (from atlex-lexicons).
    let subject = atlex_lexicons::com::atproto::repo::strong_ref::StrongRef::builder()
        .uri("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vuowo2b".parse()?)
        .cid("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm".parse()?)
        .build();
    let record = item::Item::builder()
        .text("Answer the question in that post")
        .created_at(atlex::types::Datetime::now())
        .build()
        .with_priority(item::ItemPriority::High)
        .with_subject(subject);
    // As it would be written to a repository: with its $type.
    let data = Unknown::encode(&record)?;
    println!("record: {}", serde_json::to_string_pretty(data.as_value())?);
    println!(
        "done (lexicon default applies): {}",
        record.done_or_default()
    );

    // Query parameters of com.example.todo.listItems.
    let params =
        list_items::Params::new("alice.example.com".parse::<atlex::types::AtIdentifier>()?)
            .with_limit(10)
            .with_done(false);
    let mut query = QueryWriter::new();
    params.write_query(&mut query);
    println!(
        "GET /xrpc/{}?{}",
        list_items::ListItems::NSID,
        query.to_query_string()
    );

    // A response, and an error, as a server would send them.
    let output: list_items::Output = serde_json::from_str(&format!(
        r#"{{"items":[{{"uri":"at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/com.example.todo.item/3l3qo2vuowo2b",
            "cid":"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm","value":{}}}]}}"#,
        serde_json::to_string(data.as_value())?
    ))?;
    println!(
        "listed {} item(s): {:?}",
        output.items.len(),
        output.items[0].value.text
    );
    let error: list_items::Error =
        serde_json::from_str(r#"{"error":"UnknownActor","message":"no such account"}"#)?;
    match &error {
        list_items::Error::UnknownActor { message } => println!("typed error: {message:?}"),
        other => println!("other error: {}", other.name()),
    }
    Ok(())
}
