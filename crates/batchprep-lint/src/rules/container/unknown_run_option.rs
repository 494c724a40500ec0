//! A `containerRunOptions` option the Batch node agent is not known to accept: the agent parses the
//! run options itself and fails the task with `ContainerInvalidSettings` on one it does not know.

use batchprep_batch::task::{AGENT_ACCEPTED, agent_accepts};

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("unknown-run-option", &[Fact::Task]).at(TaskField::ContainerRunOptions);

/// Options with a rule of their own that says more (the agent is known to reject `--gpus`).
const OWN_RULE: &[&str] = &["--gpus"];

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let mut seen: Vec<&str> = Vec::new();
    for flag in &f.task.run_options.flags {
        if OWN_RULE.contains(&flag.as_str())
            || agent_accepts(flag, f.accepted_run_options)
            || seen.contains(&flag.as_str())
        {
            continue;
        }
        seen.push(flag);
        out.push(
            f.finding(
                RULE,
                format!(
                    "containerRunOptions has `{flag}`, which the Batch node agent is not known to accept (known: {}); the agent fails the task with ContainerInvalidSettings on options it does not know",
                    known_set(f.accepted_run_options)
                ),
            )
            .with_fix(format!(
                "remove `{flag}` from containerRunOptions, or, if your pools' node agent accepts it, add it to `accepted-run-options` under `[node-agent]` in batchprep.toml"
            )),
        );
    }
}

/// The known set for messages: `-v/--volume, --mount, ...`, then the configured ones.
fn known_set(extra: &[String]) -> String {
    AGENT_ACCEPTED
        .iter()
        .map(|spellings| spellings.join("/"))
        .chain(extra.iter().cloned())
        .collect::<Vec<_>>()
        .join(", ")
}
