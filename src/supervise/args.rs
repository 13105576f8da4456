//! The arguments of `drctl __supervise`, parsed on their own (see [`super`]).

use std::path::PathBuf;

use clap::Parser;

/// The hidden subcommand drctl runs itself with to supervise a shell step
/// (see `supervise`). It is not a variant of [`crate::cli::Command`], so neither `--help`
/// nor the completions know it.
pub const SUPERVISE: &str = "__supervise";

/// `drctl __supervise`: started by drctl for each shell step; not for use by hand.
#[derive(Debug, Parser)]
#[command(name = "drctl __supervise")]
pub struct SuperviseArgs {
    /// drctl's pid: the supervisor starts nothing if its parent is another.
    #[arg(long)]
    pub parent: u32,
    /// Between SIGTERM and SIGKILL when drctl asks for a stop.
    #[arg(long)]
    pub grace_ms: u64,
    /// The step's working directory.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// The step's stdin: this many bytes, read from the control socket
    /// before the step starts; the pipe then stays open until the step
    /// ends (an ssh step's remote side learns from its closing that the
    /// step was stopped). Without it, stdin is `/dev/null`.
    #[arg(long)]
    pub stdin_bytes: Option<usize>,
    /// The step's program and its arguments, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<std::ffi::OsString>,
}
