//! On a pool with `containerConfiguration` every task must have `containerSettings`; on a pool without,
//! none may.

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("task-missing-container-settings", &[Fact::Pool, Fact::Task]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let container_pool = f.pool.container.is_some();
    for task in f.tasks {
        let (message, fix) = match (container_pool, &task.image) {
            (true, None) => (
                format!("the task has no `containerSettings` but pool {} is a container pool", f.pool.display_id()),
                "add `containerSettings` with the `imageName` to run".to_owned(),
            ),
            (false, Some(image)) => (
                format!("the task runs in `{image}` but pool {} has no `containerConfiguration`", f.pool.display_id()),
                "add `containerConfiguration` to the pool, or remove `containerSettings` from the task".to_owned(),
            ),
            _ => continue,
        };
        out.push(
            Finding::new(RULE, format!("task {}", task.id), message)
                .at(task.location.clone())
                .with_fix(fix),
        );
    }
}
