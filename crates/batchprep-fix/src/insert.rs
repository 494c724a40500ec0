//! Inserts in Terraform, Bicep and Batch Shipyard YAML: an element appended to a list literal, a
//! member added to a block or object, as text inserted where the file's own layout puts it (the
//! separator and indentation of the elements or members already there); every other byte stays.
//!
//! The reader recorded the position of the list, or of the block or object it belongs to: a key
//! (`containerConfiguration:`, `docker_images:`), a block's name (`container_configuration`), or
//! the first character of the value. HCL is located with `hcl-edit`, which keeps the byte span of
//! everything it parses (it reformats what it prints, so it only finds places here); Bicep and YAML
//! are scanned for the one object or list, refusing what the scan does not read exactly (a `for`
//! expression, a list from a variable or function, YAML anchors, aliases, tags and block scalars).

use std::collections::BTreeMap;

use batchprep_batch::emit::{bicep_string, hcl_string};
use batchprep_lint::finding::Change;
use hcl_edit::{
    Span,
    expr::Expression,
    structure::{Block, Body, Structure},
};
use serde_json::Value;

use crate::literal::Syntax;

/// A list literal as written: its elements (decoded, when a plain string) and where new ones go.
#[derive(Debug, Clone)]
struct List {
    items: Vec<Option<String>>,
    layout: ListLayout,
    /// The quote of the last element (YAML: the new ones follow it).
    quote: Option<char>,
}

#[derive(Debug, Clone)]
enum ListLayout {
    /// `[]` on one line: the values go right after `[`.
    EmptyInline { at: usize },
    /// An empty list whose `]` is on a line of its own: each value on a new line at `indent`.
    EmptyLines { at: usize, indent: String },
    /// A one-line list: `, value` after the last element (or ` value,` after a trailing comma).
    Inline { at: usize, trailing_comma: bool },
    /// An element a line: each value on a new line at `indent`, inserted at `at` (the end of the
    /// last element's line); `comma` is where a missing comma after the last element goes.
    Lines {
        at: usize,
        indent: String,
        commas: Commas,
    },
    /// A YAML block sequence: `- value` lines at `indent`, inserted at `at` (a line start).
    YamlItems { at: usize, indent: String },
}

#[derive(Debug, Clone, Copy)]
enum Commas {
    /// Bicep: elements separated by new lines only.
    None,
    /// Commas between elements, and one after the last.
    Trailing,
    /// Commas between elements, none after the last: one goes at this offset.
    Missing(usize),
}

/// A block or object as written: its members' names and where new members go.
#[derive(Debug, Clone)]
struct Object {
    /// The members' names as written, with the list each holds (or why it is no list literal).
    members: Vec<(String, Result<List, String>)>,
    layout: ObjectLayout,
}

#[derive(Debug, Clone)]
enum ObjectLayout {
    /// A member a line: new ones at `indent`, inserted at `at` (a line start); `align` is the
    /// column HCL's `=` of the member before is at (`terraform fmt` aligns them).
    Lines {
        at: usize,
        indent: String,
        align: Option<usize>,
    },
    /// `{}` on one line: the inside, `from..to`, becomes the members on lines of their own.
    EmptyInline {
        from: usize,
        to: usize,
        indent: String,
        close_indent: String,
    },
    /// A one-line Bicep object: `, name: value` after the last member.
    Inline { at: usize },
}

/// What is at a recorded position.
#[derive(Debug)]
enum Found {
    List(List),
    Object(Object),
}

/// The place found at a position: what it is, and the name written there (a key, a block's name;
/// `None` for a value that starts there), with an HCL block's first label.
#[derive(Debug)]
struct Place {
    key: Option<String>,
    labels: Vec<String>,
    found: Found,
}

/// A member to add: its value, or (an absent list an element is appended to) the elements.
#[derive(Debug, Clone)]
enum NewValue {
    Json(Value),
    List(Vec<String>),
    /// A nested block, as written at the left margin (Terraform's `start_task`).
    Block(String),
}

/// The inserts asked for in one file, grouped by the list or object they go into (by its offset)
/// so several compose: two elements appended to one list, an element appended to a list that is
/// itself being added.
#[derive(Default)]
pub(crate) struct Inserts {
    lists: BTreeMap<usize, (List, Vec<String>)>,
    objects: BTreeMap<usize, (Object, Vec<(String, NewValue)>)>,
}

/// Whether the change is one an insert in `syntax` can make at all (the place decides the rest).
pub(crate) fn supports(syntax: Syntax, change: &Change) -> bool {
    match change {
        Change::AppendToArray { .. } => true,
        Change::InsertMember { name, value } => match syntax {
            Syntax::Hcl => {
                HCL_NAMES.iter().any(|(_, rest, _)| rest == name)
                    && match value {
                        // A start task is a block; the insert says which ones it writes.
                        Value::Object(_) => name == "startTask",
                        Value::Array(_) | Value::Null => false,
                        _ => true,
                    }
            }
            Syntax::Bicep => true,
            // No rule adds a member to a Shipyard file: the container type, the node agent and
            // the start task of a Shipyard pool are Shipyard's own, not written in pool.yaml.
            Syntax::Yaml => false,
        },
        _ => false,
    }
}

/// The Batch REST members an insert adds to a Terraform `azurerm_batch_pool`, as the reader maps
/// them: (block, REST name, attribute or block). `startTask` is a block only batchprep's own start
/// task is written into ([`hcl_block`]): the provider's `start_task` spells and defaults its members
/// its own way, so an arbitrary one has no single mechanical spelling.
const HCL_NAMES: &[(&str, &str, &str)] = &[
    ("container_configuration", "type", "type"),
    (
        "container_configuration",
        "containerImageNames",
        "container_image_names",
    ),
    ("azurerm_batch_pool", "nodeAgentSKUId", "node_agent_sku_id"),
    ("azurerm_batch_pool", "startTask", "start_task"),
];

/// A member Terraform writes as a nested block, as `pool emit` writes it; `None` for an attribute.
/// Only batchprep's own start task has one.
fn hcl_block(name: &str, value: &Value) -> Option<Result<String, String>> {
    if name != "start_task" {
        return None;
    }
    let line = value.get("commandLine").and_then(Value::as_str);
    Some(match line {
        Some(line) if *value == batchprep_batch::start_task::rest_start_task(line) => {
            Ok(batchprep_batch::emit::terraform_start_task(line))
        }
        _ => {
            Err("only batchprep's own start task has a Terraform spelling the fixer writes".into())
        }
    })
}

/// The spelling of REST member `name` in a block or object `parent` (as written at the place).
fn spelling(syntax: Syntax, parent: &Place, name: &str) -> Result<String, String> {
    match syntax {
        Syntax::Hcl => {
            let block = match parent.key.as_deref() {
                Some("resource") => parent.labels.first().map_or("", String::as_str),
                other => other.unwrap_or_default(),
            };
            HCL_NAMES
                .iter()
                .find(|(b, rest, _)| *b == block && *rest == name)
                .map(|(_, _, attr)| (*attr).to_owned())
                .ok_or_else(|| format!("`{name}` has no Terraform spelling in `{block}`"))
        }
        // ARM spells the agent `nodeAgentSkuId`; every other member the same as the data plane.
        Syntax::Bicep if name == "nodeAgentSKUId" => Ok("nodeAgentSkuId".into()),
        Syntax::Bicep => Ok(name.to_owned()),
        Syntax::Yaml => Err(format!("`{name}` has no Batch Shipyard spelling")),
    }
}

/// The last token of an RFC 6901 pointer and the one before it (numeric tokens, the index of a
/// Terraform block, skipped).
fn last_names(pointer: &str) -> (Option<String>, Option<String>) {
    let mut names = pointer
        .rsplit('/')
        .filter(|t| !t.is_empty() && !t.bytes().all(|b| b.is_ascii_digit()))
        .map(|t| t.replace("~1", "/").replace("~0", "~"));
    (names.next(), names.next())
}

