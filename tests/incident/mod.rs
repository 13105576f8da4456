//! Incidents through the real binary: crashes at every durability boundary
//! and what `resume` makes of them, secrets that must never reach a byte of
//! output, locks under contention, resuming failed runs, and the report.

mod crash;
mod integrity;
mod locks;
mod report;
mod resume;
mod secrets;
mod semantics;
mod statedir;

use crate::support::Test;

/// A test directory holding `runbooks/NAME.yaml` with this text.
fn with_runbook(name: &str, yaml: &str) -> Test {
    Test::new().file(format!("runbooks/{name}.yaml"), yaml)
}
