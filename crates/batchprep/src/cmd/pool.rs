//! `batchprep pool emit`: the pool from `[pool]` (and `[network]`) of `batchprep.toml`, written for the
//! data-plane REST API, ARM, Bicep or Terraform. Notes about the result go to stderr; the configuration
//! goes to stdout or, atomically, to `--out`.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use batchprep_batch::{
    catalog::Date,
    emit::{self, SecretValues, Surface},
    net::NetworkSpec,
    plan::{PlanContext, PlanError, PoolPlan},
    pool_source::{
        ShipyardJobs, ShipyardSpec, ShipyardTarget, read_shipyard_jobs, read_shipyard_pool,
    },
    spec::{PoolSpec, RegistryAuth, SpecError, line_of},
};

use crate::config::{self, Config};

/// Subcommands of `batchprep pool`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write the pool of `[pool]` for REST, ARM, Bicep or Terraform, with prefetch, registries, the
    /// start task and network settings.
    Emit(EmitArgs),
}

/// Output surface of `pool emit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Data-plane REST body (`BatchPoolCreateOptions`, `az batch pool create --json-file`).
    Rest,
    /// ARM deployment template.
    Arm,
    /// Bicep.
    Bicep,
    /// Terraform `azurerm_batch_pool`.
    Terraform,
}

/// Arguments of `batchprep pool emit`.
#[derive(Debug, clap::Args)]
pub struct EmitArgs {
    /// The spec: a `batchprep.toml` with a `[pool]` section (default: found upward from the current
    /// directory).
    #[arg(value_name = "SPEC")]
    pub spec: Option<PathBuf>,
    /// Write the pool of a Batch Shipyard `pool.yaml` (with the `config.yaml` and `credentials.yaml`
    /// beside it) instead of a spec.
    #[arg(long, value_name = "POOL_YAML", conflicts_with = "spec")]
    pub from_shipyard: Option<PathBuf>,
    /// With --from-shipyard: the Shipyard `jobs.yaml` whose images the pool prefetches too.
    #[arg(long, value_name = "JOBS_YAML", requires = "from_shipyard")]
    pub jobs: Option<PathBuf>,
    /// With --jobs: write the jobs' tasks, as Batch container tasks, to this file (atomically): one
    /// `{"value": [...]}` task collection per job, `{job}` in the name standing for the job id.
    #[arg(long, value_name = "FILE", requires = "jobs")]
    pub tasks_out: Option<PathBuf>,
    /// Output surface.
    #[arg(long, value_enum, default_value_t = Format::Rest)]
    pub format: Format,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write registry passwords in clear, read from the variables named by `password-env`.
    #[arg(long)]
    pub include_secrets: bool,
    /// The date end-of-life checks use (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", hide = true)]
    pub today: Option<String>,
    /// `[pool]` fields given on the command line.
    #[command(flatten)]
    pub fields: PoolFlags,
}

/// `[pool]` fields as flags: each sets (or replaces) the key of the same name, so a pool can be written
/// without a file, or a file's pool varied per environment.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "Pool fields (override [pool])")]
pub struct PoolFlags {
    /// `id`.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// `vm-size`.
    #[arg(long, value_name = "SIZE")]
    pub vm_size: Option<String>,
    /// `image`: `publisher:offer:sku[:version]` or an alias such as `ubuntu-hpc-2404`.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// `dedicated-nodes`.
    #[arg(long, value_name = "N")]
    pub dedicated_nodes: Option<u32>,
    /// `low-priority-nodes`.
    #[arg(long, value_name = "N")]
    pub low_priority_nodes: Option<u32>,
    /// `[pool.autoscale] max-nodes` (replaces fixed node counts).
    #[arg(long, value_name = "N", conflicts_with_all = ["dedicated_nodes", "low_priority_nodes"])]
    pub max_nodes: Option<u32>,
    /// An image to prefetch (repeatable; replaces `images`).
    #[arg(long = "prefetch", value_name = "IMAGE")]
    pub images: Vec<String>,
    /// `data-root`: `auto`, `keep` or an absolute path.
    #[arg(long, value_name = "auto|keep|PATH")]
    pub data_root: Option<String>,
    /// `subnet-id`.
    #[arg(long, value_name = "ID")]
    pub subnet_id: Option<String>,
    /// `public-ip`: `batchmanaged`, `usermanaged` or `nopublicipaddresses`.
    #[arg(long, value_name = "MODE")]
    pub public_ip: Option<String>,
}

