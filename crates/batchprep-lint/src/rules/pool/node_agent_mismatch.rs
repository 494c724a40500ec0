//! `nodeAgentSKUId` must be the agent the marketplace image pairs with; another agent fails allocation.

use super::PoolFacts;
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("node-agent-mismatch", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let Some(image) = f.node_image() else { return };
    // No source names the agent of this image: nothing to compare with.
    let Some(needed) = image.node_agent() else {
        return;
    };
    match &f.pool.node_agent_sku_id {
        Some(agent) if !agent.value.eq_ignore_ascii_case(needed) => out.push(
            f.finding(
                RULE,
                agent,
                format!(
                    "`nodeAgentSKUId` is `{}` but `{}` needs `{}`",
                    agent.value,
                    image.urn(),
                    needed
                ),
            )
            .with_fix(format!("set `nodeAgentSKUId` to `{}`", needed))
            .with_edit(Edit::safe(Change::ReplaceString {
                from: agent.value.clone(),
                to: needed.to_owned(),
            })),
        ),
        Some(_) => {}
        None => {
            if let Some(vm) = &f.pool.vm_configuration_pointer {
                out.push(
                    f.finding_at(
                        RULE,
                        vm,
                        format!(
                            "`nodeAgentSKUId` is missing; `{}` needs `{}`",
                            image.urn(),
                            needed
                        ),
                    )
                    .with_fix(format!("add `\"nodeAgentSKUId\": \"{}\"`", needed))
                    .with_edit(Edit::safe(Change::InsertMember {
                        name: "nodeAgentSKUId".into(),
                        value: needed.into(),
                    })),
                );
            }
        }
    }
}
