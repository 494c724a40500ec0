//! An argument naming a file under the image WORKDIR (`python myscript.py`, `sh run.sh`) while the
//! task runs in another directory, where the program will not find it.

use super::{ContainerFacts, join};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("workdir-relative-argument", &[Fact::Task, Fact::Image]).at(TaskField::CommandLine);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if f.run.cwd == f.run.image_workdir {
        return;
    }
    for arg in f.run.argv.iter().skip(1) {
        if arg.is_empty() || arg.starts_with('/') || arg.starts_with('-') || arg.contains('=') {
            continue;
        }
        if f.task
            .resource_files
            .iter()
            .any(|r| join("/", r) == join("/", arg))
        {
            continue;
        }
        let in_workdir = join(&f.run.image_workdir, arg);
        if f.lookup(&in_workdir).file().is_none() {
            continue;
        }
        // The same name may also exist where the task runs (an image cwd set by `--workdir`).
        if !f.run.cwd_is_mounted() && f.lookup(&join(&f.run.cwd, arg)).file().is_some() {
            continue;
        }
        out.push(
            f.finding(
                RULE,
                format!(
                    "the argument `{arg}` names `{in_workdir}` in the image WORKDIR, but the task runs in {}, where `{arg}` does not exist",
                    f.cwd_phrase()
                ),
            )
            .with_fix(format!(
                "pass the absolute path `{in_workdir}`, or {}",
                f.keep_workdir_fix()
            )),
        );
    }
}
