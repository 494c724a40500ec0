//! Docker's bridge and address pools against the networks a Batch pool must reach.
//!
//! Docker puts `docker0` on 172.17.0.0/16 and takes user networks from 172.17-31.0.0/16 and
//! 192.168.0.0/16. A node in a VNet whose own, peered or on-premises ranges overlap them routes
//! container traffic for those ranges into the bridge, where it is lost. [`analyze`] finds every such
//! overlap (sorting and sweeping, so 10,000 ranges stay cheap), notes ranges written with host bits
//! set, and suggests a `bip` and `default-address-pools` outside every range, with the `daemon.json`
//! fragment that sets them. The rules in `batchprep-lint` turn the overlaps into findings; the
//! start-task generator writes the fragment.

mod bridge;
mod cidr;
mod spec;
mod suggest;
mod sweep;

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

pub use bridge::{
    NodeNetwork, Restart, bip_for_pools, bip_refused, docker0_after_restart, docker0_from_pools,
    user_networks,
};
pub use cidr::{is_private, parse_cidr};
pub use spec::{NetworkSpec, PoolSpec};
pub use suggest::{NoRoom, PRIVATE_V4, PRIVATE_V6, Suggestion, TARGET_NETWORKS_MAX};

/// What went wrong reading a range or a Docker setting. Each message names where the value came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The text is not `ADDRESS/PREFIX`.
    #[error("{origin}: invalid CIDR `{text}`: {reason}")]
    InvalidCidr {
        /// Where the value came from (`--vnet`, `batchprep.toml [network] vnet`).
        origin: String,
        /// The value as written.
        text: String,
        /// Which part is wrong: no prefix, the address, or the prefix length.
        reason: String,
    },
    /// An address pool is malformed (bad size, bad syntax).
    #[error("{origin}: invalid address pool `{text}`: {reason}")]
    InvalidPool {
        /// Where the value came from.
        origin: String,
        /// The value as written.
        text: String,
        /// Why it was refused.
        reason: String,
    },
    /// The `[network]` section does not have the expected shape.
    #[error("{origin}: {message}")]
    Config {
        /// The file and section.
        origin: String,
        /// toml's message, on one line, naming the key.
        message: String,
    },
}

/// Which kind of network a range belongs to; all must stay reachable from containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeKind {
    /// The pool's own VNet address space.
    Vnet,
    /// A peered VNet's address space.
    Peered,
    /// An on-premises range reached through a gateway.
    OnPrem,
}

impl RangeKind {
    /// How the range is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            RangeKind::Vnet => "VNet",
            RangeKind::Peered => "peered VNet",
            RangeKind::OnPrem => "on-premises",
        }
    }

    /// The flag and `[network]` key that carry this kind.
    pub fn key(self) -> &'static str {
        match self {
            RangeKind::Vnet => "vnet",
            RangeKind::Peered => "peered",
            RangeKind::OnPrem => "on-prem",
        }
    }
}

/// One range the node must reach, as the user gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkRange {
    /// VNet, peered or on-premises.
    pub kind: RangeKind,
    /// The network (host bits cleared).
    pub cidr: IpNet,
    /// The value as written; differs from `cidr` when host bits were set.
    pub given: IpNet,
    /// Where it came from: `--vnet`, `batchprep.toml [network] vnet`.
    pub origin: String,
}

impl NetworkRange {
    /// Parses `text` as a CIDR; host bits are accepted and cleared (see [`analyze`]'s notes).
    pub fn parse(kind: RangeKind, text: &str, origin: &str) -> Result<NetworkRange, NetError> {
        let given = parse_cidr(text, origin)?;
        Ok(NetworkRange {
            kind,
            cidr: given.trunc(),
            given,
            origin: origin.to_owned(),
        })
    }
}

impl fmt::Display for NetworkRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} range {} ({})",
            self.kind.label(),
            self.cidr,
            self.origin
        )
    }
}

/// One entry of `default-address-pools`: Docker carves networks of prefix `size` out of `base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct AddressPool {
    /// The range networks are taken from (as given; host bits may be set).
    pub base: IpNet,
    /// The prefix length of each network.
    pub size: u8,
}

