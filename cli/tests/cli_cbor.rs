//! `atlex cid`, `atlex cbor encode|decode` and `atlex car ls`, run as a user
//! would, on the records and CAR the TypeScript libraries made
//! (`lexicons/tests/fixtures/ts_records.*`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;

fn atlex() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atlex"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lexicons/tests/fixtures")
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlex-cli-cbor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(args: &[&str], file: &Path) -> Output {
    atlex().args(args).arg(file).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The TypeScript records: (name, JSON, DAG-CBOR, CID).
fn records() -> Vec<(String, serde_json::Value, Vec<u8>, String)> {
    let text = std::fs::read_to_string(fixtures().join("ts_records.json")).unwrap();
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    all.into_iter()
        .map(|r| {
            let cbor = base64::engine::general_purpose::STANDARD
                .decode(r["cbor_base64"].as_str().unwrap())
                .unwrap();
            (
                r["name"].as_str().unwrap().to_owned(),
                r["json"].clone(),
                cbor,
                r["cid"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn cid_and_cbor_match_the_typescript_libraries() {
    for (name, json, cbor, cid) in records() {
        let file = temp_file(&format!("{name}.json"), json.to_string().as_bytes());
        let out = run(&["cid"], &file);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(stdout(&out), format!("{cid}\n"), "{name}");

        let out = run(&["cbor", "encode"], &file);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(out.stdout, cbor, "{name}");

        let file = temp_file(&format!("{name}.cbor"), &cbor);
        let out = run(&["cbor", "decode"], &file);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let decoded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(decoded, json, "{name}");
    }
}

#[test]
fn stdin_and_raw_blobs() {
    let mut child = atlex()
        .args(["cid", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"$type": "com.example.note", "text": "hi"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("bafyrei"), "{}", stdout(&out));
    // The blob CIDs of the fixtures are the raw CIDs of fixed strings.
    let blob = temp_file("image.bin", b"atlex fixture image");
    let out = run(&["cid", "--raw"], &blob);
    let post = &records()[0].1;
    assert_eq!(
        stdout(&out).trim(),
        post["embed"]["images"][0]["image"]["ref"]["$link"]
            .as_str()
            .unwrap()
    );
}

#[test]
fn invalid_data_exits_1_with_the_reason_and_unreadable_input_2() {
    for (name, text, reason) in [
        ("float.json", r#"{"a": 1.5}"#, "at a: 1.5 is not an integer"),
        (
            "link.json",
            r#"{"a": {"$link": "nope"}}"#,
            "at a: invalid cid",
        ),
        ("type.json", r#"{"$type": ""}"#, "$type is an empty string"),
        ("broken.json", r#"{"a": "#, "not valid JSON"),
    ] {
        let file = temp_file(name, text.as_bytes());
        for args in [&["cid"][..], &["cbor", "encode"]] {
            let out = run(args, &file);
            assert_eq!(out.status.code(), Some(1), "{name} {args:?}");
            assert!(
                stderr(&out).contains(reason),
                "{name} {args:?}: {}",
                stderr(&out)
            );
            assert!(out.stdout.is_empty());
        }
    }
    // Not canonical: strict refuses, lenient reads.
    let unordered = temp_file(
        "unordered.cbor",
        &[0xa2, 0x62, b'a', b'a', 0x02, 0x61, b'b', 0x01],
    );
    let out = run(&["cbor", "decode"], &unordered);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("out of canonical order"),
        "{}",
        stderr(&out)
    );
    let out = run(&["cbor", "decode", "--lenient"], &unordered);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        serde_json::json!({"b": 1, "aa": 2})
    );
    let tagged = temp_file("tag.cbor", &[0xc1, 0x00]);
    let out = run(&["cbor", "decode", "--lenient"], &tagged);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("only tag 42"), "{}", stderr(&out));

    let missing = Path::new("/nonexistent/atlex/input");
    for args in [
        &["cid"][..],
        &["cbor", "encode"],
        &["cbor", "decode"],
        &["car", "ls"],
    ] {
        let out = run(args, missing);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("/nonexistent/atlex/input"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn car_ls_lists_roots_and_verified_blocks() {
    let car = fixtures().join("ts_records.car");
    let out = run(&["car", "ls"], &car);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let records = records();
    assert_eq!(lines.len(), 1 + records.len() + 1, "{text}");
    assert!(lines[0].starts_with("root bafyrei"), "{text}");
    for (name, json, cbor, cid) in &records {
        let line = format!("{cid} {} {}", cbor.len(), json["$type"].as_str().unwrap());
        assert!(
            lines.contains(&line.as_str()),
            "{name}: {line:?} not in\n{text}"
        );
    }
    // The root links the records and has no $type.
    let root = lines[0].trim_start_matches("root ");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(root) && l.split(' ').count() == 2),
        "{text}"
    );

    // One corrupted block: the blocks before it are listed, then exit 1
    // naming it.
    let mut bytes = std::fs::read(&car).unwrap();
    let at = bytes.windows(7).position(|w| w == b"a quote").unwrap();
    bytes[at + 2] = b'Q';
    let quote = &records
        .iter()
        .find(|r| r.0 == "quote_with_typed_objects")
        .unwrap()
        .3;
    let out = run(&["car", "ls"], &temp_file("corrupt.car", &bytes));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("block {quote}: its bytes hash to")),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).starts_with("root "));

    // A header claiming more than the file holds.
    let mut lying = vec![0xff, 0x7f];
    lying.extend(&std::fs::read(&car).unwrap()[1..60]);
    let out = run(&["car", "ls"], &temp_file("lying.car", &lying));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("header at byte 0 claims 16383 bytes"),
        "{}",
        stderr(&out)
    );
}
