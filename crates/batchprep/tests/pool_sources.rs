//! `batchprep check` on pools kept as Terraform (`.tf`, a module directory, `terraform show -json`),
//! Bicep and Batch Shipyard YAML: every finding points into the file it is about; what `pool emit`
//! writes in each surface reads back with the REST form's findings; the real files of
//! ../shared/corpus are all read.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

use batchprep_testkit::repo_root as root;

fn batchprep(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_batchprep"));
    cmd.args(args)
        .current_dir(root())
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `check --offline --format json` on `pool`: exit code and the findings, one line each.
fn check(pool: &str) -> (Option<i32>, Vec<String>, String) {
    check_with(&[pool])
}

/// [`check`] with more arguments (`POOL --task FILE`).
fn check_with(args: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let out = batchprep(
        &[&["check", "--offline", "--format", "json"], args].concat(),
        &[],
    );
    if out.status.code() == Some(2) {
        return (Some(2), Vec::new(), text(&out.stderr));
    }
    let doc: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let base = root();
    let lines = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let at = match f["location"]["file"].as_str() {
                Some(file) => {
                    let file = Path::new(file);
                    let file = file.strip_prefix(&base).unwrap_or(file);
                    format!(
                        " at {}:{}:{} {}",
                        file.display(),
                        f["location"]["line"],
                        f["location"]["column"],
                        f["location"]["pointer"].as_str().unwrap_or_default()
                    )
                }
                None => String::new(),
            };
            format!(
                "{} {}{at}: {}",
                f["severity"].as_str().unwrap(),
                f["name"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    (out.status.code(), lines, text(&out.stderr))
}

/// The committed fixtures: each surface trips the pool rules it can, and every finding names the
/// line and column of the attribute it is about (reviewed in the snapshot).
#[test]
fn fixture_findings_point_into_each_file() {
    let mut review = String::new();
    for pool in [
        "testdata/pool-sources/terraform",
        "testdata/pool-sources/terraform/main.tf",
        "testdata/pool-sources/plan/plan.json",
        "testdata/pool-sources/bicep/pools.bicep",
        "testdata/pool-sources/shipyard/pool.yaml",
        "testdata/pool-sources/azapi/main.tf",
        "testdata/pool-sources/shipyard-hpc/pool.yaml",
        "testdata/pool-sources/shipyard-eol/pool.yaml",
    ] {
        let (code, lines, stderr) = check(pool);
        // Exit 1 when an error fires; the end-of-life fixture has warnings only.
        let expected = if pool.contains("shipyard-eol") { 0 } else { 1 };
        assert_eq!(code, Some(expected), "{pool}: {stderr}");
        review.push_str(&format!("{pool} (exit {expected})\n"));
        for l in lines {
            review.push_str(&format!("  {l}\n"));
        }
    }
    insta::assert_snapshot!("fixture_findings", review);
}

/// A file of a kind batchprep does not read says so, in one line, and names what it reads.
#[test]
fn unsupported_kinds_name_what_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("notes.md");
    fs::write(&md, "# pools\n").unwrap();
    let yaml = dir.path().join("values.yaml");
    fs::write(&yaml, "replicas: 2\n").unwrap();
    let reads = "it reads pool JSON (REST body, `az batch pool show`, Batch CLI or ARM template), Terraform (`.tf`, a directory of them, or `terraform show -json` output), Bicep (`.bicep`) or Batch Shipyard YAML (`pool.yaml`)";
    for (path, what) in [
        (&md, "a `.md` file".to_owned()),
        (
            &yaml,
            "YAML without a Batch Shipyard `pool_specification`".to_owned(),
        ),
        (
            &dir.path().to_path_buf(),
            "a directory without `.tf` files".to_owned(),
        ),
    ] {
        let out = batchprep(&["check", "--offline", path.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            text(&out.stderr),
            format!(
                "error: {}: not a pool file batchprep reads ({what}); {reads}\n",
                path.display()
            )
        );
    }
    let bad = dir.path().join("bad.bicep");
    fs::write(&bad, "param x string = {\n  a: 'b\n}\n").unwrap();
    let out = batchprep(&["check", "--offline", bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {}: line 2, column 6: string is never closed on its line\n",
            bad.display()
        )
    );
    let deep = dir.path().join("deep.tf");
    fs::write(
        &deep,
        format!(
            "locals {{\n  x = {}1{}\n}}\n",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
    )
    .unwrap();
    let out = batchprep(&["check", "--offline", deep.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).lines().count(), 1);
}

/// What `pool emit` writes for each surface, `check` reads back with the REST form's findings.
#[test]
fn every_emitted_surface_reads_back_like_rest() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ACR_PASSWORD", "s3cret-acr"),
        ("DOCKERHUB_TOKEN", "s3cret-hub"),
    ];
    let mut specs: Vec<PathBuf> = fs::read_dir(root().join("testdata/pools"))
        .unwrap()
        .map(|e| e.unwrap().path().join("batchprep.toml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 5);
    for spec in &specs {
        let name = spec
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy();
        let mut forms: Vec<(String, Vec<String>)> = Vec::new();
        for (format, ext) in [
            ("rest", "json"),
            ("arm", "json"),
            ("bicep", "bicep"),
            ("terraform", "tf"),
        ] {
            let out_file = dir.path().join(format!("{name}-{format}.{ext}"));
            let out = batchprep(
                &[
                    "pool",
                    "emit",
                    "--format",
                    format,
                    "--include-secrets",
                    "--today",
                    "2026-11-28",
                    "--out",
                    out_file.to_str().unwrap(),
                    spec.to_str().unwrap(),
                ],
                &env,
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name} {format}: {}",
                text(&out.stderr)
            );
            let (code, lines, stderr) = check(out_file.to_str().unwrap());
            assert!(matches!(code, Some(0 | 1)), "{name} {format}: {stderr}");
            // Locations differ by surface; what is found must not.
            let what: Vec<String> = lines
                .iter()
                .map(|l| match l.split_once(" at ") {
                    Some((head, rest)) => {
                        format!("{head}:{}", rest.split_once(": ").map_or("", |r| r.1))
                    }
                    None => l.clone(),
                })
                .collect();
            for l in &lines {
                if l.contains(" at ") {
                    assert!(
                        l.contains(&format!("{name}-{format}.{ext}:")),
                        "{name} {format}: {l}"
                    );
                }
            }
            forms.push((format.to_owned(), what));
        }
        let (_, rest) = &forms[0];
        for (format, found) in &forms[1..] {
            assert_eq!(found, rest, "{name}: {format} reads back unlike rest");
        }
    }
}

/// Every Terraform, Bicep and Shipyard file of the corpus is read; the findings are reviewed in a
/// snapshot. A file that holds no pool says so (exit 2, one line).
#[test]
fn corpus_of_terraform_bicep_and_shipyard() {
    let corpus = batchprep_testkit::corpus_dir();
    let mut review = String::new();
    let mut record = |label: &str, pool: &Path| {
        let (code, lines, stderr) = check(pool.to_str().unwrap());
        match code {
            Some(0 | 1) => {
                review.push_str(&format!("{label} (exit {})\n", code.unwrap()));
                for l in lines {
                    let l = l
                        .replace(&format!("{}/", corpus.display()), "")
                        .replace("../shared/corpus/", "");
                    review.push_str(&format!("  {l}\n"));
                }
            }
            Some(2) => {
                assert!(
                    stderr.contains("no pool found") || stderr.contains("not a pool file"),
                    "{label}: {stderr}"
                );
                assert_eq!(stderr.lines().count(), 1, "{label}: {stderr}");
                let msg = stderr
                    .split_once(": ")
                    .map_or(stderr.as_str(), |m| m.1)
                    .replace(&format!("{}/", corpus.display()), "");
                review.push_str(&format!(
                    "{label} (exit 2): {}\n",
                    msg.rsplit_once(".bicep: ")
                        .or(msg.rsplit_once(".tf: "))
                        .map_or(msg.trim_end().to_owned(), |m| m.1.trim_end().to_owned())
                ));
            }
            other => panic!("{label}: exit {other:?}: {stderr}"),
        }
    };
    for kind in ["terraform", "bicep", "shipyard-yaml"] {
        let mut files: Vec<PathBuf> = fs::read_dir(corpus.join(kind))
            .unwrap_or_else(|e| {
                panic!("{kind}: {e} (the corpus is in shared/ beside the repository)")
            })
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty());
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            record(&format!("{kind}/{name}"), &f);
        }
    }
    // Shipyard's templates as a config directory, the way `shipyard pool add --configdir` reads them.
    let dir = tempfile::tempdir().unwrap();
    for name in ["pool", "config", "credentials"] {
        fs::copy(
            corpus.join(format!(
                "shipyard-yaml/Azure__batch-shipyard__config_templates__{name}.yaml"
            )),
            dir.path().join(format!("{name}.yaml")),
        )
        .unwrap();
    }
    let (code, lines, stderr) = check(dir.path().join("pool.yaml").to_str().unwrap());
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    review.push_str(&format!(
        "shipyard config_templates as a config directory (exit {})\n",
        code.unwrap()
    ));
    for l in lines {
        review.push_str(&format!(
            "  {}\n",
            l.replace(&format!("{}/", dir.path().display()), "")
        ));
    }
    // Each recipe's jobs with its pool, as a config directory; the templates' jobs file holds keys
    // Shipyard itself refuses together (a Docker and a Singularity image in one task).
    for recipe in [
        "config_templates",
        "recipes__CNTK-GPU-Infiniband-IntelMPI__config",
        "recipes__DiskSpd-Windows__config",
        "recipes__HPLinpack-Infiniband-IntelMPI__config__docker",
    ] {
        let dir = tempfile::tempdir().unwrap();
        for name in ["pool", "config", "credentials", "jobs"] {
            let from = corpus.join(format!(
                "shipyard-yaml/Azure__batch-shipyard__{recipe}__{name}.yaml"
            ));
            if from.exists() {
                fs::copy(from, dir.path().join(format!("{name}.yaml"))).unwrap();
            }
        }
        let (pool, jobs) = (dir.path().join("pool.yaml"), dir.path().join("jobs.yaml"));
        let (code, lines, stderr) =
            check_with(&[pool.to_str().unwrap(), "--task", jobs.to_str().unwrap()]);
        let local = |l: &str| l.replace(&format!("{}/", dir.path().display()), "");
        match code {
            Some(2) => {
                assert_eq!(stderr.lines().count(), 1, "{recipe}: {stderr}");
                review.push_str(&format!(
                    "shipyard {recipe} with jobs.yaml (exit 2): {}",
                    local(&stderr)
                ));
            }
            Some(c @ (0 | 1)) => {
                review.push_str(&format!("shipyard {recipe} with jobs.yaml (exit {c})\n"));
                for l in lines {
                    review.push_str(&format!("  {}\n", local(&l)));
                }
            }
            other => panic!("{recipe}: exit {other:?}: {stderr}"),
        }
    }
    insta::assert_snapshot!("corpus_review", review);
}

/// The pool rules a surface cannot express, with the reason; every other pool rule fires from each
/// surface's fixtures (the task rules with `testdata/pool-sources/tasks.json`).
const NOT_EXPRESSIBLE: &[(&str, &str, &str)] = &[
    (
        "shipyard",
        "node-agent-mismatch",
        "Shipyard picks the node agent Batch lists for the image itself",
    ),
    (
        "shipyard",
        "container-type-missing",
        "Shipyard writes containerConfiguration itself, always with its type",
    ),
    (
        "shipyard",
        "legacy-pool-field",
        "Shipyard writes the pool body itself, in current field names",
    ),
    (
        "shipyard",
        "obsolete-docker-daemon-flags",
        "the start task is Shipyard's own node prep, not a command line the user writes",
    ),
    (
        "shipyard",
        "docker-data-root-on-os-disk",
        "Shipyard's node prep sets Docker up itself on non-native pools, and native pools run on images that keep it on the temp disk",
    ),
    (
        "shipyard",
        "node-image-without-docker",
        "Shipyard's node prep installs Docker on non-native pools, and native pools run only on Batch's container images",
    ),
    (
        "shipyard",
        "gpu-image-without-nvidia-runtime",
        "Shipyard's native pools run only on Batch's container images (`microsoft-azure-batch` offers); on any other image its node prep sets up Docker and the GPU stack itself",
    ),
    (
        "shipyard",
        "gpu-not-driven-by-image",
        "Shipyard's native pools run only on Batch's container images, none of which is an HPC image; on any other image its node prep sets up the GPU stack itself",
    ),
    (
        "shipyard",
        "invalid-registry-server",
        "Shipyard logs in only to the registries its images name, so a credentials key that is not a registry host is never a registryServer",
    ),
];

#[test]
fn every_pool_rule_fires_from_each_surface() {
    let pool_rules: Vec<&str> = batchprep_lint::catalog()
        .iter()
        .filter(|d| d.category == "pool")
        .map(|d| d.name.as_str())
        .collect();
    assert!(pool_rules.len() >= 16, "{pool_rules:?}");
    let surfaces: &[(&str, &[&str])] = &[
        (
            "terraform",
            &[
                "testdata/pool-sources/terraform",
                "testdata/pool-sources/azapi/main.tf",
            ],
        ),
        ("plan", &["testdata/pool-sources/plan/plan.json"]),
        ("bicep", &["testdata/pool-sources/bicep/pools.bicep"]),
        (
            "shipyard",
            &[
                "testdata/pool-sources/shipyard/pool.yaml",
                "testdata/pool-sources/shipyard-hpc/pool.yaml",
                "testdata/pool-sources/shipyard-eol/pool.yaml",
                "testdata/pool-sources/shipyard-arm/pool.yaml",
            ],
        ),
    ];
    let mut missing = Vec::new();
    for (surface, files) in surfaces {
        let mut fired: Vec<String> = Vec::new();
        for file in *files {
            let out = batchprep(
                &[
                    "check",
                    "--offline",
                    "--format",
                    "json",
                    file,
                    "--task",
                    "testdata/pool-sources/tasks.json",
                ],
                &[],
            );
            assert_eq!(out.status.code(), Some(1), "{file}: {}", text(&out.stderr));
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            for f in doc["findings"].as_array().unwrap() {
                let name = f["name"].as_str().unwrap().to_owned();
                // A finding about the pool file points into it, at a line and column.
                if pool_rules.contains(&name.as_str()) && !name.starts_with("task-") {
                    assert!(
                        f["location"]["line"].as_u64().unwrap_or(0) > 0,
                        "{file}: {f}"
                    );
                }
                fired.push(name);
            }
        }
        for rule in &pool_rules {
            let excused = NOT_EXPRESSIBLE
                .iter()
                .any(|(s, r, _)| s == surface && r == rule);
            let has = fired.iter().any(|f| f == rule);
            if has == excused {
                missing.push(format!(
                    "{surface}: {rule} {}",
                    if has {
                        "fires but is listed as not expressible"
                    } else {
                        "never fires"
                    }
                ));
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}

/// Shipyard `jobs.yaml` as `--task`: on a native pool each task is the Batch container task
/// Shipyard adds (its run options after the user's), and its findings point into `jobs.yaml`; on any
/// other pool Shipyard's runner calls `docker run` on the host, so Batch sees no container task.
#[test]
fn shipyard_jobs_are_checked_as_the_tasks_shipyard_adds() {
    let dir = "testdata/pool-sources/shipyard";
    let (code, lines, stderr) = check_with(&[
        &format!("{dir}/pool.yaml"),
        "--task",
        &format!("{dir}/jobs.yaml"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    let in_jobs: Vec<&String> = lines.iter().filter(|l| l.contains("jobs.yaml")).collect();
    assert!(
        in_jobs.contains(&&format!(
            "error gpus-run-option at {dir}/jobs.yaml:10:5 /job_specifications/0/tasks/0/containerSettings/containerRunOptions: containerRunOptions has `--gpus all`; Batch enables GPUs for container tasks itself"
        )),
        "{lines:#?}"
    );
    assert!(
        in_jobs.contains(&&format!(
            "warning task-image-not-prefetched at {dir}/jobs.yaml:14:5 /job_specifications/0/tasks/1/containerSettings/imageName: `ghcr.io/acme/report:1` is not in the pool's `containerImageNames` (3 listed); every node pulls it when the task starts"
        )),
        "{lines:#?}"
    );
    insta::assert_snapshot!("shipyard_jobs", lines.join("\n"));

    // The same jobs on a pool that is not native: host tasks, no container finding.
    let eol = "testdata/pool-sources/shipyard-eol";
    let (code, lines, stderr) = check_with(&[
        &format!("{eol}/pool.yaml"),
        "--task",
        &format!("{eol}/jobs.yaml"),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(lines.iter().all(|l| !l.contains("jobs.yaml")), "{lines:#?}");

    // A jobs file given as the pool says what it is; YAML without jobs as a task file too.
    let out = batchprep(&["check", "--offline", &format!("{dir}/jobs.yaml")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "error: {dir}/jobs.yaml: not a pool file batchprep reads (a Batch Shipyard jobs file: give it as `--task`); it reads "
        )),
        "{}",
        text(&out.stderr)
    );
    let out = batchprep(
        &[
            "check",
            "--offline",
            &format!("{dir}/pool.yaml"),
            "--task",
            &format!("{dir}/config.yaml"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {dir}/config.yaml: no task found: no `job_specifications` list in the Batch Shipyard jobs file\n"
        )
    );
}

/// `pool emit --from-shipyard --jobs --tasks-out`: the pool prefetches the jobs' images with the
/// logins of `credentials.yaml` (never a password), the tasks are written as Batch container
/// tasks, and `check` finds in the written tasks what it finds in `jobs.yaml` on a native pool.
#[test]
fn shipyard_migration_writes_the_pool_and_its_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("testdata/pool-sources/shipyard-eol");
    for f in ["pool.yaml", "jobs.yaml"] {
        fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    fs::write(
        dir.path().join("credentials.yaml"),
        "credentials:\n  docker_registry:\n    ghcr.io:\n      username: bot\n      password: s3cret-pw\n",
    )
    .unwrap();
    let pool = dir.path().join("pool.json");
    let tasks = dir.path().join("tasks-{job}.json");
    let out = batchprep(
        &[
            "pool",
            "emit",
            "--from-shipyard",
            dir.path().join("pool.yaml").to_str().unwrap(),
            "--jobs",
            dir.path().join("jobs.yaml").to_str().unwrap(),
            "--tasks-out",
            tasks.to_str().unwrap(),
            "--out",
            pool.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let body: Value = serde_json::from_str(&fs::read_to_string(&pool).unwrap()).unwrap();
    let container = &body["virtualMachineConfiguration"]["containerConfiguration"];
    assert_eq!(
        container["containerImageNames"],
        serde_json::json!(["ghcr.io/acme/render:3"])
    );
    assert_eq!(
        container["containerRegistries"],
        serde_json::json!([{"registryServer": "ghcr.io", "username": "bot", "password": "${GHCR_PASSWORD}"}])
    );
    let written = dir.path().join("tasks-render.json");
    let collection: Value = serde_json::from_str(&fs::read_to_string(&written).unwrap()).unwrap();
    assert_eq!(
        collection,
        serde_json::json!({"value": [{
            "id": "task-00000",
            "commandLine": "render --frames 1-100",
            "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}},
            "containerSettings": {
                "imageName": "ghcr.io/acme/render:3",
                "containerRunOptions": "--gpus all --rm --name task-00000 -w $AZ_BATCH_TASK_WORKING_DIR",
            },
        }]})
    );
    for f in ["pool.json", "tasks-render.json"] {
        assert!(
            !fs::read_to_string(dir.path().join(f))
                .unwrap()
                .contains("s3cret-pw")
        );
    }
    assert!(!text(&out.stderr).contains("s3cret-pw"));

    // The written tasks and jobs.yaml on the native pool give the same task findings.
    let task_findings = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .filter(|l| l.contains("tasks/0") || l.contains("/value/0"))
            .map(|l| {
                let (head, message) = l.split_once(": ").unwrap();
                format!("{} {message}", head.split(" at ").next().unwrap())
            })
            .collect()
    };
    let (_, from_json, stderr) =
        check_with(&[pool.to_str().unwrap(), "--task", written.to_str().unwrap()]);
    let native = dir.path().join("native");
    fs::create_dir(&native).unwrap();
    fs::copy(
        root().join("testdata/pool-sources/shipyard/pool.yaml"),
        native.join("pool.yaml"),
    )
    .unwrap();
    fs::copy(dir.path().join("jobs.yaml"), native.join("jobs.yaml")).unwrap();
    let (_, from_yaml, _) = check_with(&[
        native.join("pool.yaml").to_str().unwrap(),
        "--task",
        native.join("jobs.yaml").to_str().unwrap(),
    ]);
    let (json_tasks, mut yaml_tasks) = (task_findings(from_json), task_findings(from_yaml));
    assert!(
        json_tasks
            .iter()
            .any(|l| l.starts_with("error gpus-run-option")),
        "{json_tasks:#?} {stderr}"
    );
    // The migrated pool prefetches the task's image; the native fixture pool does not.
    let prefetch = "warning task-image-not-prefetched `ghcr.io/acme/render:3` is not in the pool's `containerImageNames` (0 listed); every node pulls it when the task starts";
    assert!(yaml_tasks.iter().any(|l| l == prefetch), "{yaml_tasks:#?}");
    yaml_tasks.retain(|l| l != prefetch);
    assert_eq!(json_tasks, yaml_tasks);

    // An error about the pool cites the Shipyard file, not the spec made from it.
    let out = batchprep(
        &[
            "pool",
            "emit",
            "--from-shipyard",
            "testdata/pool-sources/shipyard/pool.yaml",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: testdata/pool-sources/shipyard/pool.yaml: line 13, column 3: [pool] vm-size: STANDARD_A0: Batch does not support STANDARD_A0\n"
    );
    // Several jobs need `{job}` in the file name; nothing is written then.
    let one = dir.path().join("all.json");
    fs::write(
        dir.path().join("jobs.yaml"),
        "job_specifications:\n- id: a\n  tasks:\n  - docker_image: busybox\n- id: b\n  tasks:\n  - docker_image: busybox\n",
    )
    .unwrap();
    let out = batchprep(
        &[
            "pool",
            "emit",
            "--from-shipyard",
            dir.path().join("pool.yaml").to_str().unwrap(),
            "--jobs",
            dir.path().join("jobs.yaml").to_str().unwrap(),
            "--tasks-out",
            one.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: --tasks-out {}: the jobs file has 2 jobs; put `{{job}}` in the file name for one file per job\n",
            one.display()
        )
    );
    assert!(out.stdout.is_empty());
    assert!(!one.exists());
}
