//! A GPU VM size whose GPU the node image's NVIDIA driver does not drive (V100 and A10 on the newest
//! HPC images): the nodes start, and the tasks see no GPU.

use batchprep_batch::vm_size;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("gpu-not-driven-by-image", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let (Some(image), Some(size)) = (f.node_image(), &f.pool.vm_size) else {
        return;
    };
    let Some(model) = vm_size::traits(&size.value).and_then(|t| t.gpu_model) else {
        return;
    };
    if !image
        .gpus_not_driven
        .iter()
        .any(|m| m.eq_ignore_ascii_case(model))
    {
        return;
    }
    out.push(
        f.finding(
            RULE,
            size,
            format!(
                "`{}` has {model} GPUs, which the NVIDIA driver of `{}` does not drive: the tasks see no GPU",
                size.value,
                image.urn()
            ),
        )
        .with_fix(format!(
            "pick a size whose GPU `{}` drives, or an image SKU built for {model} (the HPC images' `-v100` SKUs, such as `microsoft-dsvm:ubuntu-hpc:2204-v100`)",
            image.urn()
        )),
    );
}
