//! `batchprep check`: the README example, every report format, bad input, and the corpus of real
//! public pool and task definitions in ../shared/corpus.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use batchprep_testkit::repo_root as root;

/// Runs batchprep from the repository root with a pinned "today", so support windows are stable.
fn batchprep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args(args)
        .current_dir(root())
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const EXAMPLE: &[&str] = &[
    "check",
    "testdata/example/pool.json",
    "--task",
    "testdata/example/tasks.json",
    "--config",
    "testdata/example/batchprep.toml",
    "--offline",
];

fn example(format: &str) -> Output {
    let mut args = EXAMPLE.to_vec();
    args.extend(["--format", format]);
    batchprep(&args)
}

#[test]
fn readme_example_reports_every_kind_of_check() {
    let out = example("human");
    assert_eq!(stderr(&out), "");
    assert_eq!(out.status.code(), Some(1), "errors fail the run");
    insta::assert_snapshot!("example_human", stdout(&out));
}

#[test]
fn readme_example_as_json() {
    let out = example("json");
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        doc["summary"],
        serde_json::json!({"errors": 5, "warnings": 5, "notes": 3, "suppressed": 0})
    );
    assert_eq!(
        doc["checks"],
        serde_json::json!({
            "registry": "skipped (offline)",
            "pool": "checked",
            "containers": {"pairs": 3, "linted": 2},
            "network": {"ranges": 3}
        })
    );
    let relative = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "relative-entrypoint")
        .unwrap();
    // `--workdir` for a relative ENTRYPOINT changes what runs: unsafe; `--rm` goes safely.
    assert_eq!(relative["fixable"], "unsafe");
    let rm = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "redundant-rm-option")
        .unwrap();
    assert_eq!(rm["fixable"], "safe");
    let skipped = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "registry-check-skipped")
        .unwrap();
    assert_eq!(skipped.get("fixable"), None);
    assert_eq!(
        relative["location"],
        serde_json::json!({"file": "testdata/example/tasks.json", "pointer": "/0/containerSettings/imageName", "line": 6, "column": 20})
    );
}

#[test]
fn readme_example_as_sarif_validates_and_points_into_files() {
    let out = example("sarif");
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let schema = sarif_schema(
        &std::fs::read_to_string(root().join("testdata/schemas/sarif-2.1.0.json")).unwrap(),
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    let located: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            loc.get("artifactLocation").map(|a| {
                format!(
                    "{} {}:{}",
                    r["ruleId"].as_str().unwrap(),
                    a["uri"].as_str().unwrap(),
                    loc["region"]["startLine"]
                )
            })
        })
        .collect();
    assert_eq!(
        located,
        vec![
            "BP301 testdata/example/batchprep.toml:10",
            "BP411 testdata/example/pool.json:28",
            "BP101 testdata/example/tasks.json:6",
            "BP101 testdata/example/tasks.json:13",
            "BP110 testdata/example/tasks.json:14",
            "BP302 testdata/example/batchprep.toml:10",
            "BP302 testdata/example/batchprep.toml:11",
            "BP402 testdata/example/pool.json:5",
            "BP410 testdata/example/pool.json:12",
            "BP408 testdata/example/tasks.json:21",
            "BP112 testdata/example/tasks.json:14",
        ]
    );
    // Each fixable finding carries its fix as the region it replaces: `--rm ` out of
    // `"--rm --gpus all"` (line 14, from column 31) is `rm --` at columns 33 to 37.
    let rm = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "BP112")
        .unwrap();
    assert_eq!(
        rm["fixes"],
        serde_json::json!([{
            "description": {"text": "safe fix: `batchprep check --fix` applies it"},
            "artifactChanges": [{
                "artifactLocation": {"uri": "testdata/example/tasks.json", "uriBaseId": "%SRCROOT%"},
                "replacements": [{
                    "deletedRegion": {"startLine": 14, "startColumn": 33, "endLine": 14, "endColumn": 38},
                    "insertedContent": {"text": ""}
                }]
            }]
        }])
    );
    let unsafe_fixes = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["fixes"][0]["description"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("unsafe fix"))
        })
        .count();
    assert!(unsafe_fixes > 0, "the example has unsafe fixes too");
}

