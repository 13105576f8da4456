//! `kill -9` at each durability boundary (through `DRCTL_FAILPOINT`, and
//! for real in the middle of a step): the journal keeps every synced event,
//! and `resume` neither repeats nor skips a step it cannot vouch for.

use std::os::unix::process::ExitStatusExt as _;
use std::time::Duration;

use rustix::process::Signal;

use super::with_runbook;
use crate::support::Output;
use crate::support::procs::assert_none_left;
use crate::support::state::{count, events, kinds, only_incident, only_journal, wait_for_file};

/// Three steps in a line; each counts its executions in `STEP.count`.
const LINE: &str = r#"
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
    shell: { run: "echo run >> c.count" }
"#;

/// Runs `line` with a failpoint and checks that drctl died of SIGKILL.
fn crash_at(failpoint: &str) -> Output {
    let output = with_runbook("line", LINE)
        .env("DRCTL_FAILPOINT", failpoint)
        .args(["run", "line"])
        .run();
    assert_eq!(
        output.status.signal(),
        Some(9),
        "the failpoint did not fire\n{}",
        output.report()
    );
    output
}

/// `drctl log ID --json` still parses, line by line, and agrees with the file.
#[track_caller]
fn log_parses(output: &Output, incident: &str) -> Vec<String> {
    let log = output.again().args(["log", incident, "--json"]).run();
    log.success();
    let events: Vec<serde_json::Value> = log
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["seq"].as_u64().unwrap_or(0))
        .collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "seq counts up without gaps");
    output.again().args(["log", incident]).run().success();
    kinds(&events)
}

fn resume(output: &Output, incident: &str, extra: &[&str]) -> Output {
    output.again().args(["resume", incident]).args(extra).run()
}

fn counts(output: &Output) -> [usize; 3] {
    ["a", "b", "c"].map(|s| count(output.path(), &format!("{s}.count")))
}

#[test]
fn killed_before_step_started_the_step_simply_runs_on_resume() {
    let output = crash_at("before:step_started:b");
    let incident = only_incident(output.path());
    let kinds = log_parses(&output, &incident);
    assert_eq!(kinds, ["run_started", "step_started:a", "step_finished:a"]);
    assert_eq!(counts(&output), [1, 0, 0]);
    resume(&output, &incident, &[]).success();
    assert_eq!(counts(&output), [1, 1, 1]);
}

#[test]
fn killed_after_step_started_resume_asks_what_happened() {
    let output = crash_at("after:step_started:b");
    let incident = only_incident(output.path());
    let kinds = log_parses(&output, &incident);
    assert_eq!(kinds.last().map(String::as_str), Some("step_started:b"));
    // The action never began.
    assert_eq!(counts(&output), [1, 0, 0]);
    refused_then_retried(&output, &incident, [1, 1, 1]);
}

#[test]
fn killed_before_step_finished_resume_asks_what_happened() {
    let output = crash_at("before:step_finished:b");
    let incident = only_incident(output.path());
    let kinds = log_parses(&output, &incident);
    assert_eq!(kinds.last().map(String::as_str), Some("step_started:b"));
    // The action ran; its end was never recorded.
    assert_eq!(counts(&output), [1, 1, 0]);
    refused_then_retried(&output, &incident, [1, 2, 1]);
}

#[test]
fn killed_before_step_finished_mark_done_does_not_run_it_again() {
    let output = crash_at("before:step_finished:b");
    let incident = only_incident(output.path());
    let marked = resume(&output, &incident, &["--mark-done", "b"]);
    marked.success();
    assert_eq!(counts(&output), [1, 1, 1]);
    let journal = only_journal(output.path());
    let marks = events(&journal, "step_marked_done", Some("b"));
    assert_eq!(marks.len(), 1, "{journal:#?}");
}

#[test]
fn killed_after_step_finished_resume_does_not_run_it_again() {
    let output = crash_at("after:step_finished:b");
    let incident = only_incident(output.path());
    let kinds = log_parses(&output, &incident);
    assert_eq!(kinds.last().map(String::as_str), Some("step_finished:b"));
    assert_eq!(counts(&output), [1, 1, 0]);
    resume(&output, &incident, &[]).success();
    assert_eq!(counts(&output), [1, 1, 1]);
}

/// The `seq` that `journal.head` vouches for: the last line that was synced.
fn head_seq(output: &Output, incident: &str) -> u64 {
    let path = crate::support::state::state_dir(output.path())
        .join("incidents")
        .join(incident)
        .join("journal.head");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let head: serde_json::Value = serde_json::from_str(&text).expect("the head is JSON");
    head["seq"].as_u64().expect("the head has a seq")
}

