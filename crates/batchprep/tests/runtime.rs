//! Ground truth for `batchprep lint`: every container rule has a fixture that fails in a real
//! runtime and a close twin that works, and lint's verdict must match what happened.
//!
//! The oracle is Moby (Docker Engine), what Azure Batch nodes run: the test binary's private
//! dockerd ([`Dockerd::shared`]), fixture images built in it with `docker build` (classic builder)
//! from a BusyBox base made with `docker import` of a `busybox-static` root, and each task run the
//! way Batch runs it: `docker create` with the task working directory on a bind-mounted node root,
//! the task user (`4242:4242`, or `0:0` for a pool admin, always explicit), `--network none`, the
//! run options among the create flags, the command line as the container command; then
//! `docker start -a`. A case "worked" when the intended program printed [`MARKER`] and the
//! container exited 0. lint reads the very image Moby ran (`docker-daemon:NAME`), and its verdict
//! (some finding at warning or error, or none) must agree.
//!
//! podman + runc runs every case too, from the image `docker save` wrote, as a second oracle.
//! Where it does what Moby does not, the case is listed in [`PODMAN_DIFFERS`] (data, not a
//! failure); a disagreement not listed there, or a listed one that went away, fails the case.
//!
//! Needs root, docker.io (dockerd, containerd, docker), busybox-static, gcc and libc6-dev, podman,
//! runc, skopeo and umoci (scripts/install-test-deps); a missing tool fails the test.

use std::{
    collections::HashMap,
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
    sync::{Mutex, OnceLock},
};

use batchprep_testkit::{ImageBuilder, dockerd::Dockerd};

/// What the intended program prints: the runtime outcome is "worked" only when it appears.
const MARKER: &str = "BATCHPREP-RAN";
const SCRIPT: &[u8] = b"#!/bin/sh\necho BATCHPREP-RAN\n";
/// The uid:gid a non-admin task runs as here. Batch picks a non-root uid on the node that is not
/// known in advance, so the oracle runs one that owns no file of any fixture, and not the model's
/// stand-in `NONADMIN_ID` (1000): only the permission bits for others may decide.
const TASK_USER: &str = "4242:4242";
/// A pool-scope admin: root, whatever the image USER says.
const ADMIN_USER: &str = "0:0";
/// Batch's task working directory under the mounted node root (the model's default task).
const TASK_WD: &str = "/mnt/batch/tasks/workitems/job/job-1/task/wd";
/// The variable Batch sets for it.
const TASK_WD_ENV: &str = "AZ_BATCH_TASK_WORKING_DIR=/mnt/batch/tasks/workitems/job/job-1/task/wd";
/// The BusyBox base every fixture starts from.
const BASE: &str = "batchprep-rt/busybox:1";

/// Cases where podman does not do what Moby does: (rule, which fixture, what podman does).
const PODMAN_DIFFERS: &[(&str, &str, &str)] = &[(
    "workdir-missing",
    "working",
    "podman refuses a `--workdir` the image does not have (\"workdir ... does not exist\"); Moby creates it",
)];

/// One podman run at a time: they share the storage lock, and the machine has two cores.
static PODMAN: Mutex<()> = Mutex::new(());

/// A task to run on a fixture image.
#[derive(Clone, Copy)]
struct Task<'a> {
    command_line: &'a str,
    run_options: &'a str,
    admin: bool,
    /// `containerHostBatchBindMounts` sources; `None` mounts the whole node root.
    mounts: Option<&'a [&'a str]>,
}

