//! An image from a registry that needs credentials, with no `containerRegistries` entry for it: nodes
//! fail to pull it at prefetch or at task start.

use batchprep_batch::spec::normalise_server;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("missing-registry-credentials", &[Fact::Pool]);

/// Registries that never serve anonymous pulls by default.
fn always_private(host: &str) -> bool {
    host.ends_with(".azurecr.io") || host.ends_with(".azurecr.cn") || host.ends_with(".azurecr.us")
}

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let registered: Vec<String> = f
        .pool
        .container
        .iter()
        .flat_map(|c| &c.registries)
        .filter_map(|r| r.server.as_ref())
        .map(|s| normalise_server(&s.value))
        .collect();
    let mut seen = Vec::new();
    for (field, reference) in f.prefetched() {
        let host = reference.registry.clone();
        let needs = always_private(&host) || f.registry.needs_credentials.contains(&host);
        if !needs || registered.contains(&host) || seen.contains(&host) {
            continue;
        }
        seen.push(host.clone());
        let why = if always_private(&host) {
            "Azure Container Registry needs credentials"
        } else {
            "the registry answered that credentials are required"
        };
        out.push(
            f.finding(
                RULE,
                field,
                format!("`{}` comes from `{host}` ({why}) and the pool has no `containerRegistries` entry for it", field.value),
            )
            .with_fix(format!(
                "add `{{\"registryServer\": \"{host}\", \"identityReference\": {{\"resourceId\": \"...\"}}}}` (or username and password) to `containerRegistries`"
            )),
        );
    }
}
