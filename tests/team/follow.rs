//! `drctl log ID --follow` from a second process: it sees every event of the
//! other's run, in order and each once, and its output is then exactly what
//! `drctl log` prints after the end; it ends with the run, at once when no run
//! is in progress, with exit 1 when the run's process died, and with 130 on
//! Ctrl-C or SIGTERM. A line being written is never printed half, and a
//! secret stays redacted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::state::{state_dir, wait_for_file};
use crate::support::{Running, Test};

/// Three steps, each waiting for its gate file, so the test decides when
/// the run moves on; `b` prints a secret input.
const GATED: &str = r#"
version: 1
name: gated
inputs:
  token:
    secret: true
    env: FOLLOW_SECRET
steps:
  - id: a
    timeout: 30s
    shell:
      run: |
        touch at-a
        while [ ! -e go-a ]; do sleep 0.02; done
  - id: b
    needs: [a]
    timeout: 30s
    shell:
      run: |
        echo "token {{ inputs.token }}"
        while [ ! -e go-b ]; do sleep 0.02; done
  - id: c
    needs: [b]
    shell:
      run: echo done
"#;

const SECRET: &str = "follow-canary-93e1d2";
const LIMIT: Duration = Duration::from_secs(20);

fn gated() -> Test {
    Test::new()
        .file("runbooks/gated.yaml", GATED)
        .env("FOLLOW_SECRET", SECRET)
}

