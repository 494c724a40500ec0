//! Container tasks as Azure Batch runs them: the task JSON the data plane takes, and its resolution
//! against an image's defaults into the container `docker create` really starts (argv, working
//! directory, user, environment, mounts). Every image rule reasons about this effective container,
//! so the Batch semantics live here once (DESIGN §2).

mod effective;
mod json;
pub mod run_options;

use std::{fmt, str::FromStr};

use serde::Deserialize;

pub use effective::{
    ArgsSource, CwdSource, EffectiveContainer, EffectiveUser, EntrypointSource, ImageDefaults,
    UserSource,
};
pub use json::{
    AutoUserJson, BindMountJson, ContainerSettingsJson, EnvironmentSettingJson, FoundTask,
    ResourceFileJson, TaskJson, UserIdentityJson, parse_task_file,
};
pub use run_options::{AGENT_ACCEPTED, RunOptions, agent_accepts, expand_variables, quote_words};

/// `AZ_BATCH_NODE_ROOT_DIR` on Linux nodes whose temp disk is at `/mnt` (Ubuntu images): the default
/// when the pool is not known.
pub const NODE_ROOT_DIR: &str = "/mnt/batch";
/// `AZ_BATCH_NODE_ROOT_DIR` where the temp disk is at `/mnt/resource` (the RHEL family, and the
/// NVMe-only sizes, whose disk Batch formats and mounts there).
pub const NODE_ROOT_DIR_RESOURCE: &str = "/mnt/resource/batch";
/// `AZ_BATCH_NODE_ROOT_DIR` on sizes without a temp disk.
pub const NODE_ROOT_DIR_NO_TEMP_DISK: &str = "/opt/batch/data";
/// Every node root Batch uses on Linux (DESIGN §7): a path under one of them names a node directory.
pub const NODE_ROOT_DIRS: &[&str] = &[
    NODE_ROOT_DIR,
    NODE_ROOT_DIR_RESOURCE,
    NODE_ROOT_DIR_NO_TEMP_DISK,
];

/// The `containerHostBatchBindMounts` source (`ContainerHostDataPath`) that mounts the directory a
/// Batch variable names; Batch removes the variable when the task's list leaves that source out.
pub fn bind_mount_source_of(variable: &str) -> Option<&'static str> {
    Some(match variable {
        "AZ_BATCH_NODE_SHARED_DIR" => "Shared",
        "AZ_BATCH_NODE_STARTUP_DIR" => "Startup",
        "AZ_BATCH_NODE_MOUNTS_DIR" => "VfsMounts",
        "AZ_BATCH_TASK_DIR" | "AZ_BATCH_TASK_WORKING_DIR" => "Task",
        "AZ_BATCH_JOB_PREP_DIR" | "AZ_BATCH_JOB_PREP_WORKING_DIR" => "JobPrep",
        v if v.starts_with("AZ_BATCH_APP_PACKAGE_") => "Applications",
        _ => return None,
    })
}
/// The uid and gid `--explain-run` shows for a non-admin task user. Batch runs such a task as the pool
/// user `_azbatch` (a task-scope auto-user gets a uid of its own), a non-root uid not documented and
/// not known in advance (DESIGN §7): the rules therefore count only the permission bits for others
/// (see [`EffectiveUser::uid_known`]); this value is a stand-in for the line a user can run.
pub const NONADMIN_ID: u32 = 1000;
/// The PATH runtimes use when the image config sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Job id used in paths when a task is linted without its job.
pub const DEFAULT_JOB_ID: &str = "job";
/// Task id used when the task has none (a command-line lint).
pub const DEFAULT_TASK_ID: &str = "task";

