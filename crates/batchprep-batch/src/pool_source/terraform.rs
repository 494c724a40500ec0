//! Terraform `azurerm_batch_pool`, from `.tf` files (one, or every file of a module directory) and
//! from `terraform show -json` output (`planned_values.root_module` and its child modules).
//!
//! `.tf` files are parsed with `hcl-edit`, the parser under `hcl-rs`: `hcl-rs`'s own `Body` drops
//! positions, `hcl-edit` keeps the byte span of every attribute and expression (and limits nesting, so
//! hostile input is an error, not a stack overflow). Values resolve as far as they can before apply:
//! literals, `var.x` with a default, `local.x`, and templates of known parts. Anything else (a
//! variable without a default, another resource's attribute, a function call) stays unknown and is
//! reported as such, never guessed. One exception: `azurerm_user_assigned_identity.NAME.id` of an
//! identity the module declares is kept as that reference, since what the checks need to know, that
//! the registry is pulled with a user-assigned identity, is known.
//!
//! Pools written with the AzAPI provider (`resource "azapi_resource"` of type
//! `Microsoft.Batch/batchAccounts/pools@...`) carry the ARM resource's own `body`, as an object or as
//! `jsonencode({...})`: that body is read with the ARM reader, with the same positions.
//!
//! The provider's names and defaults are mapped to the data-plane body (DESIGN.md §3): a start task's
//! `wait_for_success` defaults to false and its auto-user `scope` to Task, both unlike the API.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use hcl_edit::{
    Span,
    expr::{Expression, ObjectKey, TraversalOperator},
    structure::{Body, Structure},
    template::{Element, Template},
};
use serde_json::Value;

use super::{LineTable, MAX_DEPTH, PoolFile, PoolFileError, PoolKind, SourceIndex, node, object};
use crate::{
    json_pos::push_token,
    pool::{PoolDefinition, PoolShape, arm_shaped, data_plane},
    template::{Node, Resolver, Spanned},
};

/// The resource type read.
const POOL: &str = "azurerm_batch_pool";
/// The AzAPI resource type, and the ARM type (before `@version`) that makes one a pool.
const AZAPI: &str = "azapi_resource";
const ARM_POOL_TYPE: &str = "microsoft.batch/batchaccounts/pools";
/// The identity resource whose `id` is a known kind of value.
const IDENTITY: &str = "azurerm_user_assigned_identity";

/// Reads every `.tf` file of a directory as one module.
pub(super) fn read_dir(dir: &Path) -> Result<PoolFile, PoolFileError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| PoolFileError::Io(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(PoolFileError::Unsupported(
            "a directory without `.tf` files".into(),
        ));
    }
    let mut files = Vec::new();
    for p in paths {
        let text = batchprep_oci::input::read_text(&p)
            .map_err(|e| PoolFileError::Io(format!("{}: {}", p.display(), e.reason())))?;
        files.push((p, text));
    }
    let (pools, locations) = read_files(&files)?;
    Ok(PoolFile {
        kind: PoolKind::Terraform,
        pools,
        locations,
        json_text: None,
    })
}

/// One parsed `.tf` file.
struct File<'a> {
    index: usize,
    path: &'a Path,
    text: &'a str,
    lines: LineTable<'a>,
    body: Body,
}

