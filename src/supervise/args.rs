//! The arguments of `drctl __supervise`, parsed on their own (see [`super`]).

use clap::Parser;

/// The hidden subcommand drctl runs itself with to supervise a shell step
/// (see `supervise`). It is not a variant of [`crate::cli::Command`], so neither `--help`
/// nor the completions know it.
pub const SUPERVISE: &str = "__supervise";

/// `drctl __supervise`: started by drctl to run its steps; not for use by
/// hand. Nothing of a step is on this command line: each step comes over
/// the control socket (see [`super::protocol`]), so that an idle supervisor
/// does not look like a running step, and a step's environment, which may
/// hold secrets, never reaches an argument list.
#[derive(Debug, Parser)]
#[command(name = "drctl __supervise")]
pub struct SuperviseArgs {
    /// drctl's pid: the supervisor starts nothing if its parent is another.
    #[arg(long)]
    pub parent: u32,
}
