//! A shell-form ENTRYPOINT (`ENTRYPOINT python app.py` is stored as `/bin/sh -c 'python app.py'`)
//! with a task command line: Batch passes the command line as arguments, which become `$0`, `$1`...
//! of that script; a script that never reads them runs the image's command and exits 0.

use batchprep_batch::task::{ArgsSource, EntrypointSource, quote_words};

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("shell-form-entrypoint", &[Fact::Task, Fact::Image]).at(TaskField::ImageName);

const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh"];

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if f.run.entrypoint_source != EntrypointSource::Image
        || f.run.args_source != ArgsSource::CommandLine
        || f.run.args.is_empty()
    {
        return;
    }
    let [shell, dash_c, script] = f.run.entrypoint.as_slice() else {
        return;
    };
    if dash_c != "-c" || !SHELLS.contains(&shell.rsplit('/').next().unwrap_or("")) {
        return;
    }
    // A script that reads its positional parameters uses the command line.
    if ["$0", "$1", "$@", "$*", "${0", "${1", "${@", "${*", "$#"]
        .iter()
        .any(|p| script.contains(p))
    {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!(
                "the image ENTRYPOINT `{}` is shell form: the command line `{}` becomes its `$0`, `$1`... which the script never reads, so it runs `{script}` instead",
                quote_words(&f.run.entrypoint),
                quote_words(&f.run.args)
            ),
        )
        .with_fix(
            "give the image an exec-form ENTRYPOINT (`ENTRYPOINT [\"prog\"]`) or none, or override it with `--entrypoint` in containerRunOptions",
        ),
    );
}