/// Whether the name written at the place is the pointer's `expected` token (a value that starts
/// there has no name to check).
fn is_named(syntax: Syntax, place: &Place, expected: Option<&str>) -> bool {
    let Some(key) = &place.key else { return true };
    let Some(expected) = expected else {
        return false;
    };
    match syntax {
        Syntax::Hcl if key == "resource" => {
            place.labels.last().map(String::as_str) == Some(expected)
        }
        Syntax::Hcl => key == expected,
        // The reader's one list: Shipyard's `docker_images` is the pool's `containerImageNames`.
        Syntax::Yaml => {
            key == expected || (key == "docker_images" && expected == "containerImageNames")
        }
        // ARM names are case-insensitive (`nodeAgentSkuId`).
        Syntax::Bicep => key.eq_ignore_ascii_case(expected),
    }
}

/// Whether two member names are the same member (ARM's, so Bicep's, are case-insensitive).
fn same(syntax: Syntax, a: &str, b: &str) -> bool {
    match syntax {
        Syntax::Bicep => a.eq_ignore_ascii_case(b),
        Syntax::Hcl | Syntax::Yaml => a == b,
    }
}

impl Inserts {
    /// Adds one insert at byte offset `at` (where the reader recorded `pointer`).
    pub(crate) fn add(
        &mut self,
        text: &str,
        syntax: Syntax,
        at: usize,
        pointer: &str,
        change: &Change,
    ) -> Result<(), String> {
        let place = locate(text, syntax, at)?;
        let (last, parent) = last_names(pointer);
        match change {
            Change::AppendToArray { value } => match &place.found {
                Found::List(list) => {
                    if !is_named(syntax, &place, last.as_deref()) {
                        return Err("the list is not where the reader recorded it".into());
                    }
                    self.append(syntax, list.clone(), value)
                }
                Found::Object(object) => {
                    // The list's parent (the list itself is absent, or the reader recorded its
                    // block, as Terraform's REST-named pointers are).
                    if !is_named(syntax, &place, parent.as_deref()) {
                        return Err("the list's object is not where the reader recorded it".into());
                    }
                    let name = spelling(
                        syntax,
                        &place,
                        last.as_deref().ok_or("the edit names no list")?,
                    )?;
                    match object.members.iter().find(|(n, _)| same(syntax, n, &name)) {
                        Some((_, Ok(list))) => self.append(syntax, list.clone(), value),
                        Some((_, Err(why))) => Err(why.clone()),
                        None => {
                            let key = object_key(object);
                            let object = object.clone();
                            let (_, pending) = self.objects.entry(key).or_insert((object, vec![]));
                            match pending.iter_mut().find(|(n, _)| *n == name) {
                                Some((_, NewValue::List(values))) => {
                                    if values.contains(value) {
                                        return Err(format!("`{value}` is already there"));
                                    }
                                    values.push(value.clone());
                                }
                                Some(_) => return Err(format!("`{name}` is being added already")),
                                None => pending.push((name, NewValue::List(vec![value.clone()]))),
                            }
                            Ok(())
                        }
                    }
                }
            },
            Change::InsertMember { name, value } => {
                let Found::Object(ref object) = place.found else {
                    return Err("not an object".into());
                };
                if !is_named(syntax, &place, last.as_deref()) {
                    return Err("the object is not where the reader recorded it".into());
                }
                let name = spelling(syntax, &place, name)?;
                if object.members.iter().any(|(n, _)| same(syntax, n, &name)) {
                    return Err(format!("`{name}` is already there"));
                }
                let new = match hcl_block(&name, value) {
                    Some(block) if syntax == Syntax::Hcl => NewValue::Block(block?),
                    _ => {
                        let value = spelled(syntax, &name, value);
                        // Written now, so a value the language cannot hold is refused before
                        // anything is.
                        render_value(syntax, &value, "")?;
                        NewValue::Json(value)
                    }
                };
                let key = object_key(object);
                let object = object.clone();
                let (_, pending) = self.objects.entry(key).or_insert((object, vec![]));
                if pending.iter().any(|(n, _)| *n == name) {
                    return Err(format!("`{name}` is already there"));
                }
                pending.push((name, new));
                Ok(())
            }
            _ => Err("not an insert".into()),
        }
    }

    fn append(&mut self, syntax: Syntax, list: List, value: &str) -> Result<(), String> {
        string(syntax, value, list.quote)?;
        let key = at_key(&list);
        if list.items.iter().any(|i| i.as_deref() == Some(value)) {
            return Err(format!("`{value}` is already there"));
        }
        let (_, values) = self.lists.entry(key).or_insert((list, vec![]));
        if values.iter().any(|v| v == value) {
            return Err(format!("`{value}` is already there"));
        }
        values.push(value.to_owned());
        Ok(())
    }

    /// The text edits: (start, end, text) of the text as read, in no particular order.
    pub(crate) fn regions(
        &self,
        text: &str,
        syntax: Syntax,
    ) -> Result<Vec<(usize, usize, String)>, String> {
        let mut out = Vec::new();
        for (list, values) in self.lists.values() {
            let written = values
                .iter()
                .map(|v| string(syntax, v, list.quote))
                .collect::<Result<Vec<_>, _>>()?;
            out.extend(list_regions(text, &list.layout, &written, syntax));
        }
        for (object, members) in self.objects.values() {
            let indent = match &object.layout {
                ObjectLayout::Lines { indent, .. } | ObjectLayout::EmptyInline { indent, .. } => {
                    indent.clone()
                }
                ObjectLayout::Inline { .. } => String::new(),
            };
            let mut lines = Vec::new();
            for (name, value) in members {
                let value = match value {
                    NewValue::Json(v) => render_value(syntax, v, &indent)?,
                    NewValue::List(values) => render_list(syntax, values, &indent)?,
                    NewValue::Block(block) => {
                        // Its lines at the object's indentation (the first gets it from the caller).
                        let mut text = String::new();
                        for (i, line) in block.trim_end().lines().enumerate() {
                            if i > 0 {
                                text.push('\n');
                                if !line.is_empty() {
                                    text.push_str(&indent);
                                }
                            }
                            text.push_str(line);
                        }
                        lines.push(text);
                        continue;
                    }
                };
                lines.push(member(syntax, name, &value, &object.layout, &indent));
            }
            out.push(match &object.layout {
                ObjectLayout::Lines { at, .. } => {
                    let lead = if *at == text.len() && !text.ends_with('\n') {
                        "\n"
                    } else {
                        ""
                    };
                    let body: String = lines.iter().map(|l| format!("{indent}{l}\n")).collect();
                    (*at, *at, format!("{lead}{body}"))
                }
                ObjectLayout::EmptyInline {
                    from,
                    to,
                    close_indent,
                    ..
                } => {
                    let body: String = lines.iter().map(|l| format!("\n{indent}{l}")).collect();
                    (*from, *to, format!("{body}\n{close_indent}"))
                }
                ObjectLayout::Inline { at } => {
                    let body: String = lines.iter().map(|l| format!(", {l}")).collect();
                    (*at, *at, body)
                }
            });
        }
        Ok(out)
    }
}

/// The key a list is grouped by: where its first insert goes.
fn at_key(list: &List) -> usize {
    match &list.layout {
        ListLayout::EmptyInline { at }
        | ListLayout::EmptyLines { at, .. }
        | ListLayout::Inline { at, .. }
        | ListLayout::Lines { at, .. }
        | ListLayout::YamlItems { at, .. } => *at,
    }
}

fn object_key(object: &Object) -> usize {
    match &object.layout {
        ObjectLayout::Lines { at, .. } | ObjectLayout::Inline { at } => *at,
        ObjectLayout::EmptyInline { from, .. } => *from,
    }
}

