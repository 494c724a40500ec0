//! `batchprep start-task` (in progress).

use std::process::ExitCode;

/// Arguments of `batchprep start-task`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`start-task` is not implemented yet")
}
