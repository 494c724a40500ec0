//! An ELF program (or the ELF interpreter of a script) built for another machine than the pool's
//! nodes, inside an image whose config says the nodes' platform: the config is only a label, the
//! kernel reads `e_machine`, and the start fails with "exec format error".

use batchprep_oci::exec::{machine_name, machine_of_architecture};

use super::{ContainerFacts, exec_elf};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("elf-architecture-mismatch", &[Fact::Task, Fact::Image]).at(TaskField::Program);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    // platform-mismatch reports an image whose config already says another platform.
    if !f.node.matches(f.platform) || f.node.os != "linux" {
        return;
    }
    let Some(node_machine) = machine_of_architecture(&f.node.architecture) else {
        return;
    };
    let Some((path, elf)) = exec_elf(f) else {
        return;
    };
    if elf.machine == node_machine || elf.machine == 0 {
        return;
    }
    // A 32-bit x86 program runs on an amd64 kernel.
    if Some(node_machine) == machine_of_architecture("amd64")
        && Some(elf.machine) == machine_of_architecture("386")
    {
        return;
    }
    out.push(
        f.finding(
            RULE,
            format!(
                "`{path}` is an ELF binary for {} but the pool's nodes are {} ({}), although the image config says {}: the kernel cannot run it (exec format error)",
                elf.machine_name(),
                f.node,
                machine_name(node_machine),
                f.platform
            ),
        )
        .with_fix(format!(
            "build `{path}` for {} (cross-compile, or `docker buildx build --platform {}` with a base image of that platform)",
            machine_name(node_machine),
            f.node
        )),
    );
}
