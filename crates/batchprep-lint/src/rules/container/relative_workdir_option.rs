//! A relative `--workdir` (after the node agent expands its variables): `docker create` rejects it.

use super::{ContainerFacts, join};
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("relative-workdir-option", &[Fact::Task]).at(TaskField::ContainerRunOptions);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(workdir) = &f.task.run_options.workdir else {
        return;
    };
    // Judged after the agent's expansion (`$AZ_BATCH_TASK_WORKING_DIR` is absolute); a variable the
    // task's environment does not set may still be, so it is not judged.
    let expanded = &f.run.cwd;
    if expanded.starts_with('/') || expanded.starts_with('$') {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!("containerRunOptions has `--workdir {workdir}`, a relative path; the working directory must be absolute"),
        )
        .with_fix(format!(
            "use an absolute path: `--workdir {}`",
            join("/", workdir)
        ))
        .with_edit(Edit::safe(Change::RunOptions {
            remove: vec!["workdir".into()],
            append: vec![format!("--workdir={}", join("/", workdir))],
        })),
    );
}
