//! Properties of the bridge suggestion over arbitrary networks: it never overlaps a range the node
//! must reach, stays in private address space, and is the same for the same ranges in any order.

use batchprep_batch::net::{
    AddressPool, DockerSettings, NetworkRange, RangeKind, Suggestion, analyze, is_private,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

/// A network somewhere in `space` with a prefix at least as long as the space's.
fn net_in(space: &'static str, longest: u8) -> impl Strategy<Value = IpNet> {
    let space: IpNet = space.parse().unwrap();
    (any::<u128>(), space.prefix_len()..=longest).prop_map(move |(bits, prefix)| match space {
        IpNet::V4(s) => {
            let host = (bits as u32) & u32::from(s.hostmask());
            let addr = u32::from(s.network()) | host;
            IpNet::V4(Ipv4Net::new(addr.into(), prefix).unwrap().trunc())
        }
        IpNet::V6(s) => {
            let host = bits & u128::from(s.hostmask());
            let addr = u128::from(s.network()) | host;
            IpNet::V6(Ipv6Net::new(addr.into(), prefix).unwrap().trunc())
        }
    })
}

/// Ranges as users have them: mostly private, large and small, some public, some IPv6.
fn a_range() -> impl Strategy<Value = NetworkRange> {
    let net = prop_oneof![
        3 => net_in("172.16.0.0/12", 28),
        3 => net_in("10.0.0.0/8", 28),
        2 => net_in("192.168.0.0/16", 28),
        1 => net_in("0.0.0.0/0", 32),
        1 => net_in("fd00::/8", 64),
    ];
    let kind = prop_oneof![
        Just(RangeKind::Vnet),
        Just(RangeKind::Peered),
        Just(RangeKind::OnPrem)
    ];
    (kind, net).prop_map(|(kind, cidr)| NetworkRange {
        kind,
        cidr,
        given: cidr,
        origin: format!("--{}", kind.key()),
    })
}

/// Private user settings: maybe a bip, maybe pools, IPv4 or IPv6.
fn docker_settings() -> impl Strategy<Value = DockerSettings> {
    let pool = prop_oneof![
        (net_in("10.0.0.0/8", 24), 0u8..=4).prop_map(|(b, extra)| (b, extra)),
        (net_in("172.16.0.0/12", 24), 0u8..=4).prop_map(|(b, extra)| (b, extra)),
        (net_in("fd00::/8", 64), 0u8..=16).prop_map(|(b, extra)| (b, extra)),
    ]
    .prop_map(|(base, extra)| AddressPool {
        base,
        size: (base.prefix_len() + extra).min(base.max_prefix_len()),
    });
    let bip = prop_oneof![net_in("10.0.0.0/8", 30), net_in("fd00::/8", 64)];
    (
        proptest::option::of(bip),
        proptest::option::of(proptest::collection::vec(pool, 1..4)),
    )
        .prop_map(|(bip, default_address_pools)| DockerSettings {
            bip,
            default_address_pools,
        })
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

fn check_clear_and_private(s: &Suggestion, ranges: &[NetworkRange]) -> Result<(), TestCaseError> {
    let bridge = s.bip.trunc();
    for r in ranges {
        prop_assert!(!overlaps(&bridge, &r.cidr), "bip {} overlaps {}", s.bip, r);
        for p in &s.default_address_pools {
            prop_assert!(!overlaps(&p.base, &r.cidr), "pool {} overlaps {}", p, r);
        }
    }
    prop_assert!(is_private(&bridge), "bip {} is not private", s.bip);
    for (i, p) in s.default_address_pools.iter().enumerate() {
        prop_assert!(is_private(&p.base), "pool {} is not private", p);
        prop_assert_eq!(p.base, p.base.trunc());
        prop_assert!(p.size >= p.base.prefix_len() && p.size <= p.base.max_prefix_len());
        for q in &s.default_address_pools[i + 1..] {
            prop_assert!(!overlaps(&p.base, &q.base), "pools {} and {} overlap", p, q);
        }
    }
    let json_pools = s.daemon_json["default-address-pools"].as_array().unwrap();
    prop_assert_eq!(json_pools.len(), s.default_address_pools.len());
    prop_assert_eq!(s.daemon_json["bip"].as_str().unwrap(), s.bip.to_string());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn dockers_defaults_move_clear_of_every_range(
        ranges in proptest::collection::vec(a_range(), 0..40),
    ) {
        let analysis = analyze(&ranges, &DockerSettings::default());
        if let Ok(s) = &analysis.suggestion {
            check_clear_and_private(s, &ranges)?;
        }
        // Every overlap found is a real one.
        for o in &analysis.overlaps {
            prop_assert!(overlaps(&o.docker.cidr(), &o.network.cidr));
        }
    }

    #[test]
    fn private_user_settings_move_clear_of_every_range(
        ranges in proptest::collection::vec(a_range(), 0..40),
        docker in docker_settings(),
    ) {
        if let Ok(s) = &analyze(&ranges, &docker).suggestion {
            check_clear_and_private(s, &ranges)?;
        }
    }

    #[test]
    fn the_same_ranges_in_any_order_give_the_same_answer(
        ranges in proptest::collection::vec(a_range(), 0..40),
        docker in docker_settings(),
        seed in any::<u64>(),
    ) {
        let mut shuffled = ranges.clone();
        // A fixed permutation from the seed: rotate, then reverse when odd.
        let n = shuffled.len().max(1);
        shuffled.rotate_left((seed as usize) % n);
        if seed % 2 == 1 {
            shuffled.reverse();
        }
        let (a, b) = (analyze(&ranges, &docker), analyze(&shuffled, &docker));
        prop_assert_eq!(&a.suggestion, &b.suggestion);
        prop_assert_eq!(a.overlaps.len(), b.overlaps.len());
        prop_assert_eq!(&a, &analyze(&ranges, &docker), "same input, same analysis");
    }

    #[test]
    fn one_free_private_24_is_enough_room(
        ranges in proptest::collection::vec(a_range(), 0..40),
        witness in prop_oneof![
            Just("10.0.0.0/8"),
            Just("172.16.0.0/12"),
            Just("192.168.0.0/16"),
        ].prop_flat_map(a_24_in),
    ) {
        let ranges: Vec<NetworkRange> =
            ranges.into_iter().filter(|r| !overlaps(&r.cidr, &witness)).collect();
        let analysis = analyze(&ranges, &DockerSettings::default());
        prop_assert!(analysis.suggestion.is_ok(), "{} is free, yet: {:?}", witness, analysis.suggestion);
    }
}

/// A /24 inside `space`.
fn a_24_in(space: &'static str) -> impl Strategy<Value = IpNet> {
    let s: Ipv4Net = space.parse().unwrap();
    any::<u32>().prop_map(move |bits| {
        let addr = u32::from(s.network()) | (bits & u32::from(s.hostmask()));
        IpNet::V4(Ipv4Net::new(addr.into(), 24).unwrap().trunc())
    })
}

#[test]
fn covering_all_private_space_leaves_no_room() {
    let ranges: Vec<NetworkRange> = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
        .iter()
        .map(|c| NetworkRange::parse(RangeKind::OnPrem, c, "--on-prem").unwrap())
        .collect();
    assert!(
        analyze(&ranges, &DockerSettings::default())
            .suggestion
            .is_err()
    );
}
