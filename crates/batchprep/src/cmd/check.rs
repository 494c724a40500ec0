//! `batchprep check`: the whole pre-flight of a pool and its tasks, for CI.
//!
//! Reads the pool (data-plane JSON, ARM template, Batch CLI template, Terraform, Bicep, Shipyard, or
//! the `[pool]` spec) and the task files, hands them to the pre-flight (`batchprep-preflight`), and
//! renders its outcome, fixing what it can with `--fix`.

use std::{path::PathBuf, process::ExitCode};

use crate::fix_args::FixArgs;
use anyhow::bail;
use batchprep_batch::{
    catalog::Date,
    pool::{PoolDefinition, parse_pools},
};
use batchprep_oci::{Platform, registry::CredentialStore};
use batchprep_preflight::{
    Preflight, PullCounts, RegistrySettings, SourceFile, Task,
    source::fix_sources,
    tasks::{TaskTarget, nodes_platform, read_tasks},
};

use crate::{
    cmd::registry::RegistryArgs, config::Config, findings_args::FindingsArgs,
    network_args::NetworkArgs, report::Extra,
};

/// Arguments of `batchprep check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pool: a data-plane pool JSON, an ARM or Batch CLI template, Terraform (a `.tf` file, a
    /// directory of them, or `terraform show -json` output), Bicep, or a Batch Shipyard `pool.yaml`.
    /// Default: the `[pool]` spec of `batchprep.toml`.
    #[arg(value_name = "POOL")]
    pub pool: Option<PathBuf>,
    /// A task file: one task, an array of tasks, or a job with a `jobManagerTask` (repeatable).
    #[arg(long = "task", value_name = "FILE")]
    pub tasks: Vec<PathBuf>,
    /// Read this image reference from a local image instead of the registry (repeatable), e.g.
    /// `--local myacr.azurecr.io/app:1.0=oci:build/app:1.0`. Adds to `[images.local]`.
    #[arg(long = "local", value_name = "REF=TRANSPORT:PATH")]
    pub local: Vec<String>,
    /// No network: registry checks are reported as skipped, never as passed.
    #[arg(long)]
    pub offline: bool,
    /// Node count for the Docker Hub risk (default: the pool's fixed size).
    #[arg(long, value_name = "N")]
    pub nodes: Option<u64>,
    /// Public addresses the pool's pulls leave from (default: from the pool's public IP mode).
    #[arg(long, value_name = "K")]
    pub egress_ips: Option<u64>,
    /// Read every registry layer again instead of using the layer-index cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Docker Hub pulls per address per 6 hours, instead of what Docker Hub reports.
    #[arg(long, value_name = "N")]
    pub hub_limit: Option<u64>,
    /// Registry transport, and stand-in credentials for registries whose pool credentials are not in
    /// the file (a managed identity, or a password passed as a template parameter).
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Platform of the pool's nodes [default: the pool's: linux/arm64 for an Arm64 VM size or
    /// node image, else linux/amd64].
    #[arg(long, value_name = "OS/ARCH", visible_alias = "platform")]
    pub node_platform: Option<String>,
    /// The day support windows are measured from (`YYYY-MM-DD`; default today).
    #[arg(long, value_name = "DATE", hide = true, env = "BATCHPREP_TODAY")]
    pub today: Option<String>,
    /// Network ranges for the bridge check.
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Output and policy flags.
    #[command(flatten)]
    pub findings: FindingsArgs,
    /// Fixing flags.
    #[command(flatten)]
    pub fix: FixArgs,
}

