//! The Merkle Search Tree of a repository: keys (repository paths) to
//! values (record CIDs), with a root CID that depends on the content only.

use std::ops::Bound;
use std::sync::Arc;

use crate::car::Block;
use atlex_core::types::Cid;
use bytes::Bytes;

use crate::mst::error::MstError;
use crate::mst::key::{check_key, key_depth};
use crate::mst::node::{Bounds, Entry, GapKeys, Link, Node};
use crate::mst::store::BlockStore;

/// A Merkle Search Tree over a block store.
///
/// Trees are persistent: [`insert`](Mst::insert), [`update`](Mst::update)
/// and [`delete`](Mst::delete) return a new tree and leave this one as it
/// was; the two share every node the change did not touch. Nodes are read
/// from the store when an operation first needs them, and checked then
/// (canonical encoding, key order and depth, each key in its subtree's
/// range). New nodes stay in memory until [`write`](Mst::write) puts them
/// in the store; [`root`](Mst::root) computes the root CID without writing.
///
/// ```
/// use atlex_repo::mst::{MemoryBlockStore, Mst};
///
/// let store = MemoryBlockStore::new();
/// let record = atlex_core::cbor::cid_of(&"a record")?;
/// let empty = Mst::new(&store);
/// let tree = empty.insert("com.example.note/3jzfcijpj2z2a", record.clone())?;
/// assert_eq!(tree.get("com.example.note/3jzfcijpj2z2a")?, Some(record));
/// assert_eq!(empty.get("com.example.note/3jzfcijpj2z2a")?, None);
///
/// let root = tree.write()?;
/// let loaded = Mst::load(&store, &root)?;
/// assert_eq!(loaded.root()?, root);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Mst<S> {
    store: S,
    /// Its node is always loaded.
    root: Link,
}

/// What [`Mst::walk_nodes`] visits.
pub(crate) enum Walked<'a> {
    /// A node's block.
    Node(Block<'static>),
    /// An entry's value (a record CID).
    Leaf(&'a Cid),
}

/// A key and its value, as iteration yields them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The key: a repository path.
    pub key: Arc<str>,
    /// The value: a record's CID.
    pub value: Cid,
}

impl<S: BlockStore> Mst<S> {
    /// An empty tree.
    pub fn new(store: S) -> Self {
        Self {
            store,
            root: Link::new(Node::empty()),
        }
    }

    /// The tree whose root node is `root`, read from `store` and checked.
    /// Other nodes are read when needed.
    pub fn load(store: S, root: &Cid) -> Result<Self, MstError> {
        let link = Link::stored(root.clone());
        let tree = Self { store, root: link };
        tree.read_node(&tree.root, None, Bounds::default())?;
        Ok(tree)
    }

    /// The block store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The root CID, computed for nodes made in memory (which stay
    /// unwritten).
    pub fn root(&self) -> Result<Cid, MstError> {
        self.cid(&self.root)
    }

    /// The depth of the root's keys (0 for an empty tree).
    pub fn layer(&self) -> u8 {
        self.root_node().layer
    }

