//! `atlex diff` over real lexicon history: 1,910 changes to upstream lexicon
//! files, one JSON line each (`{commit, date, subject, path, nsid, before,
//! after}`), checked in under `tests/fixtures/diff/` in two parts so each
//! stays under 5 MB.
//!
//! - every change is diffed without an error of the tool's own (documents
//!   the model does not read, such as the pre-v1 formats of 2022, are
//!   reported as unparsed, not failed on);
//! - `chat.bsky.convo.removeReaction` from ca07871c48 to 1d575edac9 is two
//!   added errors and compatible;
//! - hand-labelled expectations for 40 real changes, covering every kind of
//!   change that occurs in the history, each with the reason for its label.

use std::collections::BTreeSet;

use atlex_codegen::diff::history::{HistoryEntry, read_history, replay};
use atlex_codegen::diff::{self, Class, DocReport, DocStatus, Impact, LexiconSet, Verdict, render};

const PARTS: [&str; 2] = ["lexicon-history.1.jsonl", "lexicon-history.2.jsonl"];

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/diff/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn history() -> Vec<HistoryEntry> {
    let mut text = String::new();
    for part in PARTS {
        text.push_str(&std::fs::read_to_string(fixture(part)).unwrap());
    }
    read_history(&text).unwrap()
}

/// The entry of `nsid` in the commit whose hash starts with `commit`.
fn entry<'a>(entries: &'a [HistoryEntry], commit: &str, nsid: &str) -> (usize, &'a HistoryEntry) {
    entries
        .iter()
        .enumerate()
        .find(|(_, e)| e.is_commit(commit) && e.nsid == nsid)
        .unwrap_or_else(|| panic!("no entry for {nsid} in {commit}"))
}

#[test]
fn the_checked_in_history_is_whole_and_each_part_small() {
    for part in PARTS {
        let size = std::fs::metadata(fixture(part)).unwrap().len();
        assert!(size < 5_000_000, "{part} is {size} bytes");
    }
    let entries = history();
    assert_eq!(entries.len(), 1910);
    let commits: BTreeSet<&str> = entries.iter().map(|e| e.commit.as_str()).collect();
    assert_eq!(commits.len(), 492);
    assert_eq!(entries.first().unwrap().date, "2022-10-12");
    // The parts are the shared history file byte for byte (compared when
    // it was copied); a hash guards the copy against edits. A shared file
    // that has moved on since is only mentioned: these tests are about the
    // copy, and CI runs on a clone of this repository alone.
    let mut joined = Vec::new();
    for part in PARTS {
        joined.extend(std::fs::read(fixture(part)).unwrap());
    }
    assert_eq!(joined.len(), 7_105_784);
    assert_eq!(fnv1a(&joined), HISTORY_FNV1A);
    let shared = std::path::Path::new("/work/shared/lexicon-history.jsonl");
    if let Ok(original) = std::fs::read(shared)
        && original != joined
    {
        println!(
            "note: {} differs from the checked-in copy",
            shared.display()
        );
    }
}

/// The 64-bit FNV-1a hash of the history as copied.
const HISTORY_FNV1A: u64 = 0xda7c_9490_58eb_4e28;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Each report is consistent: the status follows from `before`/`after`, a
/// document whose JSON changed has at least one change, every change has a
/// reason, and its class follows from its effect on the two sides.
fn check_report(e: &HistoryEntry, report: &DocReport) {
    let status = match (&e.before, &e.after) {
        (None, Some(_)) => DocStatus::Added,
        (Some(_), None) => DocStatus::Removed,
        (Some(a), Some(b)) if a == b => DocStatus::Unchanged,
        _ => DocStatus::Changed,
    };
    assert_eq!(report.status, status, "{} {}", e.commit, e.nsid);
    assert_eq!(
        report.changes.is_empty(),
        status == DocStatus::Unchanged,
        "{} {}",
        e.commit,
        e.nsid
    );
    for c in &report.changes {
        assert!(!c.reason.is_empty());
        assert!(c.location.starts_with(&e.nsid), "{}", c.location);
        let worst = c.compat.worst();
        match c.class {
            Class::Breaking => assert!(worst == Impact::Breaking || worst == Impact::Validation),
            Class::Compatible => assert!(worst <= Impact::Tolerated, "{c:?}"),
            Class::Cosmetic => assert_eq!(worst, Impact::None),
            Class::Unclassified => assert_eq!(worst, Impact::Unknown),
        }
    }
}

