//! Severity overrides and ignores, applied to every finding in one place so rules never pick their
//! final severity. Sources, weakest first: the catalog, `batchprep.toml`, then `--deny/--warn/--allow`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{Finding, Report, Severity, rule_doc};

/// What a user may set a rule to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Report at `error`.
    Error,
    /// Report at `warning`.
    Warning,
    /// Report at `note`.
    Note,
    /// Do not report.
    Allow,
}

impl Level {
    fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Note => Some(Severity::Note),
            Level::Allow => None,
        }
    }
}

/// One `[[ignore]]` entry: a rule silenced, optionally for one subject only, always with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    /// Rule name or id.
    pub rule: String,
    /// Only findings whose subject contains this text; all subjects when absent.
    #[serde(default)]
    pub subject: Option<String>,
    /// Why it is ignored; required so the next reader knows.
    pub reason: String,
}

/// A problem with an override: names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The rule named in an override or ignore is not in the catalog.
    #[error("unknown rule `{0}` (see `batchprep rules`)")]
    UnknownRule(String),
    /// An ignore without a reason.
    #[error("ignore of `{0}` has an empty reason")]
    EmptyReason(String),
}

/// The user's overrides and ignores.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    levels: BTreeMap<String, Level>,
    ignores: Vec<Ignore>,
}

impl Policy {
    /// Sets `rule` (name or id) to `level`; later calls win, so apply config first, flags last.
    pub fn set(&mut self, rule: &str, level: Level) -> Result<(), PolicyError> {
        let doc = rule_doc(rule).ok_or_else(|| PolicyError::UnknownRule(rule.to_owned()))?;
        self.levels.insert(doc.name.clone(), level);
        Ok(())
    }

    /// Adds an ignore.
    pub fn ignore(&mut self, ignore: Ignore) -> Result<(), PolicyError> {
        let doc =
            rule_doc(&ignore.rule).ok_or_else(|| PolicyError::UnknownRule(ignore.rule.clone()))?;
        if ignore.reason.trim().is_empty() {
            return Err(PolicyError::EmptyReason(ignore.rule));
        }
        self.ignores.push(Ignore {
            rule: doc.name.clone(),
            ..ignore
        });
        Ok(())
    }

    /// Applies overrides and ignores, and builds the report.
    pub fn apply(&self, findings: Vec<Finding>) -> Report {
        let before = findings.len();
        let kept: Vec<Finding> = findings
            .into_iter()
            .filter_map(|mut f| {
                if self.ignores.iter().any(|i| {
                    i.rule == f.name && i.subject.as_ref().is_none_or(|s| f.subject.contains(s))
                }) {
                    return None;
                }
                if let Some(level) = self.levels.get(&f.name) {
                    f.severity = level.severity()?;
                }
                Some(f)
            })
            .collect();
        let suppressed = before - kept.len();
        Report::new(kept, suppressed)
    }
}
