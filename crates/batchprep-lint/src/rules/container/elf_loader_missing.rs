//! A dynamically linked program whose loader (`PT_INTERP`, e.g. `/lib64/ld-linux-x86-64.so.2`)
//! is not in the image: the kernel cannot start it and says "no such file or directory" about a
//! file that exists (a glibc binary copied into a musl or scratch image).

use batchprep_oci::Resolved;

use super::{ContainerFacts, exec_elf};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("elf-loader-missing", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some((path, elf)) = exec_elf(f) else {
        return;
    };
    let Some(loader) = elf.interpreter.as_deref() else {
        return;
    };
    let found = match f.fs.resolve(loader).outcome {
        Resolved::Found { path } => f.fs.entry(&path).is_some_and(|e| e.is_executable_file()),
        _ => false,
    };
    if found {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!(
                "`{path}` is dynamically linked and asks for the loader `{loader}` (PT_INTERP), which the image does not have: the start fails with \"no such file or directory\""
            ),
        )
        .with_fix(format!(
            "build `{path}` statically, or base the image on one with `{loader}` and the libraries `{path}` needs"
        )),
    );
}
