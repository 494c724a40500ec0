//! The task's user cannot execute the program: mode bits and ownership, as the kernel checks them for
//! the uid and gid Batch maps into the container (root only for pool-scope admin tasks). A non-admin
//! task's uid is not known in advance (Batch's `_azbatch`, or a task auto-user's own uid), so for it
//! only the bits for others are certain: an owner or group bit may belong to someone else.

use batchprep_batch::task::UserSource;
use batchprep_oci::{Entry, EntryKind};

use super::{ContainerFacts, Lookup, Program, mode, shebang};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule =
    Rule::new("not-executable-by-task-user", &[Fact::Task, Fact::Image]).at(TaskField::Program);

const READ: u32 = 0o4;
const EXEC: u32 = 0o1;

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Program::Path(Lookup::Found { real, entry, .. }) = f.program() else {
        return;
    };
    let entry = &entry;
    if entry.kind != EntryKind::File {
        return;
    }
    let Some(uid) = f.run.user.uid else {
        return;
    };
    let gid = f.run.user.gid;
    let groups = &f.run.user.groups;
    let who = match gid {
        Some(g) if !groups.is_empty() => {
            let list: Vec<String> = groups.iter().map(u32::to_string).collect();
            format!("uid {uid} (gid {g}, groups {})", list.join(", "))
        }
        Some(g) => format!("uid {uid} (gid {g})"),
        None => format!("uid {uid}"),
    };
    let how = match f.run.user.source {
        UserSource::RunOptions => format!("the task runs as {who} (`--user {}`)", f.run.user.spec),
        UserSource::Batch if uid == 0 => format!("the task runs as {who} (pool-scope admin)"),
        UserSource::Batch => format!(
            "the task runs as a non-root uid Batch picks on the node ({}), so only the permission bits for others apply",
            f.task.identity
        ),
    };
    // Which permission class applies: others only, when the uid is not known in advance.
    let permits = |e: &Entry, bit: u32| {
        if f.run.user.uid_known {
            allows(e, uid, gid, &f.run.user.groups, bit)
        } else {
            e.mode & bit != 0
        }
    };
    let owner = |e: &Entry| format!("mode {}, owner {}:{}", mode(e.mode), e.uid, e.gid);
    let whom = if f.run.user.uid_known {
        "that user"
    } else {
        "others"
    };
    let root_fix = "or run the task as pool-scope admin (`userIdentity.autoUser: {scope: pool, elevationLevel: admin}`)";

    if uid != 0 {
        let mut dir = String::new();
        for part in real
            .trim_start_matches('/')
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map_or(&[][..], |(_, d)| d)
        {
            dir = format!("{dir}/{part}");
            if let Some(d) = f.fs.entry(&dir) {
                if !permits(&d, EXEC) {
                    out.push(
                        f.finding(RULE, format!("{how}; the directory `{dir}` ({}) on the way to `{real}` cannot be searched by {whom}", owner(&d)))
                            .with_fix(format!("`chmod a+x {dir}` in the image, {root_fix}")),
                    );
                    return;
                }
            }
        }
    }
    let executable = if uid == 0 {
        entry.mode & 0o111 != 0
    } else {
        permits(entry, EXEC)
    };
    if !executable {
        let what = if entry.mode & 0o111 == 0 {
            "has no execute bit"
        } else {
            &format!("is not executable by {whom}")
        };
        let fix = if entry.mode & 0o111 == 0 {
            format!("`chmod 755 {real}` in the image")
        } else {
            format!("`chmod 755 {real}` in the image, {root_fix}")
        };
        out.push(
            f.finding(RULE, format!("{how}; `{real}` ({}) {what}", owner(entry)))
                .with_fix(fix),
        );
        return;
    }
    // A script is read by its interpreter as the same user.
    if uid != 0 && shebang(entry).is_some() && !permits(entry, READ) {
        out.push(
            f.finding(RULE, format!("{how}; the script `{real}` ({}) is executable but not readable by {whom}, so its interpreter cannot read it", owner(entry)))
                .with_fix(format!("`chmod a+rx {real}` in the image, {root_fix}")),
        );
    }
}

/// Whether `uid`, with primary group `gid` and supplementary `groups`, has permission `bit`
/// (`READ` or `EXEC`) on `entry` (not root).
fn allows(entry: &Entry, uid: u32, gid: Option<u32>, groups: &[u32], bit: u32) -> bool {
    let class = if u64::from(uid) == entry.uid {
        6
    } else if gid
        .into_iter()
        .chain(groups.iter().copied())
        .any(|g| u64::from(g) == entry.gid)
    {
        3
    } else {
        0
    };
    (entry.mode >> class) & bit != 0
}
