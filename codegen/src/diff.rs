//! Lexicon versions: what changed between two sets of lexicons, and whom
//! each change breaks.
//!
//! [`diff`] compares two [`LexiconSet`]s (read by [`LexiconSet::load`] from a
//! file, a directory in NSID layout, or `git:REV:PATH`) and returns a
//! [`Report`]: for every NSID, every [`Change`] as data, with its location
//! (`nsid#def.field`), old and new values, and its compatibility from both
//! sides. [`render`] turns a report into text or JSON; [`ack`] reads a
//! checked-in file of acknowledged breaking changes; [`history`] replays
//! lexicon history files.
//!
//! # The rules
//!
//! The Lexicon spec's evolution rule is that data valid under the old
//! lexicon must stay valid under the new one, and data valid under the new
//! one must be valid under the old. So each change is judged from two sides
//! (see [`Compat`]): *existing readers*, built against OLD and meeting data
//! written under NEW, and *existing writers*, built against OLD and whose data
//! is read under NEW. For the parts of an endpoint these are its clients and
//! servers (clients write parameters and input and read output and errors);
//! for records and shared definitions, consumers and producers of the data
//! (see [`Flow::roles`]). Each side gets an [`Impact`]; the [`Class`] of the
//! change follows:
//!
//! | change | readers | writers | class |
//! |---|---|---|---|
//! | document, definition added | none | none | compatible |
//! | document, definition removed | none | breaking | breaking (spec: can't remove) |
//! | optional property added | tolerated (unknown fields are ignored) | none | compatible |
//! | required property added | tolerated | breaking | breaking (spec: new fields optional) |
//! | optional property removed | none | tolerated | compatible |
//! | required property removed | breaking | tolerated | breaking |
//! | property renamed (removed + added, same schema) | breaking | breaking | breaking (spec: no renames) |
//! | type changed | breaking | breaking | breaking (spec: types can't change) |
//! | became required / no longer required | none / breaking | breaking / none | breaking |
//! | became nullable / no longer nullable | breaking / none | none / breaking | breaking |
//! | length, grapheme, range, size, `accept`, `const` tightened | none | validation | breaking |
//! | the same loosened | validation | none | breaking (only validating readers fail) |
//! | `format` added / narrowed, dropped / widened | none / breaking | breaking / none | breaking |
//! | string `enum` value removed / added | none / breaking | breaking / none | breaking (closed set) |
//! | integer `enum` value removed / added (checked, not decoded) | none / validation | validation / none | breaking |
//! | `default` changed | tolerated | tolerated | compatible |
//! | `knownValues` value added / removed | tolerated / none | none / tolerated | compatible (open set) |
//! | open union member added | tolerated (`Unknown`, data kept) | none | compatible |
//! | closed union member added | breaking | none | breaking |
//! | union member removed | none | breaking | breaking (spec: can't remove) |
//! | union closed / opened | none / breaking | breaking / none | breaking |
//! | error added | tolerated (unknown-error case) | none | compatible |
//! | error removed | none | tolerated | compatible |
//! | input/output/message added / removed | tolerated / breaking | breaking / tolerated | breaking |
//! | encoding narrowed / widened / replaced | none / breaking / breaking | breaking / none / breaking | breaking |
//! | record key narrowed / widened / replaced | as encoding | | breaking |
//! | ref retargeted, or inlined | none (what the targets differ in is listed too) | none | compatible |
//! | ref retargeted to a definition that is not loaded | unknown | unknown | unclassified |
//! | permission (or an `lxm`, `collection`… entry) added to / removed from a set | none / breaking (apps relying on it) | none | compatible / breaking |
//! | description, `revision`, keys the model ignores | none | none | cosmetic |
//! | a side the model cannot read (pre-v1, broken) | unknown | unknown | unclassified |
//!
//! "Validation" means the data still decodes but may break a declared
//! constraint, so only software that checks constraints rejects it (atlex
//! servers check parameters and input; atlex clients check output only in
//! `ValidationMode::Strict`). The spec allows no constraint to change, so
//! such changes are breaking all the same.
//!
//! A document's verdict, and the report's, is the worst class among its
//! changes, or `unchanged`. [`Bump`] says what release a crate of bindings
//! generated from the lexicons needs (major, minor, patch): see [`semver`]. [`Report::fails`] (breaking or unclassified
//! changes not acknowledged) is what `atlex diff` turns into its exit code.
//!
//! Nothing here panics on any input: documents the model does not read are
//! reported as [`ChangeKind::UnparsedDocument`] with a structural summary.

pub mod ack;
mod engine;
pub mod history;
pub mod model;
pub mod render;
pub mod semver;
pub mod source;

use std::collections::{BTreeMap, BTreeSet};

pub use ack::{Acknowledgement, Acknowledgements};
pub use model::{
    Change, ChangeKind, Class, Compat, Constraint, Direction, DocReport, DocStatus, Flow, Impact,
    Report, Verdict,
};
pub use semver::Bump;
pub use source::{LexiconSet, SourceDoc, SourceError};

use engine::Parsed;

/// Compares two sets of lexicons, document by document (by NSID). When both
/// sides are single files, they are compared with each other whatever their
/// ids (under NEW's).
pub fn diff(old: &LexiconSet, new: &LexiconSet) -> Report {
    let mut warnings: Vec<String> = old.warnings.iter().chain(&new.warnings).cloned().collect();
    let parse = |set: &LexiconSet| -> BTreeMap<String, Parsed> {
        set.documents
            .iter()
            .map(|(nsid, doc)| {
                (
                    nsid.clone(),
                    Parsed::new(doc.path.clone(), doc.json.clone()),
                )
            })
            .collect()
    };
    let mut old_docs = parse(old);
    let new_docs = parse(new);
    if old.single_file
        && new.single_file
        && old_docs.len() == 1
        && new_docs.len() == 1
        && let (Some(old_key), Some(new_key)) = (old_docs.keys().next(), new_docs.keys().next())
        && old_key != new_key
    {
        warnings.push(format!(
            "comparing two files with different ids: `{old_key}` (OLD) and `{new_key}` (NEW)"
        ));
        let new_key = new_key.clone();
        if let Some(doc) = old_docs.pop_first() {
            old_docs.insert(new_key, doc.1);
        }
    }
    let nsids: BTreeSet<&String> = old_docs.keys().chain(new_docs.keys()).collect();
    let documents = nsids
        .into_iter()
        .map(|nsid| engine::diff_document(nsid, &old_docs, &new_docs))
        .collect();
    Report {
        old_label: old.label.clone(),
        new_label: new.label.clone(),
        documents,
        warnings,
    }
}
