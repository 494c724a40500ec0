//! `batchprep net check`: Docker's bridge and address pools against the networks a pool must reach.
//!
//! Ranges come from `[network]` in `batchprep.toml` and from the flags (range flags add to the file's
//! lists; `--bip` and `--default-address-pools` replace the file's values). The analysis and the
//! suggestion are `batchprep_batch::net`; the findings are the `network` rules.

use std::{collections::HashSet, fmt::Write as _, process::ExitCode};

use anyhow::Context;
use batchprep_batch::net::{
    AddressPool, DockerSettings, NetAnalysis, NetworkRange, NetworkSpec, RangeKind, Suggestion,
    analyze, parse_cidr,
};

use crate::{findings_args::FindingsArgs, report::Extra};

/// Subcommands of `batchprep net`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Find where docker0 and Docker's address pools overlap the pool's VNet, peered and on-premises
    /// ranges, and print a `bip` and `default-address-pools` that fit (the daemon.json fragment).
    Check(CheckArgs),
}

/// Arguments of `batchprep net check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// An address space of the pool's VNet (repeatable; adds to `[network] vnet`).
    #[arg(long, value_name = "CIDR")]
    pub vnet: Vec<String>,
    /// An address space of a peered VNet (repeatable; adds to `[network] peered`).
    #[arg(long, value_name = "CIDR")]
    pub peered: Vec<String>,
    /// An on-premises range reached through a gateway (repeatable; adds to `[network] on-prem`).
    #[arg(long = "on-prem", value_name = "CIDR")]
    pub on_prem: Vec<String>,
    /// docker0's current `bip`, when the node sets one (replaces `[network] bip`; default: Docker's,
    /// the first network of the first pool, 172.17.0.0/16).
    #[arg(long, value_name = "CIDR")]
    pub bip: Option<String>,
    /// The node's current pools, comma-separated `BASE/SIZE` (`10.10.0.0/16/24`) or Docker's
    /// `base=10.10.0.0/16,size=24` (repeatable; replaces `[network] default-address-pools`;
    /// default: Docker's built-in pools).
    #[arg(long, value_name = "BASE/SIZE,...")]
    pub default_address_pools: Vec<String>,
    /// Output and policy flags.
    #[command(flatten)]
    pub findings: FindingsArgs,
}

/// Runs the command.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = args.findings.load_config()?;
    let file = config.path.as_deref().map_or_else(
        || crate::config::FILE_NAME.to_owned(),
        |p| p.display().to_string(),
    );
    let spec = match &config.file.network {
        Some(table) => NetworkSpec::from_table(table, &file)?,
        None => NetworkSpec::default(),
    };

    let mut ranges = spec.ranges(&file)?;
    for (kind, values) in [
        (RangeKind::Vnet, &args.vnet),
        (RangeKind::Peered, &args.peered),
        (RangeKind::OnPrem, &args.on_prem),
    ] {
        let flag = format!("--{}", kind.key());
        for value in values {
            ranges.push(NetworkRange::parse(kind, value, &flag)?);
        }
    }
    // The same range in the file and on the command line is one range.
    let mut seen = HashSet::new();
    ranges.retain(|r| seen.insert((r.kind, r.given)));
    if ranges.is_empty() {
        anyhow::bail!(
            "no network ranges to check: give --vnet, --peered or --on-prem, or list them under [network] in {}",
            crate::config::FILE_NAME
        );
    }

    let mut docker = spec.docker_settings(&file)?;
    if let Some(bip) = &args.bip {
        docker.bip = Some(parse_cidr(bip, "--bip")?);
    }
    if !args.default_address_pools.is_empty() {
        docker.default_address_pools = Some(parse_pools(&args.default_address_pools)?);
    }

    let analysis = analyze(&ranges, &docker);
    let findings = batchprep_lint::rules::network::check(&analysis);
    let extra = Extra {
        human: human(&ranges, &docker, &analysis),
        json: json(&analysis).context("rendering the suggestion")?,
        incomplete: false,
    };
    args.findings.finish(&config, findings, &extra)
}

