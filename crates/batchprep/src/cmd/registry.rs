//! `batchprep registry check IMAGE...`: can each image be pulled with the credentials the pool will
//! use, and will Docker Hub let the pool pull its images at its size?
//!
//! The probe (`batchprep_oci::registry`) gathers the facts, the registry rules turn them into
//! findings, and the shared findings flags render them. An outcome the probe could not decide
//! (`unreachable`, `tls-error`, `error`) makes the run exit 2.

use std::{fmt::Write as _, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use batchprep_lint::rules::registry::{self as rules, PoolPulls};
use batchprep_oci::{
    Reference,
    registry::{
        Credential, CredentialPaths, CredentialStore, Outcome, ProbeOptions, ProbeResult, Secret,
        hub,
        image::{RegistryAccess, default_cache_dir},
    },
};

use crate::{findings_args::FindingsArgs, report::Extra};

/// Subcommands of `batchprep registry`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Probe pull access for each image (without spending Docker Hub pulls) and the Docker Hub
    /// rate-limit risk of a pool of N nodes.
    Check(CheckArgs),
}

/// Credential and transport flags for anything that talks to registries.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Credentials for every registry probed, `USER:PASSWORD` (prefer --password-stdin).
    #[arg(long, value_name = "USER:PASSWORD", conflicts_with_all = ["username", "password_stdin"])]
    pub creds: Option<String>,
    /// Username; the password (or token) is read from stdin with --password-stdin.
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the password for --username from stdin.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// A containers `auth.json` to read credentials from instead of `REGISTRY_AUTH_FILE` and the
    /// default locations (as skopeo's and podman's `--authfile`); Docker's config is still read after it.
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// A directory of extra CA certificates (`*.crt`, `*.pem`, and `<dir>/<host>/` as in Docker's
    /// certs.d) to trust besides the system roots.
    #[arg(long, value_name = "DIR", env = "BATCHPREP_CERT_DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Allow plain HTTP or unverified TLS for this registry host (`host` or `host:port`); repeatable.
    #[arg(
        long,
        value_name = "HOST",
        env = "BATCHPREP_INSECURE_REGISTRIES",
        value_delimiter = ','
    )]
    pub insecure_registry: Vec<String>,
    /// Per-request timeout, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Where Docker Hub's registry API is reached (a pull-through mirror, or a test server).
    #[arg(long, value_name = "HOST", hide = true, default_value = batchprep_oci::reference::DOCKER_HUB_API_HOST)]
    pub docker_hub_host: String,
}

impl RegistryArgs {
    /// Adds the `[registry]` settings of `config` under these flags and environment variables
    /// (flags > environment > config): the insecure hosts add up, the first cert dir wins.
    pub fn with_config(
        &mut self,
        config: &crate::config::Config,
    ) -> anyhow::Result<RegistryConfig> {
        // A password on the command line is a secret of this run before any registry is asked.
        if let Some((_, password)) = self.creds.as_deref().and_then(|c| c.split_once(':')) {
            batchprep_oci::safe_text::remember_secret(password);
        }
        let settings = RegistryConfig::from_config(config)?;
        for host in &settings.insecure_registries {
            if !self.insecure_registry.contains(host) {
                self.insecure_registry.push(host.clone());
            }
        }
        if self.cert_dir.is_none() {
            self.cert_dir.clone_from(&settings.cert_dir);
        }
        Ok(settings)
    }

    /// How to read images from registries with these settings (`no_cache`: every layer again).
    pub fn access(&self, no_cache: bool) -> anyhow::Result<RegistryAccess> {
        Ok(self.access_with(Arc::new(self.credentials()?), no_cache))
    }

    /// [`RegistryArgs::access`] with the credentials already resolved (`check` reads each image
    /// with the credentials its registry was probed with).
    pub fn access_with(&self, credentials: Arc<CredentialStore>, no_cache: bool) -> RegistryAccess {
        RegistryAccess {
            credentials,
            insecure_registries: self.insecure_registry.clone(),
            cert_dir: self.cert_dir.clone(),
            cache_dir: if no_cache
                || std::env::var_os("BATCHPREP_NO_CACHE").is_some_and(|v| !v.is_empty())
            {
                None
            } else {
                default_cache_dir()
            },
            timeout: Duration::from_secs(self.timeout.max(1)),
            docker_hub_host: self.docker_hub_host.clone(),
        }
    }

