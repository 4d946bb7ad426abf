//! Tree nodes: in memory, and as the DAG-CBOR blocks `{l, e: [{p, k, v, t}]}`
//! that the repository format defines.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use atlex_core::cbor;
use atlex_core::data::{Bytes as ByteString, CidLink};
use atlex_core::types::Cid;
use serde::{Deserialize, Serialize};

use crate::mst::error::{Malformed, MstError};
use crate::mst::key::{check_key, common_prefix_len, key_depth};
use crate::wire::{Raw, unblessed};

/// A node: keys of one depth (`layer`), in order, with the subtrees of
/// lower keys between them. Gap `i` is the subtree before entry `i`; gap
/// `entries.len()` the one after the last entry.
#[derive(Clone)]
pub(crate) struct Node {
    pub(crate) layer: u8,
    pub(crate) left: Option<Link>,
    pub(crate) entries: Vec<Entry>,
}

/// The keys around a gap, owned: the one before and the one after.
pub(crate) type GapKeys = (Option<Arc<str>>, Option<Arc<str>>);

/// A key, its value and the subtree after it.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) key: Arc<str>,
    pub(crate) value: Cid,
    pub(crate) right: Option<Link>,
}

/// A link to a node: its CID, its decoded node, or both. A node read from
/// the store has its CID and gets its node when first needed; a node made
/// in memory has its node and gets its CID when first asked. Links are
/// shared between the versions of a tree: what one version learns (a node
/// loaded, a CID computed, a block written) the others reuse.
#[derive(Clone)]
pub(crate) struct Link(Arc<LinkCell>);

struct LinkCell {
    cid: OnceLock<Cid>,
    node: OnceLock<Arc<Node>>,
    /// Whether the store holds the block (a node read from it, or written).
    stored: AtomicBool,
}

impl Link {
    /// A node the store holds, not read yet.
    pub(crate) fn stored(cid: Cid) -> Self {
        Self(Arc::new(LinkCell {
            cid: OnceLock::from(cid),
            node: OnceLock::new(),
            stored: AtomicBool::new(true),
        }))
    }

    /// A node made in memory.
    pub(crate) fn new(node: Node) -> Self {
        Self(Arc::new(LinkCell {
            cid: OnceLock::new(),
            node: OnceLock::from(Arc::new(node)),
            stored: AtomicBool::new(false),
        }))
    }

    pub(crate) fn same(a: Option<&Link>, b: Option<&Link>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(&a.0, &b.0),
            _ => false,
        }
    }

    pub(crate) fn cached_cid(&self) -> Option<&Cid> {
        self.0.cid.get()
    }

    pub(crate) fn set_cid(&self, cid: Cid) -> &Cid {
        self.0.cid.get_or_init(|| cid)
    }

    pub(crate) fn cached_node(&self) -> Option<&Arc<Node>> {
        self.0.node.get()
    }

    pub(crate) fn set_node(&self, node: Node) -> &Arc<Node> {
        self.0.node.get_or_init(|| Arc::new(node))
    }

    pub(crate) fn is_stored(&self) -> bool {
        self.0.stored.load(Ordering::Acquire)
    }

    pub(crate) fn mark_stored(&self) {
        self.0.stored.store(true, Ordering::Release);
    }
}

