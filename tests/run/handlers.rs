//! Handlers (`on_failure:`, `always:`) through the real binary: when they
//! run and what they read, that their failure never changes the run's
//! status or exit code, their order against rollbacks, Ctrl-C and the
//! runbook's timeout (with a real signal, leaving no process behind),
//! resume, the dry run, the journal, `log` and the report, and what
//! `validate` refuses.

use std::time::Duration;

use rustix::process::Signal;

use super::with_runbook;
use crate::support::Test;
use crate::support::procs::assert_none_left;
use crate::support::state::{
    count, events, journal, kinds, only_incident, only_journal, read, wait_for_file,
};

const SURVIVORS: Duration = Duration::from_secs(1);

/// `a` succeeds, `b` fails unless the file `fixed` exists; an `on_failure`
/// handler and two `always` handlers (the second needs the first) record
/// what they read, one line per run.
const TWO_STEPS: &str = r#"
version: 1
name: hb
steps:
  - id: a
    shell:
      run: echo a-ran
    outputs:
      word: "{{ result.stdout | trim }}"
  - id: b
    needs: [a]
    shell:
      run: test -e fixed
on_failure:
  - id: capture
    shell:
      run: echo "{{ run.status }} {{ run.failed_steps | join(',') }} {{ steps.a.outputs.word }}" >> captured
always:
  - id: post
    title: Post the outcome
    comms: true
    shell:
      run: echo "{{ run.status }}" >> posted
    outputs:
      said: "{{ run.status }}"
  - id: after-post
    needs: [post]
    shell:
      run: echo "{{ steps.post.outputs.said }}" >> after
"#;

#[test]
fn after_a_failure_on_failure_then_always_run_and_read_how_the_run_ended() {
    let output = with_runbook("hb", TWO_STEPS).args(["run", "hb"]).run();
    output
        .code(1)
        .stderr_contains("Run failed: the on_failure handlers run (capture)")
        .stderr_contains("Run failed: the always handlers run (post, after-post)")
        .stderr_contains("on_failure handlers:")
        .stderr_contains("Run failed after");
    let dir = output.path();
    assert_eq!(read(dir, "captured"), "failed b a-ran");
    assert_eq!(read(dir, "posted"), "failed");
    assert_eq!(read(dir, "after"), "failed");
    let journal = only_journal(dir);
    let order = kinds(&journal);
    let tail: Vec<&str> = order
        .iter()
        .map(String::as_str)
        .skip_while(|k| *k != "step_finished:b")
        .collect();
    assert_eq!(
        tail,
        [
            "step_finished:b",
            "handlers_started",
            "step_started:capture",
            "step_finished:capture",
            "handlers_started",
            "step_started:post",
            "step_finished:post",
            "step_started:after-post",
            "step_finished:after-post",
            "run_finished",
        ],
        "{journal:#?}"
    );
    let started = events(&journal, "handlers_started", None);
    assert_eq!(started[0]["list"], "on_failure");
    assert_eq!(started[0]["run_status"], "failed");
    assert_eq!(started[1]["list"], "always");
    assert_eq!(
        started[1]["handlers"],
        serde_json::json!(["post", "after-post"])
    );
    let finished = events(&journal, "run_finished", None);
    assert_eq!(finished[0]["status"], "failed");
    assert_eq!(finished[0]["failed_steps"], serde_json::json!(["b"]));
    assert!(finished[0].get("failed_handlers").is_none(), "{journal:#?}");

    let incident = only_incident(dir);
    let again = output.again();
    let log = again.args(["log", &incident]).run();
    log.success()
        .stdout_contains("Run failed: the always handlers run (post, after-post)");
    let report = output.again().args(["report", &incident]).run();
    report
        .success()
        .stdout_contains("Handlers, after the graph (their outcome does not change the run's)")
        .stdout_contains("| `post` | succeeded | `echo \"failed\" >> posted` |")
        .stdout_contains(
            "| `capture` | on_failure | shell: `echo \"failed b a-ran\" >> captured` | succeeded |",
        );
    output.again().args(["verify", &incident]).run().success();
}

