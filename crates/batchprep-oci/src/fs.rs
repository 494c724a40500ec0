//! The merged filesystem view of an image: the layers applied in order as an overlay runtime
//! applies them (whiteouts, opaque directories, hard links), holding metadata only. Lookups walk it the
//! way the kernel walks a container's root: symlinks in every component, absolute targets inside the
//! image root, `..` stopping at the root, loops cut off after 40 links as Linux does.

use std::sync::OnceLock;

use serde::Serialize;

use crate::{
    layer::{LayerEntry, LayerEntryKind, LayerIndex, join, parent_of},
    name_tree::{NONE, NameTree, ROOT},
};

/// How many symlinks one lookup may follow (Linux `MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;

/// The type of a file in the merged view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A regular file (hard links included).
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
}

impl EntryKind {
    /// The word `inspect` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "dir",
            EntryKind::Symlink => "symlink",
            EntryKind::CharDevice => "char-device",
            EntryKind::BlockDevice => "block-device",
            EntryKind::Fifo => "fifo",
        }
    }
}

/// One path's metadata in the merged view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What it is.
    pub kind: EntryKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Size in bytes (regular files; 0 otherwise).
    pub size: u64,
    /// A symlink's target as stored.
    pub link_target: Option<String>,
    /// Executable regular files: up to the first `\n` inclusive, at most 256 bytes.
    pub first_line: Option<Vec<u8>>,
    /// Index of the layer that wrote it (0 = the base layer).
    pub layer: usize,
}

impl Entry {
    /// Whether any execute bit is set on a regular file.
    pub fn is_executable_file(&self) -> bool {
        self.kind == EntryKind::File && self.mode & 0o111 != 0
    }
}

/// The outcome of resolving a path through its symlinks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The symlinks followed, in order (absolute paths of the links themselves).
    pub chain: Vec<String>,
    /// Where the walk ended.
    pub outcome: Resolved,
}

/// Where a lookup ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The path exists; `path` is its real location (no symlink in it).
    Found {
        /// The real path.
        path: String,
    },
    /// Nothing at `path` (the walk's real path up to and including the missing component).
    Missing {
        /// The real path that does not exist.
        path: String,
    },
    /// A component that must be a directory is not.
    NotADirectory {
        /// The real path of that component.
        path: String,
    },
    /// More than [`MAX_SYMLINKS`] symlinks: a loop.
    Loop,
}

/// What the view keeps of one path: only what the rules and `inspect` read, in 24 bytes; the
/// rarer strings live in [`Extra`].
#[derive(Debug, Clone, Copy)]
struct Meta {
    kind: EntryKind,
    mode: u16,
    /// `u32::MAX`: the id is in the extra record.
    uid: u32,
    gid: u32,
    size: u64,
    /// Index into `extras`, or `NONE`.
    extra: u32,
}

/// A link target, a first line or ids too large for [`Meta`].
#[derive(Debug, Clone, Default)]
struct Extra {
    link_target: Option<String>,
    first_line: Option<Vec<u8>>,
    uid: u64,
    gid: u64,
}

/// Per-node state of the view beside the name tree.
#[derive(Debug, Clone, Copy)]
struct Slot {
    present: bool,
    /// Index into `metas`, or `NONE` for a directory a runtime created (root-owned, 0755).
    meta: u32,
    /// The layer that wrote it.
    layer: u32,
    /// The layer whose whiteout or opaque directory removed it, or `NONE`.
    removed: u32,
}

/// What a directory a runtime created looks like.
static IMPLICIT_DIR: Entry = Entry {
    kind: EntryKind::Dir,
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    link_target: None,
    first_line: None,
    layer: 0,
};

const EMPTY_SLOT: Slot = Slot {
    present: false,
    meta: NONE,
    layer: 0,
    removed: NONE,
};

/// The merged view of all layers of an image.
#[derive(Debug, Default)]
pub struct MergedFs {
    tree: NameTree,
    slots: Vec<Slot>,
    metas: Vec<Meta>,
    extras: Vec<Extra>,
    present: usize,
    /// Entries built on first use, so memory grows with what is asked, not with the image.
    entries: Vec<OnceLock<Box<Entry>>>,
}

