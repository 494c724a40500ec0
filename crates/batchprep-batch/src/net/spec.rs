//! The `[network]` section of `batchprep.toml`: the ranges a pool must reach and Docker's settings.
//!
//! ```toml
//! [network]
//! vnet = ["10.0.0.0/16"]
//! peered = ["10.1.0.0/16"]
//! on-prem = ["172.16.0.0/12"]
//! bip = "10.200.0.1/24"
//! default-address-pools = [{ base = "10.201.0.0/16", size = 24 }]
//! ```

use serde::Deserialize;

use super::{AddressPool, DockerSettings, NetError, NetworkRange, RangeKind, parse_cidr};
use crate::net::cidr;

/// `[network]`, as written. Values stay strings until [`NetworkSpec::ranges`] and
/// [`NetworkSpec::docker_settings`] parse them, so an error can name the key that holds a bad one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetworkSpec {
    /// The pool's VNet address spaces.
    #[serde(default)]
    pub vnet: Vec<String>,
    /// Peered VNets' address spaces.
    #[serde(default)]
    pub peered: Vec<String>,
    /// On-premises ranges reached through a gateway.
    #[serde(default)]
    pub on_prem: Vec<String>,
    /// Docker's `bip`, when the node already sets one.
    #[serde(default)]
    pub bip: Option<String>,
    /// Docker's `default-address-pools`, when the node already sets them.
    #[serde(default)]
    pub default_address_pools: Option<Vec<PoolSpec>>,
}

/// One `{ base = "10.10.0.0/16", size = 24 }` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AddressPoolSpec")]
pub struct PoolSpec {
    /// The base CIDR.
    pub base: String,
    /// The prefix length of each network taken from it.
    pub size: u8,
}

impl NetworkSpec {
    /// Parses the raw table of `[network]`. `file` names the file in errors.
    pub fn from_table(table: &toml::Table, file: &str) -> Result<NetworkSpec, NetError> {
        table
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| NetError::Config {
                origin: format!("{file} [network]"),
                message: e.message().trim().replace('\n', "; "),
            })
    }

    /// The ranges, each parsed and labelled `{file} [network] {key}`.
    pub fn ranges(&self, file: &str) -> Result<Vec<NetworkRange>, NetError> {
        let mut out = Vec::new();
        for (kind, list) in [
            (RangeKind::Vnet, &self.vnet),
            (RangeKind::Peered, &self.peered),
            (RangeKind::OnPrem, &self.on_prem),
        ] {
            let origin = format!("{file} [network] {}", kind.key());
            for text in list {
                out.push(NetworkRange::parse(kind, text, &origin)?);
            }
        }
        Ok(out)
    }

    /// The Docker settings the file gives (`None` where it gives none).
    pub fn docker_settings(&self, file: &str) -> Result<DockerSettings, NetError> {
        let bip = self
            .bip
            .as_deref()
            .map(|b| parse_cidr(b, &format!("{file} [network] bip")))
            .transpose()?;
        let origin = format!("{file} [network] default-address-pools");
        let default_address_pools = self
            .default_address_pools
            .as_ref()
            .map(|pools| {
                pools
                    .iter()
                    .map(|p| {
                        let base = cidr::parse_cidr(&p.base, &origin)?;
                        AddressPool::new(base, p.size, &origin, &format!("{}/{}", p.base, p.size))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(DockerSettings {
            bip,
            default_address_pools,
        })
    }
}
