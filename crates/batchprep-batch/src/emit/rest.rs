//! The data-plane body (`POST {endpoint}/pools?api-version=2026-10-01`, `BatchPoolCreateOptions`):
//! camelCase names and lower/camelCase enums. Validated against the official schema in the tests.

use serde_json::{Map, Value, json};

use super::{Emitted, SecretValues, password_params};
use crate::{
    plan::{Note, NoteLevel, PoolPlan, Scale},
    spec::{PublicIp, RegistryAuth},
};

/// The `BatchPoolCreateOptions` body. Without `secrets`, a password is the placeholder `${VAR}`.
pub fn rest_body(plan: &PoolPlan, secrets: Option<&SecretValues>) -> Value {
    let mut body = Map::new();
    body.insert("id".into(), json!(plan.id));
    if let Some(name) = &plan.display_name {
        body.insert("displayName".into(), json!(name));
    }
    body.insert("vmSize".into(), json!(plan.vm_size));

    let mut container = Map::new();
    container.insert("type".into(), json!("dockerCompatible"));
    if !plan.prefetch.container_image_names.is_empty() {
        container.insert(
            "containerImageNames".into(),
            json!(plan.prefetch.container_image_names),
        );
    }
    if !plan.prefetch.registries.is_empty() {
        let regs: Vec<Value> = plan
            .prefetch
            .registries
            .iter()
            .map(|r| match &r.auth {
                RegistryAuth::Identity(id) => json!({
                    "registryServer": r.server,
                    "identityReference": {"resourceId": id},
                }),
                RegistryAuth::Password {
                    username,
                    password_env,
                } => {
                    let password = secrets
                        .and_then(|m| m.get(password_env))
                        .cloned()
                        .unwrap_or_else(|| format!("${{{password_env}}}"));
                    json!({
                        "registryServer": r.server,
                        "username": username,
                        "password": password,
                    })
                }
            })
            .collect();
        container.insert("containerRegistries".into(), Value::Array(regs));
    }
    body.insert(
        "virtualMachineConfiguration".into(),
        json!({
            "imageReference": {
                "publisher": plan.image.publisher,
                "offer": plan.image.offer,
                "sku": plan.image.sku,
                "version": plan.image.version,
            },
            "nodeAgentSKUId": plan.node_agent_sku_id,
            "containerConfiguration": container,
        }),
    );
    match &plan.scale {
        Scale::Fixed {
            dedicated,
            low_priority,
        } => {
            body.insert("targetDedicatedNodes".into(), json!(dedicated));
            body.insert("targetLowPriorityNodes".into(), json!(low_priority));
        }
        Scale::Auto {
            formula,
            evaluation_interval,
        } => {
            body.insert("enableAutoScale".into(), json!(true));
            body.insert("autoScaleFormula".into(), json!(formula));
            body.insert(
                "autoScaleEvaluationInterval".into(),
                json!(evaluation_interval),
            );
        }
    }
    if let Some(slots) = plan.task_slots_per_node {
        body.insert("taskSlotsPerNode".into(), json!(slots));
    }
    if let Some(net) = &plan.network {
        let mut n = Map::new();
        if let Some(subnet) = &net.subnet_id {
            n.insert("subnetId".into(), json!(subnet));
        }
        if let Some(ip) = net.public_ip {
            let provision = match ip {
                PublicIp::BatchManaged => "batchmanaged",
                PublicIp::UserManaged => "usermanaged",
                PublicIp::NoPublicIpAddresses => "nopublicipaddresses",
            };
            let mut ipc = Map::new();
            ipc.insert("provision".into(), json!(provision));
            if !net.public_ip_ids.is_empty() {
                ipc.insert("ipAddressIds".into(), json!(net.public_ip_ids));
            }
            n.insert("publicIPAddressConfiguration".into(), Value::Object(ipc));
        }
        body.insert("networkConfiguration".into(), Value::Object(n));
    }
    if let Some(task) = &plan.start_task {
        body.insert("startTask".into(), task.to_rest());
    }
    Value::Object(body)
}

pub(super) fn emit(plan: &PoolPlan, secrets: Option<&SecretValues>) -> Emitted {
    let mut text =
        serde_json::to_string_pretty(&rest_body(plan, secrets)).expect("JSON serialises");
    text.push('\n');
    let mut notes = Vec::new();
    if secrets.is_none() {
        for p in password_params(plan) {
            notes.push(Note::new(
                NoteLevel::Note,
                format!(
                    "the password of {} at {} is the placeholder ${{{}}}: fill it before sending (envsubst < pool.json), or emit with --include-secrets",
                    p.username, p.server, p.env
                ),
            ));
        }
    }
    if !plan.identities.is_empty() {
        notes.push(Note::new(
            NoteLevel::Warning,
            format!(
                "the data plane cannot attach identities to a pool: create it with --format arm, bicep or terraform, which attach {}",
                plan.identities.join(", ")
            ),
        ));
    }
    Emitted { text, notes }
}
