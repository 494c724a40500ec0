//! The Batch doc's start task (`docker daemon -g /new/path`) fails on every current engine: `docker
//! daemon` was removed in 17.12 and `-g/--graph` in 23.0.

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("obsolete-docker-daemon-flags", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let Some(cmd) = f
        .pool
        .start_task
        .as_ref()
        .and_then(|s| s.command_line.as_ref())
    else {
        return;
    };
    let problems = problems(&cmd.value);
    if !problems.is_empty() {
        let finding = f
            .finding(RULE, cmd, format!("the start task uses {}", problems.join(" and ")))
            .with_fix("set `data-root` in /etc/docker/daemon.json instead: `batchprep start-task` writes an idempotent script that does it");
        // Unsafe: whatever else the old start task did is gone.
        out.push(match f.start_task_edit() {
            Some(edit) => finding.with_edit(edit),
            None => finding,
        });
    }
}

/// What in `command` (a start task's command line) current engines no longer run.
pub(super) fn problems(command: &str) -> Vec<&'static str> {
    let words: Vec<&str> = command
        .split(|c: char| {
            c.is_whitespace() || c == ';' || c == '&' || c == '|' || c == '\'' || c == '"'
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut problems = Vec::new();
    if words
        .windows(2)
        .any(|w| w[0].ends_with("docker") && w[1] == "daemon")
    {
        problems.push("`docker daemon` (removed in Docker 17.12; the daemon is `dockerd`)");
    }
    let runs_daemon = words.iter().any(|w| w.ends_with("dockerd")) || problems.len() == 1;
    if runs_daemon
        && words
            .iter()
            .any(|w| *w == "-g" || *w == "--graph" || w.starts_with("--graph="))
    {
        problems.push("`-g/--graph` (removed in Docker 23.0)");
    }
    problems
}
