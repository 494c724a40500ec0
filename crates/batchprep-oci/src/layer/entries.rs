//! A layer's entries in compact form: paths front-coded against the previous entry (tar lists a
//! directory's files together, so most of a path is shared with the one before), and the metadata
//! in fixed 24-byte records. The rare strings (link targets, first lines) and values too large for
//! a record (ids of `u32::MAX` and above, paths longer than 65,535 bytes) live in an overflow list,
//! so every value stays exact. A million-entry layer takes about 35 MB instead of about 140 MB.
//!
//! Serialised as the list of [`LayerEntry`] it holds, as the field was before it was compact.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de, ser::SerializeSeq};

use super::{LayerEntry, LayerEntryKind};

/// No overflow record.
const NONE: u32 = u32::MAX;
/// Entries between two restarts of the front coding (a restart holds its whole path).
const RESTART: usize = 16;
/// A `len` that means the path is in the overflow record.
const LONG: u16 = u16::MAX;

/// Flags of a [`Meta`].
const UID_OVERFLOW: u8 = 1;
const GID_OVERFLOW: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    size: u64,
    uid: u32,
    gid: u32,
    /// Index into `overflow`, or `NONE`.
    extra: u32,
    mode: u16,
    kind: LayerEntryKind,
    flags: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Overflow {
    link_target: Option<Box<str>>,
    first_line: Option<Box<[u8]>>,
    uid: u64,
    gid: u64,
    /// Bytes of a path (after the shared prefix) longer than `LONG`.
    long_suffix: Option<Box<[u8]>>,
    /// A mode with bits beyond `0o177777` (only hand-built entries have them).
    mode: u32,
}

/// The entries of one layer, in tar order (see the module documentation).
#[derive(Clone, Default)]
pub struct LayerEntries {
    /// Each entry's path bytes after the prefix it shares with the previous entry.
    suffixes: Vec<u8>,
    /// Where each restart's suffix starts in `suffixes`.
    restarts: Vec<usize>,
    /// Per entry: bytes shared with the previous entry's path, and suffix length (`LONG`: overflow).
    shared: Vec<(u16, u16)>,
    metas: Vec<Meta>,
    overflow: Vec<Overflow>,
    /// The last path pushed, to front-code the next one.
    last: String,
}

/// One entry as stored, its strings borrowed from the [`LayerEntries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerEntryRef<'a> {
    /// What it is.
    pub kind: LayerEntryKind,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Size in bytes (regular files).
    pub size: u64,
    /// Symlink target as stored, or a hard link's normalised target path.
    pub link_target: Option<&'a str>,
    /// For executable regular files: the first line.
    pub first_line: Option<&'a [u8]>,
}

impl LayerEntryRef<'_> {
    /// The owned entry at `path`.
    pub fn to_entry(&self, path: String) -> LayerEntry {
        LayerEntry {
            path,
            kind: self.kind,
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            size: self.size,
            link_target: self.link_target.map(str::to_owned),
            first_line: self.first_line.map(<[u8]>::to_vec),
        }
    }
}

