//! One layer, streamed once: decompressed, hashed against its digest and parsed as tar into a
//! [`LayerIndex`] of metadata only. Nothing is extracted and the layer is never held in memory: one
//! thread reads and hashes the blob while the caller's thread decompresses and walks the tar headers,
//! joined by a small bounded channel.
//!
//! The index is serialisable so a registry cache can keep it per layer digest.

use std::{
    cell::Cell,
    io::{self, BufRead, BufReader, Read},
    sync::mpsc,
};

use serde::{Deserialize, Serialize};

mod entries;
pub use entries::{LayerEntries, LayerEntryRef};

use crate::{
    Error,
    digest::{Digest, Hasher},
    exec::CapturedFile,
};

/// The version of what indexing keeps of a layer, part of the layer-index cache's path: bump it when
/// indexing captures something new, so indexes written before are not read as complete.
pub const INDEX_FORMAT: &str = "v2";

/// The most of an executable file's start that is kept (for its shebang line).
pub const FIRST_LINE_MAX: usize = 256;

/// The most bytes the tar reader may take between one entry's data and the next entry: its header
/// plus any GNU long-name/long-link and PAX extension headers, which the `tar` crate reads whole
/// into memory. Real ones are a few KiB; a hostile one claims hundreds of MiB.
pub const HEADER_BUDGET: u64 = 1024 * 1024;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (RFC 1952).
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// The compression a layer media type declares; `None` for a media type that is not a layer.
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        Some(match media_type {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar" => Compression::None,
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Compression::Gzip,
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
            | "application/vnd.docker.image.rootfs.diff.tar.zstd" => Compression::Zstd,
            _ => return None,
        })
    }

    /// The compression a blob's first bytes show (docker-archive layers carry no media type).
    pub fn sniff(start: &[u8]) -> Compression {
        if start.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The kind of a tar entry, as one layer records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerEntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (`link_target` is its target).
    Symlink,
    /// A hard link to an earlier path (`link_target` is that path, normalised).
    Hardlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
}

/// One tar entry's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerEntry {
    /// Absolute, normalised path (`/usr/bin/env`; the root is `/`).
    pub path: String,
    /// What it is.
    pub kind: LayerEntryKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Size in bytes (regular files).
    pub size: u64,
    /// Symlink target as stored, or a hard link's normalised target path.
    pub link_target: Option<String>,
    /// For executable regular files: the first line, `\n` included, at most [`FIRST_LINE_MAX`] bytes.
    pub first_line: Option<Vec<u8>>,
}

/// What one layer holds and removes: its entries in tar order, its whiteouts and its opaque dirs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerIndex {
    /// The layer's digest (of the blob as stored).
    pub digest: String,
    /// Bytes of tar after decompression.
    pub uncompressed_size: u64,
    /// Entries, whiteout files excluded, in tar order.
    pub entries: LayerEntries,
    /// Paths a `.wh.NAME` file removes from the layers below.
    pub whiteouts: Vec<String>,
    /// Directories a `.wh..wh..opq` file empties of the layers below.
    pub opaque_dirs: Vec<String>,
    /// What exec and the loaders read from some files (executable ELF headers, loader config).
    /// No serde default: a cached index from before this field is read again.
    pub captured: Vec<CapturedFile>,
}

/// Reads a layer blob of `media_type` from `reader`, checks it against `digest` and indexes its tar.
pub fn index_layer(
    reader: impl Read + Send,
    media_type: &str,
    digest: &str,
) -> Result<LayerIndex, Error> {
    let compression =
        Compression::from_media_type(media_type).ok_or_else(|| Error::UnknownMediaType {
            blob: format!("layer {digest}"),
            media_type: media_type.to_owned(),
        })?;
    let expected = Digest::parse(digest, "layer descriptor")?;
    index_blob(reader, compression, &expected, digest)
}

const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the hashing thread and the parser: bounds memory to a few MiB.
const IN_FLIGHT: usize = 4;

