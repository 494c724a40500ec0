//! Every example spec under `testdata/pools/` written for every surface: the exact output (insta
//! snapshots), and the REST body validated against the official data-plane schema.

use std::path::{Path, PathBuf};

use batchprep_batch::{
    catalog::Date,
    emit::{self, SecretValues, Surface},
    net::NetworkSpec,
    plan::{PlanContext, PoolPlan},
    spec::PoolSpec,
};
use batchprep_testkit::batch_schema::{errors, pool_validator};
use serde_json::Value;

const SPECS: [&str; 5] = ["cpu", "gpu", "rdma", "private-registry", "identity"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example's plan, with "today" pinned so end-of-life warnings do not move.
fn plan(name: &str) -> PoolPlan {
    let rel = format!("testdata/pools/{name}/batchprep.toml");
    let text = std::fs::read_to_string(repo().join(&rel)).unwrap();
    let spec = PoolSpec::from_config_text(&text, Some(Path::new(&rel)))
        .unwrap()
        .unwrap();
    let checked = spec.check(&text, Some(Path::new(&rel))).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let network = table
        .get("network")
        .and_then(|n| n.as_table())
        .map(|t| NetworkSpec::from_table(t, &rel).unwrap());
    PoolPlan::build(
        &checked,
        PlanContext {
            today: Date::parse("2026-11-28").unwrap(),
            network: network.as_ref(),
            file: &rel,
        },
    )
    .unwrap()
}

fn notes(emitted: &emit::Emitted, plan: &PoolPlan) -> String {
    plan.notes
        .iter()
        .chain(&emitted.notes)
        .map(|n| format!("{n}\n"))
        .collect()
}

#[test]
fn rest_snapshots() {
    for name in SPECS {
        let plan = plan(name);
        let out = emit::emit(&plan, Surface::Rest, None);
        insta::assert_snapshot!(format!("{name}-rest"), out.text);
        insta::assert_snapshot!(format!("{name}-notes"), notes(&out, &plan));
    }
}

#[test]
fn arm_snapshots() {
    for name in SPECS {
        let out = emit::emit(&plan(name), Surface::Arm, None);
        insta::assert_snapshot!(format!("{name}-arm"), out.text);
    }
}

#[test]
fn bicep_snapshots() {
    for name in SPECS {
        let out = emit::emit(&plan(name), Surface::Bicep, None);
        insta::assert_snapshot!(format!("{name}-bicep"), out.text);
    }
}

#[test]
fn terraform_snapshots() {
    for name in SPECS {
        let out = emit::emit(&plan(name), Surface::Terraform, None);
        insta::assert_snapshot!(format!("{name}-terraform"), out.text);
    }
}

#[test]
fn rest_bodies_validate_against_the_official_schema() {
    let official = pool_validator(false);
    let strict = pool_validator(true);
    for name in SPECS {
        let plan = plan(name);
        for secrets in [None, Some(secret_values())] {
            let body = emit::rest_body(&plan, secrets.as_ref());
            assert_eq!(errors(&official, &body), Vec::<String>::new(), "{name}");
            assert_eq!(
                errors(&strict, &body),
                Vec::<String>::new(),
                "{name} (strict)"
            );
        }
    }
}

#[test]
fn the_schema_check_catches_wrong_casing_and_names() {
    let strict = pool_validator(true);
    let mut body = emit::rest_body(&plan("cpu"), None);
    body["virtualMachineConfiguration"]["containerConfiguration"]["type"] =
        "DockerCompatible".into();
    let vm = body["virtualMachineConfiguration"].as_object_mut().unwrap();
    let agent = vm.remove("nodeAgentSKUId").unwrap();
    vm.insert("nodeAgentSkuId".into(), agent);
    let found = errors(&strict, &body);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|e| e.contains("\"DockerCompatible\" is not one of")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|e| e.contains("nodeAgentSKUId")),
        "{found:#?}"
    );
}

fn secret_values() -> SecretValues {
    [
        ("ACR_PASSWORD".to_owned(), "s3cr3t-acr".to_owned()),
        ("DOCKERHUB_TOKEN".to_owned(), "dckr_pat_x".to_owned()),
    ]
    .into_iter()
    .collect()
}

#[test]
fn secrets_are_written_only_when_included() {
    let plan = plan("private-registry");
    for surface in [
        Surface::Rest,
        Surface::Arm,
        Surface::Bicep,
        Surface::Terraform,
    ] {
        let placeholder = emit::emit(&plan, surface, None).text;
        assert!(!placeholder.contains("s3cr3t-acr"), "{surface:?}");
        let clear = emit::emit(&plan, surface, Some(&secret_values())).text;
        assert!(
            clear.contains("s3cr3t-acr") && clear.contains("dckr_pat_x"),
            "{surface:?}"
        );
    }
    let rest = emit::rest_body(&plan, None);
    let regs =
        &rest["virtualMachineConfiguration"]["containerConfiguration"]["containerRegistries"];
    assert_eq!(regs[0]["password"], "${ACR_PASSWORD}");
    assert_eq!(regs[1]["password"], "${DOCKERHUB_TOKEN}");
    let arm: Value = serde_json::from_str(&emit::emit(&plan, Surface::Arm, None).text).unwrap();
    assert_eq!(arm["parameters"]["acrPassword"]["type"], "securestring");
    let arm: Value =
        serde_json::from_str(&emit::emit(&plan, Surface::Arm, Some(&secret_values())).text)
            .unwrap();
    assert!(arm["parameters"].get("acrPassword").is_none());
}
