//! Ground truth for `batchprep lint`: every container rule has a fixture image that fails in a real
//! runtime and a close twin that works. Each is run in podman + runc the way Batch runs a task
//! (task working directory bind-mounted from the node, the task user's uid, the run options among
//! the create flags, the command line as the container command), and lint's verdict (some finding
//! at warning or error, or none) must match what happened (the intended program printed its
//! marker and exited 0, or not).
//!
//! Needs root, podman, runc and umoci (scripts/install-test-deps); a missing tool fails the test.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
    sync::Mutex,
};

use batchprep_testkit::{BuiltImage, ImageBuilder};

/// What the intended program prints: the runtime outcome is "worked" only when it appears.
const MARKER: &str = "BATCHPREP-RAN";
const SCRIPT: &[u8] = b"#!/bin/sh\necho BATCHPREP-RAN\n";
/// The uid:gid the harness runs non-admin tasks as, like the model (`NONADMIN_ID`).
const TASK_USER: &str = "1000:1000";
/// Batch's task working directory under the mounted node root.
const TASK_WD: &str = "/mnt/batch/tasks/workitems/job/job-1/task/wd";

/// One podman run at a time: they share the storage lock, and the machine has two cores.
static PODMAN: Mutex<()> = Mutex::new(());

/// A task to run on a fixture image.
#[derive(Clone, Copy)]
struct Task<'a> {
    command_line: &'a str,
    run_options: &'a str,
    admin: bool,
}

const fn task(command_line: &str) -> Task<'_> {
    Task {
        command_line,
        run_options: "",
        admin: false,
    }
}

impl<'a> Task<'a> {
    const fn options(self, run_options: &'a str) -> Task<'a> {
        Task {
            run_options,
            ..self
        }
    }
    const fn admin(self) -> Task<'a> {
        Task {
            admin: true,
            ..self
        }
    }
}

/// A scratch directory for one fixture.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runtime")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The base every fixture starts from: `/bin/sh` and `/bin/echo` from the host (with their
/// libraries) and `/app/run.sh`, which prints the marker; WORKDIR `/app`.
fn base(name: &str) -> ImageBuilder {
    ImageBuilder::new(&scratch(name))
        .host_binaries(&["/bin/sh", "/bin/echo"])
        .dir("/app", 0o755)
        .file("/app/run.sh", 0o755, SCRIPT)
        .config(|c| c.workdir("/app"))
}

