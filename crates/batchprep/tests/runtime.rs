//! Ground truth for `batchprep lint`: every container rule has a fixture image that fails in a real
//! runtime and a close twin that works. The oracle is Moby (Docker Engine), what Azure Batch nodes
//! run: a private dockerd for this test binary, each fixture loaded into it once, and each task run
//! the way Batch runs it (`docker create` with the task working directory bind-mounted from the
//! node, the task user's uid, the run options among the create flags, the command line as the
//! container command, `--network none`; then `docker start -a`). lint's verdict (some finding at
//! warning or error, or none) must match what happened (the intended program printed its marker
//! and exited 0, or not). podman + runc runs every case too, as a second oracle: where it
//! disagrees with Moby the case says so ([`PODMAN_DIFFERS`]).
//!
//! Needs root, docker.io (dockerd, containerd, docker), skopeo, podman, runc, umoci and gcc
//! (scripts/install-test-deps); a missing tool fails the test.

use std::{
    collections::HashSet,
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Mutex, OnceLock},
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

/// The node root Batch mounts, with the task working directory in it, searchable by the task user.
fn node_root(image: &BuiltImage) -> PathBuf {
    let node = image.layout.parent().unwrap().join("node");
    fs::create_dir_all(node.join(TASK_WD.trim_start_matches("/mnt/batch/"))).unwrap();
    chmod_tree(&node);
    node
}

