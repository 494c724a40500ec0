//! Each container rule alone, against a failing fixture and its close passing twin, built in memory
//! with `MergedFs::builder()`.

use batchprep_batch::task::{
    AutoUserScope, ContainerWorkingDirectory, ElevationLevel, TaskContainer, TaskIdentity,
};
use batchprep_oci::{ImageConfig, MergedFs, MergedFsBuilder, Platform};

use super::{ContainerFacts, lint_container};

const SH: &[u8] = b"\x7fELF\x02\x01\x01\n";

/// A small image: `/bin/sh`, `/bin/echo`, and `/app/run.sh` (a `#!/bin/sh` script), WORKDIR `/app`.
fn base() -> MergedFsBuilder {
    MergedFs::builder()
        .dir("/bin", 0o755)
        .file("/bin/sh", 0o755, 0, 0, SH)
        .file("/bin/echo", 0o755, 0, 0, SH)
        .dir("/app", 0o755)
        .file("/app/run.sh", 0o755, 0, 0, b"#!/bin/sh\n")
        .file("/app/job.py", 0o644, 0, 0, b"")
}

struct Case {
    fs: MergedFs,
    config: ImageConfig,
    platform: Platform,
    task: TaskContainer,
    /// `[node-agent] accepted-run-options`.
    accepted: Vec<String>,
}

fn case(
    fs: MergedFsBuilder,
    entrypoint: &[&str],
    cmd: &[&str],
    command_line: &str,
    opts: &str,
) -> Case {
    let words = |w: &[&str]| (!w.is_empty()).then(|| w.iter().map(|s| s.to_string()).collect());
    Case {
        fs: fs.build(),
        config: ImageConfig {
            entrypoint: words(entrypoint),
            cmd: words(cmd),
            working_dir: Some("/app".into()),
            ..ImageConfig::default()
        },
        platform: Platform::default(),
        task: TaskContainer::new(
            "oci:app:1",
            command_line,
            opts,
            ContainerWorkingDirectory::TaskWorkingDirectory,
            TaskIdentity::default(),
        )
        .unwrap(),
        accepted: Vec::new(),
    }
}

impl Case {
    fn admin(mut self) -> Case {
        self.task.identity = TaskIdentity::AutoUser {
            scope: AutoUserScope::Pool,
            elevation: ElevationLevel::Admin,
        };
        self
    }

    /// `name: message` and `fix` of every finding.
    fn lint(&self) -> Vec<String> {
        let node = Platform::default();
        let facts = ContainerFacts::of_parts(
            &self.config,
            &self.platform,
            &[],
            &self.fs,
            &self.task,
            &node,
        )
        .accepting(&self.accepted);
        lint_container(&facts)
            .into_iter()
            .map(|f| {
                format!(
                    "{}: {} | fix: {}",
                    f.name,
                    f.message,
                    f.fix.unwrap_or_default()
                )
            })
            .collect()
    }
}

const WD: &str = "/mnt/batch/tasks/workitems/job/job-1/task/wd";

#[test]
fn relative_entrypoint_fails_in_the_task_working_directory() {
    let c = case(base(), &["./run.sh"], &[], "", "");
    assert_eq!(
        c.lint(),
        [format!(
            "relative-entrypoint: the program `./run.sh` from the ENTRYPOINT is relative to the working directory, which is the task working directory `{WD}`, not the image WORKDIR `/app` (the image has it at `/app/run.sh`) | fix: use the absolute path `/app/run.sh`, or add `--workdir /app` to containerRunOptions or set `workingDirectory: containerImageDefault`"
        )]
    );
    assert!(
        case(base(), &["./run.sh"], &[], "", "--workdir /app")
            .lint()
            .is_empty()
    );
    let mut c = case(base(), &["./run.sh"], &[], "", "");
    c.task.working_directory = ContainerWorkingDirectory::ContainerImageDefault;
    assert!(c.lint().is_empty());
    assert!(
        case(base(), &["/app/run.sh"], &[], "", "")
            .lint()
            .is_empty()
    );
}

#[test]
fn a_resource_file_makes_a_relative_program_fine() {
    let mut c = case(base(), &[], &[], "./fetched.sh", "");
    assert_eq!(c.lint().len(), 1);
    c.task.resource_files = vec!["fetched.sh".into()];
    assert!(c.lint().is_empty());
}

#[test]
fn workdir_relative_argument_names_the_file_and_the_cwd() {
    let c = case(base(), &[], &[], "sh run.sh", "");
    assert_eq!(
        c.lint(),
        [format!(
            "workdir-relative-argument: the argument `run.sh` names `/app/run.sh` in the image WORKDIR, but the task runs in the task working directory `{WD}`, where `run.sh` does not exist | fix: pass the absolute path `/app/run.sh`, or add `--workdir /app` to containerRunOptions or set `workingDirectory: containerImageDefault`"
        )]
    );
    assert!(
        case(base(), &[], &[], "sh /app/run.sh", "")
            .lint()
            .is_empty()
    );
    assert!(
        case(base(), &[], &[], "sh run.sh", "-w /app")
            .lint()
            .is_empty()
    );
    // A word that is no file of the WORKDIR is just a word.
    assert!(case(base(), &[], &[], "echo hello", "").lint().is_empty());
}

