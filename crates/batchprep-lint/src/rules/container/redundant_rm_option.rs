//! `--rm` in `containerRunOptions`: Batch removes task containers itself.

use super::ContainerFacts;
use crate::Finding;

/// Rule name.
pub const NAME: &str = "redundant-rm-option";

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if !f.task.run_options.rm {
        return;
    }
    out.push(
        f.finding(
            NAME,
            "containerRunOptions has `--rm`; Batch removes the task container itself",
        )
        .with_fix("remove `--rm` from containerRunOptions"),
    );
}
