//! `check --fix`, `--unsafe-fixes` and `--diff`: the findings' edits applied to the files they
//! point into (JSON, Terraform, Bicep, Shipyard YAML). A file is written atomically, and only if it still holds the text the checks read;
//! the report then counts what remains, so the exit code says whether anything is left to do.

use std::{io::Write as _, path::PathBuf};

use anyhow::Context;
use batchprep_fix::literal::Syntax;
use batchprep_lint::{
    Finding, Location, Report,
    finding::{Change, Edit},
};

/// The fixing flags.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "Fixing")]
pub struct FixArgs {
    /// Apply the safe fixes to the pool and task files in place (JSON, ARM templates, Terraform,
    /// Bicep, Shipyard YAML).
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff: also the fixes that change behaviour.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff instead of writing them, and the report only to --output.
    #[arg(long)]
    pub diff: bool,
}

impl FixArgs {
    /// Whether fixing was asked for.
    pub fn requested(&self) -> bool {
        self.fix || self.diff
    }

    /// Applies the edits of `report`'s findings to `sources` (path, text as read); returns the
    /// report of what remains.
    pub fn apply(&self, report: Report, sources: &[(PathBuf, String)]) -> anyhow::Result<Report> {
        let wanted = |e: &Edit| e.safe || self.unsafe_fixes;
        // Per finding: how many of its edits are wanted, and how many applied.
        let wanted_count: Vec<usize> = report
            .findings
            .iter()
            .map(|f| f.edits.iter().filter(|e| wanted(e)).count())
            .collect();
        let mut applied = vec![0usize; report.findings.len()];
        let mut diff = String::new();
        let mut files_changed = 0;
        for (path, text) in sources {
            let mine: Vec<(usize, &Location, &Edit)> = report
                .findings
                .iter()
                .enumerate()
                .flat_map(|(i, f)| {
                    f.edits.iter().filter_map(move |edit| {
                        let at = edit.at.as_ref().or(f.location.as_ref())?;
                        (at.file == *path && wanted(edit)).then_some((i, at, edit))
                    })
                })
                .collect();
            if mine.is_empty() {
                continue;
            }
            // The same edit wanted by several findings (the start task the data-root and bridge
            // findings all ask for) is made once, and fixes each of them.
            let mut unique: Vec<(&Location, &Edit)> = Vec::new();
            let slot: Vec<usize> = mine
                .iter()
                .map(|(_, at, e)| {
                    let same = |(u, ue): &(&Location, &Edit)| {
                        u.pointer == at.pointer
                            && (u.line, u.column) == (at.line, at.column)
                            && ue.change == e.change
                    };
                    unique.iter().position(same).unwrap_or_else(|| {
                        unique.push((at, e));
                        unique.len() - 1
                    })
                })
                .collect();
            let fix = fix_file(path, text, &unique)?;
            if fix.after == fix.before {
                continue;
            }
            if self.diff {
                diff.push_str(&batchprep_fix::unified_diff(
                    &path.display().to_string(),
                    &fix,
                ));
            } else {
                // Someone (an editor, another run) changed the file since it was checked.
                let now = crate::input::read(path, "")?;
                if now != fix.before {
                    eprintln!(
                        "warning: {} changed since it was checked; not fixed",
                        batchprep_oci::safe_text::printable(&path.display().to_string())
                    );
                    continue;
                }
                crate::output_file::write_atomically(path, fix.after.as_bytes())?;
            }
            files_changed += 1;
            for ((i, ..), slot) in mine.iter().zip(&slot) {
                applied[*i] += usize::from(fix.outcomes[*slot].is_ok());
            }
        }
        let fixed: Vec<bool> = wanted_count
            .iter()
            .zip(&applied)
            .map(|(w, a)| *w > 0 && a == w)
            .collect();
        let count = fixed.iter().filter(|f| **f).count();
        let suppressed = report.summary.suppressed;
        let remaining: Vec<Finding> = report
            .findings
            .into_iter()
            .zip(fixed)
            .filter_map(|(f, fixed)| (!fixed).then_some(f))
            .collect();
        if self.diff {
            let mut out = std::io::stdout().lock();
            match out.write_all(diff.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
            eprintln!(
                "would fix {count} finding(s) in {files_changed} file(s); {} remain",
                remaining.len()
            );
        } else {
            eprintln!(
                "fixed {count} finding(s) in {files_changed} file(s); {} remain",
                remaining.len()
            );
        }
        Ok(Report::new(remaining, suppressed))
    }
}

/// Drops the edits no fixer makes in the file they are for, so `fixable` and SARIF's fixes promise
/// only what `--fix` does: in a Terraform, Bicep or YAML file, an edit is kept when it applies to
/// the file as read (`sources`; a list from a variable is not edited, and neither is a member that
/// has no spelling in the language); for a file not among `sources`, when the language can take
/// that kind of change at all.
pub fn keep_applicable_edits(report: &mut Report, sources: &[(PathBuf, String)]) {
    for f in &mut report.findings {
        let location = f.location.clone();
        f.edits.retain(|e| {
            let Some(at) = e.at.as_ref().or(location.as_ref()) else {
                return true;
            };
            let Some(syntax) = Syntax::of(&at.file) else {
                return true;
            };
            match sources.iter().find(|(p, _)| *p == at.file) {
                Some((path, text)) => fix_file(path, text, &[(at, e)])
                    .is_ok_and(|fix| fix.outcomes.iter().all(Result::is_ok)),
                None => batchprep_fix::literal::supports(syntax, &e.change),
            }
        });
    }
}

/// `edits` (each at its location in `path`) applied to `text`, the file's text as read.
fn fix_file(
    path: &std::path::Path,
    text: &str,
    edits: &[(&Location, &Edit)],
) -> anyhow::Result<batchprep_fix::FileFix> {
    Ok(match Syntax::of(path) {
        // Terraform, Bicep, Shipyard: values replaced, and elements and members inserted, where
        // the reader found them.
        Some(syntax) => {
            let changes: Vec<(u32, u32, &str, &Change)> = edits
                .iter()
                .map(|(at, e)| (at.line, at.column, at.pointer.as_str(), &e.change))
                .collect();
            let (after, outcomes) = batchprep_fix::literal::apply_at(text, syntax, &changes);
            batchprep_fix::FileFix {
                before: text.to_owned(),
                after,
                outcomes,
            }
        }
        None => {
            let edits: Vec<(&str, &Edit)> = edits
                .iter()
                .map(|(at, e)| (at.pointer.as_str(), *e))
                .collect();
            batchprep_fix::apply(text, &edits)
                .with_context(|| format!("--fix: {}", path.display()))?
        }
    })
}

/// For each finding of `report`, in order: its fix as SARIF describes one (each edit as the region
/// of `sources` it replaces), when it has edits and each still applies to the file as it is.
pub fn sarif_fixes(report: &Report, sources: &[(PathBuf, String)]) -> Vec<Option<SarifFix>> {
    // The values of each file that may be secrets (what the human report masks), found once.
    let secrets: Vec<Vec<String>> = sources
        .iter()
        .map(|(_, text)| {
            let mut found = batchprep_oci::safe_text::json_secrets(text);
            found.extend(batchprep_oci::safe_text::assignment_secrets(text));
            found.retain(|s| !s.is_empty());
            found
        })
        .collect();
    report
        .findings
        .iter()
        .map(|f| {
            let mut changes = Vec::new();
            for edit in &f.edits {
                let at = edit.at.as_ref().or(f.location.as_ref())?;
                let i = sources.iter().position(|(p, _)| *p == at.file)?;
                let (path, text) = &sources[i];
                // Each edit alone against the file: its own region.
                let fix = fix_file(path, text, &[(at, edit)]).ok()?;
                if fix.outcomes.iter().any(Result::is_err) {
                    return None;
                }
                let replacement = batchprep_fix::replacement(text, &fix.after)?;
                // SARIF carries the new text itself: a fix whose text holds a value of the file
                // that may be a secret is not offered there (`--fix` still makes it).
                if secrets[i].iter().any(|s| replacement.inserted.contains(s)) {
                    return None;
                }
                changes.push((path.clone(), replacement));
            }
            let safety = batchprep_lint::finding::fixability(&f.edits)?;
            Some(SarifFix { safety, changes })
        })
        .collect()
}

/// One finding's fix for SARIF's `fixes[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarifFix {
    /// Whether `--fix` applies it or it needs `--unsafe-fixes`.
    pub safety: batchprep_lint::catalog::Autofix,
    /// Per edit: the file and the region it replaces.
    pub changes: Vec<(PathBuf, batchprep_fix::Replacement)>,
}

