//! `batchprep inspect` (in progress).

use std::process::ExitCode;

/// Arguments of `batchprep inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`inspect` is not implemented yet")
}
