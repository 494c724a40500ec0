//! Terraform `azurerm_batch_pool`. The provider's defaults differ from the API's (`wait_for_success`
//! false, auto-user `scope` Task), so both are written out, and the provider is pinned
//! (`required_providers`) so `terraform init` is reproducible. Passwords become `sensitive` variables.

use std::fmt::Write as _;

use super::{Emitted, SecretValues, acr_pull_note, password_params};
use crate::{
    plan::{PoolPlan, Scale},
    spec::{PublicIp, RegistryAuth},
};

/// One line of a block body: an attribute or a nested block.
enum Item {
    Attr(&'static str, String),
    Block(&'static str, Vec<Item>),
}

/// An HCL string literal: `"`, `\`, control characters, and the `${`/`%{` template openers escaped
/// (doubled, so they stay text). The fixer writes Terraform values with it too.
pub fn string(v: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|i| string(i))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A heredoc for multi-line text (autoscale formulas), with template openers escaped.
fn heredoc(v: &str, indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    let mut out = String::from("<<-EOT\n");
    for line in v.lines() {
        let _ = writeln!(
            out,
            "{pad}{}",
            line.replace("${", "$${").replace("%{", "%%{")
        );
    }
    let _ = write!(out, "{}EOT", "  ".repeat(indent));
    out
}

/// An enum value (given in the data plane's spelling) as the provider spells it.
fn arm(member: &str, value: &'static str) -> String {
    string(super::arm_enum(member, value).unwrap_or(value))
}

/// batchprep's start task running `command_line` (what `start_task::rest_start_task` is in REST).
fn start_task_item(command_line: &str) -> Item {
    Item::Block(
        "start_task",
        vec![
            Item::Attr("command_line", string(command_line)),
            Item::Attr("task_retry_maximum", "1".into()),
            Item::Attr("wait_for_success", "true".into()),
            Item::Block(
                "user_identity",
                vec![Item::Block(
                    "auto_user",
                    vec![
                        Item::Attr("elevation_level", arm("elevationLevel", "admin")),
                        Item::Attr("scope", arm("scope", "pool")),
                    ],
                )],
            ),
        ],
    )
}

/// batchprep's start task running `command_line` as a Terraform `start_task` block at the left
/// margin, laid out as `terraform fmt` does, ending in a newline: `pool emit` writes it, and the
/// fixer inserts it into a pool.
pub fn start_task_block(command_line: &str) -> String {
    let mut out = String::new();
    write_body(&mut out, &[start_task_item(command_line)], 0);
    out
}

/// Writes a body the way `terraform fmt` does: `=` aligned within each run of attributes.
fn write_body(out: &mut String, items: &[Item], indent: usize) {
    let pad = "  ".repeat(indent);
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Block(name, body) => {
                if i > 0 {
                    out.push('\n');
                }
                let _ = writeln!(out, "{pad}{name} {{");
                write_body(out, body, indent + 1);
                let _ = writeln!(out, "{pad}}}");
                i += 1;
                if i < items.len() && matches!(items[i], Item::Attr(..)) {
                    out.push('\n');
                }
            }
            Item::Attr(..) => {
                let run: Vec<&Item> = items[i..]
                    .iter()
                    .take_while(|it| matches!(it, Item::Attr(..)))
                    .collect();
                let width = run
                    .iter()
                    .map(|it| match it {
                        Item::Attr(k, _) => k.len(),
                        Item::Block(..) => 0,
                    })
                    .max()
                    .unwrap_or(0);
                for it in &run {
                    if let Item::Attr(k, v) = it {
                        let _ = writeln!(out, "{pad}{k:width$} = {v}");
                    }
                }
                i += run.len();
            }
        }
    }
}

/// A resource name: letters, digits, `_` and `-`, not starting with a digit.
fn resource_name(id: &str) -> String {
    let name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name
    } else {
        format!("pool_{name}")
    }
}

