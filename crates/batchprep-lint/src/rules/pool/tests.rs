//! Every pool rule against a failing pool and its passing twin.

use std::path::PathBuf;

use batchprep_batch::{catalog::Date, json_pos::PointerIndex, pool::parse_pools};
use serde_json::{Value, json};

use super::{PoolFacts, PoolTask, RegistryFacts, check};
use crate::{Finding, Location};

/// A valid, current, clean container pool; tests change one thing at a time.
fn good_pool() -> Value {
    json!({
        "id": "render",
        "vmSize": "Standard_D4s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2404", "version": "latest"},
            "nodeAgentSKUId": "batch.node.ubuntu 24.04",
            "containerConfiguration": {
                "type": "dockerCompatible",
                "containerImageNames": ["myacr.azurecr.io/render:2.1", "ubuntu:24.04"],
                "containerRegistries": [{"registryServer": "myacr.azurecr.io", "identityReference": {"resourceId": "/id"}}]
            }
        },
        "startTask": {
            "commandLine": "/bin/bash -c 'batchprep: set data-root in /etc/docker/daemon.json'",
            "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}},
            "waitForSuccess": true
        },
        "targetDedicatedNodes": 2
    })
}

fn today() -> Date {
    Date::parse("2026-11-28").unwrap()
}

fn run_with(pool: &Value, tasks: &[PoolTask], registry: &RegistryFacts) -> Vec<Finding> {
    let text = serde_json::to_string_pretty(pool).unwrap();
    let index = PointerIndex::build(&text);
    let pools = parse_pools(&text).unwrap();
    let locate = |p: &str| {
        let pos = index.position(p);
        Location {
            file: PathBuf::from("pool.json"),
            pointer: p.to_owned(),
            line: pos.line,
            column: pos.column,
        }
    };
    check(&PoolFacts {
        network: None,
        pool: &pools[0],
        locate: &locate,
        tasks,
        today: today(),
        registry,
    })
}

fn names(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.name.as_str()).collect()
}

fn only(findings: &[Finding], name: &str) -> Finding {
    let matching: Vec<&Finding> = findings.iter().filter(|f| f.name == name).collect();
    assert_eq!(matching.len(), 1, "{name}: {:#?}", names(findings));
    matching[0].clone()
}

fn run(pool: &Value) -> Vec<Finding> {
    run_with(pool, &[], &RegistryFacts::default())
}

fn set(pool: &mut Value, pointer: &str, value: Value) {
    *pool.pointer_mut(pointer).unwrap() = value;
}

const CC: &str = "/virtualMachineConfiguration/containerConfiguration";

#[test]
fn the_good_pool_is_clean() {
    assert_eq!(names(&run(&good_pool())), Vec::<&str>::new());
}

#[test]
fn retired_node_image() {
    let mut p = good_pool();
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference",
        json!({"publisher": "microsoft-azure-batch", "offer": "ubuntu-server-container", "sku": "20-04-lts"}),
    );
    set(
        &mut p,
        "/virtualMachineConfiguration/nodeAgentSKUId",
        json!("batch.node.ubuntu 20.04"),
    );
    let f = only(&run(&p), "retired-node-image");
    assert_eq!(
        f.message,
        "`microsoft-azure-batch:ubuntu-server-container:20-04-lts` is retired (end of life 2025-04-23)"
    );
    assert_eq!(
        f.fix.as_deref(),
        Some("move to `microsoft-dsvm:ubuntu-hpc:2404` with node agent `batch.node.ubuntu 24.04`")
    );
    assert_eq!(
        f.location.unwrap().pointer,
        "/virtualMachineConfiguration/imageReference"
    );
    // An image outside the catalog with a retired agent is caught by the agent.
    let mut p = good_pool();
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference",
        json!({"publisher": "Canonical", "offer": "UbuntuServer", "sku": "16.04.0-LTS"}),
    );
    set(
        &mut p,
        "/virtualMachineConfiguration/nodeAgentSKUId",
        json!("batch.node.ubuntu 16.04"),
    );
    assert_eq!(
        only(&run(&p), "retired-node-image").message,
        "node agent `batch.node.ubuntu 16.04` is retired"
    );
    // A SKU the catalog does not list, of an offer retired as a whole (what Shipyard's `native` CentOS
    // 7.6 pools ran on), whatever the node agent says.
    let mut p = good_pool();
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference",
        json!({"publisher": "microsoft-azure-batch", "offer": "centos-container", "sku": "7-6"}),
    );
    let f = only(&run(&p), "retired-node-image");
    assert_eq!(
        f.message,
        "`microsoft-azure-batch:centos-container:7-6` is retired: every image of `microsoft-azure-batch:centos-container` reached end of life by 2024-06-30"
    );
    assert_eq!(
        f.location.unwrap().pointer,
        "/virtualMachineConfiguration/imageReference"
    );
}

