//! `batchprep check` (in progress).

use std::process::ExitCode;

/// Arguments of `batchprep check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args, _verbose: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`check` is not implemented yet")
}
