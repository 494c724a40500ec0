//! The overlap and suggestion cases users meet, with the exact answers.

use super::*;

fn range(kind: RangeKind, text: &str) -> NetworkRange {
    NetworkRange::parse(kind, text, &format!("--{}", kind.key())).unwrap()
}

fn vnet(text: &str) -> NetworkRange {
    range(RangeKind::Vnet, text)
}

fn on_prem(text: &str) -> NetworkRange {
    range(RangeKind::OnPrem, text)
}

fn pools(s: &Suggestion) -> Vec<String> {
    s.default_address_pools
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn docker_sides(a: &NetAnalysis) -> Vec<String> {
    a.overlaps
        .iter()
        .map(|o| format!("{} ^ {} = {}", o.docker, o.network.cidr, o.intersection))
        .collect()
}

fn defaults() -> Vec<String> {
    docker_default_pools()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn clear_networks_keep_dockers_defaults() {
    let a = analyze(
        &[vnet("10.0.0.0/16"), on_prem("192.169.0.0/16")],
        &DockerSettings::default(),
    );
    assert!(a.overlaps.is_empty());
    assert!(a.notes.is_empty());
    let s = a.suggestion.unwrap();
    assert_eq!(s.bip.to_string(), "172.17.0.1/16");
    assert_eq!(pools(&s), defaults());
}

#[test]
fn vnet_on_docker0_moves_the_bridge_to_the_next_default_pool() {
    let a = analyze(&[vnet("172.17.0.0/16")], &DockerSettings::default());
    assert_eq!(
        docker_sides(&a),
        [
            "docker0 172.17.0.0/16 ^ 172.17.0.0/16 = 172.17.0.0/16",
            "default address pool 172.17.0.0/16 (size 16) ^ 172.17.0.0/16 = 172.17.0.0/16",
        ]
    );
    let s = a.suggestion.unwrap();
    assert_eq!(s.bip.to_string(), "172.18.0.1/16");
    let mut expected: Vec<String> = defaults()[1..].to_vec();
    // 30 networks left of Docker's 31: the free /16 of 172.16.0.0/12 makes up the one lost.
    expected.push("172.16.0.0/16 size 16".into());
    assert_eq!(pools(&s), expected);
    assert_eq!(
        s.daemon_json["default-address-pools"][0],
        serde_json::json!({"base": "172.18.0.0/16", "size": 16})
    );
    assert_eq!(s.daemon_json["bip"], "172.18.0.1/16");
}

#[test]
fn on_prem_172_16_12_covers_every_172_default_and_leaves_192_168() {
    let a = analyze(&[on_prem("172.16.0.0/12")], &DockerSettings::default());
    assert_eq!(a.overlaps.len(), 16, "docker0 and the 15 172.x pools");
    assert!(
        a.overlaps
            .iter()
            .all(|o| o.intersection.to_string() != "172.16.0.0/12")
    );
    assert_eq!(
        a.overlaps[15].intersection.to_string(),
        "172.31.0.0/16",
        "the intersection is the pool, inside the /12"
    );
    let s = a.suggestion.unwrap();
    assert_eq!(s.bip.to_string(), "192.168.0.1/20");
    assert_eq!(
        pools(&s),
        ["192.168.0.0/16 size 20", "10.0.0.0/8 size 16"],
        "16 /20s are fewer than Docker's 31 networks, so 10.0.0.0/8 is added as /16s"
    );
}

#[test]
fn a_192_168_range_carves_the_20s_pool_and_keeps_the_bridge() {
    let a = analyze(
        &[on_prem("192.168.1.0/24"), vnet("192.168.64.0/18")],
        &DockerSettings::default(),
    );
    assert_eq!(
        docker_sides(&a),
        [
            "default address pool 192.168.0.0/16 (size 20) ^ 192.168.1.0/24 = 192.168.1.0/24",
            "default address pool 192.168.0.0/16 (size 20) ^ 192.168.64.0/18 = 192.168.64.0/18",
        ]
    );
    let s = a.suggestion.unwrap();
    assert_eq!(s.bip.to_string(), "172.17.0.1/16");
    let mut expected: Vec<String> = defaults()[..15].to_vec();
    expected.extend([
        "192.168.16.0/20 size 20".into(),
        "192.168.32.0/19 size 20".into(),
        "192.168.128.0/17 size 20".into(),
        "172.16.0.0/16 size 16".into(),
        "10.0.0.0/8 size 16".into(),
    ]);
    assert_eq!(pools(&s), expected);
}

#[test]
fn host_bits_are_noted_and_checked_as_the_network() {
    let a = analyze(&[vnet("172.17.5.9/16")], &DockerSettings::default());
    assert_eq!(
        a.notes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["172.17.5.9/16 (--vnet) has host bits set; checked as 172.17.0.0/16"]
    );
    assert_eq!(a.overlaps[0].network.cidr.to_string(), "172.17.0.0/16");
}

#[test]
fn all_private_space_taken_leaves_no_room() {
    let a = analyze(
        &[
            on_prem("10.0.0.0/8"),
            on_prem("172.16.0.0/12"),
            on_prem("192.168.0.0/16"),
        ],
        &DockerSettings::default(),
    );
    assert_eq!(a.overlaps.len(), 17);
    assert_eq!(
        a.suggestion.unwrap_err().reason,
        "no free range is left for Docker's address pools: the 3 ranges given cover the current pools and private address space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
    );
}

#[test]
fn a_single_free_24_is_still_room() {
    // Everything private except 10.255.255.0/24.
    let mut ranges = vec![on_prem("172.16.0.0/12"), on_prem("192.168.0.0/16")];
    let mut net: IpNet = "10.0.0.0/9".parse().unwrap();
    for _ in 0..16 {
        ranges.push(on_prem(&net.to_string()));
        // Halving: 10.128.0.0/10, 10.192.0.0/11 ... 10.255.254.0/24.
        net = upper_half_after(net);
    }
    let a = analyze(&ranges, &DockerSettings::default());
    let s = a.suggestion.unwrap();
    assert_eq!(pools(&s), ["10.255.255.0/24 size 24"]);
    assert_eq!(s.bip.to_string(), "10.255.255.1/24");
}

/// The first half of what follows `net`: 10.0.0.0/9 -> 10.128.0.0/10.
fn upper_half_after(net: IpNet) -> IpNet {
    let IpNet::V4(n) = net else { unreachable!() };
    let next = u32::from(n.broadcast()) + 1;
    IpNet::V4(ipnet::Ipv4Net::new(next.into(), n.prefix_len() + 1).unwrap())
}

#[test]
fn user_pools_are_carved_and_kept_in_their_order() {
    let docker = DockerSettings {
        bip: Some("10.200.0.1/24".parse().unwrap()),
        default_address_pools: Some(vec![
            AddressPool::parse("10.201.0.0/16/24", "t").unwrap(),
            AddressPool::parse("10.202.0.0/16/24", "t").unwrap(),
        ]),
    };
    let a = analyze(&[vnet("10.201.0.0/17")], &docker);
    assert_eq!(
        docker_sides(&a),
        ["default address pool 10.201.0.0/16 (size 24) ^ 10.201.0.0/17 = 10.201.0.0/17"]
    );
    let s = a.suggestion.unwrap();
    assert_eq!(
        s.bip.to_string(),
        "10.200.0.1/24",
        "the clear bridge stays as given"
    );
    assert_eq!(
        pools(&s),
        ["10.201.128.0/17 size 24", "10.202.0.0/16 size 24"]
    );
}

#[test]
fn an_ipv6_bridge_moves_within_fd00_8_and_ipv4_pools_stay() {
    let docker = DockerSettings {
        bip: Some("fd00:1::1/64".parse().unwrap()),
        default_address_pools: None,
    };
    let a = analyze(&[vnet("fd00::/16"), vnet("10.0.0.0/16")], &docker);
    assert_eq!(
        docker_sides(&a),
        ["docker0 fd00:1::/64 ^ fd00::/16 = fd00:1::/64"]
    );
    let s = a.suggestion.unwrap();
    assert_eq!(s.bip.to_string(), "fd01::1/64");
    assert_eq!(pools(&s), defaults());
}

#[test]
fn ipv6_pools_fall_back_to_fd00_8() {
    let docker = DockerSettings {
        bip: None,
        default_address_pools: Some(vec![AddressPool::parse("fd00:aa::/48/64", "t").unwrap()]),
    };
    let a = analyze(&[on_prem("fd00:aa::/48")], &docker);
    assert_eq!(a.overlaps.len(), 2, "the bridge is the pool's first /64");
    let s = a.suggestion.unwrap();
    assert_eq!(pools(&s), ["fd00::/25 size 64"]);
    assert_eq!(s.bip.to_string(), "fd00::1/64");
}

#[test]
fn the_result_does_not_depend_on_input_order() {
    let forward = [
        vnet("172.18.0.0/16"),
        on_prem("192.168.32.0/20"),
        vnet("172.17.0.0/16"),
    ];
    let mut backward = forward.clone();
    backward.reverse();
    let (a, b) = (
        analyze(&forward, &DockerSettings::default()),
        analyze(&backward, &DockerSettings::default()),
    );
    assert_eq!(a.suggestion, b.suggestion);
    assert_eq!(a.overlaps.len(), b.overlaps.len());
}

#[test]
fn address_pools_parse_both_spellings_and_refuse_bad_sizes() {
    let p = AddressPool::parse("10.10.0.0/16/24", "--default-address-pools").unwrap();
    assert_eq!(p.to_string(), "10.10.0.0/16 size 24");
    assert_eq!(
        AddressPool::parse("base=10.10.0.0/16,size=24", "x").unwrap(),
        p
    );
    for (text, message) in [
        (
            "10.10.0.0/16",
            "--default-address-pools: invalid address pool `10.10.0.0/16`: expected BASE/SIZE, e.g. 10.10.0.0/16/24",
        ),
        (
            "10.10.0.0/16/8",
            "--default-address-pools: invalid address pool `10.10.0.0/16/8`: size 8 is shorter than the base prefix /16",
        ),
        (
            "10.10.0.0/16/33",
            "--default-address-pools: invalid address pool `10.10.0.0/16/33`: size 33 is longer than 32 bits",
        ),
        (
            "10.10.0.0/16/x",
            "--default-address-pools: invalid address pool `10.10.0.0/16/x`: the size is not a prefix length",
        ),
        (
            "10.10.0.300/16/24",
            "--default-address-pools: invalid CIDR `10.10.0.300/16`: `10.10.0.300` is not an IPv4 or IPv6 address",
        ),
    ] {
        let err = AddressPool::parse(text, "--default-address-pools").unwrap_err();
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn invalid_cidrs_name_their_origin() {
    let err = NetworkRange::parse(RangeKind::Vnet, "10.0.0.300/8", "--vnet").unwrap_err();
    assert_eq!(
        err.to_string(),
        "--vnet: invalid CIDR `10.0.0.300/8`: `10.0.0.300` is not an IPv4 or IPv6 address"
    );
}

#[test]
fn network_spec_reads_the_config_section() {
    let table: toml::Table = toml::from_str(
        r#"
        vnet = ["10.0.0.0/16"]
        on-prem = ["172.16.0.0/12"]
        bip = "10.200.0.1/24"
        default-address-pools = [{ base = "10.201.0.0/16", size = 24 }]
        "#,
    )
    .unwrap();
    let spec = NetworkSpec::from_table(&table, "batchprep.toml").unwrap();
    let ranges = spec.ranges("batchprep.toml").unwrap();
    assert_eq!(
        ranges.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "VNet range 10.0.0.0/16 (batchprep.toml [network] vnet)",
            "on-premises range 172.16.0.0/12 (batchprep.toml [network] on-prem)",
        ]
    );
    let docker = spec.docker_settings("batchprep.toml").unwrap();
    assert_eq!(docker.bip.unwrap().to_string(), "10.200.0.1/24");
    assert_eq!(
        docker.default_address_pools.unwrap(),
        [AddressPool::parse("10.201.0.0/16/24", "t").unwrap()]
    );
}

#[test]
fn network_spec_errors_name_the_key() {
    let table: toml::Table = toml::from_str(r#"vnets = ["10.0.0.0/16"]"#).unwrap();
    let err = NetworkSpec::from_table(&table, "b.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.toml [network]: unknown field `vnets`, expected one of `vnet`, `peered`, `on-prem`, `bip`, `default-address-pools`"
    );
    let table: toml::Table = toml::from_str(r#"peered = ["10.1.0.0/33"]"#).unwrap();
    let err = NetworkSpec::from_table(&table, "b.toml")
        .unwrap()
        .ranges("b.toml")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.toml [network] peered: invalid CIDR `10.1.0.0/33`: prefix length 33 is longer than 32 bits"
    );
}

#[test]
fn pools_without_bip_also_check_the_docker0_that_is_kept() {
    // The VNet is Docker's default bridge network; the user moved the pools but set no bip. On a
    // node where Docker already ran, docker0 keeps 172.17.0.1/16 after the data-root move.
    let docker = DockerSettings {
        bip: None,
        default_address_pools: Some(vec![AddressPool::parse("10.200.0.0/16/24", "t").unwrap()]),
    };
    assert_eq!(docker.kept_bridge().unwrap().to_string(), "172.17.0.0/16");
    let a = analyze(&[vnet("172.17.0.0/16")], &docker);
    assert_eq!(
        docker_sides(&a),
        ["docker0 172.17.0.0/16 ^ 172.17.0.0/16 = 172.17.0.0/16"]
    );
    let s = a.suggestion.unwrap();
    assert_eq!(
        s.bip.to_string(),
        "10.200.0.1/24",
        "the suggestion writes the bip down"
    );
    // With bip set, or with Docker's own pools, only docker0 itself counts.
    let with_bip = DockerSettings {
        bip: Some("10.199.0.1/24".parse().unwrap()),
        ..docker.clone()
    };
    assert_eq!(with_bip.kept_bridge(), None);
    assert!(
        analyze(&[vnet("172.17.0.0/16")], &with_bip)
            .overlaps
            .is_empty()
    );
    assert_eq!(DockerSettings::default().kept_bridge(), None);
}