/// SARIF's fixes of a Terraform file include its inserts: the container type added to
/// `container_configuration` is the new line before its `}` (line 31), as the smallest region:
/// the indentation it shares with the `}` line is left out.
#[test]
fn sarif_fixes_carry_inserts_in_terraform() {
    let out = batchprep(&[
        "check",
        "testdata/fix/inserts/terraform/main.tf",
        "--task",
        "testdata/fix/inserts/tasks.json",
        "--offline",
        "--format",
        "sarif",
    ]);
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rule = |name: &str| {
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let kind = results
        .iter()
        .find(|r| r["ruleId"] == rule("container-type-missing"))
        .unwrap();
    assert_eq!(
        kind["fixes"],
        serde_json::json!([{
            "description": {"text": "safe fix: `batchprep check --fix` applies it"},
            "artifactChanges": [{
                "artifactLocation": {"uri": "testdata/fix/inserts/terraform/main.tf", "uriBaseId": "%SRCROOT%"},
                "replacements": [{
                    "deletedRegion": {"startLine": 31, "startColumn": 3, "endLine": 31, "endColumn": 3},
                    "insertedContent": {"text": "  type = \"DockerCompatible\"\n  "}
                }]
            }]
        }])
    );
    // The image appended to the one-line list, and none for the list that is a variable.
    let prefetch: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["ruleId"] == rule("task-image-not-prefetched"))
        .map(|r| &r["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"])
        .collect();
    assert_eq!(
        prefetch,
        [
            &serde_json::json!("  \"ghcr.io/acme/render:2\",\n    "),
            &serde_json::json!(", \"ghcr.io/acme/render:2\""),
            &serde_json::Value::Null,
        ]
    );
}

#[test]
fn readme_example_as_ci_annotations() {
    let gh = stdout(&example("github"));
    assert!(gh.lines().any(|l| l.starts_with(
        "::error file=testdata/example/tasks.json,line=6,col=20,title=relative-entrypoint (BP101)::task frame-1"
    )), "{gh}");
    let azure = stdout(&example("azure"));
    assert!(azure.lines().any(|l| l.starts_with(
        "##vso[task.logissue type=error;sourcepath=testdata/example/pool.json;linenumber=28;columnnumber=20;code=obsolete-docker-daemon-flags]"
    )), "{azure}");
    let junit = stdout(&example("junit"));
    assert!(
        junit.contains(
            r#"<testsuite name="batchprep" tests="13" failures="10" errors="0" skipped="0">"#
        ),
        "{junit}"
    );
}

#[test]
fn fail_on_and_overrides_change_the_exit_code() {
    let mut args = EXAMPLE.to_vec();
    args.extend([
        "--allow",
        "relative-entrypoint",
        "--allow",
        "gpus-run-option",
        "--allow",
        "docker-bridge-overlap",
        "--allow",
        "obsolete-docker-daemon-flags",
        "--format",
        "json",
    ]);
    let out = batchprep(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    args.extend(["--fail-on", "warning"]);
    assert_eq!(batchprep(&args).status.code(), Some(1));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["check", "--offline", "testdata/missing.json"],
            "error: cannot read testdata/missing.json: No such file or directory (os error 2)\n",
        ),
        (
            &["check", "--offline", "testdata/example/tasks.json"],
            "error: testdata/example/tasks.json: no pool found: expected a data-plane pool body (with `vmSize` or `virtualMachineConfiguration`), an ARM template with a `Microsoft.Batch/batchAccounts/pools` resource, or a template with a `pool` object\n",
        ),
        (
            &[
                "check",
                "--offline",
                "testdata/example/pool.json",
                "--task",
                "testdata/example/pool.json",
            ],
            "error: testdata/example/pool.json: no task found (expected a task object, an array of tasks, `{\"value\": [...]}` or a job with `jobManagerTask`)\n",
        ),
        (
            &[
                "check",
                "--offline",
                "testdata/example/pool.json",
                "--local",
                "ubuntu",
            ],
            "error: --local `ubuntu`: expected REF=TRANSPORT:PATH\n",
        ),
        (
            &[
                "check",
                "--offline",
                "testdata/example/pool.json",
                "--local",
                "ubuntu=docker://ubuntu",
            ],
            "error: --local `docker://ubuntu`: a local image needs a local transport (oci:, oci-archive:, docker-archive:, docker-daemon:)\n",
        ),
        (
            &[
                "check",
                "--offline",
                "testdata/example/pool.json",
                "--vnet",
                "10.0.0.300/16",
            ],
            "",
        ),
    ];
    for (args, expected) in cases {
        let out = batchprep(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{args:?}: nothing on stdout");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        if !expected.is_empty() {
            assert_eq!(&err, expected, "{args:?}");
        } else {
            assert!(
                err.starts_with("error: ")
                    && err.contains("--vnet")
                    && err.contains("10.0.0.300/16"),
                "{err}"
            );
        }
    }
}

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = batchprep_testkit::corpus_dir().join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the corpus is in shared/ beside the repository)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    files
}

