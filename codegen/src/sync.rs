//! Writing generated files to a directory: only files whose contents changed
//! are written, and files the generator no longer produces are found (and
//! removed, when asked).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What syncing a directory found or did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Files whose contents differ from (or are missing on) disk, with the
    /// text on disk (`None` when missing) and the generated text.
    pub changed: Vec<(PathBuf, Option<String>, String)>,
    /// Files on disk that would no longer be generated.
    pub stale: Vec<PathBuf>,
    /// Files already up to date.
    pub unchanged: usize,
}

impl SyncReport {
    /// Whether the directory already matches.
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.stale.is_empty()
    }
}

/// Compares `files` (relative paths) with `dir`. Every `*.rs` file under `dir`
/// that is not generated counts as stale, except paths in `keep`.
pub fn compare(
    dir: &Path,
    files: &BTreeMap<PathBuf, String>,
    keep: &[PathBuf],
) -> io::Result<SyncReport> {
    let mut report = SyncReport::default();
    for (relative, text) in files {
        let path = dir.join(relative);
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing == *text => report.unchanged += 1,
            Ok(existing) => report
                .changed
                .push((relative.clone(), Some(existing), text.clone())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                report.changed.push((relative.clone(), None, text.clone()))
            }
            Err(err) => return Err(err),
        }
    }
    if dir.exists() {
        let mut existing = Vec::new();
        collect_rs(dir, dir, &mut existing)?;
        for relative in existing {
            if !files.contains_key(&relative) && !keep.contains(&relative) {
                report.stale.push(relative);
            }
        }
    }
    report.stale.sort();
    Ok(report)
}

/// Writes the changed files of `report` and removes its stale ones.
pub fn apply(dir: &Path, report: &SyncReport) -> io::Result<()> {
    for (relative, _, text) in &report.changed {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    for relative in &report.stale {
        std::fs::remove_file(dir.join(relative))?;
    }
    remove_empty_dirs(dir)?;
    Ok(())
}

fn collect_rs(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_rs(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs")
            && let Ok(relative) = path.strip_prefix(root)
        {
            out.push(relative.to_path_buf());
        }
    }
    Ok(())
}

fn remove_empty_dirs(dir: &Path) -> io::Result<bool> {
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            if remove_empty_dirs(&entry.path())? {
                std::fs::remove_dir(entry.path())?;
            } else {
                empty = false;
            }
        } else {
            empty = false;
        }
    }
    Ok(empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_and_apply() {
        let dir = std::env::temp_dir().join(format!("atlex-sync-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("old")).unwrap();
        std::fs::write(dir.join("same.rs"), "a").unwrap();
        std::fs::write(dir.join("diff.rs"), "b").unwrap();
        std::fs::write(dir.join("old/gone.rs"), "c").unwrap();
        std::fs::write(dir.join("lib.rs"), "kept").unwrap();
        let files: BTreeMap<PathBuf, String> =
            [("same.rs", "a"), ("diff.rs", "B"), ("new/x.rs", "x")]
                .into_iter()
                .map(|(p, t)| (PathBuf::from(p), t.to_owned()))
                .collect();
        let report = compare(&dir, &files, &[PathBuf::from("lib.rs")]).unwrap();
        assert_eq!(report.unchanged, 1);
        assert_eq!(report.changed.len(), 2);
        assert_eq!(report.stale, vec![PathBuf::from("old/gone.rs")]);
        apply(&dir, &report).unwrap();
        assert!(
            compare(&dir, &files, &[PathBuf::from("lib.rs")])
                .unwrap()
                .is_clean()
        );
        assert!(!dir.join("old").exists());
        assert_eq!(std::fs::read_to_string(dir.join("lib.rs")).unwrap(), "kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
