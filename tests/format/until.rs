//! `until`: a poll, not a retry. One `step_polled` record says how many
//! polls ran over how long, and what the last result was when the
//! condition never held; Ctrl-C stops the wait at once.

use std::time::Duration;

use rustix::process::Signal;

use super::{finished, refused, with_runbook};
use crate::support::state::{events, only_incident, only_journal, wait_for_file};

/// A step whose stdout is `{"n": N}`, N counting its runs in the file `count`.
fn counter(until: &str, interval: &str, timeout: &str) -> String {
    format!(
        "version: 1\nname: poll\nsteps:\n  - id: wait\n    readonly: true\n    shell:\n      run: |\n        \
         n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo \"{{\\\"n\\\": $n}}\"\n    \
         until: \"{until}\"\n    interval: {interval}\n    timeout: {timeout}\n"
    )
}

#[test]
fn a_poll_runs_until_the_condition_holds_and_is_one_record() {
    let out = with_runbook("poll", &counter("result.json.n >= 3", "100ms", "10s"))
        .args(["run", "poll"])
        .run();
    out.success()
        .stderr_contains("wait polled 3 times over")
        .stderr_contains("until `result.json.n >= 3` held");
    let journal = only_journal(out.path());
    let polled = events(&journal, "step_polled", Some("wait"));
    assert_eq!(polled.len(), 1, "{journal:#?}");
    assert_eq!(polled[0]["polls"], 3);
    assert_eq!(polled[0]["met"], true);
    assert!(polled[0].get("last").is_none());
    assert!(events(&journal, "attempt_failed", None).is_empty());
    let step = finished(&out, "wait");
    assert_eq!(step["status"], "succeeded");
    assert_eq!(step["attempts"], 1);
    assert_eq!(step["result"]["json"]["n"], 3);
    let log = out.again().args(["log", &only_incident(out.path())]).run();
    log.success()
        .stdout_contains("Step wait polled 3 times over")
        .stdout_not_contains("attempt");
    let report = out
        .again()
        .args(["report", &only_incident(out.path())])
        .run();
    report.success().stdout_contains("| 3 polls |");
}

#[test]
fn a_short_poll_without_interval_still_polls_more_than_once() {
    // No `interval`: the default is 5 s, or a tenth of a shorter timeout.
    let runbook = counter("result.json.n >= 3", "1s", "2s").replace("    interval: 1s\n", "");
    let out = with_runbook("poll", &runbook).args(["run", "poll"]).run();
    out.success().stderr_contains("wait polled 3 times over");
}

#[test]
fn a_poll_still_false_at_the_deadline_fails_with_the_last_result() {
    let out = with_runbook("poll", &counter("result.json.n >= 1000", "200ms", "1s"))
        .args(["run", "poll"])
        .run();
    out.code(1);
    assert!(
        out.elapsed < Duration::from_secs(4),
        "took {:?}",
        out.elapsed
    );
    let step = finished(&out, "wait");
    let error = step["error"].as_str().unwrap();
    assert!(
        error.starts_with("`until: result.json.n >= 1000` did not hold within 1s (polled ")
            && error.contains(
                "; last result: `result.json.n >= 1000` is false (actual result.json.n = "
            ),
        "{error}"
    );
    let journal = only_journal(out.path());
    let polled = events(&journal, "step_polled", Some("wait"));
    assert_eq!(polled.len(), 1);
    assert_eq!(polled[0]["met"], false);
    let polls = polled[0]["polls"].as_u64().unwrap();
    assert!((3..=6).contains(&polls), "{polls} polls");
    assert!(
        polled[0]["last"]
            .as_str()
            .unwrap()
            .contains("is false (actual result.json.n = ")
    );
    let report = out
        .again()
        .args(["report", &only_incident(out.path())])
        .run();
    report
        .success()
        .stdout_contains(&format!("| {polls} polls |"));
}

#[test]
fn a_slow_poll_is_cut_at_the_deadline_and_leaves_nothing_running() {
    let yaml = "version: 1\nname: poll\nsteps:\n  - id: wait\n    shell:\n      run: sleep 307.3\n    \
                until: \"result.exit_code == 0\"\n    timeout: 1s\n";
    let out = with_runbook("poll", yaml).args(["run", "poll"]).run();
    out.code(1);
    assert!(
        out.elapsed < Duration::from_secs(4),
        "took {:?}",
        out.elapsed
    );
    crate::support::procs::assert_none_left("sleep 307.3", Duration::from_secs(1));
    let error = finished(&out, "wait")["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("polled once); last result: timed out after "),
        "{error}"
    );
}