/// Every real pool and task definition is read without a crash and reported; the findings of each
/// file are kept in a snapshot so a change in what batchprep says about real files is reviewed.
#[test]
fn corpus_of_real_definitions() {
    let mut review = String::new();
    let mut run = |label: &str, args: &[&str]| {
        let out = batchprep(args);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(1)),
            "{label}: exit {code:?}: {}",
            stderr(&out)
        );
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        review.push_str(&format!("{label} (exit {})\n", code.unwrap()));
        for f in doc["findings"].as_array().unwrap() {
            let at = f["location"]["pointer"]
                .as_str()
                .map(|p| format!(" at {p}"))
                .unwrap_or_default();
            review.push_str(&format!(
                "  {} {}{at}: {}\n",
                f["severity"].as_str().unwrap(),
                f["name"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            ));
        }
    };
    for kind in ["rest-json", "arm"] {
        for file in corpus(kind) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            run(
                &format!("{kind}/{name}"),
                &[
                    "check",
                    "--offline",
                    "--format",
                    "json",
                    file.to_str().unwrap(),
                ],
            );
        }
    }
    for file in corpus("task-json") {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        run(
            &format!("task-json/{name} on testdata/corpus-pool.json"),
            &[
                "check",
                "--offline",
                "--format",
                "json",
                "testdata/corpus-pool.json",
                "--task",
                file.to_str().unwrap(),
            ],
        );
    }
    insta::assert_snapshot!("corpus_review", review);
}

/// The OASIS 2.1.0 schema's `language` patterns have a stray `]` that regex engines reject; the
/// corrected pattern takes their place so the rest of the schema can be compiled.
fn sarif_schema(text: &str) -> serde_json::Value {
    let fixed = text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    serde_json::from_str(&fixed).unwrap()
}

