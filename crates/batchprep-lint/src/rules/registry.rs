//! Registry rules over the pull probe's results: images a node could not pull
//! (`image-not-pullable`, BP202) and Docker Hub pulls beyond the quota of the pool's egress
//! addresses (`docker-hub-rate-limit-risk`, BP201).
//!
//! Probing is I/O and lives in `batchprep-oci` (`registry::probe_all`); these functions only read its
//! results, so `registry check` and `check` turn the same facts into the same findings.

use batchprep_oci::registry::{Outcome, ProbeResult, hub};

use crate::{Finding, Severity};

/// A registry answered that a node could not pull the image.
pub mod image_not_pullable {
    use crate::rules::{Fact, Rule};

    /// The rule.
    pub const RULE: Rule = Rule::new("image-not-pullable", &[Fact::Registry]);
}

/// Docker Hub pulls beyond the quota of the pool's egress addresses.
pub mod docker_hub_rate_limit_risk {
    use crate::rules::{Fact, Rule};

    /// The rule.
    pub const RULE: Rule = Rule::new("docker-hub-rate-limit-risk", &[Fact::Registry, Fact::Pool]);
}

/// The registry rules.
pub const RULES: &[crate::rules::Rule] =
    &[image_not_pullable::RULE, docker_hub_rate_limit_risk::RULE];

/// One `image-not-pullable` finding per reference the registry refused. Inconclusive outcomes
/// (`unreachable`, `tls-error`, `error`) are not findings: the caller reports them as "could not
/// check" (exit 2).
pub fn not_pullable(results: &[ProbeResult]) -> Vec<Finding> {
    results
        .iter()
        .filter(|r| r.outcome.is_not_pullable())
        .map(|r| {
            let detail = r.detail.as_deref().unwrap_or("");
            let message = if detail.is_empty() {
                r.outcome.to_string()
            } else {
                format!("{}: {detail}", r.outcome)
            };
            Finding::new(image_not_pullable::RULE, r.reference.to_string(), message)
                .with_fix(fix_for(r))
        })
        .collect()
}

fn fix_for(r: &ProbeResult) -> String {
    let registry = &r.registry;
    match r.outcome {
        Outcome::CredentialsRequired => format!(
            "add credentials for {registry} to the pool's `containerRegistries` (and to this check: --creds, auth.json or docker config); if the repository is public, check its name"
        ),
        Outcome::BadCredentials => format!("the credentials for {registry} were refused: renew the password or token"),
        Outcome::Denied => format!(
            "the credentials for {registry} may not pull {}: grant pull access (ACR: AcrPull)",
            r.reference.repository
        ),
        Outcome::RepositoryNotFound => format!("push the image, or fix the repository name `{}`", r.reference.repository),
        Outcome::ManifestNotFound => format!(
            "push `{}`, or fix the tag or digest",
            r.reference.manifest_reference()
        ),
        Outcome::RateLimited => {
            "authenticate to Docker Hub or mirror the image into ACR; see `batchprep explain docker-hub-rate-limit-risk`".into()
        }
        _ => String::new(),
    }
}

/// What the pool pulls from Docker Hub and through how many addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolPulls {
    /// Nodes that pull the images (dedicated plus low-priority, or the autoscale maximum).
    pub nodes: u64,
    /// Distinct egress addresses the nodes pull through (1 behind one NAT).
    pub egress_addresses: u64,
    /// Architectures pulled per image (1 unless the pool mixes architectures).
    pub architectures: u64,
    /// The quota per address per window, overriding what the probe saw (`--hub-limit`).
    pub quota_override: Option<u64>,
}

