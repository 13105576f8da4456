//! What a step can say about how it runs: `retry`, `when`,
//! `continue_on_error`, `expect`, `outputs` and `rollback`.

use super::with_runbook;
use crate::support::state::{count, events, kinds, only_journal, read, step_output};

#[test]
fn retry_runs_a_step_again_until_it_succeeds() {
    let yaml = r#"
version: 1
name: flaky
steps:
  - id: flaky
    retry: { attempts: 3, delay: 100ms }
    shell:
      run: |
        echo try >> tries
        [ "$(wc -l < tries)" -ge 3 ] || { echo "not yet" >&2; exit 7; }
"#;
    let output = with_runbook("flaky", yaml).args(["run", "flaky"]).run();
    output.success();
    assert_eq!(count(output.path(), "tries"), 3);
    let journal = only_journal(output.path());
    let failed = events(&journal, "attempt_failed", Some("flaky"));
    assert_eq!(failed.len(), 2, "{journal:#?}");
    assert_eq!(failed[0]["attempt"], 1);
    assert_eq!(failed[1]["attempt"], 2);
    assert_eq!(failed[0]["retry_in_ms"], 100);
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("exit code 7"),
        "{journal:#?}"
    );
    let finished = events(&journal, "step_finished", Some("flaky"));
    assert_eq!(finished[0]["status"], "succeeded");
    assert_eq!(finished[0]["attempts"], 3);
}

#[test]
fn retry_gives_up_after_its_attempts() {
    let yaml = r#"
version: 1
name: broken
steps:
  - id: broken
    retry: { attempts: 2, delay: 10ms }
    shell: { run: "echo try >> tries; exit 1" }
"#;
    let output = with_runbook("broken", yaml).args(["run", "broken"]).run();
    output.code(1);
    assert_eq!(count(output.path(), "tries"), 2);
    let journal = only_journal(output.path());
    assert_eq!(events(&journal, "attempt_failed", None).len(), 1);
}

#[test]
fn a_false_when_skips_the_step_and_its_dependents_still_run() {
    let yaml = r#"
version: 1
name: cond
inputs:
  mode: { default: dry }
steps:
  - id: only-live
    when: "inputs.mode == 'live'"
    shell: { run: touch live }
  - id: after
    needs: [only-live]
    shell: { run: "printf '%s' '{{ steps[\"only-live\"].status }}'" }
"#;
    let output = with_runbook("cond", yaml).args(["run", "cond"]).run();
    output.success();
    assert!(!output.path().join("live").exists(), "a skipped step ran");
    assert_eq!(step_output(output.path(), "after", "stdout"), "skipped");
    let journal = only_journal(output.path());
    let skipped = events(&journal, "step_finished", Some("only-live"));
    assert_eq!(skipped[0]["status"], "skipped", "{journal:#?}");
    assert!(
        skipped[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("inputs.mode == 'live'"),
        "{journal:#?}"
    );
    assert!(
        events(&journal, "step_started", Some("only-live")).is_empty(),
        "a skipped step is never started"
    );
}

#[test]
fn continue_on_error_lets_dependents_run_and_the_run_succeed() {
    let yaml = r#"
version: 1
name: lenient
steps:
  - id: optional
    continue_on_error: true
    shell: { run: "exit 4" }
  - id: after
    needs: [optional]
    shell: { run: "printf '%s' '{{ steps.optional.status }}'" }
"#;
    let output = with_runbook("lenient", yaml).args(["run", "lenient"]).run();
    output.success();
    assert_eq!(step_output(output.path(), "after", "stdout"), "failed");
    let journal = only_journal(output.path());
    let optional = events(&journal, "step_finished", Some("optional"));
    assert_eq!(optional[0]["status"], "failed");
    assert_eq!(optional[0]["continued"], true);
    let run = events(&journal, "run_finished", None);
    assert_eq!(run[0]["status"], "succeeded", "{journal:#?}");
}

#[test]
fn a_failed_expectation_names_the_expression_and_the_actual_value() {
    let yaml = r#"
version: 1
name: check
steps:
  - id: count
    shell:
      run: "echo '{\"rows\": 3}'"
      expect:
        - "result.json.rows > 10"
"#;
    let output = with_runbook("check", yaml).args(["run", "check"]).run();
    output
        .code(1)
        .stderr_contains("result.json.rows > 10")
        .stderr_contains("actual result.json.rows = 3");
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("count"));
    let error = finished[0]["error"].as_str().unwrap_or("");
    assert!(
        error.contains("`result.json.rows > 10`") && error.contains("= 3"),
        "{error}"
    );
}

#[test]
fn outputs_flow_into_later_templates() {
    let yaml = r#"
version: 1
name: flow
steps:
  - id: produce
    shell: { run: "echo '{\"name\": \"db-7\"}'" }
    outputs:
      name: "{{ result.json.name }}"
      shout: "{{ result.json.name | upper }}!"
  - id: consume
    needs: [produce]
    shell: { run: "printf '%s|%s' {{ steps.produce.outputs.name }} '{{ steps.produce.outputs.shout }}'" }
"#;
    let output = with_runbook("flow", yaml).args(["run", "flow"]).run();
    output.success();
    assert_eq!(
        step_output(output.path(), "consume", "stdout"),
        "db-7|DB-7!"
    );
    let journal = only_journal(output.path());
    let produced = events(&journal, "step_finished", Some("produce"));
    assert_eq!(produced[0]["outputs"]["name"], "db-7");
}

const ROLLBACKS: &str = r#"
version: 1
name: undo
steps:
  - id: first
    shell: { run: "echo first >> done" }
    rollback:
      shell: { run: "echo undo-first >> undone" }
  - id: second
    needs: [first]
    shell: { run: "echo second >> done" }
    rollback:
      shell: { run: "echo undo-second >> undone" }
  - id: no-undo
    needs: [second]
    shell: { run: "echo no-undo >> done" }
  - id: boom
    needs: [no-undo]
    shell: { run: "exit 1" }
"#;

#[test]
fn rollbacks_are_offered_in_reverse_completion_order() {
    let output = with_runbook("undo", ROLLBACKS)
        .args(["run", "undo", "--yes", "--rollback", "yes"])
        .run();
    output.code(1);
    assert_eq!(read(output.path(), "undone"), "undo-second\nundo-first");
    let journal = only_journal(output.path());
    let asked: Vec<String> = kinds(&journal)
        .into_iter()
        .filter(|k| k.starts_with("rollback") || k.starts_with("confirmation"))
        .collect();
    assert_eq!(
        asked,
        [
            "confirmation_asked:second",
            "confirmation_answered:second",
            "rollback_started:second",
            "rollback_finished:second",
            "confirmation_asked:first",
            "confirmation_answered:first",
            "rollback_started:first",
            "rollback_finished:first",
        ]
    );
}

#[test]
fn rollbacks_without_a_terminal_or_yes_are_not_run() {
    let output = with_runbook("undo", ROLLBACKS).args(["run", "undo"]).run();
    output.code(1);
    assert!(!output.path().join("undone").exists(), "a rollback ran");
    let journal = only_journal(output.path());
    assert_eq!(
        events(&journal, "confirmation_answered", None).len(),
        2,
        "{journal:#?}"
    );
    assert!(events(&journal, "rollback_started", None).is_empty());
}