#[test]
fn a_failed_always_handler_of_a_run_that_succeeded_still_exits_0() {
    let runbook = r#"
version: 1
name: ok
steps:
  - id: a
    shell:
      run: "true"
on_failure:
  - id: never
    shell:
      run: touch on-failure-ran
always:
  - id: post
    shell:
      run: echo "{{ run.status }} [{{ run.failed_steps | join(',') }}]" > posted; exit 7
"#;
    let output = with_runbook("ok", runbook)
        .args(["run", "ok", "--format", "json"])
        .run();
    output
        .success()
        .stderr_contains("Run succeeded in")
        .stderr_contains("handlers that did not succeed (the run's status stands): post");
    let dir = output.path();
    assert!(
        !dir.join("on-failure-ran").exists(),
        "on_failure ran after a success"
    );
    assert_eq!(read(dir, "posted"), "succeeded []");
    let journal = only_journal(dir);
    let finished = events(&journal, "run_finished", None);
    assert_eq!(finished[0]["status"], "succeeded");
    assert_eq!(finished[0]["failed_handlers"], serde_json::json!(["post"]));
    assert_eq!(events(&journal, "handlers_started", None).len(), 1);
    let summary = output.stdout_json();
    assert_eq!(summary["status"], "succeeded");
    assert_eq!(summary["steps"].as_array().map(Vec::len), Some(1));
    assert_eq!(summary["handlers"][0]["id"], "post");
    assert_eq!(summary["handlers"][0]["list"], "always");
    assert_eq!(summary["handlers"][0]["status"], "failed");
}

#[test]
fn handlers_run_before_rollbacks_are_offered() {
    let runbook = r"
version: 1
name: rb
steps:
  - id: change
    shell:
      run: touch changed
    rollback:
      shell:
        run: touch rolled-back
  - id: boom
    needs: [change]
    shell:
      run: exit 1
on_failure:
  - id: capture
    shell:
      run: if [ -e rolled-back ]; then echo after > seen; else echo before > seen; fi
";
    let output = with_runbook("rb", runbook)
        .args(["run", "rb", "--rollback", "yes"])
        .run();
    output.code(1);
    let dir = output.path();
    assert_eq!(read(dir, "seen"), "before");
    assert!(dir.join("rolled-back").exists(), "the rollback did not run");
    let order = kinds(&only_journal(dir));
    let position = |kind: &str| order.iter().position(|k| k == kind).expect(kind);
    assert!(position("step_finished:capture") < position("rollback_started:change"));
}

#[test]
fn a_handler_whose_need_failed_is_skipped_and_so_is_what_needs_it() {
    let runbook = r"
version: 1
name: chain
steps:
  - id: a
    shell:
      run: exit 1
on_failure:
  - id: first
    shell:
      run: exit 2
  - id: second
    needs: [first]
    shell:
      run: touch second-ran
  - id: third
    needs: [second]
    shell:
      run: touch third-ran
  - id: independent
    shell:
      run: touch independent-ran
";
    let output = with_runbook("chain", runbook).args(["run", "chain"]).run();
    output
        .code(1)
        .stderr_contains("Step second skipped: needs handler `first`, which did not succeed")
        .stderr_contains("Step third skipped: needs handler `second`, which did not succeed");
    let dir = output.path();
    assert!(!dir.join("second-ran").exists());
    assert!(!dir.join("third-ran").exists());
    assert!(dir.join("independent-ran").exists());
    let journal = only_journal(dir);
    let finished = events(&journal, "run_finished", None);
    assert_eq!(finished[0]["failed_handlers"], serde_json::json!(["first"]));
}

#[test]
fn after_ctrl_c_handlers_run_and_a_second_ctrl_c_stops_them_leaving_nothing() {
    let runbook = r#"
version: 1
name: slow
steps:
  - id: slow
    shell:
      run: touch started; sleep 302.1
on_failure:
  - id: post
    shell:
      run: echo "{{ run.status }}" > status; touch handler-started; sleep 302.2
  - id: later
    shell:
      run: touch later-ran
always:
  - id: al
    shell:
      run: touch al-ran
"#;
    let running = with_runbook("slow", runbook).args(["run", "slow"]).spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    running.signal(Signal::INT);
    // The first Ctrl-C stopped the graph; the handler still runs...
    wait_for_file(
        &running.path().join("handler-started"),
        Duration::from_secs(10),
    );
    // ...and the next one stops it.
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert_none_left("sleep 302.1", SURVIVORS);
    assert_none_left("sleep 302.2", SURVIVORS);
    let dir = output.path();
    assert_eq!(read(dir, "status"), "interrupted");
    assert!(
        !dir.join("later-ran").exists(),
        "a handler started after the second Ctrl-C"
    );
    let journal = only_journal(dir);
    let finished = events(&journal, "step_finished", Some("post"));
    assert_eq!(finished[0]["status"], "interrupted", "{journal:#?}");
    assert!(!dir.join("al-ran").exists());
    // The handlers it kept from starting are recorded, not forgotten.
    for id in ["later", "al"] {
        assert!(events(&journal, "step_started", Some(id)).is_empty());
        let finished = events(&journal, "step_finished", Some(id));
        assert_eq!(finished[0]["status"], "skipped", "{journal:#?}");
        assert_eq!(
            finished[0]["error"],
            "not started: the handlers were interrupted"
        );
    }
    output.stderr_not_contains("the always handlers run");
    let run = events(&journal, "run_finished", None);
    assert_eq!(run[0]["status"], "interrupted");
    assert_eq!(run[0]["failed_handlers"], serde_json::json!(["post"]));
    assert_eq!(events(&journal, "interrupt_received", None).len(), 2);
    // The report says each status once: not "**interrupted**: interrupted".
    let report = output.again().args(["report", &only_incident(dir)]).run();
    report
        .success()
        .stdout_contains("| `post` | on_failure |")
        .stdout_contains("| **interrupted** |")
        .stdout_not_contains("**interrupted**: interrupted");
}