/// The only incident's journal, once the run has created it.
fn journal_of(dir: &Path) -> (String, PathBuf) {
    let incidents = state_dir(dir).join("incidents");
    let start = Instant::now();
    loop {
        if let Some(entry) = std::fs::read_dir(&incidents)
            .ok()
            .and_then(|mut entries| entries.next())
        {
            let entry = entry.expect("an incident directory");
            let id = entry.file_name().to_string_lossy().into_owned();
            let journal = entry.path().join("journal.jsonl");
            wait_for_file(&journal, LIMIT);
            return (id, journal);
        }
        assert!(start.elapsed() < LIMIT, "the run opened no incident");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until the journal holds `needle`.
fn wait_for_journal(journal: &Path, needle: &str) {
    let start = Instant::now();
    while !std::fs::read_to_string(journal).unwrap_or_default().contains(needle) {
        assert!(start.elapsed() < LIMIT, "the journal never held {needle}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn release(dir: &Path, gate: &str) {
    std::fs::write(dir.join(gate), "").expect("open a gate");
}

/// The follower is started while the run waits in `a`, so it sees part of
/// the run as history and the rest live.
fn follow_while_running(json: bool) -> (Test, String, crate::support::Output, Running) {
    let test = gated();
    let run = test.again().args(["run", "gated"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    let (id, journal) = journal_of(test.path());
    let mut args = vec!["log", id.as_str(), "--follow"];
    if json {
        args.extend(["--format", "json"]);
    }
    let follower = test.again().args(&args).spawn();
    // The follower must still be there between the steps.
    release(test.path(), "go-a");
    wait_for_journal(&journal, r#""step":"b""#);
    release(test.path(), "go-b");
    let followed = follower.wait();
    (test, id, followed, run)
}

#[test]
fn follow_prints_the_whole_run_as_log_does_then_ends_with_it() {
    let (test, id, followed, run) = follow_while_running(false);
    run.wait().success();
    followed.success();
    let log = test.again().args(["log", &id]).run();
    log.success();
    followed.stdout_is(&log.stdout);
    followed
        .stdout_contains("Step a started")
        .stdout_contains("Step c succeeded")
        .stdout_contains("Run succeeded")
        .stdout_not_contains(SECRET)
        .stderr_not_contains(SECRET);
}

#[test]
fn follow_in_json_prints_the_journal_lines_as_written() {
    let (test, id, followed, run) = follow_while_running(true);
    run.wait().success();
    followed.success();
    let journal = std::fs::read_to_string(
        state_dir(test.path())
            .join("incidents")
            .join(&id)
            .join("journal.jsonl"),
    )
    .expect("the journal");
    followed.stdout_is(&journal);
    assert!(!journal.contains(SECRET));
}

#[test]
fn follow_of_an_incident_with_no_run_in_progress_prints_the_log_and_ends() {
    let test = gated();
    release(test.path(), "go-a");
    release(test.path(), "go-b");
    test.again().args(["run", "gated"]).run().success();
    let (id, _) = journal_of(test.path());
    let log = test.again().args(["log", &id]).run();
    let followed = test.again().args(["log", &id, "-f"]).run();
    followed
        .success()
        .stdout_is(&log.stdout)
        .stderr_contains("no run of")
        .stderr_contains("is in progress");
}

#[test]
fn follow_rejects_what_log_rejects() {
    let test = Test::new();
    for (id, needle) in [
        ("INC-20260101-001", "no incident"),
        ("not-an-id", "is not an incident id"),
        ("../../etc", "is not an incident id"),
        ("", "is not an incident id"),
    ] {
        test.again()
            .args(["log", id, "--follow"])
            .run()
            .code(2)
            .stderr_contains(needle);
    }
}

#[test]
fn follow_ends_with_exit_1_when_the_run_dies_without_finishing() {
    let test = gated();
    let run = test.again().args(["run", "gated"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    let (id, _) = journal_of(test.path());
    let follower = test.again().args(["log", &id, "--follow"]).spawn();
    std::thread::sleep(Duration::from_millis(300));
    run.signal(rustix::process::Signal::KILL);
    run.wait();
    let followed = follower.wait();
    followed
        .code(1)
        .stdout_contains("Step a started")
        .stdout_contains("never finished")
        .stderr_contains("gone without finishing")
        .stderr_contains(&format!("drctl resume {id}"));
    // The step's shell outlived drctl; it ends at its gate.
    release(test.path(), "go-a");
}

#[test]
fn ctrl_c_or_sigterm_stops_following_with_130_and_leaves_the_run_alone() {
    let test = gated();
    let run = test.again().args(["run", "gated"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    let (id, journal) = journal_of(test.path());
    for signal in [rustix::process::Signal::INT, rustix::process::Signal::TERM] {
        let follower = test.again().args(["log", &id, "--follow"]).spawn();
        // Once it has printed the history it is in its loop.
        std::thread::sleep(Duration::from_millis(300));
        follower.signal(signal);
        follower
            .wait()
            .code(130)
            .stdout_contains("Step a started");
    }
    release(test.path(), "go-a");
    wait_for_journal(&journal, r#""step":"b""#);
    release(test.path(), "go-b");
    run.wait().success();
}

/// A line being appended is not printed until its newline is there: the
/// test appends half a line to the journal of a run waiting in `a`, then
/// takes it away before the run writes again.
#[test]
fn a_line_being_written_is_never_printed_half() {
    let test = gated();
    let run = test.again().args(["run", "gated"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    let (id, journal) = journal_of(test.path());
    let whole = std::fs::read(&journal).expect("the journal");
    let mut torn = whole.clone();
    torn.extend_from_slice(br#"{"v":2,"seq":99,"ts":"2026-01-01T00:00:00Z","event":"note","text":"HALF"#);
    std::fs::write(&journal, &torn).expect("append half a line");
    let follower = test.again().args(["log", &id, "--follow"]).spawn();
    std::thread::sleep(Duration::from_millis(400));
    std::fs::write(&journal, &whole).expect("take the half line away");
    release(test.path(), "go-a");
    wait_for_journal(&journal, r#""step":"b""#);
    release(test.path(), "go-b");
    run.wait().success();
    let followed = follower.wait();
    followed
        .success()
        .stdout_not_contains("HALF")
        .stderr_not_contains("incomplete")
        .stdout_contains("Run succeeded");
    let log = test.again().args(["log", &id]).run();
    followed.stdout_is(&log.stdout);
}
