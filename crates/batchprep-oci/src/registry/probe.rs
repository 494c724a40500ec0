//! The pull-access probe: can this reference be pulled, with these credentials, right now?
//!
//! It asks the registry the way a node would (the distribution API and its token flow) but without
//! spending pulls: a `HEAD` of the manifest with the full Accept list decides most cases. A `GET` is
//! used only where a `HEAD` cannot decide (which of "repository" or "tag" is missing, the platforms an
//! image offers), and never for a Docker Hub manifest, where every manifest `GET` counts as a pull.
//! Every answer becomes one [`Outcome`]; a finding or an exit code is the caller's business.

use std::{
    collections::HashMap,
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{
    Secret,
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

/// What the probe concluded about one reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The manifest is there and these credentials may pull it.
    Pullable,
    /// The registry wants credentials and none were found (Docker Hub answers the same for a
    /// private and a missing repository).
    CredentialsRequired,
    /// The credentials were refused.
    BadCredentials,
    /// The credentials are valid but not allowed to pull this repository.
    Denied,
    /// The registry has no such repository.
    RepositoryNotFound,
    /// The repository exists; the tag or digest does not.
    ManifestNotFound,
    /// The registry refused with 429 Too Many Requests.
    RateLimited,
    /// The registry could not be reached (DNS, connect, timeout, reset), after retries.
    Unreachable,
    /// The TLS handshake failed (unknown CA, wrong host name, plain HTTP on an HTTPS port).
    TlsError,
    /// Anything else: a 5xx after retries, an HTML page, an oversize manifest, a redirect loop.
    Error,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 10] = [
        Outcome::Pullable,
        Outcome::CredentialsRequired,
        Outcome::BadCredentials,
        Outcome::Denied,
        Outcome::RepositoryNotFound,
        Outcome::ManifestNotFound,
        Outcome::RateLimited,
        Outcome::Unreachable,
        Outcome::TlsError,
        Outcome::Error,
    ];

    /// The kebab-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pullable => "pullable",
            Outcome::CredentialsRequired => "credentials-required",
            Outcome::BadCredentials => "bad-credentials",
            Outcome::Denied => "denied",
            Outcome::RepositoryNotFound => "repository-not-found",
            Outcome::ManifestNotFound => "manifest-not-found",
            Outcome::RateLimited => "rate-limited",
            Outcome::Unreachable => "unreachable",
            Outcome::TlsError => "tls-error",
            Outcome::Error => "error",
        }
    }

    /// Whether the probe could not decide (the run must exit 2 rather than pass or fail).
    pub fn is_inconclusive(self) -> bool {
        matches!(
            self,
            Outcome::Unreachable | Outcome::TlsError | Outcome::Error
        )
    }

    /// Whether the registry answered that a node could not pull the image.
    pub fn is_not_pullable(self) -> bool {
        !self.is_inconclusive() && self != Outcome::Pullable
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the probe authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthScheme {
    /// No `Authorization` header was needed.
    Anonymous,
    /// HTTP Basic to the registry.
    Basic,
    /// A bearer token from the registry's token endpoint (anonymous or with credentials).
    Bearer,
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthScheme::Anonymous => "anonymous",
            AuthScheme::Basic => "basic",
            AuthScheme::Bearer => "bearer",
        })
    }
}

/// The authentication used for one reference: scheme, and whose credentials. Never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthUsed {
    /// The scheme the registry asked for.
    pub scheme: AuthScheme,
    /// The username sent, when credentials were used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Where the credentials came from (`command-line flags`, `credential helper docker-credential-acr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl fmt::Display for AuthUsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.username, &self.source) {
            (Some(u), Some(s)) => write!(f, "{} as {u} ({s})", self.scheme),
            (None, Some(s)) => write!(f, "{} ({s})", self.scheme),
            _ if self.scheme == AuthScheme::Bearer => f.write_str("bearer (anonymous token)"),
            _ => write!(f, "{}", self.scheme),
        }
    }
}

/// Docker Hub's rate-limit headers as the probe saw them (`ratelimit-limit: 100;w=21600`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Pulls allowed per window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Pulls left in the current window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
    /// The window, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_secs: Option<u64>,
    /// What the quota is counted against (`docker-ratelimit-source`: an address or an account id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl RateLimit {
    fn from_headers(headers: &header::HeaderMap) -> Option<RateLimit> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let parse = |v: &str| -> (Option<u64>, Option<u64>) {
            let mut parts = v.split(';');
            let n = parts.next().and_then(|n| n.trim().parse().ok());
            let w = parts
                .filter_map(|p| p.trim().strip_prefix("w="))
                .find_map(|w| w.parse().ok());
            (n, w)
        };
        let limit = get("ratelimit-limit").map(parse);
        let remaining = get("ratelimit-remaining").map(parse);
        let source = get("docker-ratelimit-source").map(str::to_owned);
        if limit.is_none() && remaining.is_none() && source.is_none() {
            return None;
        }
        Some(RateLimit {
            limit: limit.and_then(|l| l.0),
            remaining: remaining.and_then(|r| r.0),
            window_secs: limit.and_then(|l| l.1).or(remaining.and_then(|r| r.1)),
            source,
        })
    }
}

