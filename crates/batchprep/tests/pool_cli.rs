//! `batchprep pool emit` and `batchprep start-task` as users run them: exact error lines and exit codes,
//! secrets only on request, `--out` written whole or not at all.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn batchprep(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_batchprep"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("ACR_PASSWORD")
        .env_remove("DOCKERHUB_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A directory holding `batchprep.toml` with `spec`.
fn spec_dir(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("batchprep.toml"), spec).unwrap();
    dir
}

fn assert_fails(out: &Output, stderr: &str) {
    assert_eq!(text(&out.stderr), stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn unknown_keys_name_the_key_and_the_line() {
    let dir = spec_dir("[pool]\nid = \"x\"\nvm_sise = \"Standard_D2s_v3\"\n");
    let out = batchprep(dir.path(), &["pool", "emit", "batchprep.toml"], &[]);
    assert_fails(
        &out,
        "error: batchprep.toml: line 3: [pool]: unknown key `vm_sise`, expected one of `id`, `display-name`, `vm-size`, `image`, `dedicated-nodes`, `low-priority-nodes`, `autoscale`, `task-slots-per-node`, `images`, `registries`, `data-root`, `subnet-id`, `public-ip`, `public-ip-ids`, `node-agent`\n",
    );
    let dir = spec_dir(
        "[pool]\nid = \"x\"\nvm-size = \"Standard_D2s_v3\"\nimage = \"ubuntu-hpc-2404\"\ndedicated-nodes = 1\n\n[[pool.registries]]\nserver = \"myacr.azurecr.io\"\npassword = \"hunter2\"\n",
    );
    let out = batchprep(dir.path(), &["pool", "emit", "batchprep.toml"], &[]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: batchprep.toml: line 9: [pool]: unknown key `password`, expected one of `server`, `identity`, `username`, `password-env`"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
}

#[test]
fn every_spec_problem_is_reported_with_its_line() {
    let dir = spec_dir(
        "[pool]\nid = \"x y\"\nvm-size = \"Standard_D2s_v3\"\nimage = \"ubuntu\"\nimages = [\"UPPER/case\"]\n\n[[pool.registries]]\nserver = \"myacr.azurecr.io\"\nusername = \"u\"\n",
    );
    let out = batchprep(dir.path(), &["pool", "emit", "batchprep.toml"], &[]);
    assert_fails(
        &out,
        "error: batchprep.toml: line 2: [pool] id: `x y` must be 1-64 letters, digits, `-` or `_`\n\
         error: batchprep.toml: line 4: [pool] image: unknown image `ubuntu`: write `publisher:offer:sku[:version]` or an alias such as `ubuntu-hpc-2404`\n\
         error: batchprep.toml: line 2: [pool]: set dedicated-nodes, low-priority-nodes, or [pool.autoscale]\n\
         error: batchprep.toml: line 5: [pool] images: invalid image reference `UPPER/case`: repository name must be lowercase\n\
         error: batchprep.toml: line 7: [[pool.registries]] `myacr.azurecr.io`: username needs password-env (the variable that holds the password)\n",
    );
}

#[test]
fn a_retired_image_is_an_error_and_one_near_end_of_life_a_warning() {
    let dir = spec_dir(
        "[pool]\nid = \"x\"\nvm-size = \"Standard_D2s_v3\"\nimage = \"microsoft-azure-batch:ubuntu-server-container:20-04-lts\"\ndedicated-nodes = 1\n",
    );
    let out = batchprep(dir.path(), &["pool", "emit", "batchprep.toml"], &[]);
    assert_fails(
        &out,
        "error: batchprep.toml: line 4: [pool] image: microsoft-azure-batch:ubuntu-server-container:20-04-lts is retired (end of life 2025-04-23): use microsoft-dsvm:ubuntu-hpc:2404 (alias `ubuntu-hpc-2404`)\n",
    );

    let dir = spec_dir(
        "[pool]\nid = \"x\"\nvm-size = \"Standard_D2s_v3\"\nimage = \"ubuntu-hpc-2204\"\ndedicated-nodes = 1\ndata-root = \"keep\"\n",
    );
    let out = batchprep(
        dir.path(),
        &["pool", "emit", "batchprep.toml", "--today", "2026-11-28"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        "warning: microsoft-dsvm:ubuntu-hpc:2204 reaches end of life on 2027-06-30 (214 days): plan the move to microsoft-dsvm:ubuntu-hpc:2404\n"
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        body["virtualMachineConfiguration"]["nodeAgentSKUId"],
        "batch.node.ubuntu 22.04"
    );
    assert!(
        body.get("startTask").is_none(),
        "data-root = keep needs no start task"
    );
    let out = batchprep(
        dir.path(),
        &["pool", "emit", "batchprep.toml", "--today", "2025-01-01"],
        &[],
    );
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(0), String::new())
    );
}

#[test]
fn secrets_are_read_from_the_environment_only_when_asked() {
    let spec = repo().join("testdata/pools/private-registry/batchprep.toml");
    let spec = spec.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("pool.json");
    fs::write(&out_file, "previous\n").unwrap();

    let out = batchprep(
        dir.path(),
        &[
            "pool",
            "emit",
            spec,
            "--include-secrets",
            "--out",
            "pool.json",
        ],
        &[("DOCKERHUB_TOKEN", "dckr_pat_x")],
    );
    assert_fails(
        &out,
        "error: --include-secrets: environment variable ACR_PASSWORD (the password for myacr.azurecr.io) is not set\n",
    );
    assert_eq!(
        fs::read_to_string(&out_file).unwrap(),
        "previous\n",
        "nothing half-written"
    );

    let env = [
        ("ACR_PASSWORD", "s3cr3t-acr"),
        ("DOCKERHUB_TOKEN", "dckr_pat_x"),
    ];
    let out = batchprep(
        dir.path(),
        &["pool", "emit", spec, "--out", "pool.json"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let written = fs::read_to_string(&out_file).unwrap();
    assert!(
        !written.contains("s3cr3t-acr") && written.contains("\"password\": \"${ACR_PASSWORD}\"")
    );
    assert_eq!(
        text(&out.stderr),
        "note: the password of etl-robot at myacr.azurecr.io is the placeholder ${ACR_PASSWORD}: fill it before sending (envsubst < pool.json), or emit with --include-secrets\n\
         note: the password of etlbot at docker.io is the placeholder ${DOCKERHUB_TOKEN}: fill it before sending (envsubst < pool.json), or emit with --include-secrets\n"
    );

    let out = batchprep(
        dir.path(),
        &[
            "pool",
            "emit",
            spec,
            "--include-secrets",
            "--format",
            "terraform",
            "--out",
            "pool.tf",
        ],
        &env,
    );
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(0), String::new())
    );
    let tf = fs::read_to_string(dir.path().join("pool.tf")).unwrap();
    assert!(tf.contains("password        = \"s3cr3t-acr\"") && !tf.contains("sensitive"));
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
}

#[test]
fn out_into_a_missing_directory_fails_cleanly() {
    let spec = repo().join("testdata/pools/cpu/batchprep.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = batchprep(
        dir.path(),
        &[
            "pool",
            "emit",
            spec.to_str().unwrap(),
            "--out",
            "missing/pool.json",
        ],
        &[],
    );
    assert_fails(
        &out,
        "error: cannot write missing/pool.json: directory missing does not exist\n",
    );
}

#[test]
fn emit_without_a_pool_section_or_a_spec() {
    let dir = spec_dir("[rules]\n");
    let out = batchprep(dir.path(), &["pool", "emit", "batchprep.toml"], &[]);
    assert_fails(&out, "error: batchprep.toml: has no [pool] section\n");
}

#[test]
fn every_surface_from_one_spec() {
    let spec = repo().join("testdata/pools/identity/batchprep.toml");
    let dir = tempfile::tempdir().unwrap();
    for (format, marker) in [
        ("rest", "\"nodeAgentSKUId\": \"batch.node.ubuntu 24.04\""),
        ("arm", "\"type\": \"Microsoft.Batch/batchAccounts/pools\""),
        (
            "bicep",
            "resource pool 'Microsoft.Batch/batchAccounts/pools@2025-06-01'",
        ),
        ("terraform", "resource \"azurerm_batch_pool\" \"render\""),
    ] {
        let out = batchprep(
            dir.path(),
            &["pool", "emit", spec.to_str().unwrap(), "--format", format],
            &[],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains(marker), "{format}");
        let stderr = text(&out.stderr);
        assert_eq!(
            stderr.contains("the data plane cannot attach identities"),
            format == "rest",
            "{format}: {stderr}"
        );
    }
}

#[test]
fn start_task_json_runs_the_same_script() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--pool-image",
        "alma-hpc-8",
        "--bip",
        "10.199.0.1/24",
        "--prefetch",
        "ubuntu:24.04",
    ];
    let sh = batchprep(dir.path(), &[&["start-task"][..], &args].concat(), &[]);
    assert_eq!(sh.status.code(), Some(0), "{}", text(&sh.stderr));
    let script = text(&sh.stdout);
    assert!(
        script.contains("default_temp_disks='/mnt/resource /mnt'"),
        "Alma mounts the temp disk at /mnt/resource"
    );
    assert!(script.contains("prefetch=('docker.io/library/ubuntu:24.04')"));

    let json = batchprep(
        dir.path(),
        &[&["start-task", "--format", "json"][..], &args].concat(),
        &[],
    );
    let task: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        task["userIdentity"],
        serde_json::json!({"autoUser": {"scope": "pool", "elevationLevel": "admin"}})
    );
    assert_eq!(
        (
            task["waitForSuccess"].clone(),
            task["maxTaskRetryCount"].clone()
        ),
        (Value::Bool(true), Value::from(1))
    );
    let cl = task["commandLine"].as_str().unwrap();
    let encoded = cl.split(' ').nth(3).unwrap();
    // Decode as the node does: base64 -d | gunzip.
    let decoded = Command::new("bash")
        .args(["-c", &format!("echo {encoded} | base64 -d | gunzip")])
        .output()
        .unwrap();
    assert_eq!(text(&decoded.stdout), script);
}

