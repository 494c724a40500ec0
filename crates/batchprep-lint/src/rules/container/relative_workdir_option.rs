//! A relative `--workdir`: `docker create` rejects it.

use super::{ContainerFacts, join};
use crate::Finding;

/// Rule name.
pub const NAME: &str = "relative-workdir-option";

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(workdir) = &f.task.run_options.workdir else {
        return;
    };
    if workdir.starts_with('/') {
        return;
    }
    out.push(
        f.finding(
            NAME,
            format!("containerRunOptions has `--workdir {workdir}`, a relative path; the working directory must be absolute"),
        )
        .with_fix(format!(
            "use an absolute path: `--workdir {}`",
            join("/", workdir)
        )),
    );
}