/// Runs the command.
pub fn run(mut args: Args, verbose: bool) -> anyhow::Result<ExitCode> {
    let config = args.findings.load_config()?;
    let settings = args.registry.with_config(&config)?;
    let today = match &args.today {
        Some(d) => Date::parse(d).map_err(|e| anyhow::anyhow!("--today: {e}"))?,
        None => Date::today(),
    };
    let flag_platform: Option<Platform> = args
        .node_platform
        .as_deref()
        .map(|p| {
            p.parse()
                .map_err(|e| anyhow::anyhow!("--node-platform `{p}`: {e}"))
        })
        .transpose()?;
    let local = config.local_images(&args.local)?;

    let (pool_file, pools) = read_pools(args.pool.as_deref(), &config, today)?;
    let node = flag_platform.unwrap_or_else(|| nodes_platform(&pools));
    let tasks = read_tasks(&args.tasks, TaskTarget::of_pools(&pools))?;
    // Everything is read and valid before any check runs: bad input is exit 2 with nothing reported.
    let network = args.network.gather(&config)?;
    // What --fix edits (and SARIF's fixes point into), as read now: a file that changes while the
    // checks run is not touched. Read for every check: which edits `fixable` promises depends on
    // the text of a Terraform, Bicep or YAML file.
    let sources = fix_sources(files(&pool_file, &tasks))?;

    let local_credentials = || -> anyhow::Result<CredentialStore> { args.registry.credentials() };
    let registry = (!args.offline).then(|| RegistrySettings {
        probe: args.registry.probe_options(verbose),
        access: args.registry.access_with(
            std::sync::Arc::new(CredentialStore::anonymous()),
            args.no_cache,
        ),
        local_credentials: &local_credentials,
    });
    let locate_network = |findings: &mut [batchprep_lint::Finding],
                          analysis: &batchprep_batch::net::NetAnalysis| {
        crate::network_args::locate_findings(findings, analysis, &config)
    };
    let outcome = Preflight {
        pool_file: &pool_file,
        pools: &pools,
        tasks: &tasks,
        node: &node,
        local: &local,
        registry,
        // The pool says how many nodes pull and through which addresses; `[registry]`'s counts are
        // `registry check`'s, which has no pool. Docker Hub's limit is the same for both.
        pulls: PullCounts {
            nodes: args.nodes,
            egress_addresses: args.egress_ips,
            hub_limit: args.hub_limit.or(settings.hub_limit),
        },
        network: network.as_ref(),
        locate_network: &locate_network,
        today,
        accepted_run_options: config.accepted_run_options(),
    }
    .run()?;

    let mut json_extra = serde_json::Map::new();
    json_extra.insert("checks".into(), serde_json::Value::Object(outcome.checks));
    let mut extra = Extra {
        human: outcome.summary + "\n",
        json: json_extra,
        errors: outcome.errors,
        fixes: Vec::new(),
    };
    let mut report = args.findings.policy(&config)?.apply(outcome.findings);
    crate::fix_args::keep_applicable_edits(&mut report, &sources);
    if !args.fix.requested() {
        if args.findings.wants_sarif() {
            extra.fixes = crate::fix_args::sarif_fixes(&report, &sources);
        }
        return args.findings.emit(&report, &extra);
    }
    let report = args.fix.apply(report, &sources)?;
    if args.findings.wants_sarif() {
        // What is left to fix, against the files as they are now.
        let now = if args.fix.diff {
            sources
        } else {
            fix_sources(files(&pool_file, &tasks))?
        };
        extra.fixes = crate::fix_args::sarif_fixes(&report, &now);
    }
    args.findings.emit_to(&report, &extra, !args.fix.diff)
}

/// The pool file and the task files, which findings point into.
fn files<'a>(pool: &'a SourceFile, tasks: &'a [Task]) -> impl Iterator<Item = &'a SourceFile> {
    std::iter::once(pool).chain(tasks.iter().map(|t| &*t.place.file))
}

fn read_pools(
    path: Option<&std::path::Path>,
    config: &Config,
    today: Date,
) -> anyhow::Result<(SourceFile, Vec<PoolDefinition>)> {
    let Some(path) = path else {
        // No pool file: the `[pool]` spec, as `pool emit --format rest` would write it.
        let (Some(spec_path), Some(_)) = (&config.path, &config.file.pool) else {
            bail!(
                "no pool given: pass a pool JSON or ARM template, or put a [pool] spec in {}",
                crate::config::FILE_NAME
            );
        };
        let plan = crate::cmd::pool::plan_from(config, spec_path, today)?;
        let body = batchprep_batch::emit::emit(&plan, batchprep_batch::emit::Surface::Rest, None);
        let pools = parse_pools(&body.text)
            .map_err(|e| anyhow::anyhow!("{}: [pool]: {e}", spec_path.display()))?;
        let line = config
            .text
            .lines()
            .position(|l| l.trim() == "[pool]")
            .map_or(1, |i| i as u32 + 1);
        return Ok((SourceFile::generated(spec_path, line), pools));
    };
    SourceFile::read_pools(path)
}
