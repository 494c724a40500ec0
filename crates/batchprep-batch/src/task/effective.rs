//! The container `docker create` really starts for a task on an image: argv, working directory,
//! user, environment and mounts, with where each came from.

use batchprep_oci::user_db::UserLookup;

use super::{DEFAULT_PATH, Mount, quote_words};

/// What the image config contributes to the container (the OCI config's `Entrypoint`, `Cmd`,
/// `WorkingDir`, `User`, `Env`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageDefaults {
    /// ENTRYPOINT.
    pub entrypoint: Vec<String>,
    /// CMD.
    pub cmd: Vec<String>,
    /// WORKDIR; empty when unset.
    pub working_dir: String,
    /// USER; Batch replaces it with the task user.
    pub user: String,
    /// ENV as `KEY=value`.
    pub env: Vec<String>,
}

/// Where the ENTRYPOINT came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntrypointSource {
    /// The image config.
    Image,
    /// `--entrypoint` in the run options.
    RunOptions,
    /// There is none.
    None,
}

/// Where the arguments after the ENTRYPOINT came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgsSource {
    /// The task command line.
    CommandLine,
    /// The image CMD (empty command line).
    ImageCmd,
    /// There are none.
    None,
}

/// Where the working directory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CwdSource {
    /// Batch's task working directory, a bind mount from the node: none of the image's files are there.
    TaskWorkingDirectory,
    /// `--workdir` in the run options.
    RunOptions,
    /// The image WORKDIR (`workingDirectory: containerImageDefault`).
    ImageWorkdir,
}

/// Where the user came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    /// Batch's task user.
    Batch,
    /// `--user` in the run options.
    RunOptions,
}

/// The user the container process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveUser {
    /// As it would be passed to `--user`.
    pub spec: String,
    /// Numeric uid, when known without the image's `/etc/passwd`.
    pub uid: Option<u32>,
    /// Numeric gid, when known.
    pub gid: Option<u32>,
    /// Supplementary gids (a named `--user`'s groups in the image's `/etc/group`).
    pub groups: Vec<u32>,
    /// Whether `uid` and `gid` are the ids the task really gets. `false` for Batch's non-admin task
    /// user, a non-root uid chosen on the node: `uid`/`gid` are then [`NONADMIN_ID`](super::NONADMIN_ID), a stand-in,
    /// and only "others" permission bits are certain to apply.
    pub uid_known: bool,
    /// Where it came from.
    pub source: UserSource,
}

impl EffectiveUser {
    pub(super) fn parse(spec: &str, source: UserSource) -> EffectiveUser {
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let id = |s: &str| if s == "root" { Some(0) } else { s.parse().ok() };
        let uid = id(user);
        EffectiveUser {
            spec: spec.to_owned(),
            uid_known: uid.is_some(),
            uid,
            // Without a group, docker uses the user's primary group; root's is 0.
            gid: group.map_or(if uid == Some(0) { Some(0) } else { None }, id),
            groups: Vec::new(),
            source,
        }
    }

    /// The user with the ids the image's user database gives it, as Moby resolves a `--user` from
    /// the run options when it starts the container (a name becomes its entry's uid and gid, a
    /// bare uid gets its entry's group, or 0). Batch's own user stays as it is: its ids are given
    /// as numbers, and a non-admin's are not known in advance.
    pub fn resolved_in_image(mut self, lookup: &UserLookup) -> EffectiveUser {
        if let (UserSource::RunOptions, UserLookup::Resolved(ids)) = (self.source, lookup) {
            self.uid = Some(ids.uid);
            self.gid = Some(ids.gid);
            self.groups = ids.supplementary_gids.clone();
            self.uid_known = true;
        }
        self
    }
}

/// The container `docker create` starts for a task on an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveContainer {
    /// The process: ENTRYPOINT then arguments.
    pub argv: Vec<String>,
    /// The effective ENTRYPOINT.
    pub entrypoint: Vec<String>,
    /// Where it came from.
    pub entrypoint_source: EntrypointSource,
    /// The arguments after it.
    pub args: Vec<String>,
    /// Where they came from.
    pub args_source: ArgsSource,
    /// The working directory.
    pub cwd: String,
    /// Where it came from.
    pub cwd_source: CwdSource,
    /// The image WORKDIR (`/` when unset).
    pub image_workdir: String,
    /// The user.
    pub user: EffectiveUser,
    /// The environment, in order.
    pub env: Vec<(String, String)>,
    /// Bind mounts.
    pub mounts: Vec<Mount>,
    /// The `docker create` command Batch runs, as words.
    pub docker_create: Vec<String>,
}

impl EffectiveContainer {
    /// The value of an environment variable.
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The PATH the runtime searches for a bare program name.
    pub fn path(&self) -> &str {
        self.env_var("PATH").unwrap_or(DEFAULT_PATH)
    }

    /// Whether the cwd is a path whose contents come from a node bind mount, not from the image.
    pub fn cwd_is_mounted(&self) -> bool {
        self.is_mounted(&self.cwd)
    }

    /// Whether `path` in the container lies under a bind mount.
    pub fn is_mounted(&self, path: &str) -> bool {
        self.mounts.iter().any(|m| {
            let t = m.target.trim_end_matches('/');
            path == t || path.starts_with(&format!("{t}/"))
        })
    }

    /// The `docker create` line, quoted for a POSIX shell.
    pub fn docker_create_line(&self) -> String {
        quote_words(&self.docker_create)
    }
}
