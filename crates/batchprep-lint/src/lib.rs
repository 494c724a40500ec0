//! Findings, severities, the rule catalog and the rules of batchprep.
//!
//! Rules are pure functions over facts gathered before any rule runs (an image's config and merged
//! filesystem, a task's effective container, a pool definition, network ranges). They push
//! [`Finding`]s with their rule's default severity; [`Policy`] applies user overrides in one place,
//! and the binary renders the result.

pub mod catalog;
pub mod finding;
pub mod policy;
pub mod rules;

pub use catalog::{RuleDoc, catalog, rule_doc};
pub use finding::{Finding, Location, Report, Severity, Summary};
pub use policy::{Level, Policy, PolicyError};
