//! Where an image comes from, written the way skopeo users write it: `oci:DIR[:TAG]`,
//! `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF]`, `docker://REF`, or a bare registry reference.

use std::{fmt, path::PathBuf};

use crate::{Error, Reference};

/// An image location with its transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// An OCI image layout directory (`oci:DIR[:TAG]`).
    OciLayout {
        /// The layout directory.
        dir: PathBuf,
        /// The `org.opencontainers.image.ref.name` to pick, when given.
        tag: Option<String>,
    },
    /// A tar of an OCI image layout (`oci-archive:FILE[:TAG]`).
    OciArchive {
        /// The archive.
        file: PathBuf,
        /// The tag to pick, when given.
        tag: Option<String>,
    },
    /// A `docker save` / `skopeo copy docker-archive:` tar (`docker-archive:FILE[:REF]`).
    DockerArchive {
        /// The archive.
        file: PathBuf,
        /// The `RepoTags` entry to pick, when given.
        reference: Option<String>,
    },
    /// An image in a Docker engine's store (`docker-daemon:REF`), read through the Engine API on
    /// `DOCKER_HOST` or the default socket.
    DockerDaemon {
        /// The name, `name:tag`, `name@digest` or image ID, as the engine resolves it.
        reference: String,
    },
    /// An image in a registry (`docker://REF` or a bare reference).
    Registry(Reference),
}

const TRANSPORTS: [&str; 3] = ["oci", "oci-archive", "docker-archive"];

impl ImageSource {
    /// Parses an image argument. A bare reference and `docker://REF` name a registry image; an unknown
    /// `transport:` prefix is an error that lists the supported ones.
    pub fn parse(s: &str) -> Result<ImageSource, Error> {
        if let Some(reference) = s.strip_prefix("docker://") {
            return registry(s, reference);
        }
        if let Some(reference) = s.strip_prefix("docker-daemon:") {
            if reference.is_empty() {
                return Err(Error::EmptyPath(s.to_owned()));
            }
            return Ok(ImageSource::DockerDaemon {
                reference: reference.to_owned(),
            });
        }
        if let Some((transport, rest)) = s.split_once(':') {
            if TRANSPORTS.contains(&transport) {
                // Like skopeo: the path ends at the first ':' and the rest names the image.
                let (path, name) = match rest.split_once(':') {
                    Some((p, n)) => (p, (!n.is_empty()).then(|| n.to_owned())),
                    None => (rest, None),
                };
                if path.is_empty() {
                    return Err(Error::EmptyPath(s.to_owned()));
                }
                let path = PathBuf::from(path);
                return Ok(match transport {
                    "oci" => ImageSource::OciLayout {
                        dir: path,
                        tag: name,
                    },
                    "oci-archive" => ImageSource::OciArchive {
                        file: path,
                        tag: name,
                    },
                    _ => ImageSource::DockerArchive {
                        file: path,
                        reference: name,
                    },
                });
            }
            // `host:5000/repo` and `repo:tag` are references; `word:rest` with no '/', '.' or digit
            // structure that a reference allows is a transport we do not know.
            if looks_like_transport(transport, rest) {
                return Err(Error::UnknownTransport(s.to_owned()));
            }
        }
        registry(s, s)
    }

    /// The directory or file the image is read from, for local transports.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            ImageSource::OciLayout { dir, .. } => Some(dir),
            ImageSource::OciArchive { file, .. } | ImageSource::DockerArchive { file, .. } => {
                Some(file)
            }
            ImageSource::Registry(_) | ImageSource::DockerDaemon { .. } => None,
        }
    }
}

fn registry(input: &str, reference: &str) -> Result<ImageSource, Error> {
    Reference::parse(reference)
        .map(ImageSource::Registry)
        .map_err(|source| Error::Reference {
            input: input.to_owned(),
            source,
        })
}

/// `containers-storage:x`, `dir:/tmp/x`, `docker-daemon:img` are transports; `ubuntu:22.04` and
/// `localhost:5000/app` are references.
fn looks_like_transport(prefix: &str, rest: &str) -> bool {
    // skopeo's other transports, whatever follows them.
    const OTHERS: [&str; 7] = [
        "containers-storage",
        "dir",
        "docker",
        "docker-daemon",
        "ostree",
        "sif",
        "tarball",
    ];
    if OTHERS.contains(&prefix) {
        return true;
    }
    if prefix.contains('/') || prefix.contains('.') || prefix == "localhost" {
        return false;
    }
    // `name:tag` where the tag has no '/' is a reference; `host:port/repo` has a numeric port.
    let port_like = rest.split('/').next().is_some_and(|p| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && rest.contains('/')
    });
    let tag_like = !rest.contains('/') && !rest.is_empty();
    !(port_like || tag_like)
}

impl fmt::Display for ImageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (transport, path, name) = match self {
            ImageSource::Registry(r) => return write!(f, "docker://{r}"),
            ImageSource::DockerDaemon { reference } => {
                return write!(f, "docker-daemon:{reference}");
            }
            ImageSource::OciLayout { dir, tag } => ("oci", dir, tag),
            ImageSource::OciArchive { file, tag } => ("oci-archive", file, tag),
            ImageSource::DockerArchive { file, reference } => ("docker-archive", file, reference),
        };
        write!(f, "{transport}:{}", path.display())?;
        if let Some(name) = name {
            write!(f, ":{name}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> String {
        ImageSource::parse(s).unwrap().to_string()
    }

    #[test]
    fn local_transports_split_path_at_the_first_colon() {
        assert_eq!(
            ImageSource::parse("oci:testdata/images/hello:1.0").unwrap(),
            ImageSource::OciLayout {
                dir: "testdata/images/hello".into(),
                tag: Some("1.0".into())
            }
        );
        assert_eq!(
            ImageSource::parse("docker-archive:/tmp/a.tar:docker.io/library/app:2").unwrap(),
            ImageSource::DockerArchive {
                file: "/tmp/a.tar".into(),
                reference: Some("docker.io/library/app:2".into())
            }
        );
        assert_eq!(parsed("oci-archive:img.tar"), "oci-archive:img.tar");
        assert_eq!(parsed("oci:dir:"), "oci:dir");
        assert_eq!(
            ImageSource::parse("docker-daemon:localhost:5000/app:1").unwrap(),
            ImageSource::DockerDaemon {
                reference: "localhost:5000/app:1".into()
            }
        );
        assert_eq!(parsed("docker-daemon:app"), "docker-daemon:app");
        assert!(matches!(
            ImageSource::parse("docker-daemon:"),
            Err(Error::EmptyPath(_))
        ));
    }

    #[test]
    fn registry_references_are_normalised() {
        assert_eq!(
            parsed("docker://ubuntu"),
            "docker://docker.io/library/ubuntu:latest"
        );
        assert_eq!(
            parsed("ubuntu:22.04"),
            "docker://docker.io/library/ubuntu:22.04"
        );
        assert_eq!(
            parsed("localhost:5000/app"),
            "docker://localhost:5000/app:latest"
        );
    }

    #[test]
    fn unknown_transport_lists_the_supported_ones() {
        let err = ImageSource::parse("containers-storage:/var/lib/x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown transport in `containers-storage:/var/lib/x`: use oci:DIR[:TAG], \
             oci-archive:FILE[:TAG], docker-archive:FILE[:REF], docker-daemon:REF or docker://REF"
        );
        assert!(matches!(
            ImageSource::parse("dir:/tmp/x"),
            Err(Error::UnknownTransport(_))
        ));
        assert!(matches!(
            ImageSource::parse("oci:"),
            Err(Error::EmptyPath(_))
        ));
    }
}
