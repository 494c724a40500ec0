//! A node image whose support ends within 12 months: pools must move before Batch stops allocating it.

use batchprep_batch::catalog::ImageStatus;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("node-image-end-of-life", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let (Some(image), Some(at)) = (f.node_image(), &f.pool.image) else {
        return;
    };
    if let ImageStatus::EndingSoon {
        end_of_life,
        days_left,
    } = image.status(f.today)
    {
        out.push(
            f.finding_at(
                RULE,
                &at.pointer,
                format!(
                    "`{}` reaches end of life on {end_of_life} ({days_left} days from {})",
                    image.urn(),
                    f.today
                ),
            )
            .with_fix(f.move_fix())
            .with_edits(f.move_to_recommended()),
        );
    }
}
