//! Journals whose every line parses, in order, under an unbroken hash chain
//! (recomputed by whoever wrote them), but whose events could not have
//! happened: a step finished that never started, a run started twice, a
//! step finished twice, events of a step the run does not have, events after
//! the run finished. `resume`, `run --incident` and `verify` refuse them,
//! naming the line; `log` and `report` show them with a warning. No step runs.
//!
//! The chain is not a signature: a writer who recomputes it can forge any
//! journal that could have happened (docs/incident-log.md). What it cannot
//! do is make one that could not.

use std::path::PathBuf;

use drctl::hash::sha256_hex;
use serde_json::{Value, json};

use crate::support::state::{count, state_dir};
use crate::support::{Output, Test};

struct Failed {
    test: Test,
    incident: String,
    journal: PathBuf,
    events: Vec<Value>,
}

fn failed_run() -> Failed {
    let run = super::failed_line_run();
    let events = run
        .lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    Failed {
        test: run.test,
        incident: run.incident,
        journal: run.journal,
        events,
    }
}

impl Failed {
    /// The index of the first event of this kind (and step).
    fn find(&self, event: &str, step: Option<&str>) -> usize {
        self.events
            .iter()
            .position(|e| e["event"] == event && step.is_none_or(|s| e["step"].as_str() == Some(s)))
            .unwrap_or_else(|| panic!("no {event} {step:?}"))
    }

    /// Writes these events as a forger would: seq renumbered, the chain and
    /// `journal.head` recomputed, so that only the events themselves are wrong.
    fn forge(&self, events: &[Value]) -> Vec<u8> {
        let mut prev = events[0]["runbook_hash"]
            .as_str()
            .expect("runbook_hash")
            .to_owned();
        let mut text = String::new();
        for (index, event) in events.iter().enumerate() {
            let mut event = event.clone();
            event["seq"] = json!(index + 1);
            event["prev"] = json!(prev);
            let line = serde_json::to_string(&event).expect("encode");
            prev = sha256_hex(line.as_bytes());
            text.push_str(&line);
            text.push('\n');
        }
        std::fs::write(&self.journal, &text).expect("write the journal");
        let head = json!({"v": 2, "seq": events.len(), "sha256": prev});
        std::fs::write(
            self.journal.with_file_name("journal.head"),
            format!("{head}\n"),
        )
        .expect("write the head");
        text.into_bytes()
    }

    fn drctl(&self, args: &[&str]) -> Output {
        self.test.again().args(args).run()
    }

    fn counts(&self) -> [usize; 3] {
        ["a", "b", "c"].map(|s| count(self.test.path(), &format!("{s}.count")))
    }

    /// What every command makes of an impossible journal.
    #[track_caller]
    fn impossible(&self, events: &[Value], line: usize, words: &str) {
        let bytes = self.forge(events);
        let id = self.incident.as_str();
        let said = format!("line {line}");
        for args in [
            vec!["resume", id],
            vec!["resume", id, "--retry-interrupted"],
            vec!["run", "line", "--incident", id],
            vec!["verify", id],
        ] {
            self.drctl(&args)
                .code(1)
                .stderr_contains(&said)
                .stderr_contains(words)
                .stderr_contains("could not have happened");
        }
        for args in [vec!["log", id], vec!["report", id]] {
            self.drctl(&args)
                .success()
                .stderr_contains(&said)
                .stderr_contains(words);
        }
        self.drctl(&["incidents"]).success();
        assert_eq!(
            std::fs::read(&self.journal).expect("journal"),
            bytes,
            "the journal was changed"
        );
        assert_eq!(self.counts(), [1, 1, 1], "a step ran");
    }
}

/// The forger's own journal, unchanged, is accepted: the helper is sound.
#[test]
fn a_recomputed_chain_over_real_events_is_accepted() {
    let run = failed_run();
    run.forge(&run.events);
    run.drctl(&["verify", &run.incident]).success();
}

/// The one that matters: `c`'s failure turned into a success without a
/// start, so that a resume would take it for done.
#[test]
fn a_success_without_a_start_is_impossible() {
    let run = failed_run();
    let mut events = run.events.clone();
    let finished = run.find("step_finished", Some("c"));
    events[finished]["status"] = json!("succeeded");
    events[finished]["error"] = Value::Null;
    events.remove(run.find("step_started", Some("c")));
    run.impossible(&events, finished, "step `c` finished without being started");
}

#[test]
fn a_step_finished_twice_is_impossible() {
    let run = failed_run();
    let mut events = run.events.clone();
    let at = run.find("step_finished", Some("a"));
    events.insert(at + 1, events[at].clone());
    run.impossible(&events, at + 2, "step `a` finished twice");
}

