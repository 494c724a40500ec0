//! Task files as users keep them, read into the same tasks with where each field was written: Batch
//! task JSON (one task, an array, a task collection, a job with a `jobManagerTask`, a Batch CLI
//! template) or a Batch Shipyard `jobs.yaml`, whose tasks are the ones Shipyard adds to the pool.

use std::path::Path;

use serde::Deserialize;

use crate::{
    pool_source::{PoolFileError, ShipyardTarget, SourceIndex, read_shipyard_jobs},
    task::{FoundTask, TaskError, TaskJson, parse_task_file},
};

/// The tasks of one task file.
#[derive(Debug, Clone)]
pub struct TaskFile {
    /// Every task, in file order.
    pub tasks: Vec<FoundTask>,
    /// Where the tasks' pointers are (for Shipyard, each Batch field at the YAML it came from).
    pub locations: SourceIndex,
}

/// Why a task file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskFileError {
    /// A task JSON file.
    #[error(transparent)]
    Json(#[from] TaskError),
    /// A Shipyard jobs file (the message is whole: it is not chained to a source).
    #[error("{file}: {error}")]
    Shipyard {
        /// The file, as named.
        file: String,
        /// What was wrong.
        error: PoolFileError,
    },
}

/// Whether `path` (content `text`) is a Batch Shipyard jobs file rather than task JSON.
pub fn is_shipyard_jobs(path: &Path, text: &str) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("yaml" | "yml")) {
        return true;
    }
    let head = text.trim_start_matches('\u{feff}').trim_start();
    !head.starts_with('{') && !head.starts_with('[') && text.contains("job_specifications")
}

/// Reads the task file `path` with content `text`. Shipyard's tasks depend on the pool they run on
/// (`target`): native container pools run them as Batch container tasks.
pub fn read_task_file(
    path: &Path,
    text: &str,
    target: ShipyardTarget,
) -> Result<TaskFile, TaskFileError> {
    let name = path.display().to_string();
    if !is_shipyard_jobs(path, text) {
        return Ok(TaskFile {
            tasks: parse_task_file(&name, text)?,
            locations: SourceIndex::json(path, text),
        });
    }
    let shipyard = |error| TaskFileError::Shipyard {
        file: name.clone(),
        error,
    };
    let jobs = read_shipyard_jobs(path, text, target).map_err(shipyard)?;
    let tasks = jobs
        .tasks
        .into_iter()
        .map(|t| {
            // The body is built by the reader in the data plane's own spelling.
            let task = TaskJson::deserialize(&t.body).map_err(|e| TaskError::Json {
                file: format!("{name}: task at {}", t.pointer),
                detail: batchprep_oci::safe_text::serde_message(&e.to_string()),
            })?;
            Ok(FoundTask {
                pointer: t.pointer,
                task,
            })
        })
        .collect::<Result<_, TaskError>>()?;
    Ok(TaskFile {
        tasks,
        locations: jobs.locations,
    })
}
