//! The rules of the 2026 Batch model (DESIGN §7) through `batchprep check`: each rule's failing
//! fixture under `testdata/rules/<rule>/` and its passing twin, with the exact place each finding
//! points at.

use std::process::{Command, Output};

use batchprep_testkit::repo_root as root;

/// The clean container pool the task fixtures run on.
const POOL: &str = "testdata/rules/pool.json";

/// Runs `batchprep check --offline --format json` from the repository root.
fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args(["check", "--offline", "--format", "json"])
        .args(args)
        .current_dir(root())
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .output()
        .unwrap()
}

/// `file:line:column pointer` of every finding of `rule`, in report order (sorted by place, then message).
fn places(out: &Output, rule: &str) -> Vec<String> {
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] == rule)
        .map(|f| {
            let l = &f["location"];
            format!(
                "{}:{}:{} {}",
                l["file"].as_str().unwrap_or_default(),
                l["line"],
                l["column"],
                l["pointer"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The messages of every finding of `rule`.
fn messages(out: &Output, rule: &str) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] == rule)
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn unknown_run_option_points_at_the_run_options_of_each_task() {
    let fail = "testdata/rules/unknown-run-option/fail.json";
    let out = check(&[POOL, "--task", fail]);
    let at = format!("{fail}:7:30 /0/containerSettings/containerRunOptions");
    assert_eq!(
        places(&out, "unknown-run-option"),
        [at.clone(), at],
        "one finding per option"
    );
    let said = messages(&out, "unknown-run-option");
    let known = "(known: -v/--volume, --mount, -e/--env, --privileged, --shm-size, --ipc, --cpu-shares, --memory, --rm, -w/--workdir, --entrypoint, --hostname, -u/--user, --name, -l/--label, -p/--publish)";
    assert_eq!(
        said,
        ["--init", "--ulimit"].map(|o| format!("containerRunOptions has `{o}`, which the Batch node agent is not known to accept {known}; the agent fails the task with ContainerInvalidSettings on options it does not know"))
    );
    // The twin: known options, and `--workdir $AZ_BATCH_TASK_WORKING_DIR`, which the agent expands.
    let pass = "testdata/rules/unknown-run-option/pass.json";
    let out = check(&[POOL, "--task", pass]);
    assert_eq!(places(&out, "unknown-run-option"), Vec::<String>::new());
    assert_eq!(
        places(&out, "relative-workdir-option"),
        Vec::<String>::new()
    );
}

#[test]
fn accepted_run_options_in_batchprep_toml_extend_the_known_set() {
    let out = check(&[
        POOL,
        "--task",
        "testdata/rules/unknown-run-option/fail.json",
        "--config",
        "testdata/rules/unknown-run-option/batchprep.toml",
    ]);
    assert_eq!(places(&out, "unknown-run-option"), Vec::<String>::new());
}

#[test]
fn docker_hubs_other_host_names_are_invalid_registry_servers() {
    let fail = "testdata/rules/invalid-registry-server/fail.json";
    let cr = "/virtualMachineConfiguration/containerConfiguration/containerRegistries";
    assert_eq!(
        places(&check(&[fail]), "invalid-registry-server"),
        [
            format!("{fail}:16:29 {cr}/0/registryServer"),
            format!("{fail}:17:29 {cr}/1/registryServer"),
        ]
    );
    let pass = "testdata/rules/invalid-registry-server/pass.json";
    assert_eq!(
        places(&check(&[pass]), "invalid-registry-server"),
        Vec::<String>::new()
    );
}

#[test]
fn registry_host_uppercase_points_at_the_prefetched_and_the_task_image() {
    let dir = "testdata/rules/registry-host-uppercase";
    let (pool, tasks) = (
        format!("{dir}/fail-pool.json"),
        format!("{dir}/fail-tasks.json"),
    );
    assert_eq!(
        places(
            &check(&[&pool, "--task", &tasks]),
            "registry-host-uppercase"
        ),
        [
            format!(
                "{pool}:15:9 /virtualMachineConfiguration/containerConfiguration/containerImageNames/0"
            ),
            format!("{tasks}:6:20 /0/containerSettings/imageName"),
        ]
    );
    let (pool, tasks) = (
        format!("{dir}/pass-pool.json"),
        format!("{dir}/pass-tasks.json"),
    );
    assert_eq!(
        places(
            &check(&[&pool, "--task", &tasks]),
            "registry-host-uppercase"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn docker_in_container_points_at_the_command_line() {
    let fail = "testdata/rules/docker-in-container/fail.json";
    assert_eq!(
        places(&check(&[POOL, "--task", fail]), "docker-in-container"),
        [format!("{fail}:4:20 /0/commandLine")]
    );
    let pass = "testdata/rules/docker-in-container/pass.json";
    assert_eq!(
        places(&check(&[POOL, "--task", pass]), "docker-in-container"),
        Vec::<String>::new()
    );
}

#[test]
fn gpu_not_driven_by_image_points_at_the_vm_size() {
    let fail = "testdata/rules/gpu-not-driven-by-image/fail.json";
    assert_eq!(
        places(&check(&[fail]), "gpu-not-driven-by-image"),
        [format!("{fail}:3:13 /vmSize")]
    );
    let pass = "testdata/rules/gpu-not-driven-by-image/pass.json";
    assert_eq!(
        places(&check(&[pass]), "gpu-not-driven-by-image"),
        Vec::<String>::new()
    );
}

#[test]
fn gpu_image_without_nvidia_runtime_points_at_the_image() {
    let fail = "testdata/rules/gpu-image-without-nvidia-runtime/fail.json";
    assert_eq!(
        places(&check(&[fail]), "gpu-image-without-nvidia-runtime"),
        [format!(
            "{fail}:5:23 /virtualMachineConfiguration/imageReference"
        )]
    );
    let pass = "testdata/rules/gpu-image-without-nvidia-runtime/pass.json";
    assert_eq!(
        places(&check(&[pass]), "gpu-image-without-nvidia-runtime"),
        Vec::<String>::new()
    );
}

#[test]
fn not_a_container_image_points_at_the_image_name_of_the_task() {
    let tasks = "testdata/rules/not-a-container-image/tasks.json";
    let local = |dir: &str| format!("myacr.azurecr.io/solver:1.0=oci:{dir}:1.0");
    let out = check(&[
        POOL,
        "--task",
        tasks,
        "--local",
        &local("testdata/rules/not-a-container-image/sif"),
    ]);
    assert_eq!(
        places(&out, "not-a-container-image"),
        [format!("{tasks}:6:20 /0/containerSettings/imageName")]
    );
    assert_eq!(
        messages(&out, "not-a-container-image"),
        [
            "`myacr.azurecr.io/solver:1.0` is not a container image: its manifest's config media type is `application/vnd.sylabs.sif.config.v1+json`, a Singularity (SIF) image: Batch runs only container images"
        ]
    );
    // A finding, not a read failure: the run says so with exit 1, not 2.
    assert_eq!(out.status.code(), Some(1));
    // The twin: the same task on a container image.
    let out = check(&[
        POOL,
        "--task",
        tasks,
        "--local",
        &local("testdata/images/hello"),
    ]);
    assert_eq!(places(&out, "not-a-container-image"), Vec::<String>::new());
}

#[test]
fn vm_size_architecture_mismatch_points_at_the_vm_size() {
    let fail = "testdata/rules/vm-size-architecture-mismatch/fail.json";
    let out = check(&[fail]);
    assert_eq!(
        places(&out, "vm-size-architecture-mismatch"),
        [format!("{fail}:3:13 /vmSize")]
    );
    assert_eq!(
        messages(&out, "vm-size-architecture-mismatch"),
        [
            "`Standard_D4ps_v6` has arm64 CPUs but `canonical:ubuntu-24_04-lts:server` is an amd64 image: Azure cannot start it on that size"
        ]
    );
    let pass = "testdata/rules/vm-size-architecture-mismatch/pass.json";
    assert_eq!(
        places(&check(&[pass]), "vm-size-architecture-mismatch"),
        Vec::<String>::new()
    );
}

/// The container rules take the nodes' platform from the pool: an amd64-only image prefetched
/// on an Arm64 pool is `platform-mismatch` without `--node-platform`, and not with
/// `--node-platform linux/amd64`.
#[test]
fn an_arm64_pool_lints_its_images_for_arm64() {
    let pool = "testdata/rules/vm-size-architecture-mismatch/pass.json";
    let local = "--local=ubuntu:24.04=oci:testdata/images/hello:1.0";
    let out = check(&[pool, local]);
    assert_eq!(
        messages(&out, "platform-mismatch"),
        [
            "the image is linux/amd64 but the pool's nodes are linux/arm64: its programs cannot run there (exec format error)"
        ]
    );
    let out = check(&[pool, local, "--node-platform", "linux/amd64"]);
    assert_eq!(messages(&out, "platform-mismatch"), Vec::<String>::new());
}

#[test]
fn batch_path_not_mounted_points_at_the_list_and_the_command_line() {
    let pool = "testdata/rules/batch-path-not-mounted/pool-no-temp-disk.json";
    let fail = "testdata/rules/batch-path-not-mounted/fail.json";
    let out = check(&[pool, "--task", fail]);
    assert_eq!(
        places(&out, "batch-path-not-mounted"),
        [
            format!("{fail}:8:39 /0/containerSettings/containerHostBatchBindMounts"),
            format!("{fail}:17:20 /1/commandLine"),
            format!("{fail}:30:20 /2/commandLine"),
        ]
    );
    // The pool's VM size has no temp disk: the node root is /opt/batch/data.
    assert_eq!(
        messages(&out, "batch-path-not-mounted"),
        [
            "`containerHostBatchBindMounts` lists only `Shared`, so the task working directory `/opt/batch/data/tasks/workitems/job/job-1/no-task-dir/wd` is not mounted: the task starts in an empty directory of the container, without its resource files, and what it writes there is lost",
            "`cp out.csv $AZ_BATCH_NODE_SHARED_DIR/` uses `$AZ_BATCH_NODE_SHARED_DIR`, which is not set in the container: `containerHostBatchBindMounts` lists only `Task`, and Batch removes the variables of the directories it does not mount",
            "`/opt/batch/data/startup/wd/tool` is a node directory that is not mounted in the container: `containerHostBatchBindMounts` lists only `Task`, `Shared`",
        ]
    );
    let pass = "testdata/rules/batch-path-not-mounted/pass.json";
    assert_eq!(
        places(&check(&[pool, "--task", pass]), "batch-path-not-mounted"),
        Vec::<String>::new()
    );
}

#[test]
fn user_not_in_image_points_at_the_run_options() {
    // testdata/images/hello has an /etc/passwd with root only, and no /etc/group.
    let pool = "testdata/rules/batch-path-not-mounted/pool-no-temp-disk.json";
    let local = "--local=ubuntu:24.04=oci:testdata/images/hello:1.0";
    let fail = "testdata/rules/user-not-in-image/fail.json";
    let out = check(&[pool, local, "--task", fail]);
    assert_eq!(
        places(&out, "user-not-in-image"),
        [
            format!("{fail}:15:30 /1/containerSettings/containerRunOptions"),
            format!("{fail}:7:30 /0/containerSettings/containerRunOptions"),
        ]
    );
    assert_eq!(
        messages(&out, "user-not-in-image"),
        [
            "`--user root:staff` in the run options does not resolve in the image: Moby fails the container as it starts it (\"unable to find group staff: no matching entries in group file\")",
            "`--user app` in the run options does not resolve in the image: Moby fails the container as it starts it (\"unable to find user app: no matching entries in passwd file\")",
        ]
    );
    let pass = "testdata/rules/user-not-in-image/pass.json";
    assert_eq!(
        places(&check(&[pool, local, "--task", pass]), "user-not-in-image"),
        Vec::<String>::new()
    );
}
