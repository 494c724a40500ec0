//! The `human` format: rustc-like, with the source line for findings that point into a file.

use std::{
    collections::HashMap,
    io::{self, Write},
    path::PathBuf,
};

use batchprep_lint::{Report, rule_doc};
use batchprep_oci::safe_text::{
    assignment_secrets, excerpt, json_secrets, printable, printable_lines,
};

use super::{Extra, style::Palette, summary_line};

pub fn render(out: &mut dyn Write, report: &Report, extra: &Extra, color: bool) -> io::Result<()> {
    let p = Palette::new(color);
    // The summary lines name images, tags and files: one line each, whatever they hold.
    out.write_all(printable_lines(&extra.human).as_bytes())?;
    if !extra.human.is_empty() && !extra.human.ends_with("\n\n") && !report.findings.is_empty() {
        writeln!(out)?;
    }
    let mut sources: HashMap<PathBuf, Option<Source>> = HashMap::new();
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
            p.paint(p.title(), format_args!(": {}", printable(&f.subject)))
        )?;
        if let Some(loc) = &f.location {
            let width = loc.line.to_string().len();
            let pad = " ".repeat(width);
            writeln!(
                out,
                "{pad}{} {}:{}:{}{}",
                p.paint(p.gutter(), "-->"),
                printable(&loc.file.display().to_string()),
                loc.line,
                loc.column,
                if loc.pointer.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", printable(&loc.pointer))
                }
            )?;
            let source = sources
                .entry(loc.file.clone())
                .or_insert_with(|| Source::read(&loc.file));
            if let Some((text, column)) =
                source.as_mut().and_then(|s| s.shown(loc.line, loc.column))
            {
                let bar = p.paint(p.gutter(), "|");
                writeln!(out, "{pad} {bar}")?;
                writeln!(out, "{} {bar} {}", p.paint(p.gutter(), loc.line), text)?;
                let caret = " ".repeat(column.saturating_sub(1));
                writeln!(
                    out,
                    "{pad} {bar} {caret}{}",
                    p.paint(p.severity(f.severity), "^")
                )?;
            }
        }
        writeln!(out, "  = {}", printable(&f.message))?;
        if let Some(doc) = rule_doc(&f.name).filter(|_| explained.insert(f.name.as_str())) {
            writeln!(out, "  = why: {}", first_paragraph(&doc.why))?;
        }
        if let Some(fix) = &f.fix {
            writeln!(out, "  = fix: {}", printable(fix))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", summary_line(report))
}

/// The most characters of a source line shown: a minified file is one line of megabytes, and a
/// finding per task would print it whole every time.
const SOURCE_WIDTH: usize = 120;

/// A file findings point into: its lines, and the values in it that may be secrets, masked in a
/// line when it is first shown (a minified file is one line that every finding shows).
struct Source {
    lines: Vec<String>,
    secrets: Vec<String>,
    masked: HashMap<usize, String>,
}

impl Source {
    fn read(path: &std::path::Path) -> Option<Source> {
        let text = batchprep_oci::input::read_text(path).ok()?;
        // JSON by its structure; Terraform, Bicep and YAML pools by their `name = value` lines.
        let mut secrets = json_secrets(&text);
        secrets.extend(assignment_secrets(&text));
        secrets.retain(|s| !s.is_empty());
        secrets.sort_unstable();
        secrets.dedup();
        Some(Source {
            lines: text.lines().map(str::to_owned).collect(),
            secrets,
            masked: HashMap::new(),
        })
    }

    /// Line `line` as shown: the part around `column`, secrets masked and controls escaped; and
    /// the caret's column.
    fn shown(&mut self, line: u32, column: u32) -> Option<(String, usize)> {
        let index = line.checked_sub(1)? as usize;
        let text = self.lines.get(index)?;
        let secrets = &self.secrets;
        let text = self
            .masked
            .entry(index)
            .or_insert_with(|| mask_secrets(text, secrets));
        let (part, column) = excerpt(text, column as usize, SOURCE_WIDTH);
        // Escapes widen the text before the caret; recount it.
        let before: String = part.chars().take(column.saturating_sub(1)).collect();
        Some((
            printable(&part).into_owned(),
            printable(&before).chars().count() + 1,
        ))
    }
}

/// `line` with each secret replaced by as many `*`, so columns still point at the same place.
fn mask_secrets(line: &str, secrets: &[String]) -> String {
    let mut out = line.to_owned();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), &"*".repeat(s.chars().count()));
        }
    }
    out
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
