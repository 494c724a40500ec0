//! Fixes in Terraform, Bicep and Batch Shipyard YAML: the readers of those files record where each
//! value is written (line and column), and a string value there is replaced in place, in the
//! quoting the file already uses. Inserts go the same way (module `insert`): an element appended
//! to a list literal, a member added to a block or object, as text in the layout of the elements or
//! members already there. A member is added only where the language has a mechanical spelling of
//! it (Terraform's `type`, `container_image_names` and `node_agent_sku_id`; any member in Bicep,
//! which spells ARM's names; none in Shipyard YAML); renaming a member is made in JSON only.
//!
//! No crate rewrites one literal of these languages in place while keeping the rest byte for byte
//! (hcl-edit reformats what it prints, and there is no Bicep crate), so the edits are literal text
//! edits made here; each refuses what it does not read exactly (interpolation, escapes it does not
//! know, a list built by a variable or a function, YAML anchors and aliases).

use batchprep_lint::finding::Change;

/// The language of a file fixed by literal replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// HCL: `"..."` with backslash escapes; `${` is interpolation.
    Hcl,
    /// Bicep: `'...'` with backslash escapes; `${` is interpolation.
    Bicep,
    /// YAML: a plain scalar to the end of the line (or a ` #` comment), or `'...'` or `"..."`.
    Yaml,
}

impl Syntax {
    /// The syntax of a file by its extension, for the languages this module edits.
    pub fn of(path: &std::path::Path) -> Option<Syntax> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "tf" => Some(Syntax::Hcl),
            "bicep" => Some(Syntax::Bicep),
            "yaml" | "yml" => Some(Syntax::Yaml),
            _ => None,
        }
    }
}

/// Whether [`apply_at`] can make `change` in a file of `syntax` at all: string values anywhere; an
/// element appended to a list, and a member added where the language has a spelling for it (see
/// module `insert`). Whether it applies at the place the edit is for, only applying it tells.
pub fn supports(syntax: Syntax, change: &Change) -> bool {
    match change {
        Change::ReplaceString { .. } | Change::RunOptions { .. } => true,
        Change::AppendToArray { .. } | Change::InsertMember { .. } => {
            crate::insert::supports(syntax, change)
        }
        // A Bicep key is renamed in place; Terraform and Shipyard spell members their own way.
        Change::RenameMember { .. } => syntax == Syntax::Bicep,
    }
}

/// The deepest nesting the scanners follow; hostile input gets an error, not a stack overflow.
pub(crate) const MAX_DEPTH: usize = 64;

/// How `value` of member `member` (the REST name, as the readers' pointers have it), written by a rule in the data plane's spelling, is spelled in
/// `syntax`: Bicep (ARM) and Terraform spell the enums in PascalCase, and the azurerm provider
/// accepts only that spelling.
pub fn spelled_for<'a>(syntax: Syntax, member: &str, value: &'a str) -> &'a str {
    match syntax {
        Syntax::Hcl | Syntax::Bicep => {
            batchprep_batch::emit::arm_enum(member, value).unwrap_or(value)
        }
        Syntax::Yaml => value,
    }
}

/// A string literal found in the text: its byte span (quotes included) and decoded value.
struct Literal {
    start: usize,
    end: usize,
    value: String,
    style: Style,
}

#[derive(Clone, Copy)]
enum Style {
    Double,
    Single,
    Plain,
}

