//! What the image reader found is no container image: the binary reports it as a finding of these
//! rules when it opens the image, before any container rule could run.

use super::{Fact, Rule};

/// A manifest whose config media type is not a container image config: a Singularity image, a Helm
/// chart, an ORAS artifact given as `imageName` or in `containerImageNames`.
pub mod not_a_container_image {
    use super::{Fact, Rule};
    use crate::{Finding, rules::TaskField};

    /// The rule.
    pub const RULE: Rule = Rule::new("not-a-container-image", &[Fact::Image]);

    /// `image` (as the user named it), about `subject`, has a manifest whose config media type is
    /// `media_type`, an artifact of `kind`.
    pub fn finding(subject: &str, image: &str, media_type: &str, kind: &str) -> Finding {
        Finding::new(
            RULE,
            subject,
            format!(
                "`{image}` is not a container image: its manifest's config media type is `{media_type}`, {kind}: Batch runs only container images"
            ),
        )
        .about(TaskField::ImageName)
        .with_fix(
            "name the container image built for the task; run the artifact from inside one (`singularity run`, `helm`, `oras pull`)",
        )
    }
}

/// The artifact rules.
pub const RULES: &[Rule] = &[not_a_container_image::RULE];
