//! A runbook-wide `timeout`: it stops starting steps and interrupts the
//! running ones as Ctrl-C does (no step process outlives it), is recorded,
//! and the stopped run says how to resume.

use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::{finished, refused, with_runbook};
use crate::support::procs::assert_none_left;
use crate::support::state::{events, kinds, only_incident, only_journal, wait_for_file};

/// `first` runs, then two slow steps side by side (one of whose processes
/// leaves its session), then `after`; the slow ones end at once when the
/// file `fast` exists.
fn slow_runbook(timeout: &str, needle: &str) -> String {
    format!(
        "version: 1\nname: slow\ntimeout: {timeout}\nsteps:\n  - id: first\n    shell: {{ run: echo first }}\n  \
         - id: slow-a\n    needs: [first]\n    shell: {{ run: \"test -e fast || {{ setsid sleep {needle} & sleep {needle}; }}\" }}\n  \
         - id: slow-b\n    needs: [first]\n    shell: {{ run: \"test -e fast || sleep {needle}\" }}\n  \
         - id: after\n    needs: [slow-a, slow-b]\n    shell: {{ run: echo after }}\n"
    )
}

#[test]
fn the_run_timeout_interrupts_running_steps_and_starts_nothing_new() {
    let out = with_runbook("slow", &slow_runbook("1500ms", "321.1"))
        .args(["run", "slow"])
        .run();
    out.code(1);
    assert!(
        out.elapsed < Duration::from_secs(5),
        "took {:?}",
        out.elapsed
    );
    assert_none_left("sleep 321.1", Duration::from_secs(1));
    out.stderr_contains("The runbook's timeout (1.5s) was reached: nothing new starts, running steps are interrupted")
        .stderr_contains("Run timed out after")
        .stderr_contains(&format!(
            "Continue the run with: drctl resume {}",
            only_incident(out.path())
        ));
    let journal = only_journal(out.path());
    let kinds = kinds(&journal);
    let timed_out = kinds
        .iter()
        .position(|k| k == "run_timed_out")
        .expect("recorded");
    assert_eq!(journal[timed_out]["timeout_ms"], 1500);
    for step in ["slow-a", "slow-b"] {
        let step = finished(&out, step);
        assert_eq!(step["status"], "interrupted");
        assert_eq!(
            step["error"],
            "interrupted: the runbook's timeout (1.5s) was reached"
        );
    }
    assert!(events(&journal, "step_started", Some("after")).is_empty());
    let run_finished = events(&journal, "run_finished", None);
    assert_eq!(run_finished[0]["status"], "timed_out");
    let incident = only_incident(out.path());
    out.again()
        .args(["log", &incident])
        .run()
        .success()
        .stdout_contains("The runbook's timeout (1.5s) was reached");
    out.again()
        .args(["report", &incident])
        .run()
        .success()
        .stdout_contains("The runbook's timeout (1.5s) was reached")
        .stdout_contains("interrupted after ")
        .stdout_contains("s: the runbook's timeout (1.5s) was reached");
}

#[test]
fn resume_after_the_run_timeout_asks_for_the_interrupted_steps() {
    let test = with_runbook("slow", &slow_runbook("1s", "321.2"));
    let out = test.again().args(["run", "slow"]).run();
    out.code(1);
    let incident = only_incident(out.path());
    std::fs::write(out.path().join("fast"), "").unwrap();
    // As after Ctrl-C: an interrupted step may have had its effect.
    test.again()
        .args(["resume", &incident])
        .run()
        .code(3)
        .stderr_contains("was interrupted mid-way")
        .stderr_contains("--retry-interrupted");
    let out = test
        .again()
        .args(["resume", &incident, "--retry-interrupted"])
        .run();
    out.success();
    let journal = only_journal(out.path());
    assert_eq!(events(&journal, "run_timed_out", None).len(), 1);
    assert_eq!(
        events(&journal, "step_finished", Some("after"))[0]["status"],
        "succeeded"
    );
    assert_none_left("sleep 321.2", Duration::from_secs(1));
}

#[test]
fn after_the_run_timeout_one_ctrl_c_kills_at_once() {
    let yaml = "version: 1\nname: slow\ntimeout: 1s\nsteps:\n  - id: stubborn\n    \
                shell: { run: \"trap '' TERM; touch started; sleep 321.3\" }\n";
    let running = with_runbook("slow", yaml).args(["run", "slow"]).spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    // The timeout's SIGTERM is ignored: the step holds for the 5 s grace period...
    std::thread::sleep(Duration::from_millis(1800));
    let sent = Instant::now();
    running.signal(Signal::INT);
    let out = running.wait();
    // ...and one Ctrl-C kills it at once.
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "took {:?}",
        sent.elapsed()
    );
    out.code(130);
    assert_none_left("sleep 321.3", Duration::from_secs(1));
}

#[test]
fn the_dry_run_shows_the_run_timeout() {
    let out = with_runbook("slow", &slow_runbook("30m", "321.4"))
        .args(["run", "slow", "--dry-run"])
        .run();
    out.success().stdout_contains(
        "Run timeout 30m: then nothing new starts and running steps are interrupted",
    );
}

#[test]
fn a_run_within_its_timeout_is_unaffected() {
    let test = with_runbook("slow", &slow_runbook("1m", "321.5"));
    std::fs::write(test.path().join("fast"), "").unwrap();
    let out = test.args(["run", "slow"]).run();
    out.success();
    assert!(events(&only_journal(out.path()), "run_timed_out", None).is_empty());
}

#[test]
fn validate_refuses_a_bad_run_timeout() {
    let yaml = |timeout: &str| {
        format!(
            "version: 1\nname: bad\ntimeout: {timeout}\nsteps:\n  - id: s\n    shell: {{ run: echo }}\n"
        )
    };
    refused(
        &yaml("0s"),
        &[("3:10", "a zero duration is meaningless here")],
    );
    refused(&yaml("30"), &[("3:10", "")]);
    refused(&yaml("soon"), &[("3:10", "")]);
    refused(&yaml("[1m]"), &[("3:10", "")]);
}
