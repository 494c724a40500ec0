//! What a run could not check, reported as notes so that "not checked" is never read as "passed".

use super::{Fact, Rule};

/// `--offline` (or no way to reach the registry): pull access and Docker Hub risk were not checked.
pub mod registry_check_skipped {
    use super::{Fact, Rule};
    use crate::Finding;

    /// The rule.
    pub const RULE: Rule = Rule::new("registry-check-skipped", &[Fact::Pool]);

    /// `--offline`: the `images` of `pool` were not probed.
    pub fn offline(pool: &str, images: usize) -> Finding {
        Finding::new(
            RULE,
            format!("pool {pool}"),
            format!(
                "--offline: pull access of {images} image(s) and the Docker Hub rate-limit risk were not checked"
            ),
        )
    }

    /// `pool` pulls from `registry` with credentials batchprep cannot use, so the probe used the
    /// local ones: it shows that the images exist, not that the pool may pull them.
    pub fn stand_in_credentials(pool: &str, registry: &str) -> Finding {
        Finding::new(
            RULE,
            format!("pool {pool}"),
            format!(
                "the pool pulls from `{registry}` with credentials batchprep cannot use (a managed identity or a template parameter); the probe used your local credentials instead, so it shows that the images exist, not that the pool may pull them"
            ),
        )
    }
}

/// An image the container rules could not read (offline without a local copy, or unreadable).
pub mod image_not_inspected {
    use super::{Fact, Rule};
    use crate::Finding;

    /// The rule.
    pub const RULE: Rule = Rule::new("image-not-inspected", &[Fact::Task]);

    /// `image` could not be read, for `reason`.
    pub fn unreadable(image: &str, reason: &dyn std::fmt::Display) -> Finding {
        Finding::new(
            RULE,
            format!("image {image}"),
            format!(
                "could not read the image: {reason}; the container rules that need the image did not run on it"
            ),
        )
    }

    /// `--offline` and no local copy of `image` was given.
    pub fn offline(image: &str) -> Finding {
        Finding::new(
            RULE,
            format!("image {image}"),
            "--offline and no --local image given for it: the container rules that need the image did not run on it",
        )
        .with_fix(format!(
            "pass --local {image}=oci:DIR:TAG to lint the image you built"
        ))
    }
}

/// The coverage notes.
pub const RULES: &[Rule] = &[registry_check_skipped::RULE, image_not_inspected::RULE];
