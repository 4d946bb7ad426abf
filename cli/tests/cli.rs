//! The `atlex` command line tool, run as a user would.

use std::path::{Path, PathBuf};
use std::process::Command;

fn atlex() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atlex"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlex-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn validate_reports_ok_or_every_violation_with_exit_codes() {
    let lexicons = workspace().join("lexicons");
    let ok = temp_file(
        "ok.json",
        r#"{"$type":"app.bsky.feed.post","text":"hi","createdAt":"2026-01-01T00:00:00Z"}"#,
    );
    let out = atlex()
        .arg("validate")
        .arg("--lexicons")
        .arg(&lexicons)
        .arg(&ok)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));

    let bad = temp_file(
        "bad.json",
        &format!(
            r#"{{"$type":"app.bsky.feed.post","text":"{}","createdAt":"yesterday","langs":["en","x y"]}}"#,
            "é".repeat(301)
        ),
    );
    let out = atlex()
        .arg("validate")
        .arg("--lexicons")
        .arg(&lexicons)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "text: maxGraphemes: 301 graphemes",
        "createdAt: format",
        "langs[1]: format",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }

    // A definition other than a record, named explicitly.
    let view = temp_file(
        "view.json",
        r#"{"did":"did:plc:abc","handle":"not a handle"}"#,
    );
    let out = atlex()
        .args([
            "validate",
            "--nsid",
            "chat.bsky.actor.defs#profileViewBasic",
            "--lexicons",
        ])
        .arg(&lexicons)
        .arg(&view)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("handle: format"));

    // Unknown definition: a usage error, exit 2.
    let out = atlex()
        .args(["validate", "--nsid", "com.example.nothing", "--lexicons"])
        .arg(&lexicons)
        .arg(&view)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn validate_checks_the_parts_of_an_endpoint() {
    let lexicons = workspace().join("lexicons");
    let page = workspace().join("lexicons/tests/fixtures/list_convos_100.json");
    let run = |nsid: &str, part: &str, file: &Path| {
        atlex()
            .args(["validate", "--nsid", nsid, "--part", part, "--lexicons"])
            .arg(&lexicons)
            .arg(file)
            .output()
            .unwrap()
    };

    // A real response body against the query's output.
    let out = run("chat.bsky.convo.listConvos", "output", &page);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("ok (chat.bsky.convo.listConvos#main output)")
    );

    // The same page with a handle that breaks its format, deep inside.
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&page).unwrap()).unwrap();
    value["convos"][3]["members"][0]["handle"] = "not a handle".into();
    let bad = temp_file("bad-page.json", &value.to_string());
    let out = run("chat.bsky.convo.listConvos", "output", &bad);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("convos[3].members[0].handle: format"),
        "{text}"
    );

    // Parameters, as typed JSON values: limit is at most 100.
    let params = temp_file("params.json", r#"{"limit": 101}"#);
    let out = run("chat.bsky.convo.listConvos", "params", &params);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("limit: maximum"));

    // Input of a procedure: convoId is required.
    let input = temp_file("input.json", r#"{}"#);
    let out = run("chat.bsky.convo.leaveConvo", "input", &input);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("convoId"));

    // A query has no input; a record is no endpoint: usage errors, exit 2,
    // saying why.
    let out = run("chat.bsky.convo.listConvos", "input", &input);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("declares no input schema"));
    let out = run("app.bsky.feed.post", "output", &input);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a record definition"));
}

#[test]
fn generate_keeps_unknown_fields_unless_told_to_drop_them() {
    let fixtures = workspace().join("codegen/tests/fixtures/extra");
    let out_dir = std::env::temp_dir().join(format!("atlex-cli-extra-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let generate = |flags: &[&str]| {
        let out = atlex()
            .arg("generate")
            .arg("--lexicons")
            .arg(&fixtures)
            .arg("--out")
            .arg(&out_dir)
            .args(["--quiet", "--prune"])
            .args(flags)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        std::fs::read_to_string(out_dir.join("com/example/extra/post.rs")).unwrap()
    };
    // Kept by default; the old flag still says so.
    for flags in [&[][..], &["--keep-unknown-fields"]] {
        let kept = generate(flags);
        assert!(kept.contains("#[lex(unknown)]"), "{kept}");
        assert!(
            kept.contains("pub extra_fields: ::atlex::rt::ExtraFields"),
            "{kept}"
        );
    }
    let dropped = generate(&["--drop-unknown-fields"]);
    assert!(!dropped.contains("ExtraFields"), "{dropped}");
    std::fs::remove_dir_all(&out_dir).unwrap();
}

#[test]
fn generate_writes_then_check_passes_and_detects_drift() {
    let fixtures = workspace().join("codegen/tests/fixtures/awkward");
    let out_dir = std::env::temp_dir().join(format!("atlex-cli-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let run = |extra: &[&str]| {
        atlex()
            .arg("generate")
            .arg("--lexicons")
            .arg(&fixtures)
            .arg("--out")
            .arg(&out_dir)
            .arg("--quiet")
            .args(extra)
            .output()
            .unwrap()
    };
    assert_eq!(run(&[]).status.code(), Some(0));
    assert!(out_dir.join("com/example/awkward/names.rs").exists());
    assert_eq!(run(&["--check"]).status.code(), Some(0));
    std::fs::write(out_dir.join("com/example/awkward/names.rs"), "// edited\n").unwrap();
    let drift = run(&["--check"]);
    assert_eq!(drift.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&drift.stderr).contains("names.rs"));
    std::fs::remove_dir_all(&out_dir).unwrap();
}

#[test]
fn broken_lexicons_exit_non_zero_with_every_error() {
    let fixtures = workspace().join("codegen/tests/fixtures/broken");
    let out_dir = std::env::temp_dir().join(format!("atlex-cli-broken-{}", std::process::id()));
    let out = atlex()
        .arg("generate")
        .arg("--lexicons")
        .arg(&fixtures)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("18 error(s)"), "{text}");
    assert!(!out_dir.exists());
}

