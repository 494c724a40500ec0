//! A script whose `#!` interpreter is not in the image (`#!/bin/bash` on a busybox image, or
//! `#!/usr/bin/env python3` without python3 on PATH): the start fails naming the script, not the
//! interpreter, which makes it hard to see.

use super::{ContainerFacts, Lookup, Program, join, shebang};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("shebang-interpreter-missing", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Program::Path(Lookup::Found { real, entry, .. }) = f.program() else {
        return;
    };
    let entry = &entry;
    let Some(sb) = shebang(entry) else {
        return;
    };
    // shebang-crlf reports these: the `\r` is why the lookup fails.
    if sb.crlf || sb.interpreter.is_empty() {
        return;
    }
    let interpreter = if sb.interpreter.starts_with('/') {
        sb.interpreter.clone()
    } else {
        join(&f.run.cwd, &sb.interpreter)
    };
    let line = format!("#!{}", sb.line);
    match f.lookup(&interpreter) {
        Lookup::Found { entry: ie, .. } if ie.is_executable_file() => {
            // `#!/usr/bin/env RULE`: env searches PATH for RULE.
            let is_env = interpreter.rsplit('/').next() == Some("env");
            let Some(arg) = sb.argument.as_deref().filter(|_| is_env) else {
                return;
            };
            let mut words = arg.split([' ', '\t']).filter(|w| !w.is_empty());
            let name = match words.next() {
                Some("-S") => words.find(|w| !w.starts_with('-') && !w.contains('=')),
                Some(w) if !w.starts_with('-') && !w.contains('=') => Some(w),
                _ => None,
            };
            let Some(name) = name else {
                return;
            };
            if f.fs.which(name, f.run.path()).is_some() {
                return;
            }
            out.push(
                f.finding(
                    RULE,
                    format!(
                        "the script `{real}` starts with `{line}`, but `{name}` is not on PATH (`{}`)",
                        f.run.path()
                    ),
                )
                .with_fix(format!("install `{name}` in the image, or change the `#!` line of `{real}` to an interpreter the image has")),
            );
        }
        Lookup::Missing { removed_by: Some((removed, layer)), .. } => out.push(
            f.finding(
                RULE,
                format!(
                    "the script `{real}` starts with `{line}`, but `{interpreter}` was removed by {} (whiteout of `{removed}`)",
                    f.layer_name(layer)
                ),
            )
            .with_fix(format!("keep `{interpreter}` in the image, or change the `#!` line of `{real}`")),
        ),
        Lookup::Found { .. } => out.push(
            f.finding(
                RULE,
                format!("the script `{real}` starts with `{line}`, but `{interpreter}` is not an executable file"),
            )
            .with_fix(format!("change the `#!` line of `{real}` to an interpreter the image has")),
        ),
        _ => out.push(
            f.finding(
                RULE,
                format!("the script `{real}` starts with `{line}`, but `{interpreter}` does not exist in the image"),
            )
            .with_fix(format!(
                "install `{interpreter}` in the image, or change the `#!` line of `{real}` to an interpreter the image has (e.g. `#!/bin/sh`)"
            )),
        ),
    }
}