/// The hard open-files limit, which Batch's nodes pass on to containers.
fn nofile() -> String {
    String::from_utf8(
        Command::new("sh")
            .args(["-c", "ulimit -Hn"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned()
}

/// A private dockerd for this test binary, on its own data root, exec root and socket.
struct Moby {
    host: String,
    /// Images already loaded, by name.
    loaded: Mutex<HashSet<String>>,
}

static MOBY: OnceLock<Moby> = OnceLock::new();

/// Starts the dockerd (once): a watcher shell stops it by its pid when this test binary is gone.
fn moby() -> &'static Moby {
    MOBY.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("moby-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let me = std::process::id();
        let script = format!(
            "dockerd --data-root {d}/root --exec-root {d}/exec -H unix://{d}/sock --pidfile {d}/pid \\
             --bridge=none --iptables=false --ip-masq=false >{d}/log 2>&1 & dpid=$!
             echo $dpid >{d}/started
             while kill -0 {me} 2>/dev/null && kill -0 $dpid 2>/dev/null; do sleep 1; done
             kill $dpid 2>/dev/null; wait $dpid; rm -rf {d}/exec"
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dockerd ({e}): install docker.io with scripts/install-test-deps"));
        let host = format!("unix://{d}/sock");
        // Ready when it answers; given up only when it has exited.
        loop {
            let ok = Command::new("docker")
                .args(["-H", &host, "version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                break;
            }
            let started = fs::read_to_string(dir.join("started")).unwrap_or_default();
            let pid = started.trim();
            if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
                panic!(
                    "dockerd exited:\n{}",
                    fs::read_to_string(dir.join("log")).unwrap_or_default()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Moby {
            host,
            loaded: Mutex::new(HashSet::new()),
        }
    })
}

impl Moby {
    fn docker(&self, args: &[&str]) -> std::process::Output {
        Command::new("docker")
            .args(["-H", &self.host])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run docker ({e}): install docker.io"))
    }

    /// Loads the fixture's OCI layout into the daemon (once) and returns its name.
    fn load(&self, image: &BuiltImage) -> String {
        let dir = image.layout.parent().unwrap().file_name().unwrap();
        let name = format!(
            "batchprep-runtime/{}:{}",
            dir.to_string_lossy().to_lowercase(),
            image.tag
        );
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if loaded.insert(name.clone()) {
            batchprep_testkit::run(
                "skopeo",
                &[
                    "copy",
                    "-q",
                    "--dest-daemon-host",
                    &self.host,
                    &image.reference(),
                    &format!("docker-daemon:{name}"),
                ],
            );
        }
        name
    }
}

/// Moby's outcome: whether the intended program ran and exited 0, and what docker said.
fn run_moby(image: &BuiltImage, t: Task<'_>) -> (bool, String) {
    let moby = moby();
    let name = moby.load(image);
    let node = node_root(image);
    let nofile = nofile();
    let mut args: Vec<String> = vec![
        "create".into(),
        "--network=none".into(),
        format!("--ulimit=nofile={nofile}:{nofile}"),
        "--ulimit=nproc=4096:4096".into(),
        format!("--volume={}:/mnt/batch", node.display()),
        format!("--workdir={TASK_WD}"),
        "--env=AZ_BATCH_NODE_ROOT_DIR=/mnt/batch".into(),
        format!("--env=AZ_BATCH_TASK_WORKING_DIR={TASK_WD}"),
    ];
    if !t.admin {
        args.push(format!("--user={TASK_USER}"));
    }
    args.extend(shlex::split(t.run_options).unwrap());
    args.push(name);
    args.extend(shlex::split(t.command_line).unwrap());
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let created = moby.docker(&words);
    let mut said = format!(
        "docker {} -> {}\n{}",
        args.join(" "),
        created.status,
        String::from_utf8_lossy(&created.stderr)
    );
    if !created.status.success() {
        return (false, said);
    }
    let id = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let started = moby.docker(&["start", "-a", &id]);
    let stdout = String::from_utf8_lossy(&started.stdout);
    said.push_str(&format!(
        "docker start -a -> {}\nstdout: {stdout}\nstderr: {}",
        started.status,
        String::from_utf8_lossy(&started.stderr)
    ));
    let _ = moby.docker(&["rm", "-f", &id]);
    (
        started.status.success() && stdout.lines().any(|l| l == MARKER),
        said,
    )
}

/// podman's outcome: whether the intended program ran and exited 0, and what podman said.
fn run_podman(image: &BuiltImage, t: Task<'_>) -> (bool, String) {
    let node = node_root(image);
    let nofile = nofile();
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

/// Cases where podman does not do what Moby does: (rule, which fixture, what podman does instead).
const PODMAN_DIFFERS: &[(&str, &str, &str)] = &[(
    "workdir-missing",
    "working",
    "refuses a `--workdir` the image does not have, which Moby creates",
)];

/// Runs one fixture in both runtimes: Moby's outcome, checked against podman's.
fn run(rule: &str, which: &str, image: &BuiltImage, t: Task<'_>) -> (bool, String) {
    let (ran, said) = run_moby(image, t);
    let (podman_ran, podman_said) = run_podman(image, t);
    let known = PODMAN_DIFFERS
        .iter()
        .any(|(r, w, _)| *r == rule && *w == which);
    assert_eq!(
        podman_ran != ran,
        known,
        "podman and Moby {} on the {which} fixture of {rule}:\n{said}\n{podman_said}",
        if known { "now agree" } else { "disagree" }
    );
    (ran, said)
}

/// The failing fixture must fail on Moby and be flagged by `rule`; the twin must run and be clean.
fn pair(rule: &str, failing: (&BuiltImage, Task<'_>), working: (&BuiltImage, Task<'_>)) {
    let (ran, said) = run(rule, "failing", failing.0, failing.1);
    let flagged = lint(failing.0, failing.1);
    assert!(
        !ran,
        "the failing fixture of {rule} worked on Moby:\n{said}"
    );
    assert!(
        flagged.iter().any(|r| r == rule),
        "{rule} did not fire on its failing fixture: {flagged:?}\n{said}"
    );
    let (ran, said) = run(rule, "working", working.0, working.1);
    let flagged = lint(working.0, working.1);
    assert!(ran, "the working twin of {rule} failed on Moby:\n{said}");
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
    let (ran, said) = run("redundant-rm-option", "working", &image, t);
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

/// Compiles `source` (C) with gcc and `flags` into `name` under the suite's scratch dir.
fn gcc(name: &str, source: &str, flags: &[&str]) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("runtime-gcc");
    fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("{name}.c"));
    fs::write(&src, source).unwrap();
    let out = dir.join(name);
    let status = Command::new("gcc")
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .args(flags)
        .current_dir(&dir)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run gcc ({e}): install it with scripts/install-test-deps")
        });
    assert!(status.success(), "gcc {name} failed");
    fs::read(out).unwrap()
}

const HELLO_C: &str = "#include <stdio.h>\nint main(void){puts(\"BATCHPREP-RAN\");return 0;}\n";

/// A program that needs `libbp.so.1` (and the library itself, built beside it).
fn libbp() -> (Vec<u8>, Vec<u8>) {
    let lib = gcc(
        "libbp.so.1",
        "int bp(void){return 0;}\n",
        &["-shared", "-fPIC", "-Wl,-soname,libbp.so.1"],
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("runtime-gcc");
    let prog = gcc(
        "needs-bp",
        "#include <stdio.h>\nint bp(void);\nint main(void){puts(\"BATCHPREP-RAN\");return bp();}\n",
        &[&format!("-L{}", dir.display()), "-l:libbp.so.1"],
    );
    (prog, lib)
}

/// An image of BusyBox alone (`busybox-static`), its applets as symlinks.
fn busybox(name: &str) -> ImageBuilder {
    let mut b = ImageBuilder::new(&scratch(name))
        .file("/bin/busybox", 0o755, &fs::read("/bin/busybox").unwrap())
        .dir("/usr/bin", 0o755)
        .dir("/app", 0o755)
        .file("/app/run.sh", 0o755, SCRIPT)
        .config(|c| c.workdir("/app"));
    for applet in ["/bin/sh", "/bin/echo", "/usr/bin/env"] {
        b = b.symlink(applet, "/bin/busybox");
    }
    b
}

#[test]
fn exec_format_error_text_without_shebang_and_empty_file() {
    let image = base("exec-format-error")
        .file("/app/notes", 0o755, b"echo BATCHPREP-RAN\n")
        .file("/app/empty", 0o755, b"")
        .build();
    pair(
        "exec-format-error",
        (&image, task("/app/notes")),
        (&image, task("/bin/sh /app/notes")),
    );
    pair(
        "exec-format-error",
        (&image, task("/app/empty")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn elf_architecture_mismatch_inside_an_amd64_image() {
    let image = base("elf-arch")
        .file("/app/prog", 0o755, &aarch64_exit0())
        .file(
            "/app/hello",
            0o755,
            &gcc("hello-static", HELLO_C, &["-static"]),
        )
        .build();
    pair(
        "elf-architecture-mismatch",
        (&image, task("/app/prog")),
        (&image, task("/app/hello")),
    );
}

#[test]
fn elf_loader_missing_on_a_busybox_image() {
    let hello = gcc("hello-dynamic", HELLO_C, &[]);
    let without = busybox("loader-missing")
        .file("/app/hello", 0o755, &hello)
        .build();
    let with = base("loader-present")
        .file("/app/hello", 0o755, &hello)
        .build();
    pair(
        "elf-loader-missing",
        (&without, task("/app/hello")),
        (&with, task("/app/hello")),
    );
}

#[test]
fn shared_library_missing_and_found_on_the_default_path() {
    let (prog, lib) = libbp();
    let elsewhere = base("library-elsewhere")
        .file("/app/needs-bp", 0o755, &prog)
        .file("/opt/bp/libbp.so.1", 0o755, &lib)
        .build();
    let default_dir = base("library-default")
        .file("/app/needs-bp", 0o755, &prog)
        .file("/usr/lib/x86_64-linux-gnu/libbp.so.1", 0o755, &lib)
        .build();
    pair(
        "shared-library-missing",
        (&elsewhere, task("/app/needs-bp")),
        (&default_dir, task("/app/needs-bp")),
    );
}

#[test]
fn shared_library_in_ld_so_conf_needs_ldconfig_or_ld_library_path() {
    let (prog, lib) = libbp();
    let conf = |name| {
        base(name)
            .file("/app/needs-bp", 0o755, &prog)
            .file("/opt/bp/libbp.so.1", 0o755, &lib)
            .file("/etc/ld.so.conf", 0o644, b"/opt/bp\n")
    };
    let uncached = conf("library-uncached").build();
    let env = conf("library-env")
        .config(|c| c.env("LD_LIBRARY_PATH=/opt/bp"))
        .build();
    pair(
        "shared-library-missing",
        (&uncached, task("/app/needs-bp")),
        (&env, task("/app/needs-bp")),
    );
}

#[test]
fn shebang_argument_split_by_env() {
    let image = base("shebang-split")
        .host_binaries(&["/usr/bin/env"])
        .file(
            "/app/split.sh",
            0o755,
            b"#!/usr/bin/env sh -e\necho BATCHPREP-RAN\n",
        )
        .file("/app/one.sh", 0o755, b"#!/bin/sh -e\necho BATCHPREP-RAN\n")
        .build();
    pair(
        "shebang-argument-split",
        (&image, task("/app/split.sh")),
        (&image, task("/app/one.sh")),
    );
}

#[test]
fn env_split_string_needs_gnu_env() {
    const S: &[u8] = b"#!/usr/bin/env -S sh -e\necho BATCHPREP-RAN\n";
    let busybox = busybox("env-s-busybox").file("/app/s.sh", 0o755, S).build();
    let gnu = base("env-s-gnu")
        .host_binaries(&["/usr/bin/env"])
        .file("/app/s.sh", 0o755, S)
        .build();
    pair(
        "env-split-string-unsupported",
        (&busybox, task("/app/s.sh")),
        (&gnu, task("/app/s.sh")),
    );
}

#[test]
fn workdir_not_a_directory() {
    let image = base("workdir-file").build();
    pair(
        "workdir-not-a-directory",
        (&image, task("/app/run.sh").options("--workdir /app/run.sh")),
        (&image, task("/app/run.sh").options("--workdir /app")),
    );
}

/// Moby creates a missing `--workdir`; lint does not flag it (podman refuses it).
#[test]
fn missing_workdir_is_created_by_moby() {
    let image = base("workdir-missing").build();
    let t = task("/app/run.sh").options("--workdir /srv/new");
    let (ran, said) = run("workdir-missing", "working", &image, t);
    assert!(ran, "{said}");
    assert_eq!(lint(&image, t), Vec::<String>::new());
}

#[test]
fn bare_shell_entrypoint() {
    let image = base("bare-shell")
        .config(|c| c.cmd(&["/app/run.sh"]))
        .build();
    pair(
        "bare-shell-entrypoint",
        (&image, task("").options("--entrypoint /bin/sh")),
        (&image, task("")),
    );
}

#[test]
fn shell_form_entrypoint() {
    let image = base("shell-form")
        .config(|c| c.entrypoint(&["/bin/sh", "-c", "echo image-default"]))
        .build();
    pair(
        "shell-form-entrypoint",
        (&image, task("/app/run.sh")),
        (&image, task("/app/run.sh").options("--entrypoint ''")),
    );
}
