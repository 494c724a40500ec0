//! Reading images from local files: an OCI layout directory, an OCI layout inside a tar
//! (`oci-archive:`), and `docker save`-style tars (`docker-archive:`). Archives are never unpacked:
//! their members are located once and then read in place with a seek.

use std::{
    collections::HashMap,
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use rayon::prelude::*;
use serde::Deserialize;

use crate::{
    Error, ImageSource, MergedFs,
    config_json::{ConfigJson, Descriptor, ManifestJson, platform_entry},
    digest::{Digest, verify},
    image::{Image, Layer, OpenOptions, Platform},
    layer::{Compression, LayerIndex, index_blob},
};

/// Manifests, indexes and configs above this size are refused rather than read into memory.
pub(crate) const JSON_LIMIT: u64 = 8 * 1024 * 1024;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A reader over one file or archive member.
type Member = Box<dyn Read + Send>;

/// Where the files of an image live: a directory, or members of a tar read in place.
enum Store {
    Dir(PathBuf),
    Archive {
        file: PathBuf,
        /// Member name (without `./`) -> (data offset, size).
        members: HashMap<String, (u64, u64)>,
    },
}

impl Store {
    fn archive(file: &Path) -> Result<Store, Error> {
        let mut f = crate::input::open_regular(file)?;
        let mut members = HashMap::new();
        // `docker save` links repeated layers to their first copy.
        let mut links: Vec<(String, String)> = Vec::new();
        let mut archive = tar::Archive::new(&mut f);
        let invalid = |e: std::io::Error| Error::ArchiveTar {
            file: file.to_owned(),
            detail: crate::layer::tar_detail(&e),
        };
        let entries = archive.entries_with_seek().map_err(invalid)?;
        for entry in entries {
            let entry = entry.map_err(invalid)?;
            let kind = entry.header().entry_type();
            let name = member_name(&String::from_utf8_lossy(&entry.path_bytes()), "");
            if let Some(target) = member_link_target(&entry, &name) {
                links.push((name, target));
            } else if kind.is_file() || kind == tar::EntryType::Continuous {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        for (name, target) in links {
            if let Some(&m) = members.get(&target) {
                members.entry(name).or_insert(m);
            }
        }
        Ok(Store::Archive {
            file: file.to_owned(),
            members,
        })
    }

    /// The image path for messages.
    fn location(&self) -> String {
        match self {
            Store::Dir(d) => d.display().to_string(),
            Store::Archive { file, .. } => file.display().to_string(),
        }
    }

    /// A member's name for messages: `dir/blobs/sha256/..` or `file.tar:blobs/sha256/..`.
    fn describe(&self, name: &str) -> String {
        match self {
            Store::Dir(d) => d.join(name).display().to_string(),
            Store::Archive { file, .. } => format!("{}:{name}", file.display()),
        }
    }

    /// Opens member `name` as a reader limited to its size; `None` when it does not exist.
    fn open(&self, name: &str) -> Result<Option<(Member, u64)>, Error> {
        match self {
            Store::Dir(d) => {
                let path = d.join(name);
                // A blob or layout file may be a FIFO or a link to /dev/zero: only regular files,
                // read no further than their size.
                match crate::input::open_regular(&path) {
                    Ok(f) => {
                        let size = f.metadata().map_err(|e| Error::io(&path, e))?.len();
                        Ok(Some((Box::new(f.take(size)), size)))
                    }
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e.into()),
                }
            }
            Store::Archive { file, members } => {
                let Some(&(offset, size)) = members.get(name) else {
                    return Ok(None);
                };
                let mut f = File::open(file).map_err(|e| Error::io(file, e))?;
                f.seek(SeekFrom::Start(offset))
                    .map_err(|e| Error::io(file, e))?;
                Ok(Some((Box::new(f.take(size)), size)))
            }
        }
    }

    /// Reads a small member (JSON) whole.
    fn read_small(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let Some((reader, size)) = self.open(name)? else {
            return Ok(None);
        };
        if size > JSON_LIMIT {
            return Err(Error::JsonTooLarge {
                blob: self.describe(name),
                size,
                limit: JSON_LIMIT,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .take(JSON_LIMIT)
            .read_to_end(&mut bytes)
            .map_err(|source| Error::BlobRead {
                blob: self.describe(name),
                source,
            })?;
        Ok(Some(bytes))
    }

    /// Reads a blob named by digest and checks it.
    fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        let name = blob_name(digest);
        let bytes = self.read_small(&name)?.ok_or_else(|| Error::MissingBlob {
            blob: digest.to_string(),
            location: self.location(),
        })?;
        verify(&bytes, digest, &self.describe(&name))?;
        Ok(bytes)
    }
}

/// The member a symlink or hard link entry of an archive names, or `None` for any other entry.
/// Symlinks are relative to their directory; hard links name a member.
pub(crate) fn member_link_target<R: std::io::Read>(
    entry: &tar::Entry<'_, R>,
    name: &str,
) -> Option<String> {
    let kind = entry.header().entry_type();
    if !(kind.is_symlink() || kind.is_hard_link()) {
        return None;
    }
    let target = entry.link_name_bytes().unwrap_or_default();
    let target = String::from_utf8_lossy(&target);
    let base = if kind.is_symlink() {
        name.rsplit_once('/').map_or("", |(d, _)| d)
    } else {
        ""
    };
    Some(member_name(&target, base))
}

/// A member path relative to the archive root: `base` joined with `path`, `.` and `..` applied.
pub(crate) fn member_name(path: &str, base: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn blob_name(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm.name(), digest.hex)
}

/// One entry of a docker-archive's `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerArchiveManifest {
    /// The config member.
    pub(crate) config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    /// The layer members, base first.
    pub(crate) layers: Vec<String>,
}

pub(crate) fn parse_json<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    what: &'static str,
    blob: &str,
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidJson {
        what,
        blob: blob.to_owned(),
        detail: crate::safe_text::json_error(&e),
    })
}

/// Opens a local image.
pub(crate) fn open(source: &ImageSource, options: &OpenOptions) -> Result<Image, Error> {
    match source {
        ImageSource::OciLayout { dir, tag } => {
            let store = Store::Dir(dir.clone());
            if !dir.is_dir() {
                return Err(Error::io(
                    dir,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
                ));
            }
            open_oci(source, &store, tag.as_deref(), options)
        }
        ImageSource::OciArchive { file, tag } => {
            let store = Store::archive(file)?;
            open_oci(source, &store, tag.as_deref(), options)
        }
        ImageSource::DockerArchive { file, reference } => {
            let store = Store::archive(file)?;
            open_docker_archive(source, &store, reference.as_deref())
        }
        ImageSource::DockerDaemon { reference } => crate::docker_daemon::open(
            reference,
            &crate::engine_api::EngineHost::from_env()?,
            options,
        ),
        ImageSource::Registry(_) => Err(Error::RegistryNotSupported(source.to_string())),
    }
}

fn open_oci(
    source: &ImageSource,
    store: &Store,
    tag: Option<&str>,
    options: &OpenOptions,
) -> Result<Image, Error> {
    let index_name = store.describe("index.json");
    let bytes = store.read_small("index.json")?.ok_or_else(|| {
        Error::io(
            &index_name,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not an OCI image layout (no index.json)",
            ),
        )
    })?;
    let index: ManifestJson = parse_json(&bytes, "index", &index_name)?;
    let manifests = index.manifests.unwrap_or_default();
    let tags: Vec<&str> = manifests
        .iter()
        .filter_map(|d| d.annotations.get(REF_NAME).map(String::as_str))
        .collect();
    let listed = || {
        if tags.is_empty() {
            "no tags".to_owned()
        } else {
            tags.join(", ")
        }
    };
    let chosen = match tag {
        Some(tag) => manifests
            .iter()
            .find(|d| d.annotations.get(REF_NAME).is_some_and(|r| r == tag))
            .ok_or_else(|| Error::TagNotFound {
                tag: tag.to_owned(),
                location: store.location(),
                available: listed(),
            })?,
        None => match manifests.as_slice() {
            [] => return Err(Error::EmptyImage(store.location())),
            [only] => only,
            _ => {
                return Err(Error::AmbiguousImage {
                    location: store.location(),
                    available: listed(),
                });
            }
        },
    };
    let (manifest_digest, manifest) = pick_manifest(store, chosen, &options.platform, 0)?;
    let manifest_blob = store.describe(&blob_name(&manifest_digest));
    let config_desc = manifest.config.ok_or_else(|| Error::Inconsistent {
        location: manifest_blob.clone(),
        detail: "manifest has no config".into(),
    })?;
    if let Some(kind) = crate::config_json::artifact_kind(&config_desc.media_type) {
        return Err(Error::NotAContainerImage {
            location: store.location(),
            media_type: config_desc.media_type,
            kind,
        });
    }
    let config_digest = Digest::parse(&config_desc.digest, &manifest_blob)?;
    let config_bytes = store.read_blob(&config_digest)?;
    let config: ConfigJson = parse_json(
        &config_bytes,
        "config",
        &store.describe(&blob_name(&config_digest)),
    )?;
    let descriptors = manifest.layers;
    let mut jobs = Vec::with_capacity(descriptors.len());
    for d in &descriptors {
        let digest = Digest::parse(&d.digest, &manifest_blob)?;
        let compression =
            Compression::from_media_type(&d.media_type).ok_or_else(|| Error::UnknownMediaType {
                blob: format!("layer {}", d.digest),
                media_type: d.media_type.clone(),
            })?;
        let name = blob_name(&digest);
        jobs.push(LayerJob {
            name: name.clone(),
            digest,
            compression,
        });
    }
    let indexes = index_layers(store, &jobs)?;
    let layers = descriptors
        .iter()
        .zip(&indexes)
        .map(|(d, index)| Layer {
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            size: d.size,
            uncompressed_size: Some(index.uncompressed_size),
        })
        .collect();
    Ok(Image {
        source: source.to_string(),
        manifest_digest: manifest_digest.to_string(),
        config_digest: config_digest.to_string(),
        platform: config.platform(),
        config: config.into_image_config(),
        layers,
        fs: MergedFs::try_from_layers(indexes)?,
    })
}

