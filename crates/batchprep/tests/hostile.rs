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
            "error: cannot read task file zero.json: a character device, not a regular file\n",
        ),
        (
            vec!["check", "--offline", "ok.json", "--config", "/dev/zero"],
            "error: cannot read config /dev/zero: a character device, not a regular file\n",
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

/// A secret this run holds (a pool's registry password, a `--creds` password) is masked wherever it
/// turns up, under any field name: here in a task's command line, which findings quote.
#[test]
fn secrets_in_use_are_masked_in_every_field_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = pool(serde_json::json!({}));
    p["virtualMachineConfiguration"]["containerConfiguration"]["containerRegistries"] = serde_json::json!([{"registryServer": "myacr.azurecr.io", "username": "u", "password": "Pool-Pa55word"}]);
    write(dir.path(), "pool.json", &p.to_string());
    write(
        dir.path(),
        "task.json",
        r#"{"id": "t", "commandLine": "run --a=$AZ_BATCH_NODE_ROOT_DIR/Pool-Pa55word --b=$AZ_BATCH_NODE_ROOT_DIR/Flag-Pa55word", "containerSettings": {"imageName": "mcr.microsoft.com/azurelinux/base/core:3.0"}}"#,
    );
    for format in ["human", "json", "sarif", "junit", "github", "azure"] {
        let out = run(
            dir.path(),
            &[
                "check",
                "--offline",
                "pool.json",
                "--task",
                "task.json",
                "--creds",
                "u:Flag-Pa55word",
                "--format",
                format,
            ],
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        // The finding that quotes the arguments is there, with the secrets masked.
        assert!(all.contains("unexpanded-variable"), "{format}: {all}");
        assert!(!all.contains("Pool-Pa55word"), "{format}: {all}");
        assert!(!all.contains("Flag-Pa55word"), "{format}: {all}");
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

/// An image whose only layer is `tar` (uncompressed), tagged `1.0`, with `config`.
fn image(dir: &Path, tar: &[u8], config: serde_json::Value) -> (String, String) {
    use batchprep_testkit::{LayoutWriter, media, sha256};
    LayoutWriter::single(dir, "1.0", media::OCI_TAR, tar, config);
    (format!("oci:{}:1.0", dir.display()), sha256(tar))
}

/// A tar of one entry whose PAX `path` record is `path`.
fn pax_path_tar(path: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_pax_extensions([("path", path.as_bytes())])
        .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("placeholder").unwrap();
    h.set_size(0);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
    b.into_inner().unwrap()
}

/// A blob or layout file that is a FIFO or a link to `/dev/zero`: one line naming it, at once.
#[test]
fn non_regular_image_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tar = batchprep_testkit::TarBuilder::new()
        .file("a", 0o644, b"x")
        .finish();
    let (source, layer) = image(dir.path(), &tar, serde_json::json!({}));
    let blob = dir
        .path()
        .join("blobs/sha256")
        .join(layer.trim_start_matches("sha256:"));
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &blob).unwrap();
    let out = run(dir.path(), &["inspect", &source]);
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: cannot read image {source}: cannot read {}: a character device, not a regular file\n",
            blob.display()
        )
    );
    assert_eq!(out.status.code(), Some(2));
    let index = dir.path().join("index.json");
    std::fs::remove_file(&index).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&index)
            .status()
            .unwrap()
            .success()
    );
    let out = run(dir.path(), &["inspect", &source]);
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: cannot read image {source}: cannot read {}: a FIFO, not a regular file\n",
            index.display()
        )
    );
    assert_eq!(out.status.code(), Some(2));
}

