//! A container pool of GPU nodes on an image without NVIDIA drivers and the NVIDIA container runtime:
//! Batch cannot give the containers their GPUs.

use batchprep_batch::vm_size;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("gpu-image-without-nvidia-runtime", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let (Some(image), Some(size), Some(_), Some(at)) = (
        f.node_image(),
        &f.pool.vm_size,
        &f.pool.container,
        &f.pool.image,
    ) else {
        return;
    };
    let gpu = vm_size::traits(&size.value).is_some_and(|t| t.gpu);
    if !gpu || image.gpu {
        return;
    }
    let next = batchprep_batch::catalog::recommended();
    out.push(
        f.finding_at(
            RULE,
            &at.pointer,
            format!(
                "`{}` has NVIDIA GPUs, but `{}` has no NVIDIA driver or NVIDIA container runtime: the containers get no GPU",
                size.value,
                image.urn()
            ),
        )
        .with_fix(format!(
            "use an image with the NVIDIA driver and container runtime, such as `{}`",
            next.urn()
        )),
    );
}
