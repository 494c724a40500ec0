//! `check --fix`: the mechanical fixes of findings ([`batchprep_lint::finding::Edit`]) applied to
//! the user's JSON files (pool JSON, ARM templates, task files) as edits of a concrete syntax tree,
//! so everything the edit does not touch (formatting, key order, comments in JSONC) stays byte for
//! byte. An edit applies only while the file still holds what the rule saw at its place; a second
//! run finds nothing left to change. The crate computes texts and diffs; the binary writes.
//!
//! jsonc-parser's CST does the editing (it is made for exactly this, and keeps trivia); what it
//! does not do is address a node by RFC 6901 pointer, which is written here.

mod insert;
pub mod literal;

use batchprep_batch::task::RunOptions;
use batchprep_lint::finding::{Change, Edit};
use jsonc_parser::{
    ParseOptions,
    cst::{CstInputValue, CstNode, CstObject, CstRootNode},
};

/// One file's fixes: its text before and after, and what happened to each edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFix {
    /// The text as read.
    pub before: String,
    /// The text with the applied edits.
    pub after: String,
    /// For each edit, in order: applied, or why not (the value is no longer what the rule saw,
    /// or the place is not a JSON value the change can make).
    pub outcomes: Vec<Result<(), String>>,
}

impl FileFix {
    /// How many edits were applied.
    pub fn applied(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_ok()).count()
    }
}

/// Why a file cannot be fixed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson(pub String);

impl std::fmt::Display for NotJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not JSON the fixer can edit: {}", self.0)
    }
}

impl std::error::Error for NotJson {}

/// Applies `edits` (pointer into the file, edit) to `text`. Edits at the same place as an earlier
/// one are applied in turn, each against the text the earlier left.
pub fn apply(text: &str, edits: &[(&str, &Edit)]) -> Result<FileFix, NotJson> {
    let root =
        CstRootNode::parse(text, &ParseOptions::default()).map_err(|e| NotJson(e.to_string()))?;
    // The CST puts an object a member is added to on lines of its own; in a file of one line
    // (minified) that would rewrite the whole file, so members are added there as text instead.
    if !text.trim_end().contains('\n') {
        let mut now = text.to_owned();
        let outcomes = edits
            .iter()
            .map(
                |(pointer, edit)| match one_line_member(&now, pointer, &edit.change) {
                    Some(Ok(after)) => {
                        now = after;
                        Ok(())
                    }
                    Some(Err(e)) => Err(e),
                    None => {
                        let root = CstRootNode::parse(&now, &ParseOptions::default())
                            .map_err(|e| e.to_string())?;
                        let outcome = apply_one(&root, pointer, &edit.change);
                        now = root.to_string();
                        outcome
                    }
                },
            )
            .collect();
        return Ok(FileFix {
            before: text.to_owned(),
            after: now,
            outcomes,
        });
    }
    let outcomes = edits
        .iter()
        .map(|(pointer, edit)| apply_one(&root, pointer, &edit.change))
        .collect();
    Ok(FileFix {
        before: text.to_owned(),
        after: root.to_string(),
        outcomes,
    })
}