/// Follows a descriptor to an image manifest, choosing from indexes by platform.
fn pick_manifest(
    store: &Store,
    descriptor: &Descriptor,
    platform: &Platform,
    depth: usize,
) -> Result<(Digest, ManifestJson), Error> {
    let digest = Digest::parse(&descriptor.digest, &store.describe("index.json"))?;
    let name = store.describe(&blob_name(&digest));
    let bytes = store.read_blob(&digest)?;
    let manifest: ManifestJson = parse_json(&bytes, "manifest", &name)?;
    let media_type = if descriptor.media_type.is_empty() {
        manifest.media_type.clone().unwrap_or_else(|| {
            if manifest.manifests.is_some() {
                OCI_INDEX.to_owned()
            } else {
                OCI_MANIFEST.to_owned()
            }
        })
    } else {
        descriptor.media_type.clone()
    };
    match media_type.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST if manifest.schema_version == 2 => Ok((digest, manifest)),
        OCI_INDEX | DOCKER_LIST if manifest.schema_version == 2 && depth < 4 => {
            let manifests = manifest.manifests.unwrap_or_default();
            let entry = platform_entry(&manifests, platform, || name.clone())?;
            pick_manifest(store, entry, platform, depth + 1)
        }
        other => Err(Error::UnknownMediaType {
            blob: format!("manifest {digest}"),
            media_type: other.to_owned(),
        }),
    }
}

