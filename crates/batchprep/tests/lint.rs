//! `batchprep lint` as a user runs it: a fixture image, a command, the exact output and exit code,
//! in every format, with configuration overrides, task files, `--explain-run`, and bad input.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use batchprep_testkit::{BuiltImage, ImageBuilder, LayoutWriter, TarBuilder, gzip, media};

/// An image whose ENTRYPOINT is `./run.sh` in WORKDIR `/app`: fine under `docker run`, broken on Batch.
fn app() -> &'static BuiltImage {
    static IMAGE: OnceLock<BuiltImage> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lint-cli");
        let _ = std::fs::remove_dir_all(&dir);
        ImageBuilder::new(&dir)
            .host_binaries(&["/bin/sh"])
            .dir("/app", 0o755)
            .file("/app/run.sh", 0o755, b"#!/bin/sh\necho ran\n")
            .file("/app/job.py", 0o644, b"print('hi')\n")
            .config(|c| c.entrypoint(&["./run.sh"]).workdir("/app"))
            .build()
    })
}

/// A directory with no `batchprep.toml` above it, to run in.
fn cwd() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs batchprep in `dir`; returns the exit code, stdout and stderr with the image path as `IMAGE`.
fn batchprep(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let image = app().reference();
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&image, "IMAGE");
    (
        out.status.code().unwrap(),
        clean(&out.stdout),
        clean(&out.stderr),
    )
}

fn lint(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let image = app().reference();
    let mut args = vec!["lint", image.as_str()];
    args.extend_from_slice(extra);
    batchprep(dir, &args)
}

const WD: &str = "/mnt/batch/tasks/workitems/job/job-1/task/wd";

#[test]
fn human_report_names_the_program_the_cwd_and_the_fix() {
    let dir = cwd();
    let (code, stdout, stderr) = lint(dir.path(), &[]);
    assert_eq!(stderr, "");
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!(
            "error[relative-entrypoint]: image IMAGE
  = the program `./run.sh` from the ENTRYPOINT is relative to the working directory, which is the task working directory `{WD}`, not the image WORKDIR `/app` (the image has it at `/app/run.sh`)
  = why: Batch replaces the image WORKDIR with the task working directory, a bind mount from the node that holds none of the image's files. A program such as `./run.sh` is looked up relative to that directory and is not found: the container fails to start with \"no such file or directory\".
  = fix: use the absolute path `/app/run.sh`, or add `--workdir /app` to containerRunOptions or set `workingDirectory: containerImageDefault`

1 error, 0 warnings, 0 notes
"
        )
    );
}

