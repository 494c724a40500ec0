//! `batchprep pool` (in progress).

use std::process::ExitCode;

/// Subcommands of `batchprep pool`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Not implemented yet.
    Emit,
}

/// Runs the command.
pub fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`pool` is not implemented yet")
}
