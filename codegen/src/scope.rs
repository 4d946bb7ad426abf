//! Which documents are generated: the selection (NSID prefixes, with what
//! they refer to), the documents generated elsewhere (extern), and the
//! documents left out because they are invalid or, with
//! [`Options::skip_invalid`](crate::Options::skip_invalid), refer to one that
//! is.
//!
//! The reference graph is read once, document by document; each round of
//! generation then asks which documents are left out given the invalid ones
//! found so far.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::catalog::{Catalog, visit_refs};
use crate::diagnostics::{Diagnostic, Location};
use crate::lexicon::DefKey;

/// The documents of a catalog and what each refers to.
pub struct Graph {
    /// For each document, the documents it refers to, with the JSON pointer
    /// of its first reference to each.
    refers_to: BTreeMap<String, BTreeMap<String, String>>,
}

impl Graph {
    /// Reads the references of every document of `catalog`.
    pub fn new(catalog: &Catalog) -> Self {
        let mut refers_to: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (nsid, entry) in catalog.entries() {
            let targets = refers_to.entry(nsid.clone()).or_default();
            for def in &entry.document.defs {
                visit_refs(&def.schema, &mut |pointer, target, _| {
                    let key = DefKey::resolve(nsid, target);
                    if key.nsid != *nsid {
                        targets
                            .entry(key.nsid)
                            .or_insert_with(|| pointer.to_owned());
                    }
                });
            }
        }
        Self { refers_to }
    }

    /// The documents `roots` refer to, directly or not, through documents
    /// for which `follow` holds; the roots included.
    pub fn closure(
        &self,
        roots: impl IntoIterator<Item = String>,
        follow: &dyn Fn(&str) -> bool,
    ) -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut queue: VecDeque<String> = roots.into_iter().collect();
        while let Some(nsid) = queue.pop_front() {
            if !seen.insert(nsid.clone()) || !follow(&nsid) {
                continue;
            }
            if let Some(targets) = self.refers_to.get(&nsid) {
                queue.extend(targets.keys().cloned());
            }
        }
        seen
    }

    /// Every document that refers, directly or not, to one of `invalid`,
    /// with the next document on its way there (the one it refers to).
    pub fn dependents(&self, invalid: &BTreeSet<String>) -> BTreeMap<String, String> {
        let mut referred_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (from, targets) in &self.refers_to {
            for to in targets.keys() {
                referred_by.entry(to).or_default().push(from);
            }
        }
        let mut next: BTreeMap<String, String> = BTreeMap::new();
        let mut queue: VecDeque<&str> = invalid.iter().map(String::as_str).collect();
        while let Some(target) = queue.pop_front() {
            for &from in referred_by.get(target).map(Vec::as_slice).unwrap_or(&[]) {
                if invalid.contains(from) || next.contains_key(from) {
                    continue;
                }
                next.insert(from.to_owned(), target.to_owned());
                queue.push_back(from);
            }
        }
        next
    }

    /// The pointer of `from`'s first reference to `to`.
    pub fn reference(&self, from: &str, to: &str) -> Option<&str> {
        self.refers_to.get(from)?.get(to).map(String::as_str)
    }
}

/// Why a document is left out of generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeftOut {
    /// It is invalid (its errors say why).
    Invalid,
    /// It refers, through the documents listed, to an invalid one (the last).
    RefersTo(Vec<String>),
}

impl LeftOut {
    /// The sentence reporting it: "left out: X refers to Y, which is invalid".
    pub fn message(&self, nsid: &str) -> String {
        match self {
            LeftOut::Invalid => format!("left out: `{nsid}` is invalid (see its errors)"),
            LeftOut::RefersTo(chain) => {
                let mut text = format!("left out: `{nsid}` refers to ");
                for (i, link) in chain.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", which refers to ");
                    }
                    text.push_str(&format!("`{link}`"));
                }
                text.push_str(", which is invalid");
                text
            }
        }
    }
}

/// The documents left out, given the `invalid` ones: those, and with
/// `skip_dependents` every document that refers to one of them, each with
/// its chain.
pub fn left_out(
    graph: &Graph,
    invalid: &BTreeSet<String>,
    skip_dependents: bool,
) -> BTreeMap<String, LeftOut> {
    let mut out: BTreeMap<String, LeftOut> = invalid
        .iter()
        .map(|nsid| (nsid.clone(), LeftOut::Invalid))
        .collect();
    if skip_dependents {
        let next = graph.dependents(invalid);
        for from in next.keys() {
            let mut chain = Vec::new();
            let mut at = from;
            while let Some(to) = next.get(at) {
                chain.push(to.clone());
                at = to;
                if chain.len() > next.len() {
                    break;
                }
            }
            out.insert(from.clone(), LeftOut::RefersTo(chain));
        }
    }
    out
}

/// The warning that reports a left-out document, at its file (at its first
/// reference on the way to the invalid document).
pub fn report(catalog: &Catalog, graph: &Graph, nsid: &str, why: &LeftOut) -> Diagnostic {
    let location = match why {
        LeftOut::RefersTo(chain) => chain
            .first()
            .and_then(|to| graph.reference(nsid, to))
            .map(|pointer| catalog.location(nsid, pointer)),
        LeftOut::Invalid => None,
    }
    .unwrap_or_else(|| match catalog.get(nsid) {
        Some(_) => catalog.location(nsid, "/id"),
        None => {
            let mut location = Location::new(catalog.rejected_file(nsid), "/id");
            location.lexicon = Some(nsid.to_owned());
            location.nsid = Some(nsid.to_owned());
            location
        }
    });
    Diagnostic::warning(location, why.message(nsid))
}