#[test]
fn node_image_end_of_life() {
    let mut p = good_pool();
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference/sku",
        json!("2204"),
    );
    set(
        &mut p,
        "/virtualMachineConfiguration/nodeAgentSKUId",
        json!("batch.node.ubuntu 22.04"),
    );
    let f = only(&run(&p), "node-image-end-of-life");
    assert_eq!(
        f.message,
        "`microsoft-dsvm:ubuntu-hpc:2204` reaches end of life on 2027-06-30 (214 days from 2026-11-28)"
    );
}

#[test]
fn node_agent_mismatch() {
    let mut p = good_pool();
    set(
        &mut p,
        "/virtualMachineConfiguration/nodeAgentSKUId",
        json!("batch.node.ubuntu 22.04"),
    );
    let f = only(&run(&p), "node-agent-mismatch");
    assert_eq!(
        f.message,
        "`nodeAgentSKUId` is `batch.node.ubuntu 22.04` but `microsoft-dsvm:ubuntu-hpc:2404` needs `batch.node.ubuntu 24.04`"
    );
    assert_eq!(
        f.location.unwrap().pointer,
        "/virtualMachineConfiguration/nodeAgentSKUId"
    );
    // Case differences are not a mismatch.
    set(
        &mut p,
        "/virtualMachineConfiguration/nodeAgentSKUId",
        json!("Batch.Node.Ubuntu 24.04"),
    );
    assert_eq!(names(&run(&p)), Vec::<&str>::new());
}

#[test]
fn container_type_missing() {
    let mut p = good_pool();
    p.pointer_mut(CC)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("type");
    let f = only(&run(&p), "container-type-missing");
    assert_eq!(f.location.as_ref().unwrap().pointer, CC);
    assert!(f.location.unwrap().line > 1);
}

#[test]
fn gpu_not_driven_by_the_newest_hpc_image() {
    let mut p = good_pool();
    set(&mut p, "/vmSize", json!("Standard_NC6s_v3"));
    let f = only(&run(&p), "gpu-not-driven-by-image");
    assert_eq!(
        f.message,
        "`Standard_NC6s_v3` has V100 GPUs, which the NVIDIA driver of `microsoft-dsvm:ubuntu-hpc:2404` does not drive: the tasks see no GPU"
    );
    assert_eq!(f.location.unwrap().pointer, "/vmSize");
    set(&mut p, "/vmSize", json!("Standard_NV36ads_A10_v5"));
    assert_eq!(names(&run(&p)), ["gpu-not-driven-by-image"]);
    // The twins: a T4 size on the same image, a V100 size on the 22.04 V100 image.
    set(&mut p, "/vmSize", json!("Standard_NC4as_T4_v3"));
    assert_eq!(names(&run(&p)), Vec::<&str>::new());
    set(&mut p, "/vmSize", json!("Standard_NC6s_v3"));
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference/sku",
        json!("2204-v100"),
    );
    set(
        &mut p,
        "/virtualMachineConfiguration/nodeAgentSKUId",
        json!("batch.node.ubuntu 22.04"),
    );
    assert!(!names(&run(&p)).contains(&"gpu-not-driven-by-image"));
}

#[test]
fn gpu_container_pool_on_an_image_without_the_nvidia_runtime() {
    let mut p = good_pool();
    set(&mut p, "/vmSize", json!("Standard_NC4as_T4_v3"));
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference",
        json!({"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}),
    );
    let findings = run(&p);
    let f = only(&findings, "gpu-image-without-nvidia-runtime");
    assert_eq!(
        f.message,
        "`Standard_NC4as_T4_v3` has NVIDIA GPUs, but `canonical:ubuntu-24_04-lts:server` has no NVIDIA driver or NVIDIA container runtime: the containers get no GPU"
    );
    assert_eq!(
        f.location.unwrap().pointer,
        "/virtualMachineConfiguration/imageReference"
    );
    // The ROCm variant of the HPC image drives AMD GPUs, not NVIDIA's.
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference",
        json!({"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2404-rocm", "version": "latest"}),
    );
    assert!(names(&run(&p)).contains(&"gpu-image-without-nvidia-runtime"));
    // Without GPUs, or on the HPC image, there is nothing to drive.
    set(&mut p, "/vmSize", json!("Standard_D4s_v3"));
    assert!(!names(&run(&p)).contains(&"gpu-image-without-nvidia-runtime"));
    let mut p = good_pool();
    set(&mut p, "/vmSize", json!("Standard_NC4as_T4_v3"));
    assert!(!names(&run(&p)).contains(&"gpu-image-without-nvidia-runtime"));
}

