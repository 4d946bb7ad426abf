//! `atlex lex lint`, run as CI would: findings with file:line:col, JSON
//! output, and exit statuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lint(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atlex"))
        .args(["lex", "lint"])
        .args(args)
        .arg(dir)
        .output()
        .unwrap()
}

/// A directory holding `files` (path, text), fresh for each test.
fn lexicon_dir(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlex-lint-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const CLEAN: &str = r#"{"lexicon": 1, "id": "com.example.thing", "defs": {
  "main": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 64}}}
}}"#;

const WARNS: &str = r#"{"lexicon": 1, "id": "com.example.thing", "defs": {
  "main": {"type": "record", "description": "A thing.", "key": "tid", "record": {
    "type": "object", "properties": {"name": {"type": "string"}}}}
}}"#;

const BROKEN: &str = r##"{"lexicon": 1, "id": "com.example.thing", "defs": {
  "main": {"type": "object", "properties": {"other": {"type": "ref", "ref": "#missing"}}}
}}"##;

#[test]
fn a_clean_set_exits_zero() {
    let dir = lexicon_dir("clean", &[("com/example/thing.json", CLEAN)]);
    let out = lint(&[], &dir);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 document(s): 0 error(s), 0 warning(s)")
    );
}

#[test]
fn warnings_fail_only_when_denied() {
    let dir = lexicon_dir("warns", &[("com/example/thing.json", WARNS)]);
    let out = lint(&[], &dir);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("com/example/thing.json:3:46: warning[LEX301 string-unbounded]"),
        "{stdout}"
    );
    let out = lint(&["--deny-warnings"], &dir);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = lint(&["--quiet"], &dir);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn errors_exit_one_and_json_names_rule_and_place() {
    let dir = lexicon_dir("broken", &[("com/example/thing.json", BROKEN)]);
    let out = lint(&["--format", "json"], &dir);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], 1, "{report}");
    assert_eq!(report["documents"], 1, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["code"], "LEX003", "{finding}");
    assert_eq!(finding["rule"], "ref-missing", "{finding}");
    assert_eq!(finding["severity"], "error", "{finding}");
    assert_eq!(finding["line"], 2, "{finding}");
    assert_eq!(finding["column"], 77, "{finding}");
    assert_eq!(finding["pointer"], "/defs/main/properties/other/ref");
    assert!(
        finding["file"]
            .as_str()
            .unwrap()
            .ends_with("com/example/thing.json")
    );
}

#[test]
fn a_bad_argument_exits_two() {
    let dir = lexicon_dir("args", &[("com/example/thing.json", CLEAN)]);
    assert_eq!(lint(&["--format", "xml"], &dir).status.code(), Some(2));
    assert_eq!(lint(&["--exclude", "a{"], &dir).status.code(), Some(2));
}

#[test]
fn rules_are_listed() {
    let out = Command::new(env!("CARGO_BIN_EXE_atlex"))
        .args(["lex", "lint", "--rules"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for rule in atlex_codegen::lint::RULES {
        assert!(
            stdout.contains(&format!("{} {} (", rule.code, rule.name)),
            "{}: {stdout}",
            rule.name
        );
    }
}
