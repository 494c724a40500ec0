//! The pull-access probe: can this reference be pulled, with these credentials, right now?
//!
//! It asks the registry the way a node would (the distribution API and its token flow) but without
//! spending pulls: a `HEAD` of the manifest with the full Accept list decides most cases. A `GET` is
//! used only where a `HEAD` cannot decide (which of "repository" or "tag" is missing, the platforms an
//! image offers), and never for a Docker Hub manifest, where every manifest `GET` counts as a pull.
//! Every answer becomes one [`Outcome`]; a finding or an exit code is the caller's business. The
//! outcome types live in `outcome`, challenge parsing in `challenge`, HTTP clients in `transport`.

use std::{
    collections::HashMap,
    fmt,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode, header};
use sha2::{Digest as _, Sha256};

pub use super::outcome::{AuthScheme, AuthUsed, Outcome, ProbeResult, RateLimit};
pub(crate) use super::transport::cert_files;
use super::{
    Secret,
    challenge::{Challenge, parse_challenge, token_from_body},
    credentials::{Credential, CredentialStore, SecretKind},
    transport::{self, Endpoint, TransportError},
};
use crate::reference::{DOCKER_HUB_API_HOST, Reference};

/// Every manifest type a node may be served, so a `HEAD` answers with the digest the node would get.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// The largest manifest accepted (the limit containerd and distribution v3 enforce).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// The largest image config read to learn an image's platform.
const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

/// A receiver for `-v` lines. Lines never hold a secret.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// How to probe: transport security, concurrency, timeouts and retries.
#[derive(Clone)]
pub struct ProbeOptions {
    /// Hosts (`host` or `host:port`) allowed plain HTTP or unverified TLS.
    pub insecure_registries: Vec<String>,
    /// A directory of extra CA certificates (`*.crt`, `*.pem`; also `<dir>/<host>/` as in Docker's
    /// `certs.d`), trusted besides the system roots.
    pub cert_dir: Option<PathBuf>,
    /// References probed at once.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts for 5xx answers and network errors (1 = no retry).
    pub attempts: u32,
    /// First backoff delay; doubles after each attempt.
    pub backoff: Duration,
    /// The longest `Retry-After` waited for; a longer one ends the probe as `rate-limited`.
    pub max_retry_after: Duration,
    /// Fetch manifests (and configs) of non-Docker-Hub images to list their platforms.
    pub platforms: bool,
    /// The host Docker Hub's API is reached at (`registry-1.docker.io`; a test server in tests).
    pub docker_hub_host: String,
    /// Where `-v` lines go.
    pub log: Option<Log>,
}

impl fmt::Debug for ProbeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeOptions")
            .field("insecure_registries", &self.insecure_registries)
            .field("cert_dir", &self.cert_dir)
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("docker_hub_host", &self.docker_hub_host)
            .finish_non_exhaustive()
    }
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            insecure_registries: Vec::new(),
            cert_dir: None,
            concurrency: 32,
            timeout: Duration::from_secs(30),
            attempts: 3,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(30),
            platforms: true,
            docker_hub_host: DOCKER_HUB_API_HOST.to_owned(),
            log: None,
        }
    }
}

/// Why the probe could not start (bad options); per-reference problems are [`Outcome`]s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The HTTP client for a registry could not be built (usually a bad `--cert-dir` file).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Probes references for pull access, one connection pool and token cache per registry.
pub struct PullProbe {
    options: ProbeOptions,
    credentials: Arc<CredentialStore>,
    registries: Mutex<HashMap<String, Arc<RegistrySession>>>,
    /// Platforms by manifest digest: content-addressed, so many tags of one image are read once.
    platforms: Mutex<HashMap<String, Arc<PlatformsCell>>>,
}

/// The platforms of one manifest digest, or why they could not be read; filled once.
type PlatformsCell = tokio::sync::OnceCell<Result<Vec<String>, (Outcome, String)>>;