    /// Whether the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.root_node().is_empty()
    }

    /// Writes every node made in memory to the store, children first, and
    /// returns the root CID.
    pub fn write(&self) -> Result<Cid, MstError> {
        self.write_link(&self.root)
    }

    /// The value of `key`, if the tree holds it.
    pub fn get(&self, key: &str) -> Result<Option<Cid>, MstError> {
        let mut value = None;
        self.path(key, |node| {
            value = node
                .entries
                .iter()
                .find(|e| &*e.key == key)
                .map(|e| e.value.clone());
        })?;
        Ok(value)
    }

    /// Every key and value, in key order.
    pub fn iter(&self) -> Iter<'_, S> {
        self.range::<&str>(..)
    }

    /// The keys in `range` (of `&str` bounds, as `"a".."b"` or `start..`),
    /// in order.
    pub fn range<'k, K: AsRef<str> + ?Sized + 'k>(
        &self,
        range: impl std::ops::RangeBounds<&'k K>,
    ) -> Iter<'_, S> {
        let owned = |bound: Bound<&&K>| match bound {
            Bound::Included(key) => Bound::Included(key.as_ref().to_owned()),
            Bound::Excluded(key) => Bound::Excluded(key.as_ref().to_owned()),
            Bound::Unbounded => Bound::Unbounded,
        };
        Iter::new(self, owned(range.start_bound()), owned(range.end_bound()))
    }

    /// The records of one collection: the keys `<collection>/…`, in order.
    pub fn collection(&self, collection: &str) -> Iter<'_, S> {
        // `0` is the character after `/`.
        Iter::new(
            self,
            Bound::Included(format!("{collection}/")),
            Bound::Excluded(format!("{collection}0")),
        )
    }

    /// Reads every node of the tree, checking each: the whole structure is
    /// valid if this succeeds. Returns how many keys the tree holds.
    pub fn check_all(&self) -> Result<usize, MstError> {
        let mut count = 0;
        for leaf in self.iter() {
            leaf?;
            count += 1;
        }
        Ok(count)
    }

    /// The blocks that prove what the tree holds at `key`: the nodes from
    /// the root down to the one holding it, or, if the tree does not hold
    /// it, down to the last one whose range includes it. With the root CID
    /// they show that the key has its value, or has none.
    pub fn proof(&self, key: &str) -> Result<Vec<Block<'static>>, MstError> {
        let mut links = Vec::new();
        self.path_links(key, |link, _| links.push(link.clone()))?;
        links.iter().map(|link| self.block(link)).collect()
    }

    /// The blocks needed to apply a change at `key` to the tree, or to undo
    /// one: the proofs of `key` and of the keys next to it on either side.
    /// This is what a commit's blocks include for every op, so that the op
    /// can be inverted (see [`crate::sync`]).
    pub fn covering_proof(&self, key: &str) -> Result<Vec<Block<'static>>, MstError> {
        let (before, after) = self.neighbours(key)?;
        let mut links: Vec<Link> = Vec::new();
        for key in [Some(key), before.as_deref(), after.as_deref()]
            .into_iter()
            .flatten()
        {
            self.path_links(key, |link, _| {
                if !links.iter().any(|seen| Link::same(Some(seen), Some(link))) {
                    links.push(link.clone());
                }
            })?;
        }
        links.iter().map(|link| self.block(link)).collect()
    }

    /// Every node block of the tree, parents before children.
    pub fn node_blocks(&self) -> Result<Vec<Block<'static>>, MstError> {
        let mut blocks = Vec::new();
        self.walk_nodes(&mut |item| {
            if let Walked::Node(block) = item {
                blocks.push(block);
            }
            Ok(())
        })?;
        Ok(blocks)
    }

    /// Walks the whole tree in order: each node's block, then its gaps and
    /// entries in turn (a node's subtrees after it, entries between them).
    pub(crate) fn walk_nodes(
        &self,
        visit: &mut dyn FnMut(Walked<'_>) -> Result<(), MstError>,
    ) -> Result<(), MstError> {
        self.walk_from(
            &self.root,
            self.root_node().clone(),
            Bounds::default(),
            visit,
        )
    }

    fn walk_from(
        &self,
        link: &Link,
        node: Arc<Node>,
        bounds: Bounds<'_>,
        visit: &mut dyn FnMut(Walked<'_>) -> Result<(), MstError>,
    ) -> Result<(), MstError> {
        visit(Walked::Node(self.block(link)?))?;
        for i in 0..=node.entries.len() {
            if let Some(gap) = node.gap(i) {
                let gap_bounds = node.gap_bounds(i, bounds);
                let child = self.read_node(gap, Some(node.layer - 1), gap_bounds)?;
                self.walk_from(gap, child, gap_bounds, visit)?;
            }
            if let Some(entry) = node.entries.get(i) {
                visit(Walked::Leaf(&entry.value))?;
            }
        }
        Ok(())
    }

    /// Calls `visit` with each node from the root towards `key`: down to
    /// the node holding it, or to the last whose range includes it.
    fn path(&self, key: &str, mut visit: impl FnMut(&Node)) -> Result<(), MstError> {
        self.path_links(key, |_, node| visit(node))
    }

    fn path_links(&self, key: &str, mut visit: impl FnMut(&Link, &Node)) -> Result<(), MstError> {
        let mut link = self.root.clone();
        let mut node = self.root_node().clone();
        let (mut low, mut high) = (None, None);
        loop {
            visit(&link, &node);
            let i = node.position(key);
            if node.entries.get(i).is_some_and(|e| &*e.key == key) {
                return Ok(());
            }
            let Some(gap) = node.gap(i).cloned() else {
                return Ok(());
            };
            (low, high) = node.gap_keys(i, low, high);
            node = self.read_node(&gap, Some(node.layer - 1), bounds(&low, &high))?;
            link = gap;
        }
    }

    /// The keys just before and just after `key` in the tree (`key` itself
    /// excluded), found on the way down to `key` and, when the tree holds
    /// it, along the edges of the subtrees beside it.
    fn neighbours(&self, key: &str) -> Result<GapKeys, MstError> {
        let mut node = self.root_node().clone();
        let (mut before, mut after) = (None, None);
        let (mut low, mut high) = (None, None);
        loop {
            let i = node.position(key);
            if i > 0 {
                before = Some(node.entries[i - 1].key.clone());
            }
            let held = node.entries.get(i).is_some_and(|e| &*e.key == key);
            if let Some(entry) = node.entries.get(if held { i + 1 } else { i }) {
                after = Some(entry.key.clone());
            }
            if held {
                // The last key of the subtree before the key, the first of
                // the one after it.
                let bounds = bounds(&low, &high);
                if let Some(last) = self.edge(&node, i, bounds, Edge::Last)? {
                    before = Some(last);
                }
                if let Some(first) = self.edge(&node, i + 1, bounds, Edge::First)? {
                    after = Some(first);
                }
                return Ok((before, after));
            }
            let Some(gap) = node.gap(i).cloned() else {
                return Ok((before, after));
            };
            (low, high) = node.gap_keys(i, low, high);
            node = self.read_node(&gap, Some(node.layer - 1), bounds(&low, &high))?;
        }
    }

    /// The first or last key of the subtree in gap `i` of `node`, if any.
    fn edge(
        &self,
        node: &Node,
        i: usize,
        bounds: Bounds<'_>,
        edge: Edge,
    ) -> Result<Option<Arc<str>>, MstError> {
        let Some(gap) = node.gap(i) else {
            return Ok(None);
        };
        let gap_bounds = node.gap_bounds(i, bounds);
        let child = self.read_node(gap, Some(node.layer - 1), gap_bounds)?;
        let (slot, entry) = match edge {
            Edge::First => (0, child.entries.first()),
            Edge::Last => (child.entries.len(), child.entries.last()),
        };
        match self.edge(&child, slot, gap_bounds, edge)? {
            Some(key) => Ok(Some(key)),
            None => Ok(entry.map(|e| e.key.clone())),
        }
    }

    pub(crate) fn root_link(&self) -> &Link {
        &self.root
    }

    /// The node of the root, which is always loaded.
    fn root_node(&self) -> &Arc<Node> {
        match self.root.cached_node() {
            Some(node) => node,
            // `new` makes the root in memory, `load` reads it, and every
            // operation returns a tree whose root it made or read.
            None => unreachable!("the root node of a tree is loaded"),
        }
    }

    /// The node of `link`, read from the store and checked if not loaded
    /// yet.
    pub(crate) fn read_node(
        &self,
        link: &Link,
        layer: Option<u8>,
        bounds: Bounds<'_>,
    ) -> Result<Arc<Node>, MstError> {
        if let Some(node) = link.cached_node() {
            return Ok(node.clone());
        }
        let Some(cid) = link.cached_cid() else {
            unreachable!("a link has its node or its CID");
        };
        let bytes = self
            .store
            .get(cid)?
            .ok_or_else(|| MstError::MissingBlock(Box::new(cid.clone())))?;
        let node = Node::decode(cid, &bytes, layer, bounds)?;
        Ok(link.set_node(node).clone())
    }

    /// The CID of `link`'s node, computed (and kept) if it was made in
    /// memory.
    pub(crate) fn cid(&self, link: &Link) -> Result<Cid, MstError> {
        if let Some(cid) = link.cached_cid() {
            return Ok(cid.clone());
        }
        let Some(node) = link.cached_node() else {
            unreachable!("a link has its node or its CID");
        };
        let bytes = node.encode(|child| self.cid(child))?;
        Ok(link.set_cid(Cid::of_dag_cbor(&bytes)).clone())
    }

    /// The block of `link`'s node: from the store if it holds it, encoded
    /// otherwise.
    pub(crate) fn block(&self, link: &Link) -> Result<Block<'static>, MstError> {
        if link.is_stored() {
            let cid = self.cid(link)?;
            let bytes = self
                .store
                .get(&cid)?
                .ok_or_else(|| MstError::MissingBlock(Box::new(cid.clone())))?;
            return Ok(Block {
                cid,
                data: bytes.to_vec().into(),
            });
        }
        let Some(node) = link.cached_node() else {
            unreachable!("a node not in the store is in memory");
        };
        let bytes = node.encode(|child| self.cid(child))?;
        let cid = link.set_cid(Cid::of_dag_cbor(&bytes)).clone();
        Ok(Block {
            cid,
            data: bytes.into(),
        })
    }

    fn write_link(&self, link: &Link) -> Result<Cid, MstError> {
        if link.is_stored() {
            return self.cid(link);
        }
        let Some(node) = link.cached_node() else {
            unreachable!("a node not in the store is in memory");
        };
        let bytes = node.encode(|child| self.write_link(child))?;
        let cid = link.set_cid(Cid::of_dag_cbor(&bytes)).clone();
        self.store.put(&cid, Bytes::from(bytes))?;
        link.mark_stored();
        Ok(cid)
    }
}

