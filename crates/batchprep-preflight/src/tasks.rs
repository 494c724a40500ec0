//! The one task reader of `lint` and `check`: every task of the task files, named once, with its
//! place in its file so each finding points at the field that causes it.

use std::{
    path::{Path, PathBuf},
    rc::Rc,
};

use anyhow::Context;
use batchprep_batch::{
    pool::PoolDefinition,
    pool_source::ShipyardTarget,
    task::{FoundTask, NODE_ROOT_DIR, TaskContainer},
};
use batchprep_lint::{Finding, rules::pool::PoolTask};
use batchprep_oci::Platform;

use crate::source::SourceFile;

/// One task of the task files, ready for both the pool rules and the container rules.
#[derive(Debug)]
pub struct Task {
    /// What the pool rules read: its name, image and where the image is named.
    pub pool_task: PoolTask,
    /// The container Batch starts for it; `None` for a task without `containerSettings`.
    pub container: Option<TaskContainer>,
    /// Where it sits in its file.
    pub place: TaskPlace,
}

/// Where a task sits in its file.
#[derive(Debug, Clone)]
pub struct TaskPlace {
    /// The file.
    pub file: Rc<SourceFile>,
    /// The JSON pointer of the task object in it.
    pub pointer: String,
}

impl TaskPlace {
    /// Points a finding about this task at the field it is about.
    pub fn locate(&self, finding: Finding) -> Finding {
        finding.in_task(&self.pointer, |p| self.file.locate(p))
    }
}

/// How a task is named in messages and reports: its `id`, else its file and pointer
/// (`tasks.json#/2`; a file of one task by the file alone).
pub fn task_name(found: &FoundTask, file: &Path) -> String {
    match (&found.task.id, found.pointer.as_str()) {
        (Some(id), _) => id.clone(),
        (None, "") => file.display().to_string(),
        (None, pointer) => format!("{}#{pointer}", file.display()),
    }
}

/// How the tasks run: on which pool's nodes.
#[derive(Debug, Clone, Copy)]
pub struct TaskTarget {
    /// How a Shipyard `jobs.yaml` is read (native container pool, Windows).
    pub shipyard: ShipyardTarget,
    /// The node root directory Batch mounts.
    pub node_root: &'static str,
}

impl TaskTarget {
    /// Tasks on the pools of a file: a Shipyard `jobs.yaml` is read for the (first) pool, the node
    /// root is the pools' when they agree (tasks are not tied to one pool of a multi-pool file).
    pub fn of_pools(pools: &[PoolDefinition]) -> TaskTarget {
        TaskTarget {
            shipyard: pools.first().map(ShipyardTarget::of).unwrap_or_default(),
            node_root: agreed(pools, |p| Some(p.node_root_dir())).unwrap_or(NODE_ROOT_DIR),
        }
    }

    /// Tasks on no pool in particular (`lint`): Shipyard jobs as on a native Linux container pool,
    /// Batch's default node root.
    pub fn native_linux() -> TaskTarget {
        TaskTarget {
            shipyard: ShipyardTarget {
                native: true,
                windows: false,
            },
            node_root: NODE_ROOT_DIR,
        }
    }
}

/// The tasks of the task files (`-` is standard input), in file order.
pub fn read_tasks(paths: &[PathBuf], target: TaskTarget) -> anyhow::Result<Vec<Task>> {
    let mut tasks = Vec::new();
    for path in paths {
        let (file, found) = SourceFile::read_tasks(path, target.shipyard)?;
        let file = Rc::new(file);
        for found in found {
            let name = task_name(&found, path);
            let settings = found.task.container_settings.as_ref();
            let image_pointer = match settings {
                Some(_) => format!("{}/containerSettings/imageName", found.pointer),
                None => found.pointer.clone(),
            };
            let container = match settings {
                Some(_) => Some(TaskContainer {
                    name: found.task.id.is_none().then(|| name.clone()),
                    node_root: target.node_root.to_owned(),
                    ..TaskContainer::from_json(&found.task)
                        .with_context(|| format!("{}: task {name}", path.display()))?
                }),
                None => None,
            };
            tasks.push(Task {
                pool_task: PoolTask {
                    id: name,
                    image: settings.map(|s| s.image_name.clone()),
                    location: file.locate(&image_pointer),
                },
                container,
                place: TaskPlace {
                    file: Rc::clone(&file),
                    pointer: found.pointer,
                },
            });
        }
    }
    Ok(tasks)
}

/// The platform the pools' nodes run: the one architecture their VM sizes (or node images) have;
/// linux/amd64 when none is known or they differ.
pub fn nodes_platform(pools: &[PoolDefinition]) -> Platform {
    let arch = agreed(pools, |p| Some(p.node_architecture()?.as_str())).unwrap_or("amd64");
    format!("linux/{arch}")
        .parse()
        .expect("linux/amd64 and linux/arm64 are platforms")
}

/// The one value `of` gives for every pool that has one; `None` when none has one or they differ.
fn agreed<T: Ord>(
    pools: &[PoolDefinition],
    of: impl Fn(&PoolDefinition) -> Option<T>,
) -> Option<T> {
    let mut values: Vec<T> = pools.iter().filter_map(of).collect();
    values.sort_unstable();
    values.dedup();
    match values.len() {
        1 => values.pop(),
        _ => None,
    }
}