#[test]
fn every_change_in_the_history_diffs_without_an_error_of_its_own() {
    let entries = history();
    // With the whole tree around each commit (references followed).
    let reports = replay(&entries);
    assert_eq!(reports.len(), entries.len());
    let mut unparsed = 0;
    let mut by_verdict = std::collections::BTreeMap::<Verdict, usize>::new();
    for (e, report) in entries.iter().zip(&reports) {
        assert_eq!(report.nsid, e.nsid);
        check_report(e, report);
        *by_verdict.entry(report.verdict()).or_default() += 1;
        if report
            .changes
            .iter()
            .any(|c| c.kind == diff::ChangeKind::UnparsedDocument)
        {
            unparsed += 1;
        }
        // Both renderings work for every report.
        let one = diff::Report {
            old_label: "before".to_owned(),
            new_label: "after".to_owned(),
            documents: vec![report.clone()],
            warnings: Vec::new(),
        };
        if report.status != DocStatus::Unchanged {
            assert!(render::text(&one).contains(&e.nsid));
        }
        assert_eq!(render::json(&one)["verdict"], report.verdict().name());
    }
    // And each entry alone, as `atlex diff BEFORE AFTER` on two files sees it.
    for e in &entries {
        check_report(e, &e.diff());
    }
    println!("verdicts over {} changes: {by_verdict:?}", entries.len());
    println!("{unparsed} changes involve a document the model does not read");
    // The pre-v1 documents of late 2022 are most of what cannot be read.
    assert!(unparsed > 300 && unparsed < 500, "{unparsed}");
    assert!(by_verdict.len() == 5, "{by_verdict:?}");
}

#[test]
fn remove_reaction_from_ca07871c48_to_1d575edac9_is_two_added_errors_and_compatible() {
    let entries = history();
    let nsid = "chat.bsky.convo.removeReaction";
    let (_, old) = entry(&entries, "ca07871c48", nsid);
    let (i, new) = entry(&entries, "1d575edac9", nsid);
    let mut old_set = LexiconSet::new("ca07871c48");
    old_set.insert(nsid, "old", Ok(old.after.clone().unwrap()));
    let mut new_set = LexiconSet::new("1d575edac9");
    new_set.insert(nsid, "new", Ok(new.after.clone().unwrap()));
    let report = diff::diff(&old_set, &new_set);
    let changes: Vec<(&str, String, Option<&str>)> = report
        .changes()
        .map(|(_, c)| {
            (
                c.kind.name(),
                c.location.clone(),
                c.new.as_ref().and_then(|v| v.as_str()),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "error_added",
                format!("{nsid}#main.errors.InvalidConvo"),
                Some("InvalidConvo")
            ),
            (
                "error_added",
                format!("{nsid}#main.errors.ReactionNotAllowed"),
                Some("ReactionNotAllowed")
            ),
        ]
    );
    assert_eq!(report.verdict(), Verdict::Compatible);
    assert!(!report.fails());
    let text = render::text(&report);
    assert!(text.contains(&format!("{nsid}: compatible")), "{text}");
    // The replay of the whole history says the same for that commit.
    let replayed = &replay(&entries)[i];
    assert_eq!(replayed.verdict(), Verdict::Compatible);
    assert_eq!(replayed.changes.len(), 2);
}

/// One hand-labelled change: in the entry of `nsid` at `commit`, a change of
/// `kind` at `location` (with the old or new value shown, when given) has this
/// class and these effects on existing readers and writers, for the reason
/// given.
struct Label {
    commit: &'static str,
    nsid: &'static str,
    location: &'static str,
    kind: &'static str,
    value: Option<&'static str>,
    class: Class,
    readers: Impact,
    writers: Impact,
    why: &'static str,
}

use Class::{Breaking, Compatible, Cosmetic, Unclassified};
use Impact::{Breaking as B, None as N, Tolerated as T, Unknown as U, Validation as V};

