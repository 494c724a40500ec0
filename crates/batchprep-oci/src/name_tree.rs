//! The paths of the merged view as a tree of names: each path component is stored once, in one
//! arena, and a node knows only its parent, its name and its first child and next sibling. A
//! million-entry image then costs a few dozen bytes per path instead of a full path string per entry
//! and per parent, and every operation on a path costs its number of components, never its length
//! times its depth.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

/// No node: the end of a child list, or no parent (the root).
pub(crate) const NONE: u32 = u32::MAX;

/// The root directory's node.
pub(crate) const ROOT: u32 = 0;

#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    /// The name is `names[previous node's name_end..name_end]`: nodes and names are appended together.
    name_end: u32,
    first_child: u32,
    next_sibling: u32,
    /// Whether the node is in its parent's child list.
    linked: bool,
}

/// Component names interned per parent, with child lists for walking a subtree.
#[derive(Debug, Clone)]
pub(crate) struct NameTree {
    names: String,
    nodes: Vec<Node>,
    /// Node ids by (parent, name).
    children: HashTable<u32>,
    hasher: RandomState,
}

impl Default for NameTree {
    fn default() -> Self {
        NameTree {
            names: String::new(),
            nodes: vec![Node {
                parent: NONE,
                name_end: 0,
                first_child: NONE,
                next_sibling: NONE,
                linked: false,
            }],
            children: HashTable::new(),
            hasher: RandomState::new(),
        }
    }
}

impl NameTree {
    /// How many nodes exist (present in the view or not).
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// A node's own name (empty for the root).
    pub(crate) fn name(&self, id: u32) -> &str {
        name_of(&self.names, &self.nodes, id)
    }

    /// A node's parent (`NONE` for the root).
    pub(crate) fn parent(&self, id: u32) -> u32 {
        self.nodes[id as usize].parent
    }

    /// The child `name` of `parent`, if it was ever created.
    pub(crate) fn child(&self, parent: u32, name: &str) -> Option<u32> {
        let hash = self.hasher.hash_one((parent, name));
        let (names, nodes) = (&self.names, &self.nodes);
        self.children
            .find(hash, |&id| {
                nodes[id as usize].parent == parent && name_of(names, nodes, id) == name
            })
            .copied()
    }

    /// The child `name` of `parent`, created (unlinked) when new.
    pub(crate) fn intern(&mut self, parent: u32, name: &str) -> u32 {
        if let Some(id) = self.child(parent, name) {
            return id;
        }
        let id = u32::try_from(self.nodes.len()).expect("fewer than 4 billion paths");
        self.names.push_str(name);
        let name_end = u32::try_from(self.names.len()).expect("names under 4 GiB");
        self.nodes.push(Node {
            parent,
            name_end,
            first_child: NONE,
            next_sibling: NONE,
            linked: false,
        });
        let Self {
            names,
            nodes,
            children,
            hasher,
        } = self;
        let hash = hasher.hash_one((parent, name));
        children.insert_unique(hash, id, |&other| {
            let node = &nodes[other as usize];
            hasher.hash_one((node.parent, name_of(names, nodes, other)))
        });
        id
    }

    /// The node of an absolute normalised path, if every component was ever created.
    pub(crate) fn lookup(&self, path: &str) -> Option<u32> {
        path.split('/')
            .filter(|c| !c.is_empty())
            .try_fold(ROOT, |id, c| self.child(id, c))
    }

    /// The node of an absolute normalised path, creating missing components.
    pub(crate) fn intern_path(&mut self, path: &str) -> u32 {
        path.split('/')
            .filter(|c| !c.is_empty())
            .fold(ROOT, |id, c| self.intern(id, c))
    }

    /// Puts `id` into its parent's child list, unless it is there already.
    pub(crate) fn link(&mut self, id: u32) {
        let node = self.nodes[id as usize];
        if node.linked || node.parent == NONE {
            return;
        }
        let parent = node.parent as usize;
        self.nodes[id as usize].next_sibling = self.nodes[parent].first_child;
        self.nodes[id as usize].linked = true;
        self.nodes[parent].first_child = id;
    }

    /// Empties `id`'s child list and returns what was in it (each child unlinked).
    pub(crate) fn detach_children(&mut self, id: u32, out: &mut Vec<u32>) {
        let mut child = std::mem::replace(&mut self.nodes[id as usize].first_child, NONE);
        while child != NONE {
            let node = &mut self.nodes[child as usize];
            let next = std::mem::replace(&mut node.next_sibling, NONE);
            node.linked = false;
            out.push(child);
            child = next;
        }
    }

    /// The children in `id`'s list, without changing it.
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

    /// The absolute path of `id` (built from its ancestors).
    #[cfg(test)]
    pub(crate) fn path(&self, id: u32) -> String {
        let mut parts = Vec::new();
        let mut at = id;
        while at != ROOT && at != NONE {
            parts.push(self.name(at));
            at = self.parent(at);
        }
        if parts.is_empty() {
            return "/".to_owned();
        }
        let mut path = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for part in parts.iter().rev() {
            path.push('/');
            path.push_str(part);
        }
        path
    }
}

fn name_of<'a>(names: &'a str, nodes: &[Node], id: u32) -> &'a str {
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

    #[test]
    fn interns_each_component_once() {
        let mut t = NameTree::default();
        let a = t.intern_path("/usr/bin/env");
        let b = t.intern_path("/usr/bin/env");
        assert_eq!(a, b);
        assert_eq!(t.len(), 4);
        assert_eq!(t.path(a), "/usr/bin/env");
        assert_eq!(t.lookup("/usr/bin"), Some(t.parent(a)));
        assert_eq!(t.lookup("/usr/lib"), None);
        assert_eq!(t.path(ROOT), "/");
    }

    #[test]
    fn child_lists_link_once_and_detach() {
        let mut t = NameTree::default();
        let x = t.intern_path("/d/x");
        let y = t.intern_path("/d/y");
        t.link(x);
        t.link(x);
        t.link(y);
        let d = t.parent(x);
        assert_eq!(t.children(d).collect::<Vec<_>>(), [y, x]);
        let mut out = Vec::new();
        t.detach_children(d, &mut out);
        assert_eq!(out, [y, x]);
        assert_eq!(t.children(d).count(), 0);
    }
}
