//! Renderers: one diagnostic model ([`Report`]), many formats. The library crates never print.

mod ci;
mod human;
mod junit;
mod sarif;
mod style;

use std::{
    io::{self, Write},
    path::PathBuf,
};

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

pub use style::ColorChoice;

/// How a report is written beyond its format.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colour in the `human` format.
    pub color: bool,
    /// The absolute directory SARIF locations are relative to (`%SRCROOT%`); files outside it, or
    /// every file when `None`, get absolute `file://` URIs.
    pub source_root: Option<PathBuf>,
}

/// What a command reports besides its findings.
#[derive(Debug, Default)]
pub struct Extra {
    /// Printed before the findings in `human` format (the command's own facts).
    pub human: String,
    /// Top-level keys added to the `json` output, beside `findings` and `summary`.
    pub json: serde_json::Map<String, serde_json::Value>,
    /// What could not be checked, with the reason: the run exits 2 whatever the findings.
    pub errors: Vec<CheckError>,
    /// Per finding, in order (`check`): its fix as the file regions it replaces, for SARIF.
    pub fixes: Vec<Option<crate::fix_args::SarifFix>>,
}

pub use batchprep_preflight::CheckError;

/// Writes `report` in `format`.
pub fn render(
    out: &mut dyn Write,
    format: Format,
    report: &Report,
    extra: &Extra,
    options: &RenderOptions,
) -> io::Result<()> {
    // Rendered whole, then written with the secrets this run holds masked, whatever field or
    // message they are in.
    let mut text = Vec::new();
    render_unmasked(&mut text, format, report, extra, options)?;
    match String::from_utf8(text) {
        Ok(text) => out.write_all(batchprep_oci::safe_text::mask_secrets_in_use(&text).as_bytes()),
        Err(e) => out.write_all(e.as_bytes()),
    }
}

fn render_unmasked(
    out: &mut dyn Write,
    format: Format,
    report: &Report,
    extra: &Extra,
    options: &RenderOptions,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(out, report, extra, options.color),
        Format::Json => {
            let mut doc = serde_json::Map::new();
            doc.insert("version".into(), 1.into());
            for (k, v) in &extra.json {
                doc.insert(k.clone(), v.clone());
            }
            doc.insert("findings".into(), serde_json::to_value(&report.findings)?);
            doc.insert("summary".into(), serde_json::to_value(report.summary)?);
            doc.insert("errors".into(), serde_json::to_value(&extra.errors)?);
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Sarif => sarif::render(out, report, extra, options.source_root.as_deref()),
        Format::Junit => junit::render(out, report, &extra.errors),
        Format::Github => ci::render_github(out, report, &extra.errors),
        Format::Azure => ci::render_azure(out, report, &extra.errors),
    }
}

/// The last line of the `human` report, and all that `--quiet` prints:
/// `1 error, 2 warnings, 0 notes (1 suppressed)`.
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut line = format!(
        "{} error{}, {} warning{}, {} note{}",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.notes,
        plural(s.notes)
    );
    if s.suppressed > 0 {
        line.push_str(&format!(" ({} suppressed)", s.suppressed));
    }
    line
}

#[cfg(test)]
mod tests;
