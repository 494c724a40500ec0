//! `batchprep registry` (in progress).

use std::process::ExitCode;

/// Subcommands of `batchprep registry`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Not implemented yet.
    Check,
}

/// Runs the command.
pub fn run(_command: Command, _verbose: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`registry` is not implemented yet")
}
