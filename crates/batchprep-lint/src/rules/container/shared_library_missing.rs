//! A dynamically linked program whose libraries (`DT_NEEDED`) are not where its loader looks
//! (run paths, `LD_LIBRARY_PATH`, `/etc/ld.so.cache`, the default directories, or musl's path):
//! it exits 127 with "error while loading shared libraries".

use batchprep_oci::loader::{LibrarySearch, find_library};

use super::{ContainerFacts, elf_architecture_mismatch, elf_loader_missing, exec_elf};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("shared-library-missing", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some((path, elf)) = exec_elf(f) else {
        return;
    };
    if elf.interpreter.is_none() || elf.incomplete {
        return;
    }
    // Without its loader, or on another machine, nothing is searched: those rules say so.
    let mut earlier = Vec::new();
    elf_loader_missing::check(f, &mut earlier);
    elf_architecture_mismatch::check(f, &mut earlier);
    if !earlier.is_empty() {
        return;
    }
    let ld_library_path = f.run.env_var("LD_LIBRARY_PATH");
    for name in &elf.needed {
        let LibrarySearch::Missing { looked, uncached } =
            find_library(f.fs, &path, elf, ld_library_path, name)
        else {
            continue;
        };
        let fix = match &uncached {
            Some(at) => format!(
                "`{at}` has it but /etc/ld.so.cache does not list it: run `ldconfig` in the image build after installing it"
            ),
            None => format!(
                "install the package that provides `{name}` in the image, or build `{path}` statically"
            ),
        };
        out.push(
            f.finding(RULE,
                format!(
                    "`{path}` needs `{name}` (DT_NEEDED), which its loader does not find: looked in {}",
                    looked.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_fix(fix),
        );
    }
}
