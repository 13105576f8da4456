//! What drctl and a step's supervisor say to each other over the control
//! socket (the supervisor's stdin): drctl sends one-word commands, the
//! supervisor sends one JSON report, then exits. The socket closing on
//! drctl's side means drctl is gone.

use serde::{Deserialize, Serialize};

use crate::outcome::LeftRunning;

/// Stop the step: SIGTERM to its tree, the grace period, then SIGKILL.
pub const TERM: &[u8] = b"term\n";
/// Kill the step's tree now.
pub const KILL: &[u8] = b"kill\n";

/// The supervisor's one report, a line of JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum Report {
    /// The step's program could not be started.
    SpawnFailed {
        /// The OS error number, when there is one.
        errno: Option<i32>,
        message: String,
    },
    /// The step's own process ended and was reaped.
    Finished {
        exit: StepExit,
        /// The supervisor stopped the tree on a command (the exit is then
        /// the stop's, not the step's own doing).
        stopped: bool,
        /// What is still running: what the step left on purpose when it ended
        /// by itself; after a stop, only what could not be killed.
        left_running: Vec<LeftRunning>,
    },
}

/// How the step's own process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepExit {
    Code(i32),
    Signal(i32),
}