#[test]
fn rdma_image_on_non_rdma_size() {
    let mut p = good_pool();
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference/offer",
        json!("ubuntu-hpc-rdma"),
    );
    let f = only(&run(&p), "rdma-image-on-non-rdma-size");
    assert_eq!(
        f.message,
        "`microsoft-dsvm:ubuntu-hpc-rdma:2404` is an RDMA image but `Standard_D4s_v3` has no InfiniBand"
    );
    set(&mut p, "/vmSize", json!("Standard_HB120rs_v3"));
    assert!(!names(&run(&p)).contains(&"rdma-image-on-non-rdma-size"));
}

#[test]
fn invalid_registry_server() {
    let mut p = good_pool();
    set(
        &mut p,
        &format!("{CC}/containerRegistries/0/registryServer"),
        json!("https://hub.docker.com"),
    );
    let f = only(&run(&p), "invalid-registry-server");
    assert_eq!(
        f.message,
        "`registryServer` `https://hub.docker.com` names the web site `hub.docker.com`, not a registry"
    );
    assert_eq!(
        f.fix.as_deref(),
        Some("set `registryServer` to `docker.io`")
    );
    set(
        &mut p,
        &format!("{CC}/containerRegistries/0/registryServer"),
        json!("https://myacr.azurecr.io"),
    );
    let findings = run(&p);
    assert_eq!(
        only(&findings, "invalid-registry-server").message,
        "`registryServer` `https://myacr.azurecr.io` has a scheme (`https://`)"
    );
    // A bare name (an ACR's short name) is never a registry; localhost and host:port are.
    set(
        &mut p,
        &format!("{CC}/containerRegistries/0/registryServer"),
        json!("MyAcr"),
    );
    let f = only(&run(&p), "invalid-registry-server");
    assert_eq!(
        f.message,
        "`registryServer` `MyAcr` is not a registry host: a name without a domain (no `.` or `:`, not `localhost`) is resolved as a single-label host name, and image references never name it as their registry"
    );
    assert_eq!(
        f.fix.as_deref(),
        Some("set `registryServer` to `myacr.azurecr.io`")
    );
    // Docker Hub by its API host or legacy index name: write `docker.io`.
    for host in [
        "index.docker.io",
        "registry-1.docker.io",
        "https://index.docker.io/v1/",
    ] {
        set(
            &mut p,
            &format!("{CC}/containerRegistries/0/registryServer"),
            json!(host),
        );
        let f = only(&run(&p), "invalid-registry-server");
        assert_eq!(
            f.fix.as_deref(),
            Some("set `registryServer` to `docker.io`"),
            "{host}"
        );
        assert_eq!(
            f.location.unwrap().pointer,
            format!("{CC}/containerRegistries/0/registryServer")
        );
    }
    set(
        &mut p,
        &format!("{CC}/containerRegistries/0/registryServer"),
        json!("registry-1.docker.io"),
    );
    assert_eq!(
        only(&run(&p), "invalid-registry-server").message,
        "`registryServer` `registry-1.docker.io` names Docker Hub by `registry-1.docker.io`, not by `docker.io`, the registry Docker Hub images resolve to: the login is kept under a name the pulls of those images do not look up"
    );
    for host in ["localhost", "registry:5000", "LOCALHOST", "docker.io"] {
        set(
            &mut p,
            &format!("{CC}/containerRegistries/0/registryServer"),
            json!(host),
        );
        assert!(
            !names(&run(&p)).contains(&"invalid-registry-server"),
            "{host}"
        );
    }
    // A password in the URL is never repeated, in the message or the fix.
    for (server, message) in [
        (
            "https://user:hunter2@myacr.azurecr.io",
            "`registryServer` `https://***@myacr.azurecr.io` has a scheme (`https://`)",
        ),
        (
            "user:hunter2@myacr.azurecr.io",
            "`registryServer` `***@myacr.azurecr.io` has a user and password in it",
        ),
    ] {
        set(
            &mut p,
            &format!("{CC}/containerRegistries/0/registryServer"),
            json!(server),
        );
        let findings = run(&p);
        let f = only(&findings, "invalid-registry-server");
        assert_eq!(f.message, message);
        assert_eq!(
            f.fix.as_deref(),
            Some("set `registryServer` to `myacr.azurecr.io`")
        );
    }
}

