//! `batchprep init` and `batchprep schema`: the file init writes is one batchprep reads and the schema
//! accepts, a draft from a pool emits that pool again, no secret is copied, and the committed schema
//! is the one the config types generate.

use std::{
    path::Path,
    process::{Command, Output},
};

use batchprep_testkit::repo_root as root;

fn batchprep(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_batchprep"))
        .args(args)
        .current_dir(dir)
        .env("BATCHPREP_TODAY", "2026-11-28")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn schema() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/batchprep.schema.json")).unwrap(),
    )
    .unwrap()
}

/// The schema's complaints about a TOML text, as `message at /pointer`.
fn schema_errors(toml_text: &str) -> Vec<String> {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    let json = serde_json::to_value(value).unwrap();
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let out = batchprep(&root(), &["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("schema/batchprep.schema.json")).unwrap();
    assert!(
        text(&out.stdout) == committed,
        "schema/batchprep.schema.json is stale: run `cargo run -p batchprep -- schema > schema/batchprep.schema.json`"
    );
}

#[test]
fn every_committed_batchprep_toml_passes_the_schema_and_a_typo_does_not() {
    let mut checked = 0;
    for dir in [
        "testdata/example",
        "testdata/pools/cpu",
        "testdata/pools/gpu",
        "testdata/pools/identity",
        "testdata/pools/private-registry",
        "testdata/pools/rdma",
    ] {
        let file = root().join(dir).join("batchprep.toml");
        let errors = schema_errors(&std::fs::read_to_string(&file).unwrap());
        assert_eq!(errors, Vec::<String>::new(), "{}", file.display());
        checked += 1;
    }
    assert_eq!(checked, 6);
    // What batchprep refuses, the schema refuses too, so an editor flags it before a run does.
    let errors =
        schema_errors("[pool]\nid = \"a\"\nvm-size = \"b\"\nimage = \"c\"\ndedicated-node = 2\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("dedicated-node"), "{errors:?}");
    let errors = schema_errors("[rules]\nmutable-image-tag = \"fatal\"\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with("at /rules/mutable-image-tag"),
        "{errors:?}"
    );
}

#[test]
fn init_writes_a_starting_config_that_batchprep_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = batchprep(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "wrote ./batchprep.toml and ./batchprep.schema.json\n"
    );
    let config = std::fs::read_to_string(dir.path().join("batchprep.toml")).unwrap();
    assert!(
        config.starts_with("#:schema ./batchprep.schema.json\n"),
        "{config}"
    );
    assert_eq!(schema_errors(&config), Vec::<String>::new());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("batchprep.schema.json")).unwrap(),
        std::fs::read_to_string(root().join("schema/batchprep.schema.json")).unwrap()
    );
    // The starting spec is a pool batchprep can write out.
    let emitted = batchprep(dir.path(), &["pool", "emit"]);
    assert_eq!(emitted.status.code(), Some(0), "{}", text(&emitted.stderr));
    let pool: serde_json::Value = serde_json::from_slice(&emitted.stdout).unwrap();
    assert_eq!(pool["id"], "my-pool");
    assert_eq!(pool["targetDedicatedNodes"], 2);

    // A second init leaves the file alone.
    std::fs::write(dir.path().join("batchprep.toml"), "# mine\n").unwrap();
    let again = batchprep(dir.path(), &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        text(&again.stderr),
        "error: ./batchprep.toml exists; pass --force to replace it\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("batchprep.toml")).unwrap(),
        "# mine\n"
    );
    let forced = batchprep(dir.path(), &["init", "--force"]);
    assert_eq!(forced.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("batchprep.toml")).unwrap(),
        config
    );
}

#[test]
fn init_from_a_pool_drafts_a_spec_that_emits_the_same_pool() {
    let dir = tempfile::tempdir().unwrap();
    let source = root().join("testdata/example/pool.json");
    let out = batchprep(dir.path(), &["init", "--from", source.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = std::fs::read_to_string(dir.path().join("batchprep.toml")).unwrap();
    let pool_section: String = config
        .lines()
        .skip_while(|l| !l.starts_with("# Drafted"))
        .take_while(|l| !l.starts_with("# The address ranges"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(
        pool_section.replace(source.to_str().unwrap(), "testdata/example/pool.json")
    );
    assert_eq!(schema_errors(&config), Vec::<String>::new());

    let emitted = batchprep(dir.path(), &["pool", "emit", "--format", "rest"]);
    assert_eq!(emitted.status.code(), Some(0), "{}", text(&emitted.stderr));
    let pool: serde_json::Value = serde_json::from_slice(&emitted.stdout).unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&source).unwrap()).unwrap();
    for pointer in [
        "/id",
        "/vmSize",
        "/virtualMachineConfiguration/imageReference",
        "/virtualMachineConfiguration/nodeAgentSKUId",
        "/virtualMachineConfiguration/containerConfiguration/containerImageNames",
        "/virtualMachineConfiguration/containerConfiguration/containerRegistries",
        "/targetDedicatedNodes",
        "/networkConfiguration/subnetId",
    ] {
        assert_eq!(
            pool.pointer(pointer),
            original.pointer(pointer),
            "{pointer}"
        );
    }
}

#[test]
fn init_from_a_pool_never_copies_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let pool = dir.path().join("pool.json");
    std::fs::write(
        &pool,
        r#"{"id": "p", "vmSize": "Standard_D2s_v5", "virtualMachineConfiguration": {
             "imageReference": {"publisher": "microsoft-dsvm", "offer": "ubuntu-hpc", "sku": "2404"},
             "nodeAgentSKUId": "batch.node.ubuntu 24.04",
             "containerConfiguration": {"type": "dockerCompatible", "containerRegistries": [
               {"registryServer": "reg.example.com", "username": "ci", "password": "hunter2-do-not-print"}]}},
           "targetDedicatedNodes": 1}"#,
    )
    .unwrap();
    let out = batchprep(dir.path(), &["init", "--from", "pool.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = std::fs::read_to_string(dir.path().join("batchprep.toml")).unwrap();
    for shown in [&config, &text(&out.stderr), &text(&out.stdout)] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    assert!(
        config.contains("[[pool.registries]]\nserver = \"reg.example.com\"\nusername = \"ci\"\npassword-env = \"REGISTRY_PASSWORD\"\n"),
        "{config}"
    );
}

#[test]
fn init_from_a_file_that_is_not_a_pool_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), "{\"jobs\": []}").unwrap();
    let out = batchprep(dir.path(), &["init", "--from", "x.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: x.json: "), "{err}");
    assert!(!dir.path().join("batchprep.toml").exists());
    assert!(!dir.path().join("batchprep.schema.json").exists());
}
