//! Timeouts and Ctrl-C stop a step's whole process tree, including what left
//! its process group or session, and leave no process behind. Each test
//! sleeps for a distinctive duration (`sleep 301.5`) so it can find its own
//! leftovers in `/proc` while other tests run.

use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::with_runbook;
use crate::support::procs::assert_none_left;
use crate::support::state::{events, only_journal, wait_for_file};

/// No process of a stopped tree may be left after this (the supervisor
/// reaps them itself: PID 1's pace, slow in some sandboxes, does not matter).
const SURVIVORS: Duration = Duration::from_secs(1);

/// A script whose processes leave the step's process group every way they
/// can, each a `sleep NEEDLE`: `setsid`, a double fork, a double fork into a
/// new session that ignores SIGTERM, and `nohup`; then, once SIGTERM is
/// ignored, `touch started`.
fn escaping(needle: &str) -> String {
    format!(
        "setsid sleep {needle} & \
         ( sleep {needle} & ) ; \
         ( setsid bash -c 'trap \"\" TERM; touch trapped; while true; do sleep {needle}; done' & ) ; \
         nohup sleep {needle} >/dev/null 2>&1 & \
         until [ -e trapped ]; do sleep 0.01; done; \
         touch started; sleep {needle}"
    )
}

fn one_step(run: &str, timeout: Option<&str>) -> String {
    let timeout = timeout
        .map(|t| format!("    timeout: {t}\n"))
        .unwrap_or_default();
    format!(
        "version: 1\nname: slow\nsteps:\n  - id: slow\n{timeout}    shell:\n      run: {run:?}\n"
    )
}

#[test]
fn a_timeout_stops_the_whole_process_group() {
    let output = with_runbook(
        "slow",
        &one_step("sleep 301.5 & sleep 301.5; wait", Some("1s")),
    )
    .args(["run", "slow"])
    .run();
    output.code(1).stderr_contains("timed out after 1s");
    assert!(
        output.elapsed < Duration::from_secs(6),
        "took {:?}",
        output.elapsed
    );
    assert_none_left("sleep 301.5", SURVIVORS);
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("slow"));
    assert_eq!(finished[0]["status"], "timed_out", "{journal:#?}");
}

#[test]
fn a_timeout_stops_processes_that_left_the_group_or_the_session() {
    let output = with_runbook("slow", &one_step(&escaping("304.1"), Some("1s")))
        .args(["run", "slow"])
        .run();
    output.code(1).stderr_contains("timed out after 1s");
    // One of them ignores SIGTERM: 1s timeout + 5s grace, then SIGKILL.
    assert!(
        output.elapsed < Duration::from_secs(9),
        "took {:?}",
        output.elapsed
    );
    assert_none_left("sleep 304.1", SURVIVORS);
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("slow"));
    assert_eq!(finished[0]["status"], "timed_out", "{journal:#?}");
    assert!(finished[0].get("left_running").is_none(), "{journal:#?}");
}

#[test]
fn ctrl_c_stops_processes_that_left_the_group_or_the_session() {
    let mut running = with_runbook("slow", &one_step(&escaping("304.2"), None))
        .args(["run", "slow"])
        .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::INT);
    // The one ignoring SIGTERM holds the stop for the grace period...
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !running.has_exited(),
        "drctl exited before the grace period"
    );
    // ...and a second Ctrl-C ends it at once.
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert_none_left("sleep 304.2", SURVIVORS);
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("slow"));
    assert_eq!(finished[0]["status"], "interrupted", "{journal:#?}");
}

#[test]
fn a_timeout_kills_a_step_that_ignores_sigterm_after_the_grace_period() {
    let output = with_runbook("slow", &one_step("trap '' TERM; sleep 301.8", Some("1s")))
        .args(["run", "slow"])
        .run();
    output.code(1);
    // 1s timeout + 5s grace, then SIGKILL.
    assert!(
        output.elapsed >= Duration::from_secs(5) && output.elapsed < Duration::from_secs(9),
        "took {:?}",
        output.elapsed
    );
    assert_none_left("sleep 301.8", SURVIVORS);
}

#[test]
fn ctrl_c_stops_the_step_and_exits_130() {
    let running = with_runbook(
        "slow",
        &one_step("touch started; sleep 301.6 & sleep 301.6; wait", None),
    )
    .args(["run", "slow"])
    .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert!(
        output.elapsed < Duration::from_secs(6),
        "took {:?}",
        output.elapsed
    );
    assert_none_left("sleep 301.6", SURVIVORS);
    let journal = only_journal(output.path());
    let interrupt = events(&journal, "interrupt_received", None);
    assert_eq!(interrupt.len(), 1, "{journal:#?}");
    assert_eq!(interrupt[0]["immediate"], false);
    let finished = events(&journal, "step_finished", Some("slow"));
    assert_eq!(finished[0]["status"], "interrupted", "{journal:#?}");
    let run = events(&journal, "run_finished", None);
    assert_eq!(run[0]["status"], "interrupted");
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let mut running = with_runbook(
        "slow",
        &one_step("trap '' TERM; touch started; sleep 301.7", None),
    )
    .args(["run", "slow"])
    .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::INT);
    // The step ignores SIGTERM: drctl waits out the grace period...
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !running.has_exited(),
        "drctl exited before the grace period"
    );
    assert!(
        !crate::support::procs::live_with_cmdline("sleep 301.7").is_empty(),
        "the step ignoring SIGTERM should still run"
    );
    // ...unless asked again.
    let second = Instant::now();
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "the second Ctrl-C took {:?}",
        second.elapsed()
    );
    assert_none_left("sleep 301.7", SURVIVORS);
    let journal = only_journal(output.path());
    let interrupts = events(&journal, "interrupt_received", None);
    assert_eq!(interrupts.len(), 2, "{journal:#?}");
    assert_eq!(interrupts[1]["immediate"], true);
}

