//! The `human` format: rustc-like, with the source line for findings that point into a file.

use std::{
    collections::HashMap,
    io::{self, Write},
    path::PathBuf,
};

use batchprep_lint::{Report, rule_doc};

use super::{Extra, style::Palette, summary_line};

pub fn render(out: &mut dyn Write, report: &Report, extra: &Extra, color: bool) -> io::Result<()> {
    let p = Palette::new(color);
    out.write_all(extra.human.as_bytes())?;
    if !extra.human.is_empty() && !extra.human.ends_with("\n\n") && !report.findings.is_empty() {
        writeln!(out)?;
    }
    let mut sources: HashMap<PathBuf, Option<Vec<String>>> = HashMap::new();
    // The catalog's `why` once per rule: repeating it for every finding buries the findings.
    let mut explained = std::collections::HashSet::new();
    for f in &report.findings {
        writeln!(
            out,
            "{}{}",
            p.paint(
                p.severity(f.severity),
                format_args!("{}[{}]", f.severity, f.name)
            ),
            p.paint(p.title(), format_args!(": {}", f.subject))
        )?;
        if let Some(loc) = &f.location {
            let width = loc.line.to_string().len();
            let pad = " ".repeat(width);
            writeln!(
                out,
                "{pad}{} {}:{}:{}{}",
                p.paint(p.gutter(), "-->"),
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
                let bar = p.paint(p.gutter(), "|");
                writeln!(out, "{pad} {bar}")?;
                writeln!(out, "{} {bar} {}", p.paint(p.gutter(), loc.line), text)?;
                let caret = " ".repeat(loc.column.saturating_sub(1) as usize);
                writeln!(
                    out,
                    "{pad} {bar} {caret}{}",
                    p.paint(p.severity(f.severity), "^")
                )?;
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
    writeln!(out, "{}", summary_line(report))
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
