//! Where dockerd puts docker0 and the networks `docker network create` makes, as Moby 20.10.24
//! does it (each fact below has a test on a real daemon in a network namespace:
//! `tests/bridge_dockerd.rs`; the same code is in Moby through 29):
//!
//! - With `default-address-pools` set and no `bip`, a new docker0 takes the first network of the
//!   pools, in order, that overlaps no on-link route and no nameserver of `/etc/resolv.conf`.
//!   Routes via a gateway (peered VNets, on-premises) are not considered.
//! - A docker0 that already has an address keeps it when `bip` is not set, whatever the pools:
//!   after a data-root move (the new root holds no stored bridge network) or with `live-restore`.
//!   Only a restart on the same data root without `live-restore` removes docker0 and takes a new
//!   address from the pools. So a start task that sets pools must set `bip` too.
//! - An explicit `bip` is never checked against routes or nameservers: a `bip` on the node's own
//!   subnet is taken as given.
//! - User networks skip every network that overlaps `bip`, an on-link route or a nameserver; a
//!   `bip` covering a whole pool leaves no network in it.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{
    AddressPool, DockerSettings,
    cidr::{Span, host_at, net_at},
};

/// What dockerd sees of the node when it picks networks: on-link routes (`ip route` entries without
/// `via`, docker's own bridges left out) and the nameservers of `/etc/resolv.conf`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeNetwork {
    /// Destinations of on-link routes (the node's own subnets).
    pub on_link: Vec<IpNet>,
    /// Nameserver addresses.
    pub nameservers: Vec<IpAddr>,
}

impl NodeNetwork {
    fn avoided(&self) -> Vec<Span> {
        self.on_link
            .iter()
            .map(|n| Span::of(&n.trunc()))
            .chain(
                self.nameservers
                    .iter()
                    .map(|ip| Span::of(&IpNet::from(*ip))),
            )
            .collect()
    }
}

/// The networks of `pools`, in order, that share no address with `avoid`, at most `count`.
/// Skips whole avoided ranges at once, so a pool of millions of networks stays cheap.
fn free_networks(pools: &[AddressPool], avoid: &[Span], count: usize) -> Vec<IpNet> {
    let mut out = Vec::new();
    for pool in pools {
        let base = Span::of(&pool.base.trunc());
        let step_bits = base.bits() - u32::from(pool.size);
        let step: u128 = if step_bits >= 128 {
            u128::MAX
        } else {
            1u128 << step_bits
        };
        let mut lo = base.lo;
        while out.len() < count && lo <= base.hi {
            let hi = lo.saturating_add(step - 1);
            match avoid
                .iter()
                .filter(|a| a.v6 == base.v6 && a.lo <= hi && lo <= a.hi)
                .map(|a| a.hi)
                .max()
            {
                None => {
                    out.push(net_at(base.v6, lo, pool.size));
                    lo = match lo.checked_add(step) {
                        Some(next) => next,
                        None => break,
                    };
                }
                // The next network that starts after the avoided range.
                Some(end) => {
                    let Some(after) = end.checked_add(1) else {
                        break;
                    };
                    let aligned = after.div_ceil(step).checked_mul(step);
                    match aligned {
                        Some(next) if next > lo => lo = next,
                        _ => break,
                    }
                }
            }
        }
        if out.len() >= count {
            break;
        }
    }
    out
}

/// docker0's address when Docker creates it from `pools` with no `bip` (and no docker0 exists yet):
/// the first host of the first network of the pools that overlaps no on-link route and no
/// nameserver. `None` when every network does.
pub fn docker0_from_pools(pools: &[AddressPool], node: &NodeNetwork) -> Option<IpNet> {
    let net = *free_networks(pools, &node.avoided(), 1).first()?;
    Some(first_host(net))
}

/// The first `count` networks `docker network create` gets from `pools` (in the order Docker hands
/// them out) while docker0 is on `bridge`: networks overlapping docker0, an on-link route or a
/// nameserver are skipped.
pub fn user_networks(
    pools: &[AddressPool],
    bridge: Option<IpNet>,
    node: &NodeNetwork,
    count: usize,
) -> Vec<IpNet> {
    let mut avoid = node.avoided();
    avoid.extend(bridge.map(|b| Span::of(&b.trunc())));
    free_networks(pools, &avoid, count)
}

/// How dockerd is restarted, for [`docker0_after_restart`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restart {
    /// The data root is the one the daemon ran from before (it holds the stored bridge network);
    /// false after a data-root move.
    pub same_data_root: bool,
    /// `live-restore` is on.
    pub live_restore: bool,
}