impl Clone for MergedFs {
    fn clone(&self) -> Self {
        MergedFs {
            tree: self.tree.clone(),
            slots: self.slots.clone(),
            metas: self.metas.clone(),
            extras: self.extras.clone(),
            present: self.present,
            entries: (0..self.entries.len()).map(|_| OnceLock::new()).collect(),
        }
    }
}

impl MergedFs {
    /// Applies `layers` in order (index 0 first): each layer's whiteouts and opaque directories remove
    /// what the layers below had, then its entries are added. Hard links take their target's metadata;
    /// a hard link whose target does not exist is skipped (the layer index keeps it).
    pub fn from_layers(layers: Vec<LayerIndex>) -> MergedFs {
        let mut fs = MergedFs {
            slots: vec![EMPTY_SLOT],
            ..MergedFs::default()
        };
        for (n, layer) in layers.into_iter().enumerate() {
            fs.apply(u32::try_from(n).unwrap_or(NONE - 1), layer);
        }
        if !fs.slots[ROOT as usize].present {
            fs.make_implicit_dir(ROOT, 0);
        }
        fs.entries = (0..fs.slots.len()).map(|_| OnceLock::new()).collect();
        fs
    }

    /// A builder for tests of code that reads a `MergedFs`.
    pub fn builder() -> MergedFsBuilder {
        MergedFsBuilder {
            layers: vec![LayerIndex::default()],
        }
    }

    fn node(&mut self, path: &str) -> u32 {
        let id = self.tree.intern_path(path);
        if self.slots.len() < self.tree.len() {
            self.slots.resize(self.tree.len(), EMPTY_SLOT);
        }
        id
    }

    fn apply(&mut self, n: u32, layer: LayerIndex) {
        let mut scratch = Vec::new();
        for dir in &layer.opaque_dirs {
            if let Some(id) = self.tree.lookup(dir) {
                self.remove_below(id, Some(n), &mut scratch);
            }
        }
        for path in &layer.whiteouts {
            if let Some(id) = self.tree.lookup(path) {
                self.remove_below(id, Some(n), &mut scratch);
                let slot = &mut self.slots[id as usize];
                if slot.present {
                    slot.present = false;
                    slot.removed = n;
                    self.present -= 1;
                }
            }
        }
        for entry in layer.entries {
            self.add(n, entry, &mut scratch);
        }
    }

    /// Removes everything below `id`; `removed_by` records layer `by` for each path when given.
    /// Costs what it removes: the child lists it walks are emptied on the way.
    fn remove_below(&mut self, id: u32, by: Option<u32>, scratch: &mut Vec<u32>) {
        let mut stack = vec![id];
        while let Some(dir) = stack.pop() {
            scratch.clear();
            self.tree.detach_children(dir, scratch);
            for &child in scratch.iter() {
                let slot = &mut self.slots[child as usize];
                // A child that is not present was removed earlier and has no children left.
                if slot.present {
                    slot.present = false;
                    if let Some(n) = by {
                        slot.removed = n;
                    }
                    self.present -= 1;
                    stack.push(child);
                }
            }
        }
    }

    fn kind_of(&self, id: u32) -> EntryKind {
        match self.slots[id as usize].meta {
            NONE => EntryKind::Dir,
            m => self.metas[m as usize].kind,
        }
    }