const fn task(command_line: &str) -> Task<'_> {
    Task {
        command_line,
        run_options: "",
        admin: false,
        mounts: None,
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
    const fn mounts(self, sources: &'a [&'a str]) -> Task<'a> {
        Task {
            mounts: Some(sources),
            ..self
        }
    }
    fn user(self) -> &'static str {
        if self.admin { ADMIN_USER } else { TASK_USER }
    }
    /// The node paths Batch bind-mounts and the variables it sets for them, as flags: the whole
    /// node root, or only the listed sources (their variables removed otherwise).
    fn node_flags(self, node: &Path) -> Vec<String> {
        let task_dir = TASK_WD.trim_end_matches("/wd");
        let Some(sources) = self.mounts else {
            return vec![
                format!("--volume={}:/mnt/batch", node.display()),
                "--env=AZ_BATCH_NODE_ROOT_DIR=/mnt/batch".into(),
                format!("--env={TASK_WD_ENV}"),
            ];
        };
        let mut flags = vec!["--env=AZ_BATCH_NODE_ROOT_DIR=/mnt/batch".to_owned()];
        for source in sources {
            let (path, env) = match *source {
                "Shared" => (
                    "/mnt/batch/shared",
                    "AZ_BATCH_NODE_SHARED_DIR=/mnt/batch/shared",
                ),
                "Startup" => (
                    "/mnt/batch/startup",
                    "AZ_BATCH_NODE_STARTUP_DIR=/mnt/batch/startup",
                ),
                "Task" => (task_dir, TASK_WD_ENV),
                other => panic!("no fixture mounts {other}"),
            };
            let host = node.join(path.trim_start_matches("/mnt/batch/"));
            fs::create_dir_all(&host).unwrap();
            flags.push(format!("--volume={}:{path}", host.display()));
            flags.push(format!("--env={env}"));
        }
        flags
    }
}

/// A scratch directory of this test binary.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("runtime")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The BusyBox base, imported once: `/bin/busybox` from `busybox-static` with its applets as
/// symlinks in `/bin` (no `/usr/bin/env`: fixtures choose theirs), `/tmp`, `/usr/bin`, `/etc`.
fn base() -> &'static str {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = scratch("busybox-base");
        let root = dir.join("root");
        for d in ["bin", "usr/bin", "etc", "tmp"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
        let busybox = fs::read("/bin/busybox")
            .expect("/bin/busybox: install busybox-static with scripts/install-test-deps");
        fs::write(root.join("bin/busybox"), busybox).unwrap();
        fs::set_permissions(root.join("bin/busybox"), fs::Permissions::from_mode(0o755)).unwrap();
        for applet in [
            "sh", "echo", "env", "cat", "ls", "rm", "mkdir", "ln", "chmod", "id", "true", "test",
        ] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        let tar = dir.join("base.tar");
        batchprep_testkit::run(
            "tar",
            &[
                "--numeric-owner",
                "--owner=0",
                "--group=0",
                "-C",
                &root.to_string_lossy(),
                "-cf",
                &tar.to_string_lossy(),
                ".",
            ],
        );
        Dockerd::shared().docker(&["import", &tar.to_string_lossy(), BASE]);
    });
    BASE
}

/// A fixture image: `FROM` the BusyBox base (or `scratch`), its files copied in one layer, then
/// Dockerfile lines.
struct Fixture {
    name: String,
    from: &'static str,
    files: Vec<(String, Vec<u8>, u32)>,
    lines: Vec<String>,
}

/// The usual fixture: the BusyBox base, `/app/run.sh` (prints the marker), WORKDIR `/app`.
fn image(name: &str) -> Fixture {
    Fixture {
        name: name.to_owned(),
        from: "busybox",
        files: Vec::new(),
        lines: vec!["WORKDIR /app".into()],
    }
    .file("/app/run.sh", 0o755, SCRIPT)
}

impl Fixture {
    fn file(mut self, path: &str, mode: u32, contents: &[u8]) -> Self {
        self.files.push((path.to_owned(), contents.to_vec(), mode));
        self
    }
    fn line(mut self, line: &str) -> Self {
        self.lines.push(line.to_owned());
        self
    }
    fn entrypoint(self, argv: &[&str]) -> Self {
        let json = serde_json::to_string(argv).unwrap();
        self.line(&format!("ENTRYPOINT {json}"))
    }
    fn cmd(self, argv: &[&str]) -> Self {
        let json = serde_json::to_string(argv).unwrap();
        self.line(&format!("CMD {json}"))
    }
    /// The host's copy of `program` and the libraries `ldd` names, at the same paths.
    fn host_program(mut self, program: &str) -> Self {
        for path in std::iter::once(program.to_owned()).chain(host_libraries(program)) {
            let contents = fs::read(&path).unwrap();
            self = self.file(&path, 0o755, &contents);
        }
        self
    }
    /// glibc's loader and libc from the host, where a Debian image has them.
    fn glibc(mut self) -> Self {
        for path in host_libraries("/bin/true") {
            let contents = fs::read(&path).unwrap();
            self = self.file(&path, 0o755, &contents);
        }
        self
    }