/// For an edit that adds a member to an object: `text` with the member written before the
/// object's `}`, in the separators the object already uses (`,"a":1` or `, "a": 1`). `None` for
/// any other edit, left to the CST.
fn one_line_member(text: &str, pointer: &str, change: &Change) -> Option<Result<String, String>> {
    use jsonc_parser::{CollectOptions, ast::Value as Ast};
    let parsed =
        jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default())
            .ok()?;
    let root = parsed.value.as_ref()?;
    let find = |pointer: &str| -> Option<&Ast<'_>> {
        let mut node = root;
        if pointer.is_empty() {
            return Some(node);
        }
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = unescape(token);
            node = match node {
                Ast::Object(o) => {
                    &o.properties
                        .iter()
                        .find(|p| p.name.as_str() == token)?
                        .value
                }
                Ast::Array(a) => a.elements.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    };
    let (object, name, value) = match change {
        Change::InsertMember { name, value } => (find(pointer)?, name.clone(), value.clone()),
        Change::RunOptions { remove, append } if find(pointer).is_none() => {
            let (parent, name) = split_last(pointer)?;
            let to = match run_options_after("", remove, append) {
                Ok(to) => to,
                Err(e) => return Some(Err(e)),
            };
            (find(parent)?, name, serde_json::Value::from(to))
        }
        Change::AppendToArray { value } if find(pointer).is_none() => {
            let (parent, name) = split_last(pointer)?;
            (find(parent)?, name, serde_json::json!([value]))
        }
        _ => return None,
    };
    let Ast::Object(object) = object else {
        return None;
    };
    if object.properties.iter().any(|p| p.name.as_str() == name) {
        return Some(Err(format!("`{name}` is already there")));
    }
    // The object's own separators; the file's, when it has too few members to tell.
    let object_text = &text[object.range.start..object.range.end];
    let written = if object.properties.len() > 1 {
        object_text
    } else {
        text
    };
    let colon = if written.contains("\": ") { ": " } else { ":" };
    let member = format!("{}{colon}{}", quoted(&name), value);
    let (at, inserted) = match object.properties.last() {
        Some(last) => {
            let comma = if written.contains(", ") { ", " } else { "," };
            (last.range.end, format!("{comma}{member}"))
        }
        None => (object.range.start + 1, member),
    };
    let mut after = text.to_owned();
    after.insert_str(at, &inserted);
    Some(Ok(after))
}

