//! The rule catalog: one TOML file per rule under `rules/`, embedded at build time, rendered everywhere
//! (`batchprep rules`, `batchprep explain`, SARIF `rules[]`). Written once, read many times.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::Severity;

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// One rule's documentation, as in `rules/<name>.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// Stable short id, `BP` and three digits.
    pub id: String,
    /// Stable kebab-case name; the public handle of the rule.
    pub name: String,
    /// What the rule looks at: `image`, `task`, `pool`, `registry` or `network`.
    pub category: String,
    /// Severity before any user override.
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: String,
    /// Why it matters on Azure Batch.
    pub why: String,
    /// How to fix it, in general; findings carry the fix for their case.
    pub fix: String,
    /// Sources for the facts the rule relies on.
    #[serde(default)]
    pub references: Vec<String>,
    /// Whether `check --fix` applies the fix: `safe` (it keeps what the user meant) or `unsafe`
    /// (it changes behaviour; `--unsafe-fixes`). Absent: the fix is not mechanical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autofix: Option<Autofix>,
}

/// How a rule's fix is applied by `check --fix`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Autofix {
    /// With `--fix`.
    Safe,
    /// With `--fix --unsafe-fixes`.
    Unsafe,
}

/// Every rule in the catalog, sorted by id.
pub fn catalog() -> &'static [RuleDoc] {
    static CATALOG: OnceLock<Vec<RuleDoc>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut docs: Vec<RuleDoc> = CATALOG_FILES
            .iter()
            .map(|(file, text)| {
                // The catalog is part of the build; a malformed file is caught by the catalog tests.
                toml::from_str(text).unwrap_or_else(|e| panic!("rules/{file}: {e}"))
            })
            .collect();
        docs.sort_by(|a, b| a.id.cmp(&b.id));
        docs
    })
}

/// The rule with this name or id (case-insensitive).
pub fn rule_doc(name_or_id: &str) -> Option<&'static RuleDoc> {
    catalog()
        .iter()
        .find(|d| d.name == name_or_id || d.id.eq_ignore_ascii_case(name_or_id))
}

/// The catalog files as committed, for the consistency tests.
pub fn catalog_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    CATALOG_FILES.iter().copied()
}
