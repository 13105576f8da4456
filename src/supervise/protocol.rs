//! What drctl and a step's supervisor say to each other over the control
//! socket, a private socketpair that is the supervisor's stdin. One
//! supervisor serves one step after another, as long as each leaves nothing
//! behind:
//!
//! 1. drctl sends a [`Step`] as one line of JSON, with the step's stdout and
//!    stderr pipes attached to that line (`SCM_RIGHTS`, in that order), then
//!    `stdin_bytes` bytes of the step's stdin, if it has any.
//! 2. The supervisor answers [`Report::Accepted`] once it holds all of it,
//!    before it starts anything: a supervisor that closes the socket before
//!    this line never started the step, and drctl may give the step to
//!    another supervisor.
//! 3. While the step runs, drctl may send [`TERM`] or [`KILL`]; the
//!    supervisor ignores them while it has no step (one may cross the
//!    step's end on the wire).
//! 4. The supervisor sends [`Report::SpawnFailed`] or [`Report::Finished`].
//!    Only after `Finished` with `idle: true` does it wait for another step;
//!    otherwise it exits. It also exits, idle or not, when the step changed
//!    its own attributes (`super::attributes`): the next step it was sent
//!    is then one it never accepted.
//!
//! The socket closing on drctl's side means drctl is gone: the supervisor
//! kills whatever the step left and exits at once, busy or idle.

use serde::{Deserialize, Serialize};

use crate::outcome::LeftRunning;

/// Stop the step: SIGTERM to its tree, the grace period, then SIGKILL.
pub const TERM: &[u8] = b"term\n";
/// Kill the step's tree now.
pub const KILL: &[u8] = b"kill\n";

/// A step for the supervisor to run. It never reaches an argument list or a
/// file: the environment may hold secrets. No `Debug`, for the same reason.
#[derive(Clone, Serialize, Deserialize)]
pub struct Step {
    pub program: String,
    pub args: Vec<String>,
    /// Added on top of the supervisor's own environment, which is drctl's
    /// as drctl inherited it; nothing of a previous step's stays.
    pub env: Vec<(String, String)>,
    /// The working directory; `None`: drctl's.
    pub cwd: Option<String>,
    /// Between SIGTERM and SIGKILL when drctl asks for a stop.
    pub grace_ms: u64,
    /// The step's stdin: this many bytes follow the line; the pipe then stays
    /// open until the step ends (an ssh step's remote side learns from its
    /// closing that the step was stopped). `None`: `/dev/null`.
    pub stdin_bytes: Option<usize>,
}

/// What the supervisor says, a line of JSON each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum Report {
    /// The step and its pipes arrived; it is about to start.
    Accepted,
    /// The step's program could not be started; the supervisor exits.
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
        /// Nothing of the step is left and it was not stopped: the
        /// supervisor waits for another step. Otherwise it exits.
        idle: bool,
    },
}

/// How the step's own process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepExit {
    Code(i32),
    Signal(i32),
}