#[rustfmt::skip]
const LABELS: &[Label] = &[
    // ---- errors ----
    Label { commit: "1d575edac9", nsid: "chat.bsky.convo.removeReaction", location: "#main.errors.ReactionNotAllowed", kind: "error_added", value: Some("ReactionNotAllowed"), class: Compatible, readers: T, writers: N,
        why: "a new error name: clients must accept undeclared names (the unknown-error case keeps name and message); old servers never send it" },
    Label { commit: "3636bd19a8", nsid: "com.atproto.blob.upload", location: "#main.errors.InvalidBlob", kind: "error_removed", value: Some("InvalidBlob"), class: Compatible, readers: N, writers: T,
        why: "an error no longer declared: old clients just stop seeing it; one an old server still sends lands in a new client's unknown-error case" },
    // ---- knownValues (open sets) ----
    Label { commit: "6592fcd6eb", nsid: "com.atproto.moderation.defs", location: "#reasonType", kind: "known_value_added", value: Some("com.atproto.moderation.defs#reasonSexual"), class: Compatible, readers: T, writers: N,
        why: "knownValues is open: old readers take the new value as Other(String)" },
    Label { commit: "5083705a37", nsid: "app.bsky.feed.getAuthorFeed", location: "#main.parameters.filter", kind: "known_value_removed", value: Some("media"), class: Compatible, readers: N, writers: T,
        why: "knownValues is open: an old client still sending `media` sends a value new servers must accept as unknown" },
    // ---- unions ----
    Label { commit: "db1042cf0d", nsid: "app.bsky.embed.record", location: "#view.record", kind: "union_ref_added", value: Some("#viewBlocked"), class: Compatible, readers: T, writers: N,
        why: "an open union may grow: old readers keep #viewBlocked as unknown data" },
    Label { commit: "2ea27e340a", nsid: "tools.ozone.moderation.emitEvent", location: "#main.input.event", kind: "union_ref_removed", value: Some("com.atproto.admin.defs#modEventTakedown"), class: Breaking, readers: N, writers: B,
        why: "members cannot be removed from a union: old clients still send the com.atproto.admin $type, which the tools.ozone server no longer knows" },
    Label { commit: "c966185f01", nsid: "com.atproto.repo.batchWrite", location: "#main.input.writes[]", kind: "union_closed", value: None, class: Breaking, readers: N, writers: B,
        why: "closing a union rejects members old clients could send while it was open" },
    // ---- properties ----
    Label { commit: "095652b75b", nsid: "com.atproto.server.getSession", location: "#main.output.email", kind: "property_added", value: None, class: Compatible, readers: T, writers: N,
        why: "a new optional output field: old clients ignore unknown fields; old servers' output without it stays valid" },
    Label { commit: "8b1da9fed8", nsid: "com.atproto.label.defs", location: "#label.cts", kind: "property_added", value: None, class: Breaking, readers: T, writers: B,
        why: "a new required field: labels written by old producers lack `cts`, and new consumers reject them (new fields must be optional)" },
    Label { commit: "5ae26d9318", nsid: "com.atproto.admin.defs", location: "#repoView.invites", kind: "property_removed", value: None, class: Compatible, readers: N, writers: T,
        why: "an optional field removed: data without it was always valid; new readers ignore it in old data" },
    Label { commit: "1f9040a44d", nsid: "com.atproto.admin.defs", location: "#moderationDetail.actions", kind: "property_removed", value: None, class: Breaking, readers: B, writers: T,
        why: "a required field removed: old readers reject new data without it" },
    Label { commit: "1f9040a44d", nsid: "com.atproto.admin.defs", location: "#reportView.comment", kind: "property_renamed", value: Some("comment"), class: Breaking, readers: B, writers: B,
        why: "`reason` became `comment` with the same schema: fields cannot be renamed; each side looks under a name the other does not write" },
    Label { commit: "fc4a34caf2", nsid: "com.atproto.server.createSession", location: "#main.input.identifier", kind: "required_added", value: None, class: Breaking, readers: N, writers: B,
        why: "an optional input field became required: old clients that leave it out are rejected by new servers" },
    Label { commit: "cf848e87ab", nsid: "com.atproto.server.createAccount", location: "#main.input.password", kind: "required_removed", value: None, class: Breaking, readers: B, writers: N,
        why: "a required input field became optional: new clients may omit it, and old servers reject that" },
    // ---- types and refs ----
    Label { commit: "9e1bb49957", nsid: "com.atproto.server.createInviteCodes", location: "#main.output.codes[]", kind: "type_changed", value: Some("ref"), class: Breaking, readers: B, writers: B,
        why: "array items changed from string to an object ref: neither side decodes the other's data" },
    Label { commit: "8059e07d8a", nsid: "app.bsky.feed.defs", location: "#replyRef.parent", kind: "type_changed", value: Some("union"), class: Breaking, readers: B, writers: B,
        why: "a ref became a union: union data needs a $type that ref data does not carry" },
    Label { commit: "dd180f3dd1", nsid: "app.bsky.actor.createScene", location: "#main.output.declaration", kind: "ref_changed", value: Some("app.bsky.system.declRef"), class: Compatible, readers: N, writers: N,
        why: "the local #declaration moved to app.bsky.system.declRef with the same shape; ref data carries no $type, so nothing on the wire changes" },
    Label { commit: "1f9040a44d", nsid: "com.atproto.admin.emitModerationEvent", location: "#main.output", kind: "ref_changed", value: Some("com.atproto.admin.defs#modEventView"), class: Compatible, readers: N, writers: N,
        why: "the retarget itself is no change on the wire; what actionView and modEventView differ in is listed as further (breaking) changes at the same place" },
    // ---- constraints ----
    Label { commit: "eb488b96f5", nsid: "app.bsky.actor.defs", location: "#profileView.displayName", kind: "constraint_loosened", value: Some("640"), class: Breaking, readers: V, writers: N,
        why: "maxLength 64 -> 640: old data still fits; new data may break the old limit for readers that validate" },
    Label { commit: "eb488b96f5", nsid: "app.bsky.actor.defs", location: "#profileView.displayName", kind: "constraint_tightened", value: Some("64"), class: Breaking, readers: N, writers: V,
        why: "a maxGraphemes of 64 where there was none: old data may exceed it" },
    Label { commit: "cf36b363b4", nsid: "com.atproto.repo.createRecord", location: "#main.input.rkey", kind: "constraint_tightened", value: Some("15"), class: Breaking, readers: N, writers: V,
        why: "maxLength 15 on rkey: an old client's longer key is rejected by a new server, which validates input" },
    Label { commit: "c62964b7b4", nsid: "app.bsky.feed.getPostThread", location: "#main.parameters.depth", kind: "constraint_tightened", value: Some("1000"), class: Breaking, readers: N, writers: V,
        why: "a maximum where there was none: old clients may send more" },
    Label { commit: "c62964b7b4", nsid: "app.bsky.feed.getPostThread", location: "#main.parameters.depth", kind: "constraint_changed", value: Some("6"), class: Compatible, readers: T, writers: T,
        why: "a default of 6: no value becomes invalid, but an absent depth now means 6 to new servers" },
    Label { commit: "a6e16cd0cd", nsid: "tools.ozone.moderation.defs", location: "#ageAssuranceOverrideEvent.comment", kind: "constraint_tightened", value: Some("1"), class: Breaking, readers: N, writers: V,
        why: "minLength 1: an empty comment old producers wrote is now invalid" },
    Label { commit: "5560b7a25a", nsid: "app.bsky.embed.external", location: "#external.description", kind: "constraint_loosened", value: Some("1000"), class: Breaking, readers: V, writers: N,
        why: "maxGraphemes 1000 dropped: new records may hold longer descriptions old validating readers reject" },
    Label { commit: "6bcbb6d8cd", nsid: "app.bsky.embed.video", location: "#main.video", kind: "constraint_loosened", value: Some("100000000"), class: Breaking, readers: V, writers: N,
        why: "blob maxSize 50 MB -> 100 MB: a 70 MB video is invalid to old validating readers" },
    Label { commit: "ad0d976188", nsid: "app.bsky.embed.external", location: "#viewExternal.thumb", kind: "constraint_tightened", value: Some("uri"), class: Breaking, readers: N, writers: B,
        why: "a format on a plain string: new readers decode it as a URI, which arbitrary old strings are not" },
    Label { commit: "3cdc72a0a7", nsid: "com.atproto.sync.getRepo", location: "#main.parameters.since", kind: "constraint_loosened", value: Some("cid"), class: Breaking, readers: B, writers: N,
        why: "format cid dropped: new clients send a revision that old servers fail to parse as a CID" },
    Label { commit: "101bd9c7a1", nsid: "app.bsky.feed.getAuthorFeed", location: "#main.parameters.filter", kind: "constraint_loosened", value: Some("posts_and_replies"), class: Breaking, readers: B, writers: N,
        why: "a value added to a closed enum (the typo fix): old servers reject it" },
    Label { commit: "101bd9c7a1", nsid: "app.bsky.feed.getAuthorFeed", location: "#main.parameters.filter", kind: "constraint_tightened", value: Some("post_and_replies"), class: Breaking, readers: N, writers: B,
        why: "a value removed from a closed enum: old clients sending the misspelt value are rejected" },
    Label { commit: "75e14ae102", nsid: "com.atproto.sync.getRepo", location: "#main.output", kind: "constraint_changed", value: Some("application/vnd.ipld.car"), class: Breaking, readers: B, writers: B,
        why: "the output encoding changed to an unrelated type: neither side accepts the other's" },
    // ---- bodies ----
    Label { commit: "befebc0e98", nsid: "com.atproto.repo.applyWrites", location: "#main.output", kind: "body_added", value: None, class: Breaking, readers: T, writers: B,
        why: "an output where there was none: old servers answer without a body, which new clients expect" },
    // ---- definitions and documents ----
    Label { commit: "6592fcd6eb", nsid: "com.atproto.moderation.defs", location: "#reasonMisleading", kind: "def_added", value: Some("token"), class: Compatible, readers: N, writers: N,
        why: "a new definition changes nothing existing" },
    Label { commit: "7edad62c12", nsid: "app.bsky.feed.defs", location: "#viewerThreadState", kind: "def_removed", value: Some("object"), class: Breaking, readers: N, writers: B,
        why: "definitions cannot be removed: data and lexicons may still refer to it" },
    Label { commit: "83828c52cd", nsid: "com.atproto.server.defs", location: "", kind: "document_added", value: None, class: Compatible, readers: N, writers: N,
        why: "a new document changes nothing existing" },
    Label { commit: "ad1fcf1387", nsid: "com.atproto.sync.getCommitPath", location: "", kind: "document_removed", value: None, class: Breaking, readers: N, writers: B,
        why: "a removed endpoint: old clients calling it get MethodNotImplemented" },
    // ---- cosmetic ----
    Label { commit: "ba527918e4", nsid: "com.atproto.repo.listRecords", location: "#main.parameters.rkeyEnd", kind: "description_changed", value: None, class: Cosmetic, readers: N, writers: N,
        why: "marked DEPRECATED in its description only" },
    Label { commit: "74274c597d", nsid: "com.atproto.admin.defs", location: "", kind: "other_changed", value: None, class: Cosmetic, readers: N, writers: N,
        why: "an empty `required` list was removed: nothing the model reads changed" },
    // ---- permission sets ----
    Label { commit: "046efb3f71", nsid: "app.bsky.authFullApp", location: "#main.permissions[0]", kind: "permission_added", value: None, class: Compatible, readers: N, writers: N,
        why: "the set grants more RPC methods: apps requesting it lose nothing" },
    Label { commit: "b3f80b457c", nsid: "chat.bsky.authFullChatClient", location: "#main.permissions[0]", kind: "permission_removed", value: None, class: Breaking, readers: B, writers: N,
        why: "chat.bsky.convo.exportAccountData left the set (for chat.bsky.actor.exportAccountData): apps relying on the set lose it" },
    // ---- documents the model does not read ----
    Label { commit: "cf36b363b4", nsid: "com.atproto.repo.applyWrites", location: "", kind: "unparsed_document", value: None, class: Unclassified, readers: U, writers: U,
        why: "upstream shipped `required: [\"action\"]` with no such property; the model rejects both versions, so only a structural summary is possible" },
    Label { commit: "00b4095672", nsid: "app.bsky.unspecced.getTrends", location: "", kind: "document_added", value: None, class: Unclassified, readers: U, writers: U,
        why: "a new document whose output schema is an array, which the language does not allow: cannot be classified" },
    Label { commit: "90cdb99bdd", nsid: "com.atproto.createAccount", location: "", kind: "document_added", value: None, class: Unclassified, readers: U, writers: U,
        why: "a pre-v1 document (no `defs`): cannot be classified" },
];

