//! Resume decides again what depends on steps that run again (issue 11):
//! a `when` is evaluated again once the steps it reads have finished in
//! this run, both ways; nothing is evaluated before them; `--rerun STEP`
//! runs a succeeded step again and re-decides its dependents.

use super::with_runbook;
use crate::support::Output;
use crate::support::state::{count, events, only_incident, only_journal};

/// `check` fails the first time (the run goes on, on the fallback) and
/// `gate` fails, so the run fails; once both are fixed, a resume re-runs
/// `check`, and the branches must follow its new result.
const BRANCHES: &str = r#"
version: 1
name: branches
steps:
  - id: check
    continue_on_error: true
    shell: { run: "echo run >> check.count; test -e healthy" }
  - id: primary
    needs: [check]
    when: "steps.check.status == 'succeeded'"
    shell: { run: "echo run >> primary.count" }
  - id: fallback
    needs: [check]
    when: "steps.check.status != 'succeeded'"
    shell: { run: "echo run >> fallback.count" }
  - id: after
    needs: [fallback]
    shell: { run: "echo run >> after.count" }
  - id: gate
    shell: { run: "echo run >> gate.count; sleep 0.5; test -e gate-ok" }
"#;

fn counts(output: &Output, steps: &[&str]) -> Vec<usize> {
    steps
        .iter()
        .map(|s| count(output.path(), &format!("{s}.count")))
        .collect()
}

/// The status each step finished with in run number `run` (0-based), if it finished in it.
fn finished_in_run(journal: &[serde_json::Value], run: usize) -> Vec<(String, String)> {
    let mut runs = 0;
    let mut out = Vec::new();
    for event in journal {
        if event["event"] == "run_started" {
            runs += 1;
        } else if runs == run + 1 && event["event"] == "step_finished" {
            out.push((
                event["step"].as_str().unwrap_or_default().to_owned(),
                event["status"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out
}

#[test]
fn resume_decides_a_when_again_after_its_ancestor_reruns_both_ways() {
    let output = with_runbook("branches", BRANCHES)
        .args(["run", "branches"])
        .run();
    output.code(1);
    let steps = ["check", "primary", "fallback", "after", "gate"];
    assert_eq!(counts(&output, &steps), [1, 0, 1, 1, 1]);
    let incident = only_incident(output.path());
    for fixed in ["healthy", "gate-ok"] {
        std::fs::write(output.path().join(fixed), "").expect("fix");
    }
    let resumed = output.again().args(["resume", incident.as_str()]).run();
    resumed
        .success()
        .stderr_contains("decided again after the steps they read: fallback, after");
    // The skipped branch runs now; the branch that ran is not run again.
    assert_eq!(counts(&output, &steps), [2, 1, 1, 1, 2]);
    let journal = only_journal(output.path());
    let second = finished_in_run(&journal, 1);
    let status = |step: &str| {
        second
            .iter()
            .find(|(s, _)| s == step)
            .map(|(_, status)| status.clone())
    };
    assert_eq!(status("check").as_deref(), Some("succeeded"));
    assert_eq!(status("primary").as_deref(), Some("succeeded"));
    // Ran before, skipped now, and recorded as such.
    assert_eq!(status("fallback").as_deref(), Some("skipped"));
    let skipped = events(&journal, "step_finished", Some("fallback"));
    assert!(
        skipped[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("false now")),
        "{skipped:?}"
    );
    // Kept: its outcome stands, and nothing new was recorded for it.
    assert_eq!(status("after"), None);
    let runs = events(&journal, "run_started", None);
    assert_eq!(runs[1]["already_done"], serde_json::json!([]));
    // The incident's merged state says what holds now.
    output
        .again()
        .args(["log", incident.as_str()])
        .run()
        .success()
        .stdout_contains("is false now");
}

/// Regression: on a second resume, a step evaluated its `when` while a step
/// it reads (through a step skipped earlier) was still running again, and
/// failed with `undefined value`.
#[test]
fn no_condition_is_evaluated_before_the_steps_it_reads_finish() {
    let yaml = r#"
version: 1
name: reads
steps:
  - id: probe
    continue_on_error: true
    shell: { run: "echo run >> probe.count; sleep 0.3; test -e probe-ok && echo '{\"mode\": \"fast\"}'" }
    outputs:
      mode: "{{ result.json.mode }}"
  - id: choose
    needs: [probe]
    when: "steps.probe.status == 'succeeded'"
    shell: { run: "echo run >> choose.count" }
  - id: use
    needs: [choose]
    when: "steps.probe.outputs.mode == 'fast'"
    shell: { run: "echo run >> use.count" }
"#;
    let output = with_runbook("reads", yaml).args(["run", "reads"]).run();
    // `use` cannot read the output of a probe that failed: that is right.
    output.code(1).stderr_contains("cannot evaluate `when`");
    let incident = only_incident(output.path());
    std::fs::write(output.path().join("probe-ok"), "").expect("fix");
    let resumed = output.again().args(["resume", incident.as_str()]).run();
    resumed.success().stderr_not_contains("undefined");
    assert_eq!(counts(&output, &["probe", "choose", "use"]), [2, 1, 1]);
    // In the journal, each step is decided after the step it reads finished.
    let journal = only_journal(output.path());
    let line = |kind: &str, step: &str| {
        journal
            .iter()
            .rposition(|e| e["event"] == kind && e["step"] == step)
            .unwrap_or_else(|| panic!("no {kind} of {step}"))
    };
    assert!(line("step_finished", "probe") < line("step_started", "choose"));
    assert!(line("step_finished", "choose") < line("step_started", "use"));
}

#[test]
fn rerun_runs_a_succeeded_step_again_and_decides_its_dependents_again() {
    let output = with_runbook("branches", BRANCHES)
        .file("healthy", "")
        .file("gate-ok", "")
        .args(["run", "branches", "--operator", "alice"])
        .run();
    output.success();
    let steps = ["check", "primary", "fallback", "after", "gate"];
    assert_eq!(counts(&output, &steps), [1, 1, 0, 1, 1]);
    let incident = only_incident(output.path());
    // The check would fail now: a re-run of it must switch the branches.
    std::fs::remove_file(output.path().join("healthy")).expect("break");
    output
        .again()
        .args(["resume", incident.as_str(), "--rerun", "nosuch"])
        .run()
        .code(2)
        .stderr_contains("no step `nosuch`");
    output
        .again()
        .args([
            "resume",
            incident.as_str(),
            "--rerun",
            "check",
            "--mark-done",
            "check",
        ])
        .run()
        .code(2)
        .stderr_contains("both");
    output
        .again()
        .args([
            "resume",
            incident.as_str(),
            "--rerun",
            "check",
            "--operator",
            "bob",
        ])
        .run()
        .success();
    // `primary` ran before and is now skipped; `fallback` runs; `gate` is untouched.
    assert_eq!(counts(&output, &steps), [2, 1, 1, 1, 1]);
    let journal = only_journal(output.path());
    let chosen = events(&journal, "step_rerun_chosen", Some("check"));
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0]["by"], "bob");
    let second = finished_in_run(&journal, 1);
    assert!(
        second.contains(&("primary".to_owned(), "skipped".to_owned())),
        "{second:?}"
    );
    assert!(
        second.contains(&("fallback".to_owned(), "succeeded".to_owned())),
        "{second:?}"
    );
    output
        .again()
        .args(["log", incident.as_str()])
        .run()
        .success()
        .stdout_contains("chosen by bob to run again");
}
