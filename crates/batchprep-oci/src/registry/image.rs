//! Registry images (`docker://REF` or a bare `REF`) for `inspect` and `lint`, through `oci-client`:
//! the manifest (the platform's entry of an index) and the config first, then each layer streamed
//! from the registry into [`index_layer`] (decompressed, hashed against its digest, never held whole
//! in memory). Each layer's file index is cached under `$XDG_CACHE_HOME/batchprep/layers/`, keyed by
//! the layer digest, so a base layer shared by many images is downloaded and read once across runs;
//! within a run, every blob (manifest, config, layer) is fetched once, whoever asks for it, and the
//! runtime and clients are built once (`shared`). Indexes are followed by platform, nested ones too.
//!
//! Credentials come from the same sources as `registry check` (DESIGN §6); refresh tokens are
//! exchanged by the probe's token flow, since `oci-client` only speaks Basic and bearer.

use std::{
    io::{self, Read},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use futures_util::StreamExt as _;
use oci_client::{
    Client, RegistryOperation,
    client::{ClientConfig, ClientProtocol},
    secrets::RegistryAuth,
};

use super::{
    CredentialPaths, CredentialStore, SecretKind,
    probe::{MANIFEST_ACCEPT, MAX_MANIFEST_BYTES},
    shared,
};
use crate::{
    Error, Image, Layer, LayerIndex, MergedFs, OpenOptions, Reference,
    config_json::{ConfigJson, Descriptor, ManifestJson, platform_entry},
    index_layer,
    reference::DOCKER_HUB_API_HOST,
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
    /// How long one request may wait to connect and between reads (`--timeout`).
    pub timeout: Duration,
    /// Where Docker Hub's registry API is reached: [`DOCKER_HUB_API_HOST`], or a pull-through
    /// mirror (or test server) the run names, as the probe reaches it.
    pub docker_hub_host: String,
}

/// The request timeout when none is given, as for the registry probe.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
            timeout: DEFAULT_TIMEOUT,
            docker_hub_host: DOCKER_HUB_API_HOST.to_owned(),
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

/// Opens a registry image for `options.platform`. Blobs other readers in this process fetched or are
/// fetching (and layer indexes in the cache) are not fetched again.
pub fn open(
    reference: &Reference,
    options: &OpenOptions,
    access: &RegistryAccess,
) -> Result<Image, Error> {
    let source = format!("docker://{reference}");
    let shared = shared::shared();
    let runtime = shared
        .runtime
        .as_ref()
        .map_err(|e| image_error(&source, PullError::Client(e.clone())))?;
    let target = client_reference(reference, access);
    let auth = runtime
        .block_on(auth_for(reference, access))
        .map_err(|e| image_error(&source, e))?;
    let client = client_for(target.registry(), access, &auth)?;
    let reader = Reader {
        runtime,
        client: &client,
        auth: &auth,
        target: &target,
        source: &source,
    };

    let (manifest_bytes, mut manifest_digest) = reader.manifest(reference)?;
    let mut manifest = parse_manifest(&source, &manifest_bytes)?;
    // Indexes are followed by platform, nested ones too (bounded, as for local layouts).
    let mut depth = 0;
    while let Some(entries) = manifest.manifests.take() {
        depth += 1;
        if depth > 4 {
            return Err(image_error(
                &source,
                PullError::Manifest(format!("index {manifest_digest} nests more than 4 deep")),
            ));
        }
        let digest = platform_entry(&entries, &options.platform, || source.clone())?
            .digest
            .clone();
        let bytes = reader.manifest_by_digest(&digest)?;
        manifest_digest = digest;
        manifest = parse_manifest(&source, &bytes)?;
    }
    let config_desc = manifest.config.ok_or_else(|| {
        image_error(
            &source,
            PullError::Manifest("the manifest names no config".into()),
        )
    })?;
    if let Some(kind) = crate::config_json::artifact_kind(&config_desc.media_type) {
        return Err(Error::NotAContainerImage {
            location: source.clone(),
            media_type: config_desc.media_type,
            kind,
        });
    }
    let config_bytes = reader.config(&config_desc.digest)?;
    let config: ConfigJson =
        serde_json::from_slice(&config_bytes).map_err(|e| Error::InvalidJson {
            what: "config",
            blob: format!("{source} config {}", config_desc.digest),
            detail: crate::safe_text::json_error(&e),
        })?;
    let platform = config.platform();
    let image_config = config.into_image_config();

    let indexes = reader.layers(access, &manifest.layers)?;
    let layers = manifest
        .layers
        .iter()
        .zip(&indexes)
        .map(|(desc, index)| Layer {
            digest: desc.digest.clone(),
            media_type: desc.media_type.clone(),
            size: desc.size,
            uncompressed_size: Some(index.uncompressed_size),
        })
        .collect();
    Ok(Image {
        source,
        manifest_digest,
        config_digest: config_desc.digest,
        platform,
        config: image_config,
        layers,
        fs: MergedFs::try_from_shared_layers(indexes)?,
    })
}

/// The `oci-client` form of a reference, built from its already-checked parts (parsing the text
/// again would compile `oci-client`'s reference regex, most of a warm `inspect`).
fn client_reference(reference: &Reference, access: &RegistryAccess) -> oci_client::Reference {
    // Docker Hub through the host the run names, as the probe reaches it; its credentials stay
    // Docker Hub's.
    let registry = if reference.is_docker_hub() && access.docker_hub_host != DOCKER_HUB_API_HOST {
        access.docker_hub_host.clone()
    } else {
        reference.registry.clone()
    };
    let repository = reference.repository.clone();
    match (&reference.tag, &reference.digest) {
        (Some(t), Some(d)) => {
            oci_client::Reference::with_tag_and_digest(registry, repository, t.clone(), d.clone())
        }
        (None, Some(d)) => oci_client::Reference::with_digest(registry, repository, d.clone()),
        (t, None) => oci_client::Reference::with_tag(
            registry,
            repository,
            t.clone().unwrap_or_else(|| "latest".to_owned()),
        ),
    }
}

/// The process's client for this registry, transport settings and credential: built once, so the
/// TLS roots are loaded and connections and tokens reused across images.
fn client_for(host: &str, access: &RegistryAccess, auth: &RegistryAuth) -> Result<Client, Error> {
    use sha2::Digest as _;
    let who = match auth {
        RegistryAuth::Anonymous => "anonymous".to_owned(),
        RegistryAuth::Basic(user, password) => format!(
            "basic {user} {}",
            hex::encode(sha2::Sha256::digest(password.as_bytes()))
        ),
        RegistryAuth::Bearer(token) => {
            format!(
                "bearer {}",
                hex::encode(sha2::Sha256::digest(token.as_bytes()))
            )
        }
    };
    let key = format!(
        "{}\n{:?}\n{:?}\n{:?}\n{who}",
        host, access.insecure_registries, access.cert_dir, access.timeout
    );
    let clients = &shared::shared().clients;
    if let Some(c) = shared::lock(clients).get(&key) {
        return Ok(c.clone());
    }
    // A layer download may take long as a whole; what is bounded is each wait for the registry.
    let mut config = ClientConfig {
        protocol: ClientProtocol::HttpsExcept(access.insecure_registries.clone()),
        connect_timeout: Some(access.timeout.min(Duration::from_secs(10))),
        read_timeout: Some(access.timeout),
        ..ClientConfig::default()
    };
    if let Some(dir) = &access.cert_dir {
        for path in super::probe::cert_files(dir, host).map_err(|e| Error::io(dir.clone(), e))? {
            // Bounded: a FIFO or a device in the certificate directory is an error, not a hang.
            let data = crate::input::read_file(&path, crate::input::TEXT_LIMIT)?;
            config
                .extra_root_certificates
                .push(oci_client::client::Certificate {
                    encoding: oci_client::client::CertificateEncoding::Pem,
                    data,
                });
        }
    }
    let client = Client::new(config);
    Ok(shared::lock(clients).entry(key).or_insert(client).clone())
}

/// One image's reads, through the process-wide content store.
struct Reader<'a> {
    runtime: &'a tokio::runtime::Runtime,
    client: &'a Client,
    auth: &'a RegistryAuth,
    target: &'a oci_client::Reference,
    source: &'a str,
}