#[test]
fn executable_not_found_missing_not_on_path_and_removed() {
    let c = case(base(), &[], &[], "/app/train", "");
    assert_eq!(
        c.lint(),
        [
            "executable-not-found: the program `/app/train` does not exist in the image | fix: install the program in the image or fix its path"
        ]
    );

    let fs = base()
        .dir("/opt/py/bin", 0o755)
        .file("/opt/py/bin/python3", 0o755, 0, 0, SH);
    let c = case(fs.clone(), &[], &[], "python3 /app/job.py", "");
    assert_eq!(
        c.lint(),
        [
            "executable-not-found: the program `python3` is not on PATH (`/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`); the image has it at `/opt/py/bin/python3` | fix: use the absolute path `/opt/py/bin/python3`, or add its directory to PATH in the image"
        ]
    );
    assert!(
        case(fs, &[], &[], "/opt/py/bin/python3 /app/job.py", "")
            .lint()
            .is_empty()
    );

    let removed = base().layer().whiteout("/app/run.sh", 1);
    let c = case(removed, &["/app/run.sh"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "executable-not-found: the program `/app/run.sh` was removed by layer 2: a whiteout deletes `/app/run.sh` from the merged filesystem | fix: stop deleting `/app/run.sh` in a later layer, or install the program again after it"
        ]
    );

    let c = case(base(), &["/app"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "executable-not-found: the program `/app` is a dir, not an executable file | fix: point the program at an executable file"
        ]
    );
}

#[test]
fn bare_names_resolve_through_symlinks_on_path() {
    let fs = base()
        .dir("/usr/bin", 0o755)
        .symlink("/usr/bin/sh", "/bin/sh");
    let mut c = case(fs, &[], &[], "sh -c true", "");
    c.config.env = vec!["PATH=/usr/bin".into()];
    assert!(c.lint().is_empty());
}

#[test]
fn not_executable_by_task_user_checks_mode_owner_and_directories() {
    let fs = base().file("/app/owner-only.sh", 0o700, 0, 0, b"#!/bin/sh\n");
    let c = case(fs.clone(), &["/app/owner-only.sh"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "not-executable-by-task-user: the task runs as a non-root uid Batch picks on the node (auto-user (scope pool, elevation nonadmin)), so only the permission bits for others apply; `/app/owner-only.sh` (mode 0700, owner 0:0) is not executable by others | fix: `chmod 755 /app/owner-only.sh` in the image, or run the task as pool-scope admin (`userIdentity.autoUser: {scope: pool, elevationLevel: admin}`)"
        ]
    );
    assert!(
        case(fs, &["/app/owner-only.sh"], &[], "", "")
            .admin()
            .lint()
            .is_empty()
    );

    let fs = base().file("/app/data.sh", 0o644, 0, 0, b"");
    let c = case(fs, &["/app/data.sh"], &[], "", "").admin();
    assert_eq!(
        c.lint(),
        [
            "not-executable-by-task-user: the task runs as uid 0 (gid 0) (pool-scope admin); `/app/data.sh` (mode 0644, owner 0:0) has no execute bit | fix: `chmod 755 /app/data.sh` in the image"
        ]
    );

    let fs = base()
        .dir("/secret", 0o700)
        .file("/secret/tool", 0o755, 0, 0, SH);
    let c = case(fs.clone(), &["/secret/tool"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "not-executable-by-task-user: the task runs as a non-root uid Batch picks on the node (auto-user (scope pool, elevation nonadmin)), so only the permission bits for others apply; the directory `/secret` (mode 0700, owner 0:0) on the way to `/secret/tool` cannot be searched by others | fix: `chmod a+x /secret` in the image, or run the task as pool-scope admin (`userIdentity.autoUser: {scope: pool, elevationLevel: admin}`)"
        ]
    );
    assert!(
        case(fs, &["/secret/tool"], &[], "", "--user 0")
            .lint()
            .is_empty()
    );

    let fs = base().file("/app/x.sh", 0o711, 0, 0, b"#!/bin/sh\n");
    let c = case(fs, &["/app/x.sh"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "not-executable-by-task-user: the task runs as a non-root uid Batch picks on the node (auto-user (scope pool, elevation nonadmin)), so only the permission bits for others apply; the script `/app/x.sh` (mode 0711, owner 0:0) is executable but not readable by others, so its interpreter cannot read it | fix: `chmod a+rx /app/x.sh` in the image, or run the task as pool-scope admin (`userIdentity.autoUser: {scope: pool, elevationLevel: admin}`)"
        ]
    );

    // The owner's bits apply to the owner: a `--user` that is the file's owner runs it. Batch's own
    // non-admin uid is not known in advance, so for it the owner's bits count for nothing.
    let fs = base().file("/app/mine.sh", 0o700, 1000, 1000, b"#!/bin/sh\n");
    assert!(
        case(fs.clone(), &["/app/mine.sh"], &[], "", "--user 1000:1000")
            .lint()
            .is_empty()
    );
    assert_eq!(
        case(fs, &["/app/mine.sh"], &[], "", "").lint(),
        [
            "not-executable-by-task-user: the task runs as a non-root uid Batch picks on the node (auto-user (scope pool, elevation nonadmin)), so only the permission bits for others apply; `/app/mine.sh` (mode 0700, owner 1000:1000) is not executable by others | fix: `chmod 755 /app/mine.sh` in the image, or run the task as pool-scope admin (`userIdentity.autoUser: {scope: pool, elevationLevel: admin}`)"
        ]
    );
}

