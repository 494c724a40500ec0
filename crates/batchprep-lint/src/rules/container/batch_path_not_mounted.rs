//! A container task that needs a node directory Batch does not mount. With
//! `containerHostBatchBindMounts` only the listed directories are bind-mounted, and Batch removes the
//! `AZ_BATCH_*` variables of the others: the task working directory, `$AZ_BATCH_NODE_SHARED_DIR` or a
//! path under the node root is then not there in the container.

use batchprep_batch::task::{CwdSource, NODE_ROOT_DIRS, bind_mount_source_of};

use super::{ContainerFacts, unexpanded_variable::variables};
use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

/// The rule.
pub const RULE: Rule = Rule::new("batch-path-not-mounted", &[Fact::Task]);

pub(super) fn check(f: &ContainerFacts<'_>, out: &mut Vec<Finding>) {
    let Some(list) = &f.task.bind_mounts else {
        return;
    };
    let listed = if list.is_empty() {
        "is empty".to_owned()
    } else {
        let names: Vec<String> = list.iter().map(|m| format!("`{}`", m.source)).collect();
        format!("lists only {}", names.join(", "))
    };
    if f.run.cwd_source == CwdSource::TaskWorkingDirectory && !f.task.mounts_source("Task") {
        out.push(
            f.finding(
                RULE,
                format!(
                    "`containerHostBatchBindMounts` {listed}, so the task working directory `{}` is not mounted: the task starts in an empty directory of the container, without its resource files, and what it writes there is lost",
                    f.run.cwd
                ),
            )
            .about(TaskField::BindMounts)
            .with_fix("add `{\"source\": \"Task\"}` to `containerHostBatchBindMounts`, or set `workingDirectory` to `containerImageDefault`"),
        );
        return;
    }
    let fields = [
        (TaskField::CommandLine, &f.task.command_words),
        (TaskField::ContainerRunOptions, &f.task.run_options.words),
    ];
    for (field, words) in fields {
        for word in words {
            if let Some((var, source)) = variables(word).into_iter().find_map(|v| {
                let source = bind_mount_source_of(&v)?;
                (!f.task.mounts_source(source)).then_some((v, source))
            }) {
                out.push(
                    f.finding(
                        RULE,
                        format!(
                            "`{word}` uses `${var}`, which is not set in the container: `containerHostBatchBindMounts` {listed}, and Batch removes the variables of the directories it does not mount"
                        ),
                    )
                    .about(field)
                    .with_fix(format!(
                        "add `{{\"source\": \"{source}\"}}` to `containerHostBatchBindMounts`"
                    )),
                );
                return;
            }
            // A path in the container under the node root (the host side of `-v` is the node's).
            if field != TaskField::CommandLine {
                continue;
            }
            if let Some(path) = node_paths(word).find(|p| !f.run.is_mounted(p)) {
                out.push(
                    f.finding(
                        RULE,
                        format!(
                            "`{path}` is a node directory that is not mounted in the container: `containerHostBatchBindMounts` {listed}"
                        ),
                    )
                    .about(field)
                    .with_fix("add the directory's source (`Shared`, `Startup`, `Task`, ...) to `containerHostBatchBindMounts`, or read the file from a mounted directory"),
                );
                return;
            }
        }
    }
}

/// The paths under a Linux node root (`/mnt/batch/shared/x`) that `word` names, also inside a
/// script (`sh -c 'cat /mnt/batch/shared/x'`) or after `=`.
fn node_paths(word: &str) -> impl Iterator<Item = &str> {
    NODE_ROOT_DIRS.iter().flat_map(move |root| {
        word.match_indices(root).filter_map(move |(at, _)| {
            let before = word[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c)) {
                return None;
            }
            let rest = &word[at..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "'\";:,|&<>()`".contains(c))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches('/');
            // The root itself or a path below it, not `/mnt/batchfoo`.
            (path.len() == root.len() || path.as_bytes().get(root.len()) == Some(&b'/'))
                .then_some(path)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::node_paths;

    #[test]
    fn finds_node_paths_in_words_and_scripts() {
        fn all(w: &str) -> Vec<&str> {
            node_paths(w).collect()
        }
        assert_eq!(
            all("/mnt/batch/shared/in.csv"),
            ["/mnt/batch/shared/in.csv"]
        );
        assert_eq!(
            all("cat '/mnt/resource/batch/startup/x';ls"),
            ["/mnt/resource/batch/startup/x"]
        );
        assert_eq!(
            all("--input=/opt/batch/data/shared"),
            ["/opt/batch/data/shared"]
        );
        assert_eq!(all("/mnt/batchfoo/x"), Vec::<&str>::new());
        assert_eq!(all("/home/mnt/batch/x"), Vec::<&str>::new());
    }
}
