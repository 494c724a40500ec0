//! Template expressions batchprep cannot resolve (a parameter without a default, a function it does not
//! evaluate): said plainly, so nobody mistakes "not checked" for "passed".

use batchprep_oci::safe_text::template_expression;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("template-value-unknown", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    for (pointer, expr) in &f.pool.unknowns {
        out.push(
            f.finding_at(RULE, pointer, format!("`{}` is not known before deployment; checks that need this value were skipped", template_expression(expr)))
                .with_fix("give the parameter a `defaultValue`, or check the compiled template with the value filled in"),
        );
    }
}