/// docker0's address after dockerd starts with `settings` when docker0 already has `existing`
/// (`None`: no docker0 yet). `bip` always wins; otherwise an existing address is kept, except on
/// the same data root without live-restore with pools set, where docker0 is removed and made again
/// from the pools.
pub fn docker0_after_restart(
    existing: Option<IpNet>,
    settings: &DockerSettings,
    restart: Restart,
    node: &NodeNetwork,
) -> Option<IpNet> {
    if let Some(bip) = settings.bip {
        return Some(bip);
    }
    let pools_set = settings
        .default_address_pools
        .as_ref()
        .is_some_and(|p| !p.is_empty());
    let recreated = pools_set && restart.same_data_root && !restart.live_restore;
    match existing {
        Some(address) if !recreated => Some(address),
        _ => docker0_from_pools(&settings.effective_pools(), node),
    }
}

/// The `bip` a start task must set with `pools` when none is given: where a new docker0 would go
/// (see [`docker0_from_pools`]), written down so that an existing docker0 moves there too.
pub fn bip_for_pools(pools: &[AddressPool], node: &NodeNetwork) -> Option<IpNet> {
    docker0_from_pools(pools, node)
}

/// Why dockerd refuses to start with `bip` (`None` when it starts): the address is its network's
/// own address or its broadcast address ("failed to allocate gateway ...: Address already in use"
/// on dockerd 20.10.24). IPv4 only (IPv6 was not tried); /31 and /32 have no such addresses.
pub fn bip_refused(bip: IpNet) -> Option<String> {
    if !matches!(bip, IpNet::V4(_)) || bip.prefix_len() >= 31 {
        return None;
    }
    let which = if bip.addr() == bip.network() {
        "the network's own address"
    } else if bip.addr() == bip.broadcast() {
        "the network's broadcast address"
    } else {
        return None;
    };
    Some(format!(
        "{} is {which}: dockerd refuses to start with it (give a host address, e.g. {})",
        bip.addr(),
        first_host(bip.trunc())
    ))
}