impl PullProbe {
    /// A probe with these options and credential sources.
    pub fn new(options: ProbeOptions, credentials: Arc<CredentialStore>) -> Self {
        PullProbe {
            options,
            credentials,
            registries: Mutex::new(HashMap::new()),
            platforms: Mutex::new(HashMap::new()),
        }
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(log) = &self.options.log {
            log(&line());
        }
    }

    fn session(&self, registry: &str) -> Result<Arc<RegistrySession>, ProbeError> {
        let mut map = self.registries.lock().unwrap();
        if let Some(s) = map.get(registry) {
            return Ok(s.clone());
        }
        let host = if registry == crate::reference::DOCKER_HUB {
            self.options.docker_hub_host.clone()
        } else {
            registry.to_owned()
        };
        let insecure = self
            .options
            .insecure_registries
            .iter()
            .any(|h| h == registry || *h == host);
        let endpoint = transport::endpoint(&host, insecure, &self.options)?;
        let session = Arc::new(RegistrySession {
            endpoint,
            tokens: tokio::sync::Mutex::new(HashMap::new()),
        });
        map.insert(registry.to_owned(), session.clone());
        Ok(session)
    }

    /// Probes every reference, at most `concurrency` at once; results come back in input order.
    pub async fn probe_all(
        &self,
        references: &[Reference],
    ) -> Result<Vec<ProbeResult>, ProbeError> {
        for r in references {
            self.session(&r.registry)?;
        }
        let results = futures_util::stream::iter(references.iter().map(|r| self.probe(r)))
            .buffered(self.options.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        Ok(results)
    }

    /// Probes one reference.
    pub async fn probe(&self, reference: &Reference) -> ProbeResult {
        let mut result = ProbeResult::new(reference);
        let session = match self.session(&reference.registry) {
            Ok(s) => s,
            Err(e) => {
                result.detail = Some(error_chain(&e));
                return result;
            }
        };
        let credential = match self
            .credentials
            .resolve(&reference.registry, &reference.repository)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                result.detail = Some(error_chain(&e));
                return result;
            }
        };
        if let Some(c) = &credential {
            self.log(|| {
                format!(
                    "{}: credentials for {} from {}",
                    reference, c.username, c.source
                )
            });
        }
        let mut req = Probe {
            probe: self,
            session: &session,
            reference,
            credential: credential.as_ref(),
            result: &mut result,
        };
        req.run().await;
        result
    }
}

impl PullProbe {
    /// A bearer token for pulling `reference` with `credential`, through the registry's challenge
    /// and token flow (the refresh-token grant for identity tokens); `None` when the registry does
    /// not use tokens or refuses.
    pub async fn bearer_token(
        &self,
        reference: &Reference,
        credential: &Credential,
    ) -> Option<Secret> {
        let session = self.session(&reference.registry).ok()?;
        let mut result = ProbeResult::new(reference);
        let mut req = Probe {
            probe: self,
            session: &session,
            reference,
            credential: Some(credential),
            result: &mut result,
        };
        let path = req.path(&format!("manifests/{}", reference.manifest_reference()));
        let Sent::Answer(answer) = req
            .send(Method::HEAD, &path, &Authorization::None, true)
            .await
        else {
            return None;
        };
        if answer.status() != StatusCode::UNAUTHORIZED {
            return None;
        }
        match parse_challenge(answer.headers()) {
            Challenge::Bearer { realm, service, .. } => {
                let scope = req.scope();
                req.fetch_token(&realm, service.as_deref(), &scope)
                    .await
                    .ok()
            }
            _ => None,
        }
    }
}

/// Probes `references` on a runtime of its own: for callers that are not async (the CLI, `check`).
pub fn probe_all(
    references: &[Reference],
    credentials: Arc<CredentialStore>,
    options: ProbeOptions,
) -> Result<Vec<ProbeResult>, ProbeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ProbeError::Runtime)?;
    let probe = PullProbe::new(options, credentials);
    runtime.block_on(probe.probe_all(references))
}

/// One registry: its HTTP client (one connection pool) and its tokens by scope.
struct RegistrySession {
    endpoint: Endpoint,
    tokens: tokio::sync::Mutex<HashMap<String, Secret>>,
}