#[test]
fn validate_tells_lexicon_problems_and_unreadable_data_from_violations() {
    // A lexicon that refers to one that is not loaded: the data cannot be
    // judged, a lexicon problem (2), not a violation (1).
    let dir = std::env::temp_dir().join(format!("atlex-cli-partial-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("com/example")).unwrap();
    std::fs::write(
        dir.join("com/example/note.json"),
        r#"{"lexicon":1,"id":"com.example.note","defs":{"main":{"type":"record","key":"tid","record":{"type":"object","properties":{"ref":{"type":"ref","ref":"com.example.elsewhere#thing"}}}}}}"#,
    )
    .unwrap();
    let data = temp_file("note.json", r#"{"$type":"com.example.note","ref":{"x":1}}"#);
    let not_json = temp_file("not-json.json", "{\"$type\": ");
    let valid = temp_file("valid.json", r#"{"$type":"com.example.note"}"#);
    let run = |file: &Path| {
        atlex()
            .args(["validate", "--lexicons"])
            .arg(&dir)
            .arg(file)
            .output()
            .unwrap()
    };
    let out = run(&data);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("the lexicons refer to `com.example.elsewhere#thing`, which is not loaded"),
        "{out:?}"
    );
    // Data that is not JSON cannot be checked: 2, as --help says.
    let out = run(&not_json);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
    assert_eq!(run(&valid).status.code(), Some(0));
    // Every file is checked; the worst status wins.
    let out = atlex()
        .args(["validate", "--lexicons"])
        .arg(&dir)
        .arg(&not_json)
        .arg(&valid)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid.json: ok"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generate_takes_the_builders_options() {
    let sets = workspace().join("codegen/sets/lexicons");
    let out_dir = std::env::temp_dir().join(format!("atlex-cli-sets-{}", std::process::id()));
    let extern_lexicons = format!(
        "{}=::atlex_lexicons",
        workspace().join("lexicons").display()
    );
    let run = |set: &str, args: &[&str]| {
        atlex()
            .arg("generate")
            .arg("--lexicons")
            .arg(sets.join(set).join("lexicons"))
            .arg("--out")
            .arg(&out_dir)
            .args(["--extern-lexicons", &extern_lexicons])
            .args(args)
            .output()
            .unwrap()
    };
    // Without --skip-invalid, the set with an invalid document fails...
    let out = run("skip", &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // ...with it, the rest is generated, with warnings, and exit 0.
    let out = run("skip", &["--skip-invalid"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("generated 1 lexicons (5 left out)"), "{text}");
    assert!(
        text.contains(
            "left out: `com.example.shop.item` refers to `com.example.shop.base`, which is invalid"
        ),
        "{text}"
    );
    assert!(out_dir.join("com/example/shop/store.rs").exists());
    assert!(!out_dir.join("com/example/shop/item.rs").exists());
    // Bundled copies give way to --extern-lexicons; --exclude and
    // --no-layout-warnings are heard.
    let out = run("grain", &["--exclude", "drafts/**", "--no-layout-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("this copy of `app.bsky.feed.like` is ignored"),
        "{text}"
    );
    assert!(!text.contains("does not match the file's path"), "{text}");
    assert!(!text.contains("drafts"), "{text}");
    assert!(!out_dir.join("com/atproto").exists());
    let out = run("grain", &[]);
    assert_eq!(out.status.code(), Some(1), "the draft is invalid: {out:?}");
    // --only generates a prefix and what it needs.
    let out = run("tangled", &["--only", "sh.tangled.repo.pull", "--prune"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("generated 1 lexicons"));
    // A bad glob is a usage error.
    let out = run("tangled", &["--exclude", "a[b"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    std::fs::remove_dir_all(&out_dir).unwrap();
}