#[test]
fn a_step_started_twice_is_impossible() {
    let run = failed_run();
    let mut events = run.events.clone();
    let at = run.find("step_started", Some("a"));
    events.insert(at + 1, events[at].clone());
    run.impossible(&events, at + 2, "step `a` started again");
}

#[test]
fn a_run_started_twice_is_impossible() {
    let run = failed_run();
    let mut events = run.events.clone();
    let first = events[0].clone();
    events.push(first);
    let line = events.len();
    run.impossible(&events, line, "started twice");
}

#[test]
fn events_of_an_unknown_step_are_impossible() {
    let run = failed_run();
    for kind in ["step_started", "step_finished", "attempt_failed"] {
        let mut events = run.events.clone();
        let at = run.find(
            kind.replace("attempt_failed", "step_started").as_str(),
            Some("b"),
        );
        let mut event = events[at].clone();
        event["step"] = json!("zz");
        if kind == "attempt_failed" {
            event = json!({"v": 2, "seq": 0, "ts": event["ts"], "prev": "", "event": "attempt_failed", "step": "zz", "attempt": 1, "error": "x", "retry_in_ms": 0});
        }
        events.insert(at, event);
        run.impossible(&events, at + 1, "`zz`, which run");
    }
}

#[test]
fn events_after_the_run_finished_are_impossible() {
    let run = failed_run();
    let mut events = run.events.clone();
    let at = run.find("step_started", Some("c"));
    events.push(events[at].clone());
    let line = events.len();
    run.impossible(&events, line, "after its run_finished");
}

#[test]
fn an_attempt_of_a_step_not_running_is_impossible() {
    let run = failed_run();
    let mut events = run.events.clone();
    let at = run.find("step_finished", Some("c"));
    let attempt = json!({"v": 2, "seq": 0, "ts": events[at]["ts"], "prev": "", "event": "attempt_failed", "step": "a", "attempt": 2, "error": "x", "retry_in_ms": 0});
    events.insert(at, attempt);
    run.impossible(&events, at + 1, "step `a` is not running");
}

/// A whole incident directory copied over another one: every line, the
/// chain, the head and the frozen runbooks are intact, but its runs name
/// the other incident.
#[test]
fn an_incident_copied_over_another_is_impossible() {
    let run = failed_run();
    let first = run.incident.clone();
    run.drctl(&["run", "line"]).success();
    let incidents = state_dir(run.test.path()).join("incidents");
    let second = crate::support::state::incident_ids(run.test.path())
        .into_iter()
        .find(|id| *id != first)
        .expect("a second incident");
    let target = incidents.join(&second);
    std::fs::remove_dir_all(&target).expect("remove the second");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(incidents.join(&first))
        .arg(&target)
        .status()
        .expect("cp");
    assert!(copied.success());
    let said = format!("names incident {first}, not {second}");
    for args in [
        vec!["resume", second.as_str()],
        vec!["run", "line", "--incident", second.as_str()],
        vec!["verify", second.as_str()],
    ] {
        run.drctl(&args)
            .code(1)
            .stderr_contains("at line 1")
            .stderr_contains(&said);
    }
    run.drctl(&["log", second.as_str()])
        .success()
        .stderr_contains(&said);
    assert_eq!(run.counts(), [2, 2, 2], "nothing ran from the copy");
}

/// 40,000 lines in 10,000 runs, each leaving steps pending: `report` and
/// `log` stay linear (a report once looked back through every earlier run
/// for each pending step: 55 s here; about 2 s now, so 30 s leaves room for
/// a loaded machine while still catching the quadratic case).
#[test]
fn a_journal_of_ten_thousand_runs_is_reported_in_bounded_time() {
    let run = failed_run();
    let find = |event: &str| run.events[run.find(event, Some("a"))].clone();
    let (started, finished) = (find("step_started"), find("step_finished"));
    let closing = run.events.last().expect("run_finished").clone();
    let mut events = Vec::new();
    for n in 0..10_000 {
        let mut opening = run.events[0].clone();
        opening["run_id"] = json!(format!("R-{n}"));
        events.extend([opening, started.clone(), finished.clone(), closing.clone()]);
    }
    run.forge(&events);
    for args in [
        ["report", run.incident.as_str()],
        ["log", run.incident.as_str()],
    ] {
        let output = run
            .test
            .again()
            .args(args)
            .timeout(std::time::Duration::from_secs(50))
            .run();
        output.success();
        assert!(
            output.elapsed < std::time::Duration::from_secs(30),
            "{args:?} took {:?}",
            output.elapsed
        );
    }
}