/// The authorization to send with a request.
#[derive(Clone)]
enum Authorization {
    None,
    Basic(String, Secret),
    Bearer(Secret),
}

/// How a token request ended, when it did not give a token.
enum TokenFailure {
    Unauthorized(String),
    Forbidden(String),
    Failed(Outcome, String),
}

/// A request's end: an answer, or the outcome that the transport already decided.
enum Sent {
    Answer(reqwest::Response),
    Failed(Outcome, String),
}

struct Probe<'a> {
    probe: &'a PullProbe,
    session: &'a RegistrySession,
    reference: &'a Reference,
    credential: Option<&'a Credential>,
    result: &'a mut ProbeResult,
}

impl Probe<'_> {
    fn finish(&mut self, outcome: Outcome, detail: Option<String>) {
        self.result.outcome = outcome;
        self.result.detail = detail;
    }

    fn scope(&self) -> String {
        format!("repository:{}:pull", self.reference.repository)
    }

    fn path(&self, tail: &str) -> String {
        format!("/v2/{}/{tail}", self.reference.repository)
    }

    async fn run(&mut self) {
        let manifest_path = self.path(&format!(
            "manifests/{}",
            self.reference.manifest_reference()
        ));
        let mut auth = self.cached_authorization().await;
        let mut answer = match self.send(Method::HEAD, &manifest_path, &auth, true).await {
            Sent::Answer(a) => a,
            Sent::Failed(o, d) => return self.finish(o, Some(d)),
        };
        if answer.status() == StatusCode::UNAUTHORIZED {
            let challenge = parse_challenge(answer.headers());
            match self.authorize(challenge).await {
                Ok(a) => auth = a,
                Err((o, d)) => return self.finish(o, Some(d)),
            }
            answer = match self.send(Method::HEAD, &manifest_path, &auth, true).await {
                Sent::Answer(a) => a,
                Sent::Failed(o, d) => return self.finish(o, Some(d)),
            };
        }
        self.classify(answer, &manifest_path, &auth).await;
    }

    /// A token already fetched for this scope, or Basic when the registry asked for it before.
    async fn cached_authorization(&mut self) -> Authorization {
        let tokens = self.session.tokens.lock().await;
        if let Some(t) = tokens.get(&self.scope()) {
            self.result.auth.scheme = AuthScheme::Bearer;
            self.note_credential();
            return Authorization::Bearer(t.clone());
        }
        if tokens.contains_key(BASIC_MARKER)
            && let Some(c) = self.credential
        {
            self.result.auth.scheme = AuthScheme::Basic;
            self.note_credential();
            return Authorization::Basic(c.username.clone(), c.secret.clone());
        }
        Authorization::None
    }

    fn note_credential(&mut self) {
        if let Some(c) = self.credential {
            // An identity token may come without a username.
            self.result.auth.username = Some(c.username.clone()).filter(|u| !u.is_empty());
            self.result.auth.source = Some(c.source.to_string());
        }
    }

    /// Answers a 401 challenge: a token for the pull scope, or Basic.
    async fn authorize(
        &mut self,
        challenge: Challenge,
    ) -> Result<Authorization, (Outcome, String)> {
        match challenge {
            Challenge::Basic => {
                self.result.auth.scheme = AuthScheme::Basic;
                let Some(c) = self.credential else {
                    return Err((
                        Outcome::CredentialsRequired,
                        "the registry asks for Basic credentials and none were found".into(),
                    ));
                };
                self.note_credential();
                self.session
                    .tokens
                    .lock()
                    .await
                    .insert(BASIC_MARKER.into(), Secret::new(""));
                Ok(Authorization::Basic(c.username.clone(), c.secret.clone()))
            }
            Challenge::Bearer {
                realm,
                service,
                scope: _,
            } => {
                self.result.auth.scheme = AuthScheme::Bearer;
                self.note_credential();
                let scope = self.scope();
                match self.fetch_token(&realm, service.as_deref(), &scope).await {
                    Ok(token) => {
                        self.session
                            .tokens
                            .lock()
                            .await
                            .insert(scope, token.clone());
                        Ok(Authorization::Bearer(token))
                    }
                    Err(TokenFailure::Unauthorized(d)) if self.credential.is_some() => {
                        Err((Outcome::BadCredentials, d))
                    }
                    Err(TokenFailure::Unauthorized(d)) => Err((Outcome::CredentialsRequired, d)),
                    Err(TokenFailure::Forbidden(d)) => Err((Outcome::Denied, d)),
                    Err(TokenFailure::Failed(o, d)) => Err((o, d)),
                }
            }
            Challenge::Other(s) => Err((
                Outcome::Error,
                format!("the registry asks for an unsupported authentication scheme `{s}`"),
            )),
        }
    }

    /// The distribution token flow: GET the realm (Basic when credentials exist), or POST a refresh
    /// token (`grant_type=refresh_token`) for identity tokens and ACR refresh tokens.
    async fn fetch_token(
        &mut self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<Secret, TokenFailure> {
        let client = &self.session.endpoint.client;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = match self.credential {
                Some(c) if c.kind == SecretKind::RefreshToken => {
                    let mut form = vec![
                        ("grant_type", "refresh_token"),
                        ("client_id", "batchprep"),
                        ("scope", scope),
                        ("refresh_token", c.secret.expose()),
                    ];
                    if let Some(s) = service {
                        form.push(("service", s));
                    }
                    client.post(realm).form(&form)
                }
                cred => {
                    let mut query = vec![("scope", scope)];
                    if let Some(s) = service {
                        query.push(("service", s));
                    }
                    if let Some(c) = cred {
                        query.push(("account", c.username.as_str()));
                    }
                    let r = client.get(realm).query(&query);
                    match cred {
                        Some(c) => r.basic_auth(&c.username, Some(c.secret.expose())),
                        None => r,
                    }
                }
            };
            let response = request.send().await;
            let kind = match &self.credential {
                Some(c) if c.kind == SecretKind::RefreshToken => "POST refresh token",
                Some(_) => "GET with Basic",
                None => "GET anonymous",
            };
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    let (outcome, detail) = transport::classify_error(&e);
                    self.probe
                        .log(|| format!("{}: token {kind} {realm} -> {detail}", self.reference));
                    if outcome == Outcome::Unreachable && attempt < self.probe.options.attempts {
                        self.backoff(attempt).await;
                        continue;
                    }
                    return Err(TokenFailure::Failed(
                        outcome,
                        format!("token endpoint {realm}: {detail}"),
                    ));
                }
            };
            let status = response.status();
            self.probe
                .log(|| format!("{}: token {kind} {realm} -> {status}", self.reference));
            if status.is_server_error() && attempt < self.probe.options.attempts {
                self.backoff(attempt).await;
                continue;
            }
            return match status {
                StatusCode::OK => {
                    let body = read_bounded(response, 1024 * 1024)
                        .await
                        .map_err(|(o, d)| {
                            TokenFailure::Failed(o, format!("token endpoint {realm}: {d}"))
                        })?;
                    token_from_body(&body).ok_or_else(|| {
                        TokenFailure::Failed(
                            Outcome::Error,
                            format!("token endpoint {realm} answered without a token"),
                        )
                    })
                }
                StatusCode::UNAUTHORIZED => Err(TokenFailure::Unauthorized(format!(
                    "token endpoint {realm} refused the credentials (401)"
                ))),
                StatusCode::FORBIDDEN => Err(TokenFailure::Forbidden(format!(
                    "token endpoint {realm} denied scope {scope} (403)"
                ))),
                s => Err(TokenFailure::Failed(
                    Outcome::Error,
                    format!("token endpoint {realm} answered HTTP {}", s.as_u16()),
                )),
            };
        }
    }

    async fn backoff(&self, attempt: u32) {
        let delay = self.probe.options.backoff * 2u32.saturating_pow(attempt - 1);
        tokio::time::sleep(delay).await;
    }

    /// Sends one request with retries for network errors, 5xx, and 429 with a short `Retry-After`.
    /// Records Docker Hub's rate-limit headers from every answer.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        auth: &Authorization,
        manifest: bool,
    ) -> Sent {
        let endpoint = &self.session.endpoint;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let url = match endpoint.url(path).await {
                Ok(u) => u,
                Err((o, d)) => return Sent::Failed(o, d),
            };
            let mut request = endpoint.client.request(method.clone(), &url);
            if manifest {
                request = request.header(header::ACCEPT, MANIFEST_ACCEPT);
            }
            request = match auth {
                Authorization::None => request,
                Authorization::Basic(u, p) => request.basic_auth(u, Some(p.expose())),
                Authorization::Bearer(t) => request.bearer_auth(t.expose()),
            };
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    self.probe
                        .log(|| format!("{}: {method} {url} -> {status}", self.reference));
                    if let Some(rl) = RateLimit::from_headers(response.headers()) {
                        self.result.rate_limit = Some(rl);
                    }
                    if status.is_server_error() && attempt < self.probe.options.attempts {
                        self.backoff(attempt).await;
                        continue;
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = retry_after(response.headers());
                        self.result.retry_after_secs = wait.map(|d| d.as_secs());
                        if let Some(wait) = wait
                            && wait <= self.probe.options.max_retry_after
                            && attempt < self.probe.options.attempts
                        {
                            self.probe.log(|| {
                                format!(
                                    "{}: 429, waiting {}s (Retry-After)",
                                    self.reference,
                                    wait.as_secs()
                                )
                            });
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                    return Sent::Answer(response);
                }
                Err(e) => {
                    let (outcome, detail) = transport::classify_error(&e);
                    self.probe
                        .log(|| format!("{}: {method} {url} -> {detail}", self.reference));
                    if outcome == Outcome::Unreachable && attempt < self.probe.options.attempts {
                        self.backoff(attempt).await;
                        continue;
                    }
                    return Sent::Failed(outcome, detail);
                }
            }
        }
    }

    /// Turns the final answer to the manifest `HEAD` into the outcome.
    async fn classify(
        &mut self,
        answer: reqwest::Response,
        manifest_path: &str,
        auth: &Authorization,
    ) {
        let status = answer.status();
        let headers = answer.headers().clone();
        drop(answer);
        match status {
            StatusCode::OK => self.pullable(&headers, manifest_path, auth).await,
            StatusCode::UNAUTHORIZED => {
                if self.credential.is_some() {
                    let outcome = if self.result.auth.scheme == AuthScheme::Basic {
                        Outcome::BadCredentials
                    } else {
                        Outcome::Denied
                    };
                    let detail = if outcome == Outcome::BadCredentials {
                        "the registry refused the credentials (401)".to_owned()
                    } else {
                        format!(
                            "the token for {} was granted without pull access (401)",
                            self.reference.repository
                        )
                    };
                    self.finish(outcome, Some(detail));
                } else {
                    self.finish(
                        Outcome::CredentialsRequired,
                        Some(format!(
                            "anonymous pulls of {} are refused (401); the repository is private or does not exist",
                            self.reference.repository
                        )),
                    );
                }
            }
            StatusCode::FORBIDDEN => self.finish(
                Outcome::Denied,
                Some(format!(
                    "not allowed to pull {} (403)",
                    self.reference.repository
                )),
            ),
            StatusCode::NOT_FOUND => self.not_found(auth).await,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = self
                    .result
                    .retry_after_secs
                    .map(|s| format!(", retry after {s}s"))
                    .unwrap_or_default();
                self.finish(
                    Outcome::RateLimited,
                    Some(format!("the registry answered 429 Too Many Requests{wait}")),
                );
            }
            s if s.is_server_error() => self.finish(
                Outcome::Error,
                Some(format!(
                    "the registry answered HTTP {} after {} attempts",
                    s.as_u16(),
                    self.probe.options.attempts
                )),
            ),
            s => self.finish(
                Outcome::Error,
                Some(format!("unexpected HTTP {} for the manifest", s.as_u16())),
            ),
        }
    }

    async fn pullable(
        &mut self,
        headers: &header::HeaderMap,
        manifest_path: &str,
        auth: &Authorization,
    ) {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_owned());
        if let Some(problem) = not_a_manifest(content_type.as_deref()) {
            return self.finish(Outcome::Error, Some(problem));
        }
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(len) = length
            && len > MAX_MANIFEST_BYTES
        {
            return self.finish(Outcome::Error, Some(oversize(len)));
        }
        self.result.media_type = content_type;
        self.result.digest = headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| self.reference.digest.clone());
        self.result.outcome = Outcome::Pullable;
        if !self.probe.options.platforms || self.reference.is_docker_hub() {
            return;
        }
        let cell = match &self.result.digest {
            Some(d) => self
                .probe
                .platforms
                .lock()
                .unwrap()
                .entry(d.clone())
                .or_default()
                .clone(),
            None => Arc::default(),
        };
        let read = cell
            .get_or_init(|| async {
                self.platforms(manifest_path, auth)
                    .await
                    .map(|()| std::mem::take(&mut self.result.platforms))
            })
            .await
            .clone();
        match read {
            Ok(platforms) => self.result.platforms = platforms,
            Err((o, d)) => self.finish(o, Some(d)),
        }
    }

    /// Reads the manifest (and, for a single-platform image, its config) to list platforms.
    async fn platforms(
        &mut self,
        manifest_path: &str,
        auth: &Authorization,
    ) -> Result<(), (Outcome, String)> {
        let response = match self.send(Method::GET, manifest_path, auth, true).await {
            Sent::Answer(r) => r,
            Sent::Failed(o, d) => return Err((o, d)),
        };
        if response.status() != StatusCode::OK {
            return Err((
                Outcome::Error,
                format!(
                    "HEAD found the manifest but GET answered HTTP {}",
                    response.status().as_u16()
                ),
            ));
        }
        let body = read_bounded(response, MAX_MANIFEST_BYTES).await?;
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
        if let Some(expected) = &self.result.digest
            && expected.starts_with("sha256:")
            && *expected != actual
        {
            return Err((
                Outcome::Error,
                format!(
                    "manifest digest mismatch: the registry named {expected}, the content is {actual}"
                ),
            ));
        }
        if self.result.digest.as_deref() == Some(actual.as_str()) {
            // Verified: the image reader of this process takes it from here instead of the registry.
            let tag = match (&self.reference.digest, self.reference.tag_or_latest()) {
                (None, Some(tag)) => Some(super::shared::tag_key(
                    &self.reference.registry,
                    &self.reference.repository,
                    tag,
                )),
                _ => None,
            };
            super::shared::remember(&actual, &body, tag);
        }
        let manifest: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| (Outcome::Error, format!("the manifest is not JSON: {e}")))?;
        if let Some(entries) = manifest.get("manifests").and_then(|m| m.as_array()) {
            for entry in entries {
                if let Some(p) = entry.get("platform").and_then(platform_string) {
                    self.result.platforms.push(p);
                }
            }
            return Ok(());
        }
        let Some(config) = manifest
            .pointer("/config/digest")
            .and_then(|d| d.as_str())
            .map(str::to_owned)
        else {
            return Err((Outcome::Error, "the manifest names no config blob".into()));
        };
        let response = match self
            .send(
                Method::GET,
                &self.path(&format!("blobs/{config}")),
                auth,
                false,
            )
            .await
        {
            Sent::Answer(r) => r,
            Sent::Failed(o, d) => return Err((o, d)),
        };
        if response.status() != StatusCode::OK {
            return Err((
                Outcome::Error,
                format!(
                    "config blob {config} answered HTTP {}",
                    response.status().as_u16()
                ),
            ));
        }
        let body = read_bounded(response, MAX_CONFIG_BYTES).await?;
        let config_digest = config.clone();
        let config: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            (
                Outcome::Error,
                format!("config blob {config} is not JSON: {e}"),
            )
        })?;
        if let Some(p) = platform_string(&config) {
            self.result.platforms.push(p);
        }
        if format!("sha256:{}", hex::encode(Sha256::digest(&body))) == config_digest {
            super::shared::remember(&config_digest, &body, None);
        }
        Ok(())
    }

    /// A 404 on `HEAD` has no body, and distribution answers `MANIFEST_UNKNOWN` for a missing
    /// repository too: the tag list (never a pull, even on Docker Hub) tells which part is missing.
    async fn not_found(&mut self, auth: &Authorization) {
        let repo = self.reference.repository.clone();
        let wanted = self.reference.manifest_reference().to_owned();
        let response = match self
            .send(Method::GET, &self.path("tags/list?n=1"), auth, false)
            .await
        {
            Sent::Answer(r) => r,
            Sent::Failed(o, d) => return self.finish(o, Some(d)),
        };
        let status = response.status();
        let body = read_bounded(response, 64 * 1024).await.unwrap_or_default();
        if status == StatusCode::OK {
            return self.finish(
                Outcome::ManifestNotFound,
                Some(format!("{repo} has no manifest {wanted}")),
            );
        }
        if status == StatusCode::NOT_FOUND && error_codes(&body).iter().any(|c| c == "NAME_UNKNOWN")
        {
            return self.finish(
                Outcome::RepositoryNotFound,
                Some(format!(
                    "repository {repo} does not exist on {}",
                    self.reference.registry
                )),
            );
        }
        // The tag list is not always served (some mirrors): the manifest is missing either way.
        self.finish(
            Outcome::ManifestNotFound,
            Some(format!(
                "{repo}:{wanted} not found (404; the tag list answered HTTP {})",
                status.as_u16()
            )),
        );
    }
}

