//! `--runtime` in `containerRunOptions`: the node may not have that runtime, and Batch needs none.

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("runtime-run-option", &[Fact::Task]).at(TaskField::ContainerRunOptions);

/// The runtime Docker uses when none is named.
const DEFAULT_RUNTIME: &str = "runc";

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(runtime) = &f.task.run_options.runtime else {
        return;
    };
    // Docker's own default changes nothing.
    if runtime == DEFAULT_RUNTIME {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!("containerRunOptions has `--runtime {runtime}`; container create fails on nodes without that runtime"),
        )
        .with_fix("remove `--runtime` from containerRunOptions; Batch configures GPU containers without it"),
    );
}
