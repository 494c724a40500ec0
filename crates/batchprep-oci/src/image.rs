//! An image as batchprep sees it: the manifest picked for a platform, the config that says how it
//! runs, its layers, and the merged filesystem they make. [`open`] reads the local transports.

use std::{collections::BTreeMap, fmt, str::FromStr};

use serde::Serialize;

use crate::{Error, ImageSource, MergedFs};

/// The PATH container runtimes use when the image config sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An `os/architecture[/variant]` platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Platform {
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`, ...
    pub architecture: String,
    /// `v8`, `v7`, ... when the image says.
    pub variant: Option<String>,
}

impl Default for Platform {
    /// `linux/amd64`, what Azure Batch Linux pools run.
    fn default() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Platform, Error> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: (*os).to_owned(),
                architecture: (*arch).to_owned(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform {
                os: (*os).to_owned(),
                architecture: (*arch).to_owned(),
                variant: Some((*variant).to_owned()),
            }),
            _ => Err(Error::InvalidPlatform(s.to_owned())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// Whether an image of platform `have` runs where `self` is wanted: same os and architecture, and
    /// the same variant when one is asked for (`arm64` without a variant counts as `v8`).
    pub fn matches(&self, have: &Platform) -> bool {
        if self.os != have.os || self.architecture != have.architecture {
            return false;
        }
        let implied = |p: &Platform| {
            p.variant.clone().or_else(|| match p.architecture.as_str() {
                "arm64" => Some("v8".to_owned()),
                _ => None,
            })
        };
        self.variant.is_none() || implied(self) == implied(have)
    }
}

/// The parts of the image config that decide how a container runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageConfig {
    /// `ENTRYPOINT`.
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`.
    pub cmd: Option<Vec<String>>,
    /// `WORKDIR` (unset when empty).
    pub working_dir: Option<String>,
    /// `USER` (unset when empty).
    pub user: Option<String>,
    /// `ENV`, as `NAME=value` strings in order.
    pub env: Vec<String>,
    /// `LABEL`s.
    pub labels: BTreeMap<String, String>,
}

impl ImageConfig {
    /// The value of environment variable `name` (the last one set wins, as in Docker).
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }

    /// `PATH` from the config, or the runtimes' default when it sets none.
    pub fn path_var(&self) -> &str {
        self.env_var("PATH").unwrap_or(DEFAULT_PATH)
    }
}

/// One layer of the chosen manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// The blob digest (for docker-archive: the digest of the tar as stored, its diff id).
    pub digest: String,
    /// The media type (docker-archive layers are reported as Docker's media type for what they hold).
    pub media_type: String,
    /// Bytes as stored.
    pub size: u64,
    /// Bytes of tar once decompressed, known after the layer was read.
    pub uncompressed_size: Option<u64>,
}

/// An opened image.
#[derive(Debug, Clone)]
pub struct Image {
    /// The source as the user wrote it, normalised (`oci:dir:tag`).
    pub source: String,
    /// The manifest's digest (docker-archive has no manifest: its config digest, the image ID).
    pub manifest_digest: String,
    /// The config's digest.
    pub config_digest: String,
    /// The platform the config declares.
    pub platform: Platform,
    /// How the container runs.
    pub config: ImageConfig,
    /// Layers, base first.
    pub layers: Vec<Layer>,
    /// The merged filesystem.
    pub fs: MergedFs,
}

/// How to open an image.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The platform to pick from a multi-platform index.
    pub platform: Platform,
}

/// Opens an image: picks the manifest for the platform, verifies and reads the config, streams every
/// layer (in parallel) into the merged view. Local transports are read in place; registry images go
/// through the registry client (credentials and layer cache from the environment).
pub fn open(source: &ImageSource, options: &OpenOptions) -> Result<Image, Error> {
    match source {
        ImageSource::Registry(r) => crate::registry::image::open(
            r,
            options,
            &crate::registry::image::RegistryAccess::from_env()?,
        ),
        _ => crate::local::open(source, options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_print() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(Platform::default().to_string(), "linux/amd64");
        assert_eq!(
            "linux".parse::<Platform>().unwrap_err().to_string(),
            "invalid platform `linux`: expected os/arch[/variant], e.g. linux/amd64"
        );
        let arm64: Platform = "linux/arm64".parse().unwrap();
        assert!(p.matches(&arm64));
        assert!(arm64.matches(&p));
        assert!(!p.matches(&Platform::default()));
    }

    #[test]
    fn path_falls_back_to_the_runtime_default() {
        let mut c = ImageConfig::default();
        assert_eq!(c.path_var(), DEFAULT_PATH);
        c.env = vec!["PATH=/a".into(), "X".into(), "PATH=/opt/bin:/bin".into()];
        assert_eq!(c.path_var(), "/opt/bin:/bin");
        assert_eq!(c.env_var("X"), Some(""));
    }
}
