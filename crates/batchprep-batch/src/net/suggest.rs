//! A `bip` and `default-address-pools` outside every range the node must reach.
//!
//! Closest to Docker's defaults first: the current pools (Docker's built-in ones unless configured)
//! with the taken parts cut out, keeping their network size. When that leaves fewer networks than
//! before (at most [`TARGET_NETWORKS_MAX`]), free private space is added in a fixed order: the rest
//! of 172.16.0.0/12 and 10.0.0.0/8 as /16s, then 192.168.0.0/16, 172.16.0.0/12 and 10.0.0.0/8 as
//! /24s (fd00::/8 as /64s for IPv6). The bridge keeps its network when it is clear, and otherwise
//! takes the first network of the first pool, which is where Docker would put it anyway.

use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use super::{
    AddressPool, DockerSettings,
    cidr::{Span, Taken, host_at, net_at},
};

/// IPv4 private address space (RFC 1918): where suggestions for IPv4 stay.
pub const PRIVATE_V4: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/// IPv6 unique local addresses in use (fd00::/8, RFC 4193): where suggestions for IPv6 stay.
pub const PRIVATE_V6: [&str; 1] = ["fd00::/8"];
/// The suggestion keeps as many networks per family as the current pools give, up to this many.
/// Docker's built-in pools give 31 (15 /16s and 16 /20s).
pub const TARGET_NETWORKS_MAX: u64 = 256;

/// Private space tried after the current pools, in order, with the network size taken from each.
const FALLBACK_V4: &[(&str, u8)] = &[
    ("172.16.0.0/12", 16),
    ("10.0.0.0/8", 16),
    ("192.168.0.0/16", 24),
    ("172.16.0.0/12", 24),
    ("10.0.0.0/8", 24),
];
const FALLBACK_V6: &[(&str, u8)] = &[("fd00::/8", 64)];

/// Docker settings that overlap none of the ranges, and the `daemon.json` fragment that sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// docker0's address and prefix (`172.18.0.1/16`).
    pub bip: IpNet,
    /// The pools, in the order Docker should use them.
    pub default_address_pools: Vec<AddressPool>,
    /// `{"bip": ..., "default-address-pools": [{"base": ..., "size": ...}]}`, to merge into
    /// `/etc/docker/daemon.json`.
    pub daemon_json: serde_json::Value,
}

/// No free private space is left for the bridge or a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoRoom {
    /// Which part found no room, in words.
    pub reason: String,
}

impl fmt::Display for NoRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Where pools are being placed: what is taken and what was chosen.
struct Placement {
    taken: Taken,
    chosen: Vec<AddressPool>,
}

impl Placement {
    /// Takes the free parts of `within`, as networks of `size`, until `want` networks of its family are
    /// chosen (no limit when `None`). Returns the networks added.
    fn take(&mut self, within: IpNet, size: u8, want: Option<u64>) -> u64 {
        let span = Span::of(&within.trunc());
        let blocks = self.taken.free_blocks(span, size);
        let mut added = 0u64;
        for (lo, prefix) in blocks {
            if want.is_some_and(|w| added >= w) {
                break;
            }
            let pool = AddressPool {
                base: net_at(span.v6, lo, prefix),
                size,
            };
            added = added.saturating_add(pool.capacity());
            self.taken.add_free(Span::of(&pool.base));
            self.chosen.push(pool);
        }
        added
    }

    fn count(&self, v6: bool) -> u64 {
        self.chosen
            .iter()
            .filter(|p| (p.base.max_prefix_len() == 128) == v6)
            .fold(0u64, |n, p| n.saturating_add(p.capacity()))
    }
}

fn fallback(v6: bool) -> impl Iterator<Item = (IpNet, u8)> {
    let list = if v6 { FALLBACK_V6 } else { FALLBACK_V4 };
    list.iter().map(|(net, size)| (net.parse().unwrap(), *size))
}

/// The suggestion for `docker` (whose effective pools are `pools`) against the ranges `nets`.
pub(crate) fn suggest(
    nets: &[IpNet],
    docker: &DockerSettings,
    pools: &[AddressPool],
) -> Result<Suggestion, NoRoom> {
    let reserved = Taken::new(nets.iter().map(Span::of).collect());
    let mut place = Placement {
        taken: reserved.clone(),
        chosen: Vec::new(),
    };
    for pool in pools {
        place.take(pool.base, pool.size, None);
    }
    for v6 in [false, true] {
        let target = pools
            .iter()
            .filter(|p| (p.base.max_prefix_len() == 128) == v6)
            .fold(0u64, |n, p| n.saturating_add(p.capacity()))
            .min(TARGET_NETWORKS_MAX);
        for (space, size) in fallback(v6) {
            let have = place.count(v6);
            if have >= target {
                break;
            }
            place.take(space, size, Some(target - have));
        }
    }
    if place.chosen.is_empty() {
        return Err(NoRoom {
            reason: format!(
                "no free range is left for Docker's address pools: the {} ranges given cover the current pools and private address space ({})",
                nets.len(),
                PRIVATE_V4.join(", ")
            ),
        });
    }

    let bridge = docker.effective_bridge();
    let bridge_clear = bridge.is_some_and(|b| !reserved.overlaps(Span::of(&b)));
    let bip = match (bridge_clear, docker.bip, bridge) {
        (true, Some(bip), _) => bip,
        (true, None, Some(b)) => first_host(Span::of(&b), b.prefix_len()),
        _ => {
            let v6 = bridge.is_some_and(|b| b.max_prefix_len() == 128);
            let from_pool = place
                .chosen
                .iter()
                .find(|p| (p.base.max_prefix_len() == 128) == v6)
                .map(|p| (Span::of(&p.base), p.size));
            let from_fallback = || {
                fallback(v6).find_map(|(space, size)| {
                    place
                        .taken
                        .free_blocks(Span::of(&space), size)
                        .first()
                        .map(|&(lo, prefix)| (Span::of(&net_at(v6, lo, prefix)), size))
                })
            };
            match from_pool.or_else(from_fallback) {
                Some((span, size)) => first_host(span, size),
                None => {
                    return Err(NoRoom {
                        reason: format!(
                            "no free {} range is left for the docker0 bridge",
                            if v6 { "IPv6" } else { "IPv4" }
                        ),
                    });
                }
            }
        }
    };

    let daemon_json = serde_json::json!({
        "bip": bip.to_string(),
        "default-address-pools": place
            .chosen
            .iter()
            .map(|p| serde_json::json!({ "base": p.base.to_string(), "size": p.size }))
            .collect::<Vec<_>>(),
    });
    Ok(Suggestion {
        bip,
        default_address_pools: place.chosen,
        daemon_json,
    })
}

/// The gateway address Docker gives docker0: the first host of the network at `span.lo` with `prefix`
/// (the network address itself for /31, /32, /127 and /128, which have no separate hosts).
fn first_host(span: Span, prefix: u8) -> IpNet {
    let host = if u32::from(prefix) + 1 >= span.bits() {
        span.lo
    } else {
        span.lo + 1
    };
    host_at(span.v6, host, prefix)
}