/// Applies `changes` (1-based line and character column the reader recorded, the pointer it
/// recorded there, change) to `text`, one after the other; each outcome says whether it applied or
/// why not. Every position is one the reader found in `text` as read, so all edits are found there
/// and made last to first by offset: an earlier edit cannot move a later one's place. Changes of
/// the same literal compose, and so do inserts into the same list or object.
pub fn apply_at(
    text: &str,
    syntax: Syntax,
    changes: &[(u32, u32, &str, &Change)],
) -> (String, Vec<Result<(), String>>) {
    // Per literal (by its start in `text`): the literal and its value after the changes so far.
    let mut edited: std::collections::BTreeMap<usize, (Literal, String)> = Default::default();
    let mut inserts = crate::insert::Inserts::default();
    let mut inserted = Vec::new();
    let mut renamed: Vec<(usize, usize, String)> = Vec::new();
    let mut outcomes: Vec<Result<(), String>> = changes
        .iter()
        .enumerate()
        .map(|(i, (line, column, pointer, change))| {
            let at = offset(text, *line, *column).ok_or("no such line and column")?;
            if !supports(syntax, change) {
                return Err(match change {
                    Change::RenameMember { .. } => {
                        "this change is made in JSON and Bicep files only"
                    }
                    _ => "this change has no spelling in this language",
                }
                .into());
            }
            if matches!(
                change,
                Change::AppendToArray { .. } | Change::InsertMember { .. }
            ) {
                inserts.add(text, syntax, at, pointer, change)?;
                inserted.push(i);
                return Ok(());
            }
            if let Change::RenameMember { from, to } = change {
                let (start, end) = bicep_key(text, at, from)?;
                if renamed.iter().any(|r| r.0 == start) {
                    return Err(format!("`{from}` is being renamed already"));
                }
                if !is_bicep_ident(to) {
                    return Err(format!("`{to}` is not a Bicep identifier"));
                }
                renamed.push((start, end, to.clone()));
                return Ok(());
            }
            let lit = find_literal(text, at, syntax).ok_or("no string literal there")?;
            let now = edited.get(&lit.start).map_or(&lit.value, |(_, v)| v);
            let to = match change {
                Change::ReplaceString { from, to } => {
                    if now != from {
                        return Err(format!("the value is no longer `{from}`"));
                    }
                    let member = pointer.rsplit('/').next().unwrap_or_default();
                    spelled_for(syntax, member, to).to_owned()
                }
                Change::RunOptions { remove, append } => {
                    crate::run_options_after(now, remove, append)?
                }
                // Inserts and renames were taken above.
                _ => return Err("not a change of a value".into()),
            };
            encode(&to, lit.style, syntax).ok_or("the new value needs quoting")?;
            edited.insert(lit.start, (lit, to));
            Ok(())
        })
        .collect();
    let mut regions: Vec<(usize, usize, String)> = edited
        .values()
        .filter_map(|(lit, to)| Some((lit.start, lit.end, encode(to, lit.style, syntax)?)))
        .collect();
    regions.extend(renamed);
    match inserts.regions(text, syntax) {
        Ok(r) => regions.extend(r),
        Err(e) => {
            for i in inserted {
                outcomes[i] = Err(e.clone());
            }
        }
    }
    // Last to first; an insertion at the end of a replaced literal goes first, so both land.
    regions.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
    let mut text = text.to_owned();
    let mut limit = text.len();
    for (start, end, written) in regions {
        // Regions never overlap (each is one literal, or an insertion between two); should one,
        // the text stays as it is rather than be garbled.
        if end > limit
            || start > end
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        text.replace_range(start..end, &written);
        limit = start;
    }
    (text, outcomes)
}

/// The span of the Bicep object key `name` that starts at `at` (bare, or quoted as `'name'`), when
/// a `:` follows it.
fn bicep_key(text: &str, at: usize, name: &str) -> Result<(usize, usize), String> {
    let rest = text.get(at..).ok_or("no such place")?;
    let quoted = format!("'{name}'");
    let len = if rest.starts_with(&quoted) {
        quoted.len()
    } else if rest.starts_with(name)
        && !rest[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    {
        name.len()
    } else {
        return Err(format!("the key is no longer `{name}`"));
    };
    if !rest[len..].trim_start_matches([' ', '\t']).starts_with(':') {
        return Err(format!("`{name}` is not an object key there"));
    }
    Ok((at, at + len))
}

fn is_bicep_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The byte offset of 1-based `line` and character `column`.
fn offset(text: &str, line: u32, column: u32) -> Option<usize> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line as usize - 2)?.0 + 1
    };
    let rest = &text[start..];
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(rest.len(), |(i, _)| i);
    Some(start + col)
}

