//! `--entrypoint /bin/sh` with an empty task command line: Docker drops the image CMD when the
//! ENTRYPOINT is overridden, so the shell starts with no script and no terminal, reads an empty
//! stdin and exits 0 having done nothing.

use batchprep_batch::task::EntrypointSource;

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new("bare-shell-entrypoint", &[Fact::Task, Fact::Image])
    .at(TaskField::ContainerRunOptions);

/// Shells that read commands from stdin when given none.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh"];

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if f.run.entrypoint_source != EntrypointSource::RunOptions || f.run.argv.len() != 1 {
        return;
    }
    let program = &f.run.argv[0];
    if !SHELLS.contains(&program.rsplit('/').next().unwrap_or("")) {
        return;
    }
    let cmd = f.config.cmd.clone().unwrap_or_default();
    let dropped = if cmd.is_empty() {
        String::new()
    } else {
        format!(
            " (Docker drops the image CMD `{}` when the ENTRYPOINT is overridden)",
            batchprep_batch::task::quote_words(&cmd)
        )
    };
    out.push(
        f.finding(
            RULE,
            format!(
                "`--entrypoint {program}` with an empty command line starts a shell with nothing to run{dropped}: it reads an empty stdin and exits 0 without doing anything"
            ),
        )
        .with_fix(format!(
            "give the task a command line (`-c 'the command'` after `{program}`), or drop `--entrypoint`"
        )),
    );
}