#[test]
fn ctrl_c_during_the_wait_stops_at_once() {
    let running = with_runbook("poll", &counter("result.json.n >= 1000", "5m", "10m"))
        .args(["run", "poll"])
        .spawn();
    wait_for_file(&running.path().join("count"), Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let sent = std::time::Instant::now();
    running.signal(Signal::INT);
    let out = running.wait();
    out.code(130);
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "took {:?}",
        sent.elapsed()
    );
    let step = finished(&out, "wait");
    assert_eq!(step["status"], "interrupted");
    assert_eq!(
        step["error"],
        "interrupted while waiting to poll again (polled once)"
    );
}

#[test]
fn the_dry_run_shows_the_poll() {
    let out = with_runbook("poll", &counter("result.json.n >= 3", "2s", "1m"))
        .args(["run", "poll", "--dry-run"])
        .run();
    out.success()
        .stdout_contains("until: result.json.n >= 3 (polled every 2s, for up to the timeout)")
        .stdout_contains("timeout: 1m");
    assert!(
        !out.path().join("count").exists(),
        "the dry run ran the step"
    );
}

#[test]
fn resume_polls_a_failed_poll_again() {
    let test = with_runbook(
        "poll",
        "version: 1\nname: poll\nsteps:\n  - id: wait\n    shell:\n      run: test -e ready && echo ok || echo no\n    \
         until: \"result.stdout | trim == 'ok'\"\n    interval: 100ms\n    timeout: 500ms\n",
    );
    let out = test.again().args(["run", "poll"]).run();
    out.code(1);
    let incident = only_incident(out.path());
    std::fs::write(out.path().join("ready"), "").unwrap();
    let out = test.again().args(["resume", &incident]).run();
    out.success();
    let journal = only_journal(out.path());
    let polled = events(&journal, "step_polled", Some("wait"));
    assert_eq!(polled.len(), 2);
    assert_eq!(polled[1]["polls"], 1);
    assert_eq!(polled[1]["met"], true);
}

#[test]
fn validate_refuses_a_poll_without_a_deadline_and_other_misuse() {
    let step = |keys: &str| {
        format!("version: 1\nname: bad\nsteps:\n  - id: s\n    shell: {{ run: echo }}\n{keys}")
    };
    refused(
        &step("    until: \"result.exit_code == 0\"\n"),
        &[("6:12", "`until` without `timeout`")],
    );
    // `defaults.timeout` is not a poll's deadline.
    refused(
        "version: 1\nname: bad\ndefaults: { timeout: 5m }\nsteps:\n  - id: s\n    shell: { run: echo }\n    \
         until: \"result.exit_code == 0\"\n",
        &[("7:12", "`until` without `timeout`")],
    );
    refused(
        &step(
            "    until: \"result.exit_code == 0\"\n    timeout: 1m\n    retry: { attempts: 3 }\n",
        ),
        &[("8:12", "`until` and `retry` together")],
    );
    refused(
        &step("    interval: 5s\n"),
        &[("6:15", "`interval` without `until`")],
    );
    refused(
        &step("    until: \"result.exit_code == 0\"\n    timeout: 10s\n    interval: 1m\n"),
        &[("8:15", "the interval (1m) is longer than the timeout (10s)")],
    );
    refused(
        &step("    until: \"result.exit_code == 0\"\n    timeout: 1m\n    interval: 0s\n"),
        &[("8:15", "a zero duration is meaningless here")],
    );
    refused(
        &step("    until: \"steps.nope.result.ok\"\n    timeout: 1m\n"),
        &[("6:12", "nope")],
    );
    refused(
        &step("    until: \"result.json.status ==\"\n    timeout: 1m\n"),
        &[("6:12", "")],
    );
    refused(
        "version: 1\nname: bad\nsteps:\n  - id: m\n    manual: Check it.\n    until: \"result.done\"\n",
        &[("6:12", "`until` has no meaning on a manual step")],
    );
}
