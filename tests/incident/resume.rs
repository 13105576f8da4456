//! Resuming a failed run: fixed, it completes without running its succeeded
//! steps again; a changed runbook is refused unless accepted.

use super::with_runbook;
use crate::support::Output;
use crate::support::state::{count, events, only_incident, only_journal, read};

/// `b` needs a file that is not there at first.
const NEEDY: &str = r#"
version: 1
name: needy
inputs:
  target: { default: prod }
steps:
  - id: a
    shell: { run: "echo run >> a.count; echo '{\"id\": 42}'" }
    outputs:
      id: "{{ result.json.id }}"
  - id: side
    shell: { run: "echo run >> side.count" }
  - id: b
    needs: [a]
    shell: { run: "echo run >> b.count; cat needed" }
  - id: c
    needs: [b, side]
    shell: { run: "echo run >> c.count; printf '%s/%s' {{ steps.a.outputs.id }} {{ inputs.target }} > c.out" }
"#;

fn failed_run() -> (Output, String) {
    let output = with_runbook("needy", NEEDY)
        .args(["run", "needy", "--set", "target=staging"])
        .run();
    output.code(1).stderr_contains("needed");
    let incident = only_incident(output.path());
    (output, incident)
}

fn counts(output: &Output) -> [usize; 4] {
    ["a", "side", "b", "c"].map(|s| count(output.path(), &format!("{s}.count")))
}

#[test]
fn a_fixed_run_resumes_without_running_succeeded_steps_again() {
    let (output, incident) = failed_run();
    assert_eq!(counts(&output), [1, 1, 1, 0]);
    std::fs::write(output.path().join("needed"), "here").expect("fix the problem");
    let resumed = output.again().args(["resume", incident.as_str()]).run();
    resumed
        .success()
        .stderr_contains("2 of 4 steps already done");
    assert_eq!(counts(&output), [1, 1, 2, 1]);
    // Outputs and inputs of the first run carry over.
    assert_eq!(
        std::fs::read_to_string(output.path().join("c.out")).expect("c's output"),
        "42/staging"
    );
    let journal = only_journal(output.path());
    let runs = events(&journal, "run_started", None);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["resumed_from"], runs[0]["run_id"]);
    assert_eq!(runs[1]["already_done"], serde_json::json!(["a", "side"]));
    let finished = events(&journal, "run_finished", None);
    assert_eq!(finished[1]["status"], "succeeded");
    // The incident's summary shows the final state.
    output
        .again()
        .args(["incidents"])
        .run()
        .success()
        .stdout_contains(&incident)
        .stdout_contains("succeeded");
}

#[test]
fn a_resume_after_the_runbook_changed_is_refused_unless_allowed() {
    let (output, incident) = failed_run();
    std::fs::write(output.path().join("needed"), "here").expect("fix the problem");
    let edited = NEEDY.replace("cat needed", "cat needed; true");
    std::fs::write(output.path().join("runbooks/needy.yaml"), edited).expect("edit");
    output
        .again()
        .args(["resume", incident.as_str()])
        .run()
        .code(3)
        .stderr_contains("runbook `needy` changed")
        .stderr_contains("--allow-changed");
    assert_eq!(
        counts(&output),
        [1, 1, 1, 0],
        "a refused resume ran something"
    );
    output
        .again()
        .args(["resume", incident.as_str(), "--allow-changed"])
        .run()
        .success();
    assert_eq!(counts(&output), [1, 1, 2, 1]);
}

#[test]
fn a_resume_without_the_runbook_file_uses_the_frozen_copy() {
    let (output, incident) = failed_run();
    std::fs::write(output.path().join("needed"), "here").expect("fix the problem");
    std::fs::remove_file(output.path().join("runbooks/needy.yaml")).expect("remove");
    output
        .again()
        .args(["resume", incident.as_str()])
        .run()
        .success()
        .stderr_contains("frozen copy");
    assert_eq!(counts(&output), [1, 1, 2, 1]);
}

#[test]
fn resuming_an_unknown_incident_is_an_error() {
    let (output, _) = failed_run();
    output
        .again()
        .args(["resume", "INC-20000101-001"])
        .run()
        .code(2)
        .stderr_contains("INC-20000101-001");
}