impl Node {
    /// The root of an empty tree: no keys, no subtree.
    pub(crate) fn empty() -> Self {
        Self {
            layer: 0,
            left: None,
            entries: Vec::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.left.is_none()
    }

    /// The subtree in gap `i` (`0..=entries.len()`).
    pub(crate) fn gap(&self, i: usize) -> Option<&Link> {
        match i {
            0 => self.left.as_ref(),
            _ => self.entries.get(i - 1).and_then(|e| e.right.as_ref()),
        }
    }

    pub(crate) fn set_gap(&mut self, i: usize, link: Option<Link>) {
        match i {
            0 => self.left = link,
            _ => self.entries[i - 1].right = link,
        }
    }

    /// The keys that bound gap `i`, inside the node's own bounds.
    pub(crate) fn gap_bounds<'a>(&'a self, i: usize, bounds: Bounds<'a>) -> Bounds<'a> {
        Bounds {
            low: match i {
                0 => bounds.low,
                _ => Some(&self.entries[i - 1].key),
            },
            high: self.entries.get(i).map_or(bounds.high, |e| Some(&e.key)),
        }
    }

    /// The keys that bound gap `i`, owned, given the node's own (`low`,
    /// `high`).
    pub(crate) fn gap_keys(
        &self,
        i: usize,
        low: Option<Arc<str>>,
        high: Option<Arc<str>>,
    ) -> GapKeys {
        let low = match i {
            0 => low,
            _ => Some(self.entries[i - 1].key.clone()),
        };
        let high = self.entries.get(i).map_or(high, |e| Some(e.key.clone()));
        (low, high)
    }

    /// How many entries have keys before `key`: the gap `key` falls in, or
    /// the entry holding it.
    pub(crate) fn position(&self, key: &str) -> usize {
        self.entries.partition_point(|e| &*e.key < key)
    }

    /// The DAG-CBOR block of the node: needs the CID of every subtree.
    pub(crate) fn encode(
        &self,
        cid_of: impl Fn(&Link) -> Result<Cid, MstError>,
    ) -> Result<Vec<u8>, MstError> {
        let left = self.left.as_ref().map(&cid_of).transpose()?;
        let mut rights = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            rights.push(entry.right.as_ref().map(&cid_of).transpose()?);
        }
        let mut previous: &[u8] = &[];
        let entries = self
            .entries
            .iter()
            .zip(&rights)
            .map(|(entry, right)| {
                let key = entry.key.as_bytes();
                let shared = common_prefix_len(previous, key);
                previous = key;
                WireEntryOut {
                    p: shared as u64,
                    k: Raw(&key[shared..]),
                    v: entry.value.as_cid(),
                    t: right.as_ref().map(Cid::as_cid),
                }
            })
            .collect();
        let wire = WireNodeOut {
            l: left.as_ref().map(Cid::as_cid),
            e: entries,
        };
        Ok(cbor::to_vec(&wire)?)
    }

    /// Reads and checks a node block. `layer` is the depth its keys must
    /// have (`None` at the root, where the first key sets it); `bounds` the
    /// keys its parent puts around it.
    pub(crate) fn decode(
        cid: &Cid,
        bytes: &[u8],
        layer: Option<u8>,
        bounds: Bounds<'_>,
    ) -> Result<Node, MstError> {
        let malformed = |reason| MstError::Malformed {
            cid: Box::new(cid.clone()),
            reason,
        };
        let wire: WireNode = cbor::from_slice(bytes).map_err(|error| MstError::Decode {
            cid: Box::new(cid.clone()),
            error,
        })?;
        let mut entries = Vec::with_capacity(wire.e.len());
        let mut previous: Vec<u8> = Vec::new();
        for (index, entry) in wire.e.into_iter().enumerate() {
            let prefix = usize::try_from(entry.p)
                .ok()
                .filter(|&p| p <= previous.len() && (index > 0 || p == 0))
                .ok_or(malformed(Malformed::Prefix {
                    index,
                    prefix: entry.p,
                    previous: previous.len(),
                }))?;
            let mut key = Vec::with_capacity(prefix + entry.k.0.len());
            key.extend_from_slice(&previous[..prefix]);
            key.extend_from_slice(&entry.k.0);
            if let Err(reason) = check_key(&key) {
                return Err(malformed(Malformed::Key {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason,
                }));
            }
            // `check_key` allows ASCII only.
            let text = String::from_utf8_lossy(&key).into_owned();
            if index > 0 {
                if key <= previous {
                    return Err(malformed(Malformed::Order {
                        key: text,
                        previous: String::from_utf8_lossy(&previous).into_owned(),
                    }));
                }
                let shared = common_prefix_len(&previous, &key);
                if shared != prefix {
                    return Err(malformed(Malformed::PrefixNotShared {
                        index,
                        stated: prefix,
                        shared,
                    }));
                }
            }
            entries.push(Entry {
                key: text.into(),
                value: entry.v.0,
                right: entry.t.map(|link| node_link(cid, link.0)).transpose()?,
            });
            previous = key;
        }
        let left = wire.l.map(|link| node_link(cid, link.0)).transpose()?;
        let layer = match (layer, entries.first()) {
            // Only the root of an empty tree holds nothing.
            (Some(_), None) if left.is_none() => return Err(malformed(Malformed::Empty)),
            (Some(layer), _) => layer,
            (None, Some(first)) => key_depth(first.key.as_bytes()),
            (None, None) if left.is_some() => return Err(malformed(Malformed::RootWithoutKeys)),
            (None, None) => 0,
        };
        let node = Node {
            layer,
            left,
            entries,
        };
        node.check(bounds).map_err(malformed)?;
        Ok(node)
    }

