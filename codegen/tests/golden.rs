//! Golden tests: the generator's output for fixture lexicons, compared byte
//! for byte with checked-in files.
//!
//! - `awkward`: `tests/fixtures/awkward` → `golden/src/awkward.rs` (compiled
//!   and exercised by the `atlex-golden` crate);
//! - `extra`: `tests/fixtures/extra` generated with `keep_unknown_fields` →
//!   `golden/src/extra.rs` (compiled and exercised by `atlex-golden` too);
//! - `seeds`: the seed endpoints (leaveConvo, listConvos, removeReaction) and
//!   the convo definitions they use, and the Slack and Bitrix24 leave
//!   endpoints with their HTTP bindings, generated from the full set in
//!   `lexicons/` → `golden/seeds/`;
//! - `broken`: the diagnostics for `tests/fixtures/broken` → `golden/broken.txt`;
//! - `bindings`: the diagnostics for the binding files of
//!   `tests/fixtures/bindings` → `golden/bindings.txt`.
//!
//! After an intended change, run `ATLEX_BLESS=1 cargo test -p atlex-codegen
//! --test golden` and review the diff of the golden files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use atlex_codegen::catalog::Catalog;
use atlex_codegen::{Diagnostics, Layout, Options};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bless() -> bool {
    std::env::var_os("ATLEX_BLESS").is_some()
}

/// Compares `actual` with the golden file, or rewrites it when blessing.
fn check_golden(path: &Path, actual: &str) {
    if bless() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with ATLEX_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the generator's output (- golden, + actual):\n{}\n\
             (if the change is intended, run with ATLEX_BLESS=1 and review the diff)",
            path.display(),
            diff(&expected, actual),
        );
    }
}

/// A unified diff of the two texts, its length bounded so that a failure
/// stays readable.
fn diff(expected: &str, actual: &str) -> String {
    const MAX_LINES: usize = 200;
    let text = similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("golden", "actual")
        .to_string();
    let total = text.lines().count();
    let mut shown: String = text
        .lines()
        .take(MAX_LINES)
        .flat_map(|line| [line, "\n"])
        .collect();
    if total > MAX_LINES {
        shown.push_str(&format!("… ({} more diff lines)\n", total - MAX_LINES));
    }
    shown
}

#[test]
fn mismatches_show_a_diff() {
    let text = diff("a\nb\nc\n", "a\nB\nc\n");
    assert!(text.contains("-b\n+B"), "{text}");
}

fn load(dir: &Path) -> (Catalog, Diagnostics) {
    atlex_codegen::load_dirs(&[dir])
}

/// The `lexicons/` crate directory's catalog, as `cargo xtask gen` loads it.
fn upstream() -> Catalog {
    let dir = manifest_dir().join("../lexicons");
    let mut catalog = Catalog::new();
    let mut diagnostics = Diagnostics::new();
    catalog.load_crate_dir(&dir, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{diagnostics}");
    catalog
}

fn xtask_options() -> Options {
    Options {
        layout: Layout::Tree {
            root_file: "mod.rs".to_owned(),
        },
        namespace_features: true,
        server_feature: Some("server".to_owned()),
        regenerate_hint: "run `cargo xtask gen`".to_owned(),
        ..Options::default()
    }
}

#[test]
fn awkward_names() {
    let (catalog, diagnostics) = load(&manifest_dir().join("tests/fixtures/awkward"));
    assert!(diagnostics.is_empty(), "{diagnostics}");
    let options = Options {
        root: "crate::awkward".to_owned(),
        layout: Layout::SingleFile {
            file: "awkward.rs".to_owned(),
        },
        regenerate_hint: "run `ATLEX_BLESS=1 cargo test -p atlex-codegen --test golden`".to_owned(),
        ..Options::default()
    };
    let generated = atlex_codegen::generate(&catalog, &options).unwrap();
    // Every clash is resolved and reported, not silently renamed.
    let warnings: Vec<String> = generated
        .diagnostics
        .warnings()
        .map(|w| w.message.clone())
        .collect();
    for expected in [
        "is named `ErrorDef`",
        "is named `ParamsDef`",
        "is named `FooViewDef`",
        "is named `self_2`",
        "is named `foo_bar_2`",
        "is named `NSID2`",
        // The group's `Service` trait wins over the document's main type.
        "definition `com.example.awkward.service#main` would be named `Service`, like the generated `Service`; it is named `ServiceDef`",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(expected)),
            "no warning saying {expected:?}: {warnings:#?}"
        );
    }
    let text = &generated.files[Path::new("awkward.rs")];
    check_golden(&manifest_dir().join("golden/src/awkward.rs"), text);
}