/// Everything the probe learnt about one reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    /// The normalised reference.
    #[serde(serialize_with = "serialize_display")]
    pub reference: Reference,
    /// The registry host, normalised (`docker.io` for Docker Hub).
    pub registry: String,
    /// The conclusion.
    pub outcome: Outcome,
    /// The manifest digest, when the registry named it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The manifest media type, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The platforms offered (`linux/amd64`, `linux/arm64/v8`); empty when unknown (Docker Hub
    /// manifests are never fetched).
    pub platforms: Vec<String>,
    /// How the probe authenticated.
    pub auth: AuthUsed,
    /// Docker Hub's rate-limit headers, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The `Retry-After` of a 429, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Why, in one line, when the outcome is not `pullable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn serialize_display<S: serde::Serializer>(v: &Reference, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl ProbeResult {
    /// A result not yet decided (`error`, anonymous).
    fn new(reference: &Reference) -> ProbeResult {
        ProbeResult {
            reference: reference.clone(),
            registry: reference.registry.clone(),
            outcome: Outcome::Error,
            digest: None,
            media_type: None,
            platforms: Vec::new(),
            auth: AuthUsed {
                scheme: AuthScheme::Anonymous,
                username: None,
                source: None,
            },
            rate_limit: None,
            retry_after_secs: None,
            detail: None,
        }
    }

    /// Whether this reference is served by Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.reference.is_docker_hub()
    }

    /// Whether credentials were sent.
    pub fn authenticated(&self) -> bool {
        self.auth.source.is_some()
    }
}

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

/// A `WWW-Authenticate` challenge.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Other(String),
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
        let config: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            (
                Outcome::Error,
                format!("config blob {config} is not JSON: {e}"),
            )
        })?;
        if let Some(p) = platform_string(&config) {
            self.result.platforms.push(p);
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

fn token_from_body(body: &[u8]) -> Option<Secret> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    ["token", "access_token"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|t| t.as_str()).filter(|t| !t.is_empty()))
        .map(Secret::new)
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

/// Parses the first challenge of `WWW-Authenticate`.
fn parse_challenge(headers: &header::HeaderMap) -> Challenge {
    let Some(value) = headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
    else {
        return Challenge::Other("(no WWW-Authenticate header)".into());
    };
    let (scheme, params) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Challenge::Basic;
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Challenge::Other(scheme.to_owned());
    }
    let params = parse_auth_params(params);
    match params.get("realm") {
        Some(realm) => Challenge::Bearer {
            realm: realm.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        },
        None => Challenge::Other("Bearer without a realm".into()),
    }
}

/// `realm="https://auth.docker.io/token",service="registry.docker.io",scope="a,b"`.
fn parse_auth_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &q[end.min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.insert(key, value);
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    out
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

/// Where `--cert-dir` certificates for `host` are: the directory itself and `<dir>/<host>/`.
pub(crate) fn cert_files(dir: &Path, host: &str) -> std::io::Result<Vec<PathBuf>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenge() {
        let mut h = header::HeaderMap::new();
        h.insert(
            header::WWW_AUTHENTICATE,
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            parse_challenge(&h),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/ubuntu:pull".into()),
            }
        );
        h.insert(
            header::WWW_AUTHENTICATE,
            r#"Basic realm="Registry Realm""#.parse().unwrap(),
        );
        assert_eq!(parse_challenge(&h), Challenge::Basic);
    }

    #[test]
    fn parses_rate_limit_headers() {
        let mut h = header::HeaderMap::new();
        h.insert("ratelimit-limit", "100;w=21600".parse().unwrap());
        h.insert("ratelimit-remaining", "76;w=21600".parse().unwrap());
        h.insert("docker-ratelimit-source", "192.0.2.7".parse().unwrap());
        assert_eq!(
            RateLimit::from_headers(&h),
            Some(RateLimit {
                limit: Some(100),
                remaining: Some(76),
                window_secs: Some(21600),
                source: Some("192.0.2.7".into()),
            })
        );
        assert_eq!(RateLimit::from_headers(&header::HeaderMap::new()), None);
    }

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
