//! What the probe concludes about one reference: the [`Outcome`], how it authenticated, Docker Hub's
//! rate-limit headers, and the [`ProbeResult`] that carries them to the rules and the output.

use std::fmt;

use reqwest::header;
use serde::Serialize;

use crate::reference::Reference;

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
    pub(crate) fn from_headers(headers: &header::HeaderMap) -> Option<RateLimit> {
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
    pub(crate) fn new(reference: &Reference) -> ProbeResult {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
