//! Container rules: how an image meets the Batch task that runs it. Every rule reads one
//! [`ContainerFacts`]: the image (config, platform, merged filesystem), the task, and the effective
//! container Batch's `docker create` starts (resolved once by `batchprep-batch`). No I/O.

use batchprep_batch::task::{
    ArgsSource, CwdSource, EffectiveContainer, ImageDefaults, TaskContainer,
};
use batchprep_oci::{
    Entry, EntryKind, Image, ImageConfig, Layer, MergedFs, Platform, Resolved, exec::ElfFacts,
    fs::normalise, user_db::UserLookup,
};

use crate::{
    Finding,
    rules::{Fact, Rule, TaskField},
};

pub mod bare_shell_entrypoint;
pub mod batch_path_not_mounted;
pub mod docker_in_container;
pub mod elf_architecture_mismatch;
pub mod elf_loader_missing;
pub mod entrypoint_swallows_command_line;
pub mod env_split_string_unsupported;
pub mod exec_format_error;
pub mod executable_not_found;
pub mod gpus_run_option;
pub mod not_executable_by_task_user;
pub mod nothing_to_run;
pub mod platform_mismatch;
pub mod redundant_rm_option;
pub mod relative_entrypoint;
pub mod relative_workdir_option;
pub mod runtime_run_option;
pub mod shared_library_missing;
pub mod shebang_argument_split;
pub mod shebang_crlf;
pub mod shebang_interpreter_missing;
pub mod shell_form_entrypoint;
pub mod unexpanded_variable;
pub mod unknown_run_option;
pub mod user_not_in_image;
pub mod workdir_not_a_directory;
pub mod workdir_relative_argument;

/// A container rule: its identity and its check.
#[derive(Clone, Copy)]
pub struct ContainerRule {
    /// The rule.
    pub rule: Rule,
    pub(crate) check: Check,
    /// Models Linux exec (program lookup, modes, `#!`): skipped for Windows images.
    pub linux_only: bool,
}

