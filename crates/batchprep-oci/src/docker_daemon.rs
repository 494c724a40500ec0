//! `docker-daemon:REF`: an image read straight from a Docker engine, as `docker build -t app .`
//! left it, without `docker save` to a file first.
//!
//! The engine's export (`GET /images/{name}/get`, what `docker save` writes) is read once, as a
//! stream. Its metadata comes last: Moby writes members in lexical order, so `manifest.json`
//! follows the layers in both the legacy layout (Moby 20.10-24: `<v1-id>/layer.tar`, whose names
//! carry no digest) and the OCI layout of Moby 25+ (`blobs/sha256/<hex>`). So every layer is
//! hashed and indexed as it streams by, small JSON members are kept, and `manifest.json` then says
//! which indexed member is which layer; each layer is checked against the config's diff ids and
//! the config against the image ID `GET /images/{name}/json` reports. Nothing of the image is
//! written to disk or held in memory beyond the indexes and the JSON.

use std::{
    collections::HashMap,
    io::{Cursor, Read},
    sync::mpsc,
};

use serde::Deserialize;

use crate::{
    Error, ImageSource, MergedFs,
    config_json::ConfigJson,
    digest::{Algorithm, Digest, verify},
    engine_api::{EngineHost, get, path_escape},
    image::{Image, Layer, OpenOptions},
    layer::{Compression, LayerIndex, index_unverified},
    local::{DockerArchiveManifest, JSON_LIMIT, member_link_target, member_name, parse_json},
};

/// The fields of `GET /images/{name}/json` read here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImageInspect {
    id: String,
}

/// An indexed layer member of the export.
struct Indexed {
    index: std::sync::Arc<LayerIndex>,
    digest: Digest,
    size: u64,
    compression: Compression,
}

impl Indexed {
    /// A layer indexed under the digest its bytes hashed to (the index records it too).
    fn new(mut index: LayerIndex, digest: Digest, size: u64, compression: Compression) -> Self {
        index.digest = digest.to_string();
        Indexed {
            index: std::sync::Arc::new(index),
            digest,
            size,
            compression,
        }
    }
}

/// What the export stream left: layers indexed, small members kept, links to resolve.
#[derive(Default)]
struct Export {
    layers: HashMap<String, Indexed>,
    small: HashMap<String, Vec<u8>>,
    links: HashMap<String, String>,
}

impl Export {
    /// The member a (possibly linked) name ends at.
    fn resolve<'a>(&'a self, mut name: &'a str) -> &'a str {
        for _ in 0..16 {
            match self.links.get(name) {
                Some(target) => name = target,
                None => break,
            }
        }
        name
    }
}

/// Opens `docker-daemon:reference` on the engine `host` (see [`EngineHost::from_env`]). The engine
/// holds one image per name, so `options`' platform picks nothing; the image says its own.
pub fn open(reference: &str, host: &EngineHost, _options: &OpenOptions) -> Result<Image, Error> {
    let source = ImageSource::DockerDaemon {
        reference: reference.to_owned(),
    };
    let source = &source;
    let name = path_escape(reference);
    let location = format!("{source} (engine {host})");
    let inspect: ImageInspect = {
        let mut bytes = Vec::new();
        get(host, &format!("/images/{name}/json"))?
            .take(JSON_LIMIT)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Engine {
                host: host.to_string(),
                detail: format!("cannot read the image inspect answer: {e}"),
            })?;
        parse_json(&bytes, "image inspect", &location)?
    };
    let image_id = Digest::parse(&inspect.id, &location)?;
    let export = read_export(get(host, &format!("/images/{name}/get"))?, &location)?;
    assemble(source, &location, &image_id, export)
}

