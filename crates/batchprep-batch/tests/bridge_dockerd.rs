//! The bridge facts `batchprep_batch::net` models, each checked on a real Moby dockerd (Debian's
//! `docker.io`, 20.10.24) running with docker0 inside a network namespace made for the test (a
//! veth `eth0` for the node's subnet, routes and `/etc/resolv.conf` of its own), one daemon per
//! test. No stand-in: the addresses are what the kernel and `docker network inspect` report, and
//! each is compared with what the model answers. Needs root and `scripts/install-test-deps`.

use std::fs;

use batchprep_batch::net::{
    AddressPool, DockerSettings, NodeNetwork, Restart, docker0_after_restart, docker0_from_pools,
    user_networks,
};
use batchprep_testkit::dockerd::{Dockerd, DockerdOptions, NetNs};
use ipnet::IpNet;
use serde_json::{Value, json};

/// A namespace whose `eth0` (a veth, its peer in the same namespace) has `address`, so that
/// its subnet is an on-link route.
fn node_ns(address: &str) -> NetNs {
    let ns = NetNs::new();
    ns.run(&[
        "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
    ]);
    ns.run(&["ip", "link", "set", "eth0p", "up"]);
    ns.run(&["ip", "link", "set", "eth0", "up"]);
    ns.run(&["ip", "addr", "add", address, "dev", "eth0"]);
    ns
}

fn bridge_daemon(ns: &NetNs, config: Value) -> Dockerd {
    Dockerd::start(DockerdOptions::default().netns(ns).bridge().config(config))
}

/// docker0's IPv4 address, e.g. `172.17.0.1/16`.
fn docker0(ns: &NetNs) -> String {
    let out = ns.run(&["ip", "-4", "-o", "addr", "show", "dev", "docker0"]);
    let mut words = out.split_whitespace();
    words.find(|w| *w == "inet");
    words.next().unwrap_or_default().to_owned()
}

fn subnet(docker: &Dockerd, network: &str) -> String {
    let config: Value = serde_json::from_str(&docker.docker(&[
        "network",
        "inspect",
        network,
        "--format",
        "{{json .IPAM.Config}}",
    ]))
    .unwrap();
    config[0]["Subnet"].as_str().unwrap().to_owned()
}

/// Creates `count` user networks and returns their subnets, in order.
fn create_networks(docker: &Dockerd, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let name = format!("user{i}");
            docker.docker(&["network", "create", &name]);
            subnet(docker, &name)
        })
        .collect()
}

fn remove_networks(docker: &Dockerd, count: usize) {
    for i in 0..count {
        docker.docker(&["network", "rm", &format!("user{i}")]);
    }
}

fn pool(text: &str) -> AddressPool {
    AddressPool::parse(text, "test").unwrap()
}

fn strings(nets: &[IpNet]) -> Vec<String> {
    nets.iter().map(ToString::to_string).collect()
}

fn cidr(text: &str) -> IpNet {
    text.parse().unwrap()
}

#[test]
fn pools_without_bip_docker0_takes_the_first_network_clear_of_on_link_routes_and_nameservers() {
    // eth0 on 10.50.0.0/24 (on-link), a nameserver in 10.50.1.0/24, and 10.50.2.0/24 reached via a
    // gateway: Docker skips the first two and takes the third.
    let ns = node_ns("10.50.0.10/24");
    ns.run(&["ip", "route", "add", "10.50.2.0/24", "via", "10.50.0.254"]);
    ns.resolv_conf("nameserver 10.50.1.53\n");
    let docker = bridge_daemon(
        &ns,
        json!({"default-address-pools": [{"base": "10.50.0.0/16", "size": 24}]}),
    );
    let pools = [pool("10.50.0.0/16/24")];
    let node = NodeNetwork {
        on_link: vec![cidr("10.50.0.0/24")],
        nameservers: vec!["10.50.1.53".parse().unwrap()],
    };
    let model = docker0_from_pools(&pools, &node).unwrap();
    assert_eq!(model.to_string(), "10.50.2.1/24");
    assert_eq!(docker0(&ns), model.to_string(), "{}", docker.log());
    assert_eq!(subnet(&docker, "bridge"), "10.50.2.0/24");
    // User networks skip the same ranges, and docker0's.
    let created = create_networks(&docker, 3);
    assert_eq!(created, ["10.50.3.0/24", "10.50.4.0/24", "10.50.5.0/24"]);
    assert_eq!(
        strings(&user_networks(&pools, Some(model), &node, 3)),
        created
    );
}