#[test]
fn handlers_run_after_the_runbooks_timeout() {
    let runbook = r#"
version: 1
name: late
timeout: 1s
steps:
  - id: slow
    shell:
      run: sleep 303.1
on_failure:
  - id: capture
    shell:
      run: echo "{{ run.status }} {{ run.failed_steps | join(',') }}" > status
"#;
    let output = with_runbook("late", runbook).args(["run", "late"]).run();
    output.code(1);
    assert_none_left("sleep 303.1", SURVIVORS);
    assert_eq!(read(output.path(), "status"), "timed_out slow");
    let journal = only_journal(output.path());
    assert_eq!(
        events(&journal, "step_finished", Some("capture"))[0]["status"],
        "succeeded"
    );
}

#[test]
fn a_resumed_run_runs_its_handlers_again_at_its_own_end() {
    let output = with_runbook("hb", TWO_STEPS).args(["run", "hb"]).run();
    output.code(1);
    let dir = output.path().to_owned();
    let incident = only_incident(&dir);
    std::fs::write(dir.join("fixed"), "").expect("write fixed");
    let resumed = output.again().args(["resume", &incident]).run();
    resumed
        .success()
        .stderr_contains("Run succeeded: the always handlers run");
    // `on_failure` ran in the failed run only; `always` at the end of each.
    assert_eq!(count(&dir, "captured"), 1);
    assert_eq!(read(&dir, "posted"), "failed\nsucceeded");
    assert_eq!(count(&dir, "after"), 2);
    let journal = journal(&dir, &incident);
    let second_run = journal
        .iter()
        .rposition(|e| e["event"] == "run_started")
        .expect("two runs");
    let later = &journal[second_run..];
    assert_eq!(later[0]["already_done"], serde_json::json!(["a"]));
    assert_eq!(events(later, "step_finished", Some("post")).len(), 1);
    assert!(events(later, "step_started", Some("capture")).is_empty());
    output.again().args(["verify", &incident]).run().success();
}

#[test]
fn the_dry_run_lists_the_handlers_and_runs_nothing() {
    let output = with_runbook("hb", TWO_STEPS)
        .args(["run", "hb", "--dry-run"])
        .run();
    output
        .success()
        .stdout_contains("Handlers (after the graph, one at a time, before rollbacks are offered")
        .stdout_contains("on_failure: if the run does not succeed")
        .stdout_contains("always: however the run ends")
        .stdout_contains("with {{ run.status }} = ⟨run.status⟩")
        .stdout_contains("needs: post");
    for file in ["captured", "posted", "after"] {
        assert!(!output.path().join(file).exists(), "{file}");
    }
    let shown = output
        .again()
        .args(["show", "hb", "--format", "json"])
        .run();
    let json = shown.stdout_json();
    assert_eq!(json["handlers"][1]["id"], "post");
    assert_eq!(json["handlers"][1]["list"], "always");
    assert_eq!(json["handlers"][2]["needs"], serde_json::json!(["post"]));
    output
        .again()
        .args(["show", "hb"])
        .run()
        .success()
        .stdout_contains("Handlers: on_failure (if the run does not succeed)");
}