#[test]
fn shebang_interpreter_missing_plain_env_and_removed() {
    let fs = base().file("/app/b.sh", 0o755, 0, 0, b"#!/bin/bash -e\n");
    let c = case(fs, &["/app/b.sh"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "shebang-interpreter-missing: the script `/app/b.sh` starts with `#!/bin/bash -e`, but `/bin/bash` does not exist in the image | fix: install `/bin/bash` in the image, or change the `#!` line of `/app/b.sh` to an interpreter the image has (e.g. `#!/bin/sh`)"
        ]
    );

    let fs = base()
        .dir("/usr/bin", 0o755)
        .file("/usr/bin/env", 0o755, 0, 0, SH)
        .file("/app/p.py", 0o755, 0, 0, b"#!/usr/bin/env python3\n");
    let c = case(fs.clone(), &["/app/p.py"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "shebang-interpreter-missing: the script `/app/p.py` starts with `#!/usr/bin/env python3`, but `python3` is not on PATH (`/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`) | fix: install `python3` in the image, or change the `#!` line of `/app/p.py` to an interpreter the image has"
        ]
    );
    let with_python = fs.file("/usr/bin/python3", 0o755, 0, 0, SH);
    assert!(
        case(with_python, &["/app/p.py"], &[], "", "")
            .lint()
            .is_empty()
    );

    let c = case(
        base().layer().whiteout("/bin/sh", 1),
        &["/app/run.sh"],
        &[],
        "",
        "",
    );
    assert_eq!(
        c.lint(),
        [
            "shebang-interpreter-missing: the script `/app/run.sh` starts with `#!/bin/sh`, but `/bin/sh` was removed by layer 2 (whiteout of `/bin/sh`) | fix: keep `/bin/sh` in the image, or change the `#!` line of `/app/run.sh`"
        ]
    );
}

#[test]
fn shebang_crlf_is_reported_alone() {
    let fs = base().file("/app/w.sh", 0o755, 0, 0, b"#!/bin/sh\r\n");
    let c = case(fs, &["/app/w.sh"], &[], "", "");
    assert_eq!(
        c.lint(),
        [
            "shebang-crlf: the script `/app/w.sh` starts with `#!/bin/sh\\r`: CRLF line endings leave a `\\r` on the interpreter line, so `/bin/sh\\r` is looked up and does not exist | fix: convert `/app/w.sh` to LF line endings in the image build (`dos2unix /app/w.sh` or `sed -i 's/\\r$//' /app/w.sh`)"
        ]
    );
}

#[test]
fn nothing_to_run_without_entrypoint_cmd_or_command_line() {
    assert_eq!(
        case(base(), &[], &[], "", "").lint(),
        [
            "nothing-to-run: the image has no ENTRYPOINT and no CMD and the task command line is empty: the container has no command | fix: give the task a command line (an absolute program path), or set ENTRYPOINT or CMD in the image"
        ]
    );
    assert!(
        case(base(), &[], &["/app/run.sh"], "", "")
            .lint()
            .is_empty()
    );
    assert_eq!(
        case(base(), &["/app/run.sh"], &[], "", "--entrypoint ''")
            .lint()
            .len(),
        1
    );
}

#[test]
fn entrypoint_swallows_a_program_command_line() {
    let c = case(base(), &["/bin/echo"], &[], "/app/run.sh", "");
    assert_eq!(
        c.lint(),
        [
            "entrypoint-swallows-command-line: the image ENTRYPOINT `/bin/echo` receives the command line `/app/run.sh` as its arguments, so `/app/run.sh` does not run as a program | fix: add `--entrypoint /app/run.sh` to containerRunOptions (and drop `/app/run.sh` from the command line), or `--entrypoint ''` to run the command line as is"
        ]
    );
    assert!(
        case(
            base(),
            &["/bin/echo"],
            &[],
            "/app/run.sh",
            "--entrypoint ''"
        )
        .lint()
        .is_empty()
    );
    // Arguments the ENTRYPOINT expects are fine, and so are wrappers and entrypoint scripts.
    assert!(
        case(base(), &["/bin/echo"], &[], "hello world", "")
            .lint()
            .is_empty()
    );
    assert!(
        case(base(), &["/bin/sh"], &[], "/app/run.sh", "")
            .lint()
            .is_empty()
    );
    assert!(
        case(base(), &["/app/run.sh"], &[], "/bin/echo", "")
            .lint()
            .is_empty()
    );

    let c = case(base(), &["/bin/sh", "-c"], &[], "echo hi", "");
    assert_eq!(
        c.lint(),
        [
            "entrypoint-swallows-command-line: the image ENTRYPOINT `/bin/sh -c` runs only the first word `echo` of the command line as its script; the other words become `$0`, `$1`... | fix: pass the command as one quoted word: `'echo hi'`"
        ]
    );
    assert!(
        case(base(), &["/bin/sh", "-c"], &[], "'echo hi'", "")
            .lint()
            .is_empty()
    );
}

#[test]
fn platform_mismatch_names_both_platforms() {
    let mut c = case(base(), &["/app/run.sh"], &[], "", "");
    c.platform = "linux/arm64".parse().unwrap();
    assert_eq!(
        c.lint(),
        [
            "platform-mismatch: the image is linux/arm64 but the pool's nodes are linux/amd64: its programs cannot run there (exec format error) | fix: build the image for linux/amd64 (`docker buildx build --platform linux/amd64`) or publish a multi-platform index that includes it"
        ]
    );
}

#[test]
fn run_option_rules() {
    let c = case(
        base(),
        &["/app/run.sh"],
        &[],
        "",
        "--gpus all --runtime nvidia --rm --workdir app",
    );
    assert_eq!(
        c.lint(),
        [
            "gpus-run-option: containerRunOptions has `--gpus all`; Batch enables GPUs for container tasks itself | fix: remove `--gpus` from containerRunOptions and run the task on a GPU VM size",
            "runtime-run-option: containerRunOptions has `--runtime nvidia`; container create fails on nodes without that runtime | fix: remove `--runtime` from containerRunOptions; Batch configures GPU containers without it",
            "redundant-rm-option: containerRunOptions has `--rm`; Batch removes the task container itself | fix: remove `--rm` from containerRunOptions",
            "relative-workdir-option: containerRunOptions has `--workdir app`, a relative path; the working directory must be absolute | fix: use an absolute path: `--workdir /app`",
            format!("unknown-run-option: containerRunOptions has `--runtime`, which the Batch node agent is not known to accept (known: {KNOWN}); the agent fails the task with ContainerInvalidSettings on options it does not know | fix: remove `--runtime` from containerRunOptions, or, if your pools' node agent accepts it, add it to `accepted-run-options` under `[node-agent]` in batchprep.toml").as_str(),
        ]
    );
    assert!(
        case(
            base(),
            &["/app/run.sh"],
            &[],
            "",
            "--workdir /app --shm-size 1g"
        )
        .lint()
        .is_empty()
    );
}

