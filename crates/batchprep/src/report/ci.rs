//! CI annotations: GitHub Actions workflow commands and Azure Pipelines logging commands.

use std::io::{self, Write};

use super::CheckError;
use batchprep_lint::{Finding, Report, Severity};

fn text(f: &Finding) -> String {
    match &f.fix {
        Some(fix) => format!("{}: {} (fix: {fix})", f.subject, f.message),
        None => format!("{}: {}", f.subject, f.message),
    }
}

/// `::error file=F,line=L,col=C,title=T::message`
pub fn render_github(
    out: &mut dyn Write,
    report: &Report,
    errors: &[CheckError],
) -> io::Result<()> {
    for e in errors {
        writeln!(
            out,
            "::error title={}::{}",
            gh_property("could not check"),
            gh_data(&e.to_string())
        )?;
    }
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(loc) = &f.location {
            props.push(format!(
                "file={}",
                gh_property(&loc.file.display().to_string())
            ));
            props.push(format!("line={}", loc.line));
            props.push(format!("col={}", loc.column));
        }
        props.push(format!(
            "title={}",
            gh_property(&format!("{} ({})", f.name, f.id))
        ));
        writeln!(out, "::{level} {}::{}", props.join(","), gh_data(&text(f)))?;
    }
    Ok(())
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `##vso[task.logissue type=error;sourcepath=F;linenumber=L;columnnumber=C;code=R]message`
///
/// Azure Pipelines knows only errors and warnings; notes print as plain lines.
pub fn render_azure(out: &mut dyn Write, report: &Report, errors: &[CheckError]) -> io::Result<()> {
    for e in errors {
        writeln!(
            out,
            "##vso[task.logissue type=error;code=could-not-check]{}",
            azp(&e.to_string())
        )?;
    }
    for f in &report.findings {
        let kind = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => {
                writeln!(out, "note[{}]: {}", f.name, text(f).replace('\n', " "))?;
                continue;
            }
        };
        let mut props = vec![format!("type={kind}")];
        if let Some(loc) = &f.location {
            props.push(format!(
                "sourcepath={}",
                azp(&loc.file.display().to_string())
            ));
            props.push(format!("linenumber={}", loc.line));
            props.push(format!("columnnumber={}", loc.column));
        }
        props.push(format!("code={}", f.name));
        writeln!(
            out,
            "##vso[task.logissue {}]{}",
            props.join(";"),
            azp(&text(f))
        )?;
    }
    Ok(())
}

/// Azure's escaping for logging-command values.
fn azp(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace(';', "%3B")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(']', "%5D")
}
