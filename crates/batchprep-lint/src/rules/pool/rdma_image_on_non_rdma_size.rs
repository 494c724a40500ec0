//! An RDMA-only image (`-rdma` offers) on a VM size without InfiniBand.

use batchprep_batch::vm_size;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("rdma-image-on-non-rdma-size", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let (Some(image), Some(size)) = (&f.pool.image, &f.pool.vm_size) else {
        return;
    };
    let rdma_only = f.node_image().map(|i| i.rdma_only).unwrap_or(false)
        || image
            .offer
            .as_ref()
            .is_some_and(|o| o.value.to_ascii_lowercase().ends_with("-rdma"));
    let Some(traits) = vm_size::traits(&size.value) else {
        return;
    };
    if rdma_only && !traits.infiniband {
        out.push(
            f.finding(RULE, size, format!("`{}` is an RDMA image but `{}` has no InfiniBand", f.image_urn().unwrap_or_default(), size.value))
                .with_fix("pick an InfiniBand size (an `r` size such as Standard_HB120rs_v3 or Standard_NC24rs_v3) or the image's non-RDMA offer"),
        );
    }
}
