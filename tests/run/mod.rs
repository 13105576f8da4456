//! The run engine through the real binary: the DAG and its concurrency, dry
//! runs, timeouts and signals, confirmations (with and without a terminal),
//! template injection, retries, conditions, outputs and rollbacks, and input
//! checks.

mod confirm;
mod dag;
mod dry_run;
mod inputs;
mod processes;
mod prompts;
mod signals;
mod steps;

use crate::support::Test;

/// A test directory holding `runbooks/NAME.yaml` with this text.
fn with_runbook(name: &str, yaml: &str) -> Test {
    Test::new().file(format!("runbooks/{name}.yaml"), yaml)
}
