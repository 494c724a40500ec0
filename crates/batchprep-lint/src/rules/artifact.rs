//! What the image reader found is no container image: the binary reports it as a finding of these
//! rules when it opens the image, before any container rule could run.

use super::{Fact, Rule};

/// A manifest whose config media type is not a container image config: a Singularity image, a Helm
/// chart, an ORAS artifact given as `imageName` or in `containerImageNames`.
pub mod not_a_container_image {
    use super::{Fact, Rule};

    /// The rule.
    pub const RULE: Rule = Rule::new("not-a-container-image", &[Fact::Image]);
}

/// The artifact rules.
pub const RULES: &[Rule] = &[not_a_container_image::RULE];
