//! The program is not in the image: a missing path, a bare name not on PATH, or a file a later layer
//! deleted (a whiteout), or something that is not a file at all.

use batchprep_oci::EntryKind;

use super::{ContainerFacts, Lookup, Program, join, mode};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("executable-not-found", &[Fact::Task, Fact::Image]).at(TaskField::Program);

/// How many other places of a same-named program a message lists.
const MAX_ELSEWHERE: usize = 3;

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(program) = f.run.argv.first() else {
        return;
    };
    let (message, fix) = match f.program() {
        Program::NotOnPath => not_on_path(f, program),
        Program::Path(Lookup::Missing { asked, removed_by }) => {
            // relative-entrypoint reports a relative program that only the image WORKDIR has.
            let relative = !program.starts_with('/') && program.contains('/');
            if relative
                && f.lookup(&join(&f.run.image_workdir, program))
                    .file()
                    .is_some()
            {
                return;
            }
            match removed_by {
                Some((removed, layer)) => (
                    format!(
                        "the program `{asked}` was removed by {}: a whiteout deletes `{removed}` from the merged filesystem",
                        f.layer_name(layer)
                    ),
                    format!(
                        "stop deleting `{removed}` in a later layer, or install the program again after it"
                    ),
                ),
                None => (
                    format!("the program `{asked}` does not exist in the image"),
                    "install the program in the image or fix its path".to_owned(),
                ),
            }
        }
        Program::Path(Lookup::NotADirectory { asked, file }) => (
            format!(
                "the program `{asked}` cannot exist: `{file}` on its path is a file, not a directory"
            ),
            "fix the program's path".to_owned(),
        ),
        Program::Path(Lookup::Loop { asked }) => (
            format!("the program `{asked}` is a symlink loop"),
            "fix the symlinks on the program's path".to_owned(),
        ),
        Program::Path(Lookup::Found { asked, real, entry }) if entry.kind != EntryKind::File => {
            let via = if asked == real {
                String::new()
            } else {
                format!(" (`{real}`)")
            };
            (
                format!(
                    "the program `{asked}`{via} is a {}, not an executable file",
                    entry.kind.as_str()
                ),
                "point the program at an executable file".to_owned(),
            )
        }
        _ => return,
    };
    out.push(f.finding(RULE, message).with_fix(fix));
}

fn not_on_path(f: &ContainerFacts<'_>, name: &str) -> (String, String) {
    let path = f.run.path();
    let dirs = || path.split(':').filter(|d| d.starts_with('/'));
    let mut notes = Vec::new();
    for dir in dirs() {
        let candidate = join(dir, name);
        if let Some(layer) = f.fs.removed_by(&candidate) {
            notes.push(format!(
                "`{candidate}` was removed by {}",
                f.layer_name(layer)
            ));
        } else if let Some((real, entry)) = f.fs.resolve_entry(&candidate) {
            if entry.kind == EntryKind::File && entry.mode & 0o111 == 0 {
                notes.push(format!(
                    "`{real}` has mode {} (no execute bit)",
                    mode(entry.mode)
                ));
            }
        }
    }
    let elsewhere: Vec<String> =
        f.fs.iter()
            .filter(|(p, e)| {
                e.is_executable_file()
                    && p.rsplit_once('/').is_some_and(|(dir, base)| {
                        base == name && !dirs().any(|d| super::join(d, "") == super::join(dir, ""))
                    })
            })
            .map(|(p, _)| p)
            .take(MAX_ELSEWHERE)
            .collect();
    if !elsewhere.is_empty() {
        let list: Vec<String> = elsewhere.iter().map(|p| format!("`{p}`")).collect();
        notes.push(format!("the image has it at {}", list.join(", ")));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    let fix = match elsewhere.first() {
        Some(p) => {
            format!("use the absolute path `{p}`, or add its directory to PATH in the image")
        }
        None => format!("install `{name}` in the image, or use the program's absolute path"),
    };
    (
        format!("the program `{name}` is not on PATH (`{path}`){notes}"),
        fix,
    )
}
