//! The merged filesystem view of an image: the layers applied in order as an overlay runtime
//! applies them (whiteouts, opaque directories, hard links), holding metadata only. Lookups walk it the
//! way the kernel walks a container's root: symlinks in every component, absolute targets inside the
//! image root, `..` stopping at the root, loops cut off after 40 links as Linux does.

use std::{collections::HashMap, sync::Arc};

use serde::Serialize;

use crate::exec::{Captured, CapturedFile, ElfFacts};
use crate::layer::{LayerEntry, LayerEntryKind, LayerEntryRef, LayerIndex, join, parent_of};
use crate::name_tree::{NONE, NameTree, ROOT};

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

/// The merged view of all layers of an image.
///
/// The paths are a tree of names (each component stored once); per path the view keeps only which
/// layer wrote it and which layer entry holds its metadata, read from the layer indexes it keeps
/// (shared, not copied, with whoever else holds them). A directory a runtime created holds no entry.
#[derive(Debug, Clone, Default)]
pub struct MergedFs {
    tree: NameTree,
    /// Per node of `tree`.
    slots: Vec<Slot>,
    /// The layers, whose entries hold the metadata.
    layers: Vec<Arc<LayerIndex>>,
    /// Where each layer's entries end in the numbering [`Slot::meta`] uses.
    ends: Vec<u32>,
    /// The layer whose whiteout or opaque directory removed a node (never a present one).
    removed: HashMap<u32, usize>,
    present: usize,
    /// What the layers captured of the files that are still there (see [`crate::exec`]).
    captured: HashMap<String, Captured>,
    /// Bytes of the paths of the parent directories the layers did not list, made as runtimes
    /// make them: deep paths under many distinct tops would make this quadratic in the layer.
    implied_bytes: usize,
    /// The entry whose parents went past [`IMPLIED_PARENT_BYTES`], if one did.
    too_deep: Option<String>,
    /// [`IMPLIED_PARENT_BYTES`], smaller in tests.
    implied_budget: usize,
}

/// What the view holds at one node.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The layer that wrote it; `NONE`: nothing is there.
    layer: u32,
    /// The layer entry with its metadata (numbered across layers, see `bases`); `NONE`: a
    /// directory a runtime created (root-owned, 0755).
    meta: u32,
}

const EMPTY: Slot = Slot {
    layer: NONE,
    meta: NONE,
};

/// The most bytes of parent-directory paths the view makes for entries whose parents a layer does
/// not list. Real images list their directories (a 1,000,000-file image implies a few MB at most);
/// a hostile layer of deep paths under distinct tops is an error naming the entry instead.
pub const IMPLIED_PARENT_BYTES: usize = 64 << 20;

fn entry_kind(kind: LayerEntryKind) -> EntryKind {
    match kind {
        LayerEntryKind::File | LayerEntryKind::Hardlink => EntryKind::File,
        LayerEntryKind::Dir => EntryKind::Dir,
        LayerEntryKind::Symlink => EntryKind::Symlink,
        LayerEntryKind::CharDevice => EntryKind::CharDevice,
        LayerEntryKind::BlockDevice => EntryKind::BlockDevice,
        LayerEntryKind::Fifo => EntryKind::Fifo,
    }
}

impl MergedFs {
    /// Applies `layers` in order (index 0 first): each layer's whiteouts and opaque directories remove
    /// what the layers below had, then its entries are added. Hard links take their target's metadata;
    /// a hard link whose target does not exist is skipped (the layer index keeps it).
    pub fn from_layers(layers: Vec<LayerIndex>) -> MergedFs {
        MergedFs::from_shared_layers(layers.into_iter().map(Arc::new).collect())
    }

    /// [`MergedFs::from_layers`] for layer indexes others hold too: the view keeps them, it does
    /// not copy them.
    pub fn from_shared_layers(layers: Vec<Arc<LayerIndex>>) -> MergedFs {
        MergedFs::merge(layers, IMPLIED_PARENT_BYTES)
    }