impl LayerEntries {
    /// An empty list.
    pub fn new() -> LayerEntries {
        LayerEntries::default()
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// Appends an entry.
    pub fn push(&mut self, entry: LayerEntry) {
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
        let i = self.metas.len();
        let shared = if i % RESTART == 0 {
            self.restarts.push(self.suffixes.len());
            0
        } else {
            common_prefix(&self.last, &path, usize::from(LONG - 1))
        };
        let suffix = &path.as_bytes()[shared..];
        let mut extra = Overflow::default();
        let mut needs_extra = false;
        let len = match u16::try_from(suffix.len()) {
            Ok(l) if l != LONG => {
                self.suffixes.extend_from_slice(suffix);
                l
            }
            _ => {
                extra.long_suffix = Some(suffix.into());
                needs_extra = true;
                LONG
            }
        };
        self.shared.push((shared as u16, len));
        let mut flags = 0;
        let small = |id: u64| u32::try_from(id).ok().filter(|&v| v != u32::MAX);
        let small_uid = small(uid).unwrap_or_else(|| {
            flags |= UID_OVERFLOW;
            u32::MAX
        });
        let small_gid = small(gid).unwrap_or_else(|| {
            flags |= GID_OVERFLOW;
            u32::MAX
        });
        let small_mode = match u16::try_from(mode) {
            Ok(m) if m != u16::MAX => m,
            _ => {
                extra.mode = mode;
                needs_extra = true;
                u16::MAX
            }
        };
        if flags != 0 || link_target.is_some() || first_line.is_some() {
            needs_extra = true;
        }
        let extra_index = if needs_extra {
            extra.link_target = link_target.map(String::into_boxed_str);
            extra.first_line = first_line.map(Vec::into_boxed_slice);
            extra.uid = uid;
            extra.gid = gid;
            self.overflow.push(extra);
            u32::try_from(self.overflow.len() - 1).expect("fewer than 4 billion entries")
        } else {
            NONE
        };
        self.metas.push(Meta {
            size,
            uid: small_uid,
            gid: small_gid,
            extra: extra_index,
            mode: small_mode,
            kind,
            flags,
        });
        self.last = path;
    }

    /// Frees what pushing reserved beyond the entries.
    pub fn shrink_to_fit(&mut self) {
        self.suffixes.shrink_to_fit();
        self.restarts.shrink_to_fit();
        self.shared.shrink_to_fit();
        self.metas.shrink_to_fit();
        self.overflow.shrink_to_fit();
        self.last = String::new();
    }

    /// Entry `i`'s metadata, without its path.
    pub fn meta(&self, i: usize) -> Option<LayerEntryRef<'_>> {
        let m = self.metas.get(i)?;
        let extra = (m.extra != NONE).then(|| &self.overflow[m.extra as usize]);
        Some(LayerEntryRef {
            kind: m.kind,
            mode: match (m.mode, extra) {
                (u16::MAX, Some(x)) => x.mode,
                (mode, _) => u32::from(mode),
            },
            uid: match extra {
                Some(x) if m.flags & UID_OVERFLOW != 0 => x.uid,
                _ => u64::from(m.uid),
            },
            gid: match extra {
                Some(x) if m.flags & GID_OVERFLOW != 0 => x.gid,
                _ => u64::from(m.gid),
            },
            size: m.size,
            link_target: extra.and_then(|x| x.link_target.as_deref()),
            first_line: extra.and_then(|x| x.first_line.as_deref()),
        })
    }

    /// Entry `i`, path and all.
    pub fn get(&self, i: usize) -> Option<LayerEntry> {
        let meta = self.meta(i)?;
        let start = i - i % RESTART;
        let mut paths = self.paths_from(start);
        let path = paths.nth(i - start).map(str::to_owned)?;
        Some(meta.to_entry(path))
    }

    /// Every entry's path and metadata, in order; the path is only valid until the next item.
    pub fn for_each(&self, mut f: impl FnMut(usize, &str, LayerEntryRef<'_>)) {
        let mut paths = self.paths_from(0);
        for i in 0..self.len() {
            let path = paths.next().expect("one path per entry");
            f(i, path, self.meta(i).expect("one record per entry"));
        }
    }

    /// Every entry, owned, in order.
    pub fn iter(&self) -> impl Iterator<Item = LayerEntry> + '_ {
        let mut paths = self.paths_from(0);
        (0..self.len()).map(move |i| {
            let path = paths.next().expect("one path per entry").to_owned();
            self.meta(i).expect("one record per entry").to_entry(path)
        })
    }

    /// A decoder of the paths from entry `start`, which must be a restart.
    fn paths_from(&self, start: usize) -> Paths<'_> {
        Paths {
            entries: self,
            next: start,
            offset: self.restarts.get(start / RESTART).copied().unwrap_or(0),
            path: Vec::new(),
        }
    }
}

/// Decodes the front-coded paths one after another into one buffer.
struct Paths<'a> {
    entries: &'a LayerEntries,
    next: usize,
    offset: usize,
    path: Vec<u8>,
}

