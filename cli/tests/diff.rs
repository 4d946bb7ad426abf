//! `atlex diff` run as a user would: files, directories, `git:REV:PATH`,
//! JSON output, acknowledgements and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

fn object(props: Value, required: &[&str], nullable: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required, "nullable": nullable})
}

/// A fresh directory under cargo's scratch space for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("diff-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_doc(root: &Path, nsid: &str, value: &Value) {
    let path = root.join(format!("{}.json", nsid.replace('.', "/")));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn atlex(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atlex"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn endpoint(errors: &[&str], extra_output: bool) -> Value {
    let errors: Vec<Value> = errors.iter().map(|e| json!({"name": e})).collect();
    let mut props = json!({"message": {"type": "string"}});
    if extra_output {
        props["edited"] = json!({"type": "boolean"});
    }
    json!({"lexicon": 1, "id": "com.example.chat.react", "defs": {"main": {
        "type": "procedure",
        "input": {"encoding": "application/json", "schema": object(json!({"value": {"type": "string", "maxLength": 64}}), &["value"], &[])},
        "output": {"encoding": "application/json", "schema": object(props, &["message"], &[])},
        "errors": errors,
    }}})
}

#[test]
fn cli_directories_text_json_and_exit_codes() {
    let dir = scratch("cli");
    let (old, new, broken) = (dir.join("old"), dir.join("new"), dir.join("broken"));
    write_doc(&old, "com.example.chat.react", &endpoint(&["A"], false));
    write_doc(&new, "com.example.chat.react", &endpoint(&["A", "B"], true));
    let mut tightened = endpoint(&["A"], false);
    tightened["defs"]["main"]["input"]["schema"]["properties"]["value"]["maxLength"] = json!(32);
    write_doc(&broken, "com.example.chat.react", &tightened);
    // A crate's src/ and tests/ are not lexicons.
    write_doc(&new.join("tests"), "fixture", &json!({"not": "a lexicon"}));

    let (code, out, err) = atlex(&["diff", "old", "new"], &dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("com.example.chat.react: compatible (changed, 2 changes)"),
        "{out}"
    );
    assert!(
        out.contains("[compatible] error added at com.example.chat.react#main.errors.B"),
        "{out}"
    );
    assert!(out.contains("existing clients: tolerated"), "{out}");
    assert!(
        out.contains("verdict: compatible; 1 of 1 documents differ"),
        "{out}"
    );

    let (code, out, _) = atlex(&["diff", "old", "broken", "--format", "json"], &dir);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "breaking");
    assert_eq!(report["fails"], true);
    let change = &report["documents"][0]["changes"][0];
    assert_eq!(change["kind"], "constraint_tightened");
    assert_eq!(change["constraint"], "maxLength");
    assert_eq!(
        change["location"],
        "com.example.chat.react#main.input.value"
    );
    assert_eq!(
        change["pointer"],
        "/defs/main/input/schema/properties/value/maxLength"
    );
    assert_eq!(
        (change["old"].clone(), change["new"].clone()),
        (json!(64), json!(32))
    );
    assert_eq!(change["flow"], "request");
    assert_eq!(change["writers"], "validation");
    assert_eq!(change["breaks"], json!(["clients"]));

    // Acknowledged, the same diff passes.
    std::fs::write(
        dir.join("acks.json"),
        r#"{"acknowledged": [{"nsid": "com.example.chat.react", "change": "constraint_tightened", "reason": "no client sends more"}]}"#,
    )
    .unwrap();
    let (code, out, _) = atlex(
        &["diff", "old", "broken", "--acknowledged", "acks.json"],
        &dir,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("acknowledged: no client sends more"), "{out}");

    // A file against a directory entry, and inputs that cannot be read.
    let (code, _, _) = atlex(
        &[
            "diff",
            "old/com/example/chat/react.json",
            "new/com/example/chat/react.json",
        ],
        &dir,
    );
    assert_eq!(code, 0);
    let (code, _, err) = atlex(&["diff", "old", "nowhere"], &dir);
    assert_eq!(code, 2);
    assert!(err.contains("nowhere"), "{err}");
    std::fs::write(dir.join("bad-acks.json"), "{}").unwrap();
    let (code, _, _) = atlex(
        &["diff", "old", "new", "--acknowledged", "bad-acks.json"],
        &dir,
    );
    assert_eq!(code, 2);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn cli_git_revisions() {
    let dir = scratch("git");
    git(&dir, &["init", "-q"]);
    let lex = dir.join("lexicons");
    write_doc(&lex, "com.example.chat.react", &endpoint(&["A"], false));
    write_doc(
        &lex,
        "com.example.chat.other",
        &json!({"lexicon": 1, "id": "com.example.evo", "defs": {"t": {"type": "token"}}}),
    );
    std::fs::create_dir_all(lex.join("src")).unwrap();
    std::fs::write(lex.join("src/ignored.json"), "not json").unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "one"]);
    write_doc(&lex, "com.example.chat.react", &endpoint(&[], false));
    git(&dir, &["commit", "-q", "-am", "two"]);

    let (code, out, err) = atlex(&["diff", "git:HEAD~1:lexicons", "git:HEAD:lexicons"], &dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("error removed at com.example.chat.react#main.errors.A"),
        "{out}"
    );
    assert!(out.contains("1 of 2 documents differ"), "{out}");
    // A revision against the working tree, from another directory.
    let elsewhere = scratch("git-elsewhere");
    let repo = dir.to_str().unwrap();
    let worktree = lex.to_str().unwrap();
    let (code, out, _) = atlex(
        &[
            "diff",
            "git:HEAD~1:lexicons",
            worktree,
            "--repo",
            repo,
            "--format",
            "json",
        ],
        &elsewhere,
    );
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["changed"], 1);
    // One file at a revision.
    let (code, out, _) = atlex(
        &[
            "diff",
            "git:HEAD~1:lexicons/com/example/chat/react.json",
            "git:HEAD:./lexicons/com/example/chat/react.json",
        ],
        &dir,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("error removed"), "{out}");
    // No such revision.
    let (code, _, err) = atlex(&["diff", "git:nope:lexicons", "lexicons"], &dir);
    assert_eq!(code, 2);
    assert!(err.contains("git"), "{err}");
}

