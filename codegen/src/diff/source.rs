//! Where the two sides of a diff come from: a lexicon file, a directory in
//! NSID layout, a git revision of either (`git:REV:PATH`), or documents
//! given in memory.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::files::{CRATE_DIRS, nsid_from_relative_path};

/// Why a side could not be read. Documents that are not valid lexicons are
/// not errors (the diff reports them); only inputs that cannot be read at
/// all are.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A git command failed (not a repository, unknown revision, no such
    /// path at that revision, git not installed).
    #[error("`git {command}` failed: {message}")]
    Git {
        /// The git arguments.
        command: String,
        /// git's error output, or why it could not run.
        message: String,
    },
}

/// One document as read: where from, and its JSON (or why the text is not
/// JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct SourceDoc {
    /// The path it was read from (relative to the side's root for a
    /// directory or git tree).
    pub path: String,
    /// The parsed JSON, or the JSON error.
    pub json: Result<Value, String>,
}

/// One side of a diff: documents keyed by NSID.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LexiconSet {
    /// What the side is, for reports (the path or `git:REV:PATH` given).
    pub label: String,
    /// Documents by NSID: the document's `id`, or the NSID its path implies
    /// when it has no usable `id`.
    pub documents: BTreeMap<String, SourceDoc>,
    /// Problems that did not stop reading (two files with one NSID: the
    /// first is kept).
    pub warnings: Vec<String>,
    /// Whether the side was a single file (two single files are compared
    /// with each other whatever their ids).
    pub single_file: bool,
}

impl LexiconSet {
    /// An empty side called `label`.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            ..Self::default()
        }
    }

    /// Reads a side from `spec`: `git:REV:PATH` (PATH relative to the
    /// repository root, empty for the root; read with `git` in `repo`), or
    /// else a path to a lexicon file or a directory in NSID layout.
    /// Directories are read recursively for `*.json`, skipping the top-level
    /// `src`, `tests`, `benches`, `examples` and `target` of a crate that keeps
    /// its lexicons at its root, and files whose name has a dot before
    /// `.json` (`slack.binding.json`): in NSID layout a lexicon is
    /// `<last segment>.json`, and segments have no dots, so such files are
    /// something else (HTTP bindings, for one).
    pub fn load(spec: &str, repo: &Path) -> Result<Self, SourceError> {
        match spec.strip_prefix("git:") {
            Some(rest) => {
                let (rev, path) = rest.split_once(':').unwrap_or((rest, ""));
                Self::from_git(repo, rev, path, spec)
            }
            None => Self::from_path(Path::new(spec), spec),
        }
    }

    /// Reads a lexicon file or a directory.
    pub fn from_path(path: &Path, label: &str) -> Result<Self, SourceError> {
        let io = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        let mut set = Self::new(label);
        if meta.is_dir() {
            let mut files = Vec::new();
            collect(path, path, &mut files).map_err(io)?;
            files.sort();
            for file in files {
                let text = std::fs::read(&file).map_err(|source| SourceError::Io {
                    path: file.clone(),
                    source,
                })?;
                let relative = file.strip_prefix(path).unwrap_or(&file);
                let implied = nsid_from_relative_path(relative);
                set.insert_bytes(&relative.display().to_string(), &text, implied.as_deref());
            }
        } else {
            let text = std::fs::read(path).map_err(io)?;
            let implied = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
            set.insert_bytes(&path.display().to_string(), &text, implied.as_deref());
            set.single_file = true;
        }
        Ok(set)
    }

    /// Reads a file or a tree at a git revision: `git cat-file -t` tells
    /// which, `git ls-tree` lists a tree's files and one `git cat-file
    /// --batch` reads them all.
    pub fn from_git(repo: &Path, rev: &str, path: &str, label: &str) -> Result<Self, SourceError> {
        let path = path.trim_start_matches("./").trim_end_matches('/');
        let object = format!("{rev}:{path}");
        let kind = git(repo, &["cat-file", "-t", &object], None)?;
        let mut set = Self::new(label);
        match String::from_utf8_lossy(&kind).trim() {
            "blob" => {
                let text = git(repo, &["cat-file", "blob", &object], None)?;
                let implied = Path::new(path)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .map(str::to_owned);
                set.insert_bytes(path, &text, implied.as_deref());
                set.single_file = true;
            }
            "tree" => {
                let listing = git(repo, &["ls-tree", "-r", "-z", &object], None)?;
                let mut files: Vec<(String, String)> = Vec::new();
                for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
                    let entry = String::from_utf8_lossy(entry);
                    // `<mode> <type> <oid>\t<path>`
                    let Some((meta, file)) = entry.split_once('\t') else {
                        continue;
                    };
                    let mut fields = meta.split(' ');
                    let (_, kind, oid) = (fields.next(), fields.next(), fields.next());
                    let (Some("blob"), Some(oid)) = (kind, oid) else {
                        continue;
                    };
                    let relative = Path::new(file);
                    if !is_layout_json(relative) || skipped(relative) {
                        continue;
                    }
                    files.push((file.to_owned(), oid.to_owned()));
                }
                files.sort();
                let mut input = String::new();
                for (_, oid) in &files {
                    input.push_str(oid);
                    input.push('\n');
                }
                let output = git(repo, &["cat-file", "--batch"], Some(input.into_bytes()))?;
                let blobs = split_batch(&output).map_err(|message| SourceError::Git {
                    command: "cat-file --batch".to_owned(),
                    message,
                })?;
                if blobs.len() != files.len() {
                    return Err(SourceError::Git {
                        command: "cat-file --batch".to_owned(),
                        message: format!("asked for {} objects, got {}", files.len(), blobs.len()),
                    });
                }
                for ((file, _), blob) in files.iter().zip(blobs) {
                    let implied = nsid_from_relative_path(Path::new(file));
                    set.insert_bytes(file, blob, implied.as_deref());
                }
            }
            other => {
                return Err(SourceError::Git {
                    command: format!("cat-file -t {object}"),
                    message: format!("`{object}` is a {other}, not a file or directory"),
                });
            }
        }
        Ok(set)
    }

    /// Adds a document from its bytes. `implied` is the NSID its path implies,
    /// used as the key when the document has no usable `id`.
    pub fn insert_bytes(&mut self, path: &str, bytes: &[u8], implied: Option<&str>) {
        let json = match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str::<Value>(text).map_err(|e| e.to_string()),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        let id = json
            .as_ref()
            .ok()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        let key = id
            .or_else(|| implied.map(str::to_owned))
            .unwrap_or_else(|| path.to_owned());
        self.insert(key, path, json);
    }

    /// Adds a document under `key`. A second document with the same key is
    /// not added; a warning names both paths.
    pub fn insert(&mut self, key: impl Into<String>, path: &str, json: Result<Value, String>) {
        let key = key.into();
        if let Some(existing) = self.documents.get(&key) {
            self.warnings.push(format!(
                "{}: `{key}` is defined by both {} and {path}; the first is used",
                self.label, existing.path
            ));
            return;
        }
        self.documents.insert(
            key,
            SourceDoc {
                path: path.to_owned(),
                json,
            },
        );
    }
}

