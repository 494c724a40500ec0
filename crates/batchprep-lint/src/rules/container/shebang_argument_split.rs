//! `#!/usr/bin/env sh -e`: Linux passes everything after the interpreter on a `#!` line as ONE
//! argument, so `env` is asked to run a program named `sh -e`, which does not exist (env exits
//! 127). GNU env's `-S` splits the words; `env-split-string-unsupported` covers BusyBox's env.

use super::{ContainerFacts, env_shebang};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("shebang-argument-split", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some((real, sb, arg)) = env_shebang(f) else {
        return;
    };
    // One word, or words behind an option env reads (`-S`, `-i`...): env parses them itself.
    if !arg.contains([' ', '\t']) || arg.starts_with('-') {
        return;
    }
    let line = format!("#!{}", sb.line);
    out.push(
        f.finding(
            RULE,
            format!(
                "the script `{real}` starts with `{line}`: Linux passes `{arg}` to `{}` as one argument, so env looks for a program named `{arg}` and fails (exit 127)",
                sb.interpreter
            ),
        )
        .with_fix(format!(
            "name the interpreter by its path with one argument (`#!/bin/{}`), or set the options inside the script (`set -e`)",
            arg.replace('\t', " ")
        )),
    );
}
