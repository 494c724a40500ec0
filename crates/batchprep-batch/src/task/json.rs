//! The task JSON the data plane takes, and the task files users keep (one task, an array, a
//! collection, a job with a `jobManagerTask`).

use serde::Deserialize;

use super::{AutoUserScope, ContainerWorkingDirectory, ElevationLevel, TaskError};

/// A task as the data plane takes it (`BatchTaskCreateOptions`, `BatchJobManagerTask`): the parts
/// that decide what runs in the container.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskJson {
    /// Task id.
    #[serde(default)]
    pub id: Option<String>,
    /// The command line; becomes the container CMD.
    #[serde(default)]
    pub command_line: String,
    /// Container settings; absent for non-container tasks.
    #[serde(default)]
    pub container_settings: Option<ContainerSettingsJson>,
    /// The identity the task runs as.
    #[serde(default)]
    pub user_identity: Option<UserIdentityJson>,
    /// Files Batch downloads into the task working directory before the task starts.
    #[serde(default)]
    pub resource_files: Vec<ResourceFileJson>,
    /// Task environment variables, passed into the container.
    #[serde(default)]
    pub environment_settings: Vec<EnvironmentSettingJson>,
}

/// `BatchTaskContainerSettings`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSettingsJson {
    /// The image reference, as `docker pull` takes it.
    pub image_name: String,
    /// Extra `docker create` options.
    #[serde(default)]
    pub container_run_options: String,
    /// Task working directory or the image default.
    #[serde(default)]
    pub working_directory: ContainerWorkingDirectory,
    /// Which node paths are bind-mounted; absent mounts all of `AZ_BATCH_NODE_ROOT_DIR`.
    #[serde(default)]
    pub container_host_batch_bind_mounts: Option<Vec<BindMountJson>>,
}

/// `ContainerHostBatchBindMountEntry`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindMountJson {
    /// `Shared`, `Startup`, `VfsMounts`, `Task`, `JobPrep` or `Applications`.
    pub source: String,
    /// Read-only mount.
    #[serde(default)]
    pub is_read_only: bool,
}

/// `UserIdentity`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentityJson {
    /// A named user account of the pool.
    #[serde(default)]
    pub username: Option<String>,
    /// The auto-user.
    #[serde(default)]
    pub auto_user: Option<AutoUserJson>,
}

/// `AutoUserSpecification`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoUserJson {
    /// Pool (default) or task.
    #[serde(default)]
    pub scope: AutoUserScope,
    /// Non-admin (default) or admin.
    #[serde(default)]
    pub elevation_level: ElevationLevel,
}

/// `ResourceFile`: only where the file lands matters here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceFileJson {
    /// Path relative to the task working directory.
    #[serde(default)]
    pub file_path: Option<String>,
}

/// `EnvironmentSetting`.
#[derive(Debug, Clone, Deserialize)]
pub struct EnvironmentSettingJson {
    /// Variable name.
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// One task found in a task file, with where it sits in the file.
#[derive(Debug, Clone)]
pub struct FoundTask {
    /// RFC 6901 pointer to the task object (`""`, `/2`, `/jobManagerTask`, `/value/0`).
    pub pointer: String,
    /// The task.
    pub task: TaskJson,
}

/// Reads every task of a task file: one task, an array of tasks, a task collection
/// (`{"value": [...]}`) or a job with a `jobManagerTask`.
pub fn parse_task_file(file: &str, text: &str) -> Result<Vec<FoundTask>, TaskError> {
    let json_err = |e: serde_json::Error| TaskError::Json {
        file: file.to_owned(),
        detail: batchprep_oci::safe_text::json_error(&e),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(json_err)?;
    let mut found = Vec::new();
    let mut push = |pointer: String, v: &serde_json::Value| -> Result<(), TaskError> {
        let task: TaskJson = serde_path_to_error::deserialize(v).map_err(|e| TaskError::Json {
            file: if pointer.is_empty() {
                file.to_owned()
            } else {
                format!("{file}: task at {pointer}")
            },
            detail: format!(
                "`{}`: {}",
                batchprep_oci::safe_text::value(&e.path().to_string()),
                batchprep_oci::safe_text::serde_message(&e.inner().to_string())
            ),
        })?;
        found.push(FoundTask { pointer, task });
        Ok(())
    };
    collect_tasks(&value, String::new(), 0, &mut push)?;
    if found.is_empty() {
        return Err(TaskError::NoTask(file.to_owned()));
    }
    Ok(found)
}

/// Members that hold tasks: job fields, the REST spec's example wrapper (`parameters.task`), task
/// collections, and Batch CLI-extensions templates (`job.properties.taskFactory.repeatTask`).
const TASK_HOLDERS: &[&str] = &[
    "jobManagerTask",
    "task",
    "tasks",
    "value",
    "parameters",
    "job",
    "properties",
    "taskFactory",
    "repeatTask",
];

/// Finds task objects (those with `commandLine` or `containerSettings`) in `value`.
fn collect_tasks(
    value: &serde_json::Value,
    pointer: String,
    depth: usize,
    push: &mut dyn FnMut(String, &serde_json::Value) -> Result<(), TaskError>,
) -> Result<(), TaskError> {
    if depth > 6 {
        return Ok(());
    }
    match value {
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_tasks(v, format!("{pointer}/{i}"), depth + 1, push)?;
            }
        }
        serde_json::Value::Object(map) => {
            if map.contains_key("commandLine") || map.contains_key("containerSettings") {
                return push(pointer, value);
            }
            for key in TASK_HOLDERS {
                if let Some(v) = map.get(*key) {
                    collect_tasks(v, format!("{pointer}/{key}"), depth + 1, push)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}