/// The run options the node agent is known to accept, as messages list them.
const KNOWN: &str = "-v/--volume, --mount, -e/--env, --privileged, --shm-size, --ipc, --cpu-shares, --memory, --rm, -w/--workdir, --entrypoint, --hostname, -u/--user, --name, -l/--label, -p/--publish";

#[test]
fn unknown_run_option_names_the_option_and_the_known_set() {
    let mut c = case(
        base(),
        &["/app/run.sh"],
        &[],
        "",
        "--init --ulimit nofile=1024 -v /data:/data --init --shm-size=1g -w /app",
    );
    let fix = |flag: &str| {
        format!(
            "fix: remove `{flag}` from containerRunOptions, or, if your pools' node agent accepts it, add it to `accepted-run-options` under `[node-agent]` in batchprep.toml"
        )
    };
    assert_eq!(
        c.lint(),
        [
            format!(
                "unknown-run-option: containerRunOptions has `--init`, which the Batch node agent is not known to accept (known: {KNOWN}); the agent fails the task with ContainerInvalidSettings on options it does not know | {}",
                fix("--init")
            ),
            format!(
                "unknown-run-option: containerRunOptions has `--ulimit`, which the Batch node agent is not known to accept (known: {KNOWN}); the agent fails the task with ContainerInvalidSettings on options it does not know | {}",
                fix("--ulimit")
            ),
        ]
    );
    // The configured set extends the known one, and the messages list it.
    c.accepted = vec!["--init".into()];
    assert_eq!(
        c.lint(),
        [format!(
            "unknown-run-option: containerRunOptions has `--ulimit`, which the Batch node agent is not known to accept (known: {KNOWN}, --init); the agent fails the task with ContainerInvalidSettings on options it does not know | {}",
            fix("--ulimit")
        )]
    );
    c.accepted.push("--ulimit".into());
    assert!(c.lint().is_empty());
    // `--gpus` has its own rule.
    let c = case(base(), &["/app/run.sh"], &[], "", "--gpus all");
    assert_eq!(c.lint().len(), 1);
    assert!(c.lint()[0].starts_with("gpus-run-option: "));
}

#[test]
fn docker_in_container_reads_the_command_line_and_shell_scripts() {
    let msg = |cmd: &str| {
        format!(
            "docker-in-container: the command line runs `{cmd}` inside the task's container: Batch already runs the command line in a container of `oci:app:1`, which has no Docker daemon (the node's `/var/run/docker.sock` is not mounted) | fix: give the image to run as `containerSettings.imageName` and its arguments as `commandLine` (Batch pulls and runs it); prefetch images with the pool's `containerImageNames`"
        )
    };
    let with_docker = || base().file("/usr/bin/docker", 0o755, 0, 0, SH);
    let c = case(
        with_docker(),
        &[],
        &[],
        "docker run --rm ubuntu:24.04 echo hi",
        "",
    );
    assert_eq!(c.lint(), [msg("docker run")]);
    let c = case(
        with_docker(),
        &[],
        &[],
        "/bin/sh -c 'set -e; sudo /usr/bin/docker pull myacr.azurecr.io/app:1 && /app/run.sh'",
        "",
    );
    assert_eq!(c.lint(), [msg("/usr/bin/docker pull")]);
    // The twins: the node's socket mounted in, and the command itself without docker.
    let c = case(
        with_docker(),
        &[],
        &[],
        "docker run --rm ubuntu:24.04 echo hi",
        "-v /var/run/docker.sock:/var/run/docker.sock",
    );
    assert!(c.lint().is_empty());
    assert!(
        case(
            with_docker(),
            &[],
            &[],
            "/bin/sh -c '/app/run.sh; echo docker'",
            ""
        )
        .lint()
        .is_empty()
    );
    assert!(
        case(with_docker(), &[], &[], "docker --version", "")
            .lint()
            .is_empty()
    );
}

#[test]
fn relative_workdir_option_is_judged_after_the_agent_expands_variables() {
    let c = case(
        base(),
        &["/app/run.sh"],
        &[],
        "",
        "--workdir out/$AZ_BATCH_TASK_ID",
    );
    assert_eq!(
        c.lint(),
        [
            "relative-workdir-option: containerRunOptions has `--workdir out/$AZ_BATCH_TASK_ID`, a relative path; the working directory must be absolute | fix: use an absolute path: `--workdir /out/$AZ_BATCH_TASK_ID`"
        ]
    );
    let c = case(
        base(),
        &["/app/run.sh"],
        &[],
        "",
        "--workdir $AZ_BATCH_TASK_WORKING_DIR",
    );
    assert!(c.lint().is_empty());
    // A task variable: relative or absolute as its value is.
    let mut c = case(base(), &["/app/run.sh"], &[], "", "--workdir ${WORK}/out");
    c.task.environment = vec![("WORK".into(), "/mnt/batch/shared".into())];
    assert!(c.lint().is_empty());
    c.task.environment = vec![("WORK".into(), "scratch".into())];
    assert_eq!(c.lint().len(), 1);
}

