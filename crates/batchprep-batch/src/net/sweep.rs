//! Every overlapping (Docker range, network range) pair, by sorting both lists and sweeping once.
//!
//! Pairwise comparison is `docker × networks`; with user pools and thousands of VNet and on-premises
//! ranges that grows fast. Sorting by start and keeping the ranges still open costs
//! `O(n log n + pairs found)`: a range leaves an open list at most once, and every range kept in a
//! list when it is scanned is an overlap reported.

use ipnet::IpNet;

use super::cidr::Span;

/// Indices `(docker, network)` of every overlapping pair, sorted.
pub(crate) fn overlapping_pairs(docker: &[IpNet], networks: &[IpNet]) -> Vec<(usize, usize)> {
    let order = |nets: &[IpNet]| {
        let mut v: Vec<(Span, usize)> = nets
            .iter()
            .enumerate()
            .map(|(i, n)| (Span::of(n), i))
            .collect();
        v.sort_unstable_by_key(|(s, i)| (s.v6, s.lo, *i));
        v
    };
    let (docker, networks) = (order(docker), order(networks));
    let mut pairs = Vec::new();
    let mut open_docker: Vec<(Span, usize)> = Vec::new();
    let mut open_networks: Vec<(Span, usize)> = Vec::new();
    let (mut d, mut n) = (0, 0);
    while d < docker.len() || n < networks.len() {
        let docker_next = match (docker.get(d), networks.get(n)) {
            (Some(a), Some(b)) => (a.0.v6, a.0.lo) <= (b.0.v6, b.0.lo),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if docker_next {
            let (span, i) = docker[d];
            d += 1;
            close_before(&mut open_networks, span);
            pairs.extend(open_networks.iter().map(|&(_, j)| (i, j)));
            open_docker.push((span, i));
        } else {
            let (span, j) = networks[n];
            n += 1;
            close_before(&mut open_docker, span);
            pairs.extend(open_docker.iter().map(|&(_, i)| (i, j)));
            open_networks.push((span, j));
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Drops the open ranges that end before `span` starts (or are of the other family): they can
/// overlap nothing from here on, because later ranges start later.
fn close_before(open: &mut Vec<(Span, usize)>, span: Span) {
    open.retain(|(s, _)| s.v6 == span.v6 && s.hi >= span.lo);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    /// The obvious version, to check the sweep against.
    fn pairwise(docker: &[IpNet], networks: &[IpNet]) -> Vec<(usize, usize)> {
        let mut pairs = Vec::new();
        for (i, a) in docker.iter().enumerate() {
            for (j, b) in networks.iter().enumerate() {
                if a.contains(b) || b.contains(a) {
                    pairs.push((i, j));
                }
            }
        }
        pairs
    }

    #[test]
    fn finds_nested_equal_and_covering_ranges_but_not_neighbours() {
        let docker = nets(&["172.17.0.0/16", "172.18.0.0/16", "192.168.0.0/16"]);
        let networks = nets(&[
            "172.17.0.0/16",   // equal to docker0
            "172.16.0.0/12",   // covers both 172 ranges
            "192.168.10.0/24", // inside the pool
            "172.19.0.0/16",   // neighbour, no overlap
            "fd00::/8",        // other family
        ]);
        let pairs = overlapping_pairs(&docker, &networks);
        assert_eq!(pairs, [(0, 0), (0, 1), (1, 1), (2, 2)]);
        assert_eq!(pairs, pairwise(&docker, &networks));
    }

    #[test]
    fn ipv6_ranges_overlap_only_ipv6_ranges() {
        let docker = nets(&["172.17.0.0/16", "fd00:1::/64"]);
        let networks = nets(&["fd00::/16", "::/0", "0.0.0.0/0"]);
        assert_eq!(
            overlapping_pairs(&docker, &networks),
            [(0, 2), (1, 0), (1, 1)]
        );
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn any_net() -> impl Strategy<Value = IpNet> {
            prop_oneof![
                (any::<u32>(), 0u8..=32).prop_map(|(a, p)| IpNet::V4(
                    ipnet::Ipv4Net::new(a.into(), p).unwrap().trunc()
                )),
                (any::<u128>(), 0u8..=128).prop_map(|(a, p)| IpNet::V6(
                    ipnet::Ipv6Net::new(a.into(), p).unwrap().trunc()
                )),
            ]
        }

        proptest! {
            #[test]
            fn sweep_agrees_with_pairwise(
                docker in proptest::collection::vec(any_net(), 0..20),
                networks in proptest::collection::vec(any_net(), 0..60),
            ) {
                prop_assert_eq!(overlapping_pairs(&docker, &networks), pairwise(&docker, &networks));
            }
        }
    }
}