/// Reads the pools of a module made of `files`.
pub(super) fn read_files(
    files: &[(PathBuf, String)],
) -> Result<(Vec<PoolDefinition>, SourceIndex), PoolFileError> {
    let mut parsed = Vec::new();
    for (index, (path, text)) in files.iter().enumerate() {
        let body = hcl_edit::parser::parse_body(text).map_err(|e| PoolFileError::Syntax {
            file: (files.len() > 1).then(|| path.clone()),
            line: e.location().line() as u32,
            column: e.location().column() as u32,
            message: format!("not valid HCL: {}", e.message()),
        })?;
        parsed.push(File {
            index,
            path,
            text,
            lines: LineTable::new(text),
            body,
        });
    }
    let mut module = Module {
        index: SourceIndex {
            files: files.iter().map(|(p, _)| p.clone()).collect(),
            ..SourceIndex::default()
        },
        variables: HashMap::new(),
        locals: HashMap::new(),
        identities: Vec::new(),
        raw_locals: HashMap::new(),
    };
    // Declarations first, from every file: a pool may use a variable declared in variables.tf.
    for f in &parsed {
        module.declarations(f);
    }
    let mut pools = Vec::new();
    for f in &parsed {
        for block in f.body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            if block.ident.as_str() != "resource" {
                continue;
            }
            if labels.first() == Some(&AZAPI) && is_azapi_pool(&block.body) {
                let name = labels.get(1).copied().unwrap_or_default();
                let at = push_token(&push_token("/resource", AZAPI), name);
                module.mark(f, &at, block.ident.span());
                let resource = module.azapi_resource(f, &block.body, &at)?;
                pools.push(arm_shaped(&resource, PoolShape::TerraformAzapi));
                continue;
            }
            if labels.first() != Some(&POOL) {
                continue;
            }
            let name = labels.get(1).copied().unwrap_or_default();
            let at = push_token(&push_token("/resource", POOL), name);
            module.mark(f, &at, block.ident.span());
            let values = module.body(f, &block.body, &at, 0)?;
            pools.push(pool(&values, PoolShape::Terraform));
        }
    }
    if pools.is_empty() {
        let names: Vec<String> = parsed
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        return Err(PoolFileError::NoPool(format!(
            "no `resource \"{POOL}\"` block, nor an `{AZAPI}` of type `Microsoft.Batch/batchAccounts/pools`, in {}",
            names.join(", ")
        )));
    }
    Ok((pools, module.index))
}

/// What a module declares, and the index of where values are.
struct Module {
    index: SourceIndex,
    variables: HashMap<String, Spanned>,
    locals: HashMap<String, Spanned>,
    /// `locals` expressions not yet resolved: (file, pointer) by name.
    raw_locals: HashMap<String, (usize, String)>,
    identities: Vec<String>,
}

impl Module {
    fn mark(&mut self, f: &File<'_>, pointer: &str, span: Option<std::ops::Range<usize>>) {
        if let Some(span) = span {
            self.index
                .record(pointer, f.index, f.lines.position(span.start));
        }
    }

