//! `batchprep check` against a real registry (Debian's docker-registry with htpasswd auth): the probe
//! uses the credentials the pool itself carries, private registries without them are caught, and the
//! pool's password never appears in any output.

#[path = "../../batchprep-oci/tests/registry_harness/mod.rs"]
mod registry_harness;

use std::{path::Path, process::Command};

use registry_harness::{Auth, Registry};

const PASSWORD: &str = "s3cret-pool-password";

fn pool(host: &str, registries: serde_json::Value) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "id": "render",
        "vmSize": "Standard_D2s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2404", "version": "latest"},
            "nodeAgentSKUId": "batch.node.ubuntu 24.04",
            "containerConfiguration": {
                "type": "dockerCompatible",
                "containerImageNames": [format!("{host}/team/app:1.0"), format!("{host}/team/gone:1.0")],
                "containerRegistries": registries
            }
        },
        "startTask": {
            "commandLine": "/bin/bash -c 'set data-root in /etc/docker/daemon.json'",
            "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}},
            "waitForSuccess": true
        },
        "targetDedicatedNodes": 2
    }))
    .unwrap()
}

fn check(dir: &Path, host: &str, format: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args([
            "-v",
            "check",
            "pool.json",
            "--insecure-registry",
            host,
            "--format",
            format,
        ])
        .current_dir(dir)
        .env("HOME", dir)
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn outcomes(json: &str) -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn probes_with_the_pools_own_credentials() {
    let registry = Registry::start(
        Auth::Htpasswd {
            user: "robot".into(),
            password: PASSWORD.into(),
        },
        false,
    );
    registry.push("team/app:1.0");
    let host = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();

    // With the pool's username and password: the pushed image is pullable, the other is missing.
    let registries =
        serde_json::json!([{"registryServer": host, "username": "robot", "password": PASSWORD}]);
    std::fs::write(dir.path().join("pool.json"), pool(&host, registries)).unwrap();
    let (code, stdout, stderr) = check(dir.path(), &host, "json");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        doc["checks"]["registry"],
        serde_json::json!({"probed": 2, "not_pullable": 1}),
        "{stderr}"
    );
    let names = outcomes(&stdout);
    assert!(
        names.contains(&("image-not-pullable".into(), format!("{host}/team/gone:1.0"))),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|(n, s)| n == "image-not-pullable" && s.contains("team/app")),
        "{names:?}"
    );
    assert_eq!(code, 1, "{stderr}");
    for format in ["human", "json", "sarif", "junit", "github", "azure"] {
        let (_, stdout, stderr) = check(dir.path(), &host, format);
        assert!(
            !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
            "{format} leaks the password"
        );
    }

    // Without a registry entry the nodes pull anonymously: the registry refuses, and the pool rule
    // knows the registry needs credentials.
    std::fs::write(
        dir.path().join("pool.json"),
        pool(&host, serde_json::json!([])),
    )
    .unwrap();
    let (code, stdout, stderr) = check(dir.path(), &host, "json");
    let names = outcomes(&stdout);
    assert!(
        names.contains(&("missing-registry-credentials".into(), "pool render".into())),
        "{names:?} {stderr}"
    );
    assert!(
        names.contains(&("image-not-pullable".into(), format!("{host}/team/app:1.0"))),
        "{names:?}"
    );
    assert_eq!(code, 1, "{stderr}");
}