impl PoolPulls {
    /// What `pool` pulls: its fixed node count unless `nodes` says, and its egress addresses unless
    /// `egress_addresses` says. Without public addresses every node pulls through one NAT; with
    /// Batch-managed public IPs Batch gives one address per 100 nodes.
    pub fn of_pool(
        pool: &batchprep_batch::pool::PoolDefinition,
        nodes: Option<u64>,
        egress_addresses: Option<u64>,
        quota_override: Option<u64>,
    ) -> PoolPulls {
        let nodes = nodes.or(pool.fixed_node_count()).unwrap_or(1).max(1);
        let egress = egress_addresses.unwrap_or_else(|| {
            match pool.public_ip_provision.as_ref().map(|p| p.value.as_str()) {
                Some("nopublicipaddresses") => 1,
                _ => nodes.div_ceil(100),
            }
        });
        PoolPulls {
            nodes,
            egress_addresses: egress.max(1),
            architectures: 1,
            quota_override,
        }
    }
}

impl Default for PoolPulls {
    fn default() -> Self {
        PoolPulls {
            nodes: 1,
            egress_addresses: 1,
            architectures: 1,
            quota_override: None,
        }
    }
}

/// Where the quota per address came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaBasis {
    /// `--hub-limit`.
    Override,
    /// `ratelimit-remaining` as the probe saw it.
    Remaining,
    /// `ratelimit-limit` as the probe saw it (no remaining count).
    Limit,
    /// The documented limit for anonymous pulls.
    DocumentedAnonymous,
    /// The documented limit for an authenticated Personal account.
    DocumentedAuthenticated,
}

/// The facts behind a `docker-hub-rate-limit-risk` finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRisk {
    /// The Docker Hub references, normalised.
    pub images: Vec<String>,
    /// Nodes that pull through one address (the busiest address).
    pub nodes_per_address: u64,
    /// Pulls each address needs: nodes per address x images x architectures.
    pub pulls_per_address: u64,
    /// Pulls each address may make in the window.
    pub quota: u64,
    /// Where `quota` came from.
    pub basis: QuotaBasis,
    /// Whether the probe pulled with Docker Hub credentials.
    pub authenticated: bool,
    /// The pool as given.
    pub pool: PoolPulls,
}

/// The Docker Hub demand against the quota, or `None` when no Docker Hub image is pulled or the
/// account is not limited (Docker Hub sent no rate-limit headers to authenticated pulls).
pub fn hub_risk(results: &[ProbeResult], pool: PoolPulls) -> Option<HubRisk> {
    let hub: Vec<&ProbeResult> = results
        .iter()
        .filter(|r| r.is_docker_hub() && !r.outcome.is_inconclusive())
        .collect();
    let mut images: Vec<String> = hub.iter().map(|r| r.reference.to_string()).collect();
    images.sort();
    images.dedup();
    if images.is_empty() {
        return None;
    }
    let authenticated = hub.iter().any(|r| r.authenticated());
    let limits: Vec<_> = hub.iter().filter_map(|r| r.rate_limit.as_ref()).collect();
    let rate_limited = hub.iter().any(|r| r.outcome == Outcome::RateLimited);
    let (quota, basis) = if let Some(q) = pool.quota_override {
        (q, QuotaBasis::Override)
    } else if let Some(rem) = limits.iter().filter_map(|l| l.remaining).min() {
        (rem, QuotaBasis::Remaining)
    } else if rate_limited {
        (0, QuotaBasis::Remaining)
    } else if let Some(lim) = limits.iter().filter_map(|l| l.limit).min() {
        (lim, QuotaBasis::Limit)
    } else if hub.iter().any(|r| r.outcome == Outcome::Pullable) {
        // Docker Hub sends no rate-limit headers to unlimited (paid) accounts.
        return None;
    } else if authenticated {
        (
            hub::AUTHENTICATED_PULLS,
            QuotaBasis::DocumentedAuthenticated,
        )
    } else {
        (hub::ANONYMOUS_PULLS, QuotaBasis::DocumentedAnonymous)
    };
    let addresses = pool.egress_addresses.max(1);
    let nodes_per_address = pool.nodes.div_ceil(addresses);
    let pulls_per_address = nodes_per_address * images.len() as u64 * pool.architectures.max(1);
    Some(HubRisk {
        images,
        nodes_per_address,
        pulls_per_address,
        quota,
        basis,
        authenticated,
        pool,
    })
}

