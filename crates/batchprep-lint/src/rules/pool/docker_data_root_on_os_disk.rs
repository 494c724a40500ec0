//! HPC images keep `/var/lib/docker` on the OS disk; image pulls can fill it unless a start task moves
//! Docker's data root to the temp disk.

use batchprep_batch::catalog::OsFamily;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("docker-data-root-on-os-disk", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let (Some(image), Some(container)) = (f.node_image(), &f.pool.container) else {
        return;
    };
    if !image.docker_data_root_on_os_disk {
        return;
    }
    let moved = f
        .pool
        .start_task
        .as_ref()
        .and_then(|s| s.command_line.as_ref())
        .is_some_and(|c| c.value.contains("data-root"));
    if moved {
        return;
    }
    if image.os_family == OsFamily::Windows {
        out.push(
            f.finding_at(
                RULE,
                &container.pointer,
                format!(
                    "`{}` keeps Docker's data root at C:\\ProgramData\\docker on the OS disk; {} prefetched image(s) and every task image are stored there",
                    image.urn(),
                    container.image_names.len()
                ),
            )
            .with_fix("set `data-root` in C:\\ProgramData\\docker\\config\\daemon.json from a start task (batchprep's start task is for Linux pools)"),
        );
        return;
    }
    let finding = f
        .finding_at(
            RULE,
            &container.pointer,
            format!(
                "`{}` keeps Docker's data root at /var/lib/docker on the OS disk and no start task moves it; {} prefetched image(s) and every task image are stored there",
                image.urn(),
                container.image_names.len()
            ),
        )
        .with_fix(format!(
            "add the start task from `batchprep start-task --pool-image {}` (moves data-root to the temp disk {})",
            image.urn(),
            image.temp_disk
        ));
    out.push(match f.start_task_edit() {
        Some(edit) => finding.with_edit(edit),
        None => finding,
    });
}
