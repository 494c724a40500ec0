//! Prefetching a moving tag (`latest`, or no tag at all): nodes that start at different times can run
//! different images.

use super::PoolFacts;
use crate::{
    Finding,
    rules::{Fact, Rule},
};

/// The rule.
pub const RULE: Rule = Rule::new("mutable-image-tag", &[Fact::Pool]);

/// Tags that exist to move.
const MOVING_TAGS: &[&str] = &[
    "latest", "stable", "edge", "nightly", "main", "master", "dev",
];

pub(super) fn check(f: &PoolFacts<'_>, out: &mut Vec<Finding>) {
    for (field, reference) in f.prefetched() {
        let Some(tag) = reference
            .tag_or_latest()
            .filter(|_| reference.digest.is_none())
        else {
            continue;
        };
        if !MOVING_TAGS.contains(&tag) {
            continue;
        }
        let implicit = if reference.tag.is_none() {
            " (no tag means `latest`)"
        } else {
            ""
        };
        let name = format!("{}/{}", reference.registry, reference.repository);
        let fix = match f.registry.digests.get(&reference.to_string()) {
            Some(digest) => format!(
                "pin the image by digest: `{}@{digest}` (what `{tag}` is now)",
                familiar_name(&reference)
            ),
            None => format!("pin a version tag or a digest (`{name}@sha256:...`)"),
        };
        out.push(
            f.finding(RULE, field, format!("`{}` is prefetched by the moving tag `{tag}`{implicit}; nodes started at different times may run different images", field.value))
                .with_fix(fix),
        );
    }
}

fn familiar_name(r: &batchprep_oci::Reference) -> String {
    let familiar = batchprep_oci::Reference {
        tag: None,
        digest: None,
        ..r.clone()
    }
    .familiar();
    familiar
        .strip_suffix(":latest")
        .unwrap_or(&familiar)
        .to_owned()
}
