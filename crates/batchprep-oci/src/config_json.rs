//! The JSON documents of an image as both local sources and the registry read them: descriptors of
//! indexes and manifests, and the image config blob (platform and the runtime defaults batchprep models).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{ImageConfig, Platform};

/// The parts of an image config batchprep reads.
#[derive(Debug, Deserialize)]
pub(crate) struct ConfigJson {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    config: Option<RunConfigJson>,
    /// The uncompressed layer digests (docker-archive layers are checked against them).
    #[serde(default)]
    pub(crate) rootfs: Option<RootFsJson>,
}

/// `config` of an image config: what a runtime starts the container with.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RunConfigJson {
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// `rootfs` of an image config.
#[derive(Debug, Deserialize)]
pub(crate) struct RootFsJson {
    #[serde(default)]
    pub(crate) diff_ids: Vec<String>,
}

impl ConfigJson {
    /// The image's platform (an empty variant is no variant).
    pub(crate) fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        }
    }

    /// The runtime defaults; empty `WorkingDir` and `User` mean unset.
    pub(crate) fn into_image_config(self) -> ImageConfig {
        let c = self.config.unwrap_or_default();
        ImageConfig {
            entrypoint: c.entrypoint,
            cmd: c.cmd,
            working_dir: c.working_dir.filter(|w| !w.is_empty()),
            user: c.user.filter(|u| !u.is_empty()),
            env: c.env.unwrap_or_default(),
            labels: c.labels.unwrap_or_default(),
        }
    }
}

/// A content descriptor of an index or manifest.
#[derive(Debug, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub(crate) media_type: String,
    pub(crate) digest: String,
    #[serde(default)]
    pub(crate) size: u64,
    #[serde(default)]
    pub(crate) platform: Option<PlatformJson>,
    #[serde(default)]
    pub(crate) annotations: BTreeMap<String, String>,
}

/// An OCI index or manifest, or their Docker counterparts: the fields batchprep reads of either,
/// from a local layout and from a registry alike.
#[derive(Debug, Deserialize)]
pub(crate) struct ManifestJson {
    /// 2 for every manifest and index batchprep reads; 0 when absent.
    #[serde(rename = "schemaVersion", default)]
    pub(crate) schema_version: u32,
    #[serde(rename = "mediaType", default)]
    pub(crate) media_type: Option<String>,
    /// The entries of an index.
    #[serde(default)]
    pub(crate) manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub(crate) config: Option<Descriptor>,
    #[serde(default)]
    pub(crate) layers: Vec<Descriptor>,
}

/// The entry of an index for nodes of `wanted`: the first whose platform matches. Entries without a
/// real platform (`unknown/unknown`: attestations) are never chosen nor listed. `location` names
/// the index in the error.
pub(crate) fn platform_entry<'a>(
    entries: &'a [Descriptor],
    wanted: &Platform,
    location: impl FnOnce() -> String,
) -> Result<&'a Descriptor, crate::Error> {
    let platforms = || {
        entries.iter().filter_map(|d| {
            let p = d.platform.as_ref()?.platform();
            (p.os != "unknown").then_some((d, p))
        })
    };
    if let Some((entry, _)) = platforms().find(|(_, p)| wanted.matches(p)) {
        return Ok(entry);
    }
    let available: Vec<String> = platforms().map(|(_, p)| p.to_string()).collect();
    Err(crate::Error::PlatformNotFound {
        wanted: wanted.to_string(),
        location: location(),
        available: if available.is_empty() {
            "no platforms".into()
        } else {
            available.join(", ")
        },
    })
}

/// The platform of an index entry.
#[derive(Debug, Deserialize)]
pub(crate) struct PlatformJson {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

impl PlatformJson {
    pub(crate) fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        }
    }
}

/// The config media types of a container image: OCI's and Docker's.
pub(crate) const IMAGE_CONFIG_TYPES: &[&str] = &[
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// What a manifest's config media type says the artifact is, when it is not a container image;
/// `None` for an image config (or none given, which OCI reads as one).
pub fn artifact_kind(config_media_type: &str) -> Option<&'static str> {
    if config_media_type.is_empty() || IMAGE_CONFIG_TYPES.contains(&config_media_type) {
        return None;
    }
    Some(match config_media_type {
        "application/vnd.sylabs.sif.config.v1+json" => "a Singularity (SIF) image",
        "application/vnd.cncf.helm.config.v1+json" => "a Helm chart",
        // The OCI 1.1 empty config: an artifact whose type is the manifest's `artifactType`.
        "application/vnd.oci.empty.v1+json" => "an OCI artifact",
        "application/vnd.unknown.config.v1+json" => "an ORAS artifact",
        "application/vnd.wasm.config.v0+json" => "a WebAssembly module",
        _ => "not a container image config",
    })
}

#[cfg(test)]
mod artifact_tests {
    #[test]
    fn image_configs_are_images_and_artifacts_are_named() {
        assert_eq!(
            super::artifact_kind("application/vnd.oci.image.config.v1+json"),
            None
        );
        assert_eq!(super::artifact_kind(""), None);
        assert_eq!(
            super::artifact_kind("application/vnd.sylabs.sif.config.v1+json"),
            Some("a Singularity (SIF) image")
        );
        assert_eq!(
            super::artifact_kind("application/vnd.example.thing+json"),
            Some("not a container image config")
        );
    }

    /// Local layouts and registries choose an index entry the same way.
    #[test]
    fn an_index_entry_is_chosen_by_platform_and_attestations_are_not_platforms() {
        let index: super::ManifestJson = serde_json::from_str(
            r#"{"schemaVersion": 2, "manifests": [
                {"mediaType": "m", "digest": "sha256:a", "platform": {"os": "unknown", "architecture": "unknown"}},
                {"mediaType": "m", "digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"mediaType": "m", "digest": "sha256:c", "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "m", "digest": "sha256:d", "platform": {"os": "linux", "architecture": "amd64"}}
            ]}"#,
        )
        .unwrap();
        let entries = index.manifests.unwrap();
        let on = |p: &str| {
            super::platform_entry(&entries, &p.parse().unwrap(), || "index".into())
                .map(|d| d.digest.clone())
                .map_err(|e| e.to_string())
        };
        assert_eq!(on("linux/amd64"), Ok("sha256:c".into()));
        assert_eq!(on("linux/arm64"), Ok("sha256:b".into()));
        let missing = on("windows/amd64").unwrap_err();
        assert!(
            missing.contains("linux/arm64/v8, linux/amd64, linux/amd64")
                && !missing.contains("unknown"),
            "{missing}"
        );
        let only_attestations = &entries[..1];
        let err = super::platform_entry(only_attestations, &"linux/amd64".parse().unwrap(), || {
            "index".into()
        })
        .unwrap_err();
        assert!(
            matches!(&err, crate::Error::PlatformNotFound { available, .. } if available == "no platforms"),
            "{err}"
        );
    }
}
