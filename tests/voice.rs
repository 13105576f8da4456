//! One voice: the live progress, `log` and the report word the same events
//! the same way, and every line ends cleanly whatever the step holds.

use crate::support::Test;
use crate::support::state::only_incident;

/// A runbook with one step of each action kind, each failing fast or
/// answered by `--yes`, an RTO, and an HTTP credential header.
const EVERY_KIND: &str = r#"version: 1
name: kinds
title: Every kind
objectives: { rto: 10m }
inputs:
  token: { secret: true, default: "tok-0123456789-secret" }
steps:
  - id: ask
    manual: Look at the dashboard
  - id: script
    needs: [ask]
    shell:
      run: |
        if [ -n "${NEVER_SHOWN:-}" ]; then echo first line of a script; fi
        echo ran
  - id: titled
    title: Check the primary
    needs: [script]
    shell: { run: "true" }
  - id: api
    title: Ping the admin API
    needs: [titled]
    http:
      method: POST
      url: http://127.0.0.1:9/admin
      headers: { Authorization: "Bearer {{ inputs.token }}", X-Trace: "a|b" }
      json: { enabled: true }
  - id: db
    needs: [titled]
    postgres:
      url: postgres://u:pw-secret-1234@127.0.0.1:9/x
      query: SELECT 1
"#;

fn ran_every_kind() -> Test {
    let test = Test::new().file("kinds.yaml", EVERY_KIND);
    test.again()
        .args(["run", "./kinds.yaml", "--yes", "--plain"])
        .run()
        .code(1)
        .stderr_contains("▶ titled  Check the primary")
        .stderr_contains("▶ api  Ping the admin API");
    test
}

#[test]
fn progress_shows_titles_never_a_script_line() {
    let test = Test::new().file("kinds.yaml", EVERY_KIND);
    let output = test
        .again()
        .args(["run", "./kinds.yaml", "--yes", "--plain"])
        .run();
    output.code(1);
    assert!(
        !output.stderr.contains("first line of a script") && !output.stderr.contains("NEVER_SHOWN"),
        "{}",
        output.stderr
    );
    let started: Vec<&str> = output
        .stderr
        .lines()
        .filter(|l| l.contains("▶ script"))
        .collect();
    assert_eq!(started.len(), 1, "{}", output.stderr);
    assert!(started[0].ends_with("▶ script"), "{started:?}");
}

#[test]
fn a_failed_run_never_says_within_rto() {
    let test = ran_every_kind();
    let id = only_incident(test.path());
    let report = test.again().args(["report", &id]).run();
    report.success();
    assert!(!report.stdout.contains("within RTO"), "{}", report.stdout);
    assert!(report.stdout.contains("not recovered"), "{}", report.stdout);

    let summary = Test::new()
        .file("kinds.yaml", EVERY_KIND)
        .args(["run", "./kinds.yaml", "--yes", "--plain"])
        .run();
    let last = summary
        .stderr
        .lines()
        .find(|l| l.starts_with("Run failed"))
        .unwrap_or_else(|| panic!("no run line:\n{}", summary.stderr));
    assert!(!last.contains("within RTO"), "{last}");
    assert!(last.contains("not recovered"), "{last}");
}

#[test]
fn log_lines_and_report_rows_end_cleanly_for_every_action_kind() {
    let test = ran_every_kind();
    let id = only_incident(test.path());
    let log = test.again().args(["log", &id]).run();
    log.success();
    for line in log.stdout.lines().filter(|l| l.contains(" started (")) {
        assert!(line.ends_with(')'), "a started line lost its end: {line}");
    }
    assert!(!log.stdout.contains("tok-0123456789"), "{}", log.stdout);
    assert!(!log.stdout.contains("pw-secret-1234"), "{}", log.stdout);

    let report = test.again().args(["report", &id]).run();
    report.success();
    assert!(
        !report.stdout.contains("tok-0123456789"),
        "{}",
        report.stdout
    );
    // The step table: a row per step, each with every column.
    let header = report
        .stdout
        .lines()
        .find(|l| l.starts_with("| Step"))
        .unwrap_or_else(|| panic!("no step table:\n{}", report.stdout));
    let columns = header.matches(" | ").count();
    for step in ["ask", "script", "titled", "api", "db"] {
        let row = report
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("| `{step}` |")))
            .unwrap_or_else(|| panic!("no row for {step}:\n{}", report.stdout));
        assert_eq!(
            row.matches(" | ").count(),
            columns,
            "the row of {step} lost columns:\n{header}\n{row}"
        );
        assert!(row.ends_with(" |"), "{row}");
    }
}

#[test]
fn incidents_and_log_take_format_json() {
    let test = ran_every_kind();
    let id = only_incident(test.path());
    let output = test.again().args(["incidents", "--format", "json"]).run();
    output.success();
    let all = output.stdout_json();
    let first = &all.as_array().expect("an array")[0];
    assert_eq!(first["id"], id.as_str());
    assert_eq!(first["status"], "failed");
    assert_eq!(first["runbooks"][0], "kinds");
    assert!(first["elapsed_ms"].as_u64().is_some(), "{first}");

    let json = test.again().args(["log", &id, "--format", "json"]).run();
    json.success();
    let old = test.again().args(["log", &id, "--json"]).run();
    assert_eq!(json.stdout, old.stdout, "--json is kept as the same thing");
    for line in json.stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect("JSON Lines");
        assert!(event["event"].is_string(), "{line}");
    }
    test.again()
        .args(["log", &id, "--json", "--format", "human"])
        .run()
        .code(2);
}

#[test]
fn the_end_of_run_summary_takes_format_json() {
    let test = Test::new().file("kinds.yaml", EVERY_KIND);
    let output = test
        .again()
        .args([
            "run",
            "./kinds.yaml",
            "--yes",
            "--plain",
            "--format",
            "json",
        ])
        .run();
    output.code(1);
    let summary: serde_json::Value =
        serde_json::from_str(output.stdout.trim()).expect("one JSON object on stdout");
    assert_eq!(summary["runbook"], "kinds");
    assert_eq!(summary["status"], "failed");
    assert_eq!(summary["rto_ms"], 600_000);
    assert_eq!(
        summary["within_rto"], false,
        "a failed run never counts as within RTO"
    );
    let steps = summary["steps"].as_array().expect("steps");
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["ask", "script", "titled", "api", "db"]);
    assert_eq!(steps[0]["status"], "succeeded");
    assert!(
        steps[3]["error"]
            .as_str()
            .is_some_and(|e| e.contains("connection refused"))
    );
    assert!(
        !output.stdout.contains("tok-0123456789"),
        "{}",
        output.stdout
    );
    // The words are still there for people, on stderr.
    output.stderr_contains("Summary of kinds");
    let incident = only_incident(test.path());
    assert_eq!(summary["incident"], incident.as_str());
}
