//! Registry images (`docker://REF` or a bare `REF`) for `inspect` and `lint`, through `oci-client`:
//! the manifest (the platform's entry of an index) and the config first, then each layer streamed
//! from the registry into [`index_layer`] (decompressed, hashed against its digest, never held whole
//! in memory). Each layer's file index is cached under `$XDG_CACHE_HOME/batchprep/layers/`, keyed by
//! the layer digest, so a base layer shared by many images is downloaded and read once across runs.
//!
//! Credentials come from the same sources as `registry check` (DESIGN §6); refresh tokens are
//! exchanged by the probe's token flow, since `oci-client` only speaks Basic and bearer.

use std::{
    io::{self, Read},
    path::PathBuf,
    sync::Arc,
};

use futures_util::StreamExt as _;
use oci_client::{
    Client, RegistryOperation,
    client::{ClientConfig, ClientProtocol},
    secrets::RegistryAuth,
};
use serde::Deserialize;

use super::{
    CredentialPaths, CredentialStore, SecretKind,
    probe::{MANIFEST_ACCEPT, MAX_MANIFEST_BYTES},
};
use crate::{
    Error, Image, Layer, LayerIndex, MergedFs, OpenOptions, Reference,
    config_json::{ConfigJson, Descriptor},
    index_layer,
};

/// How registry images are reached and cached.
#[derive(Debug, Clone)]
pub struct RegistryAccess {
    /// Where credentials come from.
    pub credentials: Arc<CredentialStore>,
    /// Hosts reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Extra CA certificates (PEM files in this directory).
    pub cert_dir: Option<PathBuf>,
    /// The layer-index cache directory; `None` reads every layer (`--no-cache`).
    pub cache_dir: Option<PathBuf>,
}

impl RegistryAccess {
    /// From the environment: the usual credential files, `BATCHPREP_INSECURE_REGISTRIES`
    /// (comma-separated hosts), `BATCHPREP_CERT_DIR`, and the cache under `$XDG_CACHE_HOME/batchprep`
    /// (or `~/.cache/batchprep`) unless `BATCHPREP_NO_CACHE` is set.
    pub fn from_env() -> Result<RegistryAccess, Error> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let credentials = CredentialStore::load(&CredentialPaths::from_env(), None)
            .map_err(|e| Error::io(PathBuf::from("registry credentials"), io::Error::other(e)))?;
        let cache_dir = if var("BATCHPREP_NO_CACHE").is_some() {
            None
        } else {
            default_cache_dir()
        };
        Ok(RegistryAccess {
            credentials: Arc::new(credentials),
            insecure_registries: var("BATCHPREP_INSECURE_REGISTRIES")
                .map(|v| v.split(',').map(|h| h.trim().to_owned()).collect())
                .unwrap_or_default(),
            cert_dir: var("BATCHPREP_CERT_DIR").map(PathBuf::from),
            cache_dir,
        })
    }
}

/// `$XDG_CACHE_HOME/batchprep`, or `~/.cache/batchprep`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .map(|d| d.join("batchprep"))
}

/// Why a registry image could not be read (wrapped in [`Error::Io`] naming the image).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullError {
    /// The registry client failed (auth, HTTP status, transport).
    #[error("{0}")]
    Client(String),
    /// The manifest is not one we read.
    #[error("{0}")]
    Manifest(String),
}

fn image_error(_source: &str, e: impl Into<PullError>) -> Error {
    // The caller names the image; this names where it failed.
    Error::io(
        PathBuf::from("from the registry"),
        io::Error::other(e.into()),
    )
}

impl From<oci_client::errors::OciDistributionError> for PullError {
    fn from(e: oci_client::errors::OciDistributionError) -> Self {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        PullError::Client(message)
    }
}

