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
fn generate_keeps_unknown_fields_when_asked() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extra");
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
    let kept = generate(&["--keep-unknown-fields"]);
    assert!(kept.contains("#[serde(flatten)]"), "{kept}");
    assert!(
        kept.contains("pub extra_fields: ::atlex::rt::ExtraFields"),
        "{kept}"
    );
    let dropped = generate(&[]);
    assert!(!dropped.contains("ExtraFields"), "{dropped}");
    std::fs::remove_dir_all(&out_dir).unwrap();
}

#[test]
fn generate_writes_then_check_passes_and_detects_drift() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/awkward");
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
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
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
