//! Upper case in the registry host of an image name (`MyAcr.azurecr.io/app:1`): Docker parses it, but
//! the login Batch makes for `registryServer` is looked up by the host as written, so the pull of a
//! private image goes without credentials.

use batchprep_oci::Reference;

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("registry-host-uppercase", &[Fact::Pool]);

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let message = |name: &str, host: &str| {
        format!(
            "`{name}` names its registry `{host}` with upper case; credentials are looked up by the host as written, so a login for `{}` is not used for this pull",
            host.to_ascii_lowercase()
        )
    };
    let fix = |name: &str, host: &str| {
        format!(
            "write the host in lower case: `{}`",
            name.replacen(host, &host.to_ascii_lowercase(), 1)
        )
    };
    for (field, reference) in f.prefetched() {
        if let Some(host) = uppercase_host(&reference) {
            out.push(
                f.finding(RULE, field, message(&field.value, host))
                    .with_fix(fix(&field.value, host)),
            );
        }
    }
    for task in f.tasks {
        let Some(image) = &task.image else { continue };
        let Ok(reference) = Reference::parse(image) else {
            continue;
        };
        if let Some(host) = uppercase_host(&reference) {
            out.push(
                Finding::new(RULE, format!("task {}", task.id), message(image, host))
                    .at(task.location.clone())
                    .with_fix(fix(image, host)),
            );
        }
    }
}

/// The registry host, when it has upper case (Docker Hub's is always `docker.io`).
fn uppercase_host(reference: &Reference) -> Option<&str> {
    let host = reference.registry.as_str();
    host.bytes().any(|b| b.is_ascii_uppercase()).then_some(host)
}