#[derive(Deserialize)]
struct ManifestJson {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// Opens a registry image for `options.platform`.
pub fn open(
    reference: &Reference,
    options: &OpenOptions,
    access: &RegistryAccess,
) -> Result<Image, Error> {
    let source = format!("docker://{reference}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            image_error(
                &source,
                PullError::Client(format!("cannot start the async runtime: {e}")),
            )
        })?;
    let target: oci_client::Reference =
        reference
            .to_string()
            .parse()
            .map_err(|e: oci_client::ParseError| {
                image_error(&source, PullError::Client(e.to_string()))
            })?;
    let mut config = ClientConfig {
        protocol: ClientProtocol::HttpsExcept(access.insecure_registries.clone()),
        ..ClientConfig::default()
    };
    if let Some(dir) = &access.cert_dir {
        for path in super::probe::cert_files(dir, &reference.registry)
            .map_err(|e| Error::io(dir.clone(), e))?
        {
            let data = std::fs::read(&path).map_err(|e| Error::io(path.clone(), e))?;
            config
                .extra_root_certificates
                .push(oci_client::client::Certificate {
                    encoding: oci_client::client::CertificateEncoding::Pem,
                    data,
                });
        }
    }
    let client = Client::new(config);
    let auth = runtime
        .block_on(auth_for(reference, access))
        .map_err(|e| image_error(&source, e))?;

    let accept: Vec<&str> = MANIFEST_ACCEPT.split(", ").collect();
    let (manifest_bytes, mut manifest_digest) = runtime
        .block_on(client.pull_manifest_raw(&target, &auth, &accept))
        .map_err(|e| image_error(&source, e))?;
    let mut manifest = parse_manifest(&source, &manifest_bytes)?;
    let mut target = target;
    if let Some(entries) = manifest.manifests.take() {
        let mut available = Vec::new();
        let mut chosen = None;
        for entry in &entries {
            let Some(p) = &entry.platform else { continue };
            let have = p.platform();
            if have.os == "unknown" {
                continue;
            }
            if chosen.is_none() && options.platform.matches(&have) {
                chosen = Some(entry.digest.clone());
            }
            available.push(have.to_string());
        }
        let Some(digest) = chosen else {
            return Err(Error::PlatformNotFound {
                wanted: options.platform.to_string(),
                location: source,
                available: available.join(", "),
            });
        };
        target = oci_client::Reference::with_digest(
            target.registry().to_owned(),
            target.repository().to_owned(),
            digest.clone(),
        );
        let (bytes, d) = runtime
            .block_on(client.pull_manifest_raw(&target, &auth, &accept))
            .map_err(|e| image_error(&source, e))?;
        manifest_digest = d;
        manifest = parse_manifest(&source, &bytes)?;
        if manifest.manifests.is_some() {
            return Err(image_error(
                &source,
                PullError::Manifest(format!("index {digest} points to another index")),
            ));
        }
    }
    let config_desc = manifest.config.ok_or_else(|| {
        image_error(
            &source,
            PullError::Manifest("the manifest names no config".into()),
        )
    })?;
    let mut config_bytes = Vec::new();
    runtime
        .block_on(client.pull_blob(&target, config_desc.digest.as_str(), &mut config_bytes))
        .map_err(|e| image_error(&source, e))?;
    let config: ConfigJson =
        serde_json::from_slice(&config_bytes).map_err(|e| Error::InvalidJson {
            what: "config",
            blob: format!("{source} config {}", config_desc.digest),
            detail: crate::safe_text::json_error(&e),
        })?;
    let platform = config.platform();
    let image_config = config.into_image_config();

    let mut layers = Vec::new();
    let mut indexes = Vec::new();
    for desc in &manifest.layers {
        let index = match cached(access, &desc.digest) {
            Some(index) => index,
            None => {
                let index = stream_layer(&runtime, &client, &target, desc, &source)?;
                store(access, &index);
                index
            }
        };
        layers.push(Layer {
            digest: desc.digest.clone(),
            media_type: desc.media_type.clone(),
            size: desc.size,
            uncompressed_size: Some(index.uncompressed_size),
        });
        indexes.push(index);
    }
    Ok(Image {
        source,
        manifest_digest,
        config_digest: config_desc.digest,
        platform,
        config: image_config,
        layers,
        fs: MergedFs::from_layers(indexes),
    })
}

