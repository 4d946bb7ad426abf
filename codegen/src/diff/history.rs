//! Lexicon history files: one JSON object a line, each a change to one
//! lexicon file in an upstream commit,
//! `{commit, date, subject, path, nsid, before, after}`, where `before` is
//! `null` for a file added and `after` is `null` for a file removed.
//!
//! Used to replay real evolution through the diff engine, and to rebuild a
//! tree of lexicons as it stood at some point.

use std::collections::BTreeMap;

use serde_json::Value;

use super::engine::{Overlay, Parsed, diff_document};
use super::model::DocReport;
use super::source::LexiconSet;

/// One line of a history file.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    /// The commit (an abbreviated hash).
    pub commit: String,
    /// Its date, `YYYY-MM-DD`.
    pub date: String,
    /// Its subject line.
    pub subject: String,
    /// The file's path in the upstream repository.
    pub path: String,
    /// The NSID the path implies.
    pub nsid: String,
    /// The document before the commit (`None`: the file was added).
    pub before: Option<Value>,
    /// The document after the commit (`None`: the file was removed).
    pub after: Option<Value>,
}

impl HistoryEntry {
    /// Whether this entry's commit is `commit`, either being a prefix of the
    /// other (hashes are abbreviated to different lengths).
    pub fn is_commit(&self, commit: &str) -> bool {
        !commit.is_empty() && (self.commit.starts_with(commit) || commit.starts_with(&self.commit))
    }

    /// The two sides of this change, keyed by the entry's NSID (so that
    /// documents of the pre-v1 formats, whose ids differ, are still paired).
    pub fn sides(&self) -> (LexiconSet, LexiconSet) {
        let side = |label: String, doc: &Option<Value>| {
            let mut set = LexiconSet::new(label);
            if let Some(doc) = doc {
                set.insert(self.nsid.clone(), &self.path, Ok(doc.clone()));
            }
            set
        };
        (
            side(format!("{}^:{}", self.commit, self.path), &self.before),
            side(format!("{}:{}", self.commit, self.path), &self.after),
        )
    }

    /// Diffs `before` against `after`: the report of this entry's NSID.
    pub fn diff(&self) -> DocReport {
        let (old, new) = self.sides();
        let mut report = super::diff(&old, &new);
        report
            .documents
            .pop()
            .unwrap_or_else(|| super::model::DocReport {
                nsid: self.nsid.clone(),
                old_path: None,
                new_path: None,
                status: super::model::DocStatus::Unchanged,
                changes: Vec::new(),
            })
    }
}

/// Diffs every entry, in order, with the tree of lexicons as it stood just
/// before and just after its commit around it, so that references into other
/// documents are followed (which [`HistoryEntry::diff`], seeing one document
/// alone, cannot do). One report per entry, in the same order.
///
/// Entries of one commit are consecutive. The entry's own `before` and
/// `after` are the documents compared; the other documents come from
/// replaying the entries before it.
pub fn replay(entries: &[HistoryEntry]) -> Vec<DocReport> {
    let parse = |entry: &HistoryEntry, doc: &Option<Value>| {
        doc.as_ref()
            .map(|d| Parsed::new(entry.path.clone(), Ok(d.clone())))
    };
    let mut tree: BTreeMap<String, Parsed> = BTreeMap::new();
    let mut reports = Vec::with_capacity(entries.len());
    let mut start = 0;
    while start < entries.len() {
        let commit = &entries[start].commit;
        let end = entries[start..]
            .iter()
            .position(|e| &e.commit != commit)
            .map_or(entries.len(), |n| start + n);
        let group = &entries[start..end];
        let before: BTreeMap<String, Option<Parsed>> = group
            .iter()
            .map(|e| (e.nsid.clone(), parse(e, &e.before)))
            .collect();
        let after: BTreeMap<String, Option<Parsed>> = group
            .iter()
            .map(|e| (e.nsid.clone(), parse(e, &e.after)))
            .collect();
        let old = Overlay {
            base: &tree,
            changes: &before,
        };
        let new = Overlay {
            base: &tree,
            changes: &after,
        };
        for entry in group {
            reports.push(diff_document(&entry.nsid, &old, &new));
        }
        for (nsid, doc) in after {
            match doc {
                Some(doc) => {
                    tree.insert(nsid, doc);
                }
                None => {
                    tree.remove(&nsid);
                }
            }
        }
        start = end;
    }
    reports
}

/// Reads a history file (JSON lines; blank lines skipped). The first bad
/// line is an error naming its line number.
pub fn read_history(text: &str) -> Result<Vec<HistoryEntry>, String> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let field = |key: &str| -> Result<String, String> {
            value
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("line {}: `{key}` must be a string", i + 1))
        };
        let doc = |key: &str| match value.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        };
        entries.push(HistoryEntry {
            commit: field("commit")?,
            date: field("date")?,
            subject: field("subject").unwrap_or_default(),
            path: field("path")?,
            nsid: field("nsid")?,
            before: doc("before"),
            after: doc("after"),
        });
    }
    Ok(entries)
}

/// The tree of documents as it stood just before the first entry for which
/// `stop` is true (entries are in history order): for each path, its latest
/// `after` among the entries before that one, removed files left out. With
/// no such entry, the tree after the whole history.
pub fn tree_before(
    entries: &[HistoryEntry],
    stop: impl Fn(&HistoryEntry) -> bool,
) -> BTreeMap<String, (String, Value)> {
    let mut tree: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for entry in entries {
        if stop(entry) {
            break;
        }
        match &entry.after {
            Some(doc) => {
                tree.insert(entry.path.clone(), (entry.nsid.clone(), doc.clone()));
            }
            None => {
                tree.remove(&entry.path);
            }
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_and_rebuilds_trees() {
        let text = r#"{"commit":"aaa","date":"2024-01-01","subject":"s","path":"p/x.json","nsid":"p.q.x","before":null,"after":{"id":"p.q.x"}}

{"commit":"bbb","date":"2024-02-01","subject":"s","path":"p/x.json","nsid":"p.q.x","before":{"id":"p.q.x"},"after":null}"#;
        let entries = read_history(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].is_commit("aa"));
        assert!(entries[0].is_commit("aaa0123"));
        assert!(!entries[0].is_commit(""));
        assert_eq!(tree_before(&entries, |e| e.is_commit("bbb")).len(), 1);
        assert_eq!(tree_before(&entries, |_| false).len(), 0);
        assert!(
            read_history("{\"commit\":1}")
                .unwrap_err()
                .starts_with("line 1")
        );
    }
}
