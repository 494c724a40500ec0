//! `--gpus` in `containerRunOptions`: Batch gives GPU pools' containers their GPUs itself.

use super::ContainerFacts;
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("gpus-run-option", &[Fact::Task]).at(TaskField::ContainerRunOptions);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(gpus) = &f.task.run_options.gpus else {
        return;
    };
    out.push(
        f.finding(
            RULE,
            format!("containerRunOptions has `--gpus {gpus}`; Batch enables GPUs for container tasks itself"),
        )
        .with_fix("remove `--gpus` from containerRunOptions and run the task on a GPU VM size")
        .with_edit(Edit::safe(Change::RunOptions {
            remove: vec!["gpus".into()],
            append: Vec::new(),
        })),
    );
}