impl AddressPool {
    /// A pool, checking that `size` fits in `base`. `origin` and `text` name the value in errors.
    pub fn new(base: IpNet, size: u8, origin: &str, text: &str) -> Result<AddressPool, NetError> {
        let reason = if size < base.prefix_len() {
            Some(format!(
                "size {size} is shorter than the base prefix /{}",
                base.prefix_len()
            ))
        } else if size > base.max_prefix_len() {
            Some(format!(
                "size {size} is longer than {} bits",
                base.max_prefix_len()
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => Err(NetError::InvalidPool {
                origin: origin.to_owned(),
                text: text.to_owned(),
                reason,
            }),
            None => Ok(AddressPool { base, size }),
        }
    }

    /// Parses `BASE/SIZE` (`10.10.0.0/16/24`) or Docker's own `base=10.10.0.0/16,size=24`.
    pub fn parse(text: &str, origin: &str) -> Result<AddressPool, NetError> {
        let invalid = |reason: &str| NetError::InvalidPool {
            origin: origin.to_owned(),
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (base, size) = if text.contains('=') {
            let mut base = None;
            let mut size = None;
            for part in text.split(',') {
                match part.trim().split_once('=') {
                    Some(("base", v)) => base = Some(v.trim()),
                    Some(("size", v)) => size = Some(v.trim()),
                    _ => return Err(invalid("expected base=CIDR,size=N")),
                }
            }
            match (base, size) {
                (Some(b), Some(s)) => (b, s),
                _ => return Err(invalid("expected base=CIDR,size=N")),
            }
        } else {
            text.rsplit_once('/')
                .filter(|(base, _)| base.contains('/'))
                .ok_or_else(|| invalid("expected BASE/SIZE, e.g. 10.10.0.0/16/24"))?
        };
        let size: u8 = size
            .parse()
            .map_err(|_| invalid("the size is not a prefix length"))?;
        let base = parse_cidr(base, origin)?;
        AddressPool::new(base, size, origin, text)
    }

    /// How many networks of `size` the pool holds (saturating).
    pub fn capacity(&self) -> u64 {
        let bits = u32::from(self.size - self.base.prefix_len());
        if bits >= 64 { u64::MAX } else { 1 << bits }
    }
}

impl fmt::Display for AddressPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} size {}", self.base, self.size)
    }
}

/// Docker's built-in local pools: 172.17.0.0/16 ... 172.31.0.0/16 as /16s, then 192.168.0.0/16 as /20s.
pub fn docker_default_pools() -> Vec<AddressPool> {
    let mut pools: Vec<AddressPool> = (17..=31u8)
        .map(|b| AddressPool {
            base: IpNet::V4(ipnet::Ipv4Net::new([172, b, 0, 0].into(), 16).unwrap()),
            size: 16,
        })
        .collect();
    pools.push(AddressPool {
        base: IpNet::V4(ipnet::Ipv4Net::new([192, 168, 0, 0].into(), 16).unwrap()),
        size: 20,
    });
    pools
}

/// The Docker settings that decide where its networks go. `None` means Docker's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerSettings {
    /// `bip`: docker0's address and prefix, e.g. `172.17.0.1/16`.
    pub bip: Option<IpNet>,
    /// `default-address-pools`; replaces Docker's built-in pools entirely when set.
    pub default_address_pools: Option<Vec<AddressPool>>,
}

impl DockerSettings {
    /// The pools Docker uses: the configured ones, or its built-in ones (also for an empty list).
    pub fn effective_pools(&self) -> Vec<AddressPool> {
        self.default_address_pools
            .clone()
            .filter(|pools| !pools.is_empty())
            .unwrap_or_else(docker_default_pools)
    }

    /// docker0's network on a node where Docker makes docker0: `bip`, or else the first network of
    /// the pools ([`docker0_from_pools`]; 172.17.0.0/16 with the built-in pools). Docker also skips
    /// networks on the node's on-link routes and nameservers, which are not known here. An
    /// existing docker0 keeps its address when `bip` is not set ([`docker0_after_restart`]).
    pub fn effective_bridge(&self) -> Option<IpNet> {
        match self.bip {
            Some(bip) => Some(bip.trunc()),
            None => docker0_from_pools(&self.effective_pools(), &NodeNetwork::default())
                .map(|b| b.trunc()),
        }
    }
}

impl DockerSettings {
    /// The network an existing docker0 keeps when pools are set without `bip`: Docker's default
    /// 172.17.0.0/16, which docker0 has on a node where Docker ran before with its defaults, and
    /// keeps after a data-root move or with live-restore ([`docker0_after_restart`]). `None` when
    /// `bip` is set or the pools are Docker's own.
    pub fn kept_bridge(&self) -> Option<IpNet> {
        let pools_set = self
            .default_address_pools
            .as_ref()
            .is_some_and(|p| !p.is_empty());
        (self.bip.is_none() && pools_set).then(|| {
            IpNet::V4(ipnet::Ipv4Net::new([172, 17, 0, 0].into(), 16).expect("a valid network"))
        })
    }
}