/// Indexes a layer blob with a known compression; `blob` names it in errors (digest or file).
pub(crate) fn index_blob(
    reader: impl Read + Send,
    compression: Compression,
    expected: &Digest,
    blob: &str,
) -> Result<LayerIndex, Error> {
    let (index, actual) = index_unverified(
        reader,
        compression,
        expected.algorithm,
        &expected.to_string(),
    )?;
    if &actual != expected {
        return Err(Error::DigestMismatch {
            blob: blob.to_owned(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(index)
}

/// Indexes a layer blob whose digest is not known before it is read (a `docker save` stream names
/// layers by v1 ids); returns the index and the digest computed over the blob. `layer` names it in
/// the index and in errors; the caller sets [`LayerIndex::digest`] once it knows the digest.
pub(crate) fn index_unverified(
    mut reader: impl Read + Send,
    compression: Compression,
    algorithm: crate::digest::Algorithm,
    layer: &str,
) -> Result<(LayerIndex, Digest), Error> {
    let (chunks_tx, chunks_rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(IN_FLIGHT);
    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        // Reading and hashing run beside decompression and tar parsing.
        let hashing = scope.spawn(move || {
            let mut hasher = Hasher::new(algorithm);
            loop {
                let mut buf = spare_rx.try_recv().unwrap_or_default();
                buf.resize(CHUNK, 0);
                match read_full(&mut reader, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        hasher.update(&buf);
                        if chunks_tx.send(Ok(buf)).is_err() {
                            return None;
                        }
                    }
                    Err(e) => {
                        let _ = chunks_tx.send(Err(e));
                        return None;
                    }
                }
            }
            Some(hasher.finish())
        });
        let mut source = ChunkReader {
            chunks: chunks_rx,
            spare: spare_tx,
            current: Vec::new(),
            pos: 0,
            done: false,
        };
        let parsed = parse_layer(&mut source, compression, layer);
        let drained = parsed.and_then(|index| {
            // The digest covers the whole blob, trailing bytes included.
            io::copy(&mut source, &mut io::sink())
                .map_err(|e| classify(e, layer, compression, None))?;
            Ok(index)
        });
        drop(source);
        let actual = hashing.join().expect("hashing thread panicked");
        let index = drained?;
        let actual = actual.expect("hashing finished when the stream was drained");
        Ok((index, actual))
    })
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The parser's end of the channel, as a `BufRead` so decoders read straight from the chunks.
struct ChunkReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    spare: mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

/// An error from reading the blob itself (not from decoding it).
#[derive(Debug)]
struct SourceFailure(io::Error);

impl std::fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceFailure {}

/// An error from the decompressor.
#[derive(Debug)]
struct DecodeFailure(io::Error);

impl std::fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DecodeFailure {}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.current.len() && !self.done {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    let old = std::mem::replace(&mut self.current, chunk);
                    let _ = self.spare.send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(io::Error::other(SourceFailure(e)));
                }
                Err(_) => self.done = true,
            }
        }
        Ok(&self.current[self.pos.min(self.current.len())..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt;
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Marks decoder errors so they are told apart from tar errors.
struct Decoded<R>(R);

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.get_ref().is_some_and(|inner| inner.is::<SourceFailure>()) {
                e
            } else {
                io::Error::other(DecodeFailure(e))
            }
        })
    }
}

/// How far into the tar stream reads have gone, and where they must stop while headers are read.
#[derive(Default)]
struct Budget {
    read: Cell<u64>,
    /// Reads past this offset fail with [`HeaderTooLarge`].
    until: Cell<Option<u64>>,
}

impl Budget {
    /// How many of `want` bytes may be read now.
    fn allow(&self, want: usize) -> io::Result<usize> {
        match self.until.get() {
            Some(until) => {
                let left = until.saturating_sub(self.read.get());
                if left == 0 && want > 0 {
                    return Err(io::Error::other(HeaderTooLarge));
                }
                Ok(usize::try_from(left).map_or(want, |l| l.min(want)))
            }
            None => Ok(want),
        }
    }
}

/// Headers between two entries took more than [`HEADER_BUDGET`] bytes.
#[derive(Debug)]
struct HeaderTooLarge;

impl std::fmt::Display for HeaderTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tar header too large")
    }
}

impl std::error::Error for HeaderTooLarge {}

