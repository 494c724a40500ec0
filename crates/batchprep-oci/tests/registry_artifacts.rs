//! Artifacts that are not container images, pushed to a real registry (Debian's `docker-registry`
//! on 127.0.0.1, through the shared harness). A process of its own: the image tests share an
//! in-process layer index that a parallel registry start makes racy.

mod registry_harness;

use std::sync::Arc;

use batchprep_oci::{
    OpenOptions, Reference,
    registry::{
        CredentialStore,
        image::{RegistryAccess, open},
    },
};
use registry_harness::{Auth, Registry};

/// A Singularity image pushed to a registry (the committed layout of `singularity push`, copied
/// with skopeo): the reader stops at the manifest's config media type and names it.
#[test]
fn a_pushed_singularity_image_is_not_a_container_image() {
    let registry = Registry::start(Auth::Anonymous, false);
    let layout = batchprep_testkit::repo_root().join("testdata/rules/not-a-container-image/sif");
    registry.push_layout(&layout, "1.0", "hpc/solver:1.0");
    let reference = Reference::parse(&format!("{}/hpc/solver:1.0", registry.host)).unwrap();
    let access = RegistryAccess {
        credentials: Arc::new(CredentialStore::anonymous()),
        insecure_registries: vec![registry.host.clone()],
        cert_dir: None,
        cache_dir: None,
        timeout: batchprep_oci::registry::image::DEFAULT_TIMEOUT,
        docker_hub_host: batchprep_oci::reference::DOCKER_HUB_API_HOST.to_owned(),
    };
    match open(&reference, &OpenOptions::default(), &access) {
        Err(batchprep_oci::Error::NotAContainerImage {
            location,
            media_type,
            kind,
        }) => {
            assert_eq!(location, format!("docker://{reference}"));
            assert_eq!(media_type, "application/vnd.sylabs.sif.config.v1+json");
            assert_eq!(kind, "a Singularity (SIF) image");
        }
        other => panic!("{:?}", other.map(|i| i.source)),
    }
}