fn list_regions(
    text: &str,
    layout: &ListLayout,
    values: &[String],
    syntax: Syntax,
) -> Vec<(usize, usize, String)> {
    let comma = syntax != Syntax::Bicep;
    match layout {
        ListLayout::EmptyInline { at } => vec![(*at, *at, values.join(", "))],
        ListLayout::EmptyLines { at, indent } => {
            let sep = if comma { "," } else { "" };
            let body = values
                .iter()
                .map(|v| format!("\n{indent}{v}{sep}"))
                .collect();
            vec![(*at, *at, body)]
        }
        ListLayout::Inline { at, trailing_comma } => {
            let body = if *trailing_comma {
                values.iter().map(|v| format!(" {v},")).collect()
            } else {
                values.iter().map(|v| format!(", {v}")).collect()
            };
            vec![(*at, *at, body)]
        }
        ListLayout::Lines { at, indent, commas } => match commas {
            Commas::None => vec![(
                *at,
                *at,
                values.iter().map(|v| format!("\n{indent}{v}")).collect(),
            )],
            Commas::Trailing => vec![(
                *at,
                *at,
                values.iter().map(|v| format!("\n{indent}{v},")).collect(),
            )],
            Commas::Missing(after_last) => {
                let body = values
                    .iter()
                    .map(|v| format!("\n{indent}{v}"))
                    .collect::<Vec<_>>()
                    .join(",");
                if after_last == at {
                    vec![(*at, *at, format!(",{body}"))]
                } else {
                    vec![(*after_last, *after_last, ",".into()), (*at, *at, body)]
                }
            }
        },
        ListLayout::YamlItems { at, indent } => {
            let lead = if *at == text.len() && !text.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            let body: String = values.iter().map(|v| format!("{indent}- {v}\n")).collect();
            vec![(*at, *at, format!("{lead}{body}"))]
        }
    }
}

/// One member as written (without its indentation).
fn member(syntax: Syntax, name: &str, value: &str, layout: &ObjectLayout, indent: &str) -> String {
    match syntax {
        Syntax::Hcl => {
            let width = match layout {
                ObjectLayout::Lines {
                    align: Some(col), ..
                } => col.saturating_sub(indent.chars().count()),
                _ => 0,
            };
            let pad = width.saturating_sub(name.chars().count()).max(1);
            format!("{name}{}= {value}", " ".repeat(pad))
        }
        Syntax::Bicep => {
            let key = if is_ident(name) {
                name.to_owned()
            } else {
                bicep_string(name)
            };
            format!("{key}: {value}")
        }
        Syntax::Yaml => format!("{name}: {value}"),
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A string in the language's quoting; for YAML, in `quote` (the last element's) or plain when
/// YAML reads it back as the same string.
fn string(syntax: Syntax, s: &str, quote: Option<char>) -> Result<String, String> {
    match syntax {
        Syntax::Hcl => Ok(hcl_string(s)),
        Syntax::Bicep => Ok(bicep_string(s)),
        Syntax::Yaml => yaml_scalar(s, quote),
    }
}

/// A YAML scalar that reads back as the string `s` (YAML 1.1 as Shipyard's PyYAML reads it, and
/// 1.2): plain when nothing in it means something else, else quoted.
fn yaml_scalar(s: &str, quote: Option<char>) -> Result<String, String> {
    if s.chars().any(|c| c.is_control()) {
        return Err("the value holds a control character".into());
    }
    match quote {
        Some('\'') => return Ok(format!("'{}'", s.replace('\'', "''"))),
        Some('"') => {
            return Ok(format!(
                "\"{}\"",
                s.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        _ => {}
    }
    let lower = s.to_ascii_lowercase();
    let special = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~" | ""
    );
    let plain = !special
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c) || c.is_ascii_digit())
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains([',', '[', ']', '{', '}'])
        && !(s.starts_with(['+', '.']) && s[1..].starts_with(|c: char| c.is_ascii_digit()));
    Ok(if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    })
}