    fn add(&mut self, n: u32, entry: LayerEntry, scratch: &mut Vec<u32>) {
        let LayerEntry {
            path,
            kind,
            mode,
            uid,
            gid,
            size,
            link_target,
            first_line,
        } = entry;
        // `None`: a directory the runtime made; otherwise the metadata to store.
        let new: Option<Meta> = match kind {
            LayerEntryKind::Hardlink => {
                let target = link_target
                    .as_deref()
                    .filter(|t| t.starts_with('/'))
                    .and_then(|t| self.tree.lookup(t))
                    .filter(|&t| self.slots.get(t as usize).is_some_and(|s| s.present));
                let Some(t) = target else {
                    return;
                };
                match self.slots[t as usize].meta {
                    NONE => None,
                    m => Some(self.metas[m as usize]),
                }
            }
            _ => {
                let kind = match kind {
                    LayerEntryKind::File | LayerEntryKind::Hardlink => EntryKind::File,
                    LayerEntryKind::Dir => EntryKind::Dir,
                    LayerEntryKind::Symlink => EntryKind::Symlink,
                    LayerEntryKind::CharDevice => EntryKind::CharDevice,
                    LayerEntryKind::BlockDevice => EntryKind::BlockDevice,
                    LayerEntryKind::Fifo => EntryKind::Fifo,
                };
                let small = |id: u64| u32::try_from(id).ok().filter(|&i| i != u32::MAX);
                let (small_uid, small_gid) = (small(uid), small(gid));
                let extra = if link_target.is_some()
                    || first_line.is_some()
                    || small_uid.is_none()
                    || small_gid.is_none()
                {
                    self.extras.push(Extra {
                        link_target,
                        first_line,
                        uid,
                        gid,
                    });
                    u32::try_from(self.extras.len() - 1).unwrap_or(NONE)
                } else {
                    NONE
                };
                Some(Meta {
                    kind,
                    mode: (mode & 0o7777) as u16,
                    uid: small_uid.unwrap_or(u32::MAX),
                    gid: small_gid.unwrap_or(u32::MAX),
                    size,
                    extra,
                })
            }
        };
        let id = self.node(&path);
        let is_dir = new.is_none_or(|m| m.kind == EntryKind::Dir);
        // A non-directory replaces the whole tree at its path, as a runtime's unpacker does.
        if !is_dir && self.slots[id as usize].present && self.kind_of(id) == EntryKind::Dir {
            self.remove_below(id, None, scratch);
        }
        if id != ROOT {
            self.add_parents(id, n);
        }
        let slot = self.slots[id as usize];
        let meta = match (new, slot.meta) {
            (None, _) => NONE,
            (Some(m), NONE) => {
                self.metas.push(m);
                u32::try_from(self.metas.len() - 1).unwrap_or(NONE)
            }
            (Some(m), old) => {
                self.metas[old as usize] = m;
                old
            }
        };
        if !slot.present {
            self.present += 1;
        }
        self.slots[id as usize] = Slot {
            present: true,
            meta,
            layer: n,
            removed: NONE,
        };
        self.tree.link(id);
    }

    fn make_implicit_dir(&mut self, id: u32, n: u32) {
        if !self.slots[id as usize].present {
            self.present += 1;
        }
        self.slots[id as usize] = Slot {
            present: true,
            meta: NONE,
            layer: n,
            removed: NONE,
        };
        self.tree.link(id);
    }

    /// Runtimes create missing parent directories (root-owned, 0755) when they unpack a layer.
    fn add_parents(&mut self, id: u32, n: u32) {
        let mut p = self.tree.parent(id);
        while p != NONE && !self.slots[p as usize].present {
            self.make_implicit_dir(p, n);
            p = self.tree.parent(p);
        }
    }

    fn present_node(&self, path: &str) -> Option<u32> {
        self.tree.lookup(path).filter(|&id| self.is_present(id))
    }

    fn is_present(&self, id: u32) -> bool {
        self.slots.get(id as usize).is_some_and(|s| s.present)
    }

    fn build_entry(&self, id: u32) -> Entry {
        let slot = self.slots[id as usize];
        let layer = slot.layer as usize;
        let Some(meta) = (slot.meta != NONE).then(|| self.metas[slot.meta as usize]) else {
            return Entry {
                kind: EntryKind::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                size: 0,
                link_target: None,
                first_line: None,
                layer,
            };
        };
        let extra = (meta.extra != NONE).then(|| &self.extras[meta.extra as usize]);
        Entry {
            kind: meta.kind,
            mode: u32::from(meta.mode),
            uid: extra.map_or(u64::from(meta.uid), |e| e.uid),
            gid: extra.map_or(u64::from(meta.gid), |e| e.gid),
            size: meta.size,
            link_target: extra.and_then(|e| e.link_target.clone()),
            first_line: extra.and_then(|e| e.first_line.clone()),
            layer,
        }
    }

    fn entry_of(&self, id: u32) -> &Entry {
        match self.entries.get(id as usize) {
            Some(cell) => cell.get_or_init(|| Box::new(self.build_entry(id))),
            // Only a view not made by `from_layers` lacks the cells, and it has no entries.
            None => &IMPLICIT_DIR,
        }
    }

