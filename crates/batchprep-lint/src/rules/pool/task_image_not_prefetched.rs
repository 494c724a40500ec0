//! A task image that the pool does not prefetch is pulled when the task starts: slow, and a Docker Hub
//! pull per node.

use batchprep_oci::Reference;

use super::PoolFacts;
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("task-image-not-prefetched", &[Fact::Pool, Fact::Task]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let Some(container) = &f.pool.container else {
        return;
    };
    let prefetched: Vec<String> = f
        .prefetched()
        .into_iter()
        .map(|(_, r)| r.to_string())
        .collect();
    for task in f.tasks {
        let Some(image) = &task.image else { continue };
        let Ok(reference) = Reference::parse(image) else {
            continue;
        };
        if prefetched.contains(&reference.to_string()) {
            continue;
        }
        out.push(
            Finding::new(RULE, format!("task {}", task.id), format!("`{image}` is not in the pool's `containerImageNames` ({} listed); every node pulls it when the task starts", container.image_names.len()))
                .at(task.location.clone())
                .with_fix(format!("add `{}` to `containerImageNames` of pool {}", reference.familiar(), f.pool.display_id()))
                // The pool's list gets the name as the task writes it.
                .with_edit(
                    Edit::safe(Change::AppendToArray { value: image.clone() })
                        .at((f.locate)(&format!("{}/containerImageNames", container.pointer))),
                ),
        );
    }
}
