//! A VM size whose CPU architecture is not the node image's (an Arm64 Cobalt size with an amd64
//! image, or the other way round): Azure cannot boot the image on the size, so the pool never gets
//! nodes.

use batchprep_batch::vm_size;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("vm-size-architecture-mismatch", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let (Some(image), Some(size)) = (f.node_image(), &f.pool.vm_size) else {
        return;
    };
    let Some(traits) = vm_size::traits(&size.value) else {
        return;
    };
    if traits.architecture == image.architecture {
        return;
    }
    // The same image built for the size's architecture, when the catalog has one.
    let twin = batchprep_batch::catalog::images().iter().find(|i| {
        i.architecture == traits.architecture
            && i.publisher.eq_ignore_ascii_case(&image.publisher)
            && i.offer.eq_ignore_ascii_case(&image.offer)
            && !i.retired
    });
    let fix = match twin {
        Some(t) => format!(
            "use the {} image `{}`, or a {} VM size",
            traits.architecture.as_str(),
            t.urn(),
            image.architecture.as_str()
        ),
        None => format!(
            "use a {} VM size for `{}`, or a {} node image",
            image.architecture.as_str(),
            image.urn(),
            traits.architecture.as_str()
        ),
    };
    out.push(
        f.finding(
            RULE,
            size,
            format!(
                "`{}` has {} CPUs but `{}` is an {} image: Azure cannot start it on that size",
                size.value,
                traits.architecture.as_str(),
                image.urn(),
                image.architecture.as_str()
            ),
        )
        .with_fix(fix),
    );
}
