//! The one error type of image access. Every variant names the file, blob, layer or entry that was
//! wrong, so the CLI can print it as one line.

use std::{io, path::PathBuf};

use crate::ReferenceError;

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file of the image could not be opened or read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An image argument whose transport prefix is not one we read.
    #[error(
        "unknown transport in `{0}`: use oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF], docker-daemon:REF or docker://REF"
    )]
    UnknownTransport(String),
    /// The Docker engine (`docker-daemon:`) cannot be reached or spoke nonsense.
    #[error("Docker engine at {host}: {detail}")]
    Engine {
        /// `DOCKER_HOST` or the default socket.
        host: String,
        /// What went wrong.
        detail: String,
    },
    /// The Docker engine answered with an error (no such image, ...).
    #[error("Docker engine at {host}: {message} (HTTP {status})")]
    EngineRefused {
        /// `DOCKER_HOST` or the default socket.
        host: String,
        /// The HTTP status.
        status: u16,
        /// The engine's message.
        message: String,
    },
    /// A transport with an empty path (`oci:`).
    #[error("`{0}` names no path")]
    EmptyPath(String),
    /// A registry reference that does not parse.
    #[error("invalid image `{input}`")]
    Reference {
        /// The input.
        input: String,
        /// Why.
        #[source]
        source: ReferenceError,
    },
    /// A registry image, before the registry client is wired in.
    #[error(
        "reading images from a registry is not yet supported; use oci:, oci-archive: or docker-archive:"
    )]
    RegistryNotSupported(String),
    /// A platform argument that is not `os/arch[/variant]`.
    #[error("invalid platform `{0}`: expected os/arch[/variant], e.g. linux/amd64")]
    InvalidPlatform(String),
    /// A digest that is not `sha256:<64 hex>` or `sha512:<128 hex>`.
    #[error("invalid digest `{digest}` in {location}")]
    InvalidDigest {
        /// The digest text.
        digest: String,
        /// Where it was found.
        location: String,
    },
    /// A blob the manifest names is not in the image.
    #[error("blob {blob} is missing from {location}")]
    MissingBlob {
        /// The digest.
        blob: String,
        /// The image file or directory.
        location: String,
    },
    /// A blob whose content does not hash to its digest.
    #[error("blob {blob} does not match its digest: expected {expected}, found {actual}")]
    DigestMismatch {
        /// The blob (file or archive member).
        blob: String,
        /// The digest it is named by.
        expected: String,
        /// The digest of its content.
        actual: String,
    },
    /// A manifest, index or config that is larger than any sane one.
    #[error("{blob} is {size} bytes, more than the {limit} bytes allowed for JSON")]
    JsonTooLarge {
        /// The blob.
        blob: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A manifest, index or config that is not the JSON it should be.
    #[error("invalid {what} JSON in {blob}: {detail}")]
    InvalidJson {
        /// `manifest`, `index`, `config`, ...
        what: &'static str,
        /// The blob or file.
        blob: String,
        /// The parser's complaint, without the value it quotes ([`crate::safe_text::json_error`]).
        detail: String,
    },
    /// A manifest whose config is not a container image config: an artifact stored in a registry
    /// (a Singularity image, a Helm chart, an ORAS artifact), which no container runtime can run.
    #[error("{location} is not a container image: its manifest's config is `{media_type}`, {kind}")]
    NotAContainerImage {
        /// The image.
        location: String,
        /// The config descriptor's media type.
        media_type: String,
        /// What that media type is, for people (`a Singularity (SIF) image`).
        kind: &'static str,
    },
    /// A media type we do not read.
    #[error("{blob} has unknown media type `{media_type}`")]
    UnknownMediaType {
        /// The blob.
        blob: String,
        /// Its media type.
        media_type: String,
    },
    /// The tag asked for is not in the image's index.
    #[error("tag `{tag}` not found in {location} (it has: {available})")]
    TagNotFound {
        /// The tag.
        tag: String,
        /// The image file or directory.
        location: String,
        /// The tags it has.
        available: String,
    },
    /// No tag given, and the image holds several.
    #[error("{location} holds several images; name one of: {available}")]
    AmbiguousImage {
        /// The image file or directory.
        location: String,
        /// The tags or references it has.
        available: String,
    },
    /// The image holds no image at all.
    #[error("{0} holds no image")]
    EmptyImage(String),
    /// No manifest for the platform asked for.
    #[error("no image for platform {wanted} in {location} (it has: {available})")]
    PlatformNotFound {
        /// The platform asked for.
        wanted: String,
        /// The image.
        location: String,
        /// The platforms it has.
        available: String,
    },
    /// A config whose `rootfs.diff_ids` does not match the layer count.
    #[error("{location}: {detail}")]
    Inconsistent {
        /// The image.
        location: String,
        /// What does not match.
        detail: String,
    },
    /// Compressed layer data that does not decompress.
    #[error("layer {layer}: corrupt {format} data")]
    Decompress {
        /// The layer digest.
        layer: String,
        /// `gzip` or `zstd`.
        format: &'static str,
        /// The decoder's complaint.
        #[source]
        source: io::Error,
    },
    /// A layer that is not a valid tar stream.
    #[error("layer {layer}: invalid tar: {detail}")]
    Tar {
        /// The layer digest.
        layer: String,
        /// What is wrong.
        detail: String,
    },
    /// An input file that is not a regular file, too large, or unreadable.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// Layers whose entries imply more parent directories than any real image.
    #[error(
        "the parent directories the layers imply take more than {limit_mib} MiB of paths (at `{entry}`)"
    )]
    ImpliedParents {
        /// The entry that went past the limit, shortened.
        entry: String,
        /// The limit.
        limit_mib: usize,
    },
    /// GNU long-name or PAX headers larger than any real one.
    #[error(
        "layer {layer}: the tar headers after {after} take more than the {limit} bytes allowed (a GNU long name or PAX header)"
    )]
    TarHeaderTooLarge {
        /// The layer digest.
        layer: String,
        /// The entry before them.
        after: String,
        /// The limit.
        limit: u64,
    },
    /// An `oci-archive:` or `docker-archive:` file that is not a valid tar.
    #[error("{}: invalid tar archive: {detail}", file.display())]
    ArchiveTar {
        /// The archive.
        file: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The layer ends before an entry's data does (a truncated tar, or a header claiming a huge size).
    #[error("layer {layer}: tar ends inside entry `{entry}`, whose header claims {size} bytes")]
    TruncatedEntry {
        /// The layer digest.
        layer: String,
        /// The entry.
        entry: String,
        /// The size its header claims.
        size: u64,
    },
    /// An entry name that would land outside the image root.
    #[error("layer {layer}: entry `{entry}` {reason}")]
    UnsafeEntryName {
        /// The layer digest.
        layer: String,
        /// The name as stored.
        entry: String,
        /// `is an absolute path` or `escapes the image root with ..`.
        reason: &'static str,
    },
    /// An entry name (or link target) that is not UTF-8.
    #[error("layer {layer}: entry name {entry} is not UTF-8")]
    NonUtf8Name {
        /// The layer digest.
        layer: String,
        /// The name, with the bad bytes escaped.
        entry: String,
    },
    /// A blob that could not be read while streaming.
    #[error("cannot read {blob}")]
    BlobRead {
        /// The blob.
        blob: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