#[test]
fn the_suggested_fix_makes_lint_pass_and_notes_do_not_fail() {
    let dir = cwd();
    let (code, stdout, _) = lint(dir.path(), &["--container-run-options", "--workdir /app"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "0 errors, 0 warnings, 0 notes\n")
    );
    let (code, stdout, _) = lint(
        dir.path(),
        &["--working-directory", "containerImageDefault"],
    );
    assert_eq!(
        (code, stdout.as_str()),
        (0, "0 errors, 0 warnings, 0 notes\n")
    );

    let (code, stdout, _) = lint(dir.path(), &["--container-run-options=--workdir /app --rm"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("note[redundant-rm-option]: image IMAGE\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 errors, 0 warnings, 1 note\n"),
        "{stdout}"
    );
    let (code, _, _) = lint(
        dir.path(),
        &[
            "--container-run-options=--workdir /app --rm",
            "--fail-on",
            "note",
        ],
    );
    assert_eq!(code, 1);
}

#[test]
fn json_report_has_the_containers_findings_and_summary() {
    let dir = cwd();
    let (code, stdout, _) = lint(
        dir.path(),
        &["--command-line", "python job.py", "--format", "json"],
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let expected = serde_json::json!({
        "version": 1,
        "containers": [{
            "subject": "image IMAGE",
            "image": "IMAGE",
            "task": "task",
            "argv": ["./run.sh", "python", "job.py"],
            "cwd": WD,
            "user": "1000:1000",
            "docker_create": format!("docker create --name=task --workdir={WD} --user=1000:1000 --volume=/mnt/batch:/mnt/batch --env=AZ_BATCH_NODE_ROOT_DIR=/mnt/batch --env=AZ_BATCH_NODE_SHARED_DIR=/mnt/batch/shared --env=AZ_BATCH_NODE_STARTUP_DIR=/mnt/batch/startup --env=AZ_BATCH_JOB_ID=job --env=AZ_BATCH_TASK_ID=task --env=AZ_BATCH_TASK_DIR=/mnt/batch/tasks/workitems/job/job-1/task --env=AZ_BATCH_TASK_WORKING_DIR={WD} IMAGE python job.py"),
        }],
        "findings": [
            {
                "name": "relative-entrypoint",
                "id": "BP101",
                "severity": "error",
                "subject": "image IMAGE",
                "message": format!("the program `./run.sh` from the ENTRYPOINT is relative to the working directory, which is the task working directory `{WD}`, not the image WORKDIR `/app` (the image has it at `/app/run.sh`)"),
                "fix": "use the absolute path `/app/run.sh`, or add `--workdir /app` to containerRunOptions or set `workingDirectory: containerImageDefault`",
                "fixable": "unsafe",
            },
            {
                "name": "workdir-relative-argument",
                "id": "BP102",
                "severity": "error",
                "subject": "image IMAGE",
                "message": format!("the argument `job.py` names `/app/job.py` in the image WORKDIR, but the task runs in the task working directory `{WD}`, where `job.py` does not exist"),
                "fix": "pass the absolute path `/app/job.py`, or add `--workdir /app` to containerRunOptions or set `workingDirectory: containerImageDefault`",
            },
        ],
        "summary": {"errors": 2, "warnings": 0, "notes": 0, "suppressed": 0},
        "errors": [],
    });
    assert_eq!(v, expected);
}

#[test]
fn ci_formats_annotate_each_finding() {
    let dir = cwd();
    let message = format!(
        "the program `./run.sh` from the ENTRYPOINT is relative to the working directory, which is the task working directory `{WD}`, not the image WORKDIR `/app` (the image has it at `/app/run.sh`) (fix: use the absolute path `/app/run.sh`, or add `--workdir /app` to containerRunOptions or set `workingDirectory: containerImageDefault`)"
    );
    let (code, stdout, _) = lint(dir.path(), &["--format", "github"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!("::error title=relative-entrypoint (BP101)::image IMAGE: {message}\n")
    );
    let (code, stdout, _) = lint(dir.path(), &["--format", "azure"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!("##vso[task.logissue type=error;code=relative-entrypoint]image IMAGE: {message}\n")
    );
    let (code, stdout, _) = lint(dir.path(), &["--format", "junit"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains(r#"<testcase classname="image IMAGE" name="relative-entrypoint (BP101)">"#),
        "{stdout}"
    );
    let (code, stdout, _) = lint(dir.path(), &["--format", "sarif"]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "BP101");
    assert_eq!(result["level"], "error");
}

#[test]
fn configuration_and_flags_override_severity_and_ignore_with_a_reason() {
    let dir = cwd();
    std::fs::write(
        dir.path().join("batchprep.toml"),
        "[rules]\nrelative-entrypoint = \"warning\"\n",
    )
    .unwrap();
    let (code, stdout, _) = lint(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("warning[relative-entrypoint]: image IMAGE\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 errors, 1 warning, 0 notes\n"),
        "{stdout}"
    );
    let (code, _, _) = lint(dir.path(), &["--fail-on", "warning"]);
    assert_eq!(code, 1);
    // The command line wins over the file.
    let (code, stdout, _) = lint(dir.path(), &["--deny", "BP101"]);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("error[relative-entrypoint]"), "{stdout}");
    let (code, stdout, _) = lint(dir.path(), &["--allow", "relative-entrypoint"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "0 errors, 0 warnings, 0 notes (1 suppressed)\n")
    );

    std::fs::write(
        dir.path().join("batchprep.toml"),
        "[[ignore]]\nrule = \"BP101\"\nsubject = \"IMAGE\"\nreason = \"runs with --workdir in our pool\"\n"
            .replace("IMAGE", &app().reference()),
    )
    .unwrap();
    let (code, stdout, _) = lint(dir.path(), &[]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "0 errors, 0 warnings, 0 notes (1 suppressed)\n")
    );

    std::fs::write(
        dir.path().join("batchprep.toml"),
        "[[ignore]]\nrule = \"BP101\"\nreason = \"\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = lint(dir.path(), &[]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "error: {}: [[ignore]]: ignore of `BP101` has an empty reason\n",
            dir.path().join("batchprep.toml").display()
        )
    );
}

#[test]
fn task_files_lint_each_task_and_point_into_the_file() {
    let dir = cwd();
    let tasks = r#"[
  {
    "id": "good",
    "commandLine": "",
    "containerSettings": {"imageName": "app:1", "containerRunOptions": "--workdir /app"}
  },
  {
    "id": "render-2",
    "commandLine": "/app/run.sh",
    "containerSettings": {
      "imageName": "app:1",
      "containerRunOptions": "--gpus all"
    }
  }
]
"#;
    std::fs::write(dir.path().join("tasks.json"), tasks).unwrap();
    std::fs::write(
        dir.path().join("batchprep.toml"),
        format!("[images.local]\n\"app:1\" = \"{}\"\n", app().reference()),
    )
    .unwrap();
    let (code, stdout, stderr) = batchprep(dir.path(), &["lint", "--task", "tasks.json"]);
    assert_eq!(stderr, "");
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!("error[relative-entrypoint]: task render-2 (app:1)
  --> tasks.json:11:20 (/1/containerSettings/imageName)
   |
11 |       \"imageName\": \"app:1\",
   |                    ^
  = the program `./run.sh` from the ENTRYPOINT is relative to the working directory, which is the task working directory `/mnt/batch/tasks/workitems/job/job-1/render-2/wd`, not the image WORKDIR `/app` (the image has it at `/app/run.sh`)
  = why: Batch replaces the image WORKDIR with the task working directory, a bind mount from the node that holds none of the image's files. A program such as `./run.sh` is looked up relative to that directory and is not found: the container fails to start with \"no such file or directory\".
  = fix: use the absolute path `/app/run.sh`, or add `--workdir /app` to containerRunOptions or set `workingDirectory: containerImageDefault`

error[gpus-run-option]: task render-2 (app:1)
  --> tasks.json:12:30 (/1/containerSettings/containerRunOptions)
   |
12 |       \"containerRunOptions\": \"--gpus all\"
   |                              ^
  = containerRunOptions has `--gpus all`; Batch enables GPUs for container tasks itself
  = why: On GPU pools Batch gives container tasks the GPUs (and InfiniBand devices) itself. The node agent parses `containerRunOptions` itself and rejects `--gpus` before Docker runs: the task fails with `ContainerInvalidSettings` (\"Some supplied docker options are not recognized or are unsupported: --gpus\"). Given to Docker directly, `--gpus` fails to start on nodes without the NVIDIA container hook (`could not select device driver \"\" with capabilities: [[gpu]]`).
  = fix: remove `--gpus` from containerRunOptions and run the task on a GPU VM size

2 errors, 0 warnings, 0 notes
")
    );
}

#[test]
fn a_job_with_a_job_manager_task_is_linted_against_the_given_image() {
    let dir = cwd();
    let job = r#"{"id": "job-1", "poolInfo": {"poolId": "p"},
 "jobManagerTask": {"id": "manager", "commandLine": "sh run.sh",
  "containerSettings": {"imageName": "unused:1", "workingDirectory": "containerImageDefault"},
  "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}}}"#;
    std::fs::write(dir.path().join("job.json"), job).unwrap();
    let image = app().reference();
    let (code, stdout, stderr) = batchprep(
        dir.path(),
        &["lint", "--task", "job.json", &image, "--explain-run"],
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        "task manager (IMAGE)
  docker create: docker create --name=manager --user=0:0 --volume=/mnt/batch:/mnt/batch --env=AZ_BATCH_NODE_ROOT_DIR=/mnt/batch --env=AZ_BATCH_NODE_SHARED_DIR=/mnt/batch/shared --env=AZ_BATCH_NODE_STARTUP_DIR=/mnt/batch/startup --env=AZ_BATCH_JOB_ID=job --env=AZ_BATCH_TASK_ID=manager --env=AZ_BATCH_TASK_DIR=/mnt/batch/tasks/workitems/job/job-1/manager --env=AZ_BATCH_TASK_WORKING_DIR=/mnt/batch/tasks/workitems/job/job-1/manager/wd IMAGE sh run.sh
  argv: [\"./run.sh\", \"sh\", \"run.sh\"] (ENTRYPOINT ./run.sh from the image, arguments from the task command line)
  cwd: /app (workingDirectory: containerImageDefault; the image WORKDIR is /app)
  user: 0:0 (auto-user (scope pool, elevation admin))
  PATH: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  mount: /mnt/batch -> /mnt/batch

"
    );
    let (code, stdout, _) = batchprep(
        dir.path(),
        &[
            "lint",
            "--task",
            "job.json",
            &image,
            "--explain-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["containers"][0]["argv"],
        serde_json::json!(["./run.sh", "sh", "run.sh"])
    );
    assert_eq!(v["containers"][0]["cwd"], "/app");
    assert_eq!(v["containers"][0]["user"], "0:0");
    assert_eq!(v["containers"][0]["subject"], "task manager (IMAGE)");
    let (code, stdout, _) = batchprep(dir.path(), &["lint", "--task", "job.json", &image]);
    assert_eq!(code, 0);
    assert!(
        stdout.ends_with("0 errors, 0 warnings, 0 notes\n"),
        "{stdout}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = cwd();
    let (code, stdout, stderr) = lint(dir.path(), &["--container-run-options", "--workdir"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: containerRunOptions: `--workdir` needs a value\n"
    );

    let (code, _, stderr) = lint(dir.path(), &["--command-line", "sh -c 'echo"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "error: commandLine: unbalanced quotes in `sh -c 'echo`\n"
        )
    );

    std::fs::write(
        dir.path().join("t.json"),
        r#"{"id": "x", "commandLine": "a"}"#,
    )
    .unwrap();
    let (code, _, stderr) = batchprep(dir.path(), &["lint", "--task", "t.json"]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "error: t.json: task `x` has no `containerSettings` (it is not a container task)\n"
        )
    );

    let (code, _, stderr) = batchprep(dir.path(), &["lint", "--task", "missing.json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: cannot read task file missing.json: "),
        "{stderr}"
    );

    let (code, _, stderr) = batchprep(dir.path(), &["lint", "oci:/nonexistent/layout:latest"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: image `oci:/nonexistent/layout:latest`: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let (code, _, stderr) = batchprep(dir.path(), &["lint"]);
    assert_eq!(
        (code, stderr.as_str()),
        (2, "error: nothing to lint: give an IMAGE or --task FILE\n")
    );

    let (code, _, stderr) = lint(dir.path(), &["--node-platform", "amd64"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: --node-platform: invalid platform `amd64`: expected os/arch[/variant], e.g. linux/amd64\n"
    );
}

#[test]
fn rules_and_explain_render_the_catalog() {
    let dir = cwd();
    let (code, stdout, _) = batchprep(dir.path(), &["rules"]);
    assert_eq!(code, 0);
    let line = |id: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not listed:\n{stdout}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(
        line("BP101").join(" "),
        "BP101 error relative-entrypoint The program is a relative path and the task does not run in the image WORKDIR."
    );
    assert_eq!(
        line("BP108")[..3],
        ["BP108", "warning", "entrypoint-swallows-command-line"]
    );
    assert_eq!(line("BP112")[..3], ["BP112", "note", "redundant-rm-option"]);
    let (code, stdout, _) = batchprep(dir.path(), &["explain", "BP106"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "shebang-crlf (BP106): A script's `#!` line ends in a carriage return (CRLF line endings).
category: image, default severity: error

Why
A script saved with Windows line endings has `#!/bin/sh\\r` as its first line: the kernel looks for an
interpreter named `sh\\r`, which does not exist, and the start fails with \"no such file or directory\".

Fix
Convert the script to LF line endings (`dos2unix`, or `sed -i 's/\\r$//'` in the Dockerfile) and add a
`.gitattributes` rule (`*.sh text eol=lf`) so checkouts on Windows keep it.

References
- https://learn.microsoft.com/azure/batch/batch-docker-container-workloads
"
    );
}

#[test]
fn an_index_without_the_node_platform_is_a_platform_mismatch() {
    let dir = cwd();
    let w = LayoutWriter::new(&dir.path().join("multi"));
    let layer = w.blob(
        media::OCI_GZIP,
        &gzip(
            &TarBuilder::new()
                .dir("app", 0o755)
                .file("app/prog", 0o755, b"\x7fELF")
                .finish(),
        ),
    );
    let config = w.config(
        "linux/arm64",
        serde_json::json!({"Entrypoint": ["/app/prog"]}),
        1,
    );
    let manifest = w.manifest(media::OCI_MANIFEST, &config, &[layer]);
    let index = w.index(media::OCI_INDEX, &[(manifest, "linux/arm64")]);
    w.tag(&index, "1.0").finish();
    let (code, stdout, stderr) =
        batchprep(dir.path(), &["lint", "oci:multi:1.0", "--format", "json"]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["findings"][0]["name"], "platform-mismatch");
    assert_eq!(
        v["findings"][0]["message"],
        "the image is linux/arm64 but the pool's nodes are linux/amd64: its programs cannot run there (exec format error)"
    );
    assert_eq!(v["summary"]["errors"], 1);
    let (code, stdout, _) = batchprep(
        dir.path(),
        &["lint", "oci:multi:1.0", "--node-platform", "linux/arm64"],
    );
    assert_eq!(
        (code, stdout.as_str()),
        (0, "0 errors, 0 warnings, 0 notes\n")
    );
}
