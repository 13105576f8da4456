//! How steps end: the words every layer shares (the adapters report what
//! a step left running, the plan reads earlier outcomes, events carry both).

use serde::{Deserialize, Serialize};

/// How a step or run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Succeeded,
    Failed,
    Skipped,
    TimedOut,
    Interrupted,
    /// A confirmation was declined or could not be asked.
    Refused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::TimedOut => "timed_out",
            Status::Interrupted => "interrupted",
            Status::Refused => "refused",
        }
    }

    /// Dependents may start after a step ended this way.
    pub fn releases_dependents(self) -> bool {
        matches!(self, Status::Succeeded | Status::Skipped)
    }
}

/// A process a finished step left running: the root of what it left (its
/// own children are not listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftRunning {
    pub pid: u32,
    /// Its command line, arguments joined by spaces, cut at 200 characters.
    pub command: String,
}
