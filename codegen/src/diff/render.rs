//! A [`Report`] as text for people and as JSON for machines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::model::{Change, DocReport, DocStatus, Impact, Report, Verdict};
use super::semver::Bump;

/// How long a shown value may be before it is cut (descriptions).
const MAX_VALUE_CHARS: usize = 72;

/// The report as text: a header, then each changed document with its
/// verdict and every change (class, kind, location, old → new, the effect on
/// each side and the rule behind it), then the overall verdict.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "OLD: {}", report.old_label);
    let _ = writeln!(out, "NEW: {}", report.new_label);
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    for doc in report.changed_documents() {
        out.push('\n');
        document(&mut out, doc);
    }
    out.push('\n');
    let _ = writeln!(out, "{}", summary_line(report));
    let _ = writeln!(out, "{}", semver_line(report));
    out
}

/// `semver: minor (…)`: the release a crate of bindings generated from the
/// lexicons needs.
pub fn semver_line(report: &Report) -> String {
    let bump = Bump::of_report(report);
    let why = match bump {
        Bump::None => "nothing changed",
        Bump::Patch => "only documentation changes",
        Bump::Minor => "additions",
        Bump::Major => "changes that break code built against the old bindings",
    };
    format!("semver: {bump} (a crate of generated bindings needs a {bump} release: {why})")
}

fn document(out: &mut String, doc: &DocReport) {
    let acknowledged = doc.changes.iter().any(|c| c.acknowledged.is_some());
    let _ = writeln!(
        out,
        "{}: {} ({}, {} change{}{})",
        doc.nsid,
        doc.verdict(),
        doc.status.name(),
        doc.changes.len(),
        if doc.changes.len() == 1 { "" } else { "s" },
        if acknowledged && !doc.fails() {
            "; breaking changes acknowledged"
        } else {
            ""
        }
    );
    for change in &doc.changes {
        change_lines(out, change);
    }
}

fn change_lines(out: &mut String, change: &Change) {
    let values = match (&change.old, &change.new) {
        (None, None) => String::new(),
        (Some(old), None) => format!(" (was {})", show(old)),
        (None, Some(new)) => format!(" ({})", show(new)),
        (Some(old), Some(new)) => format!(" ({} → {})", show(old), show(new)),
    };
    let _ = writeln!(
        out,
        "  [{}] {} at {}{}",
        change.class,
        change.kind.phrase(),
        change.location,
        values
    );
    let (readers, writers) = change.flow.roles();
    let _ = writeln!(
        out,
        "      existing {readers}: {}; existing {writers}: {}",
        impact_words(change.compat.readers),
        impact_words(change.compat.writers)
    );
    let _ = writeln!(out, "      why: {}", change.reason);
    for line in &change.details {
        let _ = writeln!(out, "      {line}");
    }
    if let Some(reason) = &change.acknowledged {
        let _ = writeln!(out, "      acknowledged: {reason}");
    }
}

fn impact_words(impact: Impact) -> &'static str {
    match impact {
        Impact::None => "unaffected",
        Impact::Tolerated => "tolerated (meets values it must accept)",
        Impact::Validation => "BREAKS where constraints are checked",
        Impact::Unknown => "unknown",
        Impact::Breaking => "BREAKS",
    }
}

/// A value for a line of text: JSON, cut when long.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > MAX_VALUE_CHARS {
        let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// `verdict: compatible; 2 of 402 documents differ (1 added, 1 compatible)…`
pub fn summary_line(report: &Report) -> String {
    let mut by_verdict: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut by_status: BTreeMap<DocStatus, usize> = BTreeMap::new();
    for doc in &report.documents {
        *by_status.entry(doc.status).or_default() += 1;
        if doc.status != DocStatus::Unchanged {
            *by_verdict.entry(doc.verdict()).or_default() += 1;
        }
    }
    let changed =
        report.documents.len() - by_status.get(&DocStatus::Unchanged).copied().unwrap_or(0);
    let statuses: Vec<String> = [DocStatus::Added, DocStatus::Removed, DocStatus::Changed]
        .iter()
        .filter_map(|s| by_status.get(s).map(|n| format!("{n} {}", s.name())))
        .collect();
    let verdicts: Vec<String> = by_verdict
        .iter()
        .rev()
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    let failing = report.changes().filter(|(_, c)| c.fails()).count();
    let acknowledged = report
        .changes()
        .filter(|(_, c)| c.acknowledged.is_some())
        .count();
    let mut line = format!(
        "verdict: {}; {changed} of {} documents differ",
        report.verdict(),
        report.documents.len()
    );
    if changed > 0 {
        let _ = write!(line, " ({}; {})", statuses.join(", "), verdicts.join(", "));
    }
    let _ = write!(
        line,
        "; {failing} breaking or unclassified change{} not acknowledged",
        if failing == 1 { "" } else { "s" }
    );
    if acknowledged > 0 {
        let _ = write!(line, ", {acknowledged} acknowledged");
    }
    line
}

/// The report as JSON. Unchanged documents are counted, not listed.
///
/// ```json
/// {"old": "...", "new": "...", "verdict": "compatible", "semver": "minor", "fails": false,
///  "summary": {"documents": 402, "unchanged": 401, "added": 0, "removed": 0, "changed": 1},
///  "warnings": [],
///  "documents": [{"nsid": "...", "status": "changed", "verdict": "compatible",
///                 "old_path": "...", "new_path": "...", "changes": [
///    {"kind": "error_added", "constraint": null, "location": "nsid#main.errors.X",
///     "pointer": "/defs/main/errors/0", "old": null, "new": "X", "class": "compatible", "semver": "minor",
///     "flow": "response", "readers": "tolerated", "writers": "none", "breaks": [],
///     "reason": "...", "details": [], "acknowledged": null}]}]}
/// ```
pub fn json(report: &Report) -> Value {
    let count = |status: DocStatus| {
        report
            .documents
            .iter()
            .filter(|d| d.status == status)
            .count()
    };
    json!({
        "old": report.old_label,
        "new": report.new_label,
        "verdict": report.verdict().name(),
        "semver": Bump::of_report(report).name(),
        "fails": report.fails(),
        "summary": {
            "documents": report.documents.len(),
            "unchanged": count(DocStatus::Unchanged),
            "added": count(DocStatus::Added),
            "removed": count(DocStatus::Removed),
            "changed": count(DocStatus::Changed),
        },
        "warnings": report.warnings,
        "documents": report.changed_documents().map(document_json).collect::<Vec<_>>(),
    })
}

fn document_json(doc: &DocReport) -> Value {
    json!({
        "nsid": doc.nsid,
        "status": doc.status.name(),
        "verdict": doc.verdict().name(),
        "old_path": doc.old_path,
        "new_path": doc.new_path,
        "changes": doc.changes.iter().map(change_json).collect::<Vec<_>>(),
    })
}

/// One change as JSON.
pub fn change_json(change: &Change) -> Value {
    json!({
        "kind": change.kind.name(),
        "constraint": change.kind.constraint().map(|c| c.name()),
        "location": change.location,
        "pointer": change.pointer,
        "old": change.old,
        "new": change.new,
        "class": change.class.name(),
        "semver": Bump::of(change).name(),
        "flow": change.flow.name(),
        "readers": change.compat.readers.name(),
        "writers": change.compat.writers.name(),
        "breaks": change.breaks(),
        "reason": change.reason,
        "details": change.details,
        "acknowledged": change.acknowledged,
    })
}
