//! One diagnostic model for every check: a [`Finding`] is data, rendered by the binary in any format.

use std::{fmt, path::PathBuf, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::rules::{Rule, TaskField};

/// How serious a finding is. Ordered: `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a build unless `--fail-on note`.
    Note,
    /// Likely to misbehave or cost time or money.
    Warning,
    /// Will fail on Azure Batch.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that `{:<8}` lines up the `rules` listing.
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "note" => Ok(Severity::Note),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected error, warning or note)"
            )),
        }
    }
}

/// Where in a user's file a finding points: a JSON pointer and its line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file, as the user named it.
    pub file: PathBuf,
    /// RFC 6901 JSON pointer (or TOML key path) into the file; empty for the whole file.
    pub pointer: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's stable name (`relative-entrypoint`).
    pub name: String,
    /// The rule's stable id (`BP101`).
    pub id: String,
    /// Severity after the user's overrides.
    pub severity: Severity,
    /// What the finding is about, e.g. `image oci:build/app:1.0` or `task render-1`.
    pub subject: String,
    /// What is wrong, with the concrete values.
    pub message: String,
    /// The fix that fits this case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Where in a file it points, when it comes from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The task field it is about, for findings about a task; turned into a [`Location`] by
    /// whoever knows where the task is.
    #[serde(skip)]
    pub field: Option<TaskField>,
    /// The changes to the files that apply the fix, when it is mechanical (`check --fix`); the
    /// finding is fixed when all of them apply. Serialised as `fixable`: `safe` when `--fix`
    /// applies them, `unsafe` when they need `--unsafe-fixes`.
    #[serde(
        rename = "fixable",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_fixable"
    )]
    pub edits: Vec<Edit>,
}

fn serialize_fixable<S: serde::Serializer>(edits: &[Edit], s: S) -> Result<S::Ok, S::Error> {
    fixability(edits).serialize(s)
}

/// How `check --fix` applies `edits`: `None` when there are none, unsafe when any is.
pub fn fixability(edits: &[Edit]) -> Option<crate::catalog::Autofix> {
    use crate::catalog::Autofix;
    match edits {
        [] => None,
        _ if edits.iter().all(|e| e.safe) => Some(Autofix::Safe),
        _ => Some(Autofix::Unsafe),
    }
}

/// A fix as a change to the user's file (ruff's `Fix`), at the finding's location unless it says
/// where: applied only while the file still holds what the rule saw there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// What changes.
    pub change: Change,
    /// Whether the change keeps what the user meant (`--fix`), or changes behaviour and needs
    /// `--unsafe-fixes`.
    pub safe: bool,
    /// Where, when not at the finding's location (a pool edit for a finding about a task).
    pub at: Option<Location>,
    /// For findings about a task: the task field the edit is at, turned into [`Edit::at`] with
    /// the finding's location.
    pub field: Option<TaskField>,
}

/// The change an [`Edit`] makes at its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The string value there becomes `to`, if it is still `from`.
    ReplaceString {
        /// The value the rule saw.
        from: String,
        /// The value that fixes it.
        to: String,
    },
    /// The member there is renamed, if it is still called `from`.
    RenameMember {
        /// The name the rule saw.
        from: String,
        /// The current name.
        to: String,
    },
    /// The `containerRunOptions` there, as they are when the fix runs (so edits of one task's
    /// options compose): the known flags `remove` taken out, the words `append` added. An absent
    /// member reads as empty.
    RunOptions {
        /// Long names of known flags to take out (`rm`, `gpus`).
        remove: Vec<String>,
        /// Words to add at the end (`--workdir=/app`).
        append: Vec<String>,
    },
    /// The array there gets the string `value` at its end, unless it has it; an absent member
    /// is added holding just `value`.
    AppendToArray {
        /// The element to add.
        value: String,
    },
    /// The object there gets a member `name`, if it has none.
    InsertMember {
        /// The member's name.
        name: String,
        /// Its value.
        value: serde_json::Value,
    },
}

impl Edit {
    /// A fix that keeps what the user meant.
    pub fn safe(change: Change) -> Edit {
        Edit {
            change,
            safe: true,
            at: None,
            field: None,
        }
    }

    /// A fix that changes behaviour: applied only with `--unsafe-fixes`.
    pub fn unsafe_(change: Change) -> Edit {
        Edit {
            safe: false,
            ..Edit::safe(change)
        }
    }

    /// The edit goes to `location` instead of the finding's.
    pub fn at(mut self, location: Location) -> Edit {
        self.at = Some(location);
        self
    }

    /// The edit goes to this field of the task the finding is about.
    pub fn at_field(mut self, field: TaskField) -> Edit {
        self.field = Some(field);
        self
    }
}

impl Finding {
    /// A finding of `rule` at its catalog severity.
    ///
    /// Every rule in code is in the catalog (a test checks), so the fallback is never seen.
    pub fn new(rule: Rule, subject: impl Into<String>, message: impl Into<String>) -> Self {
        let (id, severity) = rule
            .doc()
            .map(|d| (d.id.clone(), d.severity))
            .unwrap_or_else(|| (String::from("BP000"), Severity::Error));
        Finding {
            name: rule.name().to_owned(),
            id,
            severity,
            subject: subject.into(),
            message: message.into(),
            fix: None,
            location: None,
            field: None,
            edits: Vec::new(),
        }
    }

    /// Says which task field the finding is about.
    pub fn about(mut self, field: TaskField) -> Self {
        self.field = Some(field);
        self
    }

    /// Points a finding about a task into the task's file: at the field it is about, else at the
    /// task. `task` is the task's JSON pointer; `locate` turns a pointer into a [`Location`].
    pub fn in_task(mut self, task: &str, locate: impl Fn(&str) -> Location) -> Self {
        if self.location.is_none() {
            let field = self.field.map_or("", TaskField::pointer);
            self.location = Some(locate(&format!("{task}{field}")));
        }
        for edit in &mut self.edits {
            if let Some(field) = edit.field.take() {
                edit.at = Some(locate(&format!("{task}{}", field.pointer())));
            }
        }
        self
    }

    /// Adds the case-specific fix.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Adds the change that applies the fix; the rule's catalog entry says it is fixable.
    pub fn with_edit(mut self, edit: Edit) -> Self {
        debug_assert!(
            crate::rule_doc(&self.name).is_some_and(|d| d.autofix.is_some()),
            "{} gives an edit but its catalog entry has no `autofix`",
            self.name
        );
        self.edits.push(edit);
        self
    }

    /// Adds the changes that, together, apply the fix.
    pub fn with_edits(self, edits: Vec<Edit>) -> Self {
        edits.into_iter().fold(self, Finding::with_edit)
    }

    /// Points the finding into a file.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Overrides the catalog severity where the rule itself grades (e.g. rate-limit risk).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Findings at `error`.
    pub errors: usize,
    /// Findings at `warning`.
    pub warnings: usize,
    /// Findings at `note`.
    pub notes: usize,
    /// Findings dropped by `allow` overrides or ignores.
    pub suppressed: usize,
}

/// The findings of one run, after the policy was applied, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The findings, most severe first, then by subject and rule.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
}

impl Report {
    /// Builds a report from findings that already went through the policy.
    pub fn new(mut findings: Vec<Finding>, suppressed: usize) -> Self {
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.subject.cmp(&b.subject))
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.message.cmp(&b.message))
        });
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
            suppressed,
        };
        Report { findings, summary }
    }

    /// Whether any finding is at or above `threshold` (the build should fail).
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}
