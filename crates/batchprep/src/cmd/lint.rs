//! `batchprep lint` (in progress).

use std::process::ExitCode;

/// Arguments of `batchprep lint`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lint` is not implemented yet")
}