    /// The entry at `path` itself (a symlink is returned, not followed), after normalising `.`, `..`
    /// and repeated slashes lexically. Relative paths are taken from the root.
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.present_node(&normalise(path))
            .map(|id| self.entry_of(id))
    }

    /// Every path and entry, in path order. Entries are built as they are visited, not kept.
    pub fn iter(&self) -> Iter<'_> {
        let mut stack = Vec::new();
        if self.slots.first().is_some_and(|s| s.present) {
            stack.push(Frame {
                events: vec![(ROOT, false), (ROOT, true)],
                pos: 0,
                base_len: 0,
            });
        }
        Iter {
            fs: self,
            stack,
            path: String::new(),
        }
    }

    /// The present children of `id` in path order: each child's own entry sorts by its name, its
    /// subtree by its name and a `/`, which is where a sorted map of full paths puts them.
    fn sorted_events(&self, id: u32) -> Vec<(u32, bool)> {
        let mut events = Vec::new();
        for child in self.tree.children(id) {
            if !self.slots[child as usize].present {
                continue;
            }
            events.push((child, false));
            if self
                .tree
                .children(child)
                .any(|c| self.slots[c as usize].present)
            {
                events.push((child, true));
            }
        }
        events.sort_unstable_by(|&(a, sa), &(b, sb)| {
            let key = |id: u32, subtree: bool| {
                let slash: &[u8] = if subtree { b"/" } else { b"" };
                self.tree.name(id).as_bytes().iter().chain(slash)
            };
            key(a, sa).cmp(key(b, sb))
        });
        events
    }

    /// How many paths the view holds.
    pub fn len(&self) -> usize {
        self.present
    }

    /// Whether the view holds nothing (not even `/`).
    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// The layer whose whiteout or opaque directory removed `path`, when a lower layer had it and no
    /// later layer put it back.
    pub fn removed_by(&self, path: &str) -> Option<usize> {
        let id = self.tree.lookup(&normalise(path))?;
        let slot = *self.slots.get(id as usize)?;
        (!slot.present && slot.removed != NONE).then_some(slot.removed as usize)
    }

    /// Resolves `path` (relative paths from the root), following symlinks in every component.
    pub fn resolve(&self, path: &str) -> Resolution {
        let mut chain = Vec::new();
        let mut followed = 0;
        // Components still to walk, reversed so the next one is at the end.
        let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
        let mut current = String::from("/");
        let mut node = ROOT;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    current = parent_of(&current).to_owned();
                    node = match self.tree.parent(node) {
                        NONE => ROOT,
                        p => p,
                    };
                    continue;
                }
                _ => {}
            }
            let candidate = join(&current, &part);
            let Some(id) = self
                .tree
                .child(node, &part)
                .filter(|&id| self.is_present(id))
            else {
                return Resolution {
                    chain,
                    outcome: Resolved::Missing { path: candidate },
                };
            };
            match self.kind_of(id) {
                EntryKind::Symlink => {
                    followed += 1;
                    if followed > MAX_SYMLINKS {
                        return Resolution {
                            chain,
                            outcome: Resolved::Loop,
                        };
                    }
                    chain.push(candidate);
                    let entry = self.entry_of(id);
                    let target = entry.link_target.as_deref().unwrap_or("");
                    if target.starts_with('/') {
                        current = "/".to_owned();
                        node = ROOT;
                    }
                    pending.extend(components(target).rev().map(str::to_owned));
                }
                EntryKind::Dir => {
                    current = candidate;
                    node = id;
                }
                _ if !pending.is_empty() => {
                    return Resolution {
                        chain,
                        outcome: Resolved::NotADirectory { path: candidate },
                    };
                }
                _ => {
                    current = candidate;
                    node = id;
                }
            }
        }
        Resolution {
            chain,
            outcome: Resolved::Found { path: current },
        }
    }

    /// The real entry `path` resolves to, if it exists.
    pub fn resolve_entry(&self, path: &str) -> Option<(String, &Entry)> {
        match self.resolve(path).outcome {
            Resolved::Found { path } => {
                let entry = self.entry(&path)?;
                Some((path, entry))
            }
            _ => None,
        }
    }

    /// What an `execve`-style `PATH` search finds for `name`: the first `DIR/name` on `path_var` that
    /// resolves to a regular file with any execute bit. Returns that `DIR/name` as written on the PATH.
    /// A name with a `/` is not searched: an absolute one is returned when it is such a file.
    pub fn which(&self, name: &str, path_var: &str) -> Option<String> {
        let runnable = |p: &str| {
            self.resolve_entry(p)
                .is_some_and(|(_, e)| e.is_executable_file())
        };
        if name.is_empty() {
            return None;
        }
        if name.contains('/') {
            return (name.starts_with('/') && runnable(name)).then(|| name.to_owned());
        }
        path_var
            .split(':')
            // An empty PATH entry means the working directory, which is not in the image.
            .filter(|dir| dir.starts_with('/'))
            .map(|dir| join(&normalise(dir), name))
            .find(|candidate| runnable(candidate))
    }
}