/// Counts the uncompressed bytes.
struct Counted<'b, R> {
    inner: R,
    count: u64,
    budget: &'b Budget,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.budget.allow(buf.len())?;
        let n = self.inner.read(&mut buf[..want])?;
        self.count += n as u64;
        self.budget.read.set(self.count);
        Ok(n)
    }
}

fn parse_layer(
    source: &mut ChunkReader,
    compression: Compression,
    layer: &str,
) -> Result<LayerIndex, Error> {
    let mut index = LayerIndex {
        digest: layer.to_owned(),
        ..LayerIndex::default()
    };
    let budget = Budget::default();
    let uncompressed = match compression {
        // A plain tar skips file data by dropping whole chunks instead of copying them.
        Compression::None => {
            let mut stream = Skipping {
                inner: source,
                count: 0,
                budget: &budget,
            };
            {
                let mut archive = tar::Archive::new(&mut stream);
                let entries = archive
                    .entries_with_seek()
                    .map_err(|e| classify(e, layer, compression, None))?;
                walk_entries(entries, layer, compression, &mut index, &budget)?;
            }
            io::copy(&mut stream, &mut io::sink())
                .map_err(|e| classify(e, layer, compression, None))?;
            stream.count
        }
        Compression::Gzip | Compression::Zstd => {
            let decoder: Box<dyn Read + '_> = if compression == Compression::Gzip {
                Box::new(BufReader::with_capacity(
                    CHUNK,
                    Decoded(flate2::bufread::MultiGzDecoder::new(&mut *source)),
                ))
            } else {
                let decoder =
                    zstd::stream::read::Decoder::with_buffer(&mut *source).map_err(|e| {
                        Error::Decompress {
                            layer: layer.to_owned(),
                            format: "zstd",
                            source: e,
                        }
                    })?;
                Box::new(BufReader::with_capacity(CHUNK, Decoded(decoder)))
            };
            let mut counted = Counted {
                inner: decoder,
                count: 0,
                budget: &budget,
            };
            {
                let mut archive = tar::Archive::new(&mut counted);
                let entries = archive
                    .entries()
                    .map_err(|e| classify(e, layer, compression, None))?;
                walk_entries(entries, layer, compression, &mut index, &budget)?;
            }
            // Decompress to the end: it checks the gzip/zstd trailer and counts the tar's padding.
            io::copy(&mut counted, &mut io::sink())
                .map_err(|e| classify(e, layer, compression, None))?;
            counted.count
        }
    };
    index.uncompressed_size = uncompressed;
    index.entries.shrink_to_fit();
    Ok(index)
}

/// A plain tar stream that can skip forward without copying (what `tar`'s seeking skip needs).
struct Skipping<'a> {
    inner: &'a mut ChunkReader,
    count: u64,
    budget: &'a Budget,
}

impl Read for Skipping<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.budget.allow(buf.len())?;
        let n = self.inner.read(&mut buf[..want])?;
        self.count += n as u64;
        self.budget.read.set(self.count);
        Ok(n)
    }
}

impl io::Seek for Skipping<'_> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let forward = match pos {
            io::SeekFrom::Current(n) => u64::try_from(n).ok(),
            _ => None,
        };
        let Some(mut left) = forward else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a layer stream only skips forward",
            ));
        };
        while left > 0 {
            let available = self.inner.fill_buf()?.len();
            if available == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF during skip",
                ));
            }
            let step = usize::try_from(left).map_or(available, |l| l.min(available));
            self.inner.consume(step);
            self.count += step as u64;
            self.budget.read.set(self.count);
            left -= step as u64;
        }
        Ok(self.count)
    }
}

