//! `batchprep net` (in progress).

use std::process::ExitCode;

/// Subcommands of `batchprep net`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Not implemented yet.
    Check,
}

/// Runs the command.
pub fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`net` is not implemented yet")
}