#[test]
fn unexpanded_variable_outside_a_shell() {
    let c = case(
        base(),
        &[],
        &[],
        "/app/run.sh $AZ_BATCH_TASK_WORKING_DIR/in.csv",
        "",
    );
    assert_eq!(
        c.lint(),
        [format!(
            "unexpanded-variable: the argument `$AZ_BATCH_TASK_WORKING_DIR/in.csv` uses `$AZ_BATCH_TASK_WORKING_DIR`, but Batch does not run a container task's command line under a shell: the program receives the text `$AZ_BATCH_TASK_WORKING_DIR`, not `{WD}` | fix: run the command through a shell: `/bin/sh -c '/app/run.sh $AZ_BATCH_TASK_WORKING_DIR/in.csv'`"
        )]
    );
    let c = case(base(), &[], &[], "'$AZ_BATCH_NODE_SHARED_DIR/tool'", "");
    assert_eq!(
        c.lint(),
        [
            "unexpanded-variable: the program `$AZ_BATCH_NODE_SHARED_DIR/tool` uses `$AZ_BATCH_NODE_SHARED_DIR`, but Batch does not run a container task's command line under a shell: the program receives the text `$AZ_BATCH_NODE_SHARED_DIR`, not `/mnt/batch/shared` | fix: run the command through a shell: `/bin/sh -c '$AZ_BATCH_NODE_SHARED_DIR/tool'`"
        ]
    );
    assert!(
        case(
            base(),
            &[],
            &[],
            "/bin/sh -c '/app/run.sh $AZ_BATCH_TASK_WORKING_DIR/in.csv'",
            ""
        )
        .lint()
        .is_empty()
    );
    // Not a variable of the container's environment: an awk field, a price.
    assert!(
        case(base(), &[], &[], "/bin/echo '$NF' 5$", "")
            .lint()
            .is_empty()
    );
}

#[test]
fn windows_images_get_only_the_platform_and_run_option_rules() {
    let mut c = case(MergedFs::builder(), &["C:\\app\\run.cmd"], &[], "", "--rm");
    c.platform = "windows/amd64".parse().unwrap();
    let names: Vec<String> = c
        .lint()
        .iter()
        .map(|l| l.split(':').next().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["platform-mismatch", "redundant-rm-option"]);
}

#[test]
fn without_the_image_only_the_task_rules_run() {
    let task = TaskContainer::new(
        "oci:app:1",
        "python $AZ_BATCH_TASK_WORKING_DIR/in.csv",
        "--gpus all --workdir app --rm --runtime nvidia",
        ContainerWorkingDirectory::TaskWorkingDirectory,
        TaskIdentity::default(),
    )
    .unwrap();
    let node = Platform::default();
    let names: Vec<String> = lint_container(&ContainerFacts::without_image(&task, &node))
        .into_iter()
        .map(|f| format!("{} at {}", f.name, f.field.unwrap().pointer()))
        .collect();
    assert_eq!(
        names,
        [
            "gpus-run-option at /containerSettings/containerRunOptions",
            "runtime-run-option at /containerSettings/containerRunOptions",
            "redundant-rm-option at /containerSettings/containerRunOptions",
            "relative-workdir-option at /containerSettings/containerRunOptions",
            "unexpanded-variable at /commandLine",
            "unknown-run-option at /containerSettings/containerRunOptions",
        ]
    );
}

/// An x86_64 glibc program's exec facts: loader, libc, and `extra` libraries.
fn glibc_elf(extra: &[&str]) -> batchprep_oci::exec::ElfFacts {
    let mut needed: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    needed.push("libc.so.6".into());
    batchprep_oci::exec::ElfFacts {
        class: 64,
        machine: 62,
        kind: 3,
        interpreter: Some("/lib64/ld-linux-x86-64.so.2".into()),
        needed,
        runpath: None,
        rpath: None,
        incomplete: false,
    }
}

/// `base()` with a glibc loader and libc in the multiarch directory.
fn glibc_base() -> MergedFsBuilder {
    base()
        .file(
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            0o755,
            0,
            0,
            SH,
        )
        .symlink(
            "/lib64/ld-linux-x86-64.so.2",
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        )
        .file("/lib/x86_64-linux-gnu/libc.so.6", 0o755, 0, 0, SH)
}

#[test]
fn exec_format_error_for_text_empty_and_object_files() {
    let fs = base()
        .file("/app/notes", 0o755, 0, 0, b"PK\x03\x04zip")
        .file("/app/empty", 0o755, 0, 0, b"");
    assert_eq!(
        case(fs.clone(), &[], &[], "/app/notes", "").lint(),
        [
            "exec-format-error: `/app/notes` is neither an ELF binary nor a script with a `#!` line (it starts with `PK\\x03\\x04zip`): the kernel cannot run it (exec format error) | fix: start `/app/notes` with a `#!` line (`#!/bin/sh`), run it through its interpreter on the command line (`/bin/sh /app/notes`), or replace it with a binary built for Linux"
        ]
    );
    assert_eq!(
        case(fs.clone(), &[], &[], "/app/empty", "").lint()[0]
            .split(" | ")
            .next()
            .unwrap(),
        "exec-format-error: `/app/empty` is an empty file: the kernel cannot run it (exec format error)"
    );
    assert!(
        case(fs.clone(), &[], &[], "/bin/sh /app/notes", "")
            .lint()
            .is_empty()
    );
    let mut object = glibc_elf(&[]);
    object.kind = 1;
    let fs = fs.elf_file("/app/prog.o", 0o755, object);
    assert_eq!(
        case(fs, &[], &[], "/app/prog.o", "").lint()[0]
            .split(" | ")
            .next()
            .unwrap(),
        "exec-format-error: `/app/prog.o` is an ELF relocatable object (ET_REL), not a program: the kernel cannot run it (exec format error)"
    );
    // A header too short to read gives no verdict (an `ET_NONE` with `incomplete`).
    let mut truncated = glibc_elf(&[]);
    truncated.kind = 0;
    truncated.incomplete = true;
    truncated.interpreter = None;
    truncated.needed.clear();
    let fs = base().elf_file("/app/cut", 0o755, truncated);
    assert!(case(fs, &[], &[], "/app/cut", "").lint().is_empty());
}