fn parse_manifest(source: &str, bytes: &[u8]) -> Result<ManifestJson, Error> {
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::JsonTooLarge {
            blob: format!("{source} manifest"),
            size: bytes.len() as u64,
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let m: ManifestJson = serde_json::from_slice(bytes).map_err(|e| Error::InvalidJson {
        what: "manifest",
        blob: format!("{source} manifest"),
        detail: crate::safe_text::json_error(&e),
    })?;
    let _ = &m.media_type;
    Ok(m)
}

/// The `oci-client` auth for `reference`: Basic for a password, a bearer token fetched with the
/// refresh-token grant for identity tokens.
async fn auth_for(
    reference: &Reference,
    access: &RegistryAccess,
) -> Result<RegistryAuth, PullError> {
    let credential = access
        .credentials
        .resolve(&reference.registry, &reference.repository)
        .await
        .map_err(|e| PullError::Client(e.to_string()))?;
    Ok(match credential {
        None => RegistryAuth::Anonymous,
        Some(c) if c.kind == SecretKind::Password => {
            RegistryAuth::Basic(c.username.clone(), c.secret.expose().to_owned())
        }
        Some(c) => {
            // oci-client has no refresh-token grant: the probe's token flow fetches the token.
            let _ = RegistryOperation::Pull;
            let probe = super::PullProbe::new(
                super::ProbeOptions {
                    insecure_registries: access.insecure_registries.clone(),
                    cert_dir: access.cert_dir.clone(),
                    platforms: false,
                    ..super::ProbeOptions::default()
                },
                Arc::new(CredentialStore::anonymous()),
            );
            match probe.bearer_token(reference, &c).await {
                Some(token) => RegistryAuth::Bearer(token.expose().to_owned()),
                None => {
                    return Err(PullError::Client(format!(
                        "the refresh token from {} was refused",
                        c.source
                    )));
                }
            }
        }
    })
}

/// Streams one layer from the registry into the indexer: an async task feeds chunks through a small
/// bounded channel to the blocking reader `index_layer` consumes.
fn stream_layer(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    target: &oci_client::Reference,
    desc: &Descriptor,
    source: &str,
) -> Result<LayerIndex, Error> {
    let stream = runtime
        .block_on(client.pull_blob_stream(target, desc.digest.as_str()))
        .map_err(|e| image_error(source, e))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<bytes::Bytes>>(8);
    let progress = download_progress(desc);
    runtime.spawn(async move {
        let mut stream = stream.stream;
        while let Some(chunk) = stream.next().await {
            if let Ok(c) = &chunk {
                progress.inc(c.len() as u64);
            }
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
        progress.finish_and_clear();
    });
    let reader = ChannelReader {
        rx,
        current: bytes::Bytes::new(),
    };
    index_layer(reader, &desc.media_type, &desc.digest)
}

/// A download bar on stderr, only when stderr is a terminal (never in CI logs or pipes).
fn download_progress(desc: &Descriptor) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(desc.size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
    ) {
        bar.set_style(style);
    }
    let short = desc.digest.get(..19).unwrap_or(&desc.digest);
    bar.set_message(format!("layer {short}"));
    bar
}

struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

fn cache_path(access: &RegistryAccess, digest: &str) -> Option<PathBuf> {
    let (alg, hex) = digest.split_once(':')?;
    if !crate::reference::valid_digest(digest) {
        return None;
    }
    Some(
        access
            .cache_dir
            .as_ref()?
            .join("layers")
            .join(alg)
            .join(format!("{hex}.json")),
    )
}

/// A cached index, when present and readable (a corrupt entry is read again from the registry).
fn cached(access: &RegistryAccess, digest: &str) -> Option<LayerIndex> {
    let path = cache_path(access, digest)?;
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice::<LayerIndex>(&bytes)
        .ok()
        .filter(|i| i.digest == digest)
}

/// Stores an index; a cache that cannot be written only costs the next run a download.
fn store(access: &RegistryAccess, index: &LayerIndex) {
    let Some(path) = cache_path(access, &index.digest) else {
        return;
    };
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Written to a temporary file and renamed, so a concurrent run never reads half an index.
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir)
        && serde_json::to_writer(&mut tmp, index).is_ok()
    {
        let _ = tmp.persist(&path);
    }
}
