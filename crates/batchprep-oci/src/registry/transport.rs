//! The HTTP side of talking to a registry: one `reqwest` client (one connection pool) per registry,
//! TLS verified by default with the system roots plus `--cert-dir`, and plain HTTP or unverified TLS
//! only for hosts named with `--insecure-registry`. Also turns transport errors into outcomes.

use std::{path::PathBuf, time::Duration};

use tokio::sync::OnceCell;

use super::probe::{Outcome, ProbeOptions};

/// Why a registry client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The `--cert-dir` directory could not be listed.
    #[error("cannot read certificate directory {path}")]
    CertDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A certificate file could not be read or is not PEM.
    #[error("certificate file {path} is not a readable PEM certificate")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The HTTP client could not be built with these TLS settings.
    #[error("cannot set up the HTTP client for {host}")]
    Client {
        /// The registry host.
        host: String,
        /// The client error.
        #[source]
        source: reqwest::Error,
    },
}

/// A registry's base address and its client.
pub(crate) struct Endpoint {
    /// The client; its pool is shared by every request to this registry.
    pub(crate) client: reqwest::Client,
    host: String,
    insecure: bool,
    scheme: OnceCell<&'static str>,
}

/// The client for `host` under `options`.
pub(crate) fn endpoint(
    host: &str,
    insecure: bool,
    options: &ProbeOptions,
) -> Result<Endpoint, TransportError> {
    Ok(Endpoint {
        client: client(host, insecure, options)?,
        host: host.to_owned(),
        insecure,
        scheme: OnceCell::new(),
    })
}

/// A `reqwest` client for `host`: rustls, redirects bounded, timeouts, extra CAs, and certificate
/// checks off only for an insecure host.
pub(crate) fn client(
    host: &str,
    insecure: bool,
    options: &ProbeOptions,
) -> Result<reqwest::Client, TransportError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("batchprep/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::limited(5))
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(Duration::from_secs(10)))
        .pool_max_idle_per_host(options.concurrency.max(1));
    if let Some(dir) = &options.cert_dir {
        let files = cert_files(dir, host).map_err(|source| TransportError::CertDir {
            path: dir.clone(),
            source,
        })?;
        let mut certs = Vec::new();
        for path in files {
            let bad =
                |source: Box<dyn std::error::Error + Send + Sync>| TransportError::Certificate {
                    path: path.clone(),
                    source,
                };
            let pem = std::fs::read(&path).map_err(|e| bad(Box::new(e)))?;
            let bundle =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(Box::new(e)))?;
            if bundle.is_empty() {
                return Err(bad("no PEM certificate in the file".into()));
            }
            certs.extend(bundle);
        }
        builder = builder.tls_certs_merge(certs);
    }
    if insecure {
        builder = builder
            .tls_danger_accept_invalid_certs(true)
            .tls_danger_accept_invalid_hostnames(true);
    }
    builder.build().map_err(|source| TransportError::Client {
        host: host.to_owned(),
        source,
    })
}

impl Endpoint {
    /// The absolute URL of `path` (`/v2/...`). For an insecure host, plain HTTP is used when it
    /// answers `/v2/` as a registry (the `Docker-Distribution-API-Version` header), else HTTPS
    /// without verification; decided once per run. (Trying HTTPS first against a plain-HTTP registry
    /// costs a stalled handshake on every run.)
    pub(crate) async fn url(&self, path: &str) -> Result<String, (Outcome, String)> {
        let scheme = if self.insecure {
            *self
                .scheme
                .get_or_init(|| async {
                    let ping = format!("http://{}/v2/", self.host);
                    match self.client.get(&ping).send().await {
                        Ok(r) if r.headers().contains_key("docker-distribution-api-version") => {
                            "http"
                        }
                        _ => "https",
                    }
                })
                .await
        } else {
            "https"
        };
        Ok(format!("{scheme}://{}{path}", self.host))
    }
}

/// What a transport error means for the probe: a TLS failure, an unreachable host, or an error.
pub(crate) fn classify_error(e: &reqwest::Error) -> (Outcome, String) {
    let detail = chain(e);
    if e.is_redirect() {
        return (
            Outcome::Error,
            format!("redirect loop or too many redirects: {detail}"),
        );
    }
    if is_tls(e) {
        return (Outcome::TlsError, detail);
    }
    if e.is_timeout() {
        return (Outcome::Unreachable, format!("timed out: {detail}"));
    }
    if e.is_connect() || e.is_request() || e.is_body() {
        return (Outcome::Unreachable, detail);
    }
    (Outcome::Error, detail)
}

fn is_tls(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        source = err.source();
    }
    // rustls errors reach us re-wrapped by the connector; their messages are stable enough.
    let text = chain(e).to_ascii_lowercase();
    [
        "certificate",
        "tls handshake",
        "invalidcontenttype",
        "corrupt message",
        "received fatal alert",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The error and its causes, deduplicated, on one line.
fn chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        source = err.source();
    }
    parts.join(": ")
}

/// Where `--cert-dir` certificates for `host` are: the directory itself and `<dir>/<host>/`.
pub(crate) fn cert_files(dir: &std::path::Path, host: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for d in [dir.to_path_buf(), dir.join(host)] {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && d != dir => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "crt" || e == "pem") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
