//! `batchprep net check`: Docker's bridge and address pools against the networks a pool must reach.
//!
//! Ranges come from `[network]` in `batchprep.toml` and from the flags (range flags add to the file's
//! lists; `--bip` and `--default-address-pools` replace the file's values). The analysis and the
//! suggestion are `batchprep_batch::net`; the findings are the `network` rules.

use std::{fmt::Write as _, process::ExitCode};

use anyhow::Context;
use batchprep_batch::net::{
    DockerSettings, NetAnalysis, NetworkRange, RangeKind, Suggestion, analyze,
};

use crate::{findings_args::FindingsArgs, network_args::NetworkArgs, report::Extra};

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
    /// The ranges and Docker's current settings.
    #[command(flatten)]
    pub network: NetworkArgs,
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
    let Some((ranges, docker)) = args.network.gather(&config)? else {
        anyhow::bail!(
            "no network ranges to check: give --vnet, --peered or --on-prem, or list them under [network] in {}",
            crate::config::FILE_NAME
        );
    };

    let analysis = analyze(&ranges, &docker);
    let mut findings = batchprep_lint::rules::network::check(&analysis, None);
    crate::network_args::locate_findings(&mut findings, &analysis, &config);
    let extra = Extra {
        human: human(&ranges, &docker, &analysis),
        json: json(&analysis).context("rendering the suggestion")?,
        ..Extra::default()
    };
    args.findings.finish(&config, findings, &extra)
}

/// What was checked, the notes, then the suggestion and its daemon.json fragment.
fn human(ranges: &[NetworkRange], docker: &DockerSettings, analysis: &NetAnalysis) -> String {
    let count = |kind| ranges.iter().filter(|r| r.kind == kind).count();
    let pools = docker.effective_pools();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Checked {} range{} ({} VNet, {} peered, {} on-premises) against docker0 {}{} and {} default address pool{} ({}).",
        ranges.len(),
        if ranges.len() == 1 { "" } else { "s" },
        count(RangeKind::Vnet),
        count(RangeKind::Peered),
        count(RangeKind::OnPrem),
        docker
            .effective_bridge()
            .map(|b| b.to_string())
            .unwrap_or_default(),
        docker
            .kept_bridge()
            .map(|k| format!(" (or {k}, which an existing docker0 keeps without bip)"))
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
        // Pools without bip: an existing docker0 keeps its address after a data-root move or with
        // live-restore, so bip must be written down even when nothing overlaps.
        (Ok(s), true) if docker.kept_bridge().is_some() => {
            let _ = writeln!(
                out,
                "No overlap, but default-address-pools without bip: a docker0 that already exists keeps its address (172.17.0.1/16 by default) after a data-root move or with live-restore. Set bip too:"
            );
            out.push_str(&daemon_json_fragment(s));
        }
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
