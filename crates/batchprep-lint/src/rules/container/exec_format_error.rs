//! A program that is neither an ELF binary nor a script with a `#!` line (an empty file with
//! execute bits, a text file without `#!`, a binary of another format): runc does not fall back
//! to `/bin/sh` as a shell would, so the start fails with "exec format error".

use super::{ContainerFacts, Program, first_bytes};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("exec-format-error", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Program::Path(lookup) = f.program() else {
        return;
    };
    let Some((real, entry)) = lookup.file() else {
        return;
    };
    if !entry.is_executable_file() {
        return;
    }
    let start = entry.first_line.as_deref().unwrap_or(b"");
    if start.starts_with(b"#!") {
        return;
    }
    let message = if entry.size == 0 {
        format!("`{real}` is an empty file: the kernel cannot run it (exec format error)")
    } else if start.starts_with(b"\x7fELF") {
        // platform-mismatch already says an image of another platform cannot run; a header
        // that could not be read in full gives no verdict.
        if !f.node.matches(f.platform) {
            return;
        }
        match f.fs.elf(real) {
            Some(elf) if !elf.incomplete && !matches!(elf.kind, 2 | 3) => format!(
                "`{real}` is an ELF {}, not a program: the kernel cannot run it (exec format error)",
                elf.kind_name()
            ),
            _ => return,
        }
    } else {
        format!(
            "`{real}` is neither an ELF binary nor a script with a `#!` line (it starts with {}): the kernel cannot run it (exec format error)",
            first_bytes(start)
        )
    };
    out.push(f.finding(RULE, message).with_fix(format!(
        "start `{real}` with a `#!` line (`#!/bin/sh`), run it through its interpreter on the command line (`/bin/sh {real}`), or replace it with a binary built for Linux"
    )));
}