#[test]
fn start_task_rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = batchprep(dir.path(), &["start-task", "--data-root", "docker"], &[]);
    assert_fails(
        &out,
        "error: --data-root: `docker` is not `auto`, `keep` or an absolute path\n",
    );
    let out = batchprep(dir.path(), &["start-task", "--data-root", "keep"], &[]);
    assert_fails(
        &out,
        "error: nothing to do: --data-root keep without --bip or --default-address-pools leaves Docker as it is\n",
    );
    let out = batchprep(
        dir.path(),
        &["start-task", "--pool-image", "contoso:custom:1"],
        &[],
    );
    assert_fails(
        &out,
        "error: --pool-image: contoso:custom:1:latest is not in batchprep's image catalog; give --data-root PATH instead of auto\n",
    );
    // dockerd 20.10.24 refuses to start with it (tests/start_task_dockerd.rs in batchprep-batch).
    let out = batchprep(dir.path(), &["start-task", "--bip", "10.199.0.0/24"], &[]);
    assert_fails(
        &out,
        "error: --bip: `10.199.0.0/24`: 10.199.0.0 is the network's own address: dockerd refuses to start with it (give a host address, e.g. 10.199.0.1/24)\n",
    );
}

/// What `pool emit` writes passes `batchprep check`: no pool finding above a note on either the REST
/// body or the ARM template (the start task is recognised as moving the data root).
#[test]
fn emitted_pools_pass_check() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["cpu", "rdma", "private-registry", "identity"] {
        let spec = repo().join(format!("testdata/pools/{name}/batchprep.toml"));
        for format in ["rest", "arm"] {
            let file = format!("{name}-{format}.json");
            let out = batchprep(
                dir.path(),
                &[
                    "pool",
                    "emit",
                    spec.to_str().unwrap(),
                    "--format",
                    format,
                    "--out",
                    &file,
                ],
                &[],
            );
            assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out.stderr));
            let out = batchprep(
                dir.path(),
                &["check", "--offline", &file, "--format", "json"],
                &[],
            );
            assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out.stderr));
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            let loud: Vec<&Value> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] != "note")
                .collect();
            assert!(loud.is_empty(), "{file}: {loud:#?}");
        }
    }
}