#[test]
fn registry_host_uppercase_in_prefetched_and_task_images() {
    let mut p = good_pool();
    set(
        &mut p,
        &format!("{CC}/containerImageNames/0"),
        json!("MyAcr.azurecr.io/render:2.1"),
    );
    let tasks = [
        task("t1", Some("MyAcr.azurecr.io/render:2.1")),
        task("t2", Some("myacr.azurecr.io/render:2.1")),
        task("t3", Some("Ubuntu:24.04")),
    ];
    let findings = run_with(&p, &tasks, &RegistryFacts::default());
    let found: Vec<_> = findings
        .iter()
        .filter(|f| f.name == "registry-host-uppercase")
        .map(|f| {
            (
                f.subject.as_str(),
                f.location.as_ref().unwrap().pointer.as_str(),
                f.fix.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "pool render",
                "/virtualMachineConfiguration/containerConfiguration/containerImageNames/0",
                "write the host in lower case: `myacr.azurecr.io/render:2.1`"
            ),
            (
                "task t1",
                "",
                "write the host in lower case: `myacr.azurecr.io/render:2.1`"
            ),
        ]
    );
    assert_eq!(
        findings
            .iter()
            .find(|f| f.name == "registry-host-uppercase")
            .unwrap()
            .message,
        "`MyAcr.azurecr.io/render:2.1` names its registry `MyAcr.azurecr.io` with upper case; credentials are looked up by the host as written, so a login for `myacr.azurecr.io` is not used for this pull"
    );
}

#[test]
fn missing_registry_credentials() {
    let mut p = good_pool();
    set(&mut p, &format!("{CC}/containerRegistries"), json!([]));
    let f = only(&run(&p), "missing-registry-credentials");
    assert_eq!(
        f.message,
        "`myacr.azurecr.io/render:2.1` comes from `myacr.azurecr.io` (Azure Container Registry needs credentials) and the pool has no `containerRegistries` entry for it"
    );
    assert_eq!(
        f.location.unwrap().pointer,
        format!("{CC}/containerImageNames/0")
    );
    // A registry the probe found private counts too.
    let mut p = good_pool();
    set(
        &mut p,
        &format!("{CC}/containerImageNames/1"),
        json!("registry.example.com/team/app:1"),
    );
    let registry = RegistryFacts {
        needs_credentials: vec!["registry.example.com".into()],
        ..Default::default()
    };
    assert_eq!(
        names(&run_with(&p, &[], &registry)),
        vec!["missing-registry-credentials"]
    );
    assert_eq!(names(&run(&p)), Vec::<&str>::new());
}

fn task(id: &str, image: Option<&str>) -> PoolTask {
    PoolTask {
        id: id.into(),
        image: image.map(str::to_owned),
        location: Location {
            file: PathBuf::from("task.json"),
            pointer: String::new(),
            line: 1,
            column: 1,
        },
    }
}

#[test]
fn task_image_not_prefetched() {
    let tasks = [
        task("t1", Some("docker.io/library/ubuntu:24.04")),
        task("t2", Some("python:3.12")),
    ];
    let findings = run_with(&good_pool(), &tasks, &RegistryFacts::default());
    let f = only(&findings, "task-image-not-prefetched");
    assert_eq!(f.subject, "task t2");
    assert_eq!(
        f.message,
        "`python:3.12` is not in the pool's `containerImageNames` (2 listed); every node pulls it when the task starts"
    );
    assert_eq!(
        f.fix.as_deref(),
        Some("add `python:3.12` to `containerImageNames` of pool render")
    );
}

#[test]
fn task_missing_container_settings() {
    let findings = run_with(
        &good_pool(),
        &[task("t1", None), task("t2", Some("ubuntu:24.04"))],
        &RegistryFacts::default(),
    );
    let f = only(&findings, "task-missing-container-settings");
    assert_eq!(f.subject, "task t1");
    let mut p = good_pool();
    p.pointer_mut("/virtualMachineConfiguration")
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("containerConfiguration");
    let findings = run_with(
        &p,
        &[task("t1", None), task("t2", Some("ubuntu:24.04"))],
        &RegistryFacts::default(),
    );
    let f = only(&findings, "task-missing-container-settings");
    assert_eq!(
        f.message,
        "the task runs in `ubuntu:24.04` but pool render has no `containerConfiguration`"
    );
}