    /// Builds it in the shared dockerd; returns its name there.
    fn build(self) -> Img {
        let d = Dockerd::shared();
        let from = match self.from {
            "busybox" => base(),
            other => other,
        };
        let mut dockerfile = format!("FROM {from}\n");
        let mut context: Vec<(String, Vec<u8>, u32)> = Vec::new();
        if !self.files.is_empty() {
            dockerfile.push_str("COPY root/ /\n");
            for (path, contents, mode) in self.files {
                context.push((format!("root{path}"), contents, mode));
            }
        }
        for line in &self.lines {
            dockerfile.push_str(line);
            dockerfile.push('\n');
        }
        let name = format!("batchprep-rt/{}:1", self.name);
        let files: Vec<(&str, Vec<u8>, u32)> = context
            .iter()
            .map(|(p, c, m)| (p.as_str(), c.clone(), *m))
            .collect();
        d.build_dockerfile(&name, &dockerfile, &files);
        Img { name }
    }
}

/// A fixture image in the shared dockerd.
struct Img {
    name: String,
}

impl Img {
    /// An image made elsewhere (skopeo reference), copied into the dockerd as `name`.
    fn imported(reference: &str, name: &str) -> Img {
        let name = format!("batchprep-rt/{name}:1");
        Dockerd::shared().import(reference, &name);
        Img { name }
    }

    /// `docker save` of the image (once), for podman.
    fn archive(&self) -> PathBuf {
        static SAVED: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
        let mut saved = SAVED.lock().unwrap_or_else(|e| e.into_inner());
        let saved = saved.get_or_insert_with(HashMap::new);
        if let Some(path) = saved.get(&self.name) {
            return path.clone();
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("runtime-archives");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.tar", self.name.replace(['/', ':'], "_")));
        let _ = fs::remove_file(&path);
        Dockerd::shared().docker(&["save", "-o", &path.to_string_lossy(), &self.name]);
        saved.insert(self.name.clone(), path.clone());
        path
    }

    /// The node root Batch mounts, with the task working directory in it, searchable by the task
    /// user.
    fn node_root(&self) -> PathBuf {
        let node = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("runtime-nodes")
            .join(self.name.replace(['/', ':'], "_"));
        fs::create_dir_all(node.join(TASK_WD.trim_start_matches("/mnt/batch/"))).unwrap();
        chmod_tree(&node);
        node
    }
}

/// The libraries `ldd` lists for a host program (the loader among them).
fn host_libraries(program: &str) -> Vec<String> {
    let out = batchprep_testkit::run("ldd", &[program]);
    out.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rest)) => rest.trim(),
                None => l,
            };
            let path = path.split(" (").next().unwrap_or("").trim();
            path.starts_with('/').then(|| path.to_owned())
        })
        .collect()
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

/// lint's verdict on the image Moby runs: the rules that fired at warning or error, after checking
/// the exit code agrees.
fn lint(image: &Img, t: Task<'_>) -> Vec<String> {
    let mut lint = Command::new(env!("CARGO_BIN_EXE_batchprep"));
    lint.args(["lint", &format!("docker-daemon:{}", image.name)])
        .args(["--format", "json"]);
    match t.mounts {
        // Bind mounts are a task setting: the task goes in as Batch's task JSON.
        Some(sources) => {
            let mounts: Vec<serde_json::Value> = sources
                .iter()
                .map(|s| serde_json::json!({"source": s}))
                .collect();
            let elevation = if t.admin { "admin" } else { "nonadmin" };
            let json = serde_json::json!({
                "id": "task",
                "commandLine": t.command_line,
                "containerSettings": {
                    "imageName": image.name,
                    "containerRunOptions": t.run_options,
                    "containerHostBatchBindMounts": mounts,
                },
                "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": elevation}},
            });
            let file =
                scratch(&format!("task-{}", image.name.replace(['/', ':'], "_"))).join("task.json");
            fs::write(&file, json.to_string()).unwrap();
            lint.arg("--task").arg(file);
        }
        None => {
            lint.arg(format!("--command-line={}", t.command_line))
                .arg(format!("--container-run-options={}", t.run_options))
                .args(["--elevation", if t.admin { "admin" } else { "nonadmin" }]);
        }
    }
    let out = lint
        .env("DOCKER_HOST", Dockerd::shared().host())
        .output()
        .unwrap();
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

