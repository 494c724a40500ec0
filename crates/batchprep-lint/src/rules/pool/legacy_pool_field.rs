//! Fields and values of older API versions that current versions reject or ignore.

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("legacy-pool-field", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    for field in &f.pool.legacy_fields {
        out.push(
            f.finding(RULE, field, field.value.clone())
                .with_fix("use the current API's name and value"),
        );
    }
}
