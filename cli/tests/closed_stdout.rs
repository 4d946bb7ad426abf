//! Every command run with its stdout closed before it writes, or after the
//! reader has taken one line (`atlex diff … | head -1`): the output ends
//! there, nothing panics, and the exit status is the one the command has
//! without a reader that goes away.

use std::io::{BufRead, BufReader, PipeReader, PipeWriter};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("closed-stdout-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `atlex ARGS` writing into `stdout`.
fn spawn(args: &[&str], stdout: PipeWriter) -> Child {
    Command::new(env!("CARGO_BIN_EXE_atlex"))
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The exit status and stderr of `child`, which must not have panicked.
fn finish(args: &[&str], child: Child) -> i32 {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "atlex {args:?}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "atlex {args:?}: {stderr}");
    out.status
        .code()
        .unwrap_or_else(|| panic!("atlex {args:?}: {:?}", out.status))
}

/// Runs `atlex ARGS` with a stdout whose reader is gone before it starts.
fn closed(args: &[&str]) -> i32 {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    finish(args, spawn(args, writer))
}

/// Runs `atlex ARGS`, reads one line of its output and closes the pipe.
fn first_line(args: &[&str]) -> (String, i32) {
    let (reader, writer): (PipeReader, PipeWriter) = std::io::pipe().unwrap();
    let child = spawn(args, writer);
    let mut line = String::new();
    BufReader::new(reader).read_line(&mut line).unwrap();
    (line, finish(args, child))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn every_command_ends_quietly_with_its_own_status() {
    let dir = scratch("all");
    let ok = write(
        &dir,
        "ok.json",
        r#"{"$type":"app.bsky.feed.post","text":"hi","createdAt":"2026-01-01T00:00:00Z"}"#,
    );
    let bad = write(
        &dir,
        "bad.json",
        r#"{"$type":"app.bsky.feed.post","text":"hi","createdAt":"yesterday"}"#,
    );
    let endpoint = |max: u32, description: &str| {
        format!(
            r#"{{"lexicon":1,"id":"com.example.ping","defs":{{"main":{{"type":"query","description":"{description}","parameters":{{"type":"params","properties":{{"q":{{"type":"string","maxLength":{max}}}}}}}}}}}}}"#
        )
    };
    let old = write(&dir, "old/com/example/ping.json", &endpoint(64, "Ping."));
    let reworded = write(&dir, "new/com/example/ping.json", &endpoint(64, "Pings."));
    let tighter = write(
        &dir,
        "tighter/com/example/ping.json",
        &endpoint(32, "Ping."),
    );
    let car = workspace().join("lexicons/tests/fixtures/ts_records.car");
    let car = car.to_str().unwrap();
    let mut corrupt = std::fs::read(car).unwrap();
    let at = corrupt.windows(7).position(|w| w == b"a quote").unwrap();
    corrupt[at + 2] = b'Q';
    let corrupt_car = dir.join("corrupt.car");
    std::fs::write(&corrupt_car, &corrupt).unwrap();
    let cbor = dir.join("ok.cbor");
    let encoded = Command::new(env!("CARGO_BIN_EXE_atlex"))
        .args(["cbor", "encode", &ok])
        .output()
        .unwrap();
    assert_eq!(encoded.status.code(), Some(0));
    std::fs::write(&cbor, &encoded.stdout).unwrap();
    let out = dir.join("generated");
    let awkward = workspace().join("codegen/tests/fixtures/awkward");

    let cases: &[(&[&str], i32)] = &[
        (&["validate", "--lexicons", "lexicons", &ok], 0),
        // Every file is still checked: the second one breaks its lexicon.
        (&["validate", "--lexicons", "lexicons", &ok, &bad], 1),
        (&["diff", &old, &reworded], 0),
        (&["diff", &old, &tighter], 1),
        (&["diff", &old, &tighter, "--format", "json"], 1),
        (&["cid", &ok], 0),
        (&["cid", "--raw", &ok], 0),
        (&["cbor", "encode", &ok], 0),
        (&["cbor", "decode", cbor.to_str().unwrap()], 0),
        (&["car", "ls", car], 0),
        // The listing before the bad block is not read; the bad block is
        // still found.
        (&["car", "ls", corrupt_car.to_str().unwrap()], 1),
        (
            &[
                "generate",
                "--lexicons",
                awkward.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            0,
        ),
        (&["--help"], 0),
        (&["--version"], 0),
        (&["diff", "--help"], 0),
    ];
    for (args, status) in cases {
        assert_eq!(closed(args), *status, "atlex {args:?}");
    }
}

#[test]
fn a_reader_that_stops_after_one_line_ends_the_output() {
    // All of the upstream lexicons added: more than a pipe holds.
    let empty = scratch("empty");
    let args = ["diff", empty.to_str().unwrap(), "lexicons"];
    let full = Command::new(env!("CARGO_BIN_EXE_atlex"))
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(full.stdout.len() > 1 << 16, "{}", full.stdout.len());
    let (line, status) = first_line(&args);
    assert!(line.starts_with("OLD: "), "{line}");
    assert_eq!(Some(status), full.status.code());

    let car = workspace().join("lexicons/tests/fixtures/ts_records.car");
    let (line, status) = first_line(&["car", "ls", car.to_str().unwrap()]);
    assert!(line.starts_with("root bafyrei"), "{line}");
    assert_eq!(status, 0);
}
