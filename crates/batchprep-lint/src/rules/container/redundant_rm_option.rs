//! `--rm` in `containerRunOptions`: Batch removes task containers itself.

use super::ContainerFacts;
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("redundant-rm-option", &[Fact::Task]).at(TaskField::ContainerRunOptions);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if !f.task.run_options.rm {
        return;
    }
    out.push(
        f.finding(
            RULE,
            "containerRunOptions has `--rm`; Batch removes the task container itself",
        )
        .with_fix("remove `--rm` from containerRunOptions")
        .with_edit(Edit::safe(Change::RunOptions {
            remove: vec!["rm".into()],
            append: Vec::new(),
        })),
    );
}
