//! `batchprep lint`: opens each image, resolves each task against it into the container Batch's
//! `docker create` starts, and runs the container rules. `--explain-run` prints that container
//! instead, so a person can reproduce the task locally.

use std::{fmt::Write as _, io::Write as _, path::PathBuf, process::ExitCode};

use anyhow::Context;
use batchprep_batch::task::{
    ArgsSource, AutoUserScope, ContainerWorkingDirectory, CwdSource, EffectiveContainer,
    ElevationLevel, EntrypointSource, TaskContainer, TaskError, TaskIdentity, UserSource,
    quote_words,
};
use batchprep_lint::rules::{artifact::not_a_container_image, container::ContainerFacts};
use batchprep_oci::Platform;
use batchprep_preflight::{
    Task,
    containers::{ContainerJob, ContainerLint},
    tasks::{TaskTarget, read_tasks},
};
use serde_json::json;

use crate::{findings_args::FindingsArgs, report::Extra};

/// Arguments of `batchprep lint`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Images: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF], or a \
reference mapped to a local image in batchprep.toml [images.local]."
)]
pub struct Args {
    /// Images to lint. With --task: at most one, used instead of each task's imageName.
    #[arg(value_name = "IMAGE")]
    images: Vec<String>,
    /// The task command line (split like a shell, without expansion).
    #[arg(long, value_name = "STR", default_value = "", conflicts_with = "task")]
    command_line: String,
    /// The task's containerRunOptions.
    #[arg(
        long,
        value_name = "STR",
        default_value = "",
        allow_hyphen_values = true,
        conflicts_with = "task"
    )]
    container_run_options: String,
    /// The task's containerSettings.workingDirectory.
    #[arg(long, value_name = "WHERE", default_value = "taskWorkingDirectory", value_parser = parse_working_directory, conflicts_with = "task")]
    working_directory: ContainerWorkingDirectory,
    /// The auto-user's elevation level.
    #[arg(long, value_name = "LEVEL", default_value = "nonadmin", value_parser = parse_elevation, conflicts_with = "task")]
    elevation: ElevationLevel,
    /// The auto-user's scope.
    #[arg(long, value_name = "SCOPE", default_value = "pool", value_parser = parse_scope, conflicts_with = "task")]
    scope: AutoUserScope,
    /// Batch task JSON (a task, an array of tasks, `{"value": [...]}`, or a job with a jobManagerTask),
    /// or a Batch Shipyard `jobs.yaml` (its tasks as on a native container pool).
    #[arg(long, value_name = "FILE")]
    task: Vec<PathBuf>,
    /// The platform of the pool's nodes.
    #[arg(
        long,
        value_name = "OS/ARCH",
        default_value = "linux/amd64",
        visible_alias = "platform"
    )]
    node_platform: String,
    /// Print the container Batch would create (docker create line, argv, cwd, user) instead of linting.
    #[arg(long)]
    explain_run: bool,
    /// For registry images, read every layer instead of the layer-index cache.
    #[arg(long)]
    no_cache: bool,
    /// Registry transport and credentials.
    #[command(flatten)]
    registry: crate::cmd::registry::RegistryArgs,
    #[command(flatten)]
    findings: FindingsArgs,
}

fn parse_working_directory(s: &str) -> Result<ContainerWorkingDirectory, String> {
    s.parse()
        .map_err(|e: batchprep_batch::task::TaskError| e.to_string())
}
fn parse_elevation(s: &str) -> Result<ElevationLevel, String> {
    s.parse()
        .map_err(|e: batchprep_batch::task::TaskError| e.to_string())
}
fn parse_scope(s: &str) -> Result<AutoUserScope, String> {
    s.parse()
        .map_err(|e: batchprep_batch::task::TaskError| e.to_string())
}