#[cfg(test)]
mod tests {
    use batchprep_lint::Severity;

    use super::*;

    #[test]
    fn a_file_changed_since_it_was_checked_is_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("task.json");
        let checked = r#"{"containerSettings": {"containerRunOptions": "--rm"}}"#;
        // Edited by someone else after the checks read it.
        let now = r#"{"containerSettings": {"containerRunOptions": "--rm"}, "id": "x"}"#;
        std::fs::write(&path, now).unwrap();
        let finding = Finding {
            name: "redundant-rm-option".into(),
            id: "BP112".into(),
            severity: Severity::Note,
            subject: "task x".into(),
            message: "m".into(),
            fix: None,
            location: Some(Location {
                file: path.clone(),
                pointer: "/containerSettings/containerRunOptions".into(),
                line: 1,
                column: 1,
            }),
            field: None,
            edits: vec![Edit::safe(Change::ReplaceString {
                from: "--rm".into(),
                to: String::new(),
            })],
        };
        let args = FixArgs {
            fix: true,
            ..FixArgs::default()
        };
        let report = Report::new(vec![finding.clone()], 0);
        let left = args
            .apply(report.clone(), &[(path.clone(), checked.to_owned())])
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), now);
        assert_eq!(left.findings, vec![finding]);
        // As read, the same file is fixed.
        std::fs::write(&path, checked).unwrap();
        let left = args
            .apply(report, &[(path.clone(), checked.to_owned())])
            .unwrap();
        assert!(left.findings.is_empty());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"containerSettings": {"containerRunOptions": ""}}"#
        );
    }
}
