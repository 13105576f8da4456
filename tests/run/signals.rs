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
