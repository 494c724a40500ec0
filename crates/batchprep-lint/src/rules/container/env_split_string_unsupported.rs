//! `#!/usr/bin/env -S python3 -u` works with GNU coreutils' env, which splits the one argument
//! the kernel passes; BusyBox's env has no `-S` and fails with "invalid option".

use super::{ContainerFacts, env_shebang};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("env-split-string-unsupported", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some((real, sb, arg)) = env_shebang(f) else {
        return;
    };
    if !(arg == "-S" || arg.starts_with("-S ") || arg.starts_with("-S\t")) {
        return;
    }
    // BusyBox installs its applets as links to one binary.
    let Some((env_real, _)) = f.fs.resolve_entry(&sb.interpreter) else {
        return;
    };
    if !env_real
        .rsplit('/')
        .next()
        .unwrap_or("")
        .starts_with("busybox")
    {
        return;
    }
    let line = format!("#!{}", sb.line);
    out.push(
        f.finding(
            RULE,
            format!(
                "the script `{real}` starts with `{line}`, but `{}` is BusyBox's env (`{env_real}`), which has no `-S`: the start fails with \"invalid option -- 'S'\"",
                sb.interpreter
            ),
        )
        .with_fix(
            "name the interpreter by its path with at most one argument (`#!/usr/bin/python3 -u`), or install GNU coreutils' env",
        ),
    );
}