/// Layers of one image read at once (each a download plus a decompressing reader thread).
const PARALLEL_LAYERS: usize = 4;

impl Reader<'_> {
    /// The manifest the reference names, and its digest: by digest from the store when the probe
    /// (or another reader) fetched it, else from the registry, once per tag.
    fn manifest(&self, reference: &Reference) -> Result<(Arc<[u8]>, String), Error> {
        if let Some(d) = &reference.digest {
            return Ok((self.manifest_by_digest(d)?, d.clone()));
        }
        let shared = shared::shared();
        let tag = shared::tag_key(
            &reference.registry,
            &reference.repository,
            reference.tag_or_latest().unwrap_or("latest"),
        );
        let known = shared::lock(&shared.tags).get(&tag).cloned();
        if let Some(d) = known {
            return Ok((self.manifest_by_digest(&d)?, d));
        }
        let (bytes, digest) = self.fetch_manifest(self.target)?;
        shared.blobs.offer(&digest, Arc::clone(&bytes));
        shared::lock(&shared.tags)
            .entry(tag)
            .or_insert_with(|| digest.clone());
        Ok((bytes, digest))
    }

    fn manifest_by_digest(&self, digest: &str) -> Result<Arc<[u8]>, Error> {
        shared::shared().blobs.get_or_try(digest, || {
            let target = self.target.clone_with_digest(digest.to_owned());
            let (bytes, actual) = self.fetch_manifest(&target)?;
            if actual != digest {
                return Err(image_error(
                    self.source,
                    PullError::Manifest(format!(
                        "manifest digest mismatch: asked for {digest}, the content is {actual}"
                    )),
                ));
            }
            Ok(bytes)
        })
    }

    fn fetch_manifest(&self, target: &oci_client::Reference) -> Result<(Arc<[u8]>, String), Error> {
        let accept: Vec<&str> = MANIFEST_ACCEPT.split(", ").collect();
        let (bytes, digest) = self
            .runtime
            .block_on(self.client.pull_manifest_raw(target, self.auth, &accept))
            .map_err(|e| image_error(self.source, e))?;
        Ok((Arc::from(bytes.as_ref()), digest))
    }

    /// The config blob (verified against its digest by `oci-client`), fetched once per process.
    fn config(&self, digest: &str) -> Result<Arc<[u8]>, Error> {
        shared::shared().blobs.get_or_try(digest, || {
            let mut bytes = Vec::new();
            self.runtime
                .block_on(async {
                    self.client
                        .store_auth_if_needed(self.target.resolve_registry(), self.auth)
                        .await;
                    self.client.pull_blob(self.target, digest, &mut bytes).await
                })
                .map_err(|e| image_error(self.source, e))?;
            Ok(Arc::from(bytes))
        })
    }

    /// Every layer's index, a few layers at a time, each from this process's store, the cache, or
    /// the registry (once per digest); fails with the first layer's error in order.
    fn layers(
        &self,
        access: &RegistryAccess,
        descs: &[Descriptor],
    ) -> Result<Vec<Arc<LayerIndex>>, Error> {
        let mut out = Vec::with_capacity(descs.len());
        for chunk in descs.chunks(PARALLEL_LAYERS) {
            let read: Vec<Result<Arc<LayerIndex>, Error>> = std::thread::scope(|scope| {
                let jobs: Vec<_> = chunk
                    .iter()
                    .map(|desc| scope.spawn(move || self.layer(access, desc)))
                    .collect();
                jobs.into_iter()
                    .map(|j| j.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            });
            for r in read {
                out.push(r?);
            }
        }
        Ok(out)
    }

    fn layer(&self, access: &RegistryAccess, desc: &Descriptor) -> Result<Arc<LayerIndex>, Error> {
        shared::shared().layers.get_or_try(&desc.digest, || {
            if let Some(index) = cached(access, &desc.digest) {
                return Ok(Arc::new(index));
            }
            self.runtime.block_on(
                self.client
                    .store_auth_if_needed(self.target.resolve_registry(), self.auth),
            );
            let index = stream_layer(self.runtime, self.client, self.target, desc, self.source)?;
            store(access, &index);
            Ok(Arc::new(index))
        })
    }
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
            .join(crate::layer::INDEX_FORMAT)
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
    // Serialised whole first: `to_writer` on the file makes a write(2) per JSON token (hundreds of
    // thousands for a large layer).
    let Ok(json) = serde_json::to_vec(index) else {
        return;
    };
    // Written to a temporary file and renamed, so a concurrent run never reads half an index.
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir)
        && io::Write::write_all(&mut tmp, &json).is_ok()
    {
        let _ = tmp.persist(&path);
    }
}
