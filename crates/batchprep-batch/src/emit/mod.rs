//! Pool emitters: one decided pool ([`PoolPlan`]) written for each surface in its own casing and
//! defaults: the data-plane REST body (camelCase enums), an ARM template and Bicep (PascalCase enums
//! under `deploymentConfiguration`, API 2025-06-01), and Terraform `azurerm_batch_pool` (whose defaults
//! differ from the API's, so `wait_for_success` and `scope` are spelled out).
//!
//! Secrets: a registry password is written only when the caller passes its value (`--include-secrets`).
//! Otherwise each surface gets its own way to pass it in: a `${VAR}` placeholder in REST JSON (JSON has no
//! comments; `envsubst` fills it), a `securestring` parameter in ARM, `@secure()` in Bicep, a
//! `sensitive` variable in Terraform.

mod arm;
mod bicep;
mod rest;
mod terraform;

pub use bicep::literal as bicep_string;
pub use terraform::{start_task_block as terraform_start_task, string as hcl_string};

use std::collections::BTreeMap;

use crate::{
    plan::{Note, PoolPlan},
    spec::RegistryAuth,
};

pub use rest::rest_body;

/// The ARM API version of `Microsoft.Batch/batchAccounts/pools` the templates use.
pub const ARM_API_VERSION: &str = "2025-06-01";

/// Which surface to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Surface {
    /// Data-plane REST body (`BatchPoolCreateOptions`).
    Rest,
    /// ARM deployment template.
    Arm,
    /// Bicep module.
    Bicep,
    /// Terraform (`azurerm_batch_pool`).
    Terraform,
}

/// Registry passwords by environment variable name, when the caller chose to include them.
pub type SecretValues = BTreeMap<String, String>;

/// What an emitter wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    /// The file contents.
    pub text: String,
    /// What the user must know about this surface (placeholders to fill, identities to attach).
    pub notes: Vec<Note>,
}

/// Writes `plan` for `surface`. With `secrets`, passwords are written in clear; without, each surface's
/// placeholder or secure parameter is used.
pub fn emit(plan: &PoolPlan, surface: Surface, secrets: Option<&SecretValues>) -> Emitted {
    match surface {
        Surface::Rest => rest::emit(plan, secrets),
        Surface::Arm => arm::emit(plan, secrets),
        Surface::Bicep => bicep::emit(plan, secrets),
        Surface::Terraform => terraform::emit(plan, secrets),
    }
}

/// A password parameter: the registry that needs it and the environment variable that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PasswordParam {
    env: String,
    server: String,
    username: String,
}

/// The password parameters a plan needs, one per environment variable, in spec order.
fn password_params(plan: &PoolPlan) -> Vec<PasswordParam> {
    let mut out: Vec<PasswordParam> = Vec::new();
    for r in &plan.prefetch.registries {
        if let RegistryAuth::Password {
            username,
            password_env,
        } = &r.auth
            && !out.iter().any(|p| &p.env == password_env)
        {
            out.push(PasswordParam {
                env: password_env.clone(),
                server: r.server.clone(),
                username: username.clone(),
            });
        }
    }
    out
}

/// `ACR_PASSWORD` -> `acrPassword` (ARM and Bicep parameter names).
fn camel_name(env: &str) -> String {
    let mut out = String::new();
    for (i, word) in env.split('_').filter(|w| !w.is_empty()).enumerate() {
        let lower = word.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut chars = lower.chars();
            if let Some(c) = chars.next() {
                out.push(c.to_ascii_uppercase());
                out.extend(chars);
            }
        }
    }
    out
}

/// A value tree shared by ARM and Bicep: the same shape, different spellings of a parameter reference.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Node>),
    Obj(Vec<(String, Node)>),
    /// A template parameter, by name.
    Param(String),
}

/// The ARM (and azurerm provider) spelling of a data-plane enum value of member `member`: the
/// management plane and Terraform spell them in PascalCase (`DockerCompatible`, `Pool`, `Admin`),
/// the data plane in camelCase. `None` for any other member or value.
pub fn arm_enum(member: &str, value: &str) -> Option<&'static str> {
    Some(match (member, value) {
        ("type", "dockerCompatible") => "DockerCompatible",
        ("type", "criCompatible") => "CriCompatible",
        ("scope", "pool") => "Pool",
        ("scope", "task") => "Task",
        ("elevationLevel", "admin") => "Admin",
        ("elevationLevel", "nonadmin") => "NonAdmin",
        _ => return None,
    })
}

/// An enum value (given in the data plane's spelling) as ARM spells it.
fn arm(member: &str, value: &'static str) -> Node {
    s(arm_enum(member, value).unwrap_or(value))
}

fn s(v: impl Into<String>) -> Node {
    Node::Str(v.into())
}