/// The `docker-hub-rate-limit-risk` finding for `risk`: an error when the pulls per address exceed
/// the quota, a warning above 80% of it, nothing below.
pub fn docker_hub_rate_limit_risk(risk: &HubRisk) -> Option<Finding> {
    let over = risk.pulls_per_address > risk.quota;
    let near = risk.pulls_per_address * 5 > risk.quota * 4;
    if !over && !near {
        return None;
    }
    let basis = match risk.basis {
        QuotaBasis::Override => "--hub-limit".to_owned(),
        QuotaBasis::Remaining => "remaining now, from Docker Hub's ratelimit-remaining".to_owned(),
        QuotaBasis::Limit => "Docker Hub's ratelimit-limit".to_owned(),
        QuotaBasis::DocumentedAnonymous => "documented anonymous limit".to_owned(),
        QuotaBasis::DocumentedAuthenticated => "documented Personal-account limit".to_owned(),
    };
    let window_hours = hub::WINDOW_SECS / 3600;
    let n = risk.images.len();
    let message = format!(
        "{} node(s) through {} egress address(es) pull {n} Docker Hub image(s) x {} architecture(s): {} pulls per address per {window_hours} h against a quota of {} ({basis}, {}): {}",
        risk.pool.nodes,
        risk.pool.egress_addresses.max(1),
        risk.pool.architectures.max(1),
        risk.pulls_per_address,
        risk.quota,
        if risk.authenticated {
            "authenticated"
        } else {
            "anonymous"
        },
        risk.images.join(", "),
    );
    let mut fixes = Vec::new();
    if !risk.authenticated {
        fixes.push(format!(
            "give the pool Docker Hub credentials ({} pulls per {window_hours} h per address on a Personal account, unlimited on paid plans)",
            hub::AUTHENTICATED_PULLS
        ));
    }
    fixes.push(
        "mirror the images into ACR (`az acr import` or an ACR cache rule for docker.io)".into(),
    );
    if n > 1 {
        fixes.push("pull fewer Docker Hub images".into());
    }
    let needed = risk
        .pool
        .nodes
        .div_ceil((risk.quota / (n as u64 * risk.pool.architectures.max(1))).max(1));
    if risk.quota > 0 && needed > risk.pool.egress_addresses {
        fixes.push(format!(
            "spread the nodes over at least {needed} egress addresses"
        ));
    }
    let finding = Finding::new(
        docker_hub_rate_limit_risk::RULE,
        "Docker Hub pulls",
        message,
    )
    .with_fix(fixes.join("; "));
    Some(if over {
        finding.with_severity(Severity::Error)
    } else {
        finding
    })
}

/// Both registry rules over one probe run.
pub fn check(results: &[ProbeResult], pool: PoolPulls) -> Vec<Finding> {
    let mut findings = not_pullable(results);
    if let Some(f) = hub_risk(results, pool)
        .as_ref()
        .and_then(docker_hub_rate_limit_risk)
    {
        findings.push(f);
    }
    findings
}

#[cfg(test)]
mod tests {
    use batchprep_oci::{
        Reference,
        registry::{AuthScheme, AuthUsed, RateLimit},
    };

    use super::*;

    fn result(reference: &str, outcome: Outcome, remaining: Option<u64>) -> ProbeResult {
        let reference = Reference::parse(reference).unwrap();
        ProbeResult {
            registry: reference.registry.clone(),
            reference,
            outcome,
            digest: None,
            media_type: None,
            platforms: vec![],
            auth: AuthUsed {
                scheme: AuthScheme::Bearer,
                username: None,
                source: None,
            },
            rate_limit: remaining.map(|r| RateLimit {
                limit: Some(100),
                remaining: Some(r),
                window_secs: Some(21600),
                source: Some("192.0.2.1".into()),
            }),
            retry_after_secs: None,
            detail: Some("anonymous pulls of x are refused (401)".into()),
        }
    }

