//! The flags shared by every command that reports findings: output format, failure threshold, and
//! per-rule overrides. Applied here, once, for every command.

use std::{io::Write, path::PathBuf, process::ExitCode};

use anyhow::Context;
use batchprep_lint::{Finding, Level, Policy, Report, Severity};

use crate::{
    config::Config,
    report::{Extra, Format},
};

/// Output and policy flags for commands that produce findings.
#[derive(Debug, Clone, clap::Args)]
pub struct FindingsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", default_value = "error", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// Report this rule (name or id) as an error.
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Report this rule as a warning.
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Do not report this rule.
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Configuration file (default: `batchprep.toml` found upward from the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

impl FindingsArgs {
    /// Loads the configuration this command uses.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        Config::discover(self.config.as_deref())
    }

    /// The policy from the configuration, then the command-line overrides.
    pub fn policy(&self, config: &Config) -> anyhow::Result<Policy> {
        let mut policy = config.policy()?;
        for (rules, level) in [
            (&self.deny, Level::Error),
            (&self.warn, Level::Warning),
            (&self.allow, Level::Allow),
        ] {
            for rule in rules {
                policy.set(rule, level).context("command-line override")?;
            }
        }
        Ok(policy)
    }

    /// Applies the policy, renders the report to stdout and returns the exit code.
    pub fn finish(
        &self,
        config: &Config,
        findings: Vec<Finding>,
        extra: &Extra,
    ) -> anyhow::Result<ExitCode> {
        let report = self.policy(config)?.apply(findings);
        self.emit(&report, extra)
    }

    /// Renders an already-built report and returns the exit code.
    pub fn emit(&self, report: &Report, extra: &Extra) -> anyhow::Result<ExitCode> {
        // What could not be checked goes to stderr in every format, so a CI log always says why.
        for e in &extra.errors {
            eprintln!("error: {e}");
        }
        let code = exit_code(report, self.fail_on, !extra.errors.is_empty());
        let mut out = std::io::stdout().lock();
        let written =
            crate::report::render(&mut out, self.format, report, extra).and_then(|()| out.flush());
        match written {
            Ok(()) => Ok(code),
            // A closed stdout (`| head -c1`) loses the report, not the verdict.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(code),
            Err(e) => Err(e.into()),
        }
    }
}

/// 0 clean, 1 findings at or above the threshold, 2 when something could not be checked.
pub fn exit_code(report: &Report, fail_on: Severity, incomplete: bool) -> ExitCode {
    if incomplete {
        ExitCode::from(2)
    } else if report.fails(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
