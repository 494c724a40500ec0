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
    spec::{PoolSpec, RegistryAuth, line_of},
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
}

/// Runs the command.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Emit(args) => emit_pool(args),
    }
}

fn emit_pool(args: EmitArgs) -> anyhow::Result<ExitCode> {
    let config = Config::discover(args.spec.as_deref())?;
    let Some(path) = config.path.clone() else {
        anyhow::bail!(
            "no {} found upward from the current directory: give the spec file (batchprep pool emit SPEC)",
            config::FILE_NAME
        );
    };
    let today = match &args.today {
        Some(d) => Date::parse(d).context("--today")?,
        None => Date::today(),
    };
    let plan = plan_from(&config, &path, today)?;
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
        Some(out) => write_atomically(out, emitted.text.as_bytes())?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(emitted.text.as_bytes())?;
            stdout.flush()?;
        }
    }
    for note in plan.notes.iter().chain(&emitted.notes) {
        eprintln!("{note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the spec and decides the pool; every spec error is printed, the last one returned.
pub(crate) fn plan_from(config: &Config, path: &Path, today: Date) -> anyhow::Result<PoolPlan> {
    let file = path.display().to_string();
    let spec = PoolSpec::from_config_text(&config.text, Some(path))?
        .with_context(|| format!("{file}: has no [pool] section"))?;
    let checked = match spec.check(&config.text, Some(path)) {
        Ok(c) => c,
        Err(mut errors) => {
            let last = errors.pop().expect("a failed check reports an error");
            for e in errors {
                eprintln!("error: {e}");
            }
            return Err(last.into());
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
            | PlanError::WindowsDataRoot(_) => Some(checked.spec.image.span()),
            _ => None,
        };
        match span {
            Some(span) => {
                anyhow::anyhow!("{file}: line {}: {e}", line_of(&config.text, span.start))
            }
            None => anyhow::anyhow!("{file}: {e}"),
        }
    })
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

/// Writes `path` through a temporary file in the same directory, so nothing half-written is left.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(plain)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| plain(e.error))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// tempfile's errors name its random temporary path; the user only knows the one they asked for.
fn plain(e: std::io::Error) -> std::io::Error {
    e.raw_os_error()
        .map_or_else(|| e.kind().into(), std::io::Error::from_raw_os_error)
}