#[test]
fn elf_architecture_mismatch_reads_the_elf_machine() {
    let mut arm = glibc_elf(&[]);
    arm.machine = 183;
    arm.interpreter = None;
    arm.needed.clear();
    let fs = base().elf_file("/app/prog", 0o755, arm);
    assert_eq!(
        case(fs, &[], &[], "/app/prog", "").lint(),
        [
            "elf-architecture-mismatch: `/app/prog` is an ELF binary for aarch64 but the pool's nodes are linux/amd64 (x86_64), although the image config says linux/amd64: the kernel cannot run it (exec format error) | fix: build `/app/prog` for x86_64 (cross-compile, or `docker buildx build --platform linux/amd64` with a base image of that platform)"
        ]
    );
    // A script's interpreter is what the kernel loads.
    let mut arm = glibc_elf(&[]);
    arm.machine = 183;
    let fs = glibc_base().elf_file("/usr/bin/python3", 0o755, arm).file(
        "/app/job",
        0o755,
        0,
        0,
        b"#!/usr/bin/python3\n",
    );
    assert_eq!(case(fs, &[], &[], "/app/job", "").lint().len(), 1);
    let fs = glibc_base().elf_file("/app/prog", 0o755, glibc_elf(&[]));
    assert!(case(fs, &[], &[], "/app/prog", "").lint().is_empty());
}

#[test]
fn elf_loader_and_libraries_are_looked_for_where_the_loader_looks() {
    let missing_loader = base().elf_file("/app/prog", 0o755, glibc_elf(&[]));
    assert_eq!(
        case(missing_loader, &[], &[], "/app/prog", "").lint(),
        [
            "elf-loader-missing: `/app/prog` is dynamically linked and asks for the loader `/lib64/ld-linux-x86-64.so.2` (PT_INTERP), which the image does not have: the start fails with \"no such file or directory\" | fix: build `/app/prog` statically, or base the image on one with `/lib64/ld-linux-x86-64.so.2` and the libraries `/app/prog` needs"
        ]
    );
    let fs = glibc_base()
        .elf_file("/app/prog", 0o755, glibc_elf(&["libbp.so.1"]))
        .file("/opt/bp/libbp.so.1", 0o644, 0, 0, b"")
        .file(
            "/etc/ld.so.conf",
            0o644,
            0,
            0,
            b"include /etc/ld.so.conf.d/*.conf\n",
        )
        .file("/etc/ld.so.conf.d/bp.conf", 0o644, 0, 0, b"/opt/bp\n");
    assert_eq!(
        case(fs.clone(), &[], &[], "/app/prog", "").lint(),
        [
            "shared-library-missing: `/app/prog` needs `libbp.so.1` (DT_NEEDED), which its loader does not find: looked in `/lib/x86_64-linux-gnu`, `/usr/lib/x86_64-linux-gnu`, `/lib64`, `/usr/lib64`, `/lib`, `/usr/lib` | fix: `/opt/bp/libbp.so.1` has it but /etc/ld.so.cache does not list it: run `ldconfig` in the image build after installing it"
        ]
    );
    // LD_LIBRARY_PATH from the run options, a run path with $ORIGIN.
    assert!(
        case(
            fs.clone(),
            &[],
            &[],
            "/app/prog",
            "-e LD_LIBRARY_PATH=/opt/bp"
        )
        .lint()
        .is_empty()
    );
    let mut origin = glibc_elf(&["libbp.so.1"]);
    origin.runpath = Some("$ORIGIN/../bp".into());
    let fs = glibc_base().elf_file("/opt/bin/prog", 0o755, origin).file(
        "/opt/bp/libbp.so.1",
        0o644,
        0,
        0,
        b"",
    );
    assert!(case(fs, &[], &[], "/opt/bin/prog", "").lint().is_empty());
}

#[test]
fn musl_programs_search_musls_path() {
    let mut musl = glibc_elf(&["libz.so.1"]);
    musl.interpreter = Some("/lib/ld-musl-x86_64.so.1".into());
    musl.needed = vec!["libz.so.1".into(), "libc.musl-x86_64.so.1".into()];
    let fs = base()
        .file("/lib/ld-musl-x86_64.so.1", 0o755, 0, 0, SH)
        .elf_file("/app/prog", 0o755, musl)
        .file("/usr/lib/x86_64-linux-gnu/libz.so.1", 0o644, 0, 0, b"");
    assert_eq!(
        case(fs.clone(), &[], &[], "/app/prog", "").lint()[0]
            .split(" | ")
            .next()
            .unwrap(),
        "shared-library-missing: `/app/prog` needs `libz.so.1` (DT_NEEDED), which its loader does not find: looked in `/lib`, `/usr/local/lib`, `/usr/lib`"
    );
    let fs = fs.file("/usr/lib/libz.so.1", 0o644, 0, 0, b"");
    assert!(case(fs, &[], &[], "/app/prog", "").lint().is_empty());
}

