//! Acknowledged changes: a checked-in JSON file that lets a check pass over
//! breaking changes someone decided to make anyway.
//!
//! ```json
//! {
//!   "acknowledged": [
//!     {
//!       "nsid": "com.example.thing",
//!       "change": "property_removed",
//!       "location": "com.example.thing#main.legacyField",
//!       "reason": "never served; removed before any client shipped"
//!     }
//!   ]
//! }
//! ```
//!
//! An entry covers the changes of document `nsid` whose kind is `change` (a
//! [`ChangeKind::name`](super::ChangeKind::name)) and, when `location` is
//! given, whose location is exactly that. `reason` is required: it is shown
//! next to the change in reports. Other top-level keys (`$comment`) are
//! ignored.

use serde_json::Value;

use super::model::{Change, ChangeKind, Report};

/// One acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledgement {
    /// The NSID of the document.
    pub nsid: String,
    /// The kind of change ([`ChangeKind::name`]).
    pub change: String,
    /// The exact location, if the entry is limited to one.
    pub location: Option<String>,
    /// Why the change is accepted.
    pub reason: String,
}

impl Acknowledgement {
    /// Whether this entry covers `change` of document `nsid`.
    pub fn covers(&self, nsid: &str, change: &Change) -> bool {
        self.nsid == nsid
            && self.change == change.kind.name()
            && self
                .location
                .as_ref()
                .is_none_or(|location| *location == change.location)
    }
}

/// The entries of an acknowledgement file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acknowledgements {
    /// The entries, in file order.
    pub entries: Vec<Acknowledgement>,
}

impl Acknowledgements {
    /// Reads an acknowledgement file. Every problem is reported, one per
    /// line, with the entry it is in.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Some(list) = value.get("acknowledged") else {
            return Err("expected an object with an `acknowledged` array".to_owned());
        };
        let Some(list) = list.as_array() else {
            return Err("`acknowledged` must be an array".to_owned());
        };
        let mut problems = Vec::new();
        let mut entries = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
            let nsid = text("nsid").filter(|s| !s.is_empty());
            let change = text("change").filter(|s| !s.is_empty());
            let reason = text("reason").filter(|s| !s.trim().is_empty());
            let location = text("location");
            if item.get("location").is_some_and(|v| !v.is_string()) {
                problems.push(format!("acknowledged[{i}]: `location` must be a string"));
            }
            match (&nsid, &change, &reason) {
                (Some(nsid), Some(change), Some(reason)) => {
                    if !ChangeKind::NAMES.contains(&change.as_str()) {
                        problems.push(format!(
                            "acknowledged[{i}]: unknown change `{change}`; one of: {}",
                            ChangeKind::NAMES.join(", ")
                        ));
                        continue;
                    }
                    entries.push(Acknowledgement {
                        nsid: nsid.clone(),
                        change: change.clone(),
                        location,
                        reason: reason.clone(),
                    });
                }
                _ => problems.push(format!(
                    "acknowledged[{i}]: needs non-empty strings `nsid`, `change` and `reason`"
                )),
            }
        }
        if problems.is_empty() {
            Ok(Self { entries })
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Marks every breaking or unclassified change of `report` that an entry
    /// covers as acknowledged (with the entry's reason). Returns the entries
    /// that covered nothing.
    pub fn apply(&self, report: &mut Report) -> Vec<&Acknowledgement> {
        let mut used = vec![false; self.entries.len()];
        for doc in &mut report.documents {
            for change in &mut doc.changes {
                if !change.fails() {
                    continue;
                }
                if let Some(i) = self
                    .entries
                    .iter()
                    .position(|a| a.covers(&doc.nsid, change))
                {
                    used[i] = true;
                    change.acknowledged = self.entries.get(i).map(|a| a.reason.clone());
                }
            }
        }
        self.entries
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(a, _)| a)
            .collect()
    }
}

/// A JSON entry acknowledging `change` of document `nsid`, to paste into an
/// acknowledgement file (the reason left for a person to write).
pub fn entry_for(nsid: &str, change: &Change) -> Value {
    serde_json::json!({
        "nsid": nsid,
        "change": change.kind.name(),
        "location": change.location,
        "reason": "TODO: why this change is acceptable",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_listed() {
        let err = Acknowledgements::parse(
            r#"{"acknowledged":[{"nsid":"a.b.c"},{"nsid":"a.b.c","change":"nope","reason":"x"},
                {"nsid":"a.b.c","change":"def_removed","reason":"x","location":1}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.lines().count(), 3, "{err}");
        assert!(Acknowledgements::parse("[]").is_err());
        let ok = Acknowledgements::parse(r#"{"$comment":"x","acknowledged":[]}"#).unwrap();
        assert!(ok.entries.is_empty());
    }
}
