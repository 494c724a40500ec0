//! The generated start task, run for real: `shellcheck` on every variant, then the script in a sandbox
//! root with stub `systemctl`, `docker` and `mountpoint` on PATH and every path taken from the
//! `BATCHPREP_*` variables. The stubs keep Docker's state in files: `running` holds the data root the
//! "daemon" runs with (read from daemon.json at start, as dockerd does), images are files under
//! `<root>/images/`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use batchprep_batch::{
    catalog::OsFamily,
    start_task::{AddressPool, DataRootTarget, StartTask},
};
use serde_json::{Value, json};

const UBUNTU: &str = "docker.io/library/ubuntu:24.04";
const RENDER: &str = "myacr.azurecr.io/render:2.1";

fn task(data_root: DataRootTarget) -> StartTask {
    StartTask {
        data_root,
        bip: Some("10.199.0.1/24".into()),
        default_address_pools: vec![AddressPool {
            base: "10.200.0.0/16".into(),
            size: 24,
        }],
        prefetch: vec![UBUNTU.into(), RENDER.into()],
    }
}

#[test]
fn every_variant_passes_shellcheck() {
    let variants = [
        task(DataRootTarget::auto_for(Some(OsFamily::Ubuntu))),
        task(DataRootTarget::auto_for(Some(OsFamily::El))),
        task(DataRootTarget::Path("/data/it's docker".into())),
        StartTask {
            data_root: DataRootTarget::Keep,
            bip: Some("10.199.0.1/24".into()),
            default_address_pools: vec![],
            prefetch: vec![],
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, t) in variants.iter().enumerate() {
        let path = dir.path().join(format!("start-{i}.sh"));
        fs::write(&path, t.script()).unwrap();
        let out = Command::new("shellcheck")
            .args(["--shell=bash", "--severity=style"])
            .arg(&path)
            .output()
            .expect("shellcheck must be installed (Debian package shellcheck; scripts/install-test-deps)");
        assert!(
            out.status.success(),
            "variant {i}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// A node: a sandbox root, stubs on PATH, Docker "running" from `var/lib/docker` with two images.
struct Node {
    dir: tempfile::TempDir,
}

impl Node {
    fn new() -> Node {
        let node = Node {
            dir: tempfile::tempdir().unwrap(),
        };
        let bin = node.path("bin");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(node.path("state")).unwrap();
        fs::create_dir_all(node.path("etc/docker")).unwrap();
        fs::create_dir_all(node.path("mnt")).unwrap();
        stub(&bin, "docker", DOCKER);
        stub(&bin, "systemctl", SYSTEMCTL);
        stub(&bin, "mountpoint", MOUNTPOINT);
        let old = node.path("var/lib/docker");
        fs::create_dir_all(old.join("images")).unwrap();
        fs::create_dir_all(old.join("overlay2/abc/diff/etc")).unwrap();
        fs::write(old.join("overlay2/abc/diff/etc/os-release"), "ID=ubuntu\n").unwrap();
        fs::write(old.join("images").join(image_file(UBUNTU)), "layers").unwrap();
        fs::write(node.path("state/running"), old.to_str().unwrap()).unwrap();
        node
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn daemon_json(&self) -> PathBuf {
        self.path("etc/docker/daemon.json")
    }

    fn run(&self, t: &StartTask, env: &[(&str, String)]) -> Output {
        let script = self.path("start-task.sh");
        fs::write(&script, t.script()).unwrap();
        let mut cmd = Command::new("bash");
        cmd.arg(&script);
        self.run_command(cmd, env)
    }

    /// Runs `command_line` split like a shell splits it (Batch runs it without a shell), in the
    /// sandbox root as the task's working directory.
    fn run_command_line(&self, t: &StartTask) -> Output {
        self.run_line(&t.command_line())
    }

    /// Runs a command line as Batch does: split like a shell, without one.
    fn run_line(&self, line: &str) -> Output {
        let words = shlex::split(line).unwrap();
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]).current_dir(self.dir.path());
        self.run_command(cmd, &[])
    }

    fn run_command(&self, mut cmd: Command, env: &[(&str, String)]) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("STUB_STATE", self.path("state"))
            .env("STUB_MOUNTS", self.path("mnt"))
            .env("BATCHPREP_DAEMON_JSON", self.daemon_json())
            .env(
                "BATCHPREP_TEMP_DISKS",
                format!(
                    "{} {}",
                    self.path("mnt").display(),
                    self.path("mnt/resource").display()
                ),
            )
            .env("BATCHPREP_OLD_ROOT", self.path("var/lib/docker"))
            .env("BATCHPREP_WAIT_SECONDS", "2");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn log(&self) -> String {
        fs::read_to_string(self.path("state/log")).unwrap_or_default()
    }
}

fn image_file(reference: &str) -> String {
    reference.replace(['/', ':'], "_")
}

fn stub(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = bin.join(name);
    fs::write(&p, body).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
}

const DOCKER: &str = r#"#!/bin/bash
# docker stub: "info" answers only while the daemon runs; images are files in the running root.
set -eu
running="$STUB_STATE/running"
case "$1" in
  info)
    [ -f "$running" ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; }
    cat "$running"; echo ;;
  image)
    [ -f "$running" ] && [ -e "$(cat "$running")/images/$(echo "$3" | tr '/:' '__')" ] ;;
  pull)
    mkdir -p "$(cat "$running")/images"
    touch "$(cat "$running")/images/$(echo "$2" | tr '/:' '__')"
    echo "pull $2" >> "$STUB_STATE/log" ;;
  *) echo "docker stub: unexpected $*" >&2; exit 1 ;;
