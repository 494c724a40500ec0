//! Renderers: one diagnostic model ([`Report`]), many formats. The library crates never print.

mod ci;
mod human;
mod junit;
mod sarif;

use std::io::{self, Write};

use batchprep_lint::Report;

/// Output formats of commands that report findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-like text for people.
    Human,
    /// The stable JSON schema documented in the README.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// JUnit XML, for test-report views.
    Junit,
    /// GitHub Actions workflow annotations.
    Github,
    /// Azure Pipelines `##vso[task.logissue]` lines.
    Azure,
}

/// What a command reports besides its findings.
#[derive(Debug, Default)]
pub struct Extra {
    /// Printed before the findings in `human` format (the command's own facts).
    pub human: String,
    /// Top-level keys added to the `json` output, beside `findings` and `summary`.
    pub json: serde_json::Map<String, serde_json::Value>,
    /// Something could not be checked: the run exits 2 whatever the findings.
    pub incomplete: bool,
}

/// Writes `report` in `format`.
pub fn render(
    out: &mut dyn Write,
    format: Format,
    report: &Report,
    extra: &Extra,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(out, report, extra),
        Format::Json => {
            let mut doc = serde_json::Map::new();
            doc.insert("version".into(), 1.into());
            for (k, v) in &extra.json {
                doc.insert(k.clone(), v.clone());
            }
            doc.insert("findings".into(), serde_json::to_value(&report.findings)?);
            doc.insert("summary".into(), serde_json::to_value(report.summary)?);
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Sarif => sarif::render(out, report),
        Format::Junit => junit::render(out, report),
        Format::Github => ci::render_github(out, report),
        Format::Azure => ci::render_azure(out, report),
    }
}

#[cfg(test)]
mod tests;
