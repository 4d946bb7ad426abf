//! The data-model check of JSON documents: what [`check_data_model`]
//! accepts is exactly what [`Value::from_json`](super::Value::from_json)
//! reads and what DAG-CBOR can encode.

use super::{Blob, Bytes, CidLink};
use serde::Deserialize;

/// Why JSON is not valid data-model JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", if path.is_empty() { String::new() } else { format!("at {path}: ") })]
pub struct DataModelError {
    /// Where (`a.b[2]`), empty for the top level.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// What kind of JSON value this is, for messages.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// If an object is one of the data model's special forms (`$bytes`,
/// `$link`, a blob), which one.
pub fn special_object(map: &serde_json::Map<String, serde_json::Value>) -> Option<&'static str> {
    if map.contains_key("$bytes") {
        Some("bytes")
    } else if map.contains_key("$link") {
        Some("a cid-link")
    } else if map.get("$type").and_then(serde_json::Value::as_str) == Some("blob") {
        Some("a blob")
    } else {
        None
    }
}

/// Checks that JSON follows the atproto data model: integers only (a float
/// with no fraction counts as an integer), `$type` a non-empty string,
/// `$link` and `$bytes` objects well formed and alone, blobs complete.
pub fn check_data_model(value: &serde_json::Value) -> Result<(), DataModelError> {
    let mut path = Vec::new();
    check_value(value, &mut path, 0)
}

/// Checks that a whole document (a record, a body) is data-model JSON: an
/// object at the top.
pub fn check_data_model_object(value: &serde_json::Value) -> Result<(), DataModelError> {
    if !value.is_object() {
        return Err(DataModelError {
            path: String::new(),
            reason: format!("{}, an object required at the top level", json_kind(value)),
        });
    }
    check_data_model(value)
}

const MAX_DEPTH: usize = 512;

pub(crate) fn data_error(path: &[String], reason: impl Into<String>) -> DataModelError {
    DataModelError {
        path: data_path(path),
        reason: reason.into(),
    }
}

/// A path from its segments (`a`, `[2]`, `b`): `a[2].b`.
pub(crate) fn data_path(path: &[String]) -> String {
    let mut text = String::new();
    for segment in path {
        if !segment.starts_with('[') && !text.is_empty() {
            text.push('.');
        }
        text.push_str(segment);
    }
    text
}

fn check_value(
    value: &serde_json::Value,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), DataModelError> {
    if depth > MAX_DEPTH {
        return Err(data_error(path, "nested too deeply"));
    }
    match value {
        serde_json::Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                if n.as_i64().is_none() {
                    return Err(data_error(
                        path,
                        format!("integer {n} is out of the 64-bit range"),
                    ));
                }
                Ok(())
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => Ok(()),
                    _ => Err(data_error(
                        path,
                        format!("{n} is not an integer; the data model has no floats"),
                    )),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                check_value(item, path, depth + 1)?;
                path.pop();
            }
            Ok(())
        }
        serde_json::Value::Object(map) => check_object(map, path, depth),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::String(_) => {
            Ok(())
        }
    }
}

fn check_object(
    map: &serde_json::Map<String, serde_json::Value>,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), DataModelError> {
    if let Some(link) = map.get("$link") {
        if map.len() != 1 {
            return Err(data_error(path, "a $link object has no other fields"));
        }
        return match link.as_str() {
            Some(cid) => CidLink::parse(cid)
                .map(drop)
                .map_err(|e| data_error(path, e.to_string())),
            None => Err(data_error(
                path,
                format!("$link is {}, a CID string required", json_kind(link)),
            )),
        };
    }
    if let Some(bytes) = map.get("$bytes") {
        if map.len() != 1 {
            return Err(data_error(path, "a $bytes object has no other fields"));
        }
        return match bytes.as_str() {
            Some(text) => Bytes::from_base64(text)
                .map(drop)
                .map_err(|e| data_error(path, e)),
            None => Err(data_error(
                path,
                format!("$bytes is {}, a base64 string required", json_kind(bytes)),
            )),
        };
    }
    match map.get("$type") {
        None => {}
        Some(serde_json::Value::String(t)) if t.is_empty() => {
            return Err(data_error(path, "$type is an empty string"));
        }
        Some(serde_json::Value::String(t)) if t == "blob" => {
            return Blob::deserialize(&serde_json::Value::Object(map.clone()))
                .map(drop)
                .map_err(|e| data_error(path, format!("invalid blob: {e}")));
        }
        Some(serde_json::Value::String(_)) => {}
        Some(other) => {
            return Err(data_error(
                path,
                format!("$type is {}, a string required", json_kind(other)),
            ));
        }
    }
    for (key, value) in map {
        path.push(key.clone());
        check_value(value, path, depth + 1)?;
        path.pop();
    }
    Ok(())
}
