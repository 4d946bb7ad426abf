//! What `atlex lex` reads and writes on disk: lexicon documents in NSID
//! layout and their references, and the offline check of
//! `atlex lex install --ci`. The manifest and CIDs are
//! `atlex_codegen::pins`, which build scripts share.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use atlex::types::{Cid, Nsid};
pub(crate) use atlex_codegen::pins::{Manifest, document_cid, document_path};
use serde_json::Value as Json;

/// A local document: its JSON and CID.
pub(crate) struct Local {
    pub json: Json,
    pub cid: Cid,
}

/// What is wrong with a local file.
pub(crate) enum LocalError {
    /// There is no file.
    Missing,
    /// The file cannot be read, or is not data-model JSON.
    Unreadable(String),
}

impl fmt::Display for LocalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("missing"),
            Self::Unreadable(reason) => f.write_str(reason),
        }
    }
}

/// Reads the document of `nsid` under `dir`.
pub(crate) fn read_local(dir: &Path, nsid: &str) -> Result<Local, LocalError> {
    let path = document_path(dir, nsid);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(LocalError::Missing),
        Err(err) => return Err(LocalError::Unreadable(err.to_string())),
    };
    let json: Json = serde_json::from_str(&text)
        .map_err(|err| LocalError::Unreadable(format!("not JSON: {err}")))?;
    let cid = document_cid(&json).map_err(LocalError::Unreadable)?;
    Ok(Local { json, cid })
}

/// Writes `bytes` to `path`, making its directories.
#[cfg(feature = "resolve")]
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|err| format!("{}: {err}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|err| format!("{}: {err}", path.display()))
}

/// The other documents `document` refers to, by NSID: targets of `ref`s
/// and union members, tokens named in `knownValues` (`nsid#name`), and the
/// methods and collections of permission sets — the references
/// `@atproto/lex` follows. References within the document are left out; a
/// reference that does not name an NSID is an error.
pub(crate) fn references(document: &Json) -> Result<BTreeSet<String>, String> {
    let mut found = Vec::new();
    if let Some(defs) = document.get("defs").and_then(Json::as_object) {
        for def in defs.values() {
            def_references(def, 0, &mut found);
        }
    }
    let own = document.get("id").and_then(Json::as_str).unwrap_or("");
    let mut nsids = BTreeSet::new();
    for reference in found {
        let target = reference.split('#').next().unwrap_or("");
        if target.is_empty() || target == own {
            continue;
        }
        Nsid::new(target)
            .map_err(|err| format!("the reference {reference:?} does not name an NSID: {err}"))?;
        nsids.insert(target.to_owned());
    }
    Ok(nsids)
}

/// How deeply definitions are followed: far beyond any real document, and
/// a bound on what an untrusted one can make this walk do.
const MAX_DEPTH: usize = 64;

fn def_references(def: &Json, depth: usize, found: &mut Vec<String>) {
    let Some(object) = def.as_object() else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    let nested = |key: &str, found: &mut Vec<String>| {
        if let Some(inner) = object.get(key) {
            def_references(inner, depth + 1, found);
        }
    };
    let strings = |key: &str, found: &mut Vec<String>| {
        if let Some(list) = object.get(key).and_then(Json::as_array) {
            found.extend(list.iter().filter_map(Json::as_str).map(str::to_owned));
        }
    };
    let body_schema = |key: &str, found: &mut Vec<String>| {
        if let Some(schema) = object.get(key).and_then(|body| body.get("schema")) {
            def_references(schema, depth + 1, found);
        }
    };
    match object.get("type").and_then(Json::as_str) {
        Some("string") => {
            // Tokens: `nsid#name` with exactly one `#`.
            if let Some(values) = object.get("knownValues").and_then(Json::as_array) {
                for value in values.iter().filter_map(Json::as_str) {
                    let parts: Vec<&str> = value.split('#').collect();
                    if parts.len() == 2 && !parts[1].is_empty() && Nsid::new(parts[0]).is_ok() {
                        found.push(value.to_owned());
                    }
                }
            }
        }
        Some("array") => nested("items", found),
        Some("object" | "params") => {
            if let Some(properties) = object.get("properties").and_then(Json::as_object) {
                for property in properties.values() {
                    def_references(property, depth + 1, found);
                }
            }
        }
        Some("union") => strings("refs", found),
        Some("ref") => {
            if let Some(target) = object.get("ref").and_then(Json::as_str) {
                found.push(target.to_owned());
            }
        }
        Some("record") => nested("record", found),
        Some("query" | "procedure" | "subscription") => {
            body_schema("input", found);
            body_schema("output", found);
            body_schema("message", found);
            nested("parameters", found);
        }
        Some("permission-set") => {
            if let Some(permissions) = object.get("permissions").and_then(Json::as_array) {
                for permission in permissions {
                    def_references(permission, depth + 1, found);
                }
            }
        }
        Some("permission") => match object.get("resource").and_then(Json::as_str) {
            Some("rpc") => strings("lxm", found),
            Some("repo") => strings("collection", found),
            _ => {}
        },
        _ => {}
    }
}

