//! Hostile input (issue 14): each class of input that crashed, hung, blew up memory, leaked a
//! secret or wrote a command into a CI log, as a small file. Every run is under `prlimit` (address
//! space and CPU seconds), so a regression fails by the limit instead of hanging the suite; no
//! wall-clock limit anywhere.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// 2 GiB of address space (the binary maps more than it touches) and 20 CPU seconds.
const LIMITS: [&str; 2] = ["--as=2147483648", "--cpu=20"];

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new("prlimit")
        .args(LIMITS)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_batchprep"))
        .args(args)
        .current_dir(dir)
        .env("BATCHPREP_TODAY", "2026-11-28")
        .env("HOME", dir)
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A pool body that passes the schema: `extra` members are merged into it.
fn pool(extra: serde_json::Value) -> serde_json::Value {
    let mut p = serde_json::json!({
        "id": "p",
        "vmSize": "Standard_D2s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {
                "publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2204", "version": "latest"
            },
            "nodeAgentSKUId": "batch.node.ubuntu 22.04",
            "containerConfiguration": {
                "type": "dockerCompatible",
                // A public registry: the pool needs no credentials, so a clean run exits 0.
                "containerImageNames": ["mcr.microsoft.com/azurelinux/base/core:3.0"]
            }
        }
    });
    if let serde_json::Value::Object(m) = extra {
        p.as_object_mut().unwrap().extend(m);
    }
    p
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A FIFO or `/dev/zero` as the pool, task or config file: refused at once, naming the file.
#[test]
fn non_regular_input_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pool.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    write(
        dir.path(),
        "ok.json",
        &pool(serde_json::json!({})).to_string(),
    );
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.json")).unwrap();
    for (args, expected) in [
        (
            vec!["check", "--offline", "pool.json"],
            "error: cannot read pool.json: a FIFO, not a regular file\n",
        ),
        (
            vec!["check", "--offline", "zero.json"],
            "error: cannot read zero.json: a character device, not a regular file\n",
        ),
        (
            vec!["check", "--offline", "ok.json", "--task", "zero.json"],
            "error: cannot read zero.json: a character device, not a regular file\n",
        ),
        (
            vec!["check", "--offline", "ok.json", "--config", "/dev/zero"],
            "error: cannot read /dev/zero: a character device, not a regular file\n",
        ),
    ] {
        let out = run(dir.path(), &args);
        assert_eq!(text(&out.stderr), expected, "{args:?}");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// 20,000 nested `concat(` and variables that fan out end in `template-value-unknown`: no stack
/// overflow, no hang.
#[test]
fn deep_and_fanning_out_templates_end_in_template_value_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("[{}'x'{}]", "concat(".repeat(20_000), ")".repeat(20_000));
    let mut vars = serde_json::Map::new();
    for i in 0..16 {
        let n = format!("variables('v{}')", i + 1);
        vars.insert(
            format!("v{i}"),
            serde_json::json!(format!("[concat({n}, {n}, {n}, {n})]")),
        );
    }
    vars.insert("v16".into(), serde_json::json!("abc"));
    let template = serde_json::json!({
        "variables": vars,
        "pool": pool(serde_json::json!({"id": deep, "vmSize": "[variables('v0')]"})),
    });
    write(dir.path(), "t.json", &template.to_string());
    let out = run(
        dir.path(),
        &["check", "--offline", "t.json", "--format", "json"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let unknown: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] == "template-value-unknown")
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect();
    // One for the 20,000-deep id, one for the fanned-out vmSize.
    assert!(unknown.len() >= 2, "{unknown:?}");
    // The 140 KB expression is shortened in the message.
    assert!(unknown.iter().all(|m| m.len() < 400), "{unknown:?}");
}

/// A minified file of many tasks: the human report shows a short excerpt of the line per finding,
/// not the whole line each time (this input once printed 30 GB).
#[test]
fn one_line_task_files_give_bounded_output() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pool.json",
        &pool(serde_json::json!({})).to_string(),
    );
    let task = serde_json::json!({
        "id": "t", "commandLine": "run",
        "containerSettings": {"imageName": "mcr.microsoft.com/azurelinux/base/core:3.0", "containerRunOptions": "--privileged"}
    });
    let tasks = serde_json::Value::Array(vec![task; 2_000]).to_string();
    write(dir.path(), "tasks.json", &tasks);
    let out = run(
        dir.path(),
        &["check", "--offline", "pool.json", "--task", "tasks.json"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.code().is_some(), "{}", text(&out.stderr));
    let longest = stdout.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 400, "a line of {longest} bytes");
}

/// Secrets from a pool file (a `securestring` default, a password in `registryServer`, a
/// numeric password) never reach any format, at any verbosity.
#[test]
fn secrets_in_pool_files_reach_no_format() {
    let dir = tempfile::tempdir().unwrap();
    let template = serde_json::json!({
        "parameters": {"pw": {"type": "securestring", "defaultValue": "Hunter2Secret"}},
        "pool": pool(serde_json::json!({"userAccounts": [{"name": "u", "password": "[parameters('pw')]"}]})),
    });
    let mut template = template;
    template["pool"]["virtualMachineConfiguration"]["containerConfiguration"]["containerRegistries"] = serde_json::json!([{"registryServer": "https://bob:Hunter2Secret@myacr.azurecr.io", "userName": "bob", "password": 31337314}]);
    template["pool"]["vmSize"] = serde_json::json!("[concat(parameters('pw'), 'Hunter2Secret')]");
    // Minified: the whole file is one line, shown in the human report.
    write(dir.path(), "t.json", &template.to_string());
    for format in ["human", "json", "sarif", "junit", "github", "azure"] {
        for verbose in [false, true] {
            let mut args = vec!["check", "--offline", "t.json", "--format", format];
            if verbose {
                args.push("--verbose");
            }
            let out = run(dir.path(), &args);
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert!(out.status.code().is_some());
            assert!(!all.contains("Hunter2Secret"), "{format} {verbose}: {all}");
            assert!(!all.contains("31337314"), "{format} {verbose}: {all}");
        }
    }
}

/// A newline in a value cannot start a CI log command of its own, in errors or reports.
#[test]
fn newlines_from_inputs_stay_escaped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pool.json",
        &pool(serde_json::json!({})).to_string(),
    );
    let out = run(
        dir.path(),
        &[
            "check",
            "--offline",
            "pool.json",
            "--vnet",
            "10.0.0.0/8\n##vso[task.setvariable variable=x]1",
        ],
    );
    assert_eq!(
        text(&out.stderr),
        "error: --vnet: invalid CIDR `10.0.0.0/8\\n##vso[task.setvariable variable=x]1`: `8\\n##vso[task.setvariable variable=x]1` is not a prefix length\n"
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A task file with a map where a string belongs names the field, once.
#[test]
fn task_file_errors_name_the_field_once() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pool.json",
        &pool(serde_json::json!({})).to_string(),
    );
    write(
        dir.path(),
        "tasks.json",
        r#"[{"id": "t", "containerSettings": {"imageName": {"x": "Hunter2Secret"}}}]"#,
    );
    let out = run(
        dir.path(),
        &["check", "--offline", "pool.json", "--task", "tasks.json"],
    );
    assert_eq!(
        text(&out.stderr),
        "error: tasks.json: task at /0: `containerSettings.imageName`: invalid type: map, expected a string\n"
    );
    assert_eq!(out.status.code(), Some(2));
}
