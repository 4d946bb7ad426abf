//! The difference between two trees: the record ops that turn one into the
//! other, and the nodes one has that the other lacks.

use std::collections::HashSet;
use std::sync::Arc;

use crate::car::Block;
use crate::firehose::Action;
use atlex_core::types::Cid;

use crate::mst::error::MstError;
use crate::mst::node::{GapKeys, Link, Node};
use crate::mst::store::BlockStore;
use crate::mst::tree::Mst;

/// A change to one record: what a commit does at a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new record.
    Create {
        /// The record's path.
        path: String,
        /// Its CID.
        cid: Cid,
    },
    /// A record replaced.
    Update {
        /// The record's path.
        path: String,
        /// The new record's CID.
        cid: Cid,
        /// The previous record's CID.
        prev: Cid,
    },
    /// A record removed.
    Delete {
        /// The record's path.
        path: String,
        /// The removed record's CID.
        prev: Cid,
    },
}

impl Op {
    /// The record's path.
    pub fn path(&self) -> &str {
        match self {
            Self::Create { path, .. } | Self::Update { path, .. } | Self::Delete { path, .. } => {
                path
            }
        }
    }

    /// The action, as a firehose names it.
    pub fn action(&self) -> Action {
        match self {
            Self::Create { .. } => Action::Create,
            Self::Update { .. } => Action::Update,
            Self::Delete { .. } => Action::Delete,
        }
    }

    /// The new record's CID (creates and updates).
    pub fn cid(&self) -> Option<&Cid> {
        match self {
            Self::Create { cid, .. } | Self::Update { cid, .. } => Some(cid),
            Self::Delete { .. } => None,
        }
    }

    /// The previous record's CID (updates and deletes).
    pub fn prev(&self) -> Option<&Cid> {
        match self {
            Self::Update { prev, .. } | Self::Delete { prev, .. } => Some(prev),
            Self::Create { .. } => None,
        }
    }
}

/// What [`Mst::diff`] finds.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// The ops from the first tree to the second, in path order.
    pub ops: Vec<Op>,
    /// The node blocks of the second tree that the first lacks.
    pub created_nodes: Vec<Block<'static>>,
    /// The CIDs of the first tree's nodes that the second lacks.
    pub deleted_nodes: Vec<Cid>,
}

impl<S: BlockStore> Mst<S> {
    /// How `to` differs from this tree. Subtrees with the same CID on both
    /// sides are skipped unread, so the cost follows the size of the change,
    /// not of the trees.
    ///
    /// ```
    /// use atlex_repo::mst::{MemoryBlockStore, Mst, Op};
    ///
    /// let store = MemoryBlockStore::new();
    /// let (a, b) = (atlex_core::cbor::cid_of(&1)?, atlex_core::cbor::cid_of(&2)?);
    /// let before = Mst::new(&store).insert("com.example.note/a", a.clone())?;
    /// let after = before.update("com.example.note/a", b.clone())?;
    /// assert_eq!(
    ///     before.diff(&after)?.ops,
    ///     [Op::Update { path: "com.example.note/a".into(), cid: b, prev: a }]
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn diff<T: BlockStore>(&self, to: &Mst<T>) -> Result<Diff, MstError> {
        let mut from_walk = Walker::new(self);
        let mut to_walk = Walker::new(to);
        let mut ops = Vec::new();
        loop {
            match (from_walk.peek(), to_walk.peek()) {
                (None, None) => break,
                (Some(Item::Tree(a)), Some(Item::Tree(b))) => {
                    if self.cid(&a.link)? == to.cid(&b.link)? {
                        from_walk.advance();
                        to_walk.advance();
                    } else if a.layer > b.layer {
                        from_walk.descend(a)?;
                    } else if b.layer > a.layer {
                        to_walk.descend(b)?;
                    } else {
                        from_walk.descend(a)?;
                        to_walk.descend(b)?;
                    }
                }
                (Some(Item::Tree(a)), _) => from_walk.descend(a)?,
                (_, Some(Item::Tree(b))) => to_walk.descend(b)?,
                (Some(Item::Leaf(key, prev)), None) => {
                    ops.push(Op::Delete {
                        path: key.to_string(),
                        prev,
                    });
                    from_walk.advance();
                }
                (None, Some(Item::Leaf(key, cid))) => {
                    ops.push(Op::Create {
                        path: key.to_string(),
                        cid,
                    });
                    to_walk.advance();
                }
                (Some(Item::Leaf(a, prev)), Some(Item::Leaf(b, cid))) => match a.cmp(&b) {
                    std::cmp::Ordering::Less => {
                        ops.push(Op::Delete {
                            path: a.to_string(),
                            prev,
                        });
                        from_walk.advance();
                    }
                    std::cmp::Ordering::Greater => {
                        ops.push(Op::Create {
                            path: b.to_string(),
                            cid,
                        });
                        to_walk.advance();
                    }
                    std::cmp::Ordering::Equal => {
                        if prev != cid {
                            ops.push(Op::Update {
                                path: a.to_string(),
                                cid,
                                prev,
                            });
                        }
                        from_walk.advance();
                        to_walk.advance();
                    }
                },
            }
        }
        let mut from_nodes = HashSet::with_capacity(from_walk.read.len());
        for link in &from_walk.read {
            from_nodes.insert(self.cid(link)?);
        }
        let mut to_nodes = HashSet::with_capacity(to_walk.read.len());
        let mut created_nodes = Vec::new();
        for link in &to_walk.read {
            let cid = to.cid(link)?;
            // A node both walks read (one side descended where the other
            // skipped it later) is in both trees: neither created nor
            // deleted.
            if to_nodes.insert(cid.clone()) && !from_nodes.contains(&cid) {
                created_nodes.push(to.block(link)?);
            }
        }
        let mut deleted_nodes: Vec<Cid> = from_nodes
            .into_iter()
            .filter(|cid| !to_nodes.contains(cid))
            .collect();
        deleted_nodes.sort();
        Ok(Diff {
            ops,
            created_nodes,
            deleted_nodes,
        })
    }
}

