//! An ARM deployment template with one `Microsoft.Batch/batchAccounts/pools` resource in an existing
//! Batch account. Passwords become `securestring` parameters.

use serde_json::{Map, Value, json};

use super::{
    ARM_API_VERSION, Emitted, Node, SecretValues, acr_pull_note, arm_identity, arm_properties,
    camel_name, password_params,
};
use crate::plan::PoolPlan;

/// ARM reads a string starting with `[` as an expression; `[[` escapes it.
fn arm_string(v: &str) -> Value {
    if v.starts_with('[') {
        Value::String(format!("[{v}"))
    } else {
        Value::String(v.to_owned())
    }
}

fn to_json(node: &Node) -> Value {
    match node {
        Node::Str(v) => arm_string(v),
        Node::Int(i) => json!(i),
        Node::Bool(b) => json!(b),
        Node::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Node::Obj(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Node::Param(name) => Value::String(format!("[parameters('{name}')]")),
    }
}

pub(super) fn emit(plan: &PoolPlan, secrets: Option<&SecretValues>) -> Emitted {
    let mut params = Map::new();
    params.insert(
        "batchAccountName".into(),
        json!({"type": "string", "metadata": {"description": "The existing Batch account the pool belongs to."}}),
    );
    if secrets.is_none() {
        for p in password_params(plan) {
            params.insert(
                camel_name(&p.env),
                json!({
                    "type": "securestring",
                    "metadata": {"description": format!("Password of {} at {} (batchprep reads it from ${}).", p.username, p.server, p.env)},
                }),
            );
        }
    }
    let mut resource = Map::new();
    resource.insert("type".into(), json!("Microsoft.Batch/batchAccounts/pools"));
    resource.insert("apiVersion".into(), json!(ARM_API_VERSION));
    resource.insert(
        "name".into(),
        json!(format!(
            "[format('{{0}}/{{1}}', parameters('batchAccountName'), '{}')]",
            plan.id
        )),
    );
    if let Some(identity) = arm_identity(plan) {
        resource.insert("identity".into(), to_json(&identity));
    }
    resource.insert("properties".into(), to_json(&arm_properties(plan, secrets)));
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": params,
        "resources": [resource],
    });
    let mut text = serde_json::to_string_pretty(&template).expect("JSON serialises");
    text.push('\n');
    Emitted {
        text,
        notes: acr_pull_note(plan).into_iter().collect(),
    }
}
