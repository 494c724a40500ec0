//! Fields and values of older API versions that current versions reject or ignore.

use super::PoolFacts;
use batchprep_batch::pool::CurrentSpelling;

use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("legacy-pool-field", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    for field in &f.pool.legacy_fields {
        let finding = f
            .finding_at(RULE, &field.pointer, field.message.clone())
            .with_fix("use the current API's name and value");
        out.push(match &field.current {
            Some(CurrentSpelling::Name { old, new }) => {
                finding.with_edit(Edit::safe(Change::RenameMember {
                    from: old.clone(),
                    to: new.clone(),
                }))
            }
            Some(CurrentSpelling::Value { old, new }) => {
                finding.with_edit(Edit::safe(Change::ReplaceString {
                    from: old.clone(),
                    to: new.clone(),
                }))
            }
            None => finding,
        });
    }
}