    fn declarations(&mut self, f: &File<'_>) {
        for block in f.body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            match (block.ident.as_str(), labels.as_slice()) {
                ("variable", [name]) => {
                    if let Some(default) = block.body.get_attribute("default") {
                        let at = format!("{}/default", push_token("/variable", name));
                        self.mark(f, &at, default.span());
                        // A default is a literal; references in it are not allowed by Terraform.
                        let value = self
                            .expression(f, &default.value, &at, 0)
                            .unwrap_or_else(|_| node(Node::Unknown(text(f, &default.value)), &at));
                        self.variables.insert((*name).to_owned(), value);
                    }
                }
                ("locals", []) => {
                    for attr in block.body.attributes() {
                        let at = push_token("/locals", attr.key.as_str());
                        self.mark(f, &at, attr.span());
                        self.raw_locals
                            .insert(attr.key.as_str().to_owned(), (f.index, at));
                    }
                    // Locals may use variables and earlier locals: resolved in file order.
                    for attr in block.body.attributes() {
                        let at = push_token("/locals", attr.key.as_str());
                        let value = self
                            .expression(f, &attr.value, &at, 0)
                            .unwrap_or_else(|_| node(Node::Unknown(text(f, &attr.value)), &at));
                        self.locals.insert(attr.key.as_str().to_owned(), value);
                    }
                }
                ("resource", [kind, name]) if *kind == IDENTITY => {
                    self.identities.push((*name).to_owned());
                }
                _ => {}
            }
        }
    }

    /// An AzAPI pool as the ARM resource it creates: `name`, and `properties` from its `body`
    /// (an object, or `jsonencode` of one).
    fn azapi_resource(
        &mut self,
        f: &File<'_>,
        body: &Body,
        at: &str,
    ) -> Result<Spanned, PoolFileError> {
        let mut members = Vec::new();
        if let Some(name) = body.get_attribute("name") {
            let here = push_token(at, "name");
            self.mark(f, &here, name.span());
            members.push((
                "name".to_owned(),
                self.expression(f, &name.value, &here, 1)?,
            ));
        }
        if let Some(attr) = body.get_attribute("body") {
            let here = push_token(at, "body");
            self.mark(f, &here, attr.span());
            let value = match &attr.value {
                Expression::FuncCall(call)
                    if call.name.name.as_str() == "jsonencode" && call.args.len() == 1 =>
                {
                    call.args.get(0).expect("one argument")
                }
                other => other,
            };
            let body = self.expression(f, value, &here, 1)?;
            match body.get("properties") {
                Some(props) => members.push(("properties".to_owned(), props.clone())),
                // Not an object batchprep can see into: every pool value is unknown.
                None if matches!(body.node, Node::Unknown(_)) => {
                    members.push(("properties".to_owned(), body))
                }
                None => {}
            }
        }
        Ok(node(Node::Object(members), at))
    }

    /// A block body: attributes by name, nested blocks as arrays (as `terraform show -json` has them).
    fn body(
        &mut self,
        f: &File<'_>,
        body: &Body,
        at: &str,
        depth: usize,
    ) -> Result<Spanned, PoolFileError> {
        if depth > MAX_DEPTH {
            return Err(too_deep(f, body.iter().next().and_then(Structure::span)));
        }
        let mut members: Vec<(String, Spanned)> = Vec::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    let here = push_token(at, key);
                    self.mark(f, &here, attr.span());
                    let value = self.expression(f, &attr.value, &here, depth + 1)?;
                    members.push((key.to_owned(), value));
                }
                Structure::Block(block) => {
                    let key = block.ident.as_str().to_owned();
                    let count = members
                        .iter()
                        .find(|(k, _)| *k == key)
                        .and_then(|(_, v)| v.as_array().map(<[Spanned]>::len))
                        .unwrap_or(0);
                    let list_at = push_token(at, &key);
                    let here = format!("{list_at}/{count}");
                    self.mark(f, &list_at, block.ident.span());
                    self.mark(f, &here, block.ident.span());
                    let value = self.body(f, &block.body, &here, depth + 1)?;
                    match members.iter_mut().find(|(k, _)| *k == key) {
                        Some((
                            _,
                            Spanned {
                                node: Node::Array(items),
                                ..
                            },
                        )) => items.push(value),
                        _ => members.push((key, node(Node::Array(vec![value]), &list_at))),
                    }
                }
            }
        }
        Ok(node(Node::Object(members), at))
    }

    fn expression(
        &mut self,
        f: &File<'_>,
        expr: &Expression,
        at: &str,
        depth: usize,
    ) -> Result<Spanned, PoolFileError> {
        if depth > MAX_DEPTH {
            return Err(too_deep(f, expr.span()));
        }
        let unknown = || node(Node::Unknown(text(f, expr)), at);
        Ok(match expr {
            Expression::Null(_) => node(Node::Null, at),
            Expression::Bool(b) => node(Node::Bool(*b.value()), at),
            Expression::Number(n) => {
                match serde_json::from_str::<serde_json::Number>(&n.value().to_string()) {
                    Ok(n) => node(Node::Number(n), at),
                    Err(_) => unknown(),
                }
            }
            Expression::String(s) => node(Node::String(s.value().clone()), at),
            Expression::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let here = format!("{at}/{i}");
                    self.mark(f, &here, item.span());
                    out.push(self.expression(f, item, &here, depth + 1)?);
                }
                node(Node::Array(out), at)
            }
            Expression::Object(obj) => {
                let mut out = Vec::new();
                for (key, value) in obj.iter() {
                    let name = match key {
                        ObjectKey::Ident(i) => i.as_str().to_owned(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                        ObjectKey::Expression(_) => return Ok(unknown()),
                    };
                    let here = push_token(at, &name);
                    self.mark(f, &here, key.span());
                    out.push((name, self.expression(f, value.expr(), &here, depth + 1)?));
                }
                node(Node::Object(out), at)
            }
            Expression::StringTemplate(t) => self.template(f, t, at, depth).unwrap_or_else(unknown),
            Expression::HeredocTemplate(h) => {
                let mut s = self
                    .template(f, &h.template, at, depth)
                    .unwrap_or_else(unknown);
                // `<<-` strips the common indent; `<<` keeps it. The parser gives the indent.
                if let (Some(n), Node::String(text)) = (h.indent(), &mut s.node) {
                    *text = text
                        .lines()
                        .map(|l| l.get(n.min(l.len())..).unwrap_or(l))
                        .collect::<Vec<_>>()
                        .join("\n")
                        + if text.ends_with('\n') { "\n" } else { "" };
                }
                s
            }
            Expression::Parenthesis(p) => self.expression(f, p.inner(), at, depth + 1)?,
            Expression::Traversal(t) => self.traversal(f, t, at).unwrap_or_else(unknown),
            _ => unknown(),
        })
    }

    /// A string template whose every part is known.
    fn template(&mut self, f: &File<'_>, t: &Template, at: &str, depth: usize) -> Option<Spanned> {
        let mut out = String::new();
        for element in t.iter() {
            match element {
                Element::Literal(l) => out.push_str(l.value()),
                Element::Interpolation(i) => {
                    let v = self.expression(f, &i.expr, at, depth + 1).ok()?;
                    match v.node {
                        Node::String(s) => out.push_str(&s),
                        Node::Number(n) => out.push_str(&n.to_string()),
                        Node::Bool(b) => out.push_str(&b.to_string()),
                        _ => return None,
                    }
                }
                Element::Directive(_) => return None,
            }
        }
        Some(node(Node::String(out), at))
    }

    /// `var.x`, `local.x`, and the id of a declared user-assigned identity.
    fn traversal(
        &mut self,
        f: &File<'_>,
        t: &hcl_edit::expr::Traversal,
        _at: &str,
    ) -> Option<Spanned> {
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let attrs: Vec<&str> = t
            .operators
            .iter()
            .map(|op| match op.value() {
                TraversalOperator::GetAttr(i) => Some(i.as_str()),
                _ => None,
            })
            .collect::<Option<_>>()?;
        match (root.as_str(), attrs.as_slice()) {
            ("var", [name]) => self.variables.get(*name).cloned(),
            ("local", [name]) => self.locals.get(*name).cloned(),
            (IDENTITY, [name, "id"]) if self.identities.iter().any(|i| i == name) => Some(node(
                Node::String(text(f, &Expression::Traversal(Box::new(t.clone())))),
                _at,
            )),
            _ => None,
        }
    }
}