    #[test]
    fn nat_pool_over_the_anonymous_quota_is_an_error() {
        let results = [
            result("ubuntu:24.04", Outcome::Pullable, Some(76)),
            result("python:3.12", Outcome::Pullable, Some(80)),
            result("myacr.azurecr.io/app:1", Outcome::Pullable, None),
        ];
        let pool = PoolPulls {
            nodes: 50,
            ..PoolPulls::default()
        };
        let risk = hub_risk(&results, pool).unwrap();
        assert_eq!(
            (risk.pulls_per_address, risk.quota, risk.basis.clone()),
            (100, 76, QuotaBasis::Remaining)
        );
        let f = docker_hub_rate_limit_risk(&risk).unwrap();
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.message,
            "50 node(s) through 1 egress address(es) pull 2 Docker Hub image(s) x 1 architecture(s): 100 pulls per address per 6 h against a quota of 76 (remaining now, from Docker Hub's ratelimit-remaining, anonymous): docker.io/library/python:3.12, docker.io/library/ubuntu:24.04"
        );
        assert_eq!(
            f.fix.as_deref(),
            Some(
                "give the pool Docker Hub credentials (200 pulls per 6 h per address on a Personal account, unlimited on paid plans); mirror the images into ACR (`az acr import` or an ACR cache rule for docker.io); pull fewer Docker Hub images; spread the nodes over at least 2 egress addresses"
            )
        );
    }

    #[test]
    fn more_addresses_lower_the_pulls_per_address() {
        let results = [result("ubuntu", Outcome::Pullable, Some(100))];
        let pool = |nodes, egress_addresses| PoolPulls {
            nodes,
            egress_addresses,
            ..PoolPulls::default()
        };
        // 200 nodes, 2 addresses: 100 pulls each, exactly the quota: a warning (over 80%).
        let risk = hub_risk(&results, pool(200, 2)).unwrap();
        assert_eq!(risk.pulls_per_address, 100);
        assert_eq!(
            docker_hub_rate_limit_risk(&risk).unwrap().severity,
            Severity::Warning
        );
        // 200 nodes, 4 addresses: 50 each: fine.
        let risk = hub_risk(&results, pool(200, 4)).unwrap();
        assert_eq!(docker_hub_rate_limit_risk(&risk), None);
    }

    #[test]
    fn no_headers_means_unlimited_and_override_wins() {
        let results = [result("ubuntu", Outcome::Pullable, None)];
        assert_eq!(
            hub_risk(
                &results,
                PoolPulls {
                    nodes: 1000,
                    ..PoolPulls::default()
                }
            ),
            None
        );
        let risk = hub_risk(
            &results,
            PoolPulls {
                nodes: 1000,
                quota_override: Some(200),
                ..PoolPulls::default()
            },
        )
        .unwrap();
        assert_eq!((risk.quota, risk.basis), (200, QuotaBasis::Override));
    }

    #[test]
    fn refused_images_are_findings_inconclusive_ones_are_not() {
        let results = [
            result("ubuntu", Outcome::CredentialsRequired, None),
            result("myacr.azurecr.io/app:1", Outcome::Unreachable, None),
        ];
        let findings = not_pullable(&results);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].id, "BP202");
        assert_eq!(findings[0].subject, "docker.io/library/ubuntu:latest");
        assert_eq!(
            findings[0].message,
            "credentials-required: anonymous pulls of x are refused (401)"
        );
        // A credentials-required Hub image, with no headers seen, is counted at the documented limit.
        let risk = hub_risk(
            &results,
            PoolPulls {
                nodes: 150,
                ..PoolPulls::default()
            },
        )
        .unwrap();
        assert_eq!(
            (risk.quota, risk.basis),
            (100, QuotaBasis::DocumentedAnonymous)
        );
    }
}
