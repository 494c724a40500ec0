//! `check --fix` and `--diff` on the user's files: the exact diff, the file after, formatting kept
//! on pretty-printed and minified JSON and on an ARM template, idempotence, `check` clean of the
//! fixed rules afterwards, and the fixed REST body valid against the official Batch schema.

use std::{fs, path::Path, process::Command};

use serde_json::Value;

use batchprep_testkit::{batch_schema, repo_root as root};

fn batchprep(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args(args)
        .current_dir(dir)
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A copy of the fixtures, to fix.
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["pool.json", "tasks.json", "azuredeploy.json"] {
        fs::copy(root().join("testdata/fix").join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// The rule names of a `check --format json` run.
fn rules(dir: &Path, args: &[&str]) -> Vec<String> {
    let out = batchprep(
        dir,
        &[&["check", "--offline", "--format", "json"], args].concat(),
    );
    let doc: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

const FIXED: [&str; 5] = [
    "legacy-pool-field",
    "node-agent-mismatch",
    "container-type-missing",
    "redundant-rm-option",
    "docker-data-root-on-os-disk",
];

#[test]
fn diff_shows_and_fix_writes_the_same_minimal_edits() {
    let dir = fixtures();
    let d = dir.path();
    let before = rules(d, &["pool.json", "--task", "tasks.json"]);
    for rule in FIXED {
        assert!(before.iter().any(|r| r == rule), "{rule}: {before:?}");
    }
    let pool_before = fs::read_to_string(d.join("pool.json")).unwrap();
    // The start task `batchprep start-task` writes for this image and its prefetched image.
    let start_task = batchprep(
        d,
        &[
            "start-task",
            "--pool-image",
            "microsoft-dsvm:ubuntu-hpc:2404",
            "--prefetch",
            "docker.io/library/busybox:1.36",
            "--format",
            "json",
        ],
    );
    let start_task: Value = serde_json::from_str(&text(&start_task.stdout)).unwrap();

    let out = batchprep(
        d,
        &[
            "check",
            "--offline",
            "pool.json",
            "--task",
            "tasks.json",
            "--diff",
        ],
    );
    assert_eq!(
        text(&out.stdout),
        r#"--- a/pool.json
+++ b/pool.json
@@ -1,7 +1,7 @@
 {
   "id": "render",
   "vmSize": "Standard_D4s_v5",
-  "maxTasksPerNode": 2,
+  "taskSlotsPerNode": 2,
   "virtualMachineConfiguration": {
     "imageReference": {
       "publisher": "microsoft-dsvm",
@@ -9,10 +9,22 @@
       "sku": "2404",
       "version": "latest"
     },
-    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
+    "nodeAgentSKUId": "batch.node.ubuntu 24.04",
     "containerConfiguration": {
-      "containerImageNames": ["docker.io/library/busybox:1.36"]
+      "containerImageNames": ["docker.io/library/busybox:1.36"],
+      "type": "dockerCompatible"
     }
   },
-  "targetDedicatedNodes": 1
+  "targetDedicatedNodes": 1,
+  "startTask": {
+    "commandLine": COMMAND_LINE,
+    "userIdentity": {
+      "autoUser": {
+        "scope": "pool",
+        "elevationLevel": "admin"
+      }
+    },
+    "maxTaskRetryCount": 1,
+    "waitForSuccess": true
+  }
 }
--- a/tasks.json
+++ b/tasks.json
@@ -1 +1 @@
-[{"id":"render-1","commandLine":"echo hi","containerSettings":{"imageName":"docker.io/library/busybox:1.36","containerRunOptions":"--rm --shm-size 1g"}},{"id":"render-2","commandLine":"echo hi","containerSettings":{"imageName":"docker.io/library/busybox:1.36","containerRunOptions":"--shm-size 1g --rm=true"}}]
\ No newline at end of file
+[{"id":"render-1","commandLine":"echo hi","containerSettings":{"imageName":"docker.io/library/busybox:1.36","containerRunOptions":"--shm-size 1g"}},{"id":"render-2","commandLine":"echo hi","containerSettings":{"imageName":"docker.io/library/busybox:1.36","containerRunOptions":"--shm-size 1g"}}]
\ No newline at end of file
"#
        .replace("COMMAND_LINE", &serde_json::to_string(&start_task["commandLine"]).unwrap())
    );
    assert!(
        text(&out.stderr).ends_with("would fix 6 finding(s) in 2 file(s); 2 remain\n"),
        "{}",
        text(&out.stderr)
    );
    // --diff writes nothing.
    assert_eq!(
        fs::read_to_string(d.join("pool.json")).unwrap(),
        pool_before
    );

    let out = batchprep(
        d,
        &[
            "check",
            "--offline",
            "pool.json",
            "--task",
            "tasks.json",
            "--fix",
            "-q",
        ],
    );
    // What remains decides the exit code: warnings and notes only.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "fixed 6 finding(s) in 2 file(s); 2 remain\n"
    );
    let pool_after = fs::read_to_string(d.join("pool.json")).unwrap();
    let fixed: Value = serde_json::from_str(&pool_after).unwrap();
    assert_eq!(fixed["startTask"], start_task);
    let after = rules(d, &["pool.json", "--task", "tasks.json"]);
    for rule in FIXED {
        assert!(!after.iter().any(|r| r == rule), "{rule}: {after:?}");
    }

    // A second --fix changes nothing.
    let tasks_after = fs::read(d.join("tasks.json")).unwrap();
    let out = batchprep(
        d,
        &[
            "check",
            "--offline",
            "pool.json",
            "--task",
            "tasks.json",
            "--fix",
            "-q",
        ],
    );
    assert_eq!(
        text(&out.stderr),
        "fixed 0 finding(s) in 0 file(s); 2 remain\n"
    );
    assert_eq!(fs::read_to_string(d.join("pool.json")).unwrap(), pool_after);
    assert_eq!(fs::read(d.join("tasks.json")).unwrap(), tasks_after);

    // The fixed body is a valid BatchPoolCreateOptions, unknown members refused.
    let validator = batch_schema::pool_validator(true);
    let errors =
        |body: &str| batch_schema::errors(&validator, &serde_json::from_str(body).unwrap());
    assert_eq!(errors(&pool_after), Vec::<String>::new());
    assert!(
        !errors(&pool_before).is_empty(),
        "the legacy member is refused before the fix"
    );
}

#[test]
fn an_arm_template_keeps_its_expressions_and_gets_its_defaults_fixed() {
    let dir = fixtures();
    let d = dir.path();
    let before = fs::read_to_string(d.join("azuredeploy.json")).unwrap();
    let out = batchprep(
        d,
        &["check", "--offline", "azuredeploy.json", "--fix", "-q"],
    );
    assert_eq!(
        text(&out.stderr),
        "fixed 3 finding(s) in 1 file(s); 3 remain\n"
    );
    let after = fs::read_to_string(d.join("azuredeploy.json")).unwrap();
    // Two values changed where they are written (the agent in its parameter's default), and the
    // start task added to the resource's properties; the expression stays.
    let mut expected: Value = serde_json::from_str(
        &before
            .replace(
                "\"defaultValue\": \"batch.node.ubuntu 20.04\"",
                "\"defaultValue\": \"batch.node.ubuntu 24.04\"",
            )
            .replace("\"type\": \"Docker\"", "\"type\": \"dockerCompatible\""),
    )
    .unwrap();
    let after_value: Value = serde_json::from_str(&after).unwrap();
    let start_task = after_value["resources"][0]["properties"]["startTask"].clone();
    assert!(
        start_task["commandLine"].as_str().unwrap().ends_with(
            "# batchprep start task: Docker data-root -> temp disk (/mnt or /mnt/resource)/docker'"
        ),
        "{start_task}"
    );
    expected["resources"][0]["properties"]["startTask"] = start_task;
    assert_eq!(after_value, expected);
    assert!(after.contains("\"nodeAgentSkuId\": \"[parameters('nodeAgent')]\","));
    assert!(
        !rules(d, &["azuredeploy.json"])
            .iter()
            .any(|r| r == "node-agent-mismatch" || r == "legacy-pool-field")
    );
}

#[test]
fn a_shipyard_pool_gets_only_its_prefetch_list_fixed() {
    // A Shipyard pool's findings point into YAML: the job image Shipyard does not prefetch is
    // added to config.yaml's `docker_images`; jobs.yaml (its run options) is left alone.
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("testdata/pool-sources/shipyard");
    for f in ["pool.yaml", "config.yaml", "credentials.yaml", "jobs.yaml"] {
        fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let before = fs::read_to_string(dir.path().join("jobs.yaml")).unwrap();
    let out = batchprep(
        dir.path(),
        &[
            "check",
            "--offline",
            "pool.yaml",
            "--task",
            "jobs.yaml",
            "--fix",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("fixed 1 finding(s) in 1 file(s); "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("jobs.yaml")).unwrap(),
        before
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("config.yaml")).unwrap(),
        fs::read_to_string(src.join("config.yaml"))
            .unwrap()
            .replace(
                "  - MyAcr.azurecr.io/mpi/tools:1.0\n",
                "  - MyAcr.azurecr.io/mpi/tools:1.0\n  - ghcr.io/acme/report:1\n"
            )
    );
}

/// The README example: safe fixes add the task image to the pool's prefetch list and take `--rm`
/// out; `--unsafe-fixes` also runs the relative ENTRYPOINT in the image WORKDIR. The edits of one
/// task's run options compose, and `check` afterwards has none of the fixed rules.
#[test]
fn unsafe_fixes_need_their_flag_and_edits_of_one_value_compose() {
    let dir = tempfile::tempdir().unwrap();
    let example = root().join("testdata/example");
    for f in ["pool.json", "tasks.json", "batchprep.toml"] {
        fs::copy(example.join(f), dir.path().join(f)).unwrap();
    }
    // The local image the example's batchprep.toml names, by absolute path.
    let config = fs::read_to_string(dir.path().join("batchprep.toml"))
        .unwrap()
        .replace(
            "\"oci:render-image:2.1\"",
            &format!("\"oci:{}:2.1\"", example.join("render-image").display()),
        );
    fs::write(dir.path().join("batchprep.toml"), config).unwrap();
    let d = dir.path();
    let args = ["check", "--offline", "pool.json", "--task", "tasks.json"];
    let safe = batchprep(d, &[&args[..], &["--diff"]].concat());
    let safe = text(&safe.stdout);
    assert!(safe.contains("+        \"ubuntu:24.04\"\n"), "{safe}");
    // `--rm` and `--gpus` both come out of one value.
    assert!(safe.contains("-      \"containerRunOptions\": \"--rm --gpus all\"\n+      \"containerRunOptions\": \"\"\n"), "{safe}");
    assert!(!safe.contains("--workdir"), "{safe}");
    let all = batchprep(d, &[&args[..], &["--diff", "--unsafe-fixes"]].concat());
    let all = text(&all.stdout);
    assert!(
        all.contains("+      \"containerRunOptions\": \"--workdir=/app\"\n"),
        "{all}"
    );
    assert!(
        all.contains("-      \"containerRunOptions\": \"--rm --gpus all\"\n+      \"containerRunOptions\": \"--workdir=/app\"\n"),
        "{all}"
    );

    let out = batchprep(d, &[&args[..], &["--fix", "--unsafe-fixes", "-q"]].concat());
    // The obsolete start task, the data root on the OS disk, docker0 and the two address pools
    // on the VNet of batchprep.toml all have one fix, batchprep's start task: made once.
    assert_eq!(
        text(&out.stderr),
        "fixed 10 finding(s) in 2 file(s); 3 remain\n"
    );
    let after = rules(d, &["pool.json", "--task", "tasks.json"]);
    assert_eq!(
        after,
        [
            "node-image-end-of-life",
            "image-not-inspected",
            "registry-check-skipped"
        ],
        "the move to the recommended image is not offered: it does not drive the V100 of NC6s_v3"
    );
    let pool: Value =
        serde_json::from_str(&fs::read_to_string(d.join("pool.json")).unwrap()).unwrap();
    let summary = pool["startTask"]["commandLine"].as_str().unwrap();
    assert!(
        summary.ends_with("exec /bin/bash batchprep-start-task.sh # batchprep start task: Docker data-root -> temp disk (/mnt or /mnt/resource)/docker; bip 172.18.0.1/16; default-address-pools 172.18.0.0/16/16,172.19.0.0/16/16,172.20.0.0/16/16,172.21.0.0/16/16,172.22.0.0/16/16,172.23.0.0/16/16,172.24.0.0/16/16,172.25.0.0/16/16,172.26.0.0/16/16,172.27.0.0/16/16,172.28.0.0/16/16,172.29.0.0/16/16,172.30.0.0/16/16,172.31.0.0/16/16,172.16.0.0/16/16,10.0.0.0/12/16'"),
        "{summary}"
    );
    let out = batchprep(d, &[&args[..], &["--fix", "--unsafe-fixes", "-q"]].concat());
    assert_eq!(
        text(&out.stderr),
        "fixed 0 finding(s) in 0 file(s); 3 remain\n"
    );
}

/// Terraform and Bicep: string values are replaced where the reader found them, in the file's own
/// quoting, everything else byte for byte; a second --fix changes nothing.
#[test]
fn terraform_and_bicep_values_are_fixed_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (kind, files) in [
        ("terraform", &["main.tf", "more.tf"][..]),
        ("bicep", &["pools.bicep"][..]),
    ] {
        fs::create_dir(d.join(kind)).unwrap();
        for f in files {
            fs::copy(
                root().join("testdata/pool-sources").join(kind).join(f),
                d.join(kind).join(f),
            )
            .unwrap();
        }
    }
    let before =
        |p: &str| fs::read_to_string(root().join("testdata/pool-sources").join(p)).unwrap();
    // The start task batchprep adds to Terraform pools is asserted in
    // terraform_gets_elements_and_members_inserted_in_its_own_layout.
    let out = batchprep(
        d,
        &[
            "check",
            "--offline",
            "terraform",
            "--fix",
            "-q",
            "--allow",
            "docker-data-root-on-os-disk",
        ],
    );
    assert!(
        text(&out.stderr).starts_with("fixed 3 finding(s) in 2 file(s); "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(d.join("terraform/main.tf")).unwrap(),
        before("terraform/main.tf").replace(
            "type                  = \"docker\"",
            "type                  = \"DockerCompatible\""
        )
    );
    assert_eq!(
        fs::read_to_string(d.join("terraform/more.tf")).unwrap(),
        // The first pool runs ubuntu-hpc 2204; the second's 24.04 agent is right for its image.
        before("terraform/more.tf")
            .replacen(
                "node_agent_sku_id   = \"batch.node.ubuntu 24.04\"",
                "node_agent_sku_id   = \"batch.node.ubuntu 22.04\"",
                1
            )
            // The container type the hpc pool leaves out, aligned with the attribute above it.
            .replace(
                "    container_image_names = [\"python:3.12-slim\"]\n",
                "    container_image_names = [\"python:3.12-slim\"]\n    type                  = \"DockerCompatible\"\n"
            )
    );
    // The start task batchprep adds to Bicep pools is asserted in
    // bicep_gets_elements_and_members_inserted_in_its_own_layout.
    let bicep = [
        "bicep/pools.bicep",
        "--allow",
        "docker-data-root-on-os-disk",
    ];
    let out = batchprep(
        d,
        &[&["check", "--offline", "--fix", "-q"], &bicep[..]].concat(),
    );
    assert!(
        text(&out.stderr).starts_with("fixed 3 finding(s) in 1 file(s); "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(d.join("bicep/pools.bicep")).unwrap(),
        before("bicep/pools.bicep")
            .replace("type: 'Docker'", "type: 'DockerCompatible'")
            // Only the pool on ubuntu-hpc 2204.
            .replacen(
                "nodeAgentSkuId: 'batch.node.ubuntu 24.04'",
                "nodeAgentSkuId: 'batch.node.ubuntu 22.04'",
                1
            )
            // The gpu pool's container type, at its sibling's indentation.
            .replace(
                "            'python:3.12-slim'\n          ]\n        }\n",
                "            'python:3.12-slim'\n          ]\n          type: 'DockerCompatible'\n        }\n"
            )
    );
    // What is left needs --unsafe-fixes, which then fixes exactly those.
    let terraform = ["terraform", "--allow", "docker-data-root-on-os-disk"];
    let out = batchprep(
        d,
        &[&["check", "--offline", "--format", "json"], &terraform[..]].concat(),
    );
    let doc: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let fixable: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| Some((f["name"].as_str()?, f.get("fixable")?.as_str()?)))
        .collect();
    assert_eq!(
        fixable,
        [
            ("retired-node-image", "unsafe"),
            ("invalid-registry-server", "unsafe"),
            ("obsolete-docker-daemon-flags", "unsafe"),
            ("node-image-end-of-life", "unsafe")
        ]
    );
    let out = batchprep(
        d,
        &[
            &["check", "--offline", "--diff", "--unsafe-fixes", "-q"],
            &terraform[..],
        ]
        .concat(),
    );
    assert!(
        text(&out.stderr).starts_with("would fix 4 finding(s) in 2 file(s); "),
        "{}",
        text(&out.stderr)
    );
    for args in [&terraform[..], &bicep[..]] {
        let out = batchprep(d, &[&["check", "--offline", "--fix", "-q"], args].concat());
        assert!(
            text(&out.stderr).starts_with("fixed 0 finding(s) in 0 file(s); "),
            "{}",
            text(&out.stderr)
        );
    }
}

/// `registryServer` as a URL becomes the registry host (safe); a bare name becomes an ACR login
/// server only with --unsafe-fixes, since that is a guess.
#[test]
fn registry_servers_become_registry_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pool = r#"{"id":"p","vmSize":"Standard_D4s_v5","virtualMachineConfiguration":{"imageReference":{"publisher":"microsoft-dsvm","offer":"ubuntu-hpc","sku":"2404","version":"latest"},"nodeAgentSKUId":"batch.node.ubuntu 24.04","containerConfiguration":{"type":"dockerCompatible","containerImageNames":["myacr.azurecr.io/app:1"],"containerRegistries":[{"registryServer":"https://index.docker.io/v1/","username":"u","password":"${HUB_PASSWORD}"},{"registryServer":"MyAcr","username":"u","password":"${ACR_PASSWORD}"}]}},"targetDedicatedNodes":1}"#;
    fs::write(d.join("pool.json"), pool).unwrap();
    // An allowed rule is not fixed: the start task stays out of this minified pool.
    let allow = ["--allow", "docker-data-root-on-os-disk"];
    batchprep(
        d,
        &[
            &["check", "--offline", "pool.json", "--fix", "-q"],
            &allow[..],
        ]
        .concat(),
    );
    let safe = fs::read_to_string(d.join("pool.json")).unwrap();
    assert_eq!(
        safe,
        pool.replace("https://index.docker.io/v1/", "docker.io")
    );
    let unsafe_fixes = [
        "check",
        "--offline",
        "pool.json",
        "--fix",
        "--unsafe-fixes",
        "-q",
    ];
    batchprep(d, &[&unsafe_fixes[..], &allow[..]].concat());
    assert_eq!(
        fs::read_to_string(d.join("pool.json")).unwrap(),
        safe.replace("\"MyAcr\"", "\"myacr.azurecr.io\"")
    );
    assert!(
        !rules(d, &["pool.json"])
            .iter()
            .any(|r| r == "invalid-registry-server")
    );
}

/// The script inside a start task command line batchprep wrote (`echo B64 | base64 -d | gunzip`),
/// unpacked by the real tools.
fn unpacked_script(command_line: &str) -> String {
    let unpack = command_line
        .strip_prefix("/bin/bash -c '")
        .and_then(|c| c.split(" > batchprep-start-task.sh").next())
        .unwrap();
    let out = Command::new("bash").args(["-c", unpack]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Docker's default pools without the ones on 172.17.0.0/16 and 172.18.0.0/16, as the network
/// analysis suggests them for those ranges.
const POOLS_AWAY_FROM_172_17: &str = "172.18.0.0/16/16,172.19.0.0/16/16,172.20.0.0/16/16,172.21.0.0/16/16,172.22.0.0/16/16,172.23.0.0/16/16,172.24.0.0/16/16,172.25.0.0/16/16,172.26.0.0/16/16,172.27.0.0/16/16,172.28.0.0/16/16,172.29.0.0/16/16,172.30.0.0/16/16,172.31.0.0/16/16,192.168.0.0/16/20,172.16.0.0/16/16";

/// `batchprep start-task` in `format` for the bridge fixture's image, with the settings the network
/// analysis suggests away from 172.17.0.0/16.
fn start_task(d: &Path, format: &str) -> std::process::Output {
    let args = [
        "start-task",
        "--pool-image",
        "microsoft-dsvm:ubuntu-hpc:2404",
        "--bip",
        "172.18.0.1/16",
        "--default-address-pools",
        POOLS_AWAY_FROM_172_17,
        "--prefetch",
        "docker.io/library/busybox:1.36",
        "--format",
        format,
    ];
    batchprep(d, &args)
}

/// docker0 and the address pools on the VNet: the fix is batchprep's start task, merged in front of
/// the pool's own admin start task (unsafe), which keeps its user and `waitForSuccess`; a start task
/// batchprep wrote is rewritten in place (safe) when the networks change, keeping the pool's own
/// command line; without a start task, one is added.
#[test]
fn bridge_fixes_merge_into_the_pool_start_task() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let before = fs::read_to_string(root().join("testdata/fix/bridge-pool.json")).unwrap();
    fs::write(d.join("pool.json"), &before).unwrap();
    let vnet = ["--vnet", "10.0.0.0/16", "--vnet", "172.17.0.0/16"];
    let check = |extra: &[&str]| {
        batchprep(
            d,
            &[&["check", "--offline", "pool.json", "-q"], &vnet[..], extra].concat(),
        )
    };
    let before_rules = rules(d, &[&["pool.json"], &vnet[..]].concat());
    assert_eq!(
        before_rules,
        [
            "docker-bridge-overlap",
            "docker-address-pool-overlap",
            "docker-data-root-on-os-disk",
            "image-not-inspected",
            "registry-check-skipped"
        ]
    );

    // Safe fixes only: the pool's own start task is not rewritten.
    let out = check(&["--fix"]);
    assert_eq!(
        text(&out.stderr),
        "fixed 0 finding(s) in 0 file(s); 5 remain\n"
    );
    assert_eq!(fs::read_to_string(d.join("pool.json")).unwrap(), before);

    let out = check(&["--fix", "--unsafe-fixes"]);
    assert_eq!(
        text(&out.stderr),
        "fixed 3 finding(s) in 1 file(s); 2 remain\n"
    );
    let after = fs::read_to_string(d.join("pool.json")).unwrap();
    let own = r#"/bin/bash -c 'mkdir -p /mnt/shared && echo ready'"#;
    // Only the command line changed, and it ends with the pool's own, quoted for bash.
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{after}");
    assert_eq!(changed[0].0, format!("    \"commandLine\": \"{own}\","));
    let pool: Value = serde_json::from_str(&after).unwrap();
    let command_line = pool["startTask"]["commandLine"].as_str().unwrap();
    assert!(
        command_line.ends_with(&format!(
            " && /bin/bash batchprep-start-task.sh && /bin/bash -c '\\''mkdir -p /mnt/shared && echo ready'\\'' # batchprep start task: Docker data-root -> temp disk (/mnt or /mnt/resource)/docker; bip 172.18.0.1/16; default-address-pools {POOLS_AWAY_FROM_172_17}'"
        )),
        "{command_line}"
    );
    // The script is the one `batchprep start-task` writes for these settings.
    let expected = start_task(d, "sh");
    assert_eq!(unpacked_script(command_line), text(&expected.stdout));
    // bash runs the pool's own command line after the script, as it was written.
    let tail = Command::new("bash")
        .args([
            "-c",
            &format!(
                "printf %s {}",
                &command_line[command_line.find("&& /bin/bash -c").unwrap() + 3
                    ..command_line.rfind(" # ").unwrap()]
                    .replace("'\\''", "'")
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(
        text(&tail.stdout),
        "/bin/bash-cmkdir -p /mnt/shared && echo ready"
    );
    assert_eq!(
        rules(d, &[&["pool.json"], &vnet[..]].concat()),
        ["image-not-inspected", "registry-check-skipped"]
    );
    let out = check(&["--fix", "--unsafe-fixes"]);
    assert_eq!(
        text(&out.stderr),
        "fixed 0 finding(s) in 0 file(s); 2 remain\n"
    );

    // A new on-premises range on the chosen bridge: the start task batchprep wrote is rewritten by
    // a safe fix, still in front of the pool's own command line.
    let more = [&vnet[..], &["--on-prem", "172.18.0.0/15"]].concat();
    assert_eq!(
        rules(d, &[&["pool.json"], &more[..]].concat())[..2],
        ["docker-bridge-overlap", "docker-address-pool-overlap"]
    );
    let out = batchprep(
        d,
        &[
            &["check", "--offline", "pool.json", "-q", "--fix"],
            &more[..],
        ]
        .concat(),
    );
    assert!(
        text(&out.stderr).starts_with("fixed "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        rules(d, &[&["pool.json"], &more[..]].concat()),
        ["image-not-inspected", "registry-check-skipped"]
    );
    let pool: Value =
        serde_json::from_str(&fs::read_to_string(d.join("pool.json")).unwrap()).unwrap();
    let rewritten = pool["startTask"]["commandLine"].as_str().unwrap();
    assert!(
        rewritten.contains(" && /bin/bash batchprep-start-task.sh && /bin/bash -c '\\''mkdir -p /mnt/shared && echo ready'\\'' # batchprep start task: Docker data-root -> temp disk (/mnt or /mnt/resource)/docker; bip "),
        "{rewritten}"
    );
    assert!(!rewritten.contains("bip 172.18.0.1/16"), "{rewritten}");
    assert_eq!(pool["startTask"]["waitForSuccess"], true);
    assert_eq!(
        pool["startTask"]["userIdentity"]["autoUser"]["elevationLevel"],
        "admin"
    );

    // No start task: batchprep's is added, as `start-task --format json` writes it, by a safe fix.
    let mut bare: Value = serde_json::from_str(&before).unwrap();
    bare.as_object_mut().unwrap().remove("startTask");
    fs::write(
        d.join("pool.json"),
        serde_json::to_string_pretty(&bare).unwrap(),
    )
    .unwrap();
    let out = check(&["--fix"]);
    assert_eq!(
        text(&out.stderr),
        "fixed 3 finding(s) in 1 file(s); 2 remain\n"
    );
    let expected = start_task(d, "json");
    let expected: Value = serde_json::from_str(&text(&expected.stdout)).unwrap();
    let after = fs::read_to_string(d.join("pool.json")).unwrap();
    let pool: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(pool["startTask"], expected);
    let validator = batch_schema::pool_validator(true);
    assert_eq!(
        batch_schema::errors(&validator, &pool),
        Vec::<String>::new()
    );
}

/// A copy of `testdata/fix/inserts/<kind>` and the task file beside it, in a new directory.
fn inserts(kind: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("testdata/fix/inserts");
    fs::create_dir(dir.path().join(kind)).unwrap();
    for entry in fs::read_dir(src.join(kind)).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join(kind).join(path.file_name().unwrap())).unwrap();
    }
    fs::copy(src.join("tasks.json"), dir.path().join("tasks.json")).unwrap();
    dir
}

/// Each `  start_task {` block of `text` up to its closing `  }`, with the command line's value as
/// `CMD` (batchprep's script, asserted elsewhere, is long).
fn start_task_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("\n  start_task {\n") {
        let block = &rest[at + 1..];
        let end = block.find("\n  }\n").map_or(block.len(), |e| e + 5);
        let block = &block[..end];
        let cmd_start = block.find("command_line       = \"").unwrap() + 21;
        let cmd_end = cmd_start + block[cmd_start..].find('\n').unwrap();
        assert!(
            block[cmd_start..cmd_end].starts_with("\"/bin/bash -c 'echo H4sI"),
            "{block}"
        );
        blocks.push(format!("{}CMD{}", &block[..cmd_start], &block[cmd_end..]));
        rest = &rest[at + 1 + end..];
    }
    blocks
}

/// The findings of a `check --format json` run: (rule, fixable, subject).
fn fixable(dir: &Path, args: &[&str]) -> Vec<(String, String, String)> {
    let out = batchprep(
        dir,
        &[&["check", "--offline", "--format", "json"], args].concat(),
    );
    let doc: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("-").to_owned();
            (s("name"), s("fixable"), s("subject"))
        })
        .collect()
}

fn finding(rule: &str, fixable: &str, subject: &str) -> (String, String, String) {
    (rule.into(), fixable.into(), subject.into())
}

/// `--fix` twice: the first fixes `first` (stderr), the second changes nothing.
fn fix_twice(dir: &Path, args: &[&str], first: &str) {
    let args = [&["check", "--offline"], args, &["--fix", "-q"]].concat();
    let out = batchprep(dir, &args);
    assert!(
        text(&out.stderr).starts_with(first),
        "{}",
        text(&out.stderr)
    );
    let out = batchprep(dir, &args);
    assert!(
        text(&out.stderr).starts_with("fixed 0 finding(s) in 0 file(s); "),
        "{}",
        text(&out.stderr)
    );
}

/// Terraform: the task's image is appended to each prefetch list in the list's own layout (one
/// element a line, with its trailing comma; one line), the container type goes after the other
/// attributes of `container_configuration` (after a list over several lines, not aligned on `=`,
/// as `terraform fmt` has it), and the node agent into the resource, aligned on `=`.
/// The pool whose list is `var.images` is left alone: its finding remains, and is not `fixable`;
/// nor is the start task, which has no single spelling in the provider's blocks.
#[test]
fn terraform_gets_elements_and_members_inserted_in_its_own_layout() {
    let dir = inserts("terraform");
    let d = dir.path();
    let args = ["terraform", "--task", "tasks.json"];
    assert_eq!(
        fixable(d, &args),
        [
            finding("node-agent-mismatch", "safe", "pool inline"),
            finding("container-type-missing", "safe", "pool lines"),
            finding("docker-data-root-on-os-disk", "safe", "pool from-var"),
            finding("docker-data-root-on-os-disk", "safe", "pool inline"),
            finding("docker-data-root-on-os-disk", "safe", "pool lines"),
            finding("task-image-not-prefetched", "safe", "task render"),
            finding("task-image-not-prefetched", "safe", "task render"),
            finding("task-image-not-prefetched", "-", "task render"),
            finding("image-not-inspected", "-", "image ghcr.io/acme/render:2"),
            finding("registry-check-skipped", "-", "pool from-var"),
            finding("registry-check-skipped", "-", "pool inline"),
            finding("registry-check-skipped", "-", "pool lines"),
        ]
    );
    // Without the start task (its command line is long), the exact diff.
    let out = batchprep(
        d,
        &[
            &["check", "--offline"],
            &args[..],
            &["--diff", "--allow", "docker-data-root-on-os-disk"],
        ]
        .concat(),
    );
    assert_eq!(
        text(&out.stdout),
        r#"--- a/terraform/main.tf
+++ b/terraform/main.tf
@@ -27,7 +27,9 @@
   container_configuration {
     container_image_names = [
       "python:3.12-slim", # the base image
+      "ghcr.io/acme/render:2",
     ]
+    type = "DockerCompatible"
   }
 }
 
@@ -36,6 +38,7 @@
   resource_group_name = "rg"
   account_name        = "acct"
   vm_size             = "Standard_D4s_v5"
+  node_agent_sku_id   = "batch.node.ubuntu 24.04"
 
   storage_image_reference {
     publisher = "microsoft-dsvm"
@@ -48,7 +51,7 @@
 
   container_configuration {
     type                  = "DockerCompatible"
-    container_image_names = ["python:3.12-slim"]
+    container_image_names = ["python:3.12-slim", "ghcr.io/acme/render:2"]
   }
 }
 
"#
    );
    assert_eq!(
        text(&out.stderr),
        "would fix 4 finding(s) in 1 file(s); 5 remain\n"
    );
    fix_twice(d, &args, "fixed 7 finding(s) in 1 file(s); 5 remain\n");
    assert_eq!(
        fixable(d, &args),
        [
            finding("task-image-not-prefetched", "-", "task render"),
            finding("image-not-inspected", "-", "image ghcr.io/acme/render:2"),
            finding("registry-check-skipped", "-", "pool from-var"),
            finding("registry-check-skipped", "-", "pool inline"),
            finding("registry-check-skipped", "-", "pool lines"),
        ]
    );
    // batchprep's start task, as `pool emit` writes it, after each pool's last attribute.
    let after = fs::read_to_string(d.join("terraform/main.tf")).unwrap();
    let block = start_task_blocks(&after);
    assert_eq!(block.len(), 3, "{after}");
    for b in block {
        assert_eq!(
            b,
            "  start_task {\n    command_line       = CMD\n    task_retry_maximum = 1\n    wait_for_success   = true\n\n    user_identity {\n      auto_user {\n        elevation_level = \"Admin\"\n        scope           = \"Pool\"\n      }\n    }\n  }\n"
        );
    }
    assert!(
        after.contains("container_image_names = var.images\n"),
        "{after}"
    );
}

/// Bicep: the image is appended to the newline-separated list (after its comment) and to the
/// one-line list, the container type and ARM's `nodeAgentSkuId` go in as lines at their siblings'
/// indentation, and batchprep's start task goes into `properties` as a Bicep object. The list that
/// is a variable is left alone.
#[test]
fn bicep_gets_elements_and_members_inserted_in_its_own_layout() {
    let dir = inserts("bicep");
    let d = dir.path();
    let args = ["bicep/pools.bicep", "--task", "tasks.json"];
    // Without the start task (its command line is long), the exact diff.
    let out = batchprep(
        d,
        &[
            &["check", "--offline"],
            &args[..],
            &["--diff", "--allow", "docker-data-root-on-os-disk"],
        ]
        .concat(),
    );
    assert_eq!(
        text(&out.stdout),
        "--- a/bicep/pools.bicep
+++ b/bicep/pools.bicep
@@ -27,7 +27,9 @@
         containerConfiguration: {
           containerImageNames: [
             'python:3.12-slim' // the base image
+            'ghcr.io/acme/render:2'
           ]
+          type: 'DockerCompatible'
         }
       }
     }
@@ -48,8 +50,9 @@
         }
         containerConfiguration: {
           type: 'DockerCompatible'
-          containerImageNames: ['python:3.12-slim']
+          containerImageNames: ['python:3.12-slim', 'ghcr.io/acme/render:2']
         }
+        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
       }
     }
   }
