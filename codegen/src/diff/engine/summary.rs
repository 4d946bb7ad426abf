//! Structural summaries of JSON: the paths where two documents differ, and
//! a one-line outline, for documents the model cannot compare.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::diagnostics::pointer_push;

/// How many JSON paths a structural summary lists before it stops.
const SUMMARY_LINES: usize = 20;

/// Every JSON path where `a` and `b` differ, with `added`, `removed` or
/// `changed`.
pub(super) fn json_paths(
    a: &Value,
    b: &Value,
    pointer: String,
    out: &mut Vec<(String, &'static str)>,
) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let at = pointer_push(&pointer, key);
                match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => json_paths(u, v, at, out),
                    (Some(_), None) => out.push((at, "removed")),
                    (None, Some(_)) => out.push((at, "added")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let at = pointer_push(&pointer, &i.to_string());
                match (x.get(i), y.get(i)) {
                    (Some(u), Some(v)) => json_paths(u, v, at, out),
                    (Some(_), None) => out.push((at, "removed")),
                    (None, Some(_)) => out.push((at, "added")),
                    (None, None) => {}
                }
            }
        }
        (x, y) if x != y => out.push((pointer, "changed")),
        _ => {}
    }
}

/// Summary lines for a list of differing JSON paths.
pub(super) fn summarize(paths: &[(String, &'static str)]) -> Vec<String> {
    let count = |what: &str| paths.iter().filter(|(_, w)| *w == what).count();
    let mut lines = vec![format!(
        "{} JSON paths differ: {} added, {} removed, {} changed",
        paths.len(),
        count("added"),
        count("removed"),
        count("changed")
    )];
    for (path, what) in paths.iter().take(SUMMARY_LINES) {
        let shown = if path.is_empty() {
            "(the whole value)"
        } else {
            path
        };
        lines.push(format!("{what} {shown}"));
    }
    if paths.len() > SUMMARY_LINES {
        lines.push(format!("… and {} more", paths.len() - SUMMARY_LINES));
    }
    lines
}

/// A one-line outline of a document's JSON: its format and top-level
/// structure (`lexicon 1, type procedure, keys […]` or `defs […]`).
pub(super) fn outline(value: &Value) -> String {
    let Some(map) = value.as_object() else {
        return format!("not an object ({})", kind_of(value));
    };
    let mut parts = Vec::new();
    if let Some(v) = map.get("lexicon") {
        parts.push(format!("lexicon {v}"));
    }
    match map.get("defs").and_then(Value::as_object) {
        Some(defs) => {
            let names: Vec<String> = defs
                .iter()
                .map(
                    |(name, def)| match def.get("type").and_then(Value::as_str) {
                        Some(t) => format!("{name}: {t}"),
                        None => name.clone(),
                    },
                )
                .collect();
            parts.push(format!("defs [{}]", names.join(", ")));
        }
        None => {
            if let Some(t) = map.get("type").and_then(Value::as_str) {
                parts.push(format!("top-level type {t} (pre-v1 layout, no defs)"));
            }
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            parts.push(format!("keys [{}]", keys.join(", ")));
        }
    }
    parts.join(", ")
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_paths_lists_every_difference() {
        let a = json!({"x": 1, "y": [1, 2], "z": {"k": true}});
        let b = json!({"x": 2, "y": [1], "w": null, "z": {"k": true}});
        let mut out = Vec::new();
        json_paths(&a, &b, String::new(), &mut out);
        assert_eq!(
            out,
            vec![
                ("/w".to_owned(), "added"),
                ("/x".to_owned(), "changed"),
                ("/y/1".to_owned(), "removed"),
            ]
        );
    }
}
