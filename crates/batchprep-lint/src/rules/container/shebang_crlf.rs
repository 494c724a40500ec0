//! A script whose `#!` line ends in `\r`: the kernel looks for an interpreter named `sh\r`.

use super::{ContainerFacts, Lookup, Program, shebang};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new("shebang-crlf", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Program::Path(Lookup::Found { real, entry, .. }) = f.program() else {
        return;
    };
    let entry = &entry;
    let Some(sb) = shebang(entry) else {
        return;
    };
    if !sb.crlf {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!(
                "the script `{real}` starts with `#!{}\\r`: CRLF line endings leave a `\\r` on the interpreter line, so `{}\\r` is looked up and does not exist",
                sb.line.trim_end_matches('\r'),
                sb.line.trim_end_matches('\r').trim().rsplit([' ', '\t']).next().unwrap_or("")
            ),
        )
        .with_fix(format!("convert `{real}` to LF line endings in the image build (`dos2unix {real}` or `sed -i 's/\\r$//' {real}`)")),
    );
}