#[test]
fn shebang_arguments_reach_env_as_one_word() {
    let fs = base()
        .file("/usr/bin/env", 0o755, 0, 0, SH)
        .file("/app/split.sh", 0o755, 0, 0, b"#!/usr/bin/env sh -e\n")
        .file("/app/s.sh", 0o755, 0, 0, b"#!/usr/bin/env -S sh -e\n");
    assert_eq!(
        case(fs.clone(), &[], &[], "/app/split.sh", "").lint(),
        [
            "shebang-argument-split: the script `/app/split.sh` starts with `#!/usr/bin/env sh -e`: Linux passes `sh -e` to `/usr/bin/env` as one argument, so env looks for a program named `sh -e` and fails (exit 127) | fix: name the interpreter by its path with one argument (`#!/bin/sh -e`), or set the options inside the script (`set -e`)"
        ]
    );
    // GNU env splits `-S`; BusyBox's does not.
    assert!(case(fs, &[], &[], "/app/s.sh", "").lint().is_empty());
    let busybox = base()
        .file("/bin/busybox", 0o755, 0, 0, SH)
        .symlink("/usr/bin/env", "/bin/busybox")
        .file("/app/s.sh", 0o755, 0, 0, b"#!/usr/bin/env -S sh -e\n");
    assert_eq!(
        case(busybox, &[], &[], "/app/s.sh", "").lint()[0]
            .split(" | ")
            .next()
            .unwrap(),
        "env-split-string-unsupported: the script `/app/s.sh` starts with `#!/usr/bin/env -S sh -e`, but `/usr/bin/env` is BusyBox's env (`/bin/busybox`), which has no `-S`: the start fails with \"invalid option -- 'S'\""
    );
}

#[test]
fn workdir_that_is_a_file() {
    assert_eq!(
        case(base(), &[], &[], "/app/run.sh", "--workdir /app/run.sh").lint(),
        [
            "workdir-not-a-directory: the working directory `/app/run.sh` (from `--workdir`) is not a directory: `/app/run.sh` is a file in the image, so the container cannot start (\"not a directory\") | fix: point `--workdir` at a directory, or remove the file `/app/run.sh` from the image"
        ]
    );
    assert!(
        case(base(), &[], &[], "/app/run.sh", "--workdir /srv/new")
            .lint()
            .is_empty()
    );
}

#[test]
fn bare_shell_and_shell_form_entrypoints() {
    assert_eq!(
        case(base(), &[], &["/app/run.sh"], "", "--entrypoint /bin/sh").lint(),
        [
            "bare-shell-entrypoint: `--entrypoint /bin/sh` with an empty command line starts a shell with nothing to run (Docker drops the image CMD `/app/run.sh` when the ENTRYPOINT is overridden): it reads an empty stdin and exits 0 without doing anything | fix: give the task a command line (`-c 'the command'` after `/bin/sh`), or drop `--entrypoint`"
        ]
    );
    assert!(
        case(
            base(),
            &[],
            &["/app/run.sh"],
            "-c /app/run.sh",
            "--entrypoint /bin/sh"
        )
        .lint()
        .is_empty()
    );
    assert_eq!(
        case(
            base(),
            &["/bin/sh", "-c", "echo image-default"],
            &[],
            "/app/run.sh",
            ""
        )
        .lint(),
        [
            "shell-form-entrypoint: the image ENTRYPOINT `/bin/sh -c 'echo image-default'` is shell form: the command line `/app/run.sh` becomes its `$0`, `$1`... which the script never reads, so it runs `echo image-default` instead | fix: give the image an exec-form ENTRYPOINT (`ENTRYPOINT [\"prog\"]`) or none, or override it with `--entrypoint` in containerRunOptions"
        ]
    );
    assert!(
        case(
            base(),
            &["/bin/sh", "-c", "exec \"$@\"", "sh"],
            &[],
            "/app/run.sh",
            ""
        )
        .lint()
        .is_empty()
    );
    assert!(
        case(
            base(),
            &["/bin/sh", "-c", "exec \"$0\" \"$@\""],
            &[],
            "/app/run.sh",
            ""
        )
        .lint()
        .is_empty()
    );
}

