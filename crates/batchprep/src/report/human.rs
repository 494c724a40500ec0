//! The `human` format: rustc-like, with the source line for findings that point into a file.

use std::{
    collections::HashMap,
    io::{self, Write},
    path::PathBuf,
};

use batchprep_lint::{Report, rule_doc};

use super::Extra;

pub fn render(out: &mut dyn Write, report: &Report, extra: &Extra) -> io::Result<()> {
    out.write_all(extra.human.as_bytes())?;
    if !extra.human.is_empty() && !extra.human.ends_with("\n\n") && !report.findings.is_empty() {
        writeln!(out)?;
    }
    let mut sources: HashMap<PathBuf, Option<Vec<String>>> = HashMap::new();
    // The catalog's `why` once per rule: repeating it for every finding buries the findings.
    let mut explained = std::collections::HashSet::new();
    for f in &report.findings {
        writeln!(out, "{}[{}]: {}", f.severity, f.name, f.subject)?;
        if let Some(loc) = &f.location {
            let width = loc.line.to_string().len();
            let pad = " ".repeat(width);
            writeln!(
                out,
                "{pad}--> {}:{}:{}{}",
                loc.file.display(),
                loc.line,
                loc.column,
                if loc.pointer.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", loc.pointer)
                }
            )?;
            let lines = sources.entry(loc.file.clone()).or_insert_with(|| {
                std::fs::read_to_string(&loc.file)
                    .ok()
                    .map(|t| t.lines().map(str::to_owned).collect())
            });
            if let Some(text) = lines
                .as_ref()
                .and_then(|l| l.get(loc.line.saturating_sub(1) as usize))
            {
                writeln!(out, "{pad} |")?;
                writeln!(out, "{} | {}", loc.line, text)?;
                let caret = " ".repeat(loc.column.saturating_sub(1) as usize);
                writeln!(out, "{pad} | {caret}^")?;
            }
        }
        writeln!(out, "  = {}", f.message)?;
        if let Some(doc) = rule_doc(&f.name).filter(|_| explained.insert(f.name.as_str())) {
            writeln!(out, "  = why: {}", first_paragraph(&doc.why))?;
        }
        if let Some(fix) = &f.fix {
            writeln!(out, "  = fix: {fix}")?;
        }
        writeln!(out)?;
    }
    let s = &report.summary;
    write!(
        out,
        "{} error{}, {} warning{}, {} note{}",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.notes,
        plural(s.notes)
    )?;
    if s.suppressed > 0 {
        write!(out, " ({} suppressed)", s.suppressed)?;
    }
    writeln!(out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The catalog's `why` can run long; the human report shows its first paragraph on one line.
fn first_paragraph(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
