//! The run engine through the real binary: the DAG and its concurrency, dry
//! runs, timeouts and signals, confirmations (with and without a terminal),
//! template injection, retries, conditions, outputs and rollbacks, and input
//! checks.

mod calls;
mod confirm;
mod dag;
mod dry_run;
mod handlers;
mod inputs;
mod processes;
mod prompts;
mod secret_sources;
mod signals;
mod steps;

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

use crate::support::Test;

/// drctl on a pseudo-terminal, so that it asks.
fn on_a_pty(test: &Test) -> PtySession {
    rexpect::session::spawn_command(test.command(), Some(15_000))
        .unwrap_or_else(|e| panic!("cannot start drctl on a pty: {e}"))
}

/// Reads everything up to the end and returns drctl's exit code.
fn finish(mut session: PtySession) -> (i32, String) {
    let rest = session
        .exp_eof()
        .unwrap_or_else(|e| panic!("no end of output: {e}"));
    match session.process().wait() {
        Ok(WaitStatus::Exited(_, code)) => (code, rest),
        other => panic!("drctl did not exit normally: {other:?}\n{rest}"),
    }
}

/// A test directory holding `runbooks/NAME.yaml` with this text.
fn with_runbook(name: &str, yaml: &str) -> Test {
    Test::new().file(format!("runbooks/{name}.yaml"), yaml)
}