impl PoolFlags {
    /// The flags as `[pool]` keys, in spec spelling.
    fn entries(&self) -> Vec<(&'static str, toml::Value)> {
        let mut out: Vec<(&'static str, toml::Value)> = Vec::new();
        let strings = [
            ("id", &self.id),
            ("vm-size", &self.vm_size),
            ("image", &self.image),
            ("data-root", &self.data_root),
            ("subnet-id", &self.subnet_id),
            ("public-ip", &self.public_ip),
        ];
        for (key, value) in strings {
            if let Some(v) = value {
                out.push((key, toml::Value::String(v.clone())));
            }
        }
        for (key, value) in [
            ("dedicated-nodes", self.dedicated_nodes),
            ("low-priority-nodes", self.low_priority_nodes),
        ] {
            if let Some(n) = value {
                out.push((key, toml::Value::Integer(i64::from(n))));
            }
        }
        if let Some(n) = self.max_nodes {
            let mut auto = toml::Table::new();
            auto.insert("max-nodes".into(), toml::Value::Integer(i64::from(n)));
            out.push(("autoscale", toml::Value::Table(auto)));
        }
        if !self.images.is_empty() {
            out.push((
                "images",
                toml::Value::Array(
                    self.images
                        .iter()
                        .cloned()
                        .map(toml::Value::String)
                        .collect(),
                ),
            ));
        }
        out
    }
}

/// The configuration with the flags written into its `[pool]`. Line numbers in errors then refer to
/// the merged document, so it is named `<file> with flags` (or `command-line flags`).
fn with_flags(config: Config, flags: &PoolFlags) -> anyhow::Result<Config> {
    let entries = flags.entries();
    if entries.is_empty() {
        return Ok(config);
    }
    let mut doc: toml::Table = if config.text.is_empty() {
        toml::Table::new()
    } else {
        toml::from_str(&config.text)?
    };
    let pool = doc
        .entry("pool")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(pool) = pool else {
        anyhow::bail!("[pool] is not a table");
    };
    for (key, value) in entries {
        if matches!(key, "dedicated-nodes" | "low-priority-nodes") {
            pool.remove("autoscale");
        }
        if key == "autoscale" {
            pool.remove("dedicated-nodes");
            pool.remove("low-priority-nodes");
        }
        pool.insert(key.to_owned(), value);
    }
    let text = toml::to_string(&doc)?;
    let label = match &config.path {
        Some(p) => format!("{} with flags", p.display()),
        None => "command-line flags".to_owned(),
    };
    Ok(Config {
        path: Some(PathBuf::from(label)),
        file: toml::from_str(&text)?,
        text,
    })
}

/// Runs the command.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Emit(args) => emit_pool(args),
    }
}

