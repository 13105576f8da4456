//! `drctl log ID --follow` from a second process (on the shared store, one
//! with another `DRCTL_HOST` in another directory: another machine): it sees
//! every event of the other's run, in order and each once, and its output is
//! then exactly what `drctl log` prints after the end. It ends with the run,
//! at once when no run is in progress, with exit 1 when the run's process
//! died, and with 130 on Ctrl-C or SIGTERM. On the file store a line being
//! written is never printed half; on the shared store a dropped `LISTEN`
//! connection falls back to polling and misses nothing. Secrets stay redacted.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Backend, incident_ids, journal, sql, team_store};
use crate::support::state::{state_dir, wait_for_file};
use crate::support::{Output, Running, Test};

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

/// The operator's machine: the runbook, the secret, the store.
fn gated(backend: &Backend) -> Test {
    backend.on(Test::new()
        .file("runbooks/gated.yaml", GATED)
        .env("FOLLOW_SECRET", SECRET)
        .env("DRCTL_HOST", "host-a"))
}

/// Where the follower runs: on the shared store, another machine (its own
/// directory, another host name); on the file store, the same directory.
fn other_machine(test: &Test, backend: &Backend) -> Test {
    match backend {
        Backend::File => test.again(),
        Backend::Postgres(url) => Test::new()
            .env("DRCTL_STORE", url)
            .env("DRCTL_HOST", "host-b"),
    }
}