/// Where documents are found: the project's directory, and directories of
/// documents provided otherwise (a crate of bindings such as
/// `atlex-lexicons`), which are never installed.
pub(crate) struct Dirs {
    /// The project's lexicons (installed ones and its own).
    pub lexicons: PathBuf,
    /// Documents provided by other sets.
    pub externs: Vec<PathBuf>,
}

impl Dirs {
    /// Whether another set provides `nsid`.
    pub(crate) fn is_extern(&self, nsid: &str) -> bool {
        self.externs
            .iter()
            .any(|dir| document_path(dir, nsid).is_file())
    }
}

/// Checks, without the network, that the installed documents are those the
/// manifest pins and that the manifest is complete: each NSID asked for is
/// installed, each file is there with its pinned CID, each reference of an
/// installed document is installed, provided by an extern set or one of
/// the project's own documents, and nothing is pinned that no NSID asked
/// for needs. `wanted` are NSIDs that must be among those asked for.
/// Returns every problem found.
pub(crate) fn check(manifest: &Manifest, dirs: &Dirs, wanted: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for nsid in wanted {
        if !manifest.lexicons.contains(nsid) {
            problems.push(format!(
                "out of date: {nsid} is not in the manifest's lexicons"
            ));
        }
    }
    let mut needed: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<String> = manifest.lexicons.iter().cloned().collect();
    while let Some(nsid) = queue.pop() {
        if !needed.insert(nsid.clone()) {
            continue;
        }
        let path = document_path(&dirs.lexicons, &nsid);
        let pinned = manifest.resolutions.get(&nsid);
        let local = read_local(&dirs.lexicons, &nsid);
        let json = match (pinned, local) {
            (Some(pin), Ok(local)) => {
                if local.cid.to_string() != pin.cid {
                    problems.push(format!(
                        "differs: {} has CID {}, the manifest pins {}",
                        path.display(),
                        local.cid,
                        pin.cid
                    ));
                }
                local.json
            }
            (Some(_), Err(LocalError::Missing)) => {
                problems.push(format!("missing: {} ({nsid} is pinned)", path.display()));
                continue;
            }
            (_, Err(err @ LocalError::Unreadable(_))) => {
                problems.push(format!("unreadable: {}: {err}", path.display()));
                continue;
            }
            (None, Ok(local)) if manifest.lexicons.contains(&nsid) => {
                problems.push(format!(
                    "out of date: {nsid} is asked for but the manifest has no resolution of it"
                ));
                local.json
            }
            // One of the project's own documents: not pinned, but what it
            // refers to must be there.
            (None, Ok(local)) => local.json,
            (None, Err(LocalError::Missing)) => {
                problems.push(format!(
                    "out of date: {nsid} is needed but neither installed nor provided by an extern set"
                ));
                continue;
            }
        };
        match references(&json) {
            Ok(targets) => {
                for target in targets {
                    if !dirs.is_extern(&target) && !needed.contains(&target) {
                        queue.push(target);
                    }
                }
            }
            Err(err) => problems.push(format!("{}: {err}", path.display())),
        }
    }
    for nsid in manifest.resolutions.keys() {
        if !needed.contains(nsid) {
            problems.push(format!(
                "out of date: {nsid} is pinned but no lexicon asked for needs it"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_what_the_reference_installer_follows() {
        let document = serde_json::json!({
            "lexicon": 1,
            "id": "com.example.feed.post",
            "defs": {
                "main": {"type": "record", "key": "tid", "record": {"type": "object", "properties": {
                    "embed": {"type": "union", "refs": ["com.example.embed.images", "#local"]},
                    "author": {"type": "ref", "ref": "com.example.actor.defs#profile"},
                    "self": {"type": "ref", "ref": "com.example.feed.post#other"},
                    "tags": {"type": "array", "items": {"type": "ref", "ref": "com.example.tag"}},
                    "reason": {"type": "string", "knownValues": ["com.example.reasons#spam", "plain", "a#b#c"]}
                }}},
                "list": {"type": "query", "parameters": {"type": "params", "properties": {}},
                    "output": {"encoding": "application/json", "schema": {"type": "ref", "ref": "com.example.out"}}},
                "perms": {"type": "permission-set", "permissions": [
                    {"type": "permission", "resource": "rpc", "lxm": ["com.example.rpc.call"]},
                    {"type": "permission", "resource": "repo", "collection": ["com.example.coll"]}
                ]}
            }
        });
        let found: Vec<String> = references(&document).unwrap().into_iter().collect();
        assert_eq!(
            found,
            [
                "com.example.actor.defs",
                "com.example.coll",
                "com.example.embed.images",
                "com.example.out",
                "com.example.reasons",
                "com.example.rpc.call",
                "com.example.tag",
            ]
        );
        let bad = serde_json::json!({"id": "com.example.a", "defs": {"main": {"type": "ref", "ref": "not an nsid"}}});
        assert!(references(&bad).unwrap_err().contains("\"not an nsid\""));
    }
}
