//! `registryServer` must be a registry host (`myacr.azurecr.io`, `docker.io`), not a URL, a web site, a
//! bare name or one of Docker Hub's other host names.

use batchprep_oci::safe_text::{redact_userinfo, value};

use super::PoolFacts;
use crate::{
    Finding,
    finding::{Change, Edit},
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("invalid-registry-server", &[Fact::Pool]);

/// Web front ends people paste instead of the registry host.
const WEB_HOSTS: &[&str] = &[
    "hub.docker.com",
    "www.docker.com",
    "docker.com",
    "portal.azure.com",
];

/// Docker Hub's other names: its registry API host and its legacy index. Image references name Docker
/// Hub `docker.io`, and credentials are looked up by the registry name an image resolves to.
const HUB_ALIASES: &[&str] = &["index.docker.io", "registry-1.docker.io"];

/// Docker's test for the first component of a reference being a registry: it has a `.` or a `:`, or is
/// `localhost`. Anything else is a single label, which is never a reference's registry.
fn is_single_label(host: &str) -> bool {
    !host.is_empty() && !host.contains(['.', ':']) && !host.eq_ignore_ascii_case("localhost")
}

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    let Some(c) = &f.pool.container else { return };
    for server in c.registries.iter().filter_map(|r| r.server.as_ref()) {
        // `https://user:password@host` must not repeat the password in the message or the fix.
        let s = redact_userinfo(server.value.trim());
        let (problem, authority) = if let Some((scheme, rest)) = s.split_once("://") {
            (
                Some(format!("has a scheme (`{}://`)", value(scheme))),
                rest.split('/').next().unwrap_or_default().to_owned(),
            )
        } else if let Some((host, path)) = s.split_once('/') {
            (
                Some(format!("has a path (`/{}`)", value(path))),
                host.to_owned(),
            )
        } else {
            (None, s.clone().into_owned())
        };
        let (problem, host) = match authority.rsplit_once('@') {
            Some((_, host)) => (
                Some(problem.unwrap_or_else(|| "has a user and password in it".to_owned())),
                host.to_owned(),
            ),
            None => (problem, authority),
        };
        let host = value(&host);
        let web = WEB_HOSTS.iter().any(|w| host.eq_ignore_ascii_case(w));
        let hub_alias = HUB_ALIASES.iter().any(|h| host.eq_ignore_ascii_case(h));
        let single_label = is_single_label(&host);
        let problem = match (problem, web, single_label) {
            (_, true, _) => format!("names the web site `{host}`, not a registry"),
            (Some(p), false, _) => p,
            (None, false, true) => "is not a registry host: a name without a domain (no `.` or `:`, not `localhost`) is resolved as a single-label host name, and image references never name it as their registry"
                .to_owned(),
            (None, false, false) if hub_alias => format!(
                "names Docker Hub by `{host}`, not by `docker.io`, the registry Docker Hub images resolve to: the login is kept under a name the pulls of those images do not look up"
            ),
            (None, false, false) => continue,
        };
        let fixed = if web || hub_alias {
            "docker.io".to_owned()
        } else if single_label {
            // An Azure Container Registry's login server is its name, lower case, under azurecr.io.
            format!("{}.azurecr.io", host.to_ascii_lowercase())
        } else {
            host.clone()
        };
        out.push(
            f.finding(
                RULE,
                server,
                format!("`registryServer` `{}` {problem}", value(&s)),
            )
            .with_fix(format!("set `registryServer` to `{fixed}`"))
            .with_edit({
                let change = Change::ReplaceString {
                    from: server.value.clone(),
                    to: fixed.clone(),
                };
                // An ACR name made from a bare name is a guess at what was meant.
                if single_label {
                    Edit::unsafe_(change)
                } else {
                    Edit::safe(change)
                }
            }),
        );
    }
}