/// Which of Docker's ranges overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum DockerRange {
    /// The docker0 bridge (`bip`).
    Bridge {
        /// docker0's network.
        cidr: IpNet,
    },
    /// One of the `default-address-pools`.
    AddressPool {
        /// The pool's base network.
        cidr: IpNet,
        /// The prefix of the networks taken from it.
        size: u8,
    },
}

impl DockerRange {
    /// The range Docker occupies.
    pub fn cidr(&self) -> IpNet {
        match *self {
            DockerRange::Bridge { cidr } | DockerRange::AddressPool { cidr, .. } => cidr,
        }
    }
}

impl fmt::Display for DockerRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DockerRange::Bridge { cidr } => write!(f, "docker0 {cidr}"),
            DockerRange::AddressPool { cidr, size } => {
                write!(f, "default address pool {cidr} (size {size})")
            }
        }
    }
}

/// A Docker range and a network range that share addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    /// docker0 or a pool.
    pub docker: DockerRange,
    /// The range the node must reach.
    pub network: NetworkRange,
    /// The addresses both hold (the smaller of the two, as CIDRs nest or are disjoint).
    pub intersection: IpNet,
}

/// Something worth telling that is not a problem: a value written with host bits set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostBitsNote {
    /// Where it came from.
    pub origin: String,
    /// The value as written.
    pub given: IpNet,
    /// The network it means.
    pub network: IpNet,
}

impl fmt::Display for HostBitsNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) has host bits set; checked as {}",
            self.given, self.origin, self.network
        )
    }
}

/// What [`analyze`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetAnalysis {
    /// Every overlap: the bridge first, then the pools in order; within each, by network range.
    pub overlaps: Vec<Overlap>,
    /// Ranges and pool bases written with host bits set, in input order.
    pub notes: Vec<HostBitsNote>,
    /// The settings to use, or why none fits.
    pub suggestion: Result<Suggestion, NoRoom>,
}

/// Compares Docker's bridge and pools (`docker`, defaults filled in) with every range in `ranges`,
/// and suggests settings outside all of them. Deterministic, and independent of the order of `ranges`.
pub fn analyze(ranges: &[NetworkRange], docker: &DockerSettings) -> NetAnalysis {
    let pools = docker.effective_pools();
    let mut docker_ranges = Vec::with_capacity(pools.len() + 2);
    let bridge = docker.effective_bridge();
    if let Some(cidr) = bridge {
        docker_ranges.push(DockerRange::Bridge { cidr });
    }
    // Pools without bip: a docker0 that already exists (Docker's default one, on a node where
    // Docker ran before the start task) keeps its address after a data-root move or with
    // live-restore, so it is checked too.
    if let Some(kept) = docker.kept_bridge().filter(|k| Some(*k) != bridge) {
        docker_ranges.push(DockerRange::Bridge { cidr: kept });
    }
    docker_ranges.extend(pools.iter().map(|p| DockerRange::AddressPool {
        cidr: p.base.trunc(),
        size: p.size,
    }));
    let nets: Vec<IpNet> = ranges.iter().map(|r| r.cidr).collect();
    let docker_nets: Vec<IpNet> = docker_ranges.iter().map(DockerRange::cidr).collect();
    let overlaps = sweep::overlapping_pairs(&docker_nets, &nets)
        .into_iter()
        .map(|(d, n)| {
            let (a, b) = (docker_nets[d], nets[n]);
            Overlap {
                docker: docker_ranges[d],
                network: ranges[n].clone(),
                intersection: if a.prefix_len() >= b.prefix_len() {
                    a
                } else {
                    b
                },
            }
        })
        .collect();

    let mut notes: Vec<HostBitsNote> = ranges
        .iter()
        .filter(|r| r.given != r.cidr)
        .map(|r| HostBitsNote {
            origin: r.origin.clone(),
            given: r.given,
            network: r.cidr,
        })
        .collect();
    if let Some(pools) = &docker.default_address_pools {
        notes.extend(
            pools
                .iter()
                .filter(|p| p.base != p.base.trunc())
                .map(|p| HostBitsNote {
                    origin: "default-address-pools".to_owned(),
                    given: p.base,
                    network: p.base.trunc(),
                }),
        );
    }

    let suggestion = suggest::suggest(&nets, docker, &pools);
    NetAnalysis {
        overlaps,
        notes,
        suggestion,
    }
}

#[cfg(test)]
mod tests;