/// What went wrong reading a task.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task file is not JSON of a task shape.
    #[error("{file}: {detail}")]
    Json {
        /// The file, as named by the user, and the task's pointer when the JSON itself was fine.
        file: String,
        /// The field and what is wrong with it (never the value, which may be a secret or huge).
        detail: String,
    },
    /// A task file with no task in it.
    #[error(
        "{0}: no task found (expected a task object, an array of tasks, `{{\"value\": [...]}}` or a job with `jobManagerTask`)"
    )]
    NoTask(String),
    /// A task without `containerSettings`.
    #[error("task `{0}` has no `containerSettings` (it is not a container task)")]
    NotContainerTask(String),
    /// Unbalanced quotes in a command line.
    #[error("commandLine: unbalanced quotes in `{0}`")]
    CommandLineQuoting(String),
    /// Unbalanced quotes in run options.
    #[error("containerRunOptions: unbalanced quotes in `{0}`")]
    RunOptionsQuoting(String),
    /// A flag that needs a value came last.
    #[error("containerRunOptions: `{0}` needs a value")]
    RunOptionsMissingValue(String),
    /// A word that is not a flag: Batch places the image and command line itself.
    #[error(
        "containerRunOptions: `{0}` is not a flag (the image and command line are set elsewhere)"
    )]
    RunOptionsPositional(String),
    /// An enum value Batch does not accept.
    #[error("unknown {what} `{value}` (expected {expected})")]
    UnknownValue {
        /// The property.
        what: &'static str,
        /// The value given.
        value: String,
        /// The accepted values.
        expected: &'static str,
    },
}

/// `containerSettings.workingDirectory`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ContainerWorkingDirectory {
    /// The Batch task working directory (the default): the image WORKDIR is replaced.
    #[default]
    TaskWorkingDirectory,
    /// The image WORKDIR; Batch's resource files are then not in the cwd.
    ContainerImageDefault,
}

/// `autoUser.elevationLevel`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ElevationLevel {
    /// An unprivileged user (the default).
    #[default]
    NonAdmin,
    /// Administrator; root on Linux when the scope is `pool`.
    Admin,
}

/// `autoUser.scope`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum AutoUserScope {
    /// One auto-user shared by every task on the node (the default).
    #[default]
    Pool,
    /// A user of its own per task.
    Task,
}

macro_rules! batch_enum {
    ($ty:ident, $what:literal, $expected:literal, $($text:literal => $variant:ident),+) => {
        impl FromStr for $ty {
            type Err = TaskError;
            /// Accepts data-plane (`camelCase`) and ARM (`PascalCase`) spellings.
            fn from_str(s: &str) -> Result<Self, TaskError> {
                $(if s.eq_ignore_ascii_case($text) { return Ok($ty::$variant); })+
                Err(TaskError::UnknownValue { what: $what, value: s.to_owned(), expected: $expected })
            }
        }
        impl TryFrom<String> for $ty {
            type Error = TaskError;
            fn try_from(s: String) -> Result<Self, TaskError> {
                s.parse()
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($ty::$variant => $text),+ })
            }
        }
    };
}

batch_enum!(ContainerWorkingDirectory, "workingDirectory", "taskWorkingDirectory or containerImageDefault",
    "taskWorkingDirectory" => TaskWorkingDirectory, "containerImageDefault" => ContainerImageDefault);
batch_enum!(ElevationLevel, "elevationLevel", "nonadmin or admin",
    "nonadmin" => NonAdmin, "admin" => Admin);
batch_enum!(AutoUserScope, "scope", "pool or task", "pool" => Pool, "task" => Task);

/// Who the task runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskIdentity {
    /// The auto-user.
    AutoUser {
        /// Pool or task scope.
        scope: AutoUserScope,
        /// Admin or not.
        elevation: ElevationLevel,
    },
    /// A named pool user account.
    Named(String),
}

impl Default for TaskIdentity {
    fn default() -> Self {
        TaskIdentity::AutoUser {
            scope: AutoUserScope::Pool,
            elevation: ElevationLevel::NonAdmin,
        }
    }
}

impl fmt::Display for TaskIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskIdentity::AutoUser { scope, elevation } => {
                write!(f, "auto-user (scope {scope}, elevation {elevation})")
            }
            TaskIdentity::Named(name) => write!(f, "user account `{name}`"),
        }
    }
}

