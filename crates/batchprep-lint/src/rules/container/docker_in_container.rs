//! `docker run`, `docker pull` in a container task's command line: Batch already runs the command line
//! inside a container of `imageName`, and there is no Docker daemon in there.

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new("docker-in-container", &[Fact::Task]).at(TaskField::CommandLine);

/// Shells whose `-c` script is read for `docker` commands.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh"];
/// Docker subcommands that need the daemon.
const SUBCOMMANDS: &[&str] = &[
    "run",
    "pull",
    "build",
    "push",
    "create",
    "start",
    "exec",
    "load",
    "login",
    "compose",
    "image",
    "container",
    "buildx",
    "images",
    "ps",
];
/// The daemon's socket: mounted into the container, `docker` can reach the node's daemon.
const SOCKET: &str = "/var/run/docker.sock";

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let socket_mounted = f.task.run_options.volumes.iter().any(|v| {
        v.split(':')
            .nth(1)
            .is_some_and(|t| t == SOCKET || t == "/run/docker.sock")
    });
    if socket_mounted {
        return;
    }
    let words = &f.task.command_words;
    let found = docker_command(words).or_else(|| {
        // `sh -c 'docker pull x && ...'`: the words of the script.
        let at = words.iter().position(|w| w == "-c")?;
        let shell = words.first()?.rsplit('/').next()?;
        if !SHELLS.contains(&shell) {
            return None;
        }
        let script: Vec<String> = words
            .get(at + 1)?
            .split(|c: char| c.is_whitespace() || ";&|()`".contains(c))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        (0..script.len()).find_map(|i| docker_command(&script[i..]))
    });
    let Some(command) = found else { return };
    out.push(
        f.finding(
            RULE,
            format!(
                "the command line runs `{command}` inside the task's container: Batch already runs the command line in a container of `{}`, which has no Docker daemon (the node's `{SOCKET}` is not mounted)",
                f.task.image
            ),
        )
        .with_fix(
            "give the image to run as `containerSettings.imageName` and its arguments as `commandLine` (Batch pulls and runs it); prefetch images with the pool's `containerImageNames`",
        ),
    );
}

/// `docker SUBCOMMAND` at the start of `words` (also after `sudo`), as text.
fn docker_command(words: &[String]) -> Option<String> {
    let words = match words.first().map(String::as_str) {
        Some("sudo") => &words[1..],
        _ => words,
    };
    let program = words.first()?;
    if program.rsplit('/').next() != Some("docker") {
        return None;
    }
    let sub = words.get(1).filter(|s| SUBCOMMANDS.contains(&s.as_str()))?;
    Some(format!("{program} {sub}"))
}