fn emit_pool(args: EmitArgs) -> anyhow::Result<ExitCode> {
    let (config, origin, jobs) = match &args.from_shipyard {
        Some(yaml) => {
            let migration = Migration::read(yaml, args.jobs.as_deref())?;
            (
                Config {
                    path: Some(yaml.clone()),
                    file: toml::from_str(&migration.spec.text)?,
                    text: migration.spec.text.clone(),
                },
                Some(migration.spec),
                migration.jobs,
            )
        }
        None => (Config::discover(args.spec.as_deref())?, None, None),
    };
    let task_files = match (&args.tasks_out, &jobs) {
        (Some(out), Some(jobs)) => task_files(out, jobs)?,
        _ => Vec::new(),
    };
    let config = with_flags(config, &args.fields)?;
    let Some(path) = config.path.clone() else {
        anyhow::bail!(
            "no {} found upward from the current directory: give the spec file (batchprep pool emit SPEC) or the pool as flags (--id, --vm-size, --image, ...)",
            config::FILE_NAME
        );
    };
    let today = match &args.today {
        Some(d) => Date::parse(d).context("--today")?,
        None => Date::today(),
    };
    // A line of the spec made from a Shipyard pool is cited as the place in the Shipyard files.
    let at = |line: usize| match origin.as_ref().and_then(|o| o.origin(line)) {
        Some(place) => format!(
            "{}: line {}, column {}",
            place.file.display(),
            place.position.line,
            place.position.column
        ),
        None => format!("{}: line {line}", path.display()),
    };
    let plan = plan_at(&config, &path, today, &at)?;
    let surface = match args.format {
        Format::Rest => Surface::Rest,
        Format::Arm => Surface::Arm,
        Format::Bicep => Surface::Bicep,
        Format::Terraform => Surface::Terraform,
    };
    let secrets = if args.include_secrets {
        Some(read_secrets(&plan)?)
    } else {
        None
    };
    let emitted = emit::emit(&plan, surface, secrets.as_ref());
    match &args.out {
        Some(out) => crate::output_file::write_atomically(out, emitted.text.as_bytes())?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(emitted.text.as_bytes())?;
            stdout.flush()?;
        }
    }
    // The tasks only once the pool they run on could be written.
    for (path, text) in &task_files {
        crate::output_file::write_atomically(path, text.as_bytes())?;
    }
    for note in plan.notes.iter().chain(&emitted.notes) {
        eprintln!("{}", batchprep_oci::safe_text::printable(&note.to_string()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the spec and decides the pool; every spec error is printed, the last one returned.
pub(crate) fn plan_from(config: &Config, path: &Path, today: Date) -> anyhow::Result<PoolPlan> {
    plan_at(config, path, today, &|line| {
        format!("{}: line {line}", path.display())
    })
}

/// [`plan_from`], with `at` naming the place of a spec line in errors.
fn plan_at(
    config: &Config,
    path: &Path,
    today: Date,
    at: &dyn Fn(usize) -> String,
) -> anyhow::Result<PoolPlan> {
    let file = path.display().to_string();
    let cite = |e: &SpecError| format!("{}: {}", at(e.line), e.message);
    let spec = PoolSpec::from_config_text(&config.text, Some(path))
        .map_err(|e| anyhow::anyhow!(cite(&e)))?
        .with_context(|| format!("{file}: has no [pool] section"))?;
    let checked = match spec.check(&config.text, Some(path)) {
        Ok(c) => c,
        Err(mut errors) => {
            let last = errors.pop().expect("a failed check reports an error");
            for e in errors {
                eprintln!("error: {}", batchprep_oci::safe_text::printable(&cite(&e)));
            }
            anyhow::bail!(cite(&last));
        }
    };
    let network = config
        .file
        .network
        .as_ref()
        .map(|t| NetworkSpec::from_table(t, &file))
        .transpose()?;
    let plan = PoolPlan::build(
        &checked,
        PlanContext {
            today,
            network: network.as_ref(),
            file: &file,
        },
    );
    plan.map_err(|e| {
        // Point at the key the problem is about.
        let span = match &e {
            PlanError::UnsupportedSize { .. } => Some(checked.spec.vm_size.span()),
            PlanError::RetiredImage { .. }
            | PlanError::UnknownNodeAgent(_)
            | PlanError::UndocumentedNodeAgent(_)
            | PlanError::WindowsDataRoot(_) => Some(checked.spec.image.span()),
            _ => None,
        };
        match span {
            Some(span) => anyhow::anyhow!("{}: {e}", at(line_of(&config.text, span.start))),
            None => anyhow::anyhow!("{file}: {e}"),
        }
    })
}

/// A Batch Shipyard pool (and its jobs) on its way to being a Batch container pool.
struct Migration {
    spec: ShipyardSpec,
    jobs: Option<ShipyardJobs>,
}

impl Migration {
    /// Reads `pool.yaml` and `jobs.yaml`; an error names the Shipyard file it is in.
    fn read(pool_yaml: &Path, jobs_yaml: Option<&Path>) -> anyhow::Result<Migration> {
        let pool =
            read_shipyard_pool(pool_yaml).map_err(|e| anyhow::anyhow!(e.describe(pool_yaml)))?;
        let jobs = match jobs_yaml {
            Some(path) => {
                let text = crate::input::read(path, "")?;
                // The migrated pool is a container pool: the tasks are Batch container tasks.
                let mut target = ShipyardTarget::of(&pool.pool);
                target.native = true;
                Some(
                    read_shipyard_jobs(path, &text, target)
                        .map_err(|e| anyhow::anyhow!(e.describe(path)))?,
                )
            }
            None => None,
        };
        let mut images: Vec<String> = Vec::new();
        for t in jobs.iter().flat_map(|j| &j.tasks) {
            if let Some(image) = t.body["containerSettings"]["imageName"].as_str()
                && !images.iter().any(|i| i == image)
            {
                images.push(image.to_owned());
            }
        }
        let spec = pool
            .to_spec(&images)
            .map_err(|e| anyhow::anyhow!(e.describe(pool_yaml)))?;
        Ok(Migration { spec, jobs })
    }
}

/// Each job's tasks as a task collection, for `out` (`{job}` replaced by the job id); a file name
/// without `{job}` takes one job only.
fn task_files(out: &Path, jobs: &ShipyardJobs) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut by_job: Vec<(&str, Vec<&serde_json::Value>)> = Vec::new();
    for t in &jobs.tasks {
        match by_job.iter_mut().find(|(id, _)| *id == t.job_id) {
            Some((_, tasks)) => tasks.push(&t.body),
            None => by_job.push((&t.job_id, vec![&t.body])),
        }
    }
    let name = out.to_string_lossy();
    if by_job.len() > 1 && !name.contains("{job}") {
        anyhow::bail!(
            "--tasks-out {}: the jobs file has {} jobs; put `{{job}}` in the file name for one file per job",
            out.display(),
            by_job.len()
        );
    }
    let mut files = Vec::new();
    for (job, tasks) in by_job {
        let path = PathBuf::from(name.replace("{job}", job));
        let mut text = serde_json::to_string_pretty(&serde_json::json!({ "value": tasks }))?;
        text.push('\n');
        files.push((path, text));
    }
    Ok(files)
}

/// The passwords, from the variables the spec names; a missing one is an error naming the variable.
fn read_secrets(plan: &PoolPlan) -> anyhow::Result<SecretValues> {
    let mut values = SecretValues::new();
    for r in &plan.prefetch.registries {
        if let RegistryAuth::Password { password_env, .. } = &r.auth {
            let value = std::env::var(password_env).map_err(|_| {
                anyhow::anyhow!(
                    "--include-secrets: environment variable {password_env} (the password for {}) is not set",
                    r.server
                )
            })?;
            values.insert(password_env.clone(), value);
        }
    }
    Ok(values)
}
