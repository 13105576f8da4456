//! Questions do not stall the graph, and rollbacks are their own decision
//! (issue 11): while a manual step waits on a real terminal, independent
//! steps start, finish and are journaled when they happen; `--yes` never
//! runs a rollback, on a terminal or off one.

use std::time::{Duration, Instant};

use super::{finish, on_a_pty, with_runbook};
use crate::support::state::{events, only_journal};

fn ts(event: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    event["ts"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(
            || panic!("no ts in {event}"),
            |t| t.with_timezone(&chrono::Utc),
        )
}

const MANUAL_AND_CHAIN: &str = r#"
version: 1
name: switch
steps:
  - id: flip
    manual: Flip the breaker in rack 4.
  - id: a
    shell: { run: "sleep 0.2; echo a" }
  - id: b
    needs: [a]
    shell: { run: "sleep 0.2; echo b" }
  - id: c
    needs: [b]
    shell: { run: "sleep 0.2; touch c.done" }
  - id: after-flip
    needs: [flip]
    shell: { run: "touch after-flip.done" }
"#;

#[test]
fn an_independent_chain_runs_to_completion_while_a_manual_step_waits() {
    let test =
        with_runbook("switch", MANUAL_AND_CHAIN).args(["run", "switch", "--operator", "dana"]);
    let mut session = on_a_pty(&test);
    session
        .exp_string("Flip the breaker")
        .expect("the instructions");
    session.exp_string("Done?").expect("the question");
    // The chain finishes and is journaled while the question is open.
    let journal_path = test.path().join(".drctl/incidents");
    let limit = Instant::now() + Duration::from_secs(10);
    let c_finished = loop {
        if let Some(found) = std::fs::read_dir(&journal_path)
            .ok()
            .and_then(|mut dirs| dirs.next())
            .and_then(Result::ok)
            .and_then(|dir| std::fs::read_to_string(dir.path().join("journal.jsonl")).ok())
            .filter(|text| {
                text.lines()
                    .any(|l| l.contains(r#""step_finished""#) && l.contains(r#""step":"c""#))
            })
        {
            break found;
        }
        assert!(
            Instant::now() < limit,
            "the chain did not finish while the question waited"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        !c_finished.contains(r#""manual_answered""#),
        "answered before the operator did"
    );
    assert!(
        !test.path().join("after-flip.done").exists(),
        "a dependent of the manual step ran"
    );
    std::thread::sleep(Duration::from_millis(500));
    session.send_line("y").expect("answer");
    session.flush().expect("flush");
    let (code, rest) = finish(session);
    assert_eq!(code, 0, "{rest}");
    assert!(test.path().join("after-flip.done").exists(), "{rest}");

    let journal = only_journal(test.path());
    let run_started = ts(events(&journal, "run_started", None)[0]);
    let finished = |step: &str| ts(events(&journal, "step_finished", Some(step))[0]);
    let answered = ts(events(&journal, "manual_answered", Some("flip"))[0]);
    let (a, b, c) = (finished("a"), finished("b"), finished("c"));
    let ms = |t: chrono::DateTime<chrono::Utc>| (t - run_started).num_milliseconds();
    eprintln!(
        "since run_started: a {} ms, b {} ms, c {} ms, flip answered {} ms, after-flip {} ms",
        ms(a),
        ms(b),
        ms(c),
        ms(answered),
        ms(finished("after-flip"))
    );
    // The chain in its order, each recorded when it happened (about 200 ms
    // apart), all before the operator answered.
    assert!(a < b && b < c, "chain out of order");
    assert!(ms(c) < 3000, "c was recorded late: {} ms", ms(c));
    assert!(c < answered, "c was recorded after the answer");
    assert!(answered < finished("after-flip"));
}

/// The run fails while one question is open and another waits behind it:
/// the open one is still answered, the waiting one is never asked and
/// leaves no started step behind (which a resume would take for interrupted).
#[test]
fn a_question_waiting_behind_another_is_not_asked_after_a_failure() {
    let yaml = r#"
version: 1
name: two-hands
steps:
  - id: first
    manual: Check the first rack.
  - id: second
    manual: Check the second rack.
  - id: breaks
    shell: { run: "sleep 0.3; exit 1" }
"#;
    let test = with_runbook("two-hands", yaml).args(["run", "two-hands"]);
    let mut session = on_a_pty(&test);
    session
        .exp_string("Check the first rack")
        .expect("the first question");
    let journal_dir = test.path().join(".drctl/incidents");
    let limit = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_dir(&journal_dir)
        .ok()
        .and_then(|mut dirs| dirs.next())
        .and_then(Result::ok)
        .and_then(|dir| std::fs::read_to_string(dir.path().join("journal.jsonl")).ok())
        .is_some_and(|text| text.contains(r#""status":"failed""#))
    {
        assert!(Instant::now() < limit, "the failing step did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    session.send_line("y").expect("answer");
    session.flush().expect("flush");
    let (code, rest) = finish(session);
    assert_eq!(code, 1, "{rest}");
    assert!(!rest.contains("Check the second rack"), "{rest}");
    let journal = only_journal(test.path());
    assert_eq!(events(&journal, "manual_answered", Some("first")).len(), 1);
    assert!(events(&journal, "step_started", Some("second")).is_empty());
    // The resume sees nothing interrupted: `second` simply has not run.
    test.again()
        .args([
            "resume",
            journal[0]["incident"].as_str().unwrap_or_default(),
            "--yes",
        ])
        .run()
        .code(1)
        .stderr_not_contains("interrupted");
}

const UNDO: &str = r#"
version: 1
name: spike
steps:
  - id: queue-mode
    shell: { run: "touch queue.on" }
    rollback:
      shell: { run: "rm queue.on; touch queue.rolled-back" }
  - id: manual-only
    shell: { run: "touch cache.warm" }
    rollback_on_failure: never
    rollback:
      shell: { run: "touch cache.rolled-back" }
  - id: scale
    needs: [queue-mode, manual-only]
    shell: { run: "exit 1" }
"#;

fn rollback_answer(test_dir: &std::path::Path, step: &str) -> serde_json::Value {
    let journal = only_journal(test_dir);
    events(&journal, "confirmation_answered", Some(step))
        .into_iter()
        .find(|e| e["rollback"] == true)
        .cloned()
        .unwrap_or_else(|| panic!("no rollback answer for {step}"))
}

#[test]
fn yes_without_rollback_yes_never_runs_a_rollback_off_a_terminal() {
    let output = with_runbook("spike", UNDO)
        .args(["run", "spike", "--yes"])
        .run();
    output
        .code(1)
        .stderr_contains("Rollback of queue-mode not run (--rollback)");
    assert!(
        output.path().join("queue.on").exists(),
        "the rollback ran under --yes"
    );
    assert_eq!(
        rollback_answer(output.path(), "queue-mode")["source"],
        "rollback_flag"
    );
    // `ask` without a terminal cannot ask: nothing runs.
    let output = with_runbook("spike", UNDO)
        .args(["run", "spike", "--yes", "--rollback", "ask"])
        .run();
    output.code(1);
    assert!(output.path().join("queue.on").exists());
    assert_eq!(
        rollback_answer(output.path(), "queue-mode")["source"],
        "no_terminal"
    );
    // `--rollback yes` runs them, except the one kept for manual use.
    let output = with_runbook("spike", UNDO)
        .args(["run", "spike", "--rollback", "yes"])
        .run();
    output.code(1);
    assert!(output.path().join("queue.rolled-back").exists());
    assert!(
        !output.path().join("cache.rolled-back").exists(),
        "a `never` rollback ran"
    );
    assert_eq!(
        rollback_answer(output.path(), "manual-only")["source"],
        "step_policy"
    );
    // A bad value is refused before anything runs.
    let output = with_runbook("spike", UNDO)
        .args(["run", "spike", "--rollback", "always"])
        .run();
    output.code(2);
    assert!(!output.path().join("queue.on").exists());
}

#[test]
fn yes_on_a_terminal_asks_before_a_rollback() {
    let test = with_runbook("spike", UNDO).args(["run", "spike", "--yes"]);
    let mut session = on_a_pty(&test);
    session
        .exp_string("Roll back step `queue-mode`")
        .expect("the rollback is asked, not run");
    assert!(test.path().join("queue.on").exists());
    session.send_line("n").expect("answer");
    session.flush().expect("flush");
    let (code, rest) = finish(session);
    assert_eq!(code, 1, "{rest}");
    assert!(test.path().join("queue.on").exists(), "{rest}");
    assert!(
        !rest.contains("manual-only`"),
        "a `never` rollback was asked: {rest}"
    );
    assert_eq!(
        rollback_answer(test.path(), "queue-mode")["source"],
        "prompt"
    );

    // `--rollback no` on a terminal: not asked, not run.
    let test = with_runbook("spike", UNDO).args(["run", "spike", "--yes", "--rollback", "no"]);
    let session = on_a_pty(&test);
    let (code, rest) = finish(session);
    assert_eq!(code, 1, "{rest}");
    assert!(!rest.contains("Roll back step"), "{rest}");
    assert!(test.path().join("queue.on").exists(), "{rest}");
}
