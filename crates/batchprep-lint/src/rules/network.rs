//! Docker's bridge and address pools against the networks a pool must reach: each overlap found by
//! `batchprep_batch::net::analyze` becomes a finding naming both ranges, where they meet, what
//! breaks, and the setting that fixes it.

use batchprep_batch::net::{DockerRange, NetAnalysis, Overlap, RangeKind, Suggestion};

use crate::{Finding, finding::Edit};

/// docker0 overlaps a range the node must reach (BP301).
pub mod docker_bridge_overlap {
    use crate::rules::{Fact, Rule};

    /// The rule.
    pub const RULE: Rule = Rule::new("docker-bridge-overlap", &[Fact::Network]);
}

/// A default address pool overlaps a range the node must reach (BP302).
pub mod docker_address_pool_overlap {
    use crate::rules::{Fact, Rule};

    /// The rule.
    pub const RULE: Rule = Rule::new("docker-address-pool-overlap", &[Fact::Network]);
}

/// The network rules.
pub const RULES: &[crate::rules::Rule] = &[
    docker_bridge_overlap::RULE,
    docker_address_pool_overlap::RULE,
];

/// One finding per overlap in `analysis`, in its order (bridge first, then pools). `start_task`
/// is the pool's edit to a start task that sets the suggested bridge and pools
/// ([`crate::rules::pool::PoolFacts::start_task_edit`]): each finding's fix, when there is room.
pub fn check(analysis: &NetAnalysis, start_task: Option<&Edit>) -> Vec<Finding> {
    let suggestion = analysis.suggestion.as_ref().ok();
    analysis
        .overlaps
        .iter()
        .map(|o| {
            let f = finding(o, suggestion);
            match start_task.filter(|_| suggestion.is_some()) {
                Some(edit) => f.with_edit(edit.clone()),
                None => f,
            }
        })
        .collect()
}

fn finding(o: &Overlap, suggestion: Option<&Suggestion>) -> Finding {
    let network = &o.network;
    let place = match network.kind {
        RangeKind::Vnet => "the VNet",
        RangeKind::Peered => "the peered VNet",
        RangeKind::OnPrem => "the on-premises network",
    };
    match o.docker {
        DockerRange::Bridge { cidr } => {
            let fix = match suggestion {
                Some(s) => format!(
                    "set `bip` to `{}` in /etc/docker/daemon.json before tasks run (the suggested daemon.json fragment has it)",
                    s.bip
                ),
                None => no_room_fix(),
            };
            Finding::new(
                docker_bridge_overlap::RULE,
                format!("docker0 {cidr}"),
                format!(
                    "docker0 {cidr} overlaps {network} on {}: traffic from containers to {} goes into the bridge and never reaches {place}",
                    o.intersection, o.intersection
                ),
            )
            .with_fix(fix)
        }
        DockerRange::AddressPool { cidr, size } => {
            let fix = match suggestion {
                Some(s) => format!(
                    "set `default-address-pools` in /etc/docker/daemon.json to the suggested {} pool{}, starting with {}",
                    s.default_address_pools.len(),
                    if s.default_address_pools.len() == 1 {
                        ""
                    } else {
                        "s"
                    },
                    s.default_address_pools
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
                None => no_room_fix(),
            };
            Finding::new(
                docker_address_pool_overlap::RULE,
                format!("default address pool {cidr}"),
                format!(
                    "default address pool {cidr} (size {size}) overlaps {network} on {}: containers on Docker networks taken from it cannot reach {} in {place}",
                    o.intersection, o.intersection
                ),
            )
            .with_fix(fix)
        }
    }
}

fn no_room_fix() -> String {
    "no private range is free for Docker: list only the ranges the node must reach, or give Docker ranges outside private space with --bip and --default-address-pools".to_owned()
}

#[cfg(test)]
mod tests {
    use batchprep_batch::net::{DockerSettings, NetworkRange, analyze};

    use super::*;
    use crate::Severity;

    fn run(kind: RangeKind, cidrs: &[&str]) -> Vec<Finding> {
        let ranges: Vec<NetworkRange> = cidrs
            .iter()
            .map(|c| NetworkRange::parse(kind, c, &format!("--{}", kind.key())).unwrap())
            .collect();
        check(&analyze(&ranges, &DockerSettings::default()), None)
    }

    #[test]
    fn a_vnet_on_docker0_is_an_error_with_the_new_bip() {
        let findings = run(RangeKind::Vnet, &["172.17.0.0/16"]);
        assert_eq!(findings.len(), 2);
        let bridge = &findings[0];
        assert_eq!(
            (bridge.id.as_str(), bridge.severity),
            ("BP301", Severity::Error)
        );
        assert_eq!(bridge.subject, "docker0 172.17.0.0/16");
        assert_eq!(
            bridge.message,
            "docker0 172.17.0.0/16 overlaps VNet range 172.17.0.0/16 (--vnet) on 172.17.0.0/16: traffic from containers to 172.17.0.0/16 goes into the bridge and never reaches the VNet"
        );
        assert_eq!(
            bridge.fix.as_deref(),
            Some(
                "set `bip` to `172.18.0.1/16` in /etc/docker/daemon.json before tasks run (the suggested daemon.json fragment has it)"
            )
        );
        let pool = &findings[1];
        assert_eq!(
            (pool.id.as_str(), pool.severity),
            ("BP302", Severity::Warning)
        );
        assert_eq!(
            pool.message,
            "default address pool 172.17.0.0/16 (size 16) overlaps VNet range 172.17.0.0/16 (--vnet) on 172.17.0.0/16: containers on Docker networks taken from it cannot reach 172.17.0.0/16 in the VNet"
        );
        assert_eq!(
            pool.fix.as_deref(),
            Some(
                "set `default-address-pools` in /etc/docker/daemon.json to the suggested 16 pools, starting with 172.18.0.0/16 size 16"
            )
        );
    }

    #[test]
    fn an_on_prem_range_inside_a_pool_is_named_with_the_intersection() {
        let findings = run(RangeKind::OnPrem, &["192.168.4.0/22"]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].subject, "default address pool 192.168.0.0/16");
        assert_eq!(
            findings[0].message,
            "default address pool 192.168.0.0/16 (size 20) overlaps on-premises range 192.168.4.0/22 (--on-prem) on 192.168.4.0/22: containers on Docker networks taken from it cannot reach 192.168.4.0/22 in the on-premises network"
        );
    }

    #[test]
    fn clear_ranges_give_no_finding() {
        assert!(run(RangeKind::Peered, &["10.0.0.0/8", "fd00::/8"]).is_empty());
    }

    #[test]
    fn no_room_says_so_in_the_fix() {
        let findings = run(
            RangeKind::OnPrem,
            &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        );
        assert_eq!(findings.len(), 17);
        assert!(
            findings
                .iter()
                .all(|f| f.fix.as_deref() == Some(no_room_fix().as_str()))
        );
    }
}
