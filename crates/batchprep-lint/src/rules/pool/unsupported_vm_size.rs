//! VM sizes Batch does not allocate.

use batchprep_batch::vm_size;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("unsupported-vm-size", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let Some(size) = &f.pool.vm_size else { return };
    if let Some(reason) = vm_size::unsupported_reason(&size.value) {
        out.push(
            f.finding(RULE, size, format!("`{}`: {reason}", size.value))
                .with_fix("pick a supported size, e.g. Standard_D2s_v3"),
        );
    }
}