/// Moby's outcome, run as Batch runs the task: whether the intended program ran and exited 0,
/// and what docker said.
fn run_moby(image: &Img, t: Task<'_>) -> (bool, String) {
    let d = Dockerd::shared();
    let node = image.node_root();
    let mut args: Vec<String> = vec![
        "create".into(),
        "--network=none".into(),
        format!("--workdir={TASK_WD}"),
        format!("--user={}", t.user()),
    ];
    args.extend(t.node_flags(&node));
    args.extend(shlex::split(t.run_options).unwrap());
    args.push(image.name.clone());
    args.extend(shlex::split(t.command_line).unwrap());
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let created = d.docker_output(&words);
    let mut said = format!(
        "docker {} -> {}\n{}",
        quote(&args),
        created.status,
        String::from_utf8_lossy(&created.stderr)
    );
    if !created.status.success() {
        return (false, said);
    }
    let id = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let started = d
        .command(&["start", "-a", &id])
        .output()
        .expect("docker start");
    let stdout = String::from_utf8_lossy(&started.stdout);
    said.push_str(&format!(
        "docker start -a -> {}\nstdout: {stdout}\nstderr: {}",
        started.status,
        String::from_utf8_lossy(&started.stderr)
    ));
    let _ = d.docker_output(&["rm", "-f", &id]);
    (
        started.status.success() && stdout.lines().any(|l| l == MARKER),
        said,
    )
}

