//! Incidents through the real binary: crashes at every durability boundary
//! and what `resume` makes of them, secrets that must never reach a byte of
//! output, locks under contention, resuming failed runs, and the report.

mod compat;
mod crash;
mod effects;
mod integrity;
mod locks;
mod post_mortem;
mod redecide;
mod report;
mod resume;
mod secrets;
mod semantics;
mod statedir;

use std::path::PathBuf;

use crate::support::Test;
use crate::support::state::{only_incident, state_dir};

/// A test directory holding `runbooks/NAME.yaml` with this text.
fn with_runbook(name: &str, yaml: &str) -> Test {
    Test::new().file(format!("runbooks/{name}.yaml"), yaml)
}

/// `a` and `b` succeed; `c` fails until `fixed` exists.
const FAILING_LINE: &str = r#"
version: 1
name: line
steps:
  - id: a
    shell: { run: "echo run >> a.count" }
  - id: b
    needs: [a]
    shell: { run: "echo run >> b.count" }
  - id: c
    needs: [b]
    shell: { run: "echo run >> c.count; test -e fixed" }
"#;

/// A run of [`FAILING_LINE`] that failed at `c`, with `fixed` then made so
/// that a resume would succeed.
struct FailedLine {
    test: Test,
    incident: String,
    journal: PathBuf,
    /// The journal's lines as drctl wrote them.
    lines: Vec<String>,
}

fn failed_line_run() -> FailedLine {
    let test = with_runbook("line", FAILING_LINE);
    test.again().args(["run", "line"]).run().code(1);
    let incident = only_incident(test.path());
    let journal = state_dir(test.path())
        .join("incidents")
        .join(&incident)
        .join("journal.jsonl");
    let lines = std::fs::read_to_string(&journal)
        .expect("journal")
        .lines()
        .map(str::to_owned)
        .collect();
    std::fs::write(test.path().join("fixed"), "").expect("fix c");
    FailedLine {
        test,
        incident,
        journal,
        lines,
    }
}
