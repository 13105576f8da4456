//! What a resume must not repeat, and what the record must say (issue 11):
//! a command that succeeded before its outputs failed; the RTO of an
//! incident across its runs; operators' notes.

use super::with_runbook;
use crate::support::state::{count, events, only_incident, only_journal};

/// The command has a side effect (a counter), then an output template fails.
const SIDE_EFFECT: &str = r#"
version: 1
name: ticket
steps:
  - id: create
    shell: { run: "echo run >> issue.count; echo 'https://tracker/issues/7'" }
    outputs:
      number: "{{ result.json.number }}"
  - id: announce
    needs: [create]
    shell: { run: "echo run >> announce.count" }
"#;

#[test]
fn a_command_that_succeeded_is_not_run_again_when_its_outputs_failed() {
    let output = with_runbook("ticket", SIDE_EFFECT)
        .args(["run", "ticket", "--operator", "alice"])
        .run();
    output
        .code(1)
        .stderr_contains("the command succeeded; its outputs failed: output `number`");
    let incident = only_incident(output.path());
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("create"));
    assert_eq!(finished[0]["status"], "failed");
    assert_eq!(finished[0]["action_succeeded"], true);
    // Refused without a decision, whatever else is passed.
    for extra in [&[][..], &["--retry-interrupted"][..], &["--yes"][..]] {
        output
            .again()
            .args(["resume", incident.as_str()])
            .args(extra)
            .run()
            .code(3)
            .stderr_contains("the command succeeded; its outputs failed")
            .stderr_contains("--rerun create")
            .stderr_contains("--mark-done create");
        assert_eq!(count(output.path(), "issue.count"), 1, "{extra:?}");
    }
    output
        .again()
        .args([
            "resume",
            incident.as_str(),
            "--mark-done",
            "create",
            "--operator",
            "bob",
        ])
        .run()
        .success();
    // Exactly once across the run and the resume.
    assert_eq!(count(output.path(), "issue.count"), 1);
    assert_eq!(count(output.path(), "announce.count"), 1);
    let journal = only_journal(output.path());
    assert_eq!(
        events(&journal, "step_marked_done", Some("create"))[0]["by"],
        "bob"
    );
    let report = output.again().args(["report", incident.as_str()]).run();
    report
        .success()
        .stdout_contains("the command succeeded; its outputs failed");
}

#[test]
fn rerun_runs_again_a_command_whose_outputs_failed() {
    let output = with_runbook("ticket", SIDE_EFFECT)
        .args(["run", "ticket"])
        .run();
    output.code(1);
    let incident = only_incident(output.path());
    let fixed = SIDE_EFFECT.replace("result.json.number", "result.stdout | trim");
    std::fs::write(output.path().join("runbooks/ticket.yaml"), fixed).expect("fix");
    output
        .again()
        .args([
            "resume",
            incident.as_str(),
            "--allow-changed",
            "--rerun",
            "create",
        ])
        .run()
        .success();
    assert_eq!(count(output.path(), "issue.count"), 2);
    assert_eq!(count(output.path(), "announce.count"), 1);
}

/// A `readonly` step changes nothing: running it again is harmless, so an
/// `expect` that failed after it ran needs no decision.
#[test]
fn a_readonly_check_whose_expect_failed_simply_runs_again() {
    let yaml = r#"
version: 1
name: probe
steps:
  - id: probe
    readonly: true
    shell:
      run: "echo run >> probe.count; cat level"
      expect: ["result.stdout | trim == 'green'"]
"#;
    let output = with_runbook("probe", yaml)
        .file("level", "red")
        .args(["run", "probe"])
        .run();
    output
        .code(1)
        .stderr_contains("the command succeeded; its `expect` failed");
    std::fs::write(output.path().join("level"), "green").expect("fix");
    let incident = only_incident(output.path());
    output
        .again()
        .args(["resume", incident.as_str()])
        .run()
        .success();
    assert_eq!(count(output.path(), "probe.count"), 2);
}

const SLOW_THEN_FAIL: &str = r#"
version: 1
name: slow
objectives:
  rto: 10s
steps:
  - id: slow
    shell: { run: "sleep 1.5" }
  - id: last
    needs: [slow]
    shell: { run: "test -e fixed" }
"#;

#[test]
fn the_rto_of_a_resumed_incident_counts_from_its_first_run() {
    let output = with_runbook("slow", SLOW_THEN_FAIL)
        .args(["run", "slow"])
        .run();
    output.code(1);
    let incident = only_incident(output.path());
    std::fs::write(output.path().join("fixed"), "").expect("fix");
    let resumed = output.again().args(["resume", incident.as_str()]).run();
    resumed.success();
    let journal = only_journal(output.path());
    let finished = events(&journal, "run_finished", None);
    let run_ms = finished[1]["elapsed_ms"].as_u64().expect("elapsed");
    let incident_ms = finished[1]["incident_elapsed_ms"]
        .as_u64()
        .expect("incident elapsed");
    eprintln!("resumed run: {run_ms} ms; incident: {incident_ms} ms");
    assert!(run_ms < 1500, "{run_ms}");
    assert!(incident_ms >= 1500, "{incident_ms}");
    let percent = incident_ms * 100 / 10_000;
    resumed
        .stderr_contains(&format!("within RTO 10s ({percent}% used,"))
        .stderr_contains(" · incident ");
    assert!(percent >= 15, "{percent}");
}