/// lint's verdict: the rules that fired at warning or error, after checking the exit code agrees.
fn lint(image: &BuiltImage, t: Task<'_>) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_batchprep"));
    cmd.args(["lint", &image.reference(), "--format", "json"])
        .arg(format!("--command-line={}", t.command_line))
        .arg(format!("--container-run-options={}", t.run_options))
        .args(["--elevation", if t.admin { "admin" } else { "nonadmin" }])
        .current_dir(image.layout.parent().unwrap());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "lint output is not JSON ({e}):\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = report["findings"].as_array().unwrap();
    let errors = findings.iter().any(|f| f["severity"] == "error");
    assert_eq!(
        out.status.code(),
        Some(if errors { 1 } else { 0 }),
        "{stdout}"
    );
    findings
        .iter()
        .filter(|f| f["severity"] == "error" || f["severity"] == "warning")
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The runtime's outcome: whether the intended program ran and exited 0, and what podman said.
fn run(image: &BuiltImage, t: Task<'_>) -> (bool, String) {
    // The node root Batch mounts, with the task working directory in it, searchable by the task user.
    let node = image.layout.parent().unwrap().join("node");
    fs::create_dir_all(node.join(TASK_WD.trim_start_matches("/mnt/batch/"))).unwrap();
    chmod_tree(&node);
    let nofile = String::from_utf8(
        Command::new("sh")
            .args(["-c", "ulimit -Hn"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let mut args: Vec<String> = [
        "120",
        "podman",
        "--runtime",
        "runc",
        "--cgroup-manager=cgroupfs",
        "--events-backend=file",
        "run",
        "--rm",
        "--network=none",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(format!("--ulimit=nofile={nofile}:{nofile}"));
    args.push("--ulimit=nproc=4096:4096".into());
    args.push(format!("--volume={}:/mnt/batch", node.display()));
    args.push(format!("--workdir={TASK_WD}"));
    // Some of the variables Batch sets for every task.
    args.push("--env=AZ_BATCH_NODE_ROOT_DIR=/mnt/batch".into());
    args.push(format!("--env=AZ_BATCH_TASK_WORKING_DIR={TASK_WD}"));
    if !t.admin {
        args.push(format!("--user={TASK_USER}"));
    }
    for word in shlex::split(t.run_options).unwrap() {
        // podman accepts `--gpus` and ignores it (for Docker compatibility); Docker hands it to the
        // NVIDIA device driver, which podman reaches through CDI. Pass that, so the GPU request
        // fails on a GPU-less machine as it does under Docker.
        if let Some(value) = word.strip_prefix("--gpus=") {
            args.push(format!("--device=nvidia.com/gpu={value}"));
        } else {
            args.push(word);
        }
    }
    args.push(image.reference());
    args.extend(shlex::split(t.command_line).unwrap());
    let _serial = PODMAN.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new("timeout")
        .args(&args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run podman ({e}): install it with scripts/install-test-deps")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ran = out.status.success() && stdout.lines().any(|l| l == MARKER);
    let said = format!(
        "podman {} -> {}\nstdout: {stdout}\nstderr: {}",
        args[1..].join(" "),
        out.status,
        stderr
            .lines()
            .filter(|l| !l.starts_with("Copying")
                && !l.starts_with("Getting")
                && !l.starts_with("Writing")
                && !l.starts_with("Storing"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    (ran, said)
}

fn chmod_tree(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            chmod_tree(&path);
        }
    }
}

/// The failing fixture must fail in podman and be flagged by `rule`; the twin must run and be clean.
fn pair(rule: &str, failing: (&BuiltImage, Task<'_>), working: (&BuiltImage, Task<'_>)) {
    let (ran, said) = run(failing.0, failing.1);
    let flagged = lint(failing.0, failing.1);
    assert!(
        !ran,
        "the failing fixture of {rule} worked in the runtime:\n{said}"
    );
    assert!(
        flagged.iter().any(|r| r == rule),
        "{rule} did not fire on its failing fixture: {flagged:?}\n{said}"
    );
    let (ran, said) = run(working.0, working.1);
    let flagged = lint(working.0, working.1);
    assert!(
        ran,
        "the working twin of {rule} failed in the runtime:\n{said}"
    );
    assert_eq!(
        flagged,
        Vec::<String>::new(),
        "lint flagged the working twin of {rule}\n{said}"
    );
}

#[test]
fn relative_entrypoint() {
    let image = base("relative-entrypoint")
        .config(|c| c.entrypoint(&["./run.sh"]))
        .build();
    pair(
        "relative-entrypoint",
        (&image, task("")),
        (&image, task("").options("--workdir /app")),
    );
}

#[test]
fn workdir_relative_argument() {
    let image = base("workdir-relative-argument").build();
    pair(
        "workdir-relative-argument",
        (&image, task("sh run.sh")),
        (&image, task("sh /app/run.sh")),
    );
}

#[test]
fn executable_not_found_missing_path() {
    let image = base("executable-not-found").build();
    pair(
        "executable-not-found",
        (&image, task("/app/train.sh")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn executable_not_found_removed_by_a_later_layer() {
    let removed = base("removed")
        .file("/app/other", 0o644, b"")
        .layer()
        .remove("/app/run.sh")
        .build();
    let kept = base("kept")
        .file("/app/other", 0o644, b"")
        .layer()
        .remove("/app/other")
        .build();
    pair(
        "executable-not-found",
        (&removed, task("/app/run.sh")),
        (&kept, task("/app/run.sh")),
    );
}

#[test]
fn executable_not_found_not_on_path() {
    let tools = |name| base(name).file("/opt/tools/bin/hello", 0o755, SCRIPT);
    let default_path = tools("not-on-path").build();
    let with_path = tools("on-path")
        .config(|c| c.env("PATH=/opt/tools/bin:/usr/bin:/bin"))
        .build();
    pair(
        "executable-not-found",
        (&default_path, task("hello")),
        (&with_path, task("hello")),
    );
}

#[test]
fn not_executable_by_task_user() {
    let image = base("not-executable")
        .file("/app/private.sh", 0o700, SCRIPT)
        .build();
    pair(
        "not-executable-by-task-user",
        (&image, task("/app/private.sh")),
        (&image, task("/app/private.sh").admin()),
    );
}

#[test]
fn shebang_interpreter_missing() {
    let image = base("shebang-missing")
        .file("/app/bash.sh", 0o755, b"#!/bin/bash\necho BATCHPREP-RAN\n")
        .build();
    pair(
        "shebang-interpreter-missing",
        (&image, task("/app/bash.sh")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn shebang_crlf() {
    let image = base("shebang-crlf")
        .file("/app/dos.sh", 0o755, b"#!/bin/sh\r\necho BATCHPREP-RAN\r\n")
        .build();
    pair(
        "shebang-crlf",
        (&image, task("/app/dos.sh")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn nothing_to_run() {
    let image = base("nothing-to-run").build();
    pair(
        "nothing-to-run",
        (&image, task("")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn entrypoint_swallows_command_line() {
    let image = base("swallows")
        .config(|c| c.entrypoint(&["/bin/echo"]))
        .build();
    pair(
        "entrypoint-swallows-command-line",
        (&image, task("/app/run.sh")),
        (&image, task("/app/run.sh").options("--entrypoint ''")),
    );
}

#[test]
fn entrypoint_sh_c_swallows_the_rest_of_the_command_line() {
    let image = base("sh-c")
        .config(|c| c.entrypoint(&["/bin/sh", "-c"]))
        .build();
    pair(
        "entrypoint-swallows-command-line",
        (&image, task("echo BATCHPREP-RAN")),
        (&image, task("'echo BATCHPREP-RAN'")),
    );
}

/// A minimal static AArch64 ELF that exits 0: what an arm64 image's program looks like to an
/// amd64 kernel.
fn aarch64_exit0() -> Vec<u8> {
    let mut elf = Vec::new();
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&0x400078u64.to_le_bytes()); // entry
    elf.extend_from_slice(&64u64.to_le_bytes()); // program headers
    elf.extend_from_slice(&0u64.to_le_bytes());
    elf.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 56, 1, 0, 0, 0] {
        elf.extend_from_slice(&v.to_le_bytes());
    }
    elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    elf.extend_from_slice(&5u32.to_le_bytes()); // R+X
    for v in [0u64, 0x400000, 0x400000, 132, 132, 0x1000] {
        elf.extend_from_slice(&v.to_le_bytes());
    }
    // mov x0, #0; mov x8, #93 (exit); svc #0
    for insn in [0xd2800000u32, 0xd2800ba8, 0xd4000001] {
        elf.extend_from_slice(&insn.to_le_bytes());
    }
    elf
}

#[test]
fn platform_mismatch() {
    let arm = ImageBuilder::new(&scratch("arm64"))
        .file("/app/prog", 0o755, &aarch64_exit0())
        .config(|c| c.platform("linux/arm64").entrypoint(&["/app/prog"]))
        .build();
    let amd = base("amd64")
        .config(|c| c.entrypoint(&["/app/run.sh"]))
        .build();
    pair("platform-mismatch", (&arm, task("")), (&amd, task("")));
}

#[test]
fn gpus_run_option() {
    let image = base("gpus").build();
    pair(
        "gpus-run-option",
        (&image, task("/app/run.sh").options("--gpus=all")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn runtime_run_option() {
    let image = base("runtime").build();
    pair(
        "runtime-run-option",
        (&image, task("/app/run.sh").options("--runtime nvidia")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn relative_workdir_option() {
    let image = base("relative-workdir").build();
    pair(
        "relative-workdir-option",
        (&image, task("/app/run.sh").options("--workdir app")),
        (&image, task("/app/run.sh").options("--workdir /app")),
    );
}

/// `--rm` is only a note: lint does not flag it, and the task runs.
#[test]
fn redundant_rm_option_is_a_note_and_runs() {
    let image = base("rm").build();
    let t = task("/app/run.sh").options("--rm");
    let (ran, said) = run(&image, t);
    assert!(ran, "{said}");
    assert_eq!(lint(&image, t), Vec::<String>::new());
    let out = Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args([
            "lint",
            &image.reference(),
            "--command-line=/app/run.sh",
            "--container-run-options=--rm",
            "--format=json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["name"], "redundant-rm-option");
    assert_eq!(report["findings"][0]["severity"], "note");
}

#[test]
fn unexpanded_variable() {
    // Prints the marker only when given an existing directory.
    let image = base("unexpanded-variable")
        .file(
            "/app/in-dir.sh",
            0o755,
            b"#!/bin/sh\n[ -d \"$1\" ] && echo BATCHPREP-RAN\n",
        )
        .build();
    pair(
        "unexpanded-variable",
        (&image, task("/app/in-dir.sh $AZ_BATCH_TASK_WORKING_DIR")),
        (
            &image,
            task("/bin/sh -c '/app/in-dir.sh $AZ_BATCH_TASK_WORKING_DIR'"),
        ),
    );
}
