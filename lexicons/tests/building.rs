//! Building values the way the README shows: required fields by name
//! (`builder()`, or `new` for a type with one), `with_*` for the optional
//! ones, unions from their members, rich text with computed byte ranges.

use atlex::types::Datetime;
use atlex::validate::Validate;
use atlex_lexicons::app::bsky::embed::external;
use atlex_lexicons::app::bsky::feed::post::{Post, PostEmbed};
use atlex_lexicons::richtext::RichText;

#[test]
fn a_post_with_three_facets_and_an_external_embed() -> Result<(), Box<dyn std::error::Error>> {
    // README: begin post example
    let (text, facets) = RichText::new()
        .text("Out now, thanks to ")
        .mention(
            "@alice.example.com",
            "did:plc:ewvi7nxzyoun6zhxrhs64oiz".parse()?,
        )
        .text("! Notes: ")
        .link("atlex.dev/notes", "https://atlex.dev/notes".parse()?)
        .text(" ")
        .tag("rust")
        .into_parts();
    let card = external::ExternalDef::builder()
        .uri("https://atlex.dev/notes".parse()?)
        .title("Release notes")
        .description("What changed in 0.2")
        .build();
    let post = Post::builder()
        .text(text)
        .created_at(Datetime::now())
        .build()
        .with_facets(facets)
        .with_embed(external::External::new(card))
        .with_langs(vec!["en".parse()?]);
    // README: end post example

    post.validate()?;
    let json = serde_json::to_value(&post)?;
    assert_eq!(json["$type"], "app.bsky.feed.post");
    assert_eq!(json["embed"]["$type"], "app.bsky.embed.external");
    assert_eq!(json["facets"][1]["index"]["byteStart"], 46);
    assert_eq!(
        &post.text[46..61],
        "atlex.dev/notes",
        "the link's byte range"
    );
    assert!(matches!(post.embed, Some(PostEmbed::External(_))));
    let back: Post = serde_json::from_value(json)?;
    assert_eq!(back, post);
    Ok(())
}

/// The README shows the post example above, line for line.
#[test]
fn the_readme_shows_the_post_example() {
    let source = include_str!("building.rs");
    let begin = source.find("// README: begin post example\n").unwrap();
    let end = source.find("    // README: end post example").unwrap();
    let example: String = source[begin..end]
        .lines()
        .skip(1)
        .map(|line| format!("{}\n", line.strip_prefix("    ").unwrap_or(line)))
        .collect();
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(&example),
        "README.md no longer shows lexicons/tests/building.rs's post example:\n{example}"
    );
}