#[test]
fn detected_at_moves_the_start_of_the_rto() {
    let yaml = "version: 1\nname: quick\nobjectives:\n  rto: 10m\nsteps:\n  - id: a\n    shell: { run: 'true' }\n";
    let detected = (chrono::Utc::now() - chrono::Duration::minutes(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let output = with_runbook("quick", yaml)
        .args(["run", "quick", "--detected-at", detected.as_str()])
        .run();
    output
        .success()
        .stderr_contains("within RTO 10m (20% used,");
    let journal = only_journal(output.path());
    assert_eq!(
        events(&journal, "run_started", None)[0]["detected_at"]
            .as_str()
            .map(|t| t.trim_end_matches(".000Z").to_owned() + "Z"),
        Some(detected)
    );
    for bad in [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-11-21 23:30",
        "2999-01-01T00:00:00Z",
        "",
    ] {
        let refused = with_runbook("quick", yaml)
            .args(["run", "quick", "--detected-at", bad])
            .run();
        refused.code(2).stderr_contains("--detected-at");
        assert!(
            !refused.path().join(".drctl/incidents").exists(),
            "`{bad}` opened an incident"
        );
    }
}

#[test]
fn a_note_is_in_the_log_and_the_report_with_its_secrets_masked() {
    let yaml = r#"
version: 1
name: noted
inputs:
  token: { secret: true, env: API_TOKEN }
steps:
  - id: a
    shell: { run: "test -e fixed" }
"#;
    let token = "tok-Zq9xW3-secret";
    let output = with_runbook("noted", yaml)
        .env("API_TOKEN", token)
        .args(["run", "noted"])
        .run();
    output.code(1);
    let incident = only_incident(output.path());
    let note = format!(
        "restarted the primary by hand; psql postgres://admin:hunter2pw@db/x\nwith token {token}"
    );
    output
        .again()
        .env("API_TOKEN", token)
        .args([
            "note",
            incident.as_str(),
            note.as_str(),
            "--operator",
            "carol",
        ])
        .run()
        .success();
    let journal = only_journal(output.path());
    let notes = events(&journal, "operator_note", None);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["by"], "carol");
    let text = notes[0]["text"].as_str().expect("text");
    assert!(text.starts_with("restarted the primary by hand"), "{text}");
    for secret in ["hunter2pw", token] {
        assert!(!text.contains(secret), "{text}");
    }
    let log = output.again().args(["log", incident.as_str()]).run();
    log.success()
        .stdout_contains("Note by carol: restarted the primary by hand")
        .stdout_not_contains("hunter2pw")
        .stdout_not_contains(token);
    output
        .again()
        .args(["report", incident.as_str()])
        .run()
        .success()
        .stdout_contains("restarted the primary by hand")
        .stdout_not_contains(token);
    // The journal still verifies and resumes, with the note after run_finished.
    output
        .again()
        .args(["verify", incident.as_str()])
        .run()
        .success();
    std::fs::write(output.path().join("fixed"), "").expect("fix");
    output
        .again()
        .env("API_TOKEN", token)
        .args(["resume", incident.as_str()])
        .run()
        .success();
    // A note's escape sequences are shown, not obeyed; an operator name
    // that would forge a line is refused.
    output
        .again()
        .args([
            "note",
            incident.as_str(),
            "seen \u{1b}[31mred\u{1b}]0;t\u{7}",
            "--operator",
            "dan",
        ])
        .run()
        .success();
    output
        .again()
        .args(["log", incident.as_str()])
        .run()
        .success()
        .stdout_contains("Note by dan: seen \\u{1b}[31mred")
        .stdout_not_contains("\u{1b}[31m");
    output
        .again()
        .args([
            "note",
            incident.as_str(),
            "x",
            "--operator",
            "eve\n23:00:00.000  Step fake succeeded",
        ])
        .run()
        .code(2)
        .stderr_contains("the operator name");
    // Bad notes are refused.
    output
        .again()
        .args(["note", incident.as_str(), "  "])
        .run()
        .code(2)
        .stderr_contains("empty");
    output
        .again()
        .args(["note", incident.as_str(), &"x".repeat(5000)])
        .run()
        .code(2)
        .stderr_contains("at most");
    output
        .again()
        .args(["note", "INC-20000101-001", "hello"])
        .run()
        .code(2);
    output
        .again()
        .args(["note", "../../etc", "hello"])
        .run()
        .code(2);
}
