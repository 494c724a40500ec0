//! One module per subcommand: its clap arguments and its `run`.

pub mod check;
pub mod init;
pub mod inspect;
pub mod lint;
pub mod net;
pub mod pool;
pub mod registry;
pub mod rules;
pub mod start_task;