/// Turns an I/O error from the stream into the error that says what was wrong.
fn classify(
    e: io::Error,
    layer: &str,
    compression: Compression,
    inside: Option<(&str, u64)>,
) -> Error {
    let e = match e.downcast::<SourceFailure>() {
        Ok(SourceFailure(source)) => {
            return Error::BlobRead {
                blob: format!("layer {layer}"),
                source,
            };
        }
        Err(e) => e,
    };
    let e = match e.downcast::<DecodeFailure>() {
        Ok(DecodeFailure(source)) => {
            return Error::Decompress {
                layer: layer.to_owned(),
                format: if compression == Compression::Zstd {
                    "zstd"
                } else {
                    "gzip"
                },
                source,
            };
        }
        Err(e) => e,
    };
    let detail = tar_detail(&e);
    match inside {
        Some((entry, size)) if detail.contains("unexpected EOF") => Error::TruncatedEntry {
            layer: layer.to_owned(),
            entry: entry.to_owned(),
            size,
        },
        _ => Error::Tar {
            layer: layer.to_owned(),
            detail: match detail.as_str() {
                "failed to read entire block" => "truncated header block".to_owned(),
                _ => detail,
            },
        },
    }
}

fn walk_entries<R: Read>(
    mut entries: tar::Entries<'_, R>,
    layer: &str,
    compression: Compression,
    index: &mut LayerIndex,
    budget: &Budget,
) -> Result<(), Error> {
    // The entry whose data the next header read skips over, for "tar ends inside ...".
    let mut previous: Option<(String, u64)> = None;
    // Where the previous entry's data (padded to 512-byte blocks) ends in the stream.
    let mut data_end = 0u64;
    loop {
        // The next headers may take HEADER_BUDGET bytes after the previous entry's data.
        budget.until.set(Some(
            data_end
                .max(budget.read.get())
                .saturating_add(HEADER_BUDGET),
        ));
        let next = entries.next();
        budget.until.set(None);
        let mut entry = match next {
            None => break,
            Some(Ok(entry)) => entry,
            Some(Err(e)) if e.get_ref().is_some_and(|i| i.is::<HeaderTooLarge>()) => {
                return Err(Error::TarHeaderTooLarge {
                    layer: layer.to_owned(),
                    after: previous.map_or_else(
                        || "the start of the layer".to_owned(),
                        |(p, _)| format!("entry `{}`", crate::safe_text::value(&p)),
                    ),
                    limit: HEADER_BUDGET,
                });
            }
            Some(Err(e)) => {
                let inside = previous.as_ref().map(|(p, s)| (p.as_str(), *s));
                return Err(classify(e, layer, compression, inside));
            }
        };
        data_end = budget
            .read
            .get()
            .saturating_add(entry.size().div_ceil(512).saturating_mul(512));
        let raw_path = entry.path_bytes().into_owned();
        let name = utf8(&raw_path, layer)?;
        let header = entry.header();
        let size = entry.size();
        previous = Some((name.clone(), size));
        let path = normalise_entry(&name, layer)?;
        let file_name = path.rsplit('/').next().unwrap_or("");
        if let Some(removed) = file_name.strip_prefix(".wh.") {
            let parent = parent_of(&path);
            if removed == ".wh..opq" {
                index.opaque_dirs.push(parent.to_owned());
            } else if !removed.starts_with(".wh.") {
                index.whiteouts.push(join(parent, removed));
            }
            continue;
        }
        let entry_type = header.entry_type();
        let kind = match entry_type {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                LayerEntryKind::File
            }
            tar::EntryType::Directory => LayerEntryKind::Dir,
            tar::EntryType::Symlink => LayerEntryKind::Symlink,
            tar::EntryType::Link => LayerEntryKind::Hardlink,
            tar::EntryType::Char => LayerEntryKind::CharDevice,
            tar::EntryType::Block => LayerEntryKind::BlockDevice,
            tar::EntryType::Fifo => LayerEntryKind::Fifo,
            // Volume labels and other oddities put nothing in the filesystem.
            _ => continue,
        };
        let mode = header.mode().map_err(|e| tar_error(layer, &name, e))? & 0o7777;
        let mut uid = header.uid().map_err(|e| tar_error(layer, &name, e))?;
        let mut gid = header.gid().map_err(|e| tar_error(layer, &name, e))?;
        // PAX records carry ids too large for the header.
        if let Ok(Some(pax)) = entry.pax_extensions() {
            for ext in pax.flatten() {
                let value = ext.value().ok().and_then(|v| v.parse::<u64>().ok());
                match (ext.key(), value) {
                    (Ok("uid"), Some(v)) => uid = v,
                    (Ok("gid"), Some(v)) => gid = v,
                    _ => {}
                }
            }
        }
        let link_target = match kind {
            LayerEntryKind::Symlink | LayerEntryKind::Hardlink => {
                let raw = entry
                    .link_name_bytes()
                    .map(|b| b.into_owned())
                    .unwrap_or_default();
                let target = utf8(&raw, layer)?;
                Some(if kind == LayerEntryKind::Hardlink {
                    normalise_entry(&target, layer)?
                } else {
                    target
                })
            }
            _ => None,
        };
        let executable = kind == LayerEntryKind::File && mode & 0o111 != 0;
        let mut first_line = None;
        if size > 0
            && (executable
                || (kind == LayerEntryKind::File && crate::exec::is_captured_config(&path)))
        {
            let mut start = [0u8; FIRST_LINE_MAX];
            let n = read_full(&mut entry, &mut start)
                .map_err(|e| classify(e, layer, compression, Some((&name, size))))?;
            let line = &start[..n];
            if executable {
                let end = line.iter().position(|&b| b == b'\n').map_or(n, |i| i + 1);
                first_line = Some(line[..end].to_vec());
            }
            let captured = crate::exec::capture(&path, executable, size, line, &mut entry)
                .map_err(|e| classify(e, layer, compression, Some((&name, size))))?;
            if let Some(content) = captured {
                index.captured.push(CapturedFile {
                    path: path.clone(),
                    content,
                });
            }
        }
        index.entries.push(LayerEntry {
            path,
            kind,
            mode,
            uid,
            gid,
            size: if kind == LayerEntryKind::File {
                size
            } else {
                0
            },
            link_target,
            first_line,
        });
    }
    Ok(())
}

