//! The two sides of a comparison: each document as read, and the set of
//! documents of one side.

use std::collections::BTreeMap;

use serde_json::Value;

use super::def_flow;
use crate::diagnostics::Diagnostics;
use crate::diff::model::Flow;
use crate::lexicon::{self, Document};

/// One side's document, read as far as it could be.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    /// Where it was read from.
    pub path: String,
    /// The JSON, or why the text is not JSON.
    pub raw: Result<Value, String>,
    /// The document, when the model reads it.
    pub doc: Option<Document>,
    /// Why the model does not read it (its first error), when it does not.
    pub problem: Option<String>,
}

impl Parsed {
    /// Reads a document from its JSON (or from the reason its text is not
    /// JSON).
    pub(crate) fn new(path: String, raw: Result<Value, String>) -> Self {
        let (doc, problem) = match &raw {
            Ok(value) => {
                let mut diagnostics = Diagnostics::new();
                let doc = lexicon::read_document(value, None, &mut diagnostics);
                let problem = match &doc {
                    Some(_) => None,
                    None => Some(
                        diagnostics
                            .errors()
                            .next()
                            .map(|d| {
                                if d.location.pointer.is_empty() {
                                    d.message.clone()
                                } else {
                                    format!("{}: {}", d.location.pointer, d.message)
                                }
                            })
                            .unwrap_or_else(|| "not a lexicon document".to_owned()),
                    ),
                };
                (doc, problem)
            }
            Err(reason) => (None, Some(format!("not JSON: {reason}"))),
        };
        Self {
            path,
            raw,
            doc,
            problem,
        }
    }

    /// The flow of the document as a whole, from the type of its `main`
    /// definition.
    pub(super) fn flow(&self) -> Flow {
        match &self.doc {
            Some(doc) => doc
                .def("main")
                .map_or(Flow::Data, |d| def_flow("main", &d.schema)),
            None => Flow::Document,
        }
    }
}

/// The documents of one side, by NSID.
pub(crate) trait Docs {
    /// The document `nsid`.
    fn get(&self, nsid: &str) -> Option<&Parsed>;
}

impl Docs for BTreeMap<String, Parsed> {
    fn get(&self, nsid: &str) -> Option<&Parsed> {
        BTreeMap::get(self, nsid)
    }
}

/// A side made of a base set of documents with some replaced or removed
/// (`None`): a tree of lexicons just before or after one commit.
pub(crate) struct Overlay<'a> {
    /// The documents not in `changes`.
    pub base: &'a BTreeMap<String, Parsed>,
    /// Replaced (`Some`) and removed (`None`) documents.
    pub changes: &'a BTreeMap<String, Option<Parsed>>,
}

impl Docs for Overlay<'_> {
    fn get(&self, nsid: &str) -> Option<&Parsed> {
        match self.changes.get(nsid) {
            Some(changed) => changed.as_ref(),
            None => self.base.get(nsid),
        }
    }
}
