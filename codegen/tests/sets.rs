//! The lexicon sets of `atlex-sets` (`codegen/sets`): what generating each
//! reports, compared with `codegen/sets/expected/<set>.txt`, and the figures
//! (documents generated, left out, warnings). `atlex-sets` compiles the same
//! output; this test checks what is said about it.
//!
//! After an intended change, run `ATLEX_BLESS=1 cargo test -p atlex-codegen
//! --test sets` and review the diff.

use std::path::{Path, PathBuf};

include!("../sets/sets.rs");

fn sets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sets")
}

fn extern_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lexicons")
}

/// The report of a set: its figures, then every diagnostic, with paths
/// relative to `codegen/sets`.
fn report(set: &Set) -> (atlex_codegen::Generated, String) {
    let generated = builder(set, &sets_dir(), &extern_dir())
        .generate()
        .unwrap_or_else(|e| panic!("set `{}` does not generate:\n{e}", set.name));
    let diagnostics = &generated.diagnostics;
    let mut text = format!(
        "{}: {} documents generated, {} left out, {} warnings\n",
        set.name,
        generated.documents,
        generated.left_out.len(),
        diagnostics.warnings().count()
    );
    text.push_str(&diagnostics.to_string());
    text.push('\n');
    let text = text
        .replace(&format!("{}/", sets_dir().display()), "")
        .replace(&format!("{}/", extern_dir().display()), "<atlex-lexicons>/");
    (generated, text)
}

fn check(set: &Set) -> atlex_codegen::Generated {
    let (generated, text) = report(set);
    // Every diagnostic, and every place it refers to, has a line and column.
    for diagnostic in generated.diagnostics.iter() {
        for location in diagnostic.places() {
            assert!(
                location.line_col.is_some(),
                "no line and column: {diagnostic}"
            );
        }
    }
    println!("{}", text.lines().next().unwrap_or_default());
    let path = sets_dir()
        .join("expected")
        .join(format!("{}.txt", set.name));
    if std::env::var_os("ATLEX_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return generated;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with ATLEX_BLESS=1)", path.display()));
    if expected != text {
        panic!(
            "{} differs from what generating `{}` reports:\n--- expected\n{expected}\n--- actual\n{text}\n(if intended, run with ATLEX_BLESS=1 and review the diff)",
            path.display(),
            set.name
        );
    }
    generated
}

fn set(name: &str) -> &'static Set {
    SETS.iter().find(|s| s.name == name).unwrap()
}

fn warnings(generated: &atlex_codegen::Generated) -> Vec<String> {
    generated
        .diagnostics
        .warnings()
        .map(|w| w.message.clone())
        .collect()
}

#[test]
fn every_set_reports_what_it_did() {
    for set in SETS {
        check(set);
    }
}

#[test]
fn a_layout_rooted_inside_the_namespace_is_silent() {
    let generated = check(set("tangled"));
    let warnings = warnings(&generated);
    // `actor/profile.json` spells the end of `sh.tangled.actor.profile`;
    // `repo/repo.json` does not spell `sh.tangled.repo`.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains("`sh.tangled.repo`"), "{warnings:#?}");
    // The only selected document and what it needs: nothing said about the rest.
    let pull = check(set("tangled_pull"));
    assert_eq!(pull.documents, 1);
    assert!(pull.diagnostics.is_empty(), "{}", pull.diagnostics);
    assert!(pull.unselected.contains("sh.tangled.repo"));
}

#[test]
fn bundled_copies_give_way_to_the_extern_crate() {
    let generated = check(set("grain"));
    let warnings = warnings(&generated);
    let about = |nsid: &str| {
        warnings
            .iter()
            .filter(|w| w.contains(&format!("copy of `{nsid}` is ignored")))
            .count()
    };
    // Identical copies are silent; the others say how they differ.
    assert_eq!(about("com.atproto.repo.strongRef"), 0);
    assert_eq!(about("app.bsky.richtext.facet"), 0);
    assert_eq!(about("com.atproto.label.defs"), 1);
    assert_eq!(about("app.bsky.feed.like"), 1);
    // A copy that is not even a valid lexicon is ignored all the same.
    assert_eq!(about("com.atproto.repo.getRecord"), 1);
    assert!(!generated.diagnostics.has_errors());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("property removed at app.bsky.feed.like#main.via")),
        "{warnings:#?}"
    );
    // The app.bsky document the extern crate lacks is generated here; the
    // excluded draft directory is not read at all.
    assert!(
        generated
            .files
            .values()
            .any(|text| text.contains("pub struct DraftPost"))
    );
    assert!(!generated.diagnostics.to_string().contains("drafts/"));
}

#[test]
fn definition_names_outside_the_spec_are_warned_about_and_kept_on_the_wire() {
    let generated = check(set("streamplace"));
    let warnings = warnings(&generated);
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.contains("is outside the Lexicon syntax"))
            .count(),
        9,
        "{warnings:#?}"
    );
    let text: String = generated.files.values().cloned().collect();
    assert!(text.contains(
        r#"pub const CC_BY_NC_ND_4_0: &str = "place.stream.metadata.contentRights#cc-by-nc-nd_4__0";"#
    ));
    assert!(text.contains(r#""place.stream.metadata.configuration#stream-only""#));
}

#[test]
fn invalid_documents_are_left_out_with_their_dependents() {
    let generated = check(set("skip"));
    let left_out: Vec<&str> = generated.left_out.keys().map(String::as_str).collect();
    assert_eq!(
        left_out,
        [
            "com.example.shop.base",
            "com.example.shop.getCart",
            "com.example.shop.item",
            "com.example.shop.listReviews",
            "com.example.shop.profile",
            "com.example.shop.review",
        ]
    );
    assert_eq!(generated.documents, 1);
    let warnings = warnings(&generated);
    assert!(warnings.contains(
        &"left out: `com.example.shop.getCart` refers to `com.example.shop.item`, which refers to `com.example.shop.base`, which is invalid".to_owned()
    ), "{warnings:#?}");
    assert!(!generated.diagnostics.has_errors());
    // Without skip_invalid the same set fails, with every problem.
    let strict = builder(set("skip"), &sets_dir(), &extern_dir()).skip_invalid(false);
    match strict.generate() {
        Err(atlex_codegen::builder::Error::Lexicons(diagnostics)) => {
            assert_eq!(diagnostics.errors().count(), 6, "{diagnostics}");
        }
        other => panic!(
            "generated without skip_invalid: {:?}",
            other.map(|g| g.documents)
        ),
    }
}
