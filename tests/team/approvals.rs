//! Two-person approval (`approve:`, issue 15) through the real binary and a
//! real `PostgreSQL`: a run on "ops-1" waits, other operators on "ops-2" answer
//! with `drctl approve` / `drctl deny`. Two `DRCTL_HOST` values stand in for
//! two machines.

use std::time::{Duration, Instant};

use crate::support::pg::TempCluster;
use crate::support::{Output, Running, Test};

/// A fresh database with drctl's schema; its name and URL.
fn store(name: &str) -> (&'static TempCluster, String, String) {
    let cluster = TempCluster::shared();
    let database = format!("approve_{name}");
    let url = cluster.database(&database);
    Test::new()
        .args(["store", "init", "--store", &url])
        .run()
        .success();
    (cluster, database, url)
}

/// `drctl` as `operator` on `host`, with the shared store.
fn on(test: &Test, url: &str, operator: &str, host: &str) -> Test {
    test.again()
        .env("DRCTL_STORE", url)
        .env("DRCTL_OPERATOR", operator)
        .env("DRCTL_HOST", host)
}

/// Waits until the database holds an open request (for `step`), returning
/// the incident id; panics with the run's output when it ends first.
fn wait_for_request(
    cluster: &TempCluster,
    database: &str,
    step: &str,
    run: &mut Running,
) -> String {
    let started = Instant::now();
    loop {
        let id = cluster.psql_in(
            database,
            &format!(
                "SELECT incident_id FROM approval_requests WHERE state = 'open' AND step = '{step}'"
            ),
        );
        if !id.is_empty() {
            return id;
        }
        assert!(
            !run.has_exited(),
            "the run ended before asking for approval"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no approval request within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const GATED: &str = "\
version: 1
name: gated
steps:
  - id: prep
    shell:
      run: echo prepared > prep.txt
    rollback:
      shell:
        run: echo undone > undone.txt
  - id: promote
    needs: [prep]
    approve:
      message: Promotes the replica; the old primary is fenced.
    shell:
      run: echo promoted > promoted.txt
  - id: independent
    shell:
      run: echo independent > independent.txt
";

fn gated() -> Test {
    Test::new().file("runbooks/gated.yaml", GATED)
}

fn log(test: &Test, url: &str, incident: &str) -> Output {
    on(test, url, "dana", "ops-3").args(["log", incident]).run()
}

/// The case: an approval given by a second process unblocks the
/// first, and an independent step ran while it waited. The approver's name
/// and host are in the journal, `log` and the post-mortem.
#[test]
fn an_approval_from_another_machine_unblocks_the_run() {
    let (cluster, database, url) = store("unblocks");
    let test = gated();
    let mut run = on(&test, &url, "alice", "ops-1")
        .args(["run", "gated"])
        .spawn();
    let incident = wait_for_request(cluster, &database, "promote", &mut run);
    // The independent step does not wait for the approval.
    let started = Instant::now();
    while !test.path().join("independent.txt").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "independent never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!test.path().join("promoted.txt").exists());
    on(&test, &url, "bob", "ops-2")
        .args(["approve", &incident, "promote"])
        .run()
        .success()
        .stderr_contains(&format!(
            "step promote of incident {incident} approved by bob on ops-2 (1 of 1); the run of alice on ops-1 goes on"
        ));
    run.wait()
        .success()
        .stderr_contains("Approval asked for promote: 1 person other than the run's operator")
        .stderr_contains("Step promote approved by bob on ops-2");
    assert!(test.path().join("promoted.txt").exists());
    let journal = cluster.psql_in(
        &database,
        &format!("SELECT line FROM journal WHERE incident_id = '{incident}' AND line LIKE '%approval_answered%'"),
    );
    assert!(
        journal.contains("\"by\":\"bob\"") && journal.contains("\"host\":\"ops-2\""),
        "{journal}"
    );
    log(&test, &url, &incident)
        .success()
        .stdout_contains("Step promote approved by bob on ops-2");
    on(&test, &url, "dana", "ops-3")
        .args(["report", &incident])
        .run()
        .success()
        .stdout_contains("Step `promote` approved by bob on ops-2");
    // Decided: nothing waits any more.
    on(&test, &url, "carol", "ops-2")
        .args(["approve", &incident, "promote"])
        .run()
        .code(2)
        .stderr_contains("step `promote` of incident")
        .stderr_contains("is not waiting for approval (it was approved at");
}

/// The run's own operator cannot approve, from any machine; a denial fails
/// the step, and the rollbacks of what ran are offered as after any failure.
#[test]
fn a_self_approval_is_refused_and_a_denial_fails_the_step() {
    let (cluster, database, url) = store("deny");
    let test = gated();
    let mut run = on(&test, &url, "alice", "ops-1")
        .args(["run", "gated", "--rollback", "yes"])
        .spawn();
    let incident = wait_for_request(cluster, &database, "promote", &mut run);
    for host in ["ops-1", "ops-2"] {
        on(&test, &url, "alice", host)
            .args(["approve", &incident, "promote"])
            .run()
            .code(3)
            .stderr_contains(
                "alice runs this step's run (on ops-1): the run's operator cannot approve it",
            )
            .stderr_contains("two-person rule");
    }
    // The same person under another spelling is the same person.
    for alias in ["ALICE", " alice", "alice ", "Ａｌｉｃｅ"] {
        on(&test, &url, alias, "ops-2")
            .args(["approve", &incident, "promote"])
            .run()
            .code(3)
            .stderr_contains("two-person rule");
    }
    // Names that would hide a character, or forge a line, name nobody.
    for hidden in [
        "alice\u{200B}",
        "  ",
        "alice\n23:00:00.000  Step x succeeded",
        "a\u{1b}[31m",
    ] {
        on(&test, &url, hidden, "ops-2")
            .args(["approve", &incident, "promote"])
            .run()
            .code(2)
            .stderr_contains("the operator name");
    }
    on(&test, &url, "bob", "ops-2")
        .args([
            "deny",
            &incident,
            "promote",
            "--reason",
            "replica lags 40 min",
        ])
        .run()
        .success()
        .stderr_contains("denied by bob on ops-2; the run of alice on ops-1 fails the step");
    run.wait()
        .code(1)
        .stderr_contains("Step promote denied by bob on ops-2: \"replica lags 40 min\"")
        .stderr_contains("not approved: denied by bob on ops-2: replica lags 40 min");
    assert!(!test.path().join("promoted.txt").exists());
    assert!(
        test.path().join("undone.txt").exists(),
        "prep's rollback ran"
    );
    on(&test, &url, "bob", "ops-2")
        .args(["deny", &incident, "promote"])
        .run()
        .code(2)
        .stderr_contains("(it was denied at");
}

/// `by: 2` needs two distinct people; one of them answering twice is refused.
#[test]
fn two_approvers_are_two_people() {
    let (cluster, database, url) = store("two");
    let test = Test::new().file(
        "runbooks/two.yaml",
        "version: 1\nname: two\nsteps:\n  - id: drop\n    approve: { by: 2 }\n    shell:\n      run: echo dropped > dropped.txt\n",
    );
    let mut run = on(&test, &url, "alice", "ops-1")
        .args(["run", "two"])
        .spawn();
    let incident = wait_for_request(cluster, &database, "drop", &mut run);
    on(&test, &url, "bob", "ops-2")
        .args(["approve", &incident, "drop"])
        .run()
        .success()
        .stderr_contains("(1 of 2); the run of alice on ops-1 waits for 1 more");
    on(&test, &url, "bob", "ops-3")
        .args(["approve", &incident, "drop"])
        .run()
        .code(3)
        .stderr_contains("bob already approved step `drop`");
    assert!(!run.has_exited());
    on(&test, &url, "carol", "ops-3")
        .args(["approve", &incident, "drop"])
        .run()
        .success()
        .stderr_contains("(2 of 2); the run of alice on ops-1 goes on");
    run.wait()
        .success()
        .stderr_contains("Step drop approved by bob on ops-2")
        .stderr_contains("Step drop approved by carol on ops-3");
}

/// `timeout:` fails the step as not approved; nothing is left waiting.
#[test]
fn an_approval_not_given_in_time_fails_the_step() {
    let (cluster, database, url) = store("timeout");
    let test = Test::new().file(
        "runbooks/slow.yaml",
        "version: 1\nname: slow\nsteps:\n  - id: wait\n    approve: { timeout: 1s }\n    shell:\n      run: echo ran > ran.txt\n",
    );
    on(&test, &url, "alice", "ops-1")
        .args(["run", "slow"])
        .run()
        .code(1)
        .stderr_contains("not approved within 1s (0 of 1 approvals)");
    assert!(!test.path().join("ran.txt").exists());
    let states = cluster.psql_in(&database, "SELECT state FROM approval_requests");
    assert_eq!(states, "timed_out");
}

/// Ctrl-C stops the wait like any step: the run ends at once, the request
/// is closed (an approver is told), and a resume asks again.
#[test]
fn ctrl_c_stops_the_wait_and_a_resume_asks_again() {
    let (cluster, database, url) = store("interrupt");
    let test = gated();
    let mut run = on(&test, &url, "alice", "ops-1")
        .args(["run", "gated"])
        .spawn();
    let incident = wait_for_request(cluster, &database, "promote", &mut run);
    run.signal(rustix::process::Signal::INT);
    let output = run.wait();
    output.code(130);
    assert!(
        output.elapsed < Duration::from_secs(10),
        "{}",
        output.report()
    );
    on(&test, &url, "bob", "ops-2")
        .args(["approve", &incident, "promote"])
        .run()
        .code(2)
        .stderr_contains("(its run stopped waiting at");
    let mut resume = on(&test, &url, "alice", "ops-1")
        .args(["resume", &incident])
        .spawn();
    wait_for_request(cluster, &database, "promote", &mut resume);
    on(&test, &url, "bob", "ops-2")
        .args(["approve", &incident, "promote"])
        .run()
        .success();
    resume.wait().success();
    assert!(test.path().join("promoted.txt").exists());
}

/// An approval given before the run stopped is in the journal: the resume
/// does not ask for it again.
#[test]
fn an_approval_given_before_a_stop_is_not_asked_again() {
    let (cluster, database, url) = store("kept");
    let test = Test::new().file(
        "runbooks/kept.yaml",
        "version: 1\nname: kept\nsteps:\n  - id: drop\n    approve: true\n    confirm: true\n    shell:\n      run: echo dropped > dropped.txt\n",
    );
    // Approved, then its confirmation is refused (no terminal, no --yes).
    let mut run = on(&test, &url, "alice", "ops-1")
        .args(["run", "kept"])
        .spawn();
    let incident = wait_for_request(cluster, &database, "drop", &mut run);
    on(&test, &url, "bob", "ops-2")
        .args(["approve", &incident, "drop"])
        .run()
        .success();
    run.wait().code(3);
    on(&test, &url, "alice", "ops-1")
        .args(["resume", &incident, "--yes"])
        .run()
        .success()
        .stderr_not_contains("Approval asked");
    assert!(test.path().join("dropped.txt").exists());
    let requests = cluster.psql_in(&database, "SELECT count(*) FROM approval_requests");
    assert_eq!(requests, "1");
}

/// Without a shared store: `validate` says where a step needs team mode,
/// `run` refuses before anything runs, and `approve` says why it cannot.
#[test]
fn without_a_shared_store_approval_is_refused_before_anything_runs() {
    let test = gated();
    let validated = test.again().args(["validate", "runbooks/gated.yaml"]).run();
    validated
        .success()
        .stderr_contains("runbooks/gated.yaml:12:5")
        .stderr_contains("step `promote` waits for other operators' approval (`approve:`), which needs team mode");
    test.again()
        .args(["run", "gated", "--dry-run"])
        .run()
        .success()
        .stdout_contains("approve: waits for 1 person other than the run's operator: \"Promotes the replica; the old primary is fenced.\" (`drctl approve ⟨run.incident⟩ promote`; team mode)");
    test.again()
        .args(["run", "gated"])
        .run()
        .code(2)
        .stderr_contains("runbooks/gated.yaml:12:5")
        .stderr_contains("needs team mode");
    assert!(!test.path().join("prep.txt").exists(), "nothing ran");
    assert!(!test.path().join(".drctl").exists(), "nothing was created");
    for command in ["approve", "deny"] {
        test.again()
            .args([command, "INC-20261201-001", "promote"])
            .run()
            .code(2)
            .stderr_contains(&format!("approvals need team mode: `drctl {command}`"));
    }
}

/// Hostile answers: an unknown incident, a step id written to break the
/// SQL, a step that does not wait, an empty or huge reason.
#[test]
fn hostile_answers_get_clear_errors() {
    let (cluster, database, url) = store("hostile");
    let test = Test::new();
    on(&test, &url, "bob", "ops-2")
        .args(["approve", "INC-20990101-001", "promote"])
        .run()
        .code(2)
        .stderr_contains("no incident INC-20990101-001 in the shared store");
    // A real incident, so that the step is what is looked up.
    let test = Test::new().file(
        "runbooks/plain.yaml",
        "version: 1\nname: plain\nsteps:\n  - id: one\n    shell:\n      run: 'true'\n",
    );
    on(&test, &url, "alice", "ops-1")
        .args(["run", "plain"])
        .run()
        .success();
    let incident = cluster.psql_in(&database, "SELECT id FROM incidents");
    for step in [
        "one",
        "x'; DROP TABLE approvals; --",
        "freeze/stop-writes",
        "ünïcødé\u{202e}",
    ] {
        on(&test, &url, "bob", "ops-2")
            .args(["approve", &incident, step])
            .run()
            .code(2)
            .stderr_contains("is not waiting for approval");
    }
    assert_eq!(
        cluster.psql_in(&database, "SELECT count(*) FROM approvals"),
        "0"
    );
    on(&test, &url, "bob", "ops-2")
        .args(["deny", &incident, "one", "--reason", &"x".repeat(1001)])
        .run()
        .code(2)
        .stderr_contains("the reason is longer than 1000 characters");
}
