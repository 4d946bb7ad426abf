//! Lexicons pinned by CID (feature `pins`): `lexicons.json`, the manifest
//! `atlex lex install` and `@atproto/lex`'s `lex install` write, and the
//! CIDs of lexicon documents.
//!
//! A manifest lists the NSIDs a project asked for and, for every document
//! installed, where it was published
//! (`at://<did>/com.atproto.lexicon.schema/<nsid>`) and the CID of that
//! schema record. A document is installed in NSID layout with the record's
//! `$type`, so that the CID of its JSON (as DAG-CBOR) is the record's:
//! [`check_files`] tells whether the files are still the ones pinned,
//! without the network, as [`Builder::manifest`](crate::Builder::manifest)
//! does before generating.
//!
//! ```
//! use atlex_codegen::pins::{Manifest, document_cid};
//!
//! let manifest = Manifest::parse(r#"{"version": 1, "lexicons": [], "resolutions": {}}"#)?;
//! assert!(manifest.resolutions.is_empty());
//! let json = serde_json::json!({
//!     "$type": "com.atproto.lexicon.schema",
//!     "lexicon": 1,
//!     "id": "com.example.thing",
//!     "defs": {}
//! });
//! assert_eq!(document_cid(&json)?.codec(), atlex::cbor::DAG_CBOR);
//! # Ok::<(), String>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use atlex::types::{AtUri, Cid, Nsid};
use serde::{Deserialize, Serialize};

/// The collection of published lexicon schemas; each record's key is the
/// NSID of the document it holds.
pub const COLLECTION: &str = "com.atproto.lexicon.schema";

/// The manifest's format version, the only one there is.
const VERSION: u64 = 1;

/// `lexicons.json`: the NSIDs asked for, and every document installed with
/// where it came from and its CID. The format of `@atproto/lex`'s
/// `lex install`, so that a project can use either tool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The NSIDs asked for (not those installed as dependencies).
    pub lexicons: BTreeSet<String>,
    /// Every installed document by NSID.
    pub resolutions: BTreeMap<String, Resolution>,
}

/// Where an installed document came from, and which version it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// `at://<did>/com.atproto.lexicon.schema/<nsid>`.
    pub uri: String,
    /// The CID of the schema record.
    pub cid: String,
}

/// The manifest as written: version first, lists sorted, two-space indent,
/// as `@atproto/lex` writes it (so that the two tools produce the same
/// bytes).
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u64,
    lexicons: Vec<String>,
    resolutions: BTreeMap<String, Resolution>,
}

impl Manifest {
    /// Reads the manifest at `path`; `Ok(None)` when there is no file.
    pub fn read(path: &Path) -> Result<Option<Self>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(format!("{}: {err}", path.display())),
        };
        Self::parse(&text)
            .map(Some)
            .map_err(|err| format!("{}: {err}", path.display()))
    }

    /// Parses and checks a manifest: version 1, NSIDs, AT URIs of schema
    /// records whose key is the NSID, CIDs.
    pub fn parse(text: &str) -> Result<Self, String> {
        let stored: Stored = serde_json::from_str(text)
            .map_err(|err| format!("not a lexicons.json manifest: {err}"))?;
        if stored.version != VERSION {
            return Err(format!(
                "manifest version {} (only version {VERSION} is known)",
                stored.version
            ));
        }
        let mut lexicons = BTreeSet::new();
        for nsid in stored.lexicons {
            Nsid::new(nsid.as_str())
                .map_err(|err| format!("lexicons: {nsid:?} is not an NSID: {err}"))?;
            if !lexicons.insert(nsid.clone()) {
                return Err(format!("lexicons: {nsid} is listed twice"));
            }
        }
        for (nsid, resolution) in &stored.resolutions {
            let place = format!("resolutions.{nsid}");
            Nsid::new(nsid.as_str())
                .map_err(|err| format!("{place}: {nsid:?} is not an NSID: {err}"))?;
            schema_uri_parts(&resolution.uri)
                .and_then(|(_, key)| {
                    if key == *nsid {
                        Ok(())
                    } else {
                        Err(format!("the record key is {key}, not the NSID"))
                    }
                })
                .map_err(|err| format!("{place}.uri: {err}"))?;
            Cid::new(resolution.cid.as_str())
                .map_err(|err| format!("{place}.cid: {:?} is not a CID: {err}", resolution.cid))?;
        }
        Ok(Self {
            lexicons,
            resolutions: stored.resolutions,
        })
    }

    /// The manifest as `@atproto/lex` writes it: sorted, indented by two
    /// spaces, without a final newline.
    pub fn to_text(&self) -> String {
        let stored = Stored {
            version: VERSION,
            lexicons: self.lexicons.iter().cloned().collect(),
            resolutions: self.resolutions.clone(),
        };
        // Strings, lists and maps of strings always serialize.
        serde_json::to_string_pretty(&stored).unwrap_or_default()
    }
}