#[test]
fn sigterm_stops_the_run_like_ctrl_c() {
    let running = with_runbook("slow", &one_step("touch started; sleep 301.9", None))
        .args(["run", "slow"])
        .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::TERM);
    let output = running.wait();
    output.code(130);
    assert_none_left("sleep 301.9", SURVIVORS);
}

#[test]
fn ctrl_c_while_waiting_to_retry_stops_at_once() {
    let yaml = r#"
version: 1
name: retrying
steps:
  - id: flaky
    retry: { attempts: 5, delay: 60s }
    shell: { run: "touch started; exit 1" }
  - id: after
    needs: [flaky]
    shell: { run: touch after }
"#;
    let running = with_runbook("retrying", yaml)
        .args(["run", "retrying"])
        .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert!(
        output.elapsed < Duration::from_secs(10),
        "took {:?}",
        output.elapsed
    );
    assert!(!output.path().join("after").exists());
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("flaky"));
    assert_eq!(finished[0]["status"], "interrupted", "{journal:#?}");
}

#[test]
fn an_interrupted_run_resumes_only_when_told_what_to_do() {
    let yaml = r#"
version: 1
name: resumable
steps:
  - id: long
    shell: { run: "echo run >> long.count; [ -e again ] || { touch started; sleep 302.1; }" }
  - id: after
    needs: [long]
    shell: { run: "echo run >> after.count" }
"#;
    let running = with_runbook("resumable", yaml)
        .args(["run", "resumable"])
        .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert_none_left("sleep 302.1", SURVIVORS);
    std::fs::write(output.path().join("again"), "").expect("write a marker");
    let incident = crate::support::state::only_incident(output.path());
    output
        .again()
        .args(["resume", incident.as_str()])
        .run()
        .code(3)
        .stderr_contains("step `long`")
        .stderr_contains("--retry-interrupted");
    output
        .again()
        .args(["resume", incident.as_str(), "--retry-interrupted"])
        .run()
        .success();
    let count = |f: &str| crate::support::state::count(output.path(), f);
    assert_eq!((count("long.count"), count("after.count")), (2, 1));
}

/// Two steps that change something and can undo it, then one that runs
/// until it is interrupted. The second rollback (`b`'s, the newest, so the
/// first to run) waits for `slow-undo` when that file exists, to be
/// interrupted itself.
const UNDOABLE: &str = r#"
version: 1
name: undoable
steps:
  - id: a
    title: Maintenance on
    shell: { run: "touch did.a" }
    rollback: { shell: { run: "touch undone.a" } }
  - id: b
    needs: [a]
    shell: { run: "touch did.b" }
    rollback: { shell: { run: "if [ -e slow-undo ]; then touch undoing.b; sleep 303.2; fi; touch undone.b" } }
  - id: long
    needs: [b]
    shell: { run: "touch started; sleep 303.1" }
"#;

