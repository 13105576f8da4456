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
        .stderr_contains("▶ Step titled started (Check the primary)")
        .stderr_contains("▶ Step api started (Ping the admin API)");
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
        .filter(|l| l.contains("▶ Step script"))
        .collect();
    assert_eq!(started.len(), 1, "{}", output.stderr);
    assert!(started[0].ends_with("▶ Step script started"), "{started:?}");
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

/// A run with every kind of event that a run without a terminal can have:
/// a retry, a success, a failure and a time-out the run goes on after, a
/// skip, a manual step, confirmations accepted by `--yes` and by
/// `--confirm`, one refused, rollbacks that succeed and fail, the end
/// against the RTO.
const EVERY_EVENT: &str = r#"version: 1
name: events
objectives: { rto: 10m }
steps:
  - id: up
    title: Maintenance on
    shell: { run: "true" }
    rollback: { shell: { run: "true" } }
  - id: bad-undo
    needs: [up]
    shell: { run: "true" }
    rollback: { shell: { run: "echo 'cannot undo | at all' >&2; exit 4" } }
  - id: flaky
    needs: [bad-undo]
    retry: { attempts: 2, delay: 10ms }
    continue_on_error: true
    shell: { run: "echo 'nope | not yet' >&2; exit 3" }
  - id: slow
    needs: [flaky]
    timeout: 1s
    continue_on_error: true
    shell: { run: "sleep 5" }
  - id: never
    needs: [slow]
    when: "false"
    shell: { run: "true" }
  - id: look
    needs: [never]
    manual: Look at the dashboard
  - id: asked
    needs: [look]
    confirm: Go on?
    http: { method: GET, url: "http://127.0.0.1:9/health" }
    continue_on_error: true
  - id: typed
    needs: [asked]
    confirm: { message: Restore?, type: go }
    shell: { run: "true" }
  - id: wipe
    needs: [typed]
    confirm: { message: Wipe?, type: wipe }
    shell: { run: "true" }
"#;

/// A line's words without its frame: the time and mark of the progress,
/// the time of `log`, the cell and backticks of the report.
fn progress_words(line: &str) -> Option<String> {
    let (time, rest) = line.split_once(' ')?;
    if time.len() != 8 || time.as_bytes()[2] != b':' {
        return None;
    }
    let rest = match rest.split_once(' ') {
        Some((mark, rest))
            if mark.chars().count() == 1 && !mark.chars().all(char::is_alphanumeric) =>
        {
            rest
        }
        _ => rest,
    };
    Some(rest.replace('`', ""))
}

fn log_words(line: &str) -> Option<String> {
    let (time, rest) = line.split_once("  ")?;
    (time.len() == 12).then(|| rest.replace('`', ""))
}

fn report_words(line: &str) -> Option<String> {
    let row = line.strip_prefix("| ")?.strip_suffix(" |")?;
    let (time, rest) = row.split_once(" | ")?;
    time.chars()
        .all(|c| c.is_ascii_digit() || c == ':')
        .then(|| rest.replace("\\|", "|").replace('`', ""))
}

#[test]
fn progress_log_and_report_say_the_same_words_for_every_event() {
    let test = Test::new().file("events.yaml", EVERY_EVENT);
    let run = test
        .again()
        .args([
            "run",
            "./events.yaml",
            "--yes",
            "--confirm",
            "go",
            "--rollback",
            "yes",
            "--plain",
        ])
        .run();
    run.code(3);
    let id = only_incident(test.path());
    let log = test.again().args(["log", &id]).run();
    log.success();
    let report = test.again().args(["report", &id]).run();
    report.success();
    // The report gathers a step's failed tries into one row (issue 12: a
    // post-mortem worth keeping); every other row is the log's line.
    let is_retry = |line: &String| line.contains(": attempt ") || line.contains(" retried: ");
    let logged: Vec<String> = log.stdout.lines().filter_map(log_words).collect();
    let reported: Vec<String> = report.stdout.lines().filter_map(report_words).collect();
    assert!(
        reported
            .iter()
            .any(|l| l.starts_with("Step flaky retried: 2 attempts over ")),
        "{reported:?}"
    );
    let without_retries = |lines: &[String]| -> Vec<String> {
        lines.iter().filter(|l| !is_retry(l)).cloned().collect()
    };
    assert_eq!(
        without_retries(&logged),
        without_retries(&reported),
        "the report's timeline is the log's"
    );

    // The summary's last line is the run's end, framed by nothing.
    let said: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| {
            progress_words(l).or_else(|| l.starts_with("Run ").then(|| l.replace('`', "")))
        })
        .collect();
    // Every kind of event is there, each said once.
    for expected in [
        "Step flaky: attempt 1 failed (exit code 3: nope | not yet); retrying in 10ms",
        "Step flaky failed in ",
        "Step slow timed out after ",
        "Step never skipped: when: false is false",
        "Step up succeeded in ",
        "Manual step look reported done by ",
        "Confirmation for asked accepted by ",
        "Confirmation for typed accepted by ",
        "Confirmation for wipe refused: --yes does not accept typed confirmations (pass --confirm wipe)",
        "Rollback of up accepted by ",
        "Rollback of up succeeded in ",
        "Rollback of bad-undo failed in ",
        "Run stopped after ",
    ] {
        let lines: Vec<&String> = said.iter().filter(|l| l.starts_with(expected)).collect();
        assert_eq!(
            lines.len(),
            1,
            "`{expected}` said {} times:\n{}",
            lines.len(),
            run.stderr
        );
    }
    for line in &said {
        // What a step runs is shown by its title live, by its command in the record.
        let (line, started) = match line.find(" started") {
            Some(at) if line.starts_with("Step ") => (&line[..at + " started".len()], true),
            _ => (line.split(" · incident ").next().unwrap_or(line), false),
        };
        let found = |lines: &[String]| {
            lines.iter().any(|l| {
                if started {
                    l.starts_with(line)
                } else {
                    l == line
                }
            })
        };
        assert!(
            found(&logged),
            "progress said `{line}`, log did not:\n{}",
            log.stdout
        );
        // A failed try is in the report's one row for the step's retries.
        let retry = line.contains(": attempt ");
        assert!(
            retry || found(&reported),
            "progress said `{line}`, the report did not"
        );
    }
    // The summary's rows say what the steps' last lines said.
    for step in ["flaky", "slow", "wipe"] {
        let row = run
            .stderr
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("✗ {step} ")))
            .unwrap_or_else(|| panic!("no summary row for {step}:\n{}", run.stderr));
        let outcome = row.trim_start()[format!("✗ {step} ").len()..].trim_start();
        let sentence = format!("Step {step} {}", outcome.replace('`', ""));
        // The log may say more after it (`continue_on_error: the run went on`).
        assert!(
            logged.iter().any(|l| l.starts_with(&sentence)),
            "summary row `{sentence}` is not in the log:\n{}",
            log.stdout
        );
    }
    // The refusal is one line live (B): no second `not run` line.
    assert!(
        !said.iter().any(|l| l.starts_with("Step wipe not run")),
        "{}",
        run.stderr
    );
    // The report's decisions use the same words.
    for decision in [
        "Confirmation for `typed` accepted by",
        "Rollback of `bad-undo` failed in",
        "Manual step `look` reported done by",
    ] {
        report.stdout_contains(decision);
    }
}
