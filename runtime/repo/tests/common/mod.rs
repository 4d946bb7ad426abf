//! What the tests read from the TypeScript fixtures (`fixtures/ts_*.json`).
// Each test crate uses part of this module.
#![allow(dead_code)]

use atlex_core::types::{Cid, Did, Tid};
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

/// The repository of `fixtures/ts_repo.json`: its account and key, every
/// commit, the records of its last state.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fixture {
    pub did: Did,
    pub signing_key: String,
    pub public_key: String,
    pub commits: Vec<FixtureCommit>,
    pub records: Vec<(String, Cid)>,
}

/// One commit of the fixture: its writes, the tree's root after it, its
/// revision and CID.
#[derive(Deserialize)]
pub(crate) struct FixtureCommit {
    pub rev: Tid,
    pub ops: Vec<FixtureOp>,
    pub data: Cid,
    pub commit: Cid,
}

pub(crate) fn fixture() -> Fixture {
    serde_json::from_str(include_str!("../fixtures/ts_repo.json")).unwrap()
}