fn tar_error(layer: &str, entry: &str, e: io::Error) -> Error {
    Error::Tar {
        layer: layer.to_owned(),
        detail: format!(
            "entry `{}`: {}",
            crate::safe_text::value(entry),
            tar_detail(&e)
        ),
    }
}

/// The `tar` crate's message without the raw header bytes it quotes (`numeric field was not a
/// number: <bytes> when getting size for <path>`), one printable line.
pub(crate) fn tar_detail(e: &io::Error) -> String {
    let text = e.to_string();
    if let Some((_, rest)) = text
        .rsplit_once(" when getting ")
        .filter(|_| text.starts_with("numeric field"))
    {
        let field = rest.split(' ').next().unwrap_or("a field");
        return format!(
            "header field `{}` is not a number",
            crate::safe_text::value(field)
        );
    }
    crate::safe_text::value(&text)
}

fn utf8(raw: &[u8], layer: &str) -> Result<String, Error> {
    String::from_utf8(raw.to_vec()).map_err(|_| Error::NonUtf8Name {
        layer: layer.to_owned(),
        entry: format!("\"{}\"", raw.escape_ascii()),
    })
}

/// Linux's `PATH_MAX`: no runtime can unpack an entry with a longer path. Refusing longer names also
/// bounds what the merged view stores for an entry's missing parents (each with its full path).
pub const PATH_MAX: usize = 4096;