/// A node path Batch bind-mounts into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Path on the node.
    pub source: String,
    /// Path in the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// A container task, everything Batch uses to create its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskContainer {
    /// Task id, as Batch sees it (it names the task's directories on the node).
    pub id: String,
    /// How reports name the task when that is not its id (a task without one, named by its file
    /// and pointer).
    pub name: Option<String>,
    /// Job id (for the paths Batch builds).
    pub job_id: String,
    /// The image reference.
    pub image: String,
    /// The command line as given.
    pub command_line: String,
    /// The command line split like a shell, without expansion.
    pub command_words: Vec<String>,
    /// The parsed run options.
    pub run_options: RunOptions,
    /// Task working directory or the image default.
    pub working_directory: ContainerWorkingDirectory,
    /// The task user.
    pub identity: TaskIdentity,
    /// `containerHostBatchBindMounts`: `None` mounts all of the node root.
    pub bind_mounts: Option<Vec<BindMountJson>>,
    /// `AZ_BATCH_NODE_ROOT_DIR` on the nodes ([`NODE_ROOT_DIR`] unless the pool says otherwise).
    pub node_root: String,
    /// Where resource files land, relative to the task working directory.
    pub resource_files: Vec<String>,
    /// Task environment settings.
    pub environment: Vec<(String, String)>,
}

impl TaskContainer {
    /// How reports name the task: [`TaskContainer::name`], else its id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// A task from its parts (the `lint` command-line flags).
    pub fn new(
        image: &str,
        command_line: &str,
        run_options: &str,
        working_directory: ContainerWorkingDirectory,
        identity: TaskIdentity,
    ) -> Result<TaskContainer, TaskError> {
        let command_words = shlex::split(command_line)
            .ok_or_else(|| TaskError::CommandLineQuoting(command_line.to_owned()))?;
        Ok(TaskContainer {
            id: DEFAULT_TASK_ID.to_owned(),
            name: None,
            job_id: DEFAULT_JOB_ID.to_owned(),
            image: image.to_owned(),
            command_line: command_line.to_owned(),
            command_words,
            run_options: RunOptions::parse(run_options)?,
            working_directory,
            identity,
            bind_mounts: None,
            node_root: NODE_ROOT_DIR.to_owned(),
            resource_files: Vec::new(),
            environment: Vec::new(),
        })
    }

    /// The container task described by a task JSON.
    pub fn from_json(task: &TaskJson) -> Result<TaskContainer, TaskError> {
        let id = task
            .id
            .clone()
            .unwrap_or_else(|| DEFAULT_TASK_ID.to_owned());
        let settings = task
            .container_settings
            .as_ref()
            .ok_or_else(|| TaskError::NotContainerTask(id.clone()))?;
        let identity = match &task.user_identity {
            Some(UserIdentityJson {
                username: Some(name),
                ..
            }) => TaskIdentity::Named(name.clone()),
            Some(UserIdentityJson {
                auto_user: Some(a), ..
            }) => TaskIdentity::AutoUser {
                scope: a.scope,
                elevation: a.elevation_level,
            },
            _ => TaskIdentity::default(),
        };
        let mut container = TaskContainer::new(
            &settings.image_name,
            &task.command_line,
            &settings.container_run_options,
            settings.working_directory,
            identity,
        )?;
        container.id = id;
        container.bind_mounts = settings.container_host_batch_bind_mounts.clone();
        container.resource_files = task
            .resource_files
            .iter()
            .filter_map(|r| r.file_path.clone())
            .collect();
        container.environment = task
            .environment_settings
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        Ok(container)
    }

    /// The uid (and gid) Batch runs the task's container as: root for a pool-scope admin
    /// auto-user, whatever the image `USER`; otherwise the unprivileged task user.
    pub fn batch_uid(&self) -> u32 {
        let root = matches!(
            self.identity,
            TaskIdentity::AutoUser {
                scope: AutoUserScope::Pool,
                elevation: ElevationLevel::Admin
            }
        );
        if root { 0 } else { NONADMIN_ID }
    }

    /// `AZ_BATCH_TASK_DIR` for this task.
    pub fn task_dir(&self) -> String {
        format!(
            "{}/tasks/workitems/{}/job-1/{}",
            self.node_root, self.job_id, self.id
        )
    }

