//! The exit codes drctl documents (docs/cli.md). Scripts and CI rely on them.

/// Everything worked.
pub const OK: i32 = 0;
/// A run (or a resumed run) ended with a failed step.
pub const RUN_FAILED: i32 = 1;
/// Invalid input: a runbook that does not validate, bad arguments, a missing
/// input, an unknown incident. Nothing was executed.
pub const INVALID_INPUT: i32 = 2;
/// Refused: a confirmation was declined or could not be asked, or the
/// runbook's lock is held by another run.
pub const REFUSED: i32 = 3;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: i32 = 130;
