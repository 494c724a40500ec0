//! The network flags shared by `net check` and `check`: ranges from `[network]` plus the flags, and
//! Docker's current bridge and pools.

use std::collections::HashSet;

use batchprep_batch::net::{
    AddressPool, DockerSettings, NetworkRange, NetworkSpec, RangeKind, parse_cidr,
};

use crate::config::{Config, FILE_NAME};

/// Ranges the pool's nodes must reach, and Docker's settings on them.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
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
}

impl NetworkArgs {
    /// The ranges and Docker settings from the config and the flags; `None` when no range is given.
    pub fn gather(
        &self,
        config: &Config,
    ) -> anyhow::Result<Option<(Vec<NetworkRange>, DockerSettings)>> {
        let file = config
            .path
            .as_deref()
            .map_or_else(|| FILE_NAME.to_owned(), |p| p.display().to_string());
        let spec = match &config.file.network {
            Some(table) => NetworkSpec::from_table(table, &file)?,
            None => NetworkSpec::default(),
        };
        let mut ranges = spec.ranges(&file)?;
        for (kind, values) in [
            (RangeKind::Vnet, &self.vnet),
            (RangeKind::Peered, &self.peered),
            (RangeKind::OnPrem, &self.on_prem),
        ] {
            let flag = format!("--{}", kind.key());
            for value in values {
                ranges.push(NetworkRange::parse(kind, value, &flag)?);
            }
        }
        // The same range in the file and on the command line is one range.
        let mut seen = HashSet::new();
        ranges.retain(|r| seen.insert((r.kind, r.given)));

        let mut docker = spec.docker_settings(&file)?;
        if let Some(bip) = &self.bip {
            docker.bip = Some(parse_cidr(bip, "--bip")?);
        }
        if !self.default_address_pools.is_empty() {
            docker.default_address_pools = Some(parse_pools(&self.default_address_pools)?);
        }
        Ok((!ranges.is_empty()).then_some((ranges, docker)))
    }
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

/// Points the bridge findings at the `[network]` entry they are about, when the range came from the
/// configuration file (ranges from flags have no file to point into). The network rules return one
/// finding per overlap, in the analysis's order.
pub fn locate_findings(
    findings: &mut [batchprep_lint::Finding],
    analysis: &batchprep_batch::net::NetAnalysis,
    config: &Config,
) {
    let Some(path) = &config.path else { return };
    for (finding, overlap) in findings.iter_mut().zip(&analysis.overlaps) {
        let range = &overlap.network;
        if !range
            .origin
            .ends_with(&format!("[network] {}", range.kind.key()))
        {
            continue;
        }
        let quoted = format!("\"{}\"", range.given);
        let found = config.text.lines().enumerate().find_map(|(i, line)| {
            let col = line.find(&quoted)?;
            Some((i as u32 + 1, line[..col].chars().count() as u32 + 1))
        });
        if let Some((line, column)) = found {
            finding.location = Some(batchprep_lint::Location {
                file: path.clone(),
                pointer: format!("[network] {}", range.kind.key()),
                line,
                column,
            });
        }
    }
}
