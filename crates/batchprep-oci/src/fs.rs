//! The merged filesystem view of an image: the layers applied in order as an overlay runtime
//! applies them (whiteouts, opaque directories, hard links), holding metadata only. Lookups walk it the
//! way the kernel walks a container's root: symlinks in every component, absolute targets inside the
//! image root, `..` stopping at the root, loops cut off after 40 links as Linux does.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::exec::{Captured, CapturedFile, ElfFacts};
use crate::layer::{LayerEntry, LayerEntryKind, LayerIndex, join, parent_of};

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
#[derive(Debug, Clone, Default)]
pub struct MergedFs {
    entries: BTreeMap<String, Entry>,
    removed: BTreeMap<String, usize>,
    /// What the layers captured of the files that are still there (see [`crate::exec`]).
    captured: HashMap<String, Captured>,
    /// Bytes of the paths of the parent directories the layers did not list, made as runtimes
    /// make them: deep paths under many distinct tops would make this quadratic in the layer.
    implied_bytes: usize,
    /// The entry whose parents went past [`IMPLIED_PARENT_BYTES`], if one did.
    too_deep: Option<String>,
}

/// The most bytes of parent-directory paths the view makes for entries whose parents a layer does
/// not list. Real images list their directories (a 1,000,000-file image implies a few MB at most);
/// a hostile layer of deep paths under distinct tops is an error naming the entry instead.
pub const IMPLIED_PARENT_BYTES: usize = 64 << 20;

impl MergedFs {
    /// Applies `layers` in order (index 0 first): each layer's whiteouts and opaque directories remove
    /// what the layers below had, then its entries are added. Hard links take their target's metadata;
    /// a hard link whose target does not exist is skipped (the layer index keeps it).
    pub fn from_layers(layers: Vec<LayerIndex>) -> MergedFs {
        let mut fs = MergedFs::default();
        for (n, layer) in layers.into_iter().enumerate() {
            fs.apply(n, layer);
        }
        if fs.entries.is_empty() {
            fs.add_parents("/x", 0);
        }
        fs
    }

    /// [`MergedFs::from_layers`] for images read from a source: an error, naming the entry, when
    /// the parents the layers imply take more than [`IMPLIED_PARENT_BYTES`].
    pub fn try_from_layers(layers: Vec<LayerIndex>) -> Result<MergedFs, crate::Error> {
        let fs = MergedFs::from_layers(layers);
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
            layers: vec![LayerIndex::default()],
        }
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
            self.remove_tree(path, n);
        }
        let mut captured: HashMap<String, Captured> = layer
            .captured
            .into_iter()
            .map(|c| (c.path, c.content))
            .collect();
        for entry in layer.entries {
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

    fn remove_tree(&mut self, path: &str, n: usize) {
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
                kind: match kind {
                    LayerEntryKind::File | LayerEntryKind::Hardlink => EntryKind::File,
                    LayerEntryKind::Dir => EntryKind::Dir,
                    LayerEntryKind::Symlink => EntryKind::Symlink,
                    LayerEntryKind::CharDevice => EntryKind::CharDevice,
                    LayerEntryKind::BlockDevice => EntryKind::BlockDevice,
                    LayerEntryKind::Fifo => EntryKind::Fifo,
                },
                mode,
                uid,
                gid,
                size,
                link_target,
                first_line,
                layer: n,
            },
        };
        // A non-directory replaces the whole tree at its path, as runtimes unpack it (they remove
        // the directory first), including what this layer put there: so each flip between
        // directory and file costs what it removes, never a rescan of a tree it keeps.
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

    /// Runtimes create missing parent directories (root-owned, 0755) when they unpack a layer.
    fn add_parents(&mut self, path: &str, n: usize) {
        let mut p = parent_of(path);
        loop {
            if self.entries.contains_key(p) {
                return;
            }
            self.implied_bytes += p.len();
            if self.implied_bytes > IMPLIED_PARENT_BYTES {
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

    fn descendants<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a String, &'a Entry)> + 'a {
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

    /// The entry at `path` itself (a symlink is returned, not followed), after normalising `.`, `..`
    /// and repeated slashes lexically. Relative paths are taken from the root.
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.get(&normalise(path))
    }

    /// Every path and entry, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(p, e)| (p.as_str(), e))
    }

    /// How many paths the view holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the view holds nothing (not even `/`).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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

    /// The paths of the captured loader configuration files, in no order.
    pub fn captured_config_paths(&self) -> impl Iterator<Item = &str> {
        self.captured
            .iter()
            .filter(|(_, c)| matches!(c, Captured::Config(_)))
            .map(|(p, _)| p.as_str())
    }

    /// The layer whose whiteout or opaque directory removed `path`, when a lower layer had it and no
    /// later layer put it back.
    pub fn removed_by(&self, path: &str) -> Option<usize> {
        self.removed.get(&normalise(path)).copied()
    }

    /// Resolves `path` (relative paths from the root), following symlinks in every component.
    pub fn resolve(&self, path: &str) -> Resolution {
        let mut chain = Vec::new();
        let mut followed = 0;
        // Components still to walk, reversed so the next one is at the end.
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

    /// The real entry `path` resolves to, if it exists.
    pub fn resolve_entry(&self, path: &str) -> Option<(String, &Entry)> {
        match self.resolve(path).outcome {
            Resolved::Found { path } => {
                let entry = self.entries.get(&path)?;
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
        if crate::exec::is_loader_config(&normalise(path)) {
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