/// A subtree not read yet, with where it sits.
struct Subtree {
    link: Link,
    /// The depth of its keys.
    layer: u8,
    /// Whether it is the whole tree (whose root node is loaded).
    root: bool,
    keys: GapKeys,
}

enum Item {
    Leaf(Arc<str>, Cid),
    Tree(Subtree),
}

/// A tree walked in key order, a subtree at a time: a subtree is either
/// stepped over whole or read and walked into.
struct Walker<'t, S> {
    tree: &'t Mst<S>,
    /// The root, until it is walked into.
    root: Option<Link>,
    /// Nodes being walked, each with its next slot (gap 0, entry 0, gap 1,
    /// …: even slots are gaps) and its keys' bounds.
    stack: Vec<(Arc<Node>, usize, GapKeys)>,
    /// Every node read.
    read: Vec<Link>,
}

impl<'t, S: BlockStore> Walker<'t, S> {
    fn new(tree: &'t Mst<S>) -> Self {
        Self {
            tree,
            root: Some(tree.root_link().clone()),
            stack: Vec::new(),
            read: Vec::new(),
        }
    }

    /// The next leaf or subtree.
    fn peek(&mut self) -> Option<Item> {
        if let Some(root) = &self.root {
            return Some(Item::Tree(Subtree {
                link: root.clone(),
                layer: self.tree.layer(),
                root: true,
                keys: (None, None),
            }));
        }
        loop {
            let (node, slot, keys) = self.stack.last_mut()?;
            if *slot > 2 * node.entries.len() {
                self.stack.pop();
                continue;
            }
            if *slot % 2 == 1 {
                let entry = &node.entries[*slot / 2];
                return Some(Item::Leaf(entry.key.clone(), entry.value.clone()));
            }
            let i = *slot / 2;
            match node.gap(i) {
                Some(link) => {
                    return Some(Item::Tree(Subtree {
                        link: link.clone(),
                        layer: node.layer - 1,
                        root: false,
                        keys: node.gap_keys(i, keys.0.clone(), keys.1.clone()),
                    }));
                }
                None => *slot += 1,
            }
        }
    }

    /// Steps over what [`Walker::peek`] returned.
    fn advance(&mut self) {
        if self.root.take().is_some() {
            return;
        }
        if let Some((_, slot, _)) = self.stack.last_mut() {
            *slot += 1;
        }
    }

    /// Reads the subtree [`Walker::peek`] returned and walks into it.
    fn descend(&mut self, subtree: Subtree) -> Result<(), MstError> {
        let bounds = crate::mst::node::Bounds {
            low: subtree.keys.0.as_deref(),
            high: subtree.keys.1.as_deref(),
        };
        let layer = (!subtree.root).then_some(subtree.layer);
        let node = self.tree.read_node(&subtree.link, layer, bounds)?;
        self.advance();
        self.read.push(subtree.link);
        self.stack.push((node, 0, subtree.keys));
        Ok(())
    }
}
