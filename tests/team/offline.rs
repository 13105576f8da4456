//! The shared store goes away mid-run (docs/team-mode.md, "When the
//! database goes away"), on a private cluster the test stops and starts:
//! no new step starts while it is away, the running step finishes, its end
//! is kept and written on reconnect with the chain whole, and the operator
//! is told; a store that never comes back stops the run after its wait
//! with exit 1, the records it did not get kept in a local file; Ctrl-C
//! meanwhile stops it with exit 130, keeping them the same way.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::kinds;
use crate::support::pg::TempCluster;
use crate::support::procs::{assert_none_left, live_stat_fields};
use crate::support::state::{files_under, wait_for_file};
use crate::support::{Running, Test};

/// A runbook whose step `a` waits for its gate, then `more` steps.
fn gated(name: &str, more: &str) -> String {
    format!(
        "version: 1
name: {name}
steps:
  - id: a
    timeout: 30s
    shell:
      run: |
        touch at-a
        while [ ! -e go-a ]; do sleep 0.02; done
{more}"
    )
}

/// After `a`, `b` marks that it started, then waits for its own gate.
const THEN_B: &str = "  - id: b
    needs: [a]
    timeout: 30s
    shell:
      run: |
        touch at-b
        while [ ! -e go-b ]; do sleep 0.02; done
";

const LIMIT: Duration = Duration::from_secs(30);

/// A private cluster (this test stops it) with a store in database `offline`.
fn private_store() -> (TempCluster, String) {
    let cluster = TempCluster::start();
    let url = cluster.database("offline");
    Test::new()
        .args(["store", "init", "--store", &url])
        .run()
        .success();
    (cluster, url)
}

fn restart(cluster: &TempCluster) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(cluster.start_command())
        .status()
        .expect("run pg_ctl start");
    assert!(status.success(), "the cluster did not start again");
}

fn release(dir: &Path, gate: &str) {
    std::fs::write(dir.join(gate), "").expect("open a gate");
}

/// The run's local file of kept records, if there is one.
fn offline_file(dir: &Path) -> Option<PathBuf> {
    files_under(dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "offline.jsonl"))
}