/// The only incident, once the run has opened it and journaled its start.
fn incident_of_run(test: &Test, backend: &Backend) -> String {
    let start = Instant::now();
    loop {
        if let Some(id) = incident_ids(test, backend).into_iter().next()
            && !journal(test, backend, &id).is_empty()
        {
            return id;
        }
        assert!(start.elapsed() < LIMIT, "the run opened no incident");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the incident's journal holds an event of step `step`.
fn wait_for_step(test: &Test, backend: &Backend, id: &str, step: &str) {
    let start = Instant::now();
    while !journal(test, backend, id)
        .iter()
        .any(|e| e["step"].as_str() == Some(step))
    {
        assert!(
            start.elapsed() < LIMIT,
            "the journal never reached step {step}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn release(dir: &Path, gate: &str) {
    std::fs::write(dir.join(gate), "").expect("open a gate");
}

/// The run waits in `a` when the follower starts, so the follower sees part
/// of the run as history and the rest live; `between` runs while it waits.
fn follow_while_running(
    backend: &Backend,
    format: &[&str],
    between: impl FnOnce(),
) -> (Test, String, Output, Running) {
    let test = gated(backend);
    let run = test.again().args(["run", "gated"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    let id = incident_of_run(&test, backend);
    let mut args = vec!["log", id.as_str(), "--follow"];
    args.extend(format);
    let follower = other_machine(&test, backend).args(&args).spawn();
    between();
    release(test.path(), "go-a");
    wait_for_step(&test, backend, &id, "b");
    release(test.path(), "go-b");
    let followed = follower.wait();
    (test, id, followed, run)
}

#[test]
fn follow_sees_every_event_in_order_as_log_shows_them_after_the_end() {
    for backend in Backend::both("follow_whole") {
        let (test, id, followed, run) = follow_while_running(&backend, &[], || {});
        run.wait().success();
        followed.success();
        let log = backend.on(test.again()).args(["log", &id]).run();
        log.success();
        followed.stdout_is(&log.stdout);
        followed
            .stdout_contains("Step a started")
            .stdout_contains("Step c succeeded")
            .stdout_contains("Run succeeded")
            .stdout_not_contains(SECRET)
            .stderr_not_contains(SECRET);
    }
}

#[test]
fn follow_in_json_prints_the_journal_lines_as_stored() {
    for backend in Backend::both("follow_json") {
        let (test, id, followed, run) =
            follow_while_running(&backend, &["--format", "json"], || {});
        run.wait().success();
        followed.success();
        let lines = backend.on(test.again()).args(["log", &id, "--json"]).run();
        followed.stdout_is(&lines.stdout);
        assert!(!lines.stdout.contains(SECRET));
        let seqs: Vec<u64> = journal(&test, &backend, &id)
            .iter()
            .map(|e| e["seq"].as_u64().expect("a seq"))
            .collect();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    }
}

#[test]
fn follow_of_an_incident_with_no_run_in_progress_prints_the_log_and_ends() {
    for backend in Backend::both("follow_idle") {
        let test = gated(&backend);
        release(test.path(), "go-a");
        release(test.path(), "go-b");
        test.again().args(["run", "gated"]).run().success();
        let id = incident_of_run(&test, &backend);
        let log = backend.on(test.again()).args(["log", &id]).run();
        other_machine(&test, &backend)
            .args(["log", &id, "-f"])
            .run()
            .success()
            .stdout_is(&log.stdout)
            .stderr_contains("is in progress: nothing more to follow");
    }
}

#[test]
fn follow_rejects_what_log_rejects() {
    for backend in Backend::both("follow_bad") {
        for (id, needle) in [
            ("INC-20260101-001", "no incident"),
            ("not-an-id", "is not an incident id"),
            ("../../etc", "is not an incident id"),
            ("INC-20260101-001\n", "is not an incident id"),
            ("", "is not an incident id"),
        ] {
            backend
                .on(Test::new())
                .args(["log", id, "--follow"])
                .run()
                .code(2)
                .stderr_contains(needle);
        }
    }
}

#[test]
fn follow_ends_with_exit_1_when_the_run_dies_without_finishing() {
    for backend in Backend::both("follow_killed") {
        let test = gated(&backend);
        let run = test.again().args(["run", "gated"]).spawn();
        wait_for_file(&test.path().join("at-a"), LIMIT);
        let id = incident_of_run(&test, &backend);
        // On the shared store a run without its lock may be reconnecting:
        // the follower gives it DRCTL_STORE_WAIT before calling it gone.
        let follower = other_machine(&test, &backend)
            .env("DRCTL_STORE_WAIT", "1")
            .args(["log", &id, "--follow"])
            .spawn();
        std::thread::sleep(Duration::from_millis(300));
        run.signal(rustix::process::Signal::KILL);
        run.wait();
        follower
            .wait()
            .code(1)
            .stdout_contains("Step a started")
            .stdout_contains("never finished")
            .stderr_contains("gone without finishing")
            .stderr_contains(&format!("drctl resume {id}"));
        // The step's shell outlived drctl; it ends at its gate.
        release(test.path(), "go-a");
    }
}

#[test]
fn ctrl_c_or_sigterm_stops_following_with_130_and_leaves_the_run_alone() {
    let backend = Backend::File;
    let test = gated(&backend);
    let run = test.again().args(["run", "gated"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    let id = incident_of_run(&test, &backend);
    for signal in [rustix::process::Signal::INT, rustix::process::Signal::TERM] {
        let follower = test.again().args(["log", &id, "--follow"]).spawn();
        // Once it has printed the history it is in its loop.
        std::thread::sleep(Duration::from_millis(300));
        follower.signal(signal);
        follower.wait().code(130).stdout_contains("Step a started");
    }
    release(test.path(), "go-a");
    wait_for_step(&test, &backend, &id, "b");
    release(test.path(), "go-b");
    run.wait().success();
}

/// A line being appended is not printed until its newline is there: the
/// test appends half a line to the journal of a run waiting in `a`, then
/// takes it away before the run writes again.
#[test]
fn a_line_being_written_is_never_printed_half() {
    let backend = Backend::File;
    let test = gated(&backend);
    let run = test.again().args(["run", "gated"]).spawn();
    wait_for_file(&test.path().join("at-a"), LIMIT);
    let id = incident_of_run(&test, &backend);
    let journal_path = state_dir(test.path())
        .join("incidents")
        .join(&id)
        .join("journal.jsonl");
    let whole = std::fs::read(&journal_path).expect("the journal");
    let mut torn = whole.clone();
    torn.extend_from_slice(
        br#"{"v":2,"seq":99,"ts":"2026-01-01T00:00:00Z","event":"operator_note","text":"HALF"#,
    );
    std::fs::write(&journal_path, &torn).expect("append half a line");
    let follower = test.again().args(["log", &id, "--follow"]).spawn();
    std::thread::sleep(Duration::from_millis(400));
    std::fs::write(&journal_path, &whole).expect("take the half line away");
    release(test.path(), "go-a");
    wait_for_step(&test, &backend, &id, "b");
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

/// The follower's `LISTEN` connection is killed while it follows: it polls
/// until it listens again, and still prints every event once, in order.
#[test]
fn a_dropped_listen_connection_falls_back_to_polling_and_misses_nothing() {
    let url = team_store("follow_listen");
    let backend = Backend::Postgres(url);
    let (test, id, followed, run) = follow_while_running(&backend, &[], || {
        let start = Instant::now();
        loop {
            let killed = sql(
                "follow_listen",
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = 'team_follow_listen' AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
            );
            if killed.trim() != "0" {
                break;
            }
            assert!(start.elapsed() < LIMIT, "the follower never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    run.wait().success();
    followed.success();
    let log = backend.on(test.again()).args(["log", &id]).run();
    followed.stdout_is(&log.stdout);
}