impl<S: BlockStore + Clone> Mst<S> {
    /// The tree with `key` added. Fails if the tree holds `key` already.
    pub fn insert(&self, key: &str, value: Cid) -> Result<Self, MstError> {
        checked_key(key)?;
        let depth = key_depth(key.as_bytes());
        let root = self.root_node().clone();
        let key: Arc<str> = key.into();
        let node = if depth > root.layer {
            // The key goes above the root: the tree splits around it, and
            // each side rises to the depth below the key's.
            let (mut left, mut right) = self.split(&self.root, &root, &key, Bounds::default())?;
            for layer in root.layer + 1..depth {
                let raise = |side: Option<Link>| {
                    side.map(|link| {
                        Link::new(Node {
                            layer,
                            left: Some(link),
                            entries: Vec::new(),
                        })
                    })
                };
                left = raise(left);
                right = raise(right);
            }
            Node {
                layer: depth,
                left,
                entries: vec![Entry { key, value, right }],
            }
        } else {
            self.insert_in(&root, key, value, depth, Bounds::default())?
        };
        Ok(self.with_root(Link::new(node)))
    }

    /// The tree with `key`'s value replaced. Fails if the tree does not hold
    /// `key`.
    pub fn update(&self, key: &str, value: Cid) -> Result<Self, MstError> {
        checked_key(key)?;
        let root = self.root_node().clone();
        let node = self.update_in(&root, key, value, Bounds::default())?;
        Ok(self.with_root(Link::new(node)))
    }