#[test]
fn docker_data_root_on_os_disk() {
    let mut p = good_pool();
    p.as_object_mut().unwrap().remove("startTask");
    let f = only(&run(&p), "docker-data-root-on-os-disk");
    assert_eq!(
        f.message,
        "`microsoft-dsvm:ubuntu-hpc:2404` keeps Docker's data root at /var/lib/docker on the OS disk and no start task moves it; 2 prefetched image(s) and every task image are stored there"
    );
}

#[test]
fn obsolete_docker_daemon_flags() {
    let mut p = good_pool();
    set(
        &mut p,
        "/startTask/commandLine",
        json!("/bin/bash -c 'service docker stop && docker daemon -g /mnt/docker &'"),
    );
    let findings = run(&p);
    let f = only(&findings, "obsolete-docker-daemon-flags");
    assert_eq!(
        f.message,
        "the start task uses `docker daemon` (removed in Docker 17.12; the daemon is `dockerd`) and `-g/--graph` (removed in Docker 23.0)"
    );
    // The data root is not moved either: the start task says nothing of data-root.
    assert!(names(&findings).contains(&"docker-data-root-on-os-disk"));
    set(
        &mut p,
        "/startTask/commandLine",
        json!("/bin/bash -c 'dockerd --data-root /mnt/docker'"),
    );
    assert!(!names(&run(&p)).contains(&"obsolete-docker-daemon-flags"));
}

#[test]
fn mutable_image_tag() {
    let mut p = good_pool();
    set(
        &mut p,
        &format!("{CC}/containerImageNames/1"),
        json!("ubuntu"),
    );
    let f = only(&run(&p), "mutable-image-tag");
    assert_eq!(
        f.message,
        "`ubuntu` is prefetched by the moving tag `latest` (no tag means `latest`); nodes started at different times may run different images"
    );
    let digest = format!("sha256:{}", "ab".repeat(32));
    let registry = RegistryFacts {
        digests: [("docker.io/library/ubuntu:latest".to_owned(), digest.clone())].into(),
        ..Default::default()
    };
    let f = only(&run_with(&p, &[], &registry), "mutable-image-tag");
    assert_eq!(
        f.fix,
        Some(format!(
            "pin the image by digest: `ubuntu@{digest}` (what `latest` is now)"
        ))
    );
}

#[test]
fn legacy_pool_field_and_template_value_unknown() {
    let mut p = good_pool();
    set(&mut p, &format!("{CC}/type"), json!("docker"));
    p.as_object_mut()
        .unwrap()
        .insert("maxTasksPerNode".into(), json!(3));
    set(&mut p, "/vmSize", json!("[parameters('vmSize')]"));
    let findings = run(&p);
    let legacy: Vec<&str> = findings
        .iter()
        .filter(|f| f.name == "legacy-pool-field")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        legacy,
        vec![
            "`maxTasksPerNode` is `taskSlotsPerNode` since API 2020-09-01.12.0",
            "container type `docker` is `dockerCompatible` in current API versions",
        ]
    );
    let f = only(&findings, "template-value-unknown");
    assert_eq!(
        f.message,
        "`[parameters('vmSize')]` is not known before deployment; checks that need this value were skipped"
    );
}

#[test]
fn node_image_without_docker_and_unsupported_vm_size() {
    let mut p = good_pool();
    set(
        &mut p,
        "/virtualMachineConfiguration/imageReference",
        json!({"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server"}),
    );
    set(&mut p, "/vmSize", json!("STANDARD_A0"));
    let findings = run(&p);
    assert_eq!(
        only(&findings, "node-image-without-docker").message,
        "`canonical:ubuntu-24_04-lts:server` has no container runtime installed, but the pool has `containerConfiguration`"
    );
    assert_eq!(
        only(&findings, "unsupported-vm-size").message,
        "`STANDARD_A0`: Batch does not support STANDARD_A0"
    );
}

#[test]
fn template_value_unknown_hides_literals_only_under_secret_fields() {
    let mut p = good_pool();
    set(
        &mut p,
        "/vmSize",
        json!("[concat(parameters('size'), '_v3')]"),
    );
    set(
        &mut p,
        &format!("{CC}/containerRegistries/0"),
        json!({
            "registryServer": "myacr.azurecr.io",
            "username": "u",
            "password": "[concat(parameters('pfx'), 'Hunter2Secret')]"
        }),
    );
    let messages: Vec<String> = run(&p)
        .into_iter()
        .filter(|f| f.name == "template-value-unknown")
        .map(|f| f.message)
        .collect();
    assert_eq!(
        messages,
        [
            "`[concat(parameters('size'), '_v3')]` is not known before deployment; checks that need this value were skipped",
            "`[concat(parameters('pfx'), '***')]` is not known before deployment; checks that need this value were skipped",
        ]
    );
}
