//! `--runtime` in `containerRunOptions`: the node may not have that runtime, and Batch needs none.

use super::ContainerFacts;
use crate::Finding;

/// Rule name.
pub const NAME: &str = "runtime-run-option";

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(runtime) = &f.task.run_options.runtime else {
        return;
    };
    out.push(
        f.finding(
            NAME,
            format!("containerRunOptions has `--runtime {runtime}`; container create fails on nodes without that runtime"),
        )
        .with_fix("remove `--runtime` from containerRunOptions; Batch configures GPU containers without it"),
    );
}