    /// The tree without `key`. Fails if the tree does not hold `key`.
    pub fn delete(&self, key: &str) -> Result<Self, MstError> {
        checked_key(key)?;
        let depth = key_depth(key.as_bytes());
        let root = self.root_node().clone();
        if depth > root.layer {
            return Err(MstError::KeyNotFound(key.to_owned()));
        }
        let mut top = self.delete_in(&root, key, depth, Bounds::default())?;
        // A root left without keys gives way to its subtree. Every link
        // here has its node: made by `delete_in`, or read below.
        while let Some(link) = top {
            let Some(node) = link.cached_node() else {
                unreachable!("the node was made or read");
            };
            match &node.left {
                Some(left) if node.entries.is_empty() => {
                    self.read_node(left, Some(node.layer - 1), Bounds::default())?;
                    top = Some(left.clone());
                }
                _ => return Ok(self.with_root(link)),
            }
        }
        Ok(self.with_root(Link::new(Node::empty())))
    }

    /// Adds `key` when it is new and replaces its value when it is not.
    pub fn put(&self, key: &str, value: Cid) -> Result<Self, MstError> {
        match self.get(key)? {
            Some(_) => self.update(key, value),
            None => self.insert(key, value),
        }
    }

    fn with_root(&self, root: Link) -> Self {
        Self {
            store: self.store.clone(),
            root,
        }
    }