/// Words joined for messages, quoted where needed.
fn quote(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty() && !w.contains([' ', '\'', '"', '$']) {
                w.clone()
            } else {
                format!("{w:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// podman's outcome on the same image (`docker save` archive) with the same flags.
fn run_podman(image: &Img, t: Task<'_>) -> (bool, String) {
    let node = image.node_root();
    // podman's default open-files and process limits are above what this machine lets runc set
    // (the process limit fails even at this process's own hard limit): the hard open-files limit,
    // and a modest process limit.
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
    let nproc = 4096;
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
    args.push(format!("--ulimit=nproc={nproc}:{nproc}"));
    args.push(format!("--workdir={TASK_WD}"));
    args.push(format!("--user={}", t.user()));
    args.extend(t.node_flags(&node));
    for word in shlex::split(t.run_options).unwrap() {
        // podman accepts `--gpus` and ignores it (for Docker compatibility); Docker hands it to
        // the NVIDIA device driver, which podman reaches through CDI. Pass that, so the GPU request
        // fails on a GPU-less machine as it does under Docker.
        if let Some(value) = word.strip_prefix("--gpus=") {
            args.push(format!("--device=nvidia.com/gpu={value}"));
        } else {
            args.push(word);
        }
    }
    args.push(format!("docker-archive:{}", image.archive().display()));
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

/// Runs one fixture on Moby, and on podman to compare: Moby's outcome.
fn run(rule: &str, which: &str, image: &Img, t: Task<'_>) -> (bool, String) {
    let (ran, said) = run_moby(image, t);
    let (podman_ran, podman_said) = run_podman(image, t);
    let known = PODMAN_DIFFERS
        .iter()
        .any(|(r, w, _)| *r == rule && *w == which);
    assert_eq!(
        podman_ran != ran,
        known,
        "podman and Moby {} on the {which} fixture of {rule} (PODMAN_DIFFERS records the \
         disagreements):\n{said}\n{podman_said}",
        if known { "now agree" } else { "disagree" }
    );
    (ran, said)
}

/// The failing fixture must fail on Moby and be flagged by `rule`; the twin must work on Moby and
/// lint must find nothing at warning or error.
fn pair(rule: &str, failing: (&Img, Task<'_>), working: (&Img, Task<'_>)) {
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
    let image = image("relative-entrypoint")
        .entrypoint(&["./run.sh"])
        .build();
    pair(
        "relative-entrypoint",
        (&image, task("")),
        (&image, task("").options("--workdir /app")),
    );
}

#[test]
fn workdir_relative_argument() {
    let image = image("workdir-relative-argument").build();
    pair(
        "workdir-relative-argument",
        (&image, task("sh run.sh")),
        (&image, task("sh /app/run.sh")),
    );
}

#[test]
fn executable_not_found_missing_path() {
    let image = image("executable-not-found").build();
    pair(
        "executable-not-found",
        (&image, task("/app/train.sh")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn executable_not_found_removed_by_a_later_layer() {
    let removed = image("removed")
        .file("/app/other", 0o644, b"")
        .line("RUN rm /app/run.sh")
        .build();
    let kept = image("kept")
        .file("/app/other", 0o644, b"")
        .line("RUN rm /app/other")
        .build();
    pair(
        "executable-not-found",
        (&removed, task("/app/run.sh")),
        (&kept, task("/app/run.sh")),
    );
}

#[test]
fn executable_not_found_not_on_path() {
    let tools = |name| image(name).file("/opt/tools/bin/hello", 0o755, SCRIPT);
    let default_path = tools("not-on-path").build();
    let with_path = tools("on-path")
        .line("ENV PATH=/opt/tools/bin:/usr/bin:/bin")
        .build();
    pair(
        "executable-not-found",
        (&default_path, task("hello")),
        (&with_path, task("hello")),
    );
}

#[test]
fn not_executable_by_task_user() {
    let image = image("not-executable")
        .file("/app/private.sh", 0o700, SCRIPT)
        .build();
    pair(
        "not-executable-by-task-user",
        (&image, task("/app/private.sh")),
        (&image, task("/app/private.sh").admin()),
    );
}

/// A non-admin task's uid is not known in advance: a script only its owner (uid 1000, the uid of the
/// first user on many nodes) may run fails for the uid Batch picks, and runs for the admin.
#[test]
fn non_admin_uid_is_not_known_in_advance() {
    let owned = image("nonadmin-unknown-uid")
        .file("/app/owned.sh", 0o700, SCRIPT)
        .line("RUN chown 1000:1000 /app/owned.sh")
        .build();
    pair(
        "not-executable-by-task-user",
        (&owned, task("/app/owned.sh")),
        (&owned, task("/app/owned.sh").admin()),
    );
    // Executable by others: runs whatever the uid.
    let open = image("nonadmin-others-x")
        .file("/app/owned.sh", 0o705, SCRIPT)
        .line("RUN chown 1000:1000 /app/owned.sh")
        .build();
    pair(
        "not-executable-by-task-user",
        (&owned, task("/app/owned.sh")),
        (&open, task("/app/owned.sh")),
    );
}

/// With `containerHostBatchBindMounts` Batch mounts only the listed node directories: a list without
/// `Task` leaves the task working directory out, so the task starts in an empty directory Docker
/// creates and its resource file is not there.
#[test]
fn batch_path_not_mounted() {
    let img = image("bind-mounts").build();
    // The resource file Batch downloaded into the task working directory on the node.
    let wd = img
        .node_root()
        .join(TASK_WD.trim_start_matches("/mnt/batch/"));
    fs::write(wd.join("input.txt"), "data\n").unwrap();
    chmod_tree(&img.node_root());
    let script = "/bin/sh -c 'test -f input.txt && echo BATCHPREP-RAN'";
    pair(
        "batch-path-not-mounted",
        (&img, task(script).mounts(&["Shared"])),
        (&img, task(script).mounts(&["Task", "Shared"])),
    );
}

/// A `--user` in the run options replaces Batch's numeric task user, and Moby resolves a name in the
/// image's own `/etc/passwd` and `/etc/group` as it starts the container: a name the image lacks
/// fails before anything runs. The BusyBox base has no `/etc/passwd`, so there even `root` fails,
/// and numbers need no entry.
#[test]
fn user_not_in_image() {
    let users = image("user-in-image")
        .file(
            "/etc/passwd",
            0o644,
            b"root:x:0:0::/root:/bin/sh\napp:x:1234:1234::/app:/bin/sh\n",
        )
        .file("/etc/group", 0o644, b"root:x:0:\napp:x:1234:\n")
        .build();
    pair(
        "user-not-in-image",
        (&users, task("/app/run.sh").options("--user db")),
        (&users, task("/app/run.sh").options("--user app")),
    );
    pair(
        "user-not-in-image",
        (&users, task("/app/run.sh").options("--user app:wheel")),
        (&users, task("/app/run.sh").options("--user app:app")),
    );
    let bare = image("user-no-passwd").build();
    pair(
        "user-not-in-image",
        (&bare, task("/app/run.sh").options("--user root")),
        (&bare, task("/app/run.sh").options("--user 0")),
    );
}

/// A pool admin runs as root whatever the image USER says: a root-only script runs for the admin
/// task of an image whose USER is `1000`, and not for the non-admin task.
#[test]
fn admin_runs_as_root_whatever_the_image_user() {
    let image = image("admin-image-user")
        .file("/app/private.sh", 0o700, SCRIPT)
        .line("USER 1000:1000")
        .build();
    pair(
        "not-executable-by-task-user",
        (&image, task("/app/private.sh")),
        (&image, task("/app/private.sh").admin()),
    );
}

/// `--explain-run` prints a `docker create` line whose `--user` is the user the text beside it
/// names, and that is the user Moby runs the container as, also when the image has a USER.
#[test]
fn explain_run_user_is_the_user_moby_runs() {
    let image = image("explain-user").line("USER 1000:1000").build();
    let d = Dockerd::shared();
    for (elevation, uid) in [("admin", "0"), ("nonadmin", "1000")] {
        let out = Command::new(env!("CARGO_BIN_EXE_batchprep"))
            .args(["lint", &format!("docker-daemon:{}", image.name)])
            .args([
                "--command-line=id -u",
                "--explain-run",
                "--elevation",
                elevation,
            ])
            .env("DOCKER_HOST", d.host())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}");
        let line = |prefix: &str| -> String {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix))
                .unwrap_or_else(|| panic!("no `{prefix}` line:\n{text}"))
                .to_owned()
        };
        let create = shlex::split(&line("docker create: ")).unwrap();
        let users: Vec<&str> = create
            .iter()
            .filter_map(|w| w.strip_prefix("--user="))
            .collect();
        let said = line("user: ");
        let said = said.split(' ').next().unwrap();
        assert_eq!(users, [said], "{elevation}: {text}");
        assert_eq!(said, format!("{uid}:{uid}"), "{elevation}: {text}");
        // Moby, given that `--user`, runs the command line as that uid.
        let out = d.docker(&[
            "run",
            "--rm",
            "--network=none",
            &format!("--user={said}"),
            &image.name,
            "id",
            "-u",
        ]);
        assert_eq!(out, uid, "{elevation}");
    }
}

#[test]
fn shebang_interpreter_missing() {
    let image = image("shebang-missing")
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
    let image = image("shebang-crlf")
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
    let image = image("nothing-to-run").build();
    pair(
        "nothing-to-run",
        (&image, task("")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn entrypoint_swallows_command_line() {
    let image = image("swallows").entrypoint(&["/bin/echo"]).build();
    pair(
        "entrypoint-swallows-command-line",
        (&image, task("/app/run.sh")),
        (&image, task("/app/run.sh").options("--entrypoint ''")),
    );
}

#[test]
fn entrypoint_sh_c_swallows_the_rest_of_the_command_line() {
    let image = image("sh-c").entrypoint(&["/bin/sh", "-c"]).build();
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

/// An image whose config says linux/arm64. `docker import --platform` needs an experimental
/// daemon, and the classic builder builds for the daemon's platform, so this one image is made
/// with umoci and copied into the dockerd with skopeo.
#[test]
fn platform_mismatch() {
    let arm = ImageBuilder::new(&scratch("arm64"))
        .file("/app/prog", 0o755, &aarch64_exit0())
        .config(|c| c.platform("linux/arm64").entrypoint(&["/app/prog"]))
        .build();
    let arm = Img::imported(&arm.reference(), "arm64");
    let amd = image("amd64").entrypoint(&["/app/run.sh"]).build();
    pair("platform-mismatch", (&arm, task("")), (&amd, task("")));
}

#[test]
fn gpus_run_option() {
    let image = image("gpus").build();
    pair(
        "gpus-run-option",
        (&image, task("/app/run.sh").options("--gpus=all")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn runtime_run_option() {
    let image = image("runtime").build();
    pair(
        "runtime-run-option",
        (&image, task("/app/run.sh").options("--runtime nvidia")),
        (&image, task("/app/run.sh")),
    );
}

#[test]
fn relative_workdir_option() {
    let image = image("relative-workdir").build();
    pair(
        "relative-workdir-option",
        (&image, task("/app/run.sh").options("--workdir app")),
        (&image, task("/app/run.sh").options("--workdir /app")),
    );
}

/// `--rm` is only a note: lint does not flag it at warning or error, and the task runs.
#[test]
fn redundant_rm_option_is_a_note_and_runs() {
    let image = image("rm").build();
    let t = task("/app/run.sh").options("--rm");
    let (ran, said) = run("redundant-rm-option", "working", &image, t);
    assert!(ran, "{said}");
    assert_eq!(lint(&image, t), Vec::<String>::new());
    let out = Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args([
            "lint",
            &format!("docker-daemon:{}", image.name),
            "--command-line=/app/run.sh",
            "--container-run-options=--rm",
            "--format=json",
        ])
        .env("DOCKER_HOST", Dockerd::shared().host())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["name"], "redundant-rm-option");
    assert_eq!(report["findings"][0]["severity"], "note");
}

/// A `docker` client in the image is not enough: the container has no daemon. The fixture's
/// `/usr/bin/docker` stands for the real client and fails as it does without a reachable
/// `/var/run/docker.sock`; the twin runs the program itself, as Batch means it to be run.
#[test]
fn docker_in_container() {
    let image = image("docker-in-container")
        .file(
            "/usr/bin/docker",
            0o755,
            b"#!/bin/sh\n[ -S /var/run/docker.sock ] && exec /app/run.sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' >&2\nexit 1\n",
        )
        .build();
    pair(
        "docker-in-container",
        (&image, task("/bin/sh -c 'docker run --rm app /app/run.sh'")),
        (&image, task("/bin/sh -c '/app/run.sh'")),
    );
}

/// `unknown-run-option` is about the Batch node agent, not Docker: Moby runs `--cap-drop=ALL` and the
/// task works, and lint still warns, because the agent's own parser is what rejects an option it does
/// not know (DESIGN §7). The twin, with an option the agent is known to accept, runs without a word.
#[test]
fn unknown_run_option_is_the_agents_not_mobys() {
    let image = image("unknown-run-option").build();
    let t = task("/app/run.sh").options("--cap-drop=ALL");
    let (ran, said) = run("unknown-run-option", "failing", &image, t);
    assert!(ran, "{said}");
    assert_eq!(lint(&image, t), ["unknown-run-option"]);
    let twin = task("/app/run.sh").options("--shm-size 64m");
    let (ran, said) = run("unknown-run-option", "working", &image, twin);
    assert!(ran, "{said}");
    assert_eq!(lint(&image, twin), Vec::<String>::new());
}

#[test]
fn unexpanded_variable() {
    // Prints the marker only when given an existing directory.
    let image = image("unexpanded-variable")
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

/// Compiles `source` (C) with gcc and `flags` (once per name) under the suite's scratch dir.
fn gcc(name: &str, source: &str, flags: &[&str]) -> Vec<u8> {
    static BUILT: Mutex<Option<HashMap<String, Vec<u8>>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(bytes) = built.get(name) {
        return bytes.clone();
    }
    let dir = gcc_dir();
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
    let bytes = fs::read(out).unwrap();
    built.insert(name.to_owned(), bytes.clone());
    bytes
}

fn gcc_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("runtime-gcc");
    fs::create_dir_all(&dir).unwrap();
    dir
}

const HELLO_C: &str = "#include <stdio.h>\nint main(void){puts(\"BATCHPREP-RAN\");return 0;}\n";

/// A program that needs `libbp.so.1`, and the library itself.
fn libbp() -> (Vec<u8>, Vec<u8>) {
    let lib = gcc(
        "libbp.so.1",
        "int bp(void){return 0;}\n",
        &["-shared", "-fPIC", "-Wl,-soname,libbp.so.1"],
    );
    let prog = gcc(
        "needs-bp",
        "#include <stdio.h>\nint bp(void);\nint main(void){puts(\"BATCHPREP-RAN\");return bp();}\n",
        &[&format!("-L{}", gcc_dir().display()), "-l:libbp.so.1"],
    );
    (prog, lib)
}

#[test]
fn exec_format_error_text_without_shebang_and_empty_file() {
    let image = image("exec-format-error")
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
    let arm = image("elf-arch")
        .file("/app/prog", 0o755, &aarch64_exit0())
        .build();
    let amd = image("elf-arch-native")
        .file(
            "/app/prog",
            0o755,
            &gcc("hello-static", HELLO_C, &["-static"]),
        )
        .build();
    pair(
        "elf-architecture-mismatch",
        (&arm, task("/app/prog")),
        (&amd, task("/app/prog")),
    );
}

#[test]
fn elf_loader_missing_on_a_busybox_image() {
    let hello = gcc("hello-dynamic", HELLO_C, &[]);
    let without = image("loader-missing")
        .file("/app/hello", 0o755, &hello)
        .build();
    let with = image("loader-present")
        .glibc()
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
    let elsewhere = image("library-elsewhere")
        .glibc()
        .file("/app/needs-bp", 0o755, &prog)
        .file("/opt/bp/libbp.so.1", 0o755, &lib)
        .build();
    let default_dir = image("library-default")
        .glibc()
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
        image(name)
            .glibc()
            .file("/app/needs-bp", 0o755, &prog)
            .file("/opt/bp/libbp.so.1", 0o755, &lib)
            .file("/etc/ld.so.conf", 0o644, b"/opt/bp\n")
    };
    let uncached = conf("library-uncached").build();
    let env = conf("library-env")
        .line("ENV LD_LIBRARY_PATH=/opt/bp")
        .build();
    pair(
        "shared-library-missing",
        (&uncached, task("/app/needs-bp")),
        (&env, task("/app/needs-bp")),
    );
}

#[test]
fn shebang_argument_split_by_env() {
    let image = image("shebang-split")
        .line("RUN ln -s /bin/busybox /usr/bin/env")
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
    let busybox = image("env-s-busybox")
        .line("RUN ln -s /bin/busybox /usr/bin/env")
        .file("/app/s.sh", 0o755, S)
        .build();
    let gnu = image("env-s-gnu")
        .host_program("/usr/bin/env")
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
    let image = image("workdir-file").build();
    pair(
        "workdir-not-a-directory",
        (&image, task("/app/run.sh").options("--workdir /app/run.sh")),
        (&image, task("/app/run.sh").options("--workdir /app")),
    );
}

/// Moby creates a missing `--workdir`; lint does not flag it (podman refuses it).
#[test]
fn missing_workdir_is_created_by_moby() {
    let image = image("workdir-missing").build();
    let t = task("/app/run.sh").options("--workdir /srv/new");
    let (ran, said) = run("workdir-missing", "working", &image, t);
    assert!(ran, "{said}");
    assert_eq!(lint(&image, t), Vec::<String>::new());
}

#[test]
fn bare_shell_entrypoint() {
    let image = image("bare-shell").cmd(&["/app/run.sh"]).build();
    pair(
        "bare-shell-entrypoint",
        (&image, task("").options("--entrypoint /bin/sh")),
        (&image, task("")),
    );
}

#[test]
fn shell_form_entrypoint() {
    let image = image("shell-form")
        .entrypoint(&["/bin/sh", "-c", "echo image-default"])
        .build();
    pair(
        "shell-form-entrypoint",
        (&image, task("/app/run.sh")),
        (&image, task("/app/run.sh").options("--entrypoint ''")),
    );
}
