//! `batchprep man`: the manual pages, generated (clap_mangen) from the clap definition that parses the
//! command line, so `man batchprep` documents exactly the flags the binary takes.

use std::{
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context;

/// Arguments of `man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write `batchprep.1` and one page per subcommand (`batchprep-check.1`, ...) into DIR instead of
    /// printing `batchprep.1`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints `batchprep.1`, or writes every page into `--out-dir`.
pub fn run(args: Args, command: clap::Command) -> anyhow::Result<ExitCode> {
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            io::stdout().lock().write_all(&page)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