    /// The credential store: these flags first, then auth.json and Docker's config.
    pub fn credentials(&self) -> anyhow::Result<CredentialStore> {
        let explicit = self.explicit_credential()?;
        let mut paths = CredentialPaths::from_env();
        if let Some(file) = &self.authfile {
            // Named on purpose: a file that is not there is a mistake, not "no credentials".
            std::fs::metadata(file)
                .map_err(|e| anyhow::anyhow!("--authfile {}: {e}", file.display()))?;
            paths.registry_auth_file = Some(file.clone());
        }
        Ok(CredentialStore::load(&paths, explicit)?)
    }

    /// The credential of `--creds` or `--username`/`--password-stdin`, resolved once per run:
    /// standard input is read the first time and the answer kept for every registry after.
    fn explicit_credential(&self) -> anyhow::Result<Option<Credential>> {
        static RESOLVED: std::sync::OnceLock<Option<Credential>> = std::sync::OnceLock::new();
        if let Some(resolved) = RESOLVED.get() {
            return Ok(resolved.clone());
        }
        let explicit = match (&self.creds, &self.username) {
            (Some(creds), _) => {
                let (user, password) = creds
                    .split_once(':')
                    .filter(|(u, _)| !u.is_empty())
                    .context("--creds must be USER:PASSWORD")?;
                Some(Credential::from_flags(user, Secret::new(password)))
            }
            (None, Some(user)) => {
                let password = crate::input::read_stdin("--password-stdin")?;
                let password = password.trim_end_matches(['\n', '\r']).to_owned();
                if password.is_empty() {
                    bail!("--password-stdin: stdin was empty");
                }
                Some(Credential::from_flags(user.clone(), Secret::new(password)))
            }
            (None, None) => None,
        };
        Ok(RESOLVED.get_or_init(|| explicit).clone())
    }

    /// Probe options from these flags.
    pub fn probe_options(&self, verbose: bool) -> ProbeOptions {
        let log: Option<batchprep_oci::registry::probe::Log> = if verbose {
            Some(Arc::new(|line: &str| eprintln!("batchprep: {line}")))
        } else {
            None
        };
        ProbeOptions {
            insecure_registries: self.insecure_registry.clone(),
            cert_dir: self.cert_dir.clone(),
            timeout: Duration::from_secs(self.timeout.max(1)),
            docker_hub_host: self.docker_hub_host.clone(),
            log,
            ..ProbeOptions::default()
        }
    }
}

/// `registry check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Image references (`ubuntu:24.04`, `docker://myacr.azurecr.io/app:1.0`).
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
    /// Nodes in the pool (dedicated plus low-priority, or the autoscale maximum) [default: 1].
    #[arg(long, value_name = "N")]
    pub nodes: Option<u64>,
    /// Distinct egress addresses the nodes pull through (1 behind one NAT gateway; BatchManaged
    /// public IPs give one per 100 nodes) [default: 1].
    #[arg(long, value_name = "K")]
    pub egress_ips: Option<u64>,
    /// Architectures pulled per image.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub architectures: u64,
    /// Docker Hub pulls per address per 6 hours, instead of what Docker Hub reports.
    #[arg(long, value_name = "N")]
    pub hub_limit: Option<u64>,
    /// References probed at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub findings: FindingsArgs,
}

/// Runs the command.
pub fn run(command: Command, verbose: bool) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check(args, verbose),
    }
}

/// Parses `docker://REF` or a bare `REF`.
pub fn parse_reference(arg: &str) -> anyhow::Result<Reference> {
    let bare = arg.strip_prefix("docker://").unwrap_or(arg);
    Ok(Reference::parse(bare)?)
}

