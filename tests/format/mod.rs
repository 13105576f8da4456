//! The format's constructs for real playbooks (issue 13), each through the
//! real binary: the happy path, the failure path, the dry run, resume, and
//! the bad inputs `validate` must catch, at their `file:line:column`.

mod expect_failure;
mod for_each;
mod run_timeout;
mod until;

use std::time::Duration;

use serde_json::Value;

use crate::support::state::{events, only_journal};
use crate::support::{Output, Test};

/// A test directory holding `runbooks/NAME.yaml`.
fn with_runbook(name: &str, yaml: &str) -> Test {
    Test::new()
        .file(format!("runbooks/{name}.yaml"), yaml)
        .timeout(Duration::from_secs(30))
}

/// `drctl validate runbooks/NAME.yaml` of a runbook that must be refused:
/// exit 2, and each `(location, message)` printed (the location as
/// `runbooks/NAME.yaml:LINE:COLUMN`).
#[track_caller]
fn refused(yaml: &str, problems: &[(&str, &str)]) {
    let out = with_runbook("bad", yaml)
        .args(["validate", "runbooks/bad.yaml"])
        .run();
    out.code(2);
    for (location, message) in problems {
        out.stderr_contains(&format!("runbooks/bad.yaml:{location}"))
            .stderr_contains(message);
    }
}

/// The `step_finished` event of a step in the only incident's journal.
#[track_caller]
fn finished(out: &Output, step: &str) -> Value {
    let journal = only_journal(out.path());
    let found = events(&journal, "step_finished", Some(step));
    assert_eq!(
        found.len(),
        1,
        "one step_finished for {step}\n{}",
        out.report()
    );
    found[0].clone()
}