/// Whether an `azapi_resource` body declares a Batch pool (`type = "Microsoft.Batch/batchAccounts/pools@..."`).
fn is_azapi_pool(body: &Body) -> bool {
    body.get_attribute("type")
        .and_then(|a| match &a.value {
            Expression::String(s) => Some(s.value().to_ascii_lowercase()),
            _ => None,
        })
        .is_some_and(|t| t.split('@').next() == Some(ARM_POOL_TYPE))
}

/// The expression as written.
fn text(f: &File<'_>, expr: &Expression) -> String {
    expr.span()
        .and_then(|s| f.text.get(s))
        .map_or_else(|| expr.to_string(), |s| s.trim().to_owned())
}

fn too_deep(f: &File<'_>, span: Option<std::ops::Range<usize>>) -> PoolFileError {
    let pos = f.lines.position(span.map_or(0, |s| s.start));
    PoolFileError::Syntax {
        file: Some(f.path.to_path_buf()),
        line: pos.line,
        column: pos.column,
        message: format!("nested deeper than {MAX_DEPTH} levels"),
    }
}

/// Reads `terraform show -json` output: every `azurerm_batch_pool` in `planned_values` (a plan) or
/// `values` (state), root module and child modules. Values Terraform will know only after apply are
/// listed in `resource_changes[].change.after_unknown` and are reported as unknown.
pub(super) fn read_plan(
    path: &Path,
    text: &str,
) -> Result<(Vec<PoolDefinition>, SourceIndex), PoolFileError> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| PoolFileError::Json(crate::pool::PoolError::Json(e.to_string())))?;
    let (values, at) = match root.get("planned_values") {
        Some(v) => (v, "/planned_values"),
        None => (root.get("values").unwrap_or(&Value::Null), "/values"),
    };
    let mut unknown: HashMap<&str, &Value> = HashMap::new();
    for change in root
        .get("resource_changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(address), Some(after)) = (
            change.get("address").and_then(Value::as_str),
            change.pointer("/change/after_unknown"),
        ) {
            unknown.insert(address, after);
        }
    }
    let mut pools = Vec::new();
    let mut modules = vec![(values.get("root_module"), format!("{at}/root_module"))];
    let mut seen = 0usize;
    while let Some((module, at)) = modules.pop() {
        // Modules nest; a plan is bounded, but a hostile one need not be.
        seen += 1;
        if seen > 10_000 {
            break;
        }
        let Some(module) = module else { continue };
        for (i, r) in module
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if r.get("type").and_then(Value::as_str) != Some(POOL)
                || r.get("mode")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m != "managed")
            {
                continue;
            }
            let here = format!("{at}/resources/{i}/values");
            let plain = Value::Null;
            let mut values =
                Resolver::new(&plain).resolve(r.get("values").unwrap_or(&plain), &here);
            if let Some(after) = r
                .get("address")
                .and_then(Value::as_str)
                .and_then(|a| unknown.get(a))
            {
                mark_unknown(&mut values, after, 0);
            }
            pools.push(pool(&values, PoolShape::TerraformPlan));
        }
        for (i, child) in module
            .get("child_modules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            modules.push((Some(child), format!("{at}/child_modules/{i}")));
        }
    }
    pools.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    if pools.is_empty() {
        return Err(PoolFileError::NoPool(format!(
            "no `{POOL}` resource in the plan's {}",
            at.trim_start_matches('/')
        )));
    }
    Ok((pools, SourceIndex::json(path, text)))
}

