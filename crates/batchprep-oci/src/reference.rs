//! Image references as Docker and the distribution registry understand them
//! (`distribution/reference`, `normalize.go`): `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`.
//!
//! A first path component is a registry when it is `localhost` or contains `.` or `:`; otherwise the
//! registry is Docker Hub (`docker.io`) and a one-component repository gets `library/`.

use std::fmt;

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// Registry host (and port), normalised: `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path, e.g. `library/ubuntu`.
    pub repository: String,
    /// Tag, when given.
    pub tag: Option<String>,
    /// Digest (`sha256:...`), when given.
    pub digest: Option<String>,
}

/// Why a reference was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// Empty input.
    #[error("empty image reference")]
    Empty,
    /// Uppercase letters in the repository.
    #[error("invalid image reference `{0}`: repository name must be lowercase")]
    Uppercase(String),
    /// A path component, tag or registry outside the grammar.
    #[error("invalid image reference `{reference}`: {reason}")]
    Invalid {
        /// The input.
        reference: String,
        /// What part is wrong.
        reason: String,
    },
    /// A digest that is not `sha256:<64 hex>` / `sha512:<128 hex>` (or another well-formed algorithm).
    #[error("invalid image reference `{0}`: malformed digest")]
    Digest(String),
}

impl Reference {
    /// Parses and normalises `input` (`ubuntu`, `myacr.azurecr.io/app:1.0`, `repo@sha256:...`).
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let invalid = |reason: &str| ReferenceError::Invalid {
            reference: input.to_owned(),
            reason: reason.to_owned(),
        };
        if input.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if input.len() > 512 || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains whitespace or is too long"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => {
                if !valid_digest(d) {
                    return Err(ReferenceError::Digest(input.to_owned()));
                }
                (r, Some(d.to_owned()))
            }
            None => (input, None),
        };
        // A tag follows the last ':' that comes after the last '/' (a registry port has a '/' after it).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(rest[i + 1..].to_owned())),
            _ => (rest, None),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(invalid(
                "tag must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
            ));
        }
        if name.is_empty() {
            return Err(invalid("repository name is empty"));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first == "localhost" || first.contains('.') || first.contains(':') =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), name.to_owned()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
                DOCKER_HUB.to_owned()
            }
            _ => registry,
        };
        if !valid_registry(&registry) {
            return Err(invalid("registry host is malformed"));
        }
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(input.to_owned()));
        }
        if path.is_empty() || !path.split('/').all(valid_component) {
            return Err(invalid(
                "repository path components must be lowercase letters, digits and separators (., _, __, -)",
            ));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if registry.len() + 1 + repository.len() > 255 {
            return Err(invalid("name longer than 255 characters"));
        }
        // The normalised form (`docker.io/library/...`) is held to the same bound as the input, so
        // what parses once parses again from its own rendering (found by the reference fuzz target).
        let rendered = registry.len()
            + 1
            + repository.len()
            + tag.as_ref().map_or(0, |t| 1 + t.len())
            + digest.as_ref().map_or(0, |d| 1 + d.len());
        if rendered > 512 {
            return Err(invalid("contains whitespace or is too long"));
        }
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Whether the registry is Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }

    /// The host to send registry API requests to.
    pub fn api_host(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_API_HOST
        } else {
            &self.registry
        }
    }

    /// The tag, or `latest` when neither tag nor digest was given.
    pub fn tag_or_latest(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, Some(_)) => None,
            (None, None) => Some("latest"),
        }
    }

    /// What to ask the registry for: the digest when pinned, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// Whether the reference names a moving tag rather than a digest.
    pub fn is_mutable(&self) -> bool {
        self.digest.is_none()
    }

    /// The short form Docker prints (`ubuntu:24.04`, `myacr.azurecr.io/app:1.0`).
    pub fn familiar(&self) -> String {
        let name = if self.is_docker_hub() {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_owned()
        } else {
            format!("{}/{}", self.registry, self.repository)
        };
        self.with_suffix(name)
    }

    fn with_suffix(&self, mut name: String) -> String {
        if let Some(t) = self.tag_or_latest() {
            name.push(':');
            name.push_str(t);
        }
        if let Some(d) = &self.digest {
            name.push('@');
            name.push_str(d);
        }
        name
    }
}

/// The fully normalised form: `docker.io/library/ubuntu:latest`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_suffix(format!("{}/{}", self.registry, self.repository)))
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

fn valid_registry(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || r.starts_with('[') => (h, Some(p)),
        _ => (r, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if host.starts_with('[') {
        host.ends_with(']') && host.len() > 2
    } else {
        !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    };
    port_ok && host_ok
}

/// `algorithm:encoded`; sha256 and sha512 must have their exact hex length.
pub fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let hex_ok =
        |n: usize| hex.len() == n && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match alg {
        "sha256" => hex_ok(64),
        "sha512" => hex_ok(128),
        _ => {
            !alg.is_empty()
                && alg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
                && hex.len() >= 32
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_parses_parses_again_from_its_rendering() {
        // A short name with a long digest: the input fits in 512 characters, its normalised form
        // (`docker.io/library/do@...`) would not.
        let input = format!("do@ker:{}", "tmp".repeat(165));
        assert_eq!(input.len(), 502);
        assert!(Reference::parse(&input).is_err());
        let fits = format!("do@ker:{}", "tmp".repeat(150));
        let r = Reference::parse(&fits).unwrap();
        assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
    }

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(norm("ubuntu"), "docker.io/library/ubuntu:latest");
        assert_eq!(norm("ubuntu:24.04"), "docker.io/library/ubuntu:24.04");
        assert_eq!(
            norm("index.docker.io/library/ubuntu:24.04"),
            "docker.io/library/ubuntu:24.04"
        );
        assert_eq!(norm("bitnami/redis"), "docker.io/bitnami/redis:latest");
        assert_eq!(
            norm("myacr.azurecr.io/render:2.1"),
            "myacr.azurecr.io/render:2.1"
        );
        assert_eq!(norm("localhost/app"), "localhost/app:latest");
        assert_eq!(norm("localhost:5000/a/b:t"), "localhost:5000/a/b:t");
        assert_eq!(norm("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            norm(&format!("ubuntu@{d}")),
            format!("docker.io/library/ubuntu@{d}")
        );
        assert_eq!(
            Reference::parse("ubuntu:24.04").unwrap().familiar(),
            "ubuntu:24.04"
        );
    }

    #[test]
    fn rejects_bad_references() {
        assert_eq!(Reference::parse(""), Err(ReferenceError::Empty));
        assert!(matches!(
            Reference::parse("Ubuntu"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(
            Reference::parse("ubuntu@sha256:abc"),
            Err(ReferenceError::Digest(_))
        ));
        assert!(Reference::parse("ubuntu:-bad").is_err());
        assert!(Reference::parse("a//b").is_err());
        assert!(Reference::parse("https://hub.docker.com/ubuntu").is_err());
    }
}
