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
    assert!(text.contains("20 error(s)"), "{text}");
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
    assert!(text.contains("generated 1 lexicons (6 left out)"), "{text}");
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

/// Lexicons in two namespaces that refer to each other's definitions from
/// modules at different depths.
const MOUNTED_LEXICONS: &[(&str, &str)] = &[
    (
        "com/example/mount/post.json",
        r##"{"lexicon": 1, "id": "com.example.mount.post", "defs": {
            "main": {"type": "record", "key": "tid", "record": {"type": "object",
                "required": ["text"],
                "properties": {
                    "text": {"type": "string"},
                    "tag": {"type": "ref", "ref": "org.example.shared.defs#tag"},
                    "reply": {"type": "ref", "ref": "#replyRef"}}}},
            "replyRef": {"type": "object", "properties": {"uri": {"type": "string", "format": "at-uri"}}}}}"##,
    ),
    (
        "com/example/mount/feed/getPosts.json",
        r##"{"lexicon": 1, "id": "com.example.mount.feed.getPosts", "defs": {
            "main": {"type": "query", "output": {"encoding": "application/json", "schema": {
                "type": "object", "required": ["posts"], "properties": {
                    "posts": {"type": "array", "items": {"type": "ref", "ref": "com.example.mount.post"}},
                    "tags": {"type": "array", "items": {"type": "ref", "ref": "org.example.shared.defs#tag"}}}}}}}}"##,
    ),
    (
        "org/example/shared/defs.json",
        r##"{"lexicon": 1, "id": "org.example.shared.defs", "defs": {
            "tag": {"type": "object", "required": ["label"], "properties": {
                "label": {"type": "string"},
                "reply": {"type": "ref", "ref": "com.example.mount.post#replyRef"}}}}}"##,
    ),
];

/// `cargo check` of a crate whose `src/lib.rs` is `pub mod lexicons;` and
/// whose `src/lexicons` is what `atlex generate` writes with `root_args`: its
/// status and output.
fn check_mounted_crate(
    crate_dir: &Path,
    lexicons: &[PathBuf],
    root_args: &[&str],
) -> std::process::Output {
    let out_dir = crate_dir.join("src/lexicons");
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut generate = atlex();
    generate
        .arg("generate")
        .arg("--quiet")
        .arg("--out")
        .arg(&out_dir)
        .args(root_args);
    for dir in lexicons {
        generate.arg("--lexicons").arg(dir);
    }
    let out = generate.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        // Its own target directory: the one of this test run is locked by
        // the cargo that runs it. Kept between runs, so only the first
        // compiles the runtime.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("mounted-target"),
        )
        .output()
        .unwrap()
}

#[test]
fn generated_output_compiles_mounted_as_mod_lexicons_by_default() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let lexicons = tmp.join(format!("mounted-lexicons-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&lexicons);
    for (path, text) in MOUNTED_LEXICONS {
        let path = lexicons.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // The crate the README describes: `--out src/lexicons`, mounted with
    // `mod lexicons;`. It is a workspace of its own (it sits below this
    // one), locked to this workspace's versions.
    let crate_dir = tmp.join("mounted-crate");
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    let runtime = workspace().join("runtime").canonicalize().unwrap();
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"mounted\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\natlex = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(workspace().join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    std::fs::write(crate_dir.join("src/lib.rs"), "pub mod lexicons;\n").unwrap();
    // Two sets: the one above, and the awkward fixture (services, errors,
    // unions, a nested group of endpoints, the record dispatch).
    let sets = [
        lexicons.clone(),
        workspace().join("codegen/tests/fixtures/awkward"),
    ];
    let out = check_mounted_crate(&crate_dir, &sets, &[]);
    assert!(
        out.status.success(),
        "the default output does not compile as `mod lexicons;`:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same with a root given that is where it is mounted.
    let out = check_mounted_crate(&crate_dir, &sets, &["--root", "crate::lexicons"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A root given that is not where it is mounted fails: the check sees it.
    let out = check_mounted_crate(&crate_dir, &sets, &["--root", "crate"]);
    assert!(
        !out.status.success(),
        "compiled with paths from the wrong root"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("crate::com"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&lexicons).unwrap();
}

#[test]
fn validate_skips_invalid_lexicons_when_asked_and_names_no_internal_type() {
    let dir = std::env::temp_dir().join(format!("atlex-cli-validate-skip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("com/example")).unwrap();
    std::fs::write(
        dir.join("com/example/thing.json"),
        r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "record", "key": "tid",
            "record": {"type": "object", "required": ["data"], "properties": {"data": {"type": "bytes"}}}}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("com/example/broken.json"),
        r#"{"lexicon": 1, "id": "com.example.broken", "defs": {"main": {"type": "strin"}}}"#,
    )
    .unwrap();
    let good = temp_file(
        "skip-good.json",
        r#"{"$type": "com.example.thing", "data": {"$bytes": "aGk"}}"#,
    );
    let bad = temp_file(
        "skip-bad.json",
        r#"{"$type": "com.example.thing", "data": "aGk"}"#,
    );
    let run = |extra: &[&str], file: &Path| {
        atlex()
            .arg("validate")
            .arg("--lexicons")
            .arg(&dir)
            .args(extra)
            .arg(file)
            .output()
            .unwrap()
    };
    let out = run(&[], &good);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = run(&["--skip-invalid"], &good);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok (com.example.thing#main)"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 invalid lexicon document(s) left out: com.example.broken"),
        "{stderr}"
    );
    let out = run(&["--skip-invalid"], &bad);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("$bytes"), "{stdout}");
    assert!(!stdout.contains("Raw"), "{stdout}");
}

#[test]
fn generate_checks_the_pins_of_the_manifest_beside_the_lexicons() {
    // The project `@atproto/lex` installed for the interop test, copied.
    let from = workspace().join("cli/tests/lex_interop/ts");
    let dir = std::env::temp_dir().join(format!("atlex-cli-pins-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lexicons/com/example")).unwrap();
    std::fs::copy(from.join("lexicons.json"), dir.join("lexicons.json")).unwrap();
    for file in std::fs::read_dir(from.join("lexicons/com/example")).unwrap() {
        let file = file.unwrap();
        std::fs::copy(
            file.path(),
            dir.join("lexicons/com/example").join(file.file_name()),
        )
        .unwrap();
    }
    let generate = |extra: &[&str]| {
        atlex()
            .arg("generate")
            .arg("--lexicons")
            .arg(dir.join("lexicons"))
            .arg("--out")
            .arg(dir.join("out"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = generate(&[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let defs = dir.join("lexicons/com/example/defs.json");
    let text = std::fs::read_to_string(&defs).unwrap();
    std::fs::write(&defs, text.replace("\"name\"", "\"title\"")).unwrap();
    let out = generate(&[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lexicons.json"), "{stderr}");
    assert!(stderr.contains("defs.json: CID"), "{stderr}");
    let out = generate(&["--no-manifest"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
