//! SARIF 2.1.0 for GitHub code scanning: `tool.driver.rules[]` from the catalog, one result per finding.

use std::io::{self, Write};

use super::CheckError;
use batchprep_lint::{Report, Severity, catalog};
use batchprep_oci::safe_text::printable;
use serde_json::{Value, json};

pub fn render(out: &mut dyn Write, report: &Report, errors: &[CheckError]) -> io::Result<()> {
    let rules: Vec<Value> = catalog()
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "shortDescription": { "text": d.summary },
                "fullDescription": { "text": d.why.trim() },
                "help": { "text": d.fix.trim() },
                "helpUri": d.references.first().cloned().unwrap_or_default(),
                "defaultConfiguration": { "level": level(d.severity) },
                "properties": { "category": d.category },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
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
                        "artifactLocation": { "uri": uri(&loc.file.display().to_string()) },
                        "region": { "startLine": loc.line, "startColumn": loc.column },
                    },
                    "logicalLocations": [{ "fullyQualifiedName": loc.pointer }],
                }]),
                None => json!([{ "logicalLocations": [{ "fullyQualifiedName": f.subject }] }]),
            };
            r
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "batchprep",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/batchprep/batchprep",
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
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// SARIF wants URI references: relative paths stay relative, with `/` separators and spaces escaped.
fn uri(path: &str) -> String {
    path.trim_start_matches("./")
        .replace('\\', "/")
        .replace(' ', "%20")
}