/// Runs the command.
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let config = args.findings.load_config()?;
    args.registry.with_config(&config)?;
    let access = args.registry.access(args.no_cache)?;
    let node: Platform = args
        .node_platform
        .parse()
        .with_context(|| "--node-platform".to_owned())?;
    // `lint` is the container part of `check`: the same task reader, Shipyard jobs as on a native
    // container pool.
    let tasks = read_tasks(&args.task, TaskTarget::native_linux())?;
    let jobs = jobs(&args, &tasks)?;
    // The same mapping as `check`: keys are normalised references, paths relative to the config file.
    let local = config.local_images(&[])?;
    let mut human = String::new();
    let mut containers = Vec::new();
    let findings = ContainerLint {
        node: &node,
        local: &local,
        access: &access,
        accepted_run_options: config.accepted_run_options(),
    }
    .run(&jobs, &mut |facts| {
        if args.explain_run {
            explain(&mut human, facts);
        }
        containers.push(container_json(facts));
    })?;
    if args.explain_run {
        // An artifact given as an image holds no container to explain.
        if let Some(artifact) = findings
            .iter()
            .find(|f| f.name == not_a_container_image::RULE.name())
        {
            anyhow::bail!("{}", artifact.message);
        }
        let mut out = std::io::stdout().lock();
        if matches!(args.findings.format, crate::report::Format::Json) {
            serde_json::to_writer_pretty(
                &mut out,
                &json!({ "version": 1, "containers": containers }),
            )?;
            writeln!(out)?;
        } else {
            out.write_all(human.as_bytes())?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut extra = Extra::default();
    extra.json.insert("containers".into(), containers.into());
    args.findings.finish(&config, findings, &extra)
}

/// The tasks to lint: from task files, or one per image from the flags.
fn jobs<'a>(args: &Args, tasks: &'a [Task]) -> anyhow::Result<Vec<ContainerJob<'a>>> {
    if args.task.is_empty() {
        if args.images.is_empty() {
            anyhow::bail!("nothing to lint: give an IMAGE or --task FILE");
        }
        let identity = TaskIdentity::AutoUser {
            scope: args.scope,
            elevation: args.elevation,
        };
        return args
            .images
            .iter()
            .map(|image| {
                let task = TaskContainer::new(
                    image,
                    &args.command_line,
                    &args.container_run_options,
                    args.working_directory,
                    identity.clone(),
                )?;
                Ok(ContainerJob {
                    task,
                    image: image.clone(),
                    place: None,
                })
            })
            .collect();
    }
    if args.images.len() > 1 {
        anyhow::bail!("with --task, give at most one IMAGE (it replaces each task's imageName)");
    }
    tasks
        .iter()
        .map(|t| {
            let Some(container) = &t.container else {
                anyhow::bail!(
                    "{}: {}",
                    t.place.file.display.display(),
                    TaskError::NotContainerTask(t.pool_task.id.clone())
                );
            };
            let mut task = container.clone();
            // An IMAGE on the command line stands in for every task's imageName.
            if let Some(image) = args.images.first() {
                task.image = image.clone();
            }
            Ok(ContainerJob {
                image: task.image.clone(),
                task,
                place: Some(&t.place),
            })
        })
        .collect()
}

fn container_json(f: &ContainerFacts<'_>) -> serde_json::Value {
    let run = &f.run;
    json!({
        "subject": f.subject,
        "image": f.task.image,
        "task": f.task.display_name(),
        "argv": run.argv,
        "cwd": run.cwd,
        "user": run.user.spec,
        "docker_create": run.docker_create_line(),
    })
}

/// The human `--explain-run` text of one container.
fn explain(out: &mut String, f: &ContainerFacts<'_>) {
    let run: &EffectiveContainer = &f.run;
    let entrypoint = match run.entrypoint_source {
        EntrypointSource::Image => {
            format!("ENTRYPOINT {} from the image", quote_words(&run.entrypoint))
        }
        EntrypointSource::RunOptions if run.entrypoint.is_empty() => {
            "ENTRYPOINT cleared by `--entrypoint ''`".to_owned()
        }
        EntrypointSource::RunOptions => {
            format!(
                "ENTRYPOINT {} from `--entrypoint`",
                quote_words(&run.entrypoint)
            )
        }
        EntrypointSource::None => "no ENTRYPOINT".to_owned(),
    };
    let args = match run.args_source {
        ArgsSource::CommandLine => "arguments from the task command line",
        ArgsSource::ImageCmd => "arguments from the image CMD (empty command line)",
        ArgsSource::None => "no arguments",
    };
    let cwd = match run.cwd_source {
        CwdSource::TaskWorkingDirectory => "the task working directory; the image WORKDIR is",
        CwdSource::RunOptions => "from `--workdir`; the image WORKDIR is",
        CwdSource::ImageWorkdir => "workingDirectory: containerImageDefault; the image WORKDIR is",
    };
    let user = match run.user.source {
        UserSource::Batch if !run.user.uid_known => format!(
            "{}; a stand-in: Batch picks a non-root uid on the node, so only permission bits for others count",
            f.task.identity
        ),
        UserSource::Batch => f.task.identity.to_string(),
        UserSource::RunOptions => "from `--user`".to_owned(),
    };
    let argv: Vec<String> = run.argv.iter().map(|a| format!("{a:?}")).collect();
    let _ = writeln!(out, "{}", f.subject);
    let _ = writeln!(out, "  docker create: {}", run.docker_create_line());
    let _ = writeln!(out, "  argv: [{}] ({entrypoint}, {args})", argv.join(", "));
    let _ = writeln!(out, "  cwd: {} ({cwd} {})", run.cwd, run.image_workdir);
    let _ = writeln!(out, "  user: {} ({user})", run.user.spec);
    let _ = writeln!(out, "  PATH: {}", run.path());
    for m in &run.mounts {
        let ro = if m.read_only { " (read-only)" } else { "" };
        let _ = writeln!(out, "  mount: {} -> {}{ro}", m.source, m.target);
    }
    let _ = writeln!(out);
}