/// The pool resource's `properties` (ARM/Bicep, PascalCase enums) and whether it needs an identity.
fn arm_properties(plan: &PoolPlan, secrets: Option<&SecretValues>) -> Node {
    use crate::plan::Scale;
    let mut props: Vec<(String, Node)> = Vec::new();
    if let Some(name) = &plan.display_name {
        props.push(("displayName".into(), s(name)));
    }
    props.push(("vmSize".into(), s(&plan.vm_size)));
    if let Some(slots) = plan.task_slots_per_node {
        props.push(("taskSlotsPerNode".into(), Node::Int(i64::from(slots))));
    }

    let mut container = vec![("type".into(), arm("type", "dockerCompatible"))];
    if !plan.prefetch.container_image_names.is_empty() {
        container.push((
            "containerImageNames".into(),
            Node::List(plan.prefetch.container_image_names.iter().map(s).collect()),
        ));
    }
    if !plan.prefetch.registries.is_empty() {
        let regs = plan
            .prefetch
            .registries
            .iter()
            .map(|r| {
                let mut entry = vec![("registryServer".to_owned(), s(&r.server))];
                match &r.auth {
                    RegistryAuth::Identity(id) => entry.push((
                        "identityReference".into(),
                        Node::Obj(vec![("resourceId".into(), s(id))]),
                    )),
                    RegistryAuth::Password {
                        username,
                        password_env,
                    } => {
                        entry.push(("username".into(), s(username)));
                        let password = match secrets.and_then(|m| m.get(password_env)) {
                            Some(value) => s(value),
                            None => Node::Param(camel_name(password_env)),
                        };
                        entry.push(("password".into(), password));
                    }
                }
                Node::Obj(entry)
            })
            .collect();
        container.push(("containerRegistries".into(), Node::List(regs)));
    }
    let vm = vec![
        (
            "imageReference".to_owned(),
            Node::Obj(vec![
                ("publisher".into(), s(&plan.image.publisher)),
                ("offer".into(), s(&plan.image.offer)),
                ("sku".into(), s(&plan.image.sku)),
                ("version".into(), s(&plan.image.version)),
            ]),
        ),
        ("nodeAgentSkuId".into(), s(&plan.node_agent_sku_id)),
        ("containerConfiguration".into(), Node::Obj(container)),
    ];
    props.push((
        "deploymentConfiguration".into(),
        Node::Obj(vec![("virtualMachineConfiguration".into(), Node::Obj(vm))]),
    ));

    let scale = match &plan.scale {
        Scale::Fixed {
            dedicated,
            low_priority,
        } => (
            "fixedScale".to_owned(),
            Node::Obj(vec![
                (
                    "targetDedicatedNodes".into(),
                    Node::Int(i64::from(*dedicated)),
                ),
                (
                    "targetLowPriorityNodes".into(),
                    Node::Int(i64::from(*low_priority)),
                ),
            ]),
        ),
        Scale::Auto {
            formula,
            evaluation_interval,
        } => (
            "autoScale".to_owned(),
            Node::Obj(vec![
                ("formula".into(), s(formula)),
                ("evaluationInterval".into(), s(evaluation_interval)),
            ]),
        ),
    };
    props.push(("scaleSettings".into(), Node::Obj(vec![scale])));

    if let Some(net) = &plan.network {
        let mut n = Vec::new();
        if let Some(subnet) = &net.subnet_id {
            n.push(("subnetId".to_owned(), s(subnet)));
        }
        if let Some(ip) = net.public_ip {
            let mut ipc = vec![("provision".to_owned(), s(public_ip_pascal(ip)))];
            if !net.public_ip_ids.is_empty() {
                ipc.push((
                    "ipAddressIds".into(),
                    Node::List(net.public_ip_ids.iter().map(s).collect()),
                ));
            }
            n.push(("publicIPAddressConfiguration".into(), Node::Obj(ipc)));
        }
        props.push(("networkConfiguration".into(), Node::Obj(n)));
    }

    if let Some(task) = &plan.start_task {
        props.push((
            "startTask".into(),
            Node::Obj(vec![
                ("commandLine".into(), s(task.command_line())),
                (
                    "userIdentity".into(),
                    Node::Obj(vec![(
                        "autoUser".into(),
                        Node::Obj(vec![
                            ("scope".into(), arm("scope", "pool")),
                            ("elevationLevel".into(), arm("elevationLevel", "admin")),
                        ]),
                    )]),
                ),
                ("maxTaskRetryCount".into(), Node::Int(1)),
                ("waitForSuccess".into(), Node::Bool(true)),
            ]),
        ));
    }
    Node::Obj(props)
}

/// The pool `identity` object (ARM/Bicep), when registries use identities.
fn arm_identity(plan: &PoolPlan) -> Option<Node> {
    (!plan.identities.is_empty()).then(|| {
        Node::Obj(vec![
            ("type".into(), s("UserAssigned")),
            (
                "userAssignedIdentities".into(),
                Node::Obj(
                    plan.identities
                        .iter()
                        .map(|id| (id.clone(), Node::Obj(Vec::new())))
                        .collect(),
                ),
            ),
        ])
    })
}

fn public_ip_pascal(ip: crate::spec::PublicIp) -> &'static str {
    use crate::spec::PublicIp;
    match ip {
        PublicIp::BatchManaged => "BatchManaged",
        PublicIp::UserManaged => "UserManaged",
        PublicIp::NoPublicIpAddresses => "NoPublicIPAddresses",
    }
}

/// The note that an identity must also be granted pull rights.
fn acr_pull_note(plan: &PoolPlan) -> Option<Note> {
    (!plan.identities.is_empty()).then(|| {
        Note::new(
            crate::plan::NoteLevel::Note,
            format!(
                "the pool attaches {}: grant it AcrPull on the registr{} that name{} it",
                plan.identities.join(", "),
                if plan.identities.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                if plan.identities.len() == 1 { "s" } else { "" },
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names() {
        assert_eq!(camel_name("ACR_PASSWORD"), "acrPassword");
        assert_eq!(camel_name("HUB__TOKEN2"), "hubToken2");
        assert_eq!(camel_name("token"), "token");
    }
}
