//! `batchprep completions SHELL`: the shell completion script, generated from the same clap definition
//! that parses the command line, so completions never fall behind the flags.

use std::{io, process::ExitCode};

use clap_complete::Shell;

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Install, for example:
  bash: batchprep completions bash > ~/.local/share/bash-completion/completions/batchprep
  zsh:  batchprep completions zsh > ~/.zfunc/_batchprep   (with fpath+=~/.zfunc before compinit)
  fish: batchprep completions fish > ~/.config/fish/completions/batchprep.fish")]
pub struct Args {
    /// The shell to write completions for.
    pub shell: Shell,
}

/// Writes the completion script for `args.shell` to stdout.
pub fn run(args: Args, mut command: clap::Command) -> anyhow::Result<ExitCode> {
    clap_complete::generate(
        args.shell,
        &mut command,
        "batchprep",
        &mut io::stdout().lock(),
    );
    Ok(ExitCode::SUCCESS)
}
