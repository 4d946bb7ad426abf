//! `lexicons.json` as `@atproto/lex` writes it: `tests/lex_interop/ts/` was
//! written by its installer (`tests/lex_interop/write.mjs`, from the
//! documents of `documents.json`), and `atlex lex install --ci` accepts it,
//! offline, and refuses it once a file no longer has its pinned CID. The
//! other way round (a directory written by `atlex lex install`, checked by
//! `lex install --ci` of `@atproto/lex`) is in `tests/lex_network.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn interop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lex_interop")
}

fn ci(dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_atlex"))
        .args(["lex", "install", "--ci"])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_manifest_written_by_atproto_lex_passes_ci() {
    let written = interop().join("ts");
    let (code, err) = ci(&written);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3 lexicons installed"), "{err}");

    // The same directory with one document changed: its CID is no longer
    // the pinned one.
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lex-interop-changed");
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&written, &copy);
    let defs = copy.join("lexicons/com/example/defs.json");
    let text = std::fs::read_to_string(&defs).unwrap();
    std::fs::write(&defs, text.replace("\"name\"", "\"title\"")).unwrap();
    let (code, err) = ci(&copy);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("differs: lexicons/com/example/defs.json has CID"),
        "{err}"
    );
}