esac
"#;

const SYSTEMCTL: &str = r#"#!/bin/bash
# systemctl stub: stop forgets the daemon, start reads data-root from daemon.json like dockerd.
set -eu
case "$1 $2" in
  "stop docker.socket") ;;
  "stop docker") rm -f "$STUB_STATE/running"; echo "stop docker" >> "$STUB_STATE/log" ;;
  "start docker")
    root=$(python3 -c 'import json,os,sys; c=json.load(open(sys.argv[1])) if os.path.exists(sys.argv[1]) else {}; print(c.get("data-root", sys.argv[2]))' "$BATCHPREP_DAEMON_JSON" "${STUB_FORCE_ROOT:-$BATCHPREP_OLD_ROOT}")
    [ -z "${STUB_FORCE_ROOT:-}" ] || root="$STUB_FORCE_ROOT"
    printf '%s' "$root" > "$STUB_STATE/running"
    echo "start docker" >> "$STUB_STATE/log" ;;
  *) echo "systemctl stub: unexpected $*" >&2; exit 1 ;;
esac
"#;

const MOUNTPOINT: &str = r#"#!/bin/bash
# mountpoint stub: the directories in STUB_MOUNTS are mount points.
[ "$1" = -q ] && shift
for m in $STUB_MOUNTS; do [ "$m" = "$1" ] && exit 0; done
exit 1
"#;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn moves_the_data_root_keeps_existing_keys_and_is_idempotent() {
    let node = Node::new();
    fs::write(
        node.daemon_json(),
        r#"{"log-driver": "json-file", "log-opts": {"max-size": "10m"}, "live-restore": true}"#,
    )
    .unwrap();
    let t = task(DataRootTarget::auto_for(Some(OsFamily::Ubuntu)));
    let new_root = node.path("mnt/docker");
    let new_root_s = new_root.to_str().unwrap().to_owned();

    let first = node.run(&t, &[]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "stderr: {}",
        text(&first.stderr)
    );
    assert_eq!(
        read_json(&node.daemon_json()),
        json!({
            "log-driver": "json-file",
            "log-opts": {"max-size": "10m"},
            "live-restore": true,
            "data-root": new_root_s,
            "bip": "10.199.0.1/24",
            "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}],
        })
    );
    // The prefetched image and the layer files came along; the old root is gone from the OS disk.
    assert!(new_root.join("images").join(image_file(UBUNTU)).is_file());
    assert_eq!(
        fs::read_to_string(new_root.join("overlay2/abc/diff/etc/os-release")).unwrap(),
        "ID=ubuntu\n"
    );
    assert!(!node.path("var/lib/docker").exists());
    // The image that was not in the old root is pulled again.
    assert_eq!(
        node.log(),
        format!("stop docker\nstart docker\npull {RENDER}\n")
    );
    let old = node.path("var/lib/docker").display().to_string();
    assert_eq!(
        text(&first.stdout),
        format!(
            "batchprep start task: stopping Docker to apply {daemon}\n\
             batchprep start task: carrying over {old} to {new_root_s}\n\
             batchprep start task: starting Docker\n\
             batchprep start task: Docker data root: {new_root_s}\n\
             batchprep start task: removed the old data root {old}\n\
             batchprep start task: pulling {RENDER} again (not in {new_root_s})\n\
             batchprep start task: done\n",
            daemon = node.daemon_json().display()
        )
    );

    let daemon_before = fs::read(node.daemon_json()).unwrap();
    let second = node.run(&t, &[]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "stderr: {}",
        text(&second.stderr)
    );
    assert_eq!(fs::read(node.daemon_json()).unwrap(), daemon_before);
    assert_eq!(
        node.log(),
        format!("stop docker\nstart docker\npull {RENDER}\n"),
        "no restart, no pull"
    );
    assert_eq!(
        text(&second.stdout),
        format!(
            "batchprep start task: daemon.json already has the settings and Docker runs with them\n\
             batchprep start task: Docker data root: {new_root_s}\n\
             batchprep start task: done\n"
        )
    );
}

