//! Where registry credentials come from, in the order users expect (DESIGN §6): explicit flags, then
//! `REGISTRY_AUTH_FILE` or the containers `auth.json`, then Docker's `config.json`; in each file a
//! per-registry `credHelpers` entry, then `credsStore`, then the `auths` entry. Credential helpers run
//! with Docker's documented protocol (`docker-credential-NAME get`, server URL on stdin, JSON out).
//!
//! Only the username and where the credential came from are ever shown; the secret is a [`Secret`].

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use base64::Engine as _;
use serde::Deserialize;
use tokio::io::AsyncWriteExt as _;

use super::Secret;
use crate::reference::DOCKER_HUB;

/// The username Azure Container Registry uses for refresh tokens (`az acr login --expose-token`).
pub const ACR_REFRESH_TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";

/// The username a credential helper returns when its secret is an identity (refresh) token.
const HELPER_TOKEN_USER: &str = "<token>";

/// The server URL Docker hands credential helpers for Docker Hub.
const DOCKER_HUB_SERVER_URL: &str = "https://index.docker.io/v1/";

/// How long a credential helper may take before it counts as broken.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// What kind of secret a credential holds, which decides how it is spent at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A password (or an access key): HTTP Basic to the registry or its token endpoint.
    Password,
    /// An OAuth2 refresh token (`identitytoken`, a helper's `<token>` user, an ACR refresh token):
    /// exchanged with `grant_type=refresh_token` at the token endpoint.
    RefreshToken,
}

/// Where a credential was found. Printed in reports; never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `--creds` or `--username` with `--password-stdin`.
    Flags,
    /// A containers `auth.json` (`REGISTRY_AUTH_FILE` or the default locations).
    AuthFile(PathBuf),
    /// Docker's `config.json` `auths` entry.
    DockerConfig(PathBuf),
    /// A credential helper, by its suffix (`docker-credential-<name>`).
    Helper(String),
    /// A pool definition's `containerRegistries` entry (`batchprep check`).
    PoolDefinition(PathBuf),
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Flags => f.write_str("command-line flags"),
            CredentialSource::AuthFile(p) => write!(f, "auth file {}", p.display()),
            CredentialSource::DockerConfig(p) => write!(f, "docker config {}", p.display()),
            CredentialSource::Helper(name) => {
                write!(f, "credential helper docker-credential-{name}")
            }
            CredentialSource::PoolDefinition(p) => {
                write!(f, "the pool's containerRegistries in {}", p.display())
            }
        }
    }
}

/// A username and its secret, with where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The username (not secret; shown in reports).
    pub username: String,
    /// The password or token.
    pub secret: Secret,
    /// How to spend the secret.
    pub kind: SecretKind,
    /// Where it came from.
    pub source: CredentialSource,
}

impl Credential {
    /// A username and password given on the command line.
    pub fn from_flags(username: impl Into<String>, password: Secret) -> Credential {
        let username = username.into();
        let kind = if username == ACR_REFRESH_TOKEN_USER {
            SecretKind::RefreshToken
        } else {
            SecretKind::Password
        };
        Credential {
            username,
            secret: password,
            kind,
            source: CredentialSource::Flags,
        }
    }
}

/// Why credentials could not be read. Messages name the file or helper, never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// A credentials file exists but could not be read.
    #[error("credentials file: {error}")]
    Read {
        /// Why (names the file; in the message, not a `source`, so the chain says it once).
        error: crate::input::InputError,
    },
    /// A credentials file is not the JSON Docker and podman write.
    #[error("credentials file {path} is not valid JSON: {detail}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and what kind of error; never the offending value, which may be a password.
        detail: String,
    },
    /// An `auths.<key>.auth` value is not base64 of `user:password`.
    #[error("credentials file {path}: `auths.{key}.auth` is not base64 of `user:password`")]
    BadAuth {
        /// The file.
        path: PathBuf,
        /// The `auths` key.
        key: String,
    },
    /// A credential helper could not be started.
    #[error("cannot run credential helper docker-credential-{helper}")]
    HelperSpawn {
        /// The helper's suffix.
        helper: String,
        /// Why it could not run (usually not on PATH).
        #[source]
        source: std::io::Error,
    },
    /// A credential helper failed or answered something other than its JSON.
    #[error("credential helper docker-credential-{helper} failed: {reason}")]
    Helper {
        /// The helper's suffix.
        helper: String,
        /// What went wrong (exit status, timeout, unreadable answer).
        reason: String,
    },
}

