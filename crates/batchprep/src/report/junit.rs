//! JUnit XML: one test case per finding (failed for errors and warnings, passed with a message for
//! notes), or one passing case when there is nothing to report, so CI views never show an empty suite.

use std::io::{self, Write};

use super::CheckError;
use batchprep_lint::{Report, Severity};
use batchprep_oci::safe_text::printable;

pub fn render(out: &mut dyn Write, report: &Report, errors: &[CheckError]) -> io::Result<()> {
    let failures = report
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Note)
        .count();
    let tests = (report.findings.len() + errors.len()).max(1);
    let n_errors = errors.len();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="batchprep" tests="{tests}" failures="{failures}" errors="{n_errors}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="batchprep" tests="{tests}" failures="{failures}" errors="{n_errors}" skipped="0">"#
    )?;
    // A check that could not run is an <error>: CI views show it as broken, not as passed.
    for e in errors {
        writeln!(
            out,
            r#"    <testcase classname="{}" name="could not check">"#,
            xml(&e.subject)
        )?;
        writeln!(
            out,
            r#"      <error type="could-not-check" message="{}">{}</error>"#,
            xml(&e.message),
            xml(&e.to_string())
        )?;
        writeln!(out, "    </testcase>")?;
    }
    if report.findings.is_empty() && errors.is_empty() {
        writeln!(
            out,
            r#"    <testcase classname="batchprep" name="no findings"/>"#
        )?;
    }
    for f in &report.findings {
        let file = f
            .location
            .as_ref()
            .map(|l| {
                format!(
                    r#" file="{}" line="{}""#,
                    xml(&l.file.display().to_string()),
                    l.line
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            r#"    <testcase classname="{}" name="{} ({})"{file}>"#,
            xml(&printable(&f.subject)),
            xml(&f.name),
            xml(&f.id)
        )?;
        // Each part escaped on its own: a newline from an image would start a line of the CI log.
        let message = printable(&f.message);
        let body = match &f.fix {
            Some(fix) => format!("{message}\nfix: {}", printable(fix)),
            None => message.to_string(),
        };
        if f.severity > Severity::Note {
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                f.severity,
                xml(&message),
                xml(&body)
            )?;
        } else {
            writeln!(out, r#"      <system-out>{}</system-out>"#, xml(&body))?;
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}
