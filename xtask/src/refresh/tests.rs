use super::format::{Layout, write};

/// Every upstream lexicon of the crate, read and written again with the
/// layout of its own text, comes out byte for byte: the writer follows
/// upstream's formatting. (The Slack and Bitrix24 documents are the
/// project's own, written with every array across lines.)
#[test]
fn the_writer_reproduces_the_upstream_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lexicons");
    let mut checked = 0;
    let mut differing = Vec::new();
    for entry in walkdir::WalkDir::new(&root)
        .min_depth(1)
        .sort_by_file_name()
    {
        let entry = entry.unwrap();
        let relative = entry.path().strip_prefix(&root).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        if !entry.file_type().is_file()
            || entry.path().extension().is_none_or(|e| e != "json")
            || ["src", "tests", "benches"].iter().any(|d| top == *d)
            || relative.starts_with("com/slack")
            || relative.starts_with("com/bitrix24")
        {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        checked += 1;
        if write(&value, &Layout::of(&text)) != text {
            differing.push(relative.display().to_string());
        }
    }
    assert!(checked > 300, "{checked}");
    assert!(
        differing.is_empty(),
        "{} of {checked} differ: {differing:?}",
        differing.len()
    );
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Options, Tools, refresh};

/// A repository root with an `atlex-lexicons` crate of three `com.example`
/// documents, version 0.1.0.
fn fake_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let put = |path: &str, text: &str| {
        let file = root.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    };
    put(
        "lexicons/Cargo.toml",
        "[package]\nname = \"atlex-lexicons\"\nversion = \"0.1.0\"\n\n[features]\n\
         # @generated features: begin (cargo xtask gen)\n# @generated features: end\n",
    );
    put("lexicon-changes.json", "{\n  \"acknowledged\": []\n}\n");
    put("lexicons/com/example/thing.json", THING);
    // Written by hand, not as the writer would: a refresh must keep it.
    put(
        "lexicons/com/example/same.json",
        "{\"lexicon\": 1, \"id\": \"com.example.same\",\n \"defs\": {\"main\": {\"type\": \"token\"}}}\n",
    );
    put(
        "lexicons/com/example/gone.json",
        "{ \"lexicon\": 1, \"id\": \"com.example.gone\", \"defs\": { \"main\": { \"type\": \"token\" } } }\n",
    );
    root
}

const THING: &str = r##"{
  "lexicon": 1,
  "id": "com.example.thing",
  "defs": {
    "main": {
      "type": "record",
      "key": "tid",
      "record": {
        "type": "object",
        "required": ["name"],
        "properties": {
          "name": { "type": "string", "maxLength": 100 },
          "kind": { "type": "ref", "ref": "#kind" }
        }
      }
    },
    "kind": {
      "type": "string",
      "knownValues": ["#big", "com.example.thing#small"]
    },
    "big": { "type": "token" },
    "small": { "type": "token" }
  }
}
"##;