/// Marks what `after_unknown` says Terraform knows only after apply.
fn mark_unknown(values: &mut Spanned, after: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match after {
        Value::Bool(true) => values.node = Node::Unknown("(known after apply)".into()),
        Value::Object(members) => {
            for (k, v) in members {
                let Node::Object(mine) = &mut values.node else {
                    return;
                };
                match mine.iter_mut().find(|(mk, _)| mk == k) {
                    Some((_, child)) => mark_unknown(child, v, depth + 1),
                    None if v == &Value::Bool(true) => {
                        let at = push_token(&values.origin, k);
                        mine.push((
                            k.clone(),
                            node(Node::Unknown("(known after apply)".into()), &at),
                        ));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            let Node::Array(mine) = &mut values.node else {
                return;
            };
            for (child, v) in mine.iter_mut().zip(items) {
                mark_unknown(child, v, depth + 1);
            }
        }
        _ => {}
    }
}

/// The first block of a nested-block list.
fn block<'a>(n: &'a Spanned, name: &str) -> Option<&'a Spanned> {
    n.get(name)?.as_array()?.first()
}

fn attr(n: Option<&Spanned>, name: &str) -> Option<Spanned> {
    n?.get(name).filter(|v| !v.is_null()).cloned()
}

/// An attribute, or the provider's default at the block that leaves it out.
fn or_default(n: &Spanned, name: &str, default: Node) -> Spanned {
    attr(Some(n), name).unwrap_or_else(|| node(default, &n.origin))
}

/// An `azurerm_batch_pool` (values by provider name) as a data-plane body.
fn pool(r: &Spanned, shape: PoolShape) -> PoolDefinition {
    let image = block(r, "storage_image_reference").map(|i| {
        object(
            &i.origin,
            vec![
                ("publisher", attr(Some(i), "publisher")),
                ("offer", attr(Some(i), "offer")),
                ("sku", attr(Some(i), "sku")),
                ("version", attr(Some(i), "version")),
                ("virtualMachineImageId", attr(Some(i), "id")),
            ],
        )
    });
    let container = block(r, "container_configuration").map(|c| {
        let registries = c
            .get("container_registries")
            .and_then(Spanned::as_array)
            .map(|regs| {
                node(
                    Node::Array(
                        regs.iter()
                            .map(|reg| {
                                object(
                                    &reg.origin,
                                    vec![
                                        ("registryServer", attr(Some(reg), "registry_server")),
                                        ("username", attr(Some(reg), "user_name")),
                                        ("password", attr(Some(reg), "password")),
                                        (
                                            "identityReference",
                                            attr(Some(reg), "user_assigned_identity_id").map(
                                                |id| {
                                                    object(
                                                        &id.origin.clone(),
                                                        vec![("resourceId", Some(id))],
                                                    )
                                                },
                                            ),
                                        ),
                                    ],
                                )
                            })
                            .collect(),
                    ),
                    &c.get("container_registries")
                        .map_or(c.origin.clone(), |r| r.origin.clone()),
                )
            });
        object(
            &c.origin,
            vec![
                ("type", attr(Some(c), "type")),
                (
                    "containerImageNames",
                    attr(Some(c), "container_image_names"),
                ),
                ("containerRegistries", registries),
            ],
        )
    });
    let vm = object(
        &r.origin,
        vec![
            ("imageReference", image),
            ("nodeAgentSKUId", attr(Some(r), "node_agent_sku_id")),
            ("containerConfiguration", container),
        ],
    );
    let start = block(r, "start_task").map(|s| {
        let auto = block(s, "user_identity").and_then(|u| block(u, "auto_user"));
        let has_user =
            block(s, "user_identity").is_some_and(|u| attr(Some(u), "user_name").is_some());
        let identity = (!has_user).then(|| {
            let at = auto.map_or(s.origin.clone(), |a| a.origin.clone());
            let scope = auto.map_or_else(
                || node(Node::String("Task".into()), &s.origin),
                |a| or_default(a, "scope", Node::String("Task".into())),
            );
            let elevation = auto.map_or_else(
                || node(Node::String("NonAdmin".into()), &s.origin),
                |a| or_default(a, "elevation_level", Node::String("NonAdmin".into())),
            );
            object(
                &at,
                vec![(
                    "autoUser",
                    Some(object(
                        &at,
                        vec![("scope", Some(scope)), ("elevationLevel", Some(elevation))],
                    )),
                )],
            )
        });
        object(
            &s.origin,
            vec![
                ("commandLine", attr(Some(s), "command_line")),
                (
                    "waitForSuccess",
                    Some(or_default(s, "wait_for_success", Node::Bool(false))),
                ),
                ("userIdentity", identity),
                (
                    "containerSettings",
                    block(s, "container").map(|c| {
                        object(&c.origin, vec![("imageName", attr(Some(c), "image_name"))])
                    }),
                ),
            ],
        )
    });
    let network = block(r, "network_configuration").map(|n| {
        object(
            &n.origin,
            vec![
                ("subnetId", attr(Some(n), "subnet_id")),
                (
                    "publicIPAddressConfiguration",
                    attr(Some(n), "public_address_provisioning_type")
                        .map(|p| object(&p.origin.clone(), vec![("provision", Some(p))])),
                ),
            ],
        )
    });
    let fixed = block(r, "fixed_scale");
    let body = object(
        &r.origin,
        vec![
            ("id", attr(Some(r), "name")),
            ("vmSize", attr(Some(r), "vm_size")),
            ("virtualMachineConfiguration", Some(vm)),
            ("startTask", start),
            ("networkConfiguration", network),
            (
                "targetDedicatedNodes",
                fixed.map(|f| or_default(f, "target_dedicated_nodes", Node::Number(1.into()))),
            ),
            (
                "targetLowPriorityNodes",
                attr(fixed, "target_low_priority_nodes"),
            ),
            (
                "enableAutoScale",
                block(r, "auto_scale").map(|a| node(Node::Bool(true), &a.origin)),
            ),
        ],
    );
    data_plane(&body, shape)
}