fn rollback_statuses(path: &std::path::Path) -> Vec<(String, String)> {
    events(&only_journal(path), "rollback_finished", None)
        .iter()
        .map(|e| {
            (
                e["step"].as_str().unwrap_or("").to_owned(),
                e["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Ctrl-C, on a terminal under `--rollback ask` (the default there): one
/// question for every rollback, newest first; yes runs them all.
#[test]
fn ctrl_c_on_a_terminal_asks_once_and_yes_runs_every_rollback() {
    let test = with_runbook("undoable", UNDOABLE).args(["run", "undoable"]);
    let mut session = super::on_a_pty(&test);
    wait_for_file(&test.path().join("started"), Duration::from_secs(10));
    session.send_control('c').expect("Ctrl-C");
    session
        .exp_string("Roll back what it changed, newest first?")
        .expect("one question");
    session.exp_string("- b (b)").expect("b first");
    session.exp_string("- a (Maintenance on)").expect("then a");
    session.exp_string("[y/N]").expect("a yes/no question");
    session.send_line("y").expect("answer");
    let (code, rest) = super::finish(session);
    assert_eq!(code, 130, "{rest}");
    assert!(rest.contains("Rollback of b succeeded"), "{rest}");
    assert!(
        rest.contains("No step with a rollback is left changed."),
        "{rest}"
    );
    assert_eq!(rest.matches("[y/N]").count(), 0, "asked once: {rest}");
    assert!(test.path().join("undone.a").exists() && test.path().join("undone.b").exists());
    assert_eq!(
        rollback_statuses(test.path()),
        [
            ("b".to_owned(), "succeeded".to_owned()),
            ("a".to_owned(), "succeeded".to_owned())
        ]
    );
    assert_none_left("sleep 303.1", SURVIVORS);
    let id = crate::support::state::only_incident(test.path());
    test.again()
        .args(["log", &id])
        .run()
        .success()
        .stdout_contains("Rollback of a accepted by")
        .stdout_contains("Rollback of a succeeded in");
}

/// At that question, Ctrl-C again, Ctrl-D or `n` declines at once: nothing
/// is rolled back, and what is left changed is listed with the resume command.
#[test]
fn ctrl_c_again_or_ctrl_d_at_the_rollback_question_declines_at_once() {
    for answer in ['c', 'd', 'n'] {
        let test = with_runbook("undoable", UNDOABLE).args(["run", "undoable"]);
        let mut session = super::on_a_pty(&test);
        wait_for_file(&test.path().join("started"), Duration::from_secs(10));
        session.send_control('c').expect("Ctrl-C");
        session.exp_string("[y/N]").expect("the question");
        let asked = Instant::now();
        if answer == 'n' {
            session.send_line("n").expect("no");
        } else {
            session.send_control(answer).expect("answer");
        }
        let (code, rest) = super::finish(session);
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "{answer}: took {:?}",
            asked.elapsed()
        );
        assert_eq!(code, 130, "{answer}: {rest}");
        assert!(!test.path().join("undone.a").exists(), "{answer}: {rest}");
        assert!(!test.path().join("undone.b").exists(), "{answer}: {rest}");
        assert!(
            rest.contains("Rollback of b declined by"),
            "{answer}: {rest}"
        );
        assert!(
            rest.contains("Left changed (succeeded, with a rollback):"),
            "{rest}"
        );
        assert!(
            rest.contains("  a (Maintenance on): its rollback not run"),
            "{rest}"
        );
        assert!(rest.contains("  b (b): its rollback not run"), "{rest}");
        assert!(
            rest.contains("Continue the run with: drctl resume INC-"),
            "{rest}"
        );
        assert!(rollback_statuses(test.path()).is_empty());
    }
}

/// Off a terminal: `--rollback yes` runs them; `no`, and the default, list them.
#[test]
fn an_interrupted_run_follows_the_rollback_policy_off_a_terminal() {
    for (flags, undone) in [
        (&["--rollback", "yes"][..], true),
        (&["--rollback", "no"][..], false),
        (&[][..], false),
    ] {
        let running = with_runbook("undoable", UNDOABLE)
            .args(["run", "undoable"])
            .args(flags)
            .spawn();
        wait_for_file(&running.path().join("started"), Duration::from_secs(10));
        running.signal(Signal::INT);
        let output = running.wait();
        output.code(130);
        assert_eq!(
            output.path().join("undone.a").exists(),
            undone,
            "{flags:?}: {}",
            output.stderr
        );
        assert_eq!(output.path().join("undone.b").exists(), undone, "{flags:?}");
        if undone {
            output.stderr_contains("No step with a rollback is left changed.");
        } else {
            output
                .stderr_contains("Rollback of b not run (--rollback)")
                .stderr_contains("  b (b): its rollback not run")
                .stderr_contains("  a (Maintenance on): its rollback not run");
        }
        assert_none_left("sleep 303.1", SURVIVORS);
    }
}

/// A Ctrl-C while rollbacks run stops them: the one it cut is recorded
/// interrupted, the older ones are not started, and all are listed.
#[test]
fn ctrl_c_during_the_rollbacks_stops_them() {
    let running = with_runbook("undoable", UNDOABLE)
        .file("slow-undo", "")
        .args(["run", "undoable", "--rollback", "yes"])
        .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::INT);
    wait_for_file(&running.path().join("undoing.b"), Duration::from_secs(10));
    let again = Instant::now();
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert!(
        again.elapsed() < Duration::from_secs(6),
        "the Ctrl-C during rollbacks took {:?}",
        again.elapsed()
    );
    assert_none_left("sleep 303.2", SURVIVORS);
    assert!(!output.path().join("undone.b").exists());
    assert!(
        !output.path().join("undone.a").exists(),
        "a's rollback started after the stop"
    );
    assert_eq!(
        rollback_statuses(output.path()),
        [("b".to_owned(), "interrupted".to_owned())]
    );
    output
        .stderr_contains("Rollback of b interrupted in")
        .stderr_contains("  b (b): its rollback failed or did not finish")
        .stderr_contains("  a (Maintenance on): its rollback not run");
    let journal = only_journal(output.path());
    let interrupts = events(&journal, "interrupt_received", None);
    assert_eq!(interrupts.len(), 2, "{interrupts:?}");
}