type Check = fn(&ContainerFacts<'_>, &mut Vec<Finding>);

/// Every container rule, in id order; each module is listed once, here.
pub const RULES: &[ContainerRule] = &[
    ContainerRule {
        rule: relative_entrypoint::RULE,
        check: relative_entrypoint::check,
        linux_only: true,
    },
    ContainerRule {
        rule: workdir_relative_argument::RULE,
        check: workdir_relative_argument::check,
        linux_only: true,
    },
    ContainerRule {
        rule: executable_not_found::RULE,
        check: executable_not_found::check,
        linux_only: true,
    },
    ContainerRule {
        rule: not_executable_by_task_user::RULE,
        check: not_executable_by_task_user::check,
        linux_only: true,
    },
    ContainerRule {
        rule: shebang_interpreter_missing::RULE,
        check: shebang_interpreter_missing::check,
        linux_only: true,
    },
    ContainerRule {
        rule: shebang_crlf::RULE,
        check: shebang_crlf::check,
        linux_only: true,
    },
    ContainerRule {
        rule: nothing_to_run::RULE,
        check: nothing_to_run::check,
        linux_only: false,
    },
    ContainerRule {
        rule: entrypoint_swallows_command_line::RULE,
        check: entrypoint_swallows_command_line::check,
        linux_only: false,
    },
    ContainerRule {
        rule: platform_mismatch::RULE,
        check: platform_mismatch::check,
        linux_only: false,
    },
    ContainerRule {
        rule: gpus_run_option::RULE,
        check: gpus_run_option::check,
        linux_only: false,
    },
    ContainerRule {
        rule: runtime_run_option::RULE,
        check: runtime_run_option::check,
        linux_only: false,
    },
    ContainerRule {
        rule: redundant_rm_option::RULE,
        check: redundant_rm_option::check,
        linux_only: false,
    },
    ContainerRule {
        rule: relative_workdir_option::RULE,
        check: relative_workdir_option::check,
        linux_only: false,
    },
    ContainerRule {
        rule: unexpanded_variable::RULE,
        check: unexpanded_variable::check,
        linux_only: false,
    },
    ContainerRule {
        rule: exec_format_error::RULE,
        check: exec_format_error::check,
        linux_only: true,
    },
    ContainerRule {
        rule: elf_architecture_mismatch::RULE,
        check: elf_architecture_mismatch::check,
        linux_only: true,
    },
    ContainerRule {
        rule: elf_loader_missing::RULE,
        check: elf_loader_missing::check,
        linux_only: true,
    },
    ContainerRule {
        rule: shared_library_missing::RULE,
        check: shared_library_missing::check,
        linux_only: true,
    },
    ContainerRule {
        rule: shebang_argument_split::RULE,
        check: shebang_argument_split::check,
        linux_only: true,
    },
    ContainerRule {
        rule: env_split_string_unsupported::RULE,
        check: env_split_string_unsupported::check,
        linux_only: true,
    },
    ContainerRule {
        rule: workdir_not_a_directory::RULE,
        check: workdir_not_a_directory::check,
        linux_only: true,
    },
    ContainerRule {
        rule: bare_shell_entrypoint::RULE,
        check: bare_shell_entrypoint::check,
        linux_only: true,
    },
    ContainerRule {
        rule: shell_form_entrypoint::RULE,
        check: shell_form_entrypoint::check,
        linux_only: true,
    },
    ContainerRule {
        rule: unknown_run_option::RULE,
        check: unknown_run_option::check,
        linux_only: false,
    },
    ContainerRule {
        rule: docker_in_container::RULE,
        check: docker_in_container::check,
        linux_only: false,
    },
    ContainerRule {
        rule: batch_path_not_mounted::RULE,
        check: batch_path_not_mounted::check,
        linux_only: true,
    },
    ContainerRule {
        rule: user_not_in_image::RULE,
        check: user_not_in_image::check,
        linux_only: true,
    },
];

/// Everything the container rules read.
pub struct ContainerFacts<'a> {
    /// What findings are about (`image oci:app:1`, `task render-1 (oci:app:1)`).
    pub subject: String,
    /// The image config.
    pub config: &'a ImageConfig,
    /// The image's platform.
    pub platform: &'a Platform,
    /// The image's layers (to name the one that removed a file).
    pub layers: &'a [Layer],
    /// The merged filesystem.
    pub fs: &'a MergedFs,
    /// The platform of the pool's nodes.
    pub node: &'a Platform,
    /// The task.
    pub task: &'a TaskContainer,
    /// The container Batch creates (a `--user` with the ids the image gives it).
    pub run: EffectiveContainer,
    /// What Moby makes of the container's user with the image's `/etc/passwd` and `/etc/group`.
    pub user_lookup: UserLookup,
    /// Whether the image was read. Without it only the rules that need just the task run, and
    /// `config`, `platform`, `layers` and `fs` are empty.
    pub image_read: bool,
    /// Run options the user says the node agent accepts beyond the known set
    /// (`[node-agent] accepted-run-options`).
    pub accepted_run_options: &'a [String],
}

/// The image's defaults, as the Batch model takes them.
pub fn image_defaults(config: &ImageConfig) -> ImageDefaults {
    ImageDefaults {
        entrypoint: config.entrypoint.clone().unwrap_or_default(),
        cmd: config.cmd.clone().unwrap_or_default(),
        working_dir: config.working_dir.clone().unwrap_or_default(),
        user: config.user.clone().unwrap_or_default(),
        env: config.env.clone(),
    }
}

/// The subject findings about `task` on `image` carry: the image as the user named it.
pub fn subject(image_source: &str, task: &TaskContainer) -> String {
    match &task.name {
        Some(name) => format!("task {name} ({image_source})"),
        None if task.id == batchprep_batch::task::DEFAULT_TASK_ID => {
            format!("image {image_source}")
        }
        None => format!("task {} ({image_source})", task.id),
    }
}