/// `[registry]` in `batchprep.toml`; command-line flags win.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistryConfig {
    /// Hosts allowed plain HTTP or unverified TLS.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// Extra CA certificates (relative to the configuration file).
    pub cert_dir: Option<PathBuf>,
    /// Nodes in the pool.
    pub nodes: Option<u64>,
    /// Egress addresses the nodes pull through.
    pub egress_ips: Option<u64>,
    /// Docker Hub pulls per address per 6 hours.
    pub hub_limit: Option<u64>,
}

impl RegistryConfig {
    /// Parses the `[registry]` table of `config`.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<RegistryConfig> {
        let Some(table) = &config.file.registry else {
            return Ok(RegistryConfig::default());
        };
        let file = config
            .path
            .as_ref()
            .map_or_else(|| "batchprep.toml".to_owned(), |p| p.display().to_string());
        let mut parsed: RegistryConfig = table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("{file}: [registry]: {}", e.message()))?;
        if let (Some(dir), Some(base)) = (
            &parsed.cert_dir,
            config.path.as_ref().and_then(|p| p.parent()),
        ) {
            parsed.cert_dir = Some(base.join(dir));
        }
        Ok(parsed)
    }
}

fn check(mut args: CheckArgs, verbose: bool) -> anyhow::Result<ExitCode> {
    let config = args.findings.load_config()?;
    let settings = args.registry.with_config(&config)?;
    // Bad input is reported before anything is sent.
    let references = args
        .images
        .iter()
        .map(|i| parse_reference(i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    args.findings.policy(&config)?;
    let credentials = args.registry.credentials()?;
    let mut options = args.registry.probe_options(verbose);
    options.concurrency = args.concurrency.max(1);
    let pool = PoolPulls {
        nodes: args.nodes.or(settings.nodes).unwrap_or(1),
        egress_addresses: args.egress_ips.or(settings.egress_ips).unwrap_or(1),
        architectures: args.architectures,
        quota_override: args.hub_limit.or(settings.hub_limit),
    };
    let (results, outcome) =
        batchprep_preflight::check_references(&references, credentials, options, pool)?;
    let risk = rules::hub_risk(&results, pool);
    let mut extra = Extra {
        human: human(&results),
        errors: outcome.errors,
        ..Extra::default()
    };
    extra
        .json
        .insert("images".into(), serde_json::to_value(&results)?);
    if let Some(risk) = &risk {
        extra.json.insert(
            "docker_hub".into(),
            serde_json::json!({
                "images": risk.images,
                "nodes": risk.pool.nodes,
                "egress_addresses": risk.pool.egress_addresses,
                "architectures": risk.pool.architectures,
                "pulls_per_address": risk.pulls_per_address,
                "quota": risk.quota,
                "quota_basis": format!("{:?}", risk.basis).to_lowercase(),
                "window_secs": hub::WINDOW_SECS,
                "authenticated": risk.authenticated,
            }),
        );
    }
    args.findings.finish(&config, outcome.findings, &extra)
}

/// The per-image facts, for the `human` format.
fn human(results: &[ProbeResult]) -> String {
    let mut s = String::new();
    for r in results {
        let _ = writeln!(s, "{}", r.reference);
        let _ = writeln!(s, "  outcome:    {}", r.outcome);
        if let Some(d) = &r.digest {
            let _ = writeln!(s, "  digest:     {d}");
        }
        if r.outcome == Outcome::Pullable {
            let platforms = if !r.platforms.is_empty() {
                r.platforms.join(", ")
            } else if r.is_docker_hub() {
                "not read (a Docker Hub manifest GET counts as a pull)".to_owned()
            } else {
                "unknown".to_owned()
            };
            let _ = writeln!(s, "  platforms:  {platforms}");
        }
        let _ = writeln!(s, "  auth:       {}", r.auth);
        if let Some(rl) = &r.rate_limit {
            let n = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
            let window = rl
                .window_secs
                .map(|w| format!(" per {} h", w / 3600))
                .unwrap_or_default();
            let source = rl
                .source
                .as_deref()
                .map(|s| format!(" (counted against {s})"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  rate limit: {} of {} pulls left{window}{source}",
                n(rl.remaining),
                n(rl.limit)
            );
        }
        if let Some(d) = &r.detail {
            let _ = writeln!(s, "  detail:     {d}");
        }
    }
    s
}
