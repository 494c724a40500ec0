//! A relative `--workdir`: `docker create` rejects it.

use super::{ContainerFacts, join};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("relative-workdir-option", &[Fact::Task]).at(TaskField::ContainerRunOptions);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(workdir) = &f.task.run_options.workdir else {
        return;
    };
    if workdir.starts_with('/') {
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
        )),
    );
}