#[test]
fn batch_path_not_mounted_follows_the_bind_mount_list() {
    use batchprep_batch::task::BindMountJson;
    let mounts = |sources: &[&str]| {
        Some(
            sources
                .iter()
                .map(|s| BindMountJson {
                    source: (*s).into(),
                    is_read_only: false,
                })
                .collect(),
        )
    };
    let with = |sources: &[&str], command_line: &str, opts: &str| {
        let mut c = case(base(), &[], &[], command_line, opts);
        c.task.bind_mounts = mounts(sources);
        c.lint()
    };
    let script = "/bin/sh -c 'cat $AZ_BATCH_NODE_SHARED_DIR/in.csv'";
    // Without a list the whole node root is mounted; with `Task` and `Shared` all the task needs.
    assert!(case(base(), &[], &[], script, "").lint().is_empty());
    assert!(with(&["Task", "Shared"], script, "").is_empty());

    assert_eq!(
        with(&[], "/app/run.sh", ""),
        [
            "batch-path-not-mounted: `containerHostBatchBindMounts` is empty, so the task working directory `/mnt/batch/tasks/workitems/job/job-1/task/wd` is not mounted: the task starts in an empty directory of the container, without its resource files, and what it writes there is lost | fix: add `{\"source\": \"Task\"}` to `containerHostBatchBindMounts`, or set `workingDirectory` to `containerImageDefault`"
        ]
    );
    assert_eq!(
        with(&["Task"], script, ""),
        [
            "batch-path-not-mounted: `cat $AZ_BATCH_NODE_SHARED_DIR/in.csv` uses `$AZ_BATCH_NODE_SHARED_DIR`, which is not set in the container: `containerHostBatchBindMounts` lists only `Task`, and Batch removes the variables of the directories it does not mount | fix: add `{\"source\": \"Shared\"}` to `containerHostBatchBindMounts`"
        ]
    );
    // The agent expands variables in the run options: a removed one leaves `-v :/data`.
    assert_eq!(
        with(
            &["Task"],
            "/app/run.sh",
            "-v $AZ_BATCH_NODE_STARTUP_DIR:/data"
        ),
        [
            "batch-path-not-mounted: `$AZ_BATCH_NODE_STARTUP_DIR:/data` uses `$AZ_BATCH_NODE_STARTUP_DIR`, which is not set in the container: `containerHostBatchBindMounts` lists only `Task`, and Batch removes the variables of the directories it does not mount | fix: add `{\"source\": \"Startup\"}` to `containerHostBatchBindMounts`"
        ]
    );
    assert_eq!(
        with(&["Task"], "/bin/sh -c 'cat /mnt/batch/shared/in.csv'", ""),
        [
            "batch-path-not-mounted: `/mnt/batch/shared/in.csv` is a node directory that is not mounted in the container: `containerHostBatchBindMounts` lists only `Task` | fix: add the directory's source (`Shared`, `Startup`, `Task`, ...) to `containerHostBatchBindMounts`, or read the file from a mounted directory"
        ]
    );
    // A path of a mounted directory is there.
    assert!(
        with(
            &["Task", "Shared"],
            "/bin/sh -c 'cat /mnt/batch/shared/in.csv'",
            ""
        )
        .is_empty()
    );
}

#[test]
fn user_not_in_image_names_the_user_moby_cannot_find() {
    let passwd = |fs: MergedFsBuilder| {
        fs.dir("/etc", 0o755)
            .file(
                "/etc/passwd",
                0o644,
                0,
                0,
                b"root:x:0:0::/root:/bin/sh\napp:x:1234:1300::/app:/bin/sh\n",
            )
            .file("/etc/group", 0o644, 0, 0, b"root:x:0:\nstaff:x:50:app\n")
    };
    assert_eq!(
        case(passwd(base()), &["/app/run.sh"], &[], "", "--user db").lint(),
        [
            "user-not-in-image: `--user db` in the run options does not resolve in the image: Moby fails the container as it starts it (\"unable to find user db: no matching entries in passwd file\") | fix: add the user to the image's `/etc/passwd` (and the group to `/etc/group`), give `--user` as numbers (`uid:gid`), or remove `--user` so Batch's task user runs it"
        ]
    );
    assert_eq!(
        case(base(), &["/app/run.sh"], &[], "", "--user root").lint(),
        [
            "user-not-in-image: `--user root` in the run options does not resolve in the image (the image has no `/etc/passwd`, so every name fails, `root` included): Moby fails the container as it starts it (\"unable to find user root: no matching entries in passwd file\") | fix: add the user to the image's `/etc/passwd` (and the group to `/etc/group`), give `--user` as numbers (`uid:gid`), or remove `--user` so Batch's task user runs it"
        ]
    );
    assert_eq!(
        case(
            passwd(base()),
            &["/app/run.sh"],
            &[],
            "",
            "--user app:wheel"
        )
        .lint(),
        [
            "user-not-in-image: `--user app:wheel` in the run options does not resolve in the image: Moby fails the container as it starts it (\"unable to find group wheel: no matching entries in group file\") | fix: add the user to the image's `/etc/passwd` (and the group to `/etc/group`), give `--user` as numbers (`uid:gid`), or remove `--user` so Batch's task user runs it"
        ]
    );
    // The twins: a name the image has, numbers, and Batch's own numeric user on an image without
    // a user database.
    for opts in [
        "--user app",
        "--user app:staff",
        "--user 0",
        "--user 4242:4242",
        "",
    ] {
        assert!(
            case(passwd(base()), &["/app/run.sh"], &[], "", opts)
                .lint()
                .is_empty(),
            "{opts}"
        );
    }
    assert!(
        case(base(), &["/app/run.sh"], &[], "", "")
            .lint()
            .is_empty()
    );
    assert!(
        case(base(), &["/app/run.sh"], &[], "", "")
            .admin()
            .lint()
            .is_empty()
    );
}

#[test]
fn a_named_user_gets_the_ids_and_groups_of_its_entry() {
    let fs = base()
        .dir("/etc", 0o755)
        .file(
            "/etc/passwd",
            0o644,
            0,
            0,
            b"app:x:1234:1300::/app:/bin/sh\n",
        )
        .file("/etc/group", 0o644, 0, 0, b"tools:x:77:app\n")
        .file("/app/owned.sh", 0o700, 1234, 0, b"#!/bin/sh\n")
        .file("/app/group.sh", 0o750, 0, 77, b"#!/bin/sh\n")
        .file("/app/other.sh", 0o750, 0, 78, b"#!/bin/sh\n");
    for ok in ["/app/owned.sh", "/app/group.sh"] {
        assert!(
            case(fs.clone(), &[ok], &[], "", "--user app")
                .lint()
                .is_empty(),
            "{ok}"
        );
    }
    assert_eq!(
        case(fs, &["/app/other.sh"], &[], "", "--user app").lint(),
        [
            "not-executable-by-task-user: the task runs as uid 1234 (gid 1300, groups 77) (`--user app`); `/app/other.sh` (mode 0750, owner 0:78) is not executable by that user | fix: `chmod 755 /app/other.sh` in the image, or run the task as pool-scope admin (`userIdentity.autoUser: {scope: pool, elevationLevel: admin}`)"
        ]
    );
}