impl<'a> ContainerFacts<'a> {
    /// The facts of `task` running `image` on nodes of platform `node`.
    pub fn new(image: &'a Image, task: &'a TaskContainer, node: &'a Platform) -> Self {
        Self::of_parts(
            &image.config,
            &image.platform,
            &image.layers,
            &image.fs,
            task,
            node,
        )
    }

    /// The facts of `task` running an image given by its parts.
    pub fn of_parts(
        config: &'a ImageConfig,
        platform: &'a Platform,
        layers: &'a [Layer],
        fs: &'a MergedFs,
        task: &'a TaskContainer,
        node: &'a Platform,
    ) -> Self {
        let mut run = task.resolve(&image_defaults(config));
        let user_lookup = batchprep_oci::user_db::resolve(fs, &run.user.spec);
        run.user = run.user.resolved_in_image(&user_lookup);
        ContainerFacts {
            subject: subject(&task.image, task),
            config,
            platform,
            layers,
            fs,
            node,
            task,
            run,
            user_lookup,
            image_read: true,
            accepted_run_options: &[],
        }
    }

    /// The same facts, with run options the node agent accepts beyond the known set.
    pub fn accepting(mut self, run_options: &'a [String]) -> Self {
        self.accepted_run_options = run_options;
        self
    }

    /// The facts of `task` when its image could not be read: the rules that need only the task
    /// (run options, command line) still run.
    pub fn without_image(task: &'a TaskContainer, node: &'a Platform) -> Self {
        static CONFIG: std::sync::LazyLock<ImageConfig> =
            std::sync::LazyLock::new(ImageConfig::default);
        static PLATFORM: std::sync::LazyLock<Platform> =
            std::sync::LazyLock::new(Platform::default);
        static FS: std::sync::LazyLock<MergedFs> = std::sync::LazyLock::new(MergedFs::default);
        ContainerFacts {
            subject: subject(&task.image, task),
            config: &CONFIG,
            platform: &PLATFORM,
            layers: &[],
            fs: &FS,
            node,
            task,
            run: task.resolve(&ImageDefaults::default()),
            user_lookup: UserLookup::Unknown,
            image_read: false,
            accepted_run_options: &[],
        }
    }

    /// A finding of `rule` about this task, pointing at the task field the rule is about.
    pub(crate) fn finding(&self, rule: Rule, message: impl Into<String>) -> Finding {
        let field = rule.field().map(|f| match f {
            TaskField::Program => self.program_field(),
            other => other,
        });
        let finding = Finding::new(rule, self.subject.clone(), message);
        match field {
            Some(field) => finding.about(field),
            None => finding,
        }
    }

    /// The task field the program the container starts comes from.
    pub fn program_field(&self) -> TaskField {
        use batchprep_batch::task::EntrypointSource;
        match self.run.entrypoint_source {
            EntrypointSource::Image if !self.run.entrypoint.is_empty() => TaskField::ImageName,
            EntrypointSource::RunOptions if !self.run.entrypoint.is_empty() => {
                TaskField::ContainerRunOptions
            }
            _ => match self.run.args_source {
                ArgsSource::CommandLine => TaskField::CommandLine,
                _ => TaskField::ImageName,
            },
        }
    }

    /// The program the container starts, as the runtime finds it.
    pub(crate) fn program(&self) -> Program {
        let Some(name) = self.run.argv.first() else {
            return Program::None;
        };
        // `$VAR/prog` is never expanded (unexpanded-variable says so); what it names is unknown.
        if name.contains('$') {
            return Program::OutsideImage;
        }
        if name.starts_with('/') {
            if self.run.is_mounted(name) {
                return Program::OutsideImage;
            }
            return Program::Path(self.lookup(name));
        }
        if name.contains('/') {
            if self.run.cwd_is_mounted() {
                return Program::RelativeToMount;
            }
            return Program::Path(self.lookup(&join(&self.run.cwd, name)));
        }
        match self.fs.which(name, self.run.path()) {
            Some(path) => Program::Path(self.lookup(&path)),
            None => Program::NotOnPath,
        }
    }