/// `gates` running on a private store that it waits `wait` seconds for,
/// with `a` started.
fn gates_running(wait: &str) -> (TempCluster, Test, Running) {
    let (cluster, url) = private_store();
    let test = Test::new()
        .file("runbooks/gates.yaml", gated("gates", THEN_B))
        .env("DRCTL_STORE", &url)
        .env("DRCTL_STORE_WAIT", wait);
    let run = test.again().args(["run", "gates"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    (cluster, test, run)
}

/// Stops the store, then lets `a` end: its end is kept locally.
fn end_a_while_the_store_is_away(cluster: &TempCluster, test: &Test) {
    cluster.stop();
    release(test.path(), "go-a");
    let kept = Instant::now();
    while offline_file(test.path()).is_none() {
        assert!(
            kept.elapsed() < LIMIT,
            "the end of `a` was not kept locally"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `b` must not start while the store is away: its marker stays absent
/// for this long after `a` ended.
const HELD: Duration = Duration::from_millis(800);

#[test]
fn the_store_going_away_holds_new_steps_and_its_return_writes_the_kept_ends() {
    let (cluster, test, run) = gates_running("60");
    // `a` ends while the store is away: its end is kept, `b` is held.
    end_a_while_the_store_is_away(&cluster, &test);
    std::thread::sleep(HELD);
    assert!(
        !test.path().join("at-b").exists(),
        "step b started while the store was away"
    );
    let local = std::fs::read_to_string(offline_file(test.path()).expect("the file"))
        .expect("read the kept records");
    assert!(
        local.contains(r#""event":"step_finished","step":"a""#),
        "{local}"
    );
    assert!(local.contains(r#""event":"store_unreachable""#), "{local}");
    restart(&cluster);
    wait_for_file(&test.path().join("at-b"), LIMIT);
    release(test.path(), "go-b");
    let out = run.wait();
    out.success()
        .stderr_contains("The shared store stopped answering")
        .stderr_contains("no new step starts")
        .stderr_contains("The shared store answers again");
    assert!(
        offline_file(test.path()).is_none(),
        "the local file stays after everything was written"
    );
    let log = test
        .again()
        .args(["log", "--json"])
        .arg(incident(&test))
        .run();
    let events: Vec<serde_json::Value> = log
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let kinds = kinds(&events);
    let at = |kind: &str| kinds.iter().position(|k| *k == kind).expect(kind);
    assert!(at("store_unreachable") < at("store_reachable"), "{kinds:?}");
    // `b` may be recorded as started before the loss was noticed; its
    // action waited (no `at-b` while the store was away), and it ended after.
    let b_finished = events
        .iter()
        .position(|e| e["event"] == "step_finished" && e["step"] == "b")
        .expect("b finished");
    assert!(at("store_reachable") < b_finished, "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_finished"));
    test.again()
        .args(["verify"])
        .arg(incident(&test))
        .run()
        .success()
        .stdout_contains("journal intact");
}

#[test]
fn a_store_that_never_comes_back_stops_the_run_after_its_wait_and_keeps_the_records() {
    let (cluster, test, run) = gates_running("1");
    let id = incident(&test);
    cluster.stop();
    release(test.path(), "go-a");
    let out = run.wait();
    out.code(1)
        .stderr_contains("did not take the run's last")
        .stderr_contains("DRCTL_STORE_WAIT")
        .stderr_contains("offline.jsonl");
    assert!(!test.path().join("at-b").exists(), "step b started");
    let kept = offline_file(test.path()).expect("the file stays");
    // In the run's local directory, never in the file store's incidents.
    assert!(
        kept.components().any(|c| c.as_os_str() == "team-runs"),
        "{}",
        kept.display()
    );
    let listed = test
        .again()
        .args(["--store", "file", "incidents", "--format", "json"])
        .run();
    assert_eq!(
        listed.stdout_json(),
        serde_json::json!([]),
        "{}",
        listed.report()
    );
    let local = std::fs::read_to_string(kept).expect("read the kept records");
    assert!(
        local.contains(r#""event":"step_finished","step":"a""#),
        "{local}"
    );
    restart(&cluster);
    test.again()
        .args(["log", &id])
        .run()
        .success()
        .stdout_contains("never finished");
}

#[test]
fn ctrl_c_while_the_store_is_away_is_an_interrupt_and_keeps_the_records() {
    let (cluster, test, run) = gates_running("120");
    end_a_while_the_store_is_away(&cluster, &test);
    run.signal(rustix::process::Signal::INT);
    let out = run.wait();
    out.code(130)
        .stderr_contains("interrupted while waiting for the shared store")
        .stderr_contains("offline.jsonl");
    assert!(!test.path().join("at-b").exists(), "step b started");
    let kept = std::fs::read_to_string(offline_file(test.path()).expect("the file stays"))
        .expect("read the kept records");
    assert!(
        kept.contains(r#""event":"step_finished","step":"a""#),
        "{kept}"
    );
}

/// Beside `a`, `slow` outlives its timeout by far.
const SLOW: &str = "  - id: slow
    timeout: 2s
    shell:
      run: |
        touch at-slow
        sleep 317
";

/// SIGSTOP (`freeze`) or SIGCONT to the server and every process it
/// started: connections stay open and nothing answers, the way a hung
/// host or network looks to drctl (where a stopped server refuses at once).
fn signal_server(cluster: &TempCluster, signal: rustix::process::Signal) {
    let pid_file = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid"))
        .expect("read postmaster.pid");
    let server: i32 = pid_file
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("its pid");
    let children = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let parent: i32 = live_stat_fields(pid)?.get(1)?.parse().ok()?;
            (parent == server).then_some(pid)
        });
    for pid in std::iter::once(server).chain(children.collect::<Vec<_>>()) {
        if let Some(pid) = rustix::process::Pid::from_raw(pid) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }
}

/// While a commit waits for a store that does not answer (15 s at most,
/// then the store counts as away), the run's one thread still acts on a
/// running step's timeout: the commit waits beside it.
#[test]
fn a_step_times_out_on_time_while_a_commit_waits_for_a_frozen_store() {
    let (cluster, url) = private_store();
    let test = Test::new()
        .file("runbooks/frozen.yaml", gated("frozen", SLOW))
        .env("DRCTL_STORE", &url)
        .env("DRCTL_STORE_WAIT", "60");
    let run = test.again().args(["run", "frozen"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    wait_for_file(&test.path().join("at-slow"), LIMIT);
    signal_server(&cluster, rustix::process::Signal::STOP);
    // `a`'s end is recorded and its commit waits for the frozen store.
    release(test.path(), "go-a");
    // `slow` started before the freeze: its 2 s are over well before the
    // commit gives up on the store.
    let frozen = Instant::now();
    let left = std::panic::catch_unwind(|| {
        assert_none_left("sleep 317", Duration::from_secs(8));
    });
    let stopped_after = frozen.elapsed();
    signal_server(&cluster, rustix::process::Signal::CONT);
    assert!(
        left.is_ok(),
        "the timed-out step ran on while the store was frozen"
    );
    let out = run.wait();
    out.code(1);
    let log = test
        .again()
        .args(["log", "--json"])
        .arg(incident(&test))
        .run();
    let slow_end = log
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .find(|e| e["event"] == "step_finished" && e["step"] == "slow")
        .unwrap_or_else(|| panic!("no end of slow: {}", log.report()));
    assert_eq!(
        slow_end["status"], "timed_out",
        "{slow_end}; stopped after {stopped_after:?}"
    );
}

/// The incident the run opened (the only one in its store).
fn incident(test: &Test) -> String {
    let start = Instant::now();
    loop {
        let out = test.again().args(["incidents", "--format", "json"]).run();
        if let Some(id) = out
            .stdout_json()
            .as_array()
            .and_then(|a| a.first())
            .and_then(|i| i["id"].as_str())
        {
            return id.to_owned();
        }
        assert!(start.elapsed() < LIMIT, "no incident");
        std::thread::sleep(Duration::from_millis(20));
    }
}