/// A key in the token cache meaning "this registry answers Basic challenges".
const BASIC_MARKER: &str = "\0basic";

fn not_a_manifest(content_type: Option<&str>) -> Option<String> {
    match content_type {
        Some(t) if t.contains("html") => Some(format!(
            "the server answered an HTML page ({t}), not a manifest: is this a registry?"
        )),
        _ => None,
    }
}

fn oversize(len: u64) -> String {
    format!(
        "the manifest is {len} bytes, over the {} MiB limit",
        MAX_MANIFEST_BYTES / 1024 / 1024
    )
}

/// Reads a body, failing once it passes `limit` rather than holding it whole.
async fn read_bounded(
    response: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, (Outcome, String)> {
    let mut stream = response.bytes_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| transport::classify_error(&e))?;
        body.extend_from_slice(&chunk);
        if body.len() as u64 > limit {
            let what = if limit == MAX_MANIFEST_BYTES {
                oversize(body.len() as u64)
            } else {
                format!("the answer passed {limit} bytes")
            };
            return Err((Outcome::Error, what));
        }
    }
    Ok(body)
}

fn error_codes(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errors").and_then(|e| e.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .collect()
}

fn platform_string(v: &serde_json::Value) -> Option<String> {
    let os = v.get("os")?.as_str()?;
    let arch = v.get("architecture")?.as_str()?;
    if os == "unknown" || arch == "unknown" {
        // Attestation manifests in an index are not platforms.
        return None;
    }
    let mut s = format!("{os}/{arch}");
    if let Some(variant) = v.get("variant").and_then(|x| x.as_str()) {
        s.push('/');
        s.push_str(variant);
    }
    Some(s)
}

/// `Retry-After` in seconds (the HTTP-date form is rare on registries and is treated as unknown).
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_platforms_but_not_attestations() {
        let amd = serde_json::json!({"os": "linux", "architecture": "amd64"});
        let arm = serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"});
        let att = serde_json::json!({"os": "unknown", "architecture": "unknown"});
        assert_eq!(platform_string(&amd).as_deref(), Some("linux/amd64"));
        assert_eq!(platform_string(&arm).as_deref(), Some("linux/arm64/v8"));
        assert_eq!(platform_string(&att), None);
    }
}
