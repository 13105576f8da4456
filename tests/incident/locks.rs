//! One run of a runbook at a time: under contention exactly one wins and
//! the others are told who holds the lock; a lock left by a dead process is
//! taken over and the takeover journaled.

use std::time::{Duration, Instant};

use chrono::Utc;
use drctl::incident::LockInfo;

use super::with_runbook;
use crate::support::Running;
use crate::support::state::{events, incident_ids, only_journal};

/// The step holds the lock until the test creates `release`.
const HOLD: &str = r"
version: 1
name: hold
steps:
  - id: hold
    timeout: 30s
    shell:
      run: |
        echo run >> hold.count
        while [ ! -e release ]; do sleep 0.05; done
";

#[test]
fn of_twenty_concurrent_runs_exactly_one_runs() {
    let test = with_runbook("hold", HOLD).env("DRCTL_OPERATOR", "alice");
    let dir = test.path().to_path_buf();
    let mut running: Vec<Running> = (0..20)
        .map(|_| test.again().args(["run", "hold"]).spawn())
        .collect();
    // Wait for the 19 losers; then let the winner finish.
    let start = Instant::now();
    loop {
        let mut still = 0;
        for r in &mut running {
            still += usize::from(!r.has_exited());
        }
        if still <= 1 || start.elapsed() > Duration::from_secs(20) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(dir.join("release"), "").expect("release the winner");
    let pids: Vec<i32> = running.iter().map(Running::pid).collect();
    let outputs: Vec<_> = running.into_iter().map(Running::wait).collect();

    let winners: Vec<usize> = (0..outputs.len())
        .filter(|&i| outputs[i].status.code() == Some(0))
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one run must succeed: {:?}",
        outputs.iter().map(|o| o.status.code()).collect::<Vec<_>>()
    );
    let winner = winners[0];
    assert_eq!(crate::support::state::count(&dir, "hold.count"), 1);
    let journal = only_journal(&dir);
    let run_id = events(&journal, "run_started", None)[0]["run_id"]
        .as_str()
        .expect("a run id")
        .to_owned();
    for (i, output) in outputs.iter().enumerate().filter(|(i, _)| *i != winner) {
        output
            .code(3)
            .stderr_contains("runbook hold is being run by alice")
            .stderr_contains(&format!("pid {}", pids[winner]))
            .stderr_contains(&format!("run {run_id}"));
        assert_ne!(pids[i], pids[winner]);
    }
    assert_eq!(
        incident_ids(&dir).len(),
        1,
        "a refused run opened an incident"
    );
}

/// A pid that belonged to a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("start `true`");
    let pid = child.id();
    child.wait().expect("reap `true`");
    pid
}

#[test]
fn a_stale_lock_from_a_dead_process_is_taken_over() {
    let mut stale = LockInfo::for_this_process("R-dead-run", "bob", Utc::now());
    stale.pid = dead_pid();
    stale.process_start = None;
    let text = serde_json::to_string(&stale).expect("serialize the lock");
    let output = with_runbook("hold", HOLD)
        .file("release", "")
        .file(".drctl/locks/hold.lock", format!("{text}\n"))
        .args(["run", "hold"])
        .run();
    output.success();
    let journal = only_journal(output.path());
    let taken = events(&journal, "lock_taken_over", None);
    assert_eq!(taken.len(), 1, "{journal:#?}");
    assert_eq!(taken[0]["previous_run"], "R-dead-run");
    assert_eq!(taken[0]["previous_pid"], stale.pid);
    // Released at the end: the next run finds the lock free.
    let again = output.again().args(["run", "hold"]).run();
    again.success();
    assert!(
        std::fs::read_to_string(output.path().join(".drctl/locks/hold.lock"))
            .expect("the lock file stays")
            .is_empty()
    );
}

#[test]
fn a_lock_naming_another_host_is_not_broken() {
    let mut foreign = LockInfo::for_this_process("R-elsewhere", "carol", Utc::now());
    foreign.host = "some-other-host".to_owned();
    let text = serde_json::to_string(&foreign).expect("serialize the lock");
    let output = with_runbook("hold", HOLD)
        .file("release", "")
        .file(".drctl/locks/hold.lock", text)
        .args(["run", "hold"])
        .run();
    output
        .code(3)
        .stderr_contains("some-other-host")
        .stderr_contains("drctl unlock hold --id R-elsewhere");
    assert_eq!(crate::support::state::count(output.path(), "hold.count"), 0);
}

/// `b` fails until `fixed` exists; then it holds until `release` exists.
const RESUMABLE: &str = r"
version: 1
name: resumable
steps:
  - id: a
    shell: { run: echo run >> a.count }
  - id: b
    needs: [a]
    timeout: 30s
    shell:
      run: |
        test -e fixed || exit 1
        echo run >> b.count
        while [ ! -e release ]; do sleep 0.05; done
";

/// Twenty `resume`s of one incident at once: one resumes, the others are
/// told who holds the incident. None judges the journal before it holds
/// the lock, so none mistakes the winner's running step for one
/// interrupted mid-way.
#[test]
fn of_twenty_concurrent_resumes_exactly_one_resumes() {
    let test = with_runbook("resumable", RESUMABLE).env("DRCTL_OPERATOR", "alice");
    let dir = test.path().to_path_buf();
    test.again().args(["run", "resumable"]).run().code(1);
    let incident = incident_ids(&dir).remove(0);
    std::fs::write(dir.join("fixed"), "").expect("fix b");
    let mut running: Vec<Running> = (0..20)
        .map(|_| test.again().args(["resume", &incident]).spawn())
        .collect();
    let start = Instant::now();
    loop {
        let mut still = 0;
        for r in &mut running {
            still += usize::from(!r.has_exited());
        }
        if still <= 1 || start.elapsed() > Duration::from_secs(20) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(dir.join("release"), "").expect("release the winner");
    let pids: Vec<i32> = running.iter().map(Running::pid).collect();
    let outputs: Vec<_> = running.into_iter().map(Running::wait).collect();
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    let winners: Vec<usize> = (0..outputs.len())
        .filter(|&i| codes[i] == Some(0))
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one resume must succeed: {codes:?}"
    );
    let winner = winners[0];
    assert_eq!(crate::support::state::count(&dir, "b.count"), 1);
    assert_eq!(crate::support::state::count(&dir, "a.count"), 1);
    for (i, output) in outputs.iter().enumerate().filter(|(i, _)| *i != winner) {
        output
            .code(3)
            .stderr_contains(&format!("incident {incident} is being run by alice"))
            .stderr_contains(&format!("pid {}", pids[winner]));
        assert!(
            !output.stderr.contains("interrupted"),
            "loser {i} judged a running step:\n{}",
            output.stderr
        );
    }
    let journal = only_journal(&dir);
    assert_eq!(
        events(&journal, "run_started", None).len(),
        2,
        "one resumed run"
    );
}
