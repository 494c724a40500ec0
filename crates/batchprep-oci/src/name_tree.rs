//! The paths of the merged view as a tree of names: each path component is stored once, in one
//! arena, and a node knows its parent, its name, its first child and its next sibling. Nodes are
//! found by (parent, name) in an open-addressing table of node ids. Nodes are never deleted: a path
//! that goes away keeps its node (and what the view records of it), only leaving its parent's child
//! list, so a subtree is walked only while it has something in it.
//!
//! A million-path image costs about 30 bytes a path here instead of a full path string per entry,
//! and every operation on a path costs its number of components.

use std::hash::{BuildHasher, RandomState};

/// No node: the end of a child list, or no parent (the root).
pub(crate) const NONE: u32 = u32::MAX;
/// A node that is in no child list.
const UNLINKED: u32 = u32::MAX - 1;
/// The root directory's node.
pub(crate) const ROOT: u32 = 0;

#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    /// The name is `names[previous node's name_end..name_end]`: nodes and names are appended together.
    name_end: u32,
    first_child: u32,
    /// `UNLINKED` when the node is in no child list.
    next_sibling: u32,
}

/// Component names interned per parent, with child lists for walking a subtree.
#[derive(Debug, Clone)]
pub(crate) struct NameTree {
    names: Vec<u8>,
    nodes: Vec<Node>,
    /// Node ids by (parent, name), `NONE` for a free slot; never more than 3/4 full.
    table: Vec<u32>,
    hasher: RandomState,
}

impl Default for NameTree {
    fn default() -> Self {
        NameTree {
            names: Vec::new(),
            nodes: vec![Node {
                parent: NONE,
                name_end: 0,
                first_child: NONE,
                next_sibling: NONE,
            }],
            table: vec![NONE; 16],
            hasher: RandomState::new(),
        }
    }
}

impl NameTree {
    /// How many nodes exist.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// A node's own name (empty for the root).
    pub(crate) fn name(&self, id: u32) -> &str {
        let bytes = name_of(&self.names, &self.nodes, id);
        // Only whole `&str` components are appended.
        std::str::from_utf8(bytes).expect("names are UTF-8")
    }

    /// A node's parent (`NONE` for the root).
    pub(crate) fn parent(&self, id: u32) -> u32 {
        self.nodes[id as usize].parent
    }

    fn hash(&self, parent: u32, name: &[u8]) -> usize {
        self.hasher.hash_one((parent, name)) as usize
    }

