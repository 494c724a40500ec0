//! A container pool on an image with no container runtime: every node fails its container setup.

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("node-image-without-docker", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let (Some(image), Some(_), Some(at)) = (f.node_image(), &f.pool.container, &f.pool.image)
    else {
        return;
    };
    if !image.docker_preinstalled {
        let next = batchprep_batch::catalog::recommended();
        out.push(
            f.finding_at(RULE, &at.pointer, format!("`{}` has no container runtime installed, but the pool has `containerConfiguration`", image.urn()))
                .with_fix(format!("use a container-ready image such as `{}`", next.urn())),
        );
    }
}