/// The iterator of [`MergedFs::iter`].
#[derive(Debug)]
pub struct Iter<'a> {
    fs: &'a MergedFs,
    stack: Vec<Frame>,
    path: String,
}

#[derive(Debug)]
struct Frame {
    /// (node, whether this is its subtree rather than its own entry), in path order.
    events: Vec<(u32, bool)>,
    pos: usize,
    /// The length of the parent's path in `Iter::path` (0 for the root's children).
    base_len: usize,
}

impl Iterator for Iter<'_> {
    type Item = (String, Entry);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let frame = self.stack.last_mut()?;
            let Some(&(id, subtree)) = frame.events.get(frame.pos) else {
                self.stack.pop();
                continue;
            };
            frame.pos += 1;
            self.path.truncate(frame.base_len);
            if id != ROOT {
                self.path.push('/');
                self.path.push_str(self.fs.tree.name(id));
            }
            if subtree {
                let events = self.fs.sorted_events(id);
                self.stack.push(Frame {
                    events,
                    pos: 0,
                    base_len: self.path.len(),
                });
            } else {
                let path = if id == ROOT {
                    "/".to_owned()
                } else {
                    self.path.clone()
                };
                return Some((path, self.fs.build_entry(id)));
            }
        }
    }
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|p| !p.is_empty())
}