/// One `auths` entry as Docker and podman write it.
#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The parts of `config.json` / `auth.json` that hold credentials.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug)]
struct AuthFile {
    path: PathBuf,
    docker: bool,
    config: AuthConfig,
}

/// The environment the credential files are found from; [`CredentialPaths::from_env`] for the real one.
#[derive(Debug, Clone, Default)]
pub struct CredentialPaths {
    /// `REGISTRY_AUTH_FILE`: replaces the containers `auth.json` locations when set.
    pub registry_auth_file: Option<PathBuf>,
    /// `XDG_RUNTIME_DIR` (podman writes `containers/auth.json` there).
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `XDG_CONFIG_HOME` (default `~/.config`).
    pub xdg_config_home: Option<PathBuf>,
    /// `DOCKER_CONFIG` (default `~/.docker`).
    pub docker_config: Option<PathBuf>,
    /// `HOME`.
    pub home: Option<PathBuf>,
}

impl CredentialPaths {
    /// Reads the variables from the process environment.
    pub fn from_env() -> Self {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        CredentialPaths {
            registry_auth_file: var("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            docker_config: var("DOCKER_CONFIG"),
            home: var("HOME"),
        }
    }

    /// The candidate files, in lookup order, each marked whether it is Docker's.
    fn files(&self) -> Vec<(PathBuf, bool)> {
        let mut files = Vec::new();
        match &self.registry_auth_file {
            Some(f) => files.push((f.clone(), false)),
            None => {
                if let Some(d) = &self.xdg_runtime_dir {
                    files.push((d.join("containers/auth.json"), false));
                }
                let config_home = self
                    .xdg_config_home
                    .clone()
                    .or_else(|| self.home.as_ref().map(|h| h.join(".config")));
                if let Some(d) = config_home {
                    files.push((d.join("containers/auth.json"), false));
                }
            }
        }
        let docker_dir = self
            .docker_config
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".docker")));
        if let Some(d) = docker_dir {
            files.push((d.join("config.json"), true));
        }
        files
    }
}

/// Every credential source, loaded once; [`CredentialStore::resolve`] picks the one for a registry.
#[derive(Debug, Default)]
pub struct CredentialStore {
    explicit: Option<Credential>,
    files: Vec<AuthFile>,
}

impl CredentialStore {
    /// A store with no credentials at all (everything anonymous).
    pub fn anonymous() -> Self {
        CredentialStore::default()
    }

    /// Loads the credential files found from `paths`; `explicit` (from flags) wins over all of them.
    /// A missing file is skipped; an unreadable or malformed one is an error naming it.
    pub fn load(
        paths: &CredentialPaths,
        explicit: Option<Credential>,
    ) -> Result<Self, CredentialError> {
        let mut files = Vec::new();
        for (path, docker) in paths.files() {
            let text = match crate::input::read_text(&path) {
                Ok(t) => t,
                Err(e) if e.is_not_found() => continue,
                Err(error) => return Err(CredentialError::Read { error }),
            };
            let config: AuthConfig = if text.trim().is_empty() {
                AuthConfig::default()
            } else {
                serde_json::from_str(&text).map_err(|e| CredentialError::Parse {
                    path: path.clone(),
                    detail: crate::safe_text::json_error(&e),
                })?
            };
            files.push(AuthFile {
                path,
                docker,
                config,
            });
        }
        Ok(CredentialStore { explicit, files })
    }