/// `inspect` and `lint` read registry images too; the layer-index cache fills on first use and
/// `--no-cache` leaves it alone.
#[test]
fn inspect_and_lint_read_registry_images_with_and_without_the_cache() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("team/app:1.0");
    let host = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();
    let image = format!("docker://{host}/team/app:1.0");
    let run = |args: &[&str], cache: &Path| {
        Command::new(env!("CARGO_BIN_EXE_batchprep"))
            .args(args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("XDG_CACHE_HOME", cache)
            .env("BATCHPREP_INSECURE_REGISTRIES", &host)
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("BATCHPREP_NO_CACHE")
            .output()
            .unwrap()
    };
    let layers = |cache: &Path| {
        std::fs::read_dir(cache.join("batchprep/layers"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let cached = dir.path().join("cache");
    let out = run(&["inspect", &image, "--format", "json"], &cached);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["source"], image.as_str());
    assert!(layers(&cached) > 0, "the layer index is cached");

    let uncached = dir.path().join("nocache");
    let out = run(&["inspect", &image, "--no-cache"], &uncached);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &["lint", &image, "--no-cache", "--format", "json"],
        &uncached,
    );
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(layers(&uncached), 0, "--no-cache writes no cache");
}

/// Docker Hub images go where the run says Docker Hub is (a pull-through mirror; here the real
/// registry standing in for it), for the probe and the image reader alike: nothing reaches Docker Hub.
#[test]
fn docker_hub_images_are_read_through_the_named_hub_host() {
    let registry = Registry::start_logged();
    registry.push("library/ubuntu:24.04");
    let host = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();
    let mut pool: serde_json::Value =
        serde_json::from_str(&pool(&host, serde_json::json!([]))).unwrap();
    pool["virtualMachineConfiguration"]["containerConfiguration"]["containerImageNames"] =
        serde_json::json!(["ubuntu:24.04"]);
    std::fs::write(dir.path().join("pool.json"), pool.to_string()).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_batchprep"))
            .args(args)
            .args(["--docker-hub-host", &host, "--insecure-registry", &host])
            .args(["--format", "json"])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("BATCHPREP_TODAY", "2026-11-28")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .output()
            .unwrap()
    };
    let out = run(&["inspect", "ubuntu:24.04"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["source"], "docker://docker.io/library/ubuntu:24.04");

    let out = run(&["check", "pool.json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["errors"], serde_json::json!([]), "{doc:#}");
    assert_eq!(
        doc["checks"]["containers"],
        serde_json::json!({"pairs": 1, "linted": 1})
    );
    // The probe asks Docker Hub with HEAD only (a GET is a pull); the GETs are the image reader's.
    let requests = registry.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == "GET /v2/library/ubuntu/manifests/24.04"),
        "{requests:#?}"
    );
}

/// A cold `check` of images sharing a base layer asks the registry for each blob once, whoever
/// needs it (the probe and the image reader, three images at once); a warm one asks for no layer.
/// Counted in the real registry's access log.
#[test]
fn a_cold_check_fetches_each_blob_once() {
    let registry = Registry::start_logged();
    let host = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();
    // Three images on the tiny image's layer, each with its own config (and so its own manifest).
    let layout = dir.path().join("oci");
    registry_harness::run(
        Command::new("cp")
            .arg("-a")
            .arg(registry_harness::tiny_image())
            .arg(&layout),
    );
    let l = layout.to_str().unwrap();
    let mut names = Vec::new();
    for (i, repo_tag) in ["team/a:1.0", "team/b:1.0", "team/a:2.0"]
        .iter()
        .enumerate()
    {
        let tag = format!("v{i}");
        registry_harness::run(Command::new("umoci").args([
            "config",
            "--image",
            &format!("{l}:tiny"),
            "--tag",
            &tag,
            "--config.env",
            &format!("IMAGE={i}"),
        ]));
        registry.push_layout(&layout, &tag, repo_tag);
        names.push(format!("{host}/{repo_tag}"));
    }
    let pushed = registry.requests().len();
    std::fs::write(
        dir.path().join("pool.json"),
        serde_json::to_string(&serde_json::json!({
            "id": "render",
            "vmSize": "Standard_D2s_v3",
            "virtualMachineConfiguration": {
                "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2404", "version": "latest"},
                "nodeAgentSKUId": "batch.node.ubuntu 24.04",
                "containerConfiguration": {"type": "dockerCompatible", "containerImageNames": names}
            },
            "targetDedicatedNodes": 1
        }))
        .unwrap(),
    )
    .unwrap();

    let blob_gets = |requests: &[String]| {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for r in requests {
            if let Some(path) = r.strip_prefix("GET ")
                && let Some((_, digest)) = path.split_once("/blobs/")
            {
                *counts.entry(digest.to_owned()).or_default() += 1;
            }
        }
        counts
    };
    let manifest_gets = |requests: &[String]| {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for r in requests.iter().filter(|r| r.contains("/manifests/")) {
            if let Some(path) = r.strip_prefix("GET ") {
                *counts.entry(path.to_owned()).or_default() += 1;
            }
        }
        counts
    };

    let (code, _, stderr) = check(dir.path(), &host, "json");
    assert!(matches!(code, 0 | 1), "{stderr}");
    let cold: Vec<String> = registry.requests()[pushed..].to_vec();
    let blobs = blob_gets(&cold);
    // One shared layer and three configs, each fetched once.
    assert_eq!(blobs.len(), 4, "{cold:#?}");
    assert!(blobs.values().all(|&n| n == 1), "{blobs:#?}");
    let manifests = manifest_gets(&cold);
    assert_eq!(manifests.len(), 3, "{cold:#?}");
    assert!(manifests.values().all(|&n| n == 1), "{manifests:#?}");

    // Warm: the layer index comes from the cache; only the probe's config reads remain.
    let before = registry.requests().len();
    let (code, _, stderr) = check(dir.path(), &host, "json");
    assert!(matches!(code, 0 | 1), "{stderr}");
    let warm: Vec<String> = registry.requests()[before..].to_vec();
    let blobs = blob_gets(&warm);
    assert_eq!(blobs.len(), 3, "{warm:#?}");
    assert!(blobs.values().all(|&n| n == 1), "{blobs:#?}");
}

/// `mutable-image-tag` with registry access: `--fix --unsafe-fixes` pins the prefetched image and
/// the task that names it by the same tag to the digest the registry reports, so the task still
/// runs the prefetched image; `--fix` alone leaves both alone.
#[test]
fn unsafe_fixes_pin_a_moving_tag_to_the_registry_digest() {
    let registry = Registry::start(Auth::Anonymous, false);
    registry.push("team/app:latest");
    let host = registry.host.clone();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut pool: serde_json::Value =
        serde_json::from_str(&pool(&host, serde_json::json!([]))).unwrap();
    pool["virtualMachineConfiguration"]["containerConfiguration"]["containerImageNames"] =
        serde_json::json!([format!("{host}/team/app:latest")]);
    std::fs::write(
        d.join("pool.json"),
        serde_json::to_string_pretty(&pool).unwrap(),
    )
    .unwrap();
    // The task names the image without a tag: the same image.
    let task = format!(
        r#"[{{"id": "t1", "commandLine": "", "containerSettings": {{"imageName": "{host}/team/app"}}}}]"#
    );
    std::fs::write(d.join("tasks.json"), &task).unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_batchprep"))
            .args(
                [
                    &[
                        "check",
                        "pool.json",
                        "--task",
                        "tasks.json",
                        "--insecure-registry",
                        &host,
                    ][..],
                    extra,
                ]
                .concat(),
            )
            .current_dir(d)
            .env("HOME", d)
            .env("BATCHPREP_TODAY", "2026-11-28")
            .env("XDG_CACHE_HOME", d.join("cache"))
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .unwrap();
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (json, _) = run(&["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let pin = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "mutable-image-tag")
        .unwrap_or_else(|| panic!("{json}"));
    let fix = pin["fix"].as_str().unwrap();
    let pinned = fix
        .strip_prefix("pin the image by digest: `")
        .and_then(|f| f.split('`').next())
        .unwrap_or_else(|| panic!("{fix}"));
    assert!(
        pinned.starts_with(&format!("{host}/team/app@sha256:"))
            && pinned.len() == host.len() + "/team/app@sha256:".len() + 64,
        "{pinned}"
    );

    let pool_before = std::fs::read_to_string(d.join("pool.json")).unwrap();
    let (_, stderr) = run(&["--fix", "-q"]);
    assert!(stderr.starts_with("fixed 0 finding(s)"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(d.join("pool.json")).unwrap(),
        pool_before
    );

    let (_, stderr) = run(&["--fix", "--unsafe-fixes", "-q"]);
    assert!(
        stderr.starts_with("fixed 1 finding(s) in 2 file(s)"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("pool.json")).unwrap(),
        pool_before.replace(&format!("{host}/team/app:latest"), pinned)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("tasks.json")).unwrap(),
        task.replace(&format!("{host}/team/app\""), &format!("{pinned}\""))
    );
    let (json, _) = run(&["--format", "json"]);
    let names = outcomes(&json);
    assert!(
        !names
            .iter()
            .any(|(n, _)| n == "mutable-image-tag" || n == "task-image-not-prefetched"),
        "{names:?}"
    );
}