/// `./usr/bin/` -> `/usr/bin`; absolute names, names that climb out of the root and names longer
/// than [`PATH_MAX`] are errors.
fn normalise_entry(name: &str, layer: &str) -> Result<String, Error> {
    let unsafe_name = |reason| Error::UnsafeEntryName {
        layer: layer.to_owned(),
        entry: crate::safe_text::value(name),
        reason,
    };
    if name.len() > PATH_MAX {
        return Err(unsafe_name(
            "is longer than the 4096 bytes a Linux path may have",
        ));
    }
    if name.starts_with('/') {
        return Err(unsafe_name("is an absolute path"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(unsafe_name("escapes the image root with `..`"));
                }
            }
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// The parent of an absolute normalised path (`/` for top-level names and the root).
pub(crate) fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// `dir` + `/` + `name` for an absolute normalised `dir`.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    }

    fn digest_of(bytes: &[u8]) -> String {
        Digest::of(crate::digest::Algorithm::Sha256, bytes).to_string()
    }

    #[test]
    fn huge_long_name_and_pax_headers_are_refused_naming_the_entry() {
        for (kind, name) in [
            (tar::EntryType::GNULongName, "././@LongLink"),
            (tar::EntryType::XHeader, "PaxHeaders/x"),
        ] {
            let blob = tar_of(|b| {
                file(b, "before", 0o644, b"x");
                let mut h = tar::Header::new_gnu();
                h.set_path(name).unwrap();
                h.set_size(HEADER_BUDGET + 1);
                h.set_entry_type(kind);
                h.set_cksum();
                b.append(&h, &vec![b'a'; HEADER_BUDGET as usize + 1][..])
                    .unwrap();
                file(b, "after", 0o644, b"x");
            });
            for (media, bytes) in [
                ("application/vnd.oci.image.layer.v1.tar", blob.clone()),
                ("application/vnd.oci.image.layer.v1.tar+gzip", gzip(&blob)),
            ] {
                let e = index_layer(&bytes[..], media, &digest_of(&bytes)).unwrap_err();
                assert_eq!(
                    e.to_string(),
                    format!(
                        "layer {}: the tar headers after entry `before` take more than the 1048576 bytes allowed (a GNU long name or PAX header)",
                        digest_of(&bytes)
                    ),
                    "{media}"
                );
            }
        }
    }

    #[test]
    fn paths_longer_than_path_max_are_refused() {
        let long = "a/".repeat(500_000);
        let e = normalise_entry(&long, "sha256:x").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "layer sha256:x: entry `{}... (999800 more characters)` is longer than the 4096 bytes a Linux path may have",
                "a/".repeat(100)
            )
        );
        let at_limit = "a/".repeat(PATH_MAX / 2);
        assert!(normalise_entry(&at_limit, "sha256:x").is_ok());
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn indexes_entries_whiteouts_and_first_lines() {
        let blob = tar_of(|b| {
            file(b, "./app/run.sh", 0o755, b"#!/bin/sh\necho hi\n");
            file(b, "app/data.txt", 0o644, b"not kept\n");
            file(b, "app/.wh.old", 0o644, b"");
            file(b, "etc/.wh..wh..opq", 0o644, b"");
        });
        let index = index_layer(
            &blob[..],
            "application/vnd.oci.image.layer.v1.tar",
            &digest_of(&blob),
        )
        .unwrap();
        assert_eq!(index.uncompressed_size, blob.len() as u64);
        assert_eq!(index.whiteouts, ["/app/old"]);
        assert_eq!(index.opaque_dirs, ["/etc"]);
        let entries: Vec<_> = index.entries.iter().collect();
        let paths: Vec<_> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/app/run.sh", "/app/data.txt"]);
        assert_eq!(entries[0].first_line.as_deref(), Some(&b"#!/bin/sh\n"[..]));
        assert_eq!(entries[0].mode, 0o755);
        assert_eq!(entries[1].first_line, None);
    }

    #[test]
    fn gzip_layers_are_hashed_as_stored() {
        let blob = tar_of(|b| file(b, "x", 0o700, b"#!/bin/bash"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &blob).unwrap();
        let gz = gz.finish().unwrap();
        let index = index_layer(
            &gz[..],
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            &digest_of(&gz),
        )
        .unwrap();
        assert_eq!(
            index.entries.get(0).unwrap().first_line.as_deref(),
            Some(&b"#!/bin/bash"[..])
        );
        let err = index_layer(
            &gz[..],
            "application/vnd.oci.image.layer.v1.tar+gzip",
            &digest_of(&blob),
        )
        .unwrap_err();
        assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    }

    #[test]
    fn normalises_dots_and_rejects_escapes() {
        assert_eq!(normalise_entry("./a/./b/../c/", "l").unwrap(), "/a/c");
        assert_eq!(normalise_entry("./", "l").unwrap(), "/");
        assert_eq!(
            normalise_entry("a/../../etc", "l").unwrap_err().to_string(),
            "layer l: entry `a/../../etc` escapes the image root with `..`"
        );
    }
}
