//! A program given as a relative path (`./run.sh`) that relies on the image WORKDIR, while Batch runs
//! the task somewhere else.

use batchprep_batch::task::ArgsSource;

use super::{ContainerFacts, Lookup, Program, join};
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("relative-entrypoint", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(program) = f.run.argv.first() else {
        return;
    };
    let in_workdir = join(&f.run.image_workdir, program);
    let image_has_it = f.lookup(&in_workdir).file().is_some();
    match f.program() {
        Program::RelativeToMount => {
            // A resource file Batch downloads into the task working directory is there.
            if f.task
                .resource_files
                .iter()
                .any(|r| join("/", r) == join("/", program))
            {
                return;
            }
        }
        // The cwd is in the image: only wrong when the program is not there but is in the WORKDIR.
        Program::Path(Lookup::Missing { .. })
            if image_has_it && f.run.cwd != f.run.image_workdir => {}
        _ => return,
    }
    let source = if f.run.entrypoint.is_empty() {
        match f.run.args_source {
            ArgsSource::ImageCmd => "the image CMD",
            _ => "the task command line",
        }
    } else {
        "the ENTRYPOINT"
    };
    let found = if image_has_it {
        format!(" (the image has it at `{in_workdir}`)")
    } else {
        String::new()
    };
    let fix = if image_has_it {
        format!(
            "use the absolute path `{in_workdir}`, or {}",
            f.keep_workdir_fix()
        )
    } else {
        "use the program's absolute path in the image".to_owned()
    };
    let finding = f
        .finding(
            RULE,
            format!(
                "the program `{program}` from {source} is relative to the working directory, which is {}, not the image WORKDIR `{}`{found}",
                f.cwd_phrase(),
                f.run.image_workdir
            ),
        )
        .with_fix(fix);
    // Unsafe: the task then runs in the image WORKDIR, not its own working directory.
    let options = &f.task.run_options;
    out.push(if image_has_it && options.workdir.is_none() {
        finding.with_edit(
            Edit::unsafe_(Change::RunOptions {
                remove: Vec::new(),
                append: vec![format!("--workdir={}", f.run.image_workdir)],
            })
            .at_field(TaskField::ContainerRunOptions),
        )
    } else {
        finding
    });
}
