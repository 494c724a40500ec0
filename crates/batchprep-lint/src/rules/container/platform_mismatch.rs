//! An image built for another os or architecture than the pool's nodes: `exec format error`.

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("platform-mismatch", &[Fact::Task, Fact::Image]).at(TaskField::ImageName);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    if f.node.matches(f.platform) {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!(
                "the image is {} but the pool's nodes are {}: its programs cannot run there (exec format error)",
                f.platform, f.node
            ),
        )
        .with_fix(format!(
            "build the image for {} (`docker buildx build --platform {}`) or publish a multi-platform index that includes it",
            f.node, f.node
        )),
    );
}