/// A unified diff of the fix, with `name` as both file names (`a/` and `b/` as git writes them).
pub fn unified_diff(name: &str, fix: &FileFix) -> String {
    let name = name.trim_start_matches('/');
    similar::TextDiff::from_lines(&fix.before, &fix.after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// A change of a text as one region: from `start` to `end` (1-based line and character column,
/// `end` exclusive; equal for an insertion) of the text as read, replaced by `inserted`. What SARIF
/// `fixes[].artifactChanges[].replacements[]` hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// Line and column of the first character replaced.
    pub start: (u32, u32),
    /// Line and column just after the last character replaced.
    pub end: (u32, u32),
    /// The text that goes there.
    pub inserted: String,
}

/// The smallest single region that turns `before` into `after` (their common start and end
/// left out); `None` when they are the same.
pub fn replacement(before: &str, after: &str) -> Option<Replacement> {
    if before == after {
        return None;
    }
    let prefix = before
        .char_indices()
        .zip(after.chars())
        .find(|((_, a), b)| a != b)
        .map_or(before.len().min(after.len()), |((i, _), _)| i);
    // Back to a char boundary of both (the prefix is common, so one boundary serves both).
    let suffix = before[prefix..]
        .chars()
        .rev()
        .zip(after[prefix..].chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum::<usize>();
    let position = |offset: usize| {
        let head = &before[..offset];
        let line = head.matches('\n').count() as u32 + 1;
        let column = head.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
        (line, column)
    };
    Some(Replacement {
        start: position(prefix),
        end: position(before.len() - suffix),
        inserted: after[prefix..after.len() - suffix].to_owned(),
    })
}

fn apply_one(root: &CstRootNode, pointer: &str, change: &Change) -> Result<(), String> {
    match change {
        Change::ReplaceString { from, to } => {
            let node = find(root, pointer).ok_or("no value there")?;
            let lit = node.as_string_lit().ok_or("not a string")?;
            let now = lit.decoded_value().map_err(|_| "not a valid string")?;
            if now != *from {
                return Err(format!("the value is no longer `{from}`"));
            }
            lit.set_raw_value(quoted(to));
            Ok(())
        }
        Change::RunOptions { remove, append } => {
            let node = find(root, pointer);
            let lit = match &node {
                Some(n) => Some(n.as_string_lit().ok_or("not a string")?),
                None => None,
            };
            let now = match &lit {
                Some(l) => l.decoded_value().map_err(|_| "not a valid string")?,
                None => String::new(),
            };
            let to = run_options_after(&now, remove, append)?;
            match lit {
                Some(l) => {
                    l.set_raw_value(quoted(&to));
                    Ok(())
                }
                None => insert_into_parent(root, pointer, CstInputValue::String(to)),
            }
        }
        Change::AppendToArray { value } => {
            let Some(node) = find(root, pointer) else {
                let one = CstInputValue::Array(vec![CstInputValue::String(value.clone())]);
                return insert_into_parent(root, pointer, one);
            };
            let array = node.as_array().ok_or("not an array")?;
            let has = array.elements().iter().any(|e| {
                e.as_string_lit()
                    .and_then(|s| s.decoded_value().ok())
                    .is_some_and(|s| s == *value)
            });
            if has {
                return Err(format!("`{value}` is already there"));
            }
            array.append(CstInputValue::String(value.clone()));
            Ok(())
        }
        Change::RenameMember { from, to } => {
            let (parent, name) = split_last(pointer).ok_or("not a member")?;
            if name != *from {
                return Err(format!("the member is not `{from}`"));
            }
            let object = find(root, parent)
                .and_then(|n| n.as_object())
                .ok_or("not in an object")?;
            if object.get(to).is_some() {
                return Err(format!("`{to}` is already there"));
            }
            let prop = object
                .get(from)
                .ok_or_else(|| format!("no `{from}` there"))?;
            let key = prop
                .name()
                .and_then(|n| n.as_string_lit())
                .ok_or("the name is not a string")?;
            key.set_raw_value(quoted(to));
            Ok(())
        }
        Change::InsertMember { name, value } => {
            let object: CstObject = find(root, pointer)
                .and_then(|n| n.as_object())
                .ok_or("not an object")?;
            if object.get(name).is_some() {
                return Err(format!("`{name}` is already there"));
            }
            object.append(name, input_value(value));
            Ok(())
        }
    }
}

/// The run options `now` with the known flags `remove` taken out and the words of `append` it does
/// not have added; an error when nothing changes or `now` is not run options the node agent reads
/// (a template expression is left alone).
pub(crate) fn run_options_after(
    now: &str,
    remove: &[String],
    append: &[String],
) -> Result<String, String> {
    let options = RunOptions::parse(now).map_err(|e| e.to_string())?;
    let remove: Vec<&str> = remove.iter().map(String::as_str).collect();
    let append: Vec<String> = append
        .iter()
        .filter(|w| !options.words.contains(w))
        .cloned()
        .collect();
    let to = options.edited(&remove, &append);
    if to == now {
        return Err("nothing left to change".into());
    }
    Ok(to)
}

/// Adds the member `pointer` names to its parent object.
fn insert_into_parent(
    root: &CstRootNode,
    pointer: &str,
    value: CstInputValue,
) -> Result<(), String> {
    let (parent, name) = split_last(pointer).ok_or("not a member")?;
    let object = find(root, parent)
        .and_then(|n| n.as_object())
        .ok_or("its parent is not an object")?;
    object.append(&name, value);
    Ok(())
}

/// `value` as the CST takes it.
fn input_value(value: &serde_json::Value) -> CstInputValue {
    use serde_json::Value;
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(input_value).collect()),
        Value::Object(members) => CstInputValue::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), input_value(v)))
                .collect(),
        ),
    }
}

/// A JSON string literal for `s`.
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// The node at RFC 6901 `pointer`.
fn find(root: &CstRootNode, pointer: &str) -> Option<CstNode> {
    let mut node = root.value()?;
    if pointer.is_empty() {
        return Some(node);
    }
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = unescape(token);
        node = if let Some(object) = node.as_object() {
            object.get(&token)?.value()?
        } else if let Some(array) = node.as_array() {
            let i: usize = token.parse().ok()?;
            array.elements().into_iter().nth(i)?
        } else {
            return None;
        };
    }
    Some(node)
}