#[test]
fn validate_refuses_handlers_that_cannot_mean_anything() {
    let runbook = r#"version: 1
name: bad
steps:
  - id: a
    shell:
      run: echo {{ run.status }}
  - id: b
    needs: [post]
    shell:
      run: echo {{ steps.post.status }}
on_failure:
  - id: cap
    needs: [a, post]
    shell:
      run: echo {{ run.failed_step }}
    rollback:
      shell:
        run: echo undo
  - id: a
    shell:
      run: echo dup
always:
  - id: post
    when: "run.status == 'failed'"
    manual: "{{ run.dry_run }}"
  - id: loop1
    needs: [loop2]
    manual: x
  - id: loop2
    needs: [loop1]
    manual: y
  - id: self
    needs: [ghost]
    manual: z
"#;
    let output = Test::new()
        .file("bad.yaml", runbook)
        .args(["validate", "bad.yaml"])
        .run();
    output
        .code(2)
        .stderr_contains("bad.yaml:6:17")
        .stderr_contains("`run.status` is known only in handlers")
        .stderr_contains("bad.yaml:8:13")
        .stderr_contains("step `b` needs `post`, a handler of `always`")
        .stderr_contains("bad.yaml:10:17")
        .stderr_contains("`post` is a handler: it runs after the graph")
        .stderr_contains("bad.yaml:13:13")
        .stderr_contains("handler `cap` needs `a`, a step of the graph")
        .stderr_contains("bad.yaml:13:16")
        .stderr_contains("handler `cap` of `on_failure` needs `post`, a handler of `always`")
        .stderr_contains("unknown run field `run.failed_step`")
        .stderr_contains("in handlers also run.status, run.failed_steps")
        .stderr_contains("bad.yaml:17:7")
        .stderr_contains("`rollback` has no meaning on a handler")
        .stderr_contains("bad.yaml:19:9")
        .stderr_contains("duplicate step id `a`")
        .stderr_contains("dependency cycle: loop2 → loop1 → loop2")
        .stderr_contains("`needs` names unknown step `ghost`")
        .stderr_not_contains("panicked");
    // A handler's `when` may read the run's status; its manual text the run's facts.
    let fine = r#"version: 1
name: fine
steps:
  - id: a
    shell:
      run: "true"
always:
  - id: post
    when: "run.status == 'failed' and steps.a.status != 'succeeded'"
    manual: "{{ run.failed_steps | length }} failed in {{ run.id }}"
"#;
    Test::new()
        .file("fine.yaml", fine)
        .args(["validate", "fine.yaml"])
        .run()
        .success();
    // Not a list; a handler without an id: the loader's own errors, at their place.
    for (yaml, at) in [
        ("on_failure: {id: x}\n", "shapes.yaml:6:13"),
        (
            "always:\n  - manual: y\n    retry: {attempts: 0}\n",
            "shapes.yaml:7:",
        ),
    ] {
        Test::new()
            .file(
                "shapes.yaml",
                format!("version: 1\nname: shapes\nsteps:\n  - id: a\n    manual: x\n{yaml}"),
            )
            .args(["validate", "shapes.yaml"])
            .run()
            .code(2)
            .stderr_contains(at)
            .stderr_not_contains("panicked");
    }
}

/// The shipped db-restore captures the `PostgreSQL` log in `on_failure`,
/// against a real server: the application is unreachable, so the run fails
/// at its first step, and the handler's query runs.
#[test]
fn db_restore_captures_the_postgresql_log_when_it_fails() {
    let pg = crate::support::pg::TempCluster::shared();
    let db = pg.database("handlers_db_restore");
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/db-restore.yaml"),
    )
    .expect("runbooks/db-restore.yaml");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let app_url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let output = with_runbook("db-restore", &shipped)
        .args(["run", "db-restore", "--set"])
        .arg(format!("app_url={app_url}"))
        .args(["--set", "admin_token=drill-admin-token-0123"])
        .arg("--set")
        .arg(format!("primary_url={db}"))
        .args([
            "--set",
            "backup_file=/nonexistent/shop.dump",
            "--rollback",
            "no",
        ])
        .run();
    output
        .code(1)
        .stderr_contains("Run failed: the on_failure handlers run (capture-postgres-log)");
    let journal = only_journal(output.path());
    let captured = events(&journal, "step_finished", Some("capture-postgres-log"));
    assert_eq!(captured[0]["status"], "succeeded", "{journal:#?}");
    let tail = captured[0]["result"]["rows"][0]["tail"]
        .as_str()
        .unwrap_or_default();
    assert!(!tail.is_empty(), "{journal:#?}");
}