impl Paths<'_> {
    fn next(&mut self) -> Option<&str> {
        let e = self.entries;
        let &(shared, len) = e.shared.get(self.next)?;
        self.path.truncate(usize::from(shared));
        if len == LONG {
            let extra = e.metas[self.next].extra as usize;
            let long = e.overflow[extra].long_suffix.as_deref().unwrap_or_default();
            self.path.extend_from_slice(long);
        } else {
            let end = self.offset + usize::from(len);
            self.path.extend_from_slice(&e.suffixes[self.offset..end]);
            self.offset = end;
        }
        self.next += 1;
        // Pushed as `String`s, cut at character boundaries (`common_prefix`).
        Some(std::str::from_utf8(&self.path).expect("paths are UTF-8"))
    }

    fn nth(&mut self, n: usize) -> Option<&str> {
        for _ in 0..n {
            self.next()?;
        }
        self.next()
    }
}

/// Bytes `a` and `b` share at the start, at most `max`, ending on a character boundary of both.
fn common_prefix(a: &str, b: &str, max: usize) -> usize {
    let mut n = a
        .bytes()
        .zip(b.bytes())
        .take(max)
        .take_while(|(x, y)| x == y)
        .count();
    while !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

impl PartialEq for LayerEntries {
    fn eq(&self, other: &Self) -> bool {
        // `last` only serves the next push: the same entries pushed give the same fields.
        (
            &self.suffixes,
            &self.restarts,
            &self.shared,
            &self.metas,
            &self.overflow,
        ) == (
            &other.suffixes,
            &other.restarts,
            &other.shared,
            &other.metas,
            &other.overflow,
        )
    }
}

impl Eq for LayerEntries {}

impl fmt::Debug for LayerEntries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<LayerEntry> for LayerEntries {
    fn from_iter<I: IntoIterator<Item = LayerEntry>>(iter: I) -> Self {
        let mut entries = LayerEntries::new();
        for e in iter {
            entries.push(e);
        }
        entries.shrink_to_fit();
        entries
    }
}

impl Serialize for LayerEntries {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        let mut paths = self.paths_from(0);
        for i in 0..self.len() {
            let path = paths.next().expect("one path per entry").to_owned();
            seq.serialize_element(&self.meta(i).expect("one record").to_entry(path))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for LayerEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = LayerEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of layer entries")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LayerEntries, A::Error> {
                let mut entries = LayerEntries::new();
                while let Some(e) = seq.next_element::<LayerEntry>()? {
                    entries.push(e);
                }
                entries.shrink_to_fit();
                Ok(entries)
            }
        }
        deserializer.deserialize_seq(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: LayerEntryKind) -> LayerEntry {
        LayerEntry {
            path: path.to_owned(),
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1,
            link_target: None,
            first_line: None,
        }
    }

    #[test]
    fn keeps_every_value_exactly() {
        let mut all = Vec::new();
        for i in 0..40 {
            all.push(entry(&format!("/usr/lib/x/é{i}"), LayerEntryKind::File));
        }
        all.push(LayerEntry {
            uid: u64::from(u32::MAX),
            gid: u64::MAX,
            mode: 0o7777,
            size: u64::MAX,
            link_target: Some("../a".into()),
            first_line: Some(b"#!/bin/sh\n".to_vec()),
            ..entry("/usr/lib/x/éé", LayerEntryKind::Symlink)
        });
        all.push(LayerEntry {
            mode: 0x1_0000,
            ..entry(&format!("/usr/{}", "y".repeat(70_000)), LayerEntryKind::Dir)
        });
        all.push(entry("/usr/l", LayerEntryKind::Hardlink));
        all.push(entry("/", LayerEntryKind::Dir));
        let compact: LayerEntries = all.iter().cloned().collect();
        assert_eq!(compact.len(), all.len());
        assert_eq!(compact.iter().collect::<Vec<_>>(), all);
        for (i, e) in all.iter().enumerate() {
            assert_eq!(compact.get(i).as_ref(), Some(e), "{i}");
        }
        assert_eq!(compact.get(all.len()), None);
        let json = serde_json::to_string(&compact).unwrap();
        assert_eq!(json, serde_json::to_string(&all).unwrap());
        let back: LayerEntries = serde_json::from_str(&json).unwrap();
        assert_eq!(back, compact);
    }
}
