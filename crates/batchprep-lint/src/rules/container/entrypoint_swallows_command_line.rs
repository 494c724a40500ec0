//! The image ENTRYPOINT receives a command line that is a program of its own: Batch keeps the
//! ENTRYPOINT, so `/bin/echo` (or a server) runs and the intended program never does. Also
//! `ENTRYPOINT ["sh", "-c"]`, which runs only the first word of a multi-word command line.

use batchprep_batch::task::{ArgsSource, EntrypointSource, quote_words};

use super::{ContainerFacts, join, shebang};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new(
    "entrypoint-swallows-command-line",
    &[Fact::Task, Fact::Image],
)
.at(TaskField::CommandLine);

/// ENTRYPOINT programs made to run the command they are given.
const WRAPPERS: &[&str] = &[
    "tini",
    "tini-static",
    "dumb-init",
    "catatonit",
    "env",
    "gosu",
    "su-exec",
    "sudo",
    "nice",
    "nohup",
    "timeout",
    "time",
    "xargs",
    "busybox",
    "sh",
    "bash",
    "dash",
    "ash",
    "zsh",
    "s6-svscan",
];

/// Shells that take a script with `-c`.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh"];

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if f.run.entrypoint_source != EntrypointSource::Image
        || f.run.args_source != ArgsSource::CommandLine
    {
        return;
    }
    let entrypoint = &f.run.entrypoint;
    let shown = quote_words(entrypoint);
    let base = entrypoint[0].rsplit('/').next().unwrap_or("");
    let words = &f.task.command_words;
    if SHELLS.contains(&base) && entrypoint.last().is_some_and(|a| a == "-c") {
        if words.len() > 1 {
            out.push(
                f.finding(
                    RULE,
                    format!(
                        "the image ENTRYPOINT `{shown}` runs only the first word `{}` of the command line as its script; the other words become `$0`, `$1`...",
                        words[0]
                    ),
                )
                .with_fix(format!("pass the command as one quoted word: `{}`", quote_words(&[quote_words(words)]))),
            );
        }
        return;
    }
    if WRAPPERS.contains(&base) || entrypoint.iter().any(|a| a == "--") {
        return;
    }
    // An entrypoint script usually ends in `exec "$@"` and runs the command it is given.
    let program = if entrypoint[0].contains('/') && !entrypoint[0].starts_with('/') {
        Some(join(&f.run.image_workdir, &entrypoint[0]))
    } else {
        f.fs.which(&entrypoint[0], f.run.path())
    };
    let is_script = program
        .as_deref()
        .and_then(|p| f.fs.resolve_entry(p))
        .is_some_and(|(_, e)| shebang(&e).is_some());
    if is_script {
        return;
    }
    let first = &words[0];
    let looks_like_program = if first.starts_with('/') {
        f.fs.which(first, f.run.path()).is_some()
    } else if first.contains('/') {
        f.lookup(&join(&f.run.image_workdir, first))
            .file()
            .is_some_and(|(_, e)| e.is_executable_file())
    } else {
        f.fs.which(first, f.run.path()).is_some()
    };
    if !looks_like_program {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!(
                "the image ENTRYPOINT `{shown}` receives the command line `{}` as its arguments, so `{first}` does not run as a program",
                quote_words(words)
            ),
        )
        .with_fix(format!(
            "add `--entrypoint {first}` to containerRunOptions (and drop `{first}` from the command line), or `--entrypoint ''` to run the command line as is"
        )),
    );
}
