//! What the tests read from the TypeScript fixtures (`fixtures/ts_*.json`).
// Each test crate uses part of this module.
#![allow(dead_code)]

use atlex_core::types::Cid;
use atlex_repo::mst::Op;
use base64::Engine as _;
use serde::Deserialize;

/// One op, as the fixtures list it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FixtureOp {
    pub action: String,
    pub path: String,
    pub cid: Option<Cid>,
    pub prev: Option<Cid>,
}

impl FixtureOp {
    /// The op it is.
    pub(crate) fn op(&self) -> Op {
        let path = self.path.clone();
        match (self.action.as_str(), &self.cid, &self.prev) {
            ("create", Some(cid), None) => Op::Create {
                path,
                cid: cid.clone(),
            },
            ("update", Some(cid), Some(prev)) => Op::Update {
                path,
                cid: cid.clone(),
                prev: prev.clone(),
            },
            ("delete", None, Some(prev)) => Op::Delete {
                path,
                prev: prev.clone(),
            },
            _ => panic!("fixture op {path}: {}", self.action),
        }
    }
}

/// A commit as a firehose carries it (`fixtures/ts_commits.json`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FirehoseCommit {
    pub commit: Cid,
    pub prev_data: Cid,
    pub ops: Vec<FixtureOp>,
    car: String,
}

impl FirehoseCommit {
    /// The CAR of its blocks.
    pub(crate) fn blocks(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.car)
            .unwrap()
    }
}

pub(crate) fn firehose_commits() -> Vec<FirehoseCommit> {
    serde_json::from_str(include_str!("../fixtures/ts_commits.json")).unwrap()
}