    /// The files that were found, in lookup order.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.path.as_path())
    }

    /// The credential for `registry` (normalised, `docker.io` for Hub) and `repository`, or `None`
    /// for anonymous access. Runs a credential helper when the files say so.
    pub async fn resolve(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Credential>, CredentialError> {
        if let Some(c) = &self.explicit {
            return Ok(Some(c.clone()));
        }
        for file in &self.files {
            if let Some(c) = resolve_in_file(file, registry, repository).await? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

async fn resolve_in_file(
    file: &AuthFile,
    registry: &str,
    repository: &str,
) -> Result<Option<Credential>, CredentialError> {
    let config = &file.config;
    if let Some(helper) = config
        .cred_helpers
        .iter()
        .find(|(k, _)| normalise_key(k) == registry)
        .map(|(_, v)| v)
    {
        return run_helper(helper, registry).await;
    }
    if let Some(store) = &config.creds_store
        && let Some(c) = run_helper(store, registry).await?
    {
        return Ok(Some(c));
    }
    // The most specific key wins (`host/ns/repo` before `host/ns` before `host`), as in auth.json.
    let full = format!("{registry}/{repository}");
    let mut best: Option<(usize, &String, &AuthEntry)> = None;
    for (key, entry) in &config.auths {
        let k = normalise_key(key);
        if k == full || full.starts_with(&format!("{k}/")) || k == registry {
            let len = k.len();
            if best.is_none_or(|(l, _, _)| len > l) {
                best = Some((len, key, entry));
            }
        }
    }
    let Some((_, key, entry)) = best else {
        return Ok(None);
    };
    let source = if file.docker {
        CredentialSource::DockerConfig(file.path.clone())
    } else {
        CredentialSource::AuthFile(file.path.clone())
    };
    let bad = || CredentialError::BadAuth {
        path: file.path.clone(),
        key: key.clone(),
    };
    let (mut username, mut password) = (entry.username.clone(), entry.password.clone());
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (u, p) = decoded.split_once(':').ok_or_else(bad)?;
        username = Some(u.to_owned());
        password = Some(p.to_owned());
    }
    if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credential {
            username: username.unwrap_or_default(),
            secret: Secret::new(token),
            kind: SecretKind::RefreshToken,
            source,
        }));
    }
    match (username, password) {
        (Some(u), Some(p)) if !u.is_empty() => {
            let kind = if u == ACR_REFRESH_TOKEN_USER {
                SecretKind::RefreshToken
            } else {
                SecretKind::Password
            };
            Ok(Some(Credential {
                username: u,
                secret: Secret::new(p),
                kind,
                source,
            }))
        }
        // An empty entry (`{}`) is how Docker marks a login kept in `credsStore`.
        _ => Ok(None),
    }
}

/// `https://index.docker.io/v1/` -> `docker.io`; `https://myacr.azurecr.io` -> `myacr.azurecr.io`.
fn normalise_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let k = k.trim_end_matches('/');
    let k = k
        .strip_suffix("/v1")
        .or_else(|| k.strip_suffix("/v2"))
        .unwrap_or(k);
    let (host, rest) = match k.split_once('/') {
        Some((h, r)) => (h, Some(r)),
        None => (k, None),
    };
    let host = match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DOCKER_HUB,
        h => h,
    };
    match rest {
        Some(r) => format!("{host}/{r}"),
        None => host.to_owned(),
    }
}

/// The answer of `docker-credential-NAME get`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// Runs `docker-credential-{helper} get` for `registry`. "Not found" answers are `None`.
async fn run_helper(helper: &str, registry: &str) -> Result<Option<Credential>, CredentialError> {
    let server_url = if registry == DOCKER_HUB {
        DOCKER_HUB_SERVER_URL
    } else {
        registry
    };
    let program = format!("docker-credential-{helper}");
    let mut child = tokio::process::Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| CredentialError::HelperSpawn {
            helper: helper.to_owned(),
            source,
        })?;
    let failed = |reason: String| CredentialError::Helper {
        helper: helper.to_owned(),
        reason,
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its stdin is judged by its exit status below.
        let _ = stdin.write_all(server_url.as_bytes()).await;
        drop(stdin);
    }
    let output = tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| failed(format!("no answer within {}s", HELPER_TIMEOUT.as_secs())))?
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stdout);
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        // Neither stream is echoed: a broken helper may print what it was handed.
        return Err(failed(format!("exited with {}", output.status)));
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|_| failed("its answer is not the JSON {ServerURL, Username, Secret}".into()))?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    let kind = if answer.username == HELPER_TOKEN_USER || answer.username == ACR_REFRESH_TOKEN_USER
    {
        SecretKind::RefreshToken
    } else {
        SecretKind::Password
    };
    Ok(Some(Credential {
        username: answer.username,
        secret: Secret::new(answer.secret),
        kind,
        source: CredentialSource::Helper(helper.to_owned()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_auths_keys_like_docker() {
        assert_eq!(normalise_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalise_key("index.docker.io"), "docker.io");
        assert_eq!(normalise_key("myacr.azurecr.io"), "myacr.azurecr.io");
        assert_eq!(
            normalise_key("https://myacr.azurecr.io/"),
            "myacr.azurecr.io"
        );
        assert_eq!(normalise_key("quay.io/team/app"), "quay.io/team/app");
        assert_eq!(normalise_key("localhost:5000"), "localhost:5000");
    }
}