    fn insert_in(
        &self,
        node: &Node,
        key: Arc<str>,
        value: Cid,
        depth: u8,
        bounds: Bounds<'_>,
    ) -> Result<Node, MstError> {
        let i = node.position(&key);
        if node.entries.get(i).is_some_and(|e| e.key == key) {
            return Err(MstError::KeyExists(key.to_string()));
        }
        let gap_bounds = node.gap_bounds(i, bounds);
        let mut new = node.clone();
        if depth == node.layer {
            let (left, right) = match node.gap(i) {
                Some(gap) => {
                    let child = self.read_node(gap, Some(node.layer - 1), gap_bounds)?;
                    self.split(gap, &child, &key, gap_bounds)?
                }
                None => (None, None),
            };
            new.set_gap(i, left);
            new.entries.insert(i, Entry { key, value, right });
        } else {
            let child = match node.gap(i) {
                Some(gap) => {
                    let child = self.read_node(gap, Some(node.layer - 1), gap_bounds)?;
                    self.insert_in(&child, key, value, depth, gap_bounds)?
                }
                None => chain(key, value, depth, node.layer - 1),
            };
            new.set_gap(i, Some(Link::new(child)));
        }
        Ok(new)
    }

    /// Splits the subtree at `link` around `key` (which it does not hold):
    /// the part before and the part after, each `None` if empty.
    fn split(
        &self,
        link: &Link,
        node: &Node,
        key: &str,
        bounds: Bounds<'_>,
    ) -> Result<(Option<Link>, Option<Link>), MstError> {
        if node.is_empty() {
            return Ok((None, None));
        }
        let i = node.position(key);
        let gap = node.gap(i);
        let (gap_left, gap_right) = match gap {
            Some(gap) => {
                let gap_bounds = node.gap_bounds(i, bounds);
                let child = self.read_node(gap, Some(node.layer - 1), gap_bounds)?;
                self.split(gap, &child, key, gap_bounds)?
            }
            None => (None, None),
        };
        // A key past either end leaves the whole node on one side.
        if i == node.entries.len() && Link::same(gap_left.as_ref(), gap) {
            return Ok((Some(link.clone()), None));
        }
        if i == 0 && Link::same(gap_right.as_ref(), gap) {
            return Ok((None, Some(link.clone())));
        }
        let mut left = Node {
            layer: node.layer,
            left: node.left.clone(),
            entries: node.entries[..i].to_vec(),
        };
        left.set_gap(i, gap_left);
        let right = Node {
            layer: node.layer,
            left: gap_right,
            entries: node.entries[i..].to_vec(),
        };
        let side = |node: Node| (!node.is_empty()).then(|| Link::new(node));
        Ok((side(left), side(right)))
    }

    fn update_in(
        &self,
        node: &Node,
        key: &str,
        value: Cid,
        bounds: Bounds<'_>,
    ) -> Result<Node, MstError> {
        let i = node.position(key);
        let mut new = node.clone();
        if node.entries.get(i).is_some_and(|e| &*e.key == key) {
            new.entries[i].value = value;
            return Ok(new);
        }
        let Some(gap) = node.gap(i) else {
            return Err(MstError::KeyNotFound(key.to_owned()));
        };
        let gap_bounds = node.gap_bounds(i, bounds);
        let child = self.read_node(gap, Some(node.layer - 1), gap_bounds)?;
        let child = self.update_in(&child, key, value, gap_bounds)?;
        new.set_gap(i, Some(Link::new(child)));
        Ok(new)
    }

