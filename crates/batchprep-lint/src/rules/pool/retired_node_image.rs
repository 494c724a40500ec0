//! A retired marketplace image or node agent: Batch no longer allocates pools with it.

use batchprep_batch::catalog::ImageStatus;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("retired-node-image", &[Fact::Pool]);

/// Node agents Batch has retired (DESIGN §4: the 20.04 agents ended 2025-04-23; older agents before).
const RETIRED_AGENTS: &[&str] = &[
    "batch.node.ubuntu 14.04",
    "batch.node.ubuntu 16.04",
    "batch.node.ubuntu 18.04",
    "batch.node.ubuntu 20.04",
    "batch.node.centos 7",
    "batch.node.debian 8",
    "batch.node.debian 9",
    "batch.node.debian 10",
    "batch.node.opensuse 42.1",
    "batch.node.sles 12",
];

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let fix = f.move_fix();
    if let (Some(image), Some(at)) = (f.node_image(), &f.pool.image)
        && let ImageStatus::Retired { end_of_life } = image.status(f.today)
    {
        let when = end_of_life
            .map(|d| format!(" (end of life {d})"))
            .unwrap_or_default();
        out.push(
            f.finding_at(
                RULE,
                &at.pointer,
                format!("`{}` is retired{when}", image.urn()),
            )
            .with_fix(fix)
            .with_edits(f.move_to_recommended()),
        );
        return;
    }
    // A SKU the catalog does not list, of an offer that is retired as a whole.
    if f.node_image().is_none()
        && let Some(at) = &f.pool.image
        && let (Some(publisher), Some(offer)) = (&at.publisher, &at.offer)
        && let Some(retired) =
            batchprep_batch::catalog::retired_offer(&publisher.value, &offer.value)
    {
        let urn = f
            .image_urn()
            .unwrap_or_else(|| format!("{}:{}", publisher.value, offer.value));
        out.push(
            f.finding_at(
                RULE,
                &at.pointer,
                format!(
                    "`{urn}` is retired: every image of `{}:{}` reached end of life by {}",
                    publisher.value, offer.value, retired.end_of_life
                ),
            )
            .with_fix(fix)
            .with_edits(f.move_to_recommended()),
        );
        return;
    }
    if let Some(agent) = &f.pool.node_agent_sku_id
        && RETIRED_AGENTS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(agent.value.trim()))
    {
        out.push(
            f.finding(
                RULE,
                agent,
                format!("node agent `{}` is retired", agent.value),
            )
            .with_fix(fix),
        );
    }
}