/// A source directory holding `docs` in NSID layout (by relative path).
fn source(docs: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in docs {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

/// `com.example.thing` with its record's property `name` set to `schema`.
fn thing_with(name: &str, schema: Value) -> String {
    let mut value: Value = serde_json::from_str(THING).unwrap();
    value["defs"]["main"]["record"]["properties"][name] = schema;
    serde_json::to_string(&value).unwrap()
}

fn options(from: &Path) -> Options {
    Options {
        from: from.display().to_string(),
        ..Options::default()
    }
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let path = e.path().strip_prefix(dir).unwrap().to_path_buf();
            (path, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const SAME_REFORMATTED: &str = "{\n  \"id\": \"com.example.same\",\n  \"lexicon\": 1,\n  \"defs\": { \"main\": { \"type\": \"token\" } }\n}\n";
const FRESH: &str = r#"{"lexicon": 1, "id": "com.example.fresh", "defs": {"main": {"type": "query", "output": {"encoding": "application/json", "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}}}}"#;
const OTHER_NAMESPACE: &str =
    r#"{"lexicon": 1, "id": "org.other.doc", "defs": {"main": {"type": "token"}}}"#;

#[test]
fn a_refresh_replaces_adds_keeps_and_reports() {
    let root = fake_root();
    let src = source(&[
        (
            "com/example/thing.json",
            &thing_with("note", json!({ "type": "string" })),
        ),
        ("com/example/same.json", SAME_REFORMATTED),
        ("com/example/fresh.json", FRESH),
        ("org/other/doc.json", OTHER_NAMESPACE),
    ]);
    let lexicons = root.path().join("lexicons");
    let same_before = std::fs::read(lexicons.join("com/example/same.json")).unwrap();

    let outcome = refresh(root.path(), &options(src.path()), &Tools::default()).unwrap();
    assert_eq!(outcome.changed, ["com.example.thing"]);
    assert_eq!(outcome.added, ["com.example.fresh"]);
    assert_eq!(outcome.unchanged, 1);
    assert_eq!(outcome.missing, ["com.example.gone"]);
    assert!(!outcome.removed);
    assert_eq!(outcome.acknowledged, 0);

    // Equal as JSON: the bytes stay. Different: the source's JSON, in the
    // upstream layout, the rest of the file as it was.
    assert_eq!(
        std::fs::read(lexicons.join("com/example/same.json")).unwrap(),
        same_before
    );
    let thing = std::fs::read_to_string(lexicons.join("com/example/thing.json")).unwrap();
    assert_eq!(
        thing,
        THING.replace(
            "\"kind\": { \"type\": \"ref\", \"ref\": \"#kind\" }\n",
            "\"kind\": { \"type\": \"ref\", \"ref\": \"#kind\" },\n          \"note\": { \"type\": \"string\" }\n"
        )
    );
    assert_eq!(
        read_json(&lexicons.join("com/example/fresh.json")),
        serde_json::from_str::<Value>(FRESH).unwrap()
    );
    assert!(
        std::fs::read_to_string(lexicons.join("com/example/fresh.json"))
            .unwrap()
            .starts_with("{\n  \"lexicon\": 1,\n  \"id\": \"com.example.fresh\",\n")
    );
    // Reported, not removed; another namespace is not taken.
    assert!(lexicons.join("com/example/gone.json").is_file());
    assert!(!lexicons.join("org").exists());

    // A document and an optional property added: a minor release.
    assert_eq!(outcome.bump, atlex_codegen::diff::Bump::Minor);
    let (old, new) = outcome.version.clone().unwrap();
    assert_eq!(
        (old.to_string(), new.to_string()),
        ("0.1.0".into(), "0.1.1".into())
    );
    let manifest = std::fs::read_to_string(lexicons.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("version = \"0.1.1\""), "{manifest}");
    // Regenerated: bindings of the new document, and the features.
    assert!(outcome.generated.is_some());
    assert!(manifest.contains("com-example = []"), "{manifest}");
    let generated = lexicons.join("src/generated");
    assert!(
        snapshot(&generated)
            .keys()
            .any(|p| p.to_string_lossy().contains("fresh")),
        "{:?}",
        snapshot(&generated).keys().collect::<Vec<_>>()
    );

    // Again: nothing to do, nothing written.
    let before = snapshot(root.path());
    let again = refresh(root.path(), &options(src.path()), &Tools::default()).unwrap();
    assert!(again.changed.is_empty() && again.added.is_empty());
    assert_eq!(again.unchanged, 3);
    assert_eq!(again.bump, atlex_codegen::diff::Bump::None);
    assert_eq!(snapshot(root.path()), before);
}

#[test]
fn a_dry_run_writes_nothing() {
    let root = fake_root();
    let src = source(&[("com/example/fresh.json", FRESH)]);
    let before = snapshot(root.path());
    let outcome = refresh(
        root.path(),
        &Options {
            dry_run: true,
            remove_missing: true,
            acknowledge: Some("the test says so".to_owned()),
            ..options(src.path())
        },
        &Tools::default(),
    )
    .unwrap();
    assert_eq!(outcome.added, ["com.example.fresh"]);
    assert_eq!(outcome.missing.len(), 3);
    assert_eq!(snapshot(root.path()), before);
}

#[test]
fn breaking_changes_are_refused_until_acknowledged() {
    let root = fake_root();
    // `name` becomes an integer, and `gone` is removed.
    let src = source(&[
        (
            "com/example/thing.json",
            &thing_with("name", json!({ "type": "integer" })),
        ),
        ("com/example/same.json", SAME_REFORMATTED),
    ]);
    let removing = Options {
        remove_missing: true,
        ..options(src.path())
    };
    let before = snapshot(root.path());
    let err = refresh(root.path(), &removing, &Tools::default()).unwrap_err();
    assert!(err.contains("2 breaking or unclassified changes"), "{err}");
    assert!(
        err.contains("com.example.thing type_changed at com.example.thing#main.name"),
        "{err}"
    );
    assert!(err.contains("com.example.gone document_removed"), "{err}");
    assert!(err.contains("--acknowledge REASON"), "{err}");
    assert_eq!(
        snapshot(root.path()),
        before,
        "a refused refresh writes nothing"
    );

    let acknowledged = Options {
        acknowledge: Some("upstream changed it".to_owned()),
        ..removing
    };
    let outcome = refresh(root.path(), &acknowledged, &Tools::default()).unwrap();
    assert_eq!(outcome.acknowledged, 2);
    assert!(outcome.removed);
    assert!(!root.path().join("lexicons/com/example/gone.json").exists());
    let acks = read_json(&root.path().join("lexicon-changes.json"));
    let entries = acks["acknowledged"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["nsid"].as_str().unwrap(), e["change"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("com.example.gone", "document_removed"),
            ("com.example.thing", "type_changed")
        ]
    );
    assert!(entries.iter().all(|e| e["reason"] == "upstream changed it"));
    // Breaking: a major release, 0.2.0 below 1.0.
    assert_eq!(outcome.bump, atlex_codegen::diff::Bump::Major);
    assert_eq!(outcome.version.unwrap().1.to_string(), "0.2.0");
}

#[test]
fn a_bad_source_is_refused_and_nothing_is_written() {
    let cases: &[(&str, &str, &str)] = &[
        ("com/example/thing.json", "{ not json", "not JSON"),
        (
            "com/example/thing.json",
            r#"{"lexicon": 1, "id": "com.example.other", "defs": {"main": {"type": "token"}}}"#,
            "its id `com.example.other` is not the NSID its path spells (`com.example.thing`)",
        ),
        (
            "com/example/thing.json",
            r#"{"id": "com.example.thing", "name": "a package.json?"}"#,
            "not a lexicon document",
        ),
        (
            "com/example/thing.json",
            r#"{"lexicon": 1, "id": "com.example.thing", "defs": {"main": {"type": "banana"}}}"#,
            "not a valid lexicon",
        ),
    ];
    for (path, text, expected) in cases {
        let root = fake_root();
        let src = source(&[(path, text), ("com/example/fresh.json", FRESH)]);
        let before = snapshot(root.path());
        let err = refresh(root.path(), &options(src.path()), &Tools::default()).unwrap_err();
        assert!(err.contains(expected), "{expected:?} in {err}");
        assert!(err.contains("nothing was written"), "{err}");
        assert_eq!(snapshot(root.path()), before, "{expected}");
    }

    let root = fake_root();
    let missing = root.path().join("no-such-dir");
    let err = refresh(root.path(), &options(&missing), &Tools::default()).unwrap_err();
    assert!(err.contains("is not a directory"), "{err}");
}

#[test]
fn a_missing_tool_is_named() {
    let root = fake_root();
    let tools = Tools {
        npm: "atlex-no-such-npm".into(),
        ..Tools::default()
    };
    let from = Options {
        from: "npm:@atproto/api".to_owned(),
        ..Options::default()
    };
    let err = refresh(root.path(), &from, &tools).unwrap_err();
    assert!(
        err.contains("`atlex-no-such-npm` is not installed or not on the PATH"),
        "{err}"
    );
}

/// What `@atproto/lexicon` makes of references is undone: the file's own
/// spelling where it means the same, `#name` inside the document
/// otherwise.
#[test]
fn bundled_references_are_written_back() {
    let old: Value = serde_json::from_str(THING).unwrap();
    let mut bundled = old.clone();
    bundled["defs"]["main"]["record"]["properties"]["kind"]["ref"] =
        json!("lex:com.example.thing#kind");
    bundled["defs"]["kind"]["knownValues"] =
        json!(["lex:com.example.thing#big", "com.example.thing#small"]);
    bundled["defs"]["u"] = json!({
        "type": "union",
        "refs": ["lex:com.example.thing#big", "lex:com.example.other#x", "lex:com.example.other"]
    });
    let mut restored = bundled.clone();
    super::npm::restore_refs(&mut restored, Some(&old));
    let mut expected = old.clone();
    expected["defs"]["u"] = json!({
        "type": "union",
        "refs": ["#big", "com.example.other#x", "com.example.other"]
    });
    assert_eq!(restored, expected);

    // The file spells a reference into itself in full: kept so.
    let mut old_full = old.clone();
    old_full["defs"]["main"]["record"]["properties"]["kind"]["ref"] =
        json!("com.example.thing#kind");
    let mut restored = bundled;
    super::npm::restore_refs(&mut restored, Some(&old_full));
    assert_eq!(
        restored["defs"]["main"]["record"]["properties"]["kind"]["ref"],
        "com.example.thing#kind"
    );
}

/// A package that bundles its schemas in JavaScript, as `@atproto/api`
/// does, is read by evaluating its `schemaDict` with node.
#[test]
fn schemas_bundled_in_javascript_are_read_with_node() {
    let package = source(&[
        (
            "package/package.json",
            r#"{"name": "fake", "type": "module"}"#,
        ),
        (
            "package/dist/client/lexicons.js",
            "import { Lexicons } from '@atproto/lexicon';\n\
             export const schemaDict = {\n    ComExampleThing: {\n        lexicon: 1,\n        \
             id: 'com.example.thing',\n        defs: { main: { type: 'token', description: \
             \"It's {braced} }\\n}\" }, \n            ref: { type: 'ref', ref: 'lex:com.example.thing#main' } },\n    },\n\
             };\nexport const schemas = Object.values(schemaDict);\n\
             export const lexicons = new Lexicons(schemas);\n",
        ),
    ]);
    let (set, bundled) =
        super::npm::read_package(package.path(), "npm:fake@1.0.0", &Tools::default()).unwrap();
    assert!(bundled);
    assert!(
        set.label
            .contains("package/dist/client/lexicons.js, evaluated with node")
    );
    let doc = set.documents["com.example.thing"].json.clone().unwrap();
    assert_eq!(doc["defs"]["main"]["description"], "It's {braced} }\n}");
    assert_eq!(doc["defs"]["ref"]["ref"], "lex:com.example.thing#main");

    let empty = source(&[("package/index.js", "export const x = 1;\n")]);
    let err =
        super::npm::read_package(empty.path(), "npm:empty@1.0.0", &Tools::default()).unwrap_err();
    assert!(err.contains("it is not a package of lexicons"), "{err}");
}