/// `pointer` as its parent's pointer and its last token, unescaped.
fn split_last(pointer: &str) -> Option<(&str, String)> {
    let i = pointer.rfind('/')?;
    Some((&pointer[..i], unescape(&pointer[i + 1..])))
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(from: &str, to: &str) -> Edit {
        Edit::safe(Change::ReplaceString {
            from: from.into(),
            to: to.into(),
        })
    }

    #[test]
    fn edits_keep_everything_else_byte_for_byte() {
        let text = "{\n  // the pool\n  \"maxTasksPerNode\": 4,\n  \"vm\":   {\"agent\": \"batch.node.ubuntu 20.04\", \"x\" : [1,2]},\n  \"cc\": {}\n}\n";
        let rename = Edit::safe(Change::RenameMember {
            from: "maxTasksPerNode".into(),
            to: "taskSlotsPerNode".into(),
        });
        let agent = replace("batch.node.ubuntu 20.04", "batch.node.ubuntu 24.04");
        let insert = Edit::safe(Change::InsertMember {
            name: "type".into(),
            value: "dockerCompatible".into(),
        });
        let fix = apply(
            text,
            &[
                ("/maxTasksPerNode", &rename),
                ("/vm/agent", &agent),
                ("/cc", &insert),
            ],
        )
        .unwrap();
        assert_eq!(fix.applied(), 3, "{:?}", fix.outcomes);
        assert_eq!(
            fix.after,
            "{\n  // the pool\n  \"taskSlotsPerNode\": 4,\n  \"vm\":   {\"agent\": \"batch.node.ubuntu 24.04\", \"x\" : [1,2]},\n  \"cc\": {\n    \"type\": \"dockerCompatible\"\n  }\n}\n"
        );
        // Idempotent: the same edits find nothing left to do.
        let again = apply(
            &fix.after,
            &[
                ("/maxTasksPerNode", &rename),
                ("/vm/agent", &agent),
                ("/cc", &insert),
            ],
        )
        .unwrap();
        assert_eq!(again.after, fix.after);
        assert_eq!(
            again.outcomes,
            vec![
                Err("`taskSlotsPerNode` is already there".into()),
                Err("the value is no longer `batch.node.ubuntu 20.04`".into()),
                Err("`type` is already there".into()),
            ]
        );
    }

    #[test]
    fn absent_members_are_added_and_arrays_grow_once() {
        let text = "{\n  \"cs\": {\n    \"imageName\": \"a\"\n  },\n  \"images\": [\"a\"]\n}\n";
        let set = Edit::safe(Change::RunOptions {
            remove: Vec::new(),
            append: vec!["--workdir=/app".into()],
        });
        let add = Edit::safe(Change::AppendToArray { value: "b".into() });
        let fix = apply(
            text,
            &[
                ("/cs/containerRunOptions", &set),
                ("/images", &add),
                ("/images", &add),
                ("/more", &add),
            ],
        )
        .unwrap();
        assert_eq!(
            fix.outcomes,
            vec![Ok(()), Ok(()), Err("`b` is already there".into()), Ok(())]
        );
        assert_eq!(
            fix.after,
            "{\n  \"cs\": {\n    \"imageName\": \"a\",\n    \"containerRunOptions\": \"--workdir=/app\"\n  },\n  \"images\": [\"a\", \"b\"],\n  \"more\": [\"b\"]\n}\n"
        );
    }

    #[test]
    fn minified_json_stays_minified_and_escapes_are_pointers() {
        let text = r#"{"a/b":[{"o":"--rm -v /d:/d"}]}"#;
        let fix = apply(
            text,
            &[("/a~1b/0/o", &replace("--rm -v /d:/d", "-v /d:/d"))],
        )
        .unwrap();
        assert_eq!(fix.after, r#"{"a/b":[{"o":"-v /d:/d"}]}"#);
        assert_eq!(
            unified_diff("pool.json", &fix),
            "--- a/pool.json\n+++ b/pool.json\n@@ -1 +1 @@\n-{\"a/b\":[{\"o\":\"--rm -v /d:/d\"}]}\n\\ No newline at end of file\n+{\"a/b\":[{\"o\":\"-v /d:/d\"}]}\n\\ No newline at end of file\n"
        );
        assert!(apply("not json", &[]).is_err());
    }

    #[test]
    fn members_added_to_minified_json_are_the_only_bytes_inserted() {
        let text = r#"{"id":"p","virtualMachineConfiguration":{"containerConfiguration":{"containerImageNames":["a"]}},"cs":{}}"#;
        let cc = "/virtualMachineConfiguration/containerConfiguration";
        let kind = Edit::safe(Change::InsertMember {
            name: "type".into(),
            value: "dockerCompatible".into(),
        });
        let start = Edit::safe(Change::InsertMember {
            name: "startTask".into(),
            value: serde_json::json!({"commandLine": "/bin/sh -c 'x'", "waitForSuccess": true}),
        });
        let image = Edit::safe(Change::AppendToArray { value: "b".into() });
        let options = Edit::safe(Change::RunOptions {
            remove: Vec::new(),
            append: vec!["--workdir=/app".into()],
        });
        let one = |pointer: &str, edit: &Edit| {
            let fix = apply(text, &[(pointer, edit)]).unwrap();
            assert_eq!(fix.applied(), 1, "{:?}", fix.outcomes);
            replacement(text, &fix.after).unwrap()
        };
        // Each edit alone is exactly its member, or its element, inserted.
        assert_eq!(one(cc, &kind).inserted, r#","type":"dockerCompatible""#);
        assert_eq!(
            one("", &start).inserted,
            r#","startTask":{"commandLine":"/bin/sh -c 'x'","waitForSuccess":true}"#
        );
        assert_eq!(
            one(&format!("{cc}/containerImageNames"), &image).inserted,
            r#", "b""#
        );
        assert_eq!(
            one("/cs/containerRunOptions", &options).inserted,
            r#""containerRunOptions":"--workdir=/app""#
        );
        assert_eq!(
            one(&format!("{cc}/more"), &image).inserted,
            r#","more":["b"]"#
        );
        let all = [
            (cc, &kind),
            ("", &start),
            (
                "/virtualMachineConfiguration/containerConfiguration/containerImageNames",
                &image,
            ),
            ("/cs/containerRunOptions", &options),
            (cc, &kind),
        ];
        let fix = apply(text, &all).unwrap();
        assert_eq!(
            fix.after,
            r#"{"id":"p","virtualMachineConfiguration":{"containerConfiguration":{"containerImageNames":["a", "b"],"type":"dockerCompatible"}},"cs":{"containerRunOptions":"--workdir=/app"},"startTask":{"commandLine":"/bin/sh -c 'x'","waitForSuccess":true}}"#
        );
        assert_eq!(fix.outcomes[4], Err("`type` is already there".into()));
        // The spaced style of an object on one line is kept.
        let spaced = r#"{"a": 1, "b": {"c": 2}}"#;
        let fix = apply(spaced, &[("/b", &kind)]).unwrap();
        assert_eq!(
            fix.after,
            r#"{"a": 1, "b": {"c": 2, "type": "dockerCompatible"}}"#
        );
    }

    #[test]
    fn a_replacement_is_the_region_between_the_common_start_and_end() {
        let before = "{\n  \"o\": \"--rm -v é:/d\"\n}\n";
        let after = "{\n  \"o\": \"-v é:/d\"\n}\n";
        assert_eq!(
            replacement(before, after),
            Some(Replacement {
                // `-rm -` of `--rm -v`: the first `-` and `v é:/d` stay.
                start: (2, 10),
                end: (2, 15),
                inserted: String::new(),
            })
        );
        assert_eq!(
            replacement("{}", "{\"a\": 1}"),
            Some(Replacement {
                start: (1, 2),
                end: (1, 2),
                inserted: "\"a\": 1".into(),
            })
        );
        assert_eq!(replacement("x", "x"), None);
    }
}
