//! A Bicep module: the pool as a child of an existing Batch account. Passwords become `@secure()`
//! parameters.

use std::fmt::Write as _;

use super::{
    ARM_API_VERSION, Emitted, Node, SecretValues, acr_pull_note, arm_identity, arm_properties,
    camel_name, password_params,
};
use crate::plan::PoolPlan;

/// A Bicep string literal: single quotes, with `\`, `'`, `${` and control characters escaped. The
/// fixer writes Bicep values with it too.
pub fn literal(v: &str) -> String {
    let mut out = String::from("'");
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An object key: bare when it is an identifier, quoted otherwise (identity resource ids).
fn key(k: &str) -> String {
    let ident = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident { k.to_owned() } else { literal(k) }
}

fn write_node(out: &mut String, node: &Node, indent: usize) {
    let pad = "  ".repeat(indent);
    match node {
        Node::Str(v) => out.push_str(&literal(v)),
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Node::Param(name) => out.push_str(name),
        Node::List(items) if items.is_empty() => out.push_str("[]"),
        Node::List(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&pad);
                out.push_str("  ");
                write_node(out, item, indent + 1);
                out.push('\n');
            }
            out.push_str(&pad);
            out.push(']');
        }
        Node::Obj(fields) if fields.is_empty() => out.push_str("{}"),
        Node::Obj(fields) => {
            out.push_str("{\n");
            for (k, v) in fields {
                let _ = write!(out, "{pad}  {}: ", key(k));
                write_node(out, v, indent + 1);
                out.push('\n');
            }
            out.push_str(&pad);
            out.push('}');
        }
    }
}

pub(super) fn emit(plan: &PoolPlan, secrets: Option<&SecretValues>) -> Emitted {
    let mut out = String::new();
    out.push_str(
        "// Azure Batch pool written by batchprep (`batchprep pool emit --format bicep`).\n\n",
    );
    out.push_str("@description('The existing Batch account the pool belongs to.')\nparam batchAccountName string\n");
    if secrets.is_none() {
        for p in password_params(plan) {
            let _ = write!(
                out,
                "\n@secure()\n@description({})\nparam {} string\n",
                literal(&format!(
                    "Password of {} at {} (batchprep reads it from ${}).",
                    p.username, p.server, p.env
                )),
                camel_name(&p.env)
            );
        }
    }
    let _ = write!(
        out,
        "\nresource batchAccount 'Microsoft.Batch/batchAccounts@{ARM_API_VERSION}' existing = {{\n  name: batchAccountName\n}}\n\n"
    );
    let _ = write!(
        out,
        "resource pool 'Microsoft.Batch/batchAccounts/pools@{ARM_API_VERSION}' = {{\n  parent: batchAccount\n  name: {}\n",
        literal(&plan.id)
    );
    if let Some(identity) = arm_identity(plan) {
        out.push_str("  identity: ");
        write_node(&mut out, &identity, 1);
        out.push('\n');
    }
    out.push_str("  properties: ");
    write_node(&mut out, &arm_properties(plan, secrets), 1);
    out.push_str("\n}\n");
    Emitted {
        text: out,
        notes: acr_pull_note(plan).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_what_bicep_interpolates() {
        assert_eq!(literal("it's ${x} \\ $y"), r"'it\'s \${x} \\ $y'");
        assert_eq!(literal("a\nb"), r"'a\nb'");
        assert_eq!(literal("a\u{1}b"), r"'a\u{1}b'");
        assert_eq!(key("/subscriptions/x"), "'/subscriptions/x'");
        assert_eq!(key("vmSize"), "vmSize");
    }
}
