//! `containerConfiguration` without `type`: the API requires it (`dockerCompatible` or `criCompatible`).

use super::PoolFacts;
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("container-type-missing", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let Some(c) = &f.pool.container else { return };
    if c.kind.is_none() {
        out.push(
            f.finding_at(
                RULE,
                &c.pointer,
                "`containerConfiguration` has no `type`; the Batch API rejects the pool",
            )
            .with_fix("add `\"type\": \"dockerCompatible\"` to `containerConfiguration`")
            // Safe: the legacy default Batch assumed is Docker.
            .with_edit(Edit::safe(Change::InsertMember {
                name: "type".into(),
                value: "dockerCompatible".into(),
            })),
        );
    }
}