    /// Whether Batch bind-mounts `source` (`Shared`, `Task`, ...) into the container: every source
    /// without `containerHostBatchBindMounts`, the listed ones with it.
    pub fn mounts_source(&self, source: &str) -> bool {
        self.bind_mounts
            .as_ref()
            .is_none_or(|list| list.iter().any(|m| m.source.eq_ignore_ascii_case(source)))
    }

    /// `AZ_BATCH_TASK_WORKING_DIR` for this task.
    pub fn task_working_dir(&self) -> String {
        format!("{}/wd", self.task_dir())
    }

    /// Resolves the task against the image's defaults: the container Batch's `docker create` makes.
    pub fn resolve(&self, image: &ImageDefaults) -> EffectiveContainer {
        let batch_env = self.batch_env();
        // The agent expands variables of the task's environment in the run options.
        let task_env = |name: &str| {
            batch_env
                .iter()
                .chain(&self.environment)
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let opts = &self.run_options.expanded(&task_env);
        // Docker: an --entrypoint on create drops the image CMD too; the command line is the CMD.
        let (entrypoint, entrypoint_source) = match &opts.entrypoint {
            Some(e) if e.is_empty() => (Vec::new(), EntrypointSource::RunOptions),
            Some(e) => (vec![e.clone()], EntrypointSource::RunOptions),
            None if image.entrypoint.is_empty() => (Vec::new(), EntrypointSource::None),
            None => (image.entrypoint.clone(), EntrypointSource::Image),
        };
        let (args, args_source) = if !self.command_words.is_empty() {
            (self.command_words.clone(), ArgsSource::CommandLine)
        } else if opts.entrypoint.is_none() && !image.cmd.is_empty() {
            (image.cmd.clone(), ArgsSource::ImageCmd)
        } else {
            (Vec::new(), ArgsSource::None)
        };
        let image_workdir = if image.working_dir.is_empty() {
            "/".to_owned()
        } else {
            image.working_dir.clone()
        };
        let (cwd, cwd_source) = match (&opts.workdir, self.working_directory) {
            (Some(w), _) => (w.clone(), CwdSource::RunOptions),
            (None, ContainerWorkingDirectory::ContainerImageDefault) => {
                (image_workdir.clone(), CwdSource::ImageWorkdir)
            }
            (None, ContainerWorkingDirectory::TaskWorkingDirectory) => {
                (self.task_working_dir(), CwdSource::TaskWorkingDirectory)
            }
        };
        let user = match &opts.user {
            Some(spec) => EffectiveUser::parse(spec, UserSource::RunOptions),
            None => {
                let id = self.batch_uid();
                EffectiveUser {
                    spec: format!("{id}:{id}"),
                    uid: Some(id),
                    gid: Some(id),
                    groups: Vec::new(),
                    uid_known: id == 0,
                    source: UserSource::Batch,
                }
            }
        };
        let mut env: Vec<(String, String)> = image
            .env
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (kv.clone(), String::new()),
            })
            .collect();
        for (k, v) in batch_env.iter().chain(&self.environment) {
            set_env(&mut env, k, v);
        }
        for kv in &opts.env {
            if let Some((k, v)) = kv.split_once('=') {
                set_env(&mut env, k, v);
            }
        }
        if !env.iter().any(|(k, _)| k == "PATH") {
            env.push(("PATH".to_owned(), DEFAULT_PATH.to_owned()));
        }
        let mut mounts = self.batch_mounts();
        for v in &opts.volumes {
            let parts: Vec<&str> = v.split(':').collect();
            if let [source, target, rest @ ..] = parts.as_slice() {
                mounts.push(Mount {
                    source: (*source).to_owned(),
                    target: (*target).to_owned(),
                    read_only: rest.iter().any(|o| o.split(',').any(|o| o == "ro")),
                });
            }
        }
        let argv: Vec<String> = entrypoint.iter().chain(&args).cloned().collect();
        EffectiveContainer {
            argv,
            entrypoint,
            entrypoint_source,
            args,
            args_source,
            cwd,
            cwd_source,
            image_workdir,
            user,
            env,
            mounts,
            docker_create: self.docker_create_words(&batch_env),
        }
    }

    /// The `AZ_BATCH_*` variables Batch sets for the task: those of the directories it does not
    /// mount are removed.
    fn batch_env(&self) -> Vec<(String, String)> {
        let root = &self.node_root;
        [
            ("AZ_BATCH_NODE_ROOT_DIR", root.clone()),
            ("AZ_BATCH_NODE_SHARED_DIR", format!("{root}/shared")),
            ("AZ_BATCH_NODE_STARTUP_DIR", format!("{root}/startup")),
            ("AZ_BATCH_JOB_ID", self.job_id.clone()),
            ("AZ_BATCH_TASK_ID", self.id.clone()),
            ("AZ_BATCH_TASK_DIR", self.task_dir()),
            ("AZ_BATCH_TASK_WORKING_DIR", self.task_working_dir()),
        ]
        .into_iter()
        .filter(|(k, _)| bind_mount_source_of(k).is_none_or(|s| self.mounts_source(s)))
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The node paths Batch mounts: all of the node root, or the selected parts.
    fn batch_mounts(&self) -> Vec<Mount> {
        let root = &self.node_root;
        let Some(selected) = &self.bind_mounts else {
            return vec![Mount {
                source: root.clone(),
                target: root.clone(),
                read_only: false,
            }];
        };
        selected
            .iter()
            .filter_map(|m| {
                let path = match m.source.to_ascii_lowercase().as_str() {
                    "shared" => format!("{root}/shared"),
                    "startup" => format!("{root}/startup"),
                    "vfsmounts" => format!("{root}/fsmounts"),
                    "task" => self.task_dir(),
                    "jobprep" => format!(
                        "{root}/tasks/workitems/{}/job-1/jobpreparation",
                        self.job_id
                    ),
                    "applications" => format!("{root}/tasks/applications"),
                    _ => return None,
                };
                Some(Mount {
                    source: path.clone(),
                    target: path,
                    read_only: m.is_read_only,
                })
            })
            .collect()
    }

    fn docker_create_words(&self, batch_env: &[(String, String)]) -> Vec<String> {
        let mut w: Vec<String> = vec!["docker".into(), "create".into()];
        w.push(format!("--name={}", self.id));
        if self.working_directory == ContainerWorkingDirectory::TaskWorkingDirectory {
            w.push(format!("--workdir={}", self.task_working_dir()));
        }
        // Always explicit: Batch runs a pool-scope admin as root whatever the image USER says, so
        // a line without `--user` would run the image USER instead. A `--user` in the run options
        // comes later and wins, as with Docker.
        let id = self.batch_uid();
        w.push(format!("--user={id}:{id}"));
        for m in self.batch_mounts() {
            let ro = if m.read_only { ":ro" } else { "" };
            w.push(format!("--volume={}:{}{ro}", m.source, m.target));
        }
        for (k, v) in batch_env.iter().chain(&self.environment) {
            w.push(format!("--env={k}={v}"));
        }
        w.extend(self.run_options.words.iter().cloned());
        w.push(self.image.clone());
        w.extend(self.command_words.iter().cloned());
        w
    }
}

