//! A client no one here wrote reads atlex's JSON stream: the Python atproto
//! SDK's Jetstream client (`atproto_jetstream`, from PyPI, pinned in
//! `tests/python/install.sh`) subscribes to
//! `network.bsky.jetstream.subscribeEvents` served by atlex's server from
//! an `EventLog`, over `xrpc.v1.json`, and prints what it parsed; every
//! message must be what was served.
//!
//! The frames the Python client received are the fixture
//! `tests/fixtures/python_frames.jsonl`, which `tests/v2.rs` decodes: this
//! test checks that the frames are still those (set `ATLEX_JETSTREAM_RECORD=1`
//! to write them anew).
//!
//! Ignored by default (it needs python3 and PyPI on its first run):
//! `cargo test -p atlex-jetstream --test python_interop -- --ignored`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use atlex::subscription::EventLog;
use serde_json::{Value, json};

use common::events;

const EVENTS: usize = 120;

/// A v1 event of the generated mix as the v2 stream's message payload.
fn payload(v1: &str, seq: i64) -> Value {
    let v1: Value = serde_json::from_str(v1).unwrap();
    let kind = v1["kind"].as_str().unwrap();
    let time = events::datetime_micros(v1["time_us"].as_u64().unwrap());
    let mut payload = json!({
        "$type": format!("network.bsky.jetstream.subscribeEvents#{kind}"),
        "seq": seq,
        "did": v1["did"],
        "time": time,
    });
    let object = payload.as_object_mut().unwrap();
    match kind {
        "commit" => {
            for (name, value) in v1["commit"].as_object().unwrap() {
                object.insert(name.clone(), value.clone());
            }
        }
        _ => {
            object.insert(kind.to_owned(), v1[kind].clone());
        }
    }
    payload
}

/// Drops every `$type` below the top of `value`: the Python SDK's models
/// write one on each nested object they know (a facet's `index`, …).
fn without_nested_types(value: &Value, top: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| top || key.as_str() != "$type")
                .map(|(key, value)| (key.clone(), without_nested_types(value, false)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| without_nested_types(item, false))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn python() -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/install.sh");
    let output = Command::new("bash").arg(&script).output().unwrap();
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.lines().last().unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "installs the Python atproto SDK from PyPI: run with --ignored"]
async fn the_python_jetstream_client_reads_what_atlex_serves() {
    let python = python();
    let log = EventLog::new();
    let mut served = Vec::new();
    for v1 in events::mix(EVENTS, 42) {
        let seq = log
            .append(|seq| {
                let payload = payload(&v1, seq);
                served.push(payload.clone());
                serde_json::from_value(payload).unwrap()
            })
            .unwrap();
        assert_eq!(served.last().unwrap()["seq"], seq);
    }
    let addr = common::serve_v2(log).await;

    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let frames_file =
        std::env::temp_dir().join(format!("atlex-python-frames-{}", std::process::id()));
    let client = manifest.join("tests/python/jetstream_client.py");
    let base = format!("ws://{addr}/xrpc");
    let output = tokio::task::spawn_blocking({
        let frames_file = frames_file.clone();
        move || {
            Command::new(python)
                .arg(client)
                .args([base, EVENTS.to_string()])
                .arg(frames_file)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "the Python client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(parsed.len(), EVENTS);
    let mut records = 0;
    for (served, parsed) in served.iter().zip(&parsed) {
        let mut parsed = parsed.clone();
        let model = parsed.as_object_mut().unwrap().remove("recordModel");
        if let Some(record) = served.get("record") {
            // The SDK parsed the record into its own model of the type.
            let name = record["$type"].as_str().unwrap();
            let model = model.as_ref().and_then(Value::as_str).unwrap();
            assert_eq!(model, format!("atproto_client.models.{name}.Record"));
            assert_eq!(parsed["record"]["$type"], record["$type"]);
            records += 1;
        }
        assert_eq!(
            without_nested_types(&parsed, true),
            without_nested_types(served, true),
            "the Python client parsed {parsed} for {served}"
        );
    }
    assert!(records > EVENTS / 2, "{records} records");

    // The frames received: the fixture of the decoding tests.
    let frames = std::fs::read_to_string(&frames_file).unwrap();
    std::fs::remove_file(&frames_file).unwrap();
    assert_eq!(frames.lines().count(), EVENTS);
    let fixture = manifest.join("tests/fixtures/python_frames.jsonl");
    if std::env::var_os("ATLEX_JETSTREAM_RECORD").is_some() {
        std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
        std::fs::write(&fixture, &frames).unwrap();
    } else {
        let recorded = std::fs::read_to_string(&fixture).unwrap();
        assert!(
            recorded == frames,
            "the frames differ from {}: run with ATLEX_JETSTREAM_RECORD=1 to record them again",
            fixture.display()
        );
    }
}