#[test]
fn hand_labelled_changes_from_the_history() {
    assert!(LABELS.len() >= 30);
    let entries = history();
    let reports = replay(&entries);
    let mut problems = Vec::new();
    for label in LABELS {
        let (i, _) = entry(&entries, label.commit, label.nsid);
        let location = format!("{}{}", label.nsid, label.location);
        let shown = |v: &Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
            None => None,
        };
        let found = reports[i].changes.iter().find(|c| {
            c.location == location
                && c.kind.name() == label.kind
                && label
                    .value
                    .is_none_or(|v| [shown(&c.old), shown(&c.new)].contains(&Some(v.to_owned())))
        });
        match found {
            None => problems.push(format!(
                "{} {}: no {} at {location} ({:?})",
                label.commit, label.nsid, label.kind, label.value
            )),
            Some(c) => {
                let got = (c.class, c.compat.readers, c.compat.writers);
                let want = (label.class, label.readers, label.writers);
                if got != want {
                    problems.push(format!(
                        "{} {} at {location}: {got:?}, labelled {want:?} because {}",
                        label.commit, label.kind, label.why
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The labels cover every kind of change the history has.
    let labelled: BTreeSet<&str> = LABELS.iter().map(|l| l.kind).collect();
    let seen: BTreeSet<&str> = reports
        .iter()
        .flat_map(|r| r.changes.iter().map(|c| c.kind.name()))
        .collect();
    let missing: Vec<&&str> = seen.difference(&labelled).collect();
    assert!(
        missing.is_empty(),
        "kinds in the history without a label: {missing:?}"
    );
}