    fn merge(layers: Vec<Arc<LayerIndex>>, implied_budget: usize) -> MergedFs {
        let mut fs = MergedFs {
            slots: vec![EMPTY],
            implied_budget,
            ..MergedFs::default()
        };
        let mut end = 0u32;
        for layer in &layers {
            end = u32::try_from(layer.entries.len())
                .ok()
                .and_then(|len| end.checked_add(len))
                .filter(|&e| e < NONE)
                .expect("fewer than 4 billion layer entries");
            fs.ends.push(end);
        }
        fs.layers = layers;
        for n in 0..fs.layers.len() {
            let layer = Arc::clone(&fs.layers[n]);
            fs.apply(
                u32::try_from(n).expect("fewer than 4 billion layers"),
                &layer,
            );
        }
        if fs.present == 0 {
            // What `add_parents("/x")` does for the root.
            fs.implied_bytes += 1;
            if fs.implied_bytes > fs.implied_budget {
                fs.too_deep.get_or_insert_with(|| "/x".to_owned());
            } else {
                fs.removed.remove(&ROOT);
                fs.slots[ROOT as usize] = Slot {
                    layer: 0,
                    meta: NONE,
                };
                fs.present += 1;
            }
        }
        fs.tree.shrink_to_fit();
        fs.slots.shrink_to_fit();
        fs
    }

    /// [`MergedFs::from_layers`] for images read from a source: an error, naming the entry, when
    /// the parents the layers imply take more than [`IMPLIED_PARENT_BYTES`].
    pub fn try_from_layers(layers: Vec<LayerIndex>) -> Result<MergedFs, crate::Error> {
        MergedFs::try_from_shared_layers(layers.into_iter().map(Arc::new).collect())
    }

    /// [`MergedFs::try_from_layers`] for layer indexes others hold too.
    pub fn try_from_shared_layers(layers: Vec<Arc<LayerIndex>>) -> Result<MergedFs, crate::Error> {
        let fs = MergedFs::from_shared_layers(layers);
        match &fs.too_deep {
            Some(entry) => Err(crate::Error::ImpliedParents {
                entry: crate::safe_text::value(entry),
                limit_mib: IMPLIED_PARENT_BYTES >> 20,
            }),
            None => Ok(fs),
        }
    }

    /// A builder for tests of code that reads a `MergedFs`.
    pub fn builder() -> MergedFsBuilder {
        MergedFsBuilder {
            layers: vec![BuilderLayer::default()],
        }
    }

    fn is_present(&self, id: u32) -> bool {
        self.slots.get(id as usize).is_some_and(|s| s.layer != NONE)
    }

    fn present_node(&self, path: &str) -> Option<u32> {
        self.tree.lookup(path).filter(|&id| self.is_present(id))
    }