/// Whether a path relative to a side's root is in a skipped top-level
/// directory (see [`CRATE_DIRS`]).
fn skipped(relative: &Path) -> bool {
    relative
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .is_some_and(|first| CRATE_DIRS.contains(&first) && relative.components().count() > 1)
}

/// Whether a file name is `<segment>.json` with no other dot: a lexicon
/// file in NSID layout.
fn is_layout_json(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".json"))
        .is_some_and(|stem| !stem.is_empty() && !stem.contains('.'))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let relative = path.strip_prefix(root).unwrap_or(&path);
        if entry.file_type()?.is_dir() {
            let top_skipped = relative.components().count() == 1
                && relative
                    .to_str()
                    .is_some_and(|name| CRATE_DIRS.contains(&name));
            if !top_skipped {
                collect(root, &path, out)?;
            }
        } else if is_layout_json(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs git in `repo` and returns its standard output.
fn git(repo: &Path, args: &[&str], input: Option<Vec<u8>>) -> Result<Vec<u8>, SourceError> {
    let command = args.join(" ");
    let failed = |message: String| SourceError::Git {
        command: command.clone(),
        message,
    };
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    // Feed standard input from another thread so a large output cannot
    // block git while it waits for us to read.
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(std::thread::spawn(move || stdin.write_all(&bytes))),
        _ => None,
    };
    let output = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if let Some(writer) = writer {
        match writer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(failed(format!("writing to git: {e}"))),
            Err(_) => return Err(failed("the thread writing to git failed".to_owned())),
        }
    }
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        return Err(failed(if stderr.is_empty() {
            format!("exit status {}", output.status)
        } else {
            stderr
        }));
    }
    Ok(output.stdout)
}

/// Splits the output of `git cat-file --batch`: for each object a header
/// `<oid> <type> <size>\n`, the contents, and `\n`.
fn split_batch(mut output: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut blobs = Vec::new();
    while !output.is_empty() {
        let newline = output
            .iter()
            .position(|b| *b == b'\n')
            .ok_or("a header without a newline")?;
        let header = String::from_utf8_lossy(&output[..newline]).into_owned();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("unexpected header {header:?}"))?;
        let start = newline + 1;
        let end = start
            .checked_add(size)
            .filter(|end| *end <= output.len())
            .ok_or_else(|| format!("object {header:?} is cut short"))?;
        blobs.push(&output[start..end]);
        output = output.get(end + 1..).unwrap_or(&[]);
    }
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_output_splits_by_size() {
        let out = b"aaa blob 3\nabc\nbbb blob 0\n\nccc blob 2\n\n\n\n";
        let blobs = split_batch(out).unwrap();
        assert_eq!(blobs, vec![&b"abc"[..], &b""[..], &b"\n\n"[..]]);
        assert!(split_batch(b"aaa missing\n").is_err());
        assert!(split_batch(b"aaa blob 10\nabc\n").is_err());
    }

    #[test]
    fn keys_by_id_then_path() {
        let mut set = LexiconSet::new("t");
        set.insert_bytes("a/b/c.json", br#"{"id":"x.y.z"}"#, Some("a.b.c"));
        set.insert_bytes("d/e/f.json", b"not json", Some("d.e.f"));
        set.insert_bytes("g/h/i.json", br#"{"id":"x.y.z"}"#, Some("g.h.i"));
        assert_eq!(
            set.documents.keys().collect::<Vec<_>>(),
            vec!["d.e.f", "x.y.z"]
        );
        assert_eq!(set.warnings.len(), 1);
        assert!(set.documents["d.e.f"].json.is_err());
    }

    #[test]
    fn only_nsid_layout_files_are_read_from_trees() {
        assert!(is_layout_json(Path::new("chat/bsky/convo/defs.json")));
        assert!(!is_layout_json(Path::new("com/slack/slack.binding.json")));
        assert!(!is_layout_json(Path::new("com/slack/.json")));
        assert!(!is_layout_json(Path::new("com/slack/notes.txt")));
    }

    #[test]
    fn skips_crate_dirs_at_the_top_only() {
        assert!(skipped(Path::new("src/generated/x.json")));
        assert!(skipped(Path::new("tests/fixtures/a.json")));
        assert!(!skipped(Path::new("com/src/x.json")));
        assert!(!skipped(Path::new("src.json")));
    }
}