#[test]
fn cli_refs_into_other_lexicons_are_classified_with_them_loaded() {
    let root = scratch("context");
    let record = |target: &str| {
        json!({"lexicon": 1, "id": "com.example.post", "defs": {"main": {
            "type": "record", "key": "tid",
            "record": object(json!({"author": {"type": "ref", "ref": target}}), &[], &[])
        }}})
    };
    write_doc(
        &root.join("old"),
        "com.example.post",
        &record("com.other.defs#one"),
    );
    write_doc(
        &root.join("new"),
        "com.example.post",
        &record("com.other.defs#two"),
    );
    // Two definitions of the same shape in another set.
    let same = object(json!({"name": {"type": "string"}}), &["name"], &[]);
    write_doc(
        &root.join("other"),
        "com.other.defs",
        &json!({"lexicon": 1, "id": "com.other.defs", "defs": {"one": same, "two": same}}),
    );

    let (code, out, _) = atlex(&["diff", "old", "new"], &root);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[unclassified] ref changed"), "{out}");
    assert!(out.contains("not loaded"), "{out}");

    for flag in ["--lexicons", "--extern-lexicons"] {
        let other = if flag == "--lexicons" {
            "other"
        } else {
            "other=atlex_other"
        };
        let (code, out, err) = atlex(&["diff", "old", "new", flag, other], &root);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("[compatible] ref changed at com.example.post#main.author"),
            "{out}"
        );
        assert!(!out.contains("[unclassified]"), "{out}");
    }
    let (code, _, err) = atlex(&["diff", "old", "new", "--lexicons", "missing"], &root);
    assert_eq!(code, 2);
    assert!(err.contains("reading missing"), "{err}");
}
