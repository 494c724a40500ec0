//! `$AZ_BATCH_TASK_WORKING_DIR/input.csv` in a container task's command line: Batch does not run the
//! command line under a shell, so the variable reaches the program as literal text.

use batchprep_batch::task::{ArgsSource, quote_words};

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new("unexpanded-variable", &[Fact::Task]).at(TaskField::CommandLine);

/// Shells that expand variables in their `-c` script.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh"];

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if f.run.args_source != ArgsSource::CommandLine {
        return;
    }
    let argv = &f.run.argv;
    let shell = argv
        .first()
        .is_some_and(|p| SHELLS.contains(&p.rsplit('/').next().unwrap_or("")));
    for (i, word) in argv.iter().enumerate() {
        // The script of `sh -c SCRIPT` is expanded by the shell.
        if shell && i > 0 && argv[i - 1] == "-c" {
            continue;
        }
        let Some(var) = variables(word)
            .into_iter()
            .find(|v| f.run.env_var(v).is_some())
        else {
            continue;
        };
        let value = f.run.env_var(&var).unwrap_or_default();
        let place = if i == 0 {
            "the program"
        } else {
            "the argument"
        };
        out.push(
            f.finding(
                RULE,
                format!(
                    "{place} `{word}` uses `${var}`, but Batch does not run a container task's command line under a shell: the program receives the text `${var}`, not `{value}`"
                ),
            )
            .with_fix(format!(
                "run the command through a shell: `/bin/sh -c {}`",
                // Joined plainly: inside the shell the `$` must stay unquoted to expand.
                quote_words(&[f.task.command_words.join(" ")])
            )),
        );
        return;
    }
}

/// The names in `$RULE` and `${RULE}` references of `word`.
pub(super) fn variables(word: &str) -> Vec<String> {
    let bytes = word.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let braced = bytes.get(i + 1) == Some(&b'{');
        let start = i + 1 + usize::from(braced);
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        let closed = !braced || bytes.get(end) == Some(&b'}');
        if end > start && !bytes[start].is_ascii_digit() && closed {
            names.push(word[start..end].to_owned());
        }
        i = end.max(i + 1);
    }
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_plain_and_braced_references() {
        assert_eq!(super::variables("$A/x${B_2}y$1${C"), ["A", "B_2"]);
        assert_eq!(super::variables("price$"), Vec::<String>::new());
    }
}