/// The first string literal at or after `at` on its line: the value position may be a key's
/// (`node_agent_sku_id = "..."`, `nodeAgentSkuId: '...'`, `vm_size: X`).
fn find_literal(text: &str, at: usize, syntax: Syntax) -> Option<Literal> {
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[at..line_end];
    match syntax {
        Syntax::Hcl => quoted(text, at + line.find('"')?, '"'),
        Syntax::Bicep => quoted(text, at + line.find('\'')?, '\''),
        Syntax::Yaml => {
            // After `key:`, or the scalar itself (a sequence item's position).
            let value_at = match line.find(": ") {
                Some(i) if !line.starts_with(['"', '\'']) => i + 2,
                _ => 0,
            };
            let value = &line[value_at..];
            let trimmed = value.trim_start();
            let start = at + value_at + (value.len() - trimmed.len());
            match trimmed.chars().next()? {
                q @ ('"' | '\'') => quoted(text, start, q),
                '-' if trimmed.starts_with("- ") => None,
                '[' | '{' | '|' | '>' | '&' | '*' | '!' => None,
                _ => {
                    let end_in = trimmed.find(" #").unwrap_or(trimmed.len());
                    let value = trimmed[..end_in].trim_end();
                    (!value.is_empty()).then(|| Literal {
                        start,
                        end: start + value.len(),
                        value: value.to_owned(),
                        style: Style::Plain,
                    })
                }
            }
        }
    }
}

/// The literal quoted by `q` that starts at `start`, decoded; `None` for what this does not read
/// exactly (interpolation, unknown escapes).
fn quoted(text: &str, start: usize, q: char) -> Option<Literal> {
    let mut value = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == q => {
                // YAML's single quotes double a quote inside.
                if q == '\'' && text[start + 1 + i + 1..].starts_with('\'') {
                    return None;
                }
                return Some(Literal {
                    start,
                    end: start + 1 + i + 1,
                    value,
                    style: if q == '"' {
                        Style::Double
                    } else {
                        Style::Single
                    },
                });
            }
            '\\' => match chars.next()?.1 {
                e @ ('\\' | '"' | '\'') => value.push(e),
                'n' => value.push('\n'),
                't' => value.push('\t'),
                _ => return None,
            },
            '$' if text[start + 1 + i..].starts_with("${") => return None,
            '%' if text[start + 1 + i..].starts_with("%{") => return None,
            '\n' => return None,
            c => value.push(c),
        }
    }
    None
}

/// `value` in the style it replaces; `None` when that style cannot hold it.
fn encode(value: &str, style: Style, syntax: Syntax) -> Option<String> {
    let escape = |q: char| {
        let mut out = String::from(q);
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c == q => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out.push(q);
        out
    };
    match (style, syntax) {
        (_, Syntax::Hcl) => Some(batchprep_batch::emit::hcl_string(value)),
        (Style::Double, _) => Some(escape('"')),
        (_, Syntax::Bicep) => Some(escape('\'')),
        // YAML single quotes take no escapes; a quote would need doubling.
        (Style::Single, Syntax::Yaml) => {
            (!value.contains(['\'', '\n'])).then(|| format!("'{value}'"))
        }
        (Style::Plain, Syntax::Yaml) => {
            let plain = !value.is_empty()
                && !value.contains([':', '#', '\n', '\'', '"'])
                && !value.starts_with(['-', '[', '{', '&', '*', '!', '|', '>', '%', '@', ' '])
                && !value.ends_with(' ');
            Some(if plain { value.to_owned() } else { escape('"') })
        }
    }
}

