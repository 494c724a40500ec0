//! The working directory (from `--workdir`, or the image WORKDIR) exists in the image as a file:
//! the runtime cannot chdir into it and the container does not start ("not a directory").

use batchprep_oci::{EntryKind, Resolved};

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new("workdir-not-a-directory", &[Fact::Task, Fact::Image])
    .at(TaskField::ContainerRunOptions);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let cwd = &f.run.cwd;
    if !cwd.starts_with('/') || f.run.cwd_is_mounted() {
        return;
    }
    let file = match f.fs.resolve(cwd).outcome {
        Resolved::Found { path } => match f.fs.entry(&path) {
            Some(e) if e.kind != EntryKind::Dir => Some((path, e.kind)),
            _ => None,
        },
        Resolved::NotADirectory { path } => f.fs.entry(&path).map(|e| (path, e.kind)),
        _ => None,
    };
    let Some((path, kind)) = file else {
        return;
    };
    out.push(
        f.finding(
            RULE,
            format!(
                "the working directory {} is not a directory: `{path}` is a {} in the image, so the container cannot start (\"not a directory\")",
                f.cwd_phrase(),
                kind.as_str()
            ),
        )
        .with_fix(format!(
            "point `--workdir` at a directory, or remove the {} `{path}` from the image",
            kind.as_str()
        )),
    );
}