#[test]
fn the_pool_as_flags_without_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = batchprep(
        dir.path(),
        &[
            "pool",
            "emit",
            "--id",
            "quick",
            "--vm-size",
            "Standard_D2s_v5",
            "--image",
            "ubuntu-hpc-2404",
            "--max-nodes",
            "3",
            "--prefetch",
            "myacr.azurecr.io/app:1.0",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["id"], "quick");
    assert_eq!(body["enableAutoScale"], true);
    assert!(
        body["autoScaleFormula"]
            .as_str()
            .unwrap()
            .contains("min($targetVMs, 3)")
    );
    assert!(
        body.get("startTask").is_none(),
        "Standard_D2s_v5 has no temp disk to move to"
    );
    assert_eq!(
        text(&out.stderr),
        "warning: myacr.azurecr.io/app:1.0 is in Azure Container Registry myacr.azurecr.io, which has no [[pool.registries]] entry: nodes pull anonymously, which fails unless anonymous pull is enabled on it\n\
         warning: microsoft-dsvm:ubuntu-hpc:2404 keeps Docker's data on the OS disk and Standard_D2s_v5 has no temp disk to move it to: image pulls fill the OS disk; pick a size with a local disk (a `d` in the name) or set data-root to a data disk path\n"
    );

    // A flag replaces the file's value.
    let spec = repo().join("testdata/pools/cpu/batchprep.toml");
    let out = batchprep(
        dir.path(),
        &[
            "pool",
            "emit",
            spec.to_str().unwrap(),
            "--id",
            "cpu-staging",
            "--dedicated-nodes",
            "1",
        ],
        &[],
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (body["id"].as_str(), body["targetDedicatedNodes"].as_u64()),
        (Some("cpu-staging"), Some(1))
    );
    assert_eq!(body["vmSize"], "Standard_D4ds_v5");
}