/// Lexical normalisation: absolute, no `.`, `..` clamped at the root, no repeated or trailing `/`.
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in components(path) {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Builds a [`MergedFs`] layer by layer without any image, for tests of code that reads one.
#[derive(Debug, Clone)]
pub struct MergedFsBuilder {
    layers: Vec<LayerIndex>,
}

impl MergedFsBuilder {
    fn push(mut self, path: &str, kind: LayerEntryKind, mode: u32) -> Self {
        let entry = LayerEntry {
            path: normalise(path),
            kind,
            mode,
            uid: 0,
            gid: 0,
            size: 0,
            link_target: None,
            first_line: None,
        };
        self.layers.last_mut().expect("a layer").entries.push(entry);
        self
    }

    /// A regular file in the current layer; `first_line` is what an executable starts with.
    pub fn file(mut self, path: &str, mode: u32, uid: u64, gid: u64, first_line: &[u8]) -> Self {
        self = self.push(path, LayerEntryKind::File, mode);
        let e = self.last();
        e.uid = uid;
        e.gid = gid;
        e.size = first_line.len() as u64;
        e.first_line = (mode & 0o111 != 0).then(|| first_line.to_vec());
        self
    }

    /// A directory (root-owned) in the current layer.
    pub fn dir(self, path: &str, mode: u32) -> Self {
        self.push(path, LayerEntryKind::Dir, mode)
    }

    /// A symlink (mode 0777, root-owned) in the current layer.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self = self.push(path, LayerEntryKind::Symlink, 0o777);
        self.last().link_target = Some(target.to_owned());
        self
    }

    /// A hard link in the current layer to `target`, an earlier path.
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self = self.push(path, LayerEntryKind::Hardlink, 0);
        self.last().link_target = Some(normalise(target));
        self
    }

    /// Starts a new layer above the ones so far.
    pub fn layer(mut self) -> Self {
        self.layers.push(LayerIndex::default());
        self
    }

    /// A whiteout of `path` in layer `layer` (layers up to it are created as needed).
    pub fn whiteout(mut self, path: &str, layer: usize) -> Self {
        while self.layers.len() <= layer {
            self.layers.push(LayerIndex::default());
        }
        self.layers[layer].whiteouts.push(normalise(path));
        self
    }

    /// An opaque directory marker for `dir` in layer `layer`.
    pub fn opaque(mut self, dir: &str, layer: usize) -> Self {
        while self.layers.len() <= layer {
            self.layers.push(LayerIndex::default());
        }
        self.layers[layer].opaque_dirs.push(normalise(dir));
        self
    }

    /// The merged view.
    pub fn build(self) -> MergedFs {
        MergedFs::from_layers(self.layers)
    }

    fn last(&mut self) -> &mut LayerEntry {
        self.layers
            .last_mut()
            .and_then(|l| l.entries.last_mut())
            .expect("an entry was just pushed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usrmerged() -> MergedFsBuilder {
        MergedFs::builder()
            .dir("/usr/bin", 0o755)
            .symlink("/bin", "usr/bin")
            .file("/usr/bin/dash", 0o755, 0, 0, b"\x7fELF")
            .symlink("/usr/bin/sh", "dash")
    }

    #[test]
    fn resolves_through_every_component() {
        let fs = usrmerged().build();
        assert_eq!(
            fs.resolve("/bin/sh"),
            Resolution {
                chain: vec!["/bin".into(), "/usr/bin/sh".into()],
                outcome: Resolved::Found {
                    path: "/usr/bin/dash".into()
                }
            }
        );
        assert_eq!(
            fs.which("sh", "/usr/local/bin:/bin"),
            Some("/bin/sh".into())
        );
        assert_eq!(fs.entry("/bin/../bin/./").unwrap().kind, EntryKind::Symlink);
        assert_eq!(
            fs.resolve("/bin/sh/x").outcome,
            Resolved::NotADirectory {
                path: "/usr/bin/dash".into()
            }
        );
        assert_eq!(
            fs.resolve("/bin/nope").outcome,
            Resolved::Missing {
                path: "/usr/bin/nope".into()
            }
        );
    }

    #[test]
    fn absolute_and_dotdot_targets_stay_inside_the_root() {
        let fs = usrmerged()
            .symlink("/escape", "../../../../usr/bin/dash")
            .symlink("/abs", "/usr/bin/sh")
            .build();
        for p in ["/escape", "/abs"] {
            assert_eq!(
                fs.resolve(p).outcome,
                Resolved::Found {
                    path: "/usr/bin/dash".into()
                }
            );
        }
    }

    #[test]
    fn loops_are_cut_off() {
        let fs = MergedFs::builder()
            .symlink("/a", "b")
            .symlink("/b", "/a")
            .build();
        let r = fs.resolve("/a");
        assert_eq!(r.outcome, Resolved::Loop);
        assert_eq!(r.chain.len(), MAX_SYMLINKS);
        assert_eq!(fs.which("a", "/"), None);
    }

    #[test]
    fn whiteouts_and_opaque_dirs_remove_lower_layers_only() {
        let fs = MergedFs::builder()
            .file("/app/run.sh", 0o755, 0, 0, b"#!/bin/sh\n")
            .file("/etc/a", 0o644, 0, 0, b"")
            .layer()
            .file("/etc/b", 0o644, 0, 0, b"")
            .whiteout("/app/run.sh", 1)
            .opaque("/etc", 1)
            .build();
        assert_eq!(fs.entry("/app/run.sh"), None);
        assert_eq!(fs.removed_by("/app/run.sh"), Some(1));
        assert_eq!(fs.removed_by("/etc/a"), Some(1));
        assert!(fs.entry("/etc/b").is_some());
        assert_eq!(fs.entry("/app").unwrap().kind, EntryKind::Dir);
        assert_eq!(fs.which("run.sh", "/app"), None);
    }

    #[test]
    fn hardlinks_take_their_targets_metadata() {
        let fs = MergedFs::builder()
            .file("/bin/busybox", 0o4755, 0, 0, b"\x7fELF")
            .layer()
            .hardlink("/bin/ls", "/bin/busybox")
            .build();
        let ls = fs.entry("/bin/ls").unwrap();
        assert_eq!((ls.kind, ls.mode, ls.layer), (EntryKind::File, 0o4755, 1));
    }

    #[test]
    fn iterates_in_the_order_of_sorted_full_paths() {
        let fs = MergedFs::builder()
            .file("/a/x", 0o644, 0, 0, b"")
            .file("/a-b", 0o644, 0, 0, b"")
            .file("/a.so", 0o644, 0, 0, b"")
            .file("/b", 0o644, 0, 0, b"")
            .build();
        let mut expected = vec!["/", "/a", "/a/x", "/a-b", "/a.so", "/b"];
        expected.sort_unstable();
        let paths: Vec<String> = fs.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, expected);
        assert_eq!(fs.len(), 6);
    }
}