#[test]
fn an_existing_docker0_keeps_its_address_after_a_data_root_move_and_with_live_restore() {
    let ns = NetNs::new();
    let dir = tempfile::tempdir().unwrap();
    let root = |n: u32| dir.path().join(format!("root{n}")).display().to_string();
    let config = dir.path().join("daemon.json");
    fs::write(&config, json!({"data-root": root(1)}).to_string()).unwrap();
    let docker = Dockerd::start(
        DockerdOptions::default()
            .netns(&ns)
            .bridge()
            .data_root_in_config()
            .config_file(&config),
    );
    let stock = "172.17.0.1/16";
    assert_eq!(docker0(&ns), stock);
    let node = NodeNetwork::default();
    let before = cidr(stock);
    // Writes the config, restarts dockerd on it, and checks docker0 against `expected` and the
    // model.
    let check = |settings: Value, restart: Restart, expected: &str| {
        fs::write(&config, settings.to_string()).unwrap();
        docker.restart().unwrap();
        assert_eq!(docker0(&ns), expected, "{settings}\n{}", docker.log());
        let model =
            docker0_after_restart(Some(before), &docker_settings(&settings), restart, &node);
        assert_eq!(
            model.map(|m| m.to_string()).as_deref(),
            Some(expected),
            "{settings}"
        );
    };
    let moved = Restart {
        same_data_root: false,
        live_restore: false,
    };
    // 1. Pools changed and the data root moved: docker0 stays on 172.17.0.1/16.
    check(
        json!({"data-root": root(2), "default-address-pools": [{"base": "10.60.0.0/16", "size": 24}]}),
        moved,
        stock,
    );
    assert_eq!(subnet(&docker, "bridge"), "172.17.0.0/16");
    // 2. Pools changed again, same data root, live-restore on: docker0 stays.
    check(
        json!({"data-root": root(2), "live-restore": true, "default-address-pools": [{"base": "10.61.0.0/16", "size": 24}]}),
        Restart {
            same_data_root: true,
            live_restore: true,
        },
        stock,
    );
    // 3. Same data root without live-restore: docker0 is made again from the pools.
    check(
        json!({"data-root": root(2), "default-address-pools": [{"base": "10.62.0.0/16", "size": 24}]}),
        Restart {
            same_data_root: true,
            live_restore: false,
        },
        "10.62.0.1/24",
    );
    // 4. The remedy: with bip set, docker0 goes where bip says, after a data-root move too.
    check(
        json!({"data-root": root(3), "bip": "10.63.0.1/24", "default-address-pools": [{"base": "10.63.0.0/16", "size": 24}]}),
        moved,
        "10.63.0.1/24",
    );
}

/// The bridge settings of a daemon.json.
fn docker_settings(config: &Value) -> DockerSettings {
    DockerSettings {
        bip: config["bip"].as_str().map(cidr),
        default_address_pools: config["default-address-pools"].as_array().map(|pools| {
            pools
                .iter()
                .map(|p| pool(&format!("{}/{}", p["base"].as_str().unwrap(), p["size"])))
                .collect()
        }),
    }
}

#[test]
fn an_explicit_bip_is_not_checked_against_routes_or_nameservers() {
    // bip on the node's own subnet, where the nameserver is too: Docker takes it as given, and the
    // subnet now has two on-link routes.
    let ns = node_ns("10.50.0.10/24");
    ns.resolv_conf("nameserver 10.50.0.53\n");
    let docker = bridge_daemon(&ns, json!({"bip": "10.50.0.1/24"}));
    assert_eq!(docker0(&ns), "10.50.0.1/24", "{}", docker.log());
    assert_eq!(subnet(&docker, "bridge"), "10.50.0.0/24");
    let routes = ns.run(&["ip", "-4", "route", "show", "10.50.0.0/24"]);
    assert!(
        routes.contains("dev eth0") && routes.contains("dev docker0"),
        "{routes}"
    );
    let settings = docker_settings(&json!({"bip": "10.50.0.1/24"}));
    assert_eq!(
        docker0_after_restart(
            None,
            &settings,
            Restart {
                same_data_root: true,
                live_restore: false
            },
            &NodeNetwork {
                on_link: vec![cidr("10.50.0.0/24")],
                nameservers: vec!["10.50.0.53".parse().unwrap()],
            },
        ),
        Some(cidr("10.50.0.1/24"))
    );
}

#[test]
fn user_networks_skip_a_bip_inside_a_pool() {
    let ns = NetNs::new();
    let docker = bridge_daemon(
        &ns,
        json!({"bip": "10.80.1.1/24", "default-address-pools": [{"base": "10.80.0.0/16", "size": 24}]}),
    );
    let pools = [pool("10.80.0.0/16/24")];
    assert_eq!(docker0(&ns), "10.80.1.1/24");
    let created = create_networks(&docker, 3);
    assert_eq!(created, ["10.80.0.0/24", "10.80.2.0/24", "10.80.3.0/24"]);
    assert_eq!(
        strings(&user_networks(
            &pools,
            Some(cidr("10.80.1.1/24")),
            &NodeNetwork::default(),
            3
        )),
        created
    );
    remove_networks(&docker, 3);

    // A bip covering the whole pool leaves no network in it.
    fs::write(
        docker.config_file(),
        json!({"bip": "10.80.0.1/16", "default-address-pools": [{"base": "10.80.0.0/16", "size": 24}]})
            .to_string(),
    )
    .unwrap();
    docker.restart().unwrap();
    assert_eq!(docker0(&ns), "10.80.0.1/16");
    let out = docker.docker_output(&["network", "create", "user0"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not find an available, non-overlapping IPv4 address pool"),
        "{stderr}"
    );
    assert!(
        user_networks(
            &pools,
            Some(cidr("10.80.0.1/16")),
            &NodeNetwork::default(),
            1
        )
        .is_empty()
    );
}