/// 30 KB of `[` as a pool file: serde_json's recursion limit answers before anything is indexed.
#[test]
fn deeply_nested_json_is_one_error_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pool.json", &"[".repeat(30_000));
    let out = run(dir.path(), &["check", "--offline", "pool.json"]);
    assert_eq!(
        text(&out.stderr),
        "error: pool.json: not valid JSON: recursion limit exceeded at line 1 column 128\n"
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Deep paths under many distinct tops, each within the path limit: the parents they imply would
/// take memory quadratic in the layer (300 entries, 1.5 MB of layer, were 1.3 GB of paths); past
/// the budget it is one error naming the entry, in bounded memory (the run's 2 GiB limit).
#[test]
fn parents_implied_by_deep_paths_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..300 {
        let path = format!("{i}/{}f", "a/".repeat(2000));
        b.append_pax_extensions([("path", path.as_bytes())])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("placeholder").unwrap();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let (source, _) = image(dir.path(), &tar, serde_json::json!({}));
    let out = run(dir.path(), &["inspect", &source]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: cannot read image {source}: the parent directories the layers imply take more than 64 MiB of paths (at `/"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    assert_eq!(out.status.code(), Some(2));
}

/// A PAX header of 2 MiB is refused naming the entry before it; a 500,000-component path (within
/// the header budget) is refused by its length, instead of storing every parent's full path.
#[test]
fn huge_headers_and_deep_paths_are_refused_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut tar = batchprep_testkit::TarBuilder::new()
        .file("before", 0o644, b"x")
        .unfinished();
    tar.extend(pax_path_tar(&"x".repeat(2 << 20)));
    tar.extend([0; 1024]);
    let (source, layer) = image(dir.path(), &tar, serde_json::json!({}));
    let out = run(dir.path(), &["inspect", &source]);
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: cannot read image {source}: layer {layer}: the tar headers after entry `before` take more than the 1048576 bytes allowed (a GNU long name or PAX header)\n"
        )
    );
    assert_eq!(out.status.code(), Some(2));

    let dir = tempfile::tempdir().unwrap();
    let mut tar = pax_path_tar(&"a/".repeat(500_000));
    tar.extend([0; 1024]);
    let (source, layer) = image(dir.path(), &tar, serde_json::json!({}));
    let out = run(dir.path(), &["inspect", &source]);
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: cannot read image {source}: layer {layer}: entry `{}... (999800 more characters)` is longer than the 4096 bytes a Linux path may have\n",
            "a/".repeat(100)
        )
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A layer that turns a directory of many files into a file and back, again and again: each flip
/// removes the tree once, instead of rescanning it (under the CPU limit of [`run`]).
#[test]
fn directory_file_flips_cost_what_they_remove() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = batchprep_testkit::TarBuilder::new().dir("d", 0o755);
    for i in 0..5_000 {
        b = b.file(format!("d/f{i}"), 0o644, b"");
    }
    for _ in 0..5_000 {
        b = b.file("d", 0o644, b"").dir("d", 0o755);
    }
    let tar = b.file("d/last", 0o644, b"").finish();
    let (source, _) = image(dir.path(), &tar, serde_json::json!({}));
    let out = run(
        dir.path(),
        &[
            "inspect", &source, "--format", "json", "--stat", "/d/f1", "--stat", "/d/last",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let inspection: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The 5,000 files went with the first flip; what the last directory holds is there.
    assert_eq!(inspection["stat"][0]["exists"], false, "{inspection}");
    assert_eq!(inspection["stat"][1]["exists"], true, "{inspection}");
}

/// Newlines and ESC in image strings (Entrypoint, labels) reach no output raw: no line of any
/// output starts a CI command, and no ESC reaches the terminal.
#[test]
fn control_characters_from_images_stay_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let tar = batchprep_testkit::TarBuilder::new()
        .file("bin/sh", 0o755, b"#!/bin/sh\n")
        .finish();
    let evil = "x\n##vso[task.setvariable variable=a]1\n::error::pwned\u{1b}[2J";
    let (source, _) = image(
        dir.path(),
        &tar,
        serde_json::json!({"Entrypoint": [evil], "WorkingDir": evil, "Labels": {evil: evil}}),
    );
    for args in [
        vec!["inspect", &source],
        vec!["lint", &source],
        vec!["lint", &source, "--format", "junit"],
        vec!["lint", &source, "--format", "sarif"],
        vec!["lint", &source, "--verbose"],
    ] {
        let out = run(dir.path(), &args);
        assert!(out.status.code().is_some(), "{args:?}");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            all.contains("##vso"),
            "{args:?}: the value is shown, escaped: {all}"
        );
        for line in all.lines() {
            let l = line.trim_start();
            assert!(
                !l.starts_with("##vso[") && !l.starts_with("::"),
                "{args:?}: {line}"
            );
        }
        assert!(!all.contains('\u{1b}'), "{args:?}: {all}");
    }
}

/// The tar crate quotes the raw bytes of a bad numeric field; the error names the field instead.
#[test]
fn tar_errors_do_not_quote_header_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut tar = batchprep_testkit::TarBuilder::new()
        .file("a", 0o644, b"")
        .finish();
    // The size field (offset 124, 12 bytes) of the first header: binary garbage, checksum fixed.
    tar[124..136].copy_from_slice(b"\x1b[31m\n\x01zzz\xff\0");
    let mut h = tar::Header::new_old();
    h.as_mut_bytes().copy_from_slice(&tar[..512]);
    h.set_cksum();
    tar[..512].copy_from_slice(h.as_bytes());
    let (source, layer) = image(dir.path(), &tar, serde_json::json!({}));
    let out = run(dir.path(), &["inspect", &source]);
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: cannot read image {source}: layer {layer}: invalid tar: header field `size` is not a number\n"
        )
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A megabyte value of the wrong type in a config is not quoted into the one-line error.
#[test]
fn serde_errors_name_the_kind_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let tar = batchprep_testkit::TarBuilder::new()
        .file("a", 0o644, b"")
        .finish();
    let (source, _) = image(
        dir.path(),
        &tar,
        serde_json::json!({"Entrypoint": "Hunter2Secret".repeat(100_000)}),
    );
    let out = run(dir.path(), &["inspect", &source]);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("Hunter2Secret"), "{stderr}");
    assert!(
        stderr.len() < 600 && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert!(
        stderr.contains(": invalid type: string, expected a sequence at line 1 column "),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A password typed into `password-env` is not echoed back.
#[test]
fn a_password_in_password_env_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "batchprep.toml",
        "[pool]\nid = \"x\"\nvm-size = \"Standard_D2s_v3\"\nimage = \"ubuntu-hpc-2404\"\ndedicated-nodes = 1\n\n[[pool.registries]]\nserver = \"myacr.azurecr.io\"\nusername = \"u\"\npassword-env = \"Hunter2 Secret!\"\n",
    );
    let out = run(dir.path(), &["pool", "emit", "batchprep.toml"]);
    assert_eq!(
        text(&out.stderr),
        "error: batchprep.toml: line 7: [[pool.registries]] password-env: the value (15 characters) is not an environment variable name (letters, digits and `_`); give the name of the variable that holds the password, not the password\n"
    );
    assert_eq!(out.status.code(), Some(2));
}

/// `10.0.0.0/+8` is not a prefix length (it used to be "longer than 32 bits").
#[test]
fn a_signed_prefix_length_is_not_a_prefix_length() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pool.json",
        &pool(serde_json::json!({})).to_string(),
    );
    let out = run(
        dir.path(),
        &["check", "--offline", "pool.json", "--vnet", "10.0.0.0/+8"],
    );
    assert_eq!(
        text(&out.stderr),
        "error: --vnet: invalid CIDR `10.0.0.0/+8`: `+8` is not a prefix length\n"
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A password in a one-line Bicep object is masked in the source line the human report shows.
#[test]
fn secrets_in_bicep_source_lines_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(
        batchprep_testkit::repo_root().join("testdata/pool-sources/bicep/pools.bicep"),
    )
    .unwrap();
    let block = "containerRegistries: [\n            {\n              registryServer: 'MyAcr'\n              username: 'acr'\n              password: acrPassword\n            }\n          ]";
    assert!(fixture.contains(block));
    let one_line = "containerRegistries: [ { registryServer: 'MyAcr', username: 'acr', password: 'Hunter2Secret' } ]";
    write(dir.path(), "pools.bicep", &fixture.replace(block, one_line));
    let out = run(dir.path(), &["check", "--offline", "pools.bicep"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "35 |           containerRegistries: [ { registryServer: 'MyAcr', username: 'acr', password: '*************' } ]\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("Hunter2Secret"), "{stdout}");
}