#[test]
fn creates_daemon_json_and_drops_the_removed_graph_key() {
    let node = Node::new();
    fs::write(node.daemon_json(), r#"{"graph": "/old", "debug": true}"#).unwrap();
    let target = node.path("data/docker");
    let t = task(DataRootTarget::Path(target.to_str().unwrap().into()));
    let out = node.run(&t, &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let daemon = read_json(&node.daemon_json());
    assert_eq!(daemon.get("graph"), None);
    assert_eq!(daemon["debug"], true);
    assert_eq!(daemon["data-root"], target.to_str().unwrap());

    let fresh = Node::new();
    let out = fresh.run(&task(DataRootTarget::Keep), &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        read_json(&fresh.daemon_json()),
        json!({"bip": "10.199.0.1/24", "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}]})
    );
    assert!(
        fresh
            .path("var/lib/docker/images")
            .join(image_file(UBUNTU))
            .is_file(),
        "keep leaves the root alone"
    );
}

#[test]
fn an_unwritable_target_fails_clearly_and_changes_nothing() {
    let node = Node::new();
    fs::write(node.daemon_json(), r#"{"debug": true}"#).unwrap();
    fs::write(node.path("not-a-dir"), "").unwrap();
    let target = node.path("not-a-dir/docker");
    let out = node.run(
        &task(DataRootTarget::Path(target.to_str().unwrap().into())),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "batchprep start task: error: cannot create or write the Docker data root {}\n",
            target.display()
        )
    );
    assert_eq!(
        fs::read_to_string(node.daemon_json()).unwrap(),
        r#"{"debug": true}"#
    );
    assert_eq!(node.log(), "", "Docker was not touched");
}

#[test]
fn fails_loudly_when_docker_does_not_use_the_new_root() {
    let node = Node::new();
    let elsewhere = node.path("elsewhere").display().to_string();
    let out = node.run(
        &task(DataRootTarget::auto_for(Some(OsFamily::Ubuntu))),
        &[("STUB_FORCE_ROOT", elsewhere.clone())],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "batchprep start task: error: Docker reports data root {elsewhere}, expected {}; removed {} (there was none before) and Docker runs again\n",
            node.path("mnt/docker").display(),
            node.daemon_json().display()
        )
    );
    assert!(
        node.path("var/lib/docker").exists(),
        "the old root stays until Docker runs from the new one"
    );
    assert!(!node.daemon_json().exists(), "the node had no daemon.json");
    assert!(!node.path("mnt/docker").exists(), "the copy is removed");
}

#[test]
fn auto_needs_a_mounted_temp_disk_and_a_valid_daemon_json() {
    let node = Node::new();
    let disks = format!(
        "{} {}",
        node.path("none1").display(),
        node.path("none2").display()
    );
    let out = node.run(
        &task(DataRootTarget::auto_for(Some(OsFamily::El))),
        &[("BATCHPREP_TEMP_DISKS", disks.clone())],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "batchprep start task: error: no temp disk is mounted at: {disks} (set data-root to a path, or keep)\n"
        )
    );

    let node = Node::new();
    fs::write(node.daemon_json(), "{not json").unwrap();
    let out = node.run(&task(DataRootTarget::auto_for(None)), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "batchprep start task: error: {} is not valid JSON: ",
            node.daemon_json().display()
        )),
        "{stderr}"
    );
    assert_eq!(node.log(), "");
}

#[test]
fn the_command_line_writes_and_runs_the_same_script() {
    let node = Node::new();
    let t = task(DataRootTarget::auto_for(Some(OsFamily::Ubuntu)));
    let out = node.run_command_line(&t);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        fs::read_to_string(node.path("batchprep-start-task.sh")).unwrap(),
        t.script()
    );
    assert_eq!(
        read_json(&node.daemon_json())["data-root"],
        node.path("mnt/docker").to_str().unwrap()
    );
}

/// `check --fix` merges the script before a pool's own start task: the script runs, then the old
/// command line (quotes and all) under the same bash; a failing script stops it.
#[test]
fn the_merged_command_line_runs_the_script_then_the_pools_own_task() {
    let node = Node::new();
    let t = task(DataRootTarget::auto_for(Some(OsFamily::Ubuntu)));
    let own = "/bin/bash -c 'echo \"it'\"'\"'s the pool task\" > own.txt'";
    let out = node.run_line(&t.command_line_before(own));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        read_json(&node.daemon_json())["data-root"],
        node.path("mnt/docker").to_str().unwrap()
    );
    assert_eq!(
        fs::read_to_string(node.path("own.txt")).unwrap(),
        "it's the pool task\n"
    );
    assert_eq!(
        StartTask::decode_command_line(&t.command_line_before(own)).as_deref(),
        Some(t.script().as_str())
    );
}
