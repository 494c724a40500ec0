//! The flags shared by every command that reports findings: output formats and files, colour,
//! failure threshold, and per-rule overrides. Applied here, once, for every command.

use std::{io::Write, path::PathBuf, process::ExitCode};

use anyhow::Context;
use batchprep_lint::{Finding, Level, Policy, Report, Severity};
use clap::ValueEnum;

use crate::{
    config::Config,
    report::{ColorChoice, Extra, Format, RenderOptions},
};

/// `--output FORMAT=FILE`: the report also written, whole, in another format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// The format written.
    pub format: Format,
    /// Where.
    pub path: PathBuf,
}

fn parse_output(s: &str) -> Result<OutputFile, String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected FORMAT=FILE, e.g. sarif=results.sarif"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        let names: Vec<_> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value())
            .map(|v| v.get_name().to_owned())
            .collect();
        format!("`{format}` is not a format (one of: {})", names.join(", "))
    })?;
    if path.is_empty() {
        return Err(format!("`{s}`: no file after `=`"));
    }
    Ok(OutputFile {
        format,
        path: PathBuf::from(path),
    })
}

/// Output and policy flags for commands that produce findings.
#[derive(Debug, Clone, clap::Args)]
pub struct FindingsArgs {
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write the report in FORMAT to FILE, from the same run (repeatable), e.g.
    /// `--output sarif=results.sarif --output junit=results.xml`.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = parse_output)]
    pub outputs: Vec<OutputFile>,
    /// Colour in the human report: `auto` when stdout is a terminal (honours `NO_COLOR` and
    /// `CLICOLOR_FORCE`).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only the summary line on stdout; the exit code and `--output` files are unchanged.
    #[arg(short, long)]
    pub quiet: bool,
    /// The directory SARIF file locations are relative to (`%SRCROOT%`). Default: the git work tree
    /// around the current directory, else the current directory.
    #[arg(long, value_name = "DIR")]
    pub source_root: Option<PathBuf>,
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

    /// Renders an already-built report (the `--output` files, then stdout) and returns the exit code.
    pub fn emit(&self, report: &Report, extra: &Extra) -> anyhow::Result<ExitCode> {
        self.emit_to(report, extra, true)
    }

    /// Whether a SARIF report is written (to stdout or an `--output`).
    pub fn wants_sarif(&self) -> bool {
        self.format == Format::Sarif || self.outputs.iter().any(|o| o.format == Format::Sarif)
    }

    /// [`FindingsArgs::emit`], with stdout left to the caller (`check --diff` prints the diff there).
    pub fn emit_to(
        &self,
        report: &Report,
        extra: &Extra,
        stdout: bool,
    ) -> anyhow::Result<ExitCode> {
        // What could not be checked goes to stderr in every format, so a CI log always says why.
        for e in &extra.errors {
            // One line each: an error may quote an image's strings.
            eprintln!(
                "error: {}",
                batchprep_oci::safe_text::printable(&e.to_string())
            );
        }
        let code = exit_code(report, self.fail_on, !extra.errors.is_empty());
        // Only SARIF reads the source root.
        let sarif = self.wants_sarif();
        let mut options = RenderOptions {
            color: false,
            source_root: if sarif {
                Some(self.source_root()?)
            } else {
                None
            },
        };
        for output in &self.outputs {
            write_output(output, report, extra, &options)?;
        }
        if !stdout {
            return Ok(code);
        }
        options.color = self.color.for_stdout();
        let mut out = std::io::stdout().lock();
        let written = if self.quiet {
            writeln!(out, "{}", crate::report::summary_line(report))
        } else {
            crate::report::render(&mut out, self.format, report, extra, &options)
        }
        .and_then(|()| out.flush());
        match written {
            Ok(()) => Ok(code),
            // A closed stdout (`| head -c1`) loses the report, not the verdict.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(code),
            Err(e) => Err(e.into()),
        }
    }
}

impl FindingsArgs {
    /// `--source-root`, else the git work tree around the current directory, else the directory.
    fn source_root(&self) -> anyhow::Result<PathBuf> {
        let cwd = std::env::current_dir().context("the current directory")?;
        Ok(match &self.source_root {
            Some(dir) => cwd.join(dir),
            None => cwd
                .ancestors()
                .find(|d| d.join(".git").exists())
                .unwrap_or(&cwd)
                .to_path_buf(),
        })
    }
}

/// Writes one `--output` file, whole or not at all.
fn write_output(
    output: &OutputFile,
    report: &Report,
    extra: &Extra,
    options: &RenderOptions,
) -> anyhow::Result<()> {
    crate::output_file::write_with(&output.path, |w| {
        crate::report::render(w, output.format, report, extra, options)
    })
    .with_context(|| format!("--output {}", output.path.display()))
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