    /// What is at `path` in the image.
    pub(crate) fn lookup(&self, path: &str) -> Lookup {
        let resolution = self.fs.resolve(path);
        match resolution.outcome {
            Resolved::Found { path: real } => match self.fs.entry(&real) {
                Some(entry) => Lookup::Found {
                    asked: normalise(path),
                    real,
                    entry,
                },
                None => Lookup::Missing {
                    asked: normalise(path),
                    removed_by: None,
                },
            },
            Resolved::Missing { path: missing } => Lookup::Missing {
                asked: normalise(path),
                removed_by: self
                    .fs
                    .removed_by(&missing)
                    .map(|layer| (missing.clone(), layer)),
            },
            Resolved::NotADirectory { path: file } => Lookup::NotADirectory {
                asked: normalise(path),
                file,
            },
            Resolved::Loop => Lookup::Loop {
                asked: normalise(path),
            },
        }
    }

    /// `layer N (sha256:0123456789ab)`, naming a layer for people.
    pub(crate) fn layer_name(&self, layer: usize) -> String {
        match self.layers.get(layer) {
            Some(l) => {
                let short = l
                    .digest
                    .split_once(':')
                    .map_or(l.digest.as_str(), |(_, hex)| hex);
                format!("layer {} ({})", layer + 1, &short[..short.len().min(12)])
            }
            None => format!("layer {}", layer + 1),
        }
    }

    /// How the task can keep the image WORKDIR as its working directory.
    pub(crate) fn keep_workdir_fix(&self) -> String {
        format!(
            "add `--workdir {}` to containerRunOptions or set `workingDirectory: containerImageDefault`",
            self.run.image_workdir
        )
    }

    /// Where the working directory comes from, for messages.
    pub(crate) fn cwd_phrase(&self) -> String {
        match self.run.cwd_source {
            CwdSource::TaskWorkingDirectory => {
                format!("the task working directory `{}`", self.run.cwd)
            }
            CwdSource::RunOptions => format!("`{}` (from `--workdir`)", self.run.cwd),
            CwdSource::ImageWorkdir => format!("the image WORKDIR `{}`", self.run.cwd),
        }
    }
}

/// What the container's program is.
pub(crate) enum Program {
    /// argv is empty.
    None,
    /// A relative path with a `/`, and the cwd is a node mount: nothing from the image is there.
    RelativeToMount,
    /// An absolute path under a node mount, or one with an unexpanded `$`: not checkable in the image.
    OutsideImage,
    /// A bare name not found on PATH.
    NotOnPath,
    /// A path in the image, and what is there.
    Path(Lookup),
}

/// What a path in the image leads to.
pub(crate) enum Lookup {
    /// It exists.
    Found {
        /// The path as asked, normalised.
        asked: String,
        /// The real path after symlinks.
        real: String,
        /// Its metadata.
        entry: Entry,
    },
    /// Nothing there; `removed_by` names the path a later layer's whiteout removed, and the layer.
    Missing {
        /// The path as asked.
        asked: String,
        /// What a whiteout or opaque directory removed, and in which layer.
        removed_by: Option<(String, usize)>,
    },
    /// A component on the way is a file.
    NotADirectory {
        /// The path as asked.
        asked: String,
        /// The file in the way.
        file: String,
    },
    /// A symlink loop.
    Loop {
        /// The path as asked.
        asked: String,
    },
}

impl Lookup {
    /// The regular file it found, if any.
    pub(crate) fn file(&self) -> Option<(&str, &Entry)> {
        match self {
            Lookup::Found { real, entry, .. } if entry.kind == EntryKind::File => {
                Some((real.as_str(), entry))
            }
            _ => None,
        }
    }
}

/// `dir/name`, normalised.
pub(crate) fn join(dir: &str, name: &str) -> String {
    normalise(&format!("{dir}/{name}"))
}