"
    );
    fix_twice(d, &args, "fixed 7 finding(s) in 1 file(s); 5 remain\n");
    assert_eq!(
        fixable(d, &args),
        [
            finding("task-image-not-prefetched", "-", "task render"),
            finding("image-not-inspected", "-", "image ghcr.io/acme/render:2"),
            finding("registry-check-skipped", "-", "pool from-var"),
            finding("registry-check-skipped", "-", "pool inline"),
            finding("registry-check-skipped", "-", "pool lines"),
        ]
    );
    let after = fs::read_to_string(d.join("bicep/pools.bicep")).unwrap();
    assert_eq!(
        after
            .matches("\n    startTask: {\n      commandLine: '/bin/bash -c \\'echo ")
            .count(),
        3,
        "{after}"
    );
    assert!(
        after.contains("\n          containerImageNames: images\n"),
        "{after}"
    );
}

/// Batch Shipyard: the pool's prefetch list is `global_resources.docker_images` of config.yaml,
/// which gets a `- image` line at its items' indentation. Under an alias it is left alone.
#[test]
fn shipyard_docker_images_get_the_task_image() {
    let dir = inserts("shipyard");
    let d = &dir.path().join("shipyard");
    let args = ["pool.yaml", "--task", "jobs.yaml"];
    let out = batchprep(
        d,
        &[&["check", "--offline"], &args[..], &["--diff"]].concat(),
    );
    assert_eq!(
        text(&out.stdout),
        "--- a/config.yaml
+++ b/config.yaml
@@ -3,4 +3,5 @@
 global_resources:
   docker_images:
   - python:3.12-slim  # the base image
+  - ghcr.io/acme/render:2
   volumes: {}
"
    );
    fix_twice(d, &args, "fixed 1 finding(s) in 1 file(s); 5 remain\n");
    assert!(
        !fixable(d, &args)
            .iter()
            .any(|(rule, ..)| rule == "task-image-not-prefetched")
    );
    // An alias: not a list the fixer reads exactly.
    let aliased =
        "images: &images\n- python:3.12-slim\nglobal_resources:\n  docker_images: *images\n";
    fs::write(d.join("config.yaml"), aliased).unwrap();
    assert!(fixable(d, &args).contains(&finding(
        "task-image-not-prefetched",
        "-",
        "task task-00000"
    )));
    let out = batchprep(
        d,
        &[&["check", "--offline"], &args[..], &["--fix", "-q"]].concat(),
    );
    assert!(
        text(&out.stderr).starts_with("fixed 0 finding(s) in 0 file(s); "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fs::read_to_string(d.join("config.yaml")).unwrap(), aliased);
}

/// Bicep: a legacy member is renamed where it is written (bare or quoted key), value and comment
/// kept; `check` is then clean of it and a second `--fix` changes nothing.
#[test]
fn a_bicep_legacy_member_is_renamed_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pool = "resource pool 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {
  name: 'p'
  properties: {
    vmSize: 'Standard_D4s_v5'
    maxTasksPerNode: 4 // one per core
    deploymentConfiguration: {
      virtualMachineConfiguration: {
        imageReference: {
          publisher: 'microsoft-dsvm'
          offer: 'ubuntu-hpc'
          sku: '2404'
          version: 'latest'
        }
        nodeAgentSkuId: 'batch.node.ubuntu 24.04'
      }
    }
  }
}
";
    fs::write(d.join("pool.bicep"), pool).unwrap();
    let args = ["check", "--offline", "pool.bicep"];
    let out = batchprep(d, &[&args[..], &["--diff"]].concat());
    assert_eq!(
        text(&out.stdout),
        "--- a/pool.bicep
+++ b/pool.bicep
@@ -2,7 +2,7 @@
   name: 'p'
   properties: {
     vmSize: 'Standard_D4s_v5'
-    maxTasksPerNode: 4 // one per core
+    taskSlotsPerNode: 4 // one per core
     deploymentConfiguration: {
       virtualMachineConfiguration: {
         imageReference: {
"
    );
    fix_twice(d, &args[2..], "fixed 1 finding(s) in 1 file(s); 0 remain\n");
    assert_eq!(
        fs::read_to_string(d.join("pool.bicep")).unwrap(),
        pool.replace("maxTasksPerNode", "taskSlotsPerNode")
    );
}
