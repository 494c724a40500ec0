//! `batchprep rules` and `batchprep explain`: the catalog, rendered from `rules/`.

use std::{io::Write, process::ExitCode};

use batchprep_lint::{catalog, rule_doc};

/// Arguments of `batchprep rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format, as for every other command.
    #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
    format: RulesFormat,
    /// Same as `--format json` (kept for scripts written before `--format`).
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

/// Formats of `batchprep rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RulesFormat {
    /// One line per rule.
    Human,
    /// The catalog as a JSON array.
    Json,
}

/// Arguments of `batchprep explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Rule name or id.
    rule: String,
}

/// Lists every rule: id, severity, name, summary.
pub fn run_rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if args.json || args.format == RulesFormat::Json {
        serde_json::to_writer_pretty(&mut out, catalog())?;
        writeln!(out)?;
    } else {
        for d in catalog() {
            writeln!(
                out,
                "{:<6} {:<8} {:<36} {}",
                d.id, d.severity, d.name, d.summary
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one rule's docs.
pub fn run_explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let d = rule_doc(&args.rule)
        .ok_or_else(|| anyhow::anyhow!("unknown rule `{}` (see `batchprep rules`)", args.rule))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} ({}): {}", d.name, d.id, d.summary)?;
    writeln!(
        out,
        "category: {}, default severity: {}",
        d.category, d.severity
    )?;
    writeln!(out, "\nWhy\n{}", d.why.trim())?;
    writeln!(out, "\nFix\n{}", d.fix.trim())?;
    match d.autofix {
        Some(batchprep_lint::catalog::Autofix::Safe) => writeln!(
            out,
            "\n`batchprep check --fix` applies this fix where it is mechanical (some cases need --unsafe-fixes; see the README)."
        )?,
        Some(batchprep_lint::catalog::Autofix::Unsafe) => writeln!(
            out,
            "\n`batchprep check --fix --unsafe-fixes` applies this fix (it changes behaviour)."
        )?,
        None => {}
    }
    if !d.references.is_empty() {
        writeln!(out, "\nReferences")?;
        for r in &d.references {
            writeln!(out, "- {r}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
