//! Prefetching a moving tag (`latest`, or no tag at all): nodes that start at different times can run
//! different images.

use batchprep_oci::Reference;

use super::PoolFacts;
use crate::{
    Finding,
    finding::{Change, Edit},
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
        let digest = f.registry.digests.get(&reference.to_string());
        let fix = match digest {
            Some(digest) => format!(
                "pin the image by digest: `{}@{digest}` (what `{tag}` is now)",
                familiar_name(&reference)
            ),
            None => format!("pin a version tag or a digest (`{name}@sha256:...`)"),
        };
        let finding = f
            .finding(RULE, field, format!("`{}` is prefetched by the moving tag `{tag}`{implicit}; nodes started at different times may run different images", field.value))
            .with_fix(fix);
        let Some(digest) = digest else {
            out.push(finding);
            continue;
        };
        // Unsafe: nodes then keep running what the tag is today. The tasks that name the image by
        // the same tag are pinned with it, so they still run the prefetched image.
        let pinned = format!("{}@{digest}", familiar_name(&reference));
        let pin = |from: &str| {
            Edit::unsafe_(Change::ReplaceString {
                from: from.to_owned(),
                to: pinned.clone(),
            })
        };
        let mut edits = vec![pin(&field.value).at((f.locate)(&field.pointer))];
        edits.extend(f.tasks.iter().filter_map(|task| {
            let image = task.image.as_deref()?;
            let same =
                Reference::parse(image).is_ok_and(|r| r.to_string() == reference.to_string());
            same.then(|| pin(image).at(task.location.clone()))
        }));
        out.push(finding.with_edits(edits));
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