#[test]
fn the_pool_spec_of_batchprep_toml_is_checked_when_no_pool_file_is_given() {
    let out = batchprep(&[
        "check",
        "--config",
        "testdata/pools/gpu/batchprep.toml",
        "--offline",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let eol = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "node-image-end-of-life")
        .unwrap();
    assert_eq!(eol["subject"], "pool render");
    assert_eq!(
        eol["location"],
        serde_json::json!({"file": "testdata/pools/gpu/batchprep.toml", "pointer": "[pool] (generated /virtualMachineConfiguration/imageReference)", "line": 2, "column": 1})
    );
}

/// Runs batchprep from the repository root with `stdin` as standard input.
fn batchprep_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args(args)
        .current_dir(root())
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Every container finding about a task, as in the JSON report.
fn container_task_findings(json: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"].as_str().unwrap().starts_with("task "))
        .filter(|f| f["id"].as_str().unwrap().starts_with("BP1"))
        .cloned()
        .collect()
}

/// (rule, pointer, line) of every finding about a task, sorted.
fn task_findings(json: &str) -> Vec<(String, String, u64)> {
    let mut out: Vec<(String, String, u64)> = container_task_findings(json)
        .iter()
        .map(|f| {
            let loc = &f["location"];
            (
                f["name"].as_str().unwrap().to_owned(),
                loc["pointer"].as_str().unwrap_or_default().to_owned(),
                loc["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The render tasks of the README example, which `lint` and `check` both read from the local image,
/// and one more without an `id`.
fn render_tasks(dir: &Path) -> PathBuf {
    let tasks: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("testdata/example/tasks.json")).unwrap(),
    )
    .unwrap();
    let mut render: Vec<_> = tasks
        .into_iter()
        .filter(|t| t["id"].as_str().unwrap().starts_with("frame"))
        .collect();
    render.push(serde_json::json!({
        "commandLine": "--frame 3",
        "containerSettings": {
            "imageName": "myacr.azurecr.io/render:2.1",
            "containerRunOptions": "--workdir app"
        }
    }));
    let path = dir.join("render-tasks.json");
    std::fs::write(&path, serde_json::to_string_pretty(&render).unwrap()).unwrap();
    path
}

/// Every container finding about a task, as the user sees it: rule, subject, location, message.
fn task_findings_as_shown(json: &str) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = container_task_findings(json)
        .iter()
        .map(|f| {
            serde_json::json!({
                "name": f["name"],
                "subject": f["subject"],
                "location": f["location"],
                "message": f["message"],
            })
        })
        .collect();
    out.sort_by_key(|f| f.to_string());
    out
}

/// The JSON reports of `lint` and of an offline `check` of the README example pool on the same tasks
/// and configuration.
fn lint_and_check(tasks: &str, config: &str) -> (Output, Output) {
    let lint = batchprep(&[
        "lint", "--task", tasks, "--config", config, "--format", "json",
    ]);
    let check = batchprep(&[
        "check",
        "testdata/example/pool.json",
        "--task",
        tasks,
        "--config",
        config,
        "--offline",
        "--format",
        "json",
    ]);
    (lint, check)
}

#[test]
fn lint_and_check_point_the_same_findings_at_the_same_fields() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = render_tasks(dir.path());
    let tasks = tasks.to_str().unwrap();
    let config = "testdata/example/batchprep.toml";
    let (lint, check) = lint_and_check(tasks, config);
    let from_lint = task_findings(&stdout(&lint));
    assert!(!from_lint.is_empty(), "{}", stdout(&lint));
    assert_eq!(from_lint, task_findings(&stdout(&check)));
    // The same findings, word for word: subjects name the tasks the same way in both.
    let shown = task_findings_as_shown(&stdout(&lint));
    assert_eq!(shown, task_findings_as_shown(&stdout(&check)));
    // Run options point at containerRunOptions in both.
    assert!(
        from_lint.contains(&(
            "gpus-run-option".into(),
            "/1/containerSettings/containerRunOptions".into(),
            14
        )),
        "{from_lint:?}"
    );
    // A task without an id is named by its file and pointer, and its findings point into it.
    let unnamed: Vec<_> = shown
        .iter()
        .filter(|f| f["subject"] == format!("task {tasks}#/2 (myacr.azurecr.io/render:2.1)"))
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                f["location"]["pointer"].as_str().unwrap(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        unnamed,
        [(
            "relative-workdir-option",
            "/2/containerSettings/containerRunOptions",
            21
        )],
        "{shown:#?}"
    );
}

#[test]
fn task_rules_run_when_the_image_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let task = dir.path().join("task.json");
    std::fs::write(
        &task,
        r#"{"id": "t1", "commandLine": "run", "containerSettings": {"imageName": "myacr.azurecr.io/other:1", "containerRunOptions": "--gpus all --workdir app"}}"#,
    )
    .unwrap();
    let out = batchprep(&[
        "check",
        "testdata/example/pool.json",
        "--task",
        task.to_str().unwrap(),
        "--offline",
        "--format",
        "json",
    ]);
    let found = task_findings(&stdout(&out));
    let pointer = "/containerSettings/containerRunOptions".to_owned();
    assert_eq!(
        found,
        [
            ("gpus-run-option".into(), pointer.clone(), 1),
            ("relative-workdir-option".into(), pointer, 1),
        ]
    );
}

#[test]
fn an_artifact_given_as_an_image_is_the_same_finding_in_lint_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let sif = root().join("testdata/rules/not-a-container-image/sif");
    let config = dir.path().join("batchprep.toml");
    std::fs::write(
        &config,
        format!(
            "[images.local]\n\"myacr.azurecr.io/solver:1.0\" = \"oci:{}:1.0\"\n",
            sif.display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let tasks = "testdata/rules/not-a-container-image/tasks.json";
    let (lint, check) = lint_and_check(tasks, config);
    // A finding in both, not a read failure: exit 1, nothing on stderr.
    assert_eq!(lint.status.code(), Some(1), "{}", stderr(&lint));
    assert_eq!(stderr(&lint), "");
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let found = task_findings_as_shown(&stdout(&lint));
    assert_eq!(found, task_findings_as_shown(&stdout(&check)));
    assert_eq!(
        found,
        [serde_json::json!({
            "name": "not-a-container-image",
            "subject": "task solve (myacr.azurecr.io/solver:1.0)",
            "location": {"file": tasks, "line": 6, "column": 20, "pointer": "/0/containerSettings/imageName"},
            "message": "`myacr.azurecr.io/solver:1.0` is not a container image: its manifest's config media type is `application/vnd.sylabs.sif.config.v1+json`, a Singularity (SIF) image: Batch runs only container images",
        })]
    );
    // An artifact holds no container to explain.
    let explain = batchprep(&["lint", "--task", tasks, "--config", config, "--explain-run"]);
    assert_eq!(explain.status.code(), Some(2));
    assert_eq!(stdout(&explain), "");
    assert_eq!(
        stderr(&explain),
        "error: `myacr.azurecr.io/solver:1.0` is not a container image: its manifest's config media type is `application/vnd.sylabs.sif.config.v1+json`, a Singularity (SIF) image: Batch runs only container images\n"
    );
}

/// A pool whose one task image is on a port nothing listens on: the registry cannot be asked.
fn unreachable_pool(dir: &Path) -> (PathBuf, PathBuf) {
    let pool = dir.join("pool.json");
    std::fs::write(
        &pool,
        std::fs::read_to_string(root().join("testdata/example/pool.json")).unwrap(),
    )
    .unwrap();
    let task = dir.join("task.json");
    std::fs::write(
        &task,
        r#"{"id": "t1", "commandLine": "/bin/true", "containerSettings": {"imageName": "127.0.0.1:1/app:1"}}"#,
    )
    .unwrap();
    (pool, task)
}

#[test]
fn a_registry_that_cannot_be_asked_is_reported_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, task) = unreachable_pool(dir.path());
    let run = |format: &str| {
        batchprep(&[
            "check",
            pool.to_str().unwrap(),
            "--task",
            task.to_str().unwrap(),
            "--config",
            "testdata/example/batchprep.toml",
            "--insecure-registry",
            "127.0.0.1:1",
            "--timeout",
            "5",
            "--format",
            format,
        ])
    };
    let json = run("json");
    assert_eq!(json.status.code(), Some(2), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let errors = doc["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["subject"] == "image 127.0.0.1:1/app:1"
                && e["message"].as_str().unwrap().starts_with("unreachable")),
        "{errors:?}"
    );
    assert!(
        stderr(&json).contains("error: could not check image 127.0.0.1:1/app:1: unreachable"),
        "{}",
        stderr(&json)
    );
    for (format, expected) in [
        (
            "github",
            "::error title=could not check::could not check image 127.0.0.1:1/app:1",
        ),
        (
            "azure",
            "##vso[task.logissue type=error;code=could-not-check]could not check image 127.0.0.1:1/app:1",
        ),
        (
            "junit",
            r#"<error type="could-not-check" message="unreachable"#,
        ),
        ("sarif", r#""executionSuccessful": false"#),
    ] {
        let out = run(format);
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(
            stdout(&out).contains(expected),
            "{format}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn a_closed_stdout_keeps_the_exit_code() {
    let closed = |args: &[&str]| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Command::new(env!("CARGO_BIN_EXE_batchprep"))
            .args(args)
            .current_dir(root())
            .env("BATCHPREP_TODAY", "2026-11-28")
            .stdout(writer)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .code()
    };
    let mut findings = EXAMPLE.to_vec();
    findings.extend(["--format", "json"]);
    assert_eq!(closed(&findings), Some(1));
    let dir = tempfile::tempdir().unwrap();
    let (pool, task) = unreachable_pool(dir.path());
    assert_eq!(
        closed(&[
            "check",
            pool.to_str().unwrap(),
            "--task",
            task.to_str().unwrap(),
            "--insecure-registry",
            "127.0.0.1:1",
            "--format",
            "json",
        ]),
        Some(2)
    );
}

#[test]
fn dash_reads_each_file_argument_from_stdin() {
    let file = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let reference = example("json");
    let summary = |o: &Output| {
        let doc: serde_json::Value = serde_json::from_str(&stdout(o)).unwrap();
        doc["summary"].clone()
    };
    // The pool, a task file and the config, each as `-`.
    let pool = batchprep_stdin(
        &[
            "check",
            "-",
            "--task",
            "testdata/example/tasks.json",
            "--config",
            "testdata/example/batchprep.toml",
            "--offline",
            "--format",
            "json",
        ],
        &file("testdata/example/pool.json"),
    );
    assert_eq!(pool.status.code(), Some(1), "{}", stderr(&pool));
    assert_eq!(summary(&pool), summary(&reference));
    let tasks = batchprep_stdin(
        &[
            "check",
            "testdata/example/pool.json",
            "--task",
            "-",
            "--config",
            "testdata/example/batchprep.toml",
            "--offline",
            "--format",
            "json",
        ],
        &file("testdata/example/tasks.json"),
    );
    assert_eq!(tasks.status.code(), Some(1), "{}", stderr(&tasks));
    let config = batchprep_stdin(
        &[
            "check",
            "testdata/example/pool.json",
            "--task",
            "testdata/example/tasks.json",
            "--config",
            "-",
            "--offline",
            "--format",
            "json",
        ],
        &file("testdata/example/batchprep.toml")
            .replace("oci:render-image", "oci:testdata/example/render-image"),
    );
    assert_eq!(config.status.code(), Some(1), "{}", stderr(&config));
    assert_eq!(summary(&config), summary(&reference));
    // Standard input is read once: a second `-` is one clear line and exit 2.
    let twice = batchprep_stdin(
        &["check", "-", "--task", "-", "--offline"],
        &file("testdata/example/pool.json"),
    );
    assert_eq!(twice.status.code(), Some(2));
    assert_eq!(
        stderr(&twice),
        "error: task file: standard input was already read by another argument\n"
    );
    let spec = batchprep_stdin(
        &["pool", "emit", "-"],
        &file("testdata/pools/cpu/batchprep.toml"),
    );
    assert_eq!(spec.status.code(), Some(0), "{}", stderr(&spec));
    assert_eq!(
        stdout(&spec),
        stdout(&batchprep(&[
            "pool",
            "emit",
            "testdata/pools/cpu/batchprep.toml"
        ]))
    );
}

#[test]
fn one_spelling_of_format_and_platform_across_commands() {
    let format = batchprep(&["rules", "--format", "json"]);
    assert_eq!(format.status.code(), Some(0));
    assert_eq!(stdout(&format), stdout(&batchprep(&["rules", "--json"])));
    let catalog: serde_json::Value = serde_json::from_str(&stdout(&format)).unwrap();
    assert_eq!(
        catalog.as_array().unwrap().len(),
        batchprep_lint::catalog().len()
    );
    // `--platform` names the nodes' platform in lint and check as in inspect.
    let mut args = EXAMPLE.to_vec();
    args.extend(["--platform", "linux/arm64", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&batchprep(&args))).unwrap();
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "platform-mismatch"),
        "{doc}"
    );
}