/// `value` in the language, for a member at `indent` (nested lines two spaces deeper).
/// `value` of member `name` with every enum in the language's spelling (a start task's `scope` and
/// `elevationLevel` too).
fn spelled(syntax: Syntax, name: &str, value: &Value) -> Value {
    match value {
        Value::String(v) => Value::String(crate::literal::spelled_for(syntax, name, v).to_owned()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), spelled(syntax, k, v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn render_value(syntax: Syntax, value: &Value, indent: &str) -> Result<String, String> {
    match value {
        Value::String(s) => string(syntax, s, None),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null if syntax == Syntax::Bicep => Ok("null".into()),
        Value::Object(members) if syntax == Syntax::Bicep => {
            if members.is_empty() {
                return Ok("{}".into());
            }
            let inner = format!("{indent}  ");
            let mut out = String::from("{\n");
            for (k, v) in members {
                let layout = ObjectLayout::Inline { at: 0 };
                let line = member(syntax, k, &render_value(syntax, v, &inner)?, &layout, "");
                out.push_str(&format!("{inner}{line}\n"));
            }
            out.push_str(indent);
            out.push('}');
            Ok(out)
        }
        Value::Array(items) if syntax == Syntax::Bicep => {
            if items.is_empty() {
                return Ok("[]".into());
            }
            let inner = format!("{indent}  ");
            let mut out = String::from("[\n");
            for v in items {
                out.push_str(&format!("{inner}{}\n", render_value(syntax, v, &inner)?));
            }
            out.push_str(indent);
            out.push(']');
            Ok(out)
        }
        _ => Err("the value has no literal in this language the fixer writes".into()),
    }
}

/// A new list of `values`, as the value of a member at `indent`.
fn render_list(syntax: Syntax, values: &[String], indent: &str) -> Result<String, String> {
    let items: Vec<Value> = values.iter().map(|v| Value::from(v.as_str())).collect();
    match syntax {
        Syntax::Hcl => Ok(format!(
            "[{}]",
            values
                .iter()
                .map(|v| hcl_string(v))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Syntax::Bicep => render_value(syntax, &Value::Array(items), indent),
        // Not reached: no Shipyard member is added (see `supports`).
        Syntax::Yaml => Err("a new list is not written in YAML".into()),
    }
}

/// What is at byte offset `at` of `text`.
fn locate(text: &str, syntax: Syntax, at: usize) -> Result<Place, String> {
    match syntax {
        Syntax::Hcl => hcl::locate(text, at),
        Syntax::Bicep => bicep::locate(text, at),
        Syntax::Yaml => yaml::locate(text, at),
    }
}

/// The indentation of the line `at` is on (its leading spaces and tabs).
fn line_indent(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The offset of the end of the line `at` is on (its `\n`, or the end of the text).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

fn same_line(text: &str, a: usize, b: usize) -> bool {
    let (a, b) = (a.min(b), a.max(b));
    !text[a..b].contains('\n')
}

mod hcl {
    use super::*;

    /// The block whose name, or the attribute whose key, starts at `at`.
    pub(super) fn locate(text: &str, at: usize) -> Result<Place, String> {
        let body = hcl_edit::parser::parse_body(text)
            .map_err(|e| format!("not HCL the fixer reads: {}", e.message()))?;
        find(text, &body, at, 0)?.ok_or_else(|| "no block or attribute there".into())
    }

    fn find(text: &str, body: &Body, at: usize, depth: usize) -> Result<Option<Place>, String> {
        if depth > crate::literal::MAX_DEPTH {
            return Err("nested too deep".into());
        }
        for s in body.iter() {
            match s {
                Structure::Attribute(attr) => {
                    if attr.key.span().is_some_and(|s| s.start == at)
                        || attr.span().is_some_and(|s| s.start == at)
                    {
                        return Ok(Some(Place {
                            key: Some(attr.key.as_str().to_owned()),
                            labels: Vec::new(),
                            found: Found::List(list(text, &attr.value)?),
                        }));
                    }
                }
                Structure::Block(block) => {
                    if block.ident.span().is_some_and(|s| s.start == at) {
                        return Ok(Some(Place {
                            key: Some(block.ident.as_str().to_owned()),
                            labels: block.labels.iter().map(|l| l.as_str().to_owned()).collect(),
                            found: Found::Object(object(text, block)?),
                        }));
                    }
                    if block.span().is_some_and(|s| s.contains(&at))
                        && let Some(found) = find(text, &block.body, at, depth + 1)?
                    {
                        return Ok(Some(found));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The list an attribute's value is, if it is a list literal.
    pub(super) fn list(text: &str, value: &Expression) -> Result<List, String> {
        let Expression::Array(array) = value else {
            let written = value
                .span()
                .and_then(|s| text.get(s))
                .unwrap_or("the value")
                .trim();
            return Err(format!("`{written}` is not a list literal"));
        };
        let span = array.span().ok_or("no position for the list")?;
        let (open, close) = (span.start, span.end.saturating_sub(1));
        if text.as_bytes().get(open) != Some(&b'[') || text.as_bytes().get(close) != Some(&b']') {
            return Err("the list is not where the parser says".into());
        }
        let items: Vec<Option<String>> = array
            .iter()
            .map(|e| match e {
                Expression::String(s) => Some(s.value().to_string()),
                _ => None,
            })
            .collect();
        let Some(last) = array.iter().last() else {
            return Ok(List {
                items,
                quote: None,
                layout: if same_line(text, open, close) {
                    ListLayout::EmptyInline { at: open + 1 }
                } else {
                    ListLayout::EmptyLines {
                        at: open + 1,
                        indent: format!("{}  ", line_indent(text, close)),
                    }
                },
            });
        };
        let end = last.span().ok_or("no position for an element")?.end;
        let comma = after_trivia(text, end).filter(|i| text.as_bytes()[*i] == b',');
        let after = comma.map_or(end, |c| c + 1);
        let layout = if same_line(text, open, end) {
            ListLayout::Inline {
                at: after,
                trailing_comma: comma.is_some(),
            }
        } else {
            ListLayout::Lines {
                at: line_end(text, after).min(close),
                indent: line_indent(text, end).to_owned(),
                commas: match comma {
                    Some(_) => Commas::Trailing,
                    None => Commas::Missing(end),
                },
            }
        };
        Ok(List {
            items,
            layout,
            quote: None,
        })
    }

    /// The first offset at or after `i` that is not a space or a comment (HCL's `#`, `//`,
    /// `/* */`), if it is on the same line or a later one of the text.
    fn after_trivia(text: &str, mut i: usize) -> Option<usize> {
        let b = text.as_bytes();
        while i < b.len() {
            match b[i] {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => i = line_end(text, i),
                b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(text, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i = text[i + 2..].find("*/").map(|j| i + 2 + j + 2)?;
                }
                _ => return Some(i),
            }
        }
        None
    }

    /// A block's members and where new attributes go: after its last attribute, before its
    /// nested blocks.
    fn object(text: &str, block: &Block) -> Result<Object, String> {
        let span = block.span().ok_or("no position for the block")?;
        let header_end = block
            .labels
            .last()
            .and_then(|l| l.span())
            .or_else(|| block.ident.span())
            .ok_or("no position for the block")?
            .end;
        let open = header_end
            + text[header_end..span.end]
                .find('{')
                .ok_or("the block has no `{`")?;
        let close = open
            + text[open..span.end]
                .rfind('}')
                .ok_or("the block has no `}`")?;
        let mut members = Vec::new();
        let mut last_attr = None;
        let mut first = None;
        for s in block.body.iter() {
            let s_span = s.span().ok_or("no position for a member")?;
            first.get_or_insert(s_span.start);
            match s {
                Structure::Attribute(a) => {
                    members.push((a.key.as_str().to_owned(), list(text, &a.value)));
                    last_attr = Some((a, s_span));
                }
                Structure::Block(b) => {
                    members.push((b.ident.as_str().to_owned(), Err("a block".into())));
                }
            }
        }
        let layout = match (last_attr, first) {
            (Some((attr, s_span)), _) => {
                let end = line_end(text, s_span.end);
                if end >= close {
                    return Err("a one-line block".into());
                }
                let key_end = attr.key.span().map_or(s_span.start, |k| k.end);
                let line_start = text[..s_span.start].rfind('\n').map_or(0, |i| i + 1);
                // `terraform fmt` aligns the `=` of adjacent one-line attributes; a value over
                // several lines ends the run, and the new line then starts its own.
                let align = text[key_end..]
                    .find('=')
                    .filter(|_| same_line(text, s_span.start, s_span.end))
                    .map(|i| text[line_start..key_end + i].chars().count());
                ObjectLayout::Lines {
                    at: end + 1,
                    indent: line_indent(text, s_span.start).to_owned(),
                    align,
                }
            }
            (None, Some(first)) => {
                if same_line(text, open, first) {
                    return Err("a one-line block".into());
                }
                ObjectLayout::Lines {
                    at: line_end(text, open) + 1,
                    indent: line_indent(text, first).to_owned(),
                    align: None,
                }
            }
            (None, None) => empty_object(text, open, close),
        };
        Ok(Object { members, layout })
    }
}

/// The layout of an object or block with no members, from its `{` to its `}`.
fn empty_object(text: &str, open: usize, close: usize) -> ObjectLayout {
    let close_indent = line_indent(text, open).to_owned();
    if same_line(text, open, close) {
        ObjectLayout::EmptyInline {
            from: open + 1,
            to: close,
            indent: format!("{close_indent}  "),
            close_indent,
        }
    } else {
        ObjectLayout::Lines {
            at: line_end(text, open) + 1,
            indent: format!("{}  ", line_indent(text, close)),
            align: None,
        }
    }
}

mod bicep {
    use super::*;

    /// An item of an object or array, at depth one: its span, and the comma after it.
    #[derive(Debug, Clone, Copy)]
    struct Item {
        start: usize,
        end: usize,
        comma: Option<usize>,
    }

    /// The object or list at `at`: a key (`name:`) and its value, or the value itself.
    pub(super) fn locate(text: &str, at: usize) -> Result<Place, String> {
        let (key, value_at) = key_at(text, at)?;
        let found = value(text, value_at, 0)?;
        Ok(Place {
            key,
            labels: Vec::new(),
            found,
        })
    }

    /// The key written at `at` (an identifier or a plain string, then `:`) and where its value
    /// starts; no key when a value starts there.
    fn key_at(text: &str, at: usize) -> Result<(Option<String>, usize), String> {
        let rest = &text[at..];
        let (key, len) = if rest.starts_with(|c: char| c.is_alphabetic() || c == '_') {
            let len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (rest[..len].to_owned(), len)
        } else if rest.starts_with('\'') && !rest.starts_with("'''") {
            let end = string_end(text, at)?;
            match crate::literal::bicep_plain_string(&text[at..end]) {
                Some(s) => (s, end - at),
                None => return Ok((None, at)),
            }
        } else {
            return Ok((None, at));
        };
        let after = skip_trivia(text, at + len, false)?;
        if text.as_bytes().get(after) != Some(&b':') {
            // An identifier that is the value (a variable) is refused by `value`.
            return Ok((None, at));
        }
        Ok((Some(key), skip_trivia(text, after + 1, true)?))
    }

    fn value(text: &str, at: usize, depth: usize) -> Result<Found, String> {
        if depth > crate::literal::MAX_DEPTH {
            return Err("nested too deep".into());
        }
        match text.as_bytes().get(at) {
            Some(b'[') => Ok(Found::List(list(text, at)?)),
            Some(b'{') => Ok(Found::Object(object(text, at, depth)?)),
            _ => {
                let end = line_end(text, at);
                Err(format!(
                    "`{}` is not a list or object literal",
                    text[at..end].trim()
                ))
            }
        }
    }

    fn list(text: &str, open: usize) -> Result<List, String> {
        let (close, items) = items(text, open)?;
        if let Some(first) = items.first()
            && text[first.start..].starts_with("for")
            && text[first.start + 3..].starts_with(|c: char| c.is_whitespace() || c == '(')
        {
            return Err("a `for` expression, not a list literal".into());
        }
        let decoded = items
            .iter()
            .map(|i| crate::literal::bicep_plain_string(&text[i.start..i.end]))
            .collect();
        let Some(last) = items.last() else {
            return Ok(List {
                items: decoded,
                quote: None,
                layout: if same_line(text, open, close) {
                    ListLayout::EmptyInline { at: open + 1 }
                } else {
                    ListLayout::EmptyLines {
                        at: open + 1,
                        indent: format!("{}  ", line_indent(text, close)),
                    }
                },
            });
        };
        let after = last.comma.map_or(last.end, |c| c + 1);
        let layout = if same_line(text, open, last.end) {
            ListLayout::Inline {
                at: after,
                trailing_comma: last.comma.is_some(),
            }
        } else {
            let commas = if last.comma.is_some() {
                Commas::Trailing
            } else if items.iter().rev().skip(1).any(|i| i.comma.is_some()) {
                Commas::Missing(last.end)
            } else {
                Commas::None
            };
            ListLayout::Lines {
                at: line_end(text, after).min(close),
                indent: line_indent(text, last.start).to_owned(),
                commas,
            }
        };
        Ok(List {
            items: decoded,
            layout,
            quote: None,
        })
    }

    fn object(text: &str, open: usize, depth: usize) -> Result<Object, String> {
        let (close, items) = items(text, open)?;
        let mut members = Vec::new();
        for item in &items {
            let (key, value_at) = key_at(text, item.start)?;
            let Some(key) = key else {
                // A decorator, a spread, a nested resource: not a member this edits.
                members.push((String::new(), Err("not a member".into())));
                continue;
            };
            let list = match value(text, value_at, depth + 1) {
                Ok(Found::List(l)) => Ok(l),
                Ok(Found::Object(_)) => Err(format!("`{key}` is an object")),
                Err(e) => Err(e),
            };
            members.push((key, list));
        }
        let layout = match items.last() {
            None => empty_object(text, open, close),
            Some(last) if same_line(text, open, last.end) => {
                if !same_line(text, last.end, close) {
                    return Err("an object whose members share its first line".into());
                }
                ObjectLayout::Inline { at: last.end }
            }
            Some(last) => {
                let end = line_end(text, last.comma.map_or(last.end, |c| c + 1));
                if end >= close || last.comma.is_some() {
                    return Err("an object with commas or its `}` on a member's line".into());
                }
                ObjectLayout::Lines {
                    at: end + 1,
                    indent: line_indent(text, last.start).to_owned(),
                    align: None,
                }
            }
        };
        Ok(Object { members, layout })
    }

    /// The items at depth one of the object or array opened at `open`, and its closing bracket.
    fn items(text: &str, open: usize) -> Result<(usize, Vec<Item>), String> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut start: Option<usize> = None;
        let mut end = 0usize;
        let mut i = open + 1;
        loop {
            let Some(&c) = b.get(i) else {
                return Err("the bracket is never closed".into());
            };
            match c {
                b'\n' if depth == 0 => {
                    if let Some(s) = start.take() {
                        out.push(Item {
                            start: s,
                            end,
                            comma: None,
                        });
                    }
                    i += 1;
                }
                b',' if depth == 0 => {
                    let s = start.take().ok_or("an empty item")?;
                    out.push(Item {
                        start: s,
                        end,
                        comma: Some(i),
                    });
                    i += 1;
                }
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(text, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i = text[i + 2..]
                        .find("*/")
                        .map(|j| i + 2 + j + 2)
                        .ok_or("a comment is never closed")?;
                }
                b'}' | b']' | b')' if depth == 0 => {
                    if let Some(s) = start.take() {
                        out.push(Item {
                            start: s,
                            end,
                            comma: None,
                        });
                    }
                    let want = if b[open] == b'{' { b'}' } else { b']' };
                    if c != want {
                        return Err("mismatched brackets".into());
                    }
                    return Ok((i, out));
                }
                _ => {
                    start.get_or_insert(i);
                    i = match c {
                        b'\'' => string_end(text, i)?,
                        b'{' | b'[' | b'(' => {
                            depth += 1;
                            i + 1
                        }
                        b'}' | b']' | b')' => {
                            depth -= 1;
                            i + 1
                        }
                        _ => i + text[i..].chars().next().map_or(1, char::len_utf8),
                    };
                    end = i;
                    if depth > crate::literal::MAX_DEPTH {
                        return Err("nested too deep".into());
                    }
                }
            }
        }
    }

    /// Past the string that starts at `at` (`'...'` with escapes and `${...}`, or `'''...'''`).
    fn string_end(text: &str, at: usize) -> Result<usize, String> {
        if text[at..].starts_with("'''") {
            return text[at + 3..]
                .find("'''")
                .map(|j| at + 3 + j + 3)
                .ok_or_else(|| "a string is never closed".into());
        }
        let b = text.as_bytes();
        let mut i = at + 1;
        while let Some(&c) = b.get(i) {
            match c {
                b'\'' => return Ok(i + 1),
                b'\\' => i += 2,
                b'\n' => break,
                b'$' if b.get(i + 1) == Some(&b'{') => i = interpolation_end(text, i + 2)?,
                _ => i += 1,
            }
        }
        Err("a string is never closed".into())
    }

    /// Past the `}` that closes an interpolation whose inside starts at `at`.
    fn interpolation_end(text: &str, mut i: usize) -> Result<usize, String> {
        let b = text.as_bytes();
        let mut depth = 0usize;
        while let Some(&c) = b.get(i) {
            match c {
                b'\'' => {
                    i = string_end(text, i)?;
                    continue;
                }
                b'{' => depth += 1,
                b'}' if depth == 0 => return Ok(i + 1),
                b'}' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        Err("`${` is never closed".into())
    }

    /// Past spaces and comments from `i` (and new lines, when `lines`).
    fn skip_trivia(text: &str, mut i: usize, lines: bool) -> Result<usize, String> {
        let b = text.as_bytes();
        while let Some(&c) = b.get(i) {
            match c {
                b' ' | b'\t' | b'\r' => i += 1,
                b'\n' if lines => i += 1,
                b'/' if b.get(i + 1) == Some(&b'/') && lines => i = line_end(text, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i = text[i + 2..]
                        .find("*/")
                        .map(|j| i + 2 + j + 2)
                        .ok_or("a comment is never closed")?;
                }
                _ => break,
            }
        }
        Ok(i)
    }
}

mod yaml {
    use super::*;

    /// The block sequence, one-line flow sequence or block mapping that is the value of the key
    /// at `at` (or, for a value that starts at `at`, that value).
    pub(super) fn locate(text: &str, at: usize) -> Result<Place, String> {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let indent = text[line_start..at].chars().count();
        if text[line_start..at].contains('\t') {
            return Err("tabs in the indentation".into());
        }
        let line = &text[at..line_end(text, at)];
        let (key, rest_at) = key(line).ok_or("no `key:` there")?;
        let rest = strip_comment(&line[rest_at..]).trim();
        let found = match rest.chars().next() {
            None => block(text, line_end(text, at), indent)?,
            Some('[') => flow(text, at + rest_at + line[rest_at..].find('[').unwrap_or(0))?,
            Some(c @ ('{' | '&' | '*' | '!' | '|' | '>')) => {
                return Err(format!(
                    "YAML `{c}` (a flow mapping, anchor, alias, tag or block scalar) is not edited"
                ));
            }
            Some(_) => return Err(format!("`{rest}` is not a list or mapping")),
        };
        Ok(Place {
            key: Some(key),
            labels: Vec::new(),
            found,
        })
    }

    /// The key of a `key:` line (plain, or quoted without escapes) and where its value starts.
    fn key(line: &str) -> Option<(String, usize)> {
        let (key, after) = match line.chars().next()? {
            q @ ('\'' | '"') => {
                let end = line[1..].find(q)? + 1;
                (line[1..end].to_owned(), end + 1)
            }
            _ => {
                let end = line
                    .match_indices(':')
                    .map(|(i, _)| i)
                    .find(|i| line[i + 1..].is_empty() || line[i + 1..].starts_with([' ', '\t']))?;
                (line[..end].trim_end().to_owned(), end)
            }
        };
        line[after..].starts_with(':').then_some((key, after + 1))
    }

    /// The line without a ` #` comment (outside quotes).
    fn strip_comment(s: &str) -> &str {
        let mut quote = None;
        let mut prev = ' ';
        for (i, c) in s.char_indices() {
            match (quote, c) {
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '#') if prev == ' ' || prev == '\t' => return &s[..i],
                _ => {}
            }
            prev = c;
        }
        s
    }

    /// A simple scalar as YAML reads it: plain, `'...'` or `"..."` without escapes; `None` for
    /// anything else.
    fn scalar(s: &str) -> Option<(String, Option<char>)> {
        let s = strip_comment(s).trim();
        match s.chars().next()? {
            q @ ('\'' | '"') => {
                let inner = s.strip_prefix(q)?.strip_suffix(q)?;
                if inner.contains(q) || inner.contains('\\') {
                    return None;
                }
                Some((inner.to_owned(), Some(q)))
            }
            c if "[]{}&*!|>%@`".contains(c) => None,
            // `- key: value` is a mapping, not a string.
            _ if s.contains(": ") || s.ends_with(':') => None,
            _ => Some((s.to_owned(), None)),
        }
    }

    /// The block under a key line that ends at `eol`, whose key is at column `indent`.
    fn block(text: &str, eol: usize, indent: usize) -> Result<Found, String> {
        // The content lines: (start, end, indent, trimmed).
        let mut lines: Vec<(usize, usize, usize, &str)> = Vec::new();
        let mut i = eol + 1;
        while i < text.len() {
            let end = line_end(text, i);
            let line = &text[i..end];
            let trimmed = line.trim_start_matches(' ');
            if trimmed.starts_with('\t') {
                return Err("tabs in the indentation".into());
            }
            let t = trimmed.trim_end();
            if !(t.is_empty() || t.starts_with('#')) {
                let n = line.len() - trimmed.len();
                let first = lines.first().map(|l| l.2);
                let is_item = t == "-" || t.starts_with("- ");
                let inside = match first {
                    None => n > indent || (n == indent && is_item),
                    Some(f) => n > f || (n == f && (is_item == lines[0].3.starts_with('-'))),
                };
                if !inside || t.starts_with("---") || t.starts_with("...") {
                    break;
                }
                lines.push((i, end, n, t));
            }
            i = end + 1;
        }
        let Some(&(_, _, ind, first)) = lines.first() else {
            return Err("an empty value (null), not a list or mapping".into());
        };
        let last_end = lines.last().map_or(eol, |l| l.1);
        let at = (last_end + 1).min(text.len());
        let indent_text = " ".repeat(ind);
        if first.starts_with('-') {
            let mut items = Vec::new();
            let mut quote = None;
            for &(_, _, n, t) in &lines {
                if n != ind {
                    return Err("a list item over several lines".into());
                }
                let (value, q) = scalar(t.strip_prefix('-').unwrap_or(t))
                    .ok_or("an item that is not a plain or quoted string")?;
                items.push(Some(value));
                quote = q;
            }
            Ok(Found::List(List {
                items,
                quote,
                layout: ListLayout::YamlItems {
                    at,
                    indent: indent_text,
                },
            }))
        } else {
            let members = lines
                .iter()
                .filter(|l| l.2 == ind)
                .filter_map(|l| key(l.3).map(|(k, _)| (k, Err("not edited".to_owned()))))
                .collect();
            Ok(Found::Object(Object {
                members,
                layout: ObjectLayout::Lines {
                    at,
                    indent: indent_text,
                    align: None,
                },
            }))
        }
    }

    /// A flow sequence `[a, b]` on one line, of plain or quoted strings.
    fn flow(text: &str, open: usize) -> Result<Found, String> {
        let eol = line_end(text, open);
        let line = strip_comment(&text[open..eol]);
        let mut items = Vec::new();
        let mut quote = None;
        let mut i = 1;
        let mut item_start = 1;
        let mut last_end = None;
        let mut q: Option<char> = None;
        loop {
            let Some(c) = line[i..].chars().next() else {
                return Err("a flow list over several lines".into());
            };
            match (q, c) {
                (None, '\'' | '"') => q = Some(c),
                (Some(qc), c) if c == qc => q = None,
                (None, '[' | '{' | '&' | '*' | '!') => {
                    return Err("a flow list with nested values, anchors or aliases".into());
                }
                (None, ',' | ']') => {
                    let item = &line[item_start..i];
                    if !item.trim().is_empty() {
                        let (v, iq) =
                            scalar(item).ok_or("an item that is not a plain or quoted string")?;
                        items.push(Some(v));
                        quote = iq;
                        last_end = Some(item_start + item.trim_end().len());
                    } else if c == ',' {
                        return Err("an empty item".into());
                    }
                    item_start = i + 1;
                    if c == ']' {
                        break;
                    }
                }
                _ => {}
            }
            i += c.len_utf8();
        }
        let layout = match last_end {
            None => ListLayout::EmptyInline { at: open + 1 },
            Some(end) => ListLayout::Inline {
                at: open + end,
                trailing_comma: false,
            },
        };
        Ok(Found::List(List {
            items,
            quote,
            layout,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::literal::apply_at;

    fn append(value: &str) -> Change {
        Change::AppendToArray {
            value: value.into(),
        }
    }

    fn member(name: &str, value: Value) -> Change {
        Change::InsertMember {
            name: name.into(),
            value,
        }
    }

    /// `changes` at (line, column, pointer) applied to `text`: the text after, and the outcomes.
    fn fix(
        text: &str,
        syntax: Syntax,
        changes: &[(u32, u32, &str, &Change)],
    ) -> (String, Vec<Result<(), String>>) {
        let (after, outcomes) = apply_at(text, syntax, changes);
        // A second run with the same edits changes nothing.
        let (again, _) = apply_at(&after, syntax, changes);
        assert_eq!(again, after, "not idempotent");
        (after, outcomes)
    }

    const CC: &str = "/resource/azurerm_batch_pool/p/container_configuration/0";

    #[test]
    fn hcl_lists_grow_in_their_own_layout() {
        let images = format!("{CC}/containerImageNames");
        let inline = "resource \"azurerm_batch_pool\" \"p\" {\n  container_configuration {\n    container_image_names = [\"a\", \"b\"] # two\n  }\n}\n";
        let (after, out) = fix(
            inline,
            Syntax::Hcl,
            &[
                (2, 3, &images, &append("c")),
                (2, 3, &images, &append("d:1")),
            ],
        );
        assert_eq!(out, vec![Ok(()), Ok(())]);
        assert_eq!(after, inline.replace("\"b\"]", "\"b\", \"c\", \"d:1\"]"));

        let lines = "resource \"azurerm_batch_pool\" \"p\" {\n  container_configuration {\n    container_image_names = [\n      \"a\",\n      \"b\" # last\n    ]\n  }\n}\n";
        let (after, out) = fix(lines, Syntax::Hcl, &[(2, 3, &images, &append("c"))]);
        assert_eq!(out, vec![Ok(())]);
        assert_eq!(
            after,
            lines.replace("\"b\" # last\n", "\"b\", # last\n      \"c\"\n")
        );
        let trailing = lines.replace("\"b\" # last", "\"b\",");
        let (after, _) = fix(&trailing, Syntax::Hcl, &[(2, 3, &images, &append("c"))]);
        assert_eq!(
            after,
            trailing.replace("\"b\",\n", "\"b\",\n      \"c\",\n")
        );

        let empty = "resource \"azurerm_batch_pool\" \"p\" {\n  container_configuration {\n    container_image_names = []\n  }\n}\n";
        let (after, _) = fix(empty, Syntax::Hcl, &[(2, 3, &images, &append("a$b${c}"))]);
        assert_eq!(after, empty.replace("[]", "[\"a$b$${c}\"]"));
    }

    #[test]
    fn hcl_blocks_get_attributes_at_their_indentation() {
        let text = "resource \"azurerm_batch_pool\" \"p\" {\n  name              = \"p\"\n  vm_size           = \"Standard_D4s_v5\"\n\n  container_configuration {\n    container_image_names = [\"a\"]\n\n    container_registries {\n      registry_server = \"r\"\n    }\n  }\n}\n";
        let (after, out) = fix(
            text,
            Syntax::Hcl,
            &[
                (5, 3, CC, &member("type", "dockerCompatible".into())),
                (
                    1,
                    1,
                    "/resource/azurerm_batch_pool/p",
                    &member("nodeAgentSKUId", "batch.node.ubuntu 24.04".into()),
                ),
            ],
        );
        assert_eq!(out, vec![Ok(()), Ok(())]);
        assert_eq!(
            after,
            text.replace(
                "    container_image_names = [\"a\"]\n",
                "    container_image_names = [\"a\"]\n    type                  = \"DockerCompatible\"\n"
            )
            .replace(
                "  vm_size           = \"Standard_D4s_v5\"\n",
                "  vm_size           = \"Standard_D4s_v5\"\n  node_agent_sku_id = \"batch.node.ubuntu 24.04\"\n"
            )
        );
        // An absent list is added with the element; an empty block opens up.
        let empty = "resource \"azurerm_batch_pool\" \"p\" {\n  container_configuration {}\n}\n";
        let images = format!("{CC}/containerImageNames");
        let (after, out) = fix(
            empty,
            Syntax::Hcl,
            &[
                (2, 3, &images, &append("a")),
                (2, 3, &images, &append("b")),
                (2, 3, CC, &member("type", "dockerCompatible".into())),
            ],
        );
        assert_eq!(out, vec![Ok(()), Ok(()), Ok(())]);
        assert_eq!(
            after,
            "resource \"azurerm_batch_pool\" \"p\" {\n  container_configuration {\n    container_image_names = [\"a\", \"b\"]\n    type = \"DockerCompatible\"\n  }\n}\n"
        );
    }

    #[test]
    fn hcl_gets_batchprep_start_task_as_pool_emit_writes_it() {
        let text = "resource \"azurerm_batch_pool\" \"p\" {\n  vm_size = \"x\"\n}\n";
        let task = batchprep_batch::start_task::rest_start_task("/bin/bash -c 'x'");
        let at = "/resource/azurerm_batch_pool/p";
        let (after, out) = fix(text, Syntax::Hcl, &[(1, 1, at, &member("startTask", task))]);
        assert_eq!(out, vec![Ok(())]);
        assert_eq!(
            after,
            "resource \"azurerm_batch_pool\" \"p\" {\n  vm_size = \"x\"\n  start_task {\n    command_line       = \"/bin/bash -c 'x'\"\n    task_retry_maximum = 1\n    wait_for_success   = true\n\n    user_identity {\n      auto_user {\n        elevation_level = \"Admin\"\n        scope           = \"Pool\"\n      }\n    }\n  }\n}\n"
        );
        // Any other start task has no spelling the fixer writes.
        let other = serde_json::json!({"commandLine": "x", "waitForSuccess": true});
        let (after, out) = apply_at(
            text,
            Syntax::Hcl,
            &[(1, 1, at, &member("startTask", other))],
        );
        assert_eq!(after, text);
        assert_eq!(
            out,
            vec![Err(
                "only batchprep's own start task has a Terraform spelling the fixer writes".into()
            )]
        );
    }

    #[test]
    fn hcl_refuses_what_it_does_not_read_exactly() {
        let text = "resource \"azurerm_batch_pool\" \"p\" {\n  container_configuration {\n    type = \"x\"\n    container_image_names = var.images\n  }\n  start_task {\n    command_line = \"x\"\n  }\n}\n";
        let images = format!("{CC}/containerImageNames");
        let (after, out) = apply_at(
            text,
            Syntax::Hcl,
            &[
                (2, 3, &images, &append("a")),
                (2, 3, CC, &member("type", "dockerCompatible".into())),
                (
                    1,
                    1,
                    "/resource/azurerm_batch_pool/p",
                    &member("startTask", serde_json::json!({"commandLine": "x"})),
                ),
                // The reader's fallback to a block the edit is not for.
                (6, 3, &images, &append("a")),
            ],
        );
        assert_eq!(after, text);
        assert_eq!(
            out,
            vec![
                Err("`var.images` is not a list literal".into()),
                Err("`type` is already there".into()),
                Err("`start_task` is already there".into()),
                Err("the list's object is not where the reader recorded it".into()),
            ]
        );
    }

    const VM: &str = "/resource/p/properties/deploymentConfiguration/virtualMachineConfiguration";

    #[test]
    fn bicep_lists_and_objects_grow_in_their_own_layout() {
        let text = "resource p 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {\n  properties: {\n    deploymentConfiguration: {\n      virtualMachineConfiguration: {\n        containerConfiguration: {\n          containerImageNames: [\n            'a' // first\n          ]\n        }\n      }\n    }\n  }\n}\n";
        let cc = format!("{VM}/containerConfiguration");
        let images = format!("{cc}/containerImageNames");
        let (after, out) = fix(
            text,
            Syntax::Bicep,
            &[
                (6, 11, &images, &append("it's")),
                (5, 9, &cc, &member("type", "dockerCompatible".into())),
                (
                    4,
                    7,
                    VM,
                    &member("nodeAgentSKUId", "batch.node.ubuntu 24.04".into()),
                ),
                (
                    2,
                    3,
                    "/resource/p/properties",
                    &member(
                        "startTask",
                        serde_json::json!({"commandLine": "/bin/bash -c 'echo ${x}'", "userIdentity": {"autoUser": {"scope": "pool"}}, "waitForSuccess": true}),
                    ),
                ),
            ],
        );
        assert_eq!(out, vec![Ok(()), Ok(()), Ok(()), Ok(())]);
        assert_eq!(
            after,
            "resource p 'Microsoft.Batch/batchAccounts/pools@2025-06-01' = {\n  properties: {\n    deploymentConfiguration: {\n      virtualMachineConfiguration: {\n        containerConfiguration: {\n          containerImageNames: [\n            'a' // first\n            'it\\'s'\n          ]\n          type: 'DockerCompatible'\n        }\n        nodeAgentSkuId: 'batch.node.ubuntu 24.04'\n      }\n    }\n    startTask: {\n      commandLine: '/bin/bash -c \\'echo \\${x}\\''\n      userIdentity: {\n        autoUser: {\n          scope: 'Pool'\n        }\n      }\n      waitForSuccess: true\n    }\n  }\n}\n"
        );

        let inline = "var cc = {\n  containerImageNames: ['a', 'b']\n  other: []\n}\n";
        let (after, _) = fix(
            inline,
            Syntax::Bicep,
            &[
                (2, 3, "/var/cc/containerImageNames", &append("c")),
                (3, 3, "/var/cc/other", &append("d")),
            ],
        );
        assert_eq!(
            after,
            "var cc = {\n  containerImageNames: ['a', 'b', 'c']\n  other: ['d']\n}\n"
        );
        // An absent list, in an object a variable holds (recorded at its value).
        let (after, _) = fix(
            "var cc = {\n  type: 'x'\n}\n",
            Syntax::Bicep,
            &[(1, 10, "/var/cc/containerImageNames", &append("a"))],
        );
        assert_eq!(
            after,
            "var cc = {\n  type: 'x'\n  containerImageNames: [\n    'a'\n  ]\n}\n"
        );
        // ARM names are case-insensitive: the agent written as the data plane spells it is there.
        let (_, out) = apply_at(
            "var vm = {\n  nodeAgentSKUId: 'x'\n}\n",
            Syntax::Bicep,
            &[(1, 10, "/var/vm", &member("nodeAgentSKUId", "y".into()))],
        );
        assert_eq!(out, vec![Err("`nodeAgentSkuId` is already there".into())]);
    }

    #[test]
    fn bicep_refuses_lists_it_does_not_read_exactly() {
        let text = "var cc = {\n  containerImageNames: images\n  other: [for i in range(0, 2): 'x${i}']\n  more: concat(a, ['b'])\n}\n";
        let (after, out) = apply_at(
            text,
            Syntax::Bicep,
            &[
                (2, 3, "/var/cc/containerImageNames", &append("c")),
                (3, 3, "/var/cc/other", &append("c")),
                (4, 3, "/var/cc/more", &append("c")),
            ],
        );
        assert_eq!(after, text);
        assert_eq!(
            out,
            vec![
                Err("`images` is not a list or object literal".into()),
                Err("a `for` expression, not a list literal".into()),
                Err("`concat(a, ['b'])` is not a list or object literal".into()),
            ]
        );
    }

    const IMAGES: &str =
        "/pool_specification/vm_configuration/platform_image/native/containerImageNames";

    #[test]
    fn yaml_lists_grow_in_their_own_layout() {
        let text = "global_resources:\n  docker_images:\n  - a  # first\n  - 'b'\n  volumes: {}\n";
        let (after, out) = fix(
            text,
            Syntax::Yaml,
            &[
                (2, 3, IMAGES, &append("c:1")),
                (2, 3, IMAGES, &append("3.12")),
            ],
        );
        assert_eq!(out, vec![Ok(()), Ok(())]);
        assert_eq!(
            after,
            text.replace("  - 'b'\n", "  - 'b'\n  - 'c:1'\n  - '3.12'\n")
        );
        let plain = "global_resources:\n  docker_images:\n    - a\n";
        let (after, _) = fix(
            plain,
            Syntax::Yaml,
            &[(2, 3, IMAGES, &append("ghcr.io/x:1"))],
        );
        assert_eq!(
            after,
            "global_resources:\n  docker_images:\n    - a\n    - ghcr.io/x:1\n"
        );
        let (after, _) = fix(
            "global_resources:\n  docker_images: [a, \"b\"] # two\n",
            Syntax::Yaml,
            &[(2, 3, IMAGES, &append("c"))],
        );
        assert_eq!(
            after,
            "global_resources:\n  docker_images: [a, \"b\", \"c\"] # two\n"
        );
        let (after, _) = fix(
            "global_resources:\n  docker_images: []\n",
            Syntax::Yaml,
            &[(2, 3, IMAGES, &append("yes"))],
        );
        assert_eq!(after, "global_resources:\n  docker_images: ['yes']\n");
    }

    #[test]
    fn yaml_refuses_anchors_aliases_and_other_values() {
        for (text, why) in [
            (
                "global_resources:\n  docker_images: *images\n",
                "YAML `*` (a flow mapping, anchor, alias, tag or block scalar) is not edited",
            ),
            (
                "global_resources:\n  docker_images:\n  - &a x\n",
                "an item that is not a plain or quoted string",
            ),
            (
                "global_resources:\n  docker_images: [a, [b]]\n",
                "a flow list with nested values, anchors or aliases",
            ),
            (
                "global_resources:\n  docker_images: x\n",
                "`x` is not a list or mapping",
            ),
            (
                "global_resources:\n  docker_images:\n",
                "an empty value (null), not a list or mapping",
            ),
        ] {
            let (after, out) = apply_at(text, Syntax::Yaml, &[(2, 3, IMAGES, &append("c"))]);
            assert_eq!(after, text);
            assert_eq!(out, vec![Err(why.to_owned())], "{text}");
        }
        // The reader's fallback to the `native` key: not the list.
        let text =
            "pool_specification:\n  vm_configuration:\n    platform_image:\n      native: true\n";
        let (_, out) = apply_at(text, Syntax::Yaml, &[(4, 7, IMAGES, &append("c"))]);
        assert_eq!(out, vec![Err("`true` is not a list or mapping".into())]);
    }

    #[test]
    fn a_yaml_mapping_gets_a_member_at_its_siblings_indentation() {
        // No Shipyard rule adds a member (see `supports`); the layout is the one lists use.
        let text = "pool_specification:\n  vm_configuration:\n    custom_image:\n      arm_image_id: x\n  vm_size: y\n";
        let at = text.find("custom_image").unwrap();
        let Ok(Place {
            found: Found::Object(object),
            ..
        }) = yaml::locate(text, at)
        else {
            panic!("no mapping found");
        };
        let mut inserts = Inserts::default();
        inserts.objects.insert(
            0,
            (
                object,
                vec![(
                    "node_agent".into(),
                    NewValue::Json("batch.node.ubuntu 24.04: x".into()),
                )],
            ),
        );
        let regions = inserts.regions(text, Syntax::Yaml).unwrap();
        assert_eq!(
            regions,
            vec![(
                text.find("  vm_size").unwrap(),
                text.find("  vm_size").unwrap(),
                "      node_agent: 'batch.node.ubuntu 24.04: x'\n".to_owned()
            )]
        );
    }

    /// Every line of the fixtures, cut short at every few lines, as a place for every insert: an
    /// outcome each time, never a panic, and nothing changed when it is refused.
    #[test]
    fn every_place_of_cut_fixtures_is_an_outcome_not_a_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let changes = [
            append("c"),
            member("type", "dockerCompatible".into()),
            member(
                "startTask",
                serde_json::json!({"commandLine": "x", "n": [1]}),
            ),
        ];
        for (file, syntax) in [
            ("fix/inserts/terraform/main.tf", Syntax::Hcl),
            ("pool-sources/terraform/main.tf", Syntax::Hcl),
            ("fix/inserts/bicep/pools.bicep", Syntax::Bicep),
            ("pool-sources/bicep/pools.bicep", Syntax::Bicep),
            ("fix/inserts/shipyard/config.yaml", Syntax::Yaml),
            ("pool-sources/shipyard/config.yaml", Syntax::Yaml),
        ] {
            let full = std::fs::read_to_string(root.join(file)).unwrap();
            let ends: Vec<usize> = full
                .match_indices('\n')
                .map(|(i, _)| i)
                .step_by(4)
                .collect();
            for cut in ends.into_iter().chain([full.len()]) {
                let text = &full[..cut];
                for (n, line) in text.lines().enumerate() {
                    let indent = line.len() - line.trim_start().len();
                    // The name written there, as the pointer's last two tokens: the checks of
                    // the place pass, so the writing is exercised too.
                    let key: String = line
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let pointer = format!("/x/{key}/{key}");
                    for column in [1, indent as u32 + 1] {
                        for change in &changes {
                            let at = (n as u32 + 1, column, pointer.as_str(), change);
                            let (after, out) = apply_at(text, syntax, &[at]);
                            if out[0].is_err() {
                                assert_eq!(after, text);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        for (text, syntax) in [
            ("var x = [\n", Syntax::Bicep),
            ("var x = {'", Syntax::Bicep),
            ("x = [\"a\"", Syntax::Hcl),
            ("a:\n\t- b\n", Syntax::Yaml),
            ("a: ['é", Syntax::Yaml),
        ] {
            for col in 1..=12 {
                let (after, out) = apply_at(text, syntax, &[(1, col, "/x", &append("c"))]);
                assert_eq!(after, text);
                assert!(out[0].is_err());
            }
        }
        let deep = format!("var x = {}{}\n", "[".repeat(500), "]".repeat(500));
        let (_, out) = apply_at(&deep, Syntax::Bicep, &[(1, 9, "/var/x", &append("c"))]);
        assert!(out[0].is_err());
    }
}