/// A script's `#!` line: interpreter and optional argument, and whether it ends in `\r`.
pub(crate) struct Shebang {
    /// The raw line after `#!`, without the final `\n`, lossily decoded.
    pub line: String,
    /// Ends in a carriage return.
    pub crlf: bool,
    /// The interpreter path.
    pub interpreter: String,
    /// The rest of the line (one argument for the kernel).
    pub argument: Option<String>,
}

/// The task's program when it is a script whose `#!` line runs `env` with an argument: its real
/// path, the line, and that argument (what the `env` rules judge).
pub(crate) fn env_shebang(f: &ContainerFacts<'_>) -> Option<(String, Shebang, String)> {
    let Program::Path(Lookup::Found { real, entry, .. }) = f.program() else {
        return None;
    };
    let entry = &entry;
    let sb = shebang(entry)?;
    if sb.crlf || sb.interpreter.rsplit('/').next() != Some("env") {
        return None;
    }
    let arg = sb.argument.clone()?;
    Some((real.to_string(), sb, arg))
}

/// The `#!` line of an executable file, when it has one.
pub(crate) fn shebang(entry: &Entry) -> Option<Shebang> {
    let first = entry.first_line.as_deref()?;
    let rest = first.strip_prefix(b"#!")?;
    let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
    let line = String::from_utf8_lossy(rest).into_owned();
    let crlf = line.ends_with('\r');
    let body = line.trim_end_matches('\r').trim_matches([' ', '\t']);
    let (interpreter, argument) = match body.split_once([' ', '\t']) {
        Some((i, a)) => (i.to_owned(), Some(a.trim_matches([' ', '\t']).to_owned())),
        None => (body.to_owned(), None),
    };
    Some(Shebang {
        line,
        crlf,
        interpreter,
        argument: argument.filter(|a| !a.is_empty()),
    })
}

/// The ELF file exec ends up loading for the program: the program itself, or the interpreter of its
/// `#!` line (of the interpreter's, up to the kernel's four levels), with its exec facts; `None`
/// when that is not an ELF file the image reader captured.
pub(crate) fn exec_elf<'a>(f: &ContainerFacts<'a>) -> Option<(String, &'a ElfFacts)> {
    let Program::Path(lookup) = f.program() else {
        return None;
    };
    let (real, entry) = lookup.file()?;
    let (mut real, mut entry) = (real.to_owned(), entry.clone());
    for _ in 0..4 {
        let Some(sb) = shebang(&entry) else {
            break;
        };
        if sb.crlf || !sb.interpreter.starts_with('/') {
            return None;
        }
        let (r, e) = f.fs.resolve_entry(&sb.interpreter)?;
        (real, entry) = (r, e);
    }
    let fs: &'a MergedFs = f.fs;
    fs.elf(&real).map(|elf| (real, elf))
}

/// A file's first bytes for messages: at most 16, escaped, in a code span.
pub(crate) fn first_bytes(start: &[u8]) -> String {
    let line = start.split(|&b| b == b'\n').next().unwrap_or(start);
    let shown = &line[..line.len().min(16)];
    format!("`{}`", shown.escape_ascii())
}

/// Formats a mode as `0644`.
pub(crate) fn mode(m: u32) -> String {
    format!("{:04o}", m & 0o7777)
}

/// Runs every container rule whose facts are there: without the image, the rules that need only
/// the task; for a Windows image, all but the Linux-only ones.
pub fn lint_container(facts: &ContainerFacts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let linux = facts.platform.os == "linux";
    for rule in RULES {
        if rule.rule.needs_fact(Fact::Image) && !facts.image_read {
            continue;
        }
        if rule.linux_only && !linux {
            continue;
        }
        (rule.check)(facts, &mut out);
    }
    out
}

/// Lints `task` running `image` on nodes of platform `node`.
pub fn lint_task(image: &Image, task: &TaskContainer, node: &Platform) -> Vec<Finding> {
    lint_container(&ContainerFacts::new(image, task, node))
}

#[cfg(test)]
mod tests;
