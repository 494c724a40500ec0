//! Template expressions batchprep cannot resolve (a parameter without a default, a function it does not
//! evaluate): said plainly, so nobody mistakes "not checked" for "passed".

use batchprep_oci::safe_text::{is_secret_name, template_expression, value};

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("template-value-unknown", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    for (pointer, expr) in &f.pool.unknowns {
        // Under a field that holds a secret, a literal in the expression may be the password.
        let shown = if pointer.split('/').any(is_secret_name) {
            template_expression(expr)
        } else {
            value(expr)
        };
        out.push(
            f.finding_at(RULE, pointer, format!("`{shown}` is not known before deployment; checks that need this value were skipped"))
                .with_fix("give the parameter a `defaultValue`, or check the compiled template with the value filled in"),
        );
    }
}

/// A task's `imageName` that is a template expression: the container rules that need the image
/// cannot run for `task`, whose image field is at `location`.
pub fn task_image(task: &str, image: &str, location: crate::Location) -> Finding {
    Finding::new(
        RULE,
        format!("task {task}"),
        format!(
            "`{image}` is not known before deployment; the container rules that need the image did not run for this task"
        ),
    )
    .at(location)
}