    /// The layer entry numbered `meta` (see [`Slot::meta`]).
    fn layer_entry(&self, meta: u32) -> LayerEntryRef<'_> {
        let layer = self.ends.partition_point(|&e| e <= meta);
        self.layers[layer]
            .entries
            .meta((meta - self.base(layer)) as usize)
            .expect("a slot names an entry of its layer")
    }

    /// Where layer `n`'s entries start in the numbering [`Slot::meta`] uses.
    fn base(&self, n: usize) -> u32 {
        n.checked_sub(1).map_or(0, |p| self.ends[p])
    }

    /// The kind at a present node.
    fn kind_of(&self, id: u32) -> EntryKind {
        match self.slots[id as usize].meta {
            NONE => EntryKind::Dir,
            m => entry_kind(self.layer_entry(m).kind),
        }
    }

    /// The entry at a present node.
    fn entry_at(&self, id: u32) -> Entry {
        let slot = self.slots[id as usize];
        let layer = slot.layer as usize;
        if slot.meta == NONE {
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
        }
        let e = self.layer_entry(slot.meta);
        Entry {
            kind: entry_kind(e.kind),
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size: e.size,
            link_target: e.link_target.map(str::to_owned),
            first_line: e.first_line.map(<[u8]>::to_vec),
            layer,
        }
    }

    fn apply(&mut self, n: u32, layer: &LayerIndex) {
        let mut scratch = Vec::new();
        for dir in &layer.opaque_dirs {
            if let Some(id) = self.tree.lookup(dir) {
                self.remove_below(id, Some(n), &mut scratch);
            }
        }
        for path in &layer.whiteouts {
            if let Some(id) = self.tree.lookup(path) {
                self.remove_below(id, Some(n), &mut scratch);
                if self.is_present(id) {
                    self.slots[id as usize] = EMPTY;
                    self.present -= 1;
                    self.removed.insert(id, n as usize);
                }
            }
        }
        let mut captured: HashMap<&str, &Captured> = layer
            .captured
            .iter()
            .map(|c| (c.path.as_str(), &c.content))
            .collect();
        let base = self.base(n as usize);
        layer.entries.for_each(|i, path, entry| {
            let content = if captured.is_empty() {
                None
            } else {
                captured.remove(path).cloned()
            };
            self.add(n, path, entry, base + i as u32, &mut scratch);
            if let Some(c) = content {
                self.captured.insert(path.to_owned(), c);
            }
        });
    }

    /// Takes out everything below `id` (present or not, all leave their child lists); `by` is the
    /// layer whose whiteout or opaque directory did it, recorded for each present path. Without
    /// `by` (a non-directory replacing a directory), their captured files go too. Costs what it
    /// takes out: what it walks leaves the child lists.
    fn remove_below(&mut self, id: u32, by: Option<u32>, scratch: &mut Vec<u32>) {
        let mut stack = vec![id];
        let mut path = String::new();
        while let Some(dir) = stack.pop() {
            scratch.clear();
            self.tree.detach_children(dir, scratch);
            for &child in scratch.iter() {
                if self.is_present(child) {
                    self.slots[child as usize] = EMPTY;
                    self.present -= 1;
                    match by {
                        Some(n) => {
                            self.removed.insert(child, n as usize);
                        }
                        None if !self.captured.is_empty() => {
                            path.clear();
                            self.tree.path_into(child, &mut path);
                            self.captured.remove(&path);
                        }
                        None => {}
                    }
                }
                if self.tree.has_children(child) {
                    stack.push(child);
                }
            }
        }
    }

    fn add(
        &mut self,
        n: u32,
        path: &str,
        entry: LayerEntryRef<'_>,
        meta: u32,
        scratch: &mut Vec<u32>,
    ) {
        if !self.captured.is_empty() {
            self.captured.remove(path);
        }
        let (meta, kind) = match entry.kind {
            LayerEntryKind::Hardlink => {
                let target = entry.link_target.unwrap_or_default();
                let Some(t) = self.present_node(target) else {
                    return;
                };
                if let Some(c) = self.captured.get(target).cloned() {
                    self.captured.insert(path.to_owned(), c);
                }
                (self.slots[t as usize].meta, self.kind_of(t))
            }
            kind => (meta, entry_kind(kind)),
        };
        let id = self.tree.intern_path(path);
        if self.slots.len() < self.tree.len() {
            self.slots.resize(self.tree.len(), EMPTY);
        }
        // A non-directory replaces the whole tree at its path, as runtimes unpack it (they remove
        // the directory first), including what this layer put there: so each flip between
        // directory and file costs what it removes, never a rescan of a tree it keeps.
        if kind != EntryKind::Dir && self.is_present(id) && self.kind_of(id) == EntryKind::Dir {
            self.remove_below(id, None, scratch);
        }
        self.removed.remove(&id);
        if id != ROOT {
            self.add_parents(path, id, n);
        }
        if !self.is_present(id) {
            self.present += 1;
        }
        self.slots[id as usize] = Slot { layer: n, meta };
        self.tree.link(id);
    }

    /// Runtimes create missing parent directories (root-owned, 0755) when they unpack a layer.
    fn add_parents(&mut self, path: &str, id: u32, n: u32) {
        let mut p = parent_of(path);
        let mut node = self.tree.parent(id);
        loop {
            if self.is_present(node) {
                return;
            }
            self.implied_bytes += p.len();
            if self.implied_bytes > self.implied_budget {
                self.too_deep.get_or_insert_with(|| path.to_owned());
                return;
            }
            self.removed.remove(&node);
            self.slots[node as usize] = Slot {
                layer: n,
                meta: NONE,
            };
            self.present += 1;
            if node == ROOT {
                return;
            }
            p = parent_of(p);
            node = self.tree.parent(node);
        }
    }

    /// The entry at `path` itself (a symlink is returned, not followed), after normalising `.`, `..`
    /// and repeated slashes lexically. Relative paths are taken from the root.
    pub fn entry(&self, path: &str) -> Option<Entry> {
        self.present_node(&normalise(path))
            .map(|id| self.entry_at(id))
    }

    /// Every path and entry, in path order (byte order of the whole paths).
    pub fn iter(&self) -> Iter<'_> {
        let mut iter = Iter {
            fs: self,
            root: self.is_present(ROOT),
            stack: Vec::new(),
            path: String::new(),
        };
        iter.push_children(ROOT, 0);
        iter
    }

    /// How many paths the view holds.
    pub fn len(&self) -> usize {
        self.present
    }

    /// Whether the view holds nothing (not even `/`).
    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// What was captured of the file `path` resolves to (an ELF file's exec facts, a loader
    /// configuration file's bytes), if anything.
    pub fn captured(&self, path: &str) -> Option<&Captured> {
        let (real, _) = self.resolve_entry(path)?;
        self.captured.get(&real)
    }

    /// The exec facts of the ELF file `path` resolves to.
    pub fn elf(&self, path: &str) -> Option<&ElfFacts> {
        match self.captured(path)? {
            Captured::Elf(facts) => Some(facts),
            Captured::Config(_) => None,
        }
    }

    /// The paths of the captured configuration files (the loaders', the user database), in no order.
    pub fn captured_config_paths(&self) -> impl Iterator<Item = &str> {
        self.captured
            .iter()
            .filter(|(_, c)| matches!(c, Captured::Config(_)))
            .map(|(p, _)| p.as_str())
    }

    /// The layer whose whiteout or opaque directory removed `path`, when a lower layer had it and no
    /// later layer put it back.
    pub fn removed_by(&self, path: &str) -> Option<usize> {
        let id = self.tree.lookup(&normalise(path))?;
        self.removed.get(&id).copied()
    }

    /// Resolves `path` (relative paths from the root), following symlinks in every component.
    pub fn resolve(&self, path: &str) -> Resolution {
        let mut chain = Vec::new();
        let mut followed = 0;
        // Components still to walk, reversed so the next one is at the end.
        let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
        let mut current = String::from("/");
        // The node of `current`.
        let mut node = ROOT;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "." => continue,
                ".." => {
                    current = parent_of(&current).to_owned();
                    if node != ROOT {
                        node = self.tree.parent(node);
                    }
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
                    let meta = self.slots[id as usize].meta;
                    let target = self.layer_entry(meta).link_target.unwrap_or("");
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
    pub fn resolve_entry(&self, path: &str) -> Option<(String, Entry)> {
        match self.resolve(path).outcome {
            Resolved::Found { path } => {
                let entry = self.entry_at(self.present_node(&path)?);
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

/// The iterator of [`MergedFs::iter`]: every present path and its entry, in the byte order of the
/// whole paths (the order of a sorted map of paths), each directory's children sorted when it is
/// reached.
#[derive(Debug)]
pub struct Iter<'a> {
    fs: &'a MergedFs,
    /// Whether the root is still to be returned.
    root: bool,
    stack: Vec<Frame>,
    path: String,
}

#[derive(Debug)]
struct Frame {
    /// (node, whether this is its subtree rather than its own entry), in path order, reversed.
    events: Vec<(u32, bool)>,
    /// The length of the directory's path in `Iter::path` (0 for the root).
    base_len: usize,
}

impl Iter<'_> {
    /// Queues the children of `dir`, whose path is `path[..base_len]`. A child sorts by its name,
    /// its subtree by its name and a `/`: where a sorted map of whole paths puts them.
    fn push_children(&mut self, dir: u32, base_len: usize) {
        let fs = self.fs;
        let mut events = Vec::new();
        for child in fs.tree.children(dir) {
            if fs.is_present(child) {
                events.push((child, false));
            }
            if fs.tree.has_children(child) {
                events.push((child, true));
            }
        }
        let key = |&(id, subtree): &(u32, bool)| {
            let slash: &[u8] = if subtree { b"/" } else { b"" };
            fs.tree.name(id).as_bytes().iter().chain(slash)
        };
        events.sort_unstable_by(|a, b| key(b).cmp(key(a)));
        self.stack.push(Frame { events, base_len });
    }
}

impl Iterator for Iter<'_> {
    type Item = (String, Entry);

    fn next(&mut self) -> Option<Self::Item> {
        if std::mem::take(&mut self.root) {
            return Some(("/".to_owned(), self.fs.entry_at(ROOT)));
        }
        loop {
            let frame = self.stack.last_mut()?;
            let Some((id, subtree)) = frame.events.pop() else {
                self.stack.pop();
                continue;
            };
            let base_len = frame.base_len;
            self.path.truncate(base_len);
            self.path.push('/');
            self.path.push_str(self.fs.tree.name(id));
            if subtree {
                let len = self.path.len();
                self.push_children(id, len);
            } else {
                return Some((self.path.clone(), self.fs.entry_at(id)));
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
    layers: Vec<BuilderLayer>,
}

/// A layer being built: its entries stay editable until [`MergedFsBuilder::build`].
#[derive(Debug, Clone, Default)]
struct BuilderLayer {
    entries: Vec<LayerEntry>,
    whiteouts: Vec<String>,
    opaque_dirs: Vec<String>,
    captured: Vec<CapturedFile>,
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
        if crate::exec::is_captured_config(&normalise(path)) {
            return self.capture(path, Captured::Config(first_line.to_vec()));
        }
        self
    }

    /// An executable ELF file in the current layer with the exec facts its headers give.
    pub fn elf_file(mut self, path: &str, mode: u32, facts: ElfFacts) -> Self {
        self = self.file(path, mode, 0, 0, b"\x7fELF\x02\x01\x01\0");
        self.capture(path, Captured::Elf(facts))
    }

    fn capture(mut self, path: &str, content: Captured) -> Self {
        self.layers
            .last_mut()
            .expect("a layer")
            .captured
            .push(CapturedFile {
                path: normalise(path),
                content,
            });
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
        self.layers.push(BuilderLayer::default());
        self
    }

    /// A whiteout of `path` in layer `layer` (layers up to it are created as needed).
    pub fn whiteout(mut self, path: &str, layer: usize) -> Self {
        while self.layers.len() <= layer {
            self.layers.push(BuilderLayer::default());
        }
        self.layers[layer].whiteouts.push(normalise(path));
        self
    }

    /// An opaque directory marker for `dir` in layer `layer`.
    pub fn opaque(mut self, dir: &str, layer: usize) -> Self {
        while self.layers.len() <= layer {
            self.layers.push(BuilderLayer::default());
        }
        self.layers[layer].opaque_dirs.push(normalise(dir));
        self
    }

    /// The merged view.
    pub fn build(self) -> MergedFs {
        MergedFs::from_layers(
            self.layers
                .into_iter()
                .map(|l| LayerIndex {
                    entries: l.entries.into_iter().collect(),
                    whiteouts: l.whiteouts,
                    opaque_dirs: l.opaque_dirs,
                    captured: l.captured,
                    ..LayerIndex::default()
                })
                .collect(),
        )
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
    fn a_file_replacing_a_directory_removes_its_tree_in_the_same_layer_too() {
        let fs = MergedFs::builder()
            .dir("/d", 0o755)
            .file("/d/a", 0o644, 0, 0, b"")
            .file("/d", 0o644, 0, 0, b"")
            .dir("/d", 0o755)
            .build();
        // Unpacked in order, `/d/a` went with the directory the file replaced.
        assert!(fs.entry("/d/a").is_none());
        assert_eq!(fs.entry("/d").unwrap().kind, EntryKind::Dir);
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
}

/// The merge as it was with a sorted map of whole paths, to check the name tree against.
#[cfg(test)]
mod reference {
    use std::collections::{BTreeMap, HashMap};

    use super::{Entry, EntryKind, MAX_SYMLINKS, Resolution, Resolved, components, entry_kind};
    use crate::exec::Captured;
    use crate::layer::{LayerEntry, LayerEntryKind, LayerIndex, join, parent_of};

    #[derive(Default)]
    pub(super) struct Model {
        pub(super) entries: BTreeMap<String, Entry>,
        pub(super) removed: BTreeMap<String, usize>,
        pub(super) captured: HashMap<String, Captured>,
        implied_bytes: usize,
        pub(super) too_deep: Option<String>,
        budget: usize,
    }

    impl Model {
        pub(super) fn from_layers(layers: &[LayerIndex], budget: usize) -> Model {
            let mut fs = Model {
                budget,
                ..Model::default()
            };
            for (n, layer) in layers.iter().enumerate() {
                fs.apply(n, layer.clone());
            }
            if fs.entries.is_empty() {
                fs.add_parents("/x", 0);
            }
            fs
        }

        fn apply(&mut self, n: usize, layer: LayerIndex) {
            for dir in &layer.opaque_dirs {
                let below: Vec<String> = self
                    .descendants(dir)
                    .filter(|(_, e)| e.layer < n)
                    .map(|(p, _)| p.clone())
                    .collect();
                for path in below {
                    self.entries.remove(&path);
                    self.removed.insert(path, n);
                }
            }
            for path in &layer.whiteouts {
                let mut gone: Vec<String> = self
                    .descendants(path)
                    .filter(|(_, e)| e.layer < n)
                    .map(|(p, _)| p.clone())
                    .collect();
                if self.entries.get(path).is_some_and(|e| e.layer < n) {
                    gone.push(path.to_owned());
                }
                for p in gone {
                    self.entries.remove(&p);
                    self.removed.insert(p, n);
                }
            }
            let mut captured: HashMap<String, Captured> = layer
                .captured
                .into_iter()
                .map(|c| (c.path, c.content))
                .collect();
            for entry in layer.entries.iter() {
                let content = if captured.is_empty() {
                    None
                } else {
                    captured
                        .remove(&entry.path)
                        .map(|c| (entry.path.clone(), c))
                };
                self.add(n, entry);
                if let Some((path, c)) = content {
                    self.captured.insert(path, c);
                }
            }
        }

        fn add(&mut self, n: usize, entry: LayerEntry) {
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
            if !self.captured.is_empty() {
                self.captured.remove(&path);
            }
            let new = match kind {
                LayerEntryKind::Hardlink => {
                    let target = link_target.unwrap_or_default();
                    let Some(t) = self.entries.get(&target) else {
                        return;
                    };
                    if let Some(c) = self.captured.get(&target).cloned() {
                        self.captured.insert(path.clone(), c);
                    }
                    Entry {
                        layer: n,
                        ..t.clone()
                    }
                }
                _ => Entry {
                    kind: entry_kind(kind),
                    mode,
                    uid,
                    gid,
                    size,
                    link_target,
                    first_line,
                    layer: n,
                },
            };
            if new.kind != EntryKind::Dir
                && self
                    .entries
                    .get(&path)
                    .is_some_and(|e| e.kind == EntryKind::Dir)
            {
                let below: Vec<String> = self.descendants(&path).map(|(p, _)| p.clone()).collect();
                for p in below {
                    self.entries.remove(&p);
                    if !self.captured.is_empty() {
                        self.captured.remove(&p);
                    }
                }
            }
            self.removed.remove(&path);
            if path != "/" {
                self.add_parents(&path, n);
            }
            self.entries.insert(path, new);
        }

        fn add_parents(&mut self, path: &str, n: usize) {
            let mut p = parent_of(path);
            loop {
                if self.entries.contains_key(p) {
                    return;
                }
                self.implied_bytes += p.len();
                if self.implied_bytes > self.budget {
                    self.too_deep.get_or_insert_with(|| path.to_owned());
                    return;
                }
                self.removed.remove(p);
                self.entries.insert(
                    p.to_owned(),
                    Entry {
                        kind: EntryKind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                        size: 0,
                        link_target: None,
                        first_line: None,
                        layer: n,
                    },
                );
                if p == "/" {
                    return;
                }
                p = parent_of(p);
            }
        }

        pub(super) fn resolve(&self, path: &str) -> Resolution {
            let mut chain = Vec::new();
            let mut followed = 0;
            let mut pending: Vec<String> = components(path).rev().map(str::to_owned).collect();
            let mut current = String::from("/");
            while let Some(part) = pending.pop() {
                match part.as_str() {
                    "." => continue,
                    ".." => {
                        current = parent_of(&current).to_owned();
                        continue;
                    }
                    _ => {}
                }
                let candidate = join(&current, &part);
                let Some(entry) = self.entries.get(&candidate) else {
                    return Resolution {
                        chain,
                        outcome: Resolved::Missing { path: candidate },
                    };
                };
                match entry.kind {
                    EntryKind::Symlink => {
                        followed += 1;
                        if followed > MAX_SYMLINKS {
                            return Resolution {
                                chain,
                                outcome: Resolved::Loop,
                            };
                        }
                        chain.push(candidate);
                        let target = entry.link_target.as_deref().unwrap_or("");
                        if target.starts_with('/') {
                            current = "/".to_owned();
                        }
                        pending.extend(components(target).rev().map(str::to_owned));
                    }
                    EntryKind::Dir => current = candidate,
                    _ if !pending.is_empty() => {
                        return Resolution {
                            chain,
                            outcome: Resolved::NotADirectory { path: candidate },
                        };
                    }
                    _ => current = candidate,
                }
            }
            Resolution {
                chain,
                outcome: Resolved::Found { path: current },
            }
        }

        fn descendants<'a>(
            &'a self,
            dir: &str,
        ) -> impl Iterator<Item = (&'a String, &'a Entry)> + 'a {
            let prefix = if dir == "/" {
                "/".to_owned()
            } else {
                format!("{dir}/")
            };
            let start = prefix.clone();
            self.entries
                .range(start..)
                .take_while(move |(p, _)| p.starts_with(&prefix))
                .filter(|(p, _)| p.as_str() != "/")
        }
    }
}

#[cfg(test)]
mod differential {
    use std::sync::Arc;

    use super::reference::Model;
    use super::*;

    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// Short names that sort around `/` (`-` and `.` before it, `0` after it).
    const NAMES: [&str; 6] = ["a", "a-b", "a.so", "a0", "b", "é"];

    fn path(rng: &mut Rng) -> String {
        let depth = 1 + rng.below(3);
        (0..depth)
            .map(|_| format!("/{}", NAMES[rng.below(NAMES.len())]))
            .collect()
    }

    fn layer(rng: &mut Rng) -> LayerIndex {
        let mut index = LayerIndex::default();
        for _ in 0..rng.below(3) {
            let p = if rng.below(5) == 0 {
                "/".to_owned()
            } else {
                path(rng)
            };
            index.opaque_dirs.push(p);
        }
        for _ in 0..rng.below(4) {
            index.whiteouts.push(path(rng));
        }
        for _ in 0..rng.below(25) {
            let p = if rng.below(30) == 0 {
                "/".to_owned()
            } else {
                path(rng)
            };
            let kind = [
                LayerEntryKind::File,
                LayerEntryKind::Dir,
                LayerEntryKind::Dir,
                LayerEntryKind::Symlink,
                LayerEntryKind::Hardlink,
                LayerEntryKind::Fifo,
            ][rng.below(6)];
            let link_target = match kind {
                LayerEntryKind::Symlink => Some(["../a", "/b", "a.so/x", ""][rng.below(4)].into()),
                LayerEntryKind::Hardlink if rng.below(8) == 0 => {
                    Some(["", "/", "a", "/a/"][rng.below(4)].into())
                }
                LayerEntryKind::Hardlink => Some(path(rng)),
                _ => None,
            };
            if kind == LayerEntryKind::File && rng.below(3) == 0 {
                index.captured.push(CapturedFile {
                    path: p.clone(),
                    content: Captured::Config(vec![rng.below(9) as u8]),
                });
            }
            index.entries.push(LayerEntry {
                path: p,
                kind,
                mode: rng.below(0o10000) as u32,
                uid: [0, 1000, u64::from(u32::MAX), u64::MAX][rng.below(4)],
                gid: rng.below(3) as u64,
                size: rng.below(100) as u64,
                link_target,
                first_line: (rng.below(4) == 0).then(|| b"#!/bin/sh\n".to_vec()),
            });
        }
        index
    }

    fn check(layers: Vec<LayerIndex>, budget: usize, seed: u64) {
        let model = Model::from_layers(&layers, budget);
        let fs = MergedFs::merge(layers.into_iter().map(Arc::new).collect(), budget);
        let ours: Vec<(String, Entry)> = fs.iter().collect();
        let theirs: Vec<(String, Entry)> = model
            .entries
            .iter()
            .map(|(p, e)| (p.clone(), e.clone()))
            .collect();
        assert_eq!(ours, theirs, "seed {seed}");
        assert_eq!(fs.len(), model.entries.len(), "seed {seed}");
        assert_eq!(fs.too_deep, model.too_deep, "seed {seed}");
        let mut probes: Vec<String> = model.removed.keys().cloned().collect();
        probes.extend(model.entries.keys().cloned());
        probes.extend(["/a/../a.so".into(), "/nope".into(), "a".into()]);
        for p in model.entries.keys() {
            for tail in ["/a", "/../b/a-b", "/é/a0/"] {
                probes.push(format!("{p}{tail}"));
            }
        }
        for p in &probes {
            assert_eq!(fs.resolve(p), model.resolve(p), "seed {seed} {p}");
            assert_eq!(
                fs.removed_by(p),
                model.removed.get(&normalise(p)).copied(),
                "seed {seed} {p}"
            );
            assert_eq!(
                fs.entry(p).as_ref(),
                model.entries.get(&normalise(p)),
                "seed {seed} {p}"
            );
        }
        let mut configs: Vec<&str> = fs.captured_config_paths().collect();
        let mut expected: Vec<&str> = model
            .captured
            .iter()
            .filter(|(_, c)| matches!(c, Captured::Config(_)))
            .map(|(p, _)| p.as_str())
            .collect();
        configs.sort_unstable();
        expected.sort_unstable();
        assert_eq!(configs, expected, "seed {seed}");
    }

    #[test]
    fn merges_as_the_sorted_map_of_paths_did() {
        for seed in 1..3000u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let layers: Vec<LayerIndex> = (0..1 + rng.below(4)).map(|_| layer(&mut rng)).collect();
            check(layers, usize::MAX, seed);
        }
    }

    #[test]
    fn runs_out_of_implied_parents_where_the_sorted_map_did() {
        for seed in 1..1500u64 {
            let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
            let layers: Vec<LayerIndex> = (0..1 + rng.below(3)).map(|_| layer(&mut rng)).collect();
            let budget = rng.below(40);
            check(layers, budget, seed);
        }
    }
}
