//! Registry images for `inspect` and `lint`: opened from a real registry through oci-client, the
//! layers streamed into the merged view, each layer's index cached by digest.

mod registry_harness;

use std::sync::Arc;

use batchprep_oci::{
    OpenOptions, Reference,
    registry::{
        Credential, CredentialPaths, CredentialStore, Secret,
        image::{RegistryAccess, open},
    },
};
use registry_harness::{ALICE, ALICE_REFRESH_TOKEN, Auth, Registry, TokenServer};

fn access(
    registry: &Registry,
    cache: Option<&std::path::Path>,
    store: CredentialStore,
) -> RegistryAccess {
    RegistryAccess {
        credentials: Arc::new(store),
        insecure_registries: vec![registry.host.clone()],
        cert_dir: None,
        cache_dir: cache.map(|c| c.to_path_buf()),
        timeout: batchprep_oci::registry::image::DEFAULT_TIMEOUT,
        docker_hub_host: batchprep_oci::reference::DOCKER_HUB_API_HOST.to_owned(),
    }
}

#[test]
fn registry_image_opens_with_its_files_and_caches_layer_indexes() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("team/app:1.0");
    let reference = Reference::parse(&format!("{}/team/app:1.0", registry.host)).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let access = access(&registry, Some(cache.path()), CredentialStore::anonymous());

    let image = open(&reference, &OpenOptions::default(), &access).unwrap();
    assert_eq!(image.source, format!("docker://{reference}"));
    assert_eq!(
        image.config.entrypoint,
        Some(vec!["/app/run.sh".to_owned()])
    );
    assert_eq!(image.platform.to_string(), "linux/amd64");
    assert_eq!(image.layers.len(), 1);
    let run_sh = image
        .fs
        .entry("/app/run.sh")
        .expect("/app/run.sh in the merged view");
    assert!(run_sh.is_executable_file(), "{run_sh:?}");

    // The layer's index is cached under layers/v2/sha256/<hex>.json, keyed by its digest ...
    let digest = &image.layers[0].digest;
    let file = cache
        .path()
        .join("layers")
        .join(batchprep_oci::layer::INDEX_FORMAT)
        .join("sha256")
        .join(format!("{}.json", digest.strip_prefix("sha256:").unwrap()));
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(index["digest"], serde_json::json!(digest));

    // Within one process each layer is indexed once: a second open is answered from memory, not
    // from the disk cache (so an edited cache file is not seen). Across processes the disk cache
    // answers instead of the registry: `a_cold_check_fetches_each_blob_once` in
    // crates/batchprep/tests/check_registry.rs asserts a warm run fetches no layer.
    let mut marker = index["entries"][0].clone();
    marker["path"] = serde_json::json!("/from-the-cache");
    index["entries"].as_array_mut().unwrap().push(marker);
    std::fs::write(&file, serde_json::to_vec(&index).unwrap()).unwrap();
    let again = open(&reference, &OpenOptions::default(), &access).unwrap();
    assert!(again.fs.entry("/from-the-cache").is_none());
    assert!(again.fs.entry("/app/run.sh").is_some());

    // Without the cache (--no-cache) the image still opens.
    let uncached = RegistryAccess {
        cache_dir: None,
        ..access.clone()
    };
    let fresh = open(&reference, &OpenOptions::default(), &uncached).unwrap();
    assert!(fresh.fs.entry("/app/run.sh").is_some());
}

#[test]
fn private_registry_image_with_password_or_refresh_token() {
    let registry = Registry::start(Auth::Token(TokenServer::start()), false);
    registry.push("private/app:1");
    let reference = Reference::parse(&format!("{}/private/app:1", registry.host)).unwrap();
    let with = |user: &str, secret: &str| {
        CredentialStore::load(
            &CredentialPaths::default(),
            Some(Credential::from_flags(user, Secret::new(secret))),
        )
        .unwrap()
    };

    let anonymous = open(
        &reference,
        &OpenOptions::default(),
        &access(&registry, None, CredentialStore::anonymous()),
    )
    .unwrap_err();
    assert_eq!(anonymous.to_string(), "cannot read from the registry");
    let cause = std::error::Error::source(&anonymous).unwrap().to_string();
    assert_eq!(
        cause,
        format!(
            "Not authorized: url http://{}/v2/private/app/manifests/1",
            registry.host
        )
    );

    let alice = open(
        &reference,
        &OpenOptions::default(),
        &access(&registry, None, with(ALICE.0, ALICE.1)),
    )
    .unwrap();
    assert!(alice.fs.entry("/app/run.sh").is_some());

    let acr = open(
        &reference,
        &OpenOptions::default(),
        &access(
            &registry,
            None,
            with("00000000-0000-0000-0000-000000000000", ALICE_REFRESH_TOKEN),
        ),
    )
    .unwrap();
    assert!(acr.fs.entry("/app/run.sh").is_some());
}

#[test]
fn single_platform_image_opens_whatever_platform_is_asked() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("app:1");
    let reference = Reference::parse(&format!("{}/app:1", registry.host)).unwrap();
    let options = OpenOptions {
        platform: "linux/arm64".parse().unwrap(),
    };
    // A single-platform image is opened whatever the platform; the platform rule compares.
    let image = open(
        &reference,
        &options,
        &access(&registry, None, CredentialStore::anonymous()),
    )
    .unwrap();
    assert_eq!(image.platform.to_string(), "linux/amd64");
}