/// The DID and record key of `at://<did>/com.atproto.lexicon.schema/<key>`.
pub fn schema_uri_parts(uri: &str) -> Result<(String, String), String> {
    let parsed = AtUri::new(uri).map_err(|err| format!("{uri:?} is not an AT URI: {err}"))?;
    let did = parsed.authority();
    if !did.starts_with("did:") {
        return Err(format!("{uri}: the repository is not named by a DID"));
    }
    if parsed.collection() != Some(COLLECTION) {
        return Err(format!("{uri}: not a record of {COLLECTION}"));
    }
    let key = parsed
        .rkey()
        .ok_or_else(|| format!("{uri}: no record key"))?;
    Ok((did.to_owned(), key.to_string()))
}

/// The AT URI of the schema record of `nsid` in `did`'s repository.
pub fn schema_uri(did: &str, nsid: &str) -> String {
    format!("at://{did}/{COLLECTION}/{nsid}")
}

/// The file of `nsid` under `dir`: `dir/com/example/feed/post.json`.
pub fn document_path(dir: &Path, nsid: &str) -> PathBuf {
    let mut path = dir.to_path_buf();
    let mut segments = nsid.split('.').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_some() {
            path.push(segment);
        } else {
            path.push(format!("{segment}.json"));
        }
    }
    path
}

/// The CID of a document as JSON: the CID of its DAG-CBOR encoding. A file
/// installed holds the schema record with its `$type`, so its CID is the
/// record's.
pub fn document_cid(json: &serde_json::Value) -> Result<Cid, String> {
    let value = atlex::data::Value::from_json(json.clone())
        .map_err(|err| format!("not data-model JSON: {err}"))?;
    atlex::cbor::cid_of(&value).map_err(|err| format!("cannot be encoded as DAG-CBOR: {err}"))
}

/// Checks the pinned documents' files: each must be under one of `dirs`
/// (NSID layout; the first directory holding it counts), be JSON, and have
/// its pinned CID. One message per problem; none when all is well.
pub fn check_files(manifest: &Manifest, dirs: &[PathBuf]) -> Vec<String> {
    let mut problems = Vec::new();
    for (nsid, pin) in &manifest.resolutions {
        let Some(path) = dirs
            .iter()
            .map(|dir| document_path(dir, nsid))
            .find(|path| path.exists())
        else {
            problems.push(format!("{nsid} is pinned but has no file"));
            continue;
        };
        let cid = std::fs::read_to_string(&path)
            .map_err(|err| err.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|err| format!("not JSON: {err}")))
            .and_then(|json| document_cid(&json));
        match cid {
            Ok(cid) if cid.to_string() == pin.cid => {}
            Ok(cid) => problems.push(format!(
                "{}: CID {cid}, not the pinned {}",
                path.display(),
                pin.cid
            )),
            Err(err) => problems.push(format!("{}: {err}", path.display())),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_reads_what_it_writes_and_refuses_what_is_not_one() {
        let text = r#"{
  "version": 1,
  "lexicons": [
    "com.example.feed.post"
  ],
  "resolutions": {
    "com.example.feed.post": {
      "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/com.atproto.lexicon.schema/com.example.feed.post",
      "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
    }
  }
}"#;
        let manifest = Manifest::parse(text).unwrap();
        assert_eq!(manifest.to_text(), text);
        assert_eq!(manifest.lexicons.len(), 1);
        for (bad, says) in [
            (
                text.replace("\"version\": 1", "\"version\": 2"),
                "version 2",
            ),
            (text.replace("bafyrei", "xyz"), "is not a CID"),
            (
                text.replace("schema/com.example.feed.post", "schema/com.example.other"),
                "not the NSID",
            ),
            (
                text.replace("lexicon.schema/", "lexicon.other/"),
                "not a record of",
            ),
            ("[]".to_owned(), "not a lexicons.json manifest"),
        ] {
            let err = Manifest::parse(&bad).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn documents_live_in_nsid_layout() {
        assert_eq!(
            document_path(Path::new("lexicons"), "com.example.feed.post"),
            Path::new("lexicons/com/example/feed/post.json")
        );
    }
}
