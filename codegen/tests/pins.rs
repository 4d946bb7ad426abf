//! `Builder::manifest` (feature `pins`): a build checks the lexicon files
//! against the CIDs `lexicons.json` pins, offline, whether the manifest is
//! named or found beside the lexicon directory. The project is the one
//! `@atproto/lex` installed for the command line tool's interop test.
//!
//! Without the feature (`cargo test -p atlex-codegen --test pins`, as
//! `.ci/run` does) a found manifest fails the build instead of being
//! ignored.

use std::path::{Path, PathBuf};

use atlex_codegen::Builder;
use atlex_codegen::builder::Error;

/// A copy of the installed project in a new directory.
fn project(name: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/lex_interop/ts");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pins-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&from, &dir);
    dir
}

#[cfg(feature = "pins")]
fn build(dir: &Path) -> Result<atlex_codegen::Generated, Error> {
    Builder::new()
        .lexicons(dir.join("lexicons"))
        .manifest(dir.join("lexicons.json"))
        .out_dir(dir.join("out"))
        .generate()
}

#[cfg(feature = "pins")]
fn problems(result: Result<atlex_codegen::Generated, Error>) -> Vec<String> {
    match result {
        Err(Error::Pins { problems, .. }) => problems,
        Err(other) => panic!("expected a pin problem, got {other}"),
        Ok(_) => panic!("expected a pin problem, the build passed"),
    }
}

#[cfg(feature = "pins")]
#[test]
fn the_pinned_files_build() {
    let dir = project("as-pinned");
    let generated = build(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(generated.documents, 3);
}

#[cfg(feature = "pins")]
#[test]
fn a_changed_or_missing_pinned_file_fails_the_build() {
    let dir = project("changed");
    let defs = dir.join("lexicons/com/example/defs.json");
    let text = std::fs::read_to_string(&defs).unwrap();
    std::fs::write(&defs, text.replace("\"name\"", "\"title\"")).unwrap();
    std::fs::remove_file(dir.join("lexicons/com/example/embed.json")).unwrap();
    let found = problems(build(&dir));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("defs.json: CID bafyrei"), "{found:?}");
    assert!(
        found[0].ends_with(
            "not the pinned bafyreihju2a7hmd26d3ryvndlqyeq5tyr2k6axstx7nqag4hom2awtgahu"
        ),
        "{found:?}"
    );
    assert_eq!(found[1], "com.example.embed is pinned but has no file");
    // The message says what to do.
    let message = build(&dir).err().unwrap().to_string();
    assert!(message.contains("atlex lex install"), "{message}");
}

#[cfg(feature = "pins")]
#[test]
fn a_missing_or_broken_manifest_fails_the_build() {
    let dir = project("no-manifest");
    std::fs::remove_file(dir.join("lexicons.json")).unwrap();
    assert_eq!(problems(build(&dir)), ["there is no such file"]);
    std::fs::write(
        dir.join("lexicons.json"),
        r#"{"version": 2, "lexicons": [], "resolutions": {}}"#,
    )
    .unwrap();
    let found = problems(build(&dir));
    assert!(found[0].contains("version 2"), "{found:?}");
}

/// A build of the project's lexicons that names no manifest.
fn build_found(dir: &Path, builder: Builder) -> Result<atlex_codegen::Generated, Error> {
    builder
        .lexicons(dir.join("lexicons"))
        .out_dir(dir.join("out"))
        .generate()
}

#[cfg(feature = "pins")]
#[test]
fn the_manifest_beside_the_lexicons_is_found_and_checked_unless_turned_off() {
    let dir = project("found");
    let generated = build_found(&dir, Builder::new()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(generated.documents, 3);
    let defs = dir.join("lexicons/com/example/defs.json");
    let text = std::fs::read_to_string(&defs).unwrap();
    std::fs::write(&defs, text.replace("\"name\"", "\"title\"")).unwrap();
    match build_found(&dir, Builder::new()) {
        Err(Error::Pins { manifest, problems }) => {
            assert_eq!(manifest, dir.join("lexicons.json"));
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].contains("defs.json: CID bafyrei"),
                "{problems:?}"
            );
        }
        Err(other) => panic!("expected a pin problem, got {other}"),
        Ok(_) => panic!("expected a pin problem, the build passed"),
    }
    // Turned off, the changed file builds.
    let generated =
        build_found(&dir, Builder::new().no_manifest()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(generated.documents, 3);
    // A manifest elsewhere is not looked for.
    std::fs::rename(dir.join("lexicons.json"), dir.join("pins.json")).unwrap();
    build_found(&dir, Builder::new()).unwrap_or_else(|e| panic!("{e}"));
    let named = build_found(&dir, Builder::new().manifest(dir.join("pins.json")));
    assert!(matches!(named, Err(Error::Pins { .. })));
}

#[cfg(not(feature = "pins"))]
#[test]
fn without_the_feature_a_found_manifest_fails_the_build() {
    let dir = project("unchecked");
    match build_found(&dir, Builder::new()) {
        Err(Error::PinsUnchecked { manifest }) => assert_eq!(manifest, dir.join("lexicons.json")),
        Err(other) => panic!("expected an unchecked manifest, got {other}"),
        Ok(_) => panic!("expected an unchecked manifest, the build passed"),
    }
    let message = build_found(&dir, Builder::new()).err().unwrap().to_string();
    assert!(message.contains("feature `pins`"), "{message}");
    let generated =
        build_found(&dir, Builder::new().no_manifest()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(generated.documents, 3);
}