/// `up` puts something in place and its rollback takes it away; `use` needs it.
const UNDONE: &str = r#"
version: 1
name: undone
steps:
  - id: up
    shell: { run: "echo run >> up.count; touch up.state" }
    rollback:
      shell: { run: "rm up.state" }
  - id: use
    needs: [up]
    shell: { run: "test -e fixed; test -e up.state" }
"#;

/// Regression: a step whose rollback ran counted as done on resume, so the
/// resumed run went on without its effect (here: `up.state` was gone).
#[test]
fn regression_a_rolled_back_step_runs_again_on_resume() {
    let output = with_runbook("undone", UNDONE)
        .args(["run", "undone", "--yes", "--rollback", "yes"])
        .run();
    output.code(1);
    assert!(!output.path().join("up.state").exists(), "the rollback ran");
    let incident = only_incident(output.path());
    std::fs::write(output.path().join("fixed"), "").expect("fix the problem");
    output
        .again()
        .args(["resume", incident.as_str(), "--yes"])
        .run()
        .success()
        .stderr_contains("0 of 2 steps already done");
    assert_eq!(count(output.path(), "up.count"), 2);
    assert!(output.path().join("up.state").exists());
}

/// The rollback was declined: the step's effect stands, and resume keeps it.
#[test]
fn a_step_whose_rollback_was_declined_stays_done_on_resume() {
    let output = with_runbook("undone", UNDONE).args(["run", "undone"]).run();
    output.code(1);
    assert!(output.path().join("up.state").exists(), "no rollback ran");
    let incident = only_incident(output.path());
    std::fs::write(output.path().join("fixed"), "").expect("fix the problem");
    output
        .again()
        .args(["resume", incident.as_str()])
        .run()
        .success();
    assert_eq!(count(output.path(), "up.count"), 1);
}

/// A rollback that failed may have half undone its step: resume cannot tell
/// and asks, as for an interrupted step.
#[test]
fn a_step_whose_rollback_failed_is_not_assumed_done_on_resume() {
    let yaml = UNDONE.replace("rm up.state", "rm up.state; exit 1");
    let output = with_runbook("undone", &yaml)
        .args(["run", "undone", "--yes", "--rollback", "yes"])
        .run();
    output.code(1);
    let incident = only_incident(output.path());
    std::fs::write(output.path().join("fixed"), "").expect("fix the problem");
    output
        .again()
        .args(["resume", incident.as_str(), "--yes"])
        .run()
        .code(3)
        .stderr_contains("step `up`")
        .stderr_contains("rollback")
        .stderr_contains("--mark-done up");
    output
        .again()
        .args(["resume", incident.as_str(), "--yes", "--retry-interrupted"])
        .run()
        .success();
    assert_eq!(count(output.path(), "up.count"), 2);
}

/// Regression: when a resumed run failed, only the steps completed in that
/// run were offered a rollback; steps done in the earlier run were left
/// in place (here: `up` stayed up, though the procedure failed as a whole).
#[test]
fn regression_rollbacks_of_a_resumed_run_include_steps_done_earlier() {
    let yaml = r#"
version: 1
name: layered
steps:
  - id: up
    shell: { run: "echo up >> done" }
    rollback:
      shell: { run: "echo undo-up >> undone" }
  - id: down
    needs: [up]
    shell: { run: "test -e first-fixed; echo down >> done" }
    rollback:
      shell: { run: "echo undo-down >> undone" }
  - id: last
    needs: [down]
    shell: { run: "test -e second-fixed" }
"#;
    // Rollbacks are declined (no terminal, no --yes): the operator means to resume.
    let output = with_runbook("layered", yaml).args(["run", "layered"]).run();
    output.code(1);
    let incident = only_incident(output.path());
    std::fs::write(output.path().join("first-fixed"), "").expect("fix the first problem");
    output
        .again()
        .args(["resume", incident.as_str(), "--yes", "--rollback", "yes"])
        .run()
        .code(1);
    assert_eq!(read(output.path(), "done"), "up\ndown");
    // In reverse order of completion, across both runs.
    assert_eq!(read(output.path(), "undone"), "undo-down\nundo-up");
}