#[test]
fn keep_unknown_fields() {
    let (catalog, diagnostics) = load(&manifest_dir().join("tests/fixtures/extra"));
    assert!(diagnostics.is_empty(), "{diagnostics}");
    let options = Options {
        root: "crate::extra".to_owned(),
        layout: Layout::SingleFile {
            file: "extra.rs".to_owned(),
        },
        regenerate_hint: "run `ATLEX_BLESS=1 cargo test -p atlex-codegen --test golden`".to_owned(),
        keep_unknown_fields: true,
        ..Options::default()
    };
    let generated = atlex_codegen::generate(&catalog, &options).unwrap();
    // The property named `extra` keeps its name; the kept properties move
    // to the next free name, with nothing to warn about.
    assert!(
        generated.diagnostics.is_empty(),
        "{}",
        generated.diagnostics
    );
    let text = &generated.files[Path::new("extra.rs")];
    assert!(text.contains("pub extra: Option<String>"), "{text}");
    assert!(
        text.contains("pub extra_fields: ::atlex::rt::ExtraFields"),
        "{text}"
    );
    check_golden(&manifest_dir().join("golden/src/extra.rs"), text);
}

#[test]
fn seed_endpoints() {
    let catalog = upstream();
    let generated = atlex_codegen::generate(&catalog, &xtask_options()).unwrap();
    for file in [
        "chat/bsky/convo/leave_convo.rs",
        "chat/bsky/convo/list_convos.rs",
        "chat/bsky/convo/remove_reaction.rs",
        "chat/bsky/convo/defs.rs",
        "com/slack/conversations/leave.rs",
        "com/slack/conversations/mod.rs",
        "com/bitrix24/chats/leave.rs",
    ] {
        let text = generated
            .files
            .get(Path::new(file))
            .unwrap_or_else(|| panic!("{file} not generated"));
        check_golden(&manifest_dir().join("golden/seeds").join(file), text);
    }
}

#[test]
fn broken_lexicons_report_every_problem() {
    let dir = manifest_dir().join("tests/fixtures/broken");
    let (catalog, mut diagnostics) = load(&dir);
    if let Err(errors) = atlex_codegen::generate(&catalog, &Options::default()) {
        diagnostics.extend(errors);
    }
    catalog.locate(&mut diagnostics);
    diagnostics.sort();
    assert!(diagnostics.has_errors());
    for diagnostic in diagnostics.iter() {
        for location in diagnostic.places() {
            assert!(
                location.line_col.is_some(),
                "no line and column: {diagnostic}"
            );
        }
    }
    // Paths relative to the fixture directory, so the text is the same on
    // every machine.
    let prefix = format!("{}/", dir.display());
    let text = diagnostics.to_string().replace(&prefix, "");
    check_golden(
        &manifest_dir().join("golden/broken.txt"),
        &format!("{text}\n"),
    );
}

#[test]
fn broken_bindings_report_every_problem() {
    let dir = manifest_dir().join("tests/fixtures/bindings");
    let (catalog, mut diagnostics) = load(&dir);
    assert!(!diagnostics.has_errors(), "{diagnostics}");
    match atlex_codegen::generate(&catalog, &Options::default()) {
        Err(errors) => diagnostics.extend(errors),
        Ok(generated) => panic!(
            "generated despite broken bindings: {}",
            generated.diagnostics
        ),
    }
    catalog.locate(&mut diagnostics);
    diagnostics.sort();
    let prefix = format!("{}/", dir.display());
    let text = diagnostics.to_string().replace(&prefix, "");
    check_golden(
        &manifest_dir().join("golden/bindings.txt"),
        &format!("{text}\n"),
    );
}

#[test]
fn generation_is_deterministic() {
    let catalog = upstream();
    let first = atlex_codegen::generate(&catalog, &xtask_options()).unwrap();
    // A second catalog, loaded separately: nothing may depend on hash order,
    // thread timing or load order.
    let second = atlex_codegen::generate(&upstream(), &xtask_options()).unwrap();
    assert_eq!(first.files.len(), second.files.len());
    let differing: Vec<&PathBuf> = first
        .files
        .iter()
        .filter(|(path, text)| second.files.get(*path) != Some(text))
        .map(|(path, _)| path)
        .collect();
    assert!(differing.is_empty(), "differ between runs: {differing:?}");
    let features: BTreeMap<_, _> = first.features.clone();
    assert_eq!(features, second.features);
}
