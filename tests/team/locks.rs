//! Locks in the shared store, between "machines" (processes with different
//! `DRCTL_HOST` in different directories): one holder out of twenty, a
//! killed holder's lock free within a second, and a run that lost its lock
//! unable to append to the journal.

use std::time::{Duration, Instant};

use super::{Backend, incident_of, journal, kinds, sql, team_store};
use crate::support::{Running, Test};

/// The step holds the locks until `release` exists in its directory.
const HOLD: &str = r"
version: 1
name: hold
steps:
  - id: hold
    timeout: 30s
    shell:
      run: |
        echo run >> hold.count
        touch holding
        while [ ! -e release ]; do sleep 0.05; done
  - id: after
    needs: [hold]
    shell: { run: touch after-ran }
";

/// A machine: its own directory with the runbook, its host name, the store.
fn machine(url: &str, host: &str, operator: &str) -> Test {
    Test::new()
        .file("runbooks/hold.yaml", HOLD)
        .env("DRCTL_STORE", url)
        .env("DRCTL_HOST", host)
        .env("DRCTL_OPERATOR", operator)
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

#[test]
fn of_twenty_runs_from_two_hosts_exactly_one_holds_the_lock() {
    let url = team_store("race");
    let hosts = [
        machine(&url, "host-a", "alice"),
        machine(&url, "host-b", "bob"),
    ];
    let mut running: Vec<Running> = (0..20)
        .map(|i| hosts[i % 2].again().args(["run", "hold"]).spawn())
        .collect();
    wait_for("19 runs refused", Duration::from_secs(30), || {
        running
            .iter_mut()
            .map(|r| usize::from(!r.has_exited()))
            .sum::<usize>()
            <= 1
    });
    for host in &hosts {
        std::fs::write(host.path().join("release"), "").unwrap();
    }
    let outputs: Vec<_> = running.into_iter().map(Running::wait).collect();
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    let winners: Vec<_> = outputs
        .iter()
        .filter(|o| o.status.code() == Some(0))
        .collect();
    assert_eq!(winners.len(), 1, "{codes:?}");
    let winner = winners[0];
    let (holder, host) = if winner.stderr.contains("started by alice on host-a") {
        ("alice", "host-a")
    } else {
        ("bob", "host-b")
    };
    for loser in outputs.iter().filter(|o| o.status.code() != Some(0)) {
        loser
            .code(3)
            .stderr_contains(&format!(
                "runbook hold is being run by {holder} on host {host}"
            ))
            .stderr_contains("wait for run R");
    }
    let runs: usize = hosts
        .iter()
        .map(|h| crate::support::state::count(h.path(), "hold.count"))
        .sum();
    assert_eq!(runs, 1);
    // One incident: the losers created none.
    assert_eq!(sql("race", "SELECT count(*) FROM incidents"), "1");
    assert_eq!(sql("race", "SELECT count(*) FROM lock_holders"), "0");
}

#[test]
fn a_killed_holder_frees_the_lock_within_a_second() {
    let url = team_store("kill");
    let a = machine(&url, "host-a", "alice");
    let b = machine(&url, "host-b", "bob");
    std::fs::write(b.path().join("release"), "").unwrap();
    let holder = a.again().args(["run", "hold"]).spawn();
    wait_for("the step to start", Duration::from_secs(20), || {
        a.path().join("holding").exists()
    });
    b.again()
        .args(["run", "hold"])
        .run()
        .code(3)
        .stderr_contains("runbook hold is being run by alice on host host-a");
    // Another machine sees it running.
    let list = b.again().args(["incidents", "--format", "json"]).run();
    list.success();
    assert_eq!(
        list.stdout_json()[0]["status"],
        "running",
        "{}",
        list.stdout
    );
    // A live holder's lock is not removed from another machine: it says how to end its session.
    let run_id = sql(
        "kill",
        "SELECT run_id FROM lock_holders WHERE name = 'hold'",
    );
    b.again()
        .args(["unlock", "hold", "--id", &run_id])
        .run()
        .code(3)
        .stderr_contains(&format!(
            "refusing to unlock runbook hold: run {run_id} still holds it"
        ))
        .stderr_contains("pg_terminate_backend(");
    holder.signal(rustix::process::Signal::KILL);
    let freed = wait_for("the lock to be freed", Duration::from_secs(1), || {
        sql(
            "kill",
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
        ) == "0"
    });
    eprintln!("the lock was free {freed:?} after kill -9");
    let _ = holder.wait();
    let list = b.again().args(["incidents", "--format", "json"]).run();
    assert_eq!(
        list.stdout_json()[0]["status"],
        "interrupted",
        "{}",
        list.stdout
    );
    let next = b.again().args(["run", "hold"]).run();
    next.success();
    let id = incident_of(&next);
    let events = journal(&b, &Backend::Postgres(url), &id);
    let taken = events
        .iter()
        .find(|e| e["event"] == "lock_taken_over")
        .expect("the takeover is journaled");
    assert_eq!(taken["previous_host"], "host-a");
}

#[test]
fn a_run_that_lost_its_lock_cannot_append() {
    let url = team_store("fence");
    let a = machine(&url, "host-a", "alice");
    let b = machine(&url, "host-b", "bob");
    let backend = Backend::Postgres(url);

    // The holder row no longer names the run's session (its lock was taken
    // from it): the next line is refused by the insert's own check.
    let holder = a.again().args(["run", "hold"]).spawn();
    wait_for("the step to start", Duration::from_secs(20), || {
        a.path().join("holding").exists()
    });
    sql(
        "fence",
        "UPDATE lock_holders SET backend_pid = 0 WHERE name LIKE 'incident-%'",
    );
    std::fs::write(a.path().join("release"), "").unwrap();
    let out = holder.wait();
    out.code(1)
        .stderr_contains("was refused: this run no longer holds the incident's lock");
    // The display may have seen `after` start (its line was sent ahead, as
    // the file journal writes before it syncs); its action never ran.
    assert!(
        !a.path().join("after-ran").exists(),
        "a step ran after its start was refused"
    );
    let id = incident_of(&out);
    let events = journal(&a, &backend, &id);
    assert_eq!(kinds(&events), ["run_started", "step_started"]);
    std::fs::remove_file(a.path().join("release")).unwrap();
    std::fs::remove_file(a.path().join("holding")).unwrap();

    // Its session ended (terminated by an administrator, or the network):
    // another machine takes the incident and writes; the first cannot.
    let holder = a.again().args(["run", "hold"]).spawn();
    wait_for("the step to start", Duration::from_secs(20), || {
        a.path().join("holding").exists()
    });
    let id = sql(
        "fence",
        "SELECT id FROM incidents ORDER BY created_at DESC LIMIT 1",
    );
    sql(
        "fence",
        "SELECT pg_terminate_backend(backend_pid) FROM lock_holders WHERE name LIKE 'incident-%'",
    );
    b.again()
        .args(["note", &id, "took over from bob's machine"])
        .run()
        .success();
    std::fs::write(a.path().join("release"), "").unwrap();
    holder.wait().code(1);
    assert!(
        !a.path().join("after-ran").exists(),
        "a step ran after its session ended"
    );
    let events = journal(&b, &backend, &id);
    assert_eq!(
        kinds(&events),
        ["run_started", "step_started", "operator_note"],
        "nothing of the first run after the note"
    );
    b.again().args(["verify", &id]).run().success();
}