pub(super) fn emit(plan: &PoolPlan, secrets: Option<&SecretValues>) -> Emitted {
    let mut out = String::from(
        "# Azure Batch pool written by batchprep (`batchprep pool emit --format terraform`).\n\n",
    );
    // Pinned so `terraform init` picks the provider whose defaults this file was written for.
    out.push_str("terraform {\n  required_providers {\n    azurerm = {\n      source  = \"hashicorp/azurerm\"\n      version = \"~> 4.0\"\n    }\n  }\n}\n\n");
    out.push_str("variable \"resource_group_name\" {\n  description = \"The resource group of the Batch account.\"\n  type        = string\n}\n\n");
    out.push_str("variable \"batch_account_name\" {\n  description = \"The existing Batch account the pool belongs to.\"\n  type        = string\n}\n\n");
    if secrets.is_none() {
        for p in password_params(plan) {
            let _ = write!(
                out,
                "variable \"{}\" {{\n  description = {}\n  type        = string\n  sensitive   = true\n}}\n\n",
                p.env.to_ascii_lowercase(),
                string(&format!(
                    "Password of {} at {} (batchprep reads it from ${}).",
                    p.username, p.server, p.env
                ))
            );
        }
    }

    let mut body = vec![
        Item::Attr("name", string(&plan.id)),
        Item::Attr("resource_group_name", "var.resource_group_name".into()),
        Item::Attr("account_name", "var.batch_account_name".into()),
    ];
    if let Some(name) = &plan.display_name {
        body.push(Item::Attr("display_name", string(name)));
    }
    body.push(Item::Attr("vm_size", string(&plan.vm_size)));
    body.push(Item::Attr(
        "node_agent_sku_id",
        string(&plan.node_agent_sku_id),
    ));
    if let Some(slots) = plan.task_slots_per_node {
        body.push(Item::Attr("max_tasks_per_node", slots.to_string()));
    }
    body.push(Item::Block(
        "storage_image_reference",
        vec![
            Item::Attr("publisher", string(&plan.image.publisher)),
            Item::Attr("offer", string(&plan.image.offer)),
            Item::Attr("sku", string(&plan.image.sku)),
            Item::Attr("version", string(&plan.image.version)),
        ],
    ));
    match &plan.scale {
        Scale::Fixed {
            dedicated,
            low_priority,
        } => body.push(Item::Block(
            "fixed_scale",
            vec![
                Item::Attr("target_dedicated_nodes", dedicated.to_string()),
                Item::Attr("target_low_priority_nodes", low_priority.to_string()),
            ],
        )),
        Scale::Auto {
            formula,
            evaluation_interval,
        } => body.push(Item::Block(
            "auto_scale",
            vec![
                Item::Attr("evaluation_interval", string(evaluation_interval)),
                Item::Attr("formula", heredoc(formula, 2)),
            ],
        )),
    }
    if !plan.identities.is_empty() {
        body.push(Item::Block(
            "identity",
            vec![
                Item::Attr("type", string("UserAssigned")),
                Item::Attr("identity_ids", list(&plan.identities)),
            ],
        ));
    }

    let mut container = vec![Item::Attr("type", arm("type", "dockerCompatible"))];
    if !plan.prefetch.container_image_names.is_empty() {
        container.push(Item::Attr(
            "container_image_names",
            list(&plan.prefetch.container_image_names),
        ));
    }
    for r in &plan.prefetch.registries {
        let mut reg = vec![Item::Attr("registry_server", string(&r.server))];
        match &r.auth {
            RegistryAuth::Identity(id) => {
                reg.push(Item::Attr("user_assigned_identity_id", string(id)));
            }
            RegistryAuth::Password {
                username,
                password_env,
            } => {
                reg.push(Item::Attr("user_name", string(username)));
                let password = match secrets.and_then(|m| m.get(password_env)) {
                    Some(value) => string(value),
                    None => format!("var.{}", password_env.to_ascii_lowercase()),
                };
                reg.push(Item::Attr("password", password));
            }
        }
        container.push(Item::Block("container_registries", reg));
    }
    body.push(Item::Block("container_configuration", container));

    if let Some(task) = &plan.start_task {
        body.push(start_task_item(&task.command_line()));
    }
    if let Some(net) = &plan.network {
        let mut n = Vec::new();
        if let Some(subnet) = &net.subnet_id {
            n.push(Item::Attr("subnet_id", string(subnet)));
        }
        if let Some(ip) = net.public_ip {
            let kind = match ip {
                PublicIp::BatchManaged => "BatchManaged",
                PublicIp::UserManaged => "UserManaged",
                PublicIp::NoPublicIpAddresses => "NoPublicIPAddresses",
            };
            n.push(Item::Attr("public_address_provisioning_type", string(kind)));
        }
        if !net.public_ip_ids.is_empty() {
            n.push(Item::Attr("public_ips", list(&net.public_ip_ids)));
        }
        body.push(Item::Block("network_configuration", n));
    }

    let _ = writeln!(
        out,
        "resource \"azurerm_batch_pool\" \"{}\" {{",
        resource_name(&plan.id)
    );
    write_body(&mut out, &body, 1);
    out.push_str("}\n");
    Emitted {
        text: out,
        notes: acr_pull_note(plan).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_templates() {
        assert_eq!(string("a\"b ${x} %{y} $z"), r#""a\"b $${x} %%{y} $z""#);
        assert_eq!(string("a\u{1}b"), r#""a\u0001b""#);
        assert_eq!(resource_name("3d-render.v2"), "pool_3d-render_v2");
    }

    #[test]
    fn attributes_align_like_terraform_fmt() {
        let mut out = String::new();
        write_body(
            &mut out,
            &[
                Item::Attr("name", "\"x\"".into()),
                Item::Attr("vm_size", "\"y\"".into()),
                Item::Block("b", vec![Item::Attr("k", "1".into())]),
                Item::Attr("z", "2".into()),
            ],
            1,
        );
        assert_eq!(
            out,
            "  name    = \"x\"\n  vm_size = \"y\"\n\n  b {\n    k = 1\n  }\n\n  z = 2\n"
        );
    }
}
