//! No ENTRYPOINT, no CMD and an empty command line: `docker create` has no process to start.

use batchprep_batch::task::EntrypointSource;

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("nothing-to-run", &[Fact::Task, Fact::Image]).at(TaskField::CommandLine);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if !f.run.argv.is_empty() {
        return;
    }
    let message = if f.run.entrypoint_source == EntrypointSource::RunOptions {
        "`--entrypoint ''` clears the ENTRYPOINT and the task command line is empty: the container has no command"
    } else {
        "the image has no ENTRYPOINT and no CMD and the task command line is empty: the container has no command"
    };
    out.push(
        f.finding(RULE, message)
            .with_fix("give the task a command line (an absolute program path), or set ENTRYPOINT or CMD in the image"),
    );
}
