//! SARIF 2.1.0 for GitHub code scanning: `tool.driver.rules[]` from the catalog, one result per finding.
//! Files under the source root are relative URIs against `%SRCROOT%` (what code scanning resolves
//! against the checkout), others absolute `file://` URIs, never paths as typed.

use std::{
    io::{self, Write},
    path::{Component, Path, PathBuf},
};

use super::Extra;
use crate::fix_args::SarifFix;
use batchprep_lint::catalog::Autofix;
use batchprep_lint::{Report, Severity, catalog};
use batchprep_oci::safe_text::printable;
use serde_json::{Value, json};
use url::Url;

/// The `uriBaseId` of the source root.
const SRCROOT: &str = "%SRCROOT%";

pub fn render(
    out: &mut dyn Write,
    report: &Report,
    extra: &Extra,
    source_root: Option<&Path>,
) -> io::Result<()> {
    let errors = &extra.errors;
    let cwd = std::env::current_dir()?;
    let root = source_root.and_then(|r| Url::from_directory_path(absolute(&cwd, r)).ok());
    let rules: Vec<Value> = catalog()
        .iter()
        .map(|d| {
            let mut rule = json!({
                "id": d.id,
                "name": d.name,
                "shortDescription": { "text": d.summary },
                "fullDescription": { "text": d.why.trim() },
                "help": { "text": d.fix.trim() },
                "defaultConfiguration": { "level": level(d.severity) },
                "properties": { "category": d.category },
            });
            // The rule's first reference is the page that explains the pitfall; a rule without one
            // has no helpUri rather than an empty (invalid) one.
            if let Some(uri) = d.references.iter().find(|r| Url::parse(r).is_ok()) {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let index = catalog().iter().position(|d| d.id == f.id);
            let text = match &f.fix {
                Some(fix) => format!("{}: {} Fix: {fix}", f.subject, f.message),
                None => format!("{}: {}", f.subject, f.message),
            };
            let mut r = json!({
                "ruleId": f.id,
                "level": level(f.severity),
                // Viewers render the message as text on one line: no raw control characters.
                "message": { "text": printable(&text) },
                "properties": { "name": f.name, "subject": f.subject },
            });
            if let Some(i) = index {
                r["ruleIndex"] = json!(i);
            }
            r["locations"] = match &f.location {
                Some(loc) => json!([{
                    "physicalLocation": {
                        "artifactLocation": artifact_location(&cwd, root.as_ref(), &loc.file),
                        "region": { "startLine": loc.line, "startColumn": loc.column },
                    },
                    "logicalLocations": [{ "fullyQualifiedName": loc.pointer }],
                }]),
                None => json!([{ "logicalLocations": [{ "fullyQualifiedName": f.subject }] }]),
            };
            if let Some(Some(fix)) = extra.fixes.get(i) {
                r["fixes"] = json!([sarif_fix(&cwd, root.as_ref(), fix)]);
            }
            r
        })
        .collect();
    let mut run_root = serde_json::Map::new();
    if let Some(root) = &root {
        run_root.insert(SRCROOT.into(), json!({ "uri": root.as_str() }));
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "batchprep",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_HOMEPAGE"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": errors.iter().map(|e| json!({
                    "level": "error",
                    "message": { "text": e.to_string() },
                    "locations": [{ "logicalLocations": [{ "fullyQualifiedName": e.subject }] }],
                })).collect::<Vec<_>>(),
            }],
            "originalUriBaseIds": run_root,
            // Columns count characters, as the findings' locations do.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A finding's fix as a SARIF `fix`: one artifact change per edit, each one replacement of the
/// region it changes.
fn sarif_fix(cwd: &Path, root: Option<&Url>, fix: &SarifFix) -> Value {
    let description = match fix.safety {
        Autofix::Safe => "safe fix: `batchprep check --fix` applies it",
        Autofix::Unsafe => {
            "unsafe fix (changes behaviour): `batchprep check --fix --unsafe-fixes` applies it"
        }
    };
    let changes: Vec<Value> = fix
        .changes
        .iter()
        .map(|(file, r)| {
            json!({
                "artifactLocation": artifact_location(cwd, root, file),
                "replacements": [{
                    "deletedRegion": {
                        "startLine": r.start.0,
                        "startColumn": r.start.1,
                        "endLine": r.end.0,
                        "endColumn": r.end.1,
                    },
                    "insertedContent": { "text": r.inserted },
                }],
            })
        })
        .collect();
    json!({ "description": { "text": description }, "artifactChanges": changes })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A finding's file as SARIF wants it: relative to `%SRCROOT%` when under it, else an absolute
/// `file://` URI. Percent-encoding is the url crate's.
fn artifact_location(cwd: &Path, root: Option<&Url>, file: &Path) -> Value {
    let Ok(url) = Url::from_file_path(absolute(cwd, file)) else {
        return json!({ "uri": file.display().to_string() });
    };
    match root
        .and_then(|r| r.make_relative(&url))
        .filter(|rel| !rel.starts_with("../") && !rel.is_empty())
    {
        Some(rel) => json!({ "uri": rel, "uriBaseId": SRCROOT }),
        None => json!({ "uri": url.as_str() }),
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved by name (the file may be gone).
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in cwd.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
