//! The container's user does not resolve in the image: a `--user` name (or group) that the image's
//! `/etc/passwd` (`/etc/group`) does not have, or a user database Moby cannot read. Moby resolves
//! the user as it starts the container, so the task fails before anything runs. Batch's own task
//! user is numeric and resolves in any image whose database can be read.

use batchprep_batch::task::UserSource;
use batchprep_oci::user_db::{PASSWD, UserLookup, passwd_absent};

use super::ContainerFacts;
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new("user-not-in-image", &[Fact::Task, Fact::Image]);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let UserLookup::Fails(error) = &f.user_lookup else {
        return;
    };
    let user = &f.run.user;
    let (field, whose, fix) = match user.source {
        UserSource::RunOptions => (
            TaskField::ContainerRunOptions,
            format!("`--user {}` in the run options", user.spec),
            format!(
                "add the user to the image's `{PASSWD}` (and the group to `/etc/group`), give `--user` as numbers (`uid:gid`), or remove `--user` so Batch's task user runs it"
            ),
        ),
        UserSource::Batch => (
            TaskField::ImageName,
            format!("Batch's task user `{}`", user.spec),
            format!("make `{PASSWD}` and `/etc/group` in the image regular files (or remove them)"),
        ),
    };
    let note = if user.source == UserSource::RunOptions && passwd_absent(f.fs) {
        format!(" (the image has no `{PASSWD}`, so every name fails, `root` included)")
    } else {
        String::new()
    };
    out.push(
        f.finding(
            RULE,
            format!(
                "{whose} does not resolve in the image{note}: Moby fails the container as it starts it (\"{error}\")"
            ),
        )
        .about(field)
        .with_fix(fix),
    );
}
