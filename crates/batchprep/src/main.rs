//! `batchprep`: prepare and validate container images and Azure Batch pool definitions.
//!
//! The binary is glue: it parses the command line, finds the configuration, calls the library crates
//! and renders what they return. Errors print as one line (`error: ...`) with exit code 2.

mod cmd;
mod completions;
mod config;
mod findings_args;
mod fix_args;
mod manpage;
mod network_args;
mod output_file;
mod report;

/// File arguments (`-` is standard input), shared with the pre-flight.
use batchprep_preflight::input;

use std::{io, process::ExitCode};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Prepare and validate container images and Azure Batch pool definitions before anything reaches Azure.
#[derive(Debug, Parser)]
#[command(name = "batchprep", version, about, max_term_width = 100)]
struct Cli {
    /// Print what is being done to stderr.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show an image's manifest, config, layers and files as Azure Batch will see them.
    Inspect(cmd::inspect::Args),
    /// Find the ENTRYPOINT/WORKDIR/user/platform pitfalls of images as Azure Batch tasks will run them.
    Lint(cmd::lint::Args),
    /// List the rule catalog.
    Rules(cmd::rules::RulesArgs),
    /// Print one rule's documentation.
    Explain(cmd::rules::ExplainArgs),
    /// Registry pull access and Docker Hub rate-limit risk.
    #[command(subcommand)]
    Registry(cmd::registry::Command),
    /// Docker bridge and address pools against the pool's networks.
    #[command(subcommand)]
    Net(cmd::net::Command),
    /// Generate the start task that moves Docker's data root and sets the bridge.
    StartTask(cmd::start_task::Args),
    /// Generate pool configurations.
    #[command(subcommand)]
    Pool(cmd::pool::Command),
    /// The whole pre-flight of a pool and its tasks, for CI.
    Check(Box<cmd::check::Args>),
    /// Write a commented batchprep.toml (drafted from a pool when given) and its JSON Schema.
    Init(cmd::init::Args),
    /// Print the JSON Schema of batchprep.toml.
    Schema,
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Args),
    /// Print the manual page, or write every page into a directory.
    Man(manpage::Args),
}

fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Rules(args) => cmd::rules::run_rules(args),
        Command::Explain(args) => cmd::rules::run_explain(args),
        Command::Registry(command) => cmd::registry::run(command, cli.verbose),
        Command::Net(command) => cmd::net::run(command),
        Command::StartTask(args) => cmd::start_task::run(args),
        Command::Pool(command) => cmd::pool::run(command),
        Command::Check(args) => cmd::check::run(*args, cli.verbose),
        Command::Init(args) => cmd::init::run(args),
        Command::Schema => cmd::init::run_schema(),
        Command::Completions(args) => completions::run(args, command()),
        Command::Man(args) => manpage::run(args, command()),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the whole cause chain, joined by ": ".
            // Escaped: a cause may quote an input (an image's entry name, a file's value).
            eprintln!(
                "error: {}",
                batchprep_oci::safe_text::printable(&format!("{err:#}"))
            );
            ExitCode::from(2)
        }
    }
}

/// The command line's definition, with the version line `--version` prints: the crate's version and the
/// date of the node-image catalog it judges images by.
fn command() -> clap::Command {
    let version = format!(
        "{} (node-image catalog {})",
        env!("CARGO_PKG_VERSION"),
        batchprep_batch::catalog::as_of()
    );
    Cli::command().version(version)
}

/// A closed stdout (`batchprep rules | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .map(io::Error::kind)
            // serde_json wraps the writer's error in its own.
            .or_else(|| {
                e.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            })
            == Some(io::ErrorKind::BrokenPipe)
    })
}