/// The gateway address Docker gives a network: its first host (the network address itself for
/// /31, /32, /127 and /128).
fn first_host(net: IpNet) -> IpNet {
    let span = Span::of(&net);
    let host = if u32::from(net.prefix_len()) + 1 >= span.bits() {
        span.lo
    } else {
        span.lo + 1
    };
    host_at(span.v6, host, net.prefix_len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(text: &str) -> AddressPool {
        AddressPool::parse(text, "t").unwrap()
    }

    fn node(on_link: &[&str], nameservers: &[&str]) -> NodeNetwork {
        NodeNetwork {
            on_link: on_link.iter().map(|n| n.parse().unwrap()).collect(),
            nameservers: nameservers.iter().map(|n| n.parse().unwrap()).collect(),
        }
    }

    fn strings(nets: &[IpNet]) -> Vec<String> {
        nets.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn docker0_skips_on_link_routes_and_nameservers() {
        // The case tests/bridge_dockerd.rs runs on dockerd: eth0 on 10.50.0.0/24, a nameserver in
        // 10.50.1.0/24, a route via a gateway to 10.50.2.0/24 (not considered).
        let pools = [pool("10.50.0.0/16/24")];
        let n = node(&["10.50.0.0/24"], &["10.50.1.53"]);
        assert_eq!(
            docker0_from_pools(&pools, &n).unwrap().to_string(),
            "10.50.2.1/24"
        );
        assert_eq!(
            docker0_from_pools(&pools, &NodeNetwork::default())
                .unwrap()
                .to_string(),
            "10.50.0.1/24"
        );
    }

    #[test]
    fn docker0_goes_on_to_the_next_pool_and_past_large_routes() {
        let pools = [pool("10.0.0.0/8/24"), pool("192.168.0.0/16/20")];
        // One on-link /9 and the rest of 10/8 behind it: the /8 has no free /24.
        let n = node(&["10.0.0.0/9", "10.128.0.0/9"], &[]);
        assert_eq!(
            docker0_from_pools(&pools, &n).unwrap().to_string(),
            "192.168.0.1/20"
        );
        let n = node(&["10.0.0.0/9"], &[]);
        assert_eq!(
            docker0_from_pools(&pools, &n).unwrap().to_string(),
            "10.128.0.1/24"
        );
        let all = node(&["10.0.0.0/8", "192.168.0.0/16"], &[]);
        assert_eq!(docker0_from_pools(&pools, &all), None);
    }

    #[test]
    fn ipv6_pools_and_tiny_networks() {
        let n = node(&["fd00:aa::/64"], &["fd00:aa:0:1::53"]);
        assert_eq!(
            docker0_from_pools(&[pool("fd00:aa::/48/64")], &n)
                .unwrap()
                .to_string(),
            "fd00:aa:0:2::1/64"
        );
        assert_eq!(
            docker0_from_pools(&[pool("10.9.0.0/30/31")], &NodeNetwork::default())
                .unwrap()
                .to_string(),
            "10.9.0.0/31"
        );
    }

    #[test]
    fn user_networks_skip_the_bip_routes_and_nameservers() {
        let pools = [pool("10.80.0.0/16/24")];
        let bip: IpNet = "10.80.1.1/24".parse().unwrap();
        assert_eq!(
            strings(&user_networks(
                &pools,
                Some(bip),
                &NodeNetwork::default(),
                3
            )),
            ["10.80.0.0/24", "10.80.2.0/24", "10.80.3.0/24"]
        );
        let n = node(&["10.80.2.0/23"], &["10.80.5.9"]);
        assert_eq!(
            strings(&user_networks(&pools, Some(bip), &n, 3)),
            ["10.80.0.0/24", "10.80.4.0/24", "10.80.6.0/24"]
        );
        // A bip covering the whole pool leaves nothing.
        let wide: IpNet = "10.80.0.1/16".parse().unwrap();
        assert!(user_networks(&pools, Some(wide), &NodeNetwork::default(), 3).is_empty());
        // A bip outside the pools changes nothing.
        let outside: IpNet = "10.199.0.1/24".parse().unwrap();
        assert_eq!(
            strings(&user_networks(
                &pools,
                Some(outside),
                &NodeNetwork::default(),
                2
            )),
            ["10.80.0.0/24", "10.80.1.0/24"]
        );
    }

    #[test]
    fn an_existing_docker0_keeps_its_address_unless_bip_or_a_recreating_restart() {
        let stock: IpNet = "172.17.0.1/16".parse().unwrap();
        let pools_only = DockerSettings {
            bip: None,
            default_address_pools: Some(vec![pool("10.60.0.0/16/24")]),
        };
        let n = NodeNetwork::default();
        let moved = Restart {
            same_data_root: false,
            live_restore: false,
        };
        let live = Restart {
            same_data_root: true,
            live_restore: true,
        };
        let plain = Restart {
            same_data_root: true,
            live_restore: false,
        };
        for restart in [moved, live] {
            assert_eq!(
                docker0_after_restart(Some(stock), &pools_only, restart, &n),
                Some(stock),
                "{restart:?}"
            );
        }
        assert_eq!(
            docker0_after_restart(Some(stock), &pools_only, plain, &n)
                .unwrap()
                .to_string(),
            "10.60.0.1/24"
        );
        assert_eq!(
            docker0_after_restart(None, &pools_only, moved, &n)
                .unwrap()
                .to_string(),
            "10.60.0.1/24"
        );
        let with_bip = DockerSettings {
            bip: Some("10.199.0.1/24".parse().unwrap()),
            ..pools_only.clone()
        };
        for restart in [moved, live, plain] {
            assert_eq!(
                docker0_after_restart(Some(stock), &with_bip, restart, &n)
                    .unwrap()
                    .to_string(),
                "10.199.0.1/24"
            );
        }
        // Without pools, an existing docker0 is kept on any restart.
        assert_eq!(
            docker0_after_restart(Some(stock), &DockerSettings::default(), plain, &n),
            Some(stock)
        );
    }

    #[test]
    fn dockerd_refuses_a_bip_on_the_network_or_broadcast_address() {
        let refused = |text: &str| bip_refused(text.parse().unwrap());
        assert_eq!(
            refused("10.199.0.0/24").unwrap(),
            "10.199.0.0 is the network's own address: dockerd refuses to start with it (give a host address, e.g. 10.199.0.1/24)"
        );
        assert_eq!(
            refused("10.80.0.255/24").unwrap(),
            "10.80.0.255 is the network's broadcast address: dockerd refuses to start with it (give a host address, e.g. 10.80.0.1/24)"
        );
        assert_eq!(refused("10.199.0.1/24"), None);
        assert_eq!(refused("10.199.0.254/24"), None);
        assert_eq!(refused("10.9.0.0/31"), None);
        assert_eq!(refused("fd00:1::/64"), None, "not tried on dockerd");
    }

    #[test]
    fn the_start_task_bip_is_where_a_new_docker0_would_go() {
        let pools = [pool("10.200.0.0/16/24"), pool("10.201.0.0/16/24")];
        assert_eq!(
            bip_for_pools(&pools, &NodeNetwork::default())
                .unwrap()
                .to_string(),
            "10.200.0.1/24"
        );
    }
}