/// The value of `written` when it is exactly one Bicep `'...'` string without interpolation.
pub(crate) fn bicep_plain_string(written: &str) -> Option<String> {
    let lit = quoted(written, 0, '\'')?;
    (lit.end == written.len()).then_some(lit.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(from: &str, to: &str) -> Change {
        Change::ReplaceString {
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn bicep_keys_are_renamed_in_place() {
        let rename = Change::RenameMember {
            from: "maxTasksPerNode".into(),
            to: "taskSlotsPerNode".into(),
        };
        let text = "{\n  maxTasksPerNode: 4 // per node\n  'maxTasksPerNode' : 2\n  maxTasksPerNodeX: 1\n}\n";
        let (after, out) = apply_at(
            text,
            Syntax::Bicep,
            &[
                (2, 3, "/a", &rename),
                (3, 3, "/b", &rename),
                (4, 3, "/c", &rename),
            ],
        );
        assert_eq!(
            after,
            "{\n  taskSlotsPerNode: 4 // per node\n  taskSlotsPerNode : 2\n  maxTasksPerNodeX: 1\n}\n"
        );
        assert_eq!(
            out,
            vec![
                Ok(()),
                Ok(()),
                Err("the key is no longer `maxTasksPerNode`".into())
            ]
        );
        // Idempotent: the key is gone.
        let (again, out) = apply_at(&after, Syntax::Bicep, &[(2, 3, "/a", &rename)]);
        assert_eq!(again, after);
        assert_eq!(
            out,
            vec![Err("the key is no longer `maxTasksPerNode`".into())]
        );
        // Terraform and Shipyard spell members their own way.
        let (_, out) = apply_at(
            "max_tasks_per_node = 4\n",
            Syntax::Hcl,
            &[(1, 1, "/a", &rename)],
        );
        assert_eq!(
            out,
            vec![Err(
                "this change is made in JSON and Bicep files only".into()
            )]
        );
    }

    #[test]
    fn enums_take_the_arm_and_terraform_spelling() {
        assert_eq!(
            spelled_for(Syntax::Hcl, "type", "dockerCompatible"),
            "DockerCompatible"
        );
        assert_eq!(
            spelled_for(Syntax::Bicep, "type", "criCompatible"),
            "CriCompatible"
        );
        assert_eq!(spelled_for(Syntax::Bicep, "scope", "pool"), "Pool");
        assert_eq!(spelled_for(Syntax::Hcl, "elevationLevel", "admin"), "Admin");
        assert_eq!(
            spelled_for(Syntax::Yaml, "type", "dockerCompatible"),
            "dockerCompatible"
        );
        // Only the members whose values are enums.
        assert_eq!(spelled_for(Syntax::Hcl, "commandLine", "admin"), "admin");
    }

    #[test]
    fn hcl_bicep_and_yaml_literals_change_in_place() {
        let hcl = "resource \"azurerm_batch_pool\" \"p\" {\n  node_agent_sku_id = \"batch.node.ubuntu 20.04\" # old\n  x = 1\n}\n";
        let (after, out) = apply_at(
            hcl,
            Syntax::Hcl,
            &[(
                2,
                3,
                "",
                &replace("batch.node.ubuntu 20.04", "batch.node.ubuntu 24.04"),
            )],
        );
        assert_eq!(out, vec![Ok(())]);
        assert_eq!(after, hcl.replace("20.04", "24.04"));

        let bicep = "  properties: {\n    nodeAgentSkuId: 'batch.node.ubuntu 20.04'\n  }\n";
        let (after, _) = apply_at(
            bicep,
            Syntax::Bicep,
            &[(
                2,
                5,
                "",
                &replace("batch.node.ubuntu 20.04", "batch.node.ubuntu 24.04"),
            )],
        );
        assert_eq!(after, bicep.replace("20.04", "24.04"));

        let yaml = "pool_specification:\n  vm_size: STANDARD_A0  # small\n  id: 'p'\n";
        let (after, out) = apply_at(
            yaml,
            Syntax::Yaml,
            &[
                (2, 3, "", &replace("STANDARD_A0", "Standard_D2s_v5")),
                (3, 3, "", &replace("p", "it's")),
            ],
        );
        assert_eq!(out, vec![Ok(()), Err("the new value needs quoting".into())]);
        assert_eq!(after, yaml.replace("STANDARD_A0", "Standard_D2s_v5"));
    }

    #[test]
    fn run_options_compose_and_interpolation_is_refused() {
        let hcl = "  container_run_options = \"--rm --gpus all\"\n  image = \"${var.image}\"\n";
        let rm = Change::RunOptions {
            remove: vec!["rm".into()],
            append: vec![],
        };
        let gpus = Change::RunOptions {
            remove: vec!["gpus".into()],
            append: vec![],
        };
        let (after, out) = apply_at(
            hcl,
            Syntax::Hcl,
            &[
                (1, 3, "", &rm),
                (1, 3, "", &gpus),
                (2, 3, "", &replace("x", "y")),
            ],
        );
        assert_eq!(
            out,
            vec![Ok(()), Ok(()), Err("no string literal there".into())]
        );
        assert_eq!(
            after,
            "  container_run_options = \"\"\n  image = \"${var.image}\"\n"
        );
    }

    #[test]
    fn several_literals_on_one_line_keep_their_columns() {
        let hcl = "  container_image_names = [\"a:latest\", \"b:latest\"]\n";
        let (after, out) = apply_at(
            hcl,
            Syntax::Hcl,
            &[
                (1, 28, "", &replace("a:latest", "a@sha256:0123")),
                (1, 40, "", &replace("b:latest", "b@sha256:4567")),
            ],
        );
        assert_eq!(out, vec![Ok(()), Ok(())]);
        assert_eq!(
            after,
            "  container_image_names = [\"a@sha256:0123\", \"b@sha256:4567\"]\n"
        );
    }
}
