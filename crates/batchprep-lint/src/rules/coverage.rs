//! What a run could not check, reported as notes so that "not checked" is never read as "passed".

use super::{Fact, Rule};

/// `--offline` (or no way to reach the registry): pull access and Docker Hub risk were not checked.
pub mod registry_check_skipped {
    use super::{Fact, Rule};

    /// The rule.
    pub const RULE: Rule = Rule::new("registry-check-skipped", &[Fact::Pool]);
}

/// An image the container rules could not read (offline without a local copy, or unreadable).
pub mod image_not_inspected {
    use super::{Fact, Rule};

    /// The rule.
    pub const RULE: Rule = Rule::new("image-not-inspected", &[Fact::Task]);
}

/// The coverage notes.
pub const RULES: &[Rule] = &[registry_check_skipped::RULE, image_not_inspected::RULE];