    /// The node without `key`, `None` if nothing is left of it.
    fn delete_in(
        &self,
        node: &Node,
        key: &str,
        depth: u8,
        bounds: Bounds<'_>,
    ) -> Result<Option<Link>, MstError> {
        let i = node.position(key);
        let mut new = node.clone();
        if depth == node.layer {
            if node.entries.get(i).is_none_or(|e| &*e.key != key) {
                return Err(MstError::KeyNotFound(key.to_owned()));
            }
            // The subtrees on either side of the key join.
            let merged = self.merge(
                node.gap(i),
                node.gap_bounds(i, bounds),
                node.gap(i + 1),
                node.gap_bounds(i + 1, bounds),
                node.layer.saturating_sub(1),
            )?;
            new.entries.remove(i);
            new.set_gap(i, merged);
        } else {
            let Some(gap) = node.gap(i) else {
                return Err(MstError::KeyNotFound(key.to_owned()));
            };
            let gap_bounds = node.gap_bounds(i, bounds);
            let child = self.read_node(gap, Some(node.layer - 1), gap_bounds)?;
            let child = self.delete_in(&child, key, depth, gap_bounds)?;
            new.set_gap(i, child);
        }
        Ok((!new.is_empty()).then(|| Link::new(new)))
    }

    /// Joins two subtrees of depth `layer` whose keys are all in order (the
    /// first before the second).
    fn merge(
        &self,
        first: Option<&Link>,
        first_bounds: Bounds<'_>,
        second: Option<&Link>,
        second_bounds: Bounds<'_>,
        layer: u8,
    ) -> Result<Option<Link>, MstError> {
        let (first_link, second_link) = match (first, second) {
            (None, other) | (other, None) => return Ok(other.cloned()),
            (Some(first), Some(second)) => (first, second),
        };
        let a = self.read_node(first_link, Some(layer), first_bounds)?;
        let b = self.read_node(second_link, Some(layer), second_bounds)?;
        let last = a.entries.len();
        let middle = self.merge(
            a.gap(last),
            a.gap_bounds(last, first_bounds),
            b.gap(0),
            b.gap_bounds(0, second_bounds),
            a.layer.saturating_sub(1),
        )?;
        let mut entries = Vec::with_capacity(a.entries.len() + b.entries.len());
        entries.extend_from_slice(&a.entries);
        entries.extend_from_slice(&b.entries);
        let mut joined = Node {
            layer: a.layer,
            left: a.left.clone(),
            entries,
        };
        joined.set_gap(last, middle);
        Ok(Some(Link::new(joined)))
    }
}

/// A new subtree of depth `layer` holding only `key` (of depth `depth`):
/// nodes without keys down to the key's depth, since links do not skip a
/// depth.
fn chain(key: Arc<str>, value: Cid, depth: u8, layer: u8) -> Node {
    if layer == depth {
        Node {
            layer,
            left: None,
            entries: vec![Entry {
                key,
                value,
                right: None,
            }],
        }
    } else {
        Node {
            layer,
            left: Some(Link::new(chain(key, value, depth, layer - 1))),
            entries: Vec::new(),
        }
    }
}

/// Bounds borrowed from owned keys.
fn bounds<'a>(low: &'a Option<Arc<str>>, high: &'a Option<Arc<str>>) -> Bounds<'a> {
    Bounds {
        low: low.as_deref(),
        high: high.as_deref(),
    }
}

/// Which end of a subtree.
#[derive(Clone, Copy)]
enum Edge {
    First,
    Last,
}

fn checked_key(key: &str) -> Result<(), MstError> {
    check_key(key.as_bytes()).map_err(|reason| MstError::InvalidKey {
        key: key.to_owned(),
        reason,
    })
}