    /// The rules a decoded node must follow where it sits.
    fn check(&self, bounds: Bounds<'_>) -> Result<(), Malformed> {
        for entry in &self.entries {
            let depth = key_depth(entry.key.as_bytes());
            if depth != self.layer {
                return Err(Malformed::Depth {
                    key: entry.key.to_string(),
                    depth,
                    layer: self.layer,
                });
            }
        }
        let outside = |key: &str| Malformed::Range {
            key: key.to_owned(),
            range: bounds.to_string(),
        };
        if let (Some(first), Some(low)) = (self.entries.first(), bounds.low)
            && *first.key <= *low
        {
            return Err(outside(&first.key));
        }
        if let (Some(last), Some(high)) = (self.entries.last(), bounds.high)
            && *last.key >= *high
        {
            return Err(outside(&last.key));
        }
        if self.layer == 0 && (0..=self.entries.len()).any(|i| self.gap(i).is_some()) {
            return Err(Malformed::LinkBelowBottom);
        }
        Ok(())
    }
}

/// A link from a node to a subtree, which must be a CIDv1 of DAG-CBOR with
/// SHA-256: the tree's own links follow the blessed format strictly.
fn node_link(node: &Cid, link: Cid) -> Result<Link, MstError> {
    match unblessed(&link) {
        None => Ok(Link::stored(link)),
        Some(reason) => Err(MstError::Malformed {
            cid: Box::new(node.clone()),
            reason: Malformed::Link {
                link: Box::new(link),
                reason,
            },
        }),
    }
}

/// The keys around a subtree: every key in it sorts strictly between them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Bounds<'a> {
    pub(crate) low: Option<&'a str>,
    pub(crate) high: Option<&'a str>,
}

impl std::fmt::Display for Bounds<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.low, self.high) {
            (Some(low), Some(high)) => write!(f, "after {low:?}, before {high:?}"),
            (Some(low), None) => write!(f, "after {low:?}"),
            (None, Some(high)) => write!(f, "before {high:?}"),
            (None, None) => f.write_str("any key"),
        }
    }
}

/// A node block as read: both links must be present, `null` or a link.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireNode {
    #[serde(deserialize_with = "Option::deserialize")]
    l: Option<CidLink>,
    e: Vec<WireEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    p: u64,
    k: ByteString,
    v: CidLink,
    #[serde(deserialize_with = "Option::deserialize")]
    t: Option<CidLink>,
}

/// A node block as written, borrowing the node's keys and CIDs.
#[derive(Serialize)]
struct WireNodeOut<'a> {
    l: Option<&'a cid::Cid>,
    e: Vec<WireEntryOut<'a>>,
}

#[derive(Serialize)]
struct WireEntryOut<'a> {
    p: u64,
    k: Raw<'a>,
    v: &'a cid::Cid,
    t: Option<&'a cid::Cid>,
}