/// `step_finished:a` and `step_started:b` share one sync (group commit):
/// killed between them, `a`'s end is written but not yet synced (the head
/// lags behind it), and resume still does not run `a` again; killed once
/// `b`'s action has run, the one sync before that action covered both lines.
#[test]
fn a_batched_end_and_start_share_one_sync_and_survive_a_crash_between_them() {
    let output = crash_at("after:step_finished:a");
    let incident = only_incident(output.path());
    let kinds = log_parses(&output, &incident);
    assert_eq!(kinds, ["run_started", "step_started:a", "step_finished:a"]);
    assert_eq!(
        head_seq(&output, &incident),
        2,
        "step_finished:a waited for the next commit"
    );
    resume(&output, &incident, &[]).success();
    assert_eq!(counts(&output), [1, 1, 1]);

    let output = crash_at("before:step_finished:b");
    let incident = only_incident(output.path());
    let kinds = log_parses(&output, &incident);
    assert_eq!(
        kinds,
        [
            "run_started",
            "step_started:a",
            "step_finished:a",
            "step_started:b"
        ]
    );
    assert_eq!(counts(&output), [1, 1, 0], "b's action ran");
    assert_eq!(
        head_seq(&output, &incident),
        4,
        "b's start was synced, with a's end, before b's action"
    );
}

#[test]
fn killed_after_run_started_resume_runs_everything() {
    let output = crash_at("after:run_started");
    let incident = only_incident(output.path());
    assert_eq!(log_parses(&output, &incident), ["run_started"]);
    resume(&output, &incident, &[]).success();
    assert_eq!(counts(&output), [1, 1, 1]);
}

/// Resume refuses until told; then `--retry-interrupted` runs `b` again.
fn refused_then_retried(output: &Output, incident: &str, after: [usize; 3]) {
    let before = counts(output);
    resume(output, incident, &[])
        .code(3)
        .stderr_contains("step `b`")
        .stderr_contains("--retry-interrupted")
        .stderr_contains("--mark-done b");
    assert_eq!(counts(output), before, "a refused resume ran something");
    resume(output, incident, &["--retry-interrupted"]).success();
    assert_eq!(counts(output), after);
    // Done now: another resume has nothing to do.
    resume(output, incident, &[])
        .success()
        .stderr_contains("nothing to resume");
    assert_eq!(counts(output), after);
}

#[test]
fn killed_in_the_middle_of_a_step_resume_asks_what_happened() {
    let yaml = r#"
version: 1
name: mid
steps:
  - id: a
    shell: { run: "echo run >> a.count" }
  - id: b
    needs: [a]
    shell: { run: "echo run >> b.count; [ -e second ] || { touch started; sleep 303.3; }" }
  - id: c
    needs: [b]
    shell: { run: "echo run >> c.count" }
"#;
    let running = with_runbook("mid", yaml).args(["run", "mid"]).spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::KILL);
    let output = running.wait();
    assert_eq!(output.status.signal(), Some(9));
    // The step's supervisor kills its tree when drctl dies.
    assert_none_left("sleep 303.3", Duration::from_secs(1));
    std::fs::write(output.path().join("second"), "").expect("write a marker");

    let incident = only_incident(output.path());
    let kinds = log_parses(&output, &incident);
    assert_eq!(kinds.last().map(String::as_str), Some("step_started:b"));
    refused_then_retried(&output, &incident, [1, 2, 1]);
    let journal = only_journal(output.path());
    let lock_taken_over = events(&journal, "lock_taken_over", None);
    assert!(
        !lock_taken_over.is_empty(),
        "the dead run's locks were taken over"
    );
    // Each run says a takeover of the dead run once, though it took over
    // two of its locks (the runbook's and the incident's).
    let mut said = std::collections::HashSet::new();
    let mut run = String::new();
    for event in &journal {
        if event["event"] == "run_started" {
            run = event["run_id"].as_str().unwrap_or_default().to_owned();
        }
        if event["event"] == "lock_taken_over" {
            let previous = event["previous_run"].as_str().unwrap_or_default();
            assert!(
                said.insert((run.clone(), previous.to_owned())),
                "{run} took over {previous} twice: {journal:#?}"
            );
        }
    }
}

#[test]
fn mark_done_of_a_step_that_was_not_interrupted_is_refused() {
    let output = crash_at("after:step_started:b");
    let incident = only_incident(output.path());
    resume(
        &output,
        &incident,
        &["--retry-interrupted", "--mark-done", "a"],
    )
    .code(2)
    .stderr_contains("--mark-done a");
    assert_eq!(counts(&output), [1, 0, 0]);
}