/// `--default-address-pools` values: each a comma-separated list of `BASE/SIZE`, or one Docker-style
/// `base=...,size=...`.
fn parse_pools(values: &[String]) -> anyhow::Result<Vec<AddressPool>> {
    let mut pools = Vec::new();
    for value in values {
        if value.contains('=') {
            pools.push(AddressPool::parse(value, "--default-address-pools")?);
        } else {
            for part in value.split(',').filter(|p| !p.trim().is_empty()) {
                pools.push(AddressPool::parse(part.trim(), "--default-address-pools")?);
            }
        }
    }
    Ok(pools)
}

/// What was checked, the notes, then the suggestion and its daemon.json fragment.
fn human(ranges: &[NetworkRange], docker: &DockerSettings, analysis: &NetAnalysis) -> String {
    let count = |kind| ranges.iter().filter(|r| r.kind == kind).count();
    let pools = docker.effective_pools();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Checked {} range{} ({} VNet, {} peered, {} on-premises) against docker0 {} and {} default address pool{} ({}).",
        ranges.len(),
        if ranges.len() == 1 { "" } else { "s" },
        count(RangeKind::Vnet),
        count(RangeKind::Peered),
        count(RangeKind::OnPrem),
        docker
            .effective_bridge()
            .map(|b| b.to_string())
            .unwrap_or_default(),
        pools.len(),
        if pools.len() == 1 { "" } else { "s" },
        if docker
            .default_address_pools
            .as_ref()
            .is_some_and(|p| !p.is_empty())
        {
            "as given"
        } else {
            "Docker's defaults"
        },
    );
    for note in &analysis.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out.push('\n');
    match (&analysis.suggestion, analysis.overlaps.is_empty()) {
        (_, true) => {
            out.push_str("No overlap: Docker's current settings are clear of every range; daemon.json needs no change.\n\n");
        }
        (Ok(s), false) => {
            let _ = writeln!(
                out,
                "Suggested Docker settings (merge into /etc/docker/daemon.json, then restart Docker):"
            );
            out.push_str(&daemon_json_fragment(s));
        }
        (Err(no_room), false) => {
            let _ = writeln!(out, "No room: {no_room}.\n");
        }
    }
    out
}

/// The fragment as JSON, one pool per line so long pool lists stay readable.
fn daemon_json_fragment(s: &Suggestion) -> String {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"bip\": {},", serde_json::json!(s.bip.to_string()));
    out.push_str("  \"default-address-pools\": [\n");
    for (i, p) in s.default_address_pools.iter().enumerate() {
        let comma = if i + 1 < s.default_address_pools.len() {
            ","
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    {{ \"base\": {}, \"size\": {} }}{comma}",
            serde_json::json!(p.base.to_string()),
            p.size
        );
    }
    out.push_str("  ]\n}\n\n");
    out
}

/// `suggestion` (null when there is no room, with `no_room` saying why) and `notes`.
fn json(analysis: &NetAnalysis) -> serde_json::Result<serde_json::Map<String, serde_json::Value>> {
    let mut map = serde_json::Map::new();
    match &analysis.suggestion {
        Ok(s) => {
            map.insert("suggestion".into(), serde_json::to_value(s)?);
        }
        Err(no_room) => {
            map.insert("suggestion".into(), serde_json::Value::Null);
            map.insert("no_room".into(), no_room.reason.clone().into());
        }
    }
    let notes = analysis
        .notes
        .iter()
        .map(|n| {
            let mut v = serde_json::to_value(n)?;
            if let Some(obj) = v.as_object_mut() {
                obj.insert("message".into(), n.to_string().into());
            }
            Ok(v)
        })
        .collect::<serde_json::Result<Vec<_>>>()?;
    map.insert("notes".into(), notes.into());
    Ok(map)
}