fn set_env(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    match env.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value.to_owned(),
        None => env.push((key.to_owned(), value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(entrypoint: &[&str], cmd: &[&str], workdir: &str) -> ImageDefaults {
        ImageDefaults {
            entrypoint: entrypoint.iter().map(|s| s.to_string()).collect(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            working_dir: workdir.to_owned(),
            user: String::new(),
            env: vec!["PATH=/opt/bin:/usr/bin".into(), "LANG=C".into()],
        }
    }

    fn task(cmd: &str, opts: &str) -> TaskContainer {
        TaskContainer::new(
            "app:1",
            cmd,
            opts,
            ContainerWorkingDirectory::TaskWorkingDirectory,
            TaskIdentity::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_command_line_becomes_arguments_of_the_entrypoint() {
        let c = task("python 'my script.py' $HOME", "").resolve(&image(
            &["/tini", "--"],
            &["serve"],
            "/app",
        ));
        assert_eq!(c.argv, ["/tini", "--", "python", "my script.py", "$HOME"]);
        assert_eq!(c.args_source, ArgsSource::CommandLine);
        assert_eq!(c.cwd, "/mnt/batch/tasks/workitems/job/job-1/task/wd");
        assert_eq!(c.cwd_source, CwdSource::TaskWorkingDirectory);
        assert!(c.cwd_is_mounted());
        assert_eq!(c.image_workdir, "/app");
        assert_eq!(c.user.uid, Some(1000));
    }

    #[test]
    fn an_empty_command_line_runs_the_image_cmd() {
        let c = task("", "").resolve(&image(&["./run.sh"], &["--fast"], "/app"));
        assert_eq!(c.argv, ["./run.sh", "--fast"]);
        assert_eq!(c.args_source, ArgsSource::ImageCmd);
    }

    #[test]
    fn entrypoint_option_replaces_the_entrypoint_and_drops_the_image_cmd() {
        let c = task("", "--entrypoint /bin/app").resolve(&image(&["/init"], &["x"], ""));
        assert_eq!(c.argv, ["/bin/app"]);
        assert_eq!(c.entrypoint_source, EntrypointSource::RunOptions);
        let c = task("python x.py", "--entrypoint ''").resolve(&image(&["/init"], &[], ""));
        assert_eq!(c.argv, ["python", "x.py"]);
    }

    #[test]
    fn workdir_option_and_image_default_keep_the_cwd_in_the_image() {
        let c = task("", "-w /srv").resolve(&image(&[], &["a"], "/app"));
        assert_eq!(
            (c.cwd.as_str(), c.cwd_source),
            ("/srv", CwdSource::RunOptions)
        );
        assert!(!c.cwd_is_mounted());
        let mut t = task("", "");
        t.working_directory = ContainerWorkingDirectory::ContainerImageDefault;
        let c = t.resolve(&image(&[], &["a"], ""));
        assert_eq!(
            (c.cwd.as_str(), c.cwd_source),
            ("/", CwdSource::ImageWorkdir)
        );
    }

    #[test]
    fn variables_in_run_options_are_the_agents_to_expand() {
        let c = task("", "--workdir $AZ_BATCH_TASK_WORKING_DIR/out").resolve(&image(
            &[],
            &["a"],
            "/app",
        ));
        assert_eq!(c.cwd, "/mnt/batch/tasks/workitems/job/job-1/task/wd/out");
        assert_eq!(c.cwd_source, CwdSource::RunOptions);
        assert!(c.cwd_is_mounted());
        let mut t = task("", "-v ${SCRATCH}:/scratch");
        t.environment = vec![("SCRATCH".into(), "/mnt/batch/shared/s".into())];
        assert_eq!(
            t.resolve(&image(&[], &[], "")).mounts[1].source,
            "/mnt/batch/shared/s"
        );
    }

    #[test]
    fn pool_admin_runs_as_root_and_user_option_wins() {
        let mut t = task("", "");
        t.identity = TaskIdentity::AutoUser {
            scope: AutoUserScope::Pool,
            elevation: ElevationLevel::Admin,
        };
        let mut with_user = image(&[], &[], "");
        with_user.user = "1000".into();
        let c = t.resolve(&with_user);
        assert_eq!(c.user.uid, Some(0));
        // The reproduction line says so too: without `--user`, Docker would run the image USER.
        assert!(
            c.docker_create.iter().any(|w| w == "--user=0:0"),
            "{:?}",
            c.docker_create
        );
        t.identity = TaskIdentity::AutoUser {
            scope: AutoUserScope::Task,
            elevation: ElevationLevel::Admin,
        };
        assert_eq!(t.resolve(&image(&[], &[], "")).user.uid, Some(NONADMIN_ID));
        let c = task("", "--user 42").resolve(&image(&[], &[], ""));
        assert_eq!((c.user.uid, c.user.gid), (Some(42), None));
        assert_eq!(c.user.source, UserSource::RunOptions);
    }

    #[test]
    fn environment_layers_image_batch_task_and_run_options() {
        let c = task("", "-e LANG=en_US.UTF-8 -e EXTRA=1").resolve(&image(&[], &[], ""));
        assert_eq!(c.env_var("LANG"), Some("en_US.UTF-8"));
        assert_eq!(c.env_var("EXTRA"), Some("1"));
        assert_eq!(c.path(), "/opt/bin:/usr/bin");
        assert_eq!(
            c.env_var("AZ_BATCH_TASK_WORKING_DIR"),
            Some("/mnt/batch/tasks/workitems/job/job-1/task/wd")
        );
        let mut bare = image(&[], &[], "");
        bare.env.clear();
        assert_eq!(task("", "").resolve(&bare).path(), DEFAULT_PATH);
    }

    #[test]
    fn docker_create_line_reproduces_the_task() {
        let c =
            task("python 'my script.py'", "--rm -v /data:/data:ro").resolve(&image(&[], &[], ""));
        assert_eq!(
            c.docker_create_line(),
            "docker create --name=task --workdir=/mnt/batch/tasks/workitems/job/job-1/task/wd \
             --user=1000:1000 --volume=/mnt/batch:/mnt/batch --env=AZ_BATCH_NODE_ROOT_DIR=/mnt/batch \
             --env=AZ_BATCH_NODE_SHARED_DIR=/mnt/batch/shared --env=AZ_BATCH_NODE_STARTUP_DIR=/mnt/batch/startup \
             --env=AZ_BATCH_JOB_ID=job --env=AZ_BATCH_TASK_ID=task \
             --env=AZ_BATCH_TASK_DIR=/mnt/batch/tasks/workitems/job/job-1/task \
             --env=AZ_BATCH_TASK_WORKING_DIR=/mnt/batch/tasks/workitems/job/job-1/task/wd \
             --rm -v /data:/data:ro app:1 python 'my script.py'"
        );
        assert_eq!(
            c.mounts[1],
            Mount {
                source: "/data".into(),
                target: "/data".into(),
                read_only: true
            }
        );
    }

    #[test]
    fn task_files_hold_one_task_an_array_a_collection_or_a_job_manager() {
        let one = r#"{"id":"t1","commandLine":"/bin/app","containerSettings":{"imageName":"app:1",
            "containerRunOptions":"--workdir /app","workingDirectory":"containerImageDefault"},
            "userIdentity":{"autoUser":{"scope":"pool","elevationLevel":"admin"}},
            "resourceFiles":[{"httpUrl":"https://x/y","filePath":"in/data.csv"}],
            "environmentSettings":[{"name":"MODE","value":"fast"}]}"#;
        let tasks = parse_task_file("t.json", one).unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].pointer, "");
        let t = TaskContainer::from_json(&tasks[0].task).unwrap();
        assert_eq!(t.id, "t1");
        assert_eq!(t.run_options.workdir.as_deref(), Some("/app"));
        assert_eq!(
            t.working_directory,
            ContainerWorkingDirectory::ContainerImageDefault
        );
        assert_eq!(
            t.identity,
            TaskIdentity::AutoUser {
                scope: AutoUserScope::Pool,
                elevation: ElevationLevel::Admin
            }
        );
        assert_eq!(t.resource_files, ["in/data.csv"]);
        assert_eq!(t.environment, [("MODE".to_owned(), "fast".to_owned())]);

        let arr = format!("[{one},{one}]");
        let ptrs: Vec<_> = parse_task_file("a.json", &arr)
            .unwrap()
            .into_iter()
            .map(|t| t.pointer)
            .collect();
        assert_eq!(ptrs, ["/0", "/1"]);
        let coll = format!(r#"{{"value":[{one}]}}"#);
        assert_eq!(
            parse_task_file("c.json", &coll).unwrap()[0].pointer,
            "/value/0"
        );
        let job = format!(r#"{{"id":"j","poolInfo":{{"poolId":"p"}},"jobManagerTask":{one}}}"#);
        assert_eq!(
            parse_task_file("j.json", &job).unwrap()[0].pointer,
            "/jobManagerTask"
        );
    }

    #[test]
    fn task_file_errors_are_one_clear_line() {
        assert_eq!(
            parse_task_file("x.json", r#"{"id":"j"}"#)
                .unwrap_err()
                .to_string(),
            "x.json: no task found (expected a task object, an array of tasks, `{\"value\": [...]}` or a job with `jobManagerTask`)"
        );
        assert_eq!(
            parse_task_file("x.json", "{").unwrap_err().to_string(),
            "x.json: EOF while parsing an object at line 1 column 1"
        );
        let bad = r#"{"commandLine":"a","containerSettings":{"imageName":"i","workingDirectory":"home"}}"#;
        assert_eq!(
            parse_task_file("x.json", bad).unwrap_err().to_string(),
            "x.json: `containerSettings.workingDirectory`: unknown workingDirectory `home` (expected taskWorkingDirectory or containerImageDefault)"
        );
        let arr = format!("[{{}}, {bad}]");
        assert_eq!(
            parse_task_file("x.json", &arr).unwrap_err().to_string(),
            "x.json: task at /1: `containerSettings.workingDirectory`: unknown workingDirectory `home` (expected taskWorkingDirectory or containerImageDefault)"
        );
        let plain = parse_task_file("x.json", r#"{"id":"p","commandLine":"a"}"#).unwrap();
        assert_eq!(
            TaskContainer::from_json(&plain[0].task)
                .unwrap_err()
                .to_string(),
            "task `p` has no `containerSettings` (it is not a container task)"
        );
    }

    #[test]
    fn selected_bind_mounts_replace_the_node_root_mount() {
        let json = r#"{"id":"t","commandLine":"","containerSettings":{"imageName":"i",
            "containerHostBatchBindMounts":[{"source":"Task","isReadOnly":false},{"source":"Shared","isReadOnly":true}]}}"#;
        let t =
            TaskContainer::from_json(&parse_task_file("t.json", json).unwrap()[0].task).unwrap();
        let c = t.resolve(&image(&[], &["x"], "/app"));
        assert_eq!(
            c.mounts,
            [
                Mount {
                    source: "/mnt/batch/tasks/workitems/job/job-1/t".into(),
                    target: "/mnt/batch/tasks/workitems/job/job-1/t".into(),
                    read_only: false
                },
                Mount {
                    source: "/mnt/batch/shared".into(),
                    target: "/mnt/batch/shared".into(),
                    read_only: true
                },
            ]
        );
        assert!(c.cwd_is_mounted());
        assert!(!c.is_mounted("/mnt/batch/startup/x"));
        assert!(!c.is_mounted("/mnt/batch/sharedx"));
        // An empty list mounts nothing: the task working directory is then not the node's.
        let json = json.replace(
            r#"{"source":"Task","isReadOnly":false},{"source":"Shared","isReadOnly":true}"#,
            "",
        );
        let t =
            TaskContainer::from_json(&parse_task_file("t.json", &json).unwrap()[0].task).unwrap();
        let c = t.resolve(&image(&[], &["x"], "/app"));
        assert!(c.mounts.is_empty());
        assert!(!c.cwd_is_mounted());
    }

    proptest::proptest! {
        #[test]
        fn quoted_words_split_back_to_the_same_words(words in proptest::collection::vec(".*", 0..6)) {
            let line = quote_words(&words);
            proptest::prop_assert_eq!(shlex::split(&line).unwrap(), words);
        }
    }

    #[test]
    fn arm_spellings_are_accepted() {
        assert_eq!(
            "TaskWorkingDirectory"
                .parse::<ContainerWorkingDirectory>()
                .unwrap(),
            ContainerWorkingDirectory::TaskWorkingDirectory
        );
        assert_eq!(
            "NonAdmin".parse::<ElevationLevel>().unwrap(),
            ElevationLevel::NonAdmin
        );
    }
}