/// Streams the export tar once.
fn read_export(body: impl Read + Send, location: &str) -> Result<Export, Error> {
    let invalid = |detail: String| Error::Inconsistent {
        location: location.to_owned(),
        detail: format!("export stream: {detail}"),
    };
    let mut export = Export::default();
    let mut archive = tar::Archive::new(body);
    let entries = archive.entries().map_err(|e| invalid(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| invalid(e.to_string()))?;
        let kind = entry.header().entry_type();
        let name = member_name(&String::from_utf8_lossy(&entry.path_bytes()), "");
        if let Some(target) = member_link_target(&entry, &name) {
            export.links.insert(name, target);
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let size = entry.size();
        // The first bytes decide: JSON is kept (small), anything else is a layer.
        let mut start = [0u8; 4];
        let mut got = 0;
        while got < start.len() {
            match entry.read(&mut start[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => return Err(invalid(format!("{name}: {e}"))),
            }
        }
        let start = &start[..got];
        let layer_like = name.ends_with("/layer.tar")
            || (name.starts_with("blobs/") && !start.starts_with(b"{"));
        if !layer_like {
            if size > JSON_LIMIT {
                return Err(Error::JsonTooLarge {
                    blob: format!("{location}:{name}"),
                    size,
                    limit: JSON_LIMIT,
                });
            }
            let mut bytes = start.to_vec();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| invalid(format!("{name}: {e}")))?;
            export.small.insert(name, bytes);
            continue;
        }
        let compression = Compression::sniff(start);
        let label = format!("{location}:{name}");
        let (index, digest) = index_entry(start, &mut entry, compression, &label)?;
        export
            .layers
            .insert(name, Indexed::new(index, digest, size, compression));
    }
    Ok(export)
}

/// Indexes one tar member as it streams. The tar reader cannot cross threads (the indexer hashes
/// on one), so this thread pumps its bytes to the indexer through a bounded channel.
fn index_entry(
    start: &[u8],
    entry: &mut impl Read,
    compression: Compression,
    label: &str,
) -> Result<(LayerIndex, Digest), Error> {
    let (tx, rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
    std::thread::scope(|scope| {
        let indexer = scope.spawn(move || {
            let reader = ChannelReader {
                chunks: rx,
                current: Cursor::new(Vec::new()),
            };
            index_unverified(reader, compression, Algorithm::Sha256, label)
        });
        let mut pending = Some(start.to_vec());
        loop {
            let chunk = match pending.take() {
                Some(first) => Ok(first),
                None => {
                    let mut buf = vec![0u8; CHUNK];
                    match entry.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            buf.truncate(n);
                            Ok(buf)
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            let failed = chunk.is_err();
            // A closed channel means the indexer stopped early; its error says why.
            if tx.send(chunk).is_err() || failed {
                break;
            }
        }
        drop(tx);
        indexer.join().expect("layer indexer panicked")
    })
}

/// Chunks from [`index_entry`]'s pump, as a reader.
struct ChannelReader {
    chunks: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Cursor<Vec<u8>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.current.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.chunks.recv() {
                Ok(chunk) => self.current = Cursor::new(chunk?),
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Bytes read from the export per chunk handed to an indexer.
const CHUNK: usize = 256 * 1024;

/// Matches the streamed members to the export's `manifest.json` and the image ID.
fn assemble(
    source: &ImageSource,
    location: &str,
    image_id: &Digest,
    mut export: Export,
) -> Result<Image, Error> {
    let inconsistent = |detail: String| Error::Inconsistent {
        location: location.to_owned(),
        detail,
    };
    let manifest_bytes = export
        .small
        .get("manifest.json")
        .ok_or_else(|| inconsistent("the export has no manifest.json".into()))?;
    let manifests: Vec<DockerArchiveManifest> = parse_json(
        manifest_bytes,
        "manifest",
        &format!("{location}:manifest.json"),
    )?;
    let chosen = manifests
        .iter()
        .find(|m| {
            let config = export.resolve(&m.config);
            config.ends_with(&image_id.hex) || config.ends_with(&format!("{}.json", image_id.hex))
        })
        .ok_or_else(|| {
            inconsistent(format!(
                "the export's manifest.json does not list image {image_id}"
            ))
        })?;
    let config_name = export.resolve(&chosen.config).to_owned();
    let config_blob = format!("{location}:{config_name}");
    let config_bytes = export
        .small
        .get(&config_name)
        .ok_or_else(|| Error::MissingBlob {
            blob: chosen.config.clone(),
            location: location.to_owned(),
        })?;
    verify(config_bytes, image_id, &config_blob)?;
    let config: ConfigJson = parse_json(config_bytes, "config", &config_blob)?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if diff_ids.len() != chosen.layers.len() {
        return Err(inconsistent(format!(
            "config lists {} diff_ids but manifest.json lists {} layers",
            diff_ids.len(),
            chosen.layers.len()
        )));
    }
    // A tiny layer that happened to start with `{` was kept as JSON: index it now.
    for name in &chosen.layers {
        let name = export.resolve(name).to_owned();
        if !export.layers.contains_key(&name) {
            if let Some(bytes) = export.small.remove(&name) {
                let compression = Compression::sniff(&bytes);
                let label = format!("{location}:{name}");
                let size = bytes.len() as u64;
                let (index, digest) =
                    index_unverified(Cursor::new(bytes), compression, Algorithm::Sha256, &label)?;
                export
                    .layers
                    .insert(name, Indexed::new(index, digest, size, compression));
            }
        }
    }
    let mut layers = Vec::with_capacity(diff_ids.len());
    let mut indexes = Vec::with_capacity(diff_ids.len());
    for (name, diff_id) in chosen.layers.iter().zip(&diff_ids) {
        let member = export.resolve(name);
        let layer = export
            .layers
            .get(member)
            .ok_or_else(|| Error::MissingBlob {
                blob: name.clone(),
                location: location.to_owned(),
            })?;
        // Uncompressed, the blob is the diff; compressed (containerd's store), its name says.
        let expected = match layer.compression {
            Compression::None => Digest::parse(diff_id, &config_blob)?,
            _ => crate::local::digest_in_name(member).ok_or_else(|| {
                inconsistent(format!(
                    "compressed layer {member} whose name carries no digest"
                ))
            })?,
        };
        if layer.digest != expected {
            return Err(Error::DigestMismatch {
                blob: format!("{location}:{member}"),
                expected: expected.to_string(),
                actual: layer.digest.to_string(),
            });
        }
        let media_type = match layer.compression {
            Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
            Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            Compression::Zstd => "application/vnd.docker.image.rootfs.diff.tar.zstd",
        };
        layers.push(Layer {
            digest: layer.digest.to_string(),
            media_type: media_type.to_owned(),
            size: layer.size,
            uncompressed_size: Some(layer.index.uncompressed_size),
        });
        indexes.push(std::sync::Arc::clone(&layer.index));
    }
    Ok(Image {
        source: source.to_string(),
        manifest_digest: image_id.to_string(),
        config_digest: image_id.to_string(),
        platform: config.platform(),
        config: config.into_image_config(),
        layers,
        fs: MergedFs::try_from_shared_layers(indexes)?,
    })
}

#[cfg(test)]
mod tests {
    use batchprep_testkit::{TarBuilder, sha256};

    use super::*;

    /// The export as Moby 25+ writes it (OCI layout members plus `manifest.json`), which Debian's
    /// dockerd (20.10) cannot produce: layers under `blobs/sha256/`, linked repeats, metadata last.
    #[test]
    fn reads_the_oci_layout_export_of_moby_25() {
        let layer = TarBuilder::new()
            .file("app/run.sh", 0o755, b"#!/bin/sh\necho hi\n")
            .finish();
        let layer_digest = sha256(&layer);
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Entrypoint": ["/app/run.sh"]},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest, layer_digest]},
        }))
        .unwrap();
        let config_digest = sha256(&config);
        let hex = |d: &str| d.trim_start_matches("sha256:").to_owned();
        let manifest = serde_json::to_vec(&serde_json::json!([{
            "Config": format!("blobs/sha256/{}", hex(&config_digest)),
            "RepoTags": ["app:1"],
            "Layers": [format!("blobs/sha256/{}", hex(&layer_digest)), "blobs/sha256/repeat"],
        }]))
        .unwrap();
        let export = TarBuilder::new()
            .file(
                format!("blobs/sha256/{}", hex(&config_digest)),
                0o644,
                &config,
            )
            .file(
                format!("blobs/sha256/{}", hex(&layer_digest)),
                0o644,
                &layer,
            )
            .symlink("blobs/sha256/repeat", &hex(&layer_digest))
            .file("index.json", 0o644, b"{}")
            .file("manifest.json", 0o644, &manifest)
            .finish();
        let source = ImageSource::DockerDaemon {
            reference: "app:1".into(),
        };
        let streamed = read_export(Cursor::new(export), "test").unwrap();
        let id = Digest::parse(&config_digest, "test").unwrap();
        let image = assemble(&source, "test", &id, streamed).unwrap();
        assert_eq!(image.config_digest, config_digest);
        assert_eq!(image.layers.len(), 2);
        assert_eq!(image.layers[1].digest, layer_digest);
        assert_eq!(image.layers[0].size, layer.len() as u64);
        assert!(image.fs.entry("/app/run.sh").is_some());

        // A config that is not the image the engine named is refused.
        let other = Digest::of(Algorithm::Sha256, b"other");
        let export = TarBuilder::new()
            .file("manifest.json", 0o644, &manifest)
            .finish();
        let err = assemble(
            &source,
            "test",
            &other,
            read_export(Cursor::new(export), "test").unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("test: the export's manifest.json does not list image {other}")
        );
    }
}