    /// The child `name` of `parent`, if it was ever created.
    pub(crate) fn child(&self, parent: u32, name: &str) -> Option<u32> {
        let mask = self.table.len() - 1;
        let mut slot = self.hash(parent, name.as_bytes()) & mask;
        loop {
            match self.table[slot] {
                NONE => return None,
                id if self.nodes[id as usize].parent == parent
                    && name_of(&self.names, &self.nodes, id) == name.as_bytes() =>
                {
                    return Some(id);
                }
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// The child `name` of `parent`, created (in no child list) when new.
    pub(crate) fn intern(&mut self, parent: u32, name: &str) -> u32 {
        if let Some(id) = self.child(parent, name) {
            return id;
        }
        let id = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&id| id < UNLINKED)
            .expect("fewer than 4 billion paths");
        self.names.extend_from_slice(name.as_bytes());
        let name_end = u32::try_from(self.names.len()).expect("less than 4 GiB of path names");
        self.nodes.push(Node {
            parent,
            name_end,
            first_child: NONE,
            next_sibling: UNLINKED,
        });
        if (self.nodes.len() - 1) * 4 >= self.table.len() * 3 {
            self.grow();
        }
        self.place(id);
        id
    }

    fn place(&mut self, id: u32) {
        let node = self.nodes[id as usize];
        let mask = self.table.len() - 1;
        let mut slot = self.hash(node.parent, name_of(&self.names, &self.nodes, id)) & mask;
        while self.table[slot] != NONE {
            slot = (slot + 1) & mask;
        }
        self.table[slot] = id;
    }

    fn grow(&mut self) {
        self.table = vec![NONE; self.table.len() * 2];
        // The root is in no parent's table.
        for id in 1..self.nodes.len() as u32 {
            self.place(id);
        }
    }

    /// The node of an absolute normalised path, if every component was ever created. Anything
    /// else (an empty component, no leading `/`) names no node.
    pub(crate) fn lookup(&self, path: &str) -> Option<u32> {
        if path == "/" {
            return Some(ROOT);
        }
        let mut parts = path.split('/');
        if path.is_empty() || parts.next() != Some("") {
            return None;
        }
        parts.try_fold(ROOT, |id, c| {
            if c.is_empty() {
                None
            } else {
                self.child(id, c)
            }
        })
    }

    /// The node of an absolute normalised path, creating missing components.
    pub(crate) fn intern_path(&mut self, path: &str) -> u32 {
        path.split('/')
            .filter(|c| !c.is_empty())
            .fold(ROOT, |id, c| self.intern(id, c))
    }

    /// Puts `id` and its ancestors into their parents' child lists, those not there already.
    pub(crate) fn link(&mut self, mut id: u32) {
        while id != ROOT && self.nodes[id as usize].next_sibling == UNLINKED {
            let parent = self.nodes[id as usize].parent as usize;
            self.nodes[id as usize].next_sibling = self.nodes[parent].first_child;
            self.nodes[parent].first_child = id;
            id = parent as u32;
        }
    }

    /// Empties `id`'s child list and appends what was in it to `out` (each child unlinked).
    pub(crate) fn detach_children(&mut self, id: u32, out: &mut Vec<u32>) {
        let mut child = std::mem::replace(&mut self.nodes[id as usize].first_child, NONE);
        while child != NONE {
            let node = &mut self.nodes[child as usize];
            let next = std::mem::replace(&mut node.next_sibling, UNLINKED);
            out.push(child);
            child = next;
        }
    }

    /// Whether `id` has anything in its child list.
    pub(crate) fn has_children(&self, id: u32) -> bool {
        self.nodes[id as usize].first_child != NONE
    }

    /// The children in `id`'s list, newest first, without changing it.
    pub(crate) fn children(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let mut child = self.nodes[id as usize].first_child;
        std::iter::from_fn(move || {
            (child != NONE).then(|| {
                let this = child;
                child = self.nodes[this as usize].next_sibling;
                this
            })
        })
    }

    /// Appends the absolute path of `id` to `out` (`/` for the root).
    pub(crate) fn path_into(&self, id: u32, out: &mut String) {
        let mut parts = Vec::new();
        let mut at = id;
        while at != ROOT {
            parts.push(at);
            at = self.parent(at);
        }
        if parts.is_empty() {
            out.push('/');
        }
        for &part in parts.iter().rev() {
            out.push('/');
            out.push_str(self.name(part));
        }
    }

    /// Frees what growing reserved beyond the nodes.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.names.shrink_to_fit();
        self.nodes.shrink_to_fit();
    }
}

fn name_of<'a>(names: &'a [u8], nodes: &[Node], id: u32) -> &'a [u8] {
    let i = id as usize;
    let start = if i == 0 {
        0
    } else {
        nodes[i - 1].name_end as usize
    };
    &names[start..nodes[i].name_end as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(t: &NameTree, id: u32) -> String {
        let mut s = String::new();
        t.path_into(id, &mut s);
        s
    }

    #[test]
    fn interns_each_component_once() {
        let mut t = NameTree::default();
        let a = t.intern_path("/usr/bin/env");
        let b = t.intern_path("/usr/bin/env");
        assert_eq!(a, b);
        assert_eq!(t.len(), 4);
        assert_eq!(path(&t, a), "/usr/bin/env");
        assert_eq!(t.lookup("/usr/bin"), Some(t.parent(a)));
        assert_eq!(t.lookup("/usr/lib"), None);
        assert_eq!(t.lookup("/usr/bin/"), None);
        assert_eq!(t.lookup("usr/bin"), None);
        assert_eq!(t.lookup("/usr//bin"), None);
        assert_eq!(t.lookup(""), None);
        assert_eq!(t.lookup("/"), Some(ROOT));
        assert_eq!(path(&t, ROOT), "/");
    }

    #[test]
    fn finds_every_one_of_many_names_after_growing() {
        let mut t = NameTree::default();
        let ids: Vec<u32> = (0..5000)
            .map(|i| t.intern_path(&format!("/d{}/f{i}", i % 7)))
            .collect();
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(t.lookup(&format!("/d{}/f{i}", i % 7)), Some(id));
            assert_eq!(t.name(id), format!("f{i}"));
        }
        assert_eq!(t.lookup("/d1/f0"), None);
        assert_eq!(t.len(), 5000 + 7 + 1);
    }

    #[test]
    fn child_lists_link_once_with_ancestors_and_detach() {
        let mut t = NameTree::default();
        let x = t.intern_path("/d/x");
        let y = t.intern_path("/d/y");
        t.link(x);
        t.link(x);
        t.link(y);
        let d = t.parent(x);
        assert_eq!(t.children(ROOT).collect::<Vec<_>>(), [d]);
        assert_eq!(t.children(d).collect::<Vec<_>>(), [y, x]);
        let mut out = Vec::new();
        t.detach_children(d, &mut out);
        assert_eq!(out, [y, x]);
        assert!(!t.has_children(d));
        t.link(x);
        assert_eq!(t.children(d).collect::<Vec<_>>(), [x]);
    }
}