struct LayerJob {
    /// Member name in the store.
    name: String,
    digest: Digest,
    compression: Compression,
}

/// Streams every layer, in parallel, into its index; fails with the first layer's error in order.
fn index_layers(store: &Store, jobs: &[LayerJob]) -> Result<Vec<LayerIndex>, Error> {
    let results: Vec<Result<LayerIndex, Error>> = jobs
        .par_iter()
        .map(|job| {
            let (reader, _) = store.open(&job.name)?.ok_or_else(|| Error::MissingBlob {
                blob: job.digest.to_string(),
                location: store.location(),
            })?;
            index_blob(
                reader,
                job.compression,
                &job.digest,
                &store.describe(&job.name),
            )
        })
        .collect();
    results.into_iter().collect()
}

/// The digest a docker-archive member's name carries (`<hex>.json`, `<hex>.tar`, `blobs/sha256/<hex>`).
pub(crate) fn digest_in_name(name: &str) -> Option<Digest> {
    let stem = name.rsplit('/').next()?;
    let hex = stem.split('.').next()?;
    Digest::parse(&format!("sha256:{hex}"), name).ok()
}

fn open_docker_archive(
    source: &ImageSource,
    store: &Store,
    reference: Option<&str>,
) -> Result<Image, Error> {
    let manifest_name = store.describe("manifest.json");
    let bytes = store.read_small("manifest.json")?.ok_or_else(|| {
        Error::io(
            &manifest_name,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not a docker-archive (no manifest.json)",
            ),
        )
    })?;
    let images: Vec<DockerArchiveManifest> = parse_json(&bytes, "manifest", &manifest_name)?;
    let tags: Vec<&str> = images
        .iter()
        .flat_map(|m| m.repo_tags.iter().flatten().map(String::as_str))
        .collect();
    let listed = || {
        if tags.is_empty() {
            "no tags".to_owned()
        } else {
            tags.join(", ")
        }
    };
    let chosen = match reference {
        Some(wanted) => {
            // `app:1.0` and `docker.io/library/app:1.0` name the same image.
            let normal = |r: &str| {
                crate::Reference::parse(r)
                    .map(|r| r.to_string())
                    .unwrap_or_else(|_| r.to_owned())
            };
            let wanted_normal = normal(wanted);
            images
                .iter()
                .find(|m| {
                    m.repo_tags
                        .iter()
                        .flatten()
                        .any(|t| t == wanted || normal(t) == wanted_normal)
                })
                .ok_or_else(|| Error::TagNotFound {
                    tag: wanted.to_owned(),
                    location: store.location(),
                    available: listed(),
                })?
        }
        None => match images.as_slice() {
            [] => return Err(Error::EmptyImage(store.location())),
            [only] => only,
            _ => {
                return Err(Error::AmbiguousImage {
                    location: store.location(),
                    available: listed(),
                });
            }
        },
    };
    let config_bytes = store
        .read_small(&chosen.config)?
        .ok_or_else(|| Error::MissingBlob {
            blob: chosen.config.clone(),
            location: store.location(),
        })?;
    let config_blob = store.describe(&chosen.config);
    let config_digest = match digest_in_name(&chosen.config) {
        Some(d) => {
            verify(&config_bytes, &d, &config_blob)?;
            d
        }
        None => Digest::of(crate::digest::Algorithm::Sha256, &config_bytes),
    };
    let config: ConfigJson = parse_json(&config_bytes, "config", &config_blob)?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if diff_ids.len() != chosen.layers.len() {
        return Err(Error::Inconsistent {
            location: config_blob,
            detail: format!(
                "config lists {} diff_ids but manifest.json lists {} layers",
                diff_ids.len(),
                chosen.layers.len()
            ),
        });
    }
    let mut jobs = Vec::new();
    let mut layers = Vec::new();
    for (name, diff_id) in chosen.layers.iter().zip(&diff_ids) {
        let (mut reader, size) = store.open(name)?.ok_or_else(|| Error::MissingBlob {
            blob: name.clone(),
            location: store.location(),
        })?;
        let mut magic = [0u8; 4];
        let n = reader.read(&mut magic).map_err(|source| Error::BlobRead {
            blob: store.describe(name),
            source,
        })?;
        let compression = Compression::sniff(&magic[..n]);
        // An uncompressed layer is checked against its diff id; a compressed one by its file name.
        let digest = match compression {
            Compression::None => Digest::parse(diff_id, &config_blob)?,
            _ => digest_in_name(name).ok_or_else(|| Error::Inconsistent {
                location: store.describe(name),
                detail: "compressed layer whose name carries no digest to check it against".into(),
            })?,
        };
        let media_type = match compression {
            Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
            Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            Compression::Zstd => "application/vnd.docker.image.rootfs.diff.tar.zstd",
        };
        layers.push(Layer {
            digest: digest.to_string(),
            media_type: media_type.to_owned(),
            size,
            uncompressed_size: None,
        });
        jobs.push(LayerJob {
            name: name.clone(),
            digest,
            compression,
        });
    }
    let indexes = index_layers(store, &jobs)?;
    for (layer, index) in layers.iter_mut().zip(&indexes) {
        layer.uncompressed_size = Some(index.uncompressed_size);
    }
    Ok(Image {
        source: source.to_string(),
        manifest_digest: config_digest.to_string(),
        config_digest: config_digest.to_string(),
        platform: config.platform(),
        config: config.into_image_config(),
        layers,
        fs: MergedFs::try_from_layers(indexes)?,
    })
}