/// The keys and values of a tree, or of a range of it, in order: what
/// [`Mst::iter`], [`Mst::range`] and [`Mst::collection`] return. Nodes are
/// read as the iteration reaches them; after an error the iteration ends.
pub struct Iter<'t, S> {
    tree: &'t Mst<S>,
    stack: Vec<Frame>,
    end: Bound<String>,
    started: Option<Bound<String>>,
    done: bool,
}

/// A node being walked: `slot` is the next of its gaps and entries, in
/// order (gap 0, entry 0, gap 1, …: even slots are gaps).
struct Frame {
    node: Arc<Node>,
    slot: usize,
    low: Option<Arc<str>>,
    high: Option<Arc<str>>,
}

impl Frame {
    fn new(node: Arc<Node>, low: Option<Arc<str>>, high: Option<Arc<str>>) -> Self {
        Self {
            node,
            slot: 0,
            low,
            high,
        }
    }

    /// The bounds of gap `i`, owned.
    fn gap_bounds(&self, i: usize) -> GapKeys {
        self.node.gap_keys(i, self.low.clone(), self.high.clone())
    }
}

impl<'t, S: BlockStore> Iter<'t, S> {
    fn new(tree: &'t Mst<S>, start: Bound<String>, end: Bound<String>) -> Self {
        Self {
            tree,
            stack: Vec::new(),
            end,
            started: Some(start),
            done: false,
        }
    }

    /// Descends from the root to the first key at or after `start`.
    fn seek(&mut self, start: &Bound<String>) -> Result<(), MstError> {
        let mut frame = Frame::new(self.tree.root_node().clone(), None, None);
        loop {
            let i = match start {
                Bound::Unbounded => 0,
                Bound::Included(key) => frame.node.position(key),
                Bound::Excluded(key) => frame.node.entries.partition_point(|e| *e.key <= **key),
            };
            // Gap `i` is walked now; the entry after it comes next.
            frame.slot = 2 * i + 1;
            let gap = frame.node.gap(i).cloned();
            let (low, high) = frame.gap_bounds(i);
            let layer = frame.node.layer;
            self.stack.push(frame);
            let Some(gap) = gap else {
                return Ok(());
            };
            let node = self.read(&gap, layer, &low, &high)?;
            frame = Frame::new(node, low, high);
        }
    }

    fn read(
        &self,
        link: &Link,
        parent_layer: u8,
        low: &Option<Arc<str>>,
        high: &Option<Arc<str>>,
    ) -> Result<Arc<Node>, MstError> {
        self.tree
            .read_node(link, Some(parent_layer - 1), bounds(low, high))
    }

    fn step(&mut self) -> Result<Option<Leaf>, MstError> {
        if let Some(start) = self.started.take() {
            self.seek(&start)?;
        }
        loop {
            let Some(frame) = self.stack.last_mut() else {
                return Ok(None);
            };
            let slot = frame.slot;
            if slot > 2 * frame.node.entries.len() {
                self.stack.pop();
                continue;
            }
            frame.slot += 1;
            if slot % 2 == 1 {
                let entry = &frame.node.entries[slot / 2];
                let past = match &self.end {
                    Bound::Included(end) => *entry.key > **end,
                    Bound::Excluded(end) => *entry.key >= **end,
                    Bound::Unbounded => false,
                };
                if past {
                    self.stack.clear();
                    return Ok(None);
                }
                return Ok(Some(Leaf {
                    key: entry.key.clone(),
                    value: entry.value.clone(),
                }));
            }
            let i = slot / 2;
            if let Some(gap) = frame.node.gap(i).cloned() {
                let (low, high) = frame.gap_bounds(i);
                let layer = frame.node.layer;
                let node = self.read(&gap, layer, &low, &high)?;
                self.stack.push(Frame::new(node, low, high));
            }
        }
    }
}

impl<S: BlockStore> Iterator for Iter<'_, S> {
    type Item = Result<Leaf, MstError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.step().transpose();
        self.done = matches!(next, None | Some(Err(_)));
        next
    }
}
